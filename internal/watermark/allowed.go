package watermark

import (
	"bytes"
	"fmt"
	"math"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// Allowed-AMIs limits (EC2 user guide).
const (
	MaxCriteria                 = 10
	MaxProvidersPerCriterion    = 200
	MaxNamesPerCriterion        = 50
	MaxProductCodesPerCriterion = 50
	MaxWatermarksPerCriterion   = 50
)

// Criteria is the list given to ReplaceImageCriteriaInAllowedImagesSettings.
// Criteria are ORed; the parameters inside one criterion are ANDed.
type Criteria []Criterion

// Criterion is one Allowed-AMIs image criterion, in the JSON form of
// `aws ec2 replace-image-criteria-in-allowed-images-settings --image-criteria`.
type Criterion struct {
	ImageProviders           []string                  `json:"ImageProviders,omitempty"`
	ImageNames               []string                  `json:"ImageNames,omitempty"`
	MarketplaceProductCodes  []string                  `json:"MarketplaceProductCodes,omitempty"`
	CreationDateCondition    *CreationDateCondition    `json:"CreationDateCondition,omitempty"`
	DeprecationTimeCondition *DeprecationTimeCondition `json:"DeprecationTimeCondition,omitempty"`
	ImageWatermarks          []WatermarkFilter         `json:"ImageWatermarks,omitempty"`
	ScanResultCondition      *ScanResultCondition      `json:"ScanResultCondition,omitempty"`
}

// CreationDateCondition: the image was created at most N days ago.
type CreationDateCondition struct {
	MaximumDaysSinceCreated *int64 `json:"MaximumDaysSinceCreated,omitempty"`
}

// DeprecationTimeCondition: the image is not deprecated, or was deprecated at
// most N days ago.
type DeprecationTimeCondition struct {
	MaximumDaysSinceDeprecated *int64 `json:"MaximumDaysSinceDeprecated,omitempty"`
}

// WatermarkFilter is one ImageWatermarks entry: every field that is set must
// hold on the same watermark of the image.
type WatermarkFilter struct {
	WatermarkKey                       *string `json:"WatermarkKey,omitempty"`
	SourceImageRegion                  *string `json:"SourceImageRegion,omitempty"`
	MaximumDaysSinceWatermarkCreated   *int64  `json:"MaximumDaysSinceWatermarkCreated,omitempty"`
	MaximumDaysSinceSourceImageCreated *int64  `json:"MaximumDaysSinceSourceImageCreated,omitempty"`
}

// ParseCriteriaJSON reads criteria in any of the forms users have them in:
//
//   - a JSON array of criteria, as `aws ec2
//     replace-image-criteria-in-allowed-images-settings --image-criteria`
//     takes it;
//   - an object with an "ImageCriteria" array: the --cli-input-json form,
//     and the output of `aws ec2 get-allowed-images-settings` (with State
//     and ManagedBy);
//   - an AWS Organizations declarative policy with
//     ec2_attributes.allowed_images_settings (see ParseDeclarativePolicy).
//
// Field names are case-sensitive; unknown and repeated keys are errors, so
// a typo cannot silently widen a policy. data must be one JSON array or
// object (not null), at most MaxCriteriaFileSize bytes and MaxCriteriaDepth
// levels deep, with nothing but white space after it. The criteria are validated with
// EC2's limits.
func ParseCriteriaJSON(data []byte) (Criteria, error) {
	data = bytes.TrimSpace(data)
	if len(data) == 0 {
		return nil, fmt.Errorf("the criteria JSON is empty: give a JSON array of criteria, for example [{\"ImageWatermarks\":[{\"WatermarkKey\":\"111122223333:golden\"}]}]")
	}
	if err := checkJSONShape(data); err != nil {
		return nil, fmt.Errorf("reading the criteria JSON: %v", err)
	}
	var c Criteria
	if data[0] == '{' {
		if isDeclarativePolicy(data) {
			p, err := ParseDeclarativePolicy(data)
			if err != nil {
				return nil, err
			}
			return p.Criteria, nil
		}
		var wrap struct {
			ImageCriteria Criteria `json:"ImageCriteria"`
			DryRun        *bool    `json:"DryRun,omitempty"`
			State         *string  `json:"State,omitempty"`
			ManagedBy     *string  `json:"ManagedBy,omitempty"`
		}
		if err := strictUnmarshal(data, &wrap); err != nil {
			return nil, err
		}
		c = wrap.ImageCriteria
	} else if err := strictUnmarshal(data, &c); err != nil {
		return nil, err
	}
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return c, nil
}

// Validate checks the criteria against EC2's rules; the error names the
// criterion (1-based) and the field.
func (c Criteria) Validate() error {
	if len(c) > MaxCriteria {
		return fmt.Errorf("there are %d criteria: EC2 allows at most %d", len(c), MaxCriteria)
	}
	for i, cr := range c {
		if err := cr.validate(); err != nil {
			return fmt.Errorf("criterion %d: %w", i+1, err)
		}
	}
	return nil
}

func validDays(field string, v *int64) error {
	if v != nil && (*v < 0 || *v > math.MaxInt32) {
		return fmt.Errorf("%s is %d: it must be between 0 and 2147483647", field, *v)
	}
	return nil
}

func (cr Criterion) validate() error {
	if len(cr.ImageProviders) > MaxProvidersPerCriterion {
		return fmt.Errorf("ImageProviders has %d values: at most %d", len(cr.ImageProviders), MaxProvidersPerCriterion)
	}
	for _, p := range cr.ImageProviders {
		switch {
		case p == "amazon", p == "aws-marketplace", p == "aws-backup-vault", IsAccountID(p):
		case p == "none":
			if len(cr.ImageProviders) != 1 {
				return fmt.Errorf("ImageProviders: \"none\" must be the only value")
			}
		default:
			return fmt.Errorf("ImageProviders: %q is not amazon, aws-marketplace, aws-backup-vault, none or a 12-digit account id", p)
		}
	}
	if len(cr.ImageNames) > MaxNamesPerCriterion {
		return fmt.Errorf("ImageNames has %d values: at most %d", len(cr.ImageNames), MaxNamesPerCriterion)
	}
	for _, n := range cr.ImageNames {
		if len(n) < 1 || len(n) > 128 {
			return fmt.Errorf("ImageNames: %q must be 1-128 characters", truncate(n))
		}
		for _, r := range n {
			if !nameChar(r) && r != '*' && r != '?' {
				return fmt.Errorf("ImageNames: %q has the character %q: use letters, digits, spaces, ( ) [ ] . / - ' @ _ and the wildcards * ?", truncate(n), r)
			}
		}
		if strings.Contains(n, "?") && len(n) < 3 {
			return fmt.Errorf("ImageNames: %q uses '?' and must then be at least 3 characters", n)
		}
	}
	if len(cr.MarketplaceProductCodes) > MaxProductCodesPerCriterion {
		return fmt.Errorf("MarketplaceProductCodes has %d values: at most %d", len(cr.MarketplaceProductCodes), MaxProductCodesPerCriterion)
	}
	for _, pc := range cr.MarketplaceProductCodes {
		if len(pc) < 1 || len(pc) > 25 || !isAlnum(pc) {
			return fmt.Errorf("MarketplaceProductCodes: %q must be 1-25 letters or digits", truncate(pc))
		}
	}
	if cr.CreationDateCondition != nil {
		if err := validDays("CreationDateCondition.MaximumDaysSinceCreated", cr.CreationDateCondition.MaximumDaysSinceCreated); err != nil {
			return err
		}
	}
	if cr.DeprecationTimeCondition != nil {
		if err := validDays("DeprecationTimeCondition.MaximumDaysSinceDeprecated", cr.DeprecationTimeCondition.MaximumDaysSinceDeprecated); err != nil {
			return err
		}
	}
	if len(cr.ImageWatermarks) > MaxWatermarksPerCriterion {
		return fmt.Errorf("ImageWatermarks has %d filters: at most %d", len(cr.ImageWatermarks), MaxWatermarksPerCriterion)
	}
	for j, wf := range cr.ImageWatermarks {
		if wf.WatermarkKey == nil && wf.SourceImageRegion == nil && wf.MaximumDaysSinceWatermarkCreated == nil && wf.MaximumDaysSinceSourceImageCreated == nil {
			return fmt.Errorf("ImageWatermarks[%d] sets no field: set WatermarkKey, SourceImageRegion, MaximumDaysSinceWatermarkCreated or MaximumDaysSinceSourceImageCreated", j+1)
		}
		if err := validDays(fmt.Sprintf("ImageWatermarks[%d].MaximumDaysSinceWatermarkCreated", j+1), wf.MaximumDaysSinceWatermarkCreated); err != nil {
			return err
		}
		if err := validDays(fmt.Sprintf("ImageWatermarks[%d].MaximumDaysSinceSourceImageCreated", j+1), wf.MaximumDaysSinceSourceImageCreated); err != nil {
			return err
		}
	}
	if cr.ScanResultCondition != nil {
		if err := cr.ScanResultCondition.validate(); err != nil {
			return err
		}
	}
	return nil
}

func isAlnum(s string) bool {
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}

// Verdict is the outcome of evaluating criteria on one image.
type Verdict struct {
	Allowed bool
	// Reason says why: "owned by the caller", "criterion 2 matches", or,
	// when not allowed, why each criterion failed.
	Reason string
}

// Evaluate applies the criteria to img as EC2 does for caller at now: an
// image the caller owns is always allowed; otherwise it is allowed when at
// least one criterion matches (no criteria: nothing but own images).
func (c Criteria) Evaluate(img Image, caller string, now time.Time) Verdict {
	if img.OwnerID != "" && img.OwnerID == caller {
		return Verdict{Allowed: true, Reason: "owned by the caller (own AMIs are never restricted)"}
	}
	if len(c) == 0 {
		return Verdict{Allowed: false, Reason: "no criteria: only the account's own AMIs are allowed"}
	}
	// The reasons are built without fmt: an organization-wide simulate
	// evaluates hundreds of thousands of images.
	fails := make([]byte, 0, 128)
	for i, cr := range c {
		ok, why := cr.Match(img, now)
		if ok {
			return Verdict{Allowed: true, Reason: criterionMatches(i)}
		}
		if i > 0 {
			fails = append(fails, "; "...)
		}
		fails = append(fails, "criterion "...)
		fails = strconv.AppendInt(fails, int64(i+1), 10)
		fails = append(fails, ": "...)
		fails = append(fails, why...)
	}
	return Verdict{Allowed: false, Reason: failReason(fails)}
}

// failReason is the reason text as a string. The last one is kept and
// given again when the next is the same, as the reasons of a scan repeat
// image after image.
func failReason(text []byte) string {
	if last := lastFailReason.Load(); last != nil && *last == string(text) {
		return *last
	}
	r := string(text)
	lastFailReason.Store(&r)
	return r
}

var lastFailReason atomic.Pointer[string]

// criterionMatches is the reason of an image that criterion i matches.
func criterionMatches(i int) string {
	if i < len(matchesReasons) {
		return matchesReasons[i]
	}
	return "criterion " + strconv.Itoa(i+1) + " matches"
}

var matchesReasons = func() (r [MaxCriteria]string) {
	for i := range r {
		r[i] = "criterion " + strconv.Itoa(i+1) + " matches"
	}
	return r
}()

// Match reports whether the criterion matches img (every parameter that is
// set holds), and, when it does not, the first parameter that failed.
func (cr Criterion) Match(img Image, now time.Time) (bool, string) {
	set := false
	if len(cr.ImageProviders) > 0 {
		set = true
		if !matchProvider(cr.ImageProviders, img) {
			return false, fmt.Sprintf("provider %s not in ImageProviders", providerOf(img))
		}
	}
	if len(cr.ImageNames) > 0 {
		set = true
		ok := false
		for _, n := range cr.ImageNames {
			if Glob(n, img.Name) {
				ok = true
				break
			}
		}
		if !ok {
			return false, fmt.Sprintf("name %q matches no ImageNames pattern", img.Name)
		}
	}
	if len(cr.MarketplaceProductCodes) > 0 {
		set = true
		ok := false
		for _, pc := range cr.MarketplaceProductCodes {
			for _, have := range img.ProductCodes {
				if pc == have {
					ok = true
				}
			}
		}
		if !ok {
			return false, "no product code in MarketplaceProductCodes"
		}
	}
	if cd := cr.CreationDateCondition; cd != nil && cd.MaximumDaysSinceCreated != nil {
		set = true
		if img.CreationDate.IsZero() || !WithinDays(now, img.CreationDate, *cd.MaximumDaysSinceCreated) {
			return false, fmt.Sprintf("created more than %d days ago", *cd.MaximumDaysSinceCreated)
		}
	}
	if dc := cr.DeprecationTimeCondition; dc != nil && dc.MaximumDaysSinceDeprecated != nil {
		set = true
		// Deprecated: the deprecation time has been reached. 0 excludes
		// every deprecated image (EC2: "Set to 0 to exclude all deprecated
		// images"), also one deprecated this very instant.
		dep, n := img.DeprecationTime, *dc.MaximumDaysSinceDeprecated
		if !dep.IsZero() && !dep.After(now) {
			if n == 0 {
				return false, "deprecated (MaximumDaysSinceDeprecated 0 excludes every deprecated image)"
			}
			if !WithinDays(now, dep, n) {
				return false, fmt.Sprintf("deprecated more than %d days ago", n)
			}
		}
	}
	if len(cr.ImageWatermarks) > 0 {
		set = true
		ok := false
		for _, wf := range cr.ImageWatermarks {
			if wf.matchAny(img.Watermarks, now) {
				ok = true
				break
			}
		}
		if !ok {
			return false, "no watermark satisfies any ImageWatermarks filter"
		}
	}
	if sc := cr.ScanResultCondition; sc != nil && !sc.IsEmpty() {
		set = true
		if ok, why := sc.Check(img.ScanResults, now); !ok {
			return false, why
		}
	}
	if !set {
		return false, "the criterion sets no parameter"
	}
	return true, ""
}

func providerOf(img Image) string {
	if img.OwnerAlias != "" {
		return img.OwnerAlias
	}
	return img.OwnerID
}

func matchProvider(providers []string, img Image) bool {
	for _, p := range providers {
		if p == "none" {
			continue // matches only the caller's own images, handled before
		}
		if p == img.OwnerID || (img.OwnerAlias != "" && p == img.OwnerAlias) {
			return true
		}
	}
	return false
}

// matchAny reports whether one watermark satisfies every set field of f.
func (f WatermarkFilter) matchAny(ws []Watermark, now time.Time) bool {
	if f.WatermarkKey == nil && f.SourceImageRegion == nil && f.MaximumDaysSinceWatermarkCreated == nil && f.MaximumDaysSinceSourceImageCreated == nil {
		return false
	}
	for _, w := range ws {
		if f.WatermarkKey != nil && !Glob(*f.WatermarkKey, w.Key) {
			continue
		}
		if f.SourceImageRegion != nil && !Glob(*f.SourceImageRegion, w.SourceImageRegion) {
			continue
		}
		if f.MaximumDaysSinceWatermarkCreated != nil && (w.WatermarkCreationTime.IsZero() || !WithinDays(now, w.WatermarkCreationTime, *f.MaximumDaysSinceWatermarkCreated)) {
			continue
		}
		if f.MaximumDaysSinceSourceImageCreated != nil && (w.SourceImageCreationTime.IsZero() || !WithinDays(now, w.SourceImageCreationTime, *f.MaximumDaysSinceSourceImageCreated)) {
			continue
		}
		return true
	}
	return false
}
