package main

import (
	"strings"
	"testing"

	"github.com/amiwatermark/packer-plugin-amiwatermark/internal/ec2emu"
)

// A gate never passes over an AMI it was given.

const amiWestBare = "ami-0abcabcabcabcabc7" // eu-west-1, mine, no watermarks

func seedWestBare(e *emu) {
	e.seed(ec2emu.SeedImage{Region: regionWest, Account: acctMe, ImageID: amiWestBare, Name: "west-bare",
		CreationDate: ts(e.Emulator.Now().Add(-testDay))})
}

// An AMI in a region --regions leaves out refuses the run (exit 2) before
// any AWS call, naming the AMI and the region, for verify and inspect.
func TestScopedAMIOutsideRegionsRefused(t *testing.T) {
	o := newOrgEmu(t)
	o.seedLineage()
	seedWestBare(o.emu)
	for _, cmd := range [][]string{
		{"verify", "--require-key", acctMe + ":golden-base"},
		{"inspect"},
	} {
		args := append(cmd, "--regions", regionEast, regionEast+":"+amiGolden, regionWest+":"+amiWestBare)
		before := o.Emulator.Stats().Total
		code, out, errOut := o.cli(args...)
		wantCode(t, code, 2, out, errOut)
		wantContains(t, cmd[0]+" stderr", errOut, regionWest+":"+amiWestBare, "--regions", "nothing was checked")
		if n := o.Emulator.Stats().Total - before; n != 0 {
			t.Errorf("%s: %d AWS calls for a refused run, want 0", cmd[0], n)
		}
	}
}

// Without --regions, a scoped run (--json, --accounts) checks the AMIs in
// their own regions, not only in the default one.
func TestScopedVerifyChecksEveryNamedRegion(t *testing.T) {
	o := newOrgEmu(t)
	o.seedLineage()
	seedWestBare(o.emu)
	t.Setenv("AWS_REGION", regionEast)
	code, out, errOut := o.cli("verify", "--json", "--require-key", acctMe+":golden-base",
		regionEast+":"+amiGolden, regionWest+":"+amiWestBare)
	wantCode(t, code, 1, out, errOut)
	doc := decodeScoped(t, out)
	if doc.Totals["amis"] != 2 || doc.Totals["failed"] != 1 || doc.Totals["ok"] != 1 {
		t.Errorf("totals %v, want 2 AMIs, 1 ok, 1 failed\n%s", doc.Totals, out)
	}
}

// With --regions all, an AMI in a region no account has (eu-west-9) is an
// error, and a verify that checked no AMI does not pass.
func TestScopedVerifyUnknownRegionFails(t *testing.T) {
	o := newOrgEmu(t)
	o.seedLineage()
	code, out, errOut := o.cli("verify", "--regions", "all", "--require-key", acctMe+":golden-base", "eu-west-9:"+amiGolden)
	wantCode(t, code, 1, out, errOut)
	wantContains(t, "stderr", errOut, "eu-west-9", "not checked")
	if strings.Contains(out, "0 AMIs: 0 ok") && !strings.Contains(errOut, "failed") {
		t.Errorf("a run that checked nothing reads as a pass:\n%s\n%s", out, errOut)
	}
}

// Without the scope flags, an AMI in an unknown region fails verify too.
func TestVerifyUnknownRegionFailsUnscoped(t *testing.T) {
	e := newEmu(t)
	e.seedLineage()
	code, out, errOut := e.cli("verify", "--require-key", acctMe+":golden-base", "eu-west-9:"+amiGolden)
	wantCode(t, code, 1, out, errOut)
	wantContains(t, "stdout", out, "FAIL eu-west-9 "+amiGolden)
}
