// Package e2e runs real packer binaries with the real plugin against the EC2
// emulator (cmd/ec2emu), on two Packers:
//
//   - Packer 1.9.4 (tools/packer, bin/packer), the last MPL release;
//   - the newest Packer that builds from the module proxy, 1.16.0
//     (tools/packer-modern, bin/packer-modern).
//
// Every test runs once per Packer, as the subtests packer-1.9.4 and
// packer-1.16.0 of each test (forEachPacker), in parallel: each Packer has
// its own emulator, plugin directory, home and cache (a [stack]), so the two
// never share state. Within one Packer the tests run one after another, as
// they reset and seed their emulator.
//
// Both Packers get both plugins the way their users install them: this
// plugin (built as a release, 0.1.0, so `version = ">= 0.1.0"` matches) and
// the amazon plugin v1.8.2 (tools/packer-plugin-amazon,
// bin/packer-plugin-amazon), with `packer plugins install --path` on 1.16.0
// and the same layout by hand on 1.9.4 (which has no --path; it is where
// `packer init` puts them). The templates declare them in required_plugins.
//
// TestMain builds what is missing (the Makefile's `tools` target builds the
// same binaries once into bin/; a test run builds them only when they are
// absent or of another version) and stops the emulators with SIGTERM at the
// end. Set E2E_PACKER_LOG=1 to run packer with PACKER_LOG=1, and
// E2E_PACKERS=1.9.4 (or 1.16.0) to run on one Packer only.
package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/amiwatermark/packer-plugin-amiwatermark/internal/ec2emu"
	"github.com/amiwatermark/packer-plugin-amiwatermark/internal/ec2emu/emutest"
	"github.com/amiwatermark/packer-plugin-amiwatermark/internal/testkit"
)

const (
	// legacyPacker and modernPacker are the versions tools/packer and
	// tools/packer-modern pin; amazonPlugin is tools/packer-plugin-amazon's.
	legacyPacker = "1.9.4"
	modernPacker = "1.16.0"
	amazonPlugin = "1.8.2"
	// amazonSource is the amazon plugin's required_plugins source.
	amazonSource = "github.com/hashicorp/amazon"

	// testAccessKey ends in 12 digits, so the emulator acts as that account.
	testAccessKey = "AKIDTEST111122223333"
	testSecretKey = "e2e-not-a-secret"
	testAccount   = "111122223333"
	// otherAccount owns look-alike images in some scenarios.
	otherAccount = "444455556666"
	// pluginSource is the required_plugins source users write.
	pluginSource = testkit.PluginSource
)

// root is the repository root.
var root string

// stacks are the Packers under test, each with its own emulator.
var stacks []*stack

// stack is one Packer under test: the binary with its private plugin,
// home and cache directories (testkit.Packer), and its own emulator
// program. Tests get it from forEachPacker and call the helpers on it.
type stack struct {
	*testkit.Packer
	emu    *testkit.Program
	emuURL string
	mu     sync.Mutex // one test at a time per stack
}

// forEachPacker runs f as a parallel subtest per Packer, named after it
// (packer-1.9.4, packer-1.16.0). Within one Packer the subtests of
// different tests never overlap (they share its emulator).
func forEachPacker(t *testing.T, f func(t *testing.T, p *stack)) {
	t.Helper()
	for _, p := range stacks {
		t.Run(p.Name(), func(t *testing.T) {
			t.Parallel()
			p.mu.Lock()
			defer p.mu.Unlock()
			f(t, p)
		})
	}
}

// modern reports whether the stack runs a Packer >= 1.10 (plugins only
// from `packer plugins install`, no bundled plugins).
func (p *stack) modern() bool { return p.AtLeast(1, 10) }

func TestMain(m *testing.M) {
	code, err := setupAndRun(m)
	if err != nil {
		fmt.Fprintf(os.Stderr, "e2e: %v\n", err)
		if code == 0 {
			code = 1
		}
	}
	testkit.RemoveBuilds()
	if devPlugin.bin != "" {
		os.RemoveAll(filepath.Dir(devPlugin.bin))
	}
	if cliBuild.dir != "" {
		os.RemoveAll(cliBuild.dir)
	}
	os.Exit(code)
}

func setupAndRun(m *testing.M) (code int, err error) {
	if root, err = testkit.RepoRoot(); err != nil {
		return 1, err
	}
	tmp, err := os.MkdirTemp("", "amiwatermark-e2e-")
	if err != nil {
		return 1, err
	}
	defer os.RemoveAll(tmp)

	// The binaries, built only when missing.
	amazon := filepath.Join(root, "bin", "packer-plugin-amazon"+testkit.Exe())
	if err := ensureTool(amazon, "packer-plugin-amazon", "github.com/hashicorp/packer-plugin-amazon", amazonPlugin,
		func(bin string) (string, error) { d, err := testkit.Describe(bin); return d.Version, err },
		"-ldflags", "-X github.com/hashicorp/packer-plugin-amazon/version.VersionPrerelease="); err != nil {
		return 1, err
	}
	plugin := filepath.Join(tmp, "build", "packer-plugin-amiwatermark"+testkit.Exe())
	if err := testkit.BuildPlugin(plugin, true); err != nil {
		return 1, err
	}
	emuBin, err := testkit.BuildEmulator()
	if err != nil {
		return 1, err
	}

	bins := []struct{ version, bin, tool string }{
		{legacyPacker, filepath.Join(root, "bin", "packer"+testkit.Exe()), "packer"},
		{modernPacker, filepath.Join(root, "bin", "packer-modern"+testkit.Exe()), "packer-modern"},
	}
	only := os.Getenv("E2E_PACKERS")
	for _, b := range bins {
		if only != "" && !strings.Contains(only, b.version) {
			continue
		}
		if err := ensureTool(b.bin, b.tool, "github.com/hashicorp/packer", b.version, testkit.PackerVersion); err != nil {
			return 1, err
		}
		pk, err := testkit.NewPacker(b.bin, filepath.Join(tmp, "packer-"+b.version))
		if err != nil {
			return 1, err
		}
		for _, pl := range []struct{ bin, source string }{{plugin, pluginSource}, {amazon, amazonSource}} {
			if err := pk.Install(pl.bin, pl.source); err != nil {
				return 1, fmt.Errorf("installing %s for %s: %w", pl.source, pk.Name(), err)
			}
		}
		emu, err := testkit.Start(emuBin, "--addr", "127.0.0.1:0")
		if err != nil {
			return 1, err
		}
		s := &stack{Packer: pk, emu: emu, emuURL: emu.URL}
		stacks = append(stacks, s)
		defer func() {
			if serr := s.emu.Stop(); serr != nil && err == nil {
				err = fmt.Errorf("the emulator of %s: %w", s.Name(), serr)
			}
			if code != 0 {
				fmt.Fprintf(os.Stderr, "--- emulator output (%s) ---\n%s\n", s.Name(), s.emu.Stderr.String())
			}
		}()
		resp, err := http.Get(s.emuURL + "/_emu/health")
		if err != nil {
			return 1, fmt.Errorf("emulator health check: %w", err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return 1, fmt.Errorf("emulator health check: HTTP %d", resp.StatusCode)
		}
	}
	if len(stacks) == 0 {
		return 1, fmt.Errorf("E2E_PACKERS=%q selects none of %s and %s", only, legacyPacker, modernPacker)
	}
	return m.Run(), nil
}

// ensureTool makes sure bin is version (as versionOf reads it), building
// pkg from the module in tools/<tool> when it is missing or another
// version (`make tools` builds the same binaries).
func ensureTool(bin, tool, pkg, version string, versionOf func(string) (string, error), flags ...string) error {
	if v, err := versionOf(bin); err == nil && v == version {
		return nil
	}
	fmt.Fprintf(os.Stderr, "e2e: building %s v%s into %s (one time, several minutes)\n", pkg, version, bin)
	args := append([]string{"-C", filepath.Join(root, "tools", tool), "build"}, flags...)
	cmd := exec.Command("go", append(args, "-o", bin, pkg)...)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("building %s v%s from tools/%s: %v\n%s", pkg, version, tool, err, out)
	}
	if v, err := versionOf(bin); err != nil || v != version {
		return fmt.Errorf("%s is version %q (%v) after the build, want %s", bin, v, err, version)
	}
	return nil
}

// ---------------------------------------------------------------------------
// Emulator control

// The seed and stats schemas are the emulator's own (one definition).
type (
	seedImage     = ec2emu.SeedImage
	seedWatermark = ec2emu.SeedWatermark
	emuStats      = ec2emu.Stats
)

func (p *stack) emuDo(t *testing.T, method, path string, body any, out any) {
	t.Helper()
	testkit.DoJSON(t, method, p.emuURL+path, body, out)
}

// resetEmulator clears all emulator state (images, stats, faults, clock).
func (p *stack) resetEmulator(t *testing.T) {
	t.Helper()
	p.emuDo(t, http.MethodPost, "/_emu/reset", nil, nil)
}

// resetStats clears only the call counters.
func (p *stack) resetStats(t *testing.T) {
	t.Helper()
	p.emuDo(t, http.MethodPost, "/_emu/stats/reset", nil, nil)
}

func (p *stack) getStats(t *testing.T) emuStats {
	t.Helper()
	var s emuStats
	p.emuDo(t, http.MethodGet, "/_emu/stats", nil, &s)
	return s
}

// seed creates images and returns their ids in order.
func (p *stack) seed(t *testing.T, imgs ...seedImage) []string {
	t.Helper()
	var out struct {
		ImageIDs []string `json:"image_ids"`
	}
	p.emuDo(t, http.MethodPost, "/_emu/images", imgs, &out)
	if len(out.ImageIDs) != len(imgs) {
		t.Fatalf("POST /_emu/images returned %d ids for %d images", len(out.ImageIDs), len(imgs))
	}
	return out.ImageIDs
}

// seedFile seeds the images of a JSON file in the /_emu/images format.
func (p *stack) seedFile(t *testing.T, path string) []string {
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
	p.emuDo(t, http.MethodPost, "/_emu/images", imgs, &out)
	if len(out.ImageIDs) != len(imgs) {
		t.Fatalf("POST /_emu/images returned %d ids for %d images of %s", len(out.ImageIDs), len(imgs), path)
	}
	return out.ImageIDs
}

// ---------------------------------------------------------------------------
// Checking EC2 state through the SDK

// ec2Client is an SDK client of the test account for this stack's
// emulator; ec2ClientAs one of another access key.
func (p *stack) ec2Client(region string) *ec2.Client { return p.ec2ClientAs(region, testAccessKey) }

func (p *stack) ec2ClientAs(region, akid string) *ec2.Client {
	return emutest.EC2Client(p.emuURL, region, credentials.NewStaticCredentialsProvider(akid, testSecretKey, ""),
		func(o *ec2.Options) { o.RetryMaxAttempts = 1 })
}

// describeImage returns the image as the test account sees it.
func (p *stack) describeImage(t *testing.T, region, id string) types.Image {
	t.Helper()
	return testkit.DescribeImage(t, p.ec2Client(region), id)
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
func (p *stack) wantKeys(t *testing.T, region, id string, want ...string) types.Image {
	t.Helper()
	img := p.describeImage(t, region, id)
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
type result = testkit.Result

// testdata returns the absolute path of a template under e2e/testdata.
func testdata(name string) string { return filepath.Join(root, "e2e", "testdata", name) }

// example returns the absolute path of a file under example/.
func example(name string) string { return filepath.Join(root, "example", name) }

// runPacker runs this stack's packer with args in dir (a fresh temp dir
// when "") and the extra environment variables, and logs the result.
func (p *stack) runPacker(t *testing.T, dir string, extraEnv []string, args ...string) result {
	t.Helper()
	return p.Run(t, dir, extraEnv, args...)
}

// ebsEnv is the environment of packer runs that use the amazon plugin
// against the emulator (docs/emulator.md):
//   - AWS_POLL_DELAY_SECONDS=1: the amazon plugin's waiters poll every
//     second (the emulator's transitions take one describe each); 0 makes
//     v1.8's waiters fail with "minDelay must be greater than zero";
//   - AWS_ENDPOINT_URL_STS: the plugin validates its credentials with
//     sts:GetCallerIdentity, which the emulator answers;
//   - AWS_ENDPOINT_URL_EC2: the plugin's ami_regions copy step builds its
//     regional clients without custom_endpoint_ec2 (an amazon plugin bug),
//     so the environment points them at the emulator.
//
// Our plugin reads neither variable's endpoint over custom_endpoint_ec2.
func (p *stack) ebsEnv() []string {
	return []string{"AWS_POLL_DELAY_SECONDS=1", "AWS_ENDPOINT_URL_STS=" + p.emuURL, "AWS_ENDPOINT_URL_EC2=" + p.emuURL}
}

// mustSucceed fails the test unless r exited 0.
func mustSucceed(t *testing.T, r result) {
	t.Helper()
	if r.Code != 0 {
		t.Fatalf("packer %s exited %d, want 0", strings.Join(r.Args, " "), r.Code)
	}
}

// mustFail fails the test unless r exited non-zero.
func mustFail(t *testing.T, r result) {
	t.Helper()
	if r.Code == 0 {
		t.Fatalf("packer %s exited 0, want a failure", strings.Join(r.Args, " "))
	}
}

// mustContain fails unless the output of r contains every want. Runs of
// white space count as one space on both sides, so a message packer wrapped
// or indented still matches.
func mustContain(t *testing.T, r result, wants ...string) {
	t.Helper()
	out := squash(r.Output())
	for _, w := range wants {
		if !strings.Contains(out, squash(w)) {
			t.Errorf("packer %s: output does not contain %q", strings.Join(r.Args, " "), w)
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
func (p *stack) endpointVar() string { return "endpoint=" + p.emuURL }

// validate runs `packer validate` with the variables.
func (p *stack) validate(t *testing.T, template string, kv ...string) result {
	t.Helper()
	args := append([]string{"validate"}, vars(kv...)...)
	return p.runPacker(t, "", nil, append(args, template)...)
}

// build runs `packer build -color=false` in dir with the variables.
func (p *stack) build(t *testing.T, dir, template string, kv ...string) result {
	t.Helper()
	args := append([]string{"build", "-color=false"}, vars(kv...)...)
	return p.runPacker(t, dir, nil, append(args, template)...)
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
