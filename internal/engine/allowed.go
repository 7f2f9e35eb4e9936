package engine

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/amiwatermark/packer-plugin-amiwatermark/internal/watermark"
)

// allowedSettings is a region's Allowed-AMIs setting as
// GetAllowedImagesSettings reports it.
type allowedSettings struct {
	state    string
	criteria watermark.Criteria
}

// fetchAllowed reads the Allowed-AMIs setting of every region (for
// require_allowed). A region whose setting is disabled, or that can't be
// read, refuses the run: nothing has been changed yet.
func (r *run) fetchAllowed(ctx context.Context, regions []*regionWork) (map[string]allowedSettings, error) {
	out := map[string]allowedSettings{}
	var mu sync.Mutex
	var problems []string
	var wg sync.WaitGroup
	for _, w := range regions {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := w.client.GetAllowedImagesSettings(ctx, &ec2.GetAllowedImagesSettingsInput{})
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				problems = append(problems, fmt.Sprintf("%s: %s needs GetAllowedImagesSettings, which failed: %s%s", w.region, r.req.Names.RequireAllowed, errText(err), hint(err, "ec2:GetAllowedImagesSettings")))
				return
			}
			s := allowedSettings{state: aws.ToString(res.State), criteria: criteriaOf(res.ImageCriteria)}
			if s.state == "" || s.state == "disabled" {
				problems = append(problems, fmt.Sprintf("%s: %s: the account's Allowed AMIs setting in %s is disabled, so no criteria decide launches there and the check could not fail: put it in audit-mode or enabled mode (aws ec2 enable-allowed-images-settings --allowed-images-settings-state audit-mode --region %s), or turn %s off",
					w.region, r.req.Names.RequireAllowed, w.region, w.region, r.req.Names.RequireAllowed))
				return
			}
			out[w.region] = s
		}()
	}
	wg.Wait()
	if ctx.Err() != nil {
		return nil, fmt.Errorf("amiwatermark: interrupted while reading the Allowed AMIs settings: nothing was changed")
	}
	if len(problems) > 0 {
		sort.Strings(problems)
		return nil, fmt.Errorf("amiwatermark: nothing was changed: %s\n  - %s", r.req.Names.RequireAllowed, strings.Join(problems, "\n  - "))
	}
	return out, nil
}

// allowedProblem evaluates the region's current Allowed-AMIs criteria on
// img offline, as an account that does not own the AMI sees them (own AMIs
// are never restricted, and the AMIs are built to be launched elsewhere);
// "" when require_allowed is off or the AMI is allowed.
func (r *run) allowedProblem(region string, img watermark.Image) string {
	s, ok := r.allowed[region]
	if !ok {
		return ""
	}
	v := s.criteria.Evaluate(img, "", time.Now().UTC())
	if v.Allowed {
		return ""
	}
	return fmt.Sprintf("%s: the AMI with keys %s would not be allowed by the account's current Allowed AMIs criteria in %s (state %s, read with GetAllowedImagesSettings, evaluated as another account launching it): %s; attach a watermark the criteria accept, or change the criteria",
		r.req.Names.RequireAllowed, joinOr(showAll(keysOf(img)), "none"), region, s.state, v.Reason)
}

// criteriaOf converts the criteria of GetAllowedImagesSettings into the
// domain's criteria, every field included.
func criteriaOf(in []types.ImageCriterion) watermark.Criteria {
	days := func(v *int32) *int64 {
		if v == nil {
			return nil
		}
		n := int64(*v)
		return &n
	}
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
		for _, f := range ic.ImageWatermarks {
			cr.ImageWatermarks = append(cr.ImageWatermarks, watermark.WatermarkFilter{
				WatermarkKey:                       f.WatermarkKey,
				SourceImageRegion:                  f.SourceImageRegion,
				MaximumDaysSinceWatermarkCreated:   days(f.MaximumDaysSinceWatermarkCreated),
				MaximumDaysSinceSourceImageCreated: days(f.MaximumDaysSinceSourceImageCreated),
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
