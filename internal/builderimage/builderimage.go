// Package builderimage reads the output AMIs of an EC2 Image Builder image
// build version (imagebuilder:GetImage, outputResources.amis: region,
// account, AMI id). It is shared by `amiwatermark attach
// --image-builder-image` and the Image Builder function
// (cmd/amiwatermark-lambda); it knows nothing of flags or events.
package builderimage

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

// Example is an image build version ARN for messages.
const Example = "arn:aws:imagebuilder:us-east-1:111122223333:image/golden-base/1.0.0/3"

// arnRE is an image build version ARN:
// arn:PARTITION:imagebuilder:REGION:ACCOUNT:image/NAME/X.Y.Z/BUILD.
var arnRE = regexp.MustCompile(`^arn:(aws[a-z-]*):imagebuilder:([a-z0-9-]+):([0-9]{12}):image/([a-z0-9_-]+)/([0-9]+\.[0-9]+\.[0-9]+)(/[0-9]+)?$`)

// ARN is a parsed image build version ARN.
type ARN struct {
	ARN       string
	Partition string
	Region    string
	Account   string
}

// ErrNotARN and ErrNoBuild are the ways ParseARN refuses a value.
var (
	ErrNotARN  = errors.New("not an EC2 Image Builder image build version ARN")
	ErrNoBuild = errors.New("an image version, not one build of it")
)

// ParseARN checks an image build version ARN and returns its parts. The
// error is ErrNotARN or ErrNoBuild (an image version without /BUILD).
func ParseARN(s string) (ARN, error) {
	m := arnRE.FindStringSubmatch(s)
	if m == nil {
		return ARN{}, ErrNotARN
	}
	if m[6] == "" {
		return ARN{}, ErrNoBuild
	}
	return ARN{ARN: s, Partition: m[1], Region: m[2], Account: m[3]}, nil
}

// AMI is one output AMI: an AMI id in the region and account it was
// distributed to.
type AMI struct {
	Region  string
	ImageID string
	Account string
}

// Image is what GetImage says about an image build version.
type Image struct {
	ARN    ARN
	Status ibtypes.ImageStatus
	Reason string
	// AMIs are the output AMIs, without repeats; an empty account in the
	// answer is the image's own account.
	AMIs []AMI
}

// Get asks Image Builder (c, in the ARN's region) for the image build
// version. Errors name the call, the ARN and what to check.
func Get(ctx context.Context, c *imagebuilder.Client, arn ARN) (*Image, error) {
	out, err := c.GetImage(ctx, &imagebuilder.GetImageInput{ImageBuildVersionArn: aws.String(arn.ARN)}, func(o *imagebuilder.Options) {
		o.Region = arn.Region
	})
	if err != nil {
		return nil, fmt.Errorf("imagebuilder:GetImage of %s in %s failed: %s%s", arn.ARN, arn.Region, oneLine(err), Hint(err))
	}
	img := out.Image
	if img == nil {
		return nil, fmt.Errorf("imagebuilder:GetImage of %s returned no image", arn.ARN)
	}
	res := &Image{ARN: arn}
	if img.State != nil {
		res.Status, res.Reason = img.State.Status, aws.ToString(img.State.Reason)
	}
	if img.OutputResources == nil {
		return res, nil
	}
	seen := map[AMI]bool{}
	for _, a := range img.OutputResources.Amis {
		ami := AMI{Region: aws.ToString(a.Region), ImageID: aws.ToString(a.Image), Account: aws.ToString(a.AccountId)}
		if _, err := amiref.ParseList(ami.Region+":"+ami.ImageID, amiref.Options{}); err != nil {
			return nil, fmt.Errorf("the Image Builder image %s lists an output AMI %q in region %q that is not an AMI id", arn.ARN, ami.ImageID, ami.Region)
		}
		if ami.Account == "" {
			ami.Account = arn.Account
		}
		if !seen[ami] {
			seen[ami] = true
			res.AMIs = append(res.AMIs, ami)
		}
	}
	return res, nil
}

// Ended reports whether the image's status is final without being
// AVAILABLE (failed, cancelled, or changed by a later management action).
func (im *Image) Ended() bool {
	switch im.Status {
	case ibtypes.ImageStatusFailed, ibtypes.ImageStatusCancelled, ibtypes.ImageStatusDeleted, ibtypes.ImageStatusDisabled, ibtypes.ImageStatusDeprecated:
		return true
	}
	return false
}

// why renders the state reason for messages.
func (im *Image) why() string {
	if im.Reason == "" {
		return ""
	}
	return fmt.Sprintf(" (%s)", im.Reason)
}

// EndedError says that an image whose status Ended has no AMIs to
// watermark.
func (im *Image) EndedError() error {
	return fmt.Errorf("the Image Builder image %s is %s%s: only an AVAILABLE image's output AMIs are watermarked", im.ARN.ARN, im.Status, im.why())
}

// RequireAvailable is nil when the image is AVAILABLE and has output AMIs:
// only then is its list of AMIs final.
func (im *Image) RequireAvailable() error {
	if im.Status != ibtypes.ImageStatusAvailable {
		if im.Ended() {
			return im.EndedError()
		}
		status := string(im.Status)
		if status == "" {
			status = "in an unknown state"
		}
		return fmt.Errorf("the Image Builder image %s is %s%s, not AVAILABLE: its output AMIs are final once it is AVAILABLE; run again then (for example from an EventBridge rule on the image state change event with state AVAILABLE)", im.ARN.ARN, status, im.why())
	}
	return im.RequireAMIs()
}

// RequireAMIs is nil when the image lists output AMIs.
func (im *Image) RequireAMIs() error {
	if len(im.AMIs) == 0 {
		return fmt.Errorf("the Image Builder image %s has no output AMIs (is it a container image?): nothing to watermark", im.ARN.ARN)
	}
	return nil
}

// Split returns the AMIs account self owns and the others.
func (im *Image) Split(self string) (own, other []AMI) {
	for _, a := range im.AMIs {
		if a.Account == self {
			own = append(own, a)
		} else {
			other = append(other, a)
		}
	}
	return own, other
}

// Hint says what to check after a failed Image Builder call.
func Hint(err error) string {
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		return ""
	}
	switch ae.ErrorCode() {
	case "ResourceNotFoundException":
		return " (no image build version with this ARN: check the ARN and its region; aws imagebuilder list-image-build-versions lists them)"
	case "AccessDeniedException", "ForbiddenException", "UnauthorizedOperation":
		return " (the credentials are not allowed to call imagebuilder:GetImage: grant it in IAM)"
	case "InvalidParameterValueException", "InvalidRequestException":
		return " (check the ARN: it must name an image build version, .../image/NAME/X.Y.Z/BUILD)"
	}
	return ""
}

// oneLine shortens an SDK error for one output line.
func oneLine(err error) string {
	return strings.Join(strings.Fields(err.Error()), " ")
}
