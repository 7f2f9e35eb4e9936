package main

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/imagebuilder"

	"github.com/amiwatermark/packer-plugin-amiwatermark/internal/builderimage"
)

// imageBuilderARN is a parsed image build version ARN.
type imageBuilderARN = builderimage.ARN

// parseImageBuildVersionARN checks an --image-builder-image value and
// returns its region (where GetImage is called) and account.
func parseImageBuildVersionARN(s string) (imageBuilderARN, error) {
	arn, err := builderimage.ParseARN(s)
	switch {
	case errors.Is(err, builderimage.ErrNoBuild):
		return arn, usagef("--image-builder-image %q names an image version, not one build of it: add the build number, like %s/1 (aws imagebuilder list-image-build-versions --image-version-arn %s lists them)", s, s, s)
	case err != nil:
		return arn, usagef("--image-builder-image %q is not an EC2 Image Builder image build version ARN: write it like %s (aws imagebuilder list-image-build-versions lists them)", clipArg(s), "arn:aws:imagebuilder:us-east-1:111122223333:image/golden-base/1.0.0/3")
	}
	return arn, nil
}

// foreignAMI is an output AMI of an Image Builder image that another
// account owns (the image's distribution configuration copied it there).
type foreignAMI struct {
	Region  string
	ID      string
	Account string
}

// imageBuilderTargets are the output AMIs of one image build version.
type imageBuilderTargets struct {
	// Own are the AMIs the calling account owns: the targets.
	Own []amiRef
	// Foreign are AMIs distributed into other accounts: not attachable by
	// this account.
	Foreign []foreignAMI
}

// resolveImageBuilder asks Image Builder (GetImage, in the ARN's region, at
// endpoint when it is set: --endpoint, as for STS, since the emulator serves
// every service on one port)
// for the output AMIs of the image build version and splits them by owner:
// the caller's account self and the others. An image that is not AVAILABLE yet (still building, testing or
// distributing) or that failed is an error: its list of AMIs is not final.
func resolveImageBuilder(ctx context.Context, cfg aws.Config, endpoint string, arn imageBuilderARN, self string) (*imageBuilderTargets, error) {
	c := imagebuilder.NewFromConfig(cfg, func(o *imagebuilder.Options) {
		o.Region = arn.Region
		if endpoint != "" {
			o.BaseEndpoint = aws.String(endpoint)
		}
	})
	img, err := builderimage.Get(ctx, c, arn)
	if err != nil {
		return nil, err
	}
	if err := img.RequireAvailable(); err != nil {
		return nil, err
	}
	res := &imageBuilderTargets{}
	own, other := img.Split(self)
	for _, a := range own {
		res.Own = append(res.Own, amiRef{Region: a.Region, ID: a.ImageID})
	}
	for _, a := range other {
		res.Foreign = append(res.Foreign, foreignAMI{Region: a.Region, ID: a.ImageID, Account: a.Account})
	}
	return res, nil
}

// foreignProblem explains why AMIs distributed to another account are not
// attached by this run.
func (f foreignAMI) problem(self string) string {
	return fmt.Sprintf("owned by account %s, not by this account (%s): not attachable by this account; a watermark must be attached in the build account before distribution (it is copied with the AMI), or attached by account %s itself",
		f.Account, self, f.Account)
}

// clipArg keeps an echoed argument short.
func clipArg(s string) string {
	if len(s) > 200 {
		return s[:200] + "..."
	}
	return strings.TrimSpace(s)
}
