package main

import (
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
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	"github.com/amiwatermark/packer-plugin-amiwatermark/internal/ec2emu/emutest"
	"github.com/amiwatermark/packer-plugin-amiwatermark/internal/testkit"
)

// emuBin is the ec2emu program built once for the tests.
var emuBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "ec2emu-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	emuBin = filepath.Join(dir, "ec2emu")
	out, err := exec.Command("go", "build", "-o", emuBin, ".").CombinedOutput()
	if err != nil {
		fmt.Fprintf(os.Stderr, "building ec2emu: %v\n%s", err, out)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// emu is one running ec2emu process.
type emu struct {
	t      *testing.T
	p      *testkit.Program
	url    string
	stderr *testkit.SyncBuffer
}

// startEmu starts the program and waits for its "listening on" line.
func startEmu(t *testing.T, args ...string) *emu {
	t.Helper()
	p := testkit.StartT(t, emuBin, args...)
	if !strings.HasPrefix(p.URL, "http://127.0.0.1:") {
		t.Fatalf("listening on %s, want a loopback address", p.URL)
	}
	return &emu{t: t, p: p, url: p.URL, stderr: p.Stderr}
}

// stop sends sig and returns the exit code and the remaining stdout lines.
func (e *emu) stop(sig os.Signal) (int, []string) {
	e.t.Helper()
	if err := e.p.Signal(sig); err != nil {
		e.t.Fatal(err)
	}
	return e.wait()
}

func (e *emu) wait() (int, []string) {
	e.t.Helper()
	code, rest, err := e.p.Wait(30 * time.Second)
	if err != nil {
		e.t.Fatalf("ec2emu: %v", err)
	}
	return code, rest
}

func (e *emu) client(region, account string) *ec2.Client {
	return emutest.EC2Client(e.url, region, emutest.Credentials(account))
}

// control sends a control request and decodes the JSON answer.
func (e *emu) control(method, path, body string) (int, map[string]any) {
	e.t.Helper()
	req, err := http.NewRequest(method, e.url+path, strings.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		e.t.Fatalf("%s %s: not JSON: %s", method, path, b)
	}
	return resp.StatusCode, m
}

// snapshot renders every image account owns in region, with watermarks.
func snapshot(t *testing.T, c *ec2.Client) string {
	t.Helper()
	out, err := c.DescribeImages(context.Background(), &ec2.DescribeImagesInput{Owners: []string{"self"}})
	if err != nil {
		t.Fatal(err)
	}
	sort.Slice(out.Images, func(i, j int) bool { return *out.Images[i].ImageId < *out.Images[j].ImageId })
	var b strings.Builder
	for _, img := range out.Images {
		fmt.Fprintf(&b, "%s %s %s %s\n", aws.ToString(img.ImageId), aws.ToString(img.Name), img.State, aws.ToString(img.CreationDate))
		for _, w := range img.ImageWatermarks {
			fmt.Fprintf(&b, "  %s %s %s %s %s\n", aws.ToString(w.WatermarkKey), aws.ToString(w.SourceImageId), aws.ToString(w.SourceImageRegion),
				aws.ToTime(w.SourceImageCreationTime).Format(time.RFC3339Nano), aws.ToTime(w.WatermarkCreationTime).Format(time.RFC3339Nano))
		}
	}
	return b.String()
}

// countImages counts the image lines of a snapshot.
func countImages(snap string) int {
	n := 0
	for _, l := range strings.Split(snap, "\n") {
		if strings.HasPrefix(l, "ami-") {
			n++
		}
	}
	return n
}

func TestProgramStateSurvivesRestart(t *testing.T) {
	state := filepath.Join(t.TempDir(), "state.json")
	e := startEmu(t, "--state", state)
	code, m := e.control("POST", "/_emu/images", `[{"region":"us-east-1","account":"111122223333","name":"base","watermarks":["golden"]},
		{"region":"eu-west-1","account":"111122223333","name":"other"}]`)
	if code != 200 {
		t.Fatalf("seeding: %d %v", code, m)
	}
	ids := m["image_ids"].([]any)
	use1, euw1 := e.client("us-east-1", "111122223333"), e.client("eu-west-1", "111122223333")
	key, err := euw1.AttachImageWatermark(context.Background(), &ec2.AttachImageWatermarkInput{ImageId: aws.String(ids[1].(string)), WatermarkName: aws.String("approved")})
	if err != nil || aws.ToString(key.WatermarkKey) != "111122223333:approved" {
		t.Fatalf("attach: %v %v", key, err)
	}
	if _, err := euw1.CopyImage(context.Background(), &ec2.CopyImageInput{SourceImageId: aws.String(ids[0].(string)), SourceRegion: aws.String("us-east-1"), Name: aws.String("copy")}); err != nil {
		t.Fatal(err)
	}
	wantUS, wantEU := snapshot(t, use1), snapshot(t, euw1)
	if !strings.Contains(wantUS, "111122223333:golden") || !strings.Contains(wantEU, "111122223333:approved") || strings.Count(wantEU, "111122223333:golden") != 1 {
		t.Fatalf("setup did not take:\n%s\n%s", wantUS, wantEU)
	}

	code, rest := e.stop(syscall.SIGTERM)
	if code != 0 {
		t.Fatalf("exit code %d after SIGTERM; stderr: %s", code, e.stderr.String())
	}
	if len(rest) == 0 || rest[len(rest)-1] != "stopped; state saved to "+state+" (3 images)" {
		t.Errorf("last stdout lines %q", rest)
	}
	b, err := os.ReadFile(state)
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		Format string `json:"format"`
		State  struct {
			Images map[string]json.RawMessage `json:"images"`
		} `json:"state"`
	}
	if err := json.Unmarshal(b, &f); err != nil || f.Format != "ec2emu-state" || len(f.State.Images) != 3 {
		t.Fatalf("state file: %v, format %q, %d images", err, f.Format, len(f.State.Images))
	}

	e2 := startEmu(t, "--state", state)
	if got := snapshot(t, e2.client("us-east-1", "111122223333")); got != wantUS {
		t.Errorf("us-east-1 after restart:\n%s\nwant\n%s", got, wantUS)
	}
	if got := snapshot(t, e2.client("eu-west-1", "111122223333")); got != wantEU {
		t.Errorf("eu-west-1 after restart:\n%s\nwant\n%s", got, wantEU)
	}
	if code, _ := e2.stop(os.Interrupt); code != 0 {
		t.Errorf("exit code %d after SIGINT", code)
	}
}

func TestProgramSaveEndpointSurvivesKill(t *testing.T) {
	state := filepath.Join(t.TempDir(), "state.json")
	// Without write-behind, only the save endpoint (and a graceful stop)
	// write the file.
	e := startEmu(t, "--state", state, "--write-behind", "0")
	if code, m := e.control("POST", "/_emu/images", `[{"region":"us-east-1","account":"111122223333","name":"kept","watermarks":["golden"]}]`); code != 200 {
		t.Fatalf("seeding: %d %v", code, m)
	}
	code, m := e.control("POST", "/_emu/save", "")
	if code != 200 || m["saved"] != state || m["images"] != float64(1) {
		t.Fatalf("POST /_emu/save = %d %v", code, m)
	}
	if code, m := e.control("GET", "/_emu/save", ""); code != 405 || !strings.Contains(m["error"].(string), "POST") {
		t.Errorf("GET /_emu/save = %d %v", code, m)
	}
	// With --write-behind 0, a change after the save is lost on SIGKILL
	// (documented); the file stays complete.
	if code, _ := e.control("POST", "/_emu/images", `[{"region":"us-east-1","account":"111122223333","name":"lost"}]`); code != 200 {
		t.Fatal("second seed failed")
	}
	code, _ = e.stop(syscall.SIGKILL)
	if code != -1 {
		t.Logf("exit code after SIGKILL: %d", code)
	}
	e2 := startEmu(t, "--state", state)
	got := snapshot(t, e2.client("us-east-1", "111122223333"))
	if !strings.Contains(got, " kept available") || !strings.Contains(got, "111122223333:golden") || strings.Contains(got, " lost ") {
		t.Errorf("after SIGKILL and restart:\n%s", got)
	}
	e2.stop(syscall.SIGTERM)

	// Without --state there is nothing to save to.
	e3 := startEmu(t)
	if code, m := e3.control("POST", "/_emu/save", ""); code != 400 || !strings.Contains(m["error"].(string), "--state") {
		t.Errorf("save without --state = %d %v", code, m)
	}
	code, rest := e3.stop(syscall.SIGTERM)
	if code != 0 || len(rest) == 0 || rest[len(rest)-1] != "stopped" {
		t.Errorf("stop without --state: %d %q", code, rest)
	}
}

func TestProgramSeedFileAppliedOnce(t *testing.T) {
	dir := t.TempDir()
	seed, state := filepath.Join(dir, "seed.json"), filepath.Join(dir, "state.json")
	if err := os.WriteFile(seed, []byte(`[{"region":"us-east-1","account":"111122223333","name":"one","watermarks":["golden"]},
		{"region":"us-east-1","account":"111122223333","name":"two","watermarks":[{"key":"444455556666:partner"}]}]`), 0o600); err != nil {
		t.Fatal(err)
	}
	e := startEmu(t, "--state", state, "--seed", seed)
	first := snapshot(t, e.client("us-east-1", "111122223333"))
	if countImages(first) != 2 || !strings.Contains(first, "444455556666:partner") {
		t.Fatalf("seeded images:\n%s", first)
	}
	// The state file exists from the start, so a SIGKILL right away does
	// not lead to a second seeding either.
	e.stop(syscall.SIGKILL)
	e2 := startEmu(t, "--state", state, "--seed", seed)
	if got := snapshot(t, e2.client("us-east-1", "111122223333")); got != first {
		t.Errorf("after restart with the same --seed:\n%s\nwant\n%s", got, first)
	}
	if !strings.Contains(e2.stderr.String(), "--seed "+seed+" not applied") {
		t.Errorf("stderr does not say the seed was skipped: %q", e2.stderr.String())
	}
	e2.stop(syscall.SIGTERM)

	// Without --state the seed is applied on every start.
	e3 := startEmu(t, "--seed", seed)
	if got := snapshot(t, e3.client("us-east-1", "111122223333")); countImages(got) != 2 {
		t.Errorf("seed without --state:\n%s", got)
	}
	e3.stop(syscall.SIGTERM)
}

// TestProgramSeedObject: --seed takes the object form with accounts and an
// organization, served over Organizations and STS on the same port.
func TestProgramSeedObject(t *testing.T) {
	seed := filepath.Join(t.TempDir(), "seed.json")
	if err := os.WriteFile(seed, []byte(`{"images":[{"region":"us-east-1","account":"111122223333","name":"one"}],
		"accounts":[{"id":"111122223333","name":"prod"},{"id":"444455556666","refuse_assume_role":true}],
		"organization":{"management_account":"111122223333"}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	e := startEmu(t, "--seed", seed)
	if got := snapshot(t, e.client("us-east-1", "111122223333")); countImages(got) != 1 {
		t.Fatalf("seeded images:\n%s", got)
	}
	creds := emutest.Credentials("111122223333")
	out, err := emutest.OrganizationsClient(e.url, "us-east-1", creds).ListAccounts(context.Background(), &organizations.ListAccountsInput{})
	if err != nil || len(out.Accounts) != 2 {
		t.Fatalf("ListAccounts: %+v %v", out, err)
	}
	_, err = emutest.STSClient(e.url, "us-east-1", creds).AssumeRole(context.Background(), &sts.AssumeRoleInput{
		RoleArn: aws.String("arn:aws:iam::444455556666:role/r"), RoleSessionName: aws.String("s1")})
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != "AccessDenied" {
		t.Fatalf("AssumeRole into the refusing account: %v", err)
	}
	e.stop(syscall.SIGTERM)
}

func TestProgramFlagsApply(t *testing.T) {
	e := startEmu(t, "--default-account", "777788889999", "--pending-describes", "1", "--not-found-describes", "1")
	// An access key id without 12 trailing digits acts as the default account.
	c := emutest.EC2Client(e.url, "us-east-1", credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "secret", ""))
	out, err := c.RegisterImage(context.Background(), &ec2.RegisterImageInput{Name: aws.String("new"), RootDeviceName: aws.String("/dev/xvda")})
	if err != nil {
		t.Fatal(err)
	}
	id := aws.ToString(out.ImageId)
	_, err = c.DescribeImages(context.Background(), &ec2.DescribeImagesInput{ImageIds: []string{id}})
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != "InvalidAMIID.NotFound" {
		t.Fatalf("first describe: %v, want InvalidAMIID.NotFound (--not-found-describes 1)", err)
	}
	d, err := c.DescribeImages(context.Background(), &ec2.DescribeImagesInput{ImageIds: []string{id}})
	if err != nil || len(d.Images) != 1 || d.Images[0].State != types.ImageStatePending || aws.ToString(d.Images[0].OwnerId) != "777788889999" {
		t.Fatalf("second describe: %+v %v, want pending and owned by the default account", d, err)
	}
	e.stop(syscall.SIGTERM)
}

func TestProgramStartErrors(t *testing.T) {
	dir := t.TempDir()
	corrupt := filepath.Join(dir, "corrupt.json")
	if err := os.WriteFile(corrupt, []byte(`{"format":"ec2emu-state","version":1,"state":{"images":`), 0o600); err != nil {
		t.Fatal(err)
	}
	badSeed := filepath.Join(dir, "seed.json")
	if err := os.WriteFile(badSeed, []byte(`[{"region":"us-east-1","name":"x","watermarks":["no"]}]`), 0o600); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		args []string
		want []string
	}{
		{"corrupt state", []string{"--state", corrupt}, []string{corrupt, "ends too early", "move it away"}},
		{"state dir missing", []string{"--state", filepath.Join(dir, "nope", "s.json")}, []string{filepath.Join(dir, "nope"), "does the directory exist"}},
		{"seed missing", []string{"--seed", filepath.Join(dir, "missing.json")}, []string{"--seed", "missing.json", "no such file"}},
		{"bad seed", []string{"--seed", badSeed}, []string{"--seed " + badSeed, `images[0] (name "x"): watermarks[0] (key "no")`}},
		{"bad account", []string{"--default-account", "abc"}, []string{`--default-account "abc" is not a 12-digit account id`}},
		{"negative", []string{"--pending-describes", "-1"}, []string{"must not be negative"}},
		{"write-behind negative", []string{"--write-behind", "-1s"}, []string{"--write-behind -1s is out of range"}},
		{"extra arg", []string{"serve"}, []string{`unexpected argument "serve"`}},
		{"unknown flag", []string{"--port", "1"}, []string{"flag provided but not defined: -port"}},
		{"bad addr", []string{"--addr", "127.0.0.1:notaport"}, []string{"--addr 127.0.0.1:notaport"}},
		{"bad throttle", []string{"--throttle", "aws"}, []string{`--throttle "aws" is not a throttle model: use "ec2"`}},
		{"negative latency", []string{"--latency-per-item", "-1ms"}, []string{"--latency-per-item -1ms is out of range"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			cmd := exec.Command(emuBin, c.args...)
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			err := cmd.Run()
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.ExitCode() != 1 {
				t.Fatalf("exit: %v, want code 1; stdout %q stderr %q", err, stdout.String(), stderr.String())
			}
			if stdout.Len() != 0 {
				t.Errorf("stdout %q, want nothing (no listening line)", stdout.String())
			}
			for _, w := range c.want {
				if !strings.Contains(stderr.String(), w) {
					t.Errorf("stderr %q does not contain %q", stderr.String(), w)
				}
			}
		})
	}
	// The corrupt file is left as it was.
	if b, _ := os.ReadFile(corrupt); !strings.HasSuffix(string(b), `"images":`) {
		t.Errorf("the corrupt state file was changed: %q", b)
	}
}

func TestProgramParseFlags(t *testing.T) {
	c, err := parseFlags([]string{"--addr", "127.0.0.1:8080", "--state", "s.json", "--available-after", "2s", "--pending-describes", "3"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.addr != "127.0.0.1:8080" || c.state != "s.json" || c.opts.AvailableAfter != 2*time.Second || c.opts.PendingDescribes != 3 || c.opts.DefaultAccount != "123456789012" {
		t.Errorf("parsed %+v", c)
	}
	c, err = parseFlags(nil, io.Discard)
	if err != nil || c.addr != "127.0.0.1:0" || c.writeBehind != 100*time.Millisecond {
		t.Errorf("defaults: %+v %v", c, err)
	}
	if c, err = parseFlags([]string{"--write-behind", "0"}, io.Discard); err != nil || c.writeBehind != 0 {
		t.Errorf("--write-behind 0: %+v %v", c, err)
	}
}

// TestProgramModelFlags: --throttle ec2 and the latency flags are in force
// from the start and shown by GET /_emu/config.
func TestProgramModelFlags(t *testing.T) {
	e := startEmu(t, "--throttle", "ec2", "--latency-base", "120ms", "--latency-per-item", "1ms")
	if code, m := e.control("GET", "/_emu/config", ""); code != 200 || m["throttle"] != "ec2" ||
		!jsonHas(m["latency_model"], "base", "120ms") || !jsonHas(m["latency_model"], "per_item", "1ms") {
		t.Fatalf("GET /_emu/config = %d %v", code, m)
	}
	c := emutest.EC2Client(e.url, "us-east-1", emutest.Credentials("111122223333"), func(o *ec2.Options) { o.RetryMaxAttempts = 1 })
	start := time.Now()
	_, err := c.DescribeImages(context.Background(), &ec2.DescribeImagesInput{Owners: []string{"self"}})
	if d := time.Since(start); err != nil || d < 120*time.Millisecond || d > time.Second {
		t.Fatalf("first describe: %v in %s, want success in 120ms (+ little)", err, d)
	}
	var wg sync.WaitGroup
	var throttled atomic.Int32
	for range 120 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := c.DescribeImages(context.Background(), &ec2.DescribeImagesInput{Owners: []string{"self"}})
			var ae smithy.APIError
			if errors.As(err, &ae) && ae.ErrorCode() == "RequestLimitExceeded" {
				throttled.Add(1)
			}
		}()
	}
	wg.Wait()
	// 99 tokens left plus the few refilled while the 120 arrive: some are
	// throttled, never more than 21.
	if n := throttled.Load(); n < 1 || n > 21 {
		t.Errorf("%d of 120 concurrent describes throttled, want 1 to 21", n)
	}
	e.stop(syscall.SIGTERM)
}

func jsonHas(v any, key, want string) bool {
	m, _ := v.(map[string]any)
	return m[key] == want
}

// TestProgramStopsDuringLatency: a request sleeping in injected latency does
// not hold up a graceful stop, and the state is still written.
func TestProgramStopsDuringLatency(t *testing.T) {
	state := filepath.Join(t.TempDir(), "state.json")
	e := startEmu(t, "--state", state)
	if code, m := e.control("POST", "/_emu/faults", `{"latency":"10m","actions":["DescribeImages"]}`); code != 200 {
		t.Fatalf("faults: %d %v", code, m)
	}
	c := e.client("us-east-1", "111122223333")
	done := make(chan error, 1)
	go func() {
		_, err := c.DescribeImages(context.Background(), &ec2.DescribeImagesInput{})
		done <- err
	}()
	// Wait until the request is in the emulator (counted).
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, m := e.control("GET", "/_emu/stats", "")
		if m["total"] == float64(1) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the describe never reached the emulator: %v", m)
		}
		time.Sleep(10 * time.Millisecond)
	}
	start := time.Now()
	code, rest := e.stop(syscall.SIGTERM)
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("stop took %s with a request in injected latency", d)
	}
	if code != 0 || len(rest) == 0 || !strings.HasPrefix(rest[len(rest)-1], "stopped; state saved to "+state) {
		t.Errorf("exit %d, last lines %q", code, rest)
	}
	select {
	case err := <-done:
		if err == nil {
			t.Error("the describe in latency succeeded across the stop")
		}
	case <-time.After(30 * time.Second):
		t.Error("the describe never returned")
	}
}
