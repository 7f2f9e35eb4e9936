package awsconfig

import (
	"bytes"
	"encoding/binary"
	"errors"
	"strconv"
	"time"
	"unicode/utf8"
)

// errUnusual is returned by the scanner for any XML it does not read itself
// (comments, CDATA, attributes below the root, namespace prefixes, carriage
// returns, unknown entities, malformed input). It never reaches a user: the
// caller hands such a body to the SDK's own deserializer instead, which
// decides what it means or how it is wrong.
var errUnusual = errors.New("xml outside the fast path")

// xmlScan reads the plain XML that EC2 Query answers are made of: nested
// elements without attributes (but on the root), text with the five named
// and the numeric character references, whitespace between elements. It
// reads exactly what encoding/xml would, or refuses with errUnusual.
type xmlScan struct {
	b []byte
	// s is b as a string: text values are slices of it (one copy of the
	// body instead of one allocation per value), so a value keeps the
	// whole body alive; callers that keep a few values long clone them.
	s string
	i int
	// colon: the last name read has a colon.
	colon bool
	// strs, bools and times hold the values the decoded fields point to.
	strs  []string
	bools []bool
	times []time.Time
	// mem is the page's memory: its body, images and string blocks.
	mem *pageMemory
}

// root skips an optional `<?xml version="1.0" encoding="UTF-8"?>` and
// reads the root start tag, attributes allowed.
func (s *xmlScan) root() ([]byte, error) {
	if bytes.IndexByte(s.b, '\r') >= 0 {
		return nil, errUnusual // encoding/xml rewrites \r\n in text
	}
	s.space()
	for _, decl := range []string{`<?xml version="1.0" encoding="UTF-8"?>`, `<?xml version="1.0"?>`} {
		if bytes.HasPrefix(s.b[s.i:], []byte(decl)) {
			s.i += len(decl)
			break
		}
	}
	s.space()
	if !s.at('<') {
		return nil, errUnusual
	}
	s.i++
	name, err := s.name()
	if err != nil {
		return nil, err
	}
	for {
		s.space()
		if s.at('>') {
			s.i++
			return name, nil
		}
		if _, err := s.name(); err != nil { // attribute name, prefixes allowed
			return nil, err
		}
		if !s.at('=') {
			return nil, errUnusual
		}
		s.i++
		if !s.at('"') && !s.at('\'') {
			return nil, errUnusual
		}
		q := s.b[s.i]
		end := bytes.IndexByte(s.b[s.i+1:], q)
		if end < 0 {
			return nil, errUnusual
		}
		v := s.b[s.i+1 : s.i+1+end]
		if bytes.ContainsAny(v, "<&") || !plainText(v) {
			return nil, errUnusual
		}
		s.i += end + 2
	}
}

// child reads the next child of the element that is open: the name of a
// start tag and whether it closed itself, or end = true at the closing tag
// of parent. Whitespace between elements is skipped.
func (s *xmlScan) child(parent []byte) (name []byte, empty, end bool, err error) {
	s.space()
	if s.i+1 >= len(s.b) || s.b[s.i] != '<' {
		return nil, false, false, errUnusual
	}
	if s.b[s.i+1] == '/' {
		return nil, false, true, s.endTag(parent)
	}
	s.i++
	if name, err = s.name(); err != nil || s.colon {
		return nil, false, false, errUnusual
	}
	switch {
	case s.at('>'):
		s.i++
		return name, false, false, nil
	case bytes.HasPrefix(s.b[s.i:], []byte("/>")):
		s.i += 2
		return name, true, false, nil
	}
	return nil, false, false, errUnusual
}

// endTag reads `</name>`.
func (s *xmlScan) endTag(name []byte) error {
	s.i += 2
	if !bytes.HasPrefix(s.b[s.i:], name) {
		return errUnusual
	}
	s.i += len(name)
	if !s.at('>') {
		return errUnusual
	}
	s.i++
	return nil
}

// text reads the text of an element that holds only text, through its
// closing tag, as encoding/xml gives it: "" for <a></a> and <a/>.
func (s *xmlScan) text(name []byte, empty bool) (string, error) {
	if empty {
		return "", nil
	}
	start := s.i
	// Most values are short and plain: one pass finds their end and
	// checks them. Anything else takes the full way (textValue).
	i := start
	for i < len(s.b) && textPlain[s.b[i]] {
		i++
	}
	plain := i < len(s.b) && s.b[i] == '<'
	end := i - start
	if !plain {
		end = bytes.IndexByte(s.b[start:], '<')
		if end < 0 {
			return "", errUnusual
		}
	}
	s.i += end
	if s.i+1 >= len(s.b) || s.b[s.i+1] != '/' {
		return "", errUnusual
	}
	if err := s.endTag(name); err != nil {
		return "", err
	}
	if plain {
		return s.s[start : start+end], nil
	}
	return s.textValue(start, start+end)
}

// textPlain marks the bytes a value can hold as they are: printable ASCII
// but for < & and ] (which may begin "]]>").
var textPlain = func() (t [256]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '<' && c != '&' && c != ']' && c != 0x7f
	}
	t['\t'], t['\n'] = true, true
	return t
}()

// textValue is the character data b[start:end] as encoding/xml reads it.
func (s *xmlScan) textValue(start, end int) (string, error) {
	raw := s.b[start:end]
	if bytes.Contains(raw, []byte("]]>")) {
		return "", errUnusual // encoding/xml refuses it outside CDATA
	}
	if bytes.IndexByte(raw, '&') < 0 {
		if !plainText(raw) {
			return "", errUnusual
		}
		return s.s[start:end], nil
	}
	return unescape(raw)
}

// skip skips the rest of an element (its subtree) the way the SDK skips an
// element it does not know.
func (s *xmlScan) skip(name []byte, empty bool) error {
	if empty {
		return nil
	}
	for {
		end := bytes.IndexByte(s.b[s.i:], '<')
		if end < 0 {
			return errUnusual
		}
		if _, err := s.textValue(s.i, s.i+end); err != nil {
			return err
		}
		s.i += end
		child, childEmpty, done, err := s.child(name)
		if err != nil || done {
			return err
		}
		if err := s.skip(child, childEmpty); err != nil {
			return err
		}
	}
}

// rest accepts only whitespace after the root element.
func (s *xmlScan) rest() error {
	s.space()
	if s.i != len(s.b) {
		return errUnusual
	}
	return nil
}

func (s *xmlScan) at(c byte) bool { return s.i < len(s.b) && s.b[s.i] == c }

func (s *xmlScan) space() {
	for s.i < len(s.b) && (s.b[s.i] == ' ' || s.b[s.i] == '\n' || s.b[s.i] == '\t') {
		s.i++
	}
}

// name reads an ASCII XML name (letters, digits, _ - . :, not starting
// with a digit, - or .).
// It sets s.colon when the name has a colon (a namespace prefix).
func (s *xmlScan) name() ([]byte, error) {
	start := s.i
	var classes uint8
	if s.i < len(s.b) && nameChar[s.b[s.i]]&nameStart != 0 {
		for s.i < len(s.b) && nameChar[s.b[s.i]] != 0 {
			classes |= nameChar[s.b[s.i]]
			s.i++
		}
	}
	if s.i == start {
		return nil, errUnusual
	}
	s.colon = classes&nameColon != 0
	return s.b[start:s.i], nil
}

// nameChar classes the bytes of names: nameStart may begin one,
// nameInner only follow; a colon is also nameColon.
const (
	nameStart = 1 << iota
	nameInner
	nameColon
)

var nameChar = func() (t [256]uint8) {
	for c := 0; c < 256; c++ {
		switch {
		case c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_':
			t[c] = nameStart
		case c == ':':
			t[c] = nameStart | nameColon
		case c >= '0' && c <= '9' || c == '-' || c == '.':
			t[c] = nameInner
		}
	}
	return t
}()

// plainText reports whether b holds only characters XML allows (tab,
// newline and from space up, valid UTF-8, no U+FFFE/U+FFFF or surrogates).
func plainText(b []byte) bool {
	// Eight bytes at a time while they are all printable ASCII (no high
	// bit, none below space).
	const highs, spaces = 0x8080808080808080, 0x2020202020202020
	i := 0
	for ; i+8 <= len(b); i += 8 {
		w := binary.LittleEndian.Uint64(b[i:])
		if w&highs != 0 || (w-spaces)&^w&highs != 0 {
			break
		}
	}
	for i < len(b) {
		c := b[i]
		if c < utf8.RuneSelf {
			if c < 0x20 && c != '\t' && c != '\n' {
				return false
			}
			i++
			continue
		}
		r, n := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && n == 1 || !xmlChar(r) {
			return false
		}
		i += n
	}
	return true
}

func xmlChar(r rune) bool {
	return r == '\t' || r == '\n' || r >= 0x20 && r <= 0xD7FF || r >= 0xE000 && r <= 0xFFFD || r >= 0x10000 && r <= 0x10FFFF
}

// unescape decodes the character references of text: &lt; &gt; &amp;
// &apos; &quot; &#N; &#xH;.
func unescape(raw []byte) (string, error) {
	out := make([]byte, 0, len(raw))
	for len(raw) > 0 {
		amp := bytes.IndexByte(raw, '&')
		if amp < 0 {
			amp = len(raw)
		}
		if !plainText(raw[:amp]) {
			return "", errUnusual
		}
		out = append(out, raw[:amp]...)
		raw = raw[amp:]
		if len(raw) == 0 {
			break
		}
		semi := bytes.IndexByte(raw, ';')
		if semi < 0 {
			return "", errUnusual
		}
		ref := string(raw[1:semi])
		raw = raw[semi+1:]
		switch ref {
		case "lt":
			out = append(out, '<')
		case "gt":
			out = append(out, '>')
		case "amp":
			out = append(out, '&')
		case "apos":
			out = append(out, '\'')
		case "quot":
			out = append(out, '"')
		default:
			r, ok := charRef(ref)
			if !ok {
				return "", errUnusual
			}
			out = utf8.AppendRune(out, r)
		}
	}
	return string(out), nil
}

// charRef decodes "#65" and "#x41".
func charRef(ref string) (rune, bool) {
	if len(ref) < 2 || ref[0] != '#' {
		return 0, false
	}
	base, digits := 10, ref[1:]
	if digits[0] == 'x' {
		base, digits = 16, digits[1:]
	}
	for _, c := range digits { // ParseUint would also take "_" and signs
		if !(c >= '0' && c <= '9' || base == 16 && (c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F')) {
			return 0, false
		}
	}
	n, err := strconv.ParseUint(digits, base, 32)
	if err != nil || !xmlChar(rune(n)) || n == '\r' {
		return 0, false
	}
	return rune(n), true
}
