package ec2emu

import (
	"encoding/base64"
	"encoding/binary"
	"hash/fnv"
	"sort"
	"strconv"
	"strings"
	"time"
)

// DescribeImages (docs/ec2-semantics.md, "DescribeImages").

func init() {
	register(map[string]handler{"DescribeImages": describeImages})
}

const (
	minMaxResults = 5
	maxMaxResults = 1000
)

// describeEval holds what a DescribeImages call evaluates per image,
// prepared once per request.
type describeEval struct {
	account, region string
	now             time.Time
	ownerIDs        []string // Owner.N account ids (self resolved)
	ownerAliases    []string // Owner.N aliases
	hasOwners       bool
	execSelf        bool     // ExecutableBy self or own id: shared with the caller
	execAll         bool     // ExecutableBy all: public
	execAccounts    []string // ExecutableBy other ids
	hasExec         bool
	inclDeprecated  bool
	inclDisabled    bool
	filters         []imageFilter
	settings        *AllowedSettings
	mode            string
}

func (ev *describeEval) allowed(img *Image) bool {
	return allowedBy(ev.settings, img, ev.account, ev.now)
}

func sharedWith(img *Image, account string) bool {
	for _, a := range img.SharedWith {
		if a == account {
			return true
		}
	}
	return false
}

// visibleTo: the caller owns the image, it is public, or shared with the
// caller (docs/ec2-semantics.md, "DescribeImages"). Deregistered images are not visible.
func visibleTo(img *Image, account string) bool {
	if img.State == "deregistered" {
		return false
	}
	return img.Owner == account || img.Public || sharedWith(img, account)
}

// discoverableBy is visibility plus the Allowed-AMIs enabled-mode hiding.
func (ev *describeEval) discoverableBy(img *Image) bool {
	if img.Region != ev.region || !visibleTo(img, ev.account) {
		return false
	}
	if ev.mode == allowedEnabled && img.Owner != ev.account && !ev.allowed(img) {
		return false
	}
	return true
}

// selected applies Owner, ExecutableBy, deprecation, disabled and filters
// to a discoverable image. explicit: named by ImageId.N (deprecated AMIs
// are returned when named by id).
func (ev *describeEval) selected(img *Image, explicit bool) bool {
	owned := img.Owner == ev.account
	if ev.hasOwners {
		ok := false
		for _, o := range ev.ownerIDs {
			if img.Owner == o {
				ok = true
				break
			}
		}
		if !ok && img.OwnerAlias != "" {
			for _, a := range ev.ownerAliases {
				if img.OwnerAlias == a {
					ok = true
					break
				}
			}
		}
		if !ok {
			return false
		}
	}
	if ev.hasExec {
		ok := (ev.execAll && img.Public) || (ev.execSelf && sharedWith(img, ev.account))
		if !ok {
			for _, a := range ev.execAccounts {
				if sharedWith(img, a) {
					ok = true
					break
				}
			}
		}
		if !ok {
			return false
		}
	}
	settle(img, ev.now)
	if !ev.inclDisabled && img.State == "disabled" {
		return false
	}
	if !explicit && !owned && !ev.inclDeprecated && deprecated(img, ev.now) {
		return false
	}
	for i := range ev.filters {
		if !ev.filters[i].matchImage(img, ev) {
			return false
		}
	}
	return true
}

// settle makes a pending image available once its AvailableAt has passed
// and its PendingDescribes are used up. Callers hold s.mu.
func settle(img *Image, now time.Time) {
	if img.State == "pending" && img.PendingDescribes <= 0 && !img.AvailableAt.IsZero() && !now.Before(img.AvailableAt) {
		img.State = "available"
	}
}

// afterDescribe counts one DescribeImages answer that returned img.
func afterDescribe(img *Image, now time.Time) {
	if img.State != "pending" || img.PendingDescribes <= 0 {
		return
	}
	img.PendingDescribes--
	if img.PendingDescribes == 0 && (img.AvailableAt.IsZero() || !now.Before(img.AvailableAt)) {
		img.State = "available"
	}
}

func describeImages(s *Server, rq *request, x *xmlOut) *apiError {
	dry, aerr := rq.boolParam("DryRun")
	if aerr != nil {
		return aerr
	}
	ev := &describeEval{account: rq.account, region: rq.region, now: rq.now}
	if ev.inclDeprecated, aerr = rq.boolParam("IncludeDeprecated"); aerr != nil {
		return aerr
	}
	if ev.inclDisabled, aerr = rq.boolParam("IncludeDisabled"); aerr != nil {
		return aerr
	}
	maxResults, hasMax, aerr := rq.intParam("MaxResults")
	if aerr != nil {
		return aerr
	}
	ids := rq.list("ImageId")
	if hasMax {
		if len(ids) > 0 {
			return errBad("InvalidParameterCombination", "The parameter imageIdsSet cannot be used with the parameter maxResults")
		}
		if maxResults < minMaxResults || maxResults > maxMaxResults {
			return errInvalidValue("MaxResults", strconv.FormatInt(maxResults, 10),
				"Expecting a value between 5 and 1000: use MaxResults from 5 to 1000, or omit it to get every match in one response.")
		}
	}
	for _, o := range rq.list("Owner") {
		ev.hasOwners = true
		switch {
		case o == "self":
			ev.ownerIDs = append(ev.ownerIDs, rq.account)
		case o == "amazon", o == "aws-marketplace", o == "aws-backup-vault":
			ev.ownerAliases = append(ev.ownerAliases, o)
		case isAccountID(o):
			ev.ownerIDs = append(ev.ownerIDs, o)
		default:
			return errBad("InvalidUserID.Malformed", "Invalid user id: %q (Owner accepts self, amazon, aws-marketplace, aws-backup-vault or a 12-digit account ID)", truncateForMsg(o))
		}
	}
	for _, e := range rq.list("ExecutableBy") {
		ev.hasExec = true
		switch {
		case e == "self" || e == rq.account:
			ev.execSelf = true
		case e == "all":
			ev.execAll = true
		case isAccountID(e):
			ev.execAccounts = append(ev.execAccounts, e)
		default:
			return errBad("InvalidUserID.Malformed", "Invalid user id: %q (ExecutableBy accepts self, all or a 12-digit account ID)", truncateForMsg(e))
		}
	}
	if ev.filters, aerr = parseFilters(rq, imageFilterKinds); aerr != nil {
		return aerr
	}
	if dry {
		return errDryRun()
	}
	ev.settings = s.allowedSettings(rq.account, rq.region)
	ev.mode = allowedMode(ev.settings)

	// The page position (keyset pagination over the stable order).
	var after *pagePos
	if tok := rq.get("NextToken"); tok != "" {
		cd, id, fp, ok := decodePageToken(tok)
		if !ok || fp != ev.fingerprint(rq) {
			return errBad("InvalidPaginationToken", "The pagination token %q is invalid or belongs to a different query. Start again without NextToken.", truncateForMsg(tok))
		}
		after = &pagePos{cd: cd, id: id}
	}

	var matches []*Image
	if len(ids) > 0 {
		seen := make(map[string]bool, len(ids))
		uniq := ids[:0:0]
		for _, id := range ids {
			if !isImageID(id) {
				return errImageMalformed(id)
			}
			if !seen[id] {
				seen[id] = true
				uniq = append(uniq, id)
			}
		}
		var missing []string
		for _, id := range uniq {
			img := s.st.Images[id]
			if img == nil || !ev.discoverableBy(img) {
				missing = append(missing, id)
				continue
			}
			if img.NotFoundDescribes > 0 {
				img.NotFoundDescribes--
				missing = append(missing, id)
				continue
			}
			if ev.selected(img, true) && after.before(img) {
				matches = append(matches, img)
			}
		}
		if len(missing) > 0 {
			return errImageNotFound(missing...)
		}
	} else {
		// Scan the region in DescribeImages order from the page position;
		// stop once one more than a page has matched.
		list := s.visibleCandidates(ev.region, ev.account)
		start := 0
		if after != nil {
			start = sort.Search(len(list), func(i int) bool { return after.before(list[i]) })
		}
		for _, img := range list[start:] {
			if ev.discoverableBy(img) && ev.selected(img, false) {
				matches = append(matches, img)
				if hasMax && int64(len(matches)) > maxResults {
					break
				}
			}
		}
	}

	page := matches
	next := ""
	if len(ids) > 0 {
		sort.Slice(page, func(i, j int) bool { return imageLess(page[i], page[j]) })
	}
	if hasMax && int64(len(page)) > maxResults {
		page = page[:maxResults]
		last := page[len(page)-1]
		next = encodePageToken(last.CreationDate.UnixNano(), last.ID, ev.fingerprint(rq))
	}

	rq.items = len(page)
	x.reserve(len(page) * 768) // an image's item is about 600-900 bytes
	x.open("imagesSet")
	for _, img := range page {
		var allowed *bool
		if ev.mode != allowedDisabled {
			a := ev.allowed(img)
			allowed = &a
		}
		writeImage(x, img, allowed)
	}
	x.close("imagesSet")
	if next != "" {
		x.elem("nextToken", next)
	}
	for _, img := range page {
		afterDescribe(img, rq.now)
	}
	return nil
}

// pagePos is the position a NextToken continues after.
type pagePos struct {
	cd int64
	id string
}

// before reports whether img comes after the position (always, for nil).
func (p *pagePos) before(img *Image) bool {
	if p == nil {
		return true
	}
	c := img.CreationDate.UnixNano()
	return c > p.cd || c == p.cd && img.ID > p.id
}

// imageLess is the stable order of DescribeImages: creationDate, then id.
func imageLess(a, b *Image) bool {
	if !a.CreationDate.Equal(b.CreationDate) {
		return a.CreationDate.Before(b.CreationDate)
	}
	return a.ID < b.ID
}

// fingerprint identifies the query a NextToken belongs to.
func (ev *describeEval) fingerprint(rq *request) uint64 {
	h := fnv.New64a()
	w := func(s string) { h.Write([]byte(s)); h.Write([]byte{0}) }
	w(rq.account)
	w(rq.region)
	for _, o := range rq.list("Owner") {
		w("o:" + o)
	}
	for _, e := range rq.list("ExecutableBy") {
		w("e:" + e)
	}
	for _, f := range ev.filters {
		w("f:" + f.name)
		for _, v := range f.values {
			w(v)
		}
	}
	w(strconv.FormatBool(ev.inclDeprecated))
	w(strconv.FormatBool(ev.inclDisabled))
	return h.Sum64()
}

const pageTokenKey = "ec2emu-page-token-v1"

func pageTokenSum(payload []byte) uint64 {
	h := fnv.New64a()
	h.Write([]byte(pageTokenKey))
	h.Write(payload)
	return h.Sum64()
}

// encodePageToken makes an opaque token for the position after (cd, id).
func encodePageToken(cd int64, id string, fp uint64) string {
	b := make([]byte, 0, 64)
	b = binary.BigEndian.AppendUint64(b, uint64(cd))
	b = binary.BigEndian.AppendUint64(b, fp)
	b = append(b, id...)
	b = binary.BigEndian.AppendUint64(b, pageTokenSum(b))
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodePageToken(tok string) (cd int64, id string, fp uint64, ok bool) {
	return decodeKeysetToken(tok, "ami-")
}

// decodeKeysetToken reads a token of encodePageToken whose id starts with
// idPrefix (DescribeImages: ami-, DescribeInstanceImageMetadata: i-).
func decodeKeysetToken(tok, idPrefix string) (cd int64, id string, fp uint64, ok bool) {
	b, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil || len(b) < 8+8+1+8 {
		return 0, "", 0, false
	}
	payload, sum := b[:len(b)-8], binary.BigEndian.Uint64(b[len(b)-8:])
	if pageTokenSum(payload) != sum {
		return 0, "", 0, false
	}
	cd = int64(binary.BigEndian.Uint64(payload[0:8]))
	fp = binary.BigEndian.Uint64(payload[8:16])
	id = string(payload[16:])
	if !strings.HasPrefix(id, idPrefix) {
		return 0, "", 0, false
	}
	return cd, id, fp, true
}

// writeImage renders one <item> of imagesSet. allowed nil omits imageAllowed.
func writeImage(x *xmlOut, img *Image, allowed *bool) {
	x.open("item")
	x.elem("imageId", img.ID)
	if img.ImageLocation != "" {
		x.elem("imageLocation", img.ImageLocation)
	} else { // imageLocation's default, written without building it
		x.open("imageLocation")
		x.text(img.Owner)
		x.text("/")
		x.text(img.Name)
		x.close("imageLocation")
	}
	x.elem("imageState", img.State)
	x.elem("imageOwnerId", img.Owner)
	x.elemOpt("imageOwnerAlias", img.OwnerAlias)
	x.elemTime("creationDate", img.CreationDate, layoutCreationDate)
	if img.DeprecationTime != nil {
		x.elemTime("deprecationTime", *img.DeprecationTime, layoutCreationDate)
	}
	x.elemBool("isPublic", img.Public)
	x.elem("name", img.Name)
	x.elemOpt("description", img.Description)
	x.elem("architecture", imageArch(img))
	x.elem("imageType", imageType(img))
	x.elemOpt("platform", img.Platform)
	x.elem("platformDetails", platformDetails(img))
	x.elem("usageOperation", "RunInstances")
	x.elem("rootDeviceType", rootDeviceType(img))
	x.elem("rootDeviceName", rootDeviceName(img))
	x.elem("virtualizationType", virtualizationType(img))
	x.elem("hypervisor", hypervisor(img))
	x.elemBool("enaSupport", img.EnaSupport)
	if len(img.BlockDevices) > 0 {
		x.open("blockDeviceMapping")
		for i := range img.BlockDevices {
			writeBlockDevice(x, &img.BlockDevices[i])
		}
		x.close("blockDeviceMapping")
	}
	if len(img.ProductCodes) > 0 {
		x.open("productCodes")
		for _, c := range img.ProductCodes {
			x.open("item")
			x.elem("productCode", c)
			x.elem("type", "marketplace")
			x.close("item")
		}
		x.close("productCodes")
	}
	writeTagSet(x, img.Tags)
	if img.State == "failed" || img.State == "error" {
		x.open("stateReason")
		x.elem("code", "Client.InvalidImage")
		x.elem("message", "The image failed to be created.")
		x.close("stateReason")
	}
	x.elemOpt("sourceImageId", img.SourceImageID)
	x.elemOpt("sourceImageRegion", img.SourceImageRegion)
	x.elemOpt("sourceInstanceId", img.SourceInstanceID)
	if allowed != nil {
		x.elemBool("imageAllowed", *allowed)
	}
	if len(img.Watermarks) > 0 {
		x.open("imageWatermarkSet")
		for i := range img.Watermarks {
			w := &img.Watermarks[i]
			x.open("item")
			x.elem("watermarkKey", w.Key)
			x.elem("sourceImageId", w.SourceImageID)
			x.elem("sourceImageRegion", w.SourceImageRegion)
			x.elemTime("sourceImageCreationTime", w.SourceImageCreationTime, layoutWatermarkTime)
			x.elemTime("watermarkCreationTime", w.WatermarkCreationTime, layoutWatermarkTime)
			x.close("item")
		}
		x.close("imageWatermarkSet")
	}
	writeScanResults(x, img.ScanResults)
	x.close("item")
}

func writeBlockDevice(x *xmlOut, bd *BlockDevice) {
	x.open("item")
	x.elem("deviceName", bd.DeviceName)
	x.open("ebs")
	x.elemOpt("snapshotId", bd.SnapshotID)
	if bd.VolumeSize > 0 {
		x.elemInt("volumeSize", int64(bd.VolumeSize))
	}
	x.elemBool("deleteOnTermination", bd.DeleteOnTermination)
	x.elemOpt("volumeType", bd.VolumeType)
	x.elemBool("encrypted", bd.Encrypted)
	x.close("ebs")
	x.close("item")
}

// writeTagSet renders tags sorted by key; nothing when there are none.
func writeTagSet(x *xmlOut, tags map[string]string) {
	if len(tags) == 0 {
		return
	}
	keys := make([]string, 0, len(tags))
	for k := range tags {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	x.open("tagSet")
	for _, k := range keys {
		x.open("item")
		x.elem("key", k)
		x.elem("value", tags[k])
		x.close("item")
	}
	x.close("tagSet")
}
