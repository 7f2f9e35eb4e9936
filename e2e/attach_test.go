package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/amiwatermark/packer-plugin-amiwatermark/internal/testkit"
)

// cliBuild is cmd/amiwatermark, built once per test binary into a
// temporary directory that TestMain removes.
var cliBuild struct {
	once sync.Once
	dir  string
	path string
	err  error
}

// cliBinary builds cmd/amiwatermark once per test binary.
func cliBinary(t *testing.T) string {
	t.Helper()
	cliBuild.once.Do(func() {
		if cliBuild.dir, cliBuild.err = os.MkdirTemp("", "amiwatermark-e2e-cli-"); cliBuild.err != nil {
			return
		}
		cliBuild.path = filepath.Join(cliBuild.dir, "amiwatermark"+testkit.Exe())
		cliBuild.err = testkit.GoBuild(root, cliBuild.path, "./cmd/amiwatermark")
	})
	if cliBuild.err != nil {
		t.Fatalf("building the CLI: %v", cliBuild.err)
	}
	return cliBuild.path
}

// runCLI runs the built amiwatermark binary as testAccount against this
// stack's emulator (--endpoint is added after the command) with the
// environment packer runs get (no user AWS configuration).
func (p *stack) runCLI(t *testing.T, dir string, args ...string) result {
	t.Helper()
	full := append([]string{args[0], "--endpoint", p.emuURL}, args[1:]...)
	ctx, cancel := context.WithTimeout(context.Background(), testkit.DefaultTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, cliBinary(t), full...)
	cmd.Dir = dir
	empty := filepath.Join(t.TempDir(), "empty-aws-config")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	cmd.Env = p.Environ("AWS_ACCESS_KEY_ID="+testAccessKey, "AWS_SECRET_ACCESS_KEY="+testSecretKey,
		"AWS_CONFIG_FILE="+empty, "AWS_SHARED_CREDENTIALS_FILE="+empty)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err := cmd.Run()
	r := result{Args: full, Stdout: stdout.String(), Stderr: stderr.String(), Duration: time.Since(start)}
	var exitErr *exec.ExitError
	switch {
	case ctx.Err() != nil:
		t.Fatalf("amiwatermark %s did not finish within %s\n%s", strings.Join(full, " "), testkit.DefaultTimeout, r)
	case err == nil:
	case errors.As(err, &exitErr):
		r.Code = exitErr.ExitCode()
	default:
		t.Fatalf("amiwatermark %s: %v", strings.Join(full, " "), err)
	}
	t.Logf("amiwatermark (%s) %s", p.Name(), r)
	return r
}

// TestAttachPackerManifest (issue 16): two real `packer build` runs write a
// manifest without watermarking; `amiwatermark attach --packer-manifest
// --last` approves the last run's AMIs only, re-attaching the golden key
// they inherited so that it is attached to them; detach removes the
// approval again. Every result is read back through the SDK.
func TestAttachPackerManifest(t *testing.T) {
	forEachPacker(t, func(t *testing.T, p *stack) {
		p.resetEmulator(t)
		p.seedGoldenBases(t)
		tpl := testdata("attach-manifest.pkr.hcl")
		dir := t.TempDir()

		mustSucceed(t, p.ebsBuild(t, dir, tpl, p.endpointVar(), "base_ami="+ebsBaseID))
		first := p.builtAMIs(t, testAccessKey, "attach-app", "us-east-1", "eu-west-1")
		// The AMI names carry a timestamp in seconds: the second run must not
		// reuse it.
		time.Sleep(1100 * time.Millisecond)
		mustSucceed(t, p.ebsBuild(t, dir, tpl, p.endpointVar(), "base_ami="+ebsBaseID))
		manifestPath := filepath.Join(dir, "packer-manifest.json")
		var m manifest
		b, err := os.ReadFile(manifestPath)
		if err != nil || json.Unmarshal(b, &m) != nil || len(m.Builds) != 2 {
			t.Fatalf("manifest after two runs: %s (%v)", b, err)
		}
		last := m.Builds[1]
		var second = map[string]string{}
		for _, part := range strings.Split(last.ArtifactID, ",") {
			region, id, _ := strings.Cut(part, ":")
			second[region] = id
		}
		if len(second) != 2 || second["us-east-1"] == first["us-east-1"] {
			t.Fatalf("second run's artifact %q, first run's AMIs %v", last.ArtifactID, first)
		}
		for region, id := range second {
			w := watermarkOf(t, p.wantKeys(t, region, id, key("golden-base")), key("golden-base"))
			if aws.ToString(w.SourceImageId) != ebsBaseID {
				t.Fatalf("%s %s: golden-base source %s, want the base %s (inherited)", region, id, aws.ToString(w.SourceImageId), ebsBaseID)
			}
		}

		// Two runs of the same build: which one is meant? Refused, nothing asked.
		r := p.runCLI(t, dir, "attach", "--packer-manifest", "packer-manifest.json", "--name", "approved")
		if r.Code != 2 || !strings.Contains(r.Stderr, "appears 2 times") || !strings.Contains(r.Stderr, "--last") {
			t.Fatalf("attach without --last: exit %d, want 2 naming the ambiguity\n%s", r.Code, r)
		}

		// A dry run changes nothing.
		r = p.runCLI(t, dir, "attach", "--packer-manifest", "packer-manifest.json", "--last", "--name", "approved", "--name", "golden-base", "--dry-run")
		mustSucceed(t, r)
		for region, id := range second {
			p.wantKeys(t, region, id, key("golden-base"))
		}

		// The approval: the last run's AMIs get "approved", and golden-base is
		// re-attached to each AMI itself.
		r = p.runCLI(t, dir, "attach", "--packer-manifest", "packer-manifest.json", "--last", "--build", "app",
			"--name", "approved", "--name", "golden-base", "--json")
		mustSucceed(t, r)
		var doc struct {
			OK   bool `json:"ok"`
			AMIs []struct {
				Region     string   `json:"region"`
				ImageID    string   `json:"image_id"`
				Reattached []string `json:"reattached"`
				Keys       []string `json:"keys"`
			} `json:"amis"`
		}
		if err := json.Unmarshal([]byte(r.Stdout), &doc); err != nil || !doc.OK || len(doc.AMIs) != 2 {
			t.Fatalf("--json: %v\n%s", err, r.Stdout)
		}
		for _, a := range doc.AMIs {
			if second[a.Region] != a.ImageID || strings.Join(a.Reattached, ",") != key("golden-base") {
				t.Errorf("--json AMI %+v", a)
			}
		}
		for region, id := range second {
			img := p.wantKeys(t, region, id, key("golden-base"), key("approved"))
			for _, k := range []string{key("golden-base"), key("approved")} {
				w := watermarkOf(t, img, k)
				if aws.ToString(w.SourceImageId) != id || aws.ToString(w.SourceImageRegion) != region {
					t.Errorf("%s %s: %s attached to %s/%s, want the AMI itself", region, id, k, aws.ToString(w.SourceImageRegion), aws.ToString(w.SourceImageId))
				}
			}
		}
		// The first run's AMIs were not touched.
		for region, id := range first {
			p.wantKeys(t, region, id, key("golden-base"))
		}

		// detach takes the approval back from the same AMIs.
		mustSucceed(t, p.runCLI(t, dir, "detach", "--packer-manifest", "packer-manifest.json", "--last", "--name", "approved"))
		for region, id := range second {
			p.wantKeys(t, region, id, key("golden-base"))
		}
	})
}

// TestAttachImageBuilderImage (issue 16): the recipe's command against the
// emulator program: an EC2 Image Builder image build version (GetImage over
// REST-JSON) whose output AMIs are emulator images in two regions of the
// build account and one copy in another account. The run is refused naming
// the other account's copy, then --skip-other-accounts watermarks the
// account's own AMIs, each attached to itself (checked through the SDK).
func TestAttachImageBuilderImage(t *testing.T) {
	forEachPacker(t, func(t *testing.T, p *stack) {
		p.resetEmulator(t)
		const (
			east  = "ami-0e2e00000001b0001"
			west  = "ami-0e2e00000001b0002"
			other = "ami-0e2e00000001b0003"
			arn   = "arn:aws:imagebuilder:us-east-1:" + testAccount + ":image/golden-base/2026.11.0/1"
		)
		p.emuDo(t, "POST", "/_emu/seed", map[string]any{
			"images": []seedImage{
				{Region: "us-east-1", Account: testAccount, ImageID: east, Name: "golden-base-2026.11.0"},
				{Region: "eu-west-1", Account: testAccount, ImageID: west, Name: "golden-base-2026.11.0"},
				{Region: "eu-west-1", Account: otherAccount, ImageID: other, Name: "golden-base-2026.11.0"},
			},
			"image_builder_images": []map[string]any{{
				"arn":         arn,
				"output_amis": []map[string]string{{"image": east}, {"image": west}, {"image": other}},
			}},
		}, nil)
		dir := t.TempDir()

		r := p.runCLI(t, dir, "attach", "--image-builder-image", arn, "--name", "golden-base")
		if r.Code != 1 || !strings.Contains(squash(r.Stderr), "eu-west-1 "+other+": owned by account "+otherAccount) ||
			!strings.Contains(r.Stderr, "before distribution") {
			t.Fatalf("attach with another account's copy: exit %d, want 1 naming it\n%s", r.Code, r)
		}
		p.wantKeys(t, "us-east-1", east)
		p.wantKeys(t, "eu-west-1", west)

		r = p.runCLI(t, dir, "attach", "--image-builder-image", arn, "--name", "golden-base", "--skip-other-accounts")
		mustSucceed(t, r)
		if !strings.Contains(r.Stdout, "SKIPPED eu-west-1 "+other+": not attachable by this account (owner "+otherAccount+")") {
			t.Errorf("stdout does not list the other account's copy:\n%s", r.Stdout)
		}
		for region, id := range map[string]string{"us-east-1": east, "eu-west-1": west} {
			w := watermarkOf(t, p.wantKeys(t, region, id, key("golden-base")), key("golden-base"))
			if aws.ToString(w.SourceImageId) != id || aws.ToString(w.SourceImageRegion) != region {
				t.Errorf("%s %s: golden-base attached to %s/%s, want the AMI itself", region, id, aws.ToString(w.SourceImageRegion), aws.ToString(w.SourceImageId))
			}
		}
	})
}
