package e2e

// Issue 12: the post-processor keeps the promises its docs make. Each test
// runs real `packer` builds against the emulator and checks the final
// state through the SDK.

import (
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/amiwatermark/packer-plugin-amiwatermark/internal/testkit"
)

// idsVar is the image_ids variable of image-ids.pkr.hcl.
func idsVar(regionID ...string) string {
	var parts []string
	for i := 0; i+1 < len(regionID); i += 2 {
		parts = append(parts, `"`+regionID[i]+`"="`+regionID[i+1]+`"`)
	}
	return "image_ids={" + strings.Join(parts, ",") + "}"
}

// faults makes the emulator fail calls; they are cleared when the test
// ends.
func (p *stack) faults(t *testing.T, f map[string]any) {
	t.Helper()
	p.emuDo(t, http.MethodPost, "/_emu/faults", f, nil)
	t.Cleanup(func() { p.emuDo(t, http.MethodPost, "/_emu/faults", map[string]any{}, nil) })
}

// wantSource checks that key on region/id has SourceImageId source.
func (p *stack) wantSource(t *testing.T, region, id, key, source string) {
	t.Helper()
	w := watermarkOf(t, p.describeImage(t, region, id), key)
	if got := aws.ToString(w.SourceImageId); got != source {
		t.Errorf("%s %s: %s has SourceImageId %s, want %s", region, id, key, got, source)
	}
}

// attachDenied makes AttachImageWatermark fail in region with
// UnauthorizedOperation (DryRun calls too).
func (p *stack) attachDenied(t *testing.T, region string) {
	p.faults(t, map[string]any{"fail_rate": 1, "fail_code": "UnauthorizedOperation", "fail_status": 403,
		"fail_message": "You are not authorized to perform this operation.",
		"actions":      []string{"AttachImageWatermark"}, "regions": []string{region}})
}

var amiInRegionRE = regexp.MustCompile(`(us-east-1|eu-west-1) (ami-[0-9a-f]{17})`)

// Item 1: a failed run says which AMIs Packer deregisters and how to keep
// them, and both documented ways of keeping them work.
func TestPromiseFailedRunAMIs(t *testing.T) {
	forEachPacker(t, func(t *testing.T, p *stack) {
		p.resetEmulator(t)
		p.seedGoldenBases(t)

		t.Run("fail_on_error_true_lists_the_AMIs_it_loses", func(t *testing.T) {
			p.attachDenied(t, "eu-west-1")
			p.resetStats(t)
			dir := t.TempDir()
			r := p.ebsBuild(t, dir, testdata("ebs-pipeline.pkr.hcl"), p.endpointVar(), "ami_name=lost")
			mustFail(t, r)
			out := squash(r.Output())
			// The denied attach is found by the permission check (DryRun)
			// before any change.
			mustContain(t, r, "nothing was changed: 1 planned call(s) did not pass EC2's DryRun check")
			i := strings.Index(out, "Packer will now deregister the build's AMIs")
			if i < 0 {
				t.Fatalf("the error does not say the AMIs will be deregistered:\n%s", r)
			}
			listed := map[string]string{}
			for _, m := range amiInRegionRE.FindAllStringSubmatch(out[i:], -1) {
				listed[m[1]] = m[2]
			}
			if listed["us-east-1"] == "" || listed["eu-west-1"] == "" {
				t.Fatalf("the error does not list the AMIs of both regions:\n%s", out[i:])
			}
			for _, want := range []string{"fail_on_error = false", "separate post-processor sequence that keeps the artifact"} {
				if !strings.Contains(out[i:], want) {
					t.Errorf("the error does not say how to keep the AMIs (%q):\n%s", want, out[i:])
				}
			}
			if strings.Contains(out, "Run again once the cause is fixed") {
				t.Errorf("the error still says to run again although the AMIs are gone:\n%s", out)
			}
			// What it said happened: both AMIs are gone.
			for region, id := range listed {
				p.wantGone(t, region, id)
			}
		})

		t.Run("fail_on_error_false_keeps_them", func(t *testing.T) {
			p.attachDenied(t, "eu-west-1")
			p.resetStats(t)
			r := p.ebsBuild(t, t.TempDir(), testdata("ebs-pipeline.pkr.hcl"), p.endpointVar(), "ami_name=warned", "fail_on_error=false")
			mustSucceed(t, r)
			mustContain(t, r, "WARNING (fail_on_error = false")
			amis := p.builtAMIs(t, testAccessKey, "warned", "us-east-1", "eu-west-1")
			// Refused before any change: us-east-1 was not watermarked either.
			p.wantKeys(t, "us-east-1", amis["us-east-1"], key("golden-base"))
			p.wantKeys(t, "eu-west-1", amis["eu-west-1"], key("golden-base"))
			if n := p.getStats(t).Actions["DeregisterImage"]; n != 0 {
				t.Errorf("DeregisterImage calls = %d, want 0", n)
			}
		})

		t.Run("second_sequence_keeps_them", func(t *testing.T) {
			p.attachDenied(t, "eu-west-1")
			p.resetStats(t)
			dir := t.TempDir()
			r := p.ebsBuild(t, dir, testdata("ebs-pipeline.pkr.hcl"), p.endpointVar(), "ami_name=kept", "keep_artifact=true")
			mustFail(t, r) // the build fails: a governance failure is loud
			mustContain(t, r, "nothing was changed: 1 planned call(s) did not pass EC2's DryRun check")
			amis := p.builtAMIs(t, testAccessKey, "kept", "us-east-1", "eu-west-1")
			for region, id := range amis {
				if img := p.describeImage(t, region, id); img.State != types.ImageStateAvailable {
					t.Errorf("%s %s is %s, want available (kept)", region, id, img.State)
				}
			}
			p.wantKeys(t, "us-east-1", amis["us-east-1"], key("golden-base"))
			if n := p.getStats(t).Actions["DeregisterImage"]; n != 0 {
				t.Errorf("DeregisterImage calls = %d, want 0", n)
			}
			if _, err := os.Stat(filepath.Join(dir, "kept-manifest.json")); err != nil {
				t.Errorf("the keeping sequence did not run: %v", err)
			}
		})
	})
}

// Item 2: a new golden base built from the previous one gets the key
// attached to itself, and the data source (lineage = "attached") selects
// it; reattach_inherited = false keeps the old behaviour.
func TestPromiseNewGoldenBaseIsAttached(t *testing.T) {
	forEachPacker(t, func(t *testing.T, p *stack) {
		p.resetEmulator(t)
		p.seedGoldenBases(t)
		dir := t.TempDir()
		r := p.ebsBuild(t, dir, testdata("ebs-pipeline.pkr.hcl"), p.endpointVar(), "ami_name=base-next", `watermarks=["golden-base"]`)
		mustSucceed(t, r)
		mustContain(t, r, "re-attaching "+key("golden-base")+" (inherited from "+ebsBaseID)
		amis := p.builtAMIs(t, testAccessKey, "base-next", "us-east-1", "eu-west-1")
		for region, id := range amis {
			p.wantKeys(t, region, id, key("golden-base"))
			p.wantSource(t, region, id, key("golden-base"), id)
		}
		// The old base keeps its own key.
		p.wantSource(t, "us-east-1", ebsBaseID, key("golden-base"), ebsBaseID)

		// The data source now selects the new base.
		sel := p.build(t, dir, testdata("select.pkr.hcl"), p.endpointVar(), `keys=["`+key("golden-base")+`"]`, "manifest=select.json")
		mustSucceed(t, sel)
		if got := readManifest(t, filepath.Join(dir, "select.json"))["id"]; got != amis["us-east-1"] {
			t.Errorf("the data source selected %s, want the new base %s", got, amis["us-east-1"])
		}

		// reattach_inherited = false: the key stays inherited.
		r = p.ebsBuild(t, dir, testdata("ebs-pipeline.pkr.hcl"), p.endpointVar(), "ami_name=base-keep", `watermarks=["golden-base"]`,
			"reattach_inherited=false", "manifest=keep.json")
		mustSucceed(t, r)
		mustContain(t, r, "skipped "+key("golden-base")+" (already present, inherited from")
		kept := p.builtAMIs(t, testAccessKey, "base-keep", "us-east-1")
		p.wantSource(t, "us-east-1", kept["us-east-1"], key("golden-base"), amis["us-east-1"])
	})
}

// Item 3: require_allowed evaluates the account's current criteria before
// any change and refuses a breach naming the criterion.
func TestPromiseRequireAllowedCanFail(t *testing.T) {
	forEachPacker(t, func(t *testing.T, p *stack) {
		p.resetEmulator(t)
		id := p.seed(t, seedImage{Region: "us-east-1", Account: testAccount, Name: "app"})[0]
		c := p.ec2Client("us-east-1")
		tpl := testdata("image-ids.pkr.hcl")

		// Disabled: refused before any change.
		p.resetStats(t)
		r := p.build(t, t.TempDir(), tpl, p.endpointVar(), idsVar("us-east-1", id), "require_allowed=true")
		mustFail(t, r)
		mustContain(t, r, "Allowed AMIs setting in us-east-1 is disabled", "nothing was changed")
		p.wantKeys(t, "us-east-1", id)

		if _, err := c.EnableAllowedImagesSettings(ctx30(t), &ec2.EnableAllowedImagesSettingsInput{AllowedImagesSettingsState: types.AllowedImagesSettingsEnabledStateAuditMode}); err != nil {
			t.Fatal(err)
		}
		if _, err := c.ReplaceImageCriteriaInAllowedImagesSettings(ctx30(t), &ec2.ReplaceImageCriteriaInAllowedImagesSettingsInput{
			ImageCriteria: []types.ImageCriterionRequest{{ImageWatermarks: []types.ImageWatermarkFilterRequest{{WatermarkKey: aws.String(key("golden"))}}}},
		}); err != nil {
			t.Fatal(err)
		}
		// A breach: the AMI would carry only "other".
		p.resetStats(t)
		r = p.build(t, t.TempDir(), tpl, p.endpointVar(), idsVar("us-east-1", id), "require_allowed=true", `watermarks=["other"]`)
		mustFail(t, r)
		mustContain(t, r, "would not be allowed by the account's current Allowed AMIs criteria in us-east-1", "criterion 1:")
		p.wantKeys(t, "us-east-1", id)
		if n := p.getStats(t).Actions["AttachImageWatermark"]; n != 0 {
			t.Errorf("AttachImageWatermark calls = %d after a refused breach, want 0", n)
		}
		// The planned result matches: the run passes.
		r = p.build(t, t.TempDir(), tpl, p.endpointVar(), idsVar("us-east-1", id), "require_allowed=true")
		mustSucceed(t, r)
		p.wantKeys(t, "us-east-1", id, key("golden"))
	})
}

// Item 4: a stalled endpoint fails the post-processor and the data source
// within request_timeout × attempts, naming endpoint, action and timeout.
func TestPromiseRequestTimeout(t *testing.T) {
	forEachPacker(t, func(t *testing.T, p *stack) {
		url := testkit.StalledEndpoint(t)
		const packerOverhead = 20 * time.Second // starting packer and the plugin

		t.Run("post-processor", func(t *testing.T) {
			start := time.Now()
			r := p.build(t, t.TempDir(), testdata("image-ids.pkr.hcl"), "endpoint="+url, idsVar("us-east-1", "ami-0123456789abcdef0"),
				"request_timeout=2s", "max_retries=1", "wait_timeout=5s")
			took := time.Since(start)
			mustFail(t, r)
			mustContain(t, r, "no answer from "+url+" to DescribeImages within request_timeout (2s)")
			if took > 2*2*time.Second+packerOverhead {
				t.Errorf("the build took %s against a stalled endpoint (request_timeout 2s, 2 attempts)", took)
			}
		})
		t.Run("data source", func(t *testing.T) {
			start := time.Now()
			r := p.build(t, t.TempDir(), testdata("select.pkr.hcl"), "endpoint="+url, `keys=["`+key("golden-base")+`"]`,
				"max_retries=1", "request_timeout=2s")
			took := time.Since(start)
			mustFail(t, r)
			mustContain(t, r, "no answer from "+url+" to DescribeImages within request_timeout (2s)")
			if took > 2*2*time.Second+packerOverhead {
				t.Errorf("the build took %s against a stalled endpoint (request_timeout 2s, 2 attempts)", took)
			}
		})
	})
}

// Item 5: an AMI that is not found fails after the grace, not after
// wait_timeout, saying what was looked up, where, as whom and why; a
// disabled AMI is reported as disabled.
func TestPromiseNotFoundFailsFast(t *testing.T) {
	forEachPacker(t, func(t *testing.T, p *stack) {
		p.resetEmulator(t)
		tpl := testdata("image-ids.pkr.hcl")
		missing := "ami-0000000000000dead"
		start := time.Now()
		r := p.build(t, t.TempDir(), tpl, p.endpointVar(), idsVar("eu-west-1", missing), "not_found_grace=3s")
		took := time.Since(start)
		mustFail(t, r)
		mustContain(t, r, "not found: DescribeImages of "+missing+" in eu-west-1 as account "+testAccount+" returned no such AMI for 3s (not_found_grace)",
			"a typo in the AMI id", "the wrong region", "credentials of another account", "deregistered", "not shared", "nothing was changed")
		if took > 60*time.Second {
			t.Errorf("the build took %s with not_found_grace 3s", took)
		}

		id := p.seed(t, seedImage{Region: "us-east-1", Account: testAccount, Name: "old", State: "disabled"})[0]
		r = p.build(t, t.TempDir(), tpl, p.endpointVar(), idsVar("us-east-1", id), "not_found_grace=3s")
		mustFail(t, r)
		mustContain(t, r, "us-east-1 "+id+": the AMI is disabled")
		if strings.Contains(r.Output(), "not found") {
			t.Errorf("a disabled AMI is reported as not found:\n%s", r)
		}
	})
}

// Item 6: a failed dry run says what would have happened, on every line.
func TestPromiseDryRunSaysWould(t *testing.T) {
	forEachPacker(t, func(t *testing.T, p *stack) {
		p.resetEmulator(t)
		ids := p.seed(t, seedImage{Region: "us-east-1", Account: testAccount, Name: "a"}, seedImage{Region: "eu-west-1", Account: testAccount, Name: "b"})
		p.attachDenied(t, "eu-west-1")
		r := p.build(t, t.TempDir(), testdata("image-ids.pkr.hcl"), p.endpointVar(), idsVar("us-east-1", ids[0], "eu-west-1", ids[1]), "dry_run=true")
		mustFail(t, r)
		out := squash(r.Output())
		for _, bad := range []string{"complete; attached", ": attached " + key("golden"), "; attached " + key("golden")} {
			if strings.Contains(out, bad) {
				t.Errorf("the dry run reports a change (%q):\n%s", bad, r)
			}
		}
		mustContain(t, r, "dry run: nothing was changed", "would attach "+key("golden")+" (DryRun check passed)",
			"DryRun check FAILED, so this call would fail: attach \"golden\"")
		p.wantKeys(t, "us-east-1", ids[0])
		p.wantKeys(t, "eu-west-1", ids[1])
	})
}

// Small fixes: image_ids = {} is an error; a null in watermarks is named;
// names with edge spaces are quoted.
func TestPromiseSmallFixes(t *testing.T) {
	forEachPacker(t, func(t *testing.T, p *stack) {
		p.resetEmulator(t)
		tpl := testdata("image-ids.pkr.hcl")
		r := p.validate(t, tpl, p.endpointVar(), "image_ids={}")
		mustFail(t, r)
		mustContain(t, r, "image_ids is empty")

		r = p.validate(t, tpl, p.endpointVar(), idsVar("us-east-1", "ami-0123456789abcdef0"), `watermarks=["golden", null]`)
		mustFail(t, r)
		mustContain(t, r, "watermarks[1] is null")
		if strings.Contains(r.Output(), "{{}") {
			t.Errorf("the error shows Packer SDK internals:\n%s", r)
		}

		id := p.seed(t, seedImage{Region: "us-east-1", Account: testAccount, Name: "spaces"})[0]
		r = p.build(t, t.TempDir(), tpl, p.endpointVar(), idsVar("us-east-1", id), `watermarks=["   ", "x  "]`)
		mustSucceed(t, r)
		for _, want := range []string{`attached "` + key("   ") + `"`, `attached "` + key("x  ") + `"`} {
			if !strings.Contains(r.Output(), want) { // exact, spaces included
				t.Errorf("the output does not contain %q:\n%s", want, r)
			}
		}
		p.wantKeys(t, "us-east-1", id, key("   "), key("x  "))
	})
}
