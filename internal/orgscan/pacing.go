package orgscan

import (
	"context"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/smithy-go/middleware"
)

// Rate limiting. EC2 meters requests per account and per region, so each
// account-region has its own pacer: scopes of a throttled account-region
// slow down while every other scope keeps its pace. STS calls of an
// account have a pacer of their own (region "sts").
//
// A pacer spaces the attempts of one account-region at least 1/rate apart.
// It starts at PacerMaxRate; a throttling answer (RequestLimitExceeded and
// the SDK's other throttle codes) halves the rate, down to pacerMinRate,
// and every successful call adds pacerStep back (additive increase,
// multiplicative decrease). The SDK's retryer still retries the throttled
// call with its own backoff; the pacer makes the account-region's later
// calls wait too, instead of throttling again at full speed.
const (
	PacerMaxRate = 20.0 // requests per second: EC2's refill rate for describe calls
	pacerMinRate = 0.5
	pacerStep    = 0.5
)

// pacer is the AIMD rate of one account-region.
type pacer struct {
	mu   sync.Mutex
	rate float64
	next time.Time // earliest start of the next attempt
	now  func() time.Time
}

func newPacer(now func() time.Time) *pacer {
	return &pacer{rate: PacerMaxRate, now: now}
}

// reserve returns how long the caller must wait before its attempt, and
// books the slot.
func (p *pacer) reserve() time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.now()
	start := p.next
	if start.Before(now) {
		start = now
	}
	p.next = start.Add(time.Duration(float64(time.Second) / p.rate))
	return start.Sub(now)
}

// wait blocks until the caller may send an attempt, or ctx ends.
func (p *pacer) wait(ctx context.Context) error {
	d := p.reserve()
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// observe adapts the rate to the outcome of an attempt.
func (p *pacer) observe(throttled bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if throttled {
		p.rate = max(p.rate/2, pacerMinRate)
		// Leave the account-region one interval of quiet.
		if n := p.now().Add(time.Duration(float64(time.Second) / p.rate)); n.After(p.next) {
			p.next = n
		}
		return
	}
	p.rate = min(p.rate+pacerStep, PacerMaxRate)
}

func (p *pacer) currentRate() float64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.rate
}

// limiters holds one pacer per account and region.
type limiters struct {
	mu     sync.Mutex
	pacers map[[2]string]*pacer
	now    func() time.Time
}

func newLimiters() *limiters {
	return &limiters{pacers: map[[2]string]*pacer{}, now: time.Now}
}

func (l *limiters) get(account, region string) *pacer {
	l.mu.Lock()
	defer l.mu.Unlock()
	k := [2]string{account, region}
	p := l.pacers[k]
	if p == nil {
		p = newPacer(l.now)
		l.pacers[k] = p
	}
	return p
}

// Rate is the current request rate of account in region (tests,
// diagnostics).
func (e *Env) Rate(account, region string) float64 {
	return e.limiters.get(account, region).currentRate()
}

var throttleCheck = retry.IsErrorThrottles(retry.DefaultThrottles)

// middleware returns an SDK API option that paces every attempt (retries
// included: it sits after the retry middleware) of a client acting in
// account and region.
func (l *limiters) middleware(account, region string) func(*middleware.Stack) error {
	p := l.get(account, region)
	mw := middleware.FinalizeMiddlewareFunc("amiwatermarkPacer", func(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
		if err := p.wait(ctx); err != nil {
			return middleware.FinalizeOutput{}, middleware.Metadata{}, err
		}
		out, md, err := next.HandleFinalize(ctx, in)
		p.observe(err != nil && throttleCheck.IsErrorThrottle(err).Bool())
		return out, md, err
	})
	return func(s *middleware.Stack) error {
		if _, ok := s.Finalize.Get("Retry"); ok {
			return s.Finalize.Insert(mw, "Retry", middleware.After)
		}
		return s.Finalize.Add(mw, middleware.After)
	}
}
