package main

import "testing"

// TestAttachNameKeepsSpaces: --name and --detach take names exactly as
// written, spaces around them included, as AWS and the post-processor do
// (watermark.NameList): '  spaced ' attaches the key
// ACCOUNT:"  spaced ", not ACCOUNT:spaced, and detaching it needs the same
// spelling.
func TestAttachNameKeepsSpaces(t *testing.T) {
	e := newEmu(t)
	e.seedLineage()

	code, out, errOut := e.cli("attach", "--region", regionEast, "--name", "  spaced ", amiBare)
	wantCode(t, code, 0, out, errOut)
	wantContains(t, "stderr", errOut, `attached "111122223333:  spaced "`)
	e.wantSDKKeys(regionEast, amiBare, acctMe+":  spaced @"+amiBare)

	// "spaced" is another key: nothing to detach.
	code, out, errOut = e.cli("detach", "--region", regionEast, "--name", "spaced", amiBare)
	wantCode(t, code, 0, out, errOut)
	e.wantSDKKeys(regionEast, amiBare, acctMe+":  spaced @"+amiBare)

	// Comma-separated parts are kept as written too.
	code, out, errOut = e.cli("detach", "--region", regionEast, "--name", "other-one,  spaced ", amiBare)
	wantCode(t, code, 0, out, errOut)
	e.wantSDKKeys(regionEast, amiBare)
}
