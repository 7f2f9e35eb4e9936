package report

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

// HTMLRowsPerAccount caps the image rows an account's section lists; the
// others are counted ("N more in the CSV").
var HTMLRowsPerAccount = 50

// HTML writes --html FILE: one self-contained page (no scripts, no
// fetches: a Content-Security-Policy forbids them) with the totals, a
// chart of blocked images by owner and by account (inline SVG), the failed
// account-regions and a section per account: its regions, and its first
// HTMLRowsPerAccount blocked rows. Each scope's fragments go to a
// temporary file as it finishes; only their offsets and the per-account
// row counts stay in memory. At the end the page is assembled next to FILE,
// accounts in order, and renamed onto it (Commit).
type HTML struct {
	path    string
	body    *os.File
	off     int64
	frags   map[string]*accountFrags
	h       *Header
	tmpPage string
	// Redact removes credentials from error texts (the file is not
	// written through the redacting stdout).
	Redact func(string) string
}

// span is a fragment of the body file.
type span struct{ off, n int64 }

type accountFrags struct {
	regions, rows []span
	shown, more   int
}

// NewHTML starts a report to path (CheckOutputFile).
func NewHTML(path string) (*HTML, error) {
	if err := CheckOutputFile(path); err != nil {
		return nil, err
	}
	f, err := os.CreateTemp("", "amiwatermark-html-*.part")
	if err != nil {
		return nil, err
	}
	return &HTML{path: path, body: f, frags: map[string]*accountFrags{}, Redact: func(s string) string { return s }}, nil
}

// Begin keeps the header.
func (h *HTML) Begin(head *Header) error {
	h.h = head
	return nil
}

var htmlScopeRow = template.Must(template.New("r").Parse(`<tr data-region="{{.Region}}" class="{{.Class}}"><td>{{.Region}}</td><td>{{.Status}}</td>{{if .Error}}<td colspan="{{.NCols}}">{{.Error}}</td>{{else}}{{range .Values}}<td class="num">{{.}}</td>{{end}}{{end}}</tr>
`))

var htmlItemRow = template.Must(template.New("i").Parse(`<tr class="item"><td>{{.Region}}</td><td>{{.Row.ImageID}}</td><td>{{.Row.InstanceID}}</td><td>{{.Row.OwnerID}}</td><td>{{.Row.OwnerAlias}}</td><td>{{.Row.Name}}</td><td>{{.Row.Status}}</td><td>{{.Row.Reason}}</td></tr>
`))

// write appends a template's output to the body file.
func (h *HTML) write(t *template.Template, data any) (span, error) {
	var b strings.Builder
	if err := t.Execute(&b, data); err != nil {
		return span{}, err
	}
	n, err := h.body.WriteString(b.String())
	s := span{h.off, int64(n)}
	h.off += int64(n)
	return s, err
}

// Scope writes the scope's region row and its blocked rows, up to the
// account's cap.
func (h *HTML) Scope(sc *Scope) error {
	a := h.frags[sc.Account]
	if a == nil {
		a = &accountFrags{}
		h.frags[sc.Account] = a
	}
	row := map[string]any{"Region": sc.Region, "Status": sc.Status, "Class": strings.ReplaceAll(sc.Status, " ", "-"),
		"NCols": len(h.h.CountKeys), "Error": ""}
	switch sc.Status {
	case StatusOK:
		var vals []int
		for _, k := range h.h.CountKeys {
			vals = append(vals, sc.Counts[k])
		}
		row["Values"] = vals
	case StatusFailed:
		row["Error"] = h.Redact(sc.Error)
	default:
		row["Error"] = "not finished (interrupted)"
	}
	s, err := h.write(htmlScopeRow, row)
	if err != nil {
		return err
	}
	a.regions = append(a.regions, s)
	if sc.Status != StatusOK || sc.Rows == nil {
		return nil
	}
	return sc.Rows(func(r Row) error {
		if !r.Blocked {
			return nil
		}
		if a.shown >= HTMLRowsPerAccount {
			a.more++
			return nil
		}
		a.shown++
		s, err := h.write(htmlItemRow, map[string]any{"Region": sc.Region, "Row": r})
		a.rows = append(a.rows, s)
		return err
	})
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
	list := SortedCounts(m)
	if len(list) > maxBars {
		rest := 0
		for _, e := range list[maxBars-1:] {
			rest += e.N
		}
		n := len(list) - (maxBars - 1)
		list = append(list[:maxBars-1:maxBars-1], KV{fmt.Sprintf("%d other %s", n, othersLabel), rest})
	}
	c := chart{ID: id, Title: title, Empty: len(list) == 0}
	top := 1
	for _, e := range list {
		top = max(top, e.N)
	}
	const barH, gap, width = 18, 6, 460
	for i, e := range list {
		y := 10 + i*(barH+gap)
		c.Bars = append(c.Bars, chartBar{Label: e.K, N: e.N, Y: y, W: max(1, e.N*width/top), TextY: y + 13})
	}
	c.Height = 20 + len(list)*(barH+gap)
	return c
}

// End assembles the page next to FILE; Commit moves it there.
func (h *HTML) End(s *Summary) error {
	f, err := os.CreateTemp(filepath.Dir(h.path), "."+filepath.Base(h.path)+".*.tmp")
	if err != nil {
		return err
	}
	h.tmpPage = f.Name()
	w := bufio.NewWriter(f)
	err = htmlPage.Execute(w, h.pageData(s))
	if err == nil {
		err = h.accounts(w)
	}
	if err == nil {
		w.WriteString("</body>\n</html>\n")
		err = w.Flush()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// pageData is what the page's head shows.
func (h *HTML) pageData(s *Summary) map[string]any {
	keys := append(append([]string{}, scopeKeys...), h.h.CountKeys...)
	var vals []KV
	for _, k := range keys {
		vals = append(vals, KV{k, s.Totals[k]})
	}
	var params []KV2
	for k, v := range h.h.Params {
		params = append(params, KV2{k, fmt.Sprint(v)})
	}
	sort.Slice(params, func(i, j int) bool { return params[i].K < params[j].K })
	failures := make([]Failure, len(s.Failures))
	for i, f := range s.Failures {
		f.Error = h.Redact(f.Error)
		failures[i] = f
	}
	return map[string]any{
		"Command": h.h.Command, "Totals": s.Totals, "Caller": h.h.Caller.ARN,
		"Started": h.h.Started.Format(time.RFC3339), "Elapsed": s.Elapsed.Round(time.Millisecond).String(),
		"Params": params, "Interrupted": s.Interrupted, "TotalCols": keys, "TotalVals": vals,
		"Charts": []chart{
			newChart("chart-by-owner", "Blocked images by owner", s.BlockedByOwner, "owners"),
			newChart("chart-by-account", "Blocked images by account", s.BlockedByAccount, "accounts"),
		},
		"Failures": failures,
	}
}

// KV2 is a parameter of the page.
type KV2 struct{ K, V string }

var htmlAccountOpen = template.Must(template.New("a").Parse(`<section class="account" id="account-{{.Account}}">
<h3>Account {{.Account}}</h3>
<table class="account-table" data-account="{{.Account}}">
<thead><tr><th>Region</th><th>Status</th>{{range .Cols}}<th>{{.}}</th>{{end}}</tr></thead>
<tbody>
`))

var htmlRowsOpen = template.Must(template.New("o").Parse(`</tbody></table>
<table class="rows-table" data-account="{{.}}">
<thead><tr><th>Region</th><th>Image</th><th>Instance</th><th>Owner</th><th>Alias</th><th>Name</th><th>Status</th><th>Reason</th></tr></thead>
<tbody>
`))

var htmlMore = template.Must(template.New("m").Parse(`<p class="more" data-account="{{.Account}}">{{.N}} more in the CSV (--csv).</p>
`))

// accounts copies each account's fragments into the page, accounts in
// order.
func (h *HTML) accounts(w io.Writer) error {
	ids := make([]string, 0, len(h.frags))
	for a := range h.frags {
		ids = append(ids, a)
	}
	sort.Strings(ids)
	for _, id := range ids {
		a := h.frags[id]
		if err := htmlAccountOpen.Execute(w, map[string]any{"Account": id, "Cols": h.h.CountKeys}); err != nil {
			return err
		}
		if err := h.copySpans(w, a.regions); err != nil {
			return err
		}
		if len(a.rows) > 0 {
			if err := htmlRowsOpen.Execute(w, id); err != nil {
				return err
			}
			if err := h.copySpans(w, a.rows); err != nil {
				return err
			}
		}
		io.WriteString(w, "</tbody></table>\n")
		if a.more > 0 {
			if err := htmlMore.Execute(w, map[string]any{"Account": id, "N": a.more}); err != nil {
				return err
			}
		}
		io.WriteString(w, "</section>\n")
	}
	return nil
}

func (h *HTML) copySpans(w io.Writer, spans []span) error {
	for _, s := range spans {
		if _, err := io.Copy(w, io.NewSectionReader(h.body, s.off, s.n)); err != nil {
			return err
		}
	}
	return nil
}

// Commit moves the assembled page onto FILE.
func (h *HTML) Commit() error {
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
	return nil
}

// CheckOutputFile checks, before any AWS call, that a report can be
// written to path: not a directory, in a directory that exists and where a
// file can be created (the page is written next to path, then renamed onto
// it). The error says what is wrong.
func CheckOutputFile(path string) error {
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

// Abort removes the temporary files (after Commit: the body's only).
func (h *HTML) Abort() {
	h.body.Close()
	os.Remove(h.body.Name())
	if h.tmpPage != "" {
		os.Remove(h.tmpPage)
	}
}
