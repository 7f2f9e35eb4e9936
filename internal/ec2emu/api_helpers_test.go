package ec2emu

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/smithy-go"

	"github.com/amiwatermark/packer-plugin-amiwatermark/internal/awsconfig"
)

// Test accounts: the emulator takes the account from the last 12 digits of
// the access key id.
const (
	acctA = "111122223333"
	acctB = "444455556666"
	acctC = "777788889999"
)

// apiBase is the fixed base clock of API tests.
var apiBase = time.Date(2026, 6, 24, 3, 15, 42, 123456789, time.UTC)

// testClock is a settable clock for Options.Now.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

// newAPIServer starts the emulator on an httptest server with a fixed clock
// (unless opts.Now is set).
func newAPIServer(t testing.TB, opts Options) (*Server, *httptest.Server) {
	t.Helper()
	if opts.Now == nil {
		c := &testClock{t: apiBase}
		opts.Now = c.Now
	}
	s := New(opts)
	ts := httptest.NewServer(s)
	t.Cleanup(ts.Close)
	return s, ts
}

// client returns a real SDK EC2 client for account in region, talking to
// the emulator with static credentials.
func client(t testing.TB, url, region, account string, optFns ...func(*ec2.Options)) *ec2.Client {
	t.Helper()
	return clientAKID(t, url, region, "AKIDTEST"+account, optFns...)
}

// clientAKID is client with an explicit access key id.
func clientAKID(t testing.TB, url, region, akid string, optFns ...func(*ec2.Options)) *ec2.Client {
	t.Helper()
	o := ec2.Options{
		Region:       region,
		BaseEndpoint: aws.String(url),
		Credentials:  credentials.NewStaticCredentialsProvider(akid, "secret", ""),
		HTTPClient:   awsconfig.BufferBody(awshttp.NewBuildableClient()), // avoids a smithy-go/net/http race, see BufferBody
	}
	for _, fn := range optFns {
		fn(&o)
	}
	return ec2.New(o)
}

// apiErr asserts err is an EC2 API error with the code (and the message,
// when msg is not empty) and returns the HTTP status.
func apiErr(t testing.TB, err error, code, msg string) int {
	t.Helper()
	if err == nil {
		t.Fatalf("want error %s, got success", code)
	}
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("want API error %s, got %T: %v", code, err, err)
	}
	if ae.ErrorCode() != code {
		t.Fatalf("error code = %q (%s), want %q", ae.ErrorCode(), ae.ErrorMessage(), code)
	}
	if msg != "" && ae.ErrorMessage() != msg {
		t.Fatalf("error message for %s =\n  %q\nwant\n  %q", code, ae.ErrorMessage(), msg)
	}
	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		return re.HTTPStatusCode()
	}
	return 0
}

// must(call(...)).ok(t) fails the test when the call returned an error.
func must[T any](v T, err error) result[T] { return result[T]{v, err} }

type result[T any] struct {
	v   T
	err error
}

func (r result[T]) ok(t testing.TB) T {
	t.Helper()
	if r.err != nil {
		t.Fatalf("unexpected error: %v", r.err)
	}
	return r.v
}

var ctx = context.Background()

// putImages inserts images directly into the state (test seeding).
func putImages(s *Server, imgs ...*Image) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, img := range imgs {
		if img.ID == "" {
			img.ID = s.newImageID()
		}
		s.st.Images[img.ID] = img
	}
}

// mkImage builds an available image of account in region created at t.
func mkImage(account, region, name string, t time.Time, wms ...Watermark) *Image {
	return &Image{
		Region: region, Owner: account, Name: name, State: "available",
		CreationDate: t.UTC().Truncate(time.Second), Watermarks: wms,
	}
}

// wm is a watermark attached by account to src (region) at attached.
func wm(account, name, srcID, srcRegion string, srcCreated, attached time.Time) Watermark {
	return Watermark{Key: account + ":" + name, SourceImageID: srcID, SourceImageRegion: srcRegion,
		SourceImageCreationTime: srcCreated.UTC().Truncate(time.Microsecond), WatermarkCreationTime: attached.UTC().Truncate(time.Microsecond)}
}

// register creates an image through the API and returns its id.
func registerImg(t testing.TB, c *ec2.Client, name string) string {
	t.Helper()
	out := must(c.RegisterImage(ctx, &ec2.RegisterImageInput{Name: aws.String(name), Architecture: types.ArchitectureValuesX8664,
		RootDeviceName: aws.String("/dev/xvda"),
		BlockDeviceMappings: []types.BlockDeviceMapping{{DeviceName: aws.String("/dev/xvda"),
			Ebs: &types.EbsBlockDevice{VolumeSize: aws.Int32(8)}}}})).ok(t)
	return aws.ToString(out.ImageId)
}

func attach(t testing.TB, c *ec2.Client, id, name string) string {
	t.Helper()
	out := must(c.AttachImageWatermark(ctx, &ec2.AttachImageWatermarkInput{ImageId: aws.String(id), WatermarkName: aws.String(name)})).ok(t)
	return aws.ToString(out.WatermarkKey)
}

// describeOne describes one image by id.
func describeOne(t testing.TB, c *ec2.Client, id string) types.Image {
	t.Helper()
	out := must(c.DescribeImages(ctx, &ec2.DescribeImagesInput{ImageIds: []string{id}})).ok(t)
	if len(out.Images) != 1 {
		t.Fatalf("DescribeImages(%s) returned %d images", id, len(out.Images))
	}
	return out.Images[0]
}

// describeIDs runs DescribeImages (all pages) and returns the ids in order.
func describeIDs(t testing.TB, c *ec2.Client, in *ec2.DescribeImagesInput) []string {
	t.Helper()
	var ids []string
	p := ec2.NewDescribeImagesPaginator(c, in)
	for p.HasMorePages() {
		out := must(p.NextPage(ctx)).ok(t)
		for _, img := range out.Images {
			ids = append(ids, aws.ToString(img.ImageId))
		}
	}
	return ids
}

// sdkWatermarks converts the SDK's watermarks for comparison.
func sdkWatermarks(ws []types.ImageWatermark) []Watermark {
	var out []Watermark
	for _, w := range ws {
		out = append(out, Watermark{
			Key: aws.ToString(w.WatermarkKey), SourceImageID: aws.ToString(w.SourceImageId),
			SourceImageRegion:       aws.ToString(w.SourceImageRegion),
			SourceImageCreationTime: aws.ToTime(w.SourceImageCreationTime).UTC(),
			WatermarkCreationTime:   aws.ToTime(w.WatermarkCreationTime).UTC(),
		})
	}
	return out
}

func sameWatermarks(t testing.TB, what string, got, want []Watermark) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d watermarks %v, want %d %v", what, len(got), got, len(want), want)
	}
	for i := range got {
		g, w := got[i], want[i]
		if g.Key != w.Key || g.SourceImageID != w.SourceImageID || g.SourceImageRegion != w.SourceImageRegion ||
			!g.SourceImageCreationTime.Equal(w.SourceImageCreationTime) || !g.WatermarkCreationTime.Equal(w.WatermarkCreationTime) {
			t.Fatalf("%s: watermark %d = %+v, want %+v", what, i, g, w)
		}
	}
}

// rawPost sends a raw (unsigned unless akid given) form request.
func rawPost(t testing.TB, url, body, region, akid string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url+"/", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if region != "" {
		req.Header.Set("Authorization", fmt.Sprintf(
			"AWS4-HMAC-SHA256 Credential=%s/20260624/%s/ec2/aws4_request, SignedHeaders=host;x-amz-date, Signature=00", akid, region))
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

// advance moves the emulator clock.
func advance(s *Server, d time.Duration) {
	s.mu.Lock()
	s.st.ClockOffset += d
	s.mu.Unlock()
}

func setAllowed(t testing.TB, c *ec2.Client, state types.AllowedImagesSettingsEnabledState, crits ...types.ImageCriterionRequest) {
	t.Helper()
	must(c.ReplaceImageCriteriaInAllowedImagesSettings(ctx, &ec2.ReplaceImageCriteriaInAllowedImagesSettingsInput{ImageCriteria: crits})).ok(t)
	must(c.EnableAllowedImagesSettings(ctx, &ec2.EnableAllowedImagesSettingsInput{AllowedImagesSettingsState: state})).ok(t)
}
