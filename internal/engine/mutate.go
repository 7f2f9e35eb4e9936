package engine

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"

	"github.com/amiwatermark/packer-plugin-amiwatermark/internal/watermark"
)

// outcome is what the mutation phase did on one AMI.
type outcome struct {
	t        Target
	plan     watermark.ImagePlan
	detached []string // keys
	attached []string // keys
	failedOp string   // the call that failed, e.g. `attach "golden"`
	err      error    // its error
	notDone  []string // calls not made
}

func (o *outcome) complete() bool { return o.err == nil && len(o.notDone) == 0 }

// mutateAll runs every region in parallel, and the AMIs of a region in
// parallel; each AMI's calls run in order, detaches first. After a failed
// call a region issues no new call; the other regions go on.
func (r *run) mutateAll(ctx context.Context, regions []*regionWork, plans map[string]watermark.ImagePlan) map[string]*outcome {
	outcomes := map[string]*outcome{}
	for _, w := range regions {
		for _, t := range w.targets {
			outcomes[t.ImageID] = &outcome{t: t, plan: plans[t.ImageID]}
		}
	}
	var wg sync.WaitGroup
	for _, w := range regions {
		var stopMu sync.Mutex
		stopped := false
		stop := func() { stopMu.Lock(); stopped = true; stopMu.Unlock() }
		isStopped := func() bool { stopMu.Lock(); defer stopMu.Unlock(); return stopped }
		for _, t := range w.targets {
			o := outcomes[t.ImageID]
			if o.plan.Calls() == 0 {
				continue
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				r.mutateAMI(ctx, w.client, o, isStopped, stop)
			}()
		}
	}
	wg.Wait()
	return outcomes
}

type call struct {
	detach string // key
	attach string // name
}

// planCalls are the calls of a plan in the order they are made: the
// detaches, then the attaches.
func planCalls(p watermark.ImagePlan) []call {
	calls := make([]call, 0, p.Calls())
	for _, k := range p.Detach {
		calls = append(calls, call{detach: k})
	}
	for _, n := range p.Attach {
		calls = append(calls, call{attach: n})
	}
	return calls
}

// doCall makes one call of a plan on image id, with DryRun when dry, and
// returns the key it concerns (for an attach, the key EC2 answers when it
// answers one).
func doCall(ctx context.Context, c *ec2.Client, id string, p watermark.ImagePlan, cl call, dry bool) (string, error) {
	var dryRun *bool // sent only when checking
	if dry {
		dryRun = aws.Bool(true)
	}
	if cl.detach != "" {
		_, err := c.DetachImageWatermark(ctx, &ec2.DetachImageWatermarkInput{ImageId: aws.String(id), WatermarkKey: aws.String(cl.detach), DryRun: dryRun})
		return cl.detach, err
	}
	key := watermark.FormatKey(p.Account, cl.attach)
	out, err := c.AttachImageWatermark(ctx, &ec2.AttachImageWatermarkInput{ImageId: aws.String(id), WatermarkName: aws.String(cl.attach), DryRun: dryRun})
	if err == nil && aws.ToString(out.WatermarkKey) != "" {
		key = aws.ToString(out.WatermarkKey)
	}
	return key, err
}

// dryRunConfirmed tells whether the answer to a DryRun call says the call
// would succeed, and why when it is not plain DryRunOperation: a DryRun
// detach changes nothing, so EC2 still counts the keys this run would
// detach first, and an attach after detaches may answer
// ResourceLimitExceeded; the plan has checked the limit with those
// detaches applied.
func dryRunConfirmed(err error, cl call, p watermark.ImagePlan) (bool, string) {
	switch apiCode(err) {
	case "DryRunOperation":
		return true, ""
	case "ResourceLimitExceeded":
		if cl.attach != "" && len(p.Detach) > 0 {
			return true, "room is made by the detaches before it; the plan checked the 5-limit"
		}
	}
	return false, ""
}

func (r *run) mutateAMI(ctx context.Context, c *ec2.Client, o *outcome, isStopped func() bool, stop func()) {
	calls := planCalls(o.plan)
	for i, cl := range calls {
		if isStopped() || ctx.Err() != nil {
			for _, rest := range calls[i:] {
				o.notDone = append(o.notDone, rest.String())
			}
			return
		}
		key, err := doCall(ctx, c, o.t.ImageID, o.plan, cl, r.req.DryRun)
		note := "DryRun check passed"
		if r.req.DryRun {
			if ok, why := dryRunConfirmed(err, cl, o.plan); ok {
				err = nil
				note = cmp.Or(why, note)
			}
		}
		if err != nil {
			stop()
			o.failedOp = cl.String()
			o.err = err
			for _, rest := range calls[i+1:] {
				o.notDone = append(o.notDone, rest.String())
			}
			return
		}
		verb := "attached"
		if cl.detach != "" {
			verb = "detached"
			o.detached = append(o.detached, key)
		} else {
			o.attached = append(o.attached, key)
		}
		if r.req.DryRun {
			r.ui.amiSay(o.t, "would %s %s (%s)", strings.TrimSuffix(verb, "ed"), showKey(key), note)
		} else {
			r.ui.amiSay(o.t, "%s %s", verb, showKey(key))
		}
	}
}

// mutationError summarises a mutation phase that did not complete, per
// region and AMI: what was done, what failed, what was not done. In a dry
// run every line says what would have happened: nothing was changed.
func (r *run) mutationError(ctx context.Context, targets []Target, outcomes map[string]*outcome) error {
	failed, notDone := 0, 0
	var failedRegions []string
	seen := map[string]bool{}
	for _, t := range targets {
		o := outcomes[t.ImageID]
		if o.err != nil {
			failed++
			if !seen[t.Region] {
				seen[t.Region] = true
				failedRegions = append(failedRegions, t.Region)
			}
		}
		notDone += len(o.notDone)
	}
	if failed == 0 && notDone == 0 {
		return nil
	}
	dry := r.req.DryRun
	var b strings.Builder
	switch {
	case ctx.Err() != nil && dry:
		fmt.Fprintf(&b, "amiwatermark: dry run interrupted: nothing was changed; %d check(s) were not made", notDone)
	case ctx.Err() != nil:
		fmt.Fprintf(&b, "amiwatermark: interrupted: %d call(s) were not made", notDone)
	case dry:
		fmt.Fprintf(&b, "amiwatermark: dry run: nothing was changed, but the run would fail in %s: %d DryRun check(s) failed and %d were not made", strings.Join(failedRegions, ", "), failed, notDone)
	default:
		fmt.Fprintf(&b, "amiwatermark: watermarking failed in %s: %d call(s) failed and %d were not made", strings.Join(failedRegions, ", "), failed, notDone)
	}
	b.WriteString("; per AMI:")
	for _, t := range targets {
		o := outcomes[t.ImageID]
		fmt.Fprintf(&b, "\n  %s %s: ", t.Region, t.ImageID)
		var parts []string
		switch {
		case o.complete() && dry:
			parts = append(parts, "every DryRun check passed")
		case o.complete():
			parts = append(parts, "complete")
		}
		if len(o.detached) > 0 {
			if dry {
				parts = append(parts, "would detach "+showKeys(o.detached)+" (DryRun check passed)")
			} else {
				parts = append(parts, "detached "+showKeys(o.detached))
			}
		}
		if len(o.attached) > 0 {
			if dry {
				parts = append(parts, "would attach "+showKeys(o.attached)+" (DryRun check passed)")
			} else {
				parts = append(parts, "attached "+showKeys(o.attached))
			}
		}
		if len(o.plan.Skipped) > 0 {
			var ks []string
			for _, s := range o.plan.Skipped {
				ks = append(ks, s.Key)
			}
			parts = append(parts, "already present "+showKeys(ks))
		}
		if o.complete() && o.plan.Calls() == 0 && len(o.plan.Skipped) == 0 {
			parts = append(parts, "nothing to do")
		}
		if o.err != nil {
			what := "FAILED"
			switch {
			case errors.Is(o.err, context.Canceled) || errors.Is(o.err, context.DeadlineExceeded):
				what = "INTERRUPTED (the call may or may not have taken effect)"
				if dry {
					what = "INTERRUPTED"
				}
			case dry:
				what = "DryRun check FAILED, so this call would fail:"
			}
			parts = append(parts, fmt.Sprintf("%s %s: %s%s", what, o.failedOp, errText(o.err), r.hint(o.err, opPermission(o.failedOp))))
		}
		if len(o.notDone) > 0 {
			if dry {
				parts = append(parts, "not checked: "+strings.Join(o.notDone, ", "))
			} else {
				parts = append(parts, "not done: "+strings.Join(o.notDone, ", "))
			}
		}
		b.WriteString(strings.Join(parts, "; "))
	}
	if dry {
		b.WriteString("\nNothing was changed (dry run): fix the cause and run the dry run again.")
	} else {
		b.WriteString("\nCalls that succeeded stay in effect: a later run skips keys already present and makes only the missing calls. Nothing was undone.")
	}
	return &PartialError{msg: b.String(), AMIs: r.mutationStates(targets, outcomes)}
}

// mutationStates is the state of every AMI after a mutation phase that did
// not complete.
func (r *run) mutationStates(targets []Target, outcomes map[string]*outcome) []AMIState {
	out := make([]AMIState, 0, len(targets))
	for _, t := range targets {
		o := outcomes[t.ImageID]
		s := AMIState{Target: t, Plan: o.plan, NotDone: o.notDone,
			State: stateOf(r.req.DryRun, len(o.attached)+len(o.detached), o.err)}
		if !r.req.DryRun {
			s.Attached, s.Detached = o.attached, o.detached
		}
		if o.err != nil {
			s.Failed = o.failedOp + ": " + errText(o.err)
		}
		out = append(out, s)
	}
	return out
}

func opPermission(op string) string {
	if strings.HasPrefix(op, "detach") {
		return "ec2:DetachImageWatermark"
	}
	return "ec2:AttachImageWatermark"
}
