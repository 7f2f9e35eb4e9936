package main

import (
	"strings"
	"testing"
	"time"
)

func TestParseAgeDuration(t *testing.T) {
	day := 24 * time.Hour
	tests := []struct {
		in      string
		want    time.Duration
		wantErr string
	}{
		{"90d", 90 * day, ""},
		{"12h", 12 * time.Hour, ""},
		{"30m", 30 * time.Minute, ""},
		{"45s", 45 * time.Second, ""},
		{"2w", 14 * day, ""},
		{"1d12h", 36 * time.Hour, ""},
		{"1w2d3h4m5s", 9*day + 3*time.Hour + 4*time.Minute + 5*time.Second, ""},
		{"0", 0, ""},
		{"0d", 0, ""},
		{"090d", 90 * day, ""},
		{"1h1h", 2 * time.Hour, ""},
		{"106751d", 106751 * day, ""},
		{"", 0, "empty age"},
		{"90", 0, `age "90": 90 has no unit`},
		{"d", 0, `expected a number at "d"`},
		{"-5d", 0, `expected a number at "-5d"`},
		{"+5d", 0, `expected a number`},
		{"1.5d", 0, `unknown unit "."`},
		{"5y", 0, `unknown unit "y"`},
		{"5ms", 0, `unknown unit "ms"`},
		{"5D", 0, `unknown unit "D"`},
		{"5 d", 0, `unknown unit " d"`},
		{" 5d", 0, `expected a number`},
		{"106752d", 0, "too large"},
		{"99999999999999999999d", 0, "too large"},
		{"9223372036s", 9223372036 * time.Second, ""},
		{"9223372037s", 0, "too large"},
		{"106751d23h47m16s", 106751*day + 23*time.Hour + 47*time.Minute + 16*time.Second, ""},
		{"106751d23h47m17s", 0, "too large"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := parseAge(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("parseAge(%q) = %v, %v; want error containing %q", tt.in, got, err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("parseAge(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
			}
		})
	}
}

func TestFormatAgeFlagDuration(t *testing.T) {
	tests := []struct {
		in   time.Duration
		want string
	}{
		{0, "0"},
		{90 * 24 * time.Hour, "90d"},
		{36 * time.Hour, "1d12h"},
		{14 * 24 * time.Hour, "14d"},
		{61 * time.Second, "1m1s"},
	}
	for _, tt := range tests {
		if got := formatAgeFlag(tt.in); got != tt.want {
			t.Errorf("formatAgeFlag(%v) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestParseAtDuration(t *testing.T) {
	now := time.Date(2026, 6, 24, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		in      string
		want    time.Time
		wantErr string
	}{
		{"", now, ""},
		{"+30d", now.Add(30 * 24 * time.Hour), ""},
		{"-12h", now.Add(-12 * time.Hour), ""},
		{"2026-07-01", time.Date(2026, 7, 1, 0, 0, 0, 0, time.UTC), ""},
		{"2026-07-01T10:00:00+02:00", time.Date(2026, 7, 1, 8, 0, 0, 0, time.UTC), ""},
		{"2026-07-01T10:00:00.5Z", time.Date(2026, 7, 1, 10, 0, 0, 5e8, time.UTC), ""},
		{"+", time.Time{}, "empty age"},
		{"+3x", time.Time{}, `unknown unit "x"`},
		{"tomorrow", time.Time{}, `--at "tomorrow" is not a time`},
		{"2026-13-01", time.Time{}, "is not a time"},
	}
	for _, tt := range tests {
		got, err := parseAt(tt.in, now)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("parseAt(%q) = %v, %v; want error containing %q", tt.in, got, err, tt.wantErr)
			}
			continue
		}
		if err != nil || !got.Equal(tt.want) {
			t.Errorf("parseAt(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
}

// FuzzParseAgeDuration: parseAge never panics, never returns a negative
// duration, accepts only its alphabet, and what it accepts formats back to
// a string that parses to the same value.
func FuzzParseAgeDuration(f *testing.F) {
	for _, s := range []string{"90d", "12h", "1d12h", "0", "", "2w", "106751d23h47m16s", "9223372037s", "1.5d", "-1d", "5 d", "99999999999999999999h"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := parseAge(s)
		if err != nil {
			if d != 0 {
				t.Fatalf("parseAge(%q) returned %v with error %v", s, d, err)
			}
			if !strings.Contains(err.Error(), "age") {
				t.Fatalf("parseAge(%q): error %q does not say what was wrong", s, err)
			}
			return
		}
		if d < 0 {
			t.Fatalf("parseAge(%q) = %v < 0", s, d)
		}
		if strings.Trim(s, "0123456789wdhms") != "" {
			t.Fatalf("parseAge(%q) accepted characters outside digits and units", s)
		}
		back, err := parseAge(formatAgeFlag(d))
		if err != nil || back != d {
			t.Fatalf("parseAge(%q) = %v; formatAgeFlag gives %q which parses to %v, %v", s, d, formatAgeFlag(d), back, err)
		}
	})
}
