package engine

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// run is one Run call.
type run struct {
	req Request
	ui  *ui

	// allowed is each region's Allowed-AMIs setting (require_allowed).
	allowed map[string]allowedSettings

	accountOnce sync.Once
	account     string
}

// Run watermarks targets as req says, with clients for the EC2 calls and
// rep for progress. Nothing is changed unless every AMI was described,
// every plan is valid and every planned call passed EC2's DryRun check
// (preflight). The error says what was done per AMI.
func Run(ctx context.Context, targets []Target, req Request, clients Clients, rep Reporter) (*Result, error) {
	req.Timing = req.Timing.withDefaults()
	req.Names = req.Names.withDefaults()
	if req.Now == nil {
		req.Now = func() time.Time { return time.Now().UTC() }
	}
	if req.WaitTimeout <= 0 {
		req.WaitTimeout = DefaultWaitTimeout
	}
	if req.NotFoundGrace <= 0 {
		req.NotFoundGrace = DefaultNotFoundGrace
	}
	r := &run{req: req, ui: &ui{rep: rep, dry: req.DryRun}}
	return r.do(ctx, targets, clients)
}

func (r *run) do(ctx context.Context, targets []Target, clients Clients) (*Result, error) {
	if len(targets) == 0 {
		return nil, fmt.Errorf("amiwatermark: no AMI to watermark")
	}
	regions, err := groupRegions(targets, clients)
	if err != nil {
		return nil, err
	}
	r.announce(len(targets), len(regions))

	// 1. Describe every AMI, waiting until it is available.
	desc, err := r.describeAll(ctx, regions)
	if err != nil {
		return nil, err
	}

	// 2. Plan every AMI, evaluate the Allowed-AMIs criteria on the planned
	// result; refuse the whole run on any problem.
	if r.req.RequireAllowed {
		if r.allowed, err = r.fetchAllowed(ctx, regions); err != nil {
			return nil, err
		}
	}
	plans, err := r.planAll(targets, desc)
	if err != nil {
		return nil, err
	}
	// Check every planned call with DryRun: a denied detach or attach
	// refuses the run before the first change.
	if err := r.preflight(ctx, regions, plans); err != nil {
		return nil, err
	}

	// 3. Mutate, regions in parallel.
	outcomes := r.mutateAll(ctx, regions, plans)
	if err := r.mutationError(ctx, targets, outcomes); err != nil {
		return nil, err
	}

	// 4. Verify.
	keys, err := r.keysAfter(ctx, regions, targets, plans)
	if err != nil {
		return nil, err
	}

	// 5. Result.
	res := &Result{Keys: keys}
	for _, t := range targets {
		o := outcomes[t.ImageID]
		res.AMIs = append(res.AMIs, AMIResult{Target: t, Plan: o.plan, Attached: o.attached, Detached: o.detached, Keys: keys.Get(t)})
	}
	r.summary(res, len(regions))
	return res, nil
}
