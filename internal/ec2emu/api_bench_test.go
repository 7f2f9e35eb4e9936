package ec2emu

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// benchServer seeds n images in us-east-1 (plus n/10 in another region):
// one in 1000 carries the key the benchmark looks for, the others 0-4
// watermarks with other keys.
func benchServer(tb testing.TB, n int) *Server {
	tb.Helper()
	s := New(Options{Now: func() time.Time { return apiBase }})
	imgs := make([]*Image, 0, n+n/10)
	for i := 0; i < n; i++ {
		img := mkImage(acctA, "us-east-1", fmt.Sprintf("img-%06d", i), apiBase.Add(time.Duration(i-n)*time.Second))
		for j := 0; j < i%5; j++ {
			img.Watermarks = append(img.Watermarks, wm(acctB, fmt.Sprintf("other-%d", j), "ami-0aaaaaaaaaaaaaaa1", "us-east-1", apiBase, apiBase))
		}
		if i%1000 == 0 {
			img.Watermarks = append(img.Watermarks[:0], wm(acctA, "golden", "ami-0aaaaaaaaaaaaaaa1", "us-east-1", apiBase, apiBase))
		}
		imgs = append(imgs, img)
	}
	for i := 0; i < n/10; i++ {
		imgs = append(imgs, mkImage(acctA, "eu-west-1", fmt.Sprintf("eu-%06d", i), apiBase))
	}
	putImages(s, imgs...)
	return s
}

var benchBody = url.Values{
	"Action": {"DescribeImages"}, "Version": {"2016-11-15"},
	"Filter.1.Name": {"image-watermark.watermark-key"}, "Filter.1.Value.1": {acctA + ":gold*"},
}.Encode()

// describeDirect runs one DescribeImages through the handler (no network,
// no SDK) and checks the answer.
func describeDirect(tb testing.TB, s *Server, want int) {
	req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(benchBody))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKIDTEST"+acctA+"/20260624/us-east-1/ec2/aws4_request, SignedHeaders=host, Signature=00")
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, req)
	if rec.Code != 200 {
		tb.Fatalf("status %d: %s", rec.Code, rec.Body.String())
	}
	if got := strings.Count(rec.Body.String(), "<imageId>"); got != want {
		tb.Fatalf("%d images, want %d", got, want)
	}
}

// BenchmarkDescribeImagesWatermarkFilter measures DescribeImages with a
// watermark-key filter (one image in 1000 matches) through the handler at
// 10 000 and 100 000 images, reporting ns/op, allocs/op and ns/image, which
// must stay flat. The 100 000 case also runs a 10 000-image baseline in
// every iteration (outside the timer) and reports linearity = ns/image at
// 100 000 divided by ns/image of that baseline: 1.0 is perfectly linear;
// the rest is the memory hierarchy (10 000 images fit in the CPU caches,
// 100 000 do not).
func BenchmarkDescribeImagesWatermarkFilter(b *testing.B) {
	var small *Server
	for _, n := range []int{10_000, 100_000} {
		b.Run(fmt.Sprintf("images=%d", n), func(b *testing.B) {
			s := benchServer(b, n)
			want := (n + 999) / 1000
			describeDirect(b, s, want) // builds the index
			if n > 10_000 && small == nil {
				small = benchServer(b, 10_000)
				describeDirect(b, small, 10)
			}
			var large, base time.Duration
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				t0 := time.Now()
				describeDirect(b, s, want)
				large += time.Since(t0)
				if n > 10_000 {
					b.StopTimer()
					t1 := time.Now()
					describeDirect(b, small, 10)
					base += time.Since(t1)
					b.StartTimer()
				}
			}
			perImage := float64(large.Nanoseconds()) / float64(b.N) / float64(n)
			b.ReportMetric(perImage, "ns/image")
			if base > 0 {
				basePerImage := float64(base.Nanoseconds()) / float64(b.N) / 10_000
				b.ReportMetric(perImage/basePerImage, "linearity")
			}
		})
	}
}

// BenchmarkDescribeImagesWatermarkFilterSDK is the same query end to end:
// the real SDK client over HTTP against 100 000 images, all pages of 1000.
func BenchmarkDescribeImagesWatermarkFilterSDK(b *testing.B) {
	s := benchServer(b, 100_000)
	ts := httptest.NewServer(s)
	defer ts.Close()
	c := client(b, ts.URL, "us-east-1", acctA)
	in := &ec2.DescribeImagesInput{MaxResults: aws.Int32(1000),
		Filters: []types.Filter{{Name: aws.String("image-watermark.watermark-key"), Values: []string{acctA + ":gold*"}}}}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if ids := describeIDs(b, c, in); len(ids) != 100 {
			b.Fatalf("%d images", len(ids))
		}
	}
}

// TestAppendTime: the hand-written formatter writes what AppendFormat
// writes, for the layouts it knows and any other.
func TestAppendTime(t *testing.T) {
	base := time.Date(2026, 6, 24, 3, 15, 42, 123456789, time.UTC)
	times := []time.Time{base, {}, time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC),
		time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(-5, 1, 1, 0, 0, 0, 0, time.UTC), time.Unix(0, 0).UTC()}
	for i := 0; i < 2000; i++ {
		times = append(times, base.Add(time.Duration(i)*7919*time.Hour+time.Duration(i*i)*time.Microsecond+time.Duration(i)))
	}
	for _, tm := range times {
		for _, layout := range []string{layoutCreationDate, layoutWatermarkTime, time.RFC3339} {
			if got, want := string(appendTime(nil, tm, layout)), tm.Format(layout); got != want {
				t.Fatalf("%v in %q: %q, want %q", tm, layout, got, want)
			}
		}
	}
}
