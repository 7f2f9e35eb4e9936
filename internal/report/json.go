package report

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"time"
)

// JSON writes one document, scope by scope as the scopes finish:
//
//	{"command", "caller", "parameters", "scopes": [{"account",
//	"region", "status", "totals", "items": [...]}], "failures": [...],
//	"unfinished": [...], "interrupted", "totals", "blocked_by_owner",
//	"blocked_by_account", "elapsed_seconds"}
//
// "scopes" holds the account-regions that finished; "failures" those that
// failed, with the error. `amiwatermark report` reads it back (Read).
type JSON struct {
	W      io.Writer
	bw     *bufio.Writer
	nScope int
}

// Begin writes the head of the document.
func (j *JSON) Begin(h *Header) error {
	j.bw = bufio.NewWriterSize(j.W, 64<<10)
	params := h.Params
	if params == nil {
		params = map[string]any{}
	}
	head := []struct {
		k string
		v any
	}{{"command", h.Command}, {"caller", h.Caller}, {"parameters", params}}
	j.bw.WriteString("{\n")
	for _, f := range head {
		b, err := json.Marshal(f.v)
		if err != nil {
			return err
		}
		fmt.Fprintf(j.bw, "  %q: %s,\n", f.k, b)
	}
	j.bw.WriteString(`  "scopes": [`)
	return j.bw.Flush()
}

// jsonScopeHead is a scope's object without its items.
type jsonScopeHead struct {
	Account string         `json:"account"`
	Region  string         `json:"region"`
	Status  string         `json:"status"`
	Totals  map[string]int `json:"totals"`
}

// Scope writes a finished scope with its items, one row after the other.
func (j *JSON) Scope(sc *Scope) error {
	if sc.Status != StatusOK {
		return nil
	}
	if j.nScope > 0 {
		j.bw.WriteString(",")
	}
	j.nScope++
	head, err := json.Marshal(jsonScopeHead{sc.Account, sc.Region, sc.Status, sc.Counts})
	if err != nil {
		return err
	}
	fmt.Fprintf(j.bw, "\n    %s, \"items\": [", head[:len(head)-1])
	n := 0
	if sc.Rows != nil {
		err = sc.Rows(func(r Row) error {
			b, err := json.Marshal(r)
			if err != nil {
				return err
			}
			if n > 0 {
				j.bw.WriteByte(',')
			}
			n++
			j.bw.WriteString("\n      ")
			_, err = j.bw.Write(b)
			return err
		})
		if err != nil {
			return err
		}
	}
	if n > 0 {
		j.bw.WriteString("\n    ")
	}
	j.bw.WriteString("]}")
	return j.bw.Flush()
}

// End writes the totals and closes the document.
func (j *JSON) End(s *Summary) error {
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
