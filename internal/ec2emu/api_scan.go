package ec2emu

import (
	"fmt"
	"time"
)

// Amazon Inspector scan results of images (ScanResults in DescribeImages),
// the ScanResultCondition of Allowed-AMIs criteria and the scan-result.*
// DescribeImages filters. The emulator does not scan anything: results
// come from seeds (SeedImage.ScanResults) and stay as seeded. Derived
// images (CopyImage, CreateImage) start unscanned, as a new AMI does.

// Severity labels, lowest first (the SDK's SeverityLabel values).
var severityLabels = []string{"informational", "low", "medium", "high", "critical"}

func severityRank(s string) int {
	for i, v := range severityLabels {
		if v == s {
			return i
		}
	}
	return -1
}

// ScanResults are an image's Inspector results. FindingScanDate is always
// set (an image without it was never scanned and has no ScanResults);
// the others are nil or "" when Inspector reports nothing for them.
type ScanResults struct {
	FindingScanDate                time.Time  `json:"finding_scan_date"`
	HighestFindingSeverityLabel    string     `json:"highest_finding_severity,omitempty"`
	CriticalFixAvailableSince      *time.Time `json:"critical_fix_available_since,omitempty"`
	HighFixAvailableSince          *time.Time `json:"high_fix_available_since,omitempty"`
	MediumFixAvailableSince        *time.Time `json:"medium_fix_available_since,omitempty"`
	LowFixAvailableSince           *time.Time `json:"low_fix_available_since,omitempty"`
	InformationalFixAvailableSince *time.Time `json:"informational_fix_available_since,omitempty"`
}

// fixSince returns the fix-available time of a severity (by rank).
func (r *ScanResults) fixSince(rank int) *time.Time {
	switch rank {
	case 0:
		return r.InformationalFixAvailableSince
	case 1:
		return r.LowFixAvailableSince
	case 2:
		return r.MediumFixAvailableSince
	case 3:
		return r.HighFixAvailableSince
	case 4:
		return r.CriticalFixAvailableSince
	}
	return nil
}

// SeedScanResults is the scan_results object of a SeedImage. Times take the
// seed's time forms (RFC 3339, AWS's creationDate form, a date);
// highest_finding_severity is informational, low, medium, high or critical.
// finding_scan_date is required: an image Inspector never scanned has no
// scan_results.
type SeedScanResults struct {
	FindingScanDate                string `json:"finding_scan_date"`
	HighestFindingSeverity         string `json:"highest_finding_severity,omitempty"`
	CriticalFixAvailableSince      string `json:"critical_fix_available_since,omitempty"`
	HighFixAvailableSince          string `json:"high_fix_available_since,omitempty"`
	MediumFixAvailableSince        string `json:"medium_fix_available_since,omitempty"`
	LowFixAvailableSince           string `json:"low_fix_available_since,omitempty"`
	InformationalFixAvailableSince string `json:"informational_fix_available_since,omitempty"`
}

// seedScanResults converts and checks a seed's scan_results.
func seedScanResults(in *SeedScanResults) (*ScanResults, error) {
	if in == nil {
		return nil, nil
	}
	if in.FindingScanDate == "" {
		return nil, fmt.Errorf("scan_results.finding_scan_date is required: the time of the Inspector scan (leave scan_results out for an image that was never scanned)")
	}
	t, err := parseSeedTime("scan_results.finding_scan_date", in.FindingScanDate)
	if err != nil {
		return nil, err
	}
	r := &ScanResults{FindingScanDate: t}
	if in.HighestFindingSeverity != "" {
		if severityRank(in.HighestFindingSeverity) < 0 {
			return nil, fmt.Errorf("scan_results.highest_finding_severity %q is not a severity: use informational, low, medium, high or critical", truncateForMsg(in.HighestFindingSeverity))
		}
		r.HighestFindingSeverityLabel = in.HighestFindingSeverity
	}
	for _, f := range []struct {
		name string
		v    string
		dst  **time.Time
	}{
		{"critical_fix_available_since", in.CriticalFixAvailableSince, &r.CriticalFixAvailableSince},
		{"high_fix_available_since", in.HighFixAvailableSince, &r.HighFixAvailableSince},
		{"medium_fix_available_since", in.MediumFixAvailableSince, &r.MediumFixAvailableSince},
		{"low_fix_available_since", in.LowFixAvailableSince, &r.LowFixAvailableSince},
		{"informational_fix_available_since", in.InformationalFixAvailableSince, &r.InformationalFixAvailableSince},
	} {
		if f.v == "" {
			continue
		}
		t, err := parseSeedTime("scan_results."+f.name, f.v)
		if err != nil {
			return nil, err
		}
		*f.dst = &t
	}
	return r, nil
}

// writeScanResults renders <scanResults> (times in ISO 8601 UTC with
// milliseconds, as the SDK documents: YYYY-MM-DDThh:mm:ss.sssZ).
func writeScanResults(x *xmlOut, r *ScanResults) {
	if r == nil {
		return
	}
	x.open("scanResults")
	x.elemTime("findingScanDate", r.FindingScanDate, layoutCreationDate)
	x.elemOpt("highestFindingSeverityLabel", r.HighestFindingSeverityLabel)
	for _, f := range []struct {
		name string
		t    *time.Time
	}{
		{"criticalFixAvailableSince", r.CriticalFixAvailableSince},
		{"highFixAvailableSince", r.HighFixAvailableSince},
		{"mediumFixAvailableSince", r.MediumFixAvailableSince},
		{"lowFixAvailableSince", r.LowFixAvailableSince},
		{"informationalFixAvailableSince", r.InformationalFixAvailableSince},
	} {
		if f.t != nil {
			x.elemTime(f.name, *f.t, layoutCreationDate)
		}
	}
	x.close("scanResults")
}

// ScanCriterion is the ScanResultCondition of one image criterion. Nil
// fields are not set.
type ScanCriterion struct {
	MaximumSeverityLabel                  string `json:"maximum_severity_label,omitempty"`
	MaxDaysSinceLastFindingScan           *int64 `json:"max_days_since_last_finding_scan,omitempty"`
	MaxDaysSinceCriticalFixAvailable      *int64 `json:"max_days_since_critical_fix_available,omitempty"`
	MaxDaysSinceHighFixAvailable          *int64 `json:"max_days_since_high_fix_available,omitempty"`
	MaxDaysSinceMediumFixAvailable        *int64 `json:"max_days_since_medium_fix_available,omitempty"`
	MaxDaysSinceLowFixAvailable           *int64 `json:"max_days_since_low_fix_available,omitempty"`
	MaxDaysSinceInformationalFixAvailable *int64 `json:"max_days_since_informational_fix_available,omitempty"`
}

// fixFields pairs each MaxDaysSince<Severity>FixAvailable wire name with
// its field and the severity rank it concerns, highest severity first.
func (c *ScanCriterion) fixFields() []struct {
	wire string
	v    **int64
	rank int
} {
	return []struct {
		wire string
		v    **int64
		rank int
	}{
		{"MaxDaysSinceCriticalFixAvailable", &c.MaxDaysSinceCriticalFixAvailable, 4},
		{"MaxDaysSinceHighFixAvailable", &c.MaxDaysSinceHighFixAvailable, 3},
		{"MaxDaysSinceMediumFixAvailable", &c.MaxDaysSinceMediumFixAvailable, 2},
		{"MaxDaysSinceLowFixAvailable", &c.MaxDaysSinceLowFixAvailable, 1},
		{"MaxDaysSinceInformationalFixAvailable", &c.MaxDaysSinceInformationalFixAvailable, 0},
	}
}

// parseScanCriterion reads ImageCriterion.N.ScanResultCondition.*. No key
// present: nil (the SDK sends no key for an empty condition, so an empty
// one cannot reach the server).
func parseScanCriterion(rq *request, p string) (*ScanCriterion, *apiError) {
	sp := p + ".ScanResultCondition"
	c := &ScanCriterion{}
	set := false
	if rq.has(sp + ".MaximumSeverityLabel") {
		v := rq.get(sp + ".MaximumSeverityLabel")
		if severityRank(v) < 0 {
			return nil, errInvalidValue(sp+".MaximumSeverityLabel", truncateForMsg(v), "Valid values are informational, low, medium, high and critical.")
		}
		c.MaximumSeverityLabel, set = v, true
	}
	var aerr *apiError
	if c.MaxDaysSinceLastFindingScan, aerr = daysParam(rq, sp+".MaxDaysSinceLastFindingScan"); aerr != nil {
		return nil, aerr
	}
	set = set || c.MaxDaysSinceLastFindingScan != nil
	for _, f := range c.fixFields() {
		if *f.v, aerr = daysParam(rq, sp+"."+f.wire); aerr != nil {
			return nil, aerr
		}
		set = set || *f.v != nil
	}
	if !set {
		return nil, nil
	}
	return c, nil
}

// writeScanCriterion renders <scanResultCondition> for
// GetAllowedImagesSettings.
func writeScanCriterion(x *xmlOut, c *ScanCriterion) {
	if c == nil {
		return
	}
	x.open("scanResultCondition")
	x.elemOpt("maximumSeverityLabel", c.MaximumSeverityLabel)
	if c.MaxDaysSinceLastFindingScan != nil {
		x.elemInt("maxDaysSinceLastFindingScan", *c.MaxDaysSinceLastFindingScan)
	}
	for _, f := range c.fixFields() {
		if *f.v != nil {
			x.elemInt("m"+f.wire[1:], **f.v)
		}
	}
	x.close("scanResultCondition")
}

// scanCriterionMatches: every set field must hold, and an image Inspector
// has not scanned never matches ("AMIs that Amazon Inspector has not
// scanned are not allowed"). A scanned image without findings meets
// MaximumSeverityLabel; one without a fix for a severity meets that
// severity's MaxDaysSince...FixAvailable. Ages compare as elapsed <= N×24h.
func scanCriterionMatches(c *ScanCriterion, img *Image, now time.Time) bool {
	r := img.ScanResults
	if r == nil || r.FindingScanDate.IsZero() {
		return false
	}
	if c.MaxDaysSinceLastFindingScan != nil && !withinDays(now.Sub(r.FindingScanDate), *c.MaxDaysSinceLastFindingScan) {
		return false
	}
	if c.MaximumSeverityLabel != "" && r.HighestFindingSeverityLabel != "" &&
		severityRank(r.HighestFindingSeverityLabel) > severityRank(c.MaximumSeverityLabel) {
		return false
	}
	for _, f := range c.fixFields() {
		since := r.fixSince(f.rank)
		if *f.v == nil || since == nil {
			continue
		}
		if !withinDays(now.Sub(*since), **f.v) {
			return false
		}
	}
	return true
}

// scanFilterValue is the value a scan-result.* filter compares for img;
// ok false when the image has no such value (the filter does not match).
func scanFilterValue(kind filterKind, img *Image) (string, bool) {
	r := img.ScanResults
	if r == nil {
		return "", false
	}
	var t *time.Time
	switch kind {
	case fScanFindingScanDate:
		t = &r.FindingScanDate
	case fScanHighestSeverity:
		return r.HighestFindingSeverityLabel, r.HighestFindingSeverityLabel != ""
	case fScanCriticalFix:
		t = r.CriticalFixAvailableSince
	case fScanHighFix:
		t = r.HighFixAvailableSince
	case fScanMediumFix:
		t = r.MediumFixAvailableSince
	case fScanLowFix:
		t = r.LowFixAvailableSince
	case fScanInformationalFix:
		t = r.InformationalFixAvailableSince
	}
	if t == nil || t.IsZero() {
		return "", false
	}
	return formatCreationDate(*t), true
}
