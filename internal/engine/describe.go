package engine

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/amiwatermark/packer-plugin-amiwatermark/internal/awsconfig"
	"github.com/amiwatermark/packer-plugin-amiwatermark/internal/watermark"
)

// described is the outcome of describing one AMI before planning.
type described struct {
	img   watermark.Image
	owned bool
	// problem, when set, means the AMI could not be planned (not found, not
	// available in time, not visible).
	problem string
}

func (r *run) describeAll(ctx context.Context, regions []*regionWork) (map[string]described, error) {
	deadline := time.Now().Add(r.req.WaitTimeout)
	var mu sync.Mutex
	all := map[string]described{}
	errs := make([]error, len(regions))
	var wg sync.WaitGroup
	for i, w := range regions {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := r.describeRegion(ctx, w, deadline)
			errs[i] = err
			mu.Lock()
			for id, d := range res {
				all[id] = d
			}
			mu.Unlock()
		}()
	}
	wg.Wait()
	if ctx.Err() != nil {
		return nil, fmt.Errorf("amiwatermark: interrupted while describing the AMIs: nothing was changed")
	}
	var msgs []string
	for _, err := range errs {
		if err != nil {
			msgs = append(msgs, err.Error())
		}
	}
	if len(msgs) > 0 {
		return nil, fmt.Errorf("amiwatermark: nothing was changed: the AMIs could not be described:\n  - %s", strings.Join(msgs, "\n  - "))
	}
	return all, nil
}

// describeRegion describes the region's AMIs with one DescribeImages call
// (Owners = self, so an AMI in the answer is the caller's), repeating it
// while an AMI is pending (up to the wait timeout) or not found yet (up to
// the not-found grace: a new AMI can take a moment to appear), until every
// AMI is settled. An AMI not found is described once with IncludeDisabled,
// so that a disabled AMI is reported as disabled; an AMI missing from the
// Owners = self answer is described once more without Owners to tell "owned
// by another account" from "not found".
func (r *run) describeRegion(ctx context.Context, w *regionWork, deadline time.Time) (map[string]described, error) {
	res := map[string]described{}
	last := map[string]string{}             // last state seen per AMI
	notFoundSince := map[string]time.Time{} // first "not found" per AMI
	waiting := make([]string, 0, len(w.targets))
	for _, t := range w.targets {
		waiting = append(waiting, t.ImageID)
	}
	told := map[string]string{} // what the UI was last told per AMI
	tell := func(id, state, limit string) {
		if told[id] == state {
			return
		}
		told[id] = state
		r.ui.amiSay(Target{w.region, id}, "%s; waiting up to %s", state, limit)
	}
	grace := min(r.req.NotFoundGrace, r.req.WaitTimeout)
	delay := r.req.Timing.PollInitial
	for {
		// One call for every AMI still waiting. When EC2 answers
		// InvalidAMIID.NotFound for some of them (its message names them),
		// the others are described at once without them, so one AMI that
		// has not appeared yet does not hide the state of the rest.
		var next []string
		batch := waiting
		for len(batch) > 0 {
			out, err := w.client.DescribeImages(ctx, &ec2.DescribeImagesInput{ImageIds: batch, Owners: []string{"self"}, IncludeDisabled: aws.Bool(true)})
			switch {
			case err != nil && ctx.Err() != nil:
				return res, ctx.Err()
			case err != nil && apiCode(err) == "InvalidAMIID.NotFound":
				named := namedIn(errText(err), batch)
				if len(named) == 0 {
					named = batch
				}
				for _, id := range named {
					if _, seen := notFoundSince[id]; !seen {
						notFoundSince[id] = time.Now()
					}
					if time.Since(notFoundSince[id]) >= grace {
						res[id] = r.notFound(ctx, w, id, grace)
						continue
					}
					last[id] = "not found"
					tell(id, "not found yet (a new AMI can take a moment to appear)", fmt.Sprintf("%s (%s) for it to appear", grace, r.req.Names.NotFoundGrace))
					next = append(next, id)
				}
				batch = without(batch, named)
				continue
			case err != nil:
				return res, fmt.Errorf("%s: DescribeImages of %s failed: %s%s", w.region, strings.Join(batch, ", "), errText(err), r.hint(err, "ec2:DescribeImages"))
			}
			got := map[string]types.Image{}
			for _, im := range out.Images {
				got[aws.ToString(im.ImageId)] = im
			}
			for _, id := range batch {
				im, ok := got[id]
				if !ok {
					res[id] = r.describeForeign(ctx, w, id, grace)
					continue
				}
				img := awsconfig.Image(&im, w.region)
				last[id] = img.State
				if img.State == "pending" || img.State == "transient" {
					tell(id, "state "+img.State, fmt.Sprintf("%s (%s) for it to become available", r.req.WaitTimeout, r.req.Names.WaitTimeout))
					next = append(next, id)
					continue
				}
				if img.State == string(types.ImageStateDisabled) {
					res[id] = disabledProblem(id, w.region)
					continue
				}
				if told[id] != "" {
					r.ui.amiSay(Target{w.region, id}, "state %s", img.State)
				}
				res[id] = described{img: img, owned: true}
			}
			batch = nil
		}
		waiting = next
		if len(waiting) == 0 {
			return res, nil
		}
		remaining := time.Until(deadline)
		if remaining <= 0 {
			for _, id := range waiting {
				if last[id] == "not found" {
					res[id] = r.notFound(ctx, w, id, grace)
				} else {
					res[id] = described{problem: fmt.Sprintf("did not become available within %s (%s): last state seen %q; raise %s or check the AMI in EC2", r.req.Names.WaitTimeout, r.req.WaitTimeout, last[id], r.req.Names.WaitTimeout)}
				}
			}
			return res, nil
		}
		wait := min(delay, remaining)
		for _, id := range waiting {
			if since, ok := notFoundSince[id]; ok && last[id] == "not found" {
				wait = max(min(wait, grace-time.Since(since)), time.Millisecond)
			}
		}
		if err := Sleep(ctx, wait); err != nil {
			return res, err
		}
		delay = min(delay+delay/2, r.req.Timing.PollMax)
	}
}

// describeDisabled describes id with IncludeDisabled; a disabled AMI is
// settled at once with a problem that says so.
func (r *run) describeDisabled(ctx context.Context, w *regionWork, id string) (described, bool) {
	out, err := w.client.DescribeImages(ctx, &ec2.DescribeImagesInput{ImageIds: []string{id}, IncludeDisabled: aws.Bool(true)})
	if err != nil {
		return described{}, false
	}
	for _, im := range out.Images {
		if aws.ToString(im.ImageId) == id && im.State == types.ImageStateDisabled {
			return disabledProblem(id, w.region), true
		}
	}
	return described{}, false
}

// notFound is the problem of an AMI that stayed invisible for the grace:
// what was looked up, where, as whom, and the likely causes.
func (r *run) notFound(ctx context.Context, w *regionWork, id string, grace time.Duration) described {
	if d, disabled := r.describeDisabled(ctx, w, id); disabled {
		return d
	}
	return described{problem: fmt.Sprintf("not found: DescribeImages of %s in %s as %s returned no such AMI for %s (%s); likely causes: a typo in the AMI id, the wrong region, credentials of another account (check %s in use), an AMI that was deregistered, or an AMI of another account that is not shared with this one",
		id, w.region, r.accountText(ctx), grace, r.req.Names.NotFoundGrace, r.req.Names.Credentials)}
}

// accountText names the caller's account for messages, once per run.
func (r *run) accountText(ctx context.Context) string {
	r.accountOnce.Do(func() {
		if r.req.Account == nil {
			r.account = "the account of the credentials in use"
			return
		}
		acct, err := r.req.Account(ctx)
		if err != nil || acct == "" {
			r.account = "the account of the credentials in use (unknown: sts:GetCallerIdentity failed: " + errText(err) + ")"
			return
		}
		r.account = "account " + acct
	})
	return r.account
}

// describeForeign describes an AMI that the Owners=self answer left out.
func (r *run) describeForeign(ctx context.Context, w *regionWork, id string, grace time.Duration) described {
	out, err := w.client.DescribeImages(ctx, &ec2.DescribeImagesInput{ImageIds: []string{id}})
	if err != nil {
		if apiCode(err) == "InvalidAMIID.NotFound" {
			return r.notFound(ctx, w, id, grace)
		}
		return described{problem: fmt.Sprintf("DescribeImages failed: %s%s", errText(err), r.hint(err, "ec2:DescribeImages"))}
	}
	for _, im := range out.Images {
		if aws.ToString(im.ImageId) == id {
			return described{img: awsconfig.Image(&im, w.region), owned: false}
		}
	}
	return r.notFound(ctx, w, id, grace)
}

func disabledProblem(id, region string) described {
	return described{problem: fmt.Sprintf("the AMI is disabled, not \"available\": watermarks can only be attached to available AMIs; re-enable it (aws ec2 enable-image --image-id %s --region %s) or leave it out", id, region)}
}
