package main

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/imagebuilder"
	ibtypes "github.com/aws/aws-sdk-go-v2/service/imagebuilder/types"
	"github.com/aws/smithy-go"

	"github.com/amiwatermark/packer-plugin-amiwatermark/internal/amiref"
)

// imageBuildVersionARNRE is an EC2 Image Builder image build version ARN:
// arn:PARTITION:imagebuilder:REGION:ACCOUNT:image/NAME/X.Y.Z/BUILD.
var imageBuildVersionARNRE = regexp.MustCompile(`^arn:(aws[a-z-]*):imagebuilder:([a-z0-9-]+):([0-9]{12}):image/([a-z0-9_-]+)/([0-9]+\.[0-9]+\.[0-9]+)(/[0-9]+)?$`)

// imageBuilderARN is a parsed image build version ARN.
type imageBuilderARN struct {
	ARN     string
	Region  string
	Account string
}

// parseImageBuildVersionARN checks an --image-builder-image value and
// returns its region (where GetImage is called) and account.
func parseImageBuildVersionARN(s string) (imageBuilderARN, error) {
	const example = "arn:aws:imagebuilder:us-east-1:111122223333:image/golden-base/1.0.0/3"
	m := imageBuildVersionARNRE.FindStringSubmatch(s)
	if m == nil {
		return imageBuilderARN{}, usagef("--image-builder-image %q is not an EC2 Image Builder image build version ARN: write it like %s (aws imagebuilder list-image-build-versions lists them)", clipArg(s), example)
	}
	if m[6] == "" {
		return imageBuilderARN{}, usagef("--image-builder-image %q names an image version, not one build of it: add the build number, like %s/1 (aws imagebuilder list-image-build-versions --image-version-arn %s lists them)", s, s, s)
	}
	return imageBuilderARN{ARN: s, Region: m[2], Account: m[3]}, nil
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
	out, err := c.GetImage(ctx, &imagebuilder.GetImageInput{ImageBuildVersionArn: aws.String(arn.ARN)})
	if err != nil {
		return nil, fmt.Errorf("imagebuilder:GetImage of %s in %s failed: %s%s", arn.ARN, arn.Region, errorText(err), imageBuilderHint(err))
	}
	img := out.Image
	if img == nil {
		return nil, fmt.Errorf("imagebuilder:GetImage of %s returned no image", arn.ARN)
	}
	status := ibtypes.ImageStatus("")
	reason := ""
	if img.State != nil {
		status = img.State.Status
		reason = aws.ToString(img.State.Reason)
	}
	if status != ibtypes.ImageStatusAvailable {
		why := ""
		if reason != "" {
			why = fmt.Sprintf(" (%s)", reason)
		}
		switch status {
		case ibtypes.ImageStatusFailed, ibtypes.ImageStatusCancelled, ibtypes.ImageStatusDeleted, ibtypes.ImageStatusDisabled, ibtypes.ImageStatusDeprecated:
			return nil, fmt.Errorf("the Image Builder image %s is %s%s: only an AVAILABLE image's output AMIs are watermarked", arn.ARN, status, why)
		}
		return nil, fmt.Errorf("the Image Builder image %s is %s%s, not AVAILABLE: its output AMIs are final once it is AVAILABLE; run again then (for example from an EventBridge rule on the image state change event with state AVAILABLE)", arn.ARN, orDefault(string(status), "in an unknown state"), why)
	}
	if img.OutputResources == nil || len(img.OutputResources.Amis) == 0 {
		return nil, fmt.Errorf("the Image Builder image %s has no output AMIs (is it a container image?): nothing to watermark", arn.ARN)
	}
	res := &imageBuilderTargets{}
	seen := map[amiRef]bool{}
	for _, a := range img.OutputResources.Amis {
		ref := amiRef{Region: aws.ToString(a.Region), ID: aws.ToString(a.Image)}
		if _, err := amiref.ParseList(ref.Region+":"+ref.ID, amiref.Options{}); err != nil {
			return nil, fmt.Errorf("the Image Builder image %s lists an output AMI %q in region %q that is not an AMI id", arn.ARN, ref.ID, ref.Region)
		}
		if seen[ref] {
			continue
		}
		seen[ref] = true
		// An empty account id is the image's own account.
		owner := orDefault(aws.ToString(a.AccountId), arn.Account)
		if owner != self {
			res.Foreign = append(res.Foreign, foreignAMI{Region: ref.Region, ID: ref.ID, Account: owner})
			continue
		}
		res.Own = append(res.Own, ref)
	}
	return res, nil
}

// foreignProblem explains why AMIs distributed to another account are not
// attached by this run.
func (f foreignAMI) problem(self string) string {
	return fmt.Sprintf("owned by account %s, not by this account (%s): not attachable by this account; a watermark must be attached in the build account before distribution (it is copied with the AMI), or attached by account %s itself",
		f.Account, self, f.Account)
}

func imageBuilderHint(err error) string {
	switch code := apiCodeOf(err); code {
	case "ResourceNotFoundException":
		return " (no image build version with this ARN: check the ARN and its region; aws imagebuilder list-image-build-versions lists them)"
	case "AccessDeniedException", "ForbiddenException", "UnauthorizedOperation":
		return " (the credentials are not allowed to call imagebuilder:GetImage: grant it in IAM)"
	case "InvalidParameterValueException", "InvalidRequestException":
		return " (check the ARN: it must name an image build version, .../image/NAME/X.Y.Z/BUILD)"
	}
	return ""
}

// clipArg keeps an echoed argument short.
func clipArg(s string) string {
	if len(s) > 200 {
		return s[:200] + "..."
	}
	return strings.TrimSpace(s)
}

// apiCodeOf is the AWS error code of err ("" when it is not an API error).
func apiCodeOf(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}
