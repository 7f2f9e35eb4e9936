package engine

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"

	"github.com/amiwatermark/packer-plugin-amiwatermark/internal/awsconfig"
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
				problems = append(problems, fmt.Sprintf("%s: %s needs GetAllowedImagesSettings, which failed: %s%s", w.region, r.req.Names.RequireAllowed, errText(err), r.hint(err, "ec2:GetAllowedImagesSettings")))
				return
			}
			s := allowedSettings{state: aws.ToString(res.State), criteria: awsconfig.Criteria(res.ImageCriteria)}
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
	v := s.criteria.Evaluate(img, "", r.req.Now())
	if v.Allowed {
		return ""
	}
	return fmt.Sprintf("%s: the AMI with keys %s would not be allowed by the account's current Allowed AMIs criteria in %s (state %s, read with GetAllowedImagesSettings, evaluated as another account launching it): %s; attach a watermark the criteria accept, or change the criteria",
		r.req.Names.RequireAllowed, joinOr(showAll(keysOf(img)), "none"), region, s.state, v.Reason)
}
