package main

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/amiwatermark/packer-plugin-amiwatermark/internal/awsconfig"
	"github.com/amiwatermark/packer-plugin-amiwatermark/internal/watermark"
)

// maxFilterValues is how many values one DescribeImages filter carries
// (EC2 accepts up to 200 values per filter).
const maxFilterValues = 200

// describeByID describes the images ids in region with the image-id filter
// rather than ImageIds: an unknown, unshared or hidden id is then simply
// missing from the answer instead of failing the whole call with
// InvalidAMIID.NotFound. Deprecated and disabled images are included: they
// are named explicitly. Pages are followed (MaxResults 1000).
func describeByID(ctx context.Context, c *ec2.Client, region string, ids []string) (map[string]watermark.Image, error) {
	out := make(map[string]watermark.Image, len(ids))
	for start := 0; start < len(ids); start += maxFilterValues {
		end := min(start+maxFilterValues, len(ids))
		in := &ec2.DescribeImagesInput{
			Filters:           []types.Filter{{Name: aws.String("image-id"), Values: ids[start:end]}},
			IncludeDeprecated: aws.Bool(true),
			IncludeDisabled:   aws.Bool(true),
			MaxResults:        aws.Int32(1000),
		}
		p := ec2.NewDescribeImagesPaginator(c, in)
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				return nil, describeErr(region, err)
			}
			for _, im := range page.Images {
				img := awsconfig.Image(&im, region)
				out[img.ID] = img
			}
		}
	}
	return out, nil
}

// lineageText is the readable form of an origin (watermark.OriginOf).
func lineageText(l watermark.Origin) string {
	if l == watermark.OriginAttached {
		return "attached here"
	}
	return string(l)
}

// lineageWhy explains a derived watermark in a sentence fragment.
func lineageWhy(img watermark.Image, w watermark.Watermark) string {
	src := fmt.Sprintf("%s in %s", orDefault(w.SourceImageID, "an unknown image"), orDefault(w.SourceImageRegion, img.Region))
	switch {
	case img.SourceInstanceID != "":
		return fmt.Sprintf("it was attached to %s and inherited through CreateImage from instance %s", src, img.SourceInstanceID)
	case img.SourceImageID != "":
		return fmt.Sprintf("it was attached to %s and inherited from %s in %s, which is not that image", src, img.SourceImageID, orDefault(img.SourceImageRegion, img.Region))
	}
	return fmt.Sprintf("it was attached to %s, not to this image", src)
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// allowedText is the readable imageAllowed status.
func allowedText(a *bool) string {
	switch {
	case a == nil:
		return "unknown (Allowed AMIs disabled)"
	case *a:
		return "allowed"
	}
	return "not allowed"
}

// formatAge renders a duration as a short age: 120d, 36h, 12m, 40s.
// Negative ages (clock skew, future times) render as "in the future".
func formatAge(d time.Duration) string {
	switch {
	case d < 0:
		return "in the future"
	case d >= 48*time.Hour:
		return fmt.Sprintf("%dd", int64(d/(24*time.Hour)))
	case d >= 2*time.Hour:
		return fmt.Sprintf("%dh", int64(d/time.Hour))
	case d >= 2*time.Minute:
		return fmt.Sprintf("%dm", int64(d/time.Minute))
	}
	return fmt.Sprintf("%ds", int64(d/time.Second))
}

// formatTime renders t as RFC 3339 UTC (seconds), "-" when zero.
func formatTime(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}
