package main

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/amiwatermark/packer-plugin-amiwatermark/internal/ec2emu"
)

// Shards end to end against the emulator: N runs with --shard I/N and
// amiwatermark report over their --json results give the report of one
// run over all accounts. Equality is semantic: the same scopes (each with
// the same totals and items), the same totals, charts and failures; the
// order of the scopes is the order they finished in.

var shardAccounts = []string{"600000000005", "600000000001", "600000000004", "600000000002", "600000000003", acctThird}

// seedShardOrg seeds each account's own image, a vendor's public image
// per region, and an image of the first account shared with the second.
func seedShardOrg(o *orgEmu) string {
	regions := []string{regionEast, regionWest}
	now := o.seedAccounts(regions, shardAccounts...)
	o.seed(ec2emu.SeedImage{Region: regionEast, Account: shardAccounts[0], Name: "shared-1", CreationDate: ts(now.Add(-testDay)),
		SharedWith: []string{shardAccounts[1]}})
	// acctThird refuses AssumeRole: a failure that the merge keeps.
	if err := o.Emulator.ApplySeed(ec2emu.Seed{Accounts: []ec2emu.SeedAccount{{ID: acctThird, RefuseAssumeRole: true}}}); err != nil {
		o.t.Fatal(err)
	}
	return ts(now)
}

func shardArgs(crit, at string, extra ...string) []string {
	return append([]string{"simulate", "--criteria", crit, "--at", at, "--regions", regionEast + "," + regionWest,
		"--accounts", strings.Join(shardAccounts, ","), "--role-name", "Audit"}, extra...)
}

// canonical is a result document with its scopes and failures sorted, and
// without what differs between runs (time, shard).
func canonical(t *testing.T, s string) string {
	t.Helper()
	doc := decodeScoped(t, s)
	sort.Slice(doc.Scopes, func(i, j int) bool {
		return doc.Scopes[i].Account+doc.Scopes[i].Region < doc.Scopes[j].Account+doc.Scopes[j].Region
	})
	for _, sc := range doc.Scopes {
		sort.Slice(sc.Items, func(i, j int) bool { return sc.Items[i].ImageID < sc.Items[j].ImageID })
	}
	doc.ElapsedSeconds = 0
	delete(doc.Parameters, "shard")
	b, err := json.MarshalIndent(doc, "", " ")
	if err != nil {
		t.Fatal(err)
	}
	return noRequestIDs(string(b))
}

var requestIDRE = regexp.MustCompile(`RequestID: [0-9a-f-]+`)

// noRequestIDs drops the request ids of quoted AWS errors (every call has
// its own).
func noRequestIDs(s string) string { return requestIDRE.ReplaceAllString(s, "RequestID: -") }

func sortedCSV(t *testing.T, s string) string {
	t.Helper()
	recs, err := csv.NewReader(strings.NewReader(s)).ReadAll()
	if err != nil {
		t.Fatalf("CSV: %v\n%s", err, s)
	}
	var rows []string
	for _, r := range recs {
		rows = append(rows, strings.Join(r, ","))
	}
	slices.Sort(rows[1:])
	return strings.Join(rows, "\n")
}

func TestShardsMergeToTheFullRun(t *testing.T) {
	o := newOrgEmu(t)
	at := seedShardOrg(o)
	crit := writeFile(t, "policy.json", simCriteria)
	dir := t.TempDir()
	code, full, errOut := o.cli(shardArgs(crit, at, "--json")...)
	wantCode(t, code, 1, full, errOut) // acctThird refuses AssumeRole
	var files []string
	sorted := slices.Sorted(slices.Values(shardAccounts))
	for i := 1; i <= 3; i++ {
		code, out, errOut := o.cli(shardArgs(crit, at, "--json", "--shard", fmt.Sprintf("%d/3", i))...)
		doc := decodeScoped(t, out)
		want := []string{sorted[i-1], sorted[i+2]} // positions i-1 and i-1+3
		for _, sc := range doc.Scopes {
			if !slices.Contains(want, sc.Account) {
				t.Errorf("shard %d/3 ran account %s, want only %v", i, sc.Account, want)
			}
		}
		if doc.Parameters["shard"] != fmt.Sprintf("%d/3", i) {
			t.Errorf("shard %d/3: parameters %v", i, doc.Parameters)
		}
		if slices.Contains(want, acctThird) {
			wantCode(t, code, 1, out, errOut)
		} else {
			wantCode(t, code, 0, out, errOut)
		}
		files = append(files, filepath.Join(dir, fmt.Sprintf("shard-%d.json", i)))
		if err := os.WriteFile(files[i-1], []byte(out), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	code, merged, errOut := runCLI(append([]string{"report", "--json"}, files...)...)
	wantCode(t, code, 1, merged, errOut) // the refused account stays a failure
	if a, b := canonical(t, merged), canonical(t, full); a != b {
		t.Errorf("3 shards merged:\n%s\none run:\n%s", a, b)
	}
	wantContains(t, "stderr", errOut, acctThird+" us-east-1: assuming")

	// CSV and text: the same rows and totals as one run.
	_, fullCSV, _ := o.cli(shardArgs(crit, at, "--csv")...)
	_, mergedCSV, _ := runCLI(append([]string{"report", "--csv"}, files...)...)
	if a, b := sortedCSV(t, mergedCSV), sortedCSV(t, fullCSV); a != b {
		t.Errorf("merged CSV:\n%s\none run's:\n%s", a, b)
	}
	_, fullText, _ := o.cli(shardArgs(crit, at)...)
	_, mergedText, _ := runCLI(append([]string{"report"}, files...)...)
	total := func(s string) string { return noRequestIDs(s[strings.Index(s, "\nTotal: "):]) }
	if total(mergedText) != total(fullText) {
		t.Errorf("merged totals:\n%s\none run's:\n%s", total(mergedText), total(fullText))
	}
	// HTML from the merge.
	page := filepath.Join(dir, "merged.html")
	code, _, errOut = runCLI(append([]string{"report", "--html", page}, files...)...)
	wantCode(t, code, 1, "", errOut)
	b, err := os.ReadFile(page)
	if err != nil {
		t.Fatal(err)
	}
	wantContains(t, "merged page", string(b), `data-total="accounts">6<`, `data-total="scopes_failed">2<`)
}

func TestReportRefusesResultsThatDoNotFit(t *testing.T) {
	o := newOrgEmu(t)
	at := seedShardOrg(o)
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	run := func(name string, args ...string) string {
		_, out, _ := o.cli(args...)
		decodeScoped(t, out)
		return write(name, out)
	}
	crit := writeFile(t, "policy.json", simCriteria)
	other := writeFile(t, "other.json", `[{"ImageProviders":["amazon"]}]`)
	s1 := run("s1.json", shardArgs(crit, at, "--json", "--shard", "1/2")...)
	s2 := run("s2.json", shardArgs(crit, at, "--json", "--shard", "2/2")...)
	s2other := run("s2-other.json", shardArgs(other, at, "--json", "--shard", "2/2")...)
	insp := run("inspect.json", "inspect", "--json", "--regions", regionEast, "ami-0123456789abcdef0")
	for _, c := range []struct {
		files []string
		want  string
	}{
		{[]string{s1, s2other}, s1 + " and " + s2other + " are results of different criteria"},
		{[]string{s1, insp}, s1 + " and " + insp + " are results of different commands (simulate, inspect)"},
		{[]string{s1, s1}, s1 + " and " + s1 + " both have account"},
		{[]string{s1, write("bad.json", `{"command": "simulate", "x": 1}`)}, "is not a result of amiwatermark --json"},
		{[]string{s1, filepath.Join(dir, "missing.json")}, "cannot read the result"},
		{nil, "give the --json results to merge"},
	} {
		code, out, errOut := runCLI(append([]string{"report"}, c.files...)...)
		wantCode(t, code, 2, out, errOut)
		wantContains(t, "stderr", errOut, c.want)
		if out != "" {
			t.Errorf("report %v wrote %q before refusing", c.files, out)
		}
	}
	if code, out, errOut := runCLI("report", "--json", s1, s2); code != 1 { // acctThird's failure is in one shard
		t.Errorf("report of two fitting shards: exit %d\n%s\n%s", code, out, errOut)
	}
	// Shards evaluated at different times (no --at) still merge.
	later := run("s2-later.json", "simulate", "--criteria", crit, "--regions", regionEast+","+regionWest,
		"--accounts", strings.Join(shardAccounts, ","), "--role-name", "Audit", "--json", "--shard", "2/2")
	if code, out, errOut := runCLI("report", s1, later); code != 1 || !strings.Contains(out, "Total: 12 account-regions in 6 accounts") {
		t.Errorf("report of shards at two times: exit %d\n%s\n%s", code, out, errOut)
	}
}

func TestShardFlagUsageErrors(t *testing.T) {
	o := newOrgEmu(t)
	crit := writeFile(t, "policy.json", simCriteria)
	for _, bad := range []string{"0/3", "4/3", "x/y", "1/0", "", "2"} {
		code, out, errOut := o.cli("simulate", "--criteria", crit, "--regions", regionEast, "--shard", bad)
		wantCode(t, code, 2, out, errOut)
		wantContains(t, "stderr", errOut, "--shard: ", "is not a shard: write I/N")
	}
}

// The two recipes of docs/cli.md ("Shards") are complete: the CI matrix
// runs N shard jobs and one merge job, the state machine is valid JSON with
// a Distributed Map of shard tasks and a merge task.
func TestShardRecipesInTheDocs(t *testing.T) {
	b, err := os.ReadFile("../../docs/cli.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	block := func(after, lang string) string {
		i := strings.Index(doc, after)
		if i < 0 {
			t.Fatalf("docs/cli.md has no %q", after)
		}
		start := strings.Index(doc[i:], "```"+lang+"\n") + i + len(lang) + 4
		return doc[start : start+strings.Index(doc[start:], "```")]
	}
	yaml := block("**A CI matrix**", "yaml")
	for _, want := range []string{"matrix: {shard: [1, 2, 3, 4]}", `--shard "${{ matrix.shard }}/4" --json`, "needs: shard",
		"amiwatermark report --html report.html shard-*.json", `--at "${{ needs.at.outputs.at }}"`} {
		if !strings.Contains(yaml, want) {
			t.Errorf("the CI recipe lacks %q", want)
		}
	}
	var sm struct {
		StartAt string
		States  map[string]struct {
			Type          string
			Next          string
			ItemProcessor struct {
				ProcessorConfig struct{ Mode string }
				States          map[string]json.RawMessage
			}
			Parameters json.RawMessage
		}
	}
	if err := json.Unmarshal([]byte(block("**A Step Functions Distributed Map**", "json")), &sm); err != nil {
		t.Fatalf("the state machine is not JSON: %v", err)
	}
	m, merge := sm.States[sm.StartAt], sm.States["Merge"]
	if m.Type != "Map" || m.ItemProcessor.ProcessorConfig.Mode != "DISTRIBUTED" || m.Next != "Merge" || merge.Type != "Task" {
		t.Errorf("state machine: %+v", sm)
	}
	if shard := string(m.ItemProcessor.States["Shard"]); !strings.Contains(shard, "--shard {}/{} --json") {
		t.Errorf("the shard task does not run a shard: %s", shard)
	}
	if !strings.Contains(string(merge.Parameters), "amiwatermark report --html") {
		t.Errorf("the merge task does not run report: %s", merge.Parameters)
	}
}
