// Package e2e runs the real packer binary (v1.9.4, pinned in tools/packer)
// with the real plugin against the EC2 emulator (cmd/ec2emu).
//
// TestMain builds what the tests need once: bin/packer when it is missing or
// not v1.9.4, the plugin (installed into a private PACKER_PLUGIN_PATH the way
// `packer plugins install` lays it out, so templates with required_plugins
// work too) and the emulator, which it starts on a free loopback port and
// stops with SIGTERM at the end. Nothing outside the repository is needed
// except the Go module proxy.
//
// Set E2E_PACKER_LOG=1 to run every packer command with PACKER_LOG=1.
package e2e

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

const (
	// packerVersion is the version tools/packer pins.
	packerVersion = "1.9.4"
	// testAccessKey ends in 12 digits, so the emulator acts as that account.
	testAccessKey = "AKIDTEST111122223333"
	testSecretKey = "e2e-not-a-secret"
	testAccount   = "111122223333"
	// otherAccount owns look-alike images in some scenarios.
	otherAccount = "444455556666"
	// pluginSource is the required_plugins source users write.
	pluginSource = "github.com/amiwatermark/amiwatermark"

	// commandTimeout bounds one packer command.
	commandTimeout = 3 * time.Minute
)

// env is the state TestMain prepares for every test.
var env struct {
	root       string // repository root
	packer     string // path of bin/packer
	tmp        string // private temp dir, removed at the end
	pluginPath string // PACKER_PLUGIN_PATH for packer runs
	home       string // HOME/APPDATA for packer runs
	emuURL     string // http://127.0.0.1:PORT
	emuLog     *syncBuffer
}

func TestMain(m *testing.M) {
	code, err := setupAndRun(m)
	if err != nil {
		fmt.Fprintf(os.Stderr, "e2e: %v\n", err)
		if code == 0 {
			code = 1
		}
	}
	os.Exit(code)
}

func setupAndRun(m *testing.M) (code int, err error) {
	root, err := repoRoot()
	if err != nil {
		return 1, err
	}
	env.root = root
	tmp, err := os.MkdirTemp("", "amiwatermark-e2e-")
	if err != nil {
		return 1, err
	}
	env.tmp = tmp
	defer os.RemoveAll(tmp)

	if env.packer, err = ensurePacker(root); err != nil {
		return 1, err
	}
	if env.pluginPath, err = installPlugin(root, filepath.Join(tmp, "plugins")); err != nil {
		return 1, err
	}
	env.home = filepath.Join(tmp, "home")
	if err := os.MkdirAll(env.home, 0o755); err != nil {
		return 1, err
	}
	emuBin := filepath.Join(tmp, "bin", "ec2emu"+exeSuffix())
	if err := goBuild(root, emuBin, "./cmd/ec2emu"); err != nil {
		return 1, err
	}
	stop, err := startEmulator(emuBin)
	if err != nil {
		return 1, err
	}
	defer func() {
		if serr := stop(); serr != nil && err == nil {
			err = serr
		}
		if code != 0 && env.emuLog != nil {
			fmt.Fprintf(os.Stderr, "--- emulator output ---\n%s\n", env.emuLog.String())
		}
	}()
	return m.Run(), nil
}

// repoRoot walks up from the working directory (e2e/) to go.mod.
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			if _, err := os.Stat(filepath.Join(dir, "tools", "packer", "go.mod")); err == nil {
				return dir, nil
			}
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("cannot find the repository root (go.mod with tools/packer) above the working directory")
		}
		dir = parent
	}
}

func exeSuffix() string {
	if runtime.GOOS == "windows" {
		return ".exe"
	}
	return ""
}

// ensurePacker returns bin/packer, building it from tools/packer when it is
// missing or is not the pinned version.
func ensurePacker(root string) (string, error) {
	bin := filepath.Join(root, "bin", "packer"+exeSuffix())
	if out, err := exec.Command(bin, "version").Output(); err == nil && strings.Contains(string(out), "Packer v"+packerVersion) {
		return bin, nil
	}
	fmt.Fprintf(os.Stderr, "e2e: building packer v%s into %s (one time, a few minutes)\n", packerVersion, bin)
	cmd := exec.Command("go", "-C", filepath.Join(root, "tools", "packer"), "build", "-o", bin, "github.com/hashicorp/packer")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("building packer v%s from tools/packer: %v\n%s", packerVersion, err, out)
	}
	out, err := exec.Command(bin, "version").Output()
	if err != nil || !strings.Contains(string(out), "Packer v"+packerVersion) {
		return "", fmt.Errorf("%s version = %q (%v), want Packer v%s", bin, out, err, packerVersion)
	}
	return bin, nil
}

// goBuild runs `go build -o out pkg` in the repository root.
func goBuild(root, out string, pkg string, extra ...string) error {
	args := append([]string{"build"}, extra...)
	args = append(args, "-o", out, pkg)
	cmd := exec.Command("go", args...)
	cmd.Dir = root
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go %s: %v\n%s", strings.Join(args, " "), err, b)
	}
	return nil
}

// installPlugin builds the plugin in its release form (no "dev" pre-release
// marker, so `version = ">= 0.1.0"` constraints match) and installs it under
// dir the way `packer plugins install` does:
// dir/github.com/amiwatermark/amiwatermark/packer-plugin-amiwatermark_vX.Y.Z_x5.0_os_arch
// plus its _SHA256SUM file. Packer finds it both for templates without
// required_plugins and for ones that require github.com/amiwatermark/amiwatermark.
func installPlugin(root, dir string) (string, error) {
	built := filepath.Join(dir, "..", "build", "packer-plugin-amiwatermark"+exeSuffix())
	if err := goBuild(root, built, ".", "-ldflags",
		"-X github.com/amiwatermark/packer-plugin-amiwatermark/version.VersionPrerelease="); err != nil {
		return "", err
	}
	out, err := exec.Command(built, "describe").Output()
	if err != nil {
		return "", fmt.Errorf("%s describe: %v", built, err)
	}
	var desc struct {
		Version    string `json:"version"`
		APIVersion string `json:"api_version"`
	}
	if err := json.Unmarshal(out, &desc); err != nil || desc.Version == "" || desc.APIVersion == "" {
		return "", fmt.Errorf("%s describe printed %q: want JSON with version and api_version (%v)", built, out, err)
	}
	name := fmt.Sprintf("packer-plugin-amiwatermark_v%s_%s_%s_%s%s", desc.Version, desc.APIVersion, runtime.GOOS, runtime.GOARCH, exeSuffix())
	dst := filepath.Join(dir, filepath.FromSlash(pluginSource), name)
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return "", err
	}
	data, err := os.ReadFile(built)
	if err != nil {
		return "", err
	}
	if err := os.WriteFile(dst, data, 0o755); err != nil {
		return "", err
	}
	sum := sha256.Sum256(data)
	if err := os.WriteFile(strings.TrimSuffix(dst, exeSuffix())+"_SHA256SUM", []byte(hex.EncodeToString(sum[:])), 0o644); err != nil {
		return "", err
	}
	return dir, nil
}

// syncBuffer collects the emulator's output.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// startEmulator starts bin on a free port, reads the URL from its first
// stdout line and returns a function that stops it with SIGTERM.
func startEmulator(bin string) (stop func() error, err error) {
	cmd := exec.Command(bin, "--addr", "127.0.0.1:0")
	env.emuLog = &syncBuffer{}
	cmd.Stderr = env.emuLog
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s: %w", bin, err)
	}
	lines := make(chan string, 1)
	go func() {
		r := bufio.NewReader(stdout)
		line, _ := r.ReadString('\n')
		lines <- line
		_, _ = io.Copy(env.emuLog, r)
	}()
	kill := func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }
	var first string
	select {
	case first = <-lines:
	case <-time.After(30 * time.Second):
		kill()
		return nil, fmt.Errorf("%s printed nothing within 30s; want `listening on http://HOST:PORT`", bin)
	}
	const prefix = "listening on "
	first = strings.TrimSpace(first)
	if !strings.HasPrefix(first, prefix) || !strings.HasPrefix(strings.TrimPrefix(first, prefix), "http://") {
		kill()
		return nil, fmt.Errorf("%s: first stdout line is %q, want `listening on http://HOST:PORT`\n%s", bin, first, env.emuLog.String())
	}
	env.emuURL = strings.TrimPrefix(first, prefix)
	resp, err := http.Get(env.emuURL + "/_emu/health")
	if err != nil {
		kill()
		return nil, fmt.Errorf("emulator health check: %w", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		kill()
		return nil, fmt.Errorf("emulator health check: HTTP %d", resp.StatusCode)
	}
	return func() error {
		if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
			kill()
			return fmt.Errorf("stopping the emulator: %w", err)
		}
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case err := <-done:
			if err != nil {
				return fmt.Errorf("the emulator did not stop cleanly on SIGTERM: %v", err)
			}
			return nil
		case <-time.After(15 * time.Second):
			kill()
			return errors.New("the emulator did not stop within 15s of SIGTERM")
		}
	}, nil
}

// ---------------------------------------------------------------------------
// Emulator control

// seedImage is one element of the POST /_emu/images body.
type seedImage struct {
	Region            string            `json:"region"`
	Account           string            `json:"account"`
	Name              string            `json:"name"`
	ImageID           string            `json:"image_id,omitempty"`
	CreationDate      string            `json:"creation_date,omitempty"`
	Description       string            `json:"description,omitempty"`
	State             string            `json:"state,omitempty"`
	Watermarks        []any             `json:"watermarks,omitempty"`
	Tags              map[string]string `json:"tags,omitempty"`
	Public            bool              `json:"public,omitempty"`
	SharedWith        []string          `json:"shared_with,omitempty"`
	SourceImageID     string            `json:"source_image_id,omitempty"`
	SourceImageRegion string            `json:"source_image_region,omitempty"`
	SourceInstanceID  string            `json:"source_instance_id,omitempty"`
	DeprecationTime   string            `json:"deprecation_time,omitempty"`
}

// seedWatermark is the object form of a seeded watermark.
type seedWatermark struct {
	Key                     string `json:"key"`
	SourceImageID           string `json:"source_image_id,omitempty"`
	SourceImageRegion       string `json:"source_image_region,omitempty"`
	SourceImageCreationTime string `json:"source_image_creation_time,omitempty"`
	WatermarkCreationTime   string `json:"watermark_creation_time,omitempty"`
}

// emuStats is GET /_emu/stats.
type emuStats struct {
	Total   int64                       `json:"total"`
	Actions map[string]int64            `json:"actions"`
	Regions map[string]map[string]int64 `json:"regions"`
	Faults  map[string]int64            `json:"faults"`
}

func emuDo(t *testing.T, method, path string, body any, out any) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, env.emuURL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode/100 != 2 {
		t.Fatalf("%s %s: HTTP %d: %s", method, path, resp.StatusCode, b)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("%s %s: decoding %q: %v", method, path, b, err)
		}
	}
}

// resetEmulator clears all emulator state (images, stats, faults, clock).
func resetEmulator(t *testing.T) { t.Helper(); emuDo(t, http.MethodPost, "/_emu/reset", nil, nil) }

// resetStats clears only the call counters.
func resetStats(t *testing.T) { t.Helper(); emuDo(t, http.MethodPost, "/_emu/stats/reset", nil, nil) }

func getStats(t *testing.T) emuStats {
	t.Helper()
	var s emuStats
	emuDo(t, http.MethodGet, "/_emu/stats", nil, &s)
	return s
}

// seed creates images and returns their ids in order.
func seed(t *testing.T, imgs ...seedImage) []string {
	t.Helper()
	var out struct {
		ImageIDs []string `json:"image_ids"`
	}
	emuDo(t, http.MethodPost, "/_emu/images", imgs, &out)
	if len(out.ImageIDs) != len(imgs) {
		t.Fatalf("POST /_emu/images returned %d ids for %d images", len(out.ImageIDs), len(imgs))
	}
	return out.ImageIDs
}

// seedFile seeds the images of a JSON file in the /_emu/images format.
func seedFile(t *testing.T, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var imgs []json.RawMessage
	if err := json.Unmarshal(b, &imgs); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	var out struct {
		ImageIDs []string `json:"image_ids"`
	}
	emuDo(t, http.MethodPost, "/_emu/images", imgs, &out)
	if len(out.ImageIDs) != len(imgs) {
		t.Fatalf("POST /_emu/images returned %d ids for %d images of %s", len(out.ImageIDs), len(imgs), path)
	}
	return out.ImageIDs
}

// ---------------------------------------------------------------------------
// Checking EC2 state through the SDK

func ec2Client(region string) *ec2.Client {
	return ec2.New(ec2.Options{
		Region:           region,
		Credentials:      credentials.NewStaticCredentialsProvider(testAccessKey, testSecretKey, ""),
		BaseEndpoint:     aws.String(env.emuURL),
		RetryMaxAttempts: 1,
	})
}

// describeImage returns the image as the test account sees it.
func describeImage(t *testing.T, region, id string) types.Image {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := ec2Client(region).DescribeImages(ctx, &ec2.DescribeImagesInput{ImageIds: []string{id}})
	if err != nil {
		t.Fatalf("DescribeImages %s in %s: %v", id, region, err)
	}
	if len(out.Images) != 1 {
		t.Fatalf("DescribeImages %s in %s returned %d images", id, region, len(out.Images))
	}
	return out.Images[0]
}

// keysOf returns the watermark keys of an image, sorted.
func keysOf(img types.Image) []string {
	var keys []string
	for _, w := range img.ImageWatermarks {
		keys = append(keys, aws.ToString(w.WatermarkKey))
	}
	sort.Strings(keys)
	return keys
}

// watermarkOf returns the watermark with key, or fails.
func watermarkOf(t *testing.T, img types.Image, key string) types.ImageWatermark {
	t.Helper()
	for _, w := range img.ImageWatermarks {
		if aws.ToString(w.WatermarkKey) == key {
			return w
		}
	}
	t.Fatalf("image %s has no watermark %s; it has %v", aws.ToString(img.ImageId), key, keysOf(img))
	return types.ImageWatermark{}
}

// wantKeys fails unless the image's keys are exactly want (any order).
func wantKeys(t *testing.T, region, id string, want ...string) types.Image {
	t.Helper()
	img := describeImage(t, region, id)
	got := keysOf(img)
	w := append([]string(nil), want...)
	sort.Strings(w)
	if strings.Join(got, ",") != strings.Join(w, ",") {
		t.Errorf("%s in %s: watermark keys = %v, want %v", id, region, got, w)
	}
	return img
}

// ---------------------------------------------------------------------------
// Running packer

// result is the outcome of one packer command.
type result struct {
	args   []string
	code   int
	stdout string
	stderr string
}

// output is stdout and stderr together.
func (r result) output() string { return r.stdout + "\n" + r.stderr }

func (r result) String() string {
	return fmt.Sprintf("packer %s (exit %d)\n--- stdout ---\n%s\n--- stderr ---\n%s",
		strings.Join(r.args, " "), r.code, r.stdout, r.stderr)
}

// testdata returns the absolute path of a template under e2e/testdata.
func testdata(name string) string { return filepath.Join(env.root, "e2e", "testdata", name) }

// example returns the absolute path of a file under example/.
func example(name string) string { return filepath.Join(env.root, "example", name) }

// packerEnv is the environment of a packer child process: the test's
// environment without anything that could leak a user's Packer or AWS
// configuration into the run, plus a private HOME and plugin directory. Go's
// own caches are not affected: only the child gets the new HOME.
func packerEnv(extra []string) []string {
	var out []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch {
		case strings.HasPrefix(k, "PACKER_"), strings.HasPrefix(k, "AWS_"), strings.HasPrefix(k, "PKR_VAR_"),
			k == "HOME", k == "APPDATA", k == "USERPROFILE", k == "XDG_CONFIG_HOME", k == "CHECKPOINT_DISABLE":
			continue
		}
		out = append(out, kv)
	}
	out = append(out,
		"CHECKPOINT_DISABLE=1",
		"PACKER_PLUGIN_PATH="+env.pluginPath,
		"PACKER_CACHE_DIR="+filepath.Join(env.tmp, "packer_cache"),
		"HOME="+env.home,
		"APPDATA="+env.home,
		"USERPROFILE="+env.home,
		// No instance metadata lookups for credentials or region.
		"AWS_EC2_METADATA_DISABLED=true",
	)
	if os.Getenv("E2E_PACKER_LOG") != "" {
		out = append(out, "PACKER_LOG=1")
	}
	return append(out, extra...)
}

// runPacker runs bin/packer with args in dir (a fresh temp dir when "") and
// the extra environment variables.
func runPacker(t *testing.T, dir string, extraEnv []string, args ...string) result {
	t.Helper()
	if dir == "" {
		dir = t.TempDir()
	}
	ctx, cancel := context.WithTimeout(context.Background(), commandTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, env.packer, args...)
	cmd.Dir = dir
	cmd.Env = packerEnv(extraEnv)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	r := result{args: args, stdout: stdout.String(), stderr: stderr.String()}
	var exitErr *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exitErr):
		r.code = exitErr.ExitCode()
	default:
		t.Fatalf("packer %s: %v", strings.Join(args, " "), err)
	}
	if ctx.Err() != nil {
		t.Fatalf("packer %s did not finish within %s\n%s", strings.Join(args, " "), commandTimeout, r)
	}
	t.Logf("%s", r)
	return r
}

// mustSucceed fails the test unless r exited 0.
func mustSucceed(t *testing.T, r result) {
	t.Helper()
	if r.code != 0 {
		t.Fatalf("packer %s exited %d, want 0", strings.Join(r.args, " "), r.code)
	}
}

// mustFail fails the test unless r exited non-zero.
func mustFail(t *testing.T, r result) {
	t.Helper()
	if r.code == 0 {
		t.Fatalf("packer %s exited 0, want a failure", strings.Join(r.args, " "))
	}
}

// mustContain fails unless the output of r contains every want. Runs of
// white space count as one space on both sides, so a message packer wrapped
// or indented still matches.
func mustContain(t *testing.T, r result, wants ...string) {
	t.Helper()
	out := squash(r.output())
	for _, w := range wants {
		if !strings.Contains(out, squash(w)) {
			t.Errorf("packer %s: output does not contain %q", strings.Join(r.args, " "), w)
		}
	}
}

// squash replaces every run of white space with one space.
func squash(s string) string { return strings.Join(strings.Fields(s), " ") }

// vars turns name=value pairs into -var flags.
func vars(kv ...string) []string {
	var out []string
	for _, s := range kv {
		out = append(out, "-var", s)
	}
	return out
}

// endpointVar is the -var that points a template at the emulator.
func endpointVar() string { return "endpoint=" + env.emuURL }

// validate runs `packer validate` with the variables.
func validate(t *testing.T, template string, kv ...string) result {
	t.Helper()
	args := append([]string{"validate"}, vars(kv...)...)
	return runPacker(t, "", nil, append(args, template)...)
}

// build runs `packer build -color=false` in dir with the variables.
func build(t *testing.T, dir, template string, kv ...string) result {
	t.Helper()
	args := append([]string{"build", "-color=false"}, vars(kv...)...)
	return runPacker(t, dir, nil, append(args, template)...)
}

// manifest is what the manifest post-processor writes.
type manifestEntry struct {
	Name        string            `json:"name"`
	BuilderType string            `json:"builder_type"`
	ArtifactID  string            `json:"artifact_id"`
	CustomData  map[string]string `json:"custom_data"`
}

type manifest struct {
	Builds      []manifestEntry `json:"builds"`
	LastRunUUID string          `json:"last_run_uuid"`
}

// readManifest returns the custom_data of the last build in the manifest.
func readManifest(t *testing.T, path string) map[string]string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("reading the manifest: %v", err)
	}
	var m manifest
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("decoding the manifest %s: %v", b, err)
	}
	if len(m.Builds) == 0 {
		t.Fatalf("the manifest has no builds: %s", b)
	}
	return m.Builds[len(m.Builds)-1].CustomData
}
