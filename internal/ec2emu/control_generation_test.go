package ec2emu

import (
	"context"
	"net/http/httptest"
	"path/filepath"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// TestGenerationCountsChanges: Generation grows after every request that
// changed the state (and is visible as soon as the answer is), and stays put
// for reads; control changes count too. cmd/ec2emu's write-behind depends on
// this.
func TestGenerationCountsChanges(t *testing.T) {
	srv := New(Options{})
	ts := httptest.NewServer(srv)
	defer ts.Close()
	c := ctlEC2(t, ts.URL, "us-east-1", "111122223333", 1)
	ctx := context.Background()

	step := func(name string, wantChange bool, f func() error) {
		t.Helper()
		before := srv.Generation()
		if err := f(); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		after := srv.Generation()
		if wantChange && after <= before {
			t.Errorf("%s: Generation %d -> %d, want it to grow", name, before, after)
		}
		if !wantChange && after != before {
			t.Errorf("%s: Generation %d -> %d, want it unchanged", name, before, after)
		}
	}

	var id string
	step("SeedImages", true, func() error {
		ids, err := srv.SeedImages([]SeedImage{{Region: "us-east-1", Account: "111122223333", Name: "base"}})
		if err == nil {
			id = ids[0]
		}
		return err
	})
	step("DescribeImages of an available image", false, func() error {
		_, err := c.DescribeImages(ctx, &ec2.DescribeImagesInput{ImageIds: []string{id}})
		return err
	})
	step("DescribeImages of the region", false, func() error {
		_, err := c.DescribeImages(ctx, &ec2.DescribeImagesInput{Owners: []string{"self"}})
		return err
	})
	step("AttachImageWatermark", true, func() error {
		_, err := c.AttachImageWatermark(ctx, &ec2.AttachImageWatermarkInput{ImageId: aws.String(id), WatermarkName: aws.String("golden")})
		return err
	})
	step("GetAllowedImagesSettings", false, func() error {
		_, err := c.GetAllowedImagesSettings(ctx, &ec2.GetAllowedImagesSettingsInput{})
		return err
	})
	step("EnableAllowedImagesSettings", true, func() error {
		_, err := c.EnableAllowedImagesSettings(ctx, &ec2.EnableAllowedImagesSettingsInput{AllowedImagesSettingsState: types.AllowedImagesSettingsEnabledStateAuditMode})
		return err
	})
	step("DetachImageWatermark", true, func() error {
		_, err := c.DetachImageWatermark(ctx, &ec2.DetachImageWatermarkInput{ImageId: aws.String(id), WatermarkKey: aws.String("111122223333:golden")})
		return err
	})

	// A new image that is not found once, then pending once: describing it
	// changes it, so those describes count (the NotFound answer too).
	if err := srv.SetConfig(RuntimeConfig{NotFoundDescribes: 1, PendingDescribes: 1}); err != nil {
		t.Fatal(err)
	}
	var newID string
	step("RegisterImage", true, func() error {
		out, err := c.RegisterImage(ctx, &ec2.RegisterImageInput{Name: aws.String("new"), RootDeviceName: aws.String("/dev/xvda")})
		newID = aws.ToString(out.ImageId)
		return err
	})
	step("DescribeImages answering NotFound", true, func() error {
		if _, err := c.DescribeImages(ctx, &ec2.DescribeImagesInput{ImageIds: []string{newID}}); err == nil {
			t.Errorf("first describe of %s succeeded, want InvalidAMIID.NotFound", newID)
		}
		return nil
	})
	step("DescribeImages seeing it pending", true, func() error {
		out, err := c.DescribeImages(ctx, &ec2.DescribeImagesInput{ImageIds: []string{newID}})
		if err == nil && (len(out.Images) != 1 || out.Images[0].State != types.ImageStatePending) {
			t.Errorf("second describe: %+v, want pending", out.Images)
		}
		return err
	})
	step("DescribeImages once it is available", false, func() error {
		out, err := c.DescribeImages(ctx, &ec2.DescribeImagesInput{ImageIds: []string{newID}})
		if err == nil && (len(out.Images) != 1 || out.Images[0].State != types.ImageStateAvailable) {
			t.Errorf("third describe: %+v, want available", out.Images)
		}
		return err
	})

	step("AdvanceClock", true, func() error { srv.AdvanceClock(1); return nil })
	step("ResetStats", false, func() error { srv.ResetStats(); return nil })
	step("SetFaults", false, func() error { return srv.SetFaults(Faults{}) })
	path := filepath.Join(t.TempDir(), "state.json")
	step("SaveState", false, func() error { return srv.SaveState(path) })
	step("LoadState", true, func() error { return srv.LoadState(path) })
	step("Reset", true, func() error { srv.Reset(); return nil })
}

// TestGenerationWrapsEveryMutatingHandler: every registered action that is
// not a read is wrapped, whatever file registered it.
func TestGenerationWrapsEveryMutatingHandler(t *testing.T) {
	srv := New(Options{})
	for action, h := range handlers {
		if readOnlyAction(action) {
			continue
		}
		before := srv.Generation()
		rq := &request{form: map[string][]string{}, action: action, region: "us-east-1", account: "111122223333", now: srv.Now()}
		srv.mu.Lock()
		_ = h(srv, rq, newXMLOut(action, "req"))
		srv.mu.Unlock()
		if srv.Generation() == before {
			t.Errorf("%s: Generation did not grow: the handler is not wrapped", action)
		}
	}
}
