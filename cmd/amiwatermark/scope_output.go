package main

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// The outputs of a scoped run. Every writer gets the scopes in output
// order, each once, with its rows streamed from the scope's spool.

type reportWriter interface {
	begin(h *reportHeader) error
	scope(r *scopeResult) error
	end(s *reportSummary) error
}

type reportHeader struct {
	Command  string
	Caller   identity
	Accounts int
	Params   map[string]any
	Started  time.Time
	cmd      *scopeCommand
}

// ---- text

// textReport groups by account, then region, and ends with the totals.
type textReport struct {
	w       io.Writer
	h       *reportHeader
	account string
}

func (t *textReport) begin(h *reportHeader) error {
	t.h = h
	_, err := fmt.Fprintf(t.w, "amiwatermark %s as %s in %d account(s)\n", h.Command, h.Caller.ARN, h.Accounts)
	return err
}

func (t *textReport) scope(r *scopeResult) error {
	bw := bufio.NewWriter(t.w)
	if r.Account != t.account {
		t.account = r.Account
		fmt.Fprintf(bw, "\nAccount %s\n", r.Account)
	}
	switch r.Status {
	case scopeOK:
		fmt.Fprintf(bw, "  %s: %s\n", r.Region, t.h.cmd.summary(r.Counts))
		err := r.rows.each(func(row scopeRow) error {
			_, err := fmt.Fprintf(bw, "    %s\n", rowText(row))
			return err
		})
		if err != nil {
			return err
		}
	case scopeFailed:
		fmt.Fprintf(bw, "  %s: FAILED: %s\n", r.Region, r.Error)
	case scopeInterrupted:
		fmt.Fprintf(bw, "  %s: INTERRUPTED: not finished\n", r.Region)
	default:
		fmt.Fprintf(bw, "  %s: NOT STARTED: interrupted before it began\n", r.Region)
	}
	return bw.Flush()
}

// rowText is one row of the text form.
func rowText(r scopeRow) string {
	var b strings.Builder
	b.WriteString(strings.ToUpper(strings.ReplaceAll(r.Status, " ", "-")))
	if r.Kind == "instance" {
		b.WriteString("-INSTANCE " + r.InstanceID + " image=" + r.ImageID)
	} else {
		b.WriteString(" " + r.ImageID)
	}
	if r.OwnerID != "" || r.OwnerAlias != "" {
		o := r.OwnerID
		if r.OwnerAlias != "" {
			o += "(" + r.OwnerAlias + ")"
		}
		b.WriteString(" owner=" + o)
	}
	if r.Name != "" {
		b.WriteString(" name=" + quoteName(r.Name))
	}
	if len(r.Watermarks) > 0 {
		b.WriteString(" watermarks=" + strings.Join(r.Watermarks, ","))
	}
	if r.Reason != "" {
		b.WriteString(": " + r.Reason)
	}
	return b.String()
}

func (t *textReport) end(s *reportSummary) error {
	bw := bufio.NewWriter(t.w)
	fmt.Fprintf(bw, "\nTotal: %d account-regions in %d accounts (%d ok, %d failed", s.Totals["scopes"], s.Totals["accounts"], s.Totals["scopes_ok"], s.Totals["scopes_failed"])
	if n := s.Totals["scopes_unfinished"]; n > 0 {
		fmt.Fprintf(bw, ", %d unfinished", n)
	}
	fmt.Fprintf(bw, "): %s\n", t.h.cmd.summary(s.Totals))
	if len(s.BlockedByOwner) > 0 {
		fmt.Fprintf(bw, "Blocked by owner: %s\n", countsText(s.BlockedByOwner))
		fmt.Fprintf(bw, "Blocked by account: %s\n", countsText(s.BlockedByAccount))
	}
	if len(s.Failures) > 0 {
		fmt.Fprintf(bw, "Failed account-regions (%d):\n", len(s.Failures))
		for _, f := range s.Failures {
			fmt.Fprintf(bw, "  %s %s: %s\n", f.Account, f.Region, f.Error)
		}
	}
	if len(s.Unfinished) > 0 {
		fmt.Fprintf(bw, "Interrupted; not finished (%d): %s\n", len(s.Unfinished), unfinishedText(s.Unfinished))
	}
	return bw.Flush()
}

// unfinishedText lists account-regions compactly: ACCOUNT: r1, r2; ...
func unfinishedText(list []scopeFailure) string {
	var parts []string
	for i := 0; i < len(list); {
		j := i
		var regions []string
		for ; j < len(list) && list[j].Account == list[i].Account; j++ {
			regions = append(regions, list[j].Region)
		}
		parts = append(parts, list[i].Account+": "+strings.Join(regions, ", "))
		i = j
	}
	return strings.Join(parts, "; ")
}

// ---- JSON

// jsonReport writes one JSON document:
//
//	{"command", "caller", "parameters", "scopes": [{"account", "region",
//	"totals", "items": [...]}], "failures": [...], "unfinished": [...],
//	"interrupted", "totals", "blocked_by_owner", "blocked_by_account"}
//
// "scopes" holds the account-regions that finished; "failures" those that
// failed, with the error. The document is written as the scopes finish.
type jsonReport struct {
	w      io.Writer
	bw     *bufio.Writer
	nScope int
}

func (j *jsonReport) begin(h *reportHeader) error {
	j.bw = bufio.NewWriterSize(j.w, 64<<10)
	params := h.Params
	if params == nil {
		params = map[string]any{}
	}
	caller, _ := json.Marshal(map[string]string{"account": h.Caller.Account, "arn": h.Caller.ARN})
	p, err := json.Marshal(params)
	if err != nil {
		return err
	}
	fmt.Fprintf(j.bw, "{\n  \"command\": %q,\n  \"caller\": %s,\n  \"parameters\": %s,\n  \"scopes\": [", h.Command, caller, p)
	return j.bw.Flush()
}

func (j *jsonReport) scope(r *scopeResult) error {
	if r.Status != scopeOK {
		return nil
	}
	if j.nScope > 0 {
		j.bw.WriteString(",")
	}
	j.nScope++
	head, _ := json.Marshal(map[string]string{"account": r.Account, "region": r.Region, "status": r.Status})
	totals, err := json.Marshal(r.Counts)
	if err != nil {
		return err
	}
	fmt.Fprintf(j.bw, "\n    {%s, \"totals\": %s, \"items\": [", strings.TrimSuffix(strings.TrimPrefix(string(head), "{"), "}"), totals)
	n := 0
	var b []byte
	err = r.rows.each(func(row scopeRow) error {
		b = b[:0]
		if n > 0 {
			b = append(b, ',')
		}
		n++
		b = append(b, "\n      "...)
		b = row.appendJSON(b)
		_, err := j.bw.Write(b)
		return err
	})
	if err != nil {
		return err
	}
	if n > 0 {
		j.bw.WriteString("\n    ")
	}
	j.bw.WriteString("]}")
	return j.bw.Flush()
}

func (j *jsonReport) end(s *reportSummary) error {
	if j.nScope > 0 {
		j.bw.WriteString("\n  ")
	}
	j.bw.WriteString("],\n")
	fields := []struct {
		k string
		v any
	}{{"failures", s.Failures}, {"unfinished", s.Unfinished}, {"interrupted", s.Interrupted}, {"totals", s.Totals},
		{"blocked_by_owner", s.BlockedByOwner}, {"blocked_by_account", s.BlockedByAccount},
		{"elapsed_seconds", s.Elapsed.Round(time.Millisecond).Seconds()}}
	for i, f := range fields {
		b, err := json.MarshalIndent(f.v, "  ", "  ")
		if err != nil {
			return err
		}
		fmt.Fprintf(j.bw, "  %q: %s", f.k, b)
		if i < len(fields)-1 {
			j.bw.WriteString(",")
		}
		j.bw.WriteString("\n")
	}
	j.bw.WriteString("}\n")
	return j.bw.Flush()
}

// ---- CSV

// csvCell neutralises a cell that a spreadsheet would run as a formula
// (CSV injection): AMI names and the like are chosen by whoever shares the
// image, so a cell that begins with =, +, -, @, a tab or a carriage return
// gets a leading single quote, which spreadsheets show as text.
func csvCell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// csvRecord is a CSV record of cells, each through csvCell: every CSV
// writer writes its records with it.
func csvRecord(cells ...string) []string {
	for i, c := range cells {
		cells[i] = csvCell(c)
	}
	return cells
}

// csvColumns is the CSV header.
var csvColumns = []string{"account", "region", "kind", "image_id", "instance_id", "owner_id", "owner_alias", "name", "status", "reason"}

// csvReport writes one row per blocked image or instance (inspect: not
// allowed; verify: failed) per scope.
type csvReport struct {
	w  io.Writer
	cw *csv.Writer
}

func (c *csvReport) begin(*reportHeader) error {
	c.cw = csv.NewWriter(c.w)
	if err := c.cw.Write(csvRecord(slices.Clone(csvColumns)...)); err != nil {
		return err
	}
	c.cw.Flush()
	return c.cw.Error()
}

func (c *csvReport) scope(r *scopeResult) error {
	if r.Status != scopeOK {
		return nil
	}
	err := r.rows.each(func(row scopeRow) error {
		if !row.Blocked {
			return nil
		}
		return c.cw.Write(csvRecord(r.Account, r.Region, row.Kind, row.ImageID, row.InstanceID, row.OwnerID, row.OwnerAlias,
			row.Name, row.Status, row.Reason))
	})
	if err != nil {
		return err
	}
	c.cw.Flush()
	return c.cw.Error()
}

func (c *csvReport) end(*reportSummary) error {
	c.cw.Flush()
	return c.cw.Error()
}

// appendJSON appends the row as json.Marshal writes it (the same fields,
// order and escaping; FuzzRowJSON holds the two together), without
// reflection: an organization's run writes hundreds of thousands of rows.
func (r *scopeRow) appendJSON(b []byte) []byte {
	b = append(b, `{"kind":`...)
	b = appendJSONString(b, r.Kind)
	b = append(b, `,"image_id":`...)
	b = appendJSONString(b, r.ImageID)
	for _, f := range [...]struct{ k, v string }{{`,"instance_id":`, r.InstanceID}, {`,"owner_id":`, r.OwnerID},
		{`,"owner_alias":`, r.OwnerAlias}, {`,"name":`, r.Name}} {
		if f.v != "" {
			b = append(b, f.k...)
			b = appendJSONString(b, f.v)
		}
	}
	b = append(b, `,"status":`...)
	b = appendJSONString(b, r.Status)
	b = append(b, `,"blocked":`...)
	b = strconv.AppendBool(b, r.Blocked)
	if r.Reason != "" {
		b = append(b, `,"reason":`...)
		b = appendJSONString(b, r.Reason)
	}
	if len(r.Watermarks) > 0 {
		b = append(b, `,"watermarks":[`...)
		for i, w := range r.Watermarks {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSONString(b, w)
		}
		b = append(b, ']')
	}
	return append(b, '}')
}

// jsonPlain marks the bytes appendJSONString copies as they are: ASCII
// from space up but for " \ < > &.
var jsonPlain = func() (t [256]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = !strings.ContainsRune(`"\<>&`, rune(c))
	}
	return t
}()

// appendJSONString appends s quoted as encoding/json quotes it: HTML
// characters and U+2028/U+2029 escaped, invalid UTF-8 as U+FFFD.
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if jsonPlain[c] {
			i++
			continue
		}
		if c < utf8.RuneSelf {
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
