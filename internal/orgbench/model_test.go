package orgbench

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestModelFigures(t *testing.T) {
	p4 := Model{Base: 150 * time.Millisecond, PerItem: time.Millisecond, Accounts: 40, Regions: 4,
		Public: 10000, Own: 200, Shared: 100, Concurrency: 16, PageSize: 1000, OrgPageSize: 20}
	tests := []struct {
		name      string
		m         Model
		calls     int
		floor     time.Duration
		fullCalls int
	}{
		// Public chain 10 × 1.15 s = 11.5 s; all calls 40 × 1.15 + 160 ×
		// 0.45 (own and shared in one page) = 118 s / 16 = 7.375 s;
		// ListAccounts 2 × 0.17 s; AssumeRole 0.15 s.
		{"P4", p4, 40 + 160, 11500*time.Millisecond + 340*time.Millisecond + 150*time.Millisecond, 11},
		// One account: the public chain is the floor.
		{"one account", func() Model { m := p4; m.Accounts = 1; return m }(), 4*10 + 4,
			11500*time.Millisecond + 151*time.Millisecond + 150*time.Millisecond, 11},
		// Many accounts: the calls over the concurrency.
		{"400 accounts", func() Model { m := p4; m.Accounts = 400; return m }(), 40 + 1600,
			(46*time.Second+1600*450*time.Millisecond)/16 + 20*170*time.Millisecond + 150*time.Millisecond, 11},
		// No public image: still one (empty) public call, which is the
		// longest chain (all calls: 0.6 s / 16).
		{"no public image", func() Model { m := p4; m.Public = 0; m.Accounts = 1; m.Regions = 1; return m }(), 1 + 1,
			150*time.Millisecond + 151*time.Millisecond + 150*time.Millisecond, 1},
	}
	for _, tc := range tests {
		if got := tc.m.MinCalls(); got != tc.calls {
			t.Errorf("%s: MinCalls = %d, want %d", tc.name, got, tc.calls)
		}
		if got := tc.m.Floor(); got != tc.floor {
			t.Errorf("%s: Floor = %s, want %s", tc.name, got, tc.floor)
		}
		if got := tc.m.FullScanCalls(); got != tc.fullCalls {
			t.Errorf("%s: FullScanCalls = %d, want %d", tc.name, got, tc.fullCalls)
		}
	}
}

// TestTotalsError: a run whose totals differ from the model's is broken.
func TestTotalsError(t *testing.T) {
	dir := t.TempDir()
	good := `{"totals":{"scopes_ok":2,"scopes_failed":0,"images":20600,"blocked":200,"own":400,"allowed":20400}}`
	for _, tc := range []struct {
		name, doc, want string
	}{
		{"good", good, ""},
		{"a failed scope", strings.Replace(good, `"scopes_ok":2,"scopes_failed":0`, `"scopes_ok":1,"scopes_failed":1`, 1), "totals scopes_ok = 1, want 2"},
		{"public images missed", strings.Replace(good, "20600", "600", 1), "totals images = 600, want 20600"},
		{"own image blocked", strings.Replace(good, `"blocked":200`, `"blocked":201`, 1), "totals blocked = 201, want 200"},
		{"no totals", `{}`, "totals scopes_ok = 0, want 2"},
		{"not JSON", `{"totals":`, "unexpected end of JSON input"},
	} {
		file := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "-")+".json")
		if err := os.WriteFile(file, []byte(tc.doc), 0o600); err != nil {
			t.Fatal(err)
		}
		err := totalsError(file, 2)
		if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.want)
		}
	}
}
