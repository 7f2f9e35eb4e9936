package ec2emu

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Image actions: watermarks, Register/Deregister, CopyImage, CreateImage,
// launch permissions (each a section of docs/ec2-semantics.md)
// and tags.

func init() {
	register(map[string]handler{
		"AttachImageWatermark":   attachImageWatermark,
		"DetachImageWatermark":   detachImageWatermark,
		"RegisterImage":          registerImage,
		"DeregisterImage":        deregisterImage,
		"CopyImage":              copyImage,
		"CreateImage":            createImage,
		"ModifyImageAttribute":   modifyImageAttribute,
		"DescribeImageAttribute": describeImageAttribute,
		"CreateTags":             createTags,
		"DeleteTags":             deleteTags,
	})
}

const (
	// maxWatermarks is the most watermarks an AMI can carry, inherited
	// ones included.
	maxWatermarks = 5

	msgInvalidWatermarkName = "The watermark name isn't valid. The name must be 3-128 characters and can contain only letters (A-Z, a-z), numbers (0-9), spaces, and the following characters: () [] . / - ' @ _."
	msgWatermarkLimit       = "Can't attach the watermark because the image already has the maximum number of watermarks (5). Detach unused watermarks, and try again."
	msgPublicWatermark      = "Watermarks can't be attached to public images."
	msgWatermarkedPublic    = "Images with watermarks can't be made public."
)

// validWatermarkName is ^[A-Za-z0-9 ()\[\]./\-'@_]{3,128}$ (ASCII only).
// The API (AttachImageWatermark) and the seed path both use it.
func validWatermarkName(name string) bool { return watermarkNameProblem(name) == "" }

// watermarkNameProblem says what is wrong with a watermark name, or "" when
// it is valid. It is the emulator's one watermark-name rule.
func watermarkNameProblem(name string) string {
	if strings.Contains(name, ":") {
		return fmt.Sprintf("watermark name %q contains ':': give the name only; EC2 adds the account id itself and the key becomes ACCOUNT:NAME", truncateForMsg(name))
	}
	if len(name) < 3 || len(name) > 128 {
		return fmt.Sprintf("watermark name %q is %d characters long: a name must be 3-128 characters", truncateForMsg(name), len(name))
	}
	for i, r := range name {
		if r >= 0x80 || !nameByte(byte(r)) {
			return fmt.Sprintf("watermark name %q has the character %q at position %d: a name may contain only letters (A-Z, a-z), digits (0-9), spaces and ( ) [ ] . / - ' @ _", truncateForMsg(name), r, i+1)
		}
	}
	return ""
}

// nameByte: letters, digits, space and ()[]./-'@_ — the character set of
// both watermark names and AMI names.
func nameByte(c byte) bool {
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		return true
	}
	switch c {
	case ' ', '(', ')', '[', ']', '.', '/', '-', '\'', '@', '_':
		return true
	}
	return false
}

// validateAMIName checks an AMI name (3-128 characters of the same set).
func validateAMIName(name string) *apiError {
	ok := len(name) >= 3 && len(name) <= 128
	for i := 0; ok && i < len(name); i++ {
		ok = nameByte(name[i])
	}
	if !ok {
		return errBad("InvalidAMIName.Malformed",
			"AMI name %q is not valid: AMI names must be 3-128 characters and may contain only letters, numbers, spaces and ( ) [ ] . / - ' @ _.", truncateForMsg(name))
	}
	return nil
}

// checkNameFree: an account cannot have two AMIs with one name in a region.
func (s *Server) checkNameFree(account, region, name string) *apiError {
	for _, img := range s.st.Images {
		if img.Name == name && img.Owner == account && img.Region == region && img.State != "deregistered" {
			return errBad("InvalidAMIName.Duplicate", "AMI name %s is already in use by AMI %s. Choose another name or deregister %s first.", name, img.ID, img.ID)
		}
	}
	return nil
}

// lookupImage resolves an image id the caller names in the request region:
// malformed, then not found (unknown, other region, deregistered, not
// visible to the caller, or hidden by Allowed AMIs in enabled mode).
// Callers hold s.mu.
func (s *Server) lookupImage(rq *request, id string) (*Image, *apiError) {
	if !isImageID(id) {
		return nil, errImageMalformed(id)
	}
	img := s.st.Images[id]
	if img == nil || img.Region != rq.region || !visibleTo(img, rq.account) || !s.discoverable(img, rq.account, rq.now) {
		return nil, errImageNotFound(id)
	}
	settle(img, rq.now)
	return img, nil
}

// lookupOwnImage is lookupImage for actions only the image's owner may
// take: an image of another account is AuthFailure. Callers hold s.mu.
func (s *Server) lookupOwnImage(rq *request, id string) (*Image, *apiError) {
	img, aerr := s.lookupImage(rq, id)
	if aerr != nil {
		return nil, aerr
	}
	if img.Owner != rq.account {
		return nil, errNotAuthorized(id)
	}
	return img, nil
}

// newImage makes a new AMI owned by the caller in the request region,
// pending or available according to the run-time options. The caller
// fills in the rest and stores it. Callers hold s.mu.
func (s *Server) newImage(rq *request, name string) *Image {
	img := &Image{
		ID:           s.newImageID(),
		Region:       rq.region,
		Owner:        rq.account,
		Name:         name,
		State:        "available",
		CreationDate: rq.now.Truncate(time.Second),
		Hypervisor:   "xen",
		ImageType:    "machine",
	}
	if s.opts.AvailableAfter > 0 {
		img.State = "pending"
		img.AvailableAt = rq.now.Add(s.opts.AvailableAfter)
	}
	if s.opts.PendingDescribes > 0 {
		img.State = "pending"
		img.PendingDescribes = s.opts.PendingDescribes
	}
	if s.opts.NotFoundDescribes > 0 {
		img.NotFoundDescribes = s.opts.NotFoundDescribes
	}
	return img
}

func (s *Server) copyBlockDevices(src []BlockDevice, encrypt bool) []BlockDevice {
	if len(src) == 0 {
		return nil
	}
	out := make([]BlockDevice, len(src))
	for i, bd := range src {
		out[i] = bd
		if bd.SnapshotID != "" {
			out[i].SnapshotID = s.newSnapshotID()
		}
		if encrypt {
			out[i].Encrypted = true
		}
	}
	return out
}

func copyWatermarks(ws []Watermark) []Watermark {
	if len(ws) == 0 {
		return nil
	}
	return append([]Watermark(nil), ws...)
}

// clientTokenResult returns the id an earlier call with the same
// ClientToken produced (idempotency), or "".
func (s *Server) clientTokenResult(rq *request) string {
	tok := rq.get("ClientToken")
	if tok == "" || s.st.ClientTokens == nil {
		return ""
	}
	return s.st.ClientTokens[rq.account+"/"+rq.region+"/"+rq.action+"/"+tok]
}

func (s *Server) rememberClientToken(rq *request, result string) {
	tok := rq.get("ClientToken")
	if tok == "" {
		return
	}
	if s.st.ClientTokens == nil {
		s.st.ClientTokens = map[string]string{}
	}
	s.st.ClientTokens[rq.account+"/"+rq.region+"/"+rq.action+"/"+tok] = result
}

// ---- AttachImageWatermark / DetachImageWatermark ----

func attachImageWatermark(s *Server, rq *request, x *xmlOut) *apiError {
	// The order of docs/ec2-semantics.md, "AttachImageWatermark": missing parameter, malformed id, unknown id, invalid name,
	// not the owner, public, not available, already present, limit.
	id, aerr := rq.required("ImageId")
	if aerr != nil {
		return aerr
	}
	if !rq.has("WatermarkName") {
		return errMissing("WatermarkName")
	}
	name := rq.get("WatermarkName")
	dry, aerr := rq.boolParam("DryRun")
	if aerr != nil {
		return aerr
	}
	img, aerr := s.lookupImage(rq, id)
	if aerr != nil {
		return aerr
	}
	if !validWatermarkName(name) {
		return errBad("InvalidParameter", msgInvalidWatermarkName)
	}
	if img.Owner != rq.account {
		return errNotAuthorized(id)
	}
	if img.Public {
		return errBad("UnsupportedOperation", msgPublicWatermark)
	}
	if img.State != "available" {
		return errIncorrectState(id)
	}
	key := rq.account + ":" + name
	present := false
	for i := range img.Watermarks {
		if img.Watermarks[i].Key == key {
			present = true
			break
		}
	}
	if !present && len(img.Watermarks) >= maxWatermarks {
		return errBad("ResourceLimitExceeded", msgWatermarkLimit)
	}
	if dry {
		return errDryRun()
	}
	if !present {
		img.Watermarks = append(img.Watermarks, Watermark{
			Key:                     key,
			SourceImageID:           img.ID,
			SourceImageRegion:       img.Region,
			SourceImageCreationTime: img.CreationDate,
			WatermarkCreationTime:   rq.now.Truncate(time.Microsecond),
		})
	}
	x.elem("watermarkKey", key)
	return nil
}

func detachImageWatermark(s *Server, rq *request, x *xmlOut) *apiError {
	id, aerr := rq.required("ImageId")
	if aerr != nil {
		return aerr
	}
	if !rq.has("WatermarkKey") {
		return errMissing("WatermarkKey")
	}
	key := rq.get("WatermarkKey")
	dry, aerr := rq.boolParam("DryRun")
	if aerr != nil {
		return aerr
	}
	img, aerr := s.lookupOwnImage(rq, id)
	if aerr != nil {
		return aerr
	}
	if dry {
		return errDryRun()
	}
	// docs/ec2-semantics.md, "DetachImageWatermark": an absent key (in any form) is success; the owner may detach
	// any key, also one inherited from another account. Only this image
	// changes; derived images keep their copies.
	for i := range img.Watermarks {
		if img.Watermarks[i].Key == key {
			img.Watermarks = append(img.Watermarks[:i:i], img.Watermarks[i+1:]...)
			break
		}
	}
	if len(img.Watermarks) == 0 {
		img.Watermarks = nil
	}
	x.elemBool("return", true)
	return nil
}

// ---- RegisterImage / DeregisterImage ----

func registerImage(s *Server, rq *request, x *xmlOut) *apiError {
	name, aerr := rq.required("Name")
	if aerr != nil {
		return aerr
	}
	dry, aerr := rq.boolParam("DryRun")
	if aerr != nil {
		return aerr
	}
	if aerr := validateAMIName(name); aerr != nil {
		return aerr
	}
	ena, aerr := rq.boolParam("EnaSupport")
	if aerr != nil {
		return aerr
	}
	bds, aerr := s.parseBlockDeviceMappings(rq)
	if aerr != nil {
		return aerr
	}
	tags, aerr := rq.tagSpecs("image")
	if aerr != nil {
		return aerr
	}
	arch := orDefault(rq.get("Architecture"), "x86_64")
	switch arch {
	case "i386", "x86_64", "arm64", "x86_64_mac", "arm64_mac":
	default:
		return errInvalidValue("Architecture", truncateForMsg(arch), "Valid values are i386, x86_64, arm64, x86_64_mac and arm64_mac.")
	}
	virt := orDefault(rq.get("VirtualizationType"), "hvm")
	if virt != "hvm" && virt != "paravirtual" {
		return errInvalidValue("VirtualizationType", truncateForMsg(virt), "Valid values are hvm and paravirtual.")
	}
	if aerr := s.checkNameFree(rq.account, rq.region, name); aerr != nil {
		return aerr
	}
	if dry {
		return errDryRun()
	}
	img := s.newImage(rq, name)
	img.Description = rq.get("Description")
	img.Architecture = arch
	img.VirtualizationType = virt
	img.RootDeviceName = orDefault(rq.get("RootDeviceName"), "/dev/xvda")
	img.RootDeviceType = "ebs"
	img.ImageLocation = rq.get("ImageLocation")
	if img.ImageLocation != "" && len(bds) == 0 {
		img.RootDeviceType = "instance-store"
	}
	img.EnaSupport = ena
	img.BlockDevices = bds
	img.Tags = tags
	s.putImage(img)
	s.recordImageSnapshots(img, "", rq.now)
	x.elem("imageId", img.ID)
	return nil
}

// parseBlockDeviceMappings reads BlockDeviceMapping.N.{DeviceName,Ebs.*}.
func (s *Server) parseBlockDeviceMappings(rq *request) ([]BlockDevice, *apiError) {
	var out []BlockDevice
	for _, n := range rq.indices("BlockDeviceMapping") {
		p := sub("BlockDeviceMapping", n)
		bd := BlockDevice{DeviceName: rq.get(p + ".DeviceName")}
		if bd.DeviceName == "" {
			return nil, errMissing(p + ".DeviceName")
		}
		if rq.has(p+".NoDevice") || rq.has(p+".VirtualName") {
			continue
		}
		bd.SnapshotID = rq.get(p + ".Ebs.SnapshotId")
		if size, ok, aerr := rq.intParam(p + ".Ebs.VolumeSize"); aerr != nil {
			return nil, aerr
		} else if ok {
			if size < 1 || size > 65536 {
				return nil, errInvalidValue(p+".Ebs.VolumeSize", strconv.FormatInt(size, 10), "Expecting a size from 1 to 65536 GiB.")
			}
			bd.VolumeSize = int32(size)
		}
		bd.VolumeType = rq.get(p + ".Ebs.VolumeType")
		if rq.has(p + ".Ebs.DeleteOnTermination") {
			v, aerr := rq.boolParam(p + ".Ebs.DeleteOnTermination")
			if aerr != nil {
				return nil, aerr
			}
			bd.DeleteOnTermination = v
		} else {
			bd.DeleteOnTermination = true
		}
		enc, aerr := rq.boolParam(p + ".Ebs.Encrypted")
		if aerr != nil {
			return nil, aerr
		}
		bd.Encrypted = enc
		if bd.SnapshotID == "" {
			bd.SnapshotID = s.newSnapshotID()
		}
		if bd.VolumeSize == 0 {
			bd.VolumeSize = 8
		}
		if bd.VolumeType == "" {
			bd.VolumeType = "gp3"
		}
		out = append(out, bd)
	}
	return out, nil
}

func deregisterImage(s *Server, rq *request, x *xmlOut) *apiError {
	id, aerr := rq.required("ImageId")
	if aerr != nil {
		return aerr
	}
	dry, aerr := rq.boolParam("DryRun")
	if aerr != nil {
		return aerr
	}
	delSnaps, aerr := rq.boolParam("DeleteAssociatedSnapshots")
	if aerr != nil {
		return aerr
	}
	if !isImageID(id) {
		return errImageMalformed(id)
	}
	img := s.st.Images[id]
	if img != nil && img.Region == rq.region && img.State == "deregistered" && img.Owner == rq.account {
		return errImageUnavailable(id)
	}
	img, aerr = s.lookupOwnImage(rq, id)
	if aerr != nil {
		return aerr
	}
	if dry {
		return errDryRun()
	}
	// Derived images are unaffected: they hold their own copies.
	now := rq.now
	img.State = "deregistered"
	img.DeregisteredAt = &now
	img.Public = false
	img.SharedWith = nil
	x.elemBool("return", true)
	if delSnaps {
		s.recordImageSnapshots(img, "", img.CreationDate)
		x.open("deleteSnapshotResultSet")
		for _, bd := range img.BlockDevices {
			if bd.SnapshotID == "" {
				continue
			}
			code := "success"
			if s.snapshotInUse(img.Region, bd.SnapshotID) {
				code = "error-snapshot-in-use"
			} else if sn := s.st.Snapshots[bd.SnapshotID]; sn != nil {
				sn.Deleted, sn.Tags = true, nil
			}
			x.open("item")
			x.elem("snapshotId", bd.SnapshotID)
			x.elem("returnCode", code)
			x.close("item")
		}
		x.close("deleteSnapshotResultSet")
	}
	return nil
}

// ---- CopyImage / CreateImage ----

func copyImage(s *Server, rq *request, x *xmlOut) *apiError {
	srcID, aerr := rq.required("SourceImageId")
	if aerr != nil {
		return aerr
	}
	srcRegion, aerr := rq.required("SourceRegion")
	if aerr != nil {
		return aerr
	}
	name, aerr := rq.required("Name")
	if aerr != nil {
		return aerr
	}
	dry, aerr := rq.boolParam("DryRun")
	if aerr != nil {
		return aerr
	}
	copyTags, aerr := rq.boolParam("CopyImageTags")
	if aerr != nil {
		return aerr
	}
	encrypted, aerr := rq.boolParam("Encrypted")
	if aerr != nil {
		return aerr
	}
	tags, aerr := rq.tagSpecs("image")
	if aerr != nil {
		return aerr
	}
	if prev := s.clientTokenResult(rq); prev != "" && !dry {
		x.elem("imageId", prev)
		return nil
	}
	if !isImageID(srcID) {
		return errImageMalformed(srcID)
	}
	src := s.st.Images[srcID]
	// docs/ec2-semantics.md, "CopyImage": invisible sources, and in enabled mode sources that are neither
	// allowed nor owned (evaluated with the caller's settings in the source
	// region), are not found.
	if src == nil || src.Region != srcRegion || !visibleTo(src, rq.account) || !s.discoverable(src, rq.account, rq.now) {
		return errBad("InvalidAMIID.NotFound", "The image id '[%s]' does not exist in %s", srcID, srcRegion)
	}
	settle(src, rq.now)
	if src.State != "available" {
		return errIncorrectState(srcID)
	}
	if aerr := validateAMIName(name); aerr != nil {
		return aerr
	}
	if aerr := s.checkNameFree(rq.account, rq.region, name); aerr != nil {
		return aerr
	}
	if dry {
		return errDryRun()
	}
	img := s.newImage(rq, name)
	img.Description = src.Description
	if rq.has("Description") {
		img.Description = rq.get("Description")
	}
	copyImageAttrs(img, src)
	img.BlockDevices = s.copyBlockDevices(src.BlockDevices, encrypted)
	img.ProductCodes = append([]string(nil), src.ProductCodes...)
	img.Watermarks = copyWatermarks(src.Watermarks) // verbatim ("CopyImage")
	img.SourceImageID = src.ID
	img.SourceImageRegion = src.Region
	if copyTags {
		for k, v := range src.Tags {
			if strings.HasPrefix(k, "aws:") {
				continue
			}
			if img.Tags == nil {
				img.Tags = map[string]string{}
			}
			img.Tags[k] = v
		}
	}
	for k, v := range tags {
		if img.Tags == nil {
			img.Tags = map[string]string{}
		}
		img.Tags[k] = v
	}
	s.putImage(img)
	s.recordImageSnapshots(img, "Copied for DestinationAmi "+img.ID+" from SourceAmi "+src.ID, rq.now)
	s.rememberClientToken(rq, img.ID)
	x.elem("imageId", img.ID)
	return nil
}

func copyImageAttrs(dst, src *Image) {
	dst.Architecture = src.Architecture
	dst.Platform = src.Platform
	dst.PlatformDetails = src.PlatformDetails
	dst.RootDeviceType = src.RootDeviceType
	dst.RootDeviceName = src.RootDeviceName
	dst.VirtualizationType = src.VirtualizationType
	dst.Hypervisor = orDefault(src.Hypervisor, "xen")
	dst.ImageType = orDefault(src.ImageType, "machine")
	dst.EnaSupport = src.EnaSupport
}

func errInstanceNotFound(id string) *apiError {
	return errBad("InvalidInstanceID.NotFound", "The instance ID '%s' does not exist", id)
}

func errInstanceMalformed(id string) *apiError {
	return errBad("InvalidInstanceID.Malformed", "Invalid id: %q (expecting \"i-...\")", id)
}

// lookupInstance resolves an instance of the caller in the request region.
func (s *Server) lookupInstance(rq *request, id string) (*Instance, *apiError) {
	if !isInstanceID(id) {
		return nil, errInstanceMalformed(id)
	}
	inst := s.st.Instances[id]
	if inst == nil || inst.Region != rq.region || inst.Owner != rq.account {
		return nil, errInstanceNotFound(id)
	}
	return inst, nil
}

func createImage(s *Server, rq *request, x *xmlOut) *apiError {
	instID, aerr := rq.required("InstanceId")
	if aerr != nil {
		return aerr
	}
	name, aerr := rq.required("Name")
	if aerr != nil {
		return aerr
	}
	dry, aerr := rq.boolParam("DryRun")
	if aerr != nil {
		return aerr
	}
	if _, aerr := rq.boolParam("NoReboot"); aerr != nil {
		return aerr
	}
	tags, aerr := rq.tagSpecs("image")
	if aerr != nil {
		return aerr
	}
	snapTags, aerr := rq.tagSpecs("snapshot")
	if aerr != nil {
		return aerr
	}
	inst, aerr := s.lookupInstance(rq, instID)
	if aerr != nil {
		return aerr
	}
	s.settleInstance(inst, rq.now)
	if inst.State == "terminated" || inst.State == "shutting-down" {
		return errBad("IncorrectInstanceState", "The instance '%s' is %s and cannot be imaged. Launch a new instance and try again.", instID, inst.State)
	}
	if inst.State == "pending" {
		// EC2's answer; the amazon-ebs builder retries on it.
		return errBad("InvalidParameterValue", "Invalid value '%s' for instanceId. Instance is not in state 'running' or 'stopping' or 'stopped'", instID)
	}
	if aerr := validateAMIName(name); aerr != nil {
		return aerr
	}
	src := s.st.Images[inst.ImageID]
	// The image's block devices: one snapshot per volume of the instance,
	// changed by BlockDeviceMapping.N (builder_images.go).
	devs, aerr := s.planImageDevices(rq, inst, src)
	if aerr != nil {
		return aerr
	}
	if aerr := s.checkNameFree(rq.account, rq.region, name); aerr != nil {
		return aerr
	}
	if dry {
		return errDryRun()
	}
	img := s.newImage(rq, name)
	img.Description = rq.get("Description")
	if src != nil {
		copyImageAttrs(img, src)
	}
	if inst.RootDeviceName != "" {
		img.RootDeviceName = inst.RootDeviceName
		img.RootDeviceType = "ebs"
	}
	if inst.EnaSupport != nil {
		img.EnaSupport = *inst.EnaSupport
	}
	img.BlockDevices = s.materializeImageDevices(img, inst, devs, snapTags, rq.now)
	// docs/ec2-semantics.md, "CreateImage": the watermarks the launch image carried when the instance was
	// launched, unchanged.
	img.Watermarks = copyWatermarks(inst.LaunchWatermarks)
	img.SourceInstanceID = inst.ID
	img.SourceImageID = inst.ImageID
	img.SourceImageRegion = inst.Region
	img.Tags = tags
	s.putImage(img)
	x.elem("imageId", img.ID)
	return nil
}

// ---- ModifyImageAttribute / DescribeImageAttribute ----

type launchPermChange struct {
	group, userID string
}

func modifyImageAttribute(s *Server, rq *request, x *xmlOut) *apiError {
	id, aerr := rq.required("ImageId")
	if aerr != nil {
		return aerr
	}
	dry, aerr := rq.boolParam("DryRun")
	if aerr != nil {
		return aerr
	}
	img, aerr := s.lookupOwnImage(rq, id)
	if aerr != nil {
		return aerr
	}

	var adds, removes []launchPermChange
	readPerms := func(prefix string) []launchPermChange {
		var out []launchPermChange
		for _, n := range rq.indices(prefix) {
			p := sub(prefix, n)
			if rq.has(p + ".Group") {
				out = append(out, launchPermChange{group: rq.get(p + ".Group")})
			}
			if rq.has(p + ".UserId") {
				out = append(out, launchPermChange{userID: rq.get(p + ".UserId")})
			}
		}
		return out
	}
	// Form 1: LaunchPermission.Add.N.Group / .UserId, .Remove.N.*
	adds = append(adds, readPerms("LaunchPermission.Add")...)
	removes = append(removes, readPerms("LaunchPermission.Remove")...)

	attr := rq.get("Attribute")
	desc, hasDesc := "", false
	if rq.has("Description.Value") {
		desc, hasDesc = rq.get("Description.Value"), true
	}
	switch attr {
	case "", "launchPermission":
		// Form 2: Attribute=launchPermission&OperationType=add&UserGroup.N&UserId.N
		groups, users := rq.list("UserGroup"), rq.list("UserId")
		if len(groups) > 0 || len(users) > 0 {
			var list []launchPermChange
			for _, g := range groups {
				list = append(list, launchPermChange{group: g})
			}
			for _, u := range users {
				list = append(list, launchPermChange{userID: u})
			}
			switch op := rq.get("OperationType"); op {
			case "add":
				adds = append(adds, list...)
			case "remove":
				removes = append(removes, list...)
			case "":
				// Packer's amazon builders send UserId.N / UserGroup.N along
				// with the LaunchPermission.Add form and no OperationType;
				// EC2 takes the LaunchPermission form then.
				if len(adds) == 0 && len(removes) == 0 {
					return errMissing("OperationType")
				}
			default:
				return errInvalidValue("OperationType", truncateForMsg(op), "Valid values are add and remove.")
			}
		}
	case "description":
		if rq.has("Value") {
			desc, hasDesc = rq.get("Value"), true
		}
		if !hasDesc {
			return errMissing("Value")
		}
	case "productCodes", "kernel", "ramdisk", "sriovNetSupport", "blockDeviceMapping", "bootMode", "tpmSupport", "uefiData", "imdsSupport":
		return errBad("UnsupportedOperation", "The emulator does not modify the %s attribute of %s; it supports launchPermission and description.", attr, id)
	default:
		return errInvalidValue("Attribute", truncateForMsg(attr), "Valid values are launchPermission and description.")
	}
	if len(adds) == 0 && len(removes) == 0 && !hasDesc {
		return errBad("MissingParameter", "No attribute change was given for image %s: give LaunchPermission.Add/Remove, Attribute=launchPermission with OperationType and UserGroup/UserId, or Description.", id)
	}
	makesPublic := false
	for _, list := range [][]launchPermChange{adds, removes} {
		for _, c := range list {
			if c.userID == "" && c.group != "all" {
				return errBad("InvalidAMIAttributeItemValue", "Invalid attribute item value %q for group item type: the only group is all.", truncateForMsg(c.group))
			}
			if c.group == "" && !isAccountID(c.userID) {
				return errBad("InvalidAMIAttributeItemValue", "Invalid attribute item value %q for userId item type: give a 12-digit account ID.", truncateForMsg(c.userID))
			}
		}
	}
	for _, c := range adds {
		if c.group == "all" {
			makesPublic = true
		}
	}
	if makesPublic && len(img.Watermarks) > 0 {
		return errBad("InvalidParameter", msgWatermarkedPublic)
	}
	if makesPublic && len(img.ProductCodes) > 0 {
		return errBad("InvalidParameter", "Images with product codes can't be made public.")
	}
	if dry {
		return errDryRun()
	}
	for _, c := range adds {
		if c.group == "all" {
			img.Public = true
		} else if !sharedWith(img, c.userID) {
			img.SharedWith = append(img.SharedWith, c.userID)
		}
	}
	for _, c := range removes {
		if c.group == "all" {
			img.Public = false
			continue
		}
		for i, a := range img.SharedWith {
			if a == c.userID {
				img.SharedWith = append(img.SharedWith[:i:i], img.SharedWith[i+1:]...)
				break
			}
		}
	}
	if len(img.SharedWith) == 0 {
		img.SharedWith = nil
	}
	if hasDesc {
		img.Description = desc
	}
	x.elemBool("return", true)
	return nil
}

func describeImageAttribute(s *Server, rq *request, x *xmlOut) *apiError {
	id, aerr := rq.required("ImageId")
	if aerr != nil {
		return aerr
	}
	attr, aerr := rq.required("Attribute")
	if aerr != nil {
		return aerr
	}
	dry, aerr := rq.boolParam("DryRun")
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
	switch attr {
	case "launchPermission":
		if img.Owner != rq.account {
			return errNotAuthorized(id)
		}
		x.elem("imageId", img.ID)
		x.open("launchPermission")
		if img.Public {
			x.open("item")
			x.elem("group", "all")
			x.close("item")
		}
		users := append([]string(nil), img.SharedWith...)
		sort.Strings(users)
		for _, u := range users {
			x.open("item")
			x.elem("userId", u)
			x.close("item")
		}
		x.close("launchPermission")
	case "description":
		x.elem("imageId", img.ID)
		x.open("description")
		x.elemOpt("value", img.Description)
		x.close("description")
	case "productCodes":
		x.elem("imageId", img.ID)
		x.open("productCodes")
		for _, c := range img.ProductCodes {
			x.open("item")
			x.elem("productCode", c)
			x.elem("type", "marketplace")
			x.close("item")
		}
		x.close("productCodes")
	case "blockDeviceMapping":
		x.elem("imageId", img.ID)
		x.open("blockDeviceMapping")
		for i := range img.BlockDevices {
			writeBlockDevice(x, &img.BlockDevices[i])
		}
		x.close("blockDeviceMapping")
	case "kernel", "ramdisk", "sriovNetSupport", "bootMode", "tpmSupport", "uefiData", "lastLaunchedTime", "imdsSupport", "deregistrationProtection":
		x.elem("imageId", img.ID)
	default:
		return errInvalidValue("Attribute", truncateForMsg(attr),
			"Unknown attribute: use launchPermission, description, productCodes, blockDeviceMapping, kernel, ramdisk, sriovNetSupport, bootMode, tpmSupport, uefiData, lastLaunchedTime, imdsSupport or deregistrationProtection.")
	}
	return nil
}

// ---- CreateTags / DeleteTags ----

// taggable resolves a resource id (image or instance) the caller may tag.
func (s *Server) taggable(rq *request, id string) (*map[string]string, *apiError) {
	switch {
	case strings.HasPrefix(id, "ami-"):
		img, aerr := s.lookupImage(rq, id)
		if aerr != nil {
			return nil, aerr
		}
		if img.Owner != rq.account {
			return nil, errNotAuthorized(id)
		}
		return &img.Tags, nil
	case strings.HasPrefix(id, "i-"):
		inst, aerr := s.lookupInstance(rq, id)
		if aerr != nil {
			return nil, aerr
		}
		return &inst.Tags, nil
	}
	if m, ok, aerr := s.taggableEBS(rq, id); ok {
		return m, aerr
	}
	return nil, errBad("InvalidID", "The ID '%s' is not valid: the emulator tags images (ami-...), instances (i-...), volumes (vol-...), snapshots (snap-...), security groups (sg-...), key pairs (key-...), VPCs (vpc-...) and subnets (subnet-...).", truncateForMsg(id))
}

func createTags(s *Server, rq *request, x *xmlOut) *apiError {
	ids := rq.list("ResourceId")
	if len(ids) == 0 {
		return errMissing("ResourceId.1")
	}
	tags, aerr := rq.tagsParam("Tag")
	if aerr != nil {
		return aerr
	}
	if len(tags) == 0 {
		return errMissing("Tag.1.Key")
	}
	for _, t := range tags {
		if aerr := validateTag(t.Key, t.Value); aerr != nil {
			return aerr
		}
	}
	dry, aerr := rq.boolParam("DryRun")
	if aerr != nil {
		return aerr
	}
	targets := make([]*map[string]string, 0, len(ids))
	for _, id := range ids {
		m, aerr := s.taggable(rq, id)
		if aerr != nil {
			return aerr
		}
		n := len(*m)
		for _, t := range tags {
			if _, ok := (*m)[t.Key]; !ok {
				n++
			}
		}
		if n > maxTagsPerResource {
			return errBad("TagLimitExceeded", "Resource %s would have %d tags; the maximum is %d. Delete unused tags first.", id, n, maxTagsPerResource)
		}
		targets = append(targets, m)
	}
	if dry {
		return errDryRun()
	}
	for _, m := range targets {
		if *m == nil {
			*m = map[string]string{}
		}
		for _, t := range tags {
			(*m)[t.Key] = t.Value
		}
	}
	x.elemBool("return", true)
	return nil
}

func deleteTags(s *Server, rq *request, x *xmlOut) *apiError {
	ids := rq.list("ResourceId")
	if len(ids) == 0 {
		return errMissing("ResourceId.1")
	}
	tags, aerr := rq.tagsParam("Tag")
	if aerr != nil {
		return aerr
	}
	dry, aerr := rq.boolParam("DryRun")
	if aerr != nil {
		return aerr
	}
	targets := make([]*map[string]string, 0, len(ids))
	for _, id := range ids {
		m, aerr := s.taggable(rq, id)
		if aerr != nil {
			return aerr
		}
		targets = append(targets, m)
	}
	if dry {
		return errDryRun()
	}
	for _, m := range targets {
		if len(tags) == 0 { // no Tag.N: delete every user tag
			for k := range *m {
				if !strings.HasPrefix(k, "aws:") {
					delete(*m, k)
				}
			}
		}
		for _, t := range tags {
			if v, ok := (*m)[t.Key]; ok && (!t.HasValue || v == t.Value) {
				delete(*m, t.Key)
			}
		}
		if len(*m) == 0 {
			*m = nil
		}
	}
	x.elemBool("return", true)
	return nil
}
