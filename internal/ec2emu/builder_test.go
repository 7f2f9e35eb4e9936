package ec2emu

import (
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// Tests of the resources the amazon-ebs builder uses (builder_*.go), with
// the real SDK client against the emulator. The e2e suite runs Packer's
// own builder (aws-sdk-go v1) through the same calls.

func filter(name string, values ...string) types.Filter {
	return types.Filter{Name: aws.String(name), Values: values}
}

// ebsBase seeds an available image with a root snapshot mapping and a
// watermark, and returns it.
func ebsBase(s *Server, account, region string) *Image {
	img := mkImage(account, region, "golden-base", apiBase.Add(-48*time.Hour),
		wm(account, "golden", "", region, apiBase.Add(-48*time.Hour), apiBase.Add(-47*time.Hour)))
	img.RootDeviceName = "/dev/xvda"
	img.BlockDevices = []BlockDevice{{DeviceName: "/dev/xvda", SnapshotID: "snap-0aaaaaaaaaaaaaaa1", VolumeSize: 10, VolumeType: "gp3", DeleteOnTermination: true}}
	putImages(s, img)
	img.Watermarks[0].SourceImageID = img.ID
	return img
}

func TestDefaultVpcSubnetsAndGroup(t *testing.T) {
	_, ts := newAPIServer(t, Options{})
	c := client(t, ts.URL, "us-east-1", acctA)
	vpcs := must(c.DescribeVpcs(ctx, &ec2.DescribeVpcsInput{})).ok(t)
	if len(vpcs.Vpcs) != 1 || !aws.ToBool(vpcs.Vpcs[0].IsDefault) || aws.ToString(vpcs.Vpcs[0].CidrBlock) != "172.31.0.0/16" ||
		aws.ToString(vpcs.Vpcs[0].OwnerId) != acctA || vpcs.Vpcs[0].State != types.VpcStateAvailable {
		t.Fatalf("vpcs %+v", vpcs.Vpcs)
	}
	vpcID := aws.ToString(vpcs.Vpcs[0].VpcId)
	// Stable: a second call returns the same VPC.
	again := must(c.DescribeVpcs(ctx, &ec2.DescribeVpcsInput{Filters: []types.Filter{filter("is-default", "true")}})).ok(t)
	if len(again.Vpcs) != 1 || aws.ToString(again.Vpcs[0].VpcId) != vpcID {
		t.Fatalf("second describe %+v", again.Vpcs)
	}
	subnets := must(c.DescribeSubnets(ctx, &ec2.DescribeSubnetsInput{Filters: []types.Filter{filter("vpc-id", vpcID)}})).ok(t)
	if len(subnets.Subnets) != 3 {
		t.Fatalf("%d subnets", len(subnets.Subnets))
	}
	for i, sn := range subnets.Subnets {
		az := "us-east-1" + string(rune('a'+i))
		if aws.ToString(sn.AvailabilityZone) != az || !aws.ToBool(sn.DefaultForAz) || !aws.ToBool(sn.MapPublicIpOnLaunch) ||
			aws.ToInt32(sn.AvailableIpAddressCount) != 4091 || aws.ToString(sn.VpcId) != vpcID {
			t.Fatalf("subnet %d: %+v", i, sn)
		}
	}
	// The builder's subnet filter form (availabilityZone, state).
	one := must(c.DescribeSubnets(ctx, &ec2.DescribeSubnetsInput{Filters: []types.Filter{
		filter("availabilityZone", "us-east-1b"), filter("state", "available")}})).ok(t)
	if len(one.Subnets) != 1 || aws.ToString(one.Subnets[0].CidrBlock) != "172.31.16.0/20" {
		t.Fatalf("us-east-1b: %+v", one.Subnets)
	}
	groups := must(c.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{GroupNames: []string{"default"}})).ok(t)
	if len(groups.SecurityGroups) != 1 || aws.ToString(groups.SecurityGroups[0].VpcId) != vpcID {
		t.Fatalf("default group %+v", groups.SecurityGroups)
	}
	// Every account has its own; another region has another.
	other := must(client(t, ts.URL, "us-east-1", acctB).DescribeVpcs(ctx, &ec2.DescribeVpcsInput{})).ok(t)
	eu := must(client(t, ts.URL, "eu-west-1", acctA).DescribeVpcs(ctx, &ec2.DescribeVpcsInput{})).ok(t)
	if len(other.Vpcs) != 1 || aws.ToString(other.Vpcs[0].VpcId) == vpcID || len(eu.Vpcs) != 1 || aws.ToString(eu.Vpcs[0].VpcId) == vpcID {
		t.Fatalf("isolation: B %+v, eu %+v", other.Vpcs, eu.Vpcs)
	}
	_, err := client(t, ts.URL, "us-east-1", acctB).DescribeVpcs(ctx, &ec2.DescribeVpcsInput{VpcIds: []string{vpcID}})
	apiErr(t, err, "InvalidVpcID.NotFound", "The vpc ID '"+vpcID+"' does not exist")
	_, err = c.DescribeVpcs(ctx, &ec2.DescribeVpcsInput{VpcIds: []string{"vpc-xyz"}})
	apiErr(t, err, "InvalidVpcID.Malformed", "")
	_, err = c.DescribeSubnets(ctx, &ec2.DescribeSubnetsInput{SubnetIds: []string{"subnet-0123456789abcdef0"}})
	apiErr(t, err, "InvalidSubnetID.NotFound", "")
	_, err = c.DescribeSubnets(ctx, &ec2.DescribeSubnetsInput{Filters: []types.Filter{filter("no-such-filter", "x")}})
	apiErr(t, err, "InvalidParameterValue", "The filter 'no-such-filter' is invalid")
}

func TestSecurityGroupLifecycle(t *testing.T) {
	s, ts := newAPIServer(t, Options{})
	c := client(t, ts.URL, "us-east-1", acctA)
	img := ebsBase(s, acctA, "us-east-1")
	// VpcId "" (what the builder sends without vpc_id) means the default VPC.
	out := must(c.CreateSecurityGroup(ctx, &ec2.CreateSecurityGroupInput{GroupName: aws.String("packer_1"),
		Description: aws.String("Temporary group for Packer"), VpcId: aws.String(""),
		TagSpecifications: []types.TagSpecification{{ResourceType: types.ResourceTypeSecurityGroup,
			Tags: []types.Tag{{Key: aws.String("Purpose"), Value: aws.String("packer")}}}}})).ok(t)
	gid := aws.ToString(out.GroupId)
	if !isResourceID(gid, "sg-") || len(out.Tags) != 1 {
		t.Fatalf("create %+v", out)
	}
	_, err := c.CreateSecurityGroup(ctx, &ec2.CreateSecurityGroupInput{GroupName: aws.String("packer_1"), Description: aws.String("x")})
	apiErr(t, err, "InvalidGroup.Duplicate", "")
	_, err = c.CreateSecurityGroup(ctx, &ec2.CreateSecurityGroupInput{GroupName: aws.String("default"), Description: aws.String("x")})
	apiErr(t, err, "InvalidGroup.Reserved", "")
	_, err = c.CreateSecurityGroup(ctx, &ec2.CreateSecurityGroupInput{GroupName: aws.String("sg-mine"), Description: aws.String("x")})
	apiErr(t, err, "InvalidParameterValue", "")
	_, err = c.CreateSecurityGroup(ctx, &ec2.CreateSecurityGroupInput{GroupName: aws.String("x"), Description: aws.String("x"), VpcId: aws.String("vpc-0123456789abcdef0")})
	apiErr(t, err, "InvalidVpcID.NotFound", "")

	// The builder's rule: tcp port 0 from 0.0.0.0/0 (communicator none).
	perm := types.IpPermission{IpProtocol: aws.String("tcp"), FromPort: aws.Int32(22), ToPort: aws.Int32(22),
		IpRanges: []types.IpRange{{CidrIp: aws.String("0.0.0.0/0")}}}
	auth := must(c.AuthorizeSecurityGroupIngress(ctx, &ec2.AuthorizeSecurityGroupIngressInput{GroupId: aws.String(gid),
		IpPermissions: []types.IpPermission{perm}})).ok(t)
	if !aws.ToBool(auth.Return) || len(auth.SecurityGroupRules) != 1 || aws.ToString(auth.SecurityGroupRules[0].CidrIpv4) != "0.0.0.0/0" {
		t.Fatalf("authorize %+v", auth)
	}
	_, err = c.AuthorizeSecurityGroupIngress(ctx, &ec2.AuthorizeSecurityGroupIngressInput{GroupId: aws.String(gid), IpPermissions: []types.IpPermission{perm}})
	apiErr(t, err, "InvalidPermission.Duplicate", "")
	for _, bad := range []types.IpPermission{
		{IpProtocol: aws.String("tcp"), FromPort: aws.Int32(80), ToPort: aws.Int32(70), IpRanges: perm.IpRanges},
		{IpProtocol: aws.String("tcp"), FromPort: aws.Int32(1), ToPort: aws.Int32(2), IpRanges: []types.IpRange{{CidrIp: aws.String("10.0.0.1/8")}}},
		{IpProtocol: aws.String("gre-ish"), IpRanges: perm.IpRanges},
		{IpProtocol: aws.String("tcp"), FromPort: aws.Int32(1), ToPort: aws.Int32(2)},
	} {
		_, err = c.AuthorizeSecurityGroupIngress(ctx, &ec2.AuthorizeSecurityGroupIngressInput{GroupId: aws.String(gid), IpPermissions: []types.IpPermission{bad}})
		if err == nil {
			t.Fatalf("rule %+v accepted", bad)
		}
	}
	// A group source and an IPv6 range, in one call.
	def := must(c.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{GroupNames: []string{"default"}})).ok(t).SecurityGroups[0]
	must(c.AuthorizeSecurityGroupIngress(ctx, &ec2.AuthorizeSecurityGroupIngressInput{GroupId: aws.String(gid), IpPermissions: []types.IpPermission{
		{IpProtocol: aws.String("-1"), UserIdGroupPairs: []types.UserIdGroupPair{{GroupId: def.GroupId}}},
		{IpProtocol: aws.String("6"), FromPort: aws.Int32(22), ToPort: aws.Int32(22), Ipv6Ranges: []types.Ipv6Range{{CidrIpv6: aws.String("::/0")}}},
	}})).ok(t)

	desc := must(c.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{Filters: []types.Filter{filter("group-name", "packer_*")}})).ok(t)
	if len(desc.SecurityGroups) != 1 {
		t.Fatalf("packer_* groups: %+v", desc.SecurityGroups)
	}
	g := desc.SecurityGroups[0]
	if aws.ToString(g.GroupId) != gid || aws.ToString(g.Description) != "Temporary group for Packer" || len(g.IpPermissionsEgress) != 1 {
		t.Fatalf("group %+v", g)
	}
	var tcp22 *types.IpPermission
	for i := range g.IpPermissions {
		if aws.ToString(g.IpPermissions[i].IpProtocol) == "tcp" {
			tcp22 = &g.IpPermissions[i]
		}
	}
	if len(g.IpPermissions) != 2 || tcp22 == nil || aws.ToInt32(tcp22.FromPort) != 22 || len(tcp22.IpRanges) != 1 || len(tcp22.Ipv6Ranges) != 1 {
		t.Fatalf("permissions %+v", g.IpPermissions)
	}
	if n := len(must(c.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{Filters: []types.Filter{
		filter("ip-permission.cidr", "0.0.0.0/0"), filter("tag:Purpose", "packer")}})).ok(t).SecurityGroups); n != 1 {
		t.Fatalf("ip-permission.cidr + tag filter: %d groups", n)
	}

	// In use by a running instance: DependencyViolation until terminated.
	run := must(c.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: aws.String(img.ID), MinCount: aws.Int32(1), MaxCount: aws.Int32(1),
		SecurityGroupIds: []string{gid}})).ok(t)
	_, err = c.DeleteSecurityGroup(ctx, &ec2.DeleteSecurityGroupInput{GroupId: aws.String(gid)})
	apiErr(t, err, "DependencyViolation", "")
	// The default group is referenced by our rule: also a dependency.
	_, err = c.DeleteSecurityGroup(ctx, &ec2.DeleteSecurityGroupInput{GroupId: def.GroupId})
	apiErr(t, err, "CannotDelete", "")
	must(c.TerminateInstances(ctx, &ec2.TerminateInstancesInput{InstanceIds: []string{aws.ToString(run.Instances[0].InstanceId)}})).ok(t)
	del := must(c.DeleteSecurityGroup(ctx, &ec2.DeleteSecurityGroupInput{GroupId: aws.String(gid)})).ok(t)
	if aws.ToString(del.GroupId) != gid {
		t.Fatalf("delete %+v", del)
	}
	_, err = c.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{GroupIds: []string{gid}})
	apiErr(t, err, "InvalidGroup.NotFound", "The security group '"+gid+"' does not exist")
	_, err = c.DeleteSecurityGroup(ctx, &ec2.DeleteSecurityGroupInput{GroupName: aws.String("nope")})
	apiErr(t, err, "InvalidGroup.NotFound", "")
}

func TestKeyPairs(t *testing.T) {
	s, ts := newAPIServer(t, Options{})
	c := client(t, ts.URL, "us-east-1", acctA)
	img := ebsBase(s, acctA, "us-east-1")
	rsaOut := must(c.CreateKeyPair(ctx, &ec2.CreateKeyPairInput{KeyName: aws.String("packer_rsa"), KeyType: types.KeyTypeRsa,
		TagSpecifications: []types.TagSpecification{{ResourceType: types.ResourceTypeKeyPair, Tags: []types.Tag{{Key: aws.String("a"), Value: aws.String("1")}}}}})).ok(t)
	block, _ := pem.Decode([]byte(aws.ToString(rsaOut.KeyMaterial)))
	if block == nil || block.Type != "RSA PRIVATE KEY" {
		t.Fatalf("key material %q", aws.ToString(rsaOut.KeyMaterial))
	}
	key, err := x509.ParsePKCS1PrivateKey(block.Bytes)
	if err != nil || key.N.BitLen() != 2048 {
		t.Fatalf("RSA key: %v", err)
	}
	// EC2's fingerprint of a key it created: SHA-1 of the PKCS#8 DER.
	der, _ := x509.MarshalPKCS8PrivateKey(key)
	sum := sha1.Sum(der)
	if want := hex.EncodeToString(sum[:]); strings.ReplaceAll(aws.ToString(rsaOut.KeyFingerprint), ":", "") != want ||
		len(aws.ToString(rsaOut.KeyFingerprint)) != 59 {
		t.Fatalf("fingerprint %s, want %s in colon form", aws.ToString(rsaOut.KeyFingerprint), want)
	}
	edOut := must(c.CreateKeyPair(ctx, &ec2.CreateKeyPairInput{KeyName: aws.String("packer_ed"), KeyType: types.KeyTypeEd25519})).ok(t)
	block, _ = pem.Decode([]byte(aws.ToString(edOut.KeyMaterial)))
	if block == nil {
		t.Fatal("no PEM for ed25519")
	}
	if k, err := x509.ParsePKCS8PrivateKey(block.Bytes); err != nil {
		t.Fatal(err)
	} else if _, ok := k.(ed25519.PrivateKey); !ok {
		t.Fatalf("ed25519 material is a %T", k)
	}
	_, err = c.CreateKeyPair(ctx, &ec2.CreateKeyPairInput{KeyName: aws.String("packer_rsa")})
	apiErr(t, err, "InvalidKeyPair.Duplicate", "The keypair 'packer_rsa' already exists.")
	_, err = c.CreateKeyPair(ctx, &ec2.CreateKeyPairInput{KeyName: aws.String("x"), KeyType: "dsa"})
	apiErr(t, err, "InvalidParameterValue", "")

	all := must(c.DescribeKeyPairs(ctx, &ec2.DescribeKeyPairsInput{IncludePublicKey: aws.Bool(true)})).ok(t)
	if len(all.KeyPairs) != 2 {
		t.Fatalf("%d key pairs", len(all.KeyPairs))
	}
	for _, k := range all.KeyPairs {
		want := "ssh-rsa "
		if k.KeyType == types.KeyTypeEd25519 {
			want = "ssh-ed25519 "
		}
		if !strings.HasPrefix(aws.ToString(k.PublicKey), want) || k.CreateTime == nil || aws.ToString(k.KeyPairId) == "" {
			t.Fatalf("key %+v", k)
		}
	}
	if kp := must(c.DescribeKeyPairs(ctx, &ec2.DescribeKeyPairsInput{Filters: []types.Filter{filter("tag:a", "1")}})).ok(t).KeyPairs; len(kp) != 1 ||
		aws.ToString(kp[0].KeyName) != "packer_rsa" || kp[0].PublicKey != nil {
		t.Fatalf("tag filter %+v", kp)
	}
	_, err = c.DescribeKeyPairs(ctx, &ec2.DescribeKeyPairsInput{KeyNames: []string{"nope"}})
	apiErr(t, err, "InvalidKeyPair.NotFound", "The key pair 'nope' does not exist")
	// Another account does not see them.
	if n := len(must(client(t, ts.URL, "us-east-1", acctB).DescribeKeyPairs(ctx, &ec2.DescribeKeyPairsInput{})).ok(t).KeyPairs); n != 0 {
		t.Fatalf("account B sees %d key pairs", n)
	}

	// Launching with an unknown key fails; with a known one the instance
	// records it.
	_, err = c.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: aws.String(img.ID), MinCount: aws.Int32(1), MaxCount: aws.Int32(1), KeyName: aws.String("nope")})
	apiErr(t, err, "InvalidKeyPair.NotFound", "")
	run := must(c.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: aws.String(img.ID), MinCount: aws.Int32(1), MaxCount: aws.Int32(1), KeyName: aws.String("packer_rsa")})).ok(t)
	if aws.ToString(run.Instances[0].KeyName) != "packer_rsa" {
		t.Fatalf("instance key %q", aws.ToString(run.Instances[0].KeyName))
	}

	// Delete by name (twice: the second is still success, as on EC2) and by id.
	d := must(c.DeleteKeyPair(ctx, &ec2.DeleteKeyPairInput{KeyName: aws.String("packer_rsa")})).ok(t)
	if !aws.ToBool(d.Return) || aws.ToString(d.KeyPairId) != aws.ToString(rsaOut.KeyPairId) {
		t.Fatalf("delete %+v", d)
	}
	must(c.DeleteKeyPair(ctx, &ec2.DeleteKeyPairInput{KeyName: aws.String("packer_rsa")})).ok(t)
	must(c.DeleteKeyPair(ctx, &ec2.DeleteKeyPairInput{KeyPairId: edOut.KeyPairId})).ok(t)
	_, err = c.DeleteKeyPair(ctx, &ec2.DeleteKeyPairInput{KeyPairId: edOut.KeyPairId})
	apiErr(t, err, "InvalidKeyPair.NotFound", "")
	if n := len(must(c.DescribeKeyPairs(ctx, &ec2.DescribeKeyPairsInput{})).ok(t).KeyPairs); n != 0 {
		t.Fatalf("%d key pairs left", n)
	}
}

// TestBuilderInstanceFlow follows the amazon-ebs builder: launch with a key
// pair, a security group and tags; wait until running; stop (stopping is
// seen once); enable ENA; CreateImage (the image inherits the launch
// watermarks and gets one snapshot per volume); terminate (volumes go).
func TestBuilderInstanceFlow(t *testing.T) {
	s, ts := newAPIServer(t, Options{})
	c := client(t, ts.URL, "us-east-1", acctA)
	img := ebsBase(s, acctA, "us-east-1")
	must(c.CreateKeyPair(ctx, &ec2.CreateKeyPairInput{KeyName: aws.String("k")})).ok(t)
	sg := must(c.CreateSecurityGroup(ctx, &ec2.CreateSecurityGroupInput{GroupName: aws.String("g"), Description: aws.String("g")})).ok(t)
	tagSpec := func(rt types.ResourceType, k, v string) types.TagSpecification {
		return types.TagSpecification{ResourceType: rt, Tags: []types.Tag{{Key: aws.String(k), Value: aws.String(v)}}}
	}
	run := must(c.RunInstances(ctx, &ec2.RunInstancesInput{
		ImageId: aws.String(img.ID), InstanceType: types.InstanceTypeT3Micro, MinCount: aws.Int32(1), MaxCount: aws.Int32(1),
		KeyName: aws.String("k"), SecurityGroupIds: []string{aws.ToString(sg.GroupId)}, SubnetId: aws.String(""),
		Placement:                         &types.Placement{AvailabilityZone: aws.String("")},
		InstanceInitiatedShutdownBehavior: types.ShutdownBehaviorStop,
		BlockDeviceMappings: []types.BlockDeviceMapping{
			{DeviceName: aws.String("/dev/xvda"), Ebs: &types.EbsBlockDevice{VolumeSize: aws.Int32(20), VolumeType: types.VolumeTypeGp3}},
			{DeviceName: aws.String("/dev/sdf"), Ebs: &types.EbsBlockDevice{VolumeSize: aws.Int32(5), DeleteOnTermination: aws.Bool(false)}},
		},
		TagSpecifications: []types.TagSpecification{tagSpec(types.ResourceTypeInstance, "Purpose", "packer"), tagSpec(types.ResourceTypeVolume, "Purpose", "vol")},
	})).ok(t)
	inst := run.Instances[0]
	id := aws.ToString(inst.InstanceId)
	ip, err := netip.ParseAddr(aws.ToString(inst.PrivateIpAddress))
	if err != nil || !netip.MustParsePrefix("172.31.0.0/20").Contains(ip) {
		t.Fatalf("private ip %q (%v)", aws.ToString(inst.PrivateIpAddress), err)
	}
	if inst.State.Name != types.InstanceStateNameRunning || aws.ToString(inst.PublicIpAddress) == "" ||
		aws.ToString(inst.Placement.AvailabilityZone) != "us-east-1a" || len(inst.SecurityGroups) != 1 ||
		aws.ToString(inst.SecurityGroups[0].GroupName) != "g" || len(inst.NetworkInterfaces) != 1 ||
		aws.ToString(inst.NetworkInterfaces[0].PrivateIpAddress) != ip.String() || aws.ToString(inst.VpcId) == "" ||
		aws.ToString(inst.PrivateDnsName) != "ip-"+strings.ReplaceAll(ip.String(), ".", "-")+".ec2.internal" {
		t.Fatalf("instance %+v", inst)
	}
	if len(inst.BlockDeviceMappings) != 2 || aws.ToString(inst.BlockDeviceMappings[0].DeviceName) != "/dev/xvda" {
		t.Fatalf("block devices %+v", inst.BlockDeviceMappings)
	}
	vols := must(c.DescribeVolumes(ctx, &ec2.DescribeVolumesInput{Filters: []types.Filter{filter("attachment.instance-id", id)}})).ok(t).Volumes
	if len(vols) != 2 {
		t.Fatalf("%d volumes", len(vols))
	}
	for _, v := range vols {
		if v.State != types.VolumeStateInUse || len(v.Attachments) != 1 || len(v.Tags) != 1 {
			t.Fatalf("volume %+v", v)
		}
		if aws.ToString(v.Attachments[0].Device) == "/dev/xvda" && (aws.ToInt32(v.Size) != 20 || v.VolumeType != types.VolumeTypeGp3 ||
			aws.ToString(v.SnapshotId) != "snap-0aaaaaaaaaaaaaaa1") {
			t.Fatalf("root volume %+v", v)
		}
	}
	// A root volume smaller than its snapshot is refused.
	_, err = c.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: aws.String(img.ID), MinCount: aws.Int32(1), MaxCount: aws.Int32(1),
		BlockDeviceMappings: []types.BlockDeviceMapping{{DeviceName: aws.String("/dev/xvda"), Ebs: &types.EbsBlockDevice{VolumeSize: aws.Int32(5)}}}})
	apiErr(t, err, "InvalidBlockDeviceMapping", "Volume of size 5GB is smaller than snapshot 'snap-0aaaaaaaaaaaaaaa1', expect size >= 10GB")

	running := ec2.NewInstanceRunningWaiter(c, func(o *ec2.InstanceRunningWaiterOptions) {
		o.MinDelay = time.Millisecond
		o.MaxDelay = time.Millisecond
	})
	must(0, running.Wait(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{id}}, 5*time.Second)).ok(t)

	// ENA can only be changed on a stopped instance.
	_, err = c.ModifyInstanceAttribute(ctx, &ec2.ModifyInstanceAttributeInput{InstanceId: aws.String(id), EnaSupport: &types.AttributeBooleanValue{Value: aws.Bool(true)}})
	apiErr(t, err, "IncorrectInstanceState", "")

	stop := must(c.StopInstances(ctx, &ec2.StopInstancesInput{InstanceIds: []string{id}})).ok(t)
	if stop.StoppingInstances[0].CurrentState.Name != types.InstanceStateNameStopping || stop.StoppingInstances[0].PreviousState.Name != types.InstanceStateNameRunning {
		t.Fatalf("stop %+v", stop.StoppingInstances[0])
	}
	state := func() types.Instance {
		t.Helper()
		out := must(c.DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{id}})).ok(t)
		return out.Reservations[0].Instances[0]
	}
	if got := state(); got.State.Name != types.InstanceStateNameStopping {
		t.Fatalf("after stop: %s", got.State.Name)
	}
	got := state()
	if got.State.Name != types.InstanceStateNameStopped || got.PublicIpAddress != nil || got.StateReason == nil ||
		aws.ToString(got.StateReason.Code) != "Client.UserInitiatedShutdown" || !strings.HasPrefix(aws.ToString(got.StateTransitionReason), "User initiated (") {
		t.Fatalf("second describe: %+v", got)
	}
	stopped := ec2.NewInstanceStoppedWaiter(c, func(o *ec2.InstanceStoppedWaiterOptions) {
		o.MinDelay = time.Millisecond
		o.MaxDelay = time.Millisecond
	})
	must(0, stopped.Wait(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{id}}, 5*time.Second)).ok(t)
	must(c.ModifyInstanceAttribute(ctx, &ec2.ModifyInstanceAttributeInput{InstanceId: aws.String(id), EnaSupport: &types.AttributeBooleanValue{Value: aws.Bool(true)}})).ok(t)
	_, err = c.ModifyInstanceAttribute(ctx, &ec2.ModifyInstanceAttributeInput{InstanceId: aws.String(id),
		EnaSupport: &types.AttributeBooleanValue{Value: aws.Bool(true)}, EbsOptimized: &types.AttributeBooleanValue{Value: aws.Bool(true)}})
	apiErr(t, err, "InvalidParameterCombination", "")

	// Attach after launch: the new image still carries the launch watermarks.
	advance(s, time.Hour)
	attach(t, c, img.ID, "late")
	ci := must(c.CreateImage(ctx, &ec2.CreateImageInput{InstanceId: aws.String(id), Name: aws.String("app-1"),
		BlockDeviceMappings: []types.BlockDeviceMapping{{DeviceName: aws.String("/dev/sdf"), NoDevice: aws.String("")}},
		TagSpecifications:   []types.TagSpecification{tagSpec(types.ResourceTypeImage, "Name", "app"), tagSpec(types.ResourceTypeSnapshot, "Name", "app-snap")}})).ok(t)
	newImg := describeOne(t, c, aws.ToString(ci.ImageId))
	if len(newImg.ImageWatermarks) != 1 || aws.ToString(newImg.ImageWatermarks[0].WatermarkKey) != acctA+":golden" ||
		aws.ToString(newImg.ImageWatermarks[0].SourceImageId) != img.ID || !aws.ToBool(newImg.EnaSupport) ||
		aws.ToString(newImg.SourceInstanceId) != id || aws.ToString(newImg.RootDeviceName) != "/dev/xvda" {
		t.Fatalf("new image %+v", newImg)
	}
	if len(newImg.BlockDeviceMappings) != 1 || aws.ToInt32(newImg.BlockDeviceMappings[0].Ebs.VolumeSize) != 20 {
		t.Fatalf("image block devices %+v", newImg.BlockDeviceMappings)
	}
	snapID := aws.ToString(newImg.BlockDeviceMappings[0].Ebs.SnapshotId)
	snaps := must(c.DescribeSnapshots(ctx, &ec2.DescribeSnapshotsInput{SnapshotIds: []string{snapID}})).ok(t).Snapshots
	if len(snaps) != 1 || aws.ToInt32(snaps[0].VolumeSize) != 20 || snaps[0].State != types.SnapshotStateCompleted ||
		!strings.Contains(aws.ToString(snaps[0].Description), "CreateImage("+id+")") || len(snaps[0].Tags) != 1 ||
		aws.ToString(snaps[0].VolumeId) == "" {
		t.Fatalf("snapshot %+v", snaps)
	}

	// Start goes through pending once; a pending instance cannot be stopped
	// and cannot be imaged yet.
	start := must(c.StartInstances(ctx, &ec2.StartInstancesInput{InstanceIds: []string{id}})).ok(t)
	if start.StartingInstances[0].CurrentState.Name != types.InstanceStateNamePending {
		t.Fatalf("start %+v", start.StartingInstances[0])
	}
	_, err = c.StopInstances(ctx, &ec2.StopInstancesInput{InstanceIds: []string{id}})
	apiErr(t, err, "IncorrectInstanceState", "Instance '"+id+"' cannot be stopped as it has never reached the 'running' state.")
	_, err = c.CreateImage(ctx, &ec2.CreateImageInput{InstanceId: aws.String(id), Name: aws.String("too-early")})
	apiErr(t, err, "InvalidParameterValue", "Invalid value '"+id+"' for instanceId. Instance is not in state 'running' or 'stopping' or 'stopped'")
	if got := state(); got.State.Name != types.InstanceStateNamePending {
		t.Fatalf("after start: %s", got.State.Name)
	}
	if got := state(); got.State.Name != types.InstanceStateNameRunning || aws.ToString(got.PublicIpAddress) == "" {
		t.Fatalf("second describe after start: %+v", got)
	}

	// Terminate: the delete-on-termination volume goes, the other stays
	// (available) and can then be deleted.
	term := must(c.TerminateInstances(ctx, &ec2.TerminateInstancesInput{InstanceIds: []string{id}})).ok(t)
	if term.TerminatingInstances[0].CurrentState.Name != types.InstanceStateNameTerminated {
		t.Fatalf("terminate %+v", term.TerminatingInstances[0])
	}
	terminated := ec2.NewInstanceTerminatedWaiter(c, func(o *ec2.InstanceTerminatedWaiterOptions) {
		o.MinDelay = time.Millisecond
		o.MaxDelay = time.Millisecond
	})
	must(0, terminated.Wait(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{id}}, 5*time.Second)).ok(t)
	left := must(c.DescribeVolumes(ctx, &ec2.DescribeVolumesInput{Filters: []types.Filter{filter("status", "available")}})).ok(t).Volumes
	if len(left) != 1 || len(left[0].Attachments) != 0 || aws.ToInt32(left[0].Size) != 5 {
		t.Fatalf("available volumes after terminate %+v", left)
	}
	// The builder's cleanup query: the root volume is listed as deleted
	// for a while (so the builder leaves it alone), the other available.
	both := must(c.DescribeVolumes(ctx, &ec2.DescribeVolumesInput{Filters: []types.Filter{
		filter("volume-id", aws.ToString(vols[0].VolumeId), aws.ToString(vols[1].VolumeId))}})).ok(t).Volumes
	states := map[types.VolumeState]int{}
	for _, v := range both {
		states[v.State]++
	}
	if len(both) != 2 || states[types.VolumeStateDeleted] != 1 || states[types.VolumeStateAvailable] != 1 {
		t.Fatalf("volume-id filter after terminate: %+v", both)
	}
	must(c.DeleteVolume(ctx, &ec2.DeleteVolumeInput{VolumeId: left[0].VolumeId})).ok(t)
	_, err = c.DeleteVolume(ctx, &ec2.DeleteVolumeInput{VolumeId: left[0].VolumeId})
	apiErr(t, err, "InvalidVolume.NotFound", "")
	advance(s, deletedVolumeVisible)
	if got := must(c.DescribeVolumes(ctx, &ec2.DescribeVolumesInput{})).ok(t).Volumes; len(got) != 0 {
		t.Fatalf("deleted volumes still listed after an hour: %+v", got)
	}
	_, err = c.DescribeVolumes(ctx, &ec2.DescribeVolumesInput{VolumeIds: []string{aws.ToString(left[0].VolumeId)}})
	apiErr(t, err, "InvalidVolume.NotFound", "")
	_, err = c.StopInstances(ctx, &ec2.StopInstancesInput{InstanceIds: []string{id}})
	apiErr(t, err, "IncorrectInstanceState", "")
	if got := state(); got.PrivateIpAddress != nil || len(got.NetworkInterfaces) != 0 {
		t.Fatalf("terminated instance still shows network details: %+v", got)
	}
}

func TestInstanceTransitionsEndWithTime(t *testing.T) {
	s, ts := newAPIServer(t, Options{})
	c := client(t, ts.URL, "us-east-1", acctA)
	img := ebsBase(s, acctA, "us-east-1")
	run := must(c.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: aws.String(img.ID), MinCount: aws.Int32(1), MaxCount: aws.Int32(1)})).ok(t)
	id := aws.ToString(run.Instances[0].InstanceId)
	must(c.StopInstances(ctx, &ec2.StopInstancesInput{InstanceIds: []string{id}})).ok(t)
	advance(s, instanceTransition)
	// Nobody described it while stopping: the time is up, it is stopped,
	// and a state filter sees the final state.
	out := must(c.DescribeInstances(ctx, &ec2.DescribeInstancesInput{Filters: []types.Filter{filter("instance-state-name", "stopped")}})).ok(t)
	if len(out.Reservations) != 1 || out.Reservations[0].Instances[0].State.Name != types.InstanceStateNameStopped {
		t.Fatalf("%+v", out.Reservations)
	}
	// Stopping a stopped instance changes nothing.
	again := must(c.StopInstances(ctx, &ec2.StopInstancesInput{InstanceIds: []string{id}})).ok(t)
	if again.StoppingInstances[0].CurrentState.Name != types.InstanceStateNameStopped || again.StoppingInstances[0].PreviousState.Name != types.InstanceStateNameStopped {
		t.Fatalf("%+v", again.StoppingInstances[0])
	}
}

func TestRunInstancesNetworkChoices(t *testing.T) {
	s, ts := newAPIServer(t, Options{})
	c := client(t, ts.URL, "us-east-1", acctA)
	img := ebsBase(s, acctA, "us-east-1")
	subnets := must(c.DescribeSubnets(ctx, &ec2.DescribeSubnetsInput{Filters: []types.Filter{filter("availability-zone", "us-east-1c")}})).ok(t).Subnets
	sub := aws.ToString(subnets[0].SubnetId)
	base := func() *ec2.RunInstancesInput {
		return &ec2.RunInstancesInput{ImageId: aws.String(img.ID), MinCount: aws.Int32(1), MaxCount: aws.Int32(1)}
	}
	// associate_public_ip_address = false: the builder's NetworkInterfaces form.
	in := base()
	in.NetworkInterfaces = []types.InstanceNetworkInterfaceSpecification{{DeviceIndex: aws.Int32(0), SubnetId: aws.String(sub),
		AssociatePublicIpAddress: aws.Bool(false), DeleteOnTermination: aws.Bool(true)}}
	inst := must(c.RunInstances(ctx, in)).ok(t).Instances[0]
	if aws.ToString(inst.SubnetId) != sub || inst.PublicIpAddress != nil || aws.ToString(inst.Placement.AvailabilityZone) != "us-east-1c" ||
		len(inst.SecurityGroups) != 1 || aws.ToString(inst.SecurityGroups[0].GroupName) != "default" {
		t.Fatalf("instance %+v", inst)
	}
	// Placement picks the default subnet of the zone.
	in = base()
	in.Placement = &types.Placement{AvailabilityZone: aws.String("us-east-1b")}
	if inst := must(c.RunInstances(ctx, in)).ok(t).Instances[0]; !strings.HasPrefix(aws.ToString(inst.PrivateIpAddress), "172.31.1") {
		t.Fatalf("us-east-1b instance %s", aws.ToString(inst.PrivateIpAddress))
	}
	cases := []struct {
		mod  func(*ec2.RunInstancesInput)
		code string
	}{
		{func(i *ec2.RunInstancesInput) {
			i.SubnetId = aws.String(sub)
			i.NetworkInterfaces = []types.InstanceNetworkInterfaceSpecification{{DeviceIndex: aws.Int32(0), SubnetId: aws.String(sub)}}
		}, "InvalidParameterCombination"},
		{func(i *ec2.RunInstancesInput) {
			i.SubnetId = aws.String(sub)
			i.Placement = &types.Placement{AvailabilityZone: aws.String("us-east-1a")}
		}, "InvalidParameterValue"},
		{func(i *ec2.RunInstancesInput) {
			i.Placement = &types.Placement{AvailabilityZone: aws.String("us-east-1z")}
		}, "InvalidParameterValue"},
		{func(i *ec2.RunInstancesInput) { i.SubnetId = aws.String("subnet-0123456789abcdef0") }, "InvalidSubnetID.NotFound"},
		{func(i *ec2.RunInstancesInput) { i.SecurityGroupIds = []string{"sg-0123456789abcdef0"} }, "InvalidGroup.NotFound"},
		{func(i *ec2.RunInstancesInput) { i.SecurityGroups = []string{"nope"} }, "InvalidGroup.NotFound"},
		{func(i *ec2.RunInstancesInput) { i.InstanceType = "not a type" }, "InvalidParameterValue"},
		{func(i *ec2.RunInstancesInput) { i.InstanceInitiatedShutdownBehavior = "hibernate" }, "InvalidParameterValue"},
		{func(i *ec2.RunInstancesInput) {
			i.BlockDeviceMappings = []types.BlockDeviceMapping{{DeviceName: aws.String("/dev/xvda"), NoDevice: aws.String("")}}
		}, "InvalidBlockDeviceMapping"},
		{func(i *ec2.RunInstancesInput) {
			i.BlockDeviceMappings = []types.BlockDeviceMapping{{DeviceName: aws.String("/dev/sdg"), Ebs: &types.EbsBlockDevice{VolumeType: types.VolumeTypeGp2}}}
		}, "InvalidBlockDeviceMapping"},
	}
	for i, tc := range cases {
		in := base()
		tc.mod(in)
		_, err := c.RunInstances(ctx, in)
		if err == nil {
			t.Fatalf("case %d: accepted", i)
		}
		apiErr(t, err, tc.code, "")
	}
	// Named security group of the default VPC.
	in = base()
	in.SecurityGroups = []string{"default"}
	must(c.RunInstances(ctx, in)).ok(t)
	// Filters on launch details.
	out := must(c.DescribeInstances(ctx, &ec2.DescribeInstancesInput{Filters: []types.Filter{filter("subnet-id", sub), filter("instance.group-name", "default")}})).ok(t)
	if len(out.Reservations) != 1 {
		t.Fatalf("subnet-id filter: %d reservations", len(out.Reservations))
	}
}

func TestSnapshotsAndDeregistration(t *testing.T) {
	s, ts := newAPIServer(t, Options{})
	c := client(t, ts.URL, "us-east-1", acctA)
	img := ebsBase(s, acctA, "us-east-1")
	run := must(c.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: aws.String(img.ID), MinCount: aws.Int32(1), MaxCount: aws.Int32(1)})).ok(t)
	ci := must(c.CreateImage(ctx, &ec2.CreateImageInput{InstanceId: run.Instances[0].InstanceId, Name: aws.String("app-2")})).ok(t)
	app := describeOne(t, c, aws.ToString(ci.ImageId))
	snap := aws.ToString(app.BlockDeviceMappings[0].Ebs.SnapshotId)
	// The copy in another region gets its own snapshot there.
	eu := client(t, ts.URL, "eu-west-1", acctA)
	cp := must(eu.CopyImage(ctx, &ec2.CopyImageInput{SourceImageId: ci.ImageId, SourceRegion: aws.String("us-east-1"), Name: aws.String("app-2")})).ok(t)
	cpImg := describeOne(t, eu, aws.ToString(cp.ImageId))
	cpSnap := aws.ToString(cpImg.BlockDeviceMappings[0].Ebs.SnapshotId)
	if cpSnap == snap {
		t.Fatal("the copy shares the source snapshot")
	}
	if got := must(eu.DescribeSnapshots(ctx, &ec2.DescribeSnapshotsInput{OwnerIds: []string{"self"}})).ok(t).Snapshots; len(got) != 1 ||
		aws.ToString(got[0].SnapshotId) != cpSnap || !strings.Contains(aws.ToString(got[0].Description), "Copied for DestinationAmi "+aws.ToString(cp.ImageId)) {
		t.Fatalf("eu snapshots %+v", got)
	}

	// Packer's Artifact.Destroy: deregister, then delete the snapshots.
	_, err := c.DeleteSnapshot(ctx, &ec2.DeleteSnapshotInput{SnapshotId: aws.String(snap)})
	apiErr(t, err, "InvalidSnapshot.InUse", "The snapshot "+snap+" is currently in use by "+aws.ToString(ci.ImageId))
	must(c.DeregisterImage(ctx, &ec2.DeregisterImageInput{ImageId: ci.ImageId})).ok(t)
	must(c.DeleteSnapshot(ctx, &ec2.DeleteSnapshotInput{SnapshotId: aws.String(snap)})).ok(t)
	_, err = c.DeleteSnapshot(ctx, &ec2.DeleteSnapshotInput{SnapshotId: aws.String(snap)})
	apiErr(t, err, "InvalidSnapshot.NotFound", "The snapshot '"+snap+"' does not exist.")
	_, err = c.DescribeSnapshots(ctx, &ec2.DescribeSnapshotsInput{SnapshotIds: []string{snap}})
	apiErr(t, err, "InvalidSnapshot.NotFound", "")
	_, err = c.DeleteSnapshot(ctx, &ec2.DeleteSnapshotInput{SnapshotId: aws.String("snap-bad")})
	apiErr(t, err, "InvalidSnapshotID.Malformed", "")
	// The seeded base's snapshot gets a record when named, and is in use.
	_, err = c.DeleteSnapshot(ctx, &ec2.DeleteSnapshotInput{SnapshotId: aws.String("snap-0aaaaaaaaaaaaaaa1")})
	apiErr(t, err, "InvalidSnapshot.InUse", "")
	// Another account cannot see or delete it.
	_, err = client(t, ts.URL, "eu-west-1", acctB).DeleteSnapshot(ctx, &ec2.DeleteSnapshotInput{SnapshotId: aws.String(cpSnap)})
	apiErr(t, err, "InvalidSnapshot.NotFound", "")
	// DeregisterImage with DeleteAssociatedSnapshots removes them.
	dr := must(eu.DeregisterImage(ctx, &ec2.DeregisterImageInput{ImageId: cp.ImageId, DeleteAssociatedSnapshots: aws.Bool(true)})).ok(t)
	if len(dr.DeleteSnapshotResults) != 1 || string(dr.DeleteSnapshotResults[0].ReturnCode) != "success" {
		t.Fatalf("deregister %+v", dr.DeleteSnapshotResults)
	}
	if got := must(eu.DescribeSnapshots(ctx, &ec2.DescribeSnapshotsInput{})).ok(t).Snapshots; len(got) != 0 {
		t.Fatalf("snapshots left %+v", got)
	}
}

func TestTagsOnBuilderResources(t *testing.T) {
	s, ts := newAPIServer(t, Options{})
	c := client(t, ts.URL, "us-east-1", acctA)
	img := ebsBase(s, acctA, "us-east-1")
	sg := must(c.CreateSecurityGroup(ctx, &ec2.CreateSecurityGroupInput{GroupName: aws.String("g"), Description: aws.String("g")})).ok(t)
	kp := must(c.CreateKeyPair(ctx, &ec2.CreateKeyPairInput{KeyName: aws.String("k"), KeyType: types.KeyTypeEd25519})).ok(t)
	run := must(c.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: aws.String(img.ID), MinCount: aws.Int32(1), MaxCount: aws.Int32(1)})).ok(t)
	vol := aws.ToString(run.Instances[0].BlockDeviceMappings[0].Ebs.VolumeId)
	vpc := aws.ToString(run.Instances[0].VpcId)
	sub := aws.ToString(run.Instances[0].SubnetId)
	ids := []string{aws.ToString(sg.GroupId), aws.ToString(kp.KeyPairId), vol, vpc, sub, "snap-0aaaaaaaaaaaaaaa1"}
	must(c.CreateTags(ctx, &ec2.CreateTagsInput{Resources: ids, Tags: []types.Tag{{Key: aws.String("team"), Value: aws.String("x")}}})).ok(t)
	tagged := func(n int, what string) {
		t.Helper()
		if n != 1 {
			t.Fatalf("%s: %d tagged", what, n)
		}
	}
	f := []types.Filter{filter("tag:team", "x")}
	tagged(len(must(c.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{Filters: f})).ok(t).SecurityGroups), "groups")
	tagged(len(must(c.DescribeKeyPairs(ctx, &ec2.DescribeKeyPairsInput{Filters: f})).ok(t).KeyPairs), "keys")
	tagged(len(must(c.DescribeVolumes(ctx, &ec2.DescribeVolumesInput{Filters: f})).ok(t).Volumes), "volumes")
	tagged(len(must(c.DescribeVpcs(ctx, &ec2.DescribeVpcsInput{Filters: f})).ok(t).Vpcs), "vpcs")
	tagged(len(must(c.DescribeSubnets(ctx, &ec2.DescribeSubnetsInput{Filters: f})).ok(t).Subnets), "subnets")
	tagged(len(must(c.DescribeSnapshots(ctx, &ec2.DescribeSnapshotsInput{Filters: append(f, filter("tag-key", "te*"))})).ok(t).Snapshots), "snapshots")
	must(c.DeleteTags(ctx, &ec2.DeleteTagsInput{Resources: []string{vol}})).ok(t)
	if n := len(must(c.DescribeVolumes(ctx, &ec2.DescribeVolumesInput{Filters: f})).ok(t).Volumes); n != 0 {
		t.Fatalf("volume still tagged")
	}
	_, err := c.CreateTags(ctx, &ec2.CreateTagsInput{Resources: []string{"vol-0123456789abcdef0"}, Tags: []types.Tag{{Key: aws.String("a"), Value: aws.String("b")}}})
	apiErr(t, err, "InvalidVolume.NotFound", "")
	_, err = client(t, ts.URL, "us-east-1", acctB).CreateTags(ctx, &ec2.CreateTagsInput{Resources: []string{aws.ToString(sg.GroupId)}, Tags: []types.Tag{{Key: aws.String("a"), Value: aws.String("b")}}})
	apiErr(t, err, "InvalidGroup.NotFound", "")
}

// Packer's amazon builders share an AMI (ami_users) with both forms at once:
// LaunchPermission.Add.N.UserId and UserId.N, without OperationType.
func TestModifyImageAttributeBuilderForm(t *testing.T) {
	s, ts := newAPIServer(t, Options{})
	c := client(t, ts.URL, "us-east-1", acctA)
	img := ebsBase(s, acctA, "us-east-1")
	must(c.ModifyImageAttribute(ctx, &ec2.ModifyImageAttributeInput{ImageId: aws.String(img.ID),
		LaunchPermission: &types.LaunchPermissionModifications{Add: []types.LaunchPermission{{UserId: aws.String(acctB)}}},
		UserIds:          []string{acctB}})).ok(t)
	if got := describeOne(t, client(t, ts.URL, "us-east-1", acctB), img.ID); aws.ToString(got.ImageId) != img.ID {
		t.Fatalf("not shared: %+v", got)
	}
	// UserId.N alone still needs OperationType.
	_, err := c.ModifyImageAttribute(ctx, &ec2.ModifyImageAttributeInput{ImageId: aws.String(img.ID), UserIds: []string{acctC}})
	apiErr(t, err, "MissingParameter", "")
}

func TestImageDeprecation(t *testing.T) {
	s, ts := newAPIServer(t, Options{})
	c := client(t, ts.URL, "us-east-1", acctA)
	img := ebsBase(s, acctA, "us-east-1")
	at := apiBase.Add(30*24*time.Hour + 20*time.Second) // rounded to the minute
	must(c.EnableImageDeprecation(ctx, &ec2.EnableImageDeprecationInput{ImageId: aws.String(img.ID), DeprecateAt: aws.Time(at)})).ok(t)
	got := describeOne(t, c, img.ID)
	if want := at.Round(time.Minute).Format(layoutCreationDate); aws.ToString(got.DeprecationTime) != want {
		t.Fatalf("deprecationTime %q, want %q", aws.ToString(got.DeprecationTime), want)
	}
	_, err := c.EnableImageDeprecation(ctx, &ec2.EnableImageDeprecationInput{ImageId: aws.String(img.ID), DeprecateAt: aws.Time(apiBase.Add(-time.Hour))})
	apiErr(t, err, "InvalidParameterValue", "")
	img.SharedWith = []string{acctB}
	_, err = client(t, ts.URL, "us-east-1", acctB).EnableImageDeprecation(ctx, &ec2.EnableImageDeprecationInput{ImageId: aws.String(img.ID), DeprecateAt: aws.Time(at)})
	apiErr(t, err, "AuthFailure", "")
	must(c.DisableImageDeprecation(ctx, &ec2.DisableImageDeprecationInput{ImageId: aws.String(img.ID)})).ok(t)
	if got := describeOne(t, c, img.ID); got.DeprecationTime != nil {
		t.Fatalf("still deprecated at %s", aws.ToString(got.DeprecationTime))
	}
}

// Instances saved before launch details existed still describe and image.
func TestInstanceWithoutLaunchDetails(t *testing.T) {
	s, ts := newAPIServer(t, Options{})
	c := client(t, ts.URL, "us-east-1", acctA)
	img := ebsBase(s, acctA, "us-east-1")
	s.mu.Lock()
	s.st.Instances["i-0123456789abcdef0"] = &Instance{ID: "i-0123456789abcdef0", Region: "us-east-1", Owner: acctA, ImageID: img.ID,
		State: "stopped", InstanceType: "t3.micro", LaunchTime: apiBase, LaunchWatermarks: copyWatermarks(img.Watermarks)}
	s.mu.Unlock()
	out := must(c.DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{"i-0123456789abcdef0"}})).ok(t)
	if inst := out.Reservations[0].Instances[0]; inst.State.Name != types.InstanceStateNameStopped || inst.VpcId != nil {
		t.Fatalf("%+v", inst)
	}
	ci := must(c.CreateImage(ctx, &ec2.CreateImageInput{InstanceId: aws.String("i-0123456789abcdef0"), Name: aws.String("old")})).ok(t)
	got := describeOne(t, c, aws.ToString(ci.ImageId))
	if len(got.BlockDeviceMappings) != 1 || aws.ToInt32(got.BlockDeviceMappings[0].Ebs.VolumeSize) != 10 ||
		aws.ToString(got.BlockDeviceMappings[0].Ebs.SnapshotId) == "snap-0aaaaaaaaaaaaaaa1" || len(got.ImageWatermarks) != 1 {
		t.Fatalf("%+v", got)
	}
}

func TestEBSStatePersists(t *testing.T) {
	s, ts := newAPIServer(t, Options{})
	c := client(t, ts.URL, "us-east-1", acctA)
	img := ebsBase(s, acctA, "us-east-1")
	must(c.CreateKeyPair(ctx, &ec2.CreateKeyPairInput{KeyName: aws.String("k")})).ok(t)
	sg := must(c.CreateSecurityGroup(ctx, &ec2.CreateSecurityGroupInput{GroupName: aws.String("g"), Description: aws.String("g")})).ok(t)
	run := must(c.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: aws.String(img.ID), MinCount: aws.Int32(1), MaxCount: aws.Int32(1),
		KeyName: aws.String("k"), SecurityGroupIds: []string{aws.ToString(sg.GroupId)}})).ok(t)
	id := aws.ToString(run.Instances[0].InstanceId)
	must(c.StopInstances(ctx, &ec2.StopInstancesInput{InstanceIds: []string{id}})).ok(t)
	path := filepath.Join(t.TempDir(), "state.json")
	if err := s.SaveState(path); err != nil {
		t.Fatal(err)
	}
	s2, ts2 := newAPIServer(t, Options{})
	if err := s2.LoadState(path); err != nil {
		t.Fatal(err)
	}
	c2 := client(t, ts2.URL, "us-east-1", acctA)
	inst := must(c2.DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{id}})).ok(t).Reservations[0].Instances[0]
	if inst.State.Name != types.InstanceStateNameStopping || aws.ToString(inst.KeyName) != "k" || aws.ToString(inst.SecurityGroups[0].GroupId) != aws.ToString(sg.GroupId) ||
		aws.ToString(inst.VpcId) != aws.ToString(run.Instances[0].VpcId) {
		t.Fatalf("after reload %+v", inst)
	}
	if n := len(must(c2.DescribeKeyPairs(ctx, &ec2.DescribeKeyPairsInput{})).ok(t).KeyPairs); n != 1 {
		t.Fatalf("%d key pairs after reload", n)
	}
	if n := len(must(c2.DescribeVpcs(ctx, &ec2.DescribeVpcsInput{})).ok(t).Vpcs); n != 1 {
		t.Fatalf("%d VPCs after reload (the default VPC must not be created twice)", n)
	}
}

// ---- pure helpers ----

func TestValidInstanceType(t *testing.T) {
	for _, c := range []struct {
		s    string
		want bool
	}{
		{"t3.micro", true}, {"m7i-flex.large", true}, {"u-6tb1.metal", true}, {"m1.small", true},
		{"", false}, {"t3", false}, {".micro", false}, {"t3.", false}, {"T3.micro", false}, {"t3.mi cro", false},
		{"t3.micro.x", false}, {"3t.micro", false}, {strings.Repeat("a", 70) + ".x", false},
	} {
		if got := validInstanceType(c.s); got != c.want {
			t.Errorf("validInstanceType(%q) = %v, want %v", c.s, got, c.want)
		}
	}
}

func TestNormalizeProtocol(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"tcp", "tcp"}, {"TCP", "tcp"}, {"6", "tcp"}, {"17", "udp"}, {"1", "icmp"}, {"58", "icmpv6"},
		{"-1", "-1"}, {"all", "-1"}, {"47", "47"}, {"255", "255"}, {"256", ""}, {"007", ""}, {"gre", ""}, {"", ""},
	} {
		got, ok := normalizeProtocol(c.in)
		if got != c.want || ok != (c.want != "") {
			t.Errorf("normalizeProtocol(%q) = %q, %v; want %q", c.in, got, ok, c.want)
		}
	}
}

func TestNetworkNaming(t *testing.T) {
	for _, c := range []struct{ az, want string }{
		{"us-east-1a", "use1-az1"}, {"eu-west-1c", "euw1-az3"}, {"ap-southeast-2b", "apse2-az2"}, {"ca-central-1a", "cac1-az1"},
		{"", ""}, {"x", ""}, {"us-east-1", ""},
	} {
		if got := azID(c.az); got != c.want {
			t.Errorf("azID(%q) = %q, want %q", c.az, got, c.want)
		}
	}
	sn := &Subnet{CIDR: "172.31.16.0/20"}
	if a, b := nextPrivateIP(sn), nextPrivateIP(sn); a != "172.31.16.4" || b != "172.31.16.5" || availableIPs(sn) != 4089 {
		t.Errorf("addresses %s %s, %d left", a, b, availableIPs(sn))
	}
	tiny := &Subnet{CIDR: "10.0.0.0/29"} // 8 addresses, 5 reserved
	got := []string{nextPrivateIP(tiny), nextPrivateIP(tiny), nextPrivateIP(tiny), nextPrivateIP(tiny)}
	if strings.Join(got, ",") != "10.0.0.4,10.0.0.5,10.0.0.6," {
		t.Errorf("tiny subnet: %v", got)
	}
	if privateDNS("eu-west-1", "172.31.0.4") != "ip-172-31-0-4.eu-west-1.compute.internal" ||
		publicDNS("us-east-1", "203.0.113.9") != "ec2-203-0-113-9.compute-1.amazonaws.com" || publicDNS("us-east-1", "") != "" {
		t.Error("dns names")
	}
	if m := macAddress("eni-0123456789abcdef0"); len(m) != 17 || !strings.HasPrefix(m, "02:") {
		t.Errorf("mac %q", m)
	}
}

// FuzzEBSRequest sends arbitrary bodies for the builder's actions: never a
// panic, always well-formed XML with the right envelope.
func FuzzEBSRequest(f *testing.F) {
	for _, seed := range []string{
		"Action=CreateSecurityGroup&GroupName=packer_x&GroupDescription=d&VpcId=",
		"Action=AuthorizeSecurityGroupIngress&GroupName=default&IpPermissions.1.IpProtocol=tcp&IpPermissions.1.FromPort=0&IpPermissions.1.ToPort=0&IpPermissions.1.IpRanges.1.CidrIp=0.0.0.0%2F0",
		"Action=AuthorizeSecurityGroupIngress&GroupName=default&IpProtocol=icmp&FromPort=-1&ToPort=300&CidrIp=1.2.3.4%2F32",
		"Action=RunInstances&ImageId=ami-0aaaaaaaaaaaaaaa1&MinCount=1&MaxCount=2&SubnetId=&Placement.AvailabilityZone=&BlockDeviceMapping.1.DeviceName=%2Fdev%2Fsdf&BlockDeviceMapping.1.Ebs.VolumeSize=1",
		"Action=RunInstances&ImageId=ami-0aaaaaaaaaaaaaaa1&MinCount=1&MaxCount=1&NetworkInterface.1.DeviceIndex=0&NetworkInterface.1.AssociatePublicIpAddress=maybe",
		"Action=DescribeInstances&Filter.1.Name=vpc-id&Filter.1.Value.1=vpc-*",
		"Action=StopInstances&InstanceId.1=i-0123456789abcdef0",
		"Action=ModifyInstanceAttribute&InstanceId=i-0123&Attribute=enaSupport&Value=true",
		"Action=DescribeVolumes&Filter.1.Name=volume-id",
		"Action=DeleteSnapshot&SnapshotId=snap-0aaaaaaaaaaaaaaa1",
		"Action=DescribeSubnets&Filter.1.Name=availabilityZone&Filter.1.Value.1=us-east-1%3F",
		"Action=DescribeKeyPairs&KeyName.1=%00",
		"Action=DeleteKeyPair&KeyPairId=key-zz",
		"Action=EnableImageDeprecation&ImageId=ami-0aaaaaaaaaaaaaaa1&DeprecateAt=2099-13-01",
		"Action=CreateImage&InstanceId=i-0123456789abcdef0&Name=abc&BlockDeviceMapping.1.DeviceName=x&BlockDeviceMapping.1.NoDevice=&BlockDeviceMapping.1.Ebs.VolumeSize=3",
	} {
		f.Add(seed)
	}
	s := New(Options{Now: func() time.Time { return apiBase }})
	img := ebsBase(s, acctA, "us-east-1")
	s.mu.Lock()
	delete(s.st.Images, img.ID)
	img.ID = "ami-0aaaaaaaaaaaaaaa1"
	s.st.Images[img.ID] = img
	s.invalidateImageIndex()
	s.mu.Unlock()
	f.Fuzz(func(t *testing.T, body string) {
		req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKIDTEST"+acctA+"/20260624/us-east-1/ec2/aws4_request, SignedHeaders=host, Signature=00")
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, req)
		b := rec.Body.Bytes()
		if err := wellFormed(b); err != nil {
			t.Fatalf("status %d, body not well-formed XML (%v):\n%s", rec.Code, err, b)
		}
		if rec.Code != 200 && rec.Code < 400 {
			t.Fatalf("status %d", rec.Code)
		}
	})
}

func TestEBSHandlersRegistered(t *testing.T) {
	for _, a := range []string{"DescribeVpcs", "DescribeSubnets", "DescribeSecurityGroups", "CreateSecurityGroup",
		"AuthorizeSecurityGroupIngress", "DeleteSecurityGroup", "CreateKeyPair", "DescribeKeyPairs", "DeleteKeyPair",
		"StopInstances", "StartInstances", "ModifyInstanceAttribute", "DescribeVolumes", "DeleteVolume",
		"DescribeSnapshots", "DeleteSnapshot", "EnableImageDeprecation", "DisableImageDeprecation"} {
		if handlers[a] == nil {
			t.Errorf("%s is not registered", a)
		}
	}
	// The key material is a real, usable key.
	m, fp, pub, err := newKeyMaterial("rsa")
	if err != nil || !strings.Contains(m, "BEGIN RSA PRIVATE KEY") || strings.Count(fp, ":") != 19 || !strings.HasPrefix(pub, "ssh-rsa AAAA") {
		t.Fatalf("rsa: %v %q %q", err, fp, pub)
	}
	block, _ := pem.Decode([]byte(m))
	k, err := x509.ParsePKCS1PrivateKey(block.Bytes)
	if err != nil || k.Validate() != nil {
		t.Fatalf("rsa key invalid: %v", err)
	}
	var _ *rsa.PrivateKey = k
}
