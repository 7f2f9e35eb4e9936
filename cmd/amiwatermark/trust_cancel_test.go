package main

import (
	"bytes"
	"context"
	"fmt"
	"regexp"
	"testing"
	"time"
)

// After Ctrl-C an org-wide run counts every
// account-region, lists the unfinished ones by region, and its last
// progress line agrees with the summary.
func TestOrgInterruptedCountsEveryScope(t *testing.T) {
	o := newOrgEmu(t)
	accounts := []string{acctMe, acctOther, acctThird, "123412341234"}
	regions := []string{regionEast, regionWest}
	o.seedAccounts(regions, accounts...)
	crit := writeFile(t, "policy.json", simCriteria)
	o.faults(`{"latency":"30s","actions":["DescribeImages"]}`)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		deadline := time.Now().Add(10 * time.Second)
		for time.Now().Before(deadline) && len(o.distinct("DescribeImages")) == 0 {
			time.Sleep(10 * time.Millisecond)
		}
		time.Sleep(100 * time.Millisecond)
		cancel()
	}()
	var stdout, stderr bytes.Buffer
	code := runContext(ctx, []string{"simulate", "--endpoint", o.URL, "--criteria", crit, "--json", "--concurrency", "1",
		"--regions", regionEast + "," + regionWest, "--accounts", acctMe + "," + acctOther + "," + acctThird + ",123412341234",
		"--role-name", "Audit"}, &stdout, &stderr)
	wantCode(t, code, 1, stdout.String(), stderr.String())
	doc := decodeScoped(t, stdout.String())
	want := len(accounts) * len(regions)
	if !doc.Interrupted || doc.Totals["scopes"] != want {
		t.Errorf("interrupted %v, scopes %d, want %d", doc.Interrupted, doc.Totals["scopes"], want)
	}
	finished := doc.Totals["scopes_ok"] + doc.Totals["scopes_failed"]
	if finished+doc.Totals["scopes_unfinished"] != want || len(doc.Unfinished) != doc.Totals["scopes_unfinished"] {
		t.Errorf("totals %v, %d unfinished listed", doc.Totals, len(doc.Unfinished))
	}
	for _, u := range doc.Unfinished {
		if u.Region != regionEast && u.Region != regionWest {
			t.Errorf("unfinished %+v: region %q is not a region of --regions", u, u.Region)
		}
	}
	// The last progress line and the summary agree.
	last := regexp.MustCompile(`(\d+)/(\d+)\+? account-regions done`).FindAllStringSubmatch(stderr.String(), -1)
	if len(last) == 0 {
		t.Fatalf("no progress line:\n%s", stderr.String())
	}
	got := last[len(last)-1]
	if got[1] != fmt.Sprint(finished) || got[2] != fmt.Sprint(want) {
		t.Errorf("last progress line %q, want %d/%d done", got[0], finished, want)
	}
	wantContains(t, "stderr", stderr.String(), fmt.Sprintf("interrupted: %d of %d account-regions finished", finished, want))
}
