package amiwatermark

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"

	"github.com/amiwatermark/packer-plugin-amiwatermark/internal/awsconfig"
	"github.com/amiwatermark/packer-plugin-amiwatermark/internal/ec2emu"
	"github.com/amiwatermark/packer-plugin-amiwatermark/internal/testkit"
)

var benchRegions = []string{"us-east-1", "us-east-2", "us-west-1", "us-west-2", "eu-west-1", "eu-central-1", "ap-southeast-1", "ap-northeast-1"}

var benchNames = []string{"golden", "approved", "qa-passed"}

const benchLatency = 50 * time.Millisecond

// BenchmarkPostProcessor8Regions watermarks one fresh AMI in each of 8
// regions with 3 names, with 50 ms injected on every EC2 call, and compares
// it in the same run with a sequential baseline (one region after another,
// one call after another, plain SDK calls doing the same describe, attach
// and verify work).
//
// Metrics: wall_ms (the post-processor), floor_ms = (1 describe + 3 attach +
// 1 verify) x 50 ms, ratio = wall/floor (goal <= 1.25), baseline_ms,
// speedup = baseline/wall (goal >= 6), api_calls and min_calls = 8 x 5.
func BenchmarkPostProcessor8Regions(b *testing.B) {
	e := newEmu(b)
	seed := func() []string {
		var imgs []ec2emu.SeedImage
		for _, r := range benchRegions {
			imgs = append(imgs, ec2emu.SeedImage{Region: r, Account: testAccount, Name: "bench"})
		}
		return e.SeedImages(b, imgs...)
	}
	if err := e.Emulator.SetFaults(ec2emu.Faults{Latency: benchLatency}); err != nil {
		b.Fatal(err)
	}
	ac := awsconfig.AccessConfig{AccessKey: testKeyID, SecretKey: testSecret, CustomEndpointEc2: e.URL}
	cfg, err := ac.Config(context.Background())
	if err != nil {
		b.Fatal(err)
	}
	clients := map[string]*ec2.Client{}
	for _, r := range benchRegions {
		if clients[r], err = ac.NewEC2Client(cfg, r); err != nil {
			b.Fatal(err)
		}
	}

	var wall, base time.Duration
	var calls int64
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		ids := seed()
		var targets []string
		for j, r := range benchRegions {
			targets = append(targets, r+":"+ids[j])
		}
		p := e.pp(b, map[string]interface{}{"watermarks": benchNames})
		e.Emulator.ResetStats()
		b.StartTimer()

		start := time.Now()
		_, _, _, err := p.PostProcess(context.Background(), &testkit.UI{}, amiArtifact(targets...))
		wall += time.Since(start)

		b.StopTimer()
		if err != nil {
			b.Fatalf("PostProcess: %v", err)
		}
		calls += e.Emulator.Stats().Total
		for j, r := range benchRegions {
			if got := e.keys(b, r, ids[j]); len(got) != len(benchNames) {
				b.Fatalf("%s %s keys %v", r, ids[j], got)
			}
		}

		ids = seed()
		start = time.Now()
		if err := sequentialBaseline(clients, ids); err != nil {
			b.Fatal(err)
		}
		base += time.Since(start)
		b.StartTimer()
	}
	b.StopTimer()

	n := float64(b.N)
	floor := time.Duration(1+len(benchNames)+1) * benchLatency
	wallMS := float64(wall.Milliseconds()) / n
	baseMS := float64(base.Milliseconds()) / n
	b.ReportMetric(wallMS, "wall_ms")
	b.ReportMetric(float64(floor.Milliseconds()), "floor_ms")
	b.ReportMetric(wallMS/float64(floor.Milliseconds()), "ratio")
	b.ReportMetric(baseMS, "baseline_ms")
	b.ReportMetric(baseMS/wallMS, "speedup")
	b.ReportMetric(float64(calls)/n, "api_calls")
	b.ReportMetric(float64(len(benchRegions)*(1+len(benchNames)+1)), "min_calls")
}

// sequentialBaseline does the post-processor's work the naive way: region
// after region, call after call: describe, attach each name, describe again
// and check.
func sequentialBaseline(clients map[string]*ec2.Client, ids []string) error {
	ctx := context.Background()
	for j, r := range benchRegions {
		c := clients[r]
		out, err := c.DescribeImages(ctx, &ec2.DescribeImagesInput{ImageIds: []string{ids[j]}, Owners: []string{"self"}})
		if err != nil || len(out.Images) != 1 || out.Images[0].State != "available" {
			return fmt.Errorf("baseline describe %s %s: %v", r, ids[j], err)
		}
		for _, n := range benchNames {
			if _, err := c.AttachImageWatermark(ctx, &ec2.AttachImageWatermarkInput{ImageId: aws.String(ids[j]), WatermarkName: aws.String(n)}); err != nil {
				return fmt.Errorf("baseline attach %s %s: %v", r, ids[j], err)
			}
		}
		out, err = c.DescribeImages(ctx, &ec2.DescribeImagesInput{ImageIds: []string{ids[j]}})
		if err != nil || len(out.Images) != 1 || len(out.Images[0].ImageWatermarks) != len(benchNames) {
			return fmt.Errorf("baseline verify %s %s: %v", r, ids[j], err)
		}
	}
	return nil
}
