package main

import (
	"strings"
	"testing"

	"github.com/amiwatermark/packer-plugin-amiwatermark/internal/ec2emu"
)

// The region's public images are read with the first account's
// credentials; when that account cannot read the region (an opt-in region
// it has not enabled), the next account reads them, and only the account
// that cannot fails.
func TestOrgPublicReadRetriesWithAnotherAccount(t *testing.T) {
	o := newOrgEmu(t)
	const optIn = "af-south-1"
	if err := o.Emulator.ApplySeed(ec2emu.Seed{Accounts: []ec2emu.SeedAccount{
		{ID: acctMe, Regions: []string{regionEast, optIn}},
		{ID: acctOther, Regions: []string{regionEast}},
	}}); err != nil {
		t.Fatal(err)
	}
	now := o.seedAccounts([]string{regionEast, optIn}, acctMe, acctOther)
	crit := writeFile(t, "policy.json", simCriteria)
	// --concurrency 1 and acctOther first: its scope in af-south-1 is the
	// region's first.
	code, out, errOut := o.cli("simulate", "--criteria", crit, "--at", ts(now), "--regions", regionEast+","+optIn,
		"--accounts", acctOther+","+acctMe, "--role-name", "Audit", "--concurrency", "1")
	wantCode(t, code, 1, out, errOut)
	scopes := textScopes(out)
	if sc := scopes[acctMe+" "+optIn]; !strings.HasPrefix(sc, "2 images: 1 allowed (1 own), 1 blocked\n") {
		t.Errorf("%s %s: %q\n%s", acctMe, optIn, sc, out)
	}
	if sc := scopes[acctOther+" "+optIn]; !strings.HasPrefix(sc, "FAILED: ") || !strings.Contains(sc, "AuthFailure") {
		t.Errorf("%s %s: %q", acctOther, optIn, sc)
	}
	wantContains(t, "stdout", out, "Total: 4 account-regions in 2 accounts (3 ok, 1 failed)")
}
