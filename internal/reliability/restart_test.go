package reliability

import (
	"context"
	"net/http"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/amiwatermark/packer-plugin-amiwatermark/internal/ec2emu"
	"github.com/amiwatermark/packer-plugin-amiwatermark/internal/testkit"
)

// startEmulator runs the program (cmd/ec2emu, built once) on a free
// loopback port with --state and waits for its "listening on" line.
func startEmulator(t *testing.T, state string) *testkit.Program {
	t.Helper()
	bin, err := testkit.BuildEmulator()
	if err != nil {
		t.Fatal(err)
	}
	return testkit.StartT(t, bin, "--addr", "127.0.0.1:0", "--state", state)
}

// kill sends SIGKILL and checks the program died of it.
func kill(t *testing.T, p *testkit.Program) {
	t.Helper()
	p.Kill()
	code, _, err := p.Wait(10 * time.Second)
	if err != nil || code == 0 {
		t.Fatalf("after SIGKILL: exit code %d, %v; want killed", code, err)
	}
}

// control sends a control request to the program.
func control(t *testing.T, p *testkit.Program, method, path string, body, out any) {
	t.Helper()
	testkit.DoJSON(t, method, p.URL+path, body, out)
}

// fleetState renders every watermark of every fixture, all fields.
func fleetState(t *testing.T, url string, fs []*fixture) map[string][]types.ImageWatermark {
	t.Helper()
	out := map[string][]types.ImageWatermark{}
	for _, f := range fs {
		out[f.region+" "+f.id] = describe(t, url, f.region, f.id).ImageWatermarks
	}
	return out
}

// TestEmulatorKilledBetweenRuns: the emulator program (cmd/ec2emu with
// --state) is killed with SIGKILL shortly after a post-processor run
// returns and restarted on its state file: every watermark of the run is
// still there, field for field, and a second run finds them (it attaches
// only the name it adds). Then once more after the second run.
func TestEmulatorKilledBetweenRuns(t *testing.T) {
	row := Row{Scenario: "sigkill between runs", Runs: 2}
	start := time.Now()
	defer func() { row.Time = time.Since(start); record(row) }()
	state := filepath.Join(t.TempDir(), "state.json")
	p := startEmulator(t, state)

	var seeds []ec2emu.SeedImage
	for _, r := range regions8 {
		seeds = append(seeds, ec2emu.SeedImage{Region: r, Account: account, Name: "app-" + r, Watermarks: []ec2emu.SeedWatermark{{Key: "baseline"}}})
	}
	var seeded struct {
		ImageIDs []string `json:"image_ids"`
	}
	control(t, p, http.MethodPost, "/_emu/images", seeds, &seeded)
	var fleet []*fixture
	for i, r := range regions8 {
		fleet = append(fleet, &fixture{region: r, id: seeded.ImageIDs[i]})
	}
	in := amiArtifact(targetsOf(fleet)...)

	// Run 1, then SIGKILL 300 ms after it returned (write-behind: 100 ms).
	_, ui, err := runPP(t, context.Background(), p.URL, map[string]interface{}{"watermarks": names3[:2]}, in)
	if err != nil {
		row.Failures++
		t.Fatalf("run 1: %v\n%s", err, ui)
	}
	var st ec2emu.Stats
	control(t, p, http.MethodGet, "/_emu/stats", nil, &st)
	row.Calls += st.Total
	want := fleetState(t, p.URL, fleet)
	time.Sleep(300 * time.Millisecond)
	kill(t, p)

	p = startEmulator(t, state)
	got := fleetState(t, p.URL, fleet)
	for k, w := range want {
		if !reflect.DeepEqual(got[k], w) {
			t.Errorf("%s after SIGKILL and restart: %v, want %v", k, watermarkKeys(got[k]), watermarkKeys(w))
		}
		if len(w) != 3 {
			t.Errorf("%s: %d watermarks before the kill, want baseline + 2", k, len(w))
		}
	}

	// Run 2 against the restarted emulator: the two names are found, only
	// the third is attached.
	control(t, p, http.MethodPost, "/_emu/stats/reset", nil, nil)
	_, ui, err = runPP(t, context.Background(), p.URL, map[string]interface{}{"watermarks": names3}, in)
	if err != nil {
		row.Failures++
		t.Fatalf("run 2: %v\n%s", err, ui)
	}
	control(t, p, http.MethodGet, "/_emu/stats", nil, &st)
	row.Calls += st.Total
	if n := st.Actions["AttachImageWatermark"] - st.DryRun["AttachImageWatermark"]; n != int64(len(fleet)) {
		t.Errorf("run 2 made %d attach calls, want %d (only qa-passed on each AMI)", n, len(fleet))
	}
	want = fleetState(t, p.URL, fleet)
	time.Sleep(300 * time.Millisecond)
	kill(t, p)
	p = startEmulator(t, state)
	got = fleetState(t, p.URL, fleet)
	for _, f := range fleet {
		k := f.region + " " + f.id
		if !reflect.DeepEqual(got[k], want[k]) {
			t.Errorf("%s after the second SIGKILL: %v, want %v", k, watermarkKeys(got[k]), watermarkKeys(want[k]))
		}
		if keys := sorted(watermarkKeys(got[k])); !reflect.DeepEqual(keys, sorted([]string{key("baseline"), key("golden"), key("approved"), key("qa-passed")})) {
			t.Errorf("%s: keys %v", k, keys)
		}
	}
	row.Logical = row.Calls // no faults: every request is its own operation
}

func watermarkKeys(ws []types.ImageWatermark) []string {
	var out []string
	for _, w := range ws {
		out = append(out, aws.ToString(w.WatermarkKey))
	}
	return out
}
