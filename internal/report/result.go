// Package report writes the result of an organization-wide run (simulate,
// inspect or verify over accounts × regions) as text, CSV, JSON and HTML,
// and reads JSON results back to merge the results of shards. Every writer
// takes the same result type: a Header, then each Scope as it finishes,
// then the Summary.
package report

import (
	"sort"
	"time"
)

// Scope statuses.
const (
	StatusOK          = "ok"
	StatusFailed      = "failed"
	StatusInterrupted = "interrupted"
	StatusNotStarted  = "not started"
)

// Row is one line of a scope's result: a blocked image, an instance
// running a blocked image, or an AMI inspected or verified.
type Row struct {
	// Kind is image or instance.
	Kind       string `json:"kind"`
	ImageID    string `json:"image_id"`
	InstanceID string `json:"instance_id,omitempty"`
	OwnerID    string `json:"owner_id,omitempty"`
	OwnerAlias string `json:"owner_alias,omitempty"`
	Name       string `json:"name,omitempty"`
	// Status: simulate blocked; inspect allowed, not allowed, unknown, not
	// found; verify ok, failed.
	Status string `json:"status"`
	// Blocked: the row counts as blocked (a CSV row, a bar of the charts).
	Blocked    bool     `json:"blocked"`
	Reason     string   `json:"reason,omitempty"`
	Watermarks []string `json:"watermarks,omitempty"`
}

// OwnerKey is the owner a blocked row is charted under.
func (r Row) OwnerKey() string {
	switch {
	case r.OwnerAlias != "":
		return r.OwnerAlias
	case r.OwnerID != "":
		return r.OwnerID
	}
	return "unknown"
}

// Rows yields a scope's rows in order; it stops at the first error of
// yield and returns it.
type Rows func(yield func(Row) error) error

// RowSlice yields the rows of a slice.
func RowSlice(rows []Row) Rows {
	return func(yield func(Row) error) error {
		for _, r := range rows {
			if err := yield(r); err != nil {
				return err
			}
		}
		return nil
	}
}

// Scope is one account in one region, finished (or failed, or not
// finished).
type Scope struct {
	Account string
	Region  string
	Status  string
	Error   string
	// Counts are the scope's totals (every key of the command's counts).
	Counts map[string]int
	// Rows are its rows; nil when it has none.
	Rows Rows
}

// Caller is who ran the command.
type Caller struct {
	Account string `json:"account"`
	ARN     string `json:"arn"`
}

// Header is what a writer knows before the first scope.
type Header struct {
	Command  string
	Caller   Caller
	Accounts int
	Params   map[string]any
	Started  time.Time
	// CountKeys are the keys of a scope's counts, in display order.
	CountKeys []string
}

// Failure is a scope that failed (with its error) or did not finish (with
// its status).
type Failure struct {
	Account string `json:"account"`
	Region  string `json:"region"`
	Error   string `json:"error,omitempty"`
	Status  string `json:"status,omitempty"`
}

// Summary is what the run found, summed over the scopes written.
type Summary struct {
	Totals           map[string]int
	BlockedByOwner   map[string]int
	BlockedByAccount map[string]int
	Failures         []Failure
	Unfinished       []Failure
	Interrupted      bool
	Elapsed          time.Duration
	accounts         map[string]bool
	countKeys        []string
}

// scopeKeys are the totals every command has.
var scopeKeys = []string{"accounts", "scopes", "scopes_ok", "scopes_failed", "scopes_unfinished"}

// NewSummary starts the totals of a run with the command's count keys.
func NewSummary(countKeys []string) *Summary {
	s := &Summary{Totals: map[string]int{}, BlockedByOwner: map[string]int{}, BlockedByAccount: map[string]int{},
		Failures: []Failure{}, Unfinished: []Failure{}, accounts: map[string]bool{}, countKeys: countKeys}
	for _, k := range append(append([]string{}, scopeKeys...), countKeys...) {
		s.Totals[k] = 0
	}
	return s
}

// Scopes is the number of scopes counted.
func (s *Summary) Scopes() int { return s.Totals["scopes"] }

// Add counts one scope; blocked is its blocked image rows by owner.
func (s *Summary) Add(sc *Scope, blocked map[string]int) {
	s.Totals["scopes"]++
	if !s.accounts[sc.Account] {
		s.accounts[sc.Account] = true
		s.Totals["accounts"]++
	}
	switch sc.Status {
	case StatusOK:
		s.Totals["scopes_ok"]++
		for _, k := range s.countKeys {
			s.Totals[k] += sc.Counts[k]
		}
		for owner, n := range blocked {
			s.BlockedByOwner[owner] += n
			s.BlockedByAccount[sc.Account] += n
		}
	case StatusFailed:
		s.Totals["scopes_failed"]++
		s.Failures = append(s.Failures, Failure{Account: sc.Account, Region: sc.Region, Error: sc.Error})
	default:
		s.Totals["scopes_unfinished"]++
		s.Unfinished = append(s.Unfinished, Failure{Account: sc.Account, Region: sc.Region, Status: sc.Status})
	}
}

// Sort orders the failures and unfinished scopes by account and region
// (scopes are written as they finish).
func (s *Summary) Sort() {
	for _, l := range [][]Failure{s.Failures, s.Unfinished} {
		sort.SliceStable(l, func(i, j int) bool {
			if l[i].Account != l[j].Account {
				return l[i].Account < l[j].Account
			}
			return l[i].Region < l[j].Region
		})
	}
}

// KV is one entry of a count map.
type KV struct {
	K string
	N int
}

// SortedCounts returns m's entries by count (descending), then key.
func SortedCounts(m map[string]int) []KV {
	out := make([]KV, 0, len(m))
	for k, n := range m {
		out = append(out, KV{k, n})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].N != out[j].N {
			return out[i].N > out[j].N
		}
		return out[i].K < out[j].K
	})
	return out
}
