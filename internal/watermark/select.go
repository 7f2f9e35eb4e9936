package watermark

import (
	"fmt"
	"strings"
	"time"
)

// Lineage says which images carrying a matching watermark are acceptable.
type Lineage string

const (
	// LineageAttached accepts the image the watermark was attached to, and a
	// direct CopyImage of it (in any region). It is the default.
	LineageAttached Lineage = "attached"
	// LineageAny also accepts images built with CreateImage from an instance
	// of such an image: they inherit every watermark of their source.
	LineageAny Lineage = "any"
)

// ParseLineage parses the lineage setting; "" means LineageAttached.
func ParseLineage(s string) (Lineage, error) {
	switch Lineage(s) {
	case "", LineageAttached:
		return LineageAttached, nil
	case LineageAny:
		return LineageAny, nil
	}
	msg := func(n Names) string {
		return fmt.Sprintf("%s %q is not valid: use %q (the default: only the image the watermark was attached to, or a direct copy of it) or %q (also images built from it with CreateImage, which inherit its watermarks)", n.Of(TermLineage), truncate(s), LineageAttached, LineageAny)
	}
	return "", fieldError(TermLineage, -1, msg)
}

// Origin says how a watermark came to be on an image.
type Origin string

const (
	// OriginAttached: the watermark was attached to this image.
	OriginAttached Origin = "attached"
	// OriginCopied: the image is a direct CopyImage of the image the
	// watermark was attached to.
	OriginCopied Origin = "copied"
	// OriginDerived: anything else: the image was built with CreateImage
	// from an instance of a watermarked image, or copied from such an image
	// or from a copy; it inherited the watermark.
	OriginDerived Origin = "derived"
)

// OriginOf classifies how w came to be on img. region-aware: image ids are
// only unique per region, so (region, id) pairs are compared.
//
// attached: w was attached to img itself (w.SourceImageID == img.ID, and
// w.SourceImageRegion, when set, is img's region). copied: img has no
// SourceInstanceID (it was not made with CreateImage), its SourceImageID is
// w.SourceImageID and its SourceImageRegion is w.SourceImageRegion. "Same
// region" compares the region the copy was made FROM with the region the
// watermark was attached in, not the region the copy lives in: a
// cross-region copy lives in another region by definition, and its
// (SourceImageRegion, SourceImageID) pair still names exactly the
// watermarked image. An empty SourceImageRegion (on the image or the
// watermark) stands for img's own region. A copy of a copy is derived: its
// SourceImageID names the first copy.
func OriginOf(img Image, w Watermark) Origin {
	wRegion := orRegion(w.SourceImageRegion, img.Region)
	if w.SourceImageID != "" && w.SourceImageID == img.ID && wRegion == img.Region {
		return OriginAttached
	}
	if img.SourceInstanceID == "" &&
		img.SourceImageID != "" &&
		img.SourceImageID == w.SourceImageID &&
		orRegion(img.SourceImageRegion, img.Region) == wRegion {
		return OriginCopied
	}
	return OriginDerived
}

// LineageOK reports whether img may be returned for the watermark w under
// the lineage rule l: attached accepts the origins attached and copied
// (see OriginOf), any accepts every image that carries the watermark.
func LineageOK(l Lineage, img Image, w Watermark) bool {
	return l == LineageAny || OriginOf(img, w) != OriginDerived
}

func orRegion(r, def string) string {
	if r == "" {
		return def
	}
	return r
}

// Owner aliases DescribeImages accepts in Owners besides ids and "self".
var ownerAliases = []string{"amazon", "aws-marketplace", "aws-backup-vault"}

// Owners is a parsed owners list.
type Owners struct {
	// Self: images owned by the caller's account.
	Self bool
	// Accounts are literal 12-digit ids.
	Accounts []string
	// Aliases are owner aliases (amazon, aws-marketplace, aws-backup-vault).
	Aliases []string
}

// ParseOwners validates the owners list: "self", 12-digit ids and the
// aliases amazon, aws-marketplace and aws-backup-vault. Duplicates are
// dropped. Every bad entry gives an error.
func ParseOwners(list []string) (Owners, []error) {
	var (
		o    Owners
		errs []error
		seen = map[string]bool{}
	)
	if len(list) == 0 {
		return o, []error{fieldError(TermOwners, -1, func(n Names) string {
			return fmt.Sprintf("%s is required: list the accounts whose images may be returned (\"self\", 12-digit account ids, or the aliases %s). "+
				"A watermark is inherited by every image built from a watermarked one, so any account that can launch your golden AMI can "+
				"build an image carrying its watermark and share it with you; only images of the listed owners are considered", n.Of(TermOwners), strings.Join(ownerAliases, ", "))
		})}
	}
	for i, s := range list {
		if seen[s] {
			continue
		}
		seen[s] = true
		switch {
		case s == "self":
			o.Self = true
		case IsAccountID(s):
			o.Accounts = append(o.Accounts, s)
		case isOwnerAlias(s):
			o.Aliases = append(o.Aliases, s)
		default:
			i, s := i, s
			errs = append(errs, fieldError(TermOwners, i, func(n Names) string {
				return fmt.Sprintf("%s[%d] %q is not an owner: use \"self\", a 12-digit account id, or one of the aliases %s (wildcards are not allowed)", n.Of(TermOwners), i, truncate(s), strings.Join(ownerAliases, ", "))
			}))
		}
	}
	return o, errs
}

func isOwnerAlias(s string) bool {
	for _, a := range ownerAliases {
		if s == a {
			return true
		}
	}
	return false
}

// Literal returns the ids and aliases (everything but "self") in the order
// they were given.
func (o Owners) Literal() []string {
	out := make([]string, 0, len(o.Accounts)+len(o.Aliases))
	out = append(out, o.Accounts...)
	return append(out, o.Aliases...)
}

// Allows reports whether img's owner is listed. self is the caller's
// account; "" when it is not known, and then "self" matches nothing.
func (o Owners) Allows(img Image, self string) bool {
	if img.OwnerID == "" {
		return false
	}
	if o.Self && self != "" && img.OwnerID == self {
		return true
	}
	for _, a := range o.Accounts {
		if img.OwnerID == a {
			return true
		}
	}
	if img.OwnerAlias != "" {
		for _, a := range o.Aliases {
			if img.OwnerAlias == a {
				return true
			}
		}
	}
	return false
}

// Conditions are the conditions a returned image must meet.
type Conditions struct {
	// Patterns: the image must carry a watermark whose key matches one of
	// them; every other watermark condition must hold on that same
	// watermark.
	Patterns []Pattern
	// Owners: the image's owner must be listed.
	Owners Owners
	// SelfAccount is the caller's account, when known (see Owners.Allows).
	SelfAccount string
	// Lineage (default attached).
	Lineage Lineage
	// SourceImageRegion: a glob the watermark's SourceImageRegion must
	// match; "" means any.
	SourceImageRegion string
	// MaxWatermarkAgeDays: Now - WatermarkCreationTime <= N×24h; nil: no
	// limit.
	MaxWatermarkAgeDays *int
	// MaxSourceImageAgeDays: Now - SourceImageCreationTime <= N×24h; nil:
	// no limit.
	MaxSourceImageAgeDays *int
	// IncludeDeprecated: accept images whose deprecation time has passed.
	IncludeDeprecated bool
	// AllowedOnly: accept only images whose imageAllowed is true.
	AllowedOnly bool
	// Scan: the image's Amazon Inspector scan results must meet this
	// condition (the Allowed-AMIs ScanResultCondition rule: an image that
	// was never scanned fails it); nil: no condition.
	Scan *ScanResultCondition
	// Now is the time ages and deprecation are measured against.
	Now time.Time
	// Keep is how many of the newest matches to remember for Newest
	// (default 5).
	Keep int
}

// Reason is why an image was rejected.
type Reason int

// Rejection reasons, in the order they are checked and reported.
const (
	// RejectOwner: the image's owner is not in owners.
	RejectOwner Reason = iota
	// RejectKey: no watermark key on the image matches a pattern (EC2's
	// filter is not trusted).
	RejectKey
	// RejectState: the image is not available.
	RejectState
	// RejectDeprecated: the image is deprecated and IncludeDeprecated is
	// off.
	RejectDeprecated
	// RejectAllowedUnknown: AllowedOnly, and EC2 did not report
	// imageAllowed (the Allowed-AMIs setting is disabled).
	RejectAllowedUnknown
	// RejectNotAllowed: AllowedOnly, and imageAllowed is false.
	RejectNotAllowed
	// RejectScan: the image's scan results fail Scan (or it was never
	// scanned).
	RejectScan
	// RejectSourceRegion: the matching watermark's SourceImageRegion does
	// not match SourceImageRegion.
	RejectSourceRegion
	// RejectWatermarkAge: the matching watermark is older than
	// MaxWatermarkAgeDays.
	RejectWatermarkAge
	// RejectSourceImageAge: the matching watermark's source image is older
	// than MaxSourceImageAgeDays.
	RejectSourceImageAge
	// RejectLineage: the image is neither the watermarked image nor a direct
	// copy of it (lineage attached).
	RejectLineage
	numReasons
)

var reasonNames = [numReasons]string{
	"owner", "key", "state", "deprecated", "allowed-unknown", "not-allowed", "scan-results",
	"source-image-region", "watermark-age", "source-image-age", "lineage",
}

// String is a short name of the reason.
func (r Reason) String() string {
	if r >= 0 && r < numReasons {
		return reasonNames[r]
	}
	return fmt.Sprintf("Reason(%d)", int(r))
}

// Match is an accepted image and the watermark that made it acceptable.
type Match struct {
	Image     Image
	Watermark Watermark
}

// OfferResult is the outcome of one Offer.
type OfferResult struct {
	// Accepted: the image meets every condition.
	Accepted bool
	// Best: the image is now the best match (newest so far).
	Best bool
	// Reason is why it was rejected (meaningless when Accepted).
	Reason Reason
}

// Rejection is a count of images rejected for one reason.
type Rejection struct {
	Reason Reason
	Count  int
}

// Selector picks the best image from a stream of candidates in constant
// memory: it keeps the best match, up to Keep newest matches, and counters.
//
// Best is the newest by CreationDate; on equal dates the lexicographically
// greatest image id wins (ids of one age are random, so any fixed rule is
// as good; this one does not depend on the order EC2 returns images in).
// Images without a parseable creation date are the oldest.
type Selector struct {
	c       Conditions
	limits  WatermarkLimits
	best    Match
	have    bool
	matches int
	offered int
	rejects [numReasons]int
	newest  []Match // up to c.Keep, newest first
}

// NewSelector returns a Selector for c.
func NewSelector(c Conditions) *Selector {
	if c.Keep <= 0 {
		c.Keep = 5
	}
	if c.Lineage == "" {
		c.Lineage = LineageAttached
	}
	return &Selector{c: c, limits: WatermarkLimits{
		SourceImageRegion: c.SourceImageRegion,
		MaxWatermarkAge:   daysPtr(c.MaxWatermarkAgeDays),
		MaxSourceImageAge: daysPtr(c.MaxSourceImageAgeDays),
		Lineage:           c.Lineage,
	}}
}

// SetNow sets the time ages and deprecation are measured against.
func (s *Selector) SetNow(t time.Time) { s.c.Now = t }

// SetSelfAccount records the caller's account (what "self" in owners means).
func (s *Selector) SetSelfAccount(id string) { s.c.SelfAccount = id }

// SelfAccount is the caller's account as recorded, or "".
func (s *Selector) SelfAccount() string { return s.c.SelfAccount }

// Conditions returns the selector's conditions.
func (s *Selector) Conditions() Conditions { return s.c }

// Offer checks one candidate and keeps it when it is the best so far. The
// Selector keeps its own copy of what it retains.
func (s *Selector) Offer(img Image) OfferResult {
	s.offered++
	w, reason, ok := s.check(img)
	if !ok {
		s.rejects[reason]++
		return OfferResult{Reason: reason}
	}
	s.matches++
	v := OfferResult{Accepted: true}
	isBest := !s.have || Newer(img, s.best.Image)
	inNewest := len(s.newest) < s.c.Keep || Newer(img, s.newest[len(s.newest)-1].Image)
	if !isBest && !inNewest {
		return v
	}
	m := Match{Image: cloneImage(img), Watermark: w}
	if isBest {
		s.best, s.have = m, true
		v.Best = true
	}
	if inNewest {
		s.keepNewest(m)
	}
	return v
}

// check returns the first watermark on img that satisfies every condition,
// or the reason img fails. When several watermarks match a pattern and all
// fail, the reason is that of the one that got furthest through the checks.
func (s *Selector) check(img Image) (Watermark, Reason, bool) {
	c := &s.c
	if !c.Owners.Allows(img, c.SelfAccount) {
		return Watermark{}, RejectOwner, false
	}
	keyed := false
	for _, w := range img.Watermarks {
		if s.keyMatches(w.Key) {
			keyed = true
			break
		}
	}
	if !keyed {
		return Watermark{}, RejectKey, false
	}
	if img.State != "" && img.State != "available" {
		return Watermark{}, RejectState, false
	}
	if !c.IncludeDeprecated && !img.DeprecationTime.IsZero() && !img.DeprecationTime.After(c.Now) {
		return Watermark{}, RejectDeprecated, false
	}
	if c.AllowedOnly {
		if img.Allowed == nil {
			return Watermark{}, RejectAllowedUnknown, false
		}
		if !*img.Allowed {
			return Watermark{}, RejectNotAllowed, false
		}
	}
	if c.Scan != nil {
		if ok, _ := c.Scan.Check(img.ScanResults, c.Now); !ok {
			return Watermark{}, RejectScan, false
		}
	}
	worst := Reason(-1)
	for _, w := range img.Watermarks {
		if !s.keyMatches(w.Key) {
			continue
		}
		r, ok := s.checkWatermark(img, w)
		if ok {
			return w, 0, true
		}
		if r > worst {
			worst = r
		}
	}
	return Watermark{}, worst, false
}

func (s *Selector) keyMatches(key string) bool {
	for i := range s.c.Patterns {
		if s.c.Patterns[i].MatchKey(key) {
			return true
		}
	}
	return false
}

// checkWatermark checks the per-watermark conditions on w, which matches a
// pattern.
func (s *Selector) checkWatermark(img Image, w Watermark) (Reason, bool) {
	if fails := s.limits.Failures(img, w, s.c.Now); len(fails) > 0 {
		return fails[0], false
	}
	return 0, true
}

// WatermarkLimits are the conditions that must hold on the one watermark
// that matches a key pattern: the data source's source_image_region,
// max_*_age_days and lineage, and the CLI's verify flags.
type WatermarkLimits struct {
	// SourceImageRegion: a glob the watermark's SourceImageRegion must
	// match; "" means any.
	SourceImageRegion string
	// MaxWatermarkAge: now - WatermarkCreationTime <= it; nil: no limit.
	MaxWatermarkAge *time.Duration
	// MaxSourceImageAge: now - SourceImageCreationTime <= it; nil: no
	// limit.
	MaxSourceImageAge *time.Duration
	// Lineage ("" is LineageAny here: no lineage condition).
	Lineage Lineage
}

// Failures returns every condition w fails on img at now, in the order
// RejectSourceRegion, RejectWatermarkAge, RejectSourceImageAge,
// RejectLineage; none when w meets them all. Ages are compared with
// WithinAge: an unknown time fails a limit.
func (l WatermarkLimits) Failures(img Image, w Watermark, now time.Time) []Reason {
	var out []Reason
	if l.SourceImageRegion != "" && !Glob(l.SourceImageRegion, w.SourceImageRegion) {
		out = append(out, RejectSourceRegion)
	}
	if l.MaxWatermarkAge != nil && !WithinAge(now, w.WatermarkCreationTime, *l.MaxWatermarkAge) {
		out = append(out, RejectWatermarkAge)
	}
	if l.MaxSourceImageAge != nil && !WithinAge(now, w.SourceImageCreationTime, *l.MaxSourceImageAge) {
		out = append(out, RejectSourceImageAge)
	}
	if l.Lineage != "" && !LineageOK(l.Lineage, img, w) {
		out = append(out, RejectLineage)
	}
	return out
}

func daysPtr(n *int) *time.Duration {
	if n == nil {
		return nil
	}
	d := Days(int64(*n))
	return &d
}

// Newer reports whether a sorts before b: a later CreationDate, or the same
// date and a greater image id.
func Newer(a, b Image) bool {
	if !a.CreationDate.Equal(b.CreationDate) {
		return a.CreationDate.After(b.CreationDate)
	}
	return a.ID > b.ID
}

func (s *Selector) keepNewest(m Match) {
	n := s.newest
	i := len(n)
	for i > 0 && Newer(m.Image, n[i-1].Image) {
		i--
	}
	if i >= s.c.Keep {
		return
	}
	if len(n) < s.c.Keep {
		n = append(n, Match{})
	}
	copy(n[i+1:], n[i:len(n)-1])
	n[i] = m
	s.newest = n
}

// cloneImage copies the slices and the pointed-to values of img; its
// strings are shared (Detached copies them too).
func cloneImage(img Image) Image {
	img.Watermarks = append([]Watermark(nil), img.Watermarks...)
	img.ProductCodes = append([]string(nil), img.ProductCodes...)
	if img.ScanResults != nil {
		sr := *img.ScanResults
		img.ScanResults = &sr
	}
	if img.Allowed != nil {
		a := *img.Allowed
		img.Allowed = &a
	}
	return img
}

// Best returns the best match so far.
func (s *Selector) Best() (Match, bool) { return s.best, s.have }

// Matches is the number of accepted images.
func (s *Selector) Matches() int { return s.matches }

// Offered is the number of images offered.
func (s *Selector) Offered() int { return s.offered }

// Newest returns up to Keep of the newest matches, newest first.
func (s *Selector) Newest() []Match { return append([]Match(nil), s.newest...) }

// Rejected returns the non-zero rejection counters in reason order.
func (s *Selector) Rejected() []Rejection {
	var out []Rejection
	for r, n := range s.rejects {
		if n > 0 {
			out = append(out, Rejection{Reason: Reason(r), Count: n})
		}
	}
	return out
}

// RejectedFor returns the counter of one reason.
func (s *Selector) RejectedFor(r Reason) int {
	if r < 0 || r >= numReasons {
		return 0
	}
	return s.rejects[r]
}
