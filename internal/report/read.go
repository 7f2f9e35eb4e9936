package report

import (
	"encoding/json"
	"fmt"
	"io"
)

// Result is what a JSON result document holds besides its scopes.
type Result struct {
	Command     string         `json:"command"`
	Caller      Caller         `json:"caller"`
	Params      map[string]any `json:"parameters"`
	Failures    []Failure      `json:"failures"`
	Unfinished  []Failure      `json:"unfinished"`
	Interrupted bool           `json:"interrupted"`
	Elapsed     float64        `json:"elapsed_seconds"`
	// Read but recomputed by a merge.
	Totals           map[string]int `json:"totals"`
	BlockedByOwner   map[string]int `json:"blocked_by_owner"`
	BlockedByAccount map[string]int `json:"blocked_by_account"`
}

// jsonScope is a scope of the document.
type jsonScope struct {
	jsonScopeHead
	Items []Row `json:"items"`
}

// MaxScopeBytes bounds the JSON text of one scope (and of each other field)
// that Read decodes: memory holds at most about that much of a file at a
// time, whatever the file. A scope of a real run is far smaller (a row is
// some 200 bytes).
var MaxScopeBytes int64 = 256 << 20

// budget is a reader that fails once more than left bytes are read; Read
// gives each field of the document a new budget.
type budget struct {
	r    io.Reader
	left int64
}

func (b *budget) Read(p []byte) (int, error) {
	if b.left <= 0 {
		return 0, fmt.Errorf("a part of the document larger than %d bytes", MaxScopeBytes)
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.r.Read(p)
	b.left -= int64(n)
	return n, err
}

// Read reads a JSON result (the JSON writer's document) from r, one scope
// at a time: scope, if not nil, gets each finished scope as it is decoded,
// so that memory holds one scope's rows, not the document's (at most
// MaxScopeBytes of text at a time). Unknown fields are refused.
func Read(r io.Reader, scope func(*Scope) error) (*Result, error) {
	in := &budget{r: r, left: MaxScopeBytes}
	dec := json.NewDecoder(in)
	dec.DisallowUnknownFields()
	if err := expect(dec, json.Delim('{')); err != nil {
		return nil, err
	}
	res := &Result{}
	fields := map[string]any{"command": &res.Command, "caller": &res.Caller, "parameters": &res.Params, "failures": &res.Failures,
		"unfinished": &res.Unfinished, "interrupted": &res.Interrupted, "elapsed_seconds": &res.Elapsed,
		"totals": &res.Totals, "blocked_by_owner": &res.BlockedByOwner, "blocked_by_account": &res.BlockedByAccount}
	for dec.More() {
		in.left = MaxScopeBytes
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		key, _ := tok.(string)
		switch dst, ok := fields[key]; {
		case key == "scopes":
			err = readScopes(dec, in, scope)
		case ok:
			err = dec.Decode(dst)
		default:
			err = fmt.Errorf("unknown field %q", key)
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", key, err)
		}
	}
	if err := expect(dec, json.Delim('}')); err != nil {
		return nil, err
	}
	if res.Command == "" {
		return nil, fmt.Errorf("no \"command\": not a result of amiwatermark --json")
	}
	return res, nil
}

// readScopes decodes the scopes array one scope at a time.
func readScopes(dec *json.Decoder, in *budget, scope func(*Scope) error) error {
	if err := expect(dec, json.Delim('[')); err != nil {
		return err
	}
	for dec.More() {
		in.left = MaxScopeBytes
		var s jsonScope
		if err := dec.Decode(&s); err != nil {
			return err
		}
		if scope == nil {
			continue
		}
		if s.Status != StatusOK {
			return fmt.Errorf("scope %s %s has status %q: the scopes of a result are finished ones", s.Account, s.Region, s.Status)
		}
		sc := &Scope{Account: s.Account, Region: s.Region, Status: s.Status, Counts: s.Totals, Rows: RowSlice(s.Items)}
		if err := scope(sc); err != nil {
			return err
		}
	}
	return expect(dec, json.Delim(']'))
}

func expect(dec *json.Decoder, want json.Delim) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	if tok != want {
		return fmt.Errorf("found %v where %v was expected", tok, want)
	}
	return nil
}
