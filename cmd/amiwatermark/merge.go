package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"reflect"
	"strings"
	"time"

	"github.com/amiwatermark/packer-plugin-amiwatermark/internal/orgscan"
	rpt "github.com/amiwatermark/packer-plugin-amiwatermark/internal/report"
	"github.com/amiwatermark/packer-plugin-amiwatermark/internal/watermark"
)

const reportUsage = `Usage: amiwatermark report [--csv | --json] [--html FILE] RESULT.json...

Merges the --json results of shard runs (simulate, inspect or verify with
--shard I/N) into the report one run over all of them would give: the same
rows and the same totals, as text (default), CSV (--csv), one JSON document
(--json, itself a result report can merge again) and --html FILE. The
account-regions are written file by file, in each file's order.

Results of different commands or different criteria are refused (exit 2,
naming the files): the command, its count keys and its parameters must be
equal, but for --shard, --at (give every shard the same --at to evaluate
them at one time) and the criteria file's name (the criteria count, by the
SHA-256 of their JSON). An account-region found in two results is refused
too.

Exit 0 when every merged run was complete, 1 when one of them had a failed or
unfinished account-region (or verify a failed AMI), 2 on a usage error (a
file that cannot be read, is not a result, or does not fit the others).
`

func runReport(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("report", reportUsage, stderr)
	var asCSV, asJSON bool
	var html string
	fs.BoolVar(&asCSV, "csv", false, "print CSV: one row per blocked image or instance (or failed AMI), with a header row")
	fs.BoolVar(&asJSON, "json", false, "print one JSON document (the form of --json)")
	fs.StringVar(&html, "html", "", "also write a self-contained HTML report to FILE")
	pos, code, ok := parseCommandLine(fs, args, stdout, stderr)
	if !ok {
		return code
	}
	switch {
	case len(pos) == 0:
		return report(stderr, "report", usagef("give the --json results to merge: amiwatermark report shard-1.json shard-2.json"))
	case asCSV && asJSON:
		return report(stderr, "report", usagef("--csv and --json are two forms of the same output: give one of them"))
	}
	htmlSet := false
	fs.Visit(func(f *flag.Flag) { htmlSet = htmlSet || f.Name == "html" })
	if htmlSet && strings.TrimSpace(html) == "" {
		return report(stderr, "report", usagef("--html needs a file name: --html report.html"))
	}
	results, err := readResults(pos)
	if err != nil {
		return report(stderr, "report", err)
	}
	return mergeResults(ctx, pos, results, &scopePlan{csv: asCSV, json: asJSON, html: html}, stdout, stderr)
}

// readResults reads every result once (without keeping its rows) and
// checks that they fit together: one command, one set of criteria, no
// account-region twice.
func readResults(paths []string) ([]*rpt.Result, error) {
	var out []*rpt.Result
	seen := map[string]string{} // "account region" -> file
	for _, p := range paths {
		res, err := readResult(p, func(sc *rpt.Scope) error {
			k := sc.Account + " " + sc.Region
			if other, dup := seen[k]; dup {
				return usagef("%s and %s both have account %s in region %s: give each shard's result once (and shards of one --shard I/N split)", other, p, sc.Account, sc.Region)
			}
			seen[k] = p
			return nil
		})
		if err != nil {
			return nil, err
		}
		for _, f := range append(append([]rpt.Failure{}, res.Failures...), res.Unfinished...) {
			seen[f.Account+" "+f.Region] = p
		}
		if len(out) > 0 {
			if why := misfit(out[0], res); why != "" {
				return nil, usagef("%s and %s are results of %s: merge results of one command with the same criteria (the same flags but --shard)", paths[0], p, why)
			}
		}
		out = append(out, res)
	}
	return out, nil
}

// readResult reads one result file, giving its scopes to scope.
func readResult(path string, scope func(*rpt.Scope) error) (*rpt.Result, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, usagef("cannot read the result %s: %v", path, err)
	}
	defer f.Close()
	res, err := rpt.Read(f, scope)
	if _, usage := err.(*usageError); usage {
		return nil, err
	}
	if err != nil {
		return nil, usagef("%s is not a result of amiwatermark --json: %v", path, err)
	}
	return res, nil
}

// misfit says how b differs from a ("" when they merge).
func misfit(a, b *rpt.Result) string {
	switch {
	case a.Command != b.Command:
		return fmt.Sprintf("different commands (%s, %s)", a.Command, b.Command)
	case !reflect.DeepEqual(comparable(a.Params), comparable(b.Params)):
		return fmt.Sprintf("different criteria or parameters (%v; %v)", comparable(a.Params), comparable(b.Params))
	}
	return ""
}

// comparable are the parameters that must be equal: all but the shard, the
// criteria file's name (its SHA-256 is compared) and the time of the
// evaluation (shards run at different times; --at gives them one).
func comparable(p map[string]any) map[string]any {
	out := maps.Clone(p)
	delete(out, "shard")
	delete(out, "criteria_file")
	delete(out, "at")
	return out
}

// mergeResults writes the merged report: the scopes of each file in turn,
// then the failed and unfinished ones, then the totals.
func mergeResults(_ context.Context, paths []string, results []*rpt.Result, p *scopePlan, stdout, stderr io.Writer) int {
	first := results[0]
	params := maps.Clone(first.Params)
	delete(params, "shard")
	cmd, err := mergedCommand(first.Command, params)
	if err != nil {
		return report(stderr, "report", usagef("%s: %v", paths[0], err))
	}
	head := &rpt.Header{Command: cmd.name, Caller: first.Caller, Params: cmd.params, CountKeys: cmd.countKeys, Started: time.Now().UTC()}
	var elapsed float64
	interrupted := false
	for _, r := range results {
		head.Accounts += r.Totals["accounts"]
		elapsed, interrupted = max(elapsed, r.Elapsed), interrupted || r.Interrupted
	}
	out, err := newOutputs(p, stdout)
	if err != nil {
		return report(stderr, "report", err)
	}
	if out.html != nil {
		defer out.html.Abort()
	}
	sum := rpt.NewSummary(cmd.countKeys)
	if err := writeMerged(out, head, sum, paths, results); err != nil {
		return report(stderr, "report", err)
	}
	sum.Interrupted, sum.Elapsed = interrupted, time.Duration(elapsed*float64(time.Second))
	sum.Sort()
	if err := out.end(sum); err != nil {
		return report(stderr, "report", fmt.Errorf("writing the report: %w", err))
	}
	if out.html != nil {
		if err := out.html.Commit(); err != nil {
			return report(stderr, "report", fmt.Errorf("writing --html %s: %w", p.html, err))
		}
	}
	return exitCode(stderr, cmd, sum)
}

// mergedCommand is the command of merged results: its counts and exit
// rules.
func mergedCommand(name string, params map[string]any) (*scopeCommand, error) {
	var c *scopeCommand
	switch name {
	case "simulate":
		c = &scopeCommand{countKeys: keysOf(&simulateOptions{inUse: params["in_use"] == true, compare: params["compare_current"] == true})}
	case "inspect":
		c = inspectScopeCommand(nil, time.Time{})
	case "verify":
		c = verifyScopeCommand(nil, nil, map[string]any{})
	default:
		return nil, fmt.Errorf("a result of %q: report merges results of simulate, inspect and verify", name)
	}
	c.name, c.params = name, params
	return c, nil
}

// writeMerged streams every file's scopes to the outputs, then the failed
// and unfinished account-regions.
func writeMerged(out *outputs, head *rpt.Header, sum *rpt.Summary, paths []string, results []*rpt.Result) error {
	if err := out.begin(head); err != nil {
		return err
	}
	prog := &orgscan.Progress{}
	for _, path := range paths {
		_, err := readResult(path, func(sc *rpt.Scope) error { return out.scope(sum, prog, sc) })
		if err != nil {
			return err
		}
	}
	for _, r := range results {
		for _, f := range r.Failures {
			if err := out.scope(sum, prog, &rpt.Scope{Account: f.Account, Region: f.Region, Status: rpt.StatusFailed, Error: f.Error}); err != nil {
				return err
			}
		}
		for _, f := range r.Unfinished {
			if err := out.scope(sum, prog, &rpt.Scope{Account: f.Account, Region: f.Region, Status: f.Status}); err != nil {
				return err
			}
		}
	}
	return nil
}

// criteriaDigest is the SHA-256 of the criteria as JSON (a result's
// parameter criteria_sha256: report compares criteria by what they say,
// not by the file's name or layout); "" without criteria.
func criteriaDigest(c watermark.Criteria, given bool) string {
	if !given {
		return ""
	}
	b, err := json.Marshal(c)
	if err != nil {
		return ""
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}
