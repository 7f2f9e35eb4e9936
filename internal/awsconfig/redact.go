package awsconfig

import (
	"bytes"
	"slices"
)

// redacted replaces a credential value in any output.
const redacted = "[redacted]"

// Redactor replaces credential values in text in one pass, however many
// there are (an organization-wide run holds two per account). Values
// shorter than 4 characters are not real credentials and are left alone,
// so that messages stay readable.
//
// The scan skips ahead the way multi-pattern searches do (Wu and Manber):
// with the shortest secret m bytes long, a secret that begins anywhere in
// the next m-2 positions holds the 3 bytes that end those m positions among
// its own first m bytes. Where those 3 bytes are in no secret's first m,
// the scan moves m-2 bytes at once; credentials are 20 to several hundred
// bytes long, so most of the text is looked at once every 18 bytes or more.
type Redactor struct {
	// secrets, longest first, so that the longest match wins.
	secrets []string
	// grams marks (hashed) every 3 bytes found in the first minLen bytes
	// of a secret; pairs marks the first two bytes of a secret, and byPair
	// lists the secrets that begin with them (longest first). Each set is a
	// bit per value, 8 KiB: they stay in cache.
	grams  *bitset16
	pairs  *bitset16
	byPair map[uint16][]string
	// firsts marks the first byte of a secret (for PartialTail).
	firsts         [256]bool
	minLen, maxLen int
}

// bitset16 is a set of 16-bit values.
type bitset16 [1 << 10]uint64

func (b *bitset16) set(v uint16)      { b[v>>6] |= 1 << (v & 63) }
func (b *bitset16) has(v uint16) bool { return b[v>>6]&(1<<(v&63)) != 0 }

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
	r.grams, r.pairs = new(bitset16), new(bitset16)
	r.byPair = map[uint16][]string{}
	r.minLen = len(r.secrets[len(r.secrets)-1])
	for _, s := range r.secrets {
		pair := pairAt(s[0], s[1])
		r.pairs.set(pair)
		r.byPair[pair] = append(r.byPair[pair], s)
		r.firsts[s[0]] = true
		r.maxLen = max(r.maxLen, len(s))
		for j := 0; j+3 <= r.minLen; j++ {
			r.grams.set(gramAt(s[j], s[j+1], s[j+2]))
		}
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
	start, skip := 0, r.minLen-2
	// A secret that begins at i ends at or before len(p), and is at least
	// minLen long.
	for i := 0; i+r.minLen <= len(p); {
		g := i + r.minLen - 3
		if !r.grams.has(gramAt(p[g], p[g+1], p[g+2])) {
			i += skip // no secret begins in i .. i+skip-1
			continue
		}
		if r.pairs.has(pairAt(p[i], p[i+1])) {
			if n := r.match(p[i:]); n > 0 {
				dst = append(dst, p[start:i]...)
				dst = append(dst, redacted...)
				i += n
				start = i
				continue
			}
		}
		i++
	}
	return append(dst, p[start:]...)
}

// pairAt is the pair of bytes a, b as the pair set indexes it.
func pairAt(a, b byte) uint16 { return uint16(a)<<8 | uint16(b) }

// gramAt is the three bytes a, b, c as the gram set indexes them: a
// multiplicative hash to 16 bits.
func gramAt(a, b, c byte) uint16 {
	return uint16((uint32(a)<<16 | uint32(b)<<8 | uint32(c)) * 0x9E3779B1 >> 16)
}

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
