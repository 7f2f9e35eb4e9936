package ec2emu

// Request and fault counters (GET /_emu/stats), the state generation
// counter the ec2emu program's write-behind uses, and the hook the EC2 API
// calls on every request (recordCall).

import (
	"strings"
	"sync"
	"sync/atomic"
)

// Fault kinds counted in Stats.Faults.
const (
	faultLatency  = "latency"  // calls delayed by the injected latency
	faultThrottle = "throttle" // 503 RequestLimitExceeded
	faultError    = "error"    // 500 InternalError / 503 Unavailable
	faultFail     = "fail"     // hard failures (fail_rate)
)

// Stats counts the EC2 API requests the emulator received since the last
// reset, including the ones answered with an injected fault.
type Stats struct {
	// Total is the number of API requests.
	Total int64 `json:"total"`
	// Actions counts requests per action.
	Actions map[string]int64 `json:"actions"`
	// Regions counts requests per region, then per action.
	Regions map[string]map[string]int64 `json:"regions"`
	// DryRun counts the requests per action sent with DryRun=true (they
	// are also in Actions and Regions): Actions minus DryRun are the calls
	// that could change something. Absent from the JSON when empty.
	DryRun map[string]int64 `json:"dry_run,omitempty"`
	// Faults counts injected faults per kind: "throttle", "error", "fail"
	// and "latency" (requests delayed). All four keys are always present.
	Faults map[string]int64 `json:"faults"`
	// Throttled counts the requests the throttle model (/_emu/config
	// "throttle":"ec2") answered RequestLimitExceeded (absent when 0).
	Throttled int64 `json:"throttled,omitempty"`
}

// stats is the live counter set. It has its own mutex because recordCall is
// called without s.mu held.
type stats struct {
	mu      sync.Mutex
	total   int64
	actions map[string]int64
	regions map[string]map[string]int64
	faults  map[string]int64
	dryRun  map[string]int64
	// throttledN counts the throttle model's RequestLimitExceeded answers.
	throttledN int64

	// generation counts changes of the State (see Server.Generation). It
	// lives here because stats is the one per-Server record this file owns
	// that is never replaced; resetting the counters leaves it alone.
	generation atomic.Uint64
	// sessionChanges counts the changes that touched only STS sessions
	// (AssumeRole): generation minus it moves only when something else,
	// images included, may have changed (see regionView).
	sessionChanges atomic.Uint64
}

func newStats() *stats {
	return &stats{
		actions: map[string]int64{},
		regions: map[string]map[string]int64{},
		faults:  map[string]int64{},
		dryRun:  map[string]int64{},
	}
}

func (st *stats) record(action, region string) {
	st.mu.Lock()
	st.total++
	st.actions[action]++
	r := st.regions[region]
	if r == nil {
		r = map[string]int64{}
		st.regions[region] = r
	}
	r[action]++
	st.mu.Unlock()
}

func (st *stats) fault(kind string) {
	st.mu.Lock()
	st.faults[kind]++
	st.mu.Unlock()
}

func (st *stats) throttled() {
	st.mu.Lock()
	st.throttledN++
	st.mu.Unlock()
}

func (st *stats) snapshot() Stats {
	st.mu.Lock()
	defer st.mu.Unlock()
	out := Stats{
		Total:     st.total,
		Throttled: st.throttledN,
		Actions:   make(map[string]int64, len(st.actions)),
		Regions:   make(map[string]map[string]int64, len(st.regions)),
		DryRun:    make(map[string]int64, len(st.dryRun)),
		Faults: map[string]int64{
			faultLatency: 0, faultThrottle: 0, faultError: 0, faultFail: 0,
		},
	}
	for k, v := range st.actions {
		out.Actions[k] = v
	}
	for r, m := range st.regions {
		c := make(map[string]int64, len(m))
		for k, v := range m {
			c[k] = v
		}
		out.Regions[r] = c
	}
	for k, v := range st.faults {
		out.Faults[k] = v
	}
	for k, v := range st.dryRun {
		out.DryRun[k] = v
	}
	return out
}

// recordDryRun counts one request sent with DryRun=true (already counted
// by record).
func (st *stats) recordDryRun(action string) {
	st.mu.Lock()
	st.dryRun[action]++
	st.mu.Unlock()
}

func (st *stats) reset() { st.swap() }

// swap clears the counters and returns them as they were, in one step.
func (st *stats) swap() Stats {
	st.mu.Lock()
	defer st.mu.Unlock()
	out := Stats{Total: st.total, Actions: st.actions, Regions: st.regions, Throttled: st.throttledN, DryRun: st.dryRun,
		Faults: map[string]int64{faultLatency: 0, faultThrottle: 0, faultError: 0, faultFail: 0}}
	for k, v := range st.faults {
		out.Faults[k] = v
	}
	st.total, st.throttledN = 0, 0
	st.actions = map[string]int64{}
	st.regions = map[string]map[string]int64{}
	st.faults = map[string]int64{}
	st.dryRun = map[string]int64{}
	return out
}

// recordCall counts one API request. serveAPI calls it for every request,
// before fault injection, without s.mu held.
func (s *Server) recordCall(action, region string) {
	s.stats.record(action, region)
}

// Stats returns a copy of the request counters.
func (s *Server) Stats() Stats { return s.stats.snapshot() }

// Generation is a counter of changes to the emulator's State (what SaveState
// writes). It grows after every API request that may have changed the
// state, once the change is made, and after seeding, clock moves, resets and
// loads. Two equal values mean nothing was changed in between, so a program
// that persists the state (cmd/ec2emu's write-behind) saves only when it has
// grown; read it before SaveState to know what the saved file contains.
//
// "May have changed" is conservative: every action other than Describe* and
// Get* counts (also when it fails: a save too many is harmless), and
// DescribeImages counts when an image it can see is still pending or still
// answers InvalidAMIID.NotFound, because describing such an image moves it
// along (docs/ec2-semantics.md, "Images and watermarks"; Options.PendingDescribes).
func (s *Server) Generation() uint64 { return s.stats.generation.Load() }

// changed records a change of the State (see Generation).
func (s *Server) changed() { s.stats.generation.Add(1) }

// changedSessions records a change of the STS sessions alone.
func (s *Server) changedSessions() {
	s.stats.sessionChanges.Add(1)
	s.stats.generation.Add(1)
}

// imagesGeneration grows with every change but those of STS sessions
// alone. Callers hold s.mu (sessions change under it too).
func (s *Server) imagesGeneration() uint64 {
	return s.stats.generation.Load() - s.stats.sessionChanges.Load()
}

// readOnlyAction reports whether action never changes the State by itself.
func readOnlyAction(action string) bool {
	return strings.HasPrefix(action, "Describe") || strings.HasPrefix(action, "Get")
}

// volatile reports whether describing img may change it: it is pending or
// still has NotFound answers to give.
func volatile(img *Image) bool { return img.State == "pending" || img.NotFoundDescribes > 0 }

// describeMayChange reports whether a DescribeImages request may change the
// State: an image it names by id (ImageId.N), or any image of its region
// when it names none, is pending or still has NotFound answers to give.
// Callers hold s.mu.
func (s *Server) describeMayChange(rq *request) bool {
	named := false
	for k, vs := range rq.form {
		if !strings.HasPrefix(k, "ImageId.") {
			continue
		}
		named = true
		for _, id := range vs {
			if img := s.st.Images[id]; img != nil && volatile(img) {
				return true
			}
		}
	}
	if named {
		return false
	}
	s.regionImages(rq.region) // brings the index in sync
	return s.regionView(rq.region).volatile
}

// countChanges wraps an API handler so that Generation grows after each
// request that may have changed the State; register applies it to every
// action, so the order in which files register their handlers does not
// matter. Handlers run with s.mu held, so the counter grows before the lock
// is released and before the answer is written: whoever sees the answer
// also sees the new Generation.
func countChanges(action string, h handler) handler {
	switch {
	case action == "DescribeImages":
		return func(s *Server, rq *request, x *xmlOut) *apiError {
			may := s.describeMayChange(rq)
			aerr := h(s, rq, x)
			if may {
				s.changed()
			}
			return aerr
		}
	case readOnlyAction(action):
		return h
	default:
		return func(s *Server, rq *request, x *xmlOut) *apiError {
			aerr := h(s, rq, x)
			s.changed()
			return aerr
		}
	}
}

// ResetStats clears the request and fault counters (nothing else).
func (s *Server) ResetStats() { s.stats.reset() }
