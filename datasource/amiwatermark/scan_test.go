package amiwatermark

import (
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hcldec"
	"github.com/hashicorp/hcl/v2/hclsyntax"

	"github.com/amiwatermark/packer-plugin-amiwatermark/internal/ec2emu"
)

// TestDatasourceScanConditions: a template can refuse a base with an
// unpatched critical finding. The newest golden image has a critical
// finding whose fix has been available for just under 10 days (an hour of
// margin: ages are measured against EC2's clock, read from its answers);
// the older one was scanned clean; the oldest was never scanned.
func TestDatasourceScanConditions(t *testing.T) {
	e := newEmu(t)
	now := time.Now().UTC()
	ids := e.SeedImages(t,
		ec2emu.SeedImage{Region: "us-east-1", Account: acctGolden, Name: "golden-3", CreationDate: date(1), Watermarks: wms("golden"),
			SharedWith: []string{acctConsumer}, ScanResults: &ec2emu.SeedScanResults{FindingScanDate: date(1), HighestFindingSeverity: "critical",
				CriticalFixAvailableSince: now.Add(-10*24*time.Hour + time.Hour).Format(time.RFC3339)}},
		ec2emu.SeedImage{Region: "us-east-1", Account: acctGolden, Name: "golden-2", CreationDate: date(3), Watermarks: wms("golden"),
			SharedWith: []string{acctConsumer}, ScanResults: &ec2emu.SeedScanResults{FindingScanDate: date(2), HighestFindingSeverity: "medium"}},
		ec2emu.SeedImage{Region: "us-east-1", Account: acctGolden, Name: "golden-1", CreationDate: date(5), Watermarks: wms("golden"),
			SharedWith: []string{acctConsumer}},
	)
	base := map[string]interface{}{"watermark_keys": []string{golden}, "owners": []string{acctGolden}}
	with := func(extra map[string]interface{}) map[string]interface{} {
		m := map[string]interface{}{}
		for k, v := range base {
			m[k] = v
		}
		for k, v := range extra {
			m[k] = v
		}
		return m
	}
	if id, _ := e.mustRun(t, acctConsumer, "us-east-1", base); id != ids[0] {
		t.Fatalf("without conditions: %s, want the newest %s", id, ids[0])
	}
	for _, tc := range []struct {
		name  string
		extra map[string]interface{}
		want  string
	}{
		{"critical fix at most 7 days", map[string]interface{}{"max_days_since_fix_available": map[string]int{"critical": 7}}, ids[1]},
		{"critical fix at most 11 days", map[string]interface{}{"max_days_since_fix_available": map[string]int{"critical": 11}}, ids[0]},
		{"max severity high", map[string]interface{}{"max_severity": "high"}, ids[1]},
		{"scanned within 2 days", map[string]interface{}{"max_days_since_scan": 2}, ids[0]},
	} {
		if id, _ := e.mustRun(t, acctConsumer, "us-east-1", with(tc.extra)); id != tc.want {
			t.Errorf("%s: %s, want %s", tc.name, id, tc.want)
		}
	}
	// Nothing qualifies: the error names the settings.
	_, err := e.run(t, acctConsumer, "us-east-1", with(map[string]interface{}{"max_severity": "low"}))
	want := `3 images returned by EC2 for this query were rejected:
  3 whose Amazon Inspector scan results fail max_severity = "low" (or that Inspector never scanned); rebuild the base with the fixes, or relax these settings`
	if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), `scan conditions:`) {
		t.Errorf("nothing qualifies: %v", err)
	}
}

// TestDatasourceScanConfigFromHCL decodes the settings the way Packer hands
// them over (an HCL object through the generated spec), and checks the
// errors for bad values.
func TestDatasourceScanConfigFromHCL(t *testing.T) {
	d := &Datasource{}
	f, diags := hclsyntax.ParseConfig([]byte(`
watermark_keys = ["123456789012:golden"]
owners = ["self"]
max_severity = "medium"
max_days_since_scan = 30
max_days_since_fix_available = { critical = 0, high = 7 }
`), "t.hcl", hcl.InitialPos)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	v, diags := hcldec.Decode(f.Body, hcldec.ObjectSpec(d.ConfigSpec()), nil)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	if err := d.Configure(v); err != nil {
		t.Fatalf("Configure: %v", err)
	}
	sc := d.scan
	if sc == nil || string(*sc.MaximumSeverityLabel) != "medium" || *sc.MaxDaysSinceLastFindingScan != 30 ||
		*sc.MaxDaysSinceCriticalFixAvailable != 0 || *sc.MaxDaysSinceHighFixAvailable != 7 || sc.MaxDaysSinceLowFixAvailable != nil {
		t.Fatalf("scan condition = %+v", sc)
	}

	err := (&Datasource{}).Configure(map[string]interface{}{
		"watermark_keys": []string{"123456789012:golden"}, "owners": []string{"self"},
		"max_severity": "CRITICAL", "max_days_since_scan": -1,
		"max_days_since_fix_available": map[string]int{"urgent": 1, "low": 2147483648},
	})
	for _, w := range []string{
		`max_severity: "CRITICAL" is not a severity: use informational, low, medium, high, critical`,
		`max_days_since_scan is -1: it must be a number of days between 0 and 2147483647`,
		`max_days_since_fix_available: the key "urgent" is not a severity`,
		`max_days_since_fix_available["low"] is "2147483648": it must be a whole number of days between 0 and 2147483647`,
	} {
		if err == nil || !strings.Contains(err.Error(), w) {
			t.Errorf("missing error %q in %v", w, err)
		}
	}
}
