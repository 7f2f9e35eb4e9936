package ec2emu

// The latency model (/_emu/config {"latency_model":{"base":"150ms",
// "per_item":"1ms"}}, ec2emu --latency-base and --latency-per-item): every
// API call (EC2, STS, Organizations, Image Builder; not /_emu/) is answered
// base + per_item x the items it returns after it arrived, errors and
// throttled calls included (they return no item). Items are the images of a
// DescribeImages page and the accounts of a ListAccounts page; every other
// call returns none. The numbers are the emulator's choice, not AWS's: EC2
// documents no latency.

import (
	"context"
	"net/http"
	"time"
)

// LatencyModel is the latency model; the zero value adds no latency.
type LatencyModel struct {
	Base    time.Duration
	PerItem time.Duration
}

func (m LatencyModel) on() bool { return m.Base > 0 || m.PerItem > 0 }

// modelCall is what a handler tells the latency model about its answer.
type modelCall struct{ items int }

type modelCallKey struct{}

// setItems records that the call of ctx returns n items.
func setItems(ctx context.Context, n int) {
	if c, ok := ctx.Value(modelCallKey{}).(*modelCall); ok {
		c.items = n
	}
}

// withLatency wraps w so that the answer is held until the model's time
// has passed since start (or the client has gone). It returns w and r
// unchanged when the model is off.
func (s *Server) withLatency(w http.ResponseWriter, r *http.Request) (http.ResponseWriter, *http.Request) {
	s.mu.RLock()
	m := s.opts.Latency
	s.mu.RUnlock()
	if !m.on() {
		return w, r
	}
	call := &modelCall{}
	r = r.WithContext(context.WithValue(r.Context(), modelCallKey{}, call))
	return &latencyWriter{ResponseWriter: w, ctx: r.Context(), start: time.Now(), model: m, call: call}, r
}

// latencyWriter waits before the first WriteHeader or Write.
type latencyWriter struct {
	http.ResponseWriter
	ctx    context.Context
	start  time.Time
	model  LatencyModel
	call   *modelCall
	waited bool
}

func (w *latencyWriter) wait() {
	if w.waited {
		return
	}
	w.waited = true
	d := w.model.Base + time.Duration(w.call.items)*w.model.PerItem - time.Since(w.start)
	if d <= 0 {
		return
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-w.ctx.Done(): // the client has gone: nobody waits for the answer
	}
}

func (w *latencyWriter) WriteHeader(code int) {
	w.wait()
	w.ResponseWriter.WriteHeader(code)
}

func (w *latencyWriter) Write(b []byte) (int, error) {
	w.wait()
	return w.ResponseWriter.Write(b)
}
