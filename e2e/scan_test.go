package e2e

import (
	"net/http"
	"path/filepath"
	"testing"
	"time"
)

// TestDataSourceScanConditions: a template refuses a base with an
// unpatched critical finding. The newest base has a critical finding whose
// fix has been available for 10 days; the older one was scanned with a
// medium finding at most.
func TestDataSourceScanConditions(t *testing.T) {
	forEachPacker(t, func(t *testing.T, p *stack) {
		p.resetEmulator(t)
		now := time.Now().UTC()
		day := 24 * time.Hour
		at := func(d time.Duration) string { return now.Add(-d).Format(time.RFC3339) }
		var out struct {
			ImageIDs []string `json:"image_ids"`
		}
		p.emuDo(t, http.MethodPost, "/_emu/images", []map[string]any{
			{"region": "us-east-1", "account": testAccount, "name": "scanned-base-2", "creation_date": at(day), "watermarks": []string{"scanned-base"},
				"scan_results": map[string]string{"finding_scan_date": at(day), "highest_finding_severity": "critical", "critical_fix_available_since": at(10 * day)}},
			{"region": "us-east-1", "account": testAccount, "name": "scanned-base-1", "creation_date": at(3 * day), "watermarks": []string{"scanned-base"},
				"scan_results": map[string]string{"finding_scan_date": at(2 * day), "highest_finding_severity": "medium"}},
		}, &out)
		if len(out.ImageIDs) != 2 {
			t.Fatalf("seeded %v", out.ImageIDs)
		}
		newest, patched := out.ImageIDs[0], out.ImageIDs[1]
		tpl := testdata("select.pkr.hcl")
		keys := `keys=["` + key("scanned-base") + `"]`

		for _, tc := range []struct {
			name string
			kv   []string
			want string
		}{
			{"no_conditions", nil, newest},
			{"critical_fix_at_most_7_days", []string{`fix_days={"critical" = 7}`}, patched},
			{"max_severity_high", []string{`max_severity=high`}, patched},
		} {
			t.Run(tc.name, func(t *testing.T) {
				dir := t.TempDir()
				r := p.build(t, dir, tpl, append([]string{p.endpointVar(), keys}, tc.kv...)...)
				mustSucceed(t, r)
				if m := readManifest(t, filepath.Join(dir, "manifest.json")); m["id"] != tc.want {
					t.Errorf("selected %q, want %s", m["id"], tc.want)
				}
			})
		}

		t.Run("nothing_qualifies", func(t *testing.T) {
			r := p.build(t, "", tpl, p.endpointVar(), keys, `max_severity=low`)
			mustFail(t, r)
			mustContain(t, r, "no image in us-east-1 matches the query", `scan conditions:`, `max_severity = "low"`,
				"2 whose Amazon Inspector scan results fail")
		})
		t.Run("bad_severity_fails_validate", func(t *testing.T) {
			r := p.validate(t, tpl, p.endpointVar(), keys, `max_severity=CRITICAL`)
			mustFail(t, r)
			mustContain(t, r, `max_severity: "CRITICAL" is not a severity`)
		})
	})
}
