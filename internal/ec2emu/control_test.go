package ec2emu

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// ctlBase is the fixed base clock of the control tests.
var ctlBase = time.Date(2026, 6, 24, 3, 15, 42, 123456789, time.UTC)

// ctlServer starts an emulator with a fixed clock behind httptest.
func ctlServer(t testing.TB, opts Options) (*Server, *httptest.Server) {
	t.Helper()
	if opts.Now == nil {
		opts.Now = func() time.Time { return ctlBase }
	}
	s := New(opts)
	ts := httptest.NewServer(s)
	t.Cleanup(ts.Close)
	return s, ts
}

// ctlDo sends a control request and decodes the JSON answer into a map.
func ctlDo(t testing.TB, ts *httptest.Server, method, path, body string) (int, map[string]any) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, ts.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := ts.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Fatalf("%s %s: Content-Type %q, want application/json; body %s", method, path, ct, b)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("%s %s: answer is not a JSON object: %v: %s", method, path, err, b)
	}
	return resp.StatusCode, m
}

// ctlOK is ctlDo that requires 200.
func ctlOK(t testing.TB, ts *httptest.Server, method, path, body string) map[string]any {
	t.Helper()
	code, m := ctlDo(t, ts, method, path, body)
	if code != http.StatusOK {
		t.Fatalf("%s %s %s: status %d, want 200: %v", method, path, body, code, m)
	}
	return m
}

func TestControlHealthAndRouting(t *testing.T) {
	_, ts := ctlServer(t, Options{})
	m := ctlOK(t, ts, "GET", "/_emu/health", "")
	if m["status"] != "ok" || m["images"] != float64(0) {
		t.Errorf("health = %v", m)
	}
	if m["now"] != "2026-06-24T03:15:42.123456789Z" {
		t.Errorf("health now = %v", m["now"])
	}
	cases := []struct {
		method, path string
		code         int
		want         string
	}{
		{"POST", "/_emu/health", 405, "use GET"},
		{"GET", "/_emu/stats/reset", 405, "use POST"},
		{"GET", "/_emu/reset", 405, "use POST"},
		{"PUT", "/_emu/clock", 405, "use GET or POST"},
		{"GET", "/_emu/images", 405, "use POST"},
		{"GET", "/_emu/nope", 404, "POST /_emu/images"},
		{"POST", "/_emu/save", 404, "unknown control endpoint"},
	}
	for _, c := range cases {
		code, m := ctlDo(t, ts, c.method, c.path, "")
		msg, _ := m["error"].(string)
		if code != c.code || !strings.Contains(msg, c.want) {
			t.Errorf("%s %s = %d %q, want %d containing %q", c.method, c.path, code, msg, c.code, c.want)
		}
	}
}

func TestControlClock(t *testing.T) {
	s, ts := ctlServer(t, Options{})
	m := ctlOK(t, ts, "GET", "/_emu/clock", "")
	if m["now"] != "2026-06-24T03:15:42.123456789Z" || m["offset"] != "0s" {
		t.Fatalf("GET clock = %v", m)
	}
	m = ctlOK(t, ts, "POST", "/_emu/clock", `{"advance":"240h"}`)
	want := ctlBase.Add(240 * time.Hour)
	got, err := time.Parse(time.RFC3339, m["now"].(string))
	if err != nil || !got.Equal(want) || m["offset"] != "240h0m0s" {
		t.Fatalf("POST clock = %v (%v), want now %s", m, err, want)
	}
	if !s.Now().Equal(want) {
		t.Errorf("Now() = %s, want %s", s.Now(), want)
	}
	s.AdvanceClock(90 * time.Minute)
	s.AdvanceClock(-time.Hour) // ignored: the clock never goes back
	if want = want.Add(90 * time.Minute); !s.Now().Equal(want) {
		t.Errorf("after AdvanceClock Now() = %s, want %s", s.Now(), want)
	}
	m = ctlOK(t, ts, "GET", "/_emu/clock", "")
	if m["now"] != want.Format(time.RFC3339Nano) {
		t.Errorf("GET clock = %v, want %s", m, want.Format(time.RFC3339Nano))
	}
	for _, body := range []string{``, `{"advance":"-1h"}`, `{"advance":"ten days"}`, `{"advnce":"1h"}`, `{"advance":`, `[1]`} {
		code, m := ctlDo(t, ts, "POST", "/_emu/clock", body)
		if code != 400 || !strings.HasPrefix(m["error"].(string), "/_emu/clock: ") {
			t.Errorf("POST clock %q = %d %v, want 400 naming /_emu/clock", body, code, m)
		}
	}
	if !s.Now().Equal(want) {
		t.Errorf("bad requests moved the clock to %s", s.Now())
	}
}

func TestControlConfig(t *testing.T) {
	s, ts := ctlServer(t, Options{AvailableAfter: time.Second, PendingDescribes: 1})
	m := ctlOK(t, ts, "GET", "/_emu/config", "")
	if m["available_after"] != "1s" || m["pending_describes"] != float64(1) || m["not_found_describes"] != float64(0) {
		t.Fatalf("GET config = %v", m)
	}
	m = ctlOK(t, ts, "POST", "/_emu/config", `{"not_found_describes":2,"available_after":"2s"}`)
	if m["available_after"] != "2s" || m["pending_describes"] != float64(1) || m["not_found_describes"] != float64(2) {
		t.Fatalf("POST config (partial) = %v", m)
	}
	s.mu.Lock()
	o := s.opts
	s.mu.Unlock()
	if o.AvailableAfter != 2*time.Second || o.PendingDescribes != 1 || o.NotFoundDescribes != 2 {
		t.Errorf("opts after POST config = %+v", o)
	}
	for body, want := range map[string]string{
		`{"pending_describes":-1}`:   "pending_describes -1 is negative",
		`{"available_after":"soon"}`: `available_after "soon" is not a duration`,
		`{"available_after":"-2s"}`:  "available_after -2s is negative",
		`{"pending":3}`:              `unknown field "pending"`,
		`{"pending_describes":"3"}`:  "pending_describes must be int",
	} {
		code, m := ctlDo(t, ts, "POST", "/_emu/config", body)
		if msg, _ := m["error"].(string); code != 400 || !strings.Contains(msg, want) {
			t.Errorf("POST config %s = %d %v, want 400 containing %q", body, code, m, want)
		}
	}
	if c := s.Config(); c.AvailableAfter != 2*time.Second || c.PendingDescribes != 1 || c.NotFoundDescribes != 2 {
		t.Errorf("bad requests changed the config: %+v", c)
	}
	if err := s.SetConfig(RuntimeConfig{PendingDescribes: -1}); err == nil {
		t.Error("SetConfig accepted a negative count")
	}
	// Reset goes back to the Options given to New.
	ctlOK(t, ts, "POST", "/_emu/reset", "")
	if c := s.Config(); c != (RuntimeConfig{AvailableAfter: time.Second, PendingDescribes: 1}) {
		t.Errorf("config after reset = %+v, want the startup options", c)
	}
}

func TestControlStatsCountAndReset(t *testing.T) {
	s, ts := ctlServer(t, Options{})
	s.recordCall("DescribeImages", "us-east-1")
	s.recordCall("DescribeImages", "us-east-1")
	s.recordCall("AttachImageWatermark", "eu-west-1")
	s.stats.fault(faultThrottle)
	m := ctlOK(t, ts, "GET", "/_emu/stats", "")
	want := `{"actions":{"AttachImageWatermark":1,"DescribeImages":2},"faults":{"error":0,"fail":0,"latency":0,"throttle":1},"regions":{"eu-west-1":{"AttachImageWatermark":1},"us-east-1":{"DescribeImages":2}},"total":3}`
	if got, _ := json.Marshal(m); string(got) != want {
		t.Errorf("stats = %s\nwant    %s", got, want)
	}
	st := s.Stats()
	if st.Total != 3 || st.Actions["DescribeImages"] != 2 || st.Regions["eu-west-1"]["AttachImageWatermark"] != 1 {
		t.Errorf("Stats() = %+v", st)
	}
	// The copy is detached from the live counters.
	st.Actions["DescribeImages"] = 99
	if s.Stats().Actions["DescribeImages"] != 2 {
		t.Error("Stats() returned the live map")
	}
	// stats/reset answers the counters as they were and clears them.
	m = ctlOK(t, ts, "POST", "/_emu/stats/reset", "")
	if m["total"] != float64(3) {
		t.Errorf("stats/reset answered %v, want the old counters", m)
	}
	if st := s.Stats(); st.Total != 0 || len(st.Actions) != 0 || len(st.Regions) != 0 || st.Faults[faultThrottle] != 0 {
		t.Errorf("after stats/reset: %+v", st)
	}
	s.recordCall("DescribeImages", "us-east-1")
	s.ResetStats()
	if st := s.Stats(); st.Total != 0 {
		t.Errorf("after ResetStats: %+v", st)
	}
}

// TestControlStatsConcurrent counts from many goroutines (run with -race).
func TestControlStatsConcurrent(t *testing.T) {
	s := New(Options{})
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < 250; i++ {
				s.recordCall("DescribeImages", fmt.Sprintf("r-%d", g%2))
				if i%50 == 0 {
					_ = s.Stats()
				}
			}
		}(g)
	}
	wg.Wait()
	st := s.Stats()
	if st.Total != 2000 || st.Actions["DescribeImages"] != 2000 || st.Regions["r-0"]["DescribeImages"] != 1000 {
		t.Errorf("Stats() = %+v", st)
	}
}

func TestControlFaultsEndpoint(t *testing.T) {
	s, ts := ctlServer(t, Options{})
	body := `{"latency":"50ms","throttle_rate":0.3,"error_rate":0.05,"seed":1,"actions":["AttachImageWatermark"],"regions":["eu-west-1"]}`
	m := ctlOK(t, ts, "POST", "/_emu/faults", body)
	got, _ := json.Marshal(m)
	want := `{"actions":["AttachImageWatermark"],"error_rate":0.05,"latency":"50ms","regions":["eu-west-1"],"seed":1,"throttle_rate":0.3}`
	if string(got) != want {
		t.Errorf("POST faults = %s\nwant          %s", got, want)
	}
	f := s.CurrentFaults()
	if f.Latency != 50*time.Millisecond || f.ThrottleRate != 0.3 || f.Seed != 1 || len(f.Actions) != 1 {
		t.Errorf("CurrentFaults() = %+v", f)
	}
	if m := ctlOK(t, ts, "GET", "/_emu/faults", ""); m["latency"] != "50ms" {
		t.Errorf("GET faults = %v", m)
	}
	m = ctlOK(t, ts, "POST", "/_emu/faults", `{"fail_rate":1,"fail_code":"InternalError","after":3}`)
	if m["fail_rate"] != float64(1) || m["after"] != float64(3) || m["fail_code"] != "InternalError" {
		t.Errorf("POST hard faults = %v", m)
	}
	for _, clear := range []struct{ method, body string }{{"POST", ""}, {"POST", "{}"}, {"DELETE", ""}} {
		ctlOK(t, ts, "POST", "/_emu/faults", `{"throttle_rate":1}`)
		if m := ctlOK(t, ts, clear.method, "/_emu/faults", clear.body); len(m) != 0 {
			t.Errorf("%s faults %q = %v, want {}", clear.method, clear.body, m)
		}
		if s.injectFault(context.Background(), "DescribeImages", "us-east-1") != nil {
			t.Errorf("%s faults %q did not clear the faults", clear.method, clear.body)
		}
	}
	for body, want := range map[string]string{
		`{"throttle_rate":1.5}`:         "throttle_rate 1.5 is out of range",
		`{"error_rate":-0.1}`:           "error_rate -0.1 is out of range",
		`{"fail_rate":2}`:               "fail_rate 2 is out of range",
		`{"latency":"fast"}`:            `latency "fast" is not a duration`,
		`{"latency":50}`:                "latency must be string",
		`{"latency":"-5ms"}`:            "latency -5ms is out of range",
		`{"latency":"11m"}`:             "latency 11m0s is out of range",
		`{"after":-1}`:                  "after -1 is negative",
		`{"throttle":0.3}`:              `unknown field "throttle"`,
		`{"actions":[""]}`:              "actions[0] is empty",
		`{"regions":["eu-west-1",""]}`:  "regions[1] is empty",
		`{"fail_status":200}`:           "fail_status 200 is not an HTTP error status",
		`{"fail_code":"<x>"}`:           "is not an error code",
		`{"throttle_rate":0.3} {"x":1}`: "more than one value",
	} {
		code, m := ctlDo(t, ts, "POST", "/_emu/faults", body)
		if msg, _ := m["error"].(string); code != 400 || !strings.Contains(msg, want) {
			t.Errorf("POST faults %s = %d %v, want 400 containing %q", body, code, m, want)
		}
	}
}

// faultOutcomes runs n calls through injectFault and renders each outcome.
func faultOutcomes(s *Server, n int, action, region string) []string {
	out := make([]string, n)
	for i := range out {
		if e := s.injectFault(context.Background(), action, region); e != nil {
			out[i] = fmt.Sprintf("%d %s", e.Status, e.Code)
		} else {
			out[i] = "ok"
		}
	}
	return out
}

func TestControlFaultsReproducible(t *testing.T) {
	s := New(Options{})
	f := Faults{ThrottleRate: 0.3, ErrorRate: 0.2, Seed: 7}
	if err := s.SetFaults(f); err != nil {
		t.Fatal(err)
	}
	first := faultOutcomes(s, 400, "AttachImageWatermark", "us-east-1")
	tally := map[string]int{}
	for _, o := range first {
		tally[o]++
	}
	// Outcomes are fixed by the seed; these bounds only check the rates are
	// applied at all (expected: 120 throttles, ~56 errors split in two).
	if n := tally["503 RequestLimitExceeded"]; n < 80 || n > 160 {
		t.Errorf("throttles = %d of 400 at rate 0.3 (%v)", n, tally)
	}
	if n := tally["500 InternalError"] + tally["503 Unavailable"]; n < 25 || n > 95 {
		t.Errorf("server errors = %d of 400 at rate 0.2 of the rest (%v)", n, tally)
	}
	if tally["500 InternalError"] == 0 || tally["503 Unavailable"] == 0 {
		t.Errorf("server errors are not a mix of InternalError and Unavailable: %v", tally)
	}
	if len(tally) != 4 {
		t.Errorf("unexpected outcomes: %v", tally)
	}
	st := s.Stats()
	if st.Faults[faultThrottle] != int64(tally["503 RequestLimitExceeded"]) ||
		st.Faults[faultError] != int64(tally["500 InternalError"]+tally["503 Unavailable"]) {
		t.Errorf("stats faults %v do not match the outcomes %v", st.Faults, tally)
	}
	// The same seed gives the same sequence; setting faults restarts it.
	if err := s.SetFaults(f); err != nil {
		t.Fatal(err)
	}
	if again := faultOutcomes(s, 400, "AttachImageWatermark", "us-east-1"); strings.Join(again, ",") != strings.Join(first, ",") {
		t.Error("the same seed gave a different sequence of faults")
	}
	f.Seed = 8
	if err := s.SetFaults(f); err != nil {
		t.Fatal(err)
	}
	if other := faultOutcomes(s, 400, "AttachImageWatermark", "us-east-1"); strings.Join(other, ",") == strings.Join(first, ",") {
		t.Error("seeds 7 and 8 gave the same sequence of faults")
	}
}

// TestControlFaultsReproduciblePerRegion: interleaving regions differently
// does not change any region's sequence of outcomes.
func TestControlFaultsReproduciblePerRegion(t *testing.T) {
	f := Faults{ThrottleRate: 0.4, ErrorRate: 0.2, Seed: 11}
	run := func(order []string) map[string][]string {
		s := New(Options{})
		if err := s.SetFaults(f); err != nil {
			t.Fatal(err)
		}
		out := map[string][]string{}
		for _, r := range order {
			out[r] = append(out[r], faultOutcomes(s, 1, "AttachImageWatermark", r)[0])
		}
		return out
	}
	var blocks, interleaved []string
	for _, r := range []string{"us-east-1", "eu-west-1", "ap-south-1"} {
		for i := 0; i < 50; i++ {
			blocks = append(blocks, r)
		}
	}
	for i := 0; i < 50; i++ {
		interleaved = append(interleaved, "ap-south-1", "us-east-1", "eu-west-1")
	}
	a, b := run(blocks), run(interleaved)
	for r, seq := range a {
		if strings.Join(seq, ",") != strings.Join(b[r], ",") {
			t.Errorf("%s: the outcomes depend on other regions' calls", r)
		}
	}
	if strings.Join(a["us-east-1"], ",") == strings.Join(a["eu-west-1"], ",") {
		t.Error("two regions drew the same sequence")
	}
}

func TestControlFaultsScope(t *testing.T) {
	s := New(Options{})
	if err := s.SetFaults(Faults{ThrottleRate: 1, Actions: []string{"AttachImageWatermark", "DetachImageWatermark"}, Regions: []string{"eu-west-1"}}); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		action, region string
		faulted        bool
	}{
		{"AttachImageWatermark", "eu-west-1", true},
		{"DetachImageWatermark", "eu-west-1", true},
		{"AttachImageWatermark", "us-east-1", false},
		{"DescribeImages", "eu-west-1", false},
		{"DescribeImages", "us-east-1", false},
	}
	for _, c := range cases {
		e := s.injectFault(context.Background(), c.action, c.region)
		if (e != nil) != c.faulted {
			t.Errorf("%s in %s: fault %v, want faulted=%v", c.action, c.region, e, c.faulted)
		}
		if e != nil && (e.Status != 503 || e.Code != "RequestLimitExceeded" || e.Message != "Request limit exceeded.") {
			t.Errorf("throttle = %+v", e)
		}
	}
}

func TestControlFaultsHardFailureAfter(t *testing.T) {
	cases := []struct {
		name        string
		f           Faults
		status      int
		code, msg   string
		passThrough int
	}{
		{"default code", Faults{FailRate: 1, After: 2}, 500, "InternalError", "An internal error has occurred.", 2},
		{"unavailable", Faults{FailRate: 1, FailCode: "Unavailable"}, 503, "Unavailable", "The service is unavailable. Please try again shortly.", 0},
		{"client code", Faults{FailRate: 1, FailCode: "UnauthorizedOperation", After: 1}, 400, "UnauthorizedOperation", "Injected failure (UnauthorizedOperation).", 1},
		{"explicit status and message", Faults{FailRate: 1, FailCode: "UnauthorizedOperation", FailStatus: 403, FailMessage: "no", After: 5}, 403, "UnauthorizedOperation", "no", 5},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := New(Options{})
			c.f.Regions = []string{"eu-west-1"}
			if err := s.SetFaults(c.f); err != nil {
				t.Fatal(err)
			}
			// Calls outside the scope neither fail nor count towards After.
			for i := 0; i < 3; i++ {
				if e := s.injectFault(context.Background(), "AttachImageWatermark", "us-east-1"); e != nil {
					t.Fatalf("us-east-1 call failed: %v", e)
				}
			}
			for i := 0; i < c.passThrough+4; i++ {
				e := s.injectFault(context.Background(), "AttachImageWatermark", "eu-west-1")
				if i < c.passThrough {
					if e != nil {
						t.Fatalf("call %d failed before after=%d: %v", i+1, c.passThrough, e)
					}
					continue
				}
				if e == nil || e.Status != c.status || e.Code != c.code || e.Message != c.msg {
					t.Fatalf("call %d = %+v, want %d %s %q", i+1, e, c.status, c.code, c.msg)
				}
			}
			if got := s.Stats().Faults[faultFail]; got != 4 {
				t.Errorf("fail count = %d, want 4", got)
			}
		})
	}
}

func TestControlFaultsLatencyHonouredAndCancellable(t *testing.T) {
	s := New(Options{})
	if err := s.SetFaults(Faults{Latency: 60 * time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if e := s.injectFault(context.Background(), "DescribeImages", "us-east-1"); e != nil {
		t.Fatalf("latency only: got fault %v", e)
	}
	if d := time.Since(start); d < 60*time.Millisecond {
		t.Errorf("call took %s, want at least the 60ms latency", d)
	}
	if err := s.SetFaults(Faults{Latency: 10 * time.Minute}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	start = time.Now()
	e := s.injectFault(ctx, "DescribeImages", "us-east-1")
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("cancelled call took %s", d)
	}
	if e == nil || e.Code != "RequestTimeout" {
		t.Errorf("cancelled call = %+v, want a RequestTimeout error so the action is not performed", e)
	}
	if got := s.Stats().Faults[faultLatency]; got != 2 {
		t.Errorf("latency count = %d, want 2", got)
	}
}

func TestControlReset(t *testing.T) {
	s, ts := ctlServer(t, Options{})
	if _, err := s.SeedImages([]SeedImage{{Region: "us-east-1", Name: "a", Watermarks: []SeedWatermark{{Key: "golden"}}}}); err != nil {
		t.Fatal(err)
	}
	s.mu.Lock()
	s.st.Instances["i-0123456789abcdef0"] = &Instance{ID: "i-0123456789abcdef0"}
	s.st.Settings[settingsKey("123456789012", "us-east-1")] = &AllowedSettings{State: "enabled"}
	s.mu.Unlock()
	ctlOK(t, ts, "POST", "/_emu/clock", `{"advance":"24h"}`)
	ctlOK(t, ts, "POST", "/_emu/faults", `{"throttle_rate":1}`)
	ctlOK(t, ts, "POST", "/_emu/config", `{"pending_describes":4}`)
	s.recordCall("DescribeImages", "us-east-1")

	if m := ctlOK(t, ts, "POST", "/_emu/reset", ""); m["status"] != "ok" {
		t.Errorf("reset = %v", m)
	}
	s.mu.Lock()
	n, ni, ns, off := len(s.st.Images), len(s.st.Instances), len(s.st.Settings), s.st.ClockOffset
	s.mu.Unlock()
	if n != 0 || ni != 0 || ns != 0 || off != 0 {
		t.Errorf("after reset: %d images, %d instances, %d settings, offset %s", n, ni, ns, off)
	}
	if !s.Now().Equal(ctlBase) {
		t.Errorf("clock after reset = %s", s.Now())
	}
	if s.injectFault(context.Background(), "DescribeImages", "us-east-1") != nil {
		t.Error("faults survived the reset")
	}
	if st := s.Stats(); st.Total != 0 {
		t.Errorf("stats after reset: %+v", st)
	}
	if c := s.Config(); c.PendingDescribes != 0 {
		t.Errorf("config after reset: %+v", c)
	}
}

// ---- seeding ----

func TestControlSeedHTTP(t *testing.T) {
	s, ts := ctlServer(t, Options{DefaultAccount: "999988887777"})
	body := `[
	  {"region":"us-east-1","account":"111122223333","name":"base","image_id":"ami-0aaaaaaaaaaaaaaa1",
	   "creation_date":"2026-06-01T10:00:00.000Z","watermarks":["golden","444455556666:partner"],
	   "tags":{"team":"core"},"shared_with":["444455556666"],"description":"d"},
	  {"region":"eu-west-1","account":"111122223333","name":"copy","creation_date":"2026-06-02",
	   "source_image_id":"ami-0aaaaaaaaaaaaaaa1","source_image_region":"us-east-1",
	   "watermarks":[{"key":"111122223333:golden","source_image_id":"ami-0aaaaaaaaaaaaaaa1","source_image_region":"us-east-1",
	                  "watermark_creation_time":"2026-06-01T11:00:00.5+00:00"}]},
	  {"region":"us-west-2","name":"pending-one","state":"pending","pending_describes":2,"not_found_describes":1,
	   "owner_alias":"amazon","deprecation_time":"2026-12-01T00:00:00Z","architecture":"arm64","platform":"windows","product_codes":["abc123"]}
	]`
	m := ctlOK(t, ts, "POST", "/_emu/images", body)
	raw, _ := m["image_ids"].([]any)
	if len(raw) != 3 || raw[0] != "ami-0aaaaaaaaaaaaaaa1" {
		t.Fatalf("image_ids = %v", m)
	}
	ids := make([]string, 3)
	for i, v := range raw {
		ids[i] = v.(string)
		if !isSeedImageID(ids[i]) || len(ids[i]) != 21 {
			t.Errorf("id %q is not ami- and 17 hex digits", ids[i])
		}
	}
	if ids[1] == ids[2] {
		t.Errorf("duplicate ids %v", ids)
	}
	s.mu.Lock()
	base, cp, pend := *s.st.Images[ids[0]], *s.st.Images[ids[1]], *s.st.Images[ids[2]]
	s.mu.Unlock()

	created := time.Date(2026, 6, 1, 10, 0, 0, 0, time.UTC)
	nowUS := ctlBase.Truncate(time.Microsecond)
	if base.Owner != "111122223333" || base.Region != "us-east-1" || !base.CreationDate.Equal(created) || base.State != "available" ||
		base.Tags["team"] != "core" || len(base.SharedWith) != 1 || base.Description != "d" || base.Public {
		t.Errorf("base image = %+v", base)
	}
	wantWM := []Watermark{
		{Key: "111122223333:golden", SourceImageID: ids[0], SourceImageRegion: "us-east-1", SourceImageCreationTime: created, WatermarkCreationTime: nowUS},
		{Key: "444455556666:partner", SourceImageID: ids[0], SourceImageRegion: "us-east-1", SourceImageCreationTime: created, WatermarkCreationTime: nowUS},
	}
	if !equalWatermarks(base.Watermarks, wantWM) {
		t.Errorf("base watermarks = %+v\nwant %+v", base.Watermarks, wantWM)
	}
	// The copy's watermark points at the base image, whose creation time is
	// looked up from the same batch.
	wantCopy := []Watermark{{Key: "111122223333:golden", SourceImageID: ids[0], SourceImageRegion: "us-east-1", SourceImageCreationTime: created,
		WatermarkCreationTime: time.Date(2026, 6, 1, 11, 0, 0, 500000000, time.UTC)}}
	if !equalWatermarks(cp.Watermarks, wantCopy) || cp.SourceImageID != ids[0] || !cp.CreationDate.Equal(time.Date(2026, 6, 2, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("copy = %+v\nwant watermarks %+v", cp, wantCopy)
	}
	if pend.Owner != "999988887777" || pend.State != "pending" || pend.PendingDescribes != 2 || pend.NotFoundDescribes != 1 ||
		pend.OwnerAlias != "amazon" || pend.DeprecationTime == nil || pend.Architecture != "arm64" || pend.Platform != "windows" ||
		pend.PlatformDetails != "Windows" || len(pend.ProductCodes) != 1 || !pend.CreationDate.Equal(ctlBase.Truncate(time.Millisecond)) {
		t.Errorf("pending image = %+v", pend)
	}
	if m := ctlOK(t, ts, "GET", "/_emu/health", ""); m["images"] != float64(3) {
		t.Errorf("health after seeding = %v", m)
	}
}

func equalWatermarks(a, b []Watermark) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		x, y := a[i], b[i]
		if x.Key != y.Key || x.SourceImageID != y.SourceImageID || x.SourceImageRegion != y.SourceImageRegion ||
			!x.SourceImageCreationTime.Equal(y.SourceImageCreationTime) || !x.WatermarkCreationTime.Equal(y.WatermarkCreationTime) {
			return false
		}
	}
	return true
}

func TestControlSeedValidation(t *testing.T) {
	s, ts := ctlServer(t, Options{})
	if _, err := s.SeedImages([]SeedImage{{Region: "us-east-1", Name: "existing", ImageID: "ami-0bbbbbbbbbbbbbbb1"}}); err != nil {
		t.Fatal(err)
	}
	ok := `{"region":"us-east-1","name":"fine"}`
	cases := []struct {
		name, entry, want string
	}{
		{"no region", `{"name":"x1"}`, `images[1] (name "x1"): region is missing`},
		{"bad region", `{"region":"Mars","name":"x1"}`, `images[1] (name "x1"): region "Mars" is not a region name`},
		{"bad account", `{"region":"us-east-1","account":"12345","name":"x1"}`, `images[1] (name "x1"): account "12345" is not a 12-digit account id`},
		{"no name", `{"region":"us-east-1"}`, `images[1]: name is missing`},
		{"long name", `{"region":"us-east-1","name":"` + strings.Repeat("n", 129) + `"}`, `name is 129 characters long`},
		{"bad image_id", `{"region":"us-east-1","name":"x1","image_id":"ami-XYZ"}`, `images[1] (name "x1"): image_id "ami-XYZ" is malformed`},
		{"duplicate image_id", `{"region":"us-east-1","name":"x1","image_id":"ami-0ccccccccccccccc1"},{"region":"us-east-1","name":"x2","image_id":"ami-0ccccccccccccccc1"}`, `images[2] (name "x2"): image_id ami-0ccccccccccccccc1 is already used by images[1]`},
		{"existing image_id", `{"region":"us-east-1","name":"x1","image_id":"ami-0bbbbbbbbbbbbbbb1"}`, `images[1] (name "x1"): image_id ami-0bbbbbbbbbbbbbbb1 already exists`},
		{"bad creation_date", `{"region":"us-east-1","name":"x1","creation_date":"yesterday"}`, `images[1] (name "x1"): creation_date "yesterday" is not a time`},
		{"bad state", `{"region":"us-east-1","name":"x1","state":"ready"}`, `images[1] (name "x1"): state "ready" is not an image state`},
		{"available_after not pending", `{"region":"us-east-1","name":"x1","available_after":"2s"}`, `available_after is set but state is "available"`},
		{"bad available_after", `{"region":"us-east-1","name":"x1","state":"pending","available_after":"2 s"}`, `available_after "2 s" is not a non-negative duration`},
		{"negative pending", `{"region":"us-east-1","name":"x1","state":"pending","pending_describes":-1}`, `pending_describes -1 is negative`},
		{"bad deprecation", `{"region":"us-east-1","name":"x1","deprecation_time":"never"}`, `deprecation_time "never" is not a time`},
		{"bad alias", `{"region":"us-east-1","name":"x1","owner_alias":"me"}`, `owner_alias "me" is not one of`},
		{"bad arch", `{"region":"us-east-1","name":"x1","architecture":"sparc"}`, `architecture "sparc" is not one of`},
		{"bad platform", `{"region":"us-east-1","name":"x1","platform":"linux"}`, `platform "linux" is not valid`},
		{"bad shared_with", `{"region":"us-east-1","name":"x1","shared_with":["111122223333","all"]}`, `shared_with[1] "all" is not a 12-digit account id`},
		{"empty tag key", `{"region":"us-east-1","name":"x1","tags":{"":"v"}}`, `tags: key "" must be 1-128 characters`},
		{"bad source image", `{"region":"us-east-1","name":"x1","source_image_id":"img-1"}`, `source_image_id "img-1" is not an AMI id`},
		{"bad source instance", `{"region":"us-east-1","name":"x1","source_instance_id":"inst-1"}`, `source_instance_id "inst-1" is not an instance id`},
		{"six watermarks", `{"region":"us-east-1","name":"x1","watermarks":["aaa","bbb","ccc","ddd","eee","fff"]}`, `images[1] (name "x1"): has 6 watermarks: an image carries at most 5`},
		{"short watermark name", `{"region":"us-east-1","name":"x1","watermarks":["ok-name","ab"]}`, `images[1] (name "x1"): watermarks[1] (key "ab"): watermark name "ab" is 2 characters long`},
		{"bad watermark char", `{"region":"us-east-1","name":"x1","watermarks":["bad*name"]}`, `watermarks[0] (key "bad*name"): watermark name "bad*name" has the character '*'`},
		{"bad key account", `{"region":"us-east-1","name":"x1","watermarks":["acct:golden"]}`, `watermarks[0] (key "acct:golden"): watermark key "acct:golden": the account part "acct" is not a 12-digit account id`},
		{"empty key", `{"region":"us-east-1","name":"x1","watermarks":[{"key":""}]}`, `watermarks[0]: the key is empty`},
		{"duplicate key", `{"region":"us-east-1","account":"111122223333","name":"x1","watermarks":["golden","111122223333:golden"]}`, `watermarks[1] (key "111122223333:golden"): the key 111122223333:golden appears twice`},
		{"watermark bad source", `{"region":"us-east-1","name":"x1","watermarks":[{"key":"golden","source_image_id":"ami-zz"}]}`, `watermarks[0] (key "golden"): source_image_id "ami-zz" is not an AMI id`},
		{"watermark bad region", `{"region":"us-east-1","name":"x1","watermarks":[{"key":"golden","source_image_region":"moon"}]}`, `watermarks[0] (key "golden"): source_image_region "moon" is not a region name`},
		{"watermark bad time", `{"region":"us-east-1","name":"x1","watermarks":[{"key":"golden","watermark_creation_time":"now"}]}`, `watermarks[0] (key "golden"): watermark_creation_time "now" is not a time`},
		{"watermark unknown source", `{"region":"us-east-1","name":"x1","watermarks":[{"key":"golden","source_image_id":"ami-0ddddddddddddddd1"}]}`, `watermarks[0] (key "123456789012:golden"): source_image_id ami-0ddddddddddddddd1 is neither in the emulator nor in this request`},
		{"watermark unknown field", `{"region":"us-east-1","name":"x1","watermarks":[{"key":"golden","source":"x"}]}`, `images[1]: unknown field "source"`},
		{"watermark wrong type", `{"region":"us-east-1","name":"x1","watermarks":[42]}`, `images[1]: a watermark must be a string`},
		{"public with watermarks", `{"region":"us-east-1","name":"x1","public":true,"watermarks":["golden"]}`, `images[1] (name "x1"): is public and has watermarks`},
		{"unknown field", `{"region":"us-east-1","nmae":"x1"}`, `images[1]: unknown field "nmae"`},
		{"wrong type", `{"region":"us-east-1","name":"x1","public":"yes"}`, `images[1]: invalid JSON: public must be bool`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, m := ctlDo(t, ts, "POST", "/_emu/images", "["+ok+","+c.entry+"]")
			msg, _ := m["error"].(string)
			if code != 400 || !strings.HasPrefix(msg, "/_emu/images: ") || !strings.Contains(msg, c.want) {
				t.Errorf("status %d, error %q\nwant 400 containing %q", code, msg, c.want)
			}
		})
	}
	// All or nothing: none of the good entries were added.
	if n := s.ImageCount(); n != 1 {
		t.Errorf("failed batches added images: %d images, want 1", n)
	}
	for _, body := range []string{"", "{}", "[", `[{"region":"us-east-1","name":"a"}] []`} {
		if code, m := ctlDo(t, ts, "POST", "/_emu/images", body); code != 400 {
			t.Errorf("POST images %q = %d %v, want 400", body, code, m)
		}
	}
	if m := ctlOK(t, ts, "POST", "/_emu/images", "[]"); len(m["image_ids"].([]any)) != 0 {
		t.Errorf("empty array = %v", m)
	}
}

func TestControlSeedGoAPI(t *testing.T) {
	s := New(Options{Now: func() time.Time { return ctlBase }})
	ids, err := s.SeedImages([]SeedImage{
		{Region: "us-east-1", Account: "111122223333", Name: "a", Watermarks: []SeedWatermark{{Key: "golden"}}},
		{Region: "us-east-1", Account: "111122223333", Name: "b", ImageID: "ami-0123456789abcdef0",
			Watermarks: []SeedWatermark{{Key: "golden", SourceImageID: "ami-0123456789abcdef0", SourceImageCreationTime: "2026-01-01T00:00:00Z"}}},
		// The source is another entry of this batch, named by its explicit
		// id: the source creation time defaults to that image's.
		{Region: "eu-west-1", Account: "111122223333", Name: "c", Watermarks: []SeedWatermark{{Key: "111122223333:golden",
			SourceImageID: "ami-0123456789abcdef0", SourceImageRegion: "us-east-1"}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(ids) != 3 || ids[1] != "ami-0123456789abcdef0" {
		t.Fatalf("ids = %v", ids)
	}
	s.mu.Lock()
	b, c := *s.st.Images[ids[1]], *s.st.Images[ids[2]]
	s.mu.Unlock()
	if w := b.Watermarks[0]; w.SourceImageID != ids[1] || !w.SourceImageCreationTime.Equal(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("b watermark = %+v", w)
	}
	if w := c.Watermarks[0]; w.SourceImageID != ids[1] || w.SourceImageRegion != "us-east-1" || !w.SourceImageCreationTime.Equal(b.CreationDate) {
		t.Errorf("c watermark = %+v, want source b with b's creation date %s", w, b.CreationDate)
	}
	// A later batch can name images of earlier ones as sources too.
	ids2, err := s.SeedImages([]SeedImage{{Region: "eu-west-1", Account: "111122223333", Name: "d",
		Watermarks: []SeedWatermark{{Key: "golden", SourceImageID: ids[0]}}}})
	if err != nil {
		t.Fatalf("source from an earlier batch: %v", err)
	}
	s.mu.Lock()
	a, d := *s.st.Images[ids[0]], *s.st.Images[ids2[0]]
	s.mu.Unlock()
	if w := d.Watermarks[0]; w.SourceImageID != ids[0] || w.SourceImageRegion != "eu-west-1" || !w.SourceImageCreationTime.Equal(a.CreationDate) {
		t.Errorf("d watermark = %+v, want source a (%s)", w, a.CreationDate)
	}
}

// TestControlParseSeedImagesLarge crosses the decoder's chunk boundaries and
// checks order and content are kept.
func TestControlParseSeedImagesLarge(t *testing.T) {
	for _, n := range []int{0, 1, 64, 65, 4160, 4161, 10000} {
		var b strings.Builder
		b.WriteString("[")
		for i := 0; i < n; i++ {
			if i > 0 {
				b.WriteString(",")
			}
			fmt.Fprintf(&b, `{"region":"us-east-1","name":"img-%d","watermarks":["w-%d"]}`, i, i)
		}
		b.WriteString("]")
		imgs, err := ParseSeedImages([]byte(b.String()))
		if err != nil {
			t.Fatalf("n=%d: %v", n, err)
		}
		if len(imgs) != n {
			t.Fatalf("n=%d: got %d images", n, len(imgs))
		}
		for i, img := range imgs {
			if img.Name != fmt.Sprintf("img-%d", i) || len(img.Watermarks) != 1 || img.Watermarks[0].Key != fmt.Sprintf("w-%d", i) {
				t.Fatalf("n=%d: entry %d = %+v", n, i, img)
			}
		}
	}
	for body, want := range map[string]string{
		`{"region":"us-east-1"}`:                         "must be a JSON array",
		`[{"region":"us-east-1","name":"a"},`:            "ends too early",
		`[{"region":"us-east-1","name":"a"}] x`:          "more than one value",
		`[{"region":"us-east-1","name":"a"},{"name":3}]`: "images[1]: invalid JSON: name must be string",
		`[{"region":"us-east-1","name":"a\u0041"}]`:      "",
	} {
		imgs, err := ParseSeedImages([]byte(body))
		if want == "" {
			if err != nil || imgs[0].Name != "aA" {
				t.Errorf("%s: %v %+v", body, err, imgs)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %v, want %q", body, err, want)
		}
	}
}

func TestControlSeedWatermarkJSON(t *testing.T) {
	var ws []SeedWatermark
	in := `["golden","111122223333:x-y",{"key":"k1","source_image_region":"us-east-1"},"esc\u0041ped"]`
	if err := json.Unmarshal([]byte(in), &ws); err != nil {
		t.Fatal(err)
	}
	if len(ws) != 4 || ws[0].Key != "golden" || ws[1].Key != "111122223333:x-y" || ws[2].SourceImageRegion != "us-east-1" || ws[3].Key != "escAped" {
		t.Fatalf("decoded %+v", ws)
	}
	out, _ := json.Marshal(ws)
	if string(out) != `["golden","111122223333:x-y",{"key":"k1","source_image_region":"us-east-1"},"escAped"]` {
		t.Errorf("round trip = %s", out)
	}
	for _, bad := range []string{`[1]`, `[null]`, `[["a"]]`, `[{"key":1}]`, `[{"key":"a","x":1}]`} {
		if err := json.Unmarshal([]byte(bad), &ws); err == nil {
			t.Errorf("%s decoded without error", bad)
		}
	}
}

// FuzzControlSeedImages: arbitrary bodies never panic, and either seed
// everything or nothing.
func FuzzControlSeedImages(f *testing.F) {
	f.Add([]byte(`[{"region":"us-east-1","name":"a","watermarks":["golden",{"key":"111122223333:x-y"}]}]`))
	f.Add([]byte(`[{"region":"us-east-1","name":"a","image_id":"ami-0123456789abcdef0"},{"region":"eu-west-1","name":"b","watermarks":[{"key":"abc","source_image_id":"ami-0123456789abcdef0"}]}]`))
	f.Add([]byte(`[{"region":"us-east-1","name":"a","state":"pending","available_after":"1s","creation_date":"2026-01-01"}]`))
	f.Add([]byte(`{}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		s := New(Options{Now: func() time.Time { return ctlBase }})
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, httptest.NewRequest("POST", "/_emu/images", bytes.NewReader(body)))
		var m map[string]any
		if err := json.Unmarshal(rec.Body.Bytes(), &m); err != nil {
			t.Fatalf("answer is not JSON: %q", rec.Body.String())
		}
		switch rec.Code {
		case 200:
			ids := m["image_ids"].([]any)
			if s.ImageCount() != len(ids) {
				t.Fatalf("%d ids but %d images", len(ids), s.ImageCount())
			}
		case 400:
			if s.ImageCount() != 0 {
				t.Fatalf("failed seed left %d images", s.ImageCount())
			}
			if msg, _ := m["error"].(string); msg == "" {
				t.Fatalf("400 without an error message: %v", m)
			}
		default:
			t.Fatalf("status %d: %s", rec.Code, rec.Body.String())
		}
	})
}

// BenchmarkControlSeedImages seeds 100 000 images per op (the size of the
// DescribeImages benchmarks) and reports the cost per image, and the ratio
// of seeding over an in-memory copy of the same count of Image records in
// the same run, so the figure is comparable across machines.
func BenchmarkControlSeedImages(b *testing.B) {
	const n = 100_000
	in := make([]SeedImage, n)
	for i := range in {
		in[i] = SeedImage{Region: "us-east-1", Account: "111122223333", Name: fmt.Sprintf("app-%06d", i),
			CreationDate: "2026-06-01T10:00:00.000Z", Watermarks: []SeedWatermark{{Key: "golden"}}}
		if i%3 == 0 {
			in[i].Watermarks = append(in[i].Watermarks, SeedWatermark{Key: "444455556666:partner"})
		}
	}
	// Baseline: build the same number of records into a map.
	baseStart := time.Now()
	m := make(map[string]*Image, n)
	for i := 0; i < n; i++ {
		img := &Image{ID: fmt.Sprintf("ami-%017x", i), Name: in[i].Name, Watermarks: make([]Watermark, len(in[i].Watermarks))}
		m[img.ID] = img
	}
	base := time.Since(baseStart)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		s := New(Options{})
		if _, err := s.SeedImages(in); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	per := float64(b.Elapsed().Nanoseconds()) / float64(b.N)
	b.ReportMetric(per/n, "ns/image")
	b.ReportMetric(per/float64(base.Nanoseconds()), "x-baseline")
}

// BenchmarkControlSeedImagesHTTP seeds 100 000 images per op through POST
// /_emu/images and reports the cost per image and the ratio over the Go API
// (SeedImages) measured once in the same run.
func BenchmarkControlSeedImagesHTTP(b *testing.B) {
	const n = 100_000
	in := make([]SeedImage, n)
	for i := range in {
		in[i] = SeedImage{Region: "us-east-1", Account: "111122223333", Name: fmt.Sprintf("app-%06d", i),
			CreationDate: "2026-06-01T10:00:00.000Z", Watermarks: []SeedWatermark{{Key: "golden"}}}
	}
	body, err := json.Marshal(in)
	if err != nil {
		b.Fatal(err)
	}
	baseStart := time.Now()
	if _, err := New(Options{}).SeedImages(in); err != nil {
		b.Fatal(err)
	}
	base := time.Since(baseStart)
	b.SetBytes(int64(len(body)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		s := New(Options{})
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, httptest.NewRequest("POST", "/_emu/images", bytes.NewReader(body)))
		if rec.Code != 200 {
			b.Fatalf("status %d: %s", rec.Code, rec.Body.String())
		}
	}
	b.StopTimer()
	per := float64(b.Elapsed().Nanoseconds()) / float64(b.N)
	b.ReportMetric(per/n, "ns/image")
	b.ReportMetric(per/float64(base.Nanoseconds()), "x-goapi")
}

// seedRegionOracle is the rule seedIsRegion implements by hand.
var seedRegionOracle = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-[0-9]+$`)

func TestControlSeedIsRegion(t *testing.T) {
	for s, want := range map[string]bool{
		"us-east-1": true, "eu-west-1": true, "us-gov-west-1": true, "ap-southeast-2": true, "cn-north-1": true, "il-central-10": true,
		"": false, "us": false, "us-east": false, "us-east-": false, "us--east-1": false, "US-east-1": false, "use-ast-1": false,
		"us-east-1a": false, "us-1": false, "us-east-x": false, "-us-east-1": false, "us-east-1-": false, "us-east1": false, "ü-east-1": false,
		"aa-aaaa--0": false, // found by FuzzControlSeedIsRegion
	} {
		if got := seedIsRegion(s); got != want {
			t.Errorf("seedIsRegion(%q) = %v, want %v", s, got, want)
		}
	}
}

func FuzzControlSeedIsRegion(f *testing.F) {
	for _, s := range []string{"us-east-1", "us-gov-west-1", "us--east-1", "us-east-", "a-b-1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := seedIsRegion(s), seedRegionOracle.MatchString(s); got != want {
			t.Fatalf("seedIsRegion(%q) = %v, the rule says %v", s, got, want)
		}
	})
}
