package awsconfig

import (
	"cmp"
	"io"
	"slices"
	"strings"
)

// redacted replaces a credential value in any output.
const redacted = "[redacted]"

// minSecretLen is the length under which a value is not a credential (AWS
// key ids are 16 characters or more) and is left alone, so that messages
// stay readable.
const minSecretLen = 4

// Redactor replaces credential values in text with "[redacted]". The rule:
// from left to right, the longest secret that begins at a position is
// replaced, and the scan goes on after it. strings.Replacer does exactly
// that when the secrets are given longest first (it compares them in
// argument order). A value is redacted line by line: each of its lines of
// 4 characters or more is a secret of its own (AWS credentials have no line
// breaks; the rule lets RedactWriter work on whole lines).
type Redactor struct {
	replacer *strings.Replacer // nil: nothing to redact
	secrets  []string          // longest first
	byFirst  [256][]string     // the secrets by their first byte, longest first
}

// NewRedactor returns a Redactor for the given values.
func NewRedactor(values ...string) *Redactor {
	seen := map[string]bool{}
	var secrets []string
	for _, v := range values {
		for _, s := range strings.Split(v, "\n") {
			if len(s) >= minSecretLen && !seen[s] {
				seen[s] = true
				secrets = append(secrets, s)
			}
		}
	}
	if len(secrets) == 0 {
		return &Redactor{}
	}
	slices.SortFunc(secrets, func(a, b string) int { return cmp.Or(len(b)-len(a), strings.Compare(a, b)) })
	pairs := make([]string, 0, 2*len(secrets))
	for _, s := range secrets {
		pairs = append(pairs, s, redacted)
	}
	r := &Redactor{replacer: strings.NewReplacer(pairs...), secrets: secrets}
	for _, s := range secrets {
		r.byFirst[s[0]] = append(r.byFirst[s[0]], s)
	}
	return r
}

// safeCut returns how much of b (text without a line break) can be
// redacted now, apart from what follows: the scan from left to right (the
// rule above) is run while every secret that may begin at its position
// lies within b, so its decisions are final; it stops between matches, and
// the scan of b[:p] then decides as the scan of the whole text would.
func (r *Redactor) safeCut(b []byte) int {
	if len(r.secrets) == 0 {
		return len(b)
	}
	p := 0
	for p+len(r.secrets[0]) <= len(b) {
		p += max(r.longestAt(b[p:]), 1)
	}
	return p
}

// longestAt returns the length of the longest secret b begins with, or 0.
func (r *Redactor) longestAt(b []byte) int {
	for _, s := range r.byFirst[b[0]] {
		if len(s) <= len(b) && string(b[:len(s)]) == s {
			return len(s)
		}
	}
	return 0
}

// String returns s with every secret replaced.
func (r *Redactor) String(s string) string {
	if r.replacer == nil {
		return s
	}
	return r.replacer.Replace(s)
}

// WriteString writes s to w with every secret replaced.
func (r *Redactor) WriteString(w io.Writer, s string) (int, error) {
	if r.replacer == nil {
		return io.WriteString(w, s)
	}
	return r.replacer.WriteString(w, s)
}

// RedactValues replaces every secret in s with "[redacted]" (see
// Redactor).
func RedactValues(s string, secrets ...string) string { return NewRedactor(secrets...).String(s) }

// TextError is an error with its own text (redacted, or rewritten on one
// line) that keeps the error it explains for errors.Is and errors.As.
type TextError struct {
	Text string
	Err  error
}

func (e *TextError) Error() string { return e.Text }
func (e *TextError) Unwrap() error { return e.Err }
