package watermark

import "unicode/utf8"

// Glob reports whether s matches the EC2 wildcard pattern: '*' matches any
// run of characters (also none), '?' exactly one character, and '\' makes
// the next character literal ("\*" is a literal star, "\\" a backslash). A
// trailing lone backslash is a literal backslash. Matching is case-sensitive
// and works on runes. It runs in O(len(pattern)·len(s)) time.
func Glob(pattern, s string) bool {
	return compileGlob(pattern).match(s)
}

type globTok struct {
	kind byte // 'l' literal, '?' any one, '*' any run
	r    rune
}

type globPattern []globTok

func compileGlob(pattern string) globPattern {
	pr := []rune(pattern)
	out := make(globPattern, 0, len(pr))
	for i := 0; i < len(pr); i++ {
		switch pr[i] {
		case '\\':
			if i+1 < len(pr) {
				i++
			}
			out = append(out, globTok{kind: 'l', r: pr[i]})
		case '*':
			if n := len(out); n > 0 && out[n-1].kind == '*' {
				continue
			}
			out = append(out, globTok{kind: '*'})
		case '?':
			out = append(out, globTok{kind: '?'})
		default:
			out = append(out, globTok{kind: 'l', r: pr[i]})
		}
	}
	return out
}

// match is the classic greedy matcher with one backtrack point: it never
// goes exponential (O(len(p)·len(s)) worst case) and does not allocate. It
// walks s rune by rune; an invalid UTF-8 byte counts as one U+FFFD rune, as
// a []rune conversion would make it.
func (p globPattern) match(s string) bool {
	pi, si := 0, 0
	star, mark := -1, 0
	for si < len(s) {
		r, size := rune(s[si]), 1
		if r >= utf8.RuneSelf {
			r, size = utf8.DecodeRuneInString(s[si:])
		}
		if pi < len(p) {
			t := p[pi]
			switch {
			case t.kind == '*':
				star, mark = pi, si
				pi++
				continue
			case t.kind == '?' || t.r == r:
				pi++
				si += size
				continue
			}
		}
		if star >= 0 {
			// Let the last star swallow one more rune and retry.
			pi = star + 1
			_, msize := utf8.DecodeRuneInString(s[mark:])
			mark += msize
			si = mark
			continue
		}
		return false
	}
	for pi < len(p) && p[pi].kind == '*' {
		pi++
	}
	return pi == len(p)
}

// HasWildcard reports whether pattern contains an unescaped '*' or '?'.
func HasWildcard(pattern string) bool {
	for _, t := range compileGlob(pattern) {
		if t.kind != 'l' {
			return true
		}
	}
	return false
}
