package reliability

import (
	"context"
	"fmt"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/amiwatermark/packer-plugin-amiwatermark/datasource/amiwatermark"
	"github.com/amiwatermark/packer-plugin-amiwatermark/internal/ec2emu"
)

// seedPlain seeds one AMI per region carrying only the owner's "baseline"
// watermark and returns the fixtures with names as the wanted keys.
func seedPlain(t testing.TB, w *world, regions, names []string) []*fixture {
	t.Helper()
	var out []*fixture
	want := []string{key("baseline")}
	for _, n := range names {
		want = append(want, key(n))
	}
	for _, r := range regions {
		id := w.SeedImages(t, ec2emu.SeedImage{Region: r, Account: account, Name: "app-" + r, Watermarks: []ec2emu.SeedWatermark{{Key: "baseline"}}})[0]
		out = append(out, &fixture{region: r, id: id, want: sorted(want), calls: len(names)})
	}
	for _, f := range out {
		f.before = describe(t, w.URL, f.region, f.id)
	}
	return out
}

// TestMaxRetriesHonoured: with 100 % throttling every call fails; the
// number of attempts per call is exactly max_retries + 1, counted by the
// emulator, for the post-processor and the data source.
func TestMaxRetriesHonoured(t *testing.T) {
	for _, maxRetries := range []int{0, 1} {
		t.Run(fmt.Sprintf("max_retries=%d", maxRetries), func(t *testing.T) {
			row := Row{Scenario: fmt.Sprintf("throttle100 max_retries=%d", maxRetries), Runs: 2, WantFailures: 2}
			start := time.Now()
			defer func() { row.Time = time.Since(start); record(row) }()
			w := newWorld(t)
			fleet := seedPlain(t, w, regions8, names3)
			w.Emulator.ResetStats()
			w.wire.reset()
			w.setFaults(t, ec2emu.Faults{ThrottleRate: 1, Seed: 1})

			_, ui, err := runPP(t, context.Background(), w.URL, map[string]interface{}{"watermarks": names3, "max_retries": maxRetries},
				amiArtifact(targetsOf(fleet)...))
			st := w.Emulator.Stats()
			if err == nil {
				t.Fatalf("the run succeeded under 100 %% throttling\n%s", ui)
			}
			row.Failures++
			msg := err.Error()
			for _, want := range []string{"nothing was changed: the AMIs could not be described",
				"RequestLimitExceeded: Request limit exceeded. (EC2 kept throttling after every retry: raise max_retries or run again later)"} {
				if !strings.Contains(msg, want) {
					t.Errorf("error does not contain %q:\n%s", want, msg)
				}
			}
			attempts := int64(maxRetries + 1)
			for _, f := range fleet {
				if !strings.Contains(msg, f.region+": DescribeImages of "+f.id+" failed") {
					t.Errorf("error does not name %s %s:\n%s", f.region, f.id, msg)
				}
				if n := st.Regions[f.region]["DescribeImages"]; n != attempts {
					t.Errorf("%s: %d DescribeImages requests, want exactly %d (max_retries %d)", f.region, n, attempts, maxRetries)
				}
			}
			if n := st.Actions["AttachImageWatermark"] + st.Actions["DetachImageWatermark"]; n != 0 {
				t.Errorf("%d mutations after a failed describe", n)
			}
			calls, logical := w.wire.counts()
			if calls != int64(len(fleet))*attempts || logical != int64(len(fleet)) {
				t.Errorf("%d requests for %d operations, want %d for %d", calls, logical, int64(len(fleet))*attempts, len(fleet))
			}
			if got := w.wire.attempts(); !reflect.DeepEqual(got, map[int]int{int(attempts): len(fleet)}) {
				t.Errorf("attempts per operation %v, want %d each", got, attempts)
			}
			if !reflect.DeepEqual(w.wire.maxHeader, map[string]bool{fmt.Sprint(attempts): true}) {
				t.Errorf("the SDK announced max attempts %v, want %d", w.wire.maxHeader, attempts)
			}
			row.Calls, row.Logical, row.Faults = calls, logical, injected(st)

			// The data source uses the same setting.
			w.Emulator.ResetStats()
			w.wire.reset()
			d := &amiwatermark.Datasource{}
			if err := d.Configure(map[string]interface{}{
				"custom_endpoint_ec2": w.URL, "access_key": accessKey, "secret_key": secretKey, "region": "us-east-1",
				"max_retries": maxRetries, "watermark_keys": []string{key("baseline")}, "owners": []string{"self"},
			}); err != nil {
				t.Fatal(err)
			}
			if _, err := d.Execute(); err == nil || !strings.Contains(err.Error(), "RequestLimitExceeded") {
				t.Errorf("data source under 100 %% throttling: %v", err)
			} else {
				row.Failures++
			}
			st = w.Emulator.Stats()
			if n := st.Actions["DescribeImages"]; n != attempts {
				t.Errorf("data source: %d DescribeImages requests, want exactly %d", n, attempts)
			}
			calls, logical = w.wire.counts()
			row.Calls += calls
			row.Logical += logical
			row.Faults += injected(st)
		})
	}
}

// TestRegionFailsHardMidRun: one region starts failing every call after its
// describe and first attach (a 503 that outlasts the retries); the error
// lists per region what was attached and what was not; every other region
// completes. A re-run with the fault gone makes exactly the missing
// attaches.
func TestRegionFailsHardMidRun(t *testing.T) {
	const bad = "eu-west-1"
	row := Row{Scenario: "hard-fail 1 region + rerun", Runs: 2, WantFailures: 1}
	start := time.Now()
	defer func() { row.Time = time.Since(start); record(row) }()
	w := newWorld(t)
	fleet := seedPlain(t, w, regions8, names3)
	in := amiArtifact(targetsOf(fleet)...)
	cfg := map[string]interface{}{"watermarks": names3, "max_retries": 3}
	w.Emulator.ResetStats()
	w.wire.reset()
	// After its describe, the permission check's 3 DryRun attaches and the
	// first attach, every request in eu-west-1 fails with 503 Unavailable:
	// retryable, so each attempt of the failing call is answered the same
	// way until max_retries is used up.
	w.setFaults(t, ec2emu.Faults{FailRate: 1, FailCode: "Unavailable", Regions: []string{bad}, After: 1 + 3 + 1})

	_, ui, err := runPP(t, context.Background(), w.URL, cfg, in)
	st := w.Emulator.Stats()
	calls, logical := w.wire.counts()
	row.Calls, row.Logical, row.Faults = calls, logical, injected(st)
	w.setFaults(t, ec2emu.Faults{})
	if err == nil {
		t.Fatalf("want an error\n%s", ui)
	}
	row.Failures++
	msg := err.Error()
	var badAMI string
	for _, f := range fleet {
		var want string
		if f.region == bad {
			badAMI = f.id
			want = fmt.Sprintf(`%s %s: attached %s; FAILED attach "approved": Unavailable: The service is unavailable. Please try again shortly.; not done: attach "qa-passed"`,
				f.region, f.id, key("golden"))
		} else {
			want = fmt.Sprintf("%s %s: complete; attached %s, %s, %s", f.region, f.id, key("golden"), key("approved"), key("qa-passed"))
		}
		if !strings.Contains(msg, want+"\n") && !strings.HasSuffix(msg, want) {
			t.Errorf("error does not contain the line %q:\n%s", want, msg)
		}
	}
	for _, want := range []string{"amiwatermark: watermarking failed in " + bad + ": 1 call(s) failed and 1 were not made",
		"Calls that succeeded stay in effect: a later run skips keys already present and makes only the missing calls."} {
		if !strings.Contains(msg, want) {
			t.Errorf("error does not contain %q:\n%s", want, msg)
		}
	}
	// The failing call was tried max_retries + 1 times; nothing else was
	// attempted in that region after it.
	if n := st.Regions[bad]["AttachImageWatermark"]; n != 3+1+4 {
		t.Errorf("%s: %d attach requests, want 3 DryRun + 1 + 4 (the failing call with max_retries 3)", bad, n)
	}
	if n := st.Regions[bad]["DescribeImages"]; n != 1 {
		t.Errorf("%s: %d describes, want 1 (no verification after a failure)", bad, n)
	}
	// EC2 agrees with the report.
	for _, f := range fleet {
		want := f.want
		if f.region == bad {
			want = sorted([]string{key("baseline"), key("golden")})
		}
		if got := sorted(keysOf(describe(t, w.URL, f.region, f.id))); !reflect.DeepEqual(got, want) {
			t.Errorf("%s %s after the failed run: %v, want %v", f.region, f.id, got, want)
		}
	}

	// Re-run without the fault: exactly the 2 missing attaches.
	w.Emulator.ResetStats()
	w.wire.reset()
	_, ui, err = runPP(t, context.Background(), w.URL, cfg, in)
	st = w.Emulator.Stats()
	calls, logical = w.wire.counts()
	row.Calls += calls
	row.Logical += logical
	if err != nil {
		row.Failures++
		t.Fatalf("re-run: %v\n%s", err, ui)
	}
	if n := st.Actions["AttachImageWatermark"] - st.DryRun["AttachImageWatermark"]; n != 2 || st.Regions[bad]["AttachImageWatermark"] != 2+2 {
		t.Errorf("re-run made %d attach calls (%d in %s), want exactly the 2 missing ones in %s: %v", n, st.Regions[bad]["AttachImageWatermark"], bad, bad, st.Regions)
	}
	if !strings.Contains(ui, bad+" "+badAMI+": skipped "+key("golden")+" (already present)") {
		t.Errorf("re-run UI does not report the skipped key:\n%s", ui)
	}
	checkFleet(t, w, fleet)
}

// TestCancelDuringRun: with 500 ms latency on every call, cancelling the
// context (Ctrl-C in Packer) in the middle of the attaches returns within
// 2 s with a report per AMI of what was done, and EC2 agrees with it.
func TestCancelDuringRun(t *testing.T) {
	row := Row{Scenario: "cancel latency500ms", Runs: 1, WantFailures: 1}
	start := time.Now()
	defer func() { row.Time = time.Since(start); record(row) }()
	w := newWorld(t)
	fleet := seedPlain(t, w, regions8, names3)
	w.Emulator.ResetStats()
	w.wire.reset()
	w.setFaults(t, ec2emu.Faults{Latency: 500 * time.Millisecond})

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var cancelled time.Time
	// Describe ends at about 0.5 s, the permission check's 3 DryRun
	// attaches at about 2 s, the first attach at about 2.5 s: cancel while
	// the second attach of every AMI is in flight.
	timer := time.AfterFunc(2750*time.Millisecond, func() { cancelled = time.Now(); cancel() })
	defer timer.Stop()
	_, ui, err := runPP(t, ctx, w.URL, map[string]interface{}{"watermarks": names3}, amiArtifact(targetsOf(fleet)...))
	returned := time.Now()
	calls, logical := w.wire.counts()
	row.Calls, row.Logical = calls, logical
	w.setFaults(t, ec2emu.Faults{})
	if err == nil {
		t.Fatalf("want an error after the cancellation\n%s", ui)
	}
	row.Failures++
	if cancelled.IsZero() {
		t.Fatalf("the run ended before the cancellation: %v", err)
	}
	if d := returned.Sub(cancelled); d > 2*time.Second {
		t.Errorf("PostProcess returned %s after the cancellation, want within 2s", d)
	}
	msg := err.Error()
	if !strings.HasPrefix(msg, "amiwatermark: interrupted: ") {
		t.Errorf("error does not say it was interrupted:\n%s", msg)
	}
	// One line per AMI; EC2 holds every key the line reports attached, and
	// nothing else but (possibly) the one interrupted call.
	attachedRE := regexp.MustCompile(`attached ([^;]+)`)
	interruptedRE := regexp.MustCompile(`INTERRUPTED \(the call may or may not have taken effect\) attach "([^"]+)"`)
	for _, f := range fleet {
		prefix := "\n  " + f.region + " " + f.id + ": "
		i := strings.Index(msg, prefix)
		if i < 0 {
			t.Errorf("error has no line for %s %s:\n%s", f.region, f.id, msg)
			continue
		}
		line := msg[i+len(prefix):]
		if j := strings.IndexByte(line, '\n'); j >= 0 {
			line = line[:j]
		}
		if !strings.Contains(line, "not done: ") && !strings.Contains(line, "INTERRUPTED") {
			t.Errorf("%s %s: the line does not say what was not done: %q", f.region, f.id, line)
		}
		reported := map[string]bool{key("baseline"): true}
		if m := attachedRE.FindStringSubmatch(line); m != nil {
			for _, k := range strings.Split(m[1], ", ") {
				reported[k] = true
			}
		}
		maybe := ""
		if m := interruptedRE.FindStringSubmatch(line); m != nil {
			maybe = key(m[1])
		}
		got := keysOf(describe(t, w.URL, f.region, f.id))
		have := map[string]bool{}
		for _, k := range got {
			have[k] = true
			if !reported[k] && k != maybe {
				t.Errorf("%s %s carries %s, which the report does not list as attached: %q", f.region, f.id, k, line)
			}
		}
		for k := range reported {
			if !have[k] {
				t.Errorf("%s %s: the report says %s was attached, EC2 does not have it (%v)", f.region, f.id, k, got)
			}
		}
	}
	t.Logf("returned %s after the cancellation\n%s", returned.Sub(cancelled).Round(time.Millisecond), msg)
}

// TestWaitTimeoutNamesAMIAndState: a new AMI that is not found at first,
// then pending, then available is waited for, while one that stays pending
// makes the run fail once wait_timeout has passed, with a message naming
// that AMI and the state it was last seen in; nothing is changed.
//
// The success path (the post-processor waits through NotFound and pending
// and then watermarks the AMI) is TestPostProcessorPendingBecomesAvailable
// in post-processor/amiwatermark, with the poll interval shortened; here the
// real poll timing (2 s, then 3 s) runs through the public API only.
func TestWaitTimeoutNamesAMIAndState(t *testing.T) {
	row := Row{Scenario: "wait_timeout nf->pending", Runs: 1, WantFailures: 1}
	start := time.Now()
	defer func() { row.Time = time.Since(start); record(row) }()
	w := newWorld(t)
	ids := w.SeedImages(t,
		// Not found for 1 describe, pending for 1, then available.
		ec2emu.SeedImage{Region: "us-east-1", Account: account, Name: "new", State: "pending", NotFoundDescribes: 1, PendingDescribes: 1},
		// Pending for good.
		ec2emu.SeedImage{Region: "us-east-1", Account: account, Name: "stuck", State: "pending"},
	)
	w.Emulator.ResetStats()
	w.wire.reset()
	began := time.Now()
	_, ui, err := runPP(t, context.Background(), w.URL, map[string]interface{}{"watermarks": names3, "wait_timeout": "3s"},
		amiArtifact("us-east-1:"+ids[0], "us-east-1:"+ids[1]))
	took := time.Since(began)
	st := w.Emulator.Stats()
	row.Calls, row.Logical = w.wire.counts()
	if err == nil {
		t.Fatalf("want a timeout error\n%s", ui)
	}
	row.Failures++
	msg := err.Error()
	want := "us-east-1 " + ids[1] + `: did not become available within wait_timeout (3s): last state seen "pending"; raise wait_timeout or check the AMI in EC2`
	if !strings.Contains(msg, want) || !strings.Contains(msg, "nothing was changed") {
		t.Errorf("error does not contain %q:\n%s", want, msg)
	}
	problems, _, _ := strings.Cut(msg, "\nWhat happens to the AMIs:")
	if strings.Contains(problems, ids[0]) {
		t.Errorf("the AMI that became available is named as a problem:\n%s", msg)
	}
	for _, s := range []string{ids[0] + ": not found yet", ids[0] + ": state pending; waiting up to 3s (wait_timeout)", ids[0] + ": state available"} {
		if !strings.Contains(ui, s) {
			t.Errorf("UI does not say %q:\n%s", s, ui)
		}
	}
	if took < 3*time.Second || took > 6*time.Second {
		t.Errorf("the run took %s with wait_timeout 3s", took)
	}
	if n := st.Actions["AttachImageWatermark"] + st.Actions["DetachImageWatermark"]; n != 0 {
		t.Errorf("%d mutations after a failed plan", n)
	}
	for _, id := range ids {
		if got := keysOf(describe(t, w.URL, "us-east-1", id)); len(got) != 0 {
			t.Errorf("%s changed: %v", id, got)
		}
	}
}
