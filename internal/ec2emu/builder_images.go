package ec2emu

import (
	"fmt"
	"sort"
	"strconv"
	"time"
)

// Image-side pieces of the amazon-ebs flow: block device mapping requests
// (RunInstances and CreateImage), the AMI block devices CreateImage takes
// from the instance's volumes (one new snapshot per volume), and
// EnableImageDeprecation / DisableImageDeprecation (deprecate_at).

func init() {
	register(map[string]handler{
		"EnableImageDeprecation":  enableImageDeprecation,
		"DisableImageDeprecation": disableImageDeprecation,
	})
}

// bdmRequest is one BlockDeviceMapping.N of a request.
type bdmRequest struct {
	device    string
	noDevice  bool
	virtual   string // ephemeralN: an instance store volume
	ebs       bool
	snapshot  string
	size      int32 // 0: not given
	volType   string
	dot       *bool
	encrypted *bool
}

var volumeTypes = map[string]bool{"standard": true, "gp2": true, "gp3": true, "io1": true, "io2": true, "st1": true, "sc1": true}

// parseBDMRequests reads prefix.N.{DeviceName, NoDevice, VirtualName,
// Ebs.*}.
func parseBDMRequests(rq *request, prefix string) ([]bdmRequest, *apiError) {
	var out []bdmRequest
	seen := map[string]bool{}
	for _, n := range rq.indices(prefix) {
		p := sub(prefix, n)
		r := bdmRequest{device: rq.get(p + ".DeviceName")}
		if r.device == "" {
			return nil, errMissing(p + ".DeviceName")
		}
		if seen[r.device] {
			return nil, errBad("InvalidBlockDeviceMapping", "The device %s is mapped more than once.", truncateForMsg(r.device))
		}
		seen[r.device] = true
		r.noDevice = rq.has(p + ".NoDevice")
		r.virtual = rq.get(p + ".VirtualName")
		for k := range rq.form {
			if len(k) > len(p)+5 && k[:len(p)+5] == p+".Ebs." {
				r.ebs = true
				break
			}
		}
		if r.ebs {
			e := p + ".Ebs."
			r.snapshot = rq.get(e + "SnapshotId")
			if size, ok, aerr := rq.intParam(e + "VolumeSize"); aerr != nil {
				return nil, aerr
			} else if ok {
				if size < 1 || size > 65536 {
					return nil, errInvalidValue(e+"VolumeSize", strconv.FormatInt(size, 10), "Expecting a size from 1 to 65536 GiB.")
				}
				r.size = int32(size)
			}
			r.volType = rq.get(e + "VolumeType")
			if r.volType != "" && !volumeTypes[r.volType] {
				return nil, errInvalidValue(e+"VolumeType", truncateForMsg(r.volType), "Valid values are standard, gp2, gp3, io1, io2, st1 and sc1.")
			}
			if rq.has(e + "DeleteOnTermination") {
				b, aerr := rq.boolParam(e + "DeleteOnTermination")
				if aerr != nil {
					return nil, aerr
				}
				r.dot = &b
			}
			if rq.has(e + "Encrypted") {
				b, aerr := rq.boolParam(e + "Encrypted")
				if aerr != nil {
					return nil, aerr
				}
				r.encrypted = &b
			}
		}
		if r.noDevice && (r.ebs || r.virtual != "") {
			return nil, errBad("InvalidBlockDeviceMapping", "The device %s has NoDevice and a volume at once.", truncateForMsg(r.device))
		}
		out = append(out, r)
	}
	return out, nil
}

// mergeBlockDevices applies requests to base mappings: NoDevice removes a
// device, Ebs changes an existing one or adds a new one, VirtualName
// (instance store) is accepted and not modelled. The root device cannot
// be removed, and a volume cannot be smaller than its snapshot.
func (s *Server) mergeBlockDevices(rq *request, base []BlockDevice, reqs []bdmRequest, root, defaultType string) ([]BlockDevice, *apiError) {
	out := append([]BlockDevice(nil), base...)
	find := func(dev string) int {
		for i := range out {
			if out[i].DeviceName == dev {
				return i
			}
		}
		return -1
	}
	for _, r := range reqs {
		i := find(r.device)
		switch {
		case r.noDevice:
			if r.device == root {
				return nil, errBad("InvalidBlockDeviceMapping", "The device %s is the root device and cannot be removed with NoDevice.", r.device)
			}
			if i >= 0 {
				out = append(out[:i], out[i+1:]...)
			}
		case r.virtual != "" && !r.ebs:
			if i >= 0 {
				out = append(out[:i], out[i+1:]...)
			}
		case r.ebs:
			var bd BlockDevice
			if i >= 0 {
				bd = out[i]
			} else {
				bd = BlockDevice{DeviceName: r.device, VolumeType: defaultType, DeleteOnTermination: true}
			}
			minSize := bd.VolumeSize
			if r.snapshot != "" && r.snapshot != bd.SnapshotID {
				sn, aerr := s.lookupSnapshot(rq, r.snapshot)
				if aerr != nil {
					return nil, aerr
				}
				bd.SnapshotID, bd.Encrypted, minSize = sn.ID, sn.Encrypted, sn.VolumeSize
				if bd.VolumeSize < sn.VolumeSize {
					bd.VolumeSize = sn.VolumeSize
				}
			}
			if r.size > 0 {
				if bd.SnapshotID != "" && r.size < minSize {
					return nil, errBad("InvalidBlockDeviceMapping", "Volume of size %dGB is smaller than snapshot '%s', expect size >= %dGB", r.size, bd.SnapshotID, minSize)
				}
				bd.VolumeSize = r.size
			}
			if bd.VolumeSize == 0 {
				return nil, errBad("InvalidBlockDeviceMapping", "The device %s needs a VolumeSize or a SnapshotId.", r.device)
			}
			if r.volType != "" {
				bd.VolumeType = r.volType
			}
			if r.dot != nil {
				bd.DeleteOnTermination = *r.dot
			}
			if r.encrypted != nil {
				if bd.Encrypted && !*r.encrypted {
					return nil, errBad("InvalidBlockDeviceMapping", "The device %s comes from an encrypted snapshot and cannot be unencrypted.", r.device)
				}
				bd.Encrypted = *r.encrypted
			}
			if i >= 0 {
				out[i] = bd
			} else {
				out = append(out, bd)
			}
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if (out[i].DeviceName == root) != (out[j].DeviceName == root) {
			return out[i].DeviceName == root
		}
		return out[i].DeviceName < out[j].DeviceName
	})
	return out, nil
}

// imageDevice is one block device of an image CreateImage makes: from a
// volume of the instance (snapshotted), or given in the request.
type imageDevice struct {
	bd  BlockDevice
	vol *Volume
}

// planImageDevices works out the block devices of the image CreateImage
// makes from inst: its attached volumes (or, for instances recorded
// without volumes, the launch image's mappings), changed by the request's
// BlockDeviceMapping.N. Callers hold s.mu.
func (s *Server) planImageDevices(rq *request, inst *Instance, src *Image) ([]imageDevice, *apiError) {
	s.ensureEBSMaps()
	var base []BlockDevice
	vols := map[string]*Volume{}
	for _, id := range inst.Volumes {
		v := s.st.Volumes[id]
		if v == nil || v.InstanceID != inst.ID {
			continue
		}
		vols[v.Device] = v
		base = append(base, BlockDevice{DeviceName: v.Device, SnapshotID: v.SnapshotID, VolumeSize: v.Size,
			VolumeType: v.VolumeType, DeleteOnTermination: v.DeleteOnTermination, Encrypted: v.Encrypted})
	}
	root := orDefault(inst.RootDeviceName, "/dev/xvda")
	if len(inst.Volumes) == 0 && src != nil {
		base = append(base, src.BlockDevices...)
		root = rootDeviceName(src)
	}
	if len(base) == 0 {
		base = []BlockDevice{{DeviceName: root, VolumeSize: 8, VolumeType: "gp3", DeleteOnTermination: true}}
	}
	reqs, aerr := parseBDMRequests(rq, "BlockDeviceMapping")
	if aerr != nil {
		return nil, aerr
	}
	bds, aerr := s.mergeBlockDevices(rq, base, reqs, root, "gp2")
	if aerr != nil {
		return nil, aerr
	}
	out := make([]imageDevice, 0, len(bds))
	for _, bd := range bds {
		d := imageDevice{bd: bd}
		if v := vols[bd.DeviceName]; v != nil {
			d.vol = v
		}
		out = append(out, d)
	}
	return out, nil
}

// materializeImageDevices takes one snapshot per device of the new image
// (devices from a volume, or from a snapshot) and returns the mappings.
// A device the request added without a snapshot stays an empty volume.
func (s *Server) materializeImageDevices(img *Image, inst *Instance, devs []imageDevice, snapTags map[string]string, now time.Time) []BlockDevice {
	out := make([]BlockDevice, 0, len(devs))
	for _, d := range devs {
		bd := d.bd
		if d.vol != nil || bd.SnapshotID != "" {
			volID := ""
			if d.vol != nil {
				volID = d.vol.ID
			}
			sn := s.newSnapshot(img.Region, img.Owner, bd.VolumeSize, bd.Encrypted, volID,
				fmt.Sprintf("Created by CreateImage(%s) for %s", inst.ID, img.ID), now)
			sn.Tags = copyTags(snapTags)
			bd.SnapshotID = sn.ID
		}
		out = append(out, bd)
	}
	return out
}

// ---- EnableImageDeprecation / DisableImageDeprecation ----

func enableImageDeprecation(s *Server, rq *request, x *xmlOut) *apiError {
	id, aerr := rq.required("ImageId")
	if aerr != nil {
		return aerr
	}
	atS, aerr := rq.required("DeprecateAt")
	if aerr != nil {
		return aerr
	}
	dry, aerr := rq.boolParam("DryRun")
	if aerr != nil {
		return aerr
	}
	at, err := time.Parse(time.RFC3339Nano, atS)
	if err != nil {
		return errInvalidValue("DeprecateAt", truncateForMsg(atS), "Give a UTC time such as 2026-12-31T23:59:00Z.")
	}
	// EC2 rounds seconds to the nearest minute.
	at = at.UTC().Round(time.Minute)
	img, aerr := s.lookupOwnImage(rq, id)
	if aerr != nil {
		return aerr
	}
	if !at.After(rq.now) {
		return errInvalidValue("DeprecateAt", atS, "The deprecation time must be in the future.")
	}
	if at.After(rq.now.AddDate(10, 0, 0)) {
		return errInvalidValue("DeprecateAt", atS, "The deprecation time can be at most 10 years from now.")
	}
	if dry {
		return errDryRun()
	}
	img.DeprecationTime = &at
	x.elemBool("return", true)
	return nil
}

func disableImageDeprecation(s *Server, rq *request, x *xmlOut) *apiError {
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
	if dry {
		return errDryRun()
	}
	img.DeprecationTime = nil
	x.elemBool("return", true)
	return nil
}
