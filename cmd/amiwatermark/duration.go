package main

import (
	"fmt"
	"math"
	"strings"
	"time"
)

// ageUnits are the units parseAge accepts, largest first.
var ageUnits = []struct {
	unit string
	d    time.Duration
}{
	{"w", 7 * 24 * time.Hour},
	{"d", 24 * time.Hour},
	{"h", time.Hour},
	{"m", time.Minute},
	{"s", time.Second},
}

// parseAge parses an age such as 90d, 12h, 2w, 1d12h or 30m: one or more
// runs of decimal digits each followed by a unit w (7 days), d (24 hours),
// h, m or s; "0" alone is zero. Fractions, signs, spaces and units such as
// "ms" or "y" are refused (a month or a year has no fixed length). The
// result is at most about 292 years (time.Duration's range).
func parseAge(s string) (time.Duration, error) {
	const help = "write a whole number and a unit: w (weeks), d (days of 24h), h, m or s, for example 90d, 12h or 1d12h"
	if s == "" {
		return 0, fmt.Errorf("empty age: %s", help)
	}
	if s == "0" {
		return 0, nil
	}
	var total time.Duration
	rest := s
	for rest != "" {
		i := 0
		for i < len(rest) && rest[i] >= '0' && rest[i] <= '9' {
			i++
		}
		if i == 0 {
			return 0, fmt.Errorf("age %q: expected a number at %q: %s", s, rest, help)
		}
		digits := rest[:i]
		rest = rest[i:]
		j := 0
		for j < len(rest) && (rest[j] < '0' || rest[j] > '9') {
			j++
		}
		unit := rest[:j]
		rest = rest[j:]
		var per time.Duration
		for _, u := range ageUnits {
			if u.unit == unit {
				per = u.d
			}
		}
		if per == 0 {
			if unit == "" {
				return 0, fmt.Errorf("age %q: %s has no unit: %s", s, digits, help)
			}
			return 0, fmt.Errorf("age %q: unknown unit %q: %s", s, unit, help)
		}
		n, ok := atoi64(digits)
		if !ok || n > int64(math.MaxInt64/per) || total > math.MaxInt64-time.Duration(n)*per {
			return 0, fmt.Errorf("age %q is too large: at most about 292 years (106751d)", s)
		}
		total += time.Duration(n) * per
	}
	return total, nil
}

// atoi64 parses a run of ASCII digits; false on overflow.
func atoi64(digits string) (int64, bool) {
	var n int64
	for _, c := range digits {
		d := int64(c - '0')
		if n > (math.MaxInt64-d)/10 {
			return 0, false
		}
		n = n*10 + d
	}
	return n, true
}

// formatAgeFlag renders a duration in parseAge's units, largest first
// (90d, 1d12h, 0): formatAgeFlag(parseAge(s)) parses back to the same value.
func formatAgeFlag(d time.Duration) string {
	if d <= 0 {
		return "0"
	}
	var b strings.Builder
	for _, u := range ageUnits[1:] { // d, h, m, s: weeks read worse in messages
		if n := d / u.d; n > 0 {
			fmt.Fprintf(&b, "%d%s", int64(n), u.unit)
			d -= n * u.d
		}
	}
	if d > 0 { // sub-second rest; parseAge never produces it
		fmt.Fprintf(&b, "%dns", int64(d))
	}
	return b.String()
}

// parseAt parses the --at flag: an RFC 3339 time (2026-07-01T00:00:00Z), a
// date (2026-07-01, midnight UTC), or +AGE / -AGE relative to now (+30d: in
// 30 days).
func parseAt(s string, now time.Time) (time.Time, error) {
	if s == "" {
		return now, nil
	}
	if s[0] == '+' || s[0] == '-' {
		d, err := parseAge(s[1:])
		if err != nil {
			return time.Time{}, fmt.Errorf("--at %q: %v", s, err)
		}
		if s[0] == '-' {
			d = -d
		}
		return now.Add(d), nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t.UTC(), nil
	}
	if t, err := time.Parse("2006-01-02", s); err == nil {
		return t.UTC(), nil
	}
	return time.Time{}, fmt.Errorf("--at %q is not a time: write 2026-07-01T00:00:00Z, 2026-07-01, or +30d (in 30 days)", s)
}
