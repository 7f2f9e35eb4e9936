package main

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/amiwatermark/packer-plugin-amiwatermark/internal/ec2emu"
)

// The scan world: three images of the caller in us-east-1.
const (
	amiHigh     = "ami-01a1a1a1a1a1a1a11" // scanned 2 days ago, highest high, a high fix available for 10 days
	amiCritical = "ami-02b2b2b2b2b2b2b22" // scanned 1 day ago, highest critical, a critical fix available for 8 days
	amiNoScan   = "ami-03c3c3c3c3c3c3c33" // never scanned
)

func (e *emu) seedScan() time.Time {
	now := e.Emulator.Now()
	e.seed(
		ec2emu.SeedImage{Region: regionEast, Account: acctMe, ImageID: amiHigh, Name: "scan-high", CreationDate: ts(now.Add(-20 * testDay)),
			ScanResults: &ec2emu.SeedScanResults{FindingScanDate: ts(now.Add(-2 * testDay)), HighestFindingSeverity: "high",
				HighFixAvailableSince: ts(now.Add(-10 * testDay))}},
		ec2emu.SeedImage{Region: regionEast, Account: acctMe, ImageID: amiCritical, Name: "scan-critical", CreationDate: ts(now.Add(-20 * testDay)),
			ScanResults: &ec2emu.SeedScanResults{FindingScanDate: ts(now.Add(-1 * testDay)), HighestFindingSeverity: "critical",
				CriticalFixAvailableSince: ts(now.Add(-8 * testDay)), LowFixAvailableSince: ts(now.Add(-30 * testDay))}},
		ec2emu.SeedImage{Region: regionEast, Account: acctMe, ImageID: amiNoScan, Name: "scan-none", CreationDate: ts(now.Add(-20 * testDay))},
	)
	return now
}

const notScanned = "not scanned by Amazon Inspector (ScanResultCondition admits only scanned images)"

func TestVerifyScanGates(t *testing.T) {
	e := newEmu(t)
	now := e.seedScan()
	// DescribeImages renders scan times to the millisecond.
	now = now.Truncate(time.Millisecond)
	at := ts(now)

	code, out, errOut := e.cli("verify", "--region", regionEast, "--at", at, "--max-severity", "high", amiHigh, amiCritical, amiNoScan)
	wantCode(t, code, 1, out, errOut)
	wantLines(t, out,
		"OK us-east-1 "+amiHigh,
		"FAIL us-east-1 "+amiCritical+": scan-results: highest finding severity critical is above high",
		"FAIL us-east-1 "+amiNoScan+": scan-results: "+notScanned,
	)
	if errOut != "amiwatermark verify: 2 of 3 AMIs failed\n" {
		t.Errorf("stderr = %q", errOut)
	}

	// An unpatched critical finding with a fix older than a week fails;
	// the high image has no critical finding and passes.
	code, out, errOut = e.cli("verify", "--region", regionEast, "--at", at, "--max-days-since-fix-available", "critical=7", amiHigh, amiCritical)
	wantCode(t, code, 1, out, errOut)
	wantLines(t, out,
		"OK us-east-1 "+amiHigh,
		"FAIL us-east-1 "+amiCritical+": scan-results: a fix for a critical finding has been available since "+formatTime(now.Add(-8*testDay))+", more than 7 days",
	)
	code, out, errOut = e.cli("verify", "--region", regionEast, "--at", at, "--max-days-since-fix-available", "critical=8", amiCritical)
	wantCode(t, code, 0, out, errOut)
	wantLines(t, out, "OK us-east-1 "+amiCritical)

	// Several gates, comma lists: every one must hold.
	code, out, errOut = e.cli("verify", "--region", regionEast, "--at", at, "--max-days-since-scan", "1",
		"--max-days-since-fix-available", "critical=30,high=9", amiHigh, amiCritical)
	wantCode(t, code, 1, out, errOut)
	wantLines(t, out,
		"FAIL us-east-1 "+amiHigh+": scan-results: last scanned "+formatTime(now.Add(-2*testDay))+", more than 1 days ago",
		"OK us-east-1 "+amiCritical,
	)

	// Gates combine with --require-key; huge day counts never overflow.
	code, out, errOut = e.cli("verify", "--region", regionEast, "--at", at, "--max-days-since-scan", "2147483647", amiHigh)
	wantCode(t, code, 0, out, errOut)

	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--max-severity", "severe"}, `amiwatermark verify: --max-severity: "severe" is not a severity: use informational, low, medium, high, critical`},
		{[]string{"--max-severity", "CRITICAL"}, `--max-severity: "CRITICAL" is not a severity`},
		{[]string{"--max-days-since-scan", "-1"}, `--max-days-since-scan "-1": not a number of days: write a whole number from 0 to 2147483647`},
		{[]string{"--max-days-since-scan", "2147483648"}, `not a number of days`},
		{[]string{"--max-days-since-fix-available", "critical"}, `--max-days-since-fix-available "critical": write SEVERITY=DAYS, for example critical=7`},
		{[]string{"--max-days-since-fix-available", "urgent=7"}, `--max-days-since-fix-available "urgent=7": "urgent" is not a severity`},
		{[]string{"--max-days-since-fix-available", "high=soon"}, `--max-days-since-fix-available "high=soon": not a number of days`},
		{[]string{"--max-days-since-fix-available", "high=1", "--max-days-since-fix-available", "high=2"}, `high is given twice`},
	} {
		args := append([]string{"verify", "--region", regionEast}, tc.args...)
		code, out, errOut := e.cli(append(args, amiHigh)...)
		wantCode(t, code, 2, out, errOut)
		wantContains(t, "stderr", errOut, tc.want)
		if out != "" {
			t.Errorf("%v: stdout %q", tc.args, out)
		}
	}
}

func TestVerifyCriteriaCurrent(t *testing.T) {
	e := newEmu(t)
	now := e.seedLineage()
	ctx := ctxT(t)
	me := e.EC2(regionEast, acctMe)
	if _, err := me.ReplaceImageCriteriaInAllowedImagesSettings(ctx, &ec2.ReplaceImageCriteriaInAllowedImagesSettingsInput{
		ImageCriteria: []types.ImageCriterionRequest{{ImageProviders: []string{acctOther},
			ScanResultCondition: &types.ScanResultConditionRequest{MaxDaysSinceLastFindingScan: aws.Int32(7)}}},
	}); err != nil {
		t.Fatal(err)
	}
	// Disabled: the stored criteria are checked all the same; own images
	// pass (the caller's account is found from its images).
	code, out, errOut := e.cli("verify", "--region", regionEast, "--at", ts(now), "--criteria", "current", amiGolden, amiForged)
	wantCode(t, code, 1, out, errOut)
	wantLines(t, out,
		"OK us-east-1 "+amiGolden,
		"FAIL us-east-1 "+amiForged+": criteria current (us-east-1, state disabled, managed by account): not allowed: criterion 1: "+notScanned,
	)
	// As another account, the golden image is checked too.
	code, out, errOut = e.cli("verify", "--region", regionEast, "--at", ts(now), "--criteria", "current", "--account", "999999999999", amiGolden)
	wantCode(t, code, 1, out, errOut)
	wantLines(t, out, "FAIL us-east-1 "+amiGolden+": criteria current (us-east-1, state disabled, managed by account): not allowed: criterion 1: provider 111122223333 not in ImageProviders")
}

func TestInspectScanAndAncestry(t *testing.T) {
	e := newEmu(t)
	e.seedLineage()
	now := e.seedScan() // the scan times are relative to this now
	code, out, errOut := e.cli("inspect", "--region", regionEast, "--at", ts(now), amiCritical, amiApp, amiNoScan)
	wantCode(t, code, 0, out, errOut)
	wantContains(t, "stdout", out,
		"  scan     scanned "+formatTime(now.Add(-testDay))+" (24h ago), highest severity critical; fixes available: critical since "+
			formatTime(now.Add(-8*testDay))+" (8d), low since "+formatTime(now.Add(-30*testDay))+" (30d)\n",
		"  ancestry: "+amiCritical+"\n",
		"  ancestry: "+amiApp+" <- us-east-1/"+amiGolden+"\n",
		"  scan        not scanned by Amazon Inspector\n", // app-1: its block is wider ("built from")
		"  scan     not scanned by Amazon Inspector\n",
	)

	code, out, errOut = e.cli("inspect", "--region", regionEast, "--at", ts(now), "--json", amiCritical, regionWest+":"+amiCopy)
	wantCode(t, code, 0, out, errOut)
	var doc inspectOutput
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out)
	}
	c, cp := doc.Images[0], doc.Images[1]
	if c.ScanResults == nil || c.ScanResults.HighestFindingSeverity != "critical" || !c.ScanResults.FindingScanDate.Equal(now.Add(-testDay).Truncate(time.Millisecond)) ||
		len(c.ScanResults.FixAvailableSince) != 2 || !c.ScanResults.FixAvailableSince["critical"].Equal(now.Add(-8*testDay).Truncate(time.Millisecond)) {
		t.Errorf("scan_results = %+v", c.ScanResults)
	}
	if len(cp.Ancestry) != 2 || cp.Ancestry[0].ImageID != amiCopy || cp.Ancestry[0].SourceImageRegion != regionEast || cp.Ancestry[1].ImageID != amiGolden || cp.ScanResults != nil {
		t.Errorf("copy: ancestry %+v, scan %+v", cp.Ancestry, cp.ScanResults)
	}
	if !strings.Contains(out, `"scan_results": null`) {
		t.Errorf("an unscanned image's scan_results is not null:\n%s", out)
	}
}

func TestSimulateCompareCurrent(t *testing.T) {
	e := newEmu(t)
	now := e.seedSimulate()
	ctx := ctxT(t)
	if _, err := e.EC2(regionEast, acctMe).ReplaceImageCriteriaInAllowedImagesSettings(ctx, &ec2.ReplaceImageCriteriaInAllowedImagesSettingsInput{
		ImageCriteria: []types.ImageCriterionRequest{{ImageProviders: []string{"amazon"}}},
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.EC2(regionEast, acctMe).EnableAllowedImagesSettings(ctx, &ec2.EnableAllowedImagesSettingsInput{AllowedImagesSettingsState: types.AllowedImagesSettingsEnabledStateAuditMode}); err != nil {
		t.Fatal(err)
	}
	crit := writeFile(t, "proposal.json", `[{"ImageWatermarks":[{"WatermarkKey":"111122223333:golden-*"}]}]`)
	code, out, errOut := e.cli("simulate", "--region", regionEast, "--at", ts(now), "--criteria", crit, "--compare-current")
	wantCode(t, code, 0, out, errOut)
	wm := "criterion 1: no watermark satisfies any ImageWatermarks filter"
	wantLines(t, out,
		"Simulating "+crit+" in us-east-1 for account 111122223333 at "+formatTime(now)+"; scanning every image the account can see (own, shared and public)",
		"NEWLY-BLOCKED us-east-1 "+amiDeprecated+` owner=137112412989(amazon) name="amzn2-old": `+wm,
		"NEWLY-BLOCKED us-east-1 "+amiAmazon+` owner=137112412989(amazon) name="al2023-ami-2026.1": `+wm,
		"NEWLY-ALLOWED us-east-1 "+amiOtherApp+` owner=444455556666 name="other-app": criterion 1 matches`,
		"Total: 10 images: 5 allowed (4 own), 5 blocked",
		"Blocked by owner: 444455556666=2, amazon=2, aws-marketplace=1",
		"Compared with the current criteria (state audit-mode, managed by account): 2 newly blocked, 1 newly allowed, 7 unchanged (4 allowed, 3 blocked)",
	)

	code, out, errOut = e.cli("simulate", "--region", regionEast, "--at", ts(now), "--criteria", crit, "--compare-current", "--json")
	wantCode(t, code, 0, out, errOut)
	var doc simulateOutput
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out)
	}
	cmp := doc.Comparison
	if cmp == nil || cmp.CurrentState != "audit-mode" || cmp.ManagedBy != "account" || len(cmp.NewlyBlocked) != 2 || len(cmp.NewlyAllowed) != 1 ||
		cmp.NewlyAllowed[0].ImageID != amiOtherApp || cmp.UnchangedAllowed != 4 || cmp.UnchangedBlocked != 3 {
		t.Errorf("comparison = %+v", cmp)
	}
	// Without the flag the document has no comparison.
	_, out, _ = e.cli("simulate", "--region", regionEast, "--at", ts(now), "--criteria", crit, "--json")
	if !strings.Contains(out, `"comparison": null`) {
		t.Errorf("comparison without --compare-current:\n%s", out)
	}
}

func TestSimulateTotalsDeclarativePolicy(t *testing.T) {
	var b strings.Builder
	printSimulateTotals(&b, &simulateOutput{Comparison: &comparison{CurrentState: "enabled", ManagedBy: "declarative-policy"}})
	wantLines(t, b.String(),
		"Total: 0 images: 0 allowed (0 own), 0 blocked",
		"Compared with the current criteria (state enabled, managed by declarative-policy): 0 newly blocked, 0 newly allowed, 0 unchanged (0 allowed, 0 blocked)",
		"The current settings are managed by a declarative policy: the account cannot replace them; change the policy in AWS Organizations (ec2_attributes.allowed_images_settings).",
	)
}

func TestVerifyCriteriaDeclarativePolicy(t *testing.T) {
	e := newEmu(t)
	now := e.seedLineage()
	policy := writeFile(t, "policy.json", `{"ec2_attributes":{"allowed_images_settings":{"state":{"@@assign":"enabled"},
	  "image_criteria":{"criteria_1":{"image_watermarks":{"@@assign":[{"watermark_key":"111122223333:golden-base","maximum_days_since_watermark_created":30}]}}}}}}`)
	code, out, errOut := e.cli("verify", "--region", regionEast, "--at", ts(now), "--criteria", policy, amiGolden, amiOld)
	wantCode(t, code, 1, out, errOut)
	wantLines(t, out,
		"OK us-east-1 "+amiGolden,
		"FAIL us-east-1 "+amiOld+": criteria "+policy+": not allowed: criterion 1: no watermark satisfies any ImageWatermarks filter",
	)
	bad := writeFile(t, "bad.json", `{"ec2_attributes":{"allowed_images_settings":{"image_criteria":{"criteria_1":{"allowed_image_provider":["amazon"]}}}}}`)
	code, out, errOut = e.cli("verify", "--region", regionEast, "--criteria", bad, amiGolden)
	wantCode(t, code, 2, out, errOut)
	wantContains(t, "stderr", errOut, `ec2_attributes.allowed_images_settings.image_criteria.criteria_1: unknown key "allowed_image_provider"`)
}

// TestSimulateInUseDeregistered: an instance runs from a shared image that
// carries the golden watermark; its owner deregisters it. DescribeImages no
// longer shows it, but DescribeInstanceImageMetadata still reports it with
// its watermarks, so the criteria can still be judged.
func TestSimulateInUseDeregistered(t *testing.T) {
	e := newEmu(t)
	now := e.seedSimulate()
	ctx := ctxT(t)
	me := e.EC2(regionEast, acctMe)
	out, err := me.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: aws.String(amiOtherApp), MinCount: aws.Int32(1), MaxCount: aws.Int32(1)})
	if err != nil {
		t.Fatal(err)
	}
	inst := aws.ToString(out.Instances[0].InstanceId)
	if _, err := e.EC2(regionEast, acctOther).DeregisterImage(ctx, &ec2.DeregisterImageInput{ImageId: aws.String(amiOtherApp)}); err != nil {
		t.Fatal(err)
	}
	crit := writeFile(t, "policy.json", simCriteria)
	code, stdout, errOut := e.cli("simulate", "--region", regionEast, "--at", ts(now), "--criteria", crit, "--owners", "amazon", "--in-use")
	wantCode(t, code, 0, stdout, errOut)
	wantLines(t, stdout,
		"Simulating "+crit+" in us-east-1 for account 111122223333 at "+formatTime(now)+"; scanning images owned by amazon",
		"UNKNOWN-IN-USE us-east-1 "+amiOtherApp+" instances="+inst+": the AMI is not visible to the account (deregistered, no longer shared, or disabled): "+
			"new launches from it fail whatever the criteria; by its instance metadata the criteria would allow it: criterion 2 matches",
		"Total: 2 images: 2 allowed (0 own), 0 blocked",
		"In use: 1 AMIs on 1 instances: 0 allowed, 0 blocked, 1 not visible",
	)
	// The requests show where the answer came from.
	if n := len(e.distinct("DescribeInstanceImageMetadata")); n != 1 {
		t.Errorf("%d DescribeInstanceImageMetadata requests, want 1", n)
	}
	if n := len(e.distinct("DescribeInstances")); n != 0 {
		t.Errorf("%d DescribeInstances requests, want 0", n)
	}
}
