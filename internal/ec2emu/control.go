package ec2emu

// The control half of the emulator: the JSON endpoints under /_emu/ (health,
// stats, reset, clock, faults, run-time config, bulk seeding) and the two
// hooks the EC2 API calls on every request (recordCall, injectFault).
//
// Endpoints (all answer JSON; errors are 4xx with {"error": "..."}):
//
//	GET  /_emu/health        {"status":"ok","now":"<RFC3339>","images":N}
//	GET  /_emu/stats         Stats: {"total":N,"actions":{..},"regions":{"r":{..}},"faults":{..}}
//	POST /_emu/stats/reset   clears the counters; answers the counters as they were
//	POST /_emu/reset         clears everything: images, instances, Allowed-AMIs
//	                         settings, stats, faults, clock offset, and /_emu/config
//	                         changes (back to the Options given to New)
//	GET  /_emu/clock         {"now":"<RFC3339>","offset":"240h0m0s"}
//	POST /_emu/clock         {"advance":"240h"} -> same shape as GET
//	GET  /_emu/faults        the current Faults
//	POST /_emu/faults        Faults (empty body or {} clears) -> the Faults now in force
//	DELETE /_emu/faults      clears faults
//	GET  /_emu/config        RuntimeConfig
//	POST /_emu/config        partial RuntimeConfig (absent fields unchanged) -> RuntimeConfig
//	POST /_emu/images        [SeedImage, ...] -> {"image_ids":["ami-...", ...]}
//
// POST /_emu/save is served by the ec2emu program (it knows the --state file),
// not by this handler.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"
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
	// Faults counts injected faults per kind: "throttle", "error", "fail"
	// and "latency" (requests delayed). All four keys are always present.
	Faults map[string]int64 `json:"faults"`
}

// stats is the live counter set. It has its own mutex because recordCall is
// called without s.mu held.
type stats struct {
	mu      sync.Mutex
	total   int64
	actions map[string]int64
	regions map[string]map[string]int64
	faults  map[string]int64

	// generation counts changes of the State (see Server.Generation). It
	// lives here because stats is the one per-Server record this file owns
	// that is never replaced; resetting the counters leaves it alone.
	generation atomic.Uint64
}

func newStats() *stats {
	return &stats{
		actions: map[string]int64{},
		regions: map[string]map[string]int64{},
		faults:  map[string]int64{},
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

func (st *stats) snapshot() Stats {
	st.mu.Lock()
	defer st.mu.Unlock()
	out := Stats{
		Total:   st.total,
		Actions: make(map[string]int64, len(st.actions)),
		Regions: make(map[string]map[string]int64, len(st.regions)),
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
	return out
}

func (st *stats) reset() { st.swap() }

// swap clears the counters and returns them as they were, in one step.
func (st *stats) swap() Stats {
	st.mu.Lock()
	defer st.mu.Unlock()
	out := Stats{Total: st.total, Actions: st.actions, Regions: st.regions,
		Faults: map[string]int64{faultLatency: 0, faultThrottle: 0, faultError: 0, faultFail: 0}}
	for k, v := range st.faults {
		out.Faults[k] = v
	}
	st.total = 0
	st.actions = map[string]int64{}
	st.regions = map[string]map[string]int64{}
	st.faults = map[string]int64{}
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
// along (ec2-semantics.md §3.3, Options.PendingDescribes).
func (s *Server) Generation() uint64 { return s.stats.generation.Load() }

// changed records a change of the State (see Generation).
func (s *Server) changed() { s.stats.generation.Add(1) }

// readOnlyAction reports whether action never changes the State by itself.
func readOnlyAction(action string) bool {
	return strings.HasPrefix(action, "Describe") || strings.HasPrefix(action, "Get")
}

// describeMayChange reports whether a DescribeImages request may change the
// State: an image it names by id (ImageId.N), or any image of its region
// when it names none, is pending or still has NotFound answers to give.
// Callers hold s.mu.
func (s *Server) describeMayChange(rq *request) bool {
	volatile := func(img *Image) bool {
		return img != nil && (img.State == "pending" || img.NotFoundDescribes > 0)
	}
	named := false
	for k, vs := range rq.form {
		if !strings.HasPrefix(k, "ImageId.") {
			continue
		}
		named = true
		for _, id := range vs {
			if volatile(s.st.Images[id]) {
				return true
			}
		}
	}
	if named {
		return false
	}
	for _, img := range s.regionImages(rq.region) {
		if volatile(img) {
			return true
		}
	}
	return false
}

// init wraps the API handlers so that Generation grows after each request
// that may have changed the State. The api_*.go files register their
// handlers from their own init functions, which run before this one (the
// go command hands a package's files to the compiler in file name order,
// and init functions run in that order). Handlers run with s.mu held, so
// the counter grows before the lock is released and before the answer is
// written: whoever sees the answer also sees the new Generation.
func init() {
	for action, h := range handlers {
		switch {
		case action == "DescribeImages":
			handlers[action] = func(s *Server, rq *request, x *xmlOut) *apiError {
				may := s.describeMayChange(rq)
				aerr := h(s, rq, x)
				if may {
					s.changed()
				}
				return aerr
			}
		case readOnlyAction(action):
		default:
			handlers[action] = func(s *Server, rq *request, x *xmlOut) *apiError {
				aerr := h(s, rq, x)
				s.changed()
				return aerr
			}
		}
	}
}

// ResetStats clears the request and fault counters (nothing else).
func (s *Server) ResetStats() { s.stats.reset() }

// Faults is the fault-injection setting (the JSON body of POST /_emu/faults).
// The zero value injects nothing.
//
// For each API request whose action is in Actions and whose region is in
// Regions (an empty list matches all), once After matching requests have
// passed untouched, the emulator:
//  1. sleeps Latency (returning early, with an error, if the client goes away);
//  2. with probability FailRate answers the hard failure FailCode
//     (default InternalError; status FailStatus, default 500 for
//     InternalError, 503 for Unavailable/RequestLimitExceeded/ServiceUnavailable,
//     400 otherwise; message FailMessage or a default);
//  3. else with probability ThrottleRate answers 503 RequestLimitExceeded
//     "Request limit exceeded.";
//  4. else with probability ErrorRate answers 500 InternalError "An internal
//     error has occurred." or 503 Unavailable "The service is unavailable.
//     Please try again shortly." (chosen at random).
//
// The random choices come from one generator per region, seeded with Seed
// and the region name, drawn in the order that region's requests arrive. So
// the outcomes in a region depend only on the sequence of requests in that
// region: a run is reproducible even when regions are called in parallel,
// as long as each region's calls are sequential. Setting faults restarts the
// generators and the After counter (which counts across regions).
//
// FailRate/FailCode/After are the "hard failure" mode: {"fail_rate":1,
// "regions":["eu-west-1"],"actions":["AttachImageWatermark"],"after":2} lets
// two attaches in eu-west-1 through and fails every later one, retries
// included, which is how a test makes one region fail mid-run.
type Faults struct {
	// Latency is added to every matching request. JSON: a Go duration string
	// such as "50ms".
	Latency      time.Duration `json:"-"`
	ThrottleRate float64       `json:"throttle_rate,omitempty"`
	ErrorRate    float64       `json:"error_rate,omitempty"`
	FailRate     float64       `json:"fail_rate,omitempty"`
	FailCode     string        `json:"fail_code,omitempty"`
	FailStatus   int           `json:"fail_status,omitempty"`
	FailMessage  string        `json:"fail_message,omitempty"`
	// After: this many matching requests pass untouched before any fault
	// (latency included) applies.
	After   int      `json:"after,omitempty"`
	Seed    int64    `json:"seed,omitempty"`
	Actions []string `json:"actions,omitempty"`
	Regions []string `json:"regions,omitempty"`
}

type faultsJSON Faults

type faultsWire struct {
	Latency string `json:"latency,omitempty"`
	*faultsJSON
}

// MarshalJSON writes Latency as a duration string.
func (f Faults) MarshalJSON() ([]byte, error) {
	w := faultsWire{faultsJSON: (*faultsJSON)(&f)}
	if f.Latency != 0 {
		w.Latency = f.Latency.String()
	}
	return json.Marshal(w)
}

// UnmarshalJSON reads Latency as a duration string ("50ms").
func (f *Faults) UnmarshalJSON(b []byte) error {
	var v Faults
	w := faultsWire{faultsJSON: (*faultsJSON)(&v)}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&w); err != nil {
		return err
	}
	if w.Latency != "" {
		d, err := time.ParseDuration(w.Latency)
		if err != nil {
			return fmt.Errorf("latency %q is not a duration (use a Go duration such as \"50ms\" or \"1.5s\")", w.Latency)
		}
		v.Latency = d
	}
	*f = v
	return nil
}

// maxLatency bounds the injected latency so a typo cannot hang a test suite.
const maxLatency = 10 * time.Minute

// Validate checks rates, latency, counts and codes.
func (f Faults) Validate() error {
	for _, r := range []struct {
		name string
		v    float64
	}{{"throttle_rate", f.ThrottleRate}, {"error_rate", f.ErrorRate}, {"fail_rate", f.FailRate}} {
		if !(r.v >= 0 && r.v <= 1) {
			return fmt.Errorf("%s %v is out of range: give a probability from 0 to 1", r.name, r.v)
		}
	}
	if f.Latency < 0 || f.Latency > maxLatency {
		return fmt.Errorf("latency %s is out of range: give 0 to %s", f.Latency, maxLatency)
	}
	if f.After < 0 {
		return fmt.Errorf("after %d is negative: give the number of matching calls to let through before faults start", f.After)
	}
	if f.FailStatus != 0 && (f.FailStatus < 400 || f.FailStatus > 599) {
		return fmt.Errorf("fail_status %d is not an HTTP error status: give 400-599", f.FailStatus)
	}
	if f.FailCode != "" && strings.ContainsAny(f.FailCode, "<>& \t\r\n") {
		return fmt.Errorf("fail_code %q is not an error code: use a code such as InternalError", f.FailCode)
	}
	for i, a := range f.Actions {
		if a == "" {
			return fmt.Errorf("actions[%d] is empty: give an EC2 action name such as AttachImageWatermark", i)
		}
	}
	for i, r := range f.Regions {
		if r == "" {
			return fmt.Errorf("regions[%d] is empty: give a region such as eu-west-1", i)
		}
	}
	return nil
}

func (f Faults) active() bool {
	return f.Latency > 0 || f.ThrottleRate > 0 || f.ErrorRate > 0 || f.FailRate > 0
}

// faults is the live control setting of a Server, guarded by s.mu: the fault
// configuration with its generator and After counter, and the Options as
// given to New so that /_emu/reset can undo /_emu/config changes. A nil
// *faults means no faults were ever set and the config was never changed.
type faults struct {
	cfg     Faults
	actions map[string]bool
	regions map[string]bool
	seed    uint64
	rngs    map[string]*rand.Rand // per region, see Faults
	seen    int                   // matching calls so far

	base    Options // Options before the first /_emu/config change
	hasBase bool
}

func (f *faults) matches(action, region string) bool {
	if len(f.actions) > 0 && !f.actions[action] {
		return false
	}
	if len(f.regions) > 0 && !f.regions[region] {
		return false
	}
	return true
}

// rng returns the generator of region, seeded from the fault seed and the
// region name. Callers hold s.mu.
func (f *faults) rng(region string) *rand.Rand {
	r := f.rngs[region]
	if r == nil {
		h := fnv.New64a()
		h.Write([]byte(region))
		r = rand.New(rand.NewPCG(f.seed, h.Sum64()))
		f.rngs[region] = r
	}
	return r
}

// controlLocked returns s.faults, creating it. Callers hold s.mu.
func (s *Server) controlLocked() *faults {
	if s.faults == nil {
		s.faults = &faults{}
	}
	return s.faults
}

// SetFaults replaces the fault setting. The zero Faults clears it.
func (s *Server) SetFaults(f Faults) error {
	if err := f.Validate(); err != nil {
		return err
	}
	f.Actions = append([]string(nil), f.Actions...)
	f.Regions = append([]string(nil), f.Regions...)
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.controlLocked()
	c.cfg = f
	c.seen = 0
	c.actions, c.regions = nil, nil
	if len(f.Actions) > 0 {
		c.actions = make(map[string]bool, len(f.Actions))
		for _, a := range f.Actions {
			c.actions[a] = true
		}
	}
	if len(f.Regions) > 0 {
		c.regions = make(map[string]bool, len(f.Regions))
		for _, r := range f.Regions {
			c.regions[r] = true
		}
	}
	c.seed = uint64(f.Seed)
	c.rngs = map[string]*rand.Rand{}
	return nil
}

// CurrentFaults returns the fault setting in force.
func (s *Server) CurrentFaults() Faults {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.faults == nil {
		return Faults{}
	}
	f := s.faults.cfg
	f.Actions = append([]string(nil), f.Actions...)
	f.Regions = append([]string(nil), f.Regions...)
	return f
}

// injectFault applies the fault setting to one API request. serveAPI calls
// it after recordCall, without s.mu held; a non-nil result is the error to
// answer instead of performing the action. Random choices are drawn when the
// request arrives, before the latency, so the sequence of outcomes depends
// only on the order of arrival.
func (s *Server) injectFault(ctx context.Context, action, region string) *apiError {
	s.mu.Lock()
	f := s.faults
	if f == nil || !f.cfg.active() || !f.matches(action, region) {
		s.mu.Unlock()
		return nil
	}
	f.seen++
	if f.seen <= f.cfg.After {
		s.mu.Unlock()
		return nil
	}
	cfg := f.cfg
	rng := f.rng(region)
	kind, unavailable := "", false
	switch {
	case cfg.FailRate > 0 && rng.Float64() < cfg.FailRate:
		kind = faultFail
	case cfg.ThrottleRate > 0 && rng.Float64() < cfg.ThrottleRate:
		kind = faultThrottle
	case cfg.ErrorRate > 0 && rng.Float64() < cfg.ErrorRate:
		kind = faultError
		unavailable = rng.IntN(2) == 1
	}
	s.mu.Unlock()

	if cfg.Latency > 0 {
		s.stats.fault(faultLatency)
		t := time.NewTimer(cfg.Latency)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			// The client has gone; do not perform the action.
			return &apiError{Status: http.StatusServiceUnavailable, Code: "RequestTimeout",
				Message: "The request was cancelled by the client during the emulator's injected latency."}
		}
	}
	switch kind {
	case faultFail:
		s.stats.fault(faultFail)
		return hardFailure(cfg)
	case faultThrottle:
		s.stats.fault(faultThrottle)
		return &apiError{Status: http.StatusServiceUnavailable, Code: "RequestLimitExceeded", Message: "Request limit exceeded."}
	case faultError:
		s.stats.fault(faultError)
		if unavailable {
			return &apiError{Status: http.StatusServiceUnavailable, Code: "Unavailable", Message: "The service is unavailable. Please try again shortly."}
		}
		return &apiError{Status: http.StatusInternalServerError, Code: "InternalError", Message: "An internal error has occurred."}
	}
	return nil
}

func hardFailure(cfg Faults) *apiError {
	code := cfg.FailCode
	if code == "" {
		code = "InternalError"
	}
	status := cfg.FailStatus
	if status == 0 {
		switch code {
		case "InternalError", "InternalFailure":
			status = http.StatusInternalServerError
		case "Unavailable", "ServiceUnavailable", "RequestLimitExceeded":
			status = http.StatusServiceUnavailable
		default:
			status = http.StatusBadRequest
		}
	}
	msg := cfg.FailMessage
	if msg == "" {
		switch code {
		case "InternalError":
			msg = "An internal error has occurred."
		case "Unavailable", "ServiceUnavailable":
			msg = "The service is unavailable. Please try again shortly."
		case "RequestLimitExceeded":
			msg = "Request limit exceeded."
		default:
			msg = "Injected failure (" + code + ")."
		}
	}
	return &apiError{Status: status, Code: code, Message: msg}
}

// RuntimeConfig is the new-image behaviour that POST /_emu/config changes at
// run time (see Options).
type RuntimeConfig struct {
	AvailableAfter    time.Duration `json:"-"`
	PendingDescribes  int           `json:"pending_describes"`
	NotFoundDescribes int           `json:"not_found_describes"`
}

type runtimeConfigWire struct {
	AvailableAfter    *string `json:"available_after,omitempty"`
	PendingDescribes  *int    `json:"pending_describes,omitempty"`
	NotFoundDescribes *int    `json:"not_found_describes,omitempty"`
}

// MarshalJSON writes AvailableAfter as a duration string.
func (c RuntimeConfig) MarshalJSON() ([]byte, error) {
	a := c.AvailableAfter.String()
	return json.Marshal(runtimeConfigWire{&a, &c.PendingDescribes, &c.NotFoundDescribes})
}

// Validate refuses negative values.
func (c RuntimeConfig) Validate() error {
	switch {
	case c.AvailableAfter < 0:
		return fmt.Errorf("available_after %s is negative: give 0 or more", c.AvailableAfter)
	case c.PendingDescribes < 0:
		return fmt.Errorf("pending_describes %d is negative: give 0 or more", c.PendingDescribes)
	case c.NotFoundDescribes < 0:
		return fmt.Errorf("not_found_describes %d is negative: give 0 or more", c.NotFoundDescribes)
	}
	return nil
}

// Config returns the new-image behaviour in force.
func (s *Server) Config() RuntimeConfig {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.configLocked()
}

func (s *Server) configLocked() RuntimeConfig {
	return RuntimeConfig{
		AvailableAfter:    s.opts.AvailableAfter,
		PendingDescribes:  s.opts.PendingDescribes,
		NotFoundDescribes: s.opts.NotFoundDescribes,
	}
}

// SetConfig changes the new-image behaviour for images created from now on.
// POST /_emu/reset undoes it.
func (s *Server) SetConfig(c RuntimeConfig) error {
	if err := c.Validate(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.setConfigLocked(c)
	return nil
}

func (s *Server) setConfigLocked(c RuntimeConfig) {
	ctl := s.controlLocked()
	if !ctl.hasBase {
		ctl.base, ctl.hasBase = s.opts, true
	}
	s.opts.AvailableAfter = c.AvailableAfter
	s.opts.PendingDescribes = c.PendingDescribes
	s.opts.NotFoundDescribes = c.NotFoundDescribes
}

// ImageCount returns the number of images in the state (all regions and
// accounts, deregistered ones still remembered included).
func (s *Server) ImageCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.st.Images)
}

// Now returns the emulator's clock (the base clock plus the advanced offset).
func (s *Server) Now() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.now()
}

// AdvanceClock moves the emulator's clock forward by d. The clock never goes
// back: a negative d is ignored.
func (s *Server) AdvanceClock(d time.Duration) {
	if d <= 0 {
		return
	}
	s.mu.Lock()
	s.st.ClockOffset += d
	s.mu.Unlock()
	s.changed()
}

// Reset clears everything: images, instances, Allowed-AMIs settings, the
// clock offset, faults, stats, and run-time config changes.
func (s *Server) Reset() {
	s.mu.Lock()
	s.st = newState()
	if s.faults != nil && s.faults.hasBase {
		s.opts.AvailableAfter = s.faults.base.AvailableAfter
		s.opts.PendingDescribes = s.faults.base.PendingDescribes
		s.opts.NotFoundDescribes = s.faults.base.NotFoundDescribes
	}
	s.faults = nil
	s.mu.Unlock()
	s.stats.reset()
	s.changed()
}

// ---- HTTP ----

const (
	maxControlBody = 1 << 20 // 1 MiB for small control bodies
	maxSeedBody    = 1 << 30 // 1 GiB for bulk seeding
	timeFormatJSON = time.RFC3339Nano
)

type ctlError struct {
	status int
	msg    string
}

func (e *ctlError) Error() string { return e.msg }

func ctlBadRequest(format string, args ...any) error {
	return &ctlError{http.StatusBadRequest, fmt.Sprintf(format, args...)}
}

var controlEndpoints = []string{
	"GET /_emu/health", "GET /_emu/stats", "POST /_emu/stats/reset", "POST /_emu/reset",
	"GET|POST /_emu/clock", "GET|POST|DELETE /_emu/faults", "GET|POST /_emu/config", "POST /_emu/images",
}

// serveControl serves the JSON endpoints under /_emu/.
func (s *Server) serveControl(w http.ResponseWriter, r *http.Request) {
	path := strings.TrimSuffix(r.URL.Path, "/")
	var (
		out any
		err error
	)
	switch path {
	case "/_emu/health":
		if err = ctlAllow(r, http.MethodGet, http.MethodHead); err == nil {
			s.mu.Lock()
			out = map[string]any{"status": "ok", "now": s.now().Format(timeFormatJSON), "images": len(s.st.Images)}
			s.mu.Unlock()
		}
	case "/_emu/stats":
		if err = ctlAllow(r, http.MethodGet); err == nil {
			out = s.Stats()
		}
	case "/_emu/stats/reset":
		if err = ctlAllow(r, http.MethodPost); err == nil {
			out = s.stats.swap()
		}
	case "/_emu/reset":
		if err = ctlAllow(r, http.MethodPost); err == nil {
			s.Reset()
			out = map[string]string{"status": "ok"}
		}
	case "/_emu/clock":
		out, err = s.handleClock(w, r)
	case "/_emu/faults":
		out, err = s.handleFaults(w, r)
	case "/_emu/config":
		out, err = s.handleConfig(w, r)
	case "/_emu/images":
		out, err = s.handleImages(w, r)
	default:
		err = &ctlError{http.StatusNotFound, fmt.Sprintf("unknown control endpoint %s %s; the endpoints are: %s",
			r.Method, r.URL.Path, strings.Join(controlEndpoints, ", "))}
	}
	if err != nil {
		status := http.StatusBadRequest
		var ce *ctlError
		if errors.As(err, &ce) {
			status = ce.status
		}
		ctlWriteJSON(w, status, map[string]string{"error": err.Error()})
		return
	}
	ctlWriteJSON(w, http.StatusOK, out)
}

func ctlAllow(r *http.Request, methods ...string) error {
	for _, m := range methods {
		if r.Method == m {
			return nil
		}
	}
	return &ctlError{http.StatusMethodNotAllowed, fmt.Sprintf("%s does not accept %s; use %s", r.URL.Path, r.Method, strings.Join(methods, " or "))}
}

func ctlWriteJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		b, _ = json.Marshal(map[string]string{"error": "encoding the answer: " + err.Error()})
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}

// ctlReadBody reads a request body of at most max bytes; it returns nil for an
// empty (or whitespace-only) body.
func ctlReadBody(w http.ResponseWriter, r *http.Request, max int64) ([]byte, error) {
	rd := http.MaxBytesReader(w, r.Body, max)
	var b []byte
	var err error
	if n := r.ContentLength; n > 0 && n <= max {
		// Known size (bulk seeds): read into a buffer of that size at once.
		b = make([]byte, n)
		_, err = io.ReadFull(rd, b)
		if err == nil {
			// The body must end here; a longer body is a client error.
			var one [1]byte
			if k, _ := rd.Read(one[:]); k > 0 {
				err = errors.New("the body is longer than its Content-Length")
			}
		}
	} else {
		b, err = io.ReadAll(rd)
	}
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, &ctlError{http.StatusRequestEntityTooLarge, fmt.Sprintf("%s: the body is larger than %d bytes", r.URL.Path, max)}
		}
		return nil, ctlBadRequest("%s: reading the body: %v", r.URL.Path, err)
	}
	if len(bytes.TrimSpace(b)) == 0 {
		return nil, nil
	}
	return b, nil
}

// ctlStrictUnmarshal decodes one JSON value and refuses unknown fields, so a
// typo such as "throttle" instead of "throttle_rate" is an error, not a no-op.
func ctlStrictUnmarshal(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return ctlJSONError(err)
	}
	if dec.More() {
		return errors.New("invalid JSON: more than one value in the body")
	}
	return nil
}

// ctlJSONError rewords encoding/json errors so they say where the problem is.
func ctlJSONError(err error) error {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return fmt.Errorf("invalid JSON at byte %d: %v", se.Offset, se)
	case errors.As(err, &te):
		field := te.Field
		if field == "" {
			field = "the top-level value"
		}
		return fmt.Errorf("invalid JSON: %s must be %s, not a JSON %s (byte %d)", field, te.Type, te.Value, te.Offset)
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return errors.New("invalid JSON: the document ends too early (truncated?)")
	}
	// Errors of custom decoders (durations, watermark forms) and unknown
	// fields: the JSON itself is fine, say what is wrong with the value.
	return errors.New(strings.TrimPrefix(err.Error(), "json: "))
}

func (s *Server) clockAnswer() map[string]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return map[string]string{"now": s.now().Format(timeFormatJSON), "offset": s.st.ClockOffset.String()}
}

func (s *Server) handleClock(w http.ResponseWriter, r *http.Request) (any, error) {
	if err := ctlAllow(r, http.MethodGet, http.MethodPost); err != nil {
		return nil, err
	}
	if r.Method == http.MethodGet {
		return s.clockAnswer(), nil
	}
	b, err := ctlReadBody(w, r, maxControlBody)
	if err != nil {
		return nil, err
	}
	if b == nil {
		return nil, ctlBadRequest(`/_emu/clock: the body is empty; send {"advance":"240h"}`)
	}
	var req struct {
		Advance string `json:"advance"`
	}
	if err := ctlStrictUnmarshal(b, &req); err != nil {
		return nil, ctlBadRequest("/_emu/clock: %v", err)
	}
	d, err := time.ParseDuration(req.Advance)
	if err != nil {
		return nil, ctlBadRequest(`/_emu/clock: advance %q is not a duration; send for example {"advance":"240h"}`, req.Advance)
	}
	if d < 0 {
		return nil, ctlBadRequest("/_emu/clock: advance %s is negative; the emulator's clock only moves forward", req.Advance)
	}
	s.AdvanceClock(d)
	return s.clockAnswer(), nil
}

func (s *Server) handleFaults(w http.ResponseWriter, r *http.Request) (any, error) {
	if err := ctlAllow(r, http.MethodGet, http.MethodPost, http.MethodDelete); err != nil {
		return nil, err
	}
	var f Faults
	switch r.Method {
	case http.MethodGet:
		return s.CurrentFaults(), nil
	case http.MethodPost:
		b, err := ctlReadBody(w, r, maxControlBody)
		if err != nil {
			return nil, err
		}
		if b != nil {
			if err := ctlStrictUnmarshal(b, &f); err != nil {
				return nil, ctlBadRequest("/_emu/faults: %v", err)
			}
		}
	}
	if err := s.SetFaults(f); err != nil {
		return nil, ctlBadRequest("/_emu/faults: %v", err)
	}
	return s.CurrentFaults(), nil
}

func (s *Server) handleConfig(w http.ResponseWriter, r *http.Request) (any, error) {
	if err := ctlAllow(r, http.MethodGet, http.MethodPost); err != nil {
		return nil, err
	}
	if r.Method == http.MethodGet {
		return s.Config(), nil
	}
	b, err := ctlReadBody(w, r, maxControlBody)
	if err != nil {
		return nil, err
	}
	var req runtimeConfigWire
	if b != nil {
		if err := ctlStrictUnmarshal(b, &req); err != nil {
			return nil, ctlBadRequest("/_emu/config: %v", err)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.configLocked()
	if req.AvailableAfter != nil {
		d, err := time.ParseDuration(*req.AvailableAfter)
		if err != nil {
			return nil, ctlBadRequest(`/_emu/config: available_after %q is not a duration; use for example "2s"`, *req.AvailableAfter)
		}
		c.AvailableAfter = d
	}
	if req.PendingDescribes != nil {
		c.PendingDescribes = *req.PendingDescribes
	}
	if req.NotFoundDescribes != nil {
		c.NotFoundDescribes = *req.NotFoundDescribes
	}
	if err := c.Validate(); err != nil {
		return nil, ctlBadRequest("/_emu/config: %v", err)
	}
	s.setConfigLocked(c)
	return c, nil
}

func (s *Server) handleImages(w http.ResponseWriter, r *http.Request) (any, error) {
	if err := ctlAllow(r, http.MethodPost); err != nil {
		return nil, err
	}
	b, err := ctlReadBody(w, r, maxSeedBody)
	if err != nil {
		return nil, err
	}
	imgs, err := ParseSeedImages(b)
	if err != nil {
		return nil, ctlBadRequest("/_emu/images: %v", err)
	}
	ids, err := s.SeedImages(imgs)
	if err != nil {
		return nil, ctlBadRequest("/_emu/images: %v", err)
	}
	return map[string][]string{"image_ids": ids}, nil
}
