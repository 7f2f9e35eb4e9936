package watermark

import (
	"math"
	"time"
)

// MaxDays is the largest day count EC2 accepts in an Allowed-AMIs condition
// (0 to 2147483647), and the bound the components put on their own day
// settings.
const MaxDays = math.MaxInt32

// durationDays is the largest day count that fits a time.Duration (about
// 106 751 days): larger counts are longer than any elapsed time Go can
// represent.
const durationDays = int64(math.MaxInt64 / int64(24*time.Hour))

// Days returns n days of 24 hours as a duration, saturating at the largest
// duration instead of wrapping around (n×24h overflows from 106 752 days up,
// and EC2 accepts up to 2 147 483 647). Negative n gives a negative
// duration, saturating likewise.
func Days(n int64) time.Duration {
	switch {
	case n > durationDays:
		return math.MaxInt64
	case n < -durationDays:
		return math.MinInt64
	}
	return time.Duration(n) * 24 * time.Hour
}

// WithinAge reports now - t <= max: the one age comparison of the domain,
// used for every Allowed-AMIs day condition, the data source's and the
// CLI's age limits. A zero t (the time was not reported) is never within a
// limit; a t in the future always is (when max is not negative). The
// elapsed time saturates rather than wrapping, so a limit of the largest
// duration admits every reported time.
func WithinAge(now, t time.Time, max time.Duration) bool {
	if t.IsZero() || max < 0 {
		return false
	}
	return now.Sub(t) <= max
}

// WithinDays reports now - t <= days × 24h, as Allowed AMIs counts ages,
// without overflow for any day count (see Days and WithinAge).
func WithinDays(now, t time.Time, days int64) bool {
	return WithinAge(now, t, Days(days))
}
