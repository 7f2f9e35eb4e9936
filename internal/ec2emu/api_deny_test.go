package ec2emu_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/smithy-go"

	"github.com/amiwatermark/packer-plugin-amiwatermark/internal/ec2emu"
	"github.com/amiwatermark/packer-plugin-amiwatermark/internal/ec2emu/emutest"
)

func apiCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

// TestDenyActions: a seeded account's deny_actions answer 403
// UnauthorizedOperation to the denied action, with DryRun (instead of
// DryRunOperation) and without it (nothing changes); other actions and
// other accounts are not affected.
func TestDenyActions(t *testing.T) {
	const build, other = "111122223333", "444455556666"
	e := emutest.NewServer(t, emutest.Options{Seed: &ec2emu.Seed{Accounts: []ec2emu.SeedAccount{
		{ID: build, DenyActions: []string{"ec2:DetachImageWatermark", "ec2:DetachImageWatermark"}}}}})
	ids := e.SeedImages(t,
		ec2emu.SeedImage{Region: "us-east-1", Account: build, Name: "a", Watermarks: []ec2emu.SeedWatermark{{Key: "golden-base"}}},
		ec2emu.SeedImage{Region: "us-east-1", Account: other, Name: "b", Watermarks: []ec2emu.SeedWatermark{{Key: "golden-base"}}})
	ctx := context.Background()
	c := e.EC2("us-east-1", build)
	detach := func(c *ec2.Client, id, acct string, dry bool) error {
		_, err := c.DetachImageWatermark(ctx, &ec2.DetachImageWatermarkInput{ImageId: aws.String(id), WatermarkKey: aws.String(acct + ":golden-base"), DryRun: aws.Bool(dry)})
		return err
	}
	for _, dry := range []bool{true, false} {
		err := detach(c, ids[0], build, dry)
		if apiCode(err) != "UnauthorizedOperation" || !strings.Contains(err.Error(), "ec2:DetachImageWatermark with an explicit deny in a service control policy") {
			t.Fatalf("detach (DryRun %v) = %v, want UnauthorizedOperation", dry, err)
		}
	}
	out, err := c.DescribeImages(ctx, &ec2.DescribeImagesInput{ImageIds: []string{ids[0]}})
	if err != nil || len(out.Images[0].ImageWatermarks) != 1 {
		t.Fatalf("the denied detach changed the image: %v %+v", err, out)
	}
	_, err = c.AttachImageWatermark(ctx, &ec2.AttachImageWatermarkInput{ImageId: aws.String(ids[0]), WatermarkName: aws.String("qa-passed"), DryRun: aws.Bool(true)})
	if apiCode(err) != "DryRunOperation" {
		t.Fatalf("attach DryRun = %v, want DryRunOperation", err)
	}
	if err := detach(e.EC2("us-east-1", other), ids[1], other, true); apiCode(err) != "DryRunOperation" {
		t.Fatalf("another account's detach DryRun = %v, want DryRunOperation", err)
	}
	bad := e.Emulator.ApplySeed(ec2emu.Seed{Accounts: []ec2emu.SeedAccount{{ID: other, DenyActions: []string{"DetachImageWatermark"}}}})
	if bad == nil || !strings.Contains(bad.Error(), `deny_actions[0] "DetachImageWatermark" is not an EC2 action: write it as IAM does, for example ec2:DetachImageWatermark`) {
		t.Fatalf("bad deny_actions: %v", bad)
	}
}

// TestStatsCountDryRun: requests sent with DryRun are counted in Actions
// and, again, in DryRun, so a test can tell checks from changes.
func TestStatsCountDryRun(t *testing.T) {
	e := emutest.NewServer(t, emutest.Options{})
	id := e.SeedImages(t, ec2emu.SeedImage{Region: "us-east-1", Account: "111122223333", Name: "a"})[0]
	c := e.EC2("us-east-1", "111122223333")
	for _, dry := range []bool{true, true, false} {
		_, _ = c.AttachImageWatermark(context.Background(), &ec2.AttachImageWatermarkInput{ImageId: aws.String(id), WatermarkName: aws.String("golden"), DryRun: aws.Bool(dry)})
	}
	st := e.Emulator.Stats()
	if st.Actions["AttachImageWatermark"] != 3 || st.DryRun["AttachImageWatermark"] != 2 || len(st.DryRun) != 1 {
		t.Fatalf("stats = %+v", st)
	}
	e.Emulator.ResetStats()
	if st := e.Emulator.Stats(); len(st.DryRun) != 0 {
		t.Fatalf("after reset: %+v", st)
	}
}
