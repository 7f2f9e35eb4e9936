package ec2emu

import (
	"fmt"
	"strings"
	"time"
)

// Instances as the amazon-ebs builder drives them: the launch details of
// RunInstances (network, key pair, security groups, EBS volumes), the
// stop/start state machine, ModifyInstanceAttribute, and what termination
// releases. Instances are records, not machines.
//
// States: RunInstances answers running at once and TerminateInstances
// terminated at once (the emulator's tests and other tools rely on that).
// StopInstances goes through stopping, and StartInstances through pending:
// the transitional state is reported by one DescribeInstances answer (or
// lasts instanceTransition of emulator time, whichever ends first), then
// the final state. So a waiter sees the transition and succeeds on its
// next poll.

func init() {
	register(map[string]handler{
		"StopInstances":           stopInstances,
		"StartInstances":          startInstances,
		"ModifyInstanceAttribute": modifyInstanceAttribute,
	})
}

// instanceTransition bounds a transitional state in emulator time.
const instanceTransition = 2 * time.Second

// settleInstance ends a transitional state whose time is up. Callers hold
// s.mu.
func (s *Server) settleInstance(inst *Instance, now time.Time) {
	if !transitional(inst.State) {
		return
	}
	if inst.SettleDescribes > 0 && (inst.SettleAt.IsZero() || now.Before(inst.SettleAt)) {
		return
	}
	s.finishTransition(inst, now)
}

func transitional(state string) bool {
	return state == "pending" || state == "stopping" || state == "shutting-down"
}

// reportedInstance counts one DescribeInstances answer that showed inst.
func (s *Server) reportedInstance(inst *Instance, now time.Time) {
	if !transitional(inst.State) || inst.SettleDescribes <= 0 {
		return
	}
	inst.SettleDescribes--
	if inst.SettleDescribes == 0 {
		s.finishTransition(inst, now)
	}
}

func (s *Server) finishTransition(inst *Instance, now time.Time) {
	inst.SettleDescribes = 0
	inst.SettleAt = time.Time{}
	switch inst.State {
	case "pending":
		inst.State = "running"
	case "stopping":
		inst.State = "stopped"
		inst.PublicIP = "" // auto-assigned public addresses are released on stop
	case "shutting-down":
		inst.State = "terminated"
		s.releaseTerminated(inst, now)
	}
}

func (s *Server) beginTransition(inst *Instance, state string, now time.Time) {
	inst.State = state
	inst.SettleDescribes = 1
	inst.SettleAt = now.Add(instanceTransition)
}

// releaseTerminated frees what a terminated instance held: volumes with
// DeleteOnTermination are deleted, the others detached (available); the
// public address is released. Callers hold s.mu.
func (s *Server) releaseTerminated(inst *Instance, now time.Time) {
	s.ensureEBSMaps()
	for _, id := range inst.Volumes {
		v := s.st.Volumes[id]
		if v == nil || v.InstanceID != inst.ID {
			continue
		}
		v.InstanceID, v.Device, v.State, v.AttachTime = "", "", "available", time.Time{}
		if v.DeleteOnTermination {
			markVolumeDeleted(v, now)
		}
	}
	inst.PublicIP = ""
	if inst.StateReason == "" {
		inst.StateReason = "Client.UserInitiatedShutdown"
	}
	inst.StateTransitionReason = userInitiated(now)
}

func userInitiated(now time.Time) string {
	return "User initiated (" + now.UTC().Format("2006-01-02 15:04:05 GMT") + ")"
}

var stateReasonMessages = map[string]string{
	"Client.UserInitiatedShutdown": "Client.UserInitiatedShutdown: User initiated shutdown",
}

// validInstanceType: family.size, lowercase (t3.micro, m7i-flex.large).
func validInstanceType(t string) bool {
	dot := strings.IndexByte(t, '.')
	if dot <= 0 || dot == len(t)-1 || len(t) > 64 {
		return false
	}
	for i := 0; i < len(t); i++ {
		c := t[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '.') {
			return false
		}
	}
	return t[0] >= 'a' && t[0] <= 'z' && strings.Count(t, ".") == 1
}

// launchPlan is what RunInstances resolved before it creates instances.
type launchPlan struct {
	vpc        *Vpc
	subnet     *Subnet
	groups     []string
	keyName    string
	devices    []BlockDevice
	rootDevice string
	publicIP   bool
	shutdown   string
	ebsOpt     bool
	iam        string
	volumeTags map[string]string
}

// planLaunch checks and resolves the launch parameters of RunInstances
// for img: key pair, network (SubnetId/SecurityGroupId.N/SecurityGroup.N
// or NetworkInterface.1, Placement.AvailabilityZone; the default VPC when
// no subnet is given), shutdown behaviour and block devices. Callers hold
// s.mu.
func (s *Server) planLaunch(rq *request, img *Image, count int64) (*launchPlan, *apiError) {
	s.ensureEBSMaps()
	p := &launchPlan{}
	if kn := rq.get("KeyName"); kn != "" {
		if s.keyByName(rq, kn) == nil {
			return nil, errKeyNotFound(kn)
		}
		p.keyName = kn
	}
	az := rq.get("Placement.AvailabilityZone")
	if az != "" && !validAZ(rq.region, az) {
		return nil, errBad("InvalidParameterValue", "Invalid availability zone: [%s]. The zones of %s are %sa, %sb and %sc.", truncateForMsg(az), rq.region, rq.region, rq.region, rq.region)
	}
	if t := rq.get("Placement.Tenancy"); t != "" && t != "default" {
		return nil, errBad("UnsupportedOperation", "The emulator launches instances with default tenancy only, not %q.", truncateForMsg(t))
	}
	subnetID := rq.get("SubnetId")
	groupIDs, groupNames := rq.list("SecurityGroupId"), rq.list("SecurityGroup")
	var associate *bool
	if nis := rq.indices("NetworkInterface"); len(nis) > 0 {
		if subnetID != "" || len(groupIDs) > 0 || len(groupNames) > 0 {
			return nil, errBad("InvalidParameterCombination", "Network interfaces and an instance-level subnet ID or security groups may not be specified on the same request")
		}
		if len(nis) > 1 {
			return nil, errBad("UnsupportedOperation", "The emulator launches instances with one network interface (DeviceIndex 0); the request has %d.", len(nis))
		}
		ni := sub("NetworkInterface", nis[0])
		if di := rq.get(ni + ".DeviceIndex"); di != "" && di != "0" {
			return nil, errInvalidValue(ni+".DeviceIndex", truncateForMsg(di), "The primary network interface has DeviceIndex 0.")
		}
		if rq.get(ni+".NetworkInterfaceId") != "" {
			return nil, errBad("UnsupportedOperation", "The emulator creates the network interface at launch; attaching an existing one (%s) is not emulated.", truncateForMsg(rq.get(ni+".NetworkInterfaceId")))
		}
		subnetID = rq.get(ni + ".SubnetId")
		groupIDs = rq.list(ni + ".SecurityGroupId")
		if rq.has(ni + ".AssociatePublicIpAddress") {
			b, aerr := rq.boolParam(ni + ".AssociatePublicIpAddress")
			if aerr != nil {
				return nil, aerr
			}
			associate = &b
		}
	}
	if subnetID != "" {
		sn, aerr := s.lookupSubnet(rq, subnetID)
		if aerr != nil {
			return nil, aerr
		}
		if az != "" && sn.AvailabilityZone != az {
			return nil, errBad("InvalidParameterValue", "The subnet %s is in %s, not in the requested availability zone %s.", sn.ID, sn.AvailabilityZone, az)
		}
		p.subnet, p.vpc = sn, s.st.Vpcs[sn.VpcID]
	} else {
		p.vpc = s.defaultVpc(rq.account, rq.region)
		p.subnet = s.defaultSubnet(p.vpc, az)
	}
	if p.vpc == nil || p.subnet == nil {
		return nil, errBad("VPCIdNotSpecified", "No default VPC for this user. Give SubnetId.")
	}
	if availableIPs(p.subnet) < int(count) {
		return nil, errBad("InsufficientFreeAddressesInSubnet", "There are not enough free addresses in subnet '%s' to satisfy the requested number of instances.", p.subnet.ID)
	}
	for _, id := range groupIDs {
		g, aerr := s.lookupGroup(rq, id)
		if aerr != nil {
			return nil, aerr
		}
		if g.VpcID != p.vpc.ID {
			return nil, errBad("InvalidParameter", "Security group %s and subnet %s belong to different networks.", g.ID, p.subnet.ID)
		}
		p.groups = appendUnique(p.groups, g.ID)
	}
	for _, n := range groupNames {
		g := s.groupByName(rq, p.vpc.ID, n)
		if g == nil {
			return nil, errBad("InvalidGroup.NotFound", "The security group '%s' does not exist in VPC '%s'", truncateForMsg(n), p.vpc.ID)
		}
		p.groups = appendUnique(p.groups, g.ID)
	}
	if len(p.groups) == 0 {
		if g := s.groupByName(rq, p.vpc.ID, defaultGroupName); g != nil {
			p.groups = []string{g.ID}
		}
	}
	p.publicIP = p.subnet.MapPublicIP
	if associate != nil {
		p.publicIP = *associate
	}
	p.shutdown = orDefault(rq.get("InstanceInitiatedShutdownBehavior"), "stop")
	if p.shutdown != "stop" && p.shutdown != "terminate" {
		return nil, errInvalidValue("InstanceInitiatedShutdownBehavior", truncateForMsg(p.shutdown), "Valid values are stop and terminate.")
	}
	var aerr *apiError
	if p.ebsOpt, aerr = rq.boolParam("EbsOptimized"); aerr != nil {
		return nil, aerr
	}
	p.iam = orDefault(rq.get("IamInstanceProfile.Arn"), rq.get("IamInstanceProfile.Name"))
	if p.volumeTags, aerr = rq.tagSpecs("volume"); aerr != nil {
		return nil, aerr
	}

	// Block devices: the image's mappings, changed by BlockDeviceMapping.N.
	p.rootDevice = rootDeviceName(img)
	base := append([]BlockDevice(nil), img.BlockDevices...)
	if len(base) == 0 {
		base = []BlockDevice{{DeviceName: p.rootDevice, VolumeSize: 8, VolumeType: "gp2", DeleteOnTermination: true}}
	}
	reqs, aerr := parseBDMRequests(rq, "BlockDeviceMapping")
	if aerr != nil {
		return nil, aerr
	}
	if p.devices, aerr = s.mergeBlockDevices(rq, base, reqs, p.rootDevice, "gp2"); aerr != nil {
		return nil, aerr
	}
	return p, nil
}

func appendUnique(list []string, v string) []string {
	for _, x := range list {
		if x == v {
			return list
		}
	}
	return append(list, v)
}

// newPublicIP hands out an address of 203.0.113.0/24 (TEST-NET-3, never
// routed): addresses repeat after 254 instances.
func (s *Server) newPublicIP() string {
	s.st.Seq++
	return fmt.Sprintf("203.0.113.%d", mixSeq(s.st.Seq)%254+1)
}

// applyLaunch fills in a new instance from the plan and creates its
// volumes. Callers hold s.mu.
func (s *Server) applyLaunch(rq *request, inst *Instance, p *launchPlan) {
	inst.KeyName = p.keyName
	inst.VpcID = p.vpc.ID
	inst.SubnetID = p.subnet.ID
	inst.AvailabilityZone = p.subnet.AvailabilityZone
	inst.SecurityGroupIDs = append([]string(nil), p.groups...)
	inst.PrivateIP = nextPrivateIP(p.subnet)
	inst.AssociatePublicIP = p.publicIP
	if p.publicIP {
		inst.PublicIP = s.newPublicIP()
	}
	inst.NetworkInterfaceID = s.nextHexID("eni-", func(string) bool { return false })
	inst.RootDeviceName = p.rootDevice
	inst.EbsOptimized = p.ebsOpt
	inst.ShutdownBehavior = p.shutdown
	inst.IamProfile = p.iam
	inst.ClientToken = rq.get("ClientToken")
	for _, bd := range p.devices {
		v := &Volume{
			ID: newResID(s, "vol-", s.st.Volumes), Region: inst.Region, Owner: inst.Owner,
			AvailabilityZone: inst.AvailabilityZone, Size: bd.VolumeSize, VolumeType: bd.VolumeType,
			SnapshotID: bd.SnapshotID, Encrypted: bd.Encrypted, State: "in-use", CreateTime: inst.LaunchTime,
			InstanceID: inst.ID, Device: bd.DeviceName, DeleteOnTermination: bd.DeleteOnTermination,
			AttachTime: inst.LaunchTime, Tags: copyTags(p.volumeTags),
		}
		s.st.Volumes[v.ID] = v
		inst.Volumes = append(inst.Volumes, v.ID)
	}
}

// privateDNS / publicDNS are EC2's host names for the addresses.
func privateDNS(region, ip string) string {
	if ip == "" {
		return ""
	}
	h := "ip-" + strings.ReplaceAll(ip, ".", "-")
	if region == "us-east-1" {
		return h + ".ec2.internal"
	}
	return h + "." + region + ".compute.internal"
}

func publicDNS(region, ip string) string {
	if ip == "" {
		return ""
	}
	h := "ec2-" + strings.ReplaceAll(ip, ".", "-")
	if region == "us-east-1" {
		return h + ".compute-1.amazonaws.com"
	}
	return h + "." + region + ".compute.amazonaws.com"
}

// writeInstanceDetails writes the launch details of an instance item
// (network, key, groups, volumes). Instances recorded before these
// details existed have none.
func writeInstanceDetails(x *xmlOut, s *Server, inst *Instance) {
	live := inst.State != "terminated"
	x.elem("privateDnsName", privateDNSIf(live, inst))
	x.elem("dnsName", publicDNS(inst.Region, inst.PublicIP))
	x.elem("reason", inst.StateTransitionReason)
	x.elemOpt("keyName", inst.KeyName)
	x.open("monitoring")
	x.elem("state", "disabled")
	x.close("monitoring")
	if inst.StateReason != "" && (inst.State == "stopped" || inst.State == "stopping" || inst.State == "terminated" || inst.State == "shutting-down") {
		x.open("stateReason")
		x.elem("code", inst.StateReason)
		x.elem("message", orDefault(stateReasonMessages[inst.StateReason], inst.StateReason))
		x.close("stateReason")
	}
	if !live || inst.VpcID == "" {
		return
	}
	x.elem("subnetId", inst.SubnetID)
	x.elem("vpcId", inst.VpcID)
	x.elemOpt("privateIpAddress", inst.PrivateIP)
	x.elemOpt("ipAddress", inst.PublicIP)
	x.elemBool("sourceDestCheck", true)
	writeGroupSet(x, s, inst.SecurityGroupIDs)
	x.open("blockDeviceMapping")
	for _, id := range inst.Volumes {
		v := s.st.Volumes[id]
		if v == nil || v.InstanceID != inst.ID {
			continue
		}
		x.open("item")
		x.elem("deviceName", v.Device)
		x.open("ebs")
		x.elem("volumeId", v.ID)
		x.elem("status", "attached")
		x.elemTime("attachTime", v.AttachTime, layoutCreationDate)
		x.elemBool("deleteOnTermination", v.DeleteOnTermination)
		x.close("ebs")
		x.close("item")
	}
	x.close("blockDeviceMapping")
	x.elemBool("ebsOptimized", inst.EbsOptimized)
	if inst.EnaSupport != nil {
		x.elemBool("enaSupport", *inst.EnaSupport)
	}
	x.elemOpt("sriovNetSupport", inst.SriovNetSupport)
	if inst.IamProfile != "" {
		x.open("iamInstanceProfile")
		arn := inst.IamProfile
		if !strings.HasPrefix(arn, "arn:") {
			arn = "arn:aws:iam::" + inst.Owner + ":instance-profile/" + arn
		}
		x.elem("arn", arn)
		x.close("iamInstanceProfile")
	}
	x.elemOpt("clientToken", inst.ClientToken)
	x.open("networkInterfaceSet")
	x.open("item")
	x.elem("networkInterfaceId", inst.NetworkInterfaceID)
	x.elem("subnetId", inst.SubnetID)
	x.elem("vpcId", inst.VpcID)
	x.elem("description", "")
	x.elem("ownerId", inst.Owner)
	x.elem("status", "in-use")
	x.elem("macAddress", macAddress(inst.NetworkInterfaceID))
	x.elemOpt("privateIpAddress", inst.PrivateIP)
	x.elemOpt("privateDnsName", privateDNS(inst.Region, inst.PrivateIP))
	x.elemBool("sourceDestCheck", true)
	writeGroupSet(x, s, inst.SecurityGroupIDs)
	x.open("attachment")
	x.elem("attachmentId", "eni-attach-"+strings.TrimPrefix(inst.NetworkInterfaceID, "eni-"))
	x.elemInt("deviceIndex", 0)
	x.elem("status", "attached")
	x.elemTime("attachTime", inst.LaunchTime, layoutCreationDate)
	x.elemBool("deleteOnTermination", true)
	x.close("attachment")
	if inst.PublicIP != "" {
		x.open("association")
		x.elem("publicIp", inst.PublicIP)
		x.elem("publicDnsName", publicDNS(inst.Region, inst.PublicIP))
		x.elem("ipOwnerId", "amazon")
		x.close("association")
	}
	x.open("privateIpAddressesSet")
	x.open("item")
	x.elemOpt("privateIpAddress", inst.PrivateIP)
	x.elemOpt("privateDnsName", privateDNS(inst.Region, inst.PrivateIP))
	x.elemBool("primary", true)
	x.close("item")
	x.close("privateIpAddressesSet")
	x.elem("interfaceType", "interface")
	x.close("item")
	x.close("networkInterfaceSet")
}

func privateDNSIf(live bool, inst *Instance) string {
	if !live {
		return ""
	}
	return privateDNS(inst.Region, inst.PrivateIP)
}

// macAddress derives a stable locally administered MAC from an id.
func macAddress(id string) string {
	h := strings.TrimPrefix(id, "eni-")
	for len(h) < 12 {
		h += "0"
	}
	h = h[len(h)-10:]
	return "02:" + h[0:2] + ":" + h[2:4] + ":" + h[4:6] + ":" + h[6:8] + ":" + h[8:10]
}

// instanceFilterValues are the values of the launch-detail filters of
// DescribeInstances; ok is false for other names.
func (s *Server) instanceFilterValues(inst *Instance, name string) (vals []string, ok bool) {
	switch name {
	case "vpc-id":
		return []string{inst.VpcID}, true
	case "subnet-id":
		return []string{inst.SubnetID}, true
	case "availability-zone":
		return []string{orDefault(inst.AvailabilityZone, inst.Region+"a")}, true
	case "key-name":
		return []string{inst.KeyName}, true
	case "instance.group-id":
		return inst.SecurityGroupIDs, true
	case "instance.group-name":
		for _, id := range inst.SecurityGroupIDs {
			if g := s.st.SecurityGroups[id]; g != nil {
				vals = append(vals, g.Name)
			}
		}
		return vals, true
	case "private-ip-address":
		return []string{inst.PrivateIP}, true
	case "ip-address":
		return []string{inst.PublicIP}, true
	case "private-dns-name":
		return []string{privateDNS(inst.Region, inst.PrivateIP)}, true
	case "dns-name":
		return []string{publicDNS(inst.Region, inst.PublicIP)}, true
	case "network-interface.network-interface-id":
		return []string{inst.NetworkInterfaceID}, true
	case "block-device-mapping.volume-id":
		return inst.Volumes, true
	case "client-token":
		return []string{inst.ClientToken}, true
	}
	return nil, false
}

// instanceStateChanges writes the instancesSet of Stop/Start/Terminate.
func writeStateChange(x *xmlOut, id, prev, cur string) {
	x.open("item")
	x.elem("instanceId", id)
	writeInstanceState(x, "currentState", cur)
	writeInstanceState(x, "previousState", prev)
	x.close("item")
}

// instancesParam resolves InstanceId.N (all must exist) and settles them.
func (s *Server) instancesParam(rq *request) ([]*Instance, *apiError) {
	ids := rq.list("InstanceId")
	if len(ids) == 0 {
		return nil, errMissing("InstanceId.1")
	}
	out := make([]*Instance, 0, len(ids))
	var missing []string
	for _, id := range ids {
		inst, aerr := s.lookupInstance(rq, id)
		if aerr != nil {
			if aerr.Code != "InvalidInstanceID.NotFound" {
				return nil, aerr
			}
			missing = append(missing, id)
			continue
		}
		s.settleInstance(inst, rq.now)
		out = append(out, inst)
	}
	if len(missing) > 0 {
		return nil, notFoundList("InvalidInstanceID.NotFound", "instance ID", missing)
	}
	return out, nil
}

func stopInstances(s *Server, rq *request, x *xmlOut) *apiError {
	insts, aerr := s.instancesParam(rq)
	if aerr != nil {
		return aerr
	}
	dry, aerr := rq.boolParam("DryRun")
	if aerr != nil {
		return aerr
	}
	if _, aerr := rq.boolParam("Force"); aerr != nil {
		return aerr
	}
	hib, aerr := rq.boolParam("Hibernate")
	if aerr != nil {
		return aerr
	}
	if hib {
		return errBad("UnsupportedHibernationConfiguration", "The instance was not launched with hibernation enabled; the emulator does not emulate hibernation.")
	}
	for _, inst := range insts {
		switch inst.State {
		case "pending":
			return errBad("IncorrectInstanceState", "Instance '%s' cannot be stopped as it has never reached the 'running' state.", inst.ID)
		case "shutting-down", "terminated":
			return errBad("IncorrectInstanceState", "This instance '%s' is not in a state from which it can be stopped.", inst.ID)
		}
	}
	if dry {
		return errDryRun()
	}
	x.open("instancesSet")
	for _, inst := range insts {
		prev := inst.State
		if prev == "running" {
			s.beginTransition(inst, "stopping", rq.now)
			inst.StateReason = "Client.UserInitiatedShutdown"
			inst.StateTransitionReason = userInitiated(rq.now)
		}
		writeStateChange(x, inst.ID, prev, inst.State)
	}
	x.close("instancesSet")
	return nil
}

func startInstances(s *Server, rq *request, x *xmlOut) *apiError {
	insts, aerr := s.instancesParam(rq)
	if aerr != nil {
		return aerr
	}
	dry, aerr := rq.boolParam("DryRun")
	if aerr != nil {
		return aerr
	}
	for _, inst := range insts {
		switch inst.State {
		case "stopping", "shutting-down", "terminated":
			return errBad("IncorrectInstanceState", "The instance '%s' is not in a state from which it can be started.", inst.ID)
		}
	}
	if dry {
		return errDryRun()
	}
	x.open("instancesSet")
	for _, inst := range insts {
		prev := inst.State
		if prev == "stopped" {
			s.beginTransition(inst, "pending", rq.now)
			inst.StateReason, inst.StateTransitionReason = "", ""
			if inst.AssociatePublicIP && inst.PublicIP == "" {
				inst.PublicIP = s.newPublicIP()
			}
		}
		writeStateChange(x, inst.ID, prev, inst.State)
	}
	x.close("instancesSet")
	return nil
}

// modifyInstanceAttribute changes one attribute per call, as EC2 does:
// enaSupport, sriovNetSupport, instanceType and ebsOptimized (the
// instance must be stopped), instanceInitiatedShutdownBehavior and the
// security groups (GroupId.N). CreateImage copies enaSupport to the image.
func modifyInstanceAttribute(s *Server, rq *request, x *xmlOut) *apiError {
	id, aerr := rq.required("InstanceId")
	if aerr != nil {
		return aerr
	}
	dry, aerr := rq.boolParam("DryRun")
	if aerr != nil {
		return aerr
	}
	inst, aerr := s.lookupInstance(rq, id)
	if aerr != nil {
		return aerr
	}
	s.settleInstance(inst, rq.now)

	// Collect the attribute: structured (EnaSupport.Value ...) or the
	// legacy Attribute=name&Value=v form.
	type change struct{ attr, value string }
	var changes []change
	for _, a := range []struct{ key, attr string }{
		{"EnaSupport.Value", "enaSupport"}, {"SriovNetSupport.Value", "sriovNetSupport"},
		{"InstanceType.Value", "instanceType"}, {"EbsOptimized.Value", "ebsOptimized"},
		{"InstanceInitiatedShutdownBehavior.Value", "instanceInitiatedShutdownBehavior"},
		{"UserData.Value", "userData"}, {"SourceDestCheck.Value", "sourceDestCheck"},
		{"DisableApiTermination.Value", "disableApiTermination"}, {"DisableApiStop.Value", "disableApiStop"},
		{"Kernel.Value", "kernel"}, {"Ramdisk.Value", "ramdisk"},
	} {
		if rq.has(a.key) {
			changes = append(changes, change{a.attr, rq.get(a.key)})
		}
	}
	if groups := rq.list("GroupId"); len(groups) > 0 {
		changes = append(changes, change{"groupSet", strings.Join(groups, ",")})
	}
	if attr := rq.get("Attribute"); attr != "" {
		changes = append(changes, change{attr, rq.get("Value")})
	}
	if len(rq.indices("BlockDeviceMapping")) > 0 {
		changes = append(changes, change{"blockDeviceMapping", ""})
	}
	switch {
	case len(changes) == 0:
		return errBad("MissingParameter", "No attribute was given to modify on instance %s: give one of EnaSupport, SriovNetSupport, InstanceType, EbsOptimized, InstanceInitiatedShutdownBehavior or GroupId.N.", id)
	case len(changes) > 1:
		return errBad("InvalidParameterCombination", "Fields for multiple attribute types specified: only one attribute can be modified per call.")
	}
	c := changes[0]
	if inst.State == "terminated" || inst.State == "shutting-down" {
		return errBad("IncorrectInstanceState", "The instance '%s' is %s and cannot be modified.", id, inst.State)
	}
	needStopped := func() *apiError {
		if inst.State != "stopped" {
			return errBad("IncorrectInstanceState", "The instance '%s' is not in the 'stopped' state.", id)
		}
		return nil
	}
	parseBool := func() (bool, *apiError) {
		switch strings.ToLower(c.value) {
		case "true":
			return true, nil
		case "false":
			return false, nil
		}
		return false, errInvalidValue(c.attr, truncateForMsg(c.value), "Expecting true or false.")
	}
	var apply func()
	switch c.attr {
	case "enaSupport":
		b, aerr := parseBool()
		if aerr != nil {
			return aerr
		}
		if aerr := needStopped(); aerr != nil {
			return aerr
		}
		apply = func() { inst.EnaSupport = &b }
	case "sriovNetSupport":
		if c.value != "simple" {
			return errInvalidValue("SriovNetSupport", truncateForMsg(c.value), "The only value is simple.")
		}
		if aerr := needStopped(); aerr != nil {
			return aerr
		}
		apply = func() { inst.SriovNetSupport = c.value }
	case "instanceType":
		if !validInstanceType(c.value) {
			return errInvalidValue("InstanceType", truncateForMsg(c.value), "Give an instance type such as t3.micro.")
		}
		if aerr := needStopped(); aerr != nil {
			return aerr
		}
		apply = func() { inst.InstanceType = c.value }
	case "ebsOptimized":
		b, aerr := parseBool()
		if aerr != nil {
			return aerr
		}
		if aerr := needStopped(); aerr != nil {
			return aerr
		}
		apply = func() { inst.EbsOptimized = b }
	case "instanceInitiatedShutdownBehavior":
		if c.value != "stop" && c.value != "terminate" {
			return errInvalidValue("InstanceInitiatedShutdownBehavior", truncateForMsg(c.value), "Valid values are stop and terminate.")
		}
		apply = func() { inst.ShutdownBehavior = c.value }
	case "groupSet":
		var ids []string
		for _, gid := range strings.Split(c.value, ",") {
			g, aerr := s.lookupGroup(rq, gid)
			if aerr != nil {
				return aerr
			}
			if g.VpcID != inst.VpcID {
				return errBad("InvalidGroup.NotFound", "The security group '%s' does not exist in VPC '%s'", gid, inst.VpcID)
			}
			ids = appendUnique(ids, g.ID)
		}
		apply = func() { inst.SecurityGroupIDs = ids }
	default:
		return errBad("UnsupportedOperation", "The emulator does not modify the %s attribute of instances; it supports enaSupport, sriovNetSupport, instanceType, ebsOptimized, instanceInitiatedShutdownBehavior and groupSet.", truncateForMsg(c.attr))
	}
	if dry {
		return errDryRun()
	}
	apply()
	x.elemBool("return", true)
	return nil
}

// writeGroupSet writes the security groups of an instance or of its
// network interface (the same groupSet in both places).
func writeGroupSet(x *xmlOut, s *Server, ids []string) {
	x.open("groupSet")
	for _, id := range ids {
		x.open("item")
		x.elem("groupId", id)
		if g := s.st.SecurityGroups[id]; g != nil {
			x.elem("groupName", g.Name)
		}
		x.close("item")
	}
	x.close("groupSet")
}
