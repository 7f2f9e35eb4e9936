package ec2emu

// The throttle model (/_emu/config {"throttle":"ec2"}, ec2emu --throttle
// ec2): EC2's request token buckets, one per account, region and action
// class, with the sizes and refill rates AWS documents for its EC2 API
// ("Request throttling for the Amazon EC2 API"). A request takes one token
// from its bucket; a request that finds the bucket empty is answered 503
// RequestLimitExceeded and takes nothing. Buckets refill continuously on
// the emulator's base clock (Options.Now; /_emu/clock does not refill them).
//
// AWS keeps a bucket per API action, each sized by the action's class; the
// emulator shares one bucket per class, so a client that mixes actions of a
// class is throttled sooner than by EC2, never later.

import (
	"net/http"
	"strings"
	"sync"
	"time"
)

// Throttle settings of Options.Throttle and RuntimeConfig.Throttle.
const (
	ThrottleOff = "off"
	ThrottleEC2 = "ec2"
)

// bucketSpec is the size and refill rate (tokens a second) of a class.
type bucketSpec struct{ size, refill float64 }

// AWS's numbers: non-mutating actions (Describe*, Get*, List*, Search*)
// 100 tokens, 20 a second; mutating actions (every other action: Create*,
// Modify*, Delete*, Attach*, Register*, ...) 50 tokens, 5 a second.
var (
	nonMutatingBucket = bucketSpec{size: 100, refill: 20}
	mutatingBucket    = bucketSpec{size: 50, refill: 5}
)

// mutatingAction reports whether action is in EC2's mutating class.
func mutatingAction(action string) bool {
	for _, p := range []string{"Describe", "Get", "List", "Search"} {
		if strings.HasPrefix(action, p) {
			return false
		}
	}
	return true
}

type bucketKey struct {
	account, region string
	mutating        bool
}

type bucket struct {
	tokens float64
	at     time.Time
}

// buckets holds the token buckets; it has its own lock because serveAPI
// calls throttle without s.mu held.
type buckets struct {
	mu sync.Mutex
	m  map[bucketKey]*bucket
}

// take takes a token from key's bucket at now; false when it is empty.
func (b *buckets) take(key bucketKey, now time.Time) bool {
	spec := nonMutatingBucket
	if key.mutating {
		spec = mutatingBucket
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	bk := b.m[key]
	if bk == nil {
		if b.m == nil {
			b.m = map[bucketKey]*bucket{}
		}
		bk = &bucket{tokens: spec.size, at: now}
		b.m[key] = bk
	}
	if elapsed := now.Sub(bk.at); elapsed > 0 {
		bk.tokens = min(spec.size, bk.tokens+elapsed.Seconds()*spec.refill)
		bk.at = now
	}
	if bk.tokens < 1 {
		return false
	}
	bk.tokens--
	return true
}

// clear empties the map: every bucket starts full again.
func (b *buckets) clear() {
	b.mu.Lock()
	b.m = nil
	b.mu.Unlock()
}

// throttle applies the throttle model to one EC2 request of account in
// region; a non-nil result is the answer to give instead of performing it.
func (s *Server) throttle(action, account, region string) *apiError {
	s.mu.RLock()
	on, now := s.opts.Throttle == ThrottleEC2, s.opts.Now()
	s.mu.RUnlock()
	if !on {
		return nil
	}
	if s.buckets.take(bucketKey{account, region, mutatingAction(action)}, now) {
		return nil
	}
	s.stats.throttled()
	return &apiError{Status: http.StatusServiceUnavailable, Code: "RequestLimitExceeded", Message: "Request limit exceeded."}
}
