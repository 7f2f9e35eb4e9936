package main

import (
	"bufio"
	"errors"
	"fmt"
	"html/template"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// htmlReport writes --html FILE: one self-contained page (no scripts, no
// fetches: a Content-Security-Policy forbids them) with the totals, a
// chart of blocked images by owner and by account (inline SVG), the failed
// account-regions and a table per account. The account tables are written
// to a temporary file as the scopes finish; at the end the page is
// assembled next to FILE and renamed onto it.
type htmlReport struct {
	path    string
	body    *os.File
	bw      *bufio.Writer
	h       *reportHeader
	account string
	done    bool
	tmpPage string
}

func newHTMLReport(path string) (*htmlReport, error) {
	if err := checkOutputFile(path); err != nil {
		return nil, err
	}
	f, err := os.CreateTemp("", "amiwatermark-html-*.part")
	if err != nil {
		return nil, err
	}
	return &htmlReport{path: path, body: f, bw: bufio.NewWriter(f)}, nil
}

func (h *htmlReport) begin(head *reportHeader) error {
	h.h = head
	return nil
}

// htmlCols are the columns of an account table.
func (h *htmlReport) countCols() []string { return h.h.cmd.countKeys }

var htmlAccountOpen = template.Must(template.New("a").Parse(`<section class="account" id="account-{{.Account}}">
<h3>Account {{.Account}}</h3>
<table class="account-table" data-account="{{.Account}}">
<thead><tr><th>Region</th><th>Status</th>{{range .Cols}}<th>{{.}}</th>{{end}}</tr></thead>
<tbody>
`))

var htmlScopeRow = template.Must(template.New("r").Parse(`<tr data-region="{{.Region}}" class="{{.Class}}"><td>{{.Region}}</td><td>{{.Status}}</td>{{if .Error}}<td colspan="{{.NCols}}">{{.Error}}</td>{{else}}{{range .Values}}<td class="num">{{.}}</td>{{end}}{{end}}</tr>
`))

func (h *htmlReport) scope(r *scopeResult) error {
	if r.Account != h.account {
		if h.account != "" {
			h.bw.WriteString("</tbody></table></section>\n")
		}
		h.account = r.Account
		if err := htmlAccountOpen.Execute(h.bw, map[string]any{"Account": r.Account, "Cols": h.countCols()}); err != nil {
			return err
		}
	}
	row := map[string]any{"Region": r.Region, "Status": r.Status, "Class": strings.ReplaceAll(r.Status, " ", "-"),
		"NCols": len(h.countCols()), "Error": ""}
	switch r.Status {
	case scopeOK:
		var vals []int
		for _, k := range h.countCols() {
			vals = append(vals, r.Counts[k])
		}
		row["Values"] = vals
	case scopeFailed:
		row["Error"] = redact(r.Error) // the file is not written through the redacting stdout
	default:
		row["Error"] = "not finished (interrupted)"
	}
	return htmlScopeRow.Execute(h.bw, row)
}

// chartBar is one bar of a chart.
type chartBar struct {
	Label string
	N     int
	Y     int
	W     int
	TextY int
}

type chart struct {
	ID     string
	Title  string
	Height int
	Bars   []chartBar
	Empty  bool
}

// maxBars is how many bars a chart draws; the rest are summed in one bar.
const maxBars = 25

func newChart(id, title string, m map[string]int, othersLabel string) chart {
	list := sortedCounts(m)
	if len(list) > maxBars {
		rest := 0
		for _, e := range list[maxBars-1:] {
			rest += e.N
		}
		n := len(list) - (maxBars - 1)
		list = append(list[:maxBars-1:maxBars-1], kvCount{fmt.Sprintf("%d other %s", n, othersLabel), rest})
	}
	c := chart{ID: id, Title: title, Empty: len(list) == 0}
	max := 1
	for _, e := range list {
		if e.N > max {
			max = e.N
		}
	}
	const barH, gap, width = 18, 6, 460
	for i, e := range list {
		y := 10 + i*(barH+gap)
		w := e.N * width / max
		if w < 1 {
			w = 1
		}
		c.Bars = append(c.Bars, chartBar{Label: e.K, N: e.N, Y: y, W: w, TextY: y + 13})
	}
	c.Height = 20 + len(list)*(barH+gap)
	return c
}

var htmlPage = template.Must(template.New("page").Funcs(template.FuncMap{
	"add": func(a, b int) int { return a + b },
}).Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>amiwatermark {{.Command}} across {{.Totals.accounts}} accounts</title>
<style>
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:2em;color:#1d2330;max-width:1100px}
h1{font-size:1.5em}h2{font-size:1.2em;margin-top:2em;border-bottom:1px solid #ccd}h3{font-size:1.05em;margin-bottom:.3em}
table{border-collapse:collapse;margin:.3em 0 1em}th,td{border:1px solid #ccd;padding:.25em .6em;text-align:left}
th{background:#eef0f6}td.num{text-align:right;font-variant-numeric:tabular-nums}
tr.failed td{background:#fde8e8}tr.interrupted td,tr.not-started td{background:#fff6dd}
.totals td{font-size:1.2em;font-weight:600}.meta{color:#556}
.charts{display:flex;flex-wrap:wrap;gap:2em}.chart text{font-size:12px;fill:#1d2330}.chart rect{fill:#c0392b}
.warn{background:#fff6dd;padding:.5em 1em;border-left:4px solid #e0a800}
</style>
</head>
<body>
<h1>amiwatermark {{.Command}} across {{.Totals.accounts}} accounts</h1>
<p class="meta">Run by {{.Caller}} at {{.Started}} ({{.Elapsed}}).{{range .Params}} {{.K}}: <code>{{.V}}</code>.{{end}}</p>
{{if .Interrupted}}<p class="warn" id="interrupted">Interrupted: {{.Totals.scopes_unfinished}} account-regions did not finish; the totals count the finished ones only.</p>{{end}}
<h2>Totals</h2>
<table class="totals" id="totals">
<thead><tr>{{range .TotalCols}}<th>{{.}}</th>{{end}}</tr></thead>
<tbody><tr>{{range .TotalVals}}<td class="num" data-total="{{.K}}">{{.N}}</td>{{end}}</tr></tbody>
</table>
<h2>Blocked images</h2>
<div class="charts">
{{range .Charts}}<figure class="chart" id="{{.ID}}"><figcaption>{{.Title}}</figcaption>
{{if .Empty}}<p>None.</p>{{else}}<svg xmlns="http://www.w3.org/2000/svg" width="760" height="{{.Height}}" role="img" aria-label="{{.Title}}">
{{range .Bars}}<g class="bar" data-label="{{.Label}}" data-count="{{.N}}"><text x="0" y="{{.TextY}}">{{.Label}}</text><rect x="230" y="{{.Y}}" width="{{.W}}" height="18"></rect><text x="{{add .W 236}}" y="{{.TextY}}">{{.N}}</text></g>
{{end}}</svg>{{end}}</figure>
{{end}}</div>
{{if .Failures}}<h2>Failed account-regions</h2>
<table id="failures"><thead><tr><th>Account</th><th>Region</th><th>Error</th></tr></thead><tbody>
{{range .Failures}}<tr><td>{{.Account}}</td><td>{{.Region}}</td><td>{{.Error}}</td></tr>
{{end}}</tbody></table>{{end}}
<h2>Accounts</h2>
`))

func (h *htmlReport) end(s *reportSummary) error {
	if h.account != "" {
		h.bw.WriteString("</tbody></table></section>\n")
	}
	if err := h.bw.Flush(); err != nil {
		return err
	}
	keys := append([]string{"accounts", "scopes", "scopes_ok", "scopes_failed", "scopes_unfinished"}, h.h.cmd.countKeys...)
	var vals []kvCount
	for _, k := range keys {
		vals = append(vals, kvCount{k, s.Totals[k]})
	}
	var params []kvCount2
	for k, v := range h.h.Params {
		params = append(params, kvCount2{k, fmt.Sprint(v)})
	}
	sort.Slice(params, func(i, j int) bool { return params[i].K < params[j].K })
	data := map[string]any{
		"Command": h.h.Command, "Totals": s.Totals, "Caller": h.h.Caller.ARN,
		"Started": h.h.Started.Format(time.RFC3339), "Elapsed": s.Elapsed.Round(time.Millisecond).String(),
		"Params": params, "Interrupted": s.Interrupted, "TotalCols": keys, "TotalVals": vals,
		"Charts": []chart{
			newChart("chart-by-owner", "Blocked images by owner", s.BlockedByOwner, "owners"),
			newChart("chart-by-account", "Blocked images by account", s.BlockedByAccount, "accounts"),
		},
		"Failures": redactFailures(s.Failures),
	}
	f, err := os.CreateTemp(filepath.Dir(h.path), "."+filepath.Base(h.path)+".*.tmp")
	if err != nil {
		return err
	}
	h.tmpPage = f.Name()
	w := bufio.NewWriter(f)
	if err := htmlPage.Execute(w, data); err != nil {
		f.Close()
		return err
	}
	if _, err := h.body.Seek(0, io.SeekStart); err != nil {
		f.Close()
		return err
	}
	if _, err := io.Copy(w, h.body); err != nil {
		f.Close()
		return err
	}
	w.WriteString("</body>\n</html>\n")
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

type kvCount2 struct{ K, V string }

// commit moves the assembled page onto FILE.
func (h *htmlReport) commit() error {
	if h.tmpPage == "" {
		return fmt.Errorf("the page was not assembled")
	}
	mode := os.FileMode(0o644)
	if st, err := os.Stat(h.path); err == nil && st.Mode().IsRegular() {
		mode = st.Mode().Perm() // replacing a file keeps its mode (a 0600 report stays 0600)
	}
	if err := os.Chmod(h.tmpPage, mode); err != nil {
		return err
	}
	if err := os.Rename(h.tmpPage, h.path); err != nil {
		return err
	}
	h.tmpPage = ""
	h.done = true
	return nil
}

// checkOutputFile checks, before any AWS call, that a report can be
// written to path: not a directory, in a directory that exists and where
// a file can be created (the page is written next to path, then renamed
// onto it). The error says what is wrong.
func checkOutputFile(path string) error {
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		return fmt.Errorf("%s is a directory: give a file name, for example %s", path, filepath.Join(path, "report.html"))
	} else if err == nil && !st.Mode().IsRegular() {
		return fmt.Errorf("%s is not a regular file: give the name of a file to write", path)
	}
	dir := filepath.Dir(path)
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return fmt.Errorf("the directory %s does not exist", dir)
	}
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return fmt.Errorf("cannot write in the directory %s: %v", dir, errors.Unwrap(err))
	}
	f.Close()
	return os.Remove(f.Name())
}

// abort removes the temporary files.
func (h *htmlReport) abort() {
	h.body.Close()
	os.Remove(h.body.Name())
	if h.tmpPage != "" {
		os.Remove(h.tmpPage)
	}
}

func redactFailures(in []scopeFailure) []scopeFailure {
	out := make([]scopeFailure, len(in))
	for i, f := range in {
		f.Error = redact(f.Error)
		out[i] = f
	}
	return out
}
