package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCriteriaFileRefusedAtValidate: `packer validate` refuses an
// allowed_criteria_file nested too deep, with text after the JSON, or
// null, naming the file and what is wrong, and accepts a declarative
// policy with AWS Organizations' aws_marketplace alias.
func TestCriteriaFileRefusedAtValidate(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	deep := write("deep.json", strings.Repeat("[", 40000)+strings.Repeat("]", 40000))
	garbage := write("garbage.json", `[{"ImageProviders":["amazon"]}]]]]}}}garbage`)
	null := write("null.json", "null")
	policy := write("policy.json", `{"ec2_attributes":{"allowed_images_settings":{"image_criteria":{"criteria_1":{"allowed_image_providers":["aws_marketplace","aws_backup_vault"]}}}}}`)
	tpl := testdata("trust.pkr.hcl")
	forEachPacker(t, func(t *testing.T, p *stack) {
		for _, c := range []struct{ file, want string }{
			{deep, "allowed_criteria_file " + deep + ": reading the criteria JSON: the JSON is nested more than 32 levels deep"},
			{garbage, "allowed_criteria_file " + garbage + ": reading the criteria JSON: unexpected text after the JSON value at byte 32"},
			{null, "allowed_criteria_file " + null + ": reading the criteria JSON: the JSON is null, not a list of criteria or an object"},
		} {
			r := p.validate(t, tpl, "allowed_criteria_file="+c.file)
			mustFail(t, r)
			mustContain(t, r, c.want)
			if r.Duration.Seconds() > 30 {
				t.Errorf("validate took %s", r.Duration)
			}
		}
		mustSucceed(t, p.validate(t, tpl, "allowed_criteria_file="+policy))
	})
}

// TestDeniedDetachRefusedBeforeAnyChange: the recommended SCP denies
// ec2:DetachImageWatermark in the build account; a rebuild whose AMI
// inherited golden-base and also asks for qa-passed fails before any change
// (real packer build), naming both ways out; reattach_inherited = false
// then passes.
func TestDeniedDetachRefusedBeforeAnyChange(t *testing.T) {
	tpl := testdata("trust.pkr.hcl")
	forEachPacker(t, func(t *testing.T, p *stack) {
		p.resetEmulator(t)
		const base, rebuilt, other = "ami-0e2e00000023d0001", "ami-0e2e00000023d0002", "ami-0e2e00000023d0003"
		created := "2026-11-01T00:00:00.000Z"
		p.emuDo(t, "POST", "/_emu/seed", map[string]any{
			"accounts": []map[string]any{{"id": testAccount, "deny_actions": []string{"ec2:DetachImageWatermark"}}},
			"images": []seedImage{
				{Region: "us-east-1", Account: testAccount, ImageID: base, Name: "golden-base-1", CreationDate: created,
					Watermarks: []seedWatermark{{Key: "golden-base"}}},
				{Region: "us-east-1", Account: testAccount, ImageID: rebuilt, Name: "golden-base-2", SourceImageID: base, SourceImageRegion: "us-east-1",
					Watermarks: []seedWatermark{{Key: key("golden-base"), SourceImageID: base, SourceImageRegion: "us-east-1",
						SourceImageCreationTime: created, WatermarkCreationTime: created}}},
				{Region: "eu-west-1", Account: testAccount, ImageID: other, Name: "golden-base-2"},
			},
		}, nil)
		kv := []string{p.endpointVar(), idsVar("us-east-1", rebuilt, "eu-west-1", other), `watermarks=["golden-base", "qa-passed"]`}
		p.resetStats(t)
		r := p.build(t, t.TempDir(), tpl, kv...)
		mustFail(t, r)
		mustContain(t, r, "nothing was changed: 1 planned call(s) did not pass EC2's DryRun check, made before any change",
			"us-east-1 "+rebuilt+": detach "+key("golden-base")+" (re-attaching the inherited key) is denied: UnauthorizedOperation",
			"An SCP or IAM policy denies detaching watermarks (ec2:DetachImageWatermark)",
			"Either set reattach_inherited = false to leave inherited keys as they are",
			"or allow ec2:DetachImageWatermark for the build role.")
		s := p.getStats(t)
		for _, a := range []string{"AttachImageWatermark", "DetachImageWatermark"} {
			if n := s.Actions[a] - s.DryRun[a]; n != 0 {
				t.Errorf("%d %s calls without DryRun before the refusal (stats %+v)", n, a, s)
			}
		}
		p.wantKeys(t, "us-east-1", rebuilt, key("golden-base"))
		p.wantKeys(t, "eu-west-1", other)

		r = p.build(t, t.TempDir(), tpl, append(kv, "reattach_inherited=false")...)
		mustSucceed(t, r)
		p.wantKeys(t, "us-east-1", rebuilt, key("golden-base"), key("qa-passed"))
		p.wantKeys(t, "eu-west-1", other, key("golden-base"), key("qa-passed"))
	})
}
