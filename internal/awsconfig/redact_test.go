package awsconfig

import (
	"slices"
	"strings"
	"testing"
)

func TestRedactor(t *testing.T) {
	key, secret, token := "AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", strings.Repeat("FwoGZXIvYXdzE", 40)
	r := NewRedactor(key, secret, token, "abc", "", secret)
	for _, c := range []struct{ in, want string }{
		{"nothing here", "nothing here"},
		{"key " + key + " and " + secret + ".", "key [redacted] and [redacted]."},
		{secret + secret, "[redacted][redacted]"},
		{"token=" + token, "token=[redacted]"},
		{"abc is too short to be a credential", "abc is too short to be a credential"},
		{key[:10], key[:10]},
	} {
		if got := r.String(c.in); got != c.want {
			t.Errorf("String(%.40q) = %.60q, want %.60q", c.in, got, c.want)
		}
	}
	// The longest match wins: a secret that begins another.
	if got := NewRedactor("abcd", "abcdefgh").String("xabcdefghx abcdx"); got != "x[redacted]x [redacted]x" {
		t.Errorf("overlapping secrets: %q", got)
	}
	for _, c := range []struct {
		in   string
		tail int
	}{{"line\n", 0}, {"x " + secret[:5], 5}, {"x " + secret, 0}, {"AKIA", 4}, {"wJal", 4}, {"", 0}} {
		if got := r.PartialTail([]byte(c.in)); got != c.tail {
			t.Errorf("PartialTail(%q) = %d, want %d", c.in, got, c.tail)
		}
	}
	if got := NewRedactor().String(key); got != key {
		t.Errorf("no secrets: %q", got)
	}
	// The scan skips eight bytes at a time where no pair begins a secret:
	// a secret at every offset around those blocks, in texts of every
	// length, is found.
	for pad := 0; pad < 20; pad++ {
		for tail := 0; tail < 10; tail++ {
			in := strings.Repeat("-", pad) + key + strings.Repeat("-", tail)
			want := strings.Repeat("-", pad) + "[redacted]" + strings.Repeat("-", tail)
			if got := r.String(in); got != want {
				t.Errorf("secret after %d and before %d bytes: %q", pad, tail, got)
			}
		}
	}
}

// FuzzRedactor: the redactor's text is the simple scan's (naiveRedact),
// no secret survives, and text without secrets is unchanged.
func FuzzRedactor(f *testing.F) {
	f.Add("the key AKIDEXAMPLE1 is here", "AKIDEXAMPLE1", "secretvalue", "")
	f.Add("aaaaaaaaaa", "aaaa", "aaaaaa", "")
	f.Add("xx wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY and AKIAIOSFODNN7EXAMPLE, abcd", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "AKIAIOSFODNN7EXAMPLE", "abcd")
	f.Fuzz(func(t *testing.T, text, s1, s2, s3 string) {
		secrets := []string{s1, s2, s3}
		for _, s := range secrets {
			if strings.ContainsAny(s, "[]") { // "[redacted]" next to text could spell it
				return
			}
		}
		out := NewRedactor(secrets...).String(text)
		if want := naiveRedact(text, secrets); out != want {
			t.Fatalf("String(%q) with %q = %q, the simple scan gives %q", text, secrets, out, want)
		}
		for _, s := range secrets {
			if len(s) >= 4 && strings.Contains(out, s) {
				t.Fatalf("secret %q survives in %q (from %q)", s, out, text)
			}
		}
		if !strings.Contains(text, "[") && !slices.ContainsFunc(secrets, func(s string) bool { return len(s) >= 4 && strings.Contains(text, s) }) && out != text {
			t.Fatalf("text without secrets changed: %q -> %q", text, out)
		}
	})
}

// naiveRedact is the rule, simply: from left to right, the longest secret
// (of 4 bytes or more) that begins at a position is replaced, and the scan
// goes on after it.
func naiveRedact(text string, secrets []string) string {
	var b strings.Builder
	for i := 0; i < len(text); {
		best := ""
		for _, s := range secrets {
			if len(s) >= 4 && len(s) > len(best) && strings.HasPrefix(text[i:], s) {
				best = s
			}
		}
		if best != "" {
			b.WriteString("[redacted]")
			i += len(best)
			continue
		}
		b.WriteByte(text[i])
		i++
	}
	return b.String()
}
