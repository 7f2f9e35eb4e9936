package main

import (
	"context"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/amiwatermark/packer-plugin-amiwatermark/internal/ec2emu"
	"github.com/amiwatermark/packer-plugin-amiwatermark/internal/ec2emu/emutest"
	"github.com/amiwatermark/packer-plugin-amiwatermark/internal/orgscan"
	rpt "github.com/amiwatermark/packer-plugin-amiwatermark/internal/report"
)

// The differential test: an organization-wide simulate reads a
// region's public images once and each account's own and shared images;
// its verdicts must equal today's per-account full scan (one DescribeImages
// of every visible image per account) and EC2's own audit-mode verdicts
// (the emulator's imageAllowed) in every account and region, over a seeded
// organization with public, shared, own and public-and-own images.

var dOrgMembers = []string{acctMe, acctOther, dThird}
var dOrgRegions = []string{"us-east-1", "eu-west-1"}

// genOrgImages is genImages spread over dOrgRegions, with images of the
// members made public (public and own), shared with other members, or
// both.
func genOrgImages(r *rand.Rand, now time.Time, n int) []ec2emu.SeedImage {
	imgs := genImages(r, now, n)
	for i := range imgs {
		im := &imgs[i]
		im.Region = dPick(r, dOrgRegions)
		member := slices.Contains(dOrgMembers, im.Account)
		if member && r.IntN(4) == 0 {
			im.Public, im.Watermarks = true, nil // EC2 refuses watermarks on public images
		}
		if !im.Public || r.IntN(3) == 0 {
			im.SharedWith = nil
			for _, m := range dOrgMembers {
				if m != im.Account && r.IntN(3) == 0 {
					im.SharedWith = append(im.SharedWith, m)
				}
			}
		}
	}
	return imgs
}

// dVerdicts are one scope's totals and blocked rows (by image id).
type dVerdicts struct {
	totals  map[string]int
	blocked map[string]string // image id -> reason
}

func (v dVerdicts) String() string {
	ids := slices.Sorted(maps.Keys(v.blocked))
	return fmt.Sprintf("totals %v, blocked %s", v.totals, strings.Join(ids, ","))
}

func TestDifferentialOrgPublicOnce(t *testing.T) {
	fixed := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	o := &orgEmu{newEmuWith(t, emutest.Options{Now: func() time.Time { return fixed }})}
	t.Setenv("AWS_ENDPOINT_URL_STS", o.URL)
	now := o.Emulator.Now()
	r := rand.New(rand.NewPCG(*diffSeed, 25))
	nImages, nRounds := 900, 8
	if testing.Short() {
		nImages, nRounds = 300, 3
	}
	seeds := genOrgImages(r, now, nImages)
	o.seed(seeds...)
	publicOwn := 0
	for _, s := range seeds {
		if s.Public && slices.Contains(dOrgMembers, s.Account) {
			publicOwn++
		}
	}
	if publicOwn == 0 {
		t.Fatal("no public image of a member: the world misses the case of the test")
	}
	ctx := ctxT(t)
	compared := 0
	for round := 0; round < nRounds; round++ {
		crit := genCriteria(r)
		text := jsonText(crit)
		if len(crit) == 0 {
			text = "[]"
		}
		file := writeFile(t, fmt.Sprintf("crit-%d.json", round), text)
		// Every third round evaluates as another account (--account):
		// its images are exempt everywhere, the scope's own are not.
		account := ""
		if round%3 == 2 {
			account = dThird
		}
		org := dOrgRun(t, o, file, now, account)
		for _, a := range dOrgMembers {
			for _, region := range dOrgRegions {
				key := a + " " + region
				full := dFullScan(ctx, t, o, file, now, a, region, account)
				got := org[key]
				if got.String() != full.String() || !maps.Equal(got.blocked, full.blocked) {
					t.Errorf("round %d, %s (--account %q): public read once:\n  %s\nper-account full scan:\n  %s\ncriteria: %s", round, key, account, got, full, text)
				}
				compared += got.totals["images"]
				if account != "" {
					continue // EC2 evaluates for the scope's account
				}
				audit := dAudit(ctx, t, o, toRequest(crit), a, region)
				if got.totals["images"] != audit.totals["images"] || !slices.Equal(slices.Sorted(maps.Keys(got.blocked)), slices.Sorted(maps.Keys(audit.blocked))) {
					t.Errorf("round %d, %s: public read once:\n  %s\nEC2 audit mode:\n  %s\ncriteria: %s", round, key, got, audit, text)
				}
			}
		}
	}
	t.Logf("%d images (%d public of a member), %d criteria sets, %d verdicts compared in %d accounts × %d regions",
		len(seeds), publicOwn, nRounds, compared, len(dOrgMembers), len(dOrgRegions))
}

// dOrgRun runs the organization-wide simulate and returns each scope's
// verdicts by "ACCOUNT REGION".
func dOrgRun(t *testing.T, o *orgEmu, file string, now time.Time, account string) map[string]dVerdicts {
	t.Helper()
	args := []string{"simulate", "--criteria", file, "--at", ts(now), "--json", "--regions", strings.Join(dOrgRegions, ","),
		"--accounts", strings.Join(dOrgMembers, ","), "--role-name", "Audit"}
	if account != "" {
		args = append(args, "--account", account)
	}
	code, out, errOut := o.cli(args...)
	wantCode(t, code, 0, out, errOut)
	m := map[string]dVerdicts{}
	for _, s := range decodeScoped(t, out).Scopes {
		m[s.Account+" "+s.Region] = dVerdictsOf(s.Totals, s.Items)
	}
	if len(m) != len(dOrgMembers)*len(dOrgRegions) {
		t.Fatalf("%d scopes, want %d", len(m), len(dOrgMembers)*len(dOrgRegions))
	}
	return m
}

func dVerdictsOf(totals map[string]int, rows []rpt.Row) dVerdicts {
	v := dVerdicts{totals: totals, blocked: map[string]string{}}
	for _, it := range rows {
		if it.Blocked {
			v.blocked[it.ImageID] = it.Reason
		}
	}
	return v
}

// dFullScan is today's per-account full scan: one read of every image the
// account sees in the region.
func dFullScan(ctx context.Context, t *testing.T, o *orgEmu, file string, now time.Time, account, region, asAccount string) dVerdicts {
	t.Helper()
	opts := &simulateOptions{criteriaFile: file, account: asAccount}
	if err := opts.validate(ts(now)); err != nil {
		t.Fatal(err)
	}
	sc := &orgscan.Scope{Account: account, Region: region, EC2: o.EC2(region, account), Progress: &orgscan.Progress{}}
	out, err := simulateScope(ctx, sc, opts, nil)
	if err != nil {
		t.Fatalf("full scan %s %s: %v", account, region, err)
	}
	var rows []rpt.Row
	_ = out.rows(func(r rpt.Row) error { rows = append(rows, r); return nil })
	return dVerdictsOf(out.counts, rows)
}

// dAudit sets the criteria in the account and region in audit mode and
// reads EC2's verdict on every visible image.
func dAudit(ctx context.Context, t *testing.T, o *orgEmu, crit []types.ImageCriterionRequest, account, region string) dVerdicts {
	t.Helper()
	c := o.EC2(region, account, func(o *ec2.Options) { o.RetryMaxAttempts = 10 })
	if _, err := c.ReplaceImageCriteriaInAllowedImagesSettings(ctx, &ec2.ReplaceImageCriteriaInAllowedImagesSettingsInput{ImageCriteria: crit}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.EnableAllowedImagesSettings(ctx, &ec2.EnableAllowedImagesSettingsInput{AllowedImagesSettingsState: types.AllowedImagesSettingsEnabledStateAuditMode}); err != nil {
		t.Fatal(err)
	}
	imgs, err := describeAll(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	v := dVerdicts{totals: map[string]int{"images": len(imgs)}, blocked: map[string]string{}}
	for _, im := range imgs {
		if !aws.ToBool(im.ImageAllowed) {
			v.blocked[aws.ToString(im.ImageId)] = ""
		}
	}
	return v
}

// With --in-use, an organization-wide simulate (public images read once)
// reports the in-use AMIs exactly as the per-account full scan does: a
// public AMI in use is described by id when the scope's own reads did not
// return it.
func TestOrgInUseMatchesTheFullScan(t *testing.T) {
	o := newOrgEmu(t)
	now := o.seedSimulate()
	ctx := ctxT(t)
	me := o.EC2(regionEast, acctMe)
	for _, ami := range []string{amiApp, amiForged, amiOtherApp, amiPublic, amiMarket, amiAmazon} {
		if _, err := me.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: aws.String(ami), MinCount: aws.Int32(1), MaxCount: aws.Int32(1)}); err != nil {
			t.Fatalf("RunInstances %s: %v", ami, err)
		}
	}
	crit := writeFile(t, "policy.json", simCriteria)
	code, out, errOut := o.cli("simulate", "--criteria", crit, "--at", ts(now), "--in-use", "--json", "--regions", regionEast)
	wantCode(t, code, 0, out, errOut)
	doc := decodeScoped(t, out)
	if len(doc.Scopes) != 1 {
		t.Fatalf("scopes %+v", doc.Scopes)
	}
	got := doc.Scopes[0]
	opts := &simulateOptions{criteriaFile: crit, inUse: true}
	if err := opts.validate(ts(now)); err != nil {
		t.Fatal(err)
	}
	full, err := simulateScope(ctx, &orgscan.Scope{Account: acctMe, Region: regionEast, EC2: me, Progress: &orgscan.Progress{}}, opts, nil)
	if err != nil {
		t.Fatal(err)
	}
	var rows []rpt.Row
	_ = full.rows(func(r rpt.Row) error { rows = append(rows, r); return nil })
	key := func(rs []rpt.Row) string {
		var ks []string
		for _, r := range rs {
			ks = append(ks, r.Kind+" "+r.ImageID+" "+r.InstanceID+" "+r.Status+" "+r.Reason)
		}
		slices.Sort(ks)
		return strings.Join(ks, "\n")
	}
	if !maps.Equal(got.Totals, full.counts) || key(got.Items) != key(rows) {
		t.Errorf("public read once:\n%v\n%s\nfull scan:\n%v\n%s", got.Totals, key(got.Items), full.counts, key(rows))
	}
	if got.Totals["in_use_amis"] != 6 || got.Totals["blocked_instances"] == 0 {
		t.Errorf("totals %v: the in-use AMIs were not all evaluated", got.Totals)
	}
}

// An organization-wide simulate makes the minimum number of DescribeImages
// calls: per region ceil(public/1000) pages once, per account and region
// one page of what is not public (its own images and those shared with it).
func TestOrgSimulateCallsAreTheMinimum(t *testing.T) {
	o := newOrgEmu(t)
	now := o.Emulator.Now()
	accounts := []string{"600000000001", "600000000002", "600000000003", "600000000004", "600000000005"}
	var imgs []ec2emu.SeedImage
	for _, r := range dOrgRegions {
		for i := 0; i < 2500; i++ {
			imgs = append(imgs, ec2emu.SeedImage{Region: r, Account: "555566667777", Name: fmt.Sprintf("pub-%d", i), CreationDate: ts(now.Add(-testDay)), Public: true})
		}
		for i, a := range accounts {
			imgs = append(imgs, ec2emu.SeedImage{Region: r, Account: a, Name: "own", CreationDate: ts(now.Add(-testDay))},
				ec2emu.SeedImage{Region: r, Account: accounts[(i+1)%len(accounts)], Name: "shared", CreationDate: ts(now.Add(-testDay)), SharedWith: []string{a}})
		}
	}
	o.seed(imgs...)
	o.Emulator.ResetStats()
	crit := writeFile(t, "policy.json", simCriteria)
	code, out, errOut := o.cli("simulate", "--criteria", crit, "--at", ts(now), "--csv", "--regions", strings.Join(dOrgRegions, ","),
		"--accounts", strings.Join(accounts, ","), "--role-name", "Audit")
	wantCode(t, code, 0, "", errOut)
	minimum := len(dOrgRegions)*3 + len(accounts)*len(dOrgRegions)*1
	calls := 0
	for _, r := range dOrgRegions {
		calls += int(o.Emulator.Stats().Regions[r]["DescribeImages"])
	}
	if calls != minimum {
		t.Errorf("%d DescribeImages calls, want the minimum %d", calls, minimum)
	}
	if n := strings.Count(out, "\n") - 1; n != len(accounts)*len(dOrgRegions)*(2500+1) {
		t.Errorf("%d CSV rows, want every account's 2500 blocked public images and its shared one per region", n)
	}
	t.Logf("%d DescribeImages calls for %d accounts × %d regions (a full scan per account: %d)", calls, len(accounts), len(dOrgRegions), len(accounts)*len(dOrgRegions)*3)
}
