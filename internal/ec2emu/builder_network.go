package ec2emu

import (
	"fmt"
	"net/netip"
	"sort"
	"strconv"
	"strings"
)

// VPCs, subnets and security groups: the records the amazon-ebs builder
// looks up or creates around its source instance (DescribeVpcs,
// DescribeSubnets, CreateSecurityGroup, DescribeSecurityGroups,
// AuthorizeSecurityGroupIngress, DeleteSecurityGroup).
//
// Every account has, in every region, a default VPC 172.31.0.0/16 with one
// default /20 subnet per availability zone (a, b, c) that maps public IPs
// on launch, and a "default" security group, as new AWS accounts do. They
// are created the first time the account needs them. CreateVpc and
// CreateSubnet are not emulated.

func init() {
	register(map[string]handler{
		"DescribeVpcs":                  describeVpcs,
		"DescribeSubnets":               describeSubnets,
		"DescribeSecurityGroups":        describeSecurityGroups,
		"CreateSecurityGroup":           createSecurityGroup,
		"AuthorizeSecurityGroupIngress": authorizeSecurityGroupIngress,
		"DeleteSecurityGroup":           deleteSecurityGroup,
	})
}

// azLetters are the availability zones of every region (region + letter).
var azLetters = []string{"a", "b", "c"}

const (
	defaultVpcCIDR   = "172.31.0.0/16"
	maxGroupNameLen  = 255
	defaultGroupName = "default"
)

// validAZ reports whether az is an availability zone of region.
func validAZ(region, az string) bool {
	for _, l := range azLetters {
		if az == region+l {
			return true
		}
	}
	return false
}

// azID is the zone id of an availability zone, in AWS's form (us-east-1a ->
// use1-az1). On AWS the letter-to-id mapping differs per account; here it
// is fixed (a -> az1, b -> az2, ...).
func azID(az string) string {
	if len(az) < 2 {
		return ""
	}
	region, letter := az[:len(az)-1], az[len(az)-1]
	parts := strings.Split(region, "-")
	if len(parts) < 3 || letter < 'a' || letter > 'z' {
		return ""
	}
	dir := parts[1]
	for _, d := range []struct{ long, short string }{
		{"northeast", "ne"}, {"northwest", "nw"}, {"southeast", "se"}, {"southwest", "sw"},
		{"north", "n"}, {"south", "s"}, {"east", "e"}, {"west", "w"}, {"central", "c"},
	} {
		if dir == d.long {
			dir = d.short
			break
		}
	}
	return parts[0] + dir + parts[len(parts)-1] + "-az" + strconv.Itoa(int(letter-'a')+1)
}

// defaultVpc returns the default VPC of account in region, creating it
// (with its default subnets and security group) on first use. Callers
// hold s.mu.
func (s *Server) defaultVpc(account, region string) *Vpc {
	s.ensureEBSMaps()
	for _, v := range s.st.Vpcs {
		if v.IsDefault && v.Owner == account && v.Region == region {
			return v
		}
	}
	v := &Vpc{ID: newResID(s, "vpc-", s.st.Vpcs), Region: region, Owner: account, CIDR: defaultVpcCIDR, IsDefault: true}
	s.st.Vpcs[v.ID] = v
	for i, l := range azLetters {
		sn := &Subnet{
			ID: newResID(s, "subnet-", s.st.Subnets), Region: region, Owner: account, VpcID: v.ID,
			AvailabilityZone: region + l, CIDR: fmt.Sprintf("172.31.%d.0/20", 16*i),
			DefaultForAz: true, MapPublicIP: true,
		}
		s.st.Subnets[sn.ID] = sn
	}
	s.newDefaultGroup(v)
	return v
}

// newDefaultGroup creates the "default" security group of a VPC: all
// traffic from members of the group, all traffic out.
func (s *Server) newDefaultGroup(v *Vpc) *SecurityGroup {
	g := &SecurityGroup{
		ID: newResID(s, "sg-", s.st.SecurityGroups), Region: v.Region, Owner: v.Owner, VpcID: v.ID,
		Name: defaultGroupName, Description: "default VPC security group",
	}
	g.Ingress = []SecurityRule{{ID: s.newRuleID(), Protocol: "-1", GroupID: g.ID}}
	g.Egress = []SecurityRule{{ID: s.newRuleID(), Protocol: "-1", CIDR: "0.0.0.0/0"}}
	s.st.SecurityGroups[g.ID] = g
	return g
}

func (s *Server) newRuleID() string { return s.nextHexID("sgr-", func(string) bool { return false }) }

// defaultSubnet returns the default subnet of the VPC in az ("" = the
// first zone).
func (s *Server) defaultSubnet(v *Vpc, az string) *Subnet {
	var best *Subnet
	for _, sn := range s.st.Subnets {
		if sn.VpcID != v.ID || !sn.DefaultForAz {
			continue
		}
		if az != "" && sn.AvailabilityZone == az {
			return sn
		}
		if az == "" && (best == nil || sn.AvailabilityZone < best.AvailabilityZone) {
			best = sn
		}
	}
	return best
}

func (s *Server) lookupVpc(rq *request, id string) (*Vpc, *apiError) {
	if !isResourceID(id, "vpc-") {
		return nil, errBad("InvalidVpcID.Malformed", "Invalid id: %q (expecting \"vpc-...\")", truncateForMsg(id))
	}
	s.defaultVpc(rq.account, rq.region)
	v := s.st.Vpcs[id]
	if v == nil || v.Owner != rq.account || v.Region != rq.region {
		return nil, errBad("InvalidVpcID.NotFound", "The vpc ID '%s' does not exist", id)
	}
	return v, nil
}

func (s *Server) lookupSubnet(rq *request, id string) (*Subnet, *apiError) {
	if !isResourceID(id, "subnet-") {
		return nil, errBad("InvalidSubnetID.Malformed", "Invalid id: %q (expecting \"subnet-...\")", truncateForMsg(id))
	}
	s.defaultVpc(rq.account, rq.region)
	sn := s.st.Subnets[id]
	if sn == nil || sn.Owner != rq.account || sn.Region != rq.region {
		return nil, errBad("InvalidSubnetID.NotFound", "The subnet ID '%s' does not exist", id)
	}
	return sn, nil
}

func errGroupNotFound(id string) *apiError {
	return errBad("InvalidGroup.NotFound", "The security group '%s' does not exist", id)
}

func (s *Server) lookupGroup(rq *request, id string) (*SecurityGroup, *apiError) {
	if !isResourceID(id, "sg-") {
		return nil, errBad("InvalidGroupId.Malformed", "Invalid id: %q (expecting \"sg-...\")", truncateForMsg(id))
	}
	s.defaultVpc(rq.account, rq.region)
	g := s.st.SecurityGroups[id]
	if g == nil || g.Owner != rq.account || g.Region != rq.region {
		return nil, errGroupNotFound(id)
	}
	return g, nil
}

// groupByName finds a security group by name in a VPC of the caller.
func (s *Server) groupByName(rq *request, vpcID, name string) *SecurityGroup {
	for _, g := range s.st.SecurityGroups {
		if g.Owner == rq.account && g.Region == rq.region && g.VpcID == vpcID && g.Name == name {
			return g
		}
	}
	return nil
}

// lookupGroupByName finds a group by name in the default VPC (the only
// place EC2 accepts group names).
func (s *Server) lookupGroupByName(rq *request, name string) (*SecurityGroup, *apiError) {
	v := s.defaultVpc(rq.account, rq.region)
	if g := s.groupByName(rq, v.ID, name); g != nil {
		return g, nil
	}
	return nil, errBad("InvalidGroup.NotFound", "The security group '%s' does not exist in default VPC '%s'", truncateForMsg(name), v.ID)
}

// ---- DescribeVpcs / DescribeSubnets ----

var vpcFilterNames = map[string]bool{
	"vpc-id": true, "state": true, "cidr": true, "cidr-block-association.cidr-block": true,
	"cidr-block-association.state": true, "is-default": true, "isDefault": true, "owner-id": true, "dhcp-options-id": true,
}

func dhcpOptionsID(vpcID string) string { return "dopt-" + strings.TrimPrefix(vpcID, "vpc-") }

func describeVpcs(s *Server, rq *request, x *xmlOut) *apiError {
	ids, filters, aerr := describeParams(rq, "VpcId", "vpc-", "InvalidVpcID.Malformed", vpcFilterNames)
	if aerr != nil {
		return aerr
	}
	s.defaultVpc(rq.account, rq.region)
	list, aerr := callerResources(s.st.Vpcs, ids, func(v *Vpc) bool { return v.Owner == rq.account && v.Region == rq.region },
		"InvalidVpcID.NotFound", "vpc ID")
	if aerr != nil {
		return aerr
	}
	x.open("vpcSet")
	for _, v := range list {
		attr := func(name string) []string {
			switch name {
			case "vpc-id":
				return one(v.ID)
			case "state":
				return one("available")
			case "cidr", "cidr-block-association.cidr-block":
				return one(v.CIDR)
			case "cidr-block-association.state":
				return one("associated")
			case "is-default", "isDefault":
				return one(boolStr(v.IsDefault))
			case "owner-id":
				return one(v.Owner)
			case "dhcp-options-id":
				return one(dhcpOptionsID(v.ID))
			}
			return nil
		}
		if !matchRes(filters, v.Tags, attr) {
			continue
		}
		x.open("item")
		x.elem("vpcId", v.ID)
		x.elem("ownerId", v.Owner)
		x.elem("state", "available")
		x.elem("cidrBlock", v.CIDR)
		x.open("cidrBlockAssociationSet")
		x.open("item")
		x.elem("cidrBlock", v.CIDR)
		x.elem("associationId", "vpc-cidr-assoc-"+strings.TrimPrefix(v.ID, "vpc-"))
		x.open("cidrBlockState")
		x.elem("state", "associated")
		x.close("cidrBlockState")
		x.close("item")
		x.close("cidrBlockAssociationSet")
		x.elem("dhcpOptionsId", dhcpOptionsID(v.ID))
		x.elem("instanceTenancy", "default")
		x.elemBool("isDefault", v.IsDefault)
		writeTagSet(x, v.Tags)
		x.close("item")
	}
	x.close("vpcSet")
	return nil
}

// checkMaxResults accepts MaxResults 5-1000 (not with explicit ids), as
// EC2 does. The emulator answers every match in one page; it never sends
// a nextToken for these small record lists.
func checkMaxResults(rq *request, withIDs bool) *apiError {
	n, ok, aerr := rq.intParam("MaxResults")
	if aerr != nil || !ok {
		return aerr
	}
	if withIDs {
		return errBad("InvalidParameterCombination", "The parameter MaxResults cannot be used with explicit ids")
	}
	if n < minMaxResults || n > maxMaxResults {
		return errInvalidValue("MaxResults", strconv.FormatInt(n, 10), "Expecting a value between 5 and 1000.")
	}
	return nil
}

var subnetFilterNames = map[string]bool{
	"subnet-id": true, "vpc-id": true, "state": true, "availability-zone": true, "availabilityZone": true,
	"availability-zone-id": true, "availabilityZoneId": true, "cidr-block": true, "cidrBlock": true, "cidr": true,
	"default-for-az": true, "defaultForAz": true, "map-public-ip-on-launch": true, "owner-id": true,
	"available-ip-address-count": true,
}

// subnetSize is the number of addresses of a subnet CIDR.
func subnetSize(cidr string) int {
	p, err := netip.ParsePrefix(cidr)
	if err != nil || !p.Addr().Is4() || p.Bits() > 30 {
		return 0
	}
	return 1 << (32 - p.Bits())
}

// availableIPs is the free address count: EC2 reserves 5 per subnet.
func availableIPs(sn *Subnet) int {
	n := subnetSize(sn.CIDR) - 5 - sn.NextHost
	if n < 0 {
		return 0
	}
	return n
}

func describeSubnets(s *Server, rq *request, x *xmlOut) *apiError {
	ids, filters, aerr := describeParams(rq, "SubnetId", "subnet-", "InvalidSubnetID.Malformed", subnetFilterNames)
	if aerr != nil {
		return aerr
	}
	s.defaultVpc(rq.account, rq.region)
	list, aerr := callerResources(s.st.Subnets, ids, func(sn *Subnet) bool { return sn.Owner == rq.account && sn.Region == rq.region },
		"InvalidSubnetID.NotFound", "subnet ID")
	if aerr != nil {
		return aerr
	}
	if len(ids) == 0 {
		sort.SliceStable(list, func(i, j int) bool { return list[i].AvailabilityZone < list[j].AvailabilityZone })
	}
	x.open("subnetSet")
	for _, sn := range list {
		attr := func(name string) []string {
			switch name {
			case "subnet-id":
				return one(sn.ID)
			case "vpc-id":
				return one(sn.VpcID)
			case "state":
				return one("available")
			case "availability-zone", "availabilityZone":
				return one(sn.AvailabilityZone)
			case "availability-zone-id", "availabilityZoneId":
				return one(azID(sn.AvailabilityZone))
			case "cidr-block", "cidrBlock", "cidr":
				return one(sn.CIDR)
			case "default-for-az", "defaultForAz":
				return one(boolStr(sn.DefaultForAz))
			case "map-public-ip-on-launch":
				return one(boolStr(sn.MapPublicIP))
			case "owner-id":
				return one(sn.Owner)
			case "available-ip-address-count":
				return one(strconv.Itoa(availableIPs(sn)))
			}
			return nil
		}
		if !matchRes(filters, sn.Tags, attr) {
			continue
		}
		x.open("item")
		x.elem("subnetId", sn.ID)
		x.elem("subnetArn", "arn:aws:ec2:"+sn.Region+":"+sn.Owner+":subnet/"+sn.ID)
		x.elem("state", "available")
		x.elem("ownerId", sn.Owner)
		x.elem("vpcId", sn.VpcID)
		x.elem("cidrBlock", sn.CIDR)
		x.elemInt("availableIpAddressCount", int64(availableIPs(sn)))
		x.elem("availabilityZone", sn.AvailabilityZone)
		x.elem("availabilityZoneId", azID(sn.AvailabilityZone))
		x.elemBool("defaultForAz", sn.DefaultForAz)
		x.elemBool("mapPublicIpOnLaunch", sn.MapPublicIP)
		x.elemBool("assignIpv6AddressOnCreation", false)
		writeTagSet(x, sn.Tags)
		x.close("item")
	}
	x.close("subnetSet")
	return nil
}

// nextPrivateIP hands out the next private address of a subnet (after
// the 4 addresses EC2 reserves at the start), or "" when it is full.
func nextPrivateIP(sn *Subnet) string {
	p, err := netip.ParsePrefix(sn.CIDR)
	if err != nil || !p.Addr().Is4() || availableIPs(sn) <= 0 {
		return ""
	}
	a := p.Masked().Addr().As4()
	n := uint32(a[0])<<24 | uint32(a[1])<<16 | uint32(a[2])<<8 | uint32(a[3])
	n += uint32(4 + sn.NextHost)
	sn.NextHost++
	return netip.AddrFrom4([4]byte{byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n)}).String()
}

// ---- security groups ----

func (s *Server) groupARN(g *SecurityGroup) string {
	return "arn:aws:ec2:" + g.Region + ":" + g.Owner + ":security-group/" + g.ID
}

func createSecurityGroup(s *Server, rq *request, x *xmlOut) *apiError {
	name, aerr := rq.required("GroupName")
	if aerr != nil {
		return aerr
	}
	desc, aerr := rq.required("GroupDescription")
	if aerr != nil {
		return aerr
	}
	dry, aerr := rq.boolParam("DryRun")
	if aerr != nil {
		return aerr
	}
	tags, aerr := rq.tagSpecs("security-group")
	if aerr != nil {
		return aerr
	}
	if len(name) > maxGroupNameLen || len(desc) > maxGroupNameLen {
		return errInvalidValue("GroupName", truncateForMsg(name), "Group names and descriptions are at most 255 characters.")
	}
	for _, v := range []string{name, desc} {
		for i := 0; i < len(v); i++ {
			if v[i] < 0x20 || v[i] > 0x7e {
				return errInvalidValue("GroupName", truncateForMsg(v), "Group names and descriptions may contain only ASCII letters, digits, spaces and ._-:/()#,@[]+=&;{}!$*.")
			}
		}
	}
	if strings.HasPrefix(name, "sg-") {
		return errInvalidValue("GroupName", truncateForMsg(name), "Group names may not be in the format sg-*.")
	}
	var vpc *Vpc
	if vpcID := rq.get("VpcId"); vpcID != "" {
		if vpc, aerr = s.lookupVpc(rq, vpcID); aerr != nil {
			return aerr
		}
	} else {
		vpc = s.defaultVpc(rq.account, rq.region)
	}
	if name == defaultGroupName {
		return errBad("InvalidGroup.Reserved", "The security group 'default' is reserved: every VPC has one. Choose another name.")
	}
	if g := s.groupByName(rq, vpc.ID, name); g != nil {
		return errBad("InvalidGroup.Duplicate", "The security group '%s' already exists for VPC '%s'", name, vpc.ID)
	}
	if dry {
		return errDryRun()
	}
	g := &SecurityGroup{
		ID: newResID(s, "sg-", s.st.SecurityGroups), Region: rq.region, Owner: rq.account, VpcID: vpc.ID,
		Name: name, Description: desc, Tags: tags,
	}
	g.Egress = []SecurityRule{{ID: s.newRuleID(), Protocol: "-1", CIDR: "0.0.0.0/0"}}
	s.st.SecurityGroups[g.ID] = g
	x.elemBool("return", true)
	x.elem("groupId", g.ID)
	x.elem("securityGroupArn", s.groupARN(g))
	writeTagSet(x, g.Tags)
	return nil
}

var groupFilterNames = map[string]bool{
	"group-id": true, "group-name": true, "vpc-id": true, "owner-id": true, "description": true,
	"ip-permission.protocol": true, "ip-permission.cidr": true, "ip-permission.ipv6-cidr": true,
	"ip-permission.from-port": true, "ip-permission.to-port": true, "ip-permission.group-id": true,
	"egress.ip-permission.protocol": true, "egress.ip-permission.cidr": true,
}

func ruleValues(rules []SecurityRule, field string) []string {
	var out []string
	for _, r := range rules {
		switch field {
		case "protocol":
			out = append(out, r.Protocol)
		case "cidr":
			if r.CIDR != "" {
				out = append(out, r.CIDR)
			}
		case "ipv6-cidr":
			if r.CIDRv6 != "" {
				out = append(out, r.CIDRv6)
			}
		case "from-port":
			out = append(out, itoa(r.FromPort))
		case "to-port":
			out = append(out, itoa(r.ToPort))
		case "group-id":
			if r.GroupID != "" {
				out = append(out, r.GroupID)
			}
		}
	}
	return out
}

func describeSecurityGroups(s *Server, rq *request, x *xmlOut) *apiError {
	ids, aerr := rq.idsParam("GroupId", "sg-", "InvalidGroupId.Malformed")
	if aerr != nil {
		return aerr
	}
	names := rq.list("GroupName")
	filters, aerr := parseResFilters(rq, groupFilterNames)
	if aerr != nil {
		return aerr
	}
	if aerr := checkMaxResults(rq, len(ids) > 0 || len(names) > 0); aerr != nil {
		return aerr
	}
	if dry, aerr := rq.boolParam("DryRun"); aerr != nil {
		return aerr
	} else if dry {
		return errDryRun()
	}
	s.defaultVpc(rq.account, rq.region)
	var list []*SecurityGroup
	seen := map[string]bool{}
	add := func(g *SecurityGroup) {
		if !seen[g.ID] {
			seen[g.ID] = true
			list = append(list, g)
		}
	}
	if len(ids) > 0 || len(names) > 0 {
		var missing []string
		for _, id := range ids {
			g := s.st.SecurityGroups[id]
			if g == nil || g.Owner != rq.account || g.Region != rq.region {
				missing = append(missing, id)
				continue
			}
			add(g)
		}
		if len(missing) > 0 {
			return notFoundList("InvalidGroup.NotFound", "security group", missing)
		}
		for _, n := range names {
			g, aerr := s.lookupGroupByName(rq, n)
			if aerr != nil {
				return aerr
			}
			add(g)
		}
	} else {
		for _, id := range sortedKeys(s.st.SecurityGroups) {
			if g := s.st.SecurityGroups[id]; g.Owner == rq.account && g.Region == rq.region {
				add(g)
			}
		}
	}
	x.open("securityGroupInfo")
	for _, g := range list {
		attr := func(name string) []string {
			switch name {
			case "group-id":
				return one(g.ID)
			case "group-name":
				return one(g.Name)
			case "vpc-id":
				return one(g.VpcID)
			case "owner-id":
				return one(g.Owner)
			case "description":
				return one(g.Description)
			case "ip-permission.protocol", "ip-permission.cidr", "ip-permission.ipv6-cidr",
				"ip-permission.from-port", "ip-permission.to-port", "ip-permission.group-id":
				return ruleValues(g.Ingress, strings.TrimPrefix(name, "ip-permission."))
			case "egress.ip-permission.protocol", "egress.ip-permission.cidr":
				return ruleValues(g.Egress, strings.TrimPrefix(name, "egress.ip-permission."))
			}
			return nil
		}
		if !matchRes(filters, g.Tags, attr) {
			continue
		}
		x.open("item")
		x.elem("ownerId", g.Owner)
		x.elem("groupId", g.ID)
		x.elem("groupName", g.Name)
		x.elem("groupDescription", g.Description)
		x.elem("vpcId", g.VpcID)
		x.elem("securityGroupArn", s.groupARN(g))
		writePermissions(x, "ipPermissions", g.Ingress, g.Owner)
		writePermissions(x, "ipPermissionsEgress", g.Egress, g.Owner)
		writeTagSet(x, g.Tags)
		x.close("item")
	}
	x.close("securityGroupInfo")
	return nil
}

// writePermissions renders rules as EC2 does: one IpPermission per
// protocol and port range, listing its sources.
func writePermissions(x *xmlOut, name string, rules []SecurityRule, owner string) {
	type key struct {
		proto    string
		from, to int64
	}
	var order []key
	byKey := map[key][]SecurityRule{}
	for _, r := range rules {
		k := key{r.Protocol, r.FromPort, r.ToPort}
		if _, ok := byKey[k]; !ok {
			order = append(order, k)
		}
		byKey[k] = append(byKey[k], r)
	}
	x.open(name)
	for _, k := range order {
		rs := byKey[k]
		x.open("item")
		x.elem("ipProtocol", k.proto)
		if k.proto != "-1" {
			x.elemInt("fromPort", k.from)
			x.elemInt("toPort", k.to)
		}
		x.open("groups")
		for _, r := range rs {
			if r.GroupID != "" {
				x.open("item")
				x.elem("userId", owner)
				x.elem("groupId", r.GroupID)
				x.elemOpt("description", r.Description)
				x.close("item")
			}
		}
		x.close("groups")
		writeRanges(x, "ipRanges", "cidrIp", rs, func(r SecurityRule) string { return r.CIDR })
		writeRanges(x, "ipv6Ranges", "cidrIpv6", rs, func(r SecurityRule) string { return r.CIDRv6 })
		x.open("prefixListIds")
		x.close("prefixListIds")
		x.close("item")
	}
	x.close(name)
}

// writeRanges writes the address ranges (cidr of each rule that has one)
// of an IpPermission as the list set, each range in an element elem.
func writeRanges(x *xmlOut, set, elem string, rules []SecurityRule, cidr func(SecurityRule) string) {
	x.open(set)
	for _, r := range rules {
		if c := cidr(r); c != "" {
			x.open("item")
			x.elem(elem, c)
			x.elemOpt("description", r.Description)
			x.close("item")
		}
	}
	x.close(set)
}

// protocolNames maps the protocol numbers EC2 names to their names.
var protocolNames = map[string]string{"6": "tcp", "17": "udp", "1": "icmp", "58": "icmpv6"}

// normalizeProtocol returns EC2's form of an IpProtocol value.
func normalizeProtocol(p string) (string, bool) {
	switch p = strings.ToLower(p); p {
	case "tcp", "udp", "icmp", "icmpv6", "-1":
		return p, true
	case "all":
		return "-1", true
	}
	if n, ok := protocolNames[p]; ok {
		return n, true
	}
	if n, err := strconv.Atoi(p); err == nil && n >= 0 && n <= 255 && strconv.Itoa(n) == p {
		return p, true
	}
	return "", false
}

// parsePermissions reads the rules of an Authorize call: IpPermissions.N
// (the SDK form) or the legacy top-level IpProtocol/FromPort/ToPort/CidrIp.
func (s *Server) parsePermissions(rq *request, g *SecurityGroup) ([]SecurityRule, *apiError) {
	type perm struct {
		prefix                string
		proto, fromS, toS     string
		cidrs, cidrs6, groups []string
		descs, descs6, gdescs []string
	}
	var perms []perm
	for _, n := range rq.indices("IpPermissions") {
		p := sub("IpPermissions", n)
		pm := perm{prefix: p, proto: rq.get(p + ".IpProtocol"), fromS: rq.get(p + ".FromPort"), toS: rq.get(p + ".ToPort")}
		for _, m := range rq.indices(p + ".IpRanges") {
			q := sub(p+".IpRanges", m)
			pm.cidrs = append(pm.cidrs, rq.get(q+".CidrIp"))
			pm.descs = append(pm.descs, rq.get(q+".Description"))
		}
		for _, m := range rq.indices(p + ".Ipv6Ranges") {
			q := sub(p+".Ipv6Ranges", m)
			pm.cidrs6 = append(pm.cidrs6, rq.get(q+".CidrIpv6"))
			pm.descs6 = append(pm.descs6, rq.get(q+".Description"))
		}
		for _, m := range rq.indices(p + ".Groups") {
			q := sub(p+".Groups", m)
			id := rq.get(q + ".GroupId")
			if id == "" && rq.get(q+".GroupName") != "" {
				sg, aerr := s.lookupGroupByName(rq, rq.get(q+".GroupName"))
				if aerr != nil {
					return nil, aerr
				}
				id = sg.ID
			}
			pm.groups = append(pm.groups, id)
			pm.gdescs = append(pm.gdescs, rq.get(q+".Description"))
		}
		perms = append(perms, pm)
	}
	if rq.has("IpProtocol") || rq.has("CidrIp") || rq.has("SourceSecurityGroupName") {
		pm := perm{prefix: "", proto: rq.get("IpProtocol"), fromS: rq.get("FromPort"), toS: rq.get("ToPort")}
		if c := rq.get("CidrIp"); c != "" {
			pm.cidrs, pm.descs = []string{c}, []string{""}
		}
		if n := rq.get("SourceSecurityGroupName"); n != "" {
			sg, aerr := s.lookupGroupByName(rq, n)
			if aerr != nil {
				return nil, aerr
			}
			pm.groups, pm.gdescs = []string{sg.ID}, []string{""}
		}
		if pm.proto == "" && len(pm.groups) > 0 {
			pm.proto = "-1" // a source group alone allows all traffic
		}
		perms = append(perms, pm)
	}
	if len(perms) == 0 {
		return nil, errBad("MissingParameter", "No rule was given for security group %s: give IpPermissions.N (IpProtocol, FromPort, ToPort and IpRanges/Ipv6Ranges/Groups).", g.ID)
	}
	var out []SecurityRule
	for _, pm := range perms {
		at := pm.prefix
		if at != "" {
			at += "."
		}
		if pm.proto == "" {
			return nil, errMissing(at + "IpProtocol")
		}
		proto, ok := normalizeProtocol(pm.proto)
		if !ok {
			return nil, errBad("InvalidParameterValue", "Invalid value '%s' for IP protocol. Unknown protocol.", truncateForMsg(pm.proto))
		}
		var from, to int64
		switch proto {
		case "tcp", "udp":
			if pm.fromS == "" || pm.toS == "" {
				return nil, errBad("InvalidParameterValue", "Invalid value 'Must specify both from and to ports with TCP/UDP.' for portRange")
			}
			f, err1 := strconv.ParseInt(pm.fromS, 10, 64)
			t, err2 := strconv.ParseInt(pm.toS, 10, 64)
			if err1 != nil || err2 != nil || f < 0 || t > 65535 || f > t {
				return nil, errBad("InvalidParameterValue", "Invalid TCP/UDP port range %s-%s: ports are 0-65535 and FromPort must not exceed ToPort.", truncateForMsg(pm.fromS), truncateForMsg(pm.toS))
			}
			from, to = f, t
		case "icmp", "icmpv6":
			f, err1 := strconv.ParseInt(orDefault(pm.fromS, "-1"), 10, 64)
			t, err2 := strconv.ParseInt(orDefault(pm.toS, "-1"), 10, 64)
			if err1 != nil || err2 != nil || f < -1 || f > 255 || t < -1 || t > 255 {
				return nil, errBad("InvalidParameterValue", "Invalid ICMP type/code %s/%s: each is -1 (all) or 0-255.", truncateForMsg(pm.fromS), truncateForMsg(pm.toS))
			}
			from, to = f, t
		case "-1":
			from, to = -1, -1
		default:
			from, to = -1, -1
		}
		if len(pm.cidrs)+len(pm.cidrs6)+len(pm.groups) == 0 {
			return nil, errBad("MissingParameter", "The rule %s has no source: give IpRanges (CidrIp), Ipv6Ranges (CidrIpv6) or Groups (GroupId).", strings.TrimSuffix(orDefault(at, "of the request"), "."))
		}
		for i, c := range pm.cidrs {
			p, err := netip.ParsePrefix(c)
			if err != nil || !p.Addr().Is4() || p.Masked() != p {
				return nil, errBad("InvalidParameterValue", "CIDR block %s is malformed", truncateForMsg(c))
			}
			out = append(out, SecurityRule{Protocol: proto, FromPort: from, ToPort: to, CIDR: c, Description: pm.descs[i]})
		}
		for i, c := range pm.cidrs6 {
			p, err := netip.ParsePrefix(c)
			if err != nil || !p.Addr().Is6() || p.Addr().Is4In6() || p.Masked() != p {
				return nil, errBad("InvalidParameterValue", "CIDR block %s is malformed", truncateForMsg(c))
			}
			out = append(out, SecurityRule{Protocol: proto, FromPort: from, ToPort: to, CIDRv6: c, Description: pm.descs6[i]})
		}
		for i, id := range pm.groups {
			src, aerr := s.lookupGroup(rq, id)
			if aerr != nil {
				return nil, aerr
			}
			if src.VpcID != g.VpcID {
				return nil, errBad("InvalidGroup.NotFound", "The security group '%s' does not exist in VPC '%s'", id, g.VpcID)
			}
			out = append(out, SecurityRule{Protocol: proto, FromPort: from, ToPort: to, GroupID: id, Description: pm.gdescs[i]})
		}
	}
	return out, nil
}

func sameRule(a, b SecurityRule) bool {
	return a.Protocol == b.Protocol && a.FromPort == b.FromPort && a.ToPort == b.ToPort &&
		a.CIDR == b.CIDR && a.CIDRv6 == b.CIDRv6 && a.GroupID == b.GroupID
}

func ruleText(r SecurityRule) string {
	peer := r.CIDR + r.CIDRv6 + r.GroupID
	return fmt.Sprintf("peer: %s, %s, from port: %d, to port: %d, ALLOW", peer, strings.ToUpper(r.Protocol), r.FromPort, r.ToPort)
}

func authorizeSecurityGroupIngress(s *Server, rq *request, x *xmlOut) *apiError {
	dry, aerr := rq.boolParam("DryRun")
	if aerr != nil {
		return aerr
	}
	var g *SecurityGroup
	switch {
	case rq.get("GroupId") != "":
		g, aerr = s.lookupGroup(rq, rq.get("GroupId"))
	case rq.get("GroupName") != "":
		g, aerr = s.lookupGroupByName(rq, rq.get("GroupName"))
	default:
		aerr = errMissing("GroupId")
	}
	if aerr != nil {
		return aerr
	}
	rules, aerr := s.parsePermissions(rq, g)
	if aerr != nil {
		return aerr
	}
	for i, r := range rules {
		for _, have := range g.Ingress {
			if sameRule(r, have) {
				return errBad("InvalidPermission.Duplicate", "the specified rule \"%s\" already exists", ruleText(r))
			}
		}
		for _, prev := range rules[:i] {
			if sameRule(r, prev) {
				return errBad("InvalidPermission.Duplicate", "the specified rule \"%s\" is given twice in the request", ruleText(r))
			}
		}
	}
	if dry {
		return errDryRun()
	}
	x.elemBool("return", true)
	x.open("securityGroupRuleSet")
	for _, r := range rules {
		r.ID = s.newRuleID()
		g.Ingress = append(g.Ingress, r)
		x.open("item")
		x.elem("securityGroupRuleId", r.ID)
		x.elem("groupId", g.ID)
		x.elem("groupOwnerId", g.Owner)
		x.elemBool("isEgress", false)
		x.elem("ipProtocol", r.Protocol)
		x.elemInt("fromPort", r.FromPort)
		x.elemInt("toPort", r.ToPort)
		x.elemOpt("cidrIpv4", r.CIDR)
		x.elemOpt("cidrIpv6", r.CIDRv6)
		if r.GroupID != "" {
			x.open("referencedGroupInfo")
			x.elem("groupId", r.GroupID)
			x.elem("userId", g.Owner)
			x.close("referencedGroupInfo")
		}
		x.elemOpt("description", r.Description)
		x.close("item")
	}
	x.close("securityGroupRuleSet")
	return nil
}

func deleteSecurityGroup(s *Server, rq *request, x *xmlOut) *apiError {
	dry, aerr := rq.boolParam("DryRun")
	if aerr != nil {
		return aerr
	}
	var g *SecurityGroup
	switch {
	case rq.get("GroupId") != "":
		g, aerr = s.lookupGroup(rq, rq.get("GroupId"))
	case rq.get("GroupName") != "":
		g, aerr = s.lookupGroupByName(rq, rq.get("GroupName"))
	default:
		aerr = errMissing("GroupId")
	}
	if aerr != nil {
		return aerr
	}
	if g.Name == defaultGroupName {
		return errBad("CannotDelete", "the specified group: \"%s\" name: \"default\" cannot be deleted by a user", g.ID)
	}
	// A group used by an instance that is not terminated, or referenced by
	// another group's rule, cannot be deleted.
	for _, id := range sortedKeys(s.st.Instances) {
		inst := s.st.Instances[id]
		s.settleInstance(inst, rq.now)
		if inst.State == "terminated" {
			continue
		}
		for _, gid := range inst.SecurityGroupIDs {
			if gid == g.ID {
				return errBad("DependencyViolation", "resource %s has a dependent object (instance %s is %s); terminate the instance first", g.ID, inst.ID, inst.State)
			}
		}
	}
	for _, other := range s.st.SecurityGroups {
		if other.ID == g.ID {
			continue
		}
		for _, r := range append(append([]SecurityRule(nil), other.Ingress...), other.Egress...) {
			if r.GroupID == g.ID {
				return errBad("DependencyViolation", "resource %s has a dependent object (a rule of security group %s refers to it)", g.ID, other.ID)
			}
		}
	}
	if dry {
		return errDryRun()
	}
	delete(s.st.SecurityGroups, g.ID)
	x.elemBool("return", true)
	x.elem("groupId", g.ID)
	return nil
}
