package awsconfig

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"sync"
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
	for _, c := range []struct {
		secrets  []string
		in, want string
	}{
		// The longest secret that begins at a position wins.
		{[]string{"abcd", "abcdefgh"}, "xabcdefghx abcdx", "x[redacted]x [redacted]x"},
		{[]string{"abcdefgh", "abcd"}, "xabcdefghx abcdx", "x[redacted]x [redacted]x"},
		// One inside another; one that ends where another starts.
		{[]string{"bcde", "abcdef"}, "abcdef bcde", "[redacted] [redacted]"},
		{[]string{"abcd", "defg"}, "abcdefg", "[redacted]efg"},
		// A value with a line break is redacted line by line.
		{[]string{"line-one\nline-two"}, "line-one\nline-two", "[redacted]\n[redacted]"},
		{nil, key, key},
	} {
		if got := NewRedactor(c.secrets...).String(c.in); got != c.want {
			t.Errorf("%q: String(%q) = %q, want %q", c.secrets, c.in, got, c.want)
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
		secrets := lines([]string{s1, s2, s3})
		out := NewRedactor(s1, s2, s3).String(text)
		if want := naiveRedact(text, secrets); out != want {
			t.Fatalf("String(%q) with %q = %q, the simple scan gives %q", text, secrets, out, want)
		}
		checkNoSecret(t, text, out, secrets)
	})
}

// overlapping are secrets that share prefixes and suffixes, lie inside
// one another, and end where another starts, as AWS key ids do (AKIA...,
// ASIA...).
var overlapping = []string{
	"AKIAIOSFODNN7EXAMPLA", "AKIAIOSFODNN7EXAMPLE", "ASIAIOSFODNN7EXAMPLA", "AKIAIOSF", "EXAMPLA",
	"abcd", "abcdefgh", "cdef", "efghijkl", "ghijabcd", "dabc", "aaaa", "aaaaaa",
}

// FuzzRedactWriter: text written through a RedactWriter in pieces cut at
// arbitrary points (cuts: each byte is the length of the next write, 0 to
// 24) comes out as the simple scan of the whole text, with the overlapping
// secrets and those of the input (separated by |).
func FuzzRedactWriter(f *testing.F) {
	key := "AKIAIOSFODNN7EXAMPLA"
	f.Add("key="+key+"\n", "", []byte{byte(len("key=" + key)), 1})
	f.Add("xAKIAIOSFODNN7EXAMPLAKIAIOSFODNN7EXAMPLE\nASIAIOSFODNN7EXAMPLA", "", []byte{21, 20, 3})
	f.Add("abcdefghijabcdefgh aaaaaaaaa\ncdefghijkl dabcd\n", "hijab|fgh", []byte{1, 2, 3, 4, 5, 6, 7})
	f.Add("a secret|nother one\nthe secret and another one", "secret|another one", []byte{8, 0, 9})
	f.Fuzz(func(t *testing.T, text, extra string, cuts []byte) {
		values := append(strings.Split(extra, "|"), overlapping...)
		r := NewRedactor(values...)
		// Held lines are cut at 64 KiB, and at a few bytes to try the cut.
		for _, limit := range []int{0, 1 + len(text)%13} {
			writeInPieces(t, text, cuts, values, &RedactWriter{redactor: func() *Redactor { return r }, limit: limit})
		}
	})
}

// writeInPieces writes text through w in the pieces cuts gives and checks
// that the output is the simple scan of the whole text.
func writeInPieces(t *testing.T, text string, cuts []byte, values []string, w *RedactWriter) {
	t.Helper()
	var out strings.Builder
	w.w = &out
	secrets := lines(values)
	bound := cmp.Or(w.limit, maxHeldLine) + len(slices.MaxFunc(secrets, func(a, b string) int { return len(a) - len(b) })) + 24
	rest := text
	for i := 0; len(rest) > 0; i++ {
		n := len(rest)
		if i < len(cuts) {
			n = min(n, int(cuts[i])%25)
		}
		if m, err := w.Write([]byte(rest[:n])); m != n || err != nil {
			t.Fatalf("Write = %d, %v", m, err)
		}
		rest = rest[n:]
		if len(w.held) > bound {
			t.Fatalf("holds %d bytes of a line (at most %d)", len(w.held), bound)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if want := naiveRedact(text, secrets); out.String() != want {
		t.Fatalf("written in pieces %v: %q\nthe simple scan of the whole text: %q", cuts, out.String(), want)
	}
	checkNoSecret(t, text, out.String(), secrets)
}

// The reproduction: a write that ends where the secret ends, then
// the line break.
func TestRedactWriterSecretAtWriteEnd(t *testing.T) {
	const key = "AKIAIOSFODNN7EXAMPLA"
	r := NewRedactor(key)
	var out strings.Builder
	w := &RedactWriter{w: &out, redactor: func() *Redactor { return r }}
	_, _ = w.Write([]byte("key=" + key))
	_, _ = w.Write([]byte("\n"))
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if out.String() != "key=[redacted]\n" {
		t.Errorf("got %q", out.String())
	}
}

// checkNoSecret fails when a secret survives the rule (marking each
// redaction with a NUL byte, which the secrets then may not hold, so that
// the mark cannot spell one), or when out differs from text that holds no
// secret.
func checkNoSecret(t *testing.T, text, out string, secrets []string) {
	t.Helper()
	found := false
	marked := naiveRedactWith(text, secrets, "\x00")
	for _, s := range secrets {
		if !strings.Contains(s, "\x00") && strings.Contains(marked, s) {
			t.Fatalf("secret %q survives in %q (from %q)", s, marked, text)
		}
		found = found || strings.Contains(text, s)
	}
	if !found && out != text {
		t.Fatalf("text without secrets changed: %q -> %q", text, out)
	}
}

// lines are the secrets of values: each line of 4 bytes or more.
func lines(values []string) []string {
	var out []string
	for _, v := range values {
		for _, s := range strings.Split(v, "\n") {
			if len(s) >= 4 {
				out = append(out, s)
			}
		}
	}
	return out
}

// naiveRedact is the rule, simply: from left to right, the longest secret
// that begins at a position is replaced, and the scan goes on after it.
func naiveRedact(text string, secrets []string) string {
	return naiveRedactWith(text, secrets, "[redacted]")
}

func naiveRedactWith(text string, secrets []string, mark string) string {
	var b strings.Builder
	for i := 0; i < len(text); {
		best := ""
		for _, s := range secrets {
			if len(s) > len(best) && strings.HasPrefix(text[i:], s) {
				best = s
			}
		}
		if best != "" {
			b.WriteString(mark)
			i += len(best)
			continue
		}
		b.WriteByte(text[i])
		i++
	}
	return b.String()
}

// Several goroutines may write at once (the CLI's progress lines and its
// report share stderr): every line comes out whole and redacted.
func TestRedactWriterConcurrent(t *testing.T) {
	const key = "AKIAIOSFODNN7EXAMPLA"
	r := NewRedactor(key)
	var out strings.Builder
	w := &RedactWriter{w: &out, redactor: func() *Redactor { return r }}
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 200 {
				fmt.Fprintf(w, "goroutine %d line %d key=%s\n", g, i, key)
			}
		}()
	}
	wg.Wait()
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	got := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	if len(got) != 800 {
		t.Fatalf("%d lines, want 800", len(got))
	}
	for _, l := range got {
		if !strings.HasSuffix(l, " key=[redacted]") {
			t.Fatalf("line %q", l)
		}
	}
}

// A line with no end (a long JSON document on one line, a run of one
// letter that secrets overlap in everywhere) is not held whole: what no
// secret can still reach is written as it comes, redacted as the whole.
func TestRedactWriterLongLineBounded(t *testing.T) {
	r := NewRedactor("aaaa", "aaaaaa", "AKIAIOSFODNN7EXAMPLA")
	text := strings.Repeat("a", 300<<10) + "AKIAIOSFODNN7EXAMPLA" + strings.Repeat("xa", 100<<10)
	var out strings.Builder
	w := &RedactWriter{w: &out, redactor: func() *Redactor { return r }}
	maxHeld := 0
	for rest := text; len(rest) > 0; {
		n := min(len(rest), 4093)
		w.Write([]byte(rest[:n]))
		rest = rest[n:]
		maxHeld = max(maxHeld, len(w.held))
	}
	w.Flush()
	if maxHeld > maxHeldLine+4096+20 {
		t.Errorf("held up to %d bytes of one line; want at most about %d", maxHeld, maxHeldLine)
	}
	if want := naiveRedact(text, []string{"aaaa", "aaaaaa", "AKIAIOSFODNN7EXAMPLA"}); out.String() != want {
		t.Errorf("long line redacted differently from the whole text (%d vs %d bytes)", out.Len(), len(want))
	}
}
