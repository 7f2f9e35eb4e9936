package awsconfig

import (
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

// FuzzRedactor: no secret survives, and text without secrets is unchanged.
func FuzzRedactor(f *testing.F) {
	f.Add("the key AKIDEXAMPLE1 is here", "AKIDEXAMPLE1", "secretvalue")
	f.Add("aaaaaaaaaa", "aaaa", "aaaaaa")
	f.Fuzz(func(t *testing.T, text, s1, s2 string) {
		for _, s := range []string{s1, s2} {
			if strings.ContainsAny(s, "[]") { // "[redacted]" next to text could spell it
				return
			}
		}
		out := NewRedactor(s1, s2).String(text)
		for _, s := range []string{s1, s2} {
			if len(s) >= 4 && strings.Contains(out, s) {
				t.Fatalf("secret %q survives in %q (from %q)", s, out, text)
			}
		}
		if !strings.Contains(text, "[") && (len(s1) < 4 || !strings.Contains(text, s1)) && (len(s2) < 4 || !strings.Contains(text, s2)) && out != text {
			t.Fatalf("text without secrets changed: %q -> %q", text, out)
		}
	})
}
