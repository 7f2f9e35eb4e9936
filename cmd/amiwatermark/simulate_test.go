package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/amiwatermark/packer-plugin-amiwatermark/internal/ec2emu"
)

const simCriteria = `[{"ImageProviders":["amazon"]},{"ImageWatermarks":[{"WatermarkKey":"111122223333:golden-*"}]}]`

const (
	whyNot = "criterion 1: provider %s not in ImageProviders; criterion 2: no watermark satisfies any ImageWatermarks filter"
)

func TestSimulateAllVisible(t *testing.T) {
	e := newEmu(t)
	now := e.seedSimulate()
	crit := writeFile(t, "policy.json", simCriteria)
	code, out, errOut := e.cli("simulate", "--region", regionEast, "--at", ts(now), "--criteria", crit)
	wantCode(t, code, 0, out, errOut)
	// Visible to 111122223333 in us-east-1: its 4 images (own: never
	// restricted), the shared golden-base-1 (forged key) and other-app
	// (inherited golden key: allowed), the public amazon images (one of them
	// deprecated: still scanned), the marketplace and community images.
	// The unshared private image of 444455556666 is not visible.
	wantLines(t, out,
		"Simulating "+crit+" in us-east-1 for account 111122223333 at "+formatTime(now)+"; scanning every image the account can see (own, shared and public)",
		"BLOCKED us-east-1 "+amiMarket+` owner=679593333241(aws-marketplace) name="vendor-appliance": `+fmt.Sprintf(whyNot, "aws-marketplace"),
		"BLOCKED us-east-1 "+amiPublic+` owner=444455556666 name="community-thing": `+fmt.Sprintf(whyNot, acctOther),
		"BLOCKED us-east-1 "+amiForged+` owner=444455556666 name="golden-base-1": `+fmt.Sprintf(whyNot, acctOther),
		"Total: 10 images: 7 allowed (4 own), 3 blocked",
		"Blocked by owner: 444455556666=2, aws-marketplace=1",
	)
	if errOut != "" {
		t.Errorf("stderr = %q (no progress lines when stderr is not a terminal)", errOut)
	}
	// One call to find the account, one page of the scan; nothing else.
	if st := e.Emulator.Stats(); len(st.Actions) != 1 || st.Actions["DescribeImages"] == 0 {
		t.Errorf("API calls = %v, want DescribeImages only", st.Actions)
	}
	want := []string{
		"Action=DescribeImages&IncludeDeprecated=true&IncludeDisabled=true&MaxResults=5&Owner.1=self&Version=2016-11-15",
		"Action=DescribeImages&IncludeDeprecated=true&MaxResults=1000&Version=2016-11-15",
	}
	if got := e.distinct("DescribeImages"); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("DescribeImages requests:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestSimulateOwnersAndAccount(t *testing.T) {
	e := newEmu(t)
	now := e.seedSimulate()
	crit := writeFile(t, "policy.json", simCriteria)

	code, out, errOut := e.cli("simulate", "--region", regionEast, "--at", ts(now), "--criteria", crit, "--owners", "self,amazon")
	wantCode(t, code, 0, out, errOut)
	wantLines(t, out,
		"Simulating "+crit+" in us-east-1 for account 111122223333 at "+formatTime(now)+"; scanning images owned by self, amazon",
		"Total: 6 images: 6 allowed (4 own), 0 blocked",
	)

	// As another account (--account), the caller's images are no longer
	// own: only those with the golden key are allowed.
	code, out, errOut = e.cli("simulate", "--region", regionEast, "--at", ts(now), "--criteria", crit, "--owners", acctMe, "--account", "999988887777")
	wantCode(t, code, 0, out, errOut)
	wantLines(t, out,
		"Simulating "+crit+" in us-east-1 for account 999988887777 at "+formatTime(now)+"; scanning images owned by 111122223333",
		"BLOCKED us-east-1 "+amiBare+` owner=111122223333 name="bare": `+fmt.Sprintf(whyNot, acctMe),
		"Total: 4 images: 3 allowed (0 own), 1 blocked",
		"Blocked by owner: 111122223333=1",
	)
	// --account skips the account lookup.
	e.clearRequests()
	e.cli("simulate", "--region", regionEast, "--criteria", crit, "--account", acctMe, "--owners", "amazon")
	if got := e.distinct("DescribeImages"); len(got) != 1 || !strings.Contains(got[0], "Owner.1=amazon") {
		t.Errorf("DescribeImages requests with --account: %q, want only the scan", got)
	}

	// --at in the future: a creation-date condition blocks what ages out.
	crit2 := writeFile(t, "age.json", `[{"ImageProviders":["amazon"],"CreationDateCondition":{"MaximumDaysSinceCreated":35}}]`)
	code, out, errOut = e.cli("simulate", "--region", regionEast, "--at", ts(now), "--criteria", crit2, "--owners", "amazon")
	wantCode(t, code, 0, out, errOut)
	wantContains(t, "today", out, "BLOCKED us-east-1 "+amiDeprecated, "Total: 2 images: 1 allowed (0 own), 1 blocked")
	code, out, errOut = e.cli("simulate", "--region", regionEast, "--at", "+10d", "--criteria", crit2, "--owners", "amazon")
	wantCode(t, code, 0, out, errOut)
	wantContains(t, "in 10 days", out, "BLOCKED us-east-1 "+amiAmazon+` owner=137112412989(amazon) name="al2023-ami-2026.1": criterion 1: created more than 35 days ago`,
		"Total: 2 images: 0 allowed (0 own), 2 blocked", "Blocked by owner: amazon=2")
}

func TestSimulateAccountUnknown(t *testing.T) {
	e := newEmu(t)
	now := e.Emulator.Now()
	e.seed(ec2emu.SeedImage{Region: regionEast, Account: acctOther, Name: "shared-1", SharedWith: []string{acctMe}, CreationDate: ts(now)})
	crit := writeFile(t, "policy.json", simCriteria)
	code, out, errOut := e.cli("simulate", "--region", regionEast, "--criteria", crit, "--json")
	wantCode(t, code, 0, out, errOut)
	wantContains(t, "stderr", errOut, "amiwatermark simulate: the account owns no image in us-east-1 (and --account was not given): no image is exempt as the account's own")
	var doc simulateOutput
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out)
	}
	if doc.Account != "" || doc.AccountSource != "unknown" || doc.Totals != (simulateTotals{Images: 1, Blocked: 1}) || len(doc.Blocked) != 1 {
		t.Errorf("doc = %+v", doc)
	}
}

// TestSimulateInUse: the AMIs of pending/running instances are evaluated,
// also when the scan (--owners) does not include them; an AMI that is no
// longer visible is reported; terminated instances do not count; the
// account comes from the reservation when it owns no image.
func TestSimulateInUse(t *testing.T) {
	e := newEmu(t)
	now := e.seedSimulate()
	ctx := ctxT(t)
	me := e.EC2(regionEast, acctMe)
	launch := func(ami string, n int32) []string {
		t.Helper()
		out, err := me.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: aws.String(ami), MinCount: aws.Int32(n), MaxCount: aws.Int32(n)})
		if err != nil {
			t.Fatalf("RunInstances %s: %v", ami, err)
		}
		var ids []string
		for _, i := range out.Instances {
			ids = append(ids, aws.ToString(i.InstanceId))
		}
		return ids
	}
	launch(amiApp, 1)
	forged := launch(amiForged, 2)
	launch(amiOtherApp, 1)
	public := launch(amiPublic, 1)
	dead := launch(amiMarket, 1)
	if _, err := me.TerminateInstances(ctx, &ec2.TerminateInstancesInput{InstanceIds: dead}); err != nil {
		t.Fatal(err)
	}
	// The owner makes amiPublic private: it runs, but the account cannot
	// see (or launch) it any more.
	if _, err := e.EC2(regionEast, acctOther).ModifyImageAttribute(ctx, &ec2.ModifyImageAttributeInput{
		ImageId: aws.String(amiPublic),
		LaunchPermission: &types.LaunchPermissionModifications{
			Remove: []types.LaunchPermission{{Group: types.PermissionGroupAll}},
		},
	}); err != nil {
		t.Fatal(err)
	}
	crit := writeFile(t, "policy.json", simCriteria)
	code, out, errOut := e.cli("simulate", "--region", regionEast, "--at", ts(now), "--criteria", crit, "--owners", "amazon", "--in-use")
	wantCode(t, code, 0, out, errOut)
	wantLines(t, out,
		"Simulating "+crit+" in us-east-1 for account 111122223333 at "+formatTime(now)+"; scanning images owned by amazon",
		// sorted by AMI id
		"UNKNOWN-IN-USE us-east-1 "+amiPublic+" instances="+public[0]+": the AMI is not visible to the account (deregistered, no longer shared, or disabled): new launches from it fail whatever the criteria; "+
			"by its instance metadata the criteria would block it: "+fmt.Sprintf(whyNot, acctOther),
		"BLOCKED-IN-USE us-east-1 "+amiForged+` owner=444455556666 name="golden-base-1" instances=`+forged[0]+","+forged[1]+": "+fmt.Sprintf(whyNot, acctOther),
		"Total: 2 images: 2 allowed (0 own), 0 blocked",
		"In use: 4 AMIs on 5 instances: 2 allowed, 1 blocked, 1 not visible",
	)

	code, out, errOut = e.cli("simulate", "--region", regionEast, "--at", ts(now), "--criteria", crit, "--owners", "amazon", "--in-use", "--json")
	wantCode(t, code, 0, out, errOut)
	var doc simulateOutput
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out)
	}
	u := doc.InUse
	if u == nil || u.AMIs != 4 || u.Instances != 5 || u.Allowed != 2 || u.Blocked != 1 || u.NotVisible != 1 || len(u.Images) != 4 {
		t.Fatalf("in_use = %+v", u)
	}
	status := map[string]string{}
	for _, im := range u.Images {
		status[im.ImageID] = im.Status
	}
	want := map[string]string{amiApp: "allowed", amiForged: "blocked", amiOtherApp: "allowed", amiPublic: "not visible"}
	for k, v := range want {
		if status[k] != v {
			t.Errorf("in-use %s status %q, want %q", k, status[k], v)
		}
	}
}

func TestSimulateInUseAccountFromReservation(t *testing.T) {
	e := newEmu(t)
	now := e.Emulator.Now()
	ids := e.seed(ec2emu.SeedImage{Region: regionEast, Account: acctOther, Name: "shared-1", SharedWith: []string{acctMe}, CreationDate: ts(now)})
	if _, err := e.EC2(regionEast, acctMe).RunInstances(ctxT(t), &ec2.RunInstancesInput{ImageId: aws.String(ids[0]), MinCount: aws.Int32(1), MaxCount: aws.Int32(1)}); err != nil {
		t.Fatal(err)
	}
	crit := writeFile(t, "policy.json", simCriteria)
	code, out, errOut := e.cli("simulate", "--region", regionEast, "--criteria", crit, "--in-use", "--json")
	wantCode(t, code, 0, out, errOut)
	var doc simulateOutput
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out)
	}
	if doc.Account != acctMe || doc.AccountSource != "instance" || doc.InUse == nil || doc.InUse.Blocked != 1 {
		t.Errorf("account %q (%s), in use %+v", doc.Account, doc.AccountSource, doc.InUse)
	}
	if errOut != "" {
		t.Errorf("stderr = %q", errOut)
	}
}

// TestSimulateProgressAndPages: 2 500 images take 3 pages of 1000; with
// --progress a line is printed every 1000 images.
func TestSimulateProgressAndPages(t *testing.T) {
	e := newEmu(t)
	now := e.Emulator.Now()
	var imgs []ec2emu.SeedImage
	for i := 0; i < 2500; i++ {
		acct := acctOther
		if i%5 == 0 {
			acct = acctMe
		}
		imgs = append(imgs, ec2emu.SeedImage{Region: regionEast, Account: acct, Name: fmt.Sprintf("img-%04d", i),
			SharedWith: []string{acctMe}, CreationDate: ts(now.Add(-testDay + time.Duration(i)*time.Second))})
	}
	e.seed(imgs...)
	crit := writeFile(t, "policy.json", `[{"ImageNames":["img-1*"]}]`)
	e.clearRequests()
	code, out, errOut := e.cli("simulate", "--region", regionEast, "--criteria", crit, "--account", acctMe, "--progress")
	wantCode(t, code, 0, out, errOut)
	wantLines(t, errOut,
		"amiwatermark simulate: 1000 images scanned, 800 blocked so far", // img-0000..0999: 800 foreign, none match
		"amiwatermark simulate: 2000 images scanned, 800 blocked so far", // img-1000..1999 all match img-1*
	)
	// Own: 500. img-1000..img-1999 match img-1* (800 of them foreign).
	// Blocked: 2000 foreign - 800 = 1200.
	wantContains(t, "stdout", out, "Total: 2500 images: 1300 allowed (500 own), 1200 blocked")
	if n := strings.Count(out, "\nBLOCKED "); n != 1200 {
		t.Errorf("%d BLOCKED lines, want 1200", n)
	}
	pages := e.distinct("DescribeImages")
	if len(pages) != 3 || strings.Contains(pages[0], "NextToken") || !strings.Contains(pages[1], "NextToken=") || !strings.Contains(pages[2], "NextToken=") {
		t.Errorf("DescribeImages requests = %q, want 3 pages of MaxResults=1000 following NextToken", pages)
	}
	for _, p := range pages {
		if !strings.Contains(p, "MaxResults=1000") {
			t.Errorf("page request %q without MaxResults=1000", p)
		}
	}
}

func TestSimulateUsageErrors(t *testing.T) {
	e := newEmu(t)
	good := writeFile(t, "good.json", simCriteria)
	bad := writeFile(t, "bad.json", `[{"ImageWatermarks":[{}]}]`)
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no criteria", []string{"--region", regionEast}, "--criteria FILE is required"},
		{"bad criteria", []string{"--region", regionEast, "--criteria", bad}, "criterion 1: ImageWatermarks[1] sets no field"},
		{"unreadable criteria", []string{"--region", regionEast, "--criteria", bad + ".missing"}, "--criteria: cannot read the criteria file"},
		{"bad owner", []string{"--region", regionEast, "--criteria", good, "--owners", "self,amzn"}, `amiwatermark simulate: --owners[1] "amzn" is not an owner: use "self", a 12-digit account id, or one of the aliases amazon, aws-marketplace, aws-backup-vault (wildcards are not allowed)`},
		{"bad account", []string{"--region", regionEast, "--criteria", good, "--account", "12345"}, `--account "12345" is not a 12-digit account id`},
		{"positional", []string{"--region", regionEast, "--criteria", good, amiGolden}, `unexpected argument "` + amiGolden + `"`},
		{"no region", []string{"--criteria", good}, "no region: give --region or set AWS_REGION"},
		{"bad region", []string{"--region", "Mars", "--criteria", good}, `--region "Mars" is not a region name`},
		{"bad at", []string{"--region", regionEast, "--criteria", good, "--at", "+1y"}, `unknown unit "y"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := e.cli(append([]string{"simulate"}, tt.args...)...)
			wantCode(t, code, 2, out, errOut)
			wantContains(t, "stderr", errOut, tt.want)
		})
	}
	if st := e.Emulator.Stats(); st.Total != 0 {
		t.Errorf("usage errors made %d API calls, want 0", st.Total)
	}
}

func TestSimulateAWSError(t *testing.T) {
	e := newEmu(t)
	crit := writeFile(t, "policy.json", simCriteria)
	if err := e.Emulator.SetFaults(ec2emu.Faults{FailRate: 1, FailCode: "UnauthorizedOperation", FailStatus: 403, FailMessage: "You are not authorized to perform this operation.", Seed: 1}); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := e.cli("simulate", "--region", regionEast, "--criteria", crit)
	wantCode(t, code, 1, out, errOut)
	wantContains(t, "stderr", errOut, "amiwatermark simulate: describing images in us-east-1: ", "UnauthorizedOperation")
}

// TestSimulateManyPages: a scan of several pages, each evaluated while the
// next is fetched (one call at a time), gives every image once with its rows intact (blocked
// rows in --json, the by-owner totals), and --in-use finds the running
// image on the last page.
func TestSimulateManyPages(t *testing.T) {
	e := newEmu(t)
	now := e.Emulator.Now()
	const n = 2345 // three pages of DescribeImages
	var imgs []ec2emu.SeedImage
	for i := 0; i < n; i++ {
		owner := acctOther
		if i%3 == 0 {
			owner = "555566667777"
		}
		imgs = append(imgs, ec2emu.SeedImage{Region: regionEast, Account: owner, Public: true, Name: fmt.Sprintf("img-%04d", i),
			CreationDate: ts(now.Add(-time.Duration(i) * time.Minute))})
	}
	ids := e.SeedImages(t, imgs...)
	// An instance of the account runs the oldest image (on the last page).
	if _, err := e.EC2(regionEast, acctMe).RunInstances(t.Context(), &ec2.RunInstancesInput{ImageId: aws.String(ids[n-1]),
		MinCount: aws.Int32(1), MaxCount: aws.Int32(1)}); err != nil {
		t.Fatal(err)
	}
	crit := writeFile(t, "policy.json", `[{"ImageNames":["img-00*"]}]`) // 100 allowed
	// A latency on every call, so that a second call of the account-region
	// started before the first one ended would show in the peak.
	if err := e.Emulator.SetFaults(ec2emu.Faults{Latency: 20 * time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := e.cli("simulate", "--region", regionEast, "--at", ts(now), "--criteria", crit, "--account", acctMe, "--json", "--in-use")
	wantCode(t, code, 0, out, errOut)
	var doc struct {
		Totals         struct{ Images, Allowed, Blocked int }
		BlockedByOwner map[string]int `json:"blocked_by_owner"`
		Blocked        []struct {
			ImageID string `json:"image_id"`
			OwnerID string `json:"owner_id"`
			Name    string
		}
		InUse struct {
			Images []struct {
				ImageID string `json:"image_id"`
				Name    string
				Status  string
			}
		} `json:"in_use"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if doc.Totals.Images != n || doc.Totals.Allowed != 100 || doc.Totals.Blocked != n-100 || len(doc.Blocked) != n-100 {
		t.Fatalf("totals %+v, %d blocked rows; want %d images, 100 allowed", doc.Totals, len(doc.Blocked), n)
	}
	byID := map[string]int{}
	for i, id := range ids {
		byID[id] = i
	}
	seen := map[string]bool{}
	for _, b := range doc.Blocked {
		i, ok := byID[b.ImageID]
		if !ok || seen[b.ImageID] || b.Name != fmt.Sprintf("img-%04d", i) || b.OwnerID != imgs[i].Account {
			t.Fatalf("blocked row %+v: not an image of the seed, twice, or with another's name or owner", b)
		}
		seen[b.ImageID] = true
	}
	if want := map[string]int{"555566667777": 782 - 34, acctOther: n - 782 - 66}; fmt.Sprint(doc.BlockedByOwner) != fmt.Sprint(want) {
		t.Errorf("blocked by owner %v, want %v", doc.BlockedByOwner, want)
	}
	if len(doc.InUse.Images) != 1 || doc.InUse.Images[0].ImageID != ids[n-1] || doc.InUse.Images[0].Name != fmt.Sprintf("img-%04d", n-1) || doc.InUse.Images[0].Status != "blocked" {
		t.Errorf("in use: %+v", doc.InUse.Images)
	}
	if got := e.Emulator.Stats().Actions["DescribeImages"]; got != 3 {
		t.Errorf("%d DescribeImages calls: the scan should take 3 pages", got)
	}
	// The next page is fetched early, but one call at a time (docs/cli.md).
	e.mu.Lock()
	peak := e.peak
	e.mu.Unlock()
	if peak != 1 {
		t.Errorf("%d calls in flight at once in one account-region, want 1", peak)
	}
}
