package awsconfig

import (
	"bytes"
	"encoding/binary"
	"slices"
)

// redacted replaces a credential value in any output.
const redacted = "[redacted]"

// Redactor replaces credential values in text in one pass, however many
// there are (an organization-wide run holds two per account). Values
// shorter than 4 characters are not real credentials and are left alone,
// so that messages stay readable.
type Redactor struct {
	// secrets, longest first, so that the longest match wins.
	secrets []string
	// pairs marks the first two bytes of a secret: the scan looks closer
	// only where they occur, at the secrets that begin with them (byPair,
	// longest first).
	pairs  *[1 << 10]uint64 // a bit per pair: 8 KiB, it stays in cache
	byPair map[uint16][]string
	// firsts marks the first byte of a secret (for PartialTail).
	firsts [256]bool
	maxLen int
}

// NewRedactor returns a Redactor for the given values.
func NewRedactor(secrets ...string) *Redactor {
	r := &Redactor{}
	for _, s := range secrets {
		if len(s) >= 4 && !slices.Contains(r.secrets, s) {
			r.secrets = append(r.secrets, s)
		}
	}
	if len(r.secrets) == 0 {
		return r
	}
	slices.SortFunc(r.secrets, func(a, b string) int { return len(b) - len(a) })
	r.pairs = new([1 << 10]uint64)
	r.byPair = map[uint16][]string{}
	for _, s := range r.secrets {
		pair := pairAt(s[0], s[1])
		r.pairs[pair>>6] |= 1 << (pair & 63)
		r.byPair[pair] = append(r.byPair[pair], s)
		r.firsts[s[0]] = true
		r.maxLen = max(r.maxLen, len(s))
	}
	return r
}

// match returns the length of the secret at the start of p (at least two
// bytes long), 0 if none.
func (r *Redactor) match(p []byte) int {
	for _, s := range r.byPair[pairAt(p[0], p[1])] {
		if len(p) >= len(s) && string(p[:len(s)]) == s {
			return len(s)
		}
	}
	return 0
}

// Append appends p to dst with every secret replaced by "[redacted]".
func (r *Redactor) Append(dst, p []byte) []byte {
	if r.pairs == nil {
		return append(dst, p...)
	}
	start := 0
	for i := 0; i+1 < len(p); i++ {
		// Eight pairs at a time while none begins a secret.
		for i+9 <= len(p) && !r.anyPair(binary.BigEndian.Uint64(p[i:]), p[i+8]) {
			i += 8
		}
		if i+1 >= len(p) {
			break
		}
		if !r.begins(pairAt(p[i], p[i+1])) {
			continue
		}
		if n := r.match(p[i:]); n > 0 {
			dst = append(dst, p[start:i]...)
			dst = append(dst, redacted...)
			i += n - 1
			start = i + 1
		}
	}
	return append(dst, p[start:]...)
}

// anyPair reports whether one of the eight pairs of bytes that start in w
// (eight bytes, the first in the high byte) and end in w or in next begins
// a secret.
func (r *Redactor) anyPair(w uint64, next byte) bool {
	for k := 0; k < 7; k++ {
		if r.begins(uint16(w >> (48 - 8*k))) {
			return true
		}
	}
	return r.begins(pairAt(byte(w), next))
}

// pairAt is the pair of bytes a, b as the bitset indexes it.
func pairAt(a, b byte) uint16 { return uint16(a)<<8 | uint16(b) }

// begins reports whether some secret begins with pair.
func (r *Redactor) begins(pair uint16) bool { return r.pairs[pair>>6]&(1<<(pair&63)) != 0 }

// String returns s with every secret replaced.
func (r *Redactor) String(s string) string {
	if r.pairs == nil {
		return s
	}
	return string(r.Append(nil, []byte(s)))
}

// PartialTail returns the length of the longest end of p that is the
// beginning of a secret (but not a whole one): a stream writer holds those
// bytes back until the next write shows whether the secret is complete.
func (r *Redactor) PartialTail(p []byte) int {
	if r.pairs == nil {
		return 0
	}
	for i := max(0, len(p)-r.maxLen+1); i < len(p); i++ {
		if !r.firsts[p[i]] {
			continue
		}
		tail := p[i:]
		for _, s := range r.secrets {
			if len(tail) < len(s) && bytes.HasPrefix([]byte(s), tail) {
				return len(tail)
			}
		}
	}
	return 0
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
