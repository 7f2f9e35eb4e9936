package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/amiwatermark/packer-plugin-amiwatermark/internal/amiref"
	"github.com/amiwatermark/packer-plugin-amiwatermark/internal/awsconfig"
	"github.com/amiwatermark/packer-plugin-amiwatermark/internal/ec2emu"
	"github.com/amiwatermark/packer-plugin-amiwatermark/internal/orgscan"
	rpt "github.com/amiwatermark/packer-plugin-amiwatermark/internal/report"
)

func TestScopeFlagsPlan(t *testing.T) {
	for _, tc := range []struct {
		args    []string
		json    bool
		wantErr string
		check   func(*scopePlan) bool
	}{
		{args: []string{"--regions", "us-east-1, eu-west-1,us-east-1"}, check: func(p *scopePlan) bool {
			return strings.Join(p.Regions, ",") == "us-east-1,eu-west-1" && !p.AllRegions && p.Concurrency == orgscan.DefaultConcurrency
		}},
		{args: []string{"--regions", "all"}, check: func(p *scopePlan) bool { return p.AllRegions && p.Regions == nil }},
		{args: []string{"--accounts", "111122223333,444455556666", "--role-name", "Audit", "--external-id", "xyz"}, check: func(p *scopePlan) bool {
			return len(p.Accounts) == 2 && p.RoleName == "Audit" && p.ExternalID == "xyz"
		}},
		{args: []string{"--accounts", "org", "--role-name", "path/to/OrganizationAccountAccessRole"}, check: func(p *scopePlan) bool { return p.Org }},
		{args: []string{"--csv", "--concurrency", "3"}, check: func(p *scopePlan) bool { return p.csv && p.Concurrency == 3 }},
		{args: []string{"--regions", ""}, wantErr: "--regions is empty"},
		{args: []string{"--regions", "all,us-east-1"}, wantErr: `"all" cannot be combined`},
		{args: []string{"--regions", "US_EAST"}, wantErr: `"US_EAST" is not a region name`},
		{args: []string{"--accounts", "12345"}, wantErr: `"12345" is not a 12-digit account id`},
		{args: []string{"--accounts", "org"}, wantErr: "--accounts org needs --role-name"},
		{args: []string{"--accounts", "org,111122223333", "--role-name", "R"}, wantErr: `"org" cannot be combined`},
		{args: []string{"--role-name", "R"}, wantErr: "--role-name is assumed in the accounts of --accounts"},
		{args: []string{"--accounts", "111122223333", "--role-name", "bad name!"}, wantErr: "is not an IAM role name"},
		{args: []string{"--accounts", "111122223333", "--external-id", "x1"}, wantErr: "--external-id is passed when assuming --role-name"},
		{args: []string{"--concurrency", "0"}, wantErr: "--concurrency 0: give 1 to 256"},
		{args: []string{"--concurrency", "1000"}, wantErr: "--concurrency 1000"},
		{args: []string{"--csv"}, json: true, wantErr: "--csv and --json"},
		{args: []string{"--html", ""}, wantErr: "--html needs a file name"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			fs := flag.NewFlagSet("x", flag.ContinueOnError)
			fs.SetOutput(io.Discard)
			var sf scopeFlags
			sf.register(fs)
			if err := fs.Parse(tc.args); err != nil {
				t.Fatal(err)
			}
			sf.visit(fs)
			if !sf.active() {
				t.Fatalf("scope mode not active for %v", tc.args)
			}
			p, err := sf.plan(tc.json)
			if tc.wantErr != "" {
				var ue *usageError
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) || !asUsage(err, &ue) {
					t.Fatalf("err = %v, want a usage error containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !tc.check(p) {
				t.Errorf("plan = %+v", p)
			}
		})
	}
}

func asUsage(err error, ue **usageError) bool {
	u, ok := err.(*usageError)
	*ue = u
	return ok
}

func TestScopeFlagsInactiveByDefault(t *testing.T) {
	fs := flag.NewFlagSet("x", flag.ContinueOnError)
	var sf scopeFlags
	sf.register(fs)
	if err := fs.Parse(nil); err != nil {
		t.Fatal(err)
	}
	sf.visit(fs)
	if sf.active() {
		t.Error("scope mode active without any scope flag")
	}
}

func TestValidRoleName(t *testing.T) {
	for s, want := range map[string]bool{
		"OrganizationAccountAccessRole": true, "audit/ami-reader": true, "a+=,.@_-": true,
		"": false, "a b": false, "/lead": false, "trail/": false, strings.Repeat("r", 65): false, strings.Repeat("r", 64): true,
	} {
		if got := validRoleName(s); got != want {
			t.Errorf("validRoleName(%q) = %v, want %v", s, got, want)
		}
	}
}

// ---- fan-out against the emulator, in the caller's own account (no STS
// needed): several regions, outputs, isolation, interruption.

// scopeEnvFor builds the fan-out's environment for the caller acctMe
// without asking STS (the caller's identity is given), so the regional
// fan-out can be tested on the EC2 emulator alone.
func (e *emu) scopeEnvFor(t *testing.T, p *scopePlan, maxRetries int) *scopedEnv {
	t.Helper()
	ac := &awsconfig.AccessConfig{CustomEndpointEc2: e.URL, MaxRetries: &maxRetries}
	cfg, err := ac.Config(ctxT(t))
	if err != nil {
		t.Fatal(err)
	}
	env := orgscan.NewWithConfig(ac, cfg, &p.Plan)
	env.SetCaller(orgscan.Identity{Account: acctMe, ARN: "arn:aws:iam::" + acctMe + ":user/tester", Partition: "aws"})
	return &scopedEnv{env, p}
}

// scopedEnv is a test's run: the environment and its plan with outputs.
type scopedEnv struct {
	*orgscan.Env
	p *scopePlan
}

func runScoped(ctx context.Context, env *scopedEnv, cmd *scopeCommand) (int, string, string) {
	var out, errb bytes.Buffer
	code := runScopes(ctx, env.Env, env.p, cmd, &out, &errb)
	return code, out.String(), errb.String()
}

var scopeRegions = []string{"us-east-1", "eu-west-1", "ap-southeast-2"}

// seedRegions seeds, in each region, n private images of acctMe (own) and
// n public images of acctOther whose name says the region; the criteria
// of simCriteria allow none of acctOther's.
func (e *emu) seedRegions(n int) time.Time {
	now := e.Emulator.Now()
	var imgs []ec2emu.SeedImage
	for _, r := range scopeRegions {
		for i := 0; i < n; i++ {
			imgs = append(imgs,
				ec2emu.SeedImage{Region: r, Account: acctMe, Name: fmt.Sprintf("own-%s-%d", r, i), CreationDate: ts(now.Add(-testDay))},
				ec2emu.SeedImage{Region: r, Account: acctOther, Name: fmt.Sprintf("pub-%s-%d", r, i), CreationDate: ts(now.Add(-testDay)), Public: true})
		}
	}
	e.seed(imgs...)
	return now
}

func simOpts(t *testing.T, now time.Time) *simulateOptions {
	o := &simulateOptions{criteriaFile: writeFile(t, "policy.json", simCriteria)}
	if err := o.validate(ts(now)); err != nil {
		t.Fatal(err)
	}
	return o
}

func TestScopedSimulateRegionsText(t *testing.T) {
	e := newEmu(t)
	now := e.seedRegions(3)
	env := e.scopeEnvFor(t, &scopePlan{Plan: orgscan.Plan{Regions: scopeRegions}}, 2)
	code, out, errOut := runScoped(ctxT(t), env, simulateScopeCommand(simOpts(t, now)))
	wantCode(t, code, 0, out, errOut)
	// Each region under the account (as the scopes finish), with its
	// blocked images under it; own images exempt.
	wantContains(t, "stdout", out,
		"\nAccount 111122223333\n  ",
		"Total: 3 account-regions in 1 accounts (3 ok, 0 failed): 18 images: 9 allowed (9 own), 9 blocked\n",
		"Blocked by owner: 444455556666=9\n",
		"Blocked by account: 111122223333=9\n",
	)
	scopes := textScopes(out)
	if len(scopes) != 3 {
		t.Errorf("%d scopes in the text, want 3:\n%s", len(scopes), out)
	}
	for _, r := range scopeRegions {
		block := scopes[acctMe+" "+r]
		if !strings.HasPrefix(block, "6 images: 3 allowed (3 own), 3 blocked\n    BLOCKED ami-") || strings.Count(block, "BLOCKED ami-") != 3 ||
			strings.Count(block, `name="pub-`+r+`-`) != 3 {
			t.Errorf("%s:\n%s", r, block)
		}
	}
	if n := strings.Count(out, "BLOCKED ami-"); n != 9 {
		t.Errorf("%d BLOCKED lines, want 9:\n%s", n, out)
	}
	wantContains(t, "stderr", errOut, "3/3 account-regions done (0 failed), 18 images scanned, 9 blocked so far")
	// Per region: the account's images that are not public (own and
	// shared, one read), and the public ones once, each in its own region;
	// no account discovery (the scope's account is known).
	st := e.Emulator.Stats()
	for _, r := range scopeRegions {
		if st.Regions[r]["DescribeImages"] != 2 {
			t.Errorf("DescribeImages in %s = %d, want 2 (stats %v)", r, st.Regions[r]["DescribeImages"], st.Regions)
		}
	}
}

// textScopes splits the text form by scope: "ACCOUNT REGION" -> the rest
// of the scope's line and the lines of its rows.
func textScopes(out string) map[string]string {
	m := map[string]string{}
	account, key := "", ""
	for _, l := range strings.Split(out, "\n") {
		switch {
		case strings.HasPrefix(l, "Account "):
			account, key = strings.TrimPrefix(l, "Account "), ""
		case strings.HasPrefix(l, "    ") && key != "":
			m[key] += "\n" + l
		case strings.HasPrefix(l, "  ") && account != "":
			region, rest, _ := strings.Cut(strings.TrimPrefix(l, "  "), ": ")
			key = account + " " + region
			m[key] = rest
		default:
			key = ""
		}
	}
	for k := range m {
		m[k] += "\n"
	}
	return m
}

// byRegion indexes a document's scopes by region.
func byRegion(doc scopedJSON) map[string]int {
	m := map[string]int{}
	for i, s := range doc.Scopes {
		m[s.Region] = i
	}
	return m
}

// scopedJSON is the JSON document of a scoped run.
type scopedJSON struct {
	Command    string         `json:"command"`
	Caller     map[string]any `json:"caller"`
	Parameters map[string]any `json:"parameters"`
	Scopes     []struct {
		Account string         `json:"account"`
		Region  string         `json:"region"`
		Status  string         `json:"status"`
		Totals  map[string]int `json:"totals"`
		Items   []rpt.Row      `json:"items"`
	} `json:"scopes"`
	Failures         []rpt.Failure  `json:"failures"`
	Unfinished       []rpt.Failure  `json:"unfinished"`
	Interrupted      bool           `json:"interrupted"`
	Totals           map[string]int `json:"totals"`
	BlockedByOwner   map[string]int `json:"blocked_by_owner"`
	BlockedByAccount map[string]int `json:"blocked_by_account"`
	ElapsedSeconds   float64        `json:"elapsed_seconds"`
}

func decodeScoped(t *testing.T, s string) scopedJSON {
	t.Helper()
	var doc scopedJSON
	dec := json.NewDecoder(strings.NewReader(s))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&doc); err != nil {
		t.Fatalf("not one JSON document: %v\n%s", err, s)
	}
	if dec.More() {
		t.Fatalf("more than one JSON document:\n%s", s)
	}
	return doc
}

func TestScopedSimulateJSONAndCSV(t *testing.T) {
	e := newEmu(t)
	now := e.seedRegions(2)
	env := e.scopeEnvFor(t, &scopePlan{Plan: orgscan.Plan{Regions: scopeRegions}, json: true}, 2)
	code, out, errOut := runScoped(ctxT(t), env, simulateScopeCommand(simOpts(t, now)))
	wantCode(t, code, 0, out, errOut)
	doc := decodeScoped(t, out)
	if doc.Command != "simulate" || doc.Caller["account"] != acctMe || len(doc.Scopes) != 3 || len(doc.Failures) != 0 || doc.Interrupted {
		t.Fatalf("document: %+v", doc)
	}
	if idx := byRegion(doc); len(idx) != len(scopeRegions) {
		t.Errorf("regions %v, want %v", idx, scopeRegions)
	}
	for i, s := range doc.Scopes {
		if s.Account != acctMe || !slices.Contains(scopeRegions, s.Region) || s.Totals["images"] != 4 || s.Totals["blocked"] != 2 || len(s.Items) != 2 {
			t.Errorf("scope %d: %+v", i, s)
		}
		for _, it := range s.Items {
			if !it.Blocked || it.OwnerID != acctOther || !strings.HasPrefix(it.Name, "pub-"+s.Region) || it.Reason == "" {
				t.Errorf("item %+v", it)
			}
		}
	}
	want := map[string]int{"accounts": 1, "scopes": 3, "scopes_ok": 3, "scopes_failed": 0, "scopes_unfinished": 0,
		"images": 12, "allowed": 6, "own": 6, "blocked": 6}
	if fmt.Sprint(doc.Totals) != fmt.Sprint(want) {
		t.Errorf("totals = %v, want %v", doc.Totals, want)
	}
	if doc.BlockedByOwner[acctOther] != 6 || doc.BlockedByAccount[acctMe] != 6 {
		t.Errorf("charts: %v %v", doc.BlockedByOwner, doc.BlockedByAccount)
	}

	// CSV: a header, then one row per blocked image, naming account,
	// region and image id.
	env = e.scopeEnvFor(t, &scopePlan{Plan: orgscan.Plan{Regions: scopeRegions}, csv: true}, 2)
	code, out, errOut = runScoped(ctxT(t), env, simulateScopeCommand(simOpts(t, now)))
	wantCode(t, code, 0, out, errOut)
	recs, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil {
		t.Fatalf("CSV: %v\n%s", err, out)
	}
	if strings.Join(recs[0], ",") != strings.Join(rpt.CSVColumns, ",") {
		t.Errorf("header = %v", recs[0])
	}
	if len(recs) != 7 {
		t.Fatalf("%d CSV records, want header + 6:\n%s", len(recs), out)
	}
	ids := map[string]bool{}
	for _, s := range doc.Scopes {
		for _, it := range s.Items {
			ids[s.Region+" "+it.ImageID] = true
		}
	}
	for _, r := range recs[1:] {
		if r[0] != acctMe || r[2] != "image" || !ids[r[1]+" "+r[3]] || r[5] != acctOther || r[8] != "blocked" {
			t.Errorf("CSV row %v does not match a blocked image of the JSON", r)
		}
	}
}

func TestScopedThrottledRegionIsIsolated(t *testing.T) {
	e := newEmu(t)
	now := e.seedRegions(2)
	// eu-west-1 answers every call with RequestLimitExceeded.
	if err := e.Emulator.SetFaults(ec2emu.Faults{ThrottleRate: 1, Regions: []string{"eu-west-1"}}); err != nil {
		t.Fatal(err)
	}
	env := e.scopeEnvFor(t, &scopePlan{Plan: orgscan.Plan{Regions: scopeRegions}, json: true}, 2)
	code, out, errOut := runScoped(ctxT(t), env, simulateScopeCommand(simOpts(t, now)))
	wantCode(t, code, 1, out, errOut)
	doc := decodeScoped(t, out)
	if idx := byRegion(doc); len(doc.Scopes) != 2 || len(idx) != 2 || doc.Scopes[idx["us-east-1"]].Region != "us-east-1" || doc.Scopes[idx["ap-southeast-2"]].Region != "ap-southeast-2" {
		t.Fatalf("finished scopes: %+v", doc.Scopes)
	}
	for _, s := range doc.Scopes {
		if s.Totals["images"] != 4 || s.Totals["blocked"] != 2 {
			t.Errorf("scope %s incomplete: %v", s.Region, s.Totals)
		}
	}
	if len(doc.Failures) != 1 || doc.Failures[0].Region != "eu-west-1" || !strings.Contains(doc.Failures[0].Error, "RequestLimitExceeded") {
		t.Fatalf("failures = %+v", doc.Failures)
	}
	if doc.Totals["scopes_failed"] != 1 || doc.Totals["scopes_ok"] != 2 || doc.Totals["images"] != 8 {
		t.Errorf("totals = %v", doc.Totals)
	}
	wantContains(t, "stderr", errOut, "111122223333 eu-west-1: describing images in eu-west-1:", "1 of 3 account-regions failed")
	// The throttled account-region was retried (3 attempts) and slowed
	// down; the others were asked once per read (not public, public).
	st := e.Emulator.Stats()
	if st.Regions["eu-west-1"]["DescribeImages"] < 3 || st.Regions["us-east-1"]["DescribeImages"] != 2 {
		t.Errorf("calls per region: %v", st.Regions)
	}
	if r := env.Rate(acctMe, "eu-west-1"); r >= orgscan.PacerMaxRate {
		t.Errorf("the throttled account-region's pacer did not slow down: %v", r)
	}
	if r := env.Rate(acctMe, "us-east-1"); r != orgscan.PacerMaxRate {
		t.Errorf("an unthrottled account-region's pacer slowed down: %v", r)
	}
}

func TestScopedInterruptPrintsFinished(t *testing.T) {
	e := newEmu(t)
	now := e.seedRegions(1)
	// ap-southeast-2 hangs (10 min of latency); the others answer at once.
	if err := e.Emulator.SetFaults(ec2emu.Faults{Latency: 10 * time.Minute, Regions: []string{"ap-southeast-2"}}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(ctxT(t))
	env := e.scopeEnvFor(t, &scopePlan{Plan: orgscan.Plan{Regions: []string{"us-east-1", "ap-southeast-2", "eu-west-1"}, Concurrency: 2}}, 2)
	go func() {
		// Cancel once us-east-1 and eu-west-1 are done.
		for e.Emulator.Stats().Regions["eu-west-1"]["DescribeImages"] == 0 {
			time.Sleep(10 * time.Millisecond)
		}
		time.Sleep(200 * time.Millisecond)
		cancel()
	}()
	start := time.Now()
	code, out, errOut := runScoped(ctx, env, simulateScopeCommand(simOpts(t, now)))
	if d := time.Since(start); d > 30*time.Second {
		t.Errorf("interrupted run took %v", d)
	}
	wantCode(t, code, 1, out, errOut)
	wantContains(t, "stdout", out,
		"  us-east-1: 2 images: 1 allowed (1 own), 1 blocked\n",
		"  ap-southeast-2: INTERRUPTED: not finished\n",
		"  eu-west-1: 2 images: 1 allowed (1 own), 1 blocked\n",
		"Total: 3 account-regions in 1 accounts (2 ok, 0 failed, 1 unfinished): 4 images",
		"Interrupted; not finished (1): 111122223333: ap-southeast-2\n")
	wantContains(t, "stderr", errOut, "interrupted: 2 of 3 account-regions finished")
}

func TestScopedInspectAndVerify(t *testing.T) {
	e := newEmu(t)
	e.seedLineage()
	// inspect: an AMI without a region is looked up in every region; one
	// with a region only there.
	env := e.scopeEnvFor(t, &scopePlan{Plan: orgscan.Plan{Regions: []string{regionEast, regionWest}}, json: true}, 2)
	refs, err := scopedRefs([]string{amiGolden, regionWest + ":" + amiCopy})
	if err != nil {
		t.Fatal(err)
	}
	code, out, errOut := runScoped(ctxT(t), env, inspectScopeCommand(refs, e.Emulator.Now()))
	wantCode(t, code, 0, out, errOut)
	doc := decodeScoped(t, out)
	if len(doc.Scopes) != 2 {
		t.Fatalf("scopes: %+v", doc.Scopes)
	}
	idx := byRegion(doc)
	east, west := doc.Scopes[idx[regionEast]], doc.Scopes[idx[regionWest]]
	if east.Region != regionEast || east.Totals["amis"] != 1 || east.Totals["unknown"] != 1 || east.Items[0].ImageID != amiGolden ||
		strings.Join(east.Items[0].Watermarks, ",") != acctMe+":golden-base" {
		t.Errorf("us-east-1: %+v", east)
	}
	if west.Region != regionWest || west.Totals["amis"] != 2 || west.Totals["not_found"] != 1 || west.Totals["unknown"] != 1 {
		t.Errorf("eu-west-1: %+v", west)
	}

	// verify: failures make the run exit 1, and the CSV lists them.
	refs, _ = scopedRefs([]string{amiGolden, amiBare})
	o, err := verifyFlags([]string{acctMe + ":golden-*"}, "", "", "any", "", "", "", false)
	if err != nil {
		t.Fatal(err)
	}
	env = e.scopeEnvFor(t, &scopePlan{Plan: orgscan.Plan{Regions: []string{regionEast}}, csv: true}, 2)
	code, out, errOut = runScoped(ctxT(t), env, verifyScopeCommand(refs, o, map[string]any{}))
	wantCode(t, code, 1, out, errOut)
	recs, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil || len(recs) != 2 || recs[1][3] != amiBare || recs[1][8] != "failed" || !strings.Contains(recs[1][9], "no watermark matches") {
		t.Errorf("CSV = %v, %v", recs, err)
	}
}

func TestScopedHTMLFile(t *testing.T) {
	e := newEmu(t)
	now := e.seedRegions(2)
	path := filepath.Join(t.TempDir(), "report.html")
	env := e.scopeEnvFor(t, &scopePlan{Plan: orgscan.Plan{Regions: scopeRegions}, html: path}, 2)
	code, out, errOut := runScoped(ctxT(t), env, simulateScopeCommand(simOpts(t, now)))
	wantCode(t, code, 0, out, errOut)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	page := string(b)
	wantContains(t, "page", page, `<td class="num" data-total="blocked">6</td>`, `<td class="num" data-total="images">12</td>`,
		`id="chart-by-owner"`, `data-label="444455556666" data-count="6"`, `<table class="account-table" data-account="111122223333">`,
		"default-src 'none'")
	for _, bad := range []string{"<script", "http://", "https://", "src="} {
		if strings.Contains(strings.ReplaceAll(page, `xmlns="http://www.w3.org/2000/svg"`, ""), bad) {
			t.Errorf("page contains %q: it must not fetch or run anything", bad)
		}
	}
	// No temporary file is left next to the report.
	ents, _ := os.ReadDir(filepath.Dir(path))
	if len(ents) != 1 {
		t.Errorf("files next to the report: %v", ents)
	}
}

func TestScopedProgressThrottled(t *testing.T) {
	e := newEmu(t)
	now := e.seedRegions(1)
	if err := e.Emulator.SetFaults(ec2emu.Faults{Latency: 150 * time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	old := progressLog
	progressLog = 100 * time.Millisecond
	defer func() { progressLog = old }()
	env := e.scopeEnvFor(t, &scopePlan{Plan: orgscan.Plan{Regions: scopeRegions, Concurrency: 1}, csv: true}, 2)
	code, out, errOut := runScoped(ctxT(t), env, simulateScopeCommand(simOpts(t, now)))
	wantCode(t, code, 0, out, errOut)
	ls := lines(errOut)
	if len(ls) < 3 {
		t.Fatalf("%d progress lines over a run of 3 × 150 ms with a line every 100 ms:\n%s", len(ls), errOut)
	}
	for _, l := range ls {
		if !strings.HasPrefix(l, "amiwatermark simulate: ") || !strings.Contains(l, "account-regions done") || !strings.Contains(l, "ETA") {
			t.Errorf("progress line %q", l)
		}
	}
	if last := ls[len(ls)-1]; !strings.Contains(last, "3/3 account-regions done (0 failed), 6 images scanned, 3 blocked so far, ETA 0s") {
		t.Errorf("last progress line %q", last)
	}
	// On stdout only the CSV.
	if !strings.HasPrefix(out, strings.Join(rpt.CSVColumns, ",")+"\n") || strings.Contains(out, "amiwatermark") {
		t.Errorf("stdout:\n%s", out)
	}
}

// FuzzScopeFlagsPlan: any flag values either make a plan whose regions and
// accounts are well formed, or a usage error; nothing panics.
func FuzzScopeFlagsPlan(f *testing.F) {
	f.Add("us-east-1,eu-west-1", "111122223333", "Audit", "ext-1", 4)
	f.Add("all", "org", "path/Role", "", 16)
	f.Add(",,", "org,1", "a b", "x", 0)
	f.Fuzz(func(t *testing.T, regions, accounts, role, ext string, conc int) {
		sf := scopeFlags{regions: regions, accounts: accounts, roleName: role, externalID: ext, concurrency: conc,
			set: map[string]bool{"regions": true, "accounts": true, "role-name": role != "", "external-id": ext != ""}}
		p, err := sf.plan(false)
		if err != nil {
			if _, ok := err.(*usageError); !ok {
				t.Fatalf("not a usage error: %v", err)
			}
			return
		}
		for _, r := range p.Regions {
			if !amiref.ValidRegion(r) {
				t.Errorf("region %q accepted", r)
			}
		}
		for _, a := range p.Accounts {
			if len(a) != 12 || strings.Trim(a, "0123456789") != "" {
				t.Errorf("account %q accepted", a)
			}
		}
		if p.RoleName != "" && !validRoleName(p.RoleName) {
			t.Errorf("role %q accepted", p.RoleName)
		}
		if p.Org && p.RoleName == "" {
			t.Error("org without a role accepted")
		}
		if p.Concurrency < 1 || p.Concurrency > orgscan.MaxConcurrency {
			t.Errorf("concurrency %d accepted", p.Concurrency)
		}
	})
}
