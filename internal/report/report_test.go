package report

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

var testKeys = []string{"images", "allowed", "own", "blocked"}

func testScopes() []*Scope {
	rows := func(region string, n int) []Row {
		var out []Row
		for i := 0; i < n; i++ {
			out = append(out, Row{Kind: "image", ImageID: fmt.Sprintf("ami-%s-%d", region, i), OwnerID: "444455556666",
				Name: fmt.Sprintf(`<b>"%d"</b> & co`, i), Status: "blocked", Blocked: true, Reason: "criterion 1: no"})
		}
		return out
	}
	counts := func(n int) map[string]int {
		return map[string]int{"images": n + 1, "allowed": 1, "own": 1, "blocked": n}
	}
	return []*Scope{
		{Account: "111122223333", Region: "us-east-1", Status: StatusOK, Counts: counts(3), Rows: RowSlice(rows("use1", 3))},
		{Account: "777788889999", Region: "us-east-1", Status: StatusFailed, Error: "assuming: AccessDenied"},
		{Account: "111122223333", Region: "eu-west-1", Status: StatusOK, Counts: counts(2), Rows: RowSlice(rows("euw1", 2))},
		{Account: "444455556666", Region: "us-east-1", Status: StatusOK, Counts: counts(1), Rows: RowSlice(rows("b", 1))},
		{Account: "444455556666", Region: "eu-west-1", Status: StatusInterrupted},
	}
}

// write runs w over the test scopes and returns the summary.
func write(t *testing.T, w interface {
	Begin(*Header) error
	Scope(*Scope) error
	End(*Summary) error
}) *Summary {
	t.Helper()
	h := &Header{Command: "simulate", Caller: Caller{Account: "111122223333", ARN: "arn:aws:iam::111122223333:user/x"}, Accounts: 3,
		Params: map[string]any{"criteria_file": "p.json"}, Started: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC), CountKeys: testKeys}
	if err := w.Begin(h); err != nil {
		t.Fatal(err)
	}
	sum := NewSummary(testKeys)
	for _, sc := range testScopes() {
		blocked, err := BlockedOwners(sc)
		if err != nil {
			t.Fatal(err)
		}
		sum.Add(sc, blocked)
		if err := w.Scope(sc); err != nil {
			t.Fatal(err)
		}
	}
	sum.Sort()
	if err := w.End(sum); err != nil {
		t.Fatal(err)
	}
	return sum
}

func TestJSONReadsBack(t *testing.T) {
	var buf bytes.Buffer
	sum := write(t, &JSON{W: &buf})
	var scopes []string
	res, err := Read(&buf, func(sc *Scope) error {
		n := 0
		err := sc.Rows(func(r Row) error {
			if !strings.HasSuffix(r.Name, `</b> & co`) {
				return fmt.Errorf("name %q", r.Name)
			}
			n++
			return nil
		})
		scopes = append(scopes, fmt.Sprintf("%s %s %d %d", sc.Account, sc.Region, sc.Counts["blocked"], n))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"111122223333 us-east-1 3 3", "111122223333 eu-west-1 2 2", "444455556666 us-east-1 1 1"}
	if !reflect.DeepEqual(scopes, want) {
		t.Errorf("scopes %v, want %v", scopes, want)
	}
	if res.Command != "simulate" || res.Caller.Account != "111122223333" || res.Params["criteria_file"] != "p.json" || !reflect.DeepEqual(res.Totals, sum.Totals) ||
		!reflect.DeepEqual(res.Failures, sum.Failures) || !reflect.DeepEqual(res.Unfinished, sum.Unfinished) {
		t.Errorf("result %+v\nsummary %+v", res, sum)
	}
	if sum.Totals["scopes"] != 5 || sum.Totals["accounts"] != 3 || sum.Totals["blocked"] != 6 || sum.BlockedByAccount["111122223333"] != 5 {
		t.Errorf("totals %v by account %v", sum.Totals, sum.BlockedByAccount)
	}
}

func TestReadRefusesWhatIsNotAResult(t *testing.T) {
	for _, in := range []string{``, `[]`, `{}`, `{"command": "simulate", "extra": 1}`, `{"command": "simulate", "scopes": [{"status": "failed"}]}`,
		`{"command": "simulate", "scopes": {}}`, `{"command": 1}`, `{"command": "simulate"`} {
		if _, err := Read(strings.NewReader(in), func(*Scope) error { return nil }); err == nil {
			t.Errorf("Read(%q) accepted it", in)
		}
	}
}

func FuzzRead(f *testing.F) {
	var buf bytes.Buffer
	h := &Header{Command: "inspect", CountKeys: []string{"amis"}}
	j := &JSON{W: &buf}
	_ = j.Begin(h)
	_ = j.Scope(&Scope{Account: "1", Region: "r", Status: StatusOK, Counts: map[string]int{"amis": 1}, Rows: RowSlice([]Row{{Kind: "image", ImageID: "ami-1"}})})
	_ = j.End(NewSummary(h.CountKeys))
	f.Add(buf.String())
	f.Add(`{"command": "x", "scopes": [[[[]]]]}`)
	f.Fuzz(func(t *testing.T, s string) {
		_, _ = Read(strings.NewReader(s), func(sc *Scope) error { return sc.Rows(func(Row) error { return nil }) })
	})
}

func TestHTMLCapsRowsPerAccount(t *testing.T) {
	old := HTMLRowsPerAccount
	HTMLRowsPerAccount = 4
	defer func() { HTMLRowsPerAccount = old }()
	path := filepath.Join(t.TempDir(), "r.html")
	h, err := NewHTML(path)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Abort()
	h.Redact = func(s string) string { return strings.ReplaceAll(s, "AccessDenied", "[REDACTED]") }
	write(t, h)
	if err := h.Commit(); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	page := string(b)
	// 111122223333 has 5 blocked rows: 4 listed, 1 more; 444455556666 1.
	a := page[strings.Index(page, `<section class="account" id="account-111122223333">`):strings.Index(page, `<section class="account" id="account-444455556666">`)]
	if n := strings.Count(a, `<tr class="item">`); n != 4 || !strings.Contains(a, `1 more in the CSV`) {
		t.Errorf("account 111122223333: %d rows listed, section:\n%s", n, a)
	}
	b2 := page[strings.Index(page, `<section class="account" id="account-444455556666">`):]
	if n := strings.Count(b2, `<tr class="item">`); n != 1 || strings.Contains(b2, "more in the CSV") {
		t.Errorf("account 444455556666: %d rows listed, section:\n%s", n, b2)
	}
	if strings.Contains(page, `<b>"`) || !strings.Contains(page, `&lt;b&gt;&#34;0&#34;&lt;/b&gt; &amp; co`) {
		t.Error("a name is not escaped in the page")
	}
	if strings.Contains(page, "AccessDenied") || !strings.Contains(page, "[REDACTED]") {
		t.Error("the failures are not redacted in the page")
	}
	// Accounts in order, whatever order their scopes finished in.
	if i, j := strings.Index(page, "account-111122223333"), strings.Index(page, "account-777788889999"); i < 0 || j < i {
		t.Error("accounts out of order")
	}
}

func TestTextGroupsConsecutiveScopes(t *testing.T) {
	var buf bytes.Buffer
	write(t, &Text{W: &buf})
	out := buf.String()
	for _, want := range []string{
		"\nAccount 111122223333\n  us-east-1: 4 images: 1 allowed (1 own), 3 blocked\n    BLOCKED ami-use1-0 owner=444455556666 name=\"<b>\\\"0\\\"</b> & co\": criterion 1: no\n",
		"\nAccount 777788889999\n  us-east-1: FAILED: assuming: AccessDenied\n",
		"  eu-west-1: INTERRUPTED: not finished\n",
		"Total: 5 account-regions in 3 accounts (3 ok, 1 failed, 1 unfinished): 9 images: 3 allowed (3 own), 6 blocked\n",
		"Interrupted; not finished (1): 444455556666: eu-west-1\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("text lacks %q:\n%s", want, out)
		}
	}
}

// A scope larger than MaxScopeBytes is refused before it is held whole.
func TestReadBoundsAScope(t *testing.T) {
	old := MaxScopeBytes
	MaxScopeBytes = 4 << 10
	defer func() { MaxScopeBytes = old }()
	var buf bytes.Buffer
	j := &JSON{W: &buf}
	h := &Header{Command: "inspect", CountKeys: []string{"amis"}}
	_ = j.Begin(h)
	small := &Scope{Account: "1", Region: "r", Status: StatusOK, Counts: map[string]int{"amis": 1}, Rows: RowSlice([]Row{{Kind: "image", ImageID: "ami-1"}})}
	_ = j.Scope(small)
	_ = j.End(NewSummary(h.CountKeys))
	if _, err := Read(bytes.NewReader(buf.Bytes()), func(*Scope) error { return nil }); err != nil {
		t.Fatalf("a small document: %v", err)
	}
	buf.Reset()
	j = &JSON{W: &buf}
	_ = j.Begin(h)
	_ = j.Scope(&Scope{Account: "1", Region: "r", Status: StatusOK, Counts: map[string]int{"amis": 1},
		Rows: RowSlice([]Row{{Kind: "image", ImageID: "ami-1", Name: strings.Repeat("x", 8<<10)}})})
	_ = j.End(NewSummary(h.CountKeys))
	if _, err := Read(bytes.NewReader(buf.Bytes()), func(*Scope) error { return nil }); err == nil || !strings.Contains(err.Error(), "larger than 4096 bytes") {
		t.Errorf("a scope over the bound: err = %v", err)
	}
}
