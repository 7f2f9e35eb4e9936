package ec2emu

import (
	"hash/fnv"
	"sort"
	"strconv"
	"strings"
)

// GetImageAncestry and DescribeInstanceImageMetadata: AWS's own answers to
// "where does this AMI come from" and "which AMIs do my instances run".

func init() {
	register(map[string]handler{
		"GetImageAncestry":              getImageAncestry,
		"DescribeInstanceImageMetadata": describeInstanceImageMetadata,
	})
}

// maxAncestry bounds the chain (a seeded cycle cannot loop forever).
const maxAncestry = 100

// getImageAncestry returns the chain from the named AMI to its root: each
// entry is one image (creationDate, imageId, imageOwnerAlias,
// sourceImageId, sourceImageRegion), the next entry its source image. The
// named AMI must be visible to the caller (as for DescribeImages by id);
// its ancestors are listed whoever owns them, since the child already
// names them. The chain ends at an image without a source, or at a source
// the emulator does not know (its id is still the last entry's
// sourceImageId). A deregistered ancestor is still listed.
func getImageAncestry(s *Server, rq *request, x *xmlOut) *apiError {
	dry, aerr := rq.boolParam("DryRun")
	if aerr != nil {
		return aerr
	}
	id, aerr := rq.required("ImageId")
	if aerr != nil {
		return aerr
	}
	img, aerr := s.lookupImage(rq, id)
	if aerr != nil {
		return aerr
	}
	if dry {
		return errDryRun()
	}
	x.open("imageAncestryEntrySet")
	seen := map[string]bool{}
	for n := 0; img != nil && n < maxAncestry && !seen[img.ID]; n++ {
		seen[img.ID] = true
		x.open("item")
		x.elemTime("creationDate", img.CreationDate, layoutCreationDate)
		x.elem("imageId", img.ID)
		x.elemOpt("imageOwnerAlias", img.OwnerAlias)
		x.elemOpt("sourceImageId", img.SourceImageID)
		if img.SourceImageID != "" {
			x.elem("sourceImageRegion", orDefault(img.SourceImageRegion, img.Region))
		}
		x.close("item")
		img = s.sourceOf(img)
	}
	x.close("imageAncestryEntrySet")
	return nil
}

// sourceOf is the image img was made from, when the emulator knows it.
func (s *Server) sourceOf(img *Image) *Image {
	if img.SourceImageID == "" {
		return nil
	}
	src := s.st.Images[img.SourceImageID]
	if src == nil || src.Region != orDefault(img.SourceImageRegion, img.Region) {
		return nil
	}
	return src
}

// Instance filters of DescribeInstanceImageMetadata (the SDK's list).
var imageMetadataFilters = map[string]bool{
	"availability-zone": true, "instance-id": true, "image-allowed": true, "instance-state-name": true,
	"instance-type": true, "launch-time": true, "owner-alias": true, "owner-id": true, "tag-key": true, "zone-id": true,
}

// describeInstanceImageMetadata describes the AMI of each of the caller's
// instances in the region, also when the AMI is deprecated, deregistered,
// no longer shared or not allowed: the image's current record when the
// emulator still has it (deregistered images keep theirs), with the
// watermarks the instance recorded at launch when the image is gone.
// imageAllowed is the stored criteria's verdict, present unless the
// setting is disabled (as in DescribeImages). Instances of every state are
// listed, terminated ones too. Paging: MaxResults 5-1000 (not with
// InstanceId.N), a keyset token, stable order by launch time then id.
func describeInstanceImageMetadata(s *Server, rq *request, x *xmlOut) *apiError {
	dry, aerr := rq.boolParam("DryRun")
	if aerr != nil {
		return aerr
	}
	ids := rq.list("InstanceId")
	maxResults, hasMax, aerr := rq.intParam("MaxResults")
	if aerr != nil {
		return aerr
	}
	if hasMax {
		if len(ids) > 0 {
			return errBad("InvalidParameterCombination", "The parameter instancesSet cannot be used with the parameter maxResults")
		}
		if maxResults < minMaxResults || maxResults > maxMaxResults {
			return errInvalidValue("MaxResults", strconv.FormatInt(maxResults, 10), "Expecting a value between 5 and 1000.")
		}
	}
	var filters []imageFilter
	for _, n := range rq.indices("Filter") {
		p := sub("Filter", n)
		name := rq.get(p + ".Name")
		if name == "" {
			return errMissing(p + ".Name")
		}
		f := imageFilter{name: name}
		if strings.HasPrefix(name, "tag:") && len(name) > 4 {
			f.tagKey = name[4:]
		} else if !imageMetadataFilters[name] {
			return errBad("InvalidParameterValue", "The filter '%s' is invalid", truncateForMsg(name))
		}
		f.values = rq.list(p + ".Value")
		if len(f.values) == 0 {
			return errBad("InvalidParameterValue", "The filter '%s' has no values: give at least one value (Filter.%d.Value.1)", truncateForMsg(name), n)
		}
		for _, v := range f.values {
			f.pats = append(f.pats, compileGlob(v))
		}
		filters = append(filters, f)
	}
	var insts []*Instance
	if len(ids) > 0 {
		var missing []string
		seen := map[string]bool{}
		for _, id := range ids {
			inst, aerr := s.lookupInstance(rq, id)
			if aerr != nil {
				if aerr.Code == "InvalidInstanceID.Malformed" {
					return aerr
				}
				missing = append(missing, id)
				continue
			}
			if !seen[id] {
				seen[id] = true
				insts = append(insts, inst)
			}
		}
		if len(missing) > 0 {
			return errBad("InvalidInstanceID.NotFound", "The instance IDs '%s' do not exist", strings.Join(missing, ", "))
		}
	} else {
		for _, inst := range s.st.Instances {
			if inst.Region == rq.region && inst.Owner == rq.account {
				insts = append(insts, inst)
			}
		}
	}
	fp := metadataFingerprint(rq)
	afterNano, afterID := int64(0), ""
	hasAfter := false
	if tok := rq.get("NextToken"); tok != "" {
		cd, id, tfp, ok := decodeKeysetToken(tok, "i-")
		if !ok || tfp != fp {
			return errBad("InvalidPaginationToken", "The pagination token %q is invalid or belongs to a different query. Start again without NextToken.", truncateForMsg(tok))
		}
		afterNano, afterID, hasAfter = cd, id, true
	}
	if dry {
		return errDryRun()
	}
	settings := s.allowedSettings(rq.account, rq.region)
	mode := allowedMode(settings)
	sort.Slice(insts, func(i, j int) bool {
		a, b := insts[i].LaunchTime.UnixNano(), insts[j].LaunchTime.UnixNano()
		if a != b {
			return a < b
		}
		return insts[i].ID < insts[j].ID
	})
	limit := len(insts)
	if hasMax {
		limit = int(maxResults)
	}
	x.open("instanceImageMetadataSet")
	written := 0
	var last *Instance
	more := false
	for _, inst := range insts {
		ln := inst.LaunchTime.UnixNano()
		if hasAfter && (ln < afterNano || ln == afterNano && inst.ID <= afterID) {
			continue
		}
		s.settleInstance(inst, rq.now)
		img := s.st.Images[inst.ImageID]
		if img != nil && img.Region != inst.Region {
			img = nil
		}
		allowed := img != nil && allowedBy(settings, img, rq.account, rq.now)
		if !metadataMatches(inst, img, allowed, filters) {
			continue
		}
		if written == limit {
			more = true
			break
		}
		writeInstanceImageMetadata(x, inst, img, allowed, mode != allowedDisabled)
		written++
		last = inst
	}
	x.close("instanceImageMetadataSet")
	if more && last != nil {
		x.elem("nextToken", encodePageToken(last.LaunchTime.UnixNano(), last.ID, fp))
	}
	return nil
}

// metadataFingerprint ties a page token to the query (filters and ids).
func metadataFingerprint(rq *request) uint64 {
	h := fnv.New64a()
	h.Write([]byte(rq.account + "/" + rq.region))
	for _, k := range sortedKeys(rq.form) {
		if strings.HasPrefix(k, "Filter.") || strings.HasPrefix(k, "InstanceId.") || k == "MaxResults" {
			h.Write([]byte(k + "=" + rq.get(k) + "&"))
		}
	}
	return h.Sum64()
}

func metadataMatches(inst *Instance, img *Image, allowed bool, filters []imageFilter) bool {
	for i := range filters {
		f := &filters[i]
		var ok bool
		az := orDefault(inst.AvailabilityZone, inst.Region+"a")
		switch {
		case f.tagKey != "":
			v, has := inst.Tags[f.tagKey]
			ok = has && globAny(f.pats, v)
		case f.name == "availability-zone":
			ok = globAny(f.pats, az)
		case f.name == "zone-id":
			ok = globAny(f.pats, azID(az))
		case f.name == "instance-id":
			ok = globAny(f.pats, inst.ID)
		case f.name == "image-allowed":
			ok = img != nil && globAny(f.pats, strconv.FormatBool(allowed))
		case f.name == "instance-state-name":
			ok = globAny(f.pats, inst.State)
		case f.name == "instance-type":
			ok = globAny(f.pats, inst.InstanceType)
		case f.name == "launch-time":
			ok = globAny(f.pats, formatCreationDate(inst.LaunchTime))
		case f.name == "owner-alias":
			ok = img != nil && img.OwnerAlias != "" && globAny(f.pats, img.OwnerAlias)
		case f.name == "owner-id":
			ok = img != nil && globAny(f.pats, img.Owner)
		case f.name == "tag-key":
			for k := range inst.Tags {
				ok = ok || globAny(f.pats, k)
			}
		}
		if !ok {
			return false
		}
	}
	return true
}

func writeInstanceImageMetadata(x *xmlOut, inst *Instance, img *Image, allowed, reportAllowed bool) {
	az := orDefault(inst.AvailabilityZone, inst.Region+"a")
	x.open("item")
	x.elem("instanceId", inst.ID)
	x.elem("instanceType", inst.InstanceType)
	x.elemTime("launchTime", inst.LaunchTime, layoutCreationDate)
	x.elem("availabilityZone", az)
	x.elemOpt("zoneId", azID(az))
	writeInstanceState(x, "instanceState", inst.State)
	x.elem("instanceOwnerId", inst.Owner)
	writeTagSet(x, inst.Tags)
	x.open("imageMetadata")
	x.elem("imageId", inst.ImageID)
	watermarks := inst.LaunchWatermarks
	if img != nil {
		x.elem("name", img.Name)
		x.elem("imageOwnerId", img.Owner)
		x.elemOpt("imageOwnerAlias", img.OwnerAlias)
		x.elemTime("creationDate", img.CreationDate, layoutCreationDate)
		if img.DeprecationTime != nil {
			x.elemTime("deprecationTime", *img.DeprecationTime, layoutCreationDate)
		}
		x.elem("imageState", img.State)
		x.elemBool("isPublic", img.Public)
		if reportAllowed {
			x.elemBool("imageAllowed", allowed)
		}
		watermarks = img.Watermarks
	}
	if len(watermarks) > 0 {
		x.open("imageWatermarkSet")
		for i := range watermarks {
			w := &watermarks[i]
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
	x.close("imageMetadata")
	x.close("item")
}
