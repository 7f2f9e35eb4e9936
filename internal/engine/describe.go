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
// while an AMI is not found yet (a new AMI can take a moment to appear) or
// pending, until every AMI is settled or the deadline passes. An AMI missing
// from the answer is described once more without Owners to tell "owned by
// another account" from "not found".
func (r *run) describeRegion(ctx context.Context, w *regionWork, deadline time.Time) (map[string]described, error) {
	res := map[string]described{}
	last := map[string]string{} // last state seen per AMI
	waiting := make([]string, 0, len(w.targets))
	for _, t := range w.targets {
		waiting = append(waiting, t.ImageID)
	}
	told := map[string]string{} // what the UI was last told per AMI
	tell := func(id, state string) {
		if told[id] == state {
			return
		}
		told[id] = state
		r.ui.amiSay(Target{w.region, id}, "%s; waiting up to %s (wait_timeout) for it to become available", state, r.req.WaitTimeout)
	}
	delay := r.req.Timing.PollInitial
	for {
		// One call for every AMI still waiting. When EC2 answers
		// InvalidAMIID.NotFound for some of them (its message names them),
		// the others are described at once without them, so one AMI that
		// has not appeared yet does not hide the state of the rest.
		var next []string
		batch := waiting
		for len(batch) > 0 {
			out, err := w.client.DescribeImages(ctx, &ec2.DescribeImagesInput{ImageIds: batch, Owners: []string{"self"}})
			switch {
			case err != nil && ctx.Err() != nil:
				return res, ctx.Err()
			case err != nil && apiCode(err) == "InvalidAMIID.NotFound":
				named := namedIn(errText(err), batch)
				if len(named) == 0 {
					named = batch
				}
				for _, id := range named {
					if last[id] == "" || last[id] == "not found" {
						last[id] = "not found"
						tell(id, "not found yet (a new AMI can take a moment to appear)")
					}
					next = append(next, id)
				}
				batch = without(batch, named)
				continue
			case err != nil:
				return res, fmt.Errorf("%s: DescribeImages of %s failed: %s%s", w.region, strings.Join(batch, ", "), errText(err), hint(err, "ec2:DescribeImages"))
			}
			got := map[string]types.Image{}
			for _, im := range out.Images {
				got[aws.ToString(im.ImageId)] = im
			}
			for _, id := range batch {
				im, ok := got[id]
				if !ok {
					res[id] = r.describeForeign(ctx, w, id)
					continue
				}
				img := awsconfig.Image(&im, w.region)
				last[id] = img.State
				if img.State == "pending" || img.State == "transient" {
					tell(id, "state "+img.State)
					next = append(next, id)
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
					res[id] = described{problem: fmt.Sprintf("did not become available within wait_timeout (%s): last state seen \"not found\": no AMI with this id is visible in %s to the account of the credentials in use; check the AMI id and its region, or raise wait_timeout", r.req.WaitTimeout, w.region)}
				} else {
					res[id] = described{problem: fmt.Sprintf("did not become available within wait_timeout (%s): last state seen %q; raise wait_timeout or check the AMI in EC2", r.req.WaitTimeout, last[id])}
				}
			}
			return res, nil
		}
		if err := sleep(ctx, min(delay, remaining)); err != nil {
			return res, err
		}
		delay = min(delay+delay/2, r.req.Timing.PollMax)
	}
}

// describeForeign describes an AMI that the Owners=self answer left out.
func (r *run) describeForeign(ctx context.Context, w *regionWork, id string) described {
	out, err := w.client.DescribeImages(ctx, &ec2.DescribeImagesInput{ImageIds: []string{id}})
	if err != nil {
		if apiCode(err) == "InvalidAMIID.NotFound" {
			return described{problem: fmt.Sprintf("not found: no AMI with this id is visible in %s to the account of the credentials in use; check the AMI id and its region", w.region)}
		}
		return described{problem: fmt.Sprintf("DescribeImages failed: %s%s", errText(err), hint(err, "ec2:DescribeImages"))}
	}
	for _, im := range out.Images {
		if aws.ToString(im.ImageId) == id {
			return described{img: awsconfig.Image(&im, w.region), owned: false}
		}
	}
	return described{problem: fmt.Sprintf("not found: DescribeImages in %s does not return this AMI to the account of the credentials in use; check the AMI id and its region", w.region)}
}
