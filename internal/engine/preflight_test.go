package engine

import (
	"context"
	"strings"
	"testing"

	"github.com/amiwatermark/packer-plugin-amiwatermark/internal/ec2emu"
)

// TestPreflightUnconfirmedRefuses: a DryRun check that fails for another
// reason than a denial (a server error after the retries) is not a pass:
// the run is refused before any change, saying the call could not be
// checked. A gate never passes over a call it did not check.
func TestPreflightUnconfirmedRefuses(t *testing.T) {
	srv, clients := emulator(t)
	ids, err := srv.SeedImages([]ec2emu.SeedImage{{Region: "us-east-1", Account: "111122223333", Name: "a"}, {Region: "eu-west-1", Account: "111122223333", Name: "b"}})
	if err != nil {
		t.Fatal(err)
	}
	// Every attach in eu-west-1 fails: the DryRun check there too.
	if err := srv.SetFaults(ec2emu.Faults{FailRate: 1, FailCode: "InternalError", Regions: []string{"eu-west-1"}, Actions: []string{"AttachImageWatermark"}}); err != nil {
		t.Fatal(err)
	}
	targets := []Target{{Region: "us-east-1", ImageID: ids[0]}, {Region: "eu-west-1", ImageID: ids[1]}}
	_, err = Run(context.Background(), targets, Request{Attach: []string{"golden"}, Verify: true, Timing: fast}, clients, nil)
	for _, want := range []string{
		"nothing was changed: 1 planned call(s) did not pass EC2's DryRun check, made before any change:",
		"eu-west-1 " + ids[1] + ": attach 111122223333:golden could not be checked: InternalError",
		"EC2 did not confirm these calls",
	} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v\nwant %q", err, want)
		}
	}
	st := srv.Stats()
	if n := st.Actions["AttachImageWatermark"] - st.DryRun["AttachImageWatermark"]; n != 0 {
		t.Errorf("%d attach calls made after an unconfirmed check", n)
	}
}

// TestPreflightChecksEveryCall: every planned call is checked once with
// DryRun, detaches and attaches, on every AMI; a dry run makes no second
// check.
func TestPreflightChecksEveryCall(t *testing.T) {
	srv, clients := emulator(t)
	ids, err := srv.SeedImages([]ec2emu.SeedImage{
		{Region: "us-east-1", Account: "111122223333", Name: "a", Watermarks: []ec2emu.SeedWatermark{{Key: "candidate"}}},
		{Region: "us-east-1", Account: "111122223333", Name: "b", Watermarks: []ec2emu.SeedWatermark{{Key: "candidate"}}}})
	if err != nil {
		t.Fatal(err)
	}
	targets := []Target{{Region: "us-east-1", ImageID: ids[0]}, {Region: "us-east-1", ImageID: ids[1]}}
	req := Request{Attach: []string{"approved", "qa-passed"}, Detach: []string{"candidate"}, Verify: true, Timing: fast}
	if _, err := Run(context.Background(), targets, req, clients, nil); err != nil {
		t.Fatal(err)
	}
	st := srv.Stats()
	if st.DryRun["AttachImageWatermark"] != 4 || st.DryRun["DetachImageWatermark"] != 2 ||
		st.Actions["AttachImageWatermark"] != 8 || st.Actions["DetachImageWatermark"] != 4 {
		t.Errorf("calls %v, DryRun %v: want each of the 6 calls checked once, then made", st.Actions, st.DryRun)
	}
	srv.ResetStats()
	req.DryRun, req.Attach, req.Detach = true, []string{"released"}, []string{"approved"}
	if _, err := Run(context.Background(), targets, req, clients, nil); err != nil {
		t.Fatal(err)
	}
	if st := srv.Stats(); st.Actions["AttachImageWatermark"] != 2 || st.DryRun["AttachImageWatermark"] != 2 {
		t.Errorf("dry run: calls %v, DryRun %v: want one DryRun call each", st.Actions, st.DryRun)
	}
}
