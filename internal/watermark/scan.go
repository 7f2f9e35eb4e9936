package watermark

import (
	"fmt"
	"strings"
	"time"
)

// Severity is an Amazon Inspector severity label, as EC2 reports it in an
// image's scan results (HighestFindingSeverityLabel) and takes it in a
// ScanResultCondition (MaximumSeverityLabel).
type Severity string

// The Amazon Inspector severity labels, lowest first.
const (
	SeverityInformational Severity = "informational"
	SeverityLow           Severity = "low"
	SeverityMedium        Severity = "medium"
	SeverityHigh          Severity = "high"
	SeverityCritical      Severity = "critical"
)

// Severities are the severity labels, lowest first.
var Severities = []Severity{SeverityInformational, SeverityLow, SeverityMedium, SeverityHigh, SeverityCritical}

// Rank is the position of s in Severities (informational 0 ... critical
// 4), or -1 when s is not a severity label.
func (s Severity) Rank() int {
	for i, v := range Severities {
		if s == v {
			return i
		}
	}
	return -1
}

// ParseSeverity parses a severity label. Labels are lowercase, as EC2 and
// Inspector write them; any other spelling is an error.
func ParseSeverity(s string) (Severity, error) {
	if Severity(s).Rank() >= 0 {
		return Severity(s), nil
	}
	return "", fmt.Errorf("%q is not a severity: use %s", truncate(s), severityList())
}

func severityList() string {
	names := make([]string, len(Severities))
	for i, s := range Severities {
		names[i] = string(s)
	}
	return strings.Join(names, ", ")
}

// ScanResults are an image's Amazon Inspector scan results, the
// ScanResults of DescribeImages. Zero times and an empty severity are
// fields EC2 did not report.
type ScanResults struct {
	// FindingScanDate is the time of the most recent scan.
	FindingScanDate time.Time
	// HighestFindingSeverity is the highest severity of the image's
	// findings, with or without a fix; "" when the image has no finding.
	HighestFindingSeverity Severity
	// FixAvailableSince is, per severity, the earliest time Inspector
	// reported a fix as available for a finding of that severity; absent
	// when there is no such finding with a fix.
	CriticalFixAvailableSince      time.Time
	HighFixAvailableSince          time.Time
	MediumFixAvailableSince        time.Time
	LowFixAvailableSince           time.Time
	InformationalFixAvailableSince time.Time
}

// Scanned reports whether the image has been scanned by Amazon Inspector:
// EC2 reports scan results with a finding scan date.
func (r *ScanResults) Scanned() bool { return r != nil && !r.FindingScanDate.IsZero() }

// FixAvailableSince returns the fix-available time of severity s (zero when
// not reported).
func (r *ScanResults) FixAvailableSince(s Severity) time.Time {
	if r == nil {
		return time.Time{}
	}
	switch s {
	case SeverityCritical:
		return r.CriticalFixAvailableSince
	case SeverityHigh:
		return r.HighFixAvailableSince
	case SeverityMedium:
		return r.MediumFixAvailableSince
	case SeverityLow:
		return r.LowFixAvailableSince
	case SeverityInformational:
		return r.InformationalFixAvailableSince
	}
	return time.Time{}
}

// ScanResultCondition is the ScanResultCondition of an Allowed-AMIs image
// criterion: conditions on the image's Amazon Inspector scan results. When
// any field is set, an image Inspector has not scanned does not match.
type ScanResultCondition struct {
	// MaximumSeverityLabel: the image's highest finding severity is at
	// most this one (an image without findings meets it).
	MaximumSeverityLabel *Severity `json:"MaximumSeverityLabel,omitempty"`
	// MaxDaysSinceLastFindingScan: the image was scanned at most N days
	// ago.
	MaxDaysSinceLastFindingScan *int64 `json:"MaxDaysSinceLastFindingScan,omitempty"`
	// MaxDaysSince<Severity>FixAvailable: a fix for a finding of that
	// severity became available at most N days ago (an image with no such
	// finding with a fix meets it).
	MaxDaysSinceCriticalFixAvailable      *int64 `json:"MaxDaysSinceCriticalFixAvailable,omitempty"`
	MaxDaysSinceHighFixAvailable          *int64 `json:"MaxDaysSinceHighFixAvailable,omitempty"`
	MaxDaysSinceMediumFixAvailable        *int64 `json:"MaxDaysSinceMediumFixAvailable,omitempty"`
	MaxDaysSinceLowFixAvailable           *int64 `json:"MaxDaysSinceLowFixAvailable,omitempty"`
	MaxDaysSinceInformationalFixAvailable *int64 `json:"MaxDaysSinceInformationalFixAvailable,omitempty"`
}

// FixDays returns the MaxDaysSince<s>FixAvailable field of severity s.
func (c *ScanResultCondition) FixDays(s Severity) *int64 {
	switch s {
	case SeverityCritical:
		return c.MaxDaysSinceCriticalFixAvailable
	case SeverityHigh:
		return c.MaxDaysSinceHighFixAvailable
	case SeverityMedium:
		return c.MaxDaysSinceMediumFixAvailable
	case SeverityLow:
		return c.MaxDaysSinceLowFixAvailable
	case SeverityInformational:
		return c.MaxDaysSinceInformationalFixAvailable
	}
	return nil
}

// SetFixDays sets the MaxDaysSince<s>FixAvailable field of severity s.
func (c *ScanResultCondition) SetFixDays(s Severity, days *int64) {
	switch s {
	case SeverityCritical:
		c.MaxDaysSinceCriticalFixAvailable = days
	case SeverityHigh:
		c.MaxDaysSinceHighFixAvailable = days
	case SeverityMedium:
		c.MaxDaysSinceMediumFixAvailable = days
	case SeverityLow:
		c.MaxDaysSinceLowFixAvailable = days
	case SeverityInformational:
		c.MaxDaysSinceInformationalFixAvailable = days
	}
}

// FixFieldName is the name of the MaxDaysSince<s>FixAvailable field.
func FixFieldName(s Severity) string {
	if s.Rank() < 0 {
		return ""
	}
	return "MaxDaysSince" + strings.ToUpper(string(s[:1])) + string(s[1:]) + "FixAvailable"
}

// IsEmpty reports whether no field is set.
func (c *ScanResultCondition) IsEmpty() bool {
	if c.MaximumSeverityLabel != nil || c.MaxDaysSinceLastFindingScan != nil {
		return false
	}
	for _, s := range Severities {
		if c.FixDays(s) != nil {
			return false
		}
	}
	return true
}

func (c *ScanResultCondition) validate() error {
	if c.IsEmpty() {
		return fmt.Errorf("ScanResultCondition sets no field: set MaximumSeverityLabel, MaxDaysSinceLastFindingScan or a MaxDaysSince<Severity>FixAvailable field, or leave ScanResultCondition out")
	}
	if c.MaximumSeverityLabel != nil {
		if _, err := ParseSeverity(string(*c.MaximumSeverityLabel)); err != nil {
			return fmt.Errorf("ScanResultCondition.MaximumSeverityLabel: %v", err)
		}
	}
	if err := validDays("ScanResultCondition.MaxDaysSinceLastFindingScan", c.MaxDaysSinceLastFindingScan); err != nil {
		return err
	}
	for _, s := range Severities {
		if err := validDays("ScanResultCondition."+FixFieldName(s), c.FixDays(s)); err != nil {
			return err
		}
	}
	return nil
}

// Check reports whether scan results r meet the condition at now, and,
// when they do not, why. Every set field must hold; an image that was not
// scanned meets no condition.
func (c *ScanResultCondition) Check(r *ScanResults, now time.Time) (bool, string) {
	if c.IsEmpty() {
		return false, "the ScanResultCondition sets no field"
	}
	if !r.Scanned() {
		return false, "not scanned by Amazon Inspector (ScanResultCondition admits only scanned images)"
	}
	if c.MaxDaysSinceLastFindingScan != nil && !WithinDays(now, r.FindingScanDate, *c.MaxDaysSinceLastFindingScan) {
		return false, fmt.Sprintf("last scanned %s, more than %d days ago", r.FindingScanDate.UTC().Format(time.RFC3339), *c.MaxDaysSinceLastFindingScan)
	}
	if m := c.MaximumSeverityLabel; m != nil && r.HighestFindingSeverity != "" {
		have := r.HighestFindingSeverity.Rank()
		if have < 0 || have > m.Rank() {
			return false, fmt.Sprintf("highest finding severity %s is above %s", r.HighestFindingSeverity, *m)
		}
	}
	for i := len(Severities) - 1; i >= 0; i-- {
		s := Severities[i]
		days := c.FixDays(s)
		since := r.FixAvailableSince(s)
		if days == nil || since.IsZero() {
			continue
		}
		if !WithinDays(now, since, *days) {
			return false, fmt.Sprintf("a fix for a %s finding has been available since %s, more than %d days", s, since.UTC().Format(time.RFC3339), *days)
		}
	}
	return true, ""
}
