package engine

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/ec2"

	"github.com/amiwatermark/packer-plugin-amiwatermark/internal/awsconfig"
	"github.com/amiwatermark/packer-plugin-amiwatermark/internal/watermark"
)

type verifyProblem struct {
	msg   string
	final bool // retrying can't help
}

// keysAfter are the keys on every AMI after the run: described again and
// checked against the plans when the run verifies, else as planned (in a
// dry run: the keys the AMIs carry now).
func (r *run) keysAfter(ctx context.Context, regions []*regionWork, targets []Target, plans map[string]watermark.ImagePlan) (Keys, error) {
	keys := Keys{}
	switch {
	case r.req.DryRun:
		for _, t := range targets {
			var present []string
			for _, w := range plans[t.ImageID].Present {
				present = append(present, w.Key)
			}
			keys.Set(t, present)
		}
	case r.req.Verify || r.req.RequireAllowed || r.req.Criteria != nil:
		after, err := r.verifyAll(ctx, regions, plans)
		if err != nil {
			return nil, err
		}
		for _, t := range targets {
			keys.Set(t, after[t.ImageID])
		}
	default:
		for _, t := range targets {
			keys.Set(t, plans[t.ImageID].KeysAfter())
		}
	}
	return keys, nil
}

// verifyAll describes every region's AMIs again (one call per region) and
// checks the result against the plans. It returns the keys on each AMI.
func (r *run) verifyAll(ctx context.Context, regions []*regionWork, plans map[string]watermark.ImagePlan) (map[string][]string, error) {
	var mu sync.Mutex
	after := map[string][]string{}
	var problems []string
	var errs []string
	var wg sync.WaitGroup
	for _, w := range regions {
		wg.Add(1)
		go func() {
			defer wg.Done()
			keys, probs, err := r.verifyRegion(ctx, w, plans)
			mu.Lock()
			defer mu.Unlock()
			for id, ks := range keys {
				after[id] = ks
			}
			problems = append(problems, probs...)
			if err != nil {
				errs = append(errs, err.Error())
			}
		}()
	}
	wg.Wait()
	fail := func(format string, a ...any) error {
		return &PartialError{msg: fmt.Sprintf(format, a...), AMIs: verifiedStates(regions, plans, after)}
	}
	if ctx.Err() != nil {
		return nil, fail("amiwatermark: interrupted during verification: every planned change was made, but the result was not verified")
	}
	if len(errs) > 0 {
		sort.Strings(errs)
		return nil, fail("amiwatermark: every planned change was made, but verification could not describe the AMIs:\n  - %s", strings.Join(errs, "\n  - "))
	}
	if len(problems) > 0 {
		sort.Strings(problems)
		return nil, fail("amiwatermark: verification failed (the attach and detach calls succeeded and stay in effect):\n  - %s", strings.Join(problems, "\n  - "))
	}
	return after, nil
}

// verifiedStates is the state of every AMI (region by region) when
// verification failed: every planned call was made; keys are those
// described (nil when not).
func verifiedStates(regions []*regionWork, plans map[string]watermark.ImagePlan, after map[string][]string) []AMIState {
	var out []AMIState
	for _, w := range regions {
		for _, t := range w.targets {
			p := plans[t.ImageID]
			s := AMIState{Target: t, Plan: p, State: StateUnchanged, Keys: after[t.ImageID]}
			if p.Calls() > 0 {
				s.State, s.Attached, s.Detached = StateChanged, p.AttachKeys(), p.Detach
			}
			out = append(out, s)
		}
	}
	return out
}

func (r *run) verifyRegion(ctx context.Context, w *regionWork, plans map[string]watermark.ImagePlan) (map[string][]string, []string, error) {
	ids := make([]string, 0, len(w.targets))
	for _, t := range w.targets {
		ids = append(ids, t.ImageID)
	}
	deadline := time.Now().Add(min(r.req.Timing.VerifyWindow, r.req.WaitTimeout))
	delay := r.req.Timing.PollInitial
	for {
		out, err := w.client.DescribeImages(ctx, &ec2.DescribeImagesInput{ImageIds: ids})
		if err != nil {
			return nil, nil, fmt.Errorf("%s: DescribeImages of %s failed: %s%s", w.region, strings.Join(ids, ", "), errText(err), r.hint(err, "ec2:DescribeImages"))
		}
		got := map[string]watermark.Image{}
		for _, im := range out.Images {
			img := awsconfig.Image(&im, w.region)
			got[img.ID] = img
		}
		keys := map[string][]string{}
		var probs []verifyProblem
		for _, t := range w.targets {
			img, ok := got[t.ImageID]
			if !ok {
				probs = append(probs, verifyProblem{msg: fmt.Sprintf("%s %s: DescribeImages did not return the AMI", t.Region, t.ImageID)})
				continue
			}
			keys[t.ImageID] = []string{} // described: nil means not described
			for _, wm := range img.Watermarks {
				keys[t.ImageID] = append(keys[t.ImageID], wm.Key)
			}
			probs = append(probs, r.checkImage(t, img, plans[t.ImageID])...)
		}
		if len(probs) == 0 {
			r.ui.say("%s: verified %d AMI(s)", w.region, len(w.targets))
			return keys, nil, nil
		}
		retry := false
		for _, p := range probs {
			if !p.final {
				retry = true
			}
		}
		remaining := time.Until(deadline)
		if !retry || remaining <= 0 {
			var msgs []string
			for _, p := range probs {
				msgs = append(msgs, p.msg)
			}
			return keys, msgs, nil
		}
		if err := Sleep(ctx, min(delay, remaining)); err != nil {
			return nil, nil, err
		}
		delay = min(delay+delay/2, r.req.Timing.PollMax)
	}
}

// checkImage compares one described AMI with its plan.
func (r *run) checkImage(t Target, img watermark.Image, p watermark.ImagePlan) []verifyProblem {
	var probs []verifyProblem
	add := func(final bool, format string, args ...any) {
		probs = append(probs, verifyProblem{msg: t.Region + " " + t.ImageID + ": " + fmt.Sprintf(format, args...), final: final})
	}
	if r.req.Verify {
		byKey := map[string]watermark.Watermark{}
		for _, w := range img.Watermarks {
			byKey[w.Key] = w
		}
		for _, k := range p.RequestedKeys() {
			if _, ok := byKey[k]; !ok {
				add(false, "key %s is missing although it was attached; run again to attach it", k)
			}
		}
		for _, k := range p.AttachKeys() {
			w, ok := byKey[k]
			if !ok {
				continue
			}
			if w.SourceImageID != t.ImageID || w.SourceImageRegion != t.Region {
				add(false, "key %s reports SourceImageId %q and SourceImageRegion %q, expected %q and %q: it was not attached to this AMI; check the AMI in EC2", k, w.SourceImageID, w.SourceImageRegion, t.ImageID, t.Region)
			}
		}
		attached := map[string]bool{}
		for _, k := range p.AttachKeys() {
			attached[k] = true
		}
		for _, k := range p.Detach {
			if _, ok := byKey[k]; ok && !attached[k] { // a re-attached key is back, attached here
				add(false, "key %s is still present although it was detached; run again to detach it", k)
			}
		}
	}
	if msg := r.criteriaProblem(img); msg != "" {
		add(false, "%s", msg)
	}
	if msg := r.allowedProblem(t.Region, img); msg != "" {
		add(false, "%s", msg)
	}
	return probs
}
