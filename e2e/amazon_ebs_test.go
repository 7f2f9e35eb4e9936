package e2e

// Issue 8: the whole pipeline in real `packer build`s with the amazon
// plugin's amazon-ebs builder (v1.8.2, on both Packers) against the
// emulator, which emulates what the builder calls: key pair, security
// group, default VPC, RunInstances, StopInstances, CreateImage, CopyImage,
// the waiters, the cleanup calls, and the STS credential check
// (docs/emulator.md). Every scenario checks the emulator's state afterwards
// through the SDK.

import (
	"context"
	"encoding/json"
	"errors"
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
	"github.com/aws/smithy-go"
)

const (
	// workloadAccessKey acts as otherAccount (444455556666), the workload
	// account of scenario 3.
	workloadAccessKey = "AKIDTEST" + otherAccount

	ebsBaseID   = "ami-0e2e0000000ebb001" // golden base, us-east-1
	ebsOlderID  = "ami-0e2e0000000ebb000" // older golden base, us-east-1
	ebsPublicID = "ami-0e2e0000000ebbf01" // public, unwatermarked vendor base
	vendorAcct  = "137112412989"
)

// ebsBuild runs `packer build` of an amazon-ebs template in dir.
func (p *stack) ebsBuild(t *testing.T, dir, template string, kv ...string) result {
	t.Helper()
	args := append([]string{"build", "-color=false"}, vars(kv...)...)
	return p.runPacker(t, dir, p.ebsEnv(), append(args, template)...)
}

// slowImages makes new images (CreateImage, CopyImage) answer pending to
// one DescribeImages, so the builder's ImageAvailable waiter polls twice;
// the setting is undone when the test ends.
func (p *stack) slowImages(t *testing.T) {
	t.Helper()
	p.emuDo(t, http.MethodPost, "/_emu/config", map[string]any{"pending_describes": 1}, nil)
	t.Cleanup(func() {
		p.emuDo(t, http.MethodPost, "/_emu/config", map[string]any{"available_after": "0s", "pending_describes": 0, "not_found_describes": 0}, nil)
	})
}

func ctx30(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return c
}

// builtAMIs finds the AMIs a build made through the SDK: the images of
// the account named prefix-* in each region (one per region expected).
func (p *stack) builtAMIs(t *testing.T, akid, prefix string, regions ...string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, region := range regions {
		imgs, err := p.ec2ClientAs(region, akid).DescribeImages(ctx30(t), &ec2.DescribeImagesInput{Owners: []string{"self"},
			Filters: []types.Filter{{Name: aws.String("name"), Values: []string{prefix + "-*"}}}})
		if err != nil {
			t.Fatalf("DescribeImages %s-* in %s: %v", prefix, region, err)
		}
		if len(imgs.Images) != 1 {
			t.Fatalf("%s: %d images named %s-*, want 1", region, len(imgs.Images), prefix)
		}
		out[region] = aws.ToString(imgs.Images[0].ImageId)
	}
	return out
}

// manifestData returns the custom data of the last build of a manifest and
// checks it came from the amazon-ebs build.
func manifestData(t *testing.T, path string) map[string]string {
	return manifestBuild(t, path).CustomData
}

// manifestBuild returns the last build of a manifest and checks it came
// from the amazon-ebs build.
func manifestBuild(t *testing.T, path string) manifestEntry {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("reading the manifest: %v", err)
	}
	var m manifest
	if err := json.Unmarshal(b, &m); err != nil || len(m.Builds) == 0 {
		t.Fatalf("decoding the manifest %s: %v", b, err)
	}
	last := m.Builds[len(m.Builds)-1]
	if last.BuilderType != "amazon-ebs" {
		t.Errorf("manifest builder_type = %q, want amazon-ebs", last.BuilderType)
	}
	return last
}

// apiCode returns the EC2 error code of err ("" for nil or non-API errors).
func apiCode(err error) string {
	var ae smithy.APIError
	if err != nil && errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

// wantGone fails unless the AMI is no longer describable (deregistered).
func (p *stack) wantGone(t *testing.T, region, id string) {
	t.Helper()
	_, err := p.ec2Client(region).DescribeImages(ctx30(t), &ec2.DescribeImagesInput{ImageIds: []string{id}})
	if apiCode(err) != "InvalidAMIID.NotFound" {
		t.Errorf("DescribeImages %s in %s: err = %v, want InvalidAMIID.NotFound (deregistered)", id, region, err)
	}
}

// snapshotsOf returns the snapshot ids of an image's block devices.
func snapshotsOf(img types.Image) []string {
	var out []string
	for _, bd := range img.BlockDeviceMappings {
		if bd.Ebs != nil && aws.ToString(bd.Ebs.SnapshotId) != "" {
			out = append(out, aws.ToString(bd.Ebs.SnapshotId))
		}
	}
	return out
}

// wantNoLeftovers checks what the builder must clean up in the account's
// region: the instance is terminated, and no temporary key pair, security
// group or volume is left.
func (p *stack) wantNoLeftovers(t *testing.T, akid string) {
	t.Helper()
	c := p.ec2ClientAs("us-east-1", akid)
	ctx := ctx30(t)
	insts, err := c.DescribeInstances(ctx, &ec2.DescribeInstancesInput{})
	if err != nil {
		t.Fatalf("DescribeInstances: %v", err)
	}
	for _, r := range insts.Reservations {
		for _, i := range r.Instances {
			if i.State == nil || i.State.Name != types.InstanceStateNameTerminated {
				t.Errorf("instance %s is %v, want terminated", aws.ToString(i.InstanceId), i.State)
			}
		}
	}
	keys, err := c.DescribeKeyPairs(ctx, &ec2.DescribeKeyPairsInput{})
	if err != nil {
		t.Fatalf("DescribeKeyPairs: %v", err)
	}
	for _, k := range keys.KeyPairs {
		t.Errorf("key pair %s is left", aws.ToString(k.KeyName))
	}
	groups, err := c.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{
		Filters: []types.Filter{{Name: aws.String("group-name"), Values: []string{"packer_*"}}}})
	if err != nil {
		t.Fatalf("DescribeSecurityGroups: %v", err)
	}
	for _, g := range groups.SecurityGroups {
		t.Errorf("security group %s (%s) is left", aws.ToString(g.GroupId), aws.ToString(g.GroupName))
	}
	vols, err := c.DescribeVolumes(ctx, &ec2.DescribeVolumesInput{})
	if err != nil {
		t.Fatalf("DescribeVolumes: %v", err)
	}
	for _, v := range vols.Volumes {
		// Deleted volumes stay listed (state deleted) for a while, as on EC2.
		if v.State != types.VolumeStateDeleted {
			t.Errorf("volume %s (%s) is left", aws.ToString(v.VolumeId), v.State)
		}
	}
}

// wantCalls checks the number of calls of each action in a region.
func wantCalls(t *testing.T, s emuStats, region string, want map[string]int64) {
	t.Helper()
	for action, n := range want {
		if got := s.Regions[region][action]; got != n {
			t.Errorf("%s: %s calls = %d, want %d (stats %v)", region, action, got, n, s.Regions[region])
		}
	}
}

// seedGoldenBases seeds the golden bases: the newest (ebsBaseID) must be
// picked; both are shared with the workload account.
func (p *stack) seedGoldenBases(t *testing.T, extra ...seedWatermark) {
	t.Helper()
	const r = "us-east-1"
	mark := func(id, created string) seedWatermark {
		return seedWatermark{Key: key("golden-base"), SourceImageID: id, SourceImageRegion: r,
			SourceImageCreationTime: created, WatermarkCreationTime: created[:11] + "09:00:00Z"}
	}
	p.seed(t,
		seedImage{Region: r, Account: testAccount, ImageID: ebsOlderID, Name: "golden-base-2026.10",
			CreationDate: "2026-10-01T08:00:00.000Z", SharedWith: []string{otherAccount},
			Watermarks: []seedWatermark{mark(ebsOlderID, "2026-10-01T08:00:00Z")}},
		seedImage{Region: r, Account: testAccount, ImageID: ebsBaseID, Name: "golden-base-2026.11",
			CreationDate: "2026-11-01T08:00:00.000Z", SharedWith: []string{otherAccount},
			Watermarks: append([]seedWatermark{mark(ebsBaseID, "2026-11-01T08:00:00Z")}, extra...)},
		seedImage{Region: r, Account: vendorAcct, ImageID: ebsPublicID, Name: "vendor-linux-2026.11",
			CreationDate: "2026-11-15T08:00:00.000Z", Public: true},
	)
}

// TestAmazonEBSPipeline is scenario 1 of issue 8: data source -> amazon-ebs
// (with ami_regions) -> post-processor. Every output AMI carries the
// inherited golden key (source: the golden base) and the new key (source:
// the AMI itself); the data source with lineage = "attached" still returns
// the base.
func TestAmazonEBSPipeline(t *testing.T) {
	forEachPacker(t, func(t *testing.T, p *stack) {
		p.resetEmulator(t)
		p.seedGoldenBases(t)
		p.slowImages(t)
		tpl := testdata("ebs-pipeline.pkr.hcl")
		base := p.describeImage(t, "us-east-1", ebsBaseID)
		golden := watermarkOf(t, base, key("golden-base"))

		if r := p.validate(t, tpl, p.endpointVar()); r.Code != 0 {
			t.Fatalf("packer validate exited %d", r.Code)
		}
		p.resetStats(t)
		dir := t.TempDir()
		start := time.Now()
		r := p.ebsBuild(t, dir, tpl, p.endpointVar())
		t.Logf("packer build (amazon-ebs, 2 regions, post-processor) took %s", time.Since(start).Round(time.Millisecond))
		mustSucceed(t, r)
		mustContain(t, r, "Found Image ID: "+ebsBaseID, "Copying to: eu-west-1", "app-release")

		entry := manifestBuild(t, filepath.Join(dir, "manifest.json"))
		custom := entry.CustomData
		amis := p.builtAMIs(t, testAccessKey, "app", "us-east-1", "eu-west-1")
		mustContain(t, r, "us-east-1: "+amis["us-east-1"], "eu-west-1: "+amis["eu-west-1"])
		// The artifact amiwatermark hands on keeps the build's identity: the
		// next post-processor sees the AMIs.
		if want := "eu-west-1:" + amis["eu-west-1"] + ",us-east-1:" + amis["us-east-1"]; entry.ArtifactID != want {
			t.Errorf("manifest artifact_id = %q, want %q", entry.ArtifactID, want)
		}
		if custom["base_id"] != ebsBaseID {
			t.Errorf("the data source picked %q, want the newest golden base %s", custom["base_id"], ebsBaseID)
		}
		use1, euw1 := amis["us-east-1"], amis["eu-west-1"]

		for region, id := range amis {
			img := p.wantKeys(t, region, id, key("golden-base"), key("app-release"))
			// Inherited verbatim from the base (CreateImage, then CopyImage).
			w := watermarkOf(t, img, key("golden-base"))
			if aws.ToString(w.SourceImageId) != ebsBaseID || aws.ToString(w.SourceImageRegion) != "us-east-1" ||
				!aws.ToTime(w.SourceImageCreationTime).Equal(aws.ToTime(golden.SourceImageCreationTime)) ||
				!aws.ToTime(w.WatermarkCreationTime).Equal(aws.ToTime(golden.WatermarkCreationTime)) {
				t.Errorf("%s %s: golden watermark %s/%s created %v attached %v, want the base's (%s/us-east-1, %v, %v)",
					region, id, aws.ToString(w.SourceImageRegion), aws.ToString(w.SourceImageId),
					aws.ToTime(w.SourceImageCreationTime), aws.ToTime(w.WatermarkCreationTime), ebsBaseID,
					aws.ToTime(golden.SourceImageCreationTime), aws.ToTime(golden.WatermarkCreationTime))
			}
			// Attached by the post-processor to this AMI.
			a := watermarkOf(t, img, key("app-release"))
			if aws.ToString(a.SourceImageId) != id || aws.ToString(a.SourceImageRegion) != region {
				t.Errorf("%s %s: app-release source %s/%s, want the AMI itself", region, id,
					aws.ToString(a.SourceImageRegion), aws.ToString(a.SourceImageId))
			}
			if img.State != types.ImageStateAvailable || aws.ToString(img.OwnerId) != testAccount ||
				!strings.HasPrefix(aws.ToString(img.Name), "app-") {
				t.Errorf("%s %s: state %s, owner %s, name %q", region, id, img.State, aws.ToString(img.OwnerId), aws.ToString(img.Name))
			}
			// The builder's tags on the AMI and its snapshots.
			tags := map[string]string{}
			for _, tg := range img.Tags {
				tags[aws.ToString(tg.Key)] = aws.ToString(tg.Value)
			}
			if tags["Name"] != "app" || tags["BaseAMI"] != ebsBaseID {
				t.Errorf("%s %s: tags %v, want Name=app and BaseAMI=%s", region, id, tags, ebsBaseID)
			}
			snaps := snapshotsOf(img)
			if len(snaps) == 0 {
				t.Errorf("%s %s has no snapshot in its block device mappings", region, id)
				continue
			}
			out, err := p.ec2Client(region).DescribeSnapshots(ctx30(t), &ec2.DescribeSnapshotsInput{SnapshotIds: snaps})
			if err != nil || len(out.Snapshots) != len(snaps) {
				t.Errorf("%s: DescribeSnapshots %v: %v", region, snaps, err)
			}
		}
		// Provenance: CreateImage from an instance of the base, then a copy.
		img := p.describeImage(t, "us-east-1", use1)
		if aws.ToString(img.SourceImageId) != ebsBaseID || !strings.HasPrefix(aws.ToString(img.SourceInstanceId), "i-") {
			t.Errorf("us-east-1 %s: source image %s, source instance %s; want %s and the build instance",
				use1, aws.ToString(img.SourceImageId), aws.ToString(img.SourceInstanceId), ebsBaseID)
		}
		img = p.describeImage(t, "eu-west-1", euw1)
		if aws.ToString(img.SourceImageId) != use1 || aws.ToString(img.SourceImageRegion) != "us-east-1" {
			t.Errorf("eu-west-1 %s: source %s/%s, want us-east-1/%s", euw1, aws.ToString(img.SourceImageRegion),
				aws.ToString(img.SourceImageId), use1)
		}
		// The base itself is untouched.
		p.wantKeys(t, "us-east-1", ebsBaseID, key("golden-base"))

		// The calls the builder made, and the cleanup.
		s := p.getStats(t)
		wantCalls(t, s, "us-east-1", map[string]int64{
			"CreateKeyPair": 1, "CreateSecurityGroup": 1, "AuthorizeSecurityGroupIngress": 1, "RunInstances": 1,
			"StopInstances": 1, "CreateImage": 1, "TerminateInstances": 1, "DeleteSecurityGroup": 1, "DeleteKeyPair": 1,
			"AttachImageWatermark": 2, "DeregisterImage": 0, // the permission check's DryRun, then the attach
		})
		wantCalls(t, s, "eu-west-1", map[string]int64{"CopyImage": 1, "AttachImageWatermark": 2, "DeregisterImage": 0})
		if s.DryRun["AttachImageWatermark"] != 2 {
			t.Errorf("DryRun attaches = %d, want 2 (one per AMI, before any change)", s.DryRun["AttachImageWatermark"])
		}
		if s.Regions["us-east-1"]["DescribeInstances"] < 3 {
			t.Errorf("DescribeInstances calls = %d, want at least 3 (running, stopping, stopped)", s.Regions["us-east-1"]["DescribeInstances"])
		}
		p.wantNoLeftovers(t, testAccessKey)

		// lineage = "attached" still picks the base, although the new AMI is
		// newer and carries the key; lineage = "any" picks the new AMI.
		for _, c := range []struct{ lineage, want, source string }{
			{"attached", ebsBaseID, ebsBaseID},
			{"any", use1, ebsBaseID},
		} {
			vdir := t.TempDir()
			r := p.build(t, vdir, testdata("ebs-verify.pkr.hcl"), p.endpointVar(), "lineage="+c.lineage)
			mustSucceed(t, r)
			m := readManifest(t, filepath.Join(vdir, "verify.json"))
			if m["id"] != c.want || m["matched_source_image"] != c.source {
				t.Errorf("lineage %q: the data source returned %q (watermark source %q), want %s (source %s)",
					c.lineage, m["id"], m["matched_source_image"], c.want, c.source)
			}
		}
	})
}

var amiRE = regexp.MustCompile(`(us-east-1|eu-west-1):? (ami-[0-9a-f]{17})`)

// TestAmazonEBSLimitDeregisters is scenario 2 of issue 8: the base carries 4
// watermarks, so its AMIs inherit 4 and the post-processor's 2 names would
// make 6. The post-processor refuses before any attach. Packer core then
// destroys the builder's artifact, because the build's only post-processor
// chain failed: both AMIs are deregistered and their snapshots deleted.
// With fail_on_error = false the post-processor only warns, the chain goes
// on (the manifest is written) and the AMIs are kept.
func TestAmazonEBSLimitDeregisters(t *testing.T) {
	forEachPacker(t, func(t *testing.T, p *stack) {
		p.resetEmulator(t)
		inh := func(acct, name string) seedWatermark {
			return seedWatermark{Key: acct + ":" + name, SourceImageID: "ami-0aaa0000000000001", SourceImageRegion: "us-west-2",
				SourceImageCreationTime: "2026-06-01T00:00:00Z", WatermarkCreationTime: "2026-06-02T00:00:00Z"}
		}
		p.seedGoldenBases(t, inh("999988887777", "vendor-hardened"), inh("999988887777", "vendor-cis-l1"), inh("888877776666", "scanner-ok"))
		full := []string{key("golden-base"), "999988887777:vendor-hardened", "999988887777:vendor-cis-l1", "888877776666:scanner-ok"}
		p.wantKeys(t, "us-east-1", ebsBaseID, full...)
		tpl := testdata("ebs-pipeline.pkr.hcl")
		names := `watermarks=["app-release","qa-passed"]`

		t.Run("fail_on_error_true", func(t *testing.T) {
			p.resetStats(t)
			dir := t.TempDir()
			r := p.ebsBuild(t, dir, tpl, p.endpointVar(), names, "ami_name=limit")
			mustFail(t, r)
			mustContain(t, r, "at most 5", "nothing was changed")
			// The refusal names both AMIs of the artifact.
			amis := map[string]string{}
			for _, m := range amiRE.FindAllStringSubmatch(r.Output(), -1) {
				if m[2] != ebsBaseID && m[2] != ebsOlderID {
					amis[m[1]] = m[2]
				}
			}
			if amis["us-east-1"] == "" || amis["eu-west-1"] == "" {
				t.Fatalf("could not find the AMIs of both regions in the output (found %v)", amis)
			}
			s := p.getStats(t)
			if got := s.Actions["AttachImageWatermark"]; got != 0 {
				t.Errorf("AttachImageWatermark calls = %d, want 0", got)
			}
			// Packer core deregistered the artifact (amazon-ebs Artifact.Destroy:
			// DescribeImages, DeregisterImage, DeleteSnapshot per region).
			for region, id := range amis {
				wantCalls(t, s, region, map[string]int64{"DeregisterImage": 1, "DeleteSnapshot": 1})
				p.wantGone(t, region, id)
				out, err := p.ec2Client(region).DescribeImages(ctx30(t), &ec2.DescribeImagesInput{Owners: []string{"self"},
					Filters: []types.Filter{{Name: aws.String("name"), Values: []string{"limit-*"}}}})
				if err != nil || len(out.Images) != 0 {
					t.Errorf("%s: images named limit-* after the failed build: %d (%v)", region, len(out.Images), err)
				}
				snaps, err := p.ec2Client(region).DescribeSnapshots(ctx30(t), &ec2.DescribeSnapshotsInput{OwnerIds: []string{"self"}})
				if err != nil || len(snaps.Snapshots) != 0 {
					t.Errorf("%s: %d snapshots left after the failed build (%v)", region, len(snaps.Snapshots), err)
				}
			}
			if _, err := os.Stat(filepath.Join(dir, "manifest.json")); err == nil {
				t.Errorf("the manifest was written: the chain must stop at the failed post-processor")
			}
			p.wantNoLeftovers(t, testAccessKey)
			p.wantKeys(t, "us-east-1", ebsBaseID, full...)
		})

		t.Run("fail_on_error_false", func(t *testing.T) {
			p.resetStats(t)
			dir := t.TempDir()
			r := p.ebsBuild(t, dir, tpl, p.endpointVar(), names, "ami_name=kept", "fail_on_error=false")
			mustSucceed(t, r)
			mustContain(t, r, "WARNING (fail_on_error = false", "at most 5")
			if _, err := os.Stat(filepath.Join(dir, "manifest.json")); err != nil {
				t.Errorf("no manifest: the chain must go on after the warning (%v)", err)
			}
			amis := p.builtAMIs(t, testAccessKey, "kept", "us-east-1", "eu-west-1")
			for region, id := range amis {
				img := p.wantKeys(t, region, id, full...)
				if img.State != types.ImageStateAvailable {
					t.Errorf("%s %s is %s, want available (kept)", region, id, img.State)
				}
			}
			s := p.getStats(t)
			if s.Actions["AttachImageWatermark"] != 0 || s.Actions["DeregisterImage"] != 0 || s.Actions["DeleteSnapshot"] != 0 {
				t.Errorf("attach/deregister/delete-snapshot calls = %d/%d/%d, want 0/0/0",
					s.Actions["AttachImageWatermark"], s.Actions["DeregisterImage"], s.Actions["DeleteSnapshot"])
			}
		})
	})
}

// TestAmazonEBSAllowedAMIs is scenario 3 of issue 8: the workload account
// enables Allowed AMIs with a criterion on the factory's golden watermark.
// A build whose source_ami comes from the data source (allowed_only = true)
// succeeds and its AMI inherits the golden key; a build from an
// unwatermarked public base fails with EC2's InvalidAMIID.NotFound. EC2
// hides images that are not allowed, so the builder fails at its first
// DescribeImages of the id, before RunInstances; RunInstances itself
// answers the same code (checked with the SDK).
func TestAmazonEBSAllowedAMIs(t *testing.T) {
	forEachPacker(t, func(t *testing.T, p *stack) {
		p.resetEmulator(t)
		p.seedGoldenBases(t)
		ctx := ctx30(t)
		wl := p.ec2ClientAs("us-east-1", workloadAccessKey)
		if _, err := wl.ReplaceImageCriteriaInAllowedImagesSettings(ctx, &ec2.ReplaceImageCriteriaInAllowedImagesSettingsInput{
			ImageCriteria: []types.ImageCriterionRequest{{
				ImageWatermarks: []types.ImageWatermarkFilterRequest{{WatermarkKey: aws.String(key("golden-base"))}},
			}},
		}); err != nil {
			t.Fatalf("ReplaceImageCriteriaInAllowedImagesSettings: %v", err)
		}
		if _, err := wl.EnableAllowedImagesSettings(ctx, &ec2.EnableAllowedImagesSettingsInput{
			AllowedImagesSettingsState: types.AllowedImagesSettingsEnabledStateEnabled}); err != nil {
			t.Fatalf("EnableAllowedImagesSettings: %v", err)
		}
		tpl := testdata("ebs-allowed.pkr.hcl")

		t.Run("watermarked_base_builds", func(t *testing.T) {
			p.resetStats(t)
			dir := t.TempDir()
			r := p.ebsBuild(t, dir, tpl, p.endpointVar())
			mustSucceed(t, r)
			mustContain(t, r, "Found Image ID: "+ebsBaseID)
			custom := manifestData(t, filepath.Join(dir, "manifest.json"))
			amis := p.builtAMIs(t, workloadAccessKey, "workload-app", "us-east-1")
			if custom["golden_id"] != ebsBaseID || custom["golden_allowed"] != "true" {
				t.Errorf("data source: id %q image_allowed %q, want %s and true", custom["golden_id"], custom["golden_allowed"], ebsBaseID)
			}
			id := amis["us-east-1"]
			out, err := wl.DescribeImages(ctx30(t), &ec2.DescribeImagesInput{ImageIds: []string{id}})
			if err != nil || len(out.Images) != 1 {
				t.Fatalf("workload DescribeImages %s: %v", id, err)
			}
			img := out.Images[0]
			if aws.ToString(img.OwnerId) != otherAccount || aws.ToString(img.SourceImageId) != ebsBaseID {
				t.Errorf("new AMI %s: owner %s source %s, want %s and %s", id, aws.ToString(img.OwnerId),
					aws.ToString(img.SourceImageId), otherAccount, ebsBaseID)
			}
			if got := keysOf(img); strings.Join(got, ",") != key("golden-base") {
				t.Errorf("new AMI %s keys %v, want the inherited %s", id, got, key("golden-base"))
			}
			if w := watermarkOf(t, img, key("golden-base")); aws.ToString(w.SourceImageId) != ebsBaseID {
				t.Errorf("inherited watermark source %s, want %s", aws.ToString(w.SourceImageId), ebsBaseID)
			}
			wantCalls(t, p.getStats(t), "us-east-1", map[string]int64{"RunInstances": 1, "CreateImage": 1})
			p.wantNoLeftovers(t, workloadAccessKey)
		})

		t.Run("unwatermarked_public_base_fails", func(t *testing.T) {
			p.resetStats(t)
			r := p.ebsBuild(t, "", tpl, p.endpointVar(), "source_ami="+ebsPublicID, "ami_name=public")
			mustFail(t, r)
			mustContain(t, r, "InvalidAMIID.NotFound", "The image id '["+ebsPublicID+"]' does not exist")
			s := p.getStats(t)
			wantCalls(t, s, "us-east-1", map[string]int64{"RunInstances": 0, "CreateKeyPair": 0, "CreateImage": 0})
			p.wantNoLeftovers(t, workloadAccessKey)

			// The launch itself is refused with the same code; the golden base
			// launches.
			_, err := wl.RunInstances(ctx30(t), &ec2.RunInstancesInput{ImageId: aws.String(ebsPublicID),
				InstanceType: types.InstanceTypeT3Micro, MinCount: aws.Int32(1), MaxCount: aws.Int32(1)})
			if apiCode(err) != "InvalidAMIID.NotFound" || !strings.Contains(err.Error(), "The image id '["+ebsPublicID+"]' does not exist") {
				t.Errorf("workload RunInstances of the public base: %v, want InvalidAMIID.NotFound", err)
			}
			run, err := wl.RunInstances(ctx30(t), &ec2.RunInstancesInput{ImageId: aws.String(ebsBaseID),
				InstanceType: types.InstanceTypeT3Micro, MinCount: aws.Int32(1), MaxCount: aws.Int32(1)})
			if err != nil {
				t.Fatalf("workload RunInstances of the golden base: %v", err)
			}
			ids := []string{aws.ToString(run.Instances[0].InstanceId)}
			if _, err := wl.TerminateInstances(ctx30(t), &ec2.TerminateInstancesInput{InstanceIds: ids}); err != nil {
				t.Fatal(err)
			}
			// The factory account still sees and can launch the public base
			// (its own settings are disabled).
			if _, err := p.ec2Client("us-east-1").DescribeImages(ctx30(t), &ec2.DescribeImagesInput{ImageIds: []string{ebsPublicID}}); err != nil {
				t.Errorf("factory account DescribeImages of the public base: %v", err)
			}
		})
	})
}
