package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/amiwatermark/packer-plugin-amiwatermark/internal/ec2emu"
)

func wantLines(t *testing.T, got string, want ...string) {
	t.Helper()
	g := lines(got)
	if strings.Join(g, "\n") != strings.Join(want, "\n") {
		t.Errorf("stdout lines:\n%s\nwant:\n%s", strings.Join(g, "\n"), strings.Join(want, "\n"))
	}
}

const notFoundEast = "not found in us-east-1: it does not exist, is not shared with this account, or is hidden by the account's Allowed AMIs setting; check the id and the region"

func TestVerifyRequireKey(t *testing.T) {
	e := newEmu(t)
	e.seedLineage()
	code, out, errOut := e.cli("verify", "--region", regionEast, "--require-key", acctMe+":golden-*",
		amiGolden, regionWest+":"+amiCopy, amiApp, amiForged, amiBare, amiMissing, amiOld)
	wantCode(t, code, 1, out, errOut)
	wantLines(t, out,
		"OK us-east-1 "+amiGolden,
		"OK eu-west-1 "+amiCopy,
		"OK us-east-1 "+amiApp, // default lineage any: inherited keys count
		"FAIL us-east-1 "+amiForged+": require-key 111122223333:golden-*: no watermark matches: the image carries 444455556666:golden-base",
		"FAIL us-east-1 "+amiBare+": require-key 111122223333:golden-*: no watermark matches: the image has no watermarks",
		"FAIL us-east-1 "+amiMissing+": exists: "+notFoundEast,
		"OK us-east-1 "+amiOld,
	)
	if errOut != "amiwatermark verify: 3 of 7 AMIs failed\n" {
		t.Errorf("stderr = %q", errOut)
	}

	// Every AMI passes: exit 0, only OK lines, nothing on stderr.
	code, out, errOut = e.cli("verify", "--region", regionEast, "--require-key", acctMe+":golden-base", amiGolden, amiApp)
	wantCode(t, code, 0, out, errOut)
	wantLines(t, out, "OK us-east-1 "+amiGolden, "OK us-east-1 "+amiApp)
	if errOut != "" {
		t.Errorf("stderr = %q", errOut)
	}

	// Several patterns: each is a requirement with its own line; flags
	// after the AMI and comma lists work.
	code, out, errOut = e.cli("verify", "--region", regionEast, amiGolden, amiApp,
		"--require-key", acctMe+":golden-base,"+acctMe+":app", "--require-key", acctMe+":sec?rity")
	wantCode(t, code, 1, out, errOut)
	wantLines(t, out,
		"FAIL us-east-1 "+amiGolden+": require-key 111122223333:app: no watermark matches: the image carries 111122223333:golden-base",
		"FAIL us-east-1 "+amiGolden+": require-key 111122223333:sec?rity: no watermark matches: the image carries 111122223333:golden-base",
		"FAIL us-east-1 "+amiApp+": require-key 111122223333:sec?rity: no watermark matches: the image carries 111122223333:golden-base, 111122223333:app",
	)

	// --allow-any-account accepts a wildcard account (and then the forged
	// key matches: that is why it is opt-in).
	code, out, errOut = e.cli("verify", "--region", regionEast, "--allow-any-account", "--require-key", "*:golden-base", amiForged)
	wantCode(t, code, 0, out, errOut)
	wantLines(t, out, "OK us-east-1 "+amiForged)
}

func TestVerifyConditions(t *testing.T) {
	e := newEmu(t)
	now := e.seedLineage()
	at := ts(now)

	code, out, errOut := e.cli("verify", "--region", regionEast, "--at", at, "--require-key", acctMe+":golden-*",
		"--max-watermark-age", "90d", amiGolden, amiOld)
	wantCode(t, code, 1, out, errOut)
	wantLines(t, out,
		"OK us-east-1 "+amiGolden,
		"FAIL us-east-1 "+amiOld+": require-key 111122223333:golden-*: 111122223333:golden-base: it was attached 100d ago ("+formatTime(now.Add(-100*testDay))+"), more than 90d",
	)

	code, out, errOut = e.cli("verify", "--region", regionEast, "--at", at, "--require-key", acctMe+":golden-*",
		"--max-source-image-age", "1w", amiGolden)
	wantCode(t, code, 1, out, errOut)
	wantLines(t, out,
		"FAIL us-east-1 "+amiGolden+": require-key 111122223333:golden-*: 111122223333:golden-base: its source image "+amiGolden+
			" was created 10d ago ("+formatTime(now.Add(-10*testDay))+"), more than 7d")

	// Lineage attached: the golden image and its direct copy pass, the
	// application image built from it does not.
	code, out, errOut = e.cli("verify", "--region", regionEast, "--at", at, "--require-key", acctMe+":golden-*",
		"--lineage", "attached", amiGolden, regionWest+":"+amiCopy, amiApp)
	wantCode(t, code, 1, out, errOut)
	wantLines(t, out,
		"OK us-east-1 "+amiGolden,
		"OK eu-west-1 "+amiCopy,
		"FAIL us-east-1 "+amiApp+": require-key 111122223333:golden-*: 111122223333:golden-base: lineage is derived, not attached: it was attached to "+
			amiGolden+" in us-east-1 and inherited through CreateImage from instance "+instSrc,
	)

	// All conditions fail on the same watermark: one line, every reason.
	code, out, errOut = e.cli("verify", "--region", regionEast, "--at", "+1d", "--require-key", acctMe+":golden-*",
		"--lineage", "attached", "--max-watermark-age", "5d", "--max-source-image-age", "10d", amiApp)
	wantCode(t, code, 1, out, errOut)
	if l := lines(out); len(l) != 1 || !strings.Contains(l[0], "it was attached 6d ago") ||
		!strings.Contains(l[0], "; its source image "+amiGolden+" was created 11d ago") || !strings.Contains(l[0], "; lineage is derived") {
		t.Errorf("one line with three reasons expected, got:\n%s", out)
	}

	// The conditions must hold on ONE watermark matching the pattern:
	// app-1 carries golden-base (derived, 5d old) and app (attached here,
	// 1d old). With 111122223333:* and lineage attached + age 2d, app
	// meets both: pass.
	code, out, errOut = e.cli("verify", "--region", regionEast, "--at", at, "--require-key", acctMe+":*",
		"--lineage", "attached", "--max-watermark-age", "2d", amiApp)
	wantCode(t, code, 0, out, errOut)
	// With age 12h neither does: each matching watermark's reasons are
	// listed, separated by " | ".
	code, out, errOut = e.cli("verify", "--region", regionEast, "--at", at, "--require-key", acctMe+":*",
		"--lineage", "attached", "--max-watermark-age", "12h", amiApp)
	wantCode(t, code, 1, out, errOut)
	wantLines(t, out, "FAIL us-east-1 "+amiApp+": require-key 111122223333:*: 111122223333:golden-base: it was attached 5d ago ("+
		formatTime(now.Add(-5*testDay))+"), more than 12h; lineage is derived, not attached: it was attached to "+amiGolden+
		" in us-east-1 and inherited through CreateImage from instance "+instSrc+
		" | 111122223333:app: it was attached 24h ago ("+formatTime(now.Add(-1*testDay))+"), more than 12h")
}

func TestVerifyCriteria(t *testing.T) {
	e := newEmu(t)
	e.seedLineage()
	dir := t.TempDir()
	crit := filepath.Join(dir, "policy.json")
	if err := os.WriteFile(crit, []byte(`{"ImageCriteria":[{"ImageProviders":["amazon"]},{"ImageWatermarks":[{"WatermarkKey":"111122223333:golden-*","MaximumDaysSinceWatermarkCreated":30}]}]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := e.cli("verify", "--region", regionEast, "--criteria", crit, amiGolden, amiApp, amiForged, amiOld)
	wantCode(t, code, 1, out, errOut)
	wantLines(t, out,
		"OK us-east-1 "+amiGolden,
		"OK us-east-1 "+amiApp,
		"FAIL us-east-1 "+amiForged+": criteria "+crit+": not allowed: criterion 1: provider 444455556666 not in ImageProviders; criterion 2: no watermark satisfies any ImageWatermarks filter",
		"FAIL us-east-1 "+amiOld+": criteria "+crit+": not allowed: criterion 1: provider 111122223333 not in ImageProviders; criterion 2: no watermark satisfies any ImageWatermarks filter",
	)
	// As the owning account, its own old image is allowed (own AMIs are
	// never restricted); the other account's image is still blocked.
	code, out, errOut = e.cli("verify", "--region", regionEast, "--criteria", crit, "--account", acctMe, amiOld, amiForged)
	wantCode(t, code, 1, out, errOut)
	wantLines(t, out,
		"OK us-east-1 "+amiOld,
		"FAIL us-east-1 "+amiForged+": criteria "+crit+": not allowed: criterion 1: provider 444455556666 not in ImageProviders; criterion 2: no watermark satisfies any ImageWatermarks filter",
	)
	// Key and criteria together: one line per failed requirement.
	code, out, errOut = e.cli("verify", "--region", regionEast, "--criteria", crit, "--require-key", acctMe+":golden-*", amiBare)
	wantCode(t, code, 1, out, errOut)
	wantLines(t, out,
		"FAIL us-east-1 "+amiBare+": require-key 111122223333:golden-*: no watermark matches: the image has no watermarks",
		"FAIL us-east-1 "+amiBare+": criteria "+crit+": not allowed: criterion 1: provider 111122223333 not in ImageProviders; criterion 2: no watermark satisfies any ImageWatermarks filter",
	)
}

func TestVerifyUsageErrors(t *testing.T) {
	e := newEmu(t)
	good := writeFile(t, "good.json", `[{"ImageProviders":["amazon"]}]`)
	bad := writeFile(t, "bad.json", `[{"ImageProvider":["amazon"]}]`)
	missing := filepath.Join(t.TempDir(), "nope.json")
	k := "--require-key"
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"nothing to verify", []string{amiGolden}, "nothing to verify: give --require-key ACCOUNT:PATTERN"},
		{"no AMI", []string{k, acctMe + ":golden"}, "no AMI given"},
		{"wildcard account", []string{k, "*:golden", amiGolden}, `--require-key: watermark key pattern "*:golden": the account part "*" is not a literal 12-digit account id`},
		{"wildcard account hint", []string{k, "1111*:golden", amiGolden}, "give --allow-any-account if you really mean"},
		{"no colon", []string{k, "golden", amiGolden}, `watermark key pattern "golden" has no ':'`},
		{"bad name", []string{k, acctMe + ":go", amiGolden}, "is 2 characters long"},
		{"age without unit", []string{k, acctMe + ":golden", "--max-watermark-age", "90", amiGolden}, `--max-watermark-age: age "90": 90 has no unit`},
		{"bad source age", []string{k, acctMe + ":golden", "--max-source-image-age", "3mo", amiGolden}, `--max-source-image-age: age "3mo": unknown unit "mo"`},
		{"bad lineage", []string{k, acctMe + ":golden", "--lineage", "direct", amiGolden}, `--lineage "direct": use any`},
		{"age without key", []string{"--criteria", good, "--max-watermark-age", "9d", amiGolden}, "give --require-key too"},
		{"unreadable criteria", []string{"--criteria", missing, amiGolden}, "--criteria: cannot read the criteria file: open " + missing},
		{"bad criteria", []string{"--criteria", bad, amiGolden}, `--criteria ` + bad + `: reading the criteria JSON: [0]: unknown field "ImageProvider"`},
		{"account without criteria", []string{k, acctMe + ":golden", "--account", acctMe, amiGolden}, "give --criteria too"},
		{"bad account", []string{"--criteria", good, "--account", "me", amiGolden}, `--account "me" is not a 12-digit account id`},
		{"bad AMI", []string{k, acctMe + ":golden", "ami-1"}, `"ami-1" is not an AMI id`},
		{"bad flag", []string{"--require", acctMe + ":golden", amiGolden}, "flag provided but not defined: -require"},
		{"missing flag value", []string{amiGolden, k}, "flag needs an argument: -require-key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"verify", "--region", regionEast}, tt.args...)
			code, out, errOut := e.cli(args...)
			wantCode(t, code, 2, out, errOut)
			wantContains(t, "stderr", errOut, tt.want)
			if out != "" {
				t.Errorf("stdout not empty: %s", out)
			}
		})
	}
	if st := e.Emulator.Stats(); st.Total != 0 {
		t.Errorf("usage errors made %d API calls, want 0", st.Total)
	}
}

// TestVerifyMaxRetries: --max-retries reaches the SDK's retryer: with every
// DescribeImages failing with a retryable 500, 0 retries make 1 request and
// 2 retries make 3; the AMI fails with the describe error (exit 1).
func TestVerifyMaxRetries(t *testing.T) {
	e := newEmu(t)
	e.seedLineage()
	if err := e.Emulator.SetFaults(ec2emu.Faults{FailRate: 1, FailCode: "InternalError", FailStatus: 500, FailMessage: "boom", Seed: 1}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		retries string
		calls   int64
	}{{"0", 1}, {"2", 3}} {
		e.Emulator.ResetStats()
		code, out, errOut := e.cli("verify", "--region", regionEast, "--max-retries", tc.retries, "--require-key", acctMe+":golden-base", amiGolden)
		wantCode(t, code, 1, out, errOut)
		if !strings.HasPrefix(out, "FAIL us-east-1 "+amiGolden+": describe: describing images in us-east-1: ") || !strings.Contains(out, "InternalError") {
			t.Errorf("--max-retries %s: stdout = %q", tc.retries, out)
		}
		if got := e.Emulator.Stats().Actions["DescribeImages"]; got != tc.calls {
			t.Errorf("--max-retries %s: %d DescribeImages requests, want %d", tc.retries, got, tc.calls)
		}
	}
}

// TestVerifyHiddenByAllowedAMIs: in enabled mode an image that is not
// allowed is invisible; verify reports it as not found.
func TestVerifyHiddenByAllowedAMIs(t *testing.T) {
	e := newEmu(t)
	e.seedLineage()
	ctx := ctxT(t)
	c := e.EC2(regionEast, acctMe)
	if _, err := c.EnableAllowedImagesSettings(ctx, &ec2.EnableAllowedImagesSettingsInput{
		AllowedImagesSettingsState: types.AllowedImagesSettingsEnabledStateEnabled,
	}); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := e.cli("verify", "--region", regionEast, "--require-key", "444455556666:golden-base", amiForged)
	wantCode(t, code, 1, out, errOut)
	wantLines(t, out, "FAIL us-east-1 "+amiForged+": exists: "+notFoundEast)
}
