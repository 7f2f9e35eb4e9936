package main

import (
	"strings"
	"testing"

	"github.com/amiwatermark/packer-plugin-amiwatermark/internal/ec2emu"
)

// TestAttachDeniedDetachRefusedBeforeChange: with ec2:DetachImageWatermark
// denied in the account (the recommended SCP), attach of an inherited key
// and a new one is refused before any change; the message names the CLI's
// way out (--keep-inherited) and allowing the detach, and --keep-inherited
// then succeeds.
func TestAttachDeniedDetachRefusedBeforeChange(t *testing.T) {
	e := newEmu(t)
	e.seedLineage()
	if err := e.Emulator.ApplySeed(ec2emu.Seed{Accounts: []ec2emu.SeedAccount{{ID: acctMe, DenyActions: []string{"ec2:DetachImageWatermark"}}}}); err != nil {
		t.Fatal(err)
	}
	args := []string{"attach", "--region", regionEast, "--name", "golden-base,qa-passed", amiBare, amiApp}
	code, out, errOut := e.cli(args...)
	wantCode(t, code, 1, out, errOut)
	wantContains(t, "stderr", errOut,
		"nothing was changed: 1 planned call(s) did not pass EC2's DryRun check, made before any change:",
		"us-east-1 "+amiApp+": detach 111122223333:golden-base (re-attaching the inherited key) is denied: UnauthorizedOperation",
		"An SCP or IAM policy denies detaching watermarks (ec2:DetachImageWatermark) to these credentials",
		"Either set --keep-inherited to leave inherited keys as they are",
		"or allow ec2:DetachImageWatermark for the build role.")
	for _, tmpl := range []string{"reattach_inherited", "grant it in IAM", "`detach`"} {
		if strings.Contains(errOut, tmpl) {
			t.Errorf("stderr has %q:\n%s", tmpl, errOut)
		}
	}
	if n := e.mutations(); n != 0 {
		t.Errorf("%d mutating calls before the refusal", n)
	}
	e.wantSDKKeys(regionEast, amiApp, acctMe+":golden-base@"+amiGolden, acctMe+":app@"+amiApp)
	e.wantSDKKeys(regionEast, amiBare)

	code, out, errOut = e.cli(append([]string{"attach", "--keep-inherited"}, args[1:]...)...)
	wantCode(t, code, 0, out, errOut)
	e.wantSDKKeys(regionEast, amiApp, acctMe+":golden-base@"+amiGolden, acctMe+":app@"+amiApp, acctMe+":qa-passed@"+amiApp)
}

// TestAttachDeniedAttachRefusedBeforeChange: a denied attach is refused
// before the detach it follows is made.
func TestAttachDeniedAttachRefusedBeforeChange(t *testing.T) {
	e := newEmu(t)
	e.seedLineage()
	if err := e.Emulator.ApplySeed(ec2emu.Seed{Accounts: []ec2emu.SeedAccount{{ID: acctMe, DenyActions: []string{"ec2:AttachImageWatermark"}}}}); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := e.cli("attach", "--region", regionEast, "--name", "released", "--detach", "app", amiApp)
	wantCode(t, code, 1, out, errOut)
	wantContains(t, "stderr", errOut, "attach 111122223333:released is denied: UnauthorizedOperation",
		"An SCP or IAM policy denies attaching watermarks (ec2:AttachImageWatermark) to these credentials: allow ec2:AttachImageWatermark for the build role")
	if n := e.mutations(); n != 0 {
		t.Errorf("%d mutating calls before the refusal", n)
	}
	e.wantSDKKeys(regionEast, amiApp, acctMe+":golden-base@"+amiGolden, acctMe+":app@"+amiApp)
}
