package orgscan

import (
	"context"
	"fmt"
	"slices"
	"sync"

	"github.com/amiwatermark/packer-plugin-amiwatermark/internal/awsconfig"
)

// Run runs cmd in every scope of the accounts, at most Concurrency at once,
// and hands every result (also of scopes that failed, were interrupted or
// never started) to done, one at a time, as the scopes finish. It returns
// when every scope is handed over.
func (e *Env) Run(ctx context.Context, accounts []string, cmd *Command, prog *Progress, done func(*Result)) {
	ctx, cancel := context.WithCancel(ctx) // ends the region reads no scope waits for
	defer cancel()
	results := make(chan *Result, e.plan.Concurrency)
	slots := make(chan struct{}, e.plan.Concurrency)
	r := &runner{env: e, cmd: cmd, prog: prog, slots: slots, results: results, regions: newRegionValues(slots, cmd.Region)}
	go r.produce(ctx, accounts)
	for res := range results {
		done(res)
	}
}

type runner struct {
	env     *Env
	cmd     *Command
	prog    *Progress
	slots   chan struct{}
	results chan *Result
	regions *regionValues
	wg      sync.WaitGroup
}

// acquire takes a place in ch, false if ctx ends first.
func acquire(ctx context.Context, ch chan struct{}) bool {
	select {
	case ch <- struct{}{}:
		return true
	case <-ctx.Done():
		return false
	}
}

// produce starts the scopes in order, accounts as listed and their regions,
// each in a slot, and closes results at the end.
func (r *runner) produce(ctx context.Context, accounts []string) {
	defer func() {
		r.wg.Wait()
		close(r.results)
	}()
	lists := r.prepare(ctx, accounts)
	for i, a := range accounts {
		l := <-lists[i]
		<-l.ahead
		switch {
		case l.err != nil && ctx.Err() != nil:
			for _, region := range r.unstarted(ctx, a) {
				r.prog.Total.Add(1)
				r.results <- &Result{Account: a, Region: region, Status: StatusNotStarted}
			}
		case l.err != nil:
			r.failed(a, "all", l.err)
		default:
			r.start(ctx, a, l.regions)
		}
	}
	r.prog.Final.Store(true)
	r.regions.final()
}

// start starts the account's scopes, each in a slot; those it cannot
// start before ctx ends are not started.
func (r *runner) start(ctx context.Context, a string, regions []string) {
	for _, region := range r.missing(regions) {
		r.failed(a, region, r.cmd.Unlisted(a, region))
	}
	for _, region := range regions {
		if r.cmd.WantRegion != nil && !r.cmd.WantRegion(region) {
			continue
		}
		r.prog.Total.Add(1)
		if ctx.Err() != nil || !acquire(ctx, r.slots) {
			r.results <- &Result{Account: a, Region: region, Status: StatusNotStarted}
			continue
		}
		r.regions.started(region)
		r.wg.Add(1)
		go r.scope(ctx, a, region)
	}
}

// failed reports a failed account-region that never started: a failed
// preparation (AssumeRole, DescribeRegions: region "all"), or a region
// the command needs that the account has not enabled.
func (r *runner) failed(account, region string, err error) {
	r.prog.Total.Add(1)
	r.prog.Failed.Add(1)
	r.prog.Done.Add(1)
	r.results <- &Result{Account: account, Region: region, Status: StatusFailed, Error: err.Error(), Err: err}
}

// missing are the regions of Command.Needs that regions lacks.
func (r *runner) missing(regions []string) []string {
	var out []string
	for _, n := range r.cmd.Needs {
		if !slices.Contains(regions, n) && !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	return out
}

// unstarted are the account-regions of an account the run never
// prepared: the regions the command would run in, or "all" when they
// would have come from DescribeRegions.
func (r *runner) unstarted(ctx context.Context, account string) []string {
	if r.env.plan.AllRegions {
		return []string{"all"}
	}
	rs, err := r.env.Regions(ctx, account) // no AWS call without AllRegions
	if err != nil {
		return []string{"all"}
	}
	var out []string
	for _, region := range rs {
		if r.cmd.WantRegion == nil || r.cmd.WantRegion(region) {
			out = append(out, region)
		}
	}
	return out
}

type regionList struct {
	regions []string
	err     error
	ahead   chan struct{} // receive once the next preparation may start
}

// prepare lists each account's regions and assumes its role, a few
// accounts ahead of the scopes (prepareAhead), each in one of the slots:
// a preparation far ahead would hold a slot that a scope could use.
func (r *runner) prepare(ctx context.Context, accounts []string) []chan regionList {
	lists := make([]chan regionList, len(accounts))
	for i := range accounts {
		lists[i] = make(chan regionList, 1)
	}
	ahead := make(chan struct{}, prepareAhead(r.env.plan))
	go func() {
		for i, a := range accounts {
			if !acquire(ctx, ahead) || !acquire(ctx, r.slots) {
				for _, l := range lists[i:] {
					l <- regionList{err: ctx.Err(), ahead: closed}
				}
				return
			}
			go func() {
				defer func() { <-r.slots }()
				rs, err := r.env.Regions(ctx, a)
				if err == nil {
					_, _ = r.env.Config(ctx, a) // kept (or its refusal) for the scopes
				}
				lists[i] <- regionList{rs, err, ahead}
			}()
		}
	}()
	return lists
}

// closed is a channel that is always ready (closed).
var closed = func() chan struct{} {
	c := make(chan struct{})
	close(c)
	return c
}()

// prepareAhead is how many accounts are prepared ahead of the scopes being
// started: enough for the slots of about one round of scopes (concurrency
// / regions per account), at least 2.
func prepareAhead(p *Plan) int {
	perAccount := len(p.Regions)
	if p.AllRegions || perAccount == 0 {
		perAccount = 8 // unknown before DescribeRegions: EC2 has 17 by default
	}
	return max(2, (p.Concurrency+perAccount-1)/perAccount)
}

// scope runs one scope in its slot and sends its result.
func (r *runner) scope(ctx context.Context, account, region string) {
	defer r.wg.Done()
	res := &Result{Account: account, Region: region}
	sc, work, err := r.work(ctx, account, region)
	<-r.slots // free before the result is handed over
	if err == nil && r.cmd.Finish != nil {
		work, err = r.finish(ctx, sc, work)
	}
	r.regions.finished(region)
	if err != nil {
		r.fail(ctx, res, err)
	} else {
		res.Status, res.Value = StatusOK, work
	}
	if res.Status != StatusInterrupted { // done: ok or failed
		r.prog.Done.Add(1)
	}
	r.results <- res
}

// work makes the scope's client and runs the command's work; it starts the
// region's shared work (Command.Region) with this scope's client if it is
// the region's first.
func (r *runner) work(ctx context.Context, account, region string) (*Scope, any, error) {
	cfg, err := r.env.Config(ctx, account)
	if err != nil {
		return nil, nil, err
	}
	c, err := r.env.EC2(cfg, account, region)
	if err != nil {
		return nil, nil, err
	}
	sc := &Scope{Account: account, Region: region, Config: cfg, EC2: c, Progress: r.prog}
	if r.cmd.Region != nil {
		r.regions.first(ctx, sc)
	}
	v, err := r.cmd.Work(ctx, sc)
	return sc, v, err
}

// finish waits for the region's value and finishes the scope with it.
func (r *runner) finish(ctx context.Context, sc *Scope, work any) (any, error) {
	rv, err := r.regions.wait(ctx, sc)
	if err != nil {
		return nil, err
	}
	return r.cmd.Finish(ctx, sc, rv, work)
}

// fail sets a failed (or, on cancellation, interrupted) result.
func (r *runner) fail(ctx context.Context, res *Result, err error) {
	if ctx.Err() != nil {
		res.Status = StatusInterrupted
		return
	}
	res.Status, res.Error, res.Err = StatusFailed, err.Error(), err
	if awsconfig.ErrorCode(err) == "AuthFailure" {
		res.Error += fmt.Sprintf(" (AWS answers AuthFailure in a region the account has not enabled: if %s is an opt-in region, enable it for account %s or leave it out of --regions; --regions all uses the enabled ones)", res.Region, res.Account)
	}
	r.prog.Failed.Add(1)
}
