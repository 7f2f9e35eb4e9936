package amiwatermark

import (
	"context"
	"reflect"
	"strings"
	"testing"

	"github.com/amiwatermark/packer-plugin-amiwatermark/internal/ec2emu"
)

// denyIn makes the emulator deny actions to every caller of the test
// account, as an SCP does.
func (e *emu) denyIn(t *testing.T, actions ...string) {
	t.Helper()
	if err := e.Emulator.ApplySeed(ec2emu.Seed{Accounts: []ec2emu.SeedAccount{{ID: testAccount, DenyActions: actions}}}); err != nil {
		t.Fatal(err)
	}
}

// TestPostProcessorDeniedDetachRefusedBeforeChange: with the recommended
// SCP denying ec2:DetachImageWatermark, a rebuild whose AMI inherited
// golden-base and also asks for qa-passed fails before any change (the
// permission check's DryRun answers UnauthorizedOperation), the message
// names both ways out, and reattach_inherited = false then succeeds.
func TestPostProcessorDeniedDetachRefusedBeforeChange(t *testing.T) {
	e := newEmu(t)
	e.denyIn(t, "ec2:DetachImageWatermark")
	inherited := ec2emu.SeedWatermark{Key: testAccount + ":golden-base", SourceImageID: "ami-0aaaaaaaaaaaaaaa1", SourceImageRegion: "us-east-1",
		SourceImageCreationTime: "2026-01-01T00:00:00Z", WatermarkCreationTime: "2026-01-02T00:00:00Z"}
	east := e.SeedImages(t, ec2emu.SeedImage{Region: "us-east-1", Account: testAccount, Name: "app", Watermarks: []ec2emu.SeedWatermark{inherited}})[0]
	west := e.SeedImages(t, ec2emu.SeedImage{Region: "eu-west-1", Account: testAccount, Name: "app"})[0]
	in := amiArtifact("eu-west-1:"+west, "us-east-1:"+east)
	names := []string{"golden-base", "qa-passed"}

	_, ui, err := runPP(t, context.Background(), e.pp(t, map[string]interface{}{"watermarks": names}), in)
	if err == nil {
		t.Fatalf("want an error\n%s", ui)
	}
	for _, want := range []string{
		"amiwatermark: nothing was changed: 1 planned call(s) did not pass EC2's DryRun check, made before any change:",
		"us-east-1 " + east + ": detach " + testAccount + ":golden-base (re-attaching the inherited key) is denied: UnauthorizedOperation: You are not authorized to perform this operation.",
		"An SCP or IAM policy denies detaching watermarks (ec2:DetachImageWatermark) to these credentials",
		"Either set reattach_inherited = false to leave inherited keys as they are",
		"or allow ec2:DetachImageWatermark for the build role.",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not contain %q:\n%s", want, err)
		}
	}
	if strings.Contains(err.Error(), "--keep-inherited") || strings.Contains(err.Error(), "grant it in IAM") {
		t.Errorf("the post-processor's message speaks of the CLI or of IAM only:\n%s", err)
	}
	if a, d := e.calls("AttachImageWatermark"), e.calls("DetachImageWatermark"); a != 0 || d != 0 {
		t.Errorf("%d attach and %d detach calls made, want none before the refusal", a, d)
	}
	if got := e.keys(t, "us-east-1", east); !reflect.DeepEqual(got, []string{testAccount + ":golden-base"}) {
		t.Errorf("us-east-1 keys = %v, want the inherited key only", got)
	}
	if got := e.keys(t, "eu-west-1", west); len(got) != 0 {
		t.Errorf("eu-west-1 keys = %v, want none: the other region must not be changed either", got)
	}

	// The first way out: leave the inherited key as it is.
	_, ui, err = runPP(t, context.Background(), e.pp(t, map[string]interface{}{"watermarks": names, "reattach_inherited": false}), in)
	if err != nil {
		t.Fatalf("reattach_inherited = false: %v\n%s", err, ui)
	}
	if got := e.keys(t, "us-east-1", east); !reflect.DeepEqual(got, []string{testAccount + ":golden-base", testAccount + ":qa-passed"}) {
		t.Errorf("us-east-1 keys = %v", got)
	}
}

// TestPostProcessorDeniedAttachRefusedBeforeChange: a denied attach is
// found by the permission check too, in every region, before any change.
func TestPostProcessorDeniedAttachRefusedBeforeChange(t *testing.T) {
	e := newEmu(t)
	e.denyIn(t, "ec2:AttachImageWatermark")
	east := e.SeedImages(t, ec2emu.SeedImage{Region: "us-east-1", Account: testAccount, Name: "app",
		Watermarks: []ec2emu.SeedWatermark{{Key: testAccount + ":candidate"}}})[0]
	_, ui, err := runPP(t, context.Background(), e.pp(t, map[string]interface{}{"watermarks": []string{"approved"}, "detach": []string{"candidate"}}), amiArtifact("us-east-1:"+east))
	if err == nil {
		t.Fatalf("want an error\n%s", ui)
	}
	for _, want := range []string{
		"nothing was changed: 1 planned call(s) did not pass EC2's DryRun check",
		"us-east-1 " + east + ": attach " + testAccount + ":approved is denied: UnauthorizedOperation",
		"An SCP or IAM policy denies attaching watermarks (ec2:AttachImageWatermark) to these credentials: allow ec2:AttachImageWatermark for the build role",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not contain %q:\n%s", want, err)
		}
	}
	if d := e.calls("DetachImageWatermark"); d != 0 {
		t.Errorf("the detach before the denied attach was made (%d calls)", d)
	}
	if got := e.keys(t, "us-east-1", east); !reflect.DeepEqual(got, []string{testAccount + ":candidate"}) {
		t.Errorf("keys = %v, want candidate still there", got)
	}
}
