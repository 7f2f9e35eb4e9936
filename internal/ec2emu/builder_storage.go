package ec2emu

import (
	"strconv"
	"time"
)

// EBS volumes and snapshots as records (no data): DescribeVolumes,
// DeleteVolume, DescribeSnapshots, DeleteSnapshot. The amazon-ebs builder
// reads the volumes of its source instance when it cleans up, and Packer
// deletes an AMI's snapshots after deregistering it (a failed build, or
// a post-processor that did not keep the artifact).

func init() {
	register(map[string]handler{
		"DescribeVolumes":   describeVolumes,
		"DeleteVolume":      deleteVolume,
		"DescribeSnapshots": describeSnapshots,
		"DeleteSnapshot":    deleteSnapshot,
	})
}

// volumeIOPS/volumeThroughput are the baseline figures EC2 reports.
func volumeIOPS(v *Volume) int64 {
	switch v.VolumeType {
	case "gp3":
		return 3000
	case "gp2":
		n := int64(v.Size) * 3
		if n < 100 {
			n = 100
		}
		if n > 16000 {
			n = 16000
		}
		return n
	case "io1", "io2":
		return 100
	}
	return 0
}

// deletedVolumeVisible is how long DescribeVolumes still lists a deleted
// volume (state deleted), as EC2 does for a while after deletion; the
// amazon-ebs builder's volume cleanup relies on seeing that state.
const deletedVolumeVisible = time.Hour

func markVolumeDeleted(v *Volume, now time.Time) {
	v.State, v.DeletedAt, v.Tags = "deleted", now, nil
}

// volumeListed reports whether DescribeVolumes still lists v.
func volumeListed(v *Volume, now time.Time) bool {
	return v.State != "deleted" || now.Sub(v.DeletedAt) < deletedVolumeVisible
}

func (s *Server) lookupVolume(rq *request, id string) (*Volume, *apiError) {
	if !isResourceID(id, "vol-") {
		return nil, errBad("InvalidVolumeID.Malformed", "Invalid id: %q (expecting \"vol-...\")", truncateForMsg(id))
	}
	s.ensureEBSMaps()
	v := s.st.Volumes[id]
	if v == nil || v.Owner != rq.account || v.Region != rq.region || v.State == "deleted" {
		return nil, errBad("InvalidVolume.NotFound", "The volume '%s' does not exist.", id)
	}
	return v, nil
}

// newSnapshot records a new completed snapshot. Callers hold s.mu.
func (s *Server) newSnapshot(region, owner string, size int32, encrypted bool, volumeID, desc string, now time.Time) *Snapshot {
	s.ensureEBSMaps()
	sn := &Snapshot{
		ID: newResID(s, "snap-", s.st.Snapshots), Region: region, Owner: owner, VolumeID: volumeID,
		VolumeSize: size, Encrypted: encrypted, Description: desc, StartTime: now.Truncate(time.Millisecond),
	}
	s.st.Snapshots[sn.ID] = sn
	return sn
}

// recordImageSnapshots makes sure every snapshot an image's block device
// mappings name has a record (owned by the image's owner). Callers hold
// s.mu.
func (s *Server) recordImageSnapshots(img *Image, desc string, now time.Time) {
	s.ensureEBSMaps()
	for _, bd := range img.BlockDevices {
		if bd.SnapshotID == "" || s.st.Snapshots[bd.SnapshotID] != nil {
			continue
		}
		s.st.Snapshots[bd.SnapshotID] = &Snapshot{
			ID: bd.SnapshotID, Region: img.Region, Owner: img.Owner, VolumeSize: bd.VolumeSize,
			Encrypted: bd.Encrypted, Description: desc, StartTime: now.Truncate(time.Millisecond),
		}
	}
}

// lookupSnapshot resolves a snapshot of the caller. A snapshot named by an
// image of the caller that has no record yet (seeded images) gets one.
func (s *Server) lookupSnapshot(rq *request, id string) (*Snapshot, *apiError) {
	if !isResourceID(id, "snap-") {
		return nil, errBad("InvalidSnapshotID.Malformed", "Invalid id: %q (expecting \"snap-...\")", truncateForMsg(id))
	}
	s.ensureEBSMaps()
	sn := s.st.Snapshots[id]
	if sn == nil {
		for _, img := range s.regionImages(rq.region) {
			if img.Owner != rq.account {
				continue
			}
			for _, bd := range img.BlockDevices {
				if bd.SnapshotID == id {
					s.recordImageSnapshots(img, "", img.CreationDate)
					sn = s.st.Snapshots[id]
				}
			}
			if sn != nil {
				break
			}
		}
	}
	if sn == nil || sn.Deleted || sn.Owner != rq.account || sn.Region != rq.region {
		return nil, errBad("InvalidSnapshot.NotFound", "The snapshot '%s' does not exist.", id)
	}
	return sn, nil
}

var volumeFilterNames = map[string]bool{
	"volume-id": true, "status": true, "size": true, "volume-type": true, "snapshot-id": true,
	"availability-zone": true, "encrypted": true, "attachment.instance-id": true, "attachment.device": true,
	"attachment.status": true, "attachment.delete-on-termination": true,
}

func describeVolumes(s *Server, rq *request, x *xmlOut) *apiError {
	ids, filters, aerr := describeParams(rq, "VolumeId", "vol-", "InvalidVolumeID.Malformed", volumeFilterNames)
	if aerr != nil {
		return aerr
	}
	s.ensureEBSMaps()
	list, aerr := callerResources(s.st.Volumes, ids, func(v *Volume) bool {
		return v.Owner == rq.account && v.Region == rq.region && volumeListed(v, rq.now)
	}, "InvalidVolume.NotFound", "volume")
	if aerr != nil {
		return aerr
	}
	x.open("volumeSet")
	for _, v := range list {
		attached := v.InstanceID != ""
		attr := func(name string) []string {
			switch name {
			case "volume-id":
				return one(v.ID)
			case "status":
				return one(v.State)
			case "size":
				return one(strconv.Itoa(int(v.Size)))
			case "volume-type":
				return one(v.VolumeType)
			case "snapshot-id":
				return one(v.SnapshotID)
			case "availability-zone":
				return one(v.AvailabilityZone)
			case "encrypted":
				return one(boolStr(v.Encrypted))
			case "attachment.instance-id":
				if attached {
					return one(v.InstanceID)
				}
			case "attachment.device":
				if attached {
					return one(v.Device)
				}
			case "attachment.status":
				if attached {
					return one("attached")
				}
			case "attachment.delete-on-termination":
				if attached {
					return one(boolStr(v.DeleteOnTermination))
				}
			}
			return nil
		}
		if !matchRes(filters, v.Tags, attr) {
			continue
		}
		x.open("item")
		x.elem("volumeId", v.ID)
		x.elemInt("size", int64(v.Size))
		x.elem("snapshotId", v.SnapshotID)
		x.elem("availabilityZone", v.AvailabilityZone)
		x.elem("availabilityZoneId", azID(v.AvailabilityZone))
		x.elem("status", v.State)
		x.elemTime("createTime", v.CreateTime, layoutCreationDate)
		x.open("attachmentSet")
		if attached {
			x.open("item")
			x.elem("volumeId", v.ID)
			x.elem("instanceId", v.InstanceID)
			x.elem("device", v.Device)
			x.elem("status", "attached")
			x.elemTime("attachTime", v.AttachTime, layoutCreationDate)
			x.elemBool("deleteOnTermination", v.DeleteOnTermination)
			x.close("item")
		}
		x.close("attachmentSet")
		x.elem("volumeType", v.VolumeType)
		if n := volumeIOPS(v); n > 0 {
			x.elemInt("iops", n)
		}
		if v.VolumeType == "gp3" {
			x.elemInt("throughput", 125)
		}
		x.elemBool("encrypted", v.Encrypted)
		x.elemBool("multiAttachEnabled", false)
		writeTagSet(x, v.Tags)
		x.close("item")
	}
	x.close("volumeSet")
	return nil
}

func deleteVolume(s *Server, rq *request, x *xmlOut) *apiError {
	id, aerr := rq.required("VolumeId")
	if aerr != nil {
		return aerr
	}
	dry, aerr := rq.boolParam("DryRun")
	if aerr != nil {
		return aerr
	}
	v, aerr := s.lookupVolume(rq, id)
	if aerr != nil {
		return aerr
	}
	if v.InstanceID != "" {
		return errBad("VolumeInUse", "Volume %s is currently attached to %s", v.ID, v.InstanceID)
	}
	if dry {
		return errDryRun()
	}
	markVolumeDeleted(v, rq.now)
	x.elemBool("return", true)
	return nil
}

var snapshotFilterNames = map[string]bool{
	"snapshot-id": true, "volume-id": true, "status": true, "owner-id": true, "description": true,
	"encrypted": true, "volume-size": true, "progress": true, "storage-tier": true,
}

func describeSnapshots(s *Server, rq *request, x *xmlOut) *apiError {
	ids, aerr := rq.idsParam("SnapshotId", "snap-", "InvalidSnapshotID.Malformed")
	if aerr != nil {
		return aerr
	}
	filters, aerr := parseResFilters(rq, snapshotFilterNames)
	if aerr != nil {
		return aerr
	}
	owners := rq.list("Owner")
	for _, o := range owners {
		if o != "self" && o != "amazon" && o != "aws-marketplace" && o != "aws-backup-vault" && !isAccountID(o) {
			return errBad("InvalidUserID.Malformed", "Invalid user id: %q (Owner accepts self, amazon or a 12-digit account ID)", truncateForMsg(o))
		}
	}
	if aerr := checkMaxResults(rq, len(ids) > 0); aerr != nil {
		return aerr
	}
	if dry, aerr := rq.boolParam("DryRun"); aerr != nil {
		return aerr
	} else if dry {
		return errDryRun()
	}
	s.ensureEBSMaps()
	ownerOK := len(owners) == 0
	for _, o := range owners {
		if o == "self" || o == rq.account {
			ownerOK = true
		}
	}
	var list []*Snapshot
	if len(ids) > 0 {
		for _, id := range ids {
			sn, aerr := s.lookupSnapshot(rq, id)
			if aerr != nil {
				return aerr
			}
			list = append(list, sn)
		}
	} else {
		for _, id := range sortedKeys(s.st.Snapshots) {
			if sn := s.st.Snapshots[id]; !sn.Deleted && sn.Owner == rq.account && sn.Region == rq.region {
				list = append(list, sn)
			}
		}
	}
	x.open("snapshotSet")
	for _, sn := range list {
		if !ownerOK {
			break // only the caller's own snapshots are emulated
		}
		attr := func(name string) []string {
			switch name {
			case "snapshot-id":
				return one(sn.ID)
			case "volume-id":
				return one(sn.VolumeID)
			case "status":
				return one("completed")
			case "owner-id":
				return one(sn.Owner)
			case "description":
				return one(sn.Description)
			case "encrypted":
				return one(boolStr(sn.Encrypted))
			case "volume-size":
				return one(strconv.Itoa(int(sn.VolumeSize)))
			case "progress":
				return one("100%")
			case "storage-tier":
				return one("standard")
			}
			return nil
		}
		if !matchRes(filters, sn.Tags, attr) {
			continue
		}
		x.open("item")
		x.elem("snapshotId", sn.ID)
		x.elem("volumeId", orDefault(sn.VolumeID, "vol-ffffffff"))
		x.elem("status", "completed")
		x.elemTime("startTime", sn.StartTime, layoutCreationDate)
		x.elem("progress", "100%")
		x.elem("ownerId", sn.Owner)
		x.elemInt("volumeSize", int64(sn.VolumeSize))
		x.elemOpt("description", sn.Description)
		x.elemBool("encrypted", sn.Encrypted)
		x.elem("storageTier", "standard")
		writeTagSet(x, sn.Tags)
		x.close("item")
	}
	x.close("snapshotSet")
	return nil
}

// deleteSnapshot: a snapshot that a registered AMI uses cannot be deleted
// (InvalidSnapshot.InUse); deregister the AMI first.
func deleteSnapshot(s *Server, rq *request, x *xmlOut) *apiError {
	id, aerr := rq.required("SnapshotId")
	if aerr != nil {
		return aerr
	}
	dry, aerr := rq.boolParam("DryRun")
	if aerr != nil {
		return aerr
	}
	sn, aerr := s.lookupSnapshot(rq, id)
	if aerr != nil {
		return aerr
	}
	for _, img := range s.regionImages(rq.region) {
		if img.State == "deregistered" {
			continue
		}
		for _, bd := range img.BlockDevices {
			if bd.SnapshotID == sn.ID {
				return errBad("InvalidSnapshot.InUse", "The snapshot %s is currently in use by %s", sn.ID, img.ID)
			}
		}
	}
	if dry {
		return errDryRun()
	}
	sn.Deleted = true
	sn.Tags = nil
	x.elemBool("return", true)
	return nil
}

// snapshotInUse reports whether a registered image of the region maps the
// snapshot. Callers hold s.mu.
func (s *Server) snapshotInUse(region, id string) bool {
	for _, img := range s.regionImages(region) {
		if img.State == "deregistered" {
			continue
		}
		for _, bd := range img.BlockDevices {
			if bd.SnapshotID == id {
				return true
			}
		}
	}
	return false
}
