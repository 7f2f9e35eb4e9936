package ec2emu

// Run-time settings: new-image behaviour (/_emu/config), the clock
// (/_emu/clock) and reset (/_emu/reset).

import (
	"encoding/json"
	"fmt"
	"time"
)

// RuntimeConfig is the new-image behaviour and the throttle and latency
// models that POST /_emu/config changes at run time (see Options).
type RuntimeConfig struct {
	AvailableAfter    time.Duration `json:"-"`
	PendingDescribes  int           `json:"pending_describes"`
	NotFoundDescribes int           `json:"not_found_describes"`
	// Throttle is ThrottleEC2 or ThrottleOff ("" is off); see model_throttle.go.
	Throttle string `json:"-"`
	// LatencyModel: see model_latency.go.
	LatencyModel LatencyModel `json:"-"`
}

type runtimeConfigWire struct {
	AvailableAfter    *string           `json:"available_after,omitempty"`
	PendingDescribes  *int              `json:"pending_describes,omitempty"`
	NotFoundDescribes *int              `json:"not_found_describes,omitempty"`
	Throttle          *string           `json:"throttle,omitempty"`
	LatencyModel      *latencyModelWire `json:"latency_model,omitempty"`
}

// MarshalJSON writes durations as duration strings and an unset throttle
// as "off".
func (c RuntimeConfig) MarshalJSON() ([]byte, error) {
	a, th := c.AvailableAfter.String(), c.Throttle
	if th == "" {
		th = ThrottleOff
	}
	return json.Marshal(runtimeConfigWire{&a, &c.PendingDescribes, &c.NotFoundDescribes, &th, c.LatencyModel.wire()})
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
	return c.validateModels()
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
		Throttle:          s.opts.Throttle,
		LatencyModel:      s.opts.Latency,
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
	if c.Throttle == ThrottleOff {
		c.Throttle = ""
	}
	if s.opts.Throttle != c.Throttle {
		s.buckets.clear() // turned on or off: buckets start full
	}
	s.opts.Throttle = c.Throttle
	s.opts.Latency = c.LatencyModel
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
// clock offset, faults, stats, run-time config changes (the throttle and
// latency models included) and the token buckets.
func (s *Server) Reset() {
	s.mu.Lock()
	s.st = newState()
	if s.faults != nil && s.faults.hasBase {
		s.opts = s.faults.base
	}
	s.buckets.clear()
	s.faults = nil
	s.mu.Unlock()
	s.stats.reset()
	s.changed()
}
