package awsconfig

import (
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/amiwatermark/packer-plugin-amiwatermark/internal/watermark"
)

// Image converts an image from DescribeImages in region into the domain type
// the rules of internal/watermark look at. Every component describes images
// through this one conversion, so they all read EC2's answer the same way.
func Image(im *types.Image, region string) watermark.Image {
	img := watermark.Image{
		ID:                aws.ToString(im.ImageId),
		Region:            region,
		OwnerID:           aws.ToString(im.OwnerId),
		OwnerAlias:        aws.ToString(im.ImageOwnerAlias),
		Name:              aws.ToString(im.Name),
		Description:       aws.ToString(im.Description),
		State:             string(im.State),
		Public:            aws.ToBool(im.Public),
		CreationDate:      ParseEC2Time(aws.ToString(im.CreationDate)),
		DeprecationTime:   ParseEC2Time(aws.ToString(im.DeprecationTime)),
		SourceImageID:     aws.ToString(im.SourceImageId),
		SourceImageRegion: aws.ToString(im.SourceImageRegion),
		SourceInstanceID:  aws.ToString(im.SourceInstanceId),
		Allowed:           im.ImageAllowed,
	}
	for _, pc := range im.ProductCodes {
		if id := aws.ToString(pc.ProductCodeId); id != "" {
			img.ProductCodes = append(img.ProductCodes, id)
		}
	}
	img.Watermarks = watermarks(im.ImageWatermarks)
	if sr := im.ScanResults; sr != nil {
		img.ScanResults = &watermark.ScanResults{
			FindingScanDate:                aws.ToTime(sr.FindingScanDate),
			HighestFindingSeverity:         watermark.Severity(sr.HighestFindingSeverityLabel),
			CriticalFixAvailableSince:      aws.ToTime(sr.CriticalFixAvailableSince),
			HighFixAvailableSince:          aws.ToTime(sr.HighFixAvailableSince),
			MediumFixAvailableSince:        aws.ToTime(sr.MediumFixAvailableSince),
			LowFixAvailableSince:           aws.ToTime(sr.LowFixAvailableSince),
			InformationalFixAvailableSince: aws.ToTime(sr.InformationalFixAvailableSince),
		}
	}
	return img
}

// ParseEC2Time parses an image's creationDate or deprecationTime, strings
// the SDK leaves unparsed (EC2 writes 2026-06-24T03:15:42.000Z), with
// time.Parse; zero when empty or not a time.
func ParseEC2Time(s string) time.Time {
	if s == "" {
		return time.Time{}
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999Z0700", "2006-01-02T15:04:05"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC()
		}
	}
	return time.Time{}
}

// ImageFromMetadata converts the ImageMetadata of
// DescribeInstanceImageMetadata (the AMI an instance was launched from,
// described even when it is deregistered or no longer shared) into the
// domain type. The metadata has no product codes, lineage fields or scan
// results: those stay empty.
func ImageFromMetadata(m *types.ImageMetadata, region string) watermark.Image {
	return watermark.Image{
		ID:              aws.ToString(m.ImageId),
		Region:          region,
		OwnerID:         aws.ToString(m.OwnerId),
		OwnerAlias:      aws.ToString(m.ImageOwnerAlias),
		Name:            aws.ToString(m.Name),
		State:           string(m.State),
		Public:          aws.ToBool(m.IsPublic),
		CreationDate:    ParseEC2Time(aws.ToString(m.CreationDate)),
		DeprecationTime: ParseEC2Time(aws.ToString(m.DeprecationTime)),
		Allowed:         m.ImageAllowed,
		Watermarks:      watermarks(m.ImageWatermarks),
	}
}

// watermarks converts the watermarks EC2 reports on an image (DescribeImages
// and instance image metadata alike); nil when there are none.
func watermarks(ws []types.ImageWatermark) []watermark.Watermark {
	if len(ws) == 0 {
		return nil
	}
	out := make([]watermark.Watermark, len(ws))
	for i, w := range ws {
		out[i] = watermark.Watermark{
			Key:                     aws.ToString(w.WatermarkKey),
			SourceImageID:           aws.ToString(w.SourceImageId),
			SourceImageRegion:       aws.ToString(w.SourceImageRegion),
			SourceImageCreationTime: aws.ToTime(w.SourceImageCreationTime),
			WatermarkCreationTime:   aws.ToTime(w.WatermarkCreationTime),
		}
	}
	return out
}
