package ec2emu

import (
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// EC2 wildcard matching and the DescribeImages filters (docs/ec2-semantics.md, "DescribeImages"). Patterns are
// compiled once per request; matching does not allocate.

// globKind classifies a compiled pattern so the common shapes avoid the
// general matcher.
type globKind uint8

const (
	globExact    globKind = iota // no wildcard: lit == s
	globPrefix                   // lit*
	globSuffix                   // *lit
	globContains                 // *lit*
	globAll                      // * (any string, also empty)
	globGeneral                  // anything else: raw pattern
)

// glob is one compiled EC2 wildcard pattern: '*' any run of characters, '?'
// exactly one character, '\' makes the next character literal (a trailing
// lone '\' is a literal backslash). Case-sensitive.
type glob struct {
	kind globKind
	lit  string // unescaped literal for exact/prefix/suffix/contains
	raw  string // the pattern, for globGeneral
}

// compileGlob classifies pattern p.
func compileGlob(p string) glob {
	var lit []byte
	stars := []int{} // positions (in lit) of unescaped '*'
	hasQ := false
	for i := 0; i < len(p); i++ {
		switch c := p[i]; c {
		case '\\':
			if i+1 < len(p) {
				i++
			}
			lit = append(lit, p[i])
		case '*':
			stars = append(stars, len(lit))
		case '?':
			hasQ = true
		default:
			lit = append(lit, c)
		}
	}
	if hasQ {
		return glob{kind: globGeneral, raw: p}
	}
	l := string(lit)
	switch len(stars) {
	case 0:
		return glob{kind: globExact, lit: l}
	case 1:
		switch stars[0] {
		case 0:
			if l == "" {
				return glob{kind: globAll}
			}
			return glob{kind: globSuffix, lit: l}
		case len(l):
			return glob{kind: globPrefix, lit: l}
		}
	case 2:
		if stars[0] == 0 && stars[1] == len(l) {
			if l == "" {
				return glob{kind: globAll}
			}
			return glob{kind: globContains, lit: l}
		}
	}
	if l == "" { // only stars
		return glob{kind: globAll}
	}
	return glob{kind: globGeneral, raw: p}
}

func (g *glob) match(s string) bool {
	switch g.kind {
	case globExact:
		return s == g.lit
	case globPrefix:
		return strings.HasPrefix(s, g.lit)
	case globSuffix:
		return strings.HasSuffix(s, g.lit)
	case globContains:
		return strings.Contains(s, g.lit)
	case globAll:
		return true
	}
	return globMatch(g.raw, s)
}

// globAny reports whether s matches any of the patterns (values of one
// filter are ORed).
func globAny(gs []glob, s string) bool {
	for i := range gs {
		if gs[i].match(s) {
			return true
		}
	}
	return false
}

// globMatch matches s against the EC2 wildcard pattern p without compiling
// it and without allocating: the greedy matcher with one backtrack point,
// O(len(p)·len(s)) at worst.
func globMatch(p, s string) bool {
	pi, si := 0, 0
	starP, starS := -1, 0
	for si < len(s) {
		if pi < len(p) {
			switch p[pi] {
			case '*':
				pi++
				starP, starS = pi, si
				continue
			case '?':
				_, w := utf8.DecodeRuneInString(s[si:])
				pi++
				si += w
				continue
			default:
				start := pi
				if p[pi] == '\\' && pi+1 < len(p) {
					start = pi + 1
				}
				_, w := utf8.DecodeRuneInString(p[start:])
				lit := p[start : start+w]
				if strings.HasPrefix(s[si:], lit) {
					pi = start + w
					si += w
					continue
				}
			}
		}
		if starP >= 0 {
			_, w := utf8.DecodeRuneInString(s[starS:])
			starS += w
			pi, si = starP, starS
			continue
		}
		return false
	}
	for pi < len(p) && p[pi] == '*' {
		pi++
	}
	return pi == len(p)
}

// ---- DescribeImages filters ----

type filterKind uint8

const (
	fWatermarkKey filterKind = iota
	fWatermarkSourceImageID
	fWatermarkSourceImageRegion
	fWatermarkCreationTime
	fWatermarkSourceImageCreationTime
	fOwnerID
	fOwnerAlias
	fName
	fDescription
	fImageID
	fState
	fImageType
	fArchitecture
	fPlatform
	fRootDeviceType
	fRootDeviceName
	fVirtualizationType
	fHypervisor
	fCreationDate
	fSourceImageID
	fSourceImageRegion
	fSourceInstanceID
	fProductCode
	fProductCodeType
	fManifestLocation
	fBDMDeviceName
	fBDMSnapshotID
	fBDMVolumeSize
	fBDMVolumeType
	fBDMDeleteOnTermination
	fBDMEncrypted
	fIsPublic
	fImageAllowed
	fEnaSupport
	fFreeTierEligible
	fTag
	fTagKey
	fScanFindingScanDate
	fScanHighestSeverity
	fScanCriticalFix
	fScanHighFix
	fScanMediumFix
	fScanLowFix
	fScanInformationalFix
	fAbsent // a documented filter on an attribute the emulator never sets
)

var imageFilterKinds = map[string]filterKind{
	"image-watermark.watermark-key":              fWatermarkKey,
	"image-watermark.source-image-id":            fWatermarkSourceImageID,
	"image-watermark.source-image-region":        fWatermarkSourceImageRegion,
	"image-watermark.watermark-creation-time":    fWatermarkCreationTime,
	"image-watermark.source-image-creation-time": fWatermarkSourceImageCreationTime,
	"owner-id":                         fOwnerID,
	"owner-alias":                      fOwnerAlias,
	"name":                             fName,
	"description":                      fDescription,
	"image-id":                         fImageID,
	"state":                            fState,
	"image-type":                       fImageType,
	"architecture":                     fArchitecture,
	"platform":                         fPlatform,
	"root-device-type":                 fRootDeviceType,
	"root-device-name":                 fRootDeviceName,
	"virtualization-type":              fVirtualizationType,
	"hypervisor":                       fHypervisor,
	"creation-date":                    fCreationDate,
	"source-image-id":                  fSourceImageID,
	"source-image-region":              fSourceImageRegion,
	"source-instance-id":               fSourceInstanceID,
	"product-code":                     fProductCode,
	"product-code.type":                fProductCodeType,
	"manifest-location":                fManifestLocation,
	"block-device-mapping.device-name": fBDMDeviceName,
	"block-device-mapping.snapshot-id": fBDMSnapshotID,
	"block-device-mapping.volume-size": fBDMVolumeSize,
	"block-device-mapping.volume-type": fBDMVolumeType,
	"block-device-mapping.delete-on-termination": fBDMDeleteOnTermination,
	"block-device-mapping.encrypted":             fBDMEncrypted,
	"is-public":                                  fIsPublic,
	"image-allowed":                              fImageAllowed,
	"ena-support":                                fEnaSupport,
	"free-tier-eligible":                         fFreeTierEligible,
	"tag-key":                                    fTagKey,
	// Documented filters on attributes the emulator does not model: they
	// are accepted and match no image.
	"kernel-id":                 fAbsent,
	"ramdisk-id":                fAbsent,
	"sriov-net-support":         fAbsent,
	"state-reason-code":         fAbsent,
	"state-reason-message":      fAbsent,
	"boot-mode":                 fAbsent,
	"public-ssm-parameter-name": fAbsent,
	"instance-type-specification.supported-instance-type":   fAbsent,
	"instance-type-specification.unsupported-instance-type": fAbsent,
	// Inspector scan results (api_scan.go): a glob on the label, or on the
	// time as DescribeImages renders it (2026-06-24T03:15:42.000Z).
	"scan-result.critical-fix-available-since":      fScanCriticalFix,
	"scan-result.finding-scan-date":                 fScanFindingScanDate,
	"scan-result.high-fix-available-since":          fScanHighFix,
	"scan-result.highest-finding-severity-label":    fScanHighestSeverity,
	"scan-result.informational-fix-available-since": fScanInformationalFix,
	"scan-result.low-fix-available-since":           fScanLowFix,
	"scan-result.medium-fix-available-since":        fScanMediumFix,
}

// imageFilter is one compiled Filter.N: its values are ORed.
type imageFilter struct {
	name   string
	kind   filterKind
	tagKey string
	pats   []glob
	values []string
}

// parseFilters reads Filter.N.Name / Filter.N.Value.M and compiles them;
// an unknown name or a filter without values is InvalidParameterValue.
func parseFilters(rq *request, known map[string]filterKind) ([]imageFilter, *apiError) {
	var out []imageFilter
	for _, n := range rq.indices("Filter") {
		p := sub("Filter", n)
		name := rq.get(p + ".Name")
		if name == "" {
			return nil, errMissing(p + ".Name")
		}
		f := imageFilter{name: name}
		if k, ok := known[name]; ok {
			f.kind = k
		} else if strings.HasPrefix(name, "tag:") && len(name) > len("tag:") {
			f.kind, f.tagKey = fTag, name[len("tag:"):]
		} else {
			return nil, errBad("InvalidParameterValue", "The filter '%s' is invalid", truncateForMsg(name))
		}
		f.values = rq.list(p + ".Value")
		if len(f.values) == 0 {
			return nil, errBad("InvalidParameterValue", "The filter '%s' has no values: give at least one value (Filter.%d.Value.1)", truncateForMsg(name), n)
		}
		f.pats = make([]glob, len(f.values))
		for i, v := range f.values {
			f.pats[i] = compileGlob(v)
		}
		out = append(out, f)
	}
	return out, nil
}

// matchImage reports whether img passes the filter; ev supplies the
// request-dependent attributes (image-allowed).
func (f *imageFilter) matchImage(img *Image, ev *describeEval) bool {
	ps := f.pats
	switch f.kind {
	case fWatermarkKey:
		for i := range img.Watermarks {
			if globAny(ps, img.Watermarks[i].Key) {
				return true
			}
		}
		return false
	case fWatermarkSourceImageID:
		for i := range img.Watermarks {
			if globAny(ps, img.Watermarks[i].SourceImageID) {
				return true
			}
		}
		return false
	case fWatermarkSourceImageRegion:
		for i := range img.Watermarks {
			if globAny(ps, img.Watermarks[i].SourceImageRegion) {
				return true
			}
		}
		return false
	case fWatermarkCreationTime:
		for i := range img.Watermarks {
			if globAny(ps, formatWatermarkTime(img.Watermarks[i].WatermarkCreationTime)) {
				return true
			}
		}
		return false
	case fWatermarkSourceImageCreationTime:
		for i := range img.Watermarks {
			if globAny(ps, formatWatermarkTime(img.Watermarks[i].SourceImageCreationTime)) {
				return true
			}
		}
		return false
	case fOwnerID:
		return globAny(ps, img.Owner)
	case fOwnerAlias:
		return img.OwnerAlias != "" && globAny(ps, img.OwnerAlias)
	case fName:
		return globAny(ps, img.Name)
	case fDescription:
		return img.Description != "" && globAny(ps, img.Description)
	case fImageID:
		return globAny(ps, img.ID)
	case fState:
		return globAny(ps, img.State)
	case fImageType:
		return globAny(ps, imageType(img))
	case fArchitecture:
		return globAny(ps, imageArch(img))
	case fPlatform:
		return img.Platform != "" && globAny(ps, img.Platform)
	case fRootDeviceType:
		return globAny(ps, rootDeviceType(img))
	case fRootDeviceName:
		return globAny(ps, rootDeviceName(img))
	case fVirtualizationType:
		return globAny(ps, virtualizationType(img))
	case fHypervisor:
		return globAny(ps, hypervisor(img))
	case fCreationDate:
		return globAny(ps, formatCreationDate(img.CreationDate))
	case fSourceImageID:
		return img.SourceImageID != "" && globAny(ps, img.SourceImageID)
	case fSourceImageRegion:
		return img.SourceImageRegion != "" && globAny(ps, img.SourceImageRegion)
	case fSourceInstanceID:
		return img.SourceInstanceID != "" && globAny(ps, img.SourceInstanceID)
	case fProductCode:
		for _, c := range img.ProductCodes {
			if globAny(ps, c) {
				return true
			}
		}
		return false
	case fProductCodeType:
		return len(img.ProductCodes) > 0 && globAny(ps, "marketplace")
	case fManifestLocation:
		return globAny(ps, imageLocation(img))
	case fBDMDeviceName, fBDMSnapshotID, fBDMVolumeSize, fBDMVolumeType, fBDMDeleteOnTermination, fBDMEncrypted:
		for i := range img.BlockDevices {
			if f.matchBlockDevice(&img.BlockDevices[i]) {
				return true
			}
		}
		return false
	case fIsPublic:
		return globAny(ps, strconv.FormatBool(img.Public))
	case fImageAllowed:
		// "Whether the image meets the criteria specified for Allowed
		// AMIs" (the filter's documentation): the stored criteria decide
		// in every state, disabled included, where the filter previews
		// what enabling the setting would allow. The caller's own images
		// always meet them.
		return globAny(ps, strconv.FormatBool(ev.allowed(img)))
	case fScanFindingScanDate, fScanHighestSeverity, fScanCriticalFix, fScanHighFix, fScanMediumFix, fScanLowFix, fScanInformationalFix:
		v, ok := scanFilterValue(f.kind, img)
		return ok && globAny(ps, v)
	case fEnaSupport:
		return globAny(ps, strconv.FormatBool(img.EnaSupport))
	case fFreeTierEligible:
		return globAny(ps, "false")
	case fTag:
		v, ok := img.Tags[f.tagKey]
		return ok && globAny(ps, v)
	case fTagKey:
		for k := range img.Tags {
			if globAny(ps, k) {
				return true
			}
		}
		return false
	}
	return false
}

func (f *imageFilter) matchBlockDevice(bd *BlockDevice) bool {
	ps := f.pats
	switch f.kind {
	case fBDMDeviceName:
		return globAny(ps, bd.DeviceName)
	case fBDMSnapshotID:
		return bd.SnapshotID != "" && globAny(ps, bd.SnapshotID)
	case fBDMVolumeSize:
		return bd.VolumeSize > 0 && globAny(ps, strconv.Itoa(int(bd.VolumeSize)))
	case fBDMVolumeType:
		return bd.VolumeType != "" && globAny(ps, bd.VolumeType)
	case fBDMDeleteOnTermination:
		return globAny(ps, strconv.FormatBool(bd.DeleteOnTermination))
	case fBDMEncrypted:
		return globAny(ps, strconv.FormatBool(bd.Encrypted))
	}
	return false
}

// ---- image attribute defaults (shared by rendering and filters) ----

func imageType(img *Image) string          { return orDefault(img.ImageType, "machine") }
func imageArch(img *Image) string          { return orDefault(img.Architecture, "x86_64") }
func rootDeviceType(img *Image) string     { return orDefault(img.RootDeviceType, "ebs") }
func rootDeviceName(img *Image) string     { return orDefault(img.RootDeviceName, "/dev/xvda") }
func virtualizationType(img *Image) string { return orDefault(img.VirtualizationType, "hvm") }
func hypervisor(img *Image) string         { return orDefault(img.Hypervisor, "xen") }
func imageLocation(img *Image) string {
	if img.ImageLocation != "" {
		return img.ImageLocation
	}
	return img.Owner + "/" + img.Name
}
func platformDetails(img *Image) string {
	if img.PlatformDetails != "" {
		return img.PlatformDetails
	}
	if img.Platform == "windows" {
		return "Windows"
	}
	return "Linux/UNIX"
}

func orDefault(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

// deprecated reports whether the image's deprecation time has passed.
func deprecated(img *Image, now time.Time) bool {
	return img.DeprecationTime != nil && !img.DeprecationTime.After(now)
}
