package ec2emu

// Control endpoints observed through the real SDK client (stats counting,
// fault injection, seeded images, run-time config). The EC2 actions
// themselves are tested in api_test.go.

import (
	"context"
	"errors"
	"net/http/httptest"
	"sort"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/smithy-go"
)

// ctlEC2 is a real SDK client acting as account in region against url, with
// attempts tries per call and a tiny backoff.
func ctlEC2(t testing.TB, url, region, account string, attempts int) *ec2.Client {
	return client(t, url, region, account, func(o *ec2.Options) {
		o.Retryer = retry.NewStandard(func(o *retry.StandardOptions) {
			o.MaxAttempts = attempts
			o.MaxBackoff = time.Millisecond
		})
	})
}

// ctlAPIErr returns the EC2 error code and HTTP status of err.
func ctlAPIErr(t *testing.T, err error) (string, int) {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("want an EC2 API error, got %T: %v", err, err)
	}
	status := 0
	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		status = re.HTTPStatusCode()
	}
	return ae.ErrorCode(), status
}

func ctlDescribe(t *testing.T, c *ec2.Client, ids ...string) []types.Image {
	t.Helper()
	out, err := c.DescribeImages(context.Background(), &ec2.DescribeImagesInput{ImageIds: ids})
	if err != nil {
		t.Fatalf("DescribeImages %v: %v", ids, err)
	}
	sort.Slice(out.Images, func(i, j int) bool { return *out.Images[i].ImageId < *out.Images[j].ImageId })
	return out.Images
}

func TestControlStatsCountSDKCalls(t *testing.T) {
	s, ts := ctlServer(t, Options{})
	ids, err := s.SeedImages([]SeedImage{
		{Region: "us-east-1", Account: "111122223333", Name: "a"},
		{Region: "eu-west-1", Account: "111122223333", Name: "b"},
	})
	if err != nil {
		t.Fatal(err)
	}
	use1 := ctlEC2(t, ts.URL, "us-east-1", "111122223333", 1)
	euw1 := ctlEC2(t, ts.URL, "eu-west-1", "111122223333", 1)
	ctlDescribe(t, use1, ids[0])
	ctlDescribe(t, use1)
	if _, err := euw1.AttachImageWatermark(context.Background(), &ec2.AttachImageWatermarkInput{ImageId: aws.String(ids[1]), WatermarkName: aws.String("golden")}); err != nil {
		t.Fatal(err)
	}
	// A refused call is counted too.
	_, err = euw1.AttachImageWatermark(context.Background(), &ec2.AttachImageWatermarkInput{ImageId: aws.String("ami-0ffffffffffffffff"), WatermarkName: aws.String("golden")})
	if code, _ := ctlAPIErr(t, err); code != "InvalidAMIID.NotFound" {
		t.Fatalf("attach to unknown image: %s", code)
	}
	m := ctlOK(t, ts, "GET", "/_emu/stats", "")
	want := map[string]any{
		"total":   float64(4),
		"actions": map[string]any{"DescribeImages": float64(2), "AttachImageWatermark": float64(2)},
		"regions": map[string]any{
			"us-east-1": map[string]any{"DescribeImages": float64(2)},
			"eu-west-1": map[string]any{"AttachImageWatermark": float64(2)},
		},
		"faults": map[string]any{"throttle": float64(0), "error": float64(0), "fail": float64(0), "latency": float64(0)},
	}
	if !jsonEqual(m, want) {
		t.Errorf("stats = %v\nwant %v", m, want)
	}
}

func jsonEqual(a, b any) bool {
	switch x := a.(type) {
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for k, v := range x {
			if !jsonEqual(v, y[k]) {
				return false
			}
		}
		return true
	default:
		return a == b
	}
}

func TestControlFaultsThroughSDK(t *testing.T) {
	s, ts := ctlServer(t, Options{})
	ids, err := s.SeedImages([]SeedImage{
		{Region: "us-east-1", Account: "111122223333", Name: "a"},
		{Region: "eu-west-1", Account: "111122223333", Name: "b"},
	})
	if err != nil {
		t.Fatal(err)
	}
	use1 := ctlEC2(t, ts.URL, "us-east-1", "111122223333", 3)
	euw1 := ctlEC2(t, ts.URL, "eu-west-1", "111122223333", 3)

	// Throttling on every DescribeImages in us-east-1: the SDK tries 3
	// times, every attempt is counted, and the code reaches the caller.
	ctlOK(t, ts, "POST", "/_emu/faults", `{"throttle_rate":1,"actions":["DescribeImages"],"regions":["us-east-1"],"seed":3}`)
	_, err = use1.DescribeImages(context.Background(), &ec2.DescribeImagesInput{ImageIds: []string{ids[0]}})
	if code, status := ctlAPIErr(t, err); code != "RequestLimitExceeded" || status != 503 {
		t.Fatalf("throttled describe: %s %d", code, status)
	}
	ctlDescribe(t, euw1, ids[1]) // other region: untouched
	st := s.Stats()
	if st.Regions["us-east-1"]["DescribeImages"] != 3 || st.Faults["throttle"] != 3 || st.Regions["eu-west-1"]["DescribeImages"] != 1 {
		t.Fatalf("stats after throttling: %+v", st)
	}

	// Hard failure of eu-west-1 attaches after the first one.
	ctlOK(t, ts, "POST", "/_emu/stats/reset", "")
	ctlOK(t, ts, "POST", "/_emu/faults", `{"fail_rate":1,"fail_code":"InternalError","after":1,"actions":["AttachImageWatermark"],"regions":["eu-west-1"]}`)
	if _, err := euw1.AttachImageWatermark(context.Background(), &ec2.AttachImageWatermarkInput{ImageId: aws.String(ids[1]), WatermarkName: aws.String("first")}); err != nil {
		t.Fatalf("first attach (before after=1 is reached): %v", err)
	}
	_, err = euw1.AttachImageWatermark(context.Background(), &ec2.AttachImageWatermarkInput{ImageId: aws.String(ids[1]), WatermarkName: aws.String("second")})
	if code, status := ctlAPIErr(t, err); code != "InternalError" || status != 500 {
		t.Fatalf("second attach: %s %d, want InternalError 500", code, status)
	}
	if _, err := use1.AttachImageWatermark(context.Background(), &ec2.AttachImageWatermarkInput{ImageId: aws.String(ids[0]), WatermarkName: aws.String("other")}); err != nil {
		t.Fatalf("us-east-1 attach: %v", err)
	}
	img := ctlDescribe(t, euw1, ids[1])[0]
	if len(img.ImageWatermarks) != 1 || *img.ImageWatermarks[0].WatermarkKey != "111122223333:first" {
		t.Errorf("eu-west-1 image watermarks = %+v, want only the first", img.ImageWatermarks)
	}
	if st := s.Stats(); st.Faults["fail"] != 3 || st.Actions["AttachImageWatermark"] != 5 {
		t.Errorf("stats after hard failure: %+v (want 3 failed attempts of 5 attaches)", st)
	}
	ctlOK(t, ts, "DELETE", "/_emu/faults", "")
	if _, err := euw1.AttachImageWatermark(context.Background(), &ec2.AttachImageWatermarkInput{ImageId: aws.String(ids[1]), WatermarkName: aws.String("second")}); err != nil {
		t.Fatalf("attach after clearing faults: %v", err)
	}
}

func TestControlFaultsLatencyThroughSDK(t *testing.T) {
	s := New(Options{Now: func() time.Time { return ctlBase }})
	ts := httptest.NewServer(s)
	defer ts.Close()
	ids, err := s.SeedImages([]SeedImage{{Region: "us-east-1", Account: "111122223333", Name: "a"}})
	if err != nil {
		t.Fatal(err)
	}
	c := ctlEC2(t, ts.URL, "us-east-1", "111122223333", 1)
	ctlOK(t, ts, "POST", "/_emu/faults", `{"latency":"80ms"}`)
	start := time.Now()
	ctlDescribe(t, c, ids[0])
	if d := time.Since(start); d < 80*time.Millisecond {
		t.Errorf("describe took %s, want at least the 80ms latency", d)
	}

	// A call cancelled during a long latency returns at once, and the
	// emulator does not perform it.
	ctlOK(t, ts, "POST", "/_emu/faults", `{"latency":"10m","actions":["AttachImageWatermark"]}`)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start = time.Now()
	_, err = c.AttachImageWatermark(ctx, &ec2.AttachImageWatermarkInput{ImageId: aws.String(ids[0]), WatermarkName: aws.String("late")})
	if err == nil || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("cancelled attach: %v", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("cancelled attach returned after %s", d)
	}
	// Close waits for every handler: it returns promptly only if the
	// emulator stopped sleeping when the client went away.
	closed := make(chan struct{})
	go func() { ts.Close(); close(closed) }()
	select {
	case <-closed:
	case <-time.After(5 * time.Second):
		t.Fatal("the emulator kept sleeping after the client cancelled")
	}
	s.mu.Lock()
	n := len(s.st.Images[ids[0]].Watermarks)
	s.mu.Unlock()
	if n != 0 {
		t.Errorf("the cancelled attach was performed: %d watermarks", n)
	}
}

// TestControlSeedThroughSDK checks seeded images as the SDK sees them.
func TestControlSeedThroughSDK(t *testing.T) {
	_, ts := ctlServer(t, Options{})
	m := ctlOK(t, ts, "POST", "/_emu/images", `[
	  {"region":"us-east-1","account":"111122223333","name":"base","creation_date":"2026-06-01T10:00:00.000Z",
	   "watermarks":["golden",{"key":"444455556666:partner","source_image_id":"ami-0123456789abcdef0","source_image_region":"eu-west-1",
	     "source_image_creation_time":"2026-05-01T00:00:00Z","watermark_creation_time":"2026-05-02T00:00:00.25Z"}],
	   "tags":{"team":"core"}},
	  {"region":"us-east-1","account":"111122223333","name":"waiting","state":"pending"}
	]`)
	raw := m["image_ids"].([]any)
	base, waiting := raw[0].(string), raw[1].(string)
	c := ctlEC2(t, ts.URL, "us-east-1", "111122223333", 1)
	imgs := ctlDescribe(t, c, base, waiting)
	var b, w types.Image
	for _, img := range imgs {
		if *img.ImageId == base {
			b = img
		} else {
			w = img
		}
	}
	if aws.ToString(b.Name) != "base" || aws.ToString(b.OwnerId) != "111122223333" || aws.ToString(b.CreationDate) != "2026-06-01T10:00:00.000Z" ||
		b.State != types.ImageStateAvailable || len(b.Tags) != 1 {
		t.Errorf("base = %+v", b)
	}
	if len(b.ImageWatermarks) != 2 {
		t.Fatalf("base watermarks = %+v", b.ImageWatermarks)
	}
	w0, w1 := b.ImageWatermarks[0], b.ImageWatermarks[1]
	if aws.ToString(w0.WatermarkKey) != "111122223333:golden" || aws.ToString(w0.SourceImageId) != base || aws.ToString(w0.SourceImageRegion) != "us-east-1" ||
		!aws.ToTime(w0.SourceImageCreationTime).Equal(time.Date(2026, 6, 1, 10, 0, 0, 0, time.UTC)) ||
		!aws.ToTime(w0.WatermarkCreationTime).Equal(ctlBase.Truncate(time.Microsecond)) {
		t.Errorf("name-form watermark = key %s src %s %s %v at %v", aws.ToString(w0.WatermarkKey), aws.ToString(w0.SourceImageId),
			aws.ToString(w0.SourceImageRegion), w0.SourceImageCreationTime, w0.WatermarkCreationTime)
	}
	if aws.ToString(w1.WatermarkKey) != "444455556666:partner" || aws.ToString(w1.SourceImageId) != "ami-0123456789abcdef0" ||
		aws.ToString(w1.SourceImageRegion) != "eu-west-1" ||
		!aws.ToTime(w1.SourceImageCreationTime).Equal(time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)) ||
		!aws.ToTime(w1.WatermarkCreationTime).Equal(time.Date(2026, 5, 2, 0, 0, 0, 250000000, time.UTC)) {
		t.Errorf("object-form watermark = key %s src %s %s %v at %v", aws.ToString(w1.WatermarkKey), aws.ToString(w1.SourceImageId),
			aws.ToString(w1.SourceImageRegion), w1.SourceImageCreationTime, w1.WatermarkCreationTime)
	}
	if w.State != types.ImageStatePending {
		t.Errorf("seeded pending image is %s", w.State)
	}
}

// TestControlConfigThroughSDK: POST /_emu/config changes how new images
// behave (eventual consistency, then pending, then available).
func TestControlConfigThroughSDK(t *testing.T) {
	_, ts := ctlServer(t, Options{})
	ctlOK(t, ts, "POST", "/_emu/config", `{"not_found_describes":2,"pending_describes":1}`)
	c := ctlEC2(t, ts.URL, "us-east-1", "111122223333", 1)
	out, err := c.RegisterImage(context.Background(), &ec2.RegisterImageInput{Name: aws.String("fresh"), RootDeviceName: aws.String("/dev/xvda")})
	if err != nil {
		t.Fatal(err)
	}
	id := aws.ToString(out.ImageId)
	for i := 0; i < 2; i++ {
		_, err := c.DescribeImages(context.Background(), &ec2.DescribeImagesInput{ImageIds: []string{id}})
		if code, _ := ctlAPIErr(t, err); code != "InvalidAMIID.NotFound" {
			t.Fatalf("describe %d: %s, want InvalidAMIID.NotFound", i+1, code)
		}
	}
	if st := ctlDescribe(t, c, id)[0].State; st != types.ImageStatePending {
		t.Fatalf("third describe: %s, want pending", st)
	}
	if st := ctlDescribe(t, c, id)[0].State; st != types.ImageStateAvailable {
		t.Fatalf("fourth describe: %s, want available", st)
	}
	// After a reset new images are visible and available at once again.
	ctlOK(t, ts, "POST", "/_emu/reset", "")
	out, err = c.RegisterImage(context.Background(), &ec2.RegisterImageInput{Name: aws.String("fresh"), RootDeviceName: aws.String("/dev/xvda")})
	if err != nil {
		t.Fatal(err)
	}
	if st := ctlDescribe(t, c, aws.ToString(out.ImageId))[0].State; st != types.ImageStateAvailable {
		t.Fatalf("after reset: %s, want available", st)
	}
}
