package ec2emu

// The throttle and latency models in POST /_emu/config (see
// model_throttle.go and model_latency.go):
//
//	{"throttle":"ec2"}                                    EC2's token buckets on
//	{"throttle":"off"}                                    off
//	{"latency_model":{"base":"150ms","per_item":"1ms"}}   latency model on
//	{"latency_model":{}}                                  latency model off
//	{} or an empty body                                   both off
//
// Otherwise a field left out keeps its value, as for the new-image fields.

import (
	"fmt"
	"time"
)

// latencyModelWire is LatencyModel in JSON: Go duration strings.
type latencyModelWire struct {
	Base    string `json:"base,omitempty"`
	PerItem string `json:"per_item,omitempty"`
}

func (m LatencyModel) wire() *latencyModelWire {
	return &latencyModelWire{Base: m.Base.String(), PerItem: m.PerItem.String()}
}

func (w *latencyModelWire) model() (LatencyModel, error) {
	var m LatencyModel
	for _, f := range []struct {
		name, v string
		dst     *time.Duration
	}{{"base", w.Base, &m.Base}, {"per_item", w.PerItem, &m.PerItem}} {
		if f.v == "" {
			continue
		}
		d, err := time.ParseDuration(f.v)
		if err != nil {
			return m, fmt.Errorf(`latency_model.%s %q is not a duration; use for example {"base":"150ms","per_item":"1ms"}`, f.name, f.v)
		}
		*f.dst = d
	}
	return m, nil
}

// empty reports a body with no field at all.
func (w runtimeConfigWire) empty() bool { return w == runtimeConfigWire{} }

// applyModels sets the models of c from the request: those it names, or
// both off for an empty request.
func (w runtimeConfigWire) applyModels(c *RuntimeConfig) error {
	if w.empty() {
		c.Throttle, c.LatencyModel = "", LatencyModel{}
		return nil
	}
	if w.Throttle != nil {
		c.Throttle = *w.Throttle
	}
	if w.LatencyModel != nil {
		m, err := w.LatencyModel.model()
		if err != nil {
			return err
		}
		c.LatencyModel = m
	}
	return nil
}

// validateModels checks the throttle setting and the latency model.
func (c RuntimeConfig) validateModels() error {
	switch c.Throttle {
	case "", ThrottleOff, ThrottleEC2:
	default:
		return fmt.Errorf("throttle %q is not a throttle model: use %q (EC2's token buckets) or %q", truncateForMsg(c.Throttle), ThrottleEC2, ThrottleOff)
	}
	for _, f := range []struct {
		name string
		d    time.Duration
	}{{"latency_model.base", c.LatencyModel.Base}, {"latency_model.per_item", c.LatencyModel.PerItem}} {
		if f.d < 0 || f.d > maxLatency {
			return fmt.Errorf("%s %s is out of range: give 0 to %s", f.name, f.d, maxLatency)
		}
	}
	return nil
}
