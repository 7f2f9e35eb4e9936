package ec2emu

import (
	"net/http"
	"slices"
	"sort"
	"strings"
	"time"
)

// Instances (docs/ec2-semantics.md, "RunInstances"): launch from an AMI (with the Allowed-AMIs check),
// describe, terminate and CreateImage from. The launch details the
// amazon-ebs builder needs (key pair, network, security groups, volumes,
// the stop/start state machine) are in builder_instances.go. Also
// DescribeRegions.

func init() {
	register(map[string]handler{
		"RunInstances":       runInstances,
		"DescribeInstances":  describeInstances,
		"TerminateInstances": terminateInstances,
		"DescribeRegions":    describeRegions,
	})
}

const maxInstancesPerRun = 100

var instanceStateCodes = map[string]int64{
	"pending": 0, "running": 16, "shutting-down": 32, "terminated": 48, "stopping": 64, "stopped": 80,
}

func runInstances(s *Server, rq *request, x *xmlOut) *apiError {
	id, aerr := rq.required("ImageId")
	if aerr != nil {
		return aerr
	}
	minCount, okMin, aerr := rq.intParam("MinCount")
	if aerr != nil {
		return aerr
	}
	maxCount, okMax, aerr := rq.intParam("MaxCount")
	if aerr != nil {
		return aerr
	}
	if !okMin {
		return errMissing("MinCount")
	}
	if !okMax {
		return errMissing("MaxCount")
	}
	if minCount < 1 || maxCount < minCount {
		return errInvalidValue("MinCount", rq.get("MinCount"), "MinCount must be at least 1 and at most MaxCount.")
	}
	if maxCount > maxInstancesPerRun {
		if minCount > maxInstancesPerRun {
			return errBad("InstanceLimitExceeded", "The emulator launches at most %d instances per call; MinCount is %d.", maxInstancesPerRun, minCount)
		}
		maxCount = maxInstancesPerRun
	}
	dry, aerr := rq.boolParam("DryRun")
	if aerr != nil {
		return aerr
	}
	tags, aerr := rq.tagSpecs("instance")
	if aerr != nil {
		return aerr
	}
	if prev := s.clientTokenResult(rq); prev != "" && !dry {
		writeReservation(x, s, prev, rq.account)
		return nil
	}
	// docs/ec2-semantics.md, "RunInstances": in enabled mode an AMI that is neither allowed nor owned is not
	// found; lookupImage applies that (audit-mode does not block).
	img, aerr := s.lookupImage(rq, id)
	if aerr != nil {
		return aerr
	}
	if img.State != "available" {
		return errBad("InvalidAMIID.Unavailable", "The image id '[%s]' is not available for launch: it is %s. Wait until it is available.", id, img.State)
	}
	itype := orDefault(rq.get("InstanceType"), "m1.small")
	if !validInstanceType(itype) {
		return errBad("InvalidParameterValue", "Invalid value '%s' for InstanceType. Give an instance type such as t3.micro.", truncateForMsg(itype))
	}
	// Key pair, network, security groups and volumes (builder_instances.go).
	plan, aerr := s.planLaunch(rq, img, maxCount)
	if aerr != nil {
		return aerr
	}
	if dry {
		return errDryRun()
	}
	resID := s.newReservationID()
	for i := int64(0); i < maxCount; i++ {
		inst := &Instance{
			ID:               s.newInstanceID(),
			Region:           rq.region,
			Owner:            rq.account,
			ImageID:          img.ID,
			ReservationID:    resID,
			LaunchWatermarks: copyWatermarks(img.Watermarks), // docs/ec2-semantics.md, "CreateImage"
			State:            "running",
			InstanceType:     itype,
			LaunchTime:       rq.now.Truncate(1e6),
		}
		if len(tags) > 0 {
			inst.Tags = make(map[string]string, len(tags))
			for k, v := range tags {
				inst.Tags[k] = v
			}
		}
		s.st.Instances[inst.ID] = inst
		s.applyLaunch(rq, inst, plan)
	}
	s.rememberClientToken(rq, resID)
	writeReservation(x, s, resID, rq.account)
	return nil
}

// writeReservation writes the RunInstances body for one reservation.
func writeReservation(x *xmlOut, s *Server, resID, account string) {
	x.elem("reservationId", resID)
	x.elem("ownerId", account)
	x.open("groupSet")
	x.close("groupSet")
	x.open("instancesSet")
	for i, inst := range s.reservationInstances(resID) {
		writeInstance(x, s, inst, int64(i))
	}
	x.close("instancesSet")
}

func (s *Server) reservationInstances(resID string) []*Instance {
	var out []*Instance
	for _, inst := range s.st.Instances {
		if inst.ReservationID == resID {
			out = append(out, inst)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].LaunchTime.Equal(out[j].LaunchTime) {
			return out[i].LaunchTime.Before(out[j].LaunchTime)
		}
		return out[i].ID < out[j].ID
	})
	return out
}

func writeInstance(x *xmlOut, s *Server, inst *Instance, launchIndex int64) {
	x.open("item")
	x.elem("instanceId", inst.ID)
	x.elem("imageId", inst.ImageID)
	writeInstanceState(x, "instanceState", inst.State)
	x.elem("instanceType", inst.InstanceType)
	x.elemTime("launchTime", inst.LaunchTime, layoutCreationDate)
	x.elemInt("amiLaunchIndex", launchIndex)
	x.open("placement")
	az := orDefault(inst.AvailabilityZone, inst.Region+"a")
	x.elem("availabilityZone", az)
	x.elem("availabilityZoneId", azID(az))
	x.elem("tenancy", "default")
	x.close("placement")
	writeInstanceDetails(x, s, inst)
	arch, rootName := "x86_64", "/dev/xvda"
	if img := s.st.Images[inst.ImageID]; img != nil {
		arch, rootName = imageArch(img), rootDeviceName(img)
	}
	if inst.RootDeviceName != "" {
		rootName = inst.RootDeviceName
	}
	x.elem("architecture", arch)
	x.elem("rootDeviceType", "ebs")
	x.elem("rootDeviceName", rootName)
	x.elem("virtualizationType", "hvm")
	x.elem("hypervisor", "xen")
	x.elem("platformDetails", "Linux/UNIX")
	x.elem("usageOperation", "RunInstances")
	writeTagSet(x, inst.Tags)
	x.close("item")
}

var instanceFilterNames = map[string]bool{
	"instance-id": true, "image-id": true, "instance-state-name": true, "instance-type": true,
	"reservation-id": true, "tag-key": true, "owner-id": true,
}

func describeInstances(s *Server, rq *request, x *xmlOut) *apiError {
	dry, aerr := rq.boolParam("DryRun")
	if aerr != nil {
		return aerr
	}
	ids := rq.list("InstanceId")
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
		} else if _, detail := s.instanceFilterValues(&Instance{}, name); !instanceFilterNames[name] && !detail {
			return errBad("InvalidParameterValue", "The filter '%s' is invalid", truncateForMsg(name))
		}
		f.values = rq.list(p + ".Value")
		for _, v := range f.values {
			f.pats = append(f.pats, compileGlob(v))
		}
		filters = append(filters, f)
	}
	if dry {
		return errDryRun()
	}
	var insts []*Instance
	if len(ids) > 0 {
		var missing []string
		for _, id := range ids {
			inst, aerr := s.lookupInstance(rq, id)
			if aerr != nil {
				if aerr.Code == "InvalidInstanceID.Malformed" {
					return aerr
				}
				missing = append(missing, id)
				continue
			}
			insts = append(insts, inst)
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
	// Settle transitional states whose time is up, filter, then group by
	// reservation.
	kept := insts[:0:0]
	for _, inst := range insts {
		s.settleInstance(inst, rq.now)
		if s.instanceMatches(inst, filters) {
			kept = append(kept, inst)
		}
	}
	sort.Slice(kept, func(i, j int) bool {
		if !kept[i].LaunchTime.Equal(kept[j].LaunchTime) {
			return kept[i].LaunchTime.Before(kept[j].LaunchTime)
		}
		return kept[i].ID < kept[j].ID
	})
	x.open("reservationSet")
	for i := 0; i < len(kept); {
		j := i
		for j < len(kept) && kept[j].ReservationID == kept[i].ReservationID {
			j++
		}
		x.open("item")
		x.elem("reservationId", orDefault(kept[i].ReservationID, "r-"+strings.TrimPrefix(kept[i].ID, "i-")))
		x.elem("ownerId", kept[i].Owner)
		x.open("groupSet")
		x.close("groupSet")
		x.open("instancesSet")
		for k := i; k < j; k++ {
			writeInstance(x, s, kept[k], int64(k-i))
		}
		x.close("instancesSet")
		x.close("item")
		i = j
	}
	x.close("reservationSet")
	// Each answer that reported a transitional state counts (stopping is
	// seen once, then stopped).
	for _, inst := range kept {
		s.reportedInstance(inst, rq.now)
	}
	return nil
}

func (s *Server) instanceMatches(inst *Instance, filters []imageFilter) bool {
	for i := range filters {
		f := &filters[i]
		var ok bool
		switch f.name {
		case "instance-id":
			ok = globAny(f.pats, inst.ID)
		case "image-id":
			ok = globAny(f.pats, inst.ImageID)
		case "instance-state-name":
			ok = globAny(f.pats, inst.State)
		case "instance-type":
			ok = globAny(f.pats, inst.InstanceType)
		case "reservation-id":
			ok = globAny(f.pats, inst.ReservationID)
		case "owner-id":
			ok = globAny(f.pats, inst.Owner)
		case "tag-key":
			for k := range inst.Tags {
				ok = ok || globAny(f.pats, k)
			}
		default:
			if f.tagKey == "" {
				vals, _ := s.instanceFilterValues(inst, f.name)
				for _, v := range vals {
					ok = ok || globAny(f.pats, v)
				}
				break
			}
			v, has := inst.Tags[f.tagKey]
			ok = has && globAny(f.pats, v)
		}
		if !ok {
			return false
		}
	}
	return true
}

func terminateInstances(s *Server, rq *request, x *xmlOut) *apiError {
	ids := rq.list("InstanceId")
	if len(ids) == 0 {
		return errMissing("InstanceId.1")
	}
	dry, aerr := rq.boolParam("DryRun")
	if aerr != nil {
		return aerr
	}
	insts := make([]*Instance, 0, len(ids))
	for _, id := range ids {
		inst, aerr := s.lookupInstance(rq, id)
		if aerr != nil {
			return aerr
		}
		insts = append(insts, inst)
	}
	if dry {
		return errDryRun()
	}
	x.open("instancesSet")
	for _, inst := range insts {
		s.settleInstance(inst, rq.now)
		prev := inst.State
		if prev != "terminated" {
			// Terminated at once (no shutting-down phase); volumes with
			// DeleteOnTermination go, the others are detached.
			inst.State = "terminated"
			inst.SettleDescribes, inst.SettleAt = 0, time.Time{}
			inst.StateReason = "Client.UserInitiatedShutdown"
			s.releaseTerminated(inst, rq.now)
		}
		writeStateChange(x, inst.ID, prev, "terminated")
	}
	x.close("instancesSet")
	return nil
}

// commercialRegions are the standard commercial regions enabled by default;
// optInRegions need an opt-in and are listed only with AllRegions=true.
var (
	commercialRegions = []string{
		"ap-northeast-1", "ap-northeast-2", "ap-northeast-3", "ap-south-1", "ap-southeast-1", "ap-southeast-2",
		"ca-central-1", "eu-central-1", "eu-north-1", "eu-west-1", "eu-west-2", "eu-west-3",
		"sa-east-1", "us-east-1", "us-east-2", "us-west-1", "us-west-2",
	}
	optInRegions = []string{
		"af-south-1", "ap-east-1", "ap-south-2", "ap-southeast-3", "ap-southeast-4", "ca-west-1",
		"eu-central-2", "eu-south-1", "eu-south-2", "il-central-1", "me-central-1", "me-south-1",
	}
)

// regionNotEnabled refuses a call in an opt-in region that a seeded
// account with a "regions" list has not enabled, with the AuthFailure AWS
// gives credentials used in a region the account has not opted in to.
// Commercial regions that need no opt-in are never refused (a seed may
// leave them out of "regions" to keep DescribeRegions short).
func (s *Server) regionNotEnabled(account, region string) *apiError {
	if !slices.Contains(optInRegions, region) {
		return nil
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if a := s.st.Accounts[account]; a == nil || a.Regions == nil || slices.Contains(a.Regions, region) {
		return nil
	}
	return &apiError{Status: http.StatusUnauthorized, Code: "AuthFailure",
		Message: "AWS was not able to validate the provided access credentials (the opt-in region " + region + " is not enabled for account " + account + ")"}
}

// region is one row of DescribeRegions.
type region struct{ name, optIn string }

// accountRegions lists the regions DescribeRegions shows account, sorted by
// name: its enabled regions (a seeded account's "regions", else the
// commercial regions), plus with all the other known regions as
// not-opted-in.
func (s *Server) accountRegions(account string, all bool) []region {
	var enabled []string
	if a := s.st.Accounts[account]; a != nil && a.Regions != nil {
		enabled = a.Regions
	} else {
		enabled = commercialRegions
	}
	var regions []region
	listed := map[string]bool{}
	for _, r := range enabled {
		status := "opted-in"
		if slices.Contains(commercialRegions, r) {
			status = "opt-in-not-required"
		}
		regions = append(regions, region{r, status})
		listed[r] = true
	}
	if all {
		for _, list := range [][]string{commercialRegions, optInRegions} {
			for _, r := range list {
				if !listed[r] {
					regions = append(regions, region{r, "not-opted-in"})
				}
			}
		}
	}
	sort.Slice(regions, func(i, j int) bool { return regions[i].name < regions[j].name })
	return regions
}

func describeRegions(s *Server, rq *request, x *xmlOut) *apiError {
	dry, aerr := rq.boolParam("DryRun")
	if aerr != nil {
		return aerr
	}
	all, aerr := rq.boolParam("AllRegions")
	if aerr != nil {
		return aerr
	}
	regions := s.accountRegions(rq.account, all)
	if names := rq.list("RegionName"); len(names) > 0 {
		byName := map[string]region{}
		for _, r := range regions {
			byName[r.name] = r
		}
		regions = regions[:0]
		for _, n := range names {
			r, ok := byName[n]
			if !ok {
				return errInvalidValue("RegionName", truncateForMsg(n), "Unknown region: give a standard commercial region such as us-east-1.")
			}
			regions = append(regions, r)
		}
	}
	var filters []imageFilter
	for _, n := range rq.indices("Filter") {
		p := sub("Filter", n)
		name := rq.get(p + ".Name")
		switch name {
		case "region-name", "endpoint", "opt-in-status":
		default:
			return errBad("InvalidParameterValue", "The filter '%s' is invalid", truncateForMsg(name))
		}
		f := imageFilter{name: name}
		for _, v := range rq.list(p + ".Value") {
			f.pats = append(f.pats, compileGlob(v))
		}
		filters = append(filters, f)
	}
	if dry {
		return errDryRun()
	}
	x.open("regionInfo")
	for _, r := range regions {
		endpoint := "ec2." + r.name + ".amazonaws.com"
		ok := true
		for _, f := range filters {
			switch f.name {
			case "region-name":
				ok = ok && globAny(f.pats, r.name)
			case "endpoint":
				ok = ok && globAny(f.pats, endpoint)
			case "opt-in-status":
				ok = ok && globAny(f.pats, r.optIn)
			}
		}
		if !ok {
			continue
		}
		x.open("item")
		x.elem("regionName", r.name)
		x.elem("regionEndpoint", endpoint)
		x.elem("optInStatus", r.optIn)
		x.close("item")
	}
	x.close("regionInfo")
	return nil
}
