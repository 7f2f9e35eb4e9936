package main

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"

	"github.com/amiwatermark/packer-plugin-amiwatermark/internal/ec2emu"
	rpt "github.com/amiwatermark/packer-plugin-amiwatermark/internal/report"
)

// The scope flags through the command line, against the emulator's EC2
// and STS on one port (AWS_ENDPOINT_URL_STS points STS at it).

const acctThird = "777788889999"

// orgEmu is the emulator with STS on the same port.
type orgEmu struct{ *emu }

func newOrgEmu(t *testing.T) *orgEmu {
	t.Helper()
	o := &orgEmu{newEmu(t)}
	t.Setenv("AWS_ENDPOINT_URL_STS", o.URL)
	return o
}

// calls returns the request bodies of action, decoded.
func (o *orgEmu) calls(action string) []url.Values {
	o.mu.Lock()
	defer o.mu.Unlock()
	var out []url.Values
	for _, b := range o.reqs {
		v, err := url.ParseQuery(b)
		if err == nil && v.Get("Action") == action {
			out = append(out, v)
		}
	}
	return out
}

// seedAccounts seeds, in each of regions, for each account: one private
// image it owns, named own-ACCOUNT-REGION, and one public image of
// acctOther's... of a vendor, named pub-REGION (blocked by simCriteria).
func (o *orgEmu) seedAccounts(regions []string, accounts ...string) time.Time {
	now := o.Emulator.Now()
	var imgs []ec2emu.SeedImage
	for _, r := range regions {
		imgs = append(imgs, ec2emu.SeedImage{Region: r, Account: "555566667777", Name: "pub-" + r, CreationDate: ts(now.Add(-testDay)), Public: true})
		for _, a := range accounts {
			imgs = append(imgs, ec2emu.SeedImage{Region: r, Account: a, Name: "own-" + a + "-" + r, CreationDate: ts(now.Add(-testDay))})
		}
	}
	o.seed(imgs...)
	return now
}

func TestOrgCLIAccountsRolesRegions(t *testing.T) {
	o := newOrgEmu(t)
	regions := []string{regionEast, regionWest}
	now := o.seedAccounts(regions, acctMe, acctOther)
	crit := writeFile(t, "policy.json", simCriteria)
	code, out, errOut := o.cli("simulate", "--criteria", crit, "--at", ts(now), "--json",
		"--regions", regionEast+","+regionWest, "--accounts", acctMe+","+acctOther, "--role-name", "audit/AMIReader", "--external-id", "ext-123")
	wantCode(t, code, 0, out, errOut)
	doc := decodeScoped(t, out)
	if doc.Caller["account"] != acctMe || !strings.HasPrefix(fmt.Sprint(doc.Caller["arn"]), "arn:aws:") {
		t.Errorf("caller = %v", doc.Caller)
	}
	var got []string
	for _, s := range doc.Scopes {
		got = append(got, s.Account+" "+s.Region)
		// Each account sees its own image (exempt) and the public one
		// (blocked); not the other account's private image.
		if s.Totals["images"] != 2 || s.Totals["own"] != 1 || s.Totals["blocked"] != 1 || len(s.Items) != 1 || s.Items[0].Name != "pub-"+s.Region {
			t.Errorf("scope %s %s: %v %+v", s.Account, s.Region, s.Totals, s.Items)
		}
	}
	want := []string{acctMe + " " + regionWest, acctMe + " " + regionEast, acctOther + " " + regionWest, acctOther + " " + regionEast}
	sort.Strings(got) // written as they finish
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("scopes %v, want %v", got, want)
	}
	// The other account's role was assumed once (for both regions), with
	// the role path, the external id and the caller's partition; the
	// caller's own account used the caller's credentials.
	ar := o.calls("AssumeRole")
	if len(ar) != 1 {
		t.Fatalf("%d AssumeRole calls, want 1", len(ar))
	}
	if ar[0].Get("RoleArn") != "arn:aws:iam::"+acctOther+":role/audit/AMIReader" || ar[0].Get("ExternalId") != "ext-123" {
		t.Errorf("AssumeRole %v", ar[0])
	}
	if n := len(o.calls("GetCallerIdentity")); n != 1 {
		t.Errorf("%d GetCallerIdentity calls, want 1", n)
	}
	// Each account-region was scanned in its own region: what is not
	// public (own and shared images) per account, the public ones once per
	// region.
	st := o.Emulator.Stats()
	for _, r := range regions {
		if st.Regions[r]["DescribeImages"] != 3 {
			t.Errorf("DescribeImages in %s: %d, want 3 (one per account, one for the region)", r, st.Regions[r]["DescribeImages"])
		}
	}
}

func TestOrgCLIOtherAccountNeedsRole(t *testing.T) {
	o := newOrgEmu(t)
	crit := writeFile(t, "policy.json", simCriteria)
	code, out, errOut := o.cli("simulate", "--criteria", crit, "--regions", regionEast, "--accounts", acctOther)
	wantCode(t, code, 2, out, errOut)
	wantContains(t, "stderr", errOut, "the caller is account "+acctMe+"; give --role-name NAME")
	if n := len(o.calls("DescribeImages")); n != 0 {
		t.Errorf("%d DescribeImages calls after a usage error", n)
	}
	// Usage errors come before any call at all.
	for _, args := range [][]string{
		{"simulate", "--criteria", crit, "--regions", "all,us-east-1"},
		{"inspect", "--accounts", "org", amiGolden},
		{"verify", "--require-key", acctMe + ":x", "--regions", regionEast, "--csv", "--json", amiGolden},
		{"simulate", "--criteria", crit, "--concurrency", "0"},
	} {
		before := len(o.calls("GetCallerIdentity"))
		code, out, errOut := o.cli(args...)
		wantCode(t, code, 2, out, errOut)
		if len(o.calls("GetCallerIdentity")) != before {
			t.Errorf("%v asked STS before failing validation", args)
		}
	}
}

func TestOrgCLIRegionsAll(t *testing.T) {
	o := newOrgEmu(t)
	c := o.EC2(regionEast, acctMe)
	dr, err := c.DescribeRegions(ctxT(t), &ec2.DescribeRegionsInput{})
	if err != nil {
		t.Fatal(err)
	}
	var enabled []string
	for _, r := range dr.Regions {
		enabled = append(enabled, aws.ToString(r.RegionName))
	}
	sort.Strings(enabled)
	o.seedAccounts(enabled, acctMe)
	o.clearRequests()
	crit := writeFile(t, "policy.json", simCriteria)
	code, out, errOut := o.cli("simulate", "--criteria", crit, "--json", "--regions", "all", "--region", regionWest)
	wantCode(t, code, 0, out, errOut)
	doc := decodeScoped(t, out)
	var got []string
	for _, s := range doc.Scopes {
		got = append(got, s.Region)
		if s.Totals["blocked"] != 1 || s.Totals["own"] != 1 {
			t.Errorf("%s: %v", s.Region, s.Totals)
		}
	}
	sort.Strings(got) // written as they finish
	if len(enabled) < 2 || strings.Join(got, ",") != strings.Join(enabled, ",") {
		t.Errorf("regions %v, want every enabled region %v", got, enabled)
	}
	if doc.Totals["scopes"] != len(enabled) {
		t.Errorf("totals %v", doc.Totals)
	}
	if st := o.Emulator.Stats(); st.Regions[regionWest]["DescribeRegions"] != 1 {
		t.Errorf("DescribeRegions not asked once in the --region region: %v", st.Regions)
	}
}

func TestOrgCLIConcurrencyBound(t *testing.T) {
	o := newOrgEmu(t)
	regions := []string{"us-east-1", "us-east-2", "us-west-1", "us-west-2", "eu-west-1", "eu-central-1"}
	o.seedAccounts(regions, acctMe)
	if err := o.Emulator.SetFaults(ec2emu.Faults{Latency: 150 * time.Millisecond, Actions: []string{"DescribeImages"}}); err != nil {
		t.Fatal(err)
	}
	crit := writeFile(t, "policy.json", simCriteria)
	for _, n := range []int{1, 3} {
		o.mu.Lock()
		o.peak = 0
		o.mu.Unlock()
		code, out, errOut := o.cli("simulate", "--criteria", crit, "--csv", "--regions", strings.Join(regions, ","), "--concurrency", fmt.Sprint(n))
		wantCode(t, code, 0, out, errOut)
		o.mu.Lock()
		peak := o.peak
		o.mu.Unlock()
		if peak != n {
			t.Errorf("--concurrency %d: %d requests in flight at most, want exactly %d", n, peak, n)
		}
	}
}

func TestOrgCLIAssumeRoleRefusedIsIsolated(t *testing.T) {
	o := newOrgEmu(t)
	regions := []string{regionEast, regionWest}
	now := o.seedAccounts(regions, acctMe, acctOther, acctThird)
	// The third account refuses AssumeRole (its role does not trust the
	// caller).
	if err := o.Emulator.ApplySeed(ec2emu.Seed{Accounts: []ec2emu.SeedAccount{{ID: acctThird, RefuseAssumeRole: true}}}); err != nil {
		t.Fatal(err)
	}
	crit := writeFile(t, "policy.json", simCriteria)
	html := filepath.Join(t.TempDir(), "r.html")
	code, out, errOut := o.cli("simulate", "--criteria", crit, "--at", ts(now), "--regions", regionEast+","+regionWest,
		"--accounts", acctMe+","+acctOther+","+acctThird, "--role-name", "Audit", "--html", html)
	wantCode(t, code, 1, out, errOut)
	wantContains(t, "stdout", out,
		"Total: 6 account-regions in 3 accounts (4 ok, 2 failed): 8 images: 4 allowed (4 own), 4 blocked\n",
		"Failed account-regions (2):\n  "+acctThird+" eu-west-1: ")
	scopes := textScopes(out)
	if sc := scopes[acctOther+" us-east-1"]; !strings.HasPrefix(sc, "2 images: 1 allowed (1 own), 1 blocked\n") {
		t.Errorf("%s us-east-1: %q", acctOther, sc)
	}
	for _, r := range regions {
		if sc := scopes[acctThird+" "+r]; !strings.HasPrefix(sc, "FAILED: assuming arn:aws:iam::"+acctThird+":role/Audit: ") {
			t.Errorf("%s %s: %q", acctThird, r, sc)
		}
	}
	wantContains(t, "stderr", errOut, "AccessDenied", "2 of 6 account-regions failed")
	// Refused once: the refusal is remembered for the account's other
	// region (the SDK does not retry AccessDenied).
	if n := len(o.calls("AssumeRole")); n != 2 {
		t.Errorf("%d AssumeRole calls, want 2 (one per other account)", n)
	}
	if strings.Contains(out, acctThird+" us-east-1: ") && !strings.Contains(out, "is not authorized to perform: sts:AssumeRole") {
		t.Errorf("the refusal does not quote STS's reason:\n%s", out)
	}
	page, err := os.ReadFile(html)
	if err != nil {
		t.Fatal(err)
	}
	wantContains(t, "html", string(page), `data-total="scopes_failed">2<`, `<table id="failures">`, "AccessDenied")
}

func TestOrgCLISecretsNeverPrinted(t *testing.T) {
	o := newOrgEmu(t)
	o.seedAccounts([]string{regionEast}, acctMe, acctOther)
	t.Setenv("AWS_SECRET_ACCESS_KEY", "s3cr3t-value-never-printed")
	t.Setenv("AWS_SESSION_TOKEN", "t0ken-value-never-printed")
	crit := writeFile(t, "policy.json", simCriteria)
	html := filepath.Join(t.TempDir(), "r.html")
	for _, form := range []string{"--json", "--csv", "--progress"} {
		args := []string{"simulate", "--criteria", crit, "--regions", regionEast, "--accounts", acctMe + "," + acctOther, "--role-name", "R", "--html", html}
		if form != "--progress" {
			args = append(args, form)
		}
		code, out, errOut := o.cli(args...)
		wantCode(t, code, 0, out, errOut)
		page, _ := os.ReadFile(html)
		for _, s := range []string{out, errOut, string(page)} {
			if strings.Contains(s, "never-printed") || strings.Contains(s, "ASIA") {
				t.Errorf("%s: a secret or an assumed-role key appears in the output", form)
			}
		}
	}
}

// TestOrgCLIInterruptBinary sends SIGINT to the built CLI while one region
// hangs: it prints every account-region that finished, lists the
// unfinished one, and exits 1 promptly.
func TestOrgCLIInterruptBinary(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "amiwatermark")
	if b, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, b)
	}
	o := newOrgEmu(t)
	regions := []string{"us-east-1", "ap-southeast-2", "eu-west-1"}
	o.seedAccounts(regions, acctMe)
	if err := o.Emulator.SetFaults(ec2emu.Faults{Latency: 10 * time.Minute, Regions: []string{"ap-southeast-2"}}); err != nil {
		t.Fatal(err)
	}
	crit := writeFile(t, "policy.json", simCriteria)
	cmd := exec.Command(bin, "simulate", "--endpoint", o.URL, "--criteria", crit, "--json", "--regions", strings.Join(regions, ","))
	cmd.Env = os.Environ()
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(time.Minute)
	for {
		st := o.Emulator.Stats()
		if st.Regions["eu-west-1"]["DescribeImages"] > 0 && st.Regions["us-east-1"]["DescribeImages"] > 0 && st.Regions["ap-southeast-2"]["DescribeImages"] > 0 {
			break
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatalf("the run did not reach every region; stderr:\n%s", errb.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(500 * time.Millisecond)
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		t.Fatal("the CLI did not stop within 30 s of SIGINT")
	}
	if code := cmd.ProcessState.ExitCode(); code != 1 {
		t.Errorf("exit code %d, want 1\nstderr:\n%s", code, errb.String())
	}
	doc := decodeScoped(t, out.String())
	if idx := byRegion(doc); !doc.Interrupted || len(doc.Scopes) != 2 || len(idx) != 2 || doc.Scopes[idx["us-east-1"]].Region != "us-east-1" || doc.Scopes[idx["eu-west-1"]].Region != "eu-west-1" {
		t.Errorf("document after SIGINT: interrupted=%v scopes=%+v", doc.Interrupted, doc.Scopes)
	}
	if len(doc.Unfinished) != 1 || doc.Unfinished[0].Region != "ap-southeast-2" || doc.Unfinished[0].Status != rpt.StatusInterrupted {
		t.Errorf("unfinished = %+v", doc.Unfinished)
	}
	wantContains(t, "stderr", errb.String(), "interrupted: 2 of 3 account-regions finished")
}

func TestOrgCLIVerifyAndInspectCSV(t *testing.T) {
	o := newOrgEmu(t)
	o.seedLineage()
	code, out, errOut := o.cli("verify", "--require-key", acctMe+":golden-*", "--regions", regionEast+","+regionWest, "--csv",
		amiGolden, amiBare, regionWest+":"+amiCopy)
	wantCode(t, code, 1, out, errOut)
	recs, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	var rows []string
	for _, r := range recs[1:] {
		rows = append(rows, r[0]+" "+r[1]+" "+r[3]+" "+r[8])
	}
	// us-east-1: bare fails; eu-west-1: golden and bare are not there.
	want := []string{acctMe + " us-east-1 " + amiBare + " failed", acctMe + " eu-west-1 " + amiGolden + " failed", acctMe + " eu-west-1 " + amiBare + " failed"}
	sort.Strings(rows) // scopes are written as they finish
	sort.Strings(want)
	if strings.Join(rows, "|") != strings.Join(want, "|") {
		t.Errorf("verify CSV rows:\n%s\nwant:\n%s", strings.Join(rows, "\n"), strings.Join(want, "\n"))
	}
	code, out, errOut = o.cli("inspect", "--regions", regionEast, "--json", amiGolden, amiApp)
	wantCode(t, code, 0, out, errOut)
	doc := decodeScoped(t, out)
	if len(doc.Scopes) != 1 || doc.Totals["amis"] != 2 || doc.Totals["unknown"] != 2 {
		t.Errorf("inspect: %+v", doc)
	}
}

// orgSeed is an organization managed by acctMe: n ACTIVE member accounts
// (900000000001...), one SUSPENDED account, and acctThird, which refuses
// AssumeRole. acctMe and acctOther have two regions enabled, the others one.
func orgSeed(n int) (ec2emu.Seed, []string) {
	seed := ec2emu.Seed{Organization: &ec2emu.SeedOrganization{ManagementAccount: acctMe},
		Accounts: []ec2emu.SeedAccount{
			{ID: acctMe, Regions: []string{regionEast, regionWest}},
			{ID: acctOther, Regions: []string{regionWest, regionEast}},
			{ID: "900000000000", Status: "SUSPENDED"},
			{ID: acctThird, RefuseAssumeRole: true},
		}}
	active := []string{acctMe, acctOther, acctThird}
	for i := 1; i <= n; i++ {
		id := fmt.Sprintf("9000000%05d", i)
		seed.Accounts = append(seed.Accounts, ec2emu.SeedAccount{ID: id, Regions: []string{regionEast}})
		active = append(active, id)
	}
	sort.Strings(active)
	return seed, active
}

func TestOrgCLIAccountsOrg(t *testing.T) {
	o := newOrgEmu(t)
	t.Setenv("AWS_ENDPOINT_URL_ORGANIZATIONS", o.URL)
	seed, active := orgSeed(22) // 25 active accounts: two ListAccounts pages of 20
	if err := o.Emulator.ApplySeed(seed); err != nil {
		t.Fatal(err)
	}
	now := o.seedAccounts([]string{regionEast, regionWest}, active...)
	crit := writeFile(t, "policy.json", simCriteria)
	code, out, errOut := o.cli("simulate", "--criteria", crit, "--at", ts(now), "--json", "--accounts", "org", "--role-name", "OrganizationAccountAccessRole", "--regions", "all")
	wantCode(t, code, 1, out, errOut) // acctThird refuses
	doc := decodeScoped(t, out)
	// Every ACTIVE account, in id order, with the regions enabled for it;
	// not the SUSPENDED one.
	var got []string
	seen := map[string]bool{}
	for _, s := range doc.Scopes {
		got = append(got, s.Account+" "+s.Region)
		seen[s.Account] = true
		if s.Totals["own"] != 1 || s.Totals["blocked"] != 1 {
			t.Errorf("%s %s: %v", s.Account, s.Region, s.Totals)
		}
	}
	for _, a := range active {
		if a != acctThird && !seen[a] {
			t.Errorf("account %s missing from the results", a)
		}
	}
	if seen["900000000000"] {
		t.Error("the SUSPENDED account was scanned")
	}
	wantOther := acctOther + " " + regionWest + "|" + acctOther + " " + regionEast
	if !strings.Contains(strings.Join(got, "|"), acctOther+" "+regionEast) || !strings.Contains(strings.Join(got, "|"), acctOther+" "+regionWest) {
		t.Errorf("acctOther's enabled regions not both scanned: %v (want %s)", got, wantOther)
	}
	if len(doc.Failures) != 1 || doc.Failures[0].Account != acctThird || doc.Failures[0].Region != "all" || !strings.Contains(doc.Failures[0].Error, "AccessDenied") {
		t.Errorf("failures = %+v", doc.Failures)
	}
	if doc.Totals["accounts"] != len(active) {
		t.Errorf("totals.accounts = %d, want %d", doc.Totals["accounts"], len(active))
	}
	if n := len(o.calls("ListAccounts")); n != 0 {
		t.Logf("(ListAccounts is JSON, not form: %d form calls)", n)
	}
	if st := o.Emulator.Stats(); st.Actions["ListAccounts"] < 2 {
		t.Errorf("ListAccounts called %d times: 25 accounts take two pages", st.Actions["ListAccounts"])
	}
}

func TestOrgCLIAccountsOrgNotManagement(t *testing.T) {
	o := newOrgEmu(t)
	t.Setenv("AWS_ENDPOINT_URL_ORGANIZATIONS", o.URL)
	seed, _ := orgSeed(1)
	seed.Organization.ManagementAccount = acctOther
	if err := o.Emulator.ApplySeed(seed); err != nil {
		t.Fatal(err)
	}
	crit := writeFile(t, "policy.json", simCriteria)
	code, out, errOut := o.cli("simulate", "--criteria", crit, "--accounts", "org", "--role-name", "R", "--regions", regionEast)
	wantCode(t, code, 1, out, errOut)
	wantContains(t, "stderr", errOut, "listing the organization's accounts (Organizations ListAccounts)", "AccessDenied",
		"management account or a delegated administrator")
	if n := len(o.calls("DescribeImages")); n != 0 {
		t.Errorf("%d scans after ListAccounts failed", n)
	}
}

func TestOrgCLIExternalIDRequired(t *testing.T) {
	o := newOrgEmu(t)
	if err := o.Emulator.ApplySeed(ec2emu.Seed{Accounts: []ec2emu.SeedAccount{{ID: acctOther, ExternalID: "secret-ext"}}}); err != nil {
		t.Fatal(err)
	}
	o.seedAccounts([]string{regionEast}, acctOther)
	crit := writeFile(t, "policy.json", simCriteria)
	code, out, errOut := o.cli("simulate", "--criteria", crit, "--regions", regionEast, "--accounts", acctOther, "--role-name", "R")
	wantCode(t, code, 1, out, errOut)
	wantContains(t, "stdout", out, "us-east-1: FAILED: assuming arn:aws:iam::"+acctOther+":role/R")
	code, out, errOut = o.cli("simulate", "--criteria", crit, "--regions", regionEast, "--accounts", acctOther, "--role-name", "R", "--external-id", "secret-ext")
	wantCode(t, code, 0, out, errOut)
	wantContains(t, "stdout", out, "us-east-1: 2 images: 1 allowed (1 own), 1 blocked")
}

// TestOrgCLITimeoutIsIsolated: a region whose calls hang fails alone once
// --request-timeout has run out for every attempt; the others finish.
func TestOrgCLITimeoutIsIsolated(t *testing.T) {
	o := newOrgEmu(t)
	regions := []string{regionEast, "ap-southeast-2", regionWest}
	o.seedAccounts(regions, acctMe)
	if err := o.Emulator.SetFaults(ec2emu.Faults{Latency: 10 * time.Minute, Regions: []string{"ap-southeast-2"}}); err != nil {
		t.Fatal(err)
	}
	crit := writeFile(t, "policy.json", simCriteria)
	code, out, errOut := o.cli("simulate", "--criteria", crit, "--regions", strings.Join(regions, ","), "--request-timeout", "500ms", "--max-retries", "1")
	wantCode(t, code, 1, out, errOut)
	wantContains(t, "stdout", out,
		"  us-east-1: 2 images: 1 allowed (1 own), 1 blocked\n",
		"  ap-southeast-2: FAILED: ",
		"  eu-west-1: 2 images: 1 allowed (1 own), 1 blocked\n",
		"Total: 3 account-regions in 1 accounts (2 ok, 1 failed)")
	wantContains(t, "stderr", errOut, "1 of 3 account-regions failed")
}

func TestOrgCLICompareCurrentPerScope(t *testing.T) {
	o := newOrgEmu(t)
	now := o.seedAccounts([]string{regionEast, regionWest}, acctMe)
	crit := writeFile(t, "policy.json", simCriteria)
	// The account has no current criteria in either region: each
	// account-region reads its own settings and counts the changes.
	code, out, errOut := o.cli("simulate", "--criteria", crit, "--at", ts(now), "--json", "--compare-current", "--regions", regionEast+","+regionWest)
	wantCode(t, code, 0, out, errOut)
	doc := decodeScoped(t, out)
	for _, s := range doc.Scopes {
		if _, ok := s.Totals["newly_blocked"]; !ok || s.Totals["newly_allowed"] != 0 {
			t.Errorf("%s: %v", s.Region, s.Totals)
		}
	}
	if st := o.Emulator.Stats(); st.Actions["GetAllowedImagesSettings"] != 2 {
		t.Errorf("GetAllowedImagesSettings called %d times, want once per account-region", st.Actions["GetAllowedImagesSettings"])
	}
}

// A region an account has not enabled (an opt-in region outside its
// "regions") fails that account-region only, with a hint; --regions all
// never asks there.
func TestOrgCLIDisabledRegionIsIsolated(t *testing.T) {
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
	code, out, errOut := o.cli("simulate", "--criteria", crit, "--at", ts(now), "--regions", regionEast+","+optIn,
		"--accounts", acctMe+","+acctOther, "--role-name", "Audit")
	wantCode(t, code, 1, out, errOut)
	wantContains(t, "stdout", out, "AuthFailure", "if af-south-1 is an opt-in region, enable it for account "+acctOther,
		"Total: 4 account-regions in 2 accounts (3 ok, 1 failed)")
	scopes := textScopes(out)
	for _, k := range []string{acctMe + " us-east-1", acctMe + " " + optIn, acctOther + " us-east-1"} {
		if !strings.HasPrefix(scopes[k], "2 images: 1 allowed (1 own), 1 blocked\n") {
			t.Errorf("%s: %q", k, scopes[k])
		}
	}
	if sc := scopes[acctOther+" "+optIn]; !strings.HasPrefix(sc, "FAILED: describing images in af-south-1: ") {
		t.Errorf("%s %s: %q", acctOther, optIn, sc)
	}
	wantContains(t, "stderr", errOut, "1 of 4 account-regions failed")

	// The hint does not depend on which call meets the refusal first: with
	// --account and --compare-current it is GetAllowedImagesSettings.
	code, out, errOut = o.cli("simulate", "--criteria", crit, "--at", ts(now), "--regions", regionEast+","+optIn,
		"--accounts", acctMe+","+acctOther, "--role-name", "Audit", "--account", "999999999999", "--compare-current")
	wantCode(t, code, 1, out, errOut)
	wantContains(t, "stdout", out, "  af-south-1: FAILED: reading the current Allowed-AMIs settings in af-south-1 (GetAllowedImagesSettings): ",
		"if af-south-1 is an opt-in region, enable it for account "+acctOther)

	code, out, errOut = o.cli("simulate", "--criteria", crit, "--at", ts(now), "--regions", "all",
		"--accounts", acctMe+","+acctOther, "--role-name", "Audit")
	wantCode(t, code, 0, out, errOut)
	wantContains(t, "stdout", out, "Total: 3 account-regions in 2 accounts (3 ok, 0 failed)")
}

// blockedWriter lets its first write through, then blocks every write
// until release is closed: an output nobody reads (a full pipe).
type blockedWriter struct {
	release chan struct{}
	writes  int
	buf     bytes.Buffer
}

func (w *blockedWriter) Write(p []byte) (int, error) {
	if w.writes++; w.writes > 1 {
		<-w.release
	}
	return w.buf.Write(p)
}

// docs/cli.md: a slow output never holds up the scan. With the output
// blocked after its first line, every account-region is still scanned;
// once the output drains, every one of them is written.
func TestOrgCLISlowOutputDoesNotHoldUpTheScan(t *testing.T) {
	o := newOrgEmu(t)
	regions := []string{"us-east-1", "us-east-2", "us-west-1", "us-west-2", "eu-west-1", "eu-west-2", "eu-central-1", "ap-south-1"}
	o.seedAccounts(regions, acctMe)
	crit := writeFile(t, "policy.json", simCriteria)
	out := &blockedWriter{release: make(chan struct{})}
	var errb bytes.Buffer
	done := make(chan int)
	go func() {
		done <- run([]string{"simulate", "--endpoint", o.URL, "--criteria", crit, "--regions", strings.Join(regions, ","), "--concurrency", "2"}, out, &errb)
	}()
	// The scan's pages (MaxResults 1000; the own-account lookup asks for 5).
	scans := func() int {
		n := 0
		for _, c := range o.calls("DescribeImages") {
			if c.Get("MaxResults") == "1000" {
				n++
			}
		}
		return n
	}
	deadline := time.Now().Add(20 * time.Second)
	for scans() < len(regions) && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	scanned := scans()
	close(out.release)
	code := <-done
	if scanned < len(regions) {
		t.Errorf("with the output blocked, %d of %d account-regions were scanned: the output held up the scan", scanned, len(regions))
	}
	wantCode(t, code, 0, out.buf.String(), errb.String())
	wantContains(t, "stdout", out.buf.String(), "Total: 8 account-regions in 1 accounts (8 ok, 0 failed)")
}

// Rows with names that need escaping come back in the JSON as encoding/json
// writes them, and a run leaves no temporary file behind.
func TestOrgCLIRowsComeBackUnchanged(t *testing.T) {
	o := newOrgEmu(t)
	regions := []string{"us-east-1", "us-east-2", "us-west-1", "us-west-2", "eu-west-1", "eu-central-1"}
	now := o.seedAccounts(regions, acctMe)
	var extra []ec2emu.SeedImage
	for _, r := range regions {
		for i := 0; i < 5; i++ {
			extra = append(extra, ec2emu.SeedImage{Region: r, Account: "555566667777", Public: true, CreationDate: ts(now.Add(-testDay)),
				Name: fmt.Sprintf(`vendor "%d" <é> & co`, i), Description: "x"})
		}
	}
	o.seed(extra...)
	crit := writeFile(t, "policy.json", simCriteria)
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	code, out, errOut := o.cli("simulate", "--criteria", crit, "--at", ts(now), "--json", "--regions", strings.Join(regions, ","), "--concurrency", "3")
	wantCode(t, code, 0, out, errOut)
	doc := decodeScoped(t, out)
	names := 0
	for _, sc := range doc.Scopes {
		for _, it := range sc.Items {
			if strings.HasPrefix(it.Name, `vendor "`) && strings.HasSuffix(it.Name, `" <é> & co`) {
				names++
			}
		}
	}
	if names != 5*len(regions) {
		t.Errorf("%d vendor names read back, want %d", names, 5*len(regions))
	}
	if !strings.Contains(out, `vendor \"4\" \u003cé\u003e \u0026 co`) {
		t.Errorf("a name is not written as encoding/json writes it:\n%s", out)
	}
	if left, _ := filepath.Glob(filepath.Join(tmp, "amiwatermark-*")); len(left) > 0 {
		t.Errorf("temporary files left behind: %v", left)
	}
}

// TestOrgCLIPreparesAFewAccountsAhead: account preparations (AssumeRole)
// share the concurrency slots with the scopes and run only a few accounts
// ahead of them, so the first account's scopes do not wait behind the
// preparations of accounts far down the list.
func TestOrgCLIPreparesAFewAccountsAhead(t *testing.T) {
	o := newOrgEmu(t)
	var accounts []string
	for i := 1; i <= 10; i++ {
		accounts = append(accounts, fmt.Sprintf("7000000%05d", i))
	}
	o.seedAccounts([]string{regionEast, regionWest}, accounts...)
	if err := o.Emulator.SetFaults(ec2emu.Faults{Latency: 40 * time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	crit := writeFile(t, "policy.json", simCriteria)
	code, out, errOut := o.cli("simulate", "--criteria", crit, "--json", "--accounts", strings.Join(accounts, ","),
		"--role-name", "Audit", "--regions", regionEast+","+regionWest, "--concurrency", "4")
	wantCode(t, code, 0, out, errOut)
	// 4 slots, 2 regions per account: 2 accounts ahead. When the first
	// DescribeImages arrives, at most 3 AssumeRole calls were made (the
	// first account's, the next one's, and the one its start let begin).
	// Preparations taking every free slot would have made 4.
	o.mu.Lock()
	assumed, total := 0, 0
	for _, b := range o.reqs {
		v, _ := url.ParseQuery(b)
		switch v.Get("Action") {
		case "AssumeRole":
			total++
		case "DescribeImages":
			if assumed == 0 && total == 0 {
				t.Error("a DescribeImages before any AssumeRole")
			}
			if assumed == 0 {
				assumed = total
			}
		}
	}
	o.mu.Unlock()
	if assumed == 0 || assumed > 3 {
		t.Errorf("%d AssumeRole calls before the first DescribeImages, want 1 to 3", assumed)
	}
	if total != len(accounts) {
		t.Errorf("%d AssumeRole calls, want one per account (%d)", total, len(accounts))
	}
	if doc := decodeScoped(t, out); len(doc.Scopes) != 2*len(accounts) {
		t.Errorf("%d scopes, want %d", len(doc.Scopes), 2*len(accounts))
	}
}

// With --accounts org, ListAccounts is asked while STS is asked who the
// caller is (it does not depend on the answer): its first call arrives
// before GetCallerIdentity is answered.
func TestOrgCLIListsAccountsBesideGetCallerIdentity(t *testing.T) {
	o := newOrgEmu(t)
	t.Setenv("AWS_ENDPOINT_URL_ORGANIZATIONS", o.URL)
	seed, active := orgSeed(3)
	if err := o.Emulator.ApplySeed(seed); err != nil {
		t.Fatal(err)
	}
	now := o.seedAccounts([]string{regionEast}, active...)
	const latency = 300 * time.Millisecond
	o.faults(`{"latency":"300ms"}`)
	crit := writeFile(t, "policy.json", simCriteria)
	code, out, errOut := o.cli("simulate", "--criteria", crit, "--at", ts(now), "--csv", "--accounts", "org", "--role-name", "Audit", "--regions", regionEast)
	wantCode(t, code, 1, out, errOut) // acctThird refuses AssumeRole
	o.mu.Lock()
	defer o.mu.Unlock()
	var sts, list time.Time
	for i, b := range o.reqs {
		switch {
		case sts.IsZero() && strings.HasPrefix(b, "Action=GetCallerIdentity"):
			sts = o.arrived[i]
		case list.IsZero() && strings.HasPrefix(b, "{"):
			list = o.arrived[i]
		}
	}
	if sts.IsZero() || list.IsZero() {
		t.Fatalf("no GetCallerIdentity (%v) or no ListAccounts (%v)", sts, list)
	}
	if d := list.Sub(sts); d > latency/2 || d < -latency/2 {
		t.Errorf("ListAccounts arrived %v after GetCallerIdentity: it waited for STS's answer (%v)", d, latency)
	}
}
