package engine

import (
	"fmt"
	"strings"

	"github.com/amiwatermark/packer-plugin-amiwatermark/internal/watermark"
)

// planAll plans every AMI (pure) and checks the criteria on the planned
// result; any problem refuses the whole run before anything is changed.
func (r *run) planAll(targets []Target, desc map[string]described) (map[string]watermark.ImagePlan, error) {
	req := watermark.Request{Attach: r.req.Attach, Detach: r.req.Detach, KeepInherited: r.req.KeepInherited}
	plans := map[string]watermark.ImagePlan{}
	var problems []string
	for _, t := range targets {
		d := desc[t.ImageID]
		if d.problem != "" {
			problems = append(problems, watermark.Problem{Region: t.Region, ImageID: t.ImageID, Message: d.problem}.Error())
			continue
		}
		d.img.Region = t.Region
		p := watermark.PlanImage(d.img, d.owned, req)
		for _, pr := range p.Problems {
			problems = append(problems, pr.Render(r.req.Names.terms()))
		}
		if p.OK() {
			after := p.ImageAfter(d.img, r.req.Now())
			for _, msg := range []string{r.criteriaProblem(after), r.allowedProblem(t.Region, after)} {
				if msg != "" {
					problems = append(problems, watermark.Problem{Region: t.Region, ImageID: t.ImageID,
						Message: msg + " (evaluated on the watermarks the AMI would carry after this run)"}.Error())
				}
			}
		}
		plans[t.ImageID] = p
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("amiwatermark: nothing was changed: %d problem(s) found while planning; fix them and run again:\n  - %s",
			len(problems), strings.Join(problems, "\n  - "))
	}
	for _, t := range targets {
		p := plans[t.ImageID]
		skip, reattach := "skipped", "re-attaching"
		if r.req.DryRun {
			skip, reattach = "would skip", "would re-attach"
		}
		for _, s := range p.Skipped {
			r.ui.amiSay(t, "%s %s (%s)", skip, showKey(s.Key), s.Reason())
		}
		for _, s := range p.Reattach {
			r.ui.amiSay(t, "%s %s (%s; %s leaves it as it is)", reattach, showKey(s.Key), s.ReattachReason(), r.req.Names.KeepInherited)
		}
		for _, k := range p.DetachAbsent {
			r.ui.amiSay(t, "detach %s: not present, nothing to do", showKey(k))
		}
	}
	return plans, nil
}

// criteriaProblem evaluates the criteria gate (allowed_criteria_file) on img; "" when the
// option is not set or the AMI is allowed.
func (r *run) criteriaProblem(img watermark.Image) string {
	if r.req.Criteria == nil {
		return ""
	}
	v := r.req.Criteria.Evaluate(img, r.req.CriteriaAccount, r.req.Now())
	if v.Allowed {
		return ""
	}
	return fmt.Sprintf("%s %s: the AMI with keys %s would be blocked by these Allowed-AMIs criteria (%s); attach a watermark the criteria accept, or change the criteria",
		r.req.Names.Criteria, r.req.CriteriaSource, joinOr(keysOf(img), "none"), v.Reason)
}

func keysOf(img watermark.Image) []string {
	out := make([]string, 0, len(img.Watermarks))
	for _, w := range img.Watermarks {
		out = append(out, w.Key)
	}
	return out
}
