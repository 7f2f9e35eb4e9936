package awsconfig

import (
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/amiwatermark/packer-plugin-amiwatermark/internal/watermark"
)

// Criteria converts the image criteria GetAllowedImagesSettings returns
// into the domain's criteria, every field included (ScanResultCondition
// too), so the live settings are evaluated with the same rules as a
// criteria file.
func Criteria(in []types.ImageCriterion) watermark.Criteria {
	out := make(watermark.Criteria, 0, len(in))
	for _, ic := range in {
		cr := watermark.Criterion{
			ImageProviders:          ic.ImageProviders,
			ImageNames:              ic.ImageNames,
			MarketplaceProductCodes: ic.MarketplaceProductCodes,
		}
		if c := ic.CreationDateCondition; c != nil {
			cr.CreationDateCondition = &watermark.CreationDateCondition{MaximumDaysSinceCreated: days(c.MaximumDaysSinceCreated)}
		}
		if c := ic.DeprecationTimeCondition; c != nil {
			cr.DeprecationTimeCondition = &watermark.DeprecationTimeCondition{MaximumDaysSinceDeprecated: days(c.MaximumDaysSinceDeprecated)}
		}
		for _, w := range ic.ImageWatermarks {
			cr.ImageWatermarks = append(cr.ImageWatermarks, watermark.WatermarkFilter{
				WatermarkKey:                       w.WatermarkKey,
				SourceImageRegion:                  w.SourceImageRegion,
				MaximumDaysSinceWatermarkCreated:   days(w.MaximumDaysSinceWatermarkCreated),
				MaximumDaysSinceSourceImageCreated: days(w.MaximumDaysSinceSourceImageCreated),
			})
		}
		if s := ic.ScanResultCondition; s != nil {
			sc := &watermark.ScanResultCondition{
				MaxDaysSinceLastFindingScan:           days(s.MaxDaysSinceLastFindingScan),
				MaxDaysSinceCriticalFixAvailable:      days(s.MaxDaysSinceCriticalFixAvailable),
				MaxDaysSinceHighFixAvailable:          days(s.MaxDaysSinceHighFixAvailable),
				MaxDaysSinceMediumFixAvailable:        days(s.MaxDaysSinceMediumFixAvailable),
				MaxDaysSinceLowFixAvailable:           days(s.MaxDaysSinceLowFixAvailable),
				MaxDaysSinceInformationalFixAvailable: days(s.MaxDaysSinceInformationalFixAvailable),
			}
			if s.MaximumSeverityLabel != "" {
				l := watermark.Severity(s.MaximumSeverityLabel)
				sc.MaximumSeverityLabel = &l
			}
			cr.ScanResultCondition = sc
		}
		out = append(out, cr)
	}
	return out
}

func days(v *int32) *int64 {
	if v == nil {
		return nil
	}
	n := int64(*v)
	return &n
}
