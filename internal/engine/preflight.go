package engine

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"github.com/amiwatermark/packer-plugin-amiwatermark/internal/watermark"
)

// The permission check: before the first change, every detach and attach
// the plan will make is made once with EC2's DryRun flag, which answers
// DryRunOperation when the call would be allowed and UnauthorizedOperation
// when an IAM policy or an SCP denies it. Every call is checked, not one
// per action and region: a policy can allow an action on some images and
// deny it on others (resource ARNs, tags, conditions), so only the call
// itself tells. Regions are checked in parallel, the calls of a region one
// after the other. Any call that is not confirmed (denied, or failed after
// the SDK's retries) refuses the whole run before anything is changed.

// denial is one call the permission check did not confirm.
type denial struct {
	t      Target
	call   call
	key    string // the key the call detaches or attaches
	reatt  bool   // a detach that re-attaches an inherited key
	err    error
	denied bool // UnauthorizedOperation or AccessDenied
}

// preflight checks every planned call with DryRun. It is skipped in a dry
// run, whose calls are all DryRun calls already.
func (r *run) preflight(ctx context.Context, regions []*regionWork, plans map[string]watermark.ImagePlan) error {
	if r.req.DryRun {
		return nil
	}
	var (
		mu    sync.Mutex
		found []denial
		wg    sync.WaitGroup
		calls int
	)
	for _, w := range regions {
		for _, t := range w.targets {
			calls += plans[t.ImageID].Calls()
		}
	}
	if calls == 0 {
		return nil
	}
	r.ui.say("checking %d call(s) with EC2's DryRun before any change", calls)
	for _, w := range regions {
		wg.Add(1)
		go func() {
			defer wg.Done()
			d := r.preflightRegion(ctx, w, plans)
			mu.Lock()
			found = append(found, d...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	if ctx.Err() != nil {
		return fmt.Errorf("amiwatermark: interrupted while checking permissions: nothing was changed")
	}
	return r.preflightError(regions, found)
}

// preflightRegion makes the DryRun calls of one region in plan order and
// returns those not confirmed.
func (r *run) preflightRegion(ctx context.Context, w *regionWork, plans map[string]watermark.ImagePlan) []denial {
	var out []denial
	for _, t := range w.targets {
		p := plans[t.ImageID]
		reatt := map[string]bool{}
		for _, s := range p.Reattach {
			reatt[s.Key] = true
		}
		for _, c := range planCalls(p) {
			if ctx.Err() != nil {
				return out
			}
			key, err := doCall(ctx, w.client, t.ImageID, p, c, true)
			if ok, _ := dryRunConfirmed(err, c, p); ok {
				continue
			}
			if err == nil {
				err = fmt.Errorf("EC2 answered without DryRunOperation, so the check did not happen")
			}
			code := apiCode(err)
			out = append(out, denial{t: t, call: c, key: key, reatt: c.detach != "" && reatt[key], err: err,
				denied: code == "UnauthorizedOperation" || code == "AccessDenied" || code == "AccessDeniedException"})
		}
	}
	return out
}

// preflightError words the calls the check did not confirm, in target
// order, with what to do about them; nil when every call was confirmed.
func (r *run) preflightError(regions []*regionWork, found []denial) error {
	if len(found) == 0 {
		return nil
	}
	var order []Target
	for _, w := range regions {
		order = append(order, w.targets...)
	}
	var lines []string
	var detachDenied, attachDenied, reattDenied bool
	for _, t := range order {
		for _, d := range found {
			if d.t != t {
				continue
			}
			verb := "attach " + showKey(d.key)
			if d.call.detach != "" {
				verb = "detach " + showKey(d.key)
				if d.reatt {
					verb += " (re-attaching the inherited key)"
				}
			}
			state := "could not be checked"
			if d.denied {
				state = "is denied"
				detachDenied = detachDenied || d.call.detach != ""
				attachDenied = attachDenied || d.call.attach != ""
				reattDenied = reattDenied || d.reatt
			}
			lines = append(lines, fmt.Sprintf("%s %s: %s %s: %s", t.Region, t.ImageID, verb, state, errText(d.err)))
		}
	}
	return fmt.Errorf("amiwatermark: nothing was changed: %d planned call(s) did not pass EC2's DryRun check, made before any change:\n  - %s%s",
		len(found), strings.Join(lines, "\n  - "), r.deniedAdvice(detachDenied, attachDenied, reattDenied))
}
