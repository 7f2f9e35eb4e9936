package emutest_test

import (
	"context"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/amiwatermark/packer-plugin-amiwatermark/internal/ec2emu"
	"github.com/amiwatermark/packer-plugin-amiwatermark/internal/ec2emu/emutest"
	"github.com/amiwatermark/packer-plugin-amiwatermark/internal/testkit"
)

func TestServerOptionsReachTheEmulator(t *testing.T) {
	clock := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	srv := emutest.NewServer(t, emutest.Options{
		DefaultAccount: "999988887777",
		Now:            func() time.Time { return clock },
		Seed: &ec2emu.Seed{Images: []ec2emu.SeedImage{
			{Region: "eu-west-1", Account: "111122223333", Name: "seeded", Watermarks: []ec2emu.SeedWatermark{{Key: "golden"}}},
		}},
	})
	ctx := context.Background()

	out, err := srv.EC2("eu-west-1", "111122223333").DescribeImages(ctx, &ec2.DescribeImagesInput{Owners: []string{"self"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Images) != 1 || aws.ToString(out.Images[0].Name) != "seeded" || len(out.Images[0].ImageWatermarks) != 1 {
		t.Fatalf("seeded image not seen: %+v", out.Images)
	}
	if got := aws.ToString(out.Images[0].CreationDate); got != "2026-03-01T12:00:00.000Z" {
		t.Errorf("CreationDate %s: the clock option was not used", got)
	}
	// Another account in the same region does not see a private image.
	other, err := srv.EC2("eu-west-1", "444455556666").DescribeImages(ctx, &ec2.DescribeImagesInput{Owners: []string{"111122223333"}})
	if err != nil || len(other.Images) != 0 {
		t.Fatalf("another account sees %d images (%v)", len(other.Images), err)
	}

	who, err := emutest.STSClient(srv.URL, "us-east-1", emutest.Credentials("not-digits")).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil || aws.ToString(who.Account) != "999988887777" {
		t.Fatalf("default account: %v %v", aws.ToString(who.Account), err)
	}
	if emutest.AccessKey("111122223333") != "AKIDTEST111122223333" {
		t.Errorf("AccessKey = %s", emutest.AccessKey("111122223333"))
	}
}

func TestCloseStopsServing(t *testing.T) {
	srv := emutest.NewServer(t, emutest.Options{})
	if _, err := srv.STS("us-east-1", "111122223333").GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{}); err != nil {
		t.Fatal(err)
	}
	srv.Close()
	srv.Close() // twice is fine
	if resp, err := http.Get(srv.URL + "/_emu/health"); err == nil {
		resp.Body.Close()
		t.Fatal("the server still answers after Close")
	}
}

func TestBadSeedFailsTheTest(t *testing.T) {
	ft := &fakeT{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		emutest.NewServer(ft, emutest.Options{Seed: &ec2emu.Seed{Images: []ec2emu.SeedImage{{Region: "nowhere", Name: "x"}}}})
	}()
	<-done
	if !ft.failed {
		t.Fatal("a bad seed did not fail the test")
	}
}

// fakeT records Fatalf (and stops the goroutine like testing.T does).
type fakeT struct {
	testing.TB
	failed bool
}

func (f *fakeT) Helper() {}
func (f *fakeT) Fatalf(string, ...any) {
	f.failed = true
	runtime.Goexit()
}

func TestWrapSeesEveryRequest(t *testing.T) {
	var actions []string
	srv := emutest.NewServer(t, emutest.Options{Wrap: func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if err := r.ParseForm(); err == nil {
				actions = append(actions, r.PostForm.Get("Action"))
			}
			next.ServeHTTP(w, r)
		})
	}})
	ids := srv.SeedImages(t, ec2emu.SeedImage{Region: "us-east-1", Account: "111122223333", Name: "app"})
	img := testkit.DescribeImage(t, srv.EC2("us-east-1", "111122223333"), ids[0])
	if aws.ToString(img.Name) != "app" {
		t.Errorf("described %+v", img)
	}
	if len(actions) != 1 || actions[0] != "DescribeImages" {
		t.Errorf("the wrapper saw %v, want [DescribeImages]", actions)
	}
}

func TestTLSServerTrustsOnlyItsOwnClients(t *testing.T) {
	srv := emutest.NewServer(t, emutest.Options{TLS: true})
	if !strings.HasPrefix(srv.URL, "https://") {
		t.Fatalf("URL %s", srv.URL)
	}
	ctx := context.Background()
	if _, err := srv.STS("us-east-1", "111122223333").GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}); err != nil {
		t.Fatalf("the server's own client: %v", err)
	}
	plain := emutest.EC2Client(srv.URL, "us-east-1", emutest.Credentials("111122223333"), func(o *ec2.Options) { o.RetryMaxAttempts = 1 })
	if _, err := plain.DescribeImages(ctx, &ec2.DescribeImagesInput{}); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("a client without the test certificate: %v, want a certificate error", err)
	}
}

func TestDescribeImageFailsOnAMissingImage(t *testing.T) {
	srv := emutest.NewServer(t, emutest.Options{})
	ft := &fakeT{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		testkit.DescribeImage(ft, srv.EC2("us-east-1", "111122223333"), "ami-0123456789abcdef0")
	}()
	<-done
	if !ft.failed {
		t.Fatal("describing a missing image did not fail the test")
	}
}
