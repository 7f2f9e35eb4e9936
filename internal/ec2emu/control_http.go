package ec2emu

// The control half of the emulator: the JSON endpoints under /_emu/ (health,
// stats, reset, clock, faults, run-time config, bulk seeding) and the two
// hooks the EC2 API calls on every request (recordCall, injectFault).
//
// Endpoints (documented in docs/emulator.md, "The control API"; all answer
// JSON; errors are 4xx with {"error": "..."}):
//
//	GET  /_emu/health        {"status":"ok","now":"<RFC3339>","images":N}
//	GET  /_emu/stats         Stats: {"total":N,"actions":{..},"regions":{"r":{..}},"faults":{..}}
//	POST /_emu/stats/reset   clears the counters; answers the counters as they were
//	POST /_emu/reset         clears everything: images, instances, Allowed-AMIs
//	                         settings, accounts, organization, Image Builder images,
//	                         STS sessions, stats, faults, clock offset, and
//	                         /_emu/config changes (back to the Options given to New)
//	GET  /_emu/clock         {"now":"<RFC3339>","offset":"240h0m0s"}
//	POST /_emu/clock         {"advance":"240h"} -> same shape as GET
//	GET  /_emu/faults        the current Faults
//	POST /_emu/faults        Faults (empty body or {} clears) -> the Faults now in force
//	DELETE /_emu/faults      clears faults
//	GET  /_emu/config        RuntimeConfig
//	POST /_emu/config        partial RuntimeConfig (absent fields unchanged; {} turns
//	                         the throttle and latency models off) -> RuntimeConfig
//	POST /_emu/images        [SeedImage, ...] -> {"image_ids":["ami-...", ...]}
//	POST /_emu/seed          Seed (object, or an array of images) -> {"images":N,"accounts":N}
//
// POST /_emu/save is served by the ec2emu program (it knows the --state file),
// not by this handler.

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

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
	"GET|POST /_emu/clock", "GET|POST|DELETE /_emu/faults", "GET|POST /_emu/config", "POST /_emu/images", "POST /_emu/seed",
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
	case "/_emu/seed":
		out, err = s.handleSeed(w, r)
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
// typo such as "throttle_rat" instead of "throttle_rate" is an error, not a no-op.
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
	if err := req.applyModels(&c); err != nil {
		return nil, ctlBadRequest("/_emu/config: %v", err)
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

// handleSeed applies a whole seed (see Seed), all or nothing.
func (s *Server) handleSeed(w http.ResponseWriter, r *http.Request) (any, error) {
	if err := ctlAllow(r, http.MethodPost); err != nil {
		return nil, err
	}
	b, err := ctlReadBody(w, r, maxSeedBody)
	if err != nil {
		return nil, err
	}
	seed, err := ParseSeed(b)
	if err != nil {
		return nil, ctlBadRequest("/_emu/seed: %v", err)
	}
	if err := s.ApplySeed(seed); err != nil {
		return nil, ctlBadRequest("/_emu/seed: %v", err)
	}
	return map[string]int{"images": len(seed.Images), "accounts": len(seed.Accounts)}, nil
}
