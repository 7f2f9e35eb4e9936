package engine

import (
	"context"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/ec2"

	"github.com/amiwatermark/packer-plugin-amiwatermark/internal/ec2emu"
	"github.com/amiwatermark/packer-plugin-amiwatermark/internal/ec2emu/emutest"
)

// The engine driven directly, as the CLI drives it: targets, a request,
// clients of the in-process emulator, a recording reporter.

type lines struct {
	mu sync.Mutex
	l  []string
}

func (r *lines) Say(s string) { r.mu.Lock(); r.l = append(r.l, s); r.mu.Unlock() }

func (r *lines) String() string { r.mu.Lock(); defer r.mu.Unlock(); return strings.Join(r.l, "\n") }

func emulator(t *testing.T) (*ec2emu.Server, Clients) {
	t.Helper()
	srv := emutest.NewServer(t, emutest.Options{})
	return srv.Emulator, func(region string) (*ec2.Client, error) { return srv.EC2(region, "111122223333"), nil }
}

var fast = Timing{PollInitial: 1, PollMax: 1, VerifyWindow: 1}

func TestRunAttachesAndReports(t *testing.T) {
	srv, clients := emulator(t)
	ids, err := srv.SeedImages([]ec2emu.SeedImage{{Region: "us-east-1", Account: "111122223333", Name: "a"}, {Region: "eu-west-1", Account: "111122223333", Name: "b"}})
	if err != nil {
		t.Fatal(err)
	}
	targets := []Target{{Region: "us-east-1", ImageID: ids[0]}, {Region: "eu-west-1", ImageID: ids[1]}}
	rep := &lines{}
	res, err := Run(context.Background(), targets, Request{Attach: []string{"golden"}, Verify: true, Timing: fast}, clients, rep)
	if err != nil {
		t.Fatalf("%v\n%s", err, rep)
	}
	want := Keys{"us-east-1": {ids[0]: {"111122223333:golden"}}, "eu-west-1": {ids[1]: {"111122223333:golden"}}}
	if !reflect.DeepEqual(res.Keys, want) {
		t.Errorf("keys = %v, want %v", res.Keys, want)
	}
	if len(res.AMIs) != 2 || !reflect.DeepEqual(res.AMIs[0].Attached, []string{"111122223333:golden"}) {
		t.Errorf("AMIs = %+v", res.AMIs)
	}
	if !strings.Contains(rep.String(), "done: 2 AMI(s) in 2 region(s); 2 attached") {
		t.Errorf("report:\n%s", rep)
	}
}

func TestRunRefusesAnInvalidPlanBeforeAnyChange(t *testing.T) {
	srv, clients := emulator(t)
	ids, err := srv.SeedImages([]ec2emu.SeedImage{{Region: "us-east-1", Account: "111122223333", Name: "a"}})
	if err != nil {
		t.Fatal(err)
	}
	targets := []Target{{Region: "us-east-1", ImageID: ids[0]}, {Region: "us-east-1", ImageID: "ami-0000000000000dead"}}
	_, err = Run(context.Background(), targets, Request{Attach: []string{"golden"}, NotFoundGrace: 1, Timing: fast}, clients, nil)
	if err == nil || !strings.Contains(err.Error(), "nothing was changed") || !strings.Contains(err.Error(), "ami-0000000000000dead: not found") {
		t.Fatalf("err = %v", err)
	}
	if n := srv.Stats().Actions["AttachImageWatermark"]; n != 0 {
		t.Errorf("%d attach calls after a refused plan", n)
	}
}
