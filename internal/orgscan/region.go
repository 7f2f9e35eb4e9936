package orgscan

import (
	"context"
	"fmt"
	"sync"
)

// regionValues holds the value of Command.Region per region: made once,
// by the region's first scope in its slot (before its own work), with its
// credentials,
// and dropped once every scope of the region has finished and no more will
// start. When it fails, a scope of another account whose own work
// succeeded tries again with its credentials (at most regionTries in all),
// so that one account that cannot read the region (not enabled there,
// refused) does not fail the others.
type regionValues struct {
	mu      sync.Mutex
	m       map[string]*regionValue
	isFinal bool
	slots   chan struct{}
	fn      func(context.Context, *Scope) (any, error)
}

// regionTries bounds the attempts at a region's value.
const regionTries = 3

type regionValue struct {
	ready   chan struct{}
	v       any
	err     error
	account string // whose credentials the attempt uses
	tries   int
	begun   bool
	pending int // scopes started and not finished
}

func newRegionValues(slots chan struct{}, fn func(context.Context, *Scope) (any, error)) *regionValues {
	return &regionValues{m: map[string]*regionValue{}, slots: slots, fn: fn}
}

// get returns the region's entry, made if missing. Call with mu held.
func (rv *regionValues) get(region string) *regionValue {
	v := rv.m[region]
	if v == nil {
		v = &regionValue{ready: make(chan struct{})}
		rv.m[region] = v
	}
	return v
}

// started counts a scope of region that starts.
func (rv *regionValues) started(region string) {
	rv.mu.Lock()
	defer rv.mu.Unlock()
	rv.get(region).pending++
}

// first makes the region's value with sc's credentials, in the caller's
// slot, if sc is the region's first scope.
func (rv *regionValues) first(ctx context.Context, sc *Scope) {
	rv.mu.Lock()
	v := rv.get(sc.Region)
	begin := !v.begun
	v.begun = true
	rv.mu.Unlock()
	if begin {
		rv.make(ctx, sc, v, false)
	}
}

// make makes v with sc's credentials; in a slot of its own with
// needSlot.
func (rv *regionValues) make(ctx context.Context, sc *Scope, v *regionValue, needSlot bool) {
	v.account = sc.Account
	v.tries++
	defer close(v.ready)
	if needSlot {
		if !acquire(ctx, rv.slots) {
			v.err = ctx.Err()
			return
		}
		defer func() { <-rv.slots }()
	}
	v.v, v.err = rv.fn(ctx, sc)
	if v.err != nil && ctx.Err() == nil {
		v.err = fmt.Errorf("%w (the region's shared read, with the credentials of account %s)", v.err, sc.Account)
	}
}

// wait returns the region's value once it is ready; after a failure with
// another account's credentials it tries again with sc's.
func (rv *regionValues) wait(ctx context.Context, sc *Scope) (any, error) {
	for {
		rv.mu.Lock()
		v := rv.get(sc.Region)
		rv.mu.Unlock()
		select {
		case <-v.ready:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		if v.err == nil || ctx.Err() != nil || v.tries >= regionTries || v.account == sc.Account {
			return v.v, v.err
		}
		rv.retry(ctx, sc, v)
	}
}

// retry replaces the failed v with an attempt with sc's credentials,
// unless another scope did so already.
func (rv *regionValues) retry(ctx context.Context, sc *Scope, v *regionValue) {
	rv.mu.Lock()
	if rv.m[sc.Region] != v {
		rv.mu.Unlock()
		return
	}
	nv := &regionValue{ready: make(chan struct{}), tries: v.tries, begun: true, pending: v.pending}
	rv.m[sc.Region] = nv
	rv.mu.Unlock()
	rv.make(ctx, sc, nv, true)
}

// finished counts a scope of region that finished; the value is dropped
// when it was the last.
func (rv *regionValues) finished(region string) {
	rv.mu.Lock()
	defer rv.mu.Unlock()
	v := rv.get(region)
	v.pending--
	if rv.isFinal && v.pending == 0 {
		delete(rv.m, region)
	}
}

// final says that no more scope will start: regions without running
// scopes are dropped.
func (rv *regionValues) final() {
	rv.mu.Lock()
	defer rv.mu.Unlock()
	rv.isFinal = true
	for k, v := range rv.m {
		if v.pending == 0 {
			delete(rv.m, k)
		}
	}
}
