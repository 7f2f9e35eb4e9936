package watermark

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestGlob(t *testing.T) {
	tests := []struct {
		pattern, s string
		want       bool
	}{
		{"", "", true},
		{"", "a", false},
		{"*", "", true},
		{"*", "anything at all", true},
		{"?", "", false},
		{"?", "a", true},
		{"?", "ab", false},
		{"??", "ab", true},
		{"a*", "a", true},
		{"a*", "abc", true},
		{"a*", "ba", false},
		{"*a", "bca", true},
		{"*a", "ab", false},
		{"a*b*c", "aXXbYYc", true},
		{"a*b*c", "aXXbYY", false},
		{"a*b*c", "abcabc", true},
		{"*ab*ab*", "xxabyyabzz", true},
		{"*ab*ab*", "xxabyyazz", false},
		{"golden-*", "golden-base", true},
		{"golden-*", "Golden-base", false}, // case-sensitive
		{"123456789012:golden", "123456789012:golden", true},
		{"123456789012:golden", "123456789012:golden2", false},
		{"1111*:x", "111122223333:x", true},
		{`\*amazon\?\\`, `*amazon?\`, true},
		{`\*amazon\?\\`, `xamazony\`, false},
		{`a\*`, "a*", true},
		{`a\*`, "ab", false},
		{`a\`, `a\`, true}, // trailing lone backslash is literal
		{`\?`, "?", true},
		{`\?`, "x", false},
		{"***a", "a", true},
		{"é?", "éa", true}, // runes, not bytes
		{"?", "é", true},   // one rune, two bytes
		{"??", "é", false}, // not two bytes
		{"*é*", "caféteria", true},
		{"a?c", "a\xffc", true}, // an invalid byte is one rune
		{"us-*", "us-east-1", true},
		{"us-*", "eu-west-1", false},
		{"*-?", "eu-west-1", true},
	}
	for _, tt := range tests {
		if got := Glob(tt.pattern, tt.s); got != tt.want {
			t.Errorf("Glob(%q, %q) = %v, want %v", tt.pattern, tt.s, got, tt.want)
		}
		if got := refGlob(tt.pattern, tt.s); got != tt.want {
			t.Errorf("refGlob(%q, %q) = %v, want %v (reference disagrees with table)", tt.pattern, tt.s, got, tt.want)
		}
	}
}

func TestGlobHasWildcard(t *testing.T) {
	tests := []struct {
		p    string
		want bool
	}{
		{"golden", false},
		{"gold*", true},
		{"gol?en", true},
		{`gold\*`, false},
		{`gold\?`, false},
		{`gold\\*`, true},
		{"", false},
	}
	for _, tt := range tests {
		if got := HasWildcard(tt.p); got != tt.want {
			t.Errorf("HasWildcard(%q) = %v, want %v", tt.p, got, tt.want)
		}
	}
}

// TestGlobLinear guards against exponential backtracking.
func TestGlobLinear(t *testing.T) {
	p := strings.Repeat("*a", 50) + "b"
	s := strings.Repeat("a", 5000)
	if Glob(p, s) {
		t.Fatalf("Glob matched a string without b")
	}
	if !Glob(p, s+"b") {
		t.Fatalf("Glob did not match")
	}
}

// refGlob is an independent reference: dynamic programming over runes.
func refGlob(pattern, s string) bool {
	type tok struct {
		kind byte
		r    rune
	}
	var toks []tok
	pr := []rune(pattern)
	for i := 0; i < len(pr); i++ {
		switch pr[i] {
		case '\\':
			if i+1 < len(pr) {
				i++
			}
			toks = append(toks, tok{'l', pr[i]})
		case '*':
			toks = append(toks, tok{'*', 0})
		case '?':
			toks = append(toks, tok{'?', 0})
		default:
			toks = append(toks, tok{'l', pr[i]})
		}
	}
	sr := []rune(s)
	// dp[j]: toks[:i] matches sr[:j]
	dp := make([]bool, len(sr)+1)
	dp[0] = true
	for _, t := range toks {
		next := make([]bool, len(sr)+1)
		switch t.kind {
		case '*':
			acc := false
			for j := 0; j <= len(sr); j++ {
				acc = acc || dp[j]
				next[j] = acc
			}
		default:
			for j := 1; j <= len(sr); j++ {
				next[j] = dp[j-1] && (t.kind == '?' || sr[j-1] == t.r)
			}
		}
		dp = next
	}
	return dp[len(sr)]
}

func FuzzGlob(f *testing.F) {
	for _, s := range [][2]string{
		{"*", ""}, {"a*b", "axxb"}, {`\*x\?\\`, `*x?\`}, {"?é*", "xé"}, {"*a*a*a", "aaaa"},
		{"123456789012:gold*", "123456789012:golden"}, {"a\\", "a\\"}, {"\xff?", "\xff\xfe"},
	} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, pattern, s string) {
		if len(pattern) > 200 || len(s) > 400 {
			return
		}
		got := Glob(pattern, s)
		if want := refGlob(pattern, s); got != want {
			t.Fatalf("Glob(%q, %q) = %v, reference says %v", pattern, s, got, want)
		}
		// A pattern without wildcards matches exactly its unescaped text.
		if !HasWildcard(pattern) && utf8.ValidString(pattern) && utf8.ValidString(s) {
			lit := unescape(pattern)
			if got != (lit == s) {
				t.Fatalf("literal pattern %q (text %q) vs %q: Glob = %v", pattern, lit, s, got)
			}
		}
		// Every string matches "*" + itself escaped.
		if !Glob("*"+escape(s), s) || !Glob(escape(s), s) {
			t.Fatalf("escaped %q does not match itself", s)
		}
	})
}

func unescape(p string) string {
	var b strings.Builder
	r := []rune(p)
	for i := 0; i < len(r); i++ {
		if r[i] == '\\' && i+1 < len(r) {
			i++
		}
		b.WriteRune(r[i])
	}
	return b.String()
}

func escape(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r == '*' || r == '?' || r == '\\' {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

func BenchmarkGlob(b *testing.B) {
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if !Glob("123456789012:golden-*", "123456789012:golden-base-2026") {
			b.Fatal("no match")
		}
	}
}
