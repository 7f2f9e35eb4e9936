package ec2emu

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

func TestRunDescribeTerminateInstances(t *testing.T) {
	s, ts := newAPIServer(t, Options{})
	c := client(t, ts.URL, "us-east-1", acctA)
	img := mkImage(acctA, "us-east-1", "base", apiBase)
	pending := mkImage(acctA, "us-east-1", "pending", apiBase)
	pending.State = "pending"
	putImages(s, img, pending)
	run := must(c.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: aws.String(img.ID), MinCount: aws.Int32(1), MaxCount: aws.Int32(2),
		InstanceType:      types.InstanceTypeT3Micro,
		TagSpecifications: []types.TagSpecification{{ResourceType: types.ResourceTypeInstance, Tags: []types.Tag{{Key: aws.String("Name"), Value: aws.String("builder")}}}}})).ok(t)
	if len(run.Instances) != 2 || aws.ToString(run.OwnerId) != acctA || aws.ToString(run.ReservationId) == "" {
		t.Fatalf("run: %+v", run)
	}
	id := aws.ToString(run.Instances[0].InstanceId)
	if aws.ToString(run.Instances[0].ImageId) != img.ID || run.Instances[0].State.Name != types.InstanceStateNameRunning || run.Instances[0].LaunchTime == nil {
		t.Fatalf("instance %+v", run.Instances[0])
	}
	desc := must(c.DescribeInstances(ctx, &ec2.DescribeInstancesInput{Filters: []types.Filter{{Name: aws.String("tag:Name"), Values: []string{"build*"}}}})).ok(t)
	if len(desc.Reservations) != 1 || len(desc.Reservations[0].Instances) != 2 {
		t.Fatalf("describe: %+v", desc.Reservations)
	}
	w := ec2.NewInstanceRunningWaiter(c)
	if err := w.Wait(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{id}}, 5e9); err != nil {
		t.Fatal(err)
	}
	term := must(c.TerminateInstances(ctx, &ec2.TerminateInstancesInput{InstanceIds: []string{id}})).ok(t)
	if len(term.TerminatingInstances) != 1 || term.TerminatingInstances[0].CurrentState.Name != types.InstanceStateNameTerminated ||
		term.TerminatingInstances[0].PreviousState.Name != types.InstanceStateNameRunning {
		t.Fatalf("terminate: %+v", term.TerminatingInstances)
	}
	desc = must(c.DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{id}})).ok(t)
	if desc.Reservations[0].Instances[0].State.Name != types.InstanceStateNameTerminated {
		t.Fatal("not terminated")
	}
	_, err := c.CreateImage(ctx, &ec2.CreateImageInput{InstanceId: aws.String(id), Name: aws.String("from-terminated")})
	apiErr(t, err, "IncorrectInstanceState", "")

	_, err = c.DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{"i-0123456789abcdef0"}})
	apiErr(t, err, "InvalidInstanceID.NotFound", "")
	_, err = c.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: aws.String(pending.ID), MinCount: aws.Int32(1), MaxCount: aws.Int32(1)})
	apiErr(t, err, "InvalidAMIID.Unavailable", "")
	_, err = c.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: aws.String("ami-0123456789abcdef0"), MinCount: aws.Int32(1), MaxCount: aws.Int32(1)})
	apiErr(t, err, "InvalidAMIID.NotFound", "The image id '[ami-0123456789abcdef0]' does not exist")
	_, err = c.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: aws.String(img.ID), MinCount: aws.Int32(1), MaxCount: aws.Int32(1), DryRun: aws.Bool(true)})
	apiErr(t, err, "DryRunOperation", "")
	// Another account sees none of them.
	other := must(client(t, ts.URL, "us-east-1", acctB).DescribeInstances(ctx, &ec2.DescribeInstancesInput{})).ok(t)
	if len(other.Reservations) != 0 {
		t.Fatalf("account B sees %d reservations", len(other.Reservations))
	}
}

func TestDescribeRegions(t *testing.T) {
	_, ts := newAPIServer(t, Options{})
	c := client(t, ts.URL, "us-east-1", acctA)
	out := must(c.DescribeRegions(ctx, &ec2.DescribeRegionsInput{})).ok(t)
	names := map[string]bool{}
	for _, r := range out.Regions {
		names[aws.ToString(r.RegionName)] = true
		if aws.ToString(r.Endpoint) != "ec2."+aws.ToString(r.RegionName)+".amazonaws.com" || aws.ToString(r.OptInStatus) != "opt-in-not-required" {
			t.Fatalf("region %+v", r)
		}
	}
	if len(out.Regions) != 17 || !names["us-east-1"] || !names["eu-west-1"] || !names["ap-southeast-2"] || names["af-south-1"] {
		t.Fatalf("regions %v", names)
	}
	all := must(c.DescribeRegions(ctx, &ec2.DescribeRegionsInput{AllRegions: aws.Bool(true)})).ok(t)
	if len(all.Regions) <= 17 {
		t.Fatalf("AllRegions: %d", len(all.Regions))
	}
	f := must(c.DescribeRegions(ctx, &ec2.DescribeRegionsInput{Filters: []types.Filter{{Name: aws.String("region-name"), Values: []string{"eu-*"}}}})).ok(t)
	if len(f.Regions) != 5 {
		t.Fatalf("eu-*: %d", len(f.Regions))
	}
	_, err := c.DescribeRegions(ctx, &ec2.DescribeRegionsInput{RegionNames: []string{"mars-north-1"}})
	apiErr(t, err, "InvalidParameterValue", "")
}
