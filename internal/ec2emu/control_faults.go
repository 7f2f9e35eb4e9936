package ec2emu

// Fault injection (/_emu/faults): latency, throttling, server errors and
// hard failures, chosen per region by a seeded generator (injectFault).

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"net/http"
	"strings"
	"time"
)

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
