package amiwatermark

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
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
