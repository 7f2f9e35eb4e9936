package amiwatermark

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"

	"github.com/amiwatermark/packer-plugin-amiwatermark/internal/ec2emu"
)

func writeCriteria(t *testing.T, json string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "criteria.json")
	if err := os.WriteFile(p, []byte(json), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestPostProcessorAllowedCriteriaFile(t *testing.T) {
	golden := writeCriteria(t, `[{"ImageWatermarks":[{"WatermarkKey":"`+testAccount+`:golden*","SourceImageRegion":"us-*"}]}]`)
	e := newEmu(t)
	ids := e.SeedImages(t,
		ec2emu.SeedImage{Region: "us-east-1", Account: testAccount, Name: "app-a"},
		ec2emu.SeedImage{Region: "us-east-1", Account: testAccount, Name: "app-b"})
	ctx := context.Background()

	// Attaching golden-1 makes the AMI pass: planned, attached, checked again.
	_, ui, err := runPP(t, ctx, e.pp(t, map[string]interface{}{"watermarks": []string{"golden-1"}, "allowed_criteria_file": golden}), amiArtifact("us-east-1:"+ids[0]))
	if err != nil {
		t.Fatalf("%v\n%s", err, ui)
	}
	if got := e.keys(t, "us-east-1", ids[0]); !reflect.DeepEqual(got, []string{testAccount + ":golden-1"}) {
		t.Fatalf("keys = %v", got)
	}

	// A name the criteria do not accept: refused while planning, nothing attached.
	before := e.calls("AttachImageWatermark")
	_, ui, err = runPP(t, ctx, e.pp(t, map[string]interface{}{"watermarks": []string{"candidate"}, "allowed_criteria_file": golden}), amiArtifact("us-east-1:"+ids[1]))
	want := "us-east-1 " + ids[1] + ": allowed_criteria_file " + golden + ": the AMI with keys " + testAccount + ":candidate would be blocked by these Allowed-AMIs criteria"
	if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "nothing was changed") {
		t.Fatalf("error %v\nwant %s\n%s", err, want, ui)
	}
	if n := e.calls("AttachImageWatermark") - before; n != 0 {
		t.Fatalf("%d attach calls after a refused plan", n)
	}

	// The owning account named as the evaluating one: own AMIs are never restricted.
	_, ui, err = runPP(t, ctx, e.pp(t, map[string]interface{}{"watermarks": []string{"candidate"}, "allowed_criteria_file": golden, "allowed_criteria_account": testAccount}), amiArtifact("us-east-1:"+ids[1]))
	if err != nil {
		t.Fatalf("own account: %v\n%s", err, ui)
	}
}

func TestConfigAllowedCriteriaErrors(t *testing.T) {
	bad := writeCriteria(t, `[{"ImageWatermarks":[{}]}]`)
	tests := []struct {
		raw  map[string]interface{}
		want string
	}{
		{map[string]interface{}{"watermarks": []string{"golden"}, "allowed_criteria_file": "/nonexistent/c.json"},
			"allowed_criteria_file: open /nonexistent/c.json: no such file or directory: give the path of a JSON file of Allowed-AMIs image criteria"},
		{map[string]interface{}{"watermarks": []string{"golden"}, "allowed_criteria_file": bad},
			"allowed_criteria_file " + bad + ": criterion 1: ImageWatermarks[1] sets no field"},
		{map[string]interface{}{"watermarks": []string{"golden"}, "allowed_criteria_account": "1234"},
			`allowed_criteria_account "1234" is not a 12-digit account id`},
		{map[string]interface{}{"watermarks": []string{"golden"}, "allowed_criteria_account": "123456789012"},
			"allowed_criteria_account is set but allowed_criteria_file is not"},
	}
	for _, tt := range tests {
		var p PostProcessor
		err := p.Configure(tt.raw)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Configure(%v) = %v, want %q", tt.raw, err, tt.want)
		}
	}
}

// TestConfigCriteriaFileRefused: allowed_criteria_file is read by the same
// bounded reader as the CLI (watermark.ReadCriteriaFile): a deeply nested
// file, text after the JSON and null are refused by Configure (so by
// `packer validate`), naming the file and what is wrong; the documented owner aliases of a declarative policy are accepted.
func TestConfigCriteriaFileRefused(t *testing.T) {
	deep := writeCriteria(t, strings.Repeat("[", 40000)+strings.Repeat("]", 40000))
	tests := []struct{ path, want string }{
		{deep, "allowed_criteria_file " + deep + ": reading the criteria JSON: the JSON is nested more than 32 levels deep"},
		{writeCriteria(t, `[{"ImageProviders":["amazon"]}]]]]}}}garbage`), `: reading the criteria JSON: unexpected text after the JSON value at byte 32 ("]]]}}}garbage")`},
		{writeCriteria(t, `[{"ImageProviders":["amazon"]}],[{"ImageProviders":["none"]}]`), `unexpected text after the JSON value at byte 32`},
		{writeCriteria(t, "[]\x00\x01"), `unexpected text after the JSON value at byte 3 ("\x00\x01")`},
		{writeCriteria(t, `null`), `reading the criteria JSON: the JSON is null, not a list of criteria or an object`},
	}
	for _, tt := range tests {
		var p PostProcessor
		var err error
		n := allocatedBy(func() {
			err = p.Configure(map[string]interface{}{"watermarks": []string{"golden"}, "allowed_criteria_file": tt.path})
		})
		if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), tt.path) {
			t.Errorf("Configure(%s) = %v, want %q", tt.path, err, tt.want)
		}
		if n > 16<<20 {
			t.Errorf("Configure(%s) allocated %d bytes, want at most 16 MiB", tt.path, n)
		}
	}
	policy := writeCriteria(t, `{"ec2_attributes":{"allowed_images_settings":{"image_criteria":{"criteria_1":{"allowed_image_providers":["aws_marketplace","aws_backup_vault","amazon"]}}}}}`)
	var p PostProcessor
	if err := p.Configure(map[string]interface{}{"watermarks": []string{"golden"}, "allowed_criteria_file": policy}); err != nil {
		t.Fatalf("policy with aws_marketplace: %v", err)
	}
	if got, want := p.config.allowedCriteria[0].ImageProviders, []string{"aws-marketplace", "aws-backup-vault", "amazon"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("providers = %v, want %v", got, want)
	}
}

func allocatedBy(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}
