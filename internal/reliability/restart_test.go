package reliability

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/amiwatermark/packer-plugin-amiwatermark/internal/ec2emu"
)

// emulatorProgram builds cmd/ec2emu once per test binary.
var emulatorProgram = struct {
	once sync.Once
	path string
	err  error
}{}

func buildEmulator(t *testing.T) string {
	t.Helper()
	emulatorProgram.once.Do(func() {
		dir, err := os.MkdirTemp("", "reliability-ec2emu-")
		if err != nil {
			emulatorProgram.err = err
			return
		}
		bin := filepath.Join(dir, "ec2emu")
		cmd := exec.Command("go", "build", "-o", bin, "github.com/amiwatermark/packer-plugin-amiwatermark/cmd/ec2emu")
		if out, err := cmd.CombinedOutput(); err != nil {
			emulatorProgram.err = fmt.Errorf("go build ./cmd/ec2emu: %v\n%s", err, out)
			return
		}
		emulatorProgram.path = bin
	})
	if emulatorProgram.err != nil {
		t.Fatal(emulatorProgram.err)
	}
	return emulatorProgram.path
}

// process is a running ec2emu program.
type process struct {
	cmd    *exec.Cmd
	url    string
	stderr bytes.Buffer
	done   chan error
}

// startEmulator runs the program on a free loopback port with --state and
// waits for its "listening on" line.
func startEmulator(t *testing.T, bin, state string) *process {
	t.Helper()
	p := &process{cmd: exec.Command(bin, "--addr", "127.0.0.1:0", "--state", state), done: make(chan error, 1)}
	p.cmd.Stderr = &p.stderr
	out, err := p.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	first := make(chan string, 1)
	go func() {
		r := bufio.NewReader(out)
		line, _ := r.ReadString('\n')
		first <- strings.TrimSpace(line)
		_, _ = io.Copy(io.Discard, r)
		p.done <- p.cmd.Wait()
	}()
	t.Cleanup(func() { _ = p.cmd.Process.Kill() })
	select {
	case line := <-first:
		if !strings.HasPrefix(line, "listening on http://") {
			t.Fatalf("first line %q, want listening on http://HOST:PORT", line)
		}
		p.url = strings.TrimPrefix(line, "listening on ")
	case <-time.After(30 * time.Second):
		t.Fatal("the emulator printed nothing within 30s")
	}
	return p
}

// kill sends SIGKILL and waits for the process to be gone.
func (p *process) kill(t *testing.T) {
	t.Helper()
	if err := p.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-p.done:
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			t.Fatalf("after SIGKILL: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the emulator did not die on SIGKILL")
	}
}

func (p *process) control(t *testing.T, method, path string, body, out any) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, p.url+path, rd)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("%s %s: %d %s", method, path, resp.StatusCode, b)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatal(err)
		}
	}
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
	bin := buildEmulator(t)
	state := filepath.Join(t.TempDir(), "state.json")
	p := startEmulator(t, bin, state)

	var seeds []ec2emu.SeedImage
	for _, r := range regions8 {
		seeds = append(seeds, ec2emu.SeedImage{Region: r, Account: account, Name: "app-" + r, Watermarks: []ec2emu.SeedWatermark{{Key: "baseline"}}})
	}
	var seeded struct {
		ImageIDs []string `json:"image_ids"`
	}
	p.control(t, http.MethodPost, "/_emu/images", seeds, &seeded)
	var fleet []*fixture
	for i, r := range regions8 {
		fleet = append(fleet, &fixture{region: r, id: seeded.ImageIDs[i]})
	}
	in := amiArtifact(targetsOf(fleet)...)

	// Run 1, then SIGKILL 300 ms after it returned (write-behind: 100 ms).
	_, ui, err := runPP(t, context.Background(), p.url, map[string]interface{}{"watermarks": names3[:2]}, in)
	if err != nil {
		row.Failures++
		t.Fatalf("run 1: %v\n%s", err, ui)
	}
	var st ec2emu.Stats
	p.control(t, http.MethodGet, "/_emu/stats", nil, &st)
	row.Calls += st.Total
	want := fleetState(t, p.url, fleet)
	time.Sleep(300 * time.Millisecond)
	p.kill(t)

	p = startEmulator(t, bin, state)
	got := fleetState(t, p.url, fleet)
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
	p.control(t, http.MethodPost, "/_emu/stats/reset", nil, nil)
	_, ui, err = runPP(t, context.Background(), p.url, map[string]interface{}{"watermarks": names3}, in)
	if err != nil {
		row.Failures++
		t.Fatalf("run 2: %v\n%s", err, ui)
	}
	p.control(t, http.MethodGet, "/_emu/stats", nil, &st)
	row.Calls += st.Total
	if n := st.Actions["AttachImageWatermark"]; n != int64(len(fleet)) {
		t.Errorf("run 2 made %d attach calls, want %d (only qa-passed on each AMI)", n, len(fleet))
	}
	want = fleetState(t, p.url, fleet)
	time.Sleep(300 * time.Millisecond)
	p.kill(t)
	p = startEmulator(t, bin, state)
	got = fleetState(t, p.url, fleet)
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
