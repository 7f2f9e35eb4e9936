package watermark

import (
	"errors"
	"fmt"
)

// Term is a word of the rules' messages that each front end spells its own
// way: the template key names of the post-processor and the data source
// (the default spelling, the Term itself) or the CLI's flag names.
type Term string

// The terms of the rules' messages.
const (
	// TermKeys: the list of watermark key patterns (watermark_keys,
	// --require-key).
	TermKeys Term = "watermark_keys"
	// TermAllowAnyAccount: the switch that allows a wildcard account part.
	TermAllowAnyAccount Term = "allow_any_account"
	// TermEnableAnyAccount: how to turn TermAllowAnyAccount on.
	TermEnableAnyAccount Term = "set allow_any_account = true"
	// TermOwners: the owners list.
	TermOwners Term = "owners"
	// TermLineage: the lineage setting.
	TermLineage Term = "lineage"
	// TermWatermarks: the names to attach.
	TermWatermarks Term = "watermarks"
	// TermDetach: the keys to detach.
	TermDetach Term = "detach"
	// TermDetachKey: how to ask for the detach of one key, a format with
	// one %q verb for the key.
	TermDetachKey Term = "detach = [%q]"
	// TermAssumeRole: the way to act as another account.
	TermAssumeRole Term = "assume_role"
)

// Names spells terms for one front end; a term it does not list is
// spelled as itself (the template key names).
type Names map[Term]string

// Of spells t.
func (n Names) Of(t Term) string {
	if s, ok := n[t]; ok {
		return s
	}
	return string(t)
}

// FieldError is a problem with one setting, or with one element of a list
// setting: the field, the 0-based index (-1 when the setting is not a list
// element) and the problem. Error() words it with the template key names;
// Render words it with a front end's names.
type FieldError struct {
	Field Term
	Index int
	// Problem is the problem in the default wording; for an element of a
	// list it is the element's problem, without the "field[index]: ".
	Problem string

	render func(Names) string // the whole message; nil: Field[Index]: Problem
}

func (e *FieldError) Error() string { return e.Render(nil) }

// Render words the error with names.
func (e *FieldError) Render(n Names) string {
	if e.render != nil {
		return e.render(n)
	}
	if e.Index >= 0 {
		return fmt.Sprintf("%s[%d]: %s", n.Of(e.Field), e.Index, e.Problem)
	}
	return fmt.Sprintf("%s: %s", n.Of(e.Field), e.Problem)
}

// Render words err with names when it is (or wraps) a *FieldError, else
// returns err.Error().
func Render(err error, n Names) string {
	var fe *FieldError
	if errors.As(err, &fe) {
		return fe.Render(n)
	}
	return err.Error()
}

// fieldError makes a FieldError whose whole message is render(names).
func fieldError(field Term, index int, render func(Names) string) *FieldError {
	return &FieldError{Field: field, Index: index, Problem: render(nil), render: render}
}
