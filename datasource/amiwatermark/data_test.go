package amiwatermark

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/zclconf/go-cty/cty"

	"github.com/amiwatermark/packer-plugin-amiwatermark/internal/ec2emu"
)

const golden = acctGolden + ":golden"

func wms(keys ...string) []ec2emu.SeedWatermark {
	out := make([]ec2emu.SeedWatermark, len(keys))
	for i, k := range keys {
		out[i] = ec2emu.SeedWatermark{Key: k}
	}
	return out
}

func date(daysAgo int) string {
	return time.Now().UTC().Add(-time.Duration(daysAgo) * 24 * time.Hour).Format(time.RFC3339)
}

func TestDatasourceNewestOfSeveral(t *testing.T) {
	e := newEmu(t)
	ids := e.SeedImages(t,
		ec2emu.SeedImage{Region: "us-east-1", Account: acctGolden, Name: "base-1", CreationDate: date(30), Watermarks: wms("golden")},
		ec2emu.SeedImage{Region: "us-east-1", Account: acctGolden, Name: "base-3", CreationDate: date(2), Watermarks: wms("golden"),
			Description: "the newest", Tags: map[string]string{"team": "platform", "os": "linux"}, Architecture: "arm64"},
		ec2emu.SeedImage{Region: "us-east-1", Account: acctGolden, Name: "base-2", CreationDate: date(10), Watermarks: wms("golden", "silver")},
		// Newer, but another watermark.
		ec2emu.SeedImage{Region: "us-east-1", Account: acctGolden, Name: "other", CreationDate: date(1), Watermarks: wms("silver")},
		// Newer, right key, other region.
		ec2emu.SeedImage{Region: "eu-west-1", Account: acctGolden, Name: "eu", CreationDate: date(1), Watermarks: wms("golden")},
	)
	id, v := e.mustRun(t, acctGolden, "us-east-1", map[string]interface{}{
		"watermark_keys": []string{golden},
		"owners":         []string{"self"},
	})
	if id != ids[1] {
		t.Fatalf("id = %s, want the newest golden image %s", id, ids[1])
	}
	str := func(k string) string { return v.GetAttr(k).AsString() }
	for k, want := range map[string]string{
		"name": "base-3", "description": "the newest", "region": "us-east-1", "owner_id": acctGolden,
		"owner_alias": "", "architecture": "arm64", "virtualization_type": "hvm",
	} {
		if got := str(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	if !strings.HasPrefix(str("creation_date"), date(2)[:10]) {
		t.Errorf("creation_date = %q", str("creation_date"))
	}
	if got := v.GetAttr("tags"); !got.Type().IsMapType() || got.Index(cty.StringVal("team")).AsString() != "platform" || got.LengthInt() != 2 {
		t.Errorf("tags = %#v", got)
	}
	if v.GetAttr("image_allowed").True() || v.GetAttr("image_allowed_known").True() {
		t.Errorf("image_allowed known with the setting disabled")
	}
	mw := v.GetAttr("matched_watermark")
	if !mw.Type().IsObjectType() {
		t.Fatalf("matched_watermark type %s", mw.Type().FriendlyName())
	}
	for k, want := range map[string]string{"key": golden, "account": acctGolden, "name": "golden", "source_image_id": ids[1], "source_image_region": "us-east-1"} {
		if got := mw.GetAttr(k).AsString(); got != want {
			t.Errorf("matched_watermark.%s = %q, want %q", k, got, want)
		}
	}
	for _, k := range []string{"source_image_creation_time", "watermark_creation_time"} {
		if _, err := time.Parse(time.RFC3339, mw.GetAttr(k).AsString()); err != nil {
			t.Errorf("matched_watermark.%s: %v", k, err)
		}
	}
	ws := v.GetAttr("watermarks")
	if !ws.Type().IsListType() || ws.LengthInt() != 1 || ws.Index(cty.NumberIntVal(0)).GetAttr("key").AsString() != golden {
		t.Errorf("watermarks = %#v", ws)
	}

	// The same for a consumer that was given the images: the images are not
	// shared, so nothing matches.
	if _, err := e.run(t, acctConsumer, "us-east-1", map[string]interface{}{
		"watermark_keys": []string{golden}, "owners": []string{acctGolden},
	}); err == nil {
		t.Errorf("found an image that is not shared with the caller")
	}
}

// The output lists every watermark of the image, and the one that matched.
func TestDatasourceOutputWatermarks(t *testing.T) {
	e := newEmu(t)
	ids := e.SeedImages(t, ec2emu.SeedImage{Region: "us-east-1", Account: acctGolden, Name: "b", Watermarks: wms("alpha", "golden-2", "omega")})
	_, v := e.mustRun(t, acctGolden, "us-east-1", map[string]interface{}{
		"watermark_keys": []string{acctGolden + ":golden-*"}, "owners": []string{acctGolden},
	})
	if got := v.GetAttr("matched_watermark").GetAttr("key").AsString(); got != acctGolden+":golden-2" {
		t.Errorf("matched %s", got)
	}
	var keys []string
	for it := v.GetAttr("watermarks").ElementIterator(); it.Next(); {
		_, w := it.Element()
		keys = append(keys, w.GetAttr("key").AsString())
		if w.GetAttr("source_image_id").AsString() != ids[0] {
			t.Errorf("source_image_id %s", w.GetAttr("source_image_id").AsString())
		}
	}
	if strings.Join(keys, ",") != acctGolden+":alpha,"+acctGolden+":golden-2,"+acctGolden+":omega" {
		t.Errorf("watermarks = %v", keys)
	}
	if v.GetAttr("tags").LengthInt() != 0 || v.GetAttr("tags").IsNull() {
		t.Errorf("tags should be an empty map, got %#v", v.GetAttr("tags"))
	}
}

func TestDatasourceLineageDerivedImage(t *testing.T) {
	e := newEmu(t)
	base := e.SeedImages(t, ec2emu.SeedImage{Region: "us-east-1", Account: acctGolden, Name: "base", CreationDate: date(5), Watermarks: wms("golden")})[0]
	c := e.EC2("us-east-1", acctGolden)
	run, err := c.RunInstances(bg, &ec2.RunInstancesInput{ImageId: aws.String(base), MinCount: aws.Int32(1), MaxCount: aws.Int32(1), InstanceType: ec2types.InstanceTypeT3Micro})
	if err != nil {
		t.Fatal(err)
	}
	ci, err := c.CreateImage(bg, &ec2.CreateImageInput{InstanceId: run.Instances[0].InstanceId, Name: aws.String("app")})
	if err != nil {
		t.Fatal(err)
	}
	derived := aws.ToString(ci.ImageId)

	cfg := map[string]interface{}{"watermark_keys": []string{golden}, "owners": []string{"self"}}
	if id, _ := e.mustRun(t, acctGolden, "us-east-1", cfg); id != base {
		t.Errorf("lineage attached (default) chose %s, want the base %s (derived is %s)", id, base, derived)
	}
	cfg["lineage"] = "attached"
	if id, _ := e.mustRun(t, acctGolden, "us-east-1", cfg); id != base {
		t.Errorf("lineage attached chose %s, want the base %s", id, base)
	}
	cfg["lineage"] = "any"
	id, v := e.mustRun(t, acctGolden, "us-east-1", cfg)
	if id != derived {
		t.Errorf("lineage any chose %s, want the derived %s", id, derived)
	}
	if got := v.GetAttr("matched_watermark").GetAttr("source_image_id").AsString(); got != base {
		t.Errorf("matched watermark source %s, want %s", got, base)
	}
}

func TestDatasourceLineageCopyInAnotherRegion(t *testing.T) {
	e := newEmu(t)
	base := e.SeedImages(t, ec2emu.SeedImage{Region: "us-east-1", Account: acctGolden, Name: "base", CreationDate: date(5), Watermarks: wms("golden")})[0]
	eu := e.EC2("eu-west-1", acctGolden)
	cp, err := eu.CopyImage(bg, &ec2.CopyImageInput{SourceImageId: aws.String(base), SourceRegion: aws.String("us-east-1"), Name: aws.String("base-eu")})
	if err != nil {
		t.Fatal(err)
	}
	cp1 := aws.ToString(cp.ImageId)
	// A copy of the copy (newer) is not a direct copy of the watermarked
	// image.
	e.Emulator.AdvanceClock(time.Minute)
	cp2, err := eu.CopyImage(bg, &ec2.CopyImageInput{SourceImageId: aws.String(cp1), SourceRegion: aws.String("eu-west-1"), Name: aws.String("base-eu-2")})
	if err != nil {
		t.Fatal(err)
	}

	cfg := map[string]interface{}{"watermark_keys": []string{golden}, "owners": []string{"self"}, "source_image_region": "us-*"}
	id, v := e.mustRun(t, acctGolden, "eu-west-1", cfg)
	if id != cp1 {
		t.Errorf("chose %s, want the direct copy %s (copy of copy %s)", id, cp1, aws.ToString(cp2.ImageId))
	}
	mw := v.GetAttr("matched_watermark")
	if mw.GetAttr("source_image_id").AsString() != base || mw.GetAttr("source_image_region").AsString() != "us-east-1" || v.GetAttr("region").AsString() != "eu-west-1" {
		t.Errorf("output %#v", v)
	}
	cfg["lineage"] = "any"
	if id, _ := e.mustRun(t, acctGolden, "eu-west-1", cfg); id != aws.ToString(cp2.ImageId) {
		t.Errorf("lineage any chose %s", id)
	}
	// source_image_region must hold on the matching watermark.
	cfg["source_image_region"] = "eu-*"
	if _, err := e.run(t, acctGolden, "eu-west-1", cfg); err == nil || !strings.Contains(err.Error(), `2 whose matching watermark was attached in a region that does not match source_image_region "eu-*"`) {
		t.Errorf("source_image_region eu-*: %v", err)
	}
}

// An account that can launch the golden image builds an image that inherits
// its watermark and shares it with the consumer: ignored unless its owner is
// listed.
func TestDatasourceThirdAccountImageIgnored(t *testing.T) {
	e := newEmu(t)
	base := e.SeedImages(t, ec2emu.SeedImage{Region: "us-east-1", Account: acctGolden, Name: "base", CreationDate: date(5),
		Watermarks: wms("golden"), SharedWith: []string{acctConsumer, acctThird}})[0]
	// The third account copies the golden image (a direct copy: lineage
	// attached accepts it) and shares the newer copy with the consumer.
	third := e.EC2("us-east-1", acctThird)
	cp, err := third.CopyImage(bg, &ec2.CopyImageInput{SourceImageId: aws.String(base), SourceRegion: aws.String("us-east-1"), Name: aws.String("not-golden")})
	if err != nil {
		t.Fatal(err)
	}
	evil := aws.ToString(cp.ImageId)
	if _, err := third.ModifyImageAttribute(bg, &ec2.ModifyImageAttributeInput{ImageId: aws.String(evil),
		LaunchPermission: &ec2types.LaunchPermissionModifications{Add: []ec2types.LaunchPermission{{UserId: aws.String(acctConsumer)}}}}); err != nil {
		t.Fatal(err)
	}
	e.Emulator.AdvanceClock(time.Minute)

	cfg := map[string]interface{}{"watermark_keys": []string{golden}, "owners": []string{acctGolden}}
	if id, _ := e.mustRun(t, acctConsumer, "us-east-1", cfg); id != base {
		t.Errorf("owners [golden]: chose %s, want %s (the third account's copy is %s)", id, base, evil)
	}
	cfg["owners"] = []string{acctGolden, acctThird}
	if id, _ := e.mustRun(t, acctConsumer, "us-east-1", cfg); id != evil {
		t.Errorf("owners [golden, third]: chose %s, want the listed third account's copy %s", id, evil)
	}

	// Against a server that ignores owners and filters, the client-side
	// re-check still refuses the third account's image, and every other
	// image.
	lying := e.lyingServer(t)
	d := &Datasource{}
	raw := e.config(acctConsumer, "us-east-1", map[string]interface{}{"watermark_keys": []string{golden}, "owners": []string{acctGolden}})
	raw["custom_endpoint_ec2"] = lying
	if err := d.Configure(raw); err != nil {
		t.Fatal(err)
	}
	v, err := d.Execute()
	if err != nil {
		t.Fatal(err)
	}
	if got := v.GetAttr("id").AsString(); got != base {
		t.Errorf("lying server: chose %s, want %s", got, base)
	}
	// A newer image of the listed owner carrying the third account's
	// "golden" key (inherited) is not a golden image.
	e.Emulator.AdvanceClock(time.Minute)
	e.SeedImages(t, ec2emu.SeedImage{Region: "us-east-1", Account: acctGolden, Name: "fake", Watermarks: wms(acctThird + ":golden"), SharedWith: []string{acctConsumer}})
	d = &Datasource{}
	if err := d.Configure(raw); err != nil {
		t.Fatal(err)
	}
	if v, err = d.Execute(); err != nil || v.GetAttr("id").AsString() != base {
		t.Errorf("lying server with a fake key: %v %v", v, err)
	}
	// With nothing to find, the error counts what the re-check refused.
	raw["watermark_keys"] = []string{acctGolden + ":nothing"}
	d = &Datasource{}
	if err := d.Configure(raw); err != nil {
		t.Fatal(err)
	}
	_, err = d.Execute()
	if err == nil || !strings.HasSuffix(err.Error(), "3 images returned by EC2 for this query were rejected:\n"+
		"  1 owned by an account that is not in owners; add the owner to owners if you trust images it builds\n"+
		"  2 returned by EC2 but carrying no watermark key that matches watermark_keys when re-checked") {
		t.Errorf("lying server, nothing to find: %v", err)
	}
}

func TestDatasourceAgesViaClock(t *testing.T) {
	e := newEmu(t)
	id := e.SeedImages(t, ec2emu.SeedImage{Region: "us-east-1", Account: acctGolden, Name: "base", CreationDate: date(1), Watermarks: wms("golden")})[0]
	cfg := map[string]interface{}{"watermark_keys": []string{golden}, "owners": []string{"self"}, "max_watermark_age_days": 10}
	if got, _ := e.mustRun(t, acctGolden, "us-east-1", cfg); got != id {
		t.Fatalf("fresh watermark: %s", got)
	}
	e.advanceClock(t, "264h") // 11 days
	_, err := e.run(t, acctGolden, "us-east-1", cfg)
	if err == nil || !strings.HasSuffix(err.Error(), "1 image returned by EC2 for this query was rejected:\n  1 whose matching watermark was attached more than max_watermark_age_days = 10 days ago") {
		t.Fatalf("after 11 days: %v", err)
	}
	cfg["max_watermark_age_days"] = 12
	if got, _ := e.mustRun(t, acctGolden, "us-east-1", cfg); got != id {
		t.Fatalf("limit 12 days: %s", got)
	}
	// The source image was created 12 days ago (emulator time).
	cfg["max_source_image_age_days"] = 11
	_, err = e.run(t, acctGolden, "us-east-1", cfg)
	if err == nil || !strings.Contains(err.Error(), "1 whose matching watermark's source image was created more than max_source_image_age_days = 11 days ago") {
		t.Fatalf("source image age: %v", err)
	}
	cfg["max_source_image_age_days"] = 13
	if got, _ := e.mustRun(t, acctGolden, "us-east-1", cfg); got != id {
		t.Fatalf("source image age 13: %s", got)
	}
}

func TestDatasourceDeprecated(t *testing.T) {
	e := newEmu(t)
	ids := e.SeedImages(t,
		ec2emu.SeedImage{Region: "us-east-1", Account: acctGolden, Name: "old", CreationDate: date(9), Watermarks: wms("golden"), SharedWith: []string{acctConsumer}},
		ec2emu.SeedImage{Region: "us-east-1", Account: acctGolden, Name: "deprecated", CreationDate: date(3), Watermarks: wms("golden"),
			SharedWith: []string{acctConsumer}, DeprecationTime: date(1)},
		ec2emu.SeedImage{Region: "us-east-1", Account: acctGolden, Name: "to-be-deprecated", CreationDate: date(5), Watermarks: wms("golden"),
			SharedWith: []string{acctConsumer}, DeprecationTime: time.Now().UTC().Add(48 * time.Hour).Format(time.RFC3339)},
	)
	cfg := map[string]interface{}{"watermark_keys": []string{golden}, "owners": []string{acctGolden}}
	// The owner sees its deprecated images in DescribeImages; the data
	// source still skips them.
	for _, acct := range []string{acctGolden, acctConsumer} {
		if id, _ := e.mustRun(t, acct, "us-east-1", cfg); id != ids[2] {
			t.Errorf("%s: chose %s, want the not yet deprecated %s", acct, id, ids[2])
		}
	}
	cfg["include_deprecated"] = true
	for _, acct := range []string{acctGolden, acctConsumer} {
		if id, _ := e.mustRun(t, acct, "us-east-1", cfg); id != ids[1] {
			t.Errorf("%s include_deprecated: chose %s, want %s", acct, id, ids[1])
		}
	}
	// Once the clock passes the second deprecation time, only the old one.
	e.Emulator.AdvanceClock(72 * time.Hour)
	delete(cfg, "include_deprecated")
	if id, _ := e.mustRun(t, acctGolden, "us-east-1", cfg); id != ids[0] {
		t.Errorf("after the deprecation: chose %s, want %s", id, ids[0])
	}
}

func TestDatasourceAllowedOnly(t *testing.T) {
	e := newEmu(t)
	ids := e.SeedImages(t,
		ec2emu.SeedImage{Region: "us-east-1", Account: acctGolden, Name: "allowed-1", CreationDate: date(5), Watermarks: wms("golden"), SharedWith: []string{acctConsumer}},
		ec2emu.SeedImage{Region: "us-east-1", Account: acctGolden, Name: "denied-1", CreationDate: date(1), Watermarks: wms("golden"), SharedWith: []string{acctConsumer}},
	)
	allowedID, deniedID := ids[0], ids[1]
	c := e.EC2("us-east-1", acctConsumer)
	if _, err := c.ReplaceImageCriteriaInAllowedImagesSettings(bg, &ec2.ReplaceImageCriteriaInAllowedImagesSettingsInput{
		ImageCriteria: []ec2types.ImageCriterionRequest{{ImageNames: []string{"allowed-*"}}},
	}); err != nil {
		t.Fatal(err)
	}
	cfg := map[string]interface{}{"watermark_keys": []string{golden}, "owners": []string{acctGolden}, "allowed_only": true}

	// Disabled: a clear error.
	_, err := e.run(t, acctConsumer, "us-east-1", cfg)
	if err == nil || !strings.HasPrefix(err.Error(), "amiwatermark: allowed_only = true, but EC2 does not report imageAllowed in us-east-1: the account's Allowed AMIs setting is disabled there.") {
		t.Errorf("disabled: %v", err)
	}

	// Audit mode: both images are returned, one with imageAllowed = false.
	if _, err := c.EnableAllowedImagesSettings(bg, &ec2.EnableAllowedImagesSettingsInput{AllowedImagesSettingsState: ec2types.AllowedImagesSettingsEnabledStateAuditMode}); err != nil {
		t.Fatal(err)
	}
	id, v := e.mustRun(t, acctConsumer, "us-east-1", cfg)
	if id != allowedID || !v.GetAttr("image_allowed").True() || !v.GetAttr("image_allowed_known").True() {
		t.Errorf("audit-mode allowed_only: %s allowed=%v", id, v.GetAttr("image_allowed"))
	}
	delete(cfg, "allowed_only")
	id, v = e.mustRun(t, acctConsumer, "us-east-1", cfg)
	if id != deniedID || v.GetAttr("image_allowed").True() || !v.GetAttr("image_allowed_known").True() {
		t.Errorf("audit-mode without allowed_only: %s allowed=%v", id, v.GetAttr("image_allowed"))
	}

	// Enabled: EC2 hides the disallowed image.
	if _, err := c.EnableAllowedImagesSettings(bg, &ec2.EnableAllowedImagesSettingsInput{AllowedImagesSettingsState: ec2types.AllowedImagesSettingsEnabledStateEnabled}); err != nil {
		t.Fatal(err)
	}
	cfg["allowed_only"] = true
	if id, _ := e.mustRun(t, acctConsumer, "us-east-1", cfg); id != allowedID {
		t.Errorf("enabled: %s", id)
	}
	// And when nothing is allowed, the error says so.
	if _, err := c.ReplaceImageCriteriaInAllowedImagesSettings(bg, &ec2.ReplaceImageCriteriaInAllowedImagesSettingsInput{
		ImageCriteria: []ec2types.ImageCriterionRequest{{ImageNames: []string{"nothing-*"}}},
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.EnableAllowedImagesSettings(bg, &ec2.EnableAllowedImagesSettingsInput{AllowedImagesSettingsState: ec2types.AllowedImagesSettingsEnabledStateAuditMode}); err != nil {
		t.Fatal(err)
	}
	_, err = e.run(t, acctConsumer, "us-east-1", cfg)
	if err == nil || !strings.HasSuffix(err.Error(), "2 images returned by EC2 for this query were rejected:\n  2 not allowed by the account's Allowed AMIs settings (imageAllowed = false) while allowed_only = true") {
		t.Errorf("nothing allowed: %v", err)
	}
}

func TestDatasourceManyPages(t *testing.T) {
	e := newEmu(t)
	var imgs []ec2emu.SeedImage
	base := time.Now().UTC().Add(-100 * 24 * time.Hour)
	for i := 0; i < 2500; i++ {
		created := base.Add(time.Duration(i) * time.Minute)
		if i == 1234 {
			created = base.Add(50 * 24 * time.Hour) // the newest, in the middle of the id/seed order
		}
		imgs = append(imgs, ec2emu.SeedImage{Region: "us-east-1", Account: acctGolden, Name: fmt.Sprintf("img-%04d", i),
			CreationDate: created.Format(time.RFC3339), Watermarks: wms(fmt.Sprintf("golden-%d", i%3))})
	}
	// Noise that the server filter removes.
	for i := 0; i < 300; i++ {
		imgs = append(imgs, ec2emu.SeedImage{Region: "us-east-1", Account: acctGolden, Name: fmt.Sprintf("noise-%04d", i), Watermarks: wms("silver")})
	}
	ids := e.SeedImages(t, imgs...)
	e.Emulator.ResetStats()
	id, _ := e.mustRun(t, acctGolden, "us-east-1", map[string]interface{}{
		"watermark_keys": []string{acctGolden + ":golden-*"}, "owners": []string{"self"},
	})
	if id != ids[1234] {
		t.Errorf("chose %s, want %s", id, ids[1234])
	}
	if n := e.Emulator.Stats().Actions["DescribeImages"]; n != 3 {
		t.Errorf("DescribeImages calls = %d, want 3 pages of at most 1000", n)
	}
	// most_recent = false: an error listing the newest few.
	_, err := e.run(t, acctGolden, "us-east-1", map[string]interface{}{
		"watermark_keys": []string{acctGolden + ":golden-*"}, "owners": []string{"self"}, "most_recent": false,
	})
	if err == nil || !strings.HasPrefix(err.Error(), "amiwatermark: 2500 images in us-east-1 match the query and most_recent = false asks for exactly one. The newest 5:\n  "+ids[1234]+`  "img-1234"`) {
		t.Errorf("most_recent false: %v", err)
	}
}

func TestDatasourceMostRecentFalse(t *testing.T) {
	e := newEmu(t)
	ids := e.SeedImages(t, ec2emu.SeedImage{Region: "us-east-1", Account: acctGolden, Name: "only", CreationDate: "2026-01-02T03:04:05.000Z", Watermarks: wms("golden")})
	// "self" and the caller's own id list the caller twice: still one match.
	cfg := map[string]interface{}{"watermark_keys": []string{golden}, "owners": []string{"self", acctGolden}, "most_recent": false}
	if id, _ := e.mustRun(t, acctGolden, "us-east-1", cfg); id != ids[0] {
		t.Errorf("single match: %s", id)
	}
	ids = append(ids, e.SeedImages(t, ec2emu.SeedImage{Region: "us-east-1", Account: acctGolden, Name: "second", CreationDate: "2026-01-03T03:04:05.000Z", Watermarks: wms("golden")})...)
	_, err := e.run(t, acctGolden, "us-east-1", cfg)
	want := "amiwatermark: 2 images in us-east-1 match the query and most_recent = false asks for exactly one. The newest 2:\n" +
		"  " + ids[1] + `  "second"  created 2026-01-03T03:04:05Z` + "\n" +
		"  " + ids[0] + `  "only"  created 2026-01-02T03:04:05Z` + "\n" +
		"Set most_recent = true to take the newest, or narrow watermark_keys, owners or filters.\n" +
		"Query:\n" +
		"  region:                    us-east-1\n" +
		"  owners:                    self, 111122223333\n" +
		"  watermark_keys:            111122223333:golden\n" +
		"  filters:                   (none)\n" +
		"  lineage:                   attached\n" +
		"  source_image_region:       (any)\n" +
		"  max_watermark_age_days:    (no limit)\n" +
		"  max_source_image_age_days: (no limit)\n" +
		"  include_deprecated:        false\n" +
		"  allowed_only:              false"
	if err == nil || err.Error() != want {
		t.Errorf("error\n got: %v\nwant: %s", err, want)
	}
}

func TestDatasourceFilters(t *testing.T) {
	e := newEmu(t)
	ids := e.SeedImages(t,
		ec2emu.SeedImage{Region: "us-east-1", Account: acctGolden, Name: "web-1", CreationDate: date(3), Watermarks: wms("golden"), Tags: map[string]string{"team": "web"}},
		ec2emu.SeedImage{Region: "us-east-1", Account: acctGolden, Name: "db-1", CreationDate: date(2), Watermarks: wms("golden"), Tags: map[string]string{"team": "db"}},
		ec2emu.SeedImage{Region: "us-east-1", Account: acctGolden, Name: "ml-1", CreationDate: date(1), Watermarks: wms("golden"), Tags: map[string]string{"team": "ml"}, Architecture: "arm64"},
	)
	cfg := map[string]interface{}{"watermark_keys": []string{golden}, "owners": []string{"self"},
		"filters": map[string]string{"tag:team": "web, db", "architecture": "x86_64"}}
	if id, _ := e.mustRun(t, acctGolden, "us-east-1", cfg); id != ids[1] {
		t.Errorf("filters: chose %s, want %s", id, ids[1])
	}
	cfg["filters"] = map[string]string{"no-such-filter": "x"}
	_, err := e.run(t, acctGolden, "us-east-1", cfg)
	if err == nil || !strings.Contains(err.Error(), "amiwatermark: DescribeImages in us-east-1 (owners self, watermark_keys 111122223333:golden) failed: ") ||
		!strings.Contains(err.Error(), "no-such-filter") || !strings.HasSuffix(err.Error(), "; check the names and values in filters: they are DescribeImages filter names such as name, tag:team or architecture") {
		t.Errorf("unknown filter: %v", err)
	}
}

func TestDatasourceNothingMatchesError(t *testing.T) {
	e := newEmu(t)
	e.SeedImages(t, ec2emu.SeedImage{Region: "us-east-1", Account: acctGolden, Name: "silver", Watermarks: wms("silver")})
	cfg := map[string]interface{}{
		"watermark_keys": []string{acctGolden + ":golden-*", acctGolden + ":base"},
		"owners":         []string{"self", acctThird, "amazon"},
		"filters":        map[string]string{"name": "app-*,web-*", "architecture": "x86_64"},
		"lineage":        "any", "source_image_region": "us-*", "max_watermark_age_days": 30, "max_source_image_age_days": 90,
		"include_deprecated": true, "allowed_only": false,
	}
	_, err := e.run(t, acctGolden, "eu-central-1", cfg)
	want := "amiwatermark: no image in eu-central-1 matches the query.\n" +
		"Query:\n" +
		"  region:                    eu-central-1\n" +
		"  owners:                    self, 777788889999, amazon\n" +
		"  watermark_keys:            111122223333:golden-*, 111122223333:base\n" +
		"  filters:                   architecture = x86_64; name = app-*,web-*\n" +
		"  lineage:                   any\n" +
		"  source_image_region:       us-*\n" +
		"  max_watermark_age_days:    30\n" +
		"  max_source_image_age_days: 90\n" +
		"  include_deprecated:        true\n" +
		"  allowed_only:              false\n" +
		"EC2 returned no image carrying a watermark key that matches watermark_keys for these owners and filters. " +
		"Check that each pattern is ACCOUNT:NAME with the account that attached the watermark, that the images are in eu-central-1 " +
		"and owned by a listed owner, and that the filters hold for them."
	if err == nil || err.Error() != want {
		t.Errorf("error\n got: %v\nwant: %s", err, want)
	}

	// Images that carry the key but fail conditions are counted per
	// condition.
	e.SeedImages(t,
		ec2emu.SeedImage{Region: "us-east-1", Account: acctGolden, Name: "dep", Watermarks: wms("golden"), DeprecationTime: date(1)},
		ec2emu.SeedImage{Region: "us-east-1", Account: acctGolden, Name: "pend", Watermarks: wms("golden"), State: "pending"},
		ec2emu.SeedImage{Region: "us-east-1", Account: acctGolden, Name: "old", Watermarks: []ec2emu.SeedWatermark{{Key: golden, WatermarkCreationTime: date(40)}}},
		ec2emu.SeedImage{Region: "us-east-1", Account: acctGolden, Name: "old2", Watermarks: []ec2emu.SeedWatermark{{Key: golden, WatermarkCreationTime: date(50)}}},
	)
	_, err = e.run(t, acctGolden, "us-east-1", map[string]interface{}{
		"watermark_keys": []string{golden}, "owners": []string{"self"}, "max_watermark_age_days": 30,
	})
	want = "amiwatermark: no image in us-east-1 matches the query.\n" +
		"Query:\n" +
		"  region:                    us-east-1\n" +
		"  owners:                    self\n" +
		"  watermark_keys:            111122223333:golden\n" +
		"  filters:                   (none)\n" +
		"  lineage:                   attached\n" +
		"  source_image_region:       (any)\n" +
		"  max_watermark_age_days:    30\n" +
		"  max_source_image_age_days: (no limit)\n" +
		"  include_deprecated:        false\n" +
		"  allowed_only:              false\n" +
		"4 images returned by EC2 for this query were rejected:\n" +
		"  1 not in the available state (still pending, or failed); wait for them or check the image\n" +
		"  1 deprecated; set include_deprecated = true to accept deprecated images\n" +
		"  2 whose matching watermark was attached more than max_watermark_age_days = 30 days ago"
	if err == nil || err.Error() != want {
		t.Errorf("error\n got: %v\nwant: %s", err, want)
	}
}

func TestDatasourceConfigureErrors(t *testing.T) {
	d := &Datasource{}
	err := d.Configure(map[string]interface{}{
		"watermark_keys":         []string{"*:golden", "1111*:x", "123456789012:ok-*"},
		"owners":                 []string{"self", "everyone"},
		"lineage":                "derived",
		"max_watermark_age_days": -1,
		"source_image_region":    "US-EAST-1",
		"filters":                map[string]string{"name": "a,,b"},
		"access_key":             "AKIDONLY",
	})
	if err == nil {
		t.Fatal("Configure accepted a bad configuration")
	}
	why := "AWS sets the account part of a watermark key to the account that attached the watermark, so it is the one part of a key nobody else can forge; " +
		"with a wildcard or a partial id there, an image watermarked by any other account (shared with you, or public) can match. " +
		"Write the full account id, for example 123456789012:golden, or set allow_any_account = true if you really mean to accept watermarks attached by any account"
	want := []string{
		"access_key and secret_key must be set together: set both, or neither to use the default credential chain",
		`watermark_keys[0]: watermark key pattern "*:golden": the account part "*" is not a literal 12-digit account id. ` + why,
		`watermark_keys[1]: watermark key pattern "1111*:x": the account part "1111*" is not a literal 12-digit account id. ` + why,
		`owners[1] "everyone" is not an owner: use "self", a 12-digit account id, or one of the aliases amazon, aws-marketplace, aws-backup-vault (wildcards are not allowed)`,
		`lineage "derived" is not valid: use "attached" (the default: only the image the watermark was attached to, or a direct copy of it) or "any" (also images built from it with CreateImage, which inherit its watermarks)`,
		"max_watermark_age_days is -1: it must be a number of days between 0 and 2147483647",
		`source_image_region "US-EAST-1" is not a region pattern: use a region name such as us-east-1, or a pattern with * and ? such as us-*`,
		`filters["name"] = "a,,b" has an empty value: separate values with single commas, for example "a,b"`,
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("missing error:\n%s\nin:\n%v", w, err)
		}
	}
	if n := strings.Count(err.Error(), "\n* "); n != len(want) {
		t.Errorf("%d errors, want %d:\n%v", n, len(want), err)
	}

	d = &Datasource{}
	err = d.Configure(map[string]interface{}{})
	for _, w := range []string{
		`watermark_keys is required: list one or more key patterns ACCOUNT:NAME, for example ["123456789012:golden-base"] (the name part may use * and ?)`,
		`owners is required: list the accounts whose images may be returned`,
	} {
		if err == nil || !strings.Contains(err.Error(), w) {
			t.Errorf("empty config: missing %q in %v", w, err)
		}
	}

	// allow_any_account opens the account part; defaults are filled.
	d = &Datasource{}
	if err := d.Configure(map[string]interface{}{"watermark_keys": []string{"*:golden"}, "owners": []string{"amazon"}, "allow_any_account": true}); err != nil {
		t.Fatal(err)
	}
	if !d.mostRecent || d.lineage != "attached" || len(d.patterns) != 1 || !d.patterns[0].AccountIsGlob {
		t.Errorf("defaults: %+v", d)
	}
	d = &Datasource{}
	if err := d.Configure(map[string]interface{}{"watermark_keys": []string{golden}, "owners": []string{"self"}, "most_recent": false}); err != nil || d.mostRecent {
		t.Errorf("most_recent false: %v %v", err, d.mostRecent)
	}
}

// The data source measures ages against EC2's Date header, not the local
// clock: a server whose clock is ahead makes watermarks older.
func TestDatasourceClockFromDateHeader(t *testing.T) {
	e := newEmu(t)
	e.SeedImages(t, ec2emu.SeedImage{Region: "us-east-1", Account: acctGolden, Name: "b", Watermarks: wms("golden")})
	e.Emulator.AdvanceClock(3 * 24 * time.Hour)
	cfg := map[string]interface{}{"watermark_keys": []string{golden}, "owners": []string{"self"}, "max_watermark_age_days": 2}
	if _, err := e.run(t, acctGolden, "us-east-1", cfg); err == nil {
		t.Errorf("age limit passed although the server clock is 3 days ahead")
	}
	// With an injected clock the Date header is not used.
	d := &Datasource{now: time.Now}
	if err := d.Configure(e.config(acctGolden, "us-east-1", cfg)); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Execute(); err != nil {
		t.Errorf("injected local clock: %v", err)
	}
}

func TestDatasourceOutputSpecConversion(t *testing.T) {
	d := &Datasource{}
	// Every field of DatasourceOutput converts, including empty nested
	// values.
	for _, out := range []DatasourceOutput{
		{},
		{ID: "ami-1", Tags: map[string]string{"a": "b"}, MatchedWatermark: WatermarkOutput{Key: "k"},
			Watermarks: []WatermarkOutput{{Key: "k"}, {Key: "l", Account: "a"}}},
		{Tags: map[string]string{}, Watermarks: []WatermarkOutput{}},
	} {
		v := hcl2ValueFromOutput(t, d, out)
		if !v.Type().Equals(d.outputType()) {
			t.Errorf("type %s, want %s", v.Type().GoString(), d.outputType().GoString())
		}
	}
}
