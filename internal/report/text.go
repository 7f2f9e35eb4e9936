package report

import (
	"bufio"
	"fmt"
	"io"
	"strings"
)

// Text writes the readable form: a line per scope with its rows under it
// (grouped under "Account ID" while consecutive scopes share the account),
// then the totals.
type Text struct {
	W       io.Writer
	h       *Header
	account string
}

// Begin writes the first line.
func (t *Text) Begin(h *Header) error {
	t.h = h
	_, err := fmt.Fprintf(t.W, "amiwatermark %s as %s in %d account(s)\n", h.Command, h.Caller.ARN, h.Accounts)
	return err
}

// Scope writes one scope and its rows.
func (t *Text) Scope(sc *Scope) error {
	bw := bufio.NewWriter(t.W)
	if sc.Account != t.account {
		t.account = sc.Account
		fmt.Fprintf(bw, "\nAccount %s\n", sc.Account)
	}
	switch sc.Status {
	case StatusOK:
		fmt.Fprintf(bw, "  %s: %s\n", sc.Region, Phrase(t.h.Command, t.h.CountKeys, sc.Counts))
		if sc.Rows != nil {
			err := sc.Rows(func(r Row) error {
				_, err := fmt.Fprintf(bw, "    %s\n", RowText(r))
				return err
			})
			if err != nil {
				return err
			}
		}
	case StatusFailed:
		fmt.Fprintf(bw, "  %s: FAILED: %s\n", sc.Region, sc.Error)
	case StatusInterrupted:
		fmt.Fprintf(bw, "  %s: INTERRUPTED: not finished\n", sc.Region)
	default:
		fmt.Fprintf(bw, "  %s: NOT STARTED: interrupted before it began\n", sc.Region)
	}
	return bw.Flush()
}

// RowText is one row of the text form; the name is quoted (%q), so that
// no control character of an untrusted name reaches the terminal.
func RowText(r Row) string {
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
		b.WriteString(" name=" + fmt.Sprintf("%q", r.Name))
	}
	if len(r.Watermarks) > 0 {
		b.WriteString(" watermarks=" + strings.Join(r.Watermarks, ","))
	}
	if r.Reason != "" {
		b.WriteString(": " + r.Reason)
	}
	return b.String()
}

// End writes the totals, the failures and what did not finish.
func (t *Text) End(s *Summary) error {
	bw := bufio.NewWriter(t.W)
	fmt.Fprintf(bw, "\nTotal: %d account-regions in %d accounts (%d ok, %d failed", s.Totals["scopes"], s.Totals["accounts"], s.Totals["scopes_ok"], s.Totals["scopes_failed"])
	if n := s.Totals["scopes_unfinished"]; n > 0 {
		fmt.Fprintf(bw, ", %d unfinished", n)
	}
	fmt.Fprintf(bw, "): %s\n", Phrase(t.h.Command, t.h.CountKeys, s.Totals))
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
func unfinishedText(list []Failure) string {
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
