package amiwatermark

import (
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestParseWaitTimeout: the table of wait_timeout values; the texts are the
// ones Configure reports (see TestConfigure for the same through Configure).
func TestParseWaitTimeout(t *testing.T) {
	cases := []struct {
		in   string
		want time.Duration
		err  string
	}{
		{in: "", want: DefaultWaitTimeout},
		{in: "30m", want: 30 * time.Minute},
		{in: "1h30m", want: 90 * time.Minute},
		{in: "90s", want: 90 * time.Second},
		{in: "1ns", want: 1},
		{in: "0", err: `wait_timeout "0" must be greater than zero`},
		{in: "-1s", err: `wait_timeout "-1s" must be greater than zero`},
		{in: "30", err: `wait_timeout "30" is not a duration: write it like 30m, 1h or 90s`},
		{in: "30 minutes", err: `wait_timeout "30 minutes" is not a duration: write it like 30m, 1h or 90s`},
		{in: "9999999999h", err: `wait_timeout "9999999999h" is not a duration: write it like 30m, 1h or 90s`},
		{in: "1d", err: `wait_timeout "1d" is not a duration: write it like 30m, 1h or 90s`},
		{in: "\xff", err: `wait_timeout "\xff" is not a duration: write it like 30m, 1h or 90s`},
	}
	for _, c := range cases {
		got, err := parseWaitTimeout(c.in)
		switch {
		case c.err != "" && (err == nil || err.Error() != c.err):
			t.Errorf("parseWaitTimeout(%q) = %v, %v; want error %q", c.in, got, err, c.err)
		case c.err == "" && (err != nil || got != c.want):
			t.Errorf("parseWaitTimeout(%q) = %v, %v; want %v", c.in, got, err, c.want)
		}
	}
}

// FuzzParseWaitTimeout: never panics; a value it accepts is positive and is
// exactly what time.ParseDuration reads (the default for ""); an error
// quotes the value and says how to write one.
func FuzzParseWaitTimeout(f *testing.F) {
	for _, s := range []string{"", "30m", "1h", "90s", "0", "-1s", "1.5h", ".5s", "1h2m3s4ms5us6ns", "9223372036854775807ns",
		"9223372036854775808ns", "1e3s", "+5m", "5m ", " 5m", "1d", "∞", "1µs", "0x10s"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := parseWaitTimeout(s)
		if err != nil {
			msg := err.Error()
			if d != 0 || !strings.HasPrefix(msg, "wait_timeout "+strconv.Quote(s)+" ") {
				t.Fatalf("parseWaitTimeout(%q) = %v, %q", s, d, msg)
			}
			if !strings.Contains(msg, "write it like 30m") && !strings.Contains(msg, "greater than zero") {
				t.Fatalf("error for %q does not say what to do: %q", s, msg)
			}
			return
		}
		if d <= 0 {
			t.Fatalf("parseWaitTimeout(%q) accepted %v", s, d)
		}
		if s == "" {
			if d != DefaultWaitTimeout {
				t.Fatalf("default %v", d)
			}
			return
		}
		if want, perr := time.ParseDuration(s); perr != nil || want != d {
			t.Fatalf("parseWaitTimeout(%q) = %v, time.ParseDuration says %v, %v", s, d, want, perr)
		}
	})
}
