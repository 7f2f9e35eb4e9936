package ec2emu

import (
	"math"
	"strconv"
	"time"
	"unicode/utf8"
)

// Allowed AMIs (docs/ec2-semantics.md, "Allowed AMIs"): the per-account, per-region settings, their
// validation and the evaluation of imageAllowed.

const (
	allowedDisabled  = "disabled"
	allowedEnabled   = "enabled"
	allowedAuditMode = "audit-mode"

	managedByAccount           = "account"
	managedByDeclarativePolicy = "declarative-policy"
)

var defaultAllowedSettings = AllowedSettings{State: allowedDisabled, ManagedBy: managedByAccount}

// allowedSettings returns the settings of account in region; the defaults
// (disabled, managed by the account, no criteria) when none are stored.
// The result must not be modified. Callers hold s.mu.
func (s *Server) allowedSettings(account, region string) *AllowedSettings {
	if st := s.st.Settings[settingsKey(account, region)]; st != nil {
		return st
	}
	d := defaultAllowedSettings
	return &d
}

// allowedSettingsForUpdate returns the stored settings, creating them.
// Callers hold s.mu.
func (s *Server) allowedSettingsForUpdate(account, region string) *AllowedSettings {
	k := settingsKey(account, region)
	st := s.st.Settings[k]
	if st == nil {
		d := defaultAllowedSettings
		st = &d
		if s.st.Settings == nil {
			s.st.Settings = map[string]*AllowedSettings{}
		}
		s.st.Settings[k] = st
	}
	if st.State == "" {
		st.State = allowedDisabled
	}
	if st.ManagedBy == "" {
		st.ManagedBy = managedByAccount
	}
	return st
}

func allowedMode(st *AllowedSettings) string {
	switch st.State {
	case allowedEnabled, allowedAuditMode:
		return st.State
	}
	return allowedDisabled
}

// evalAllowed reports whether img meets the Allowed-AMIs criteria of
// account in region, whatever the setting's state: the caller's own images
// are always allowed; otherwise any criterion must match (none: not
// allowed). Callers hold s.mu.
func (s *Server) evalAllowed(img *Image, account, region string) bool {
	return allowedBy(s.allowedSettings(account, region), img, account, s.now())
}

// discoverable reports whether the Allowed-AMIs setting lets account see
// img at all: in enabled mode only allowed images are discoverable.
// Callers hold s.mu.
func (s *Server) discoverable(img *Image, account string, now time.Time) bool {
	if img.Owner == account {
		return true
	}
	st := s.allowedSettings(account, img.Region)
	if allowedMode(st) != allowedEnabled {
		return true
	}
	return allowedBy(st, img, account, now)
}

func allowedBy(st *AllowedSettings, img *Image, account string, now time.Time) bool {
	if img.Owner == account {
		return true
	}
	if st == nil {
		return false
	}
	for i := range st.Criteria {
		if criterionMatches(&st.Criteria[i], img, now) {
			return true
		}
	}
	return false
}

// criterionMatches ANDs the parameters present in c; a criterion without
// parameters matches nothing.
func criterionMatches(c *ImageCriterion, img *Image, now time.Time) bool {
	has := false
	if len(c.ImageProviders) > 0 {
		has = true
		ok := false
		for _, p := range c.ImageProviders {
			switch p {
			case "none":
				// matches only the caller's own images, handled before.
			case "amazon", "aws-marketplace", "aws-backup-vault":
				ok = ok || img.OwnerAlias == p
			default:
				ok = ok || img.Owner == p
			}
		}
		if !ok {
			return false
		}
	}
	if len(c.ImageNames) > 0 {
		has = true
		ok := false
		for _, n := range c.ImageNames {
			if globMatch(n, img.Name) {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	if len(c.MarketplaceProductCodes) > 0 {
		has = true
		ok := false
		for _, want := range c.MarketplaceProductCodes {
			for _, have := range img.ProductCodes {
				if want == have {
					ok = true
				}
			}
		}
		if !ok {
			return false
		}
	}
	if c.MaximumDaysSinceCreated != nil {
		has = true
		if !withinDays(now.Sub(img.CreationDate), *c.MaximumDaysSinceCreated) {
			return false
		}
	}
	if c.MaximumDaysSinceDeprecated != nil {
		has = true
		if deprecated(img, now) {
			n := *c.MaximumDaysSinceDeprecated
			if n == 0 || !withinDays(now.Sub(*img.DeprecationTime), n) {
				return false
			}
		}
	}
	if len(c.ImageWatermarks) > 0 {
		has = true
		ok := false
		for i := range c.ImageWatermarks {
			if watermarkCriterionMatches(&c.ImageWatermarks[i], img, now) {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	if c.ScanResultCondition != nil {
		has = true
		if !scanCriterionMatches(c.ScanResultCondition, img, now) {
			return false
		}
	}
	return has
}

// watermarkCriterionMatches: one watermark on img must satisfy every set
// field of f (docs/ec2-semantics.md, "Allowed AMIs").
func watermarkCriterionMatches(f *WatermarkCriterion, img *Image, now time.Time) bool {
	if f.WatermarkKey == nil && f.SourceImageRegion == nil && f.MaximumDaysSinceWatermarkCreated == nil && f.MaximumDaysSinceSourceImageCreated == nil {
		return false
	}
	for i := range img.Watermarks {
		w := &img.Watermarks[i]
		if f.WatermarkKey != nil && !globMatch(*f.WatermarkKey, w.Key) {
			continue
		}
		if f.SourceImageRegion != nil && !globMatch(*f.SourceImageRegion, w.SourceImageRegion) {
			continue
		}
		if f.MaximumDaysSinceWatermarkCreated != nil && !withinDays(now.Sub(w.WatermarkCreationTime), *f.MaximumDaysSinceWatermarkCreated) {
			continue
		}
		// The API-reference reading ("Allowed AMIs"), now - sourceImageCreationTime.
		if f.MaximumDaysSinceSourceImageCreated != nil && !withinDays(now.Sub(w.SourceImageCreationTime), *f.MaximumDaysSinceSourceImageCreated) {
			continue
		}
		return true
	}
	return false
}

// withinDays reports elapsed <= n×24h ("Allowed AMIs"), without overflowing.
func withinDays(elapsed time.Duration, n int64) bool {
	const day = 24 * time.Hour
	if n < 0 {
		return false
	}
	if n >= int64(math.MaxInt64/int64(day)) {
		return true
	}
	return elapsed <= time.Duration(n)*day
}

// ---- actions ----

func init() {
	register(map[string]handler{
		"GetAllowedImagesSettings":                    getAllowedImagesSettings,
		"EnableAllowedImagesSettings":                 enableAllowedImagesSettings,
		"DisableAllowedImagesSettings":                disableAllowedImagesSettings,
		"ReplaceImageCriteriaInAllowedImagesSettings": replaceImageCriteria,
	})
}

func getAllowedImagesSettings(s *Server, rq *request, x *xmlOut) *apiError {
	dry, aerr := rq.boolParam("DryRun")
	if aerr != nil {
		return aerr
	}
	if dry {
		return errDryRun()
	}
	st := s.allowedSettings(rq.account, rq.region)
	x.elem("state", allowedMode(st))
	x.elem("managedBy", orDefault(st.ManagedBy, managedByAccount))
	x.open("imageCriterionSet")
	for i := range st.Criteria {
		c := &st.Criteria[i]
		x.open("item")
		writeStringSet(x, "imageProviderSet", c.ImageProviders)
		writeStringSet(x, "imageNameSet", c.ImageNames)
		writeStringSet(x, "marketplaceProductCodeSet", c.MarketplaceProductCodes)
		if c.MaximumDaysSinceCreated != nil {
			x.open("creationDateCondition")
			x.elemInt("maximumDaysSinceCreated", *c.MaximumDaysSinceCreated)
			x.close("creationDateCondition")
		}
		if c.MaximumDaysSinceDeprecated != nil {
			x.open("deprecationTimeCondition")
			x.elemInt("maximumDaysSinceDeprecated", *c.MaximumDaysSinceDeprecated)
			x.close("deprecationTimeCondition")
		}
		if len(c.ImageWatermarks) > 0 {
			x.open("imageWatermarkSet")
			for j := range c.ImageWatermarks {
				f := &c.ImageWatermarks[j]
				x.open("item")
				if f.WatermarkKey != nil {
					x.elem("watermarkKey", *f.WatermarkKey)
				}
				if f.SourceImageRegion != nil {
					x.elem("sourceImageRegion", *f.SourceImageRegion)
				}
				if f.MaximumDaysSinceSourceImageCreated != nil {
					x.elemInt("maximumDaysSinceSourceImageCreated", *f.MaximumDaysSinceSourceImageCreated)
				}
				if f.MaximumDaysSinceWatermarkCreated != nil {
					x.elemInt("maximumDaysSinceWatermarkCreated", *f.MaximumDaysSinceWatermarkCreated)
				}
				x.close("item")
			}
			x.close("imageWatermarkSet")
		}
		writeScanCriterion(x, c.ScanResultCondition)
		x.close("item")
	}
	x.close("imageCriterionSet")
	return nil
}

func writeStringSet(x *xmlOut, name string, vs []string) {
	if len(vs) == 0 {
		return
	}
	x.open(name)
	for _, v := range vs {
		x.elem("item", v)
	}
	x.close(name)
}

func errManagedByPolicy(account, region string) *apiError {
	return errBad("UnsupportedOperation",
		"The Allowed AMIs settings of account %s in %s are managed by a declarative policy and can't be changed in the account. Change the declarative policy instead.", account, region)
}

func enableAllowedImagesSettings(s *Server, rq *request, x *xmlOut) *apiError {
	v, aerr := rq.required("AllowedImagesSettingsState")
	if aerr != nil {
		return aerr
	}
	if v != allowedEnabled && v != allowedAuditMode {
		return errInvalidValue("AllowedImagesSettingsState", truncateForMsg(v), "Valid values are enabled and audit-mode.")
	}
	return s.setAllowedState(rq, x, v)
}

func disableAllowedImagesSettings(s *Server, rq *request, x *xmlOut) *apiError {
	// The criteria are kept, just not applied.
	return s.setAllowedState(rq, x, allowedDisabled)
}

// setAllowedState is what Enable and Disable share once the new state is
// known: DryRun, the declarative-policy lock, then the change.
func (s *Server) setAllowedState(rq *request, x *xmlOut, state string) *apiError {
	dry, aerr := rq.boolParam("DryRun")
	if aerr != nil {
		return aerr
	}
	if s.allowedSettings(rq.account, rq.region).ManagedBy == managedByDeclarativePolicy {
		return errManagedByPolicy(rq.account, rq.region)
	}
	if dry {
		return errDryRun()
	}
	s.allowedSettingsForUpdate(rq.account, rq.region).State = state
	x.elem("allowedImagesSettingsState", state)
	return nil
}

const (
	maxCriteria             = 10
	maxProvidersPerCrit     = 200
	maxNamesPerCrit         = 50
	maxProductCodesPerCrit  = 50
	maxWatermarksPerCrit    = 50
	maxDaysValue            = 2147483647
	maxImageNameCriterionLn = 128
)

func replaceImageCriteria(s *Server, rq *request, x *xmlOut) *apiError {
	dry, aerr := rq.boolParam("DryRun")
	if aerr != nil {
		return aerr
	}
	crits, aerr := parseImageCriteria(rq)
	if aerr != nil {
		return aerr
	}
	if s.allowedSettings(rq.account, rq.region).ManagedBy == managedByDeclarativePolicy {
		return errManagedByPolicy(rq.account, rq.region)
	}
	if dry {
		return errDryRun()
	}
	s.allowedSettingsForUpdate(rq.account, rq.region).Criteria = crits
	x.elemBool("return", true)
	return nil
}

// parseImageCriteria reads and validates ImageCriterion.N (docs/ec2-semantics.md, "Allowed AMIs").
func parseImageCriteria(rq *request) ([]ImageCriterion, *apiError) {
	idx := rq.indices("ImageCriterion")
	if len(idx) > maxCriteria {
		return nil, errBad("InvalidParameterValue", "Too many image criteria: %d given, at most %d are allowed.", len(idx), maxCriteria)
	}
	out := make([]ImageCriterion, 0, len(idx))
	for _, n := range idx {
		p := sub("ImageCriterion", n)
		var c ImageCriterion

		c.ImageProviders = rq.list(p + ".ImageProvider")
		if len(c.ImageProviders) > maxProvidersPerCrit {
			return nil, errBad("InvalidParameterValue", "%s has %d image providers; at most %d are allowed.", p, len(c.ImageProviders), maxProvidersPerCrit)
		}
		for _, v := range c.ImageProviders {
			switch {
			case v == "amazon", v == "aws-marketplace", v == "aws-backup-vault", isAccountID(v):
			case v == "none":
				if len(c.ImageProviders) != 1 {
					return nil, errBad("InvalidParameterValue", "%s.ImageProvider: 'none' must be the only image provider of its criterion.", p)
				}
			default:
				return nil, errBad("InvalidParameterValue", "%s.ImageProvider value '%s' is invalid: use amazon, aws-marketplace, aws-backup-vault, none or a 12-digit account ID.", p, truncateForMsg(v))
			}
		}

		c.ImageNames = rq.list(p + ".ImageName")
		if len(c.ImageNames) > maxNamesPerCrit {
			return nil, errBad("InvalidParameterValue", "%s has %d image names; at most %d are allowed.", p, len(c.ImageNames), maxNamesPerCrit)
		}
		for _, v := range c.ImageNames {
			if aerr := validateCriterionImageName(p, v); aerr != nil {
				return nil, aerr
			}
		}

		c.MarketplaceProductCodes = rq.list(p + ".MarketplaceProductCode")
		if len(c.MarketplaceProductCodes) > maxProductCodesPerCrit {
			return nil, errBad("InvalidParameterValue", "%s has %d marketplace product codes; at most %d are allowed.", p, len(c.MarketplaceProductCodes), maxProductCodesPerCrit)
		}
		for _, v := range c.MarketplaceProductCodes {
			if !isAlnum(v) || len(v) < 1 || len(v) > 25 {
				return nil, errBad("InvalidParameterValue", "%s.MarketplaceProductCode value '%s' is invalid: a product code is 1-25 letters and digits.", p, truncateForMsg(v))
			}
		}

		var aerr *apiError
		if c.MaximumDaysSinceCreated, aerr = daysParam(rq, p+".CreationDateCondition.MaximumDaysSinceCreated"); aerr != nil {
			return nil, aerr
		}
		if c.MaximumDaysSinceDeprecated, aerr = daysParam(rq, p+".DeprecationTimeCondition.MaximumDaysSinceDeprecated"); aerr != nil {
			return nil, aerr
		}

		widx := rq.indices(p + ".ImageWatermark")
		if len(widx) > maxWatermarksPerCrit {
			return nil, errBad("InvalidParameterValue", "%s has %d image watermark filters; at most %d are allowed.", p, len(widx), maxWatermarksPerCrit)
		}
		for _, m := range widx {
			wp := sub(p+".ImageWatermark", m)
			var f WatermarkCriterion
			if rq.has(wp + ".WatermarkKey") {
				v := rq.get(wp + ".WatermarkKey")
				f.WatermarkKey = &v
			}
			if rq.has(wp + ".SourceImageRegion") {
				v := rq.get(wp + ".SourceImageRegion")
				f.SourceImageRegion = &v
			}
			if f.MaximumDaysSinceWatermarkCreated, aerr = daysParam(rq, wp+".MaximumDaysSinceWatermarkCreated"); aerr != nil {
				return nil, aerr
			}
			if f.MaximumDaysSinceSourceImageCreated, aerr = daysParam(rq, wp+".MaximumDaysSinceSourceImageCreated"); aerr != nil {
				return nil, aerr
			}
			if f.WatermarkKey == nil && f.SourceImageRegion == nil && f.MaximumDaysSinceWatermarkCreated == nil && f.MaximumDaysSinceSourceImageCreated == nil {
				return nil, errBad("InvalidParameterValue", "%s sets no field: give at least one of WatermarkKey, SourceImageRegion, MaximumDaysSinceWatermarkCreated or MaximumDaysSinceSourceImageCreated.", wp)
			}
			c.ImageWatermarks = append(c.ImageWatermarks, f)
		}
		if c.ScanResultCondition, aerr = parseScanCriterion(rq, p); aerr != nil {
			return nil, aerr
		}
		out = append(out, c)
	}
	return out, nil
}

func daysParam(rq *request, key string) (*int64, *apiError) {
	if !rq.has(key) {
		return nil, nil
	}
	v := rq.get(key)
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 || n > maxDaysValue {
		return nil, errInvalidValue(key, truncateForMsg(v), "Expecting an integer from 0 to 2147483647.")
	}
	return &n, nil
}

func validateCriterionImageName(p, v string) *apiError {
	n := utf8.RuneCountInString(v)
	if n < 1 || n > maxImageNameCriterionLn {
		return errBad("InvalidParameterValue", "%s.ImageName value '%s' is invalid: an image name must be 1-128 characters.", p, truncateForMsg(v))
	}
	hasQ := false
	for _, r := range v {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
		case r == '?':
			hasQ = true
		default:
			switch r {
			case '(', ')', '[', ']', '.', '/', '-', '\'', '@', '_', '*', ' ':
			default:
				return errBad("InvalidParameterValue", "%s.ImageName value '%s' has the character %q: names may contain letters, digits, spaces and ( ) [ ] . / - ' @ _ * ?.", p, truncateForMsg(v), r)
			}
		}
	}
	if hasQ && n < 3 {
		return errBad("InvalidParameterValue", "%s.ImageName value '%s' is invalid: a name that uses '?' must be at least 3 characters.", p, v)
	}
	return nil
}

func isAlnum(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

func isAccountID(s string) bool {
	if len(s) != 12 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
