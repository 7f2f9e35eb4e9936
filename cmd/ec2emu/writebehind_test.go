package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
)

// TestProgramWriteBehindSurvivesKill: with --state (write-behind on by
// default), every change a client has seen answered is in the file a short
// while later, so a SIGKILL then loses nothing: API changes (attach,
// detach, copy, a new image seen pending and then available), seeding and
// the clock. An idle emulator does not rewrite the file.
func TestProgramWriteBehindSurvivesKill(t *testing.T) {
	state := filepath.Join(t.TempDir(), "state.json")
	e := startEmu(t, "--state", state, "--pending-describes", "1")
	if code, m := e.control("POST", "/_emu/images", `[{"region":"us-east-1","account":"111122223333","name":"base","watermarks":["golden","candidate"]}]`); code != 200 {
		t.Fatalf("seeding: %d %v", code, m)
	}
	_, m := e.control("GET", "/_emu/health", "")
	if m["images"] != float64(1) {
		t.Fatalf("health: %v", m)
	}
	c := e.client("us-east-1", "111122223333")
	ctx := context.Background()
	out, err := c.DescribeImages(ctx, &ec2.DescribeImagesInput{Owners: []string{"self"}})
	if err != nil || len(out.Images) != 1 {
		t.Fatalf("describe: %v %v", out, err)
	}
	base := aws.ToString(out.Images[0].ImageId)
	if _, err := c.AttachImageWatermark(ctx, &ec2.AttachImageWatermarkInput{ImageId: aws.String(base), WatermarkName: aws.String("approved")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.DetachImageWatermark(ctx, &ec2.DetachImageWatermarkInput{ImageId: aws.String(base), WatermarkKey: aws.String("111122223333:candidate")}); err != nil {
		t.Fatal(err)
	}
	cp, err := c.CopyImage(ctx, &ec2.CopyImageInput{SourceImageId: aws.String(base), SourceRegion: aws.String("us-east-1"), Name: aws.String("copy")})
	if err != nil {
		t.Fatal(err)
	}
	// The copy is pending for one describe (--pending-describes 1): this
	// describe moves it to available, which must be saved too.
	d, err := c.DescribeImages(ctx, &ec2.DescribeImagesInput{ImageIds: []string{aws.ToString(cp.ImageId)}})
	if err != nil || len(d.Images) != 1 || d.Images[0].State != "pending" {
		t.Fatalf("describe of the copy: %+v %v, want pending", d, err)
	}
	if code, _ := e.control("POST", "/_emu/clock", `{"advance":"48h"}`); code != 200 {
		t.Fatal("clock")
	}
	want := snapshot(t, c) // also the copy's last describe: now available
	if !strings.Contains(want, "111122223333:approved") || strings.Contains(want, "candidate") || !strings.Contains(want, " copy available ") {
		t.Fatalf("setup did not take:\n%s", want)
	}
	_, clk := e.control("GET", "/_emu/clock", "")

	time.Sleep(500 * time.Millisecond) // write-behind is 100ms; well within 1s
	before, err := os.Stat(state)
	if err != nil {
		t.Fatal(err)
	}
	// Idle (only reads): the file is not rewritten.
	snapshot(t, c)
	time.Sleep(300 * time.Millisecond)
	if after, err := os.Stat(state); err != nil || !os.SameFile(before, after) || !after.ModTime().Equal(before.ModTime()) {
		t.Errorf("the state file was rewritten while nothing changed")
	}

	e.stop(syscall.SIGKILL)
	e2 := startEmu(t, "--state", state)
	c2 := e2.client("us-east-1", "111122223333")
	if got := snapshot(t, c2); got != want {
		t.Errorf("after SIGKILL and restart:\n%s\nwant\n%s", got, want)
	}
	if _, clk2 := e2.control("GET", "/_emu/clock", ""); clk2["offset"] != clk["offset"] || clk["offset"] != "48h0m0s" {
		t.Errorf("clock offset after restart %v, want %v", clk2["offset"], clk["offset"])
	}
	e2.stop(syscall.SIGTERM)
}

// TestProgramWriteBehindReportsFailures: when the state file can't be
// written any more, the emulator says so once on stderr and keeps serving.
func TestProgramWriteBehindReportsFailures(t *testing.T) {
	// The state's directory is replaced by a file (a read-only directory
	// would not stop root).
	dir := filepath.Join(t.TempDir(), "d")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	state := filepath.Join(dir, "state.json")
	e := startEmu(t, "--state", state)
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dir, []byte("not a directory"), 0o600); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		if code, m := e.control("POST", "/_emu/images", `[{"region":"us-east-1","account":"111122223333","name":"x"}]`); code != 200 {
			t.Fatalf("seeding: %d %v", code, m)
		}
		time.Sleep(200 * time.Millisecond)
	}
	if got := e.stderr.String(); strings.Count(got, "ec2emu: write-behind: save state to "+state) != 1 {
		t.Errorf("stderr %q: want the failure reported once", got)
	}
	if code, m := e.control("GET", "/_emu/health", ""); code != 200 || m["images"] != float64(3) {
		t.Errorf("health after failed saves: %d %v", code, m)
	}
	e.stop(syscall.SIGKILL)
}

// TestProgramHelpDocumentsWriteBehind: -h explains what --state writes when.
func TestProgramHelpDocumentsWriteBehind(t *testing.T) {
	var buf strings.Builder
	if _, err := parseFlags([]string{"-h"}, &buf); err == nil {
		t.Fatal("-h: want flag.ErrHelp")
	}
	for _, want := range []string{"Usage: ec2emu [flags]", "written to it atomically after every change (write-behind", "SIGKILL loses nothing", "-write-behind duration", "(default 100ms)"} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("help does not contain %q:\n%s", want, buf.String())
		}
	}
}
