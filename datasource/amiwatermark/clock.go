package amiwatermark

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
)

// serverClock records the Date header of EC2's first successful
// DescribeImages response. Ages (max_watermark_age_days,
// max_source_image_age_days) and deprecation are measured against it: the
// watermark timestamps come from EC2's clock, so EC2's own idea of "now" is
// the consistent reference, a skewed build machine clock does not shift the
// result, and an emulator whose clock has been moved forward is measured
// like EC2. Without a usable Date header the local clock is used.
type serverClock struct {
	mu   sync.Mutex
	t    time.Time
	have bool
}

// option is a per-call ec2 option that wraps the client's HTTP client (see
// httpGuard).
func (c *serverClock) option(o *ec2.Options) {
	next := o.HTTPClient
	if next == nil {
		next = awshttp.NewBuildableClient()
	}
	o.HTTPClient = httpGuard{next: next, clock: c}
}

func (c *serverClock) record(h string) {
	if h == "" {
		return
	}
	t, err := http.ParseTime(h)
	if err != nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.have {
		c.t, c.have = t.UTC(), true
	}
}

func (c *serverClock) get() (time.Time, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t, c.have
}

// maxRequestBody bounds the request bodies httpGuard buffers; a
// DescribeImages request is a few kilobytes.
const maxRequestBody = 1 << 20

// httpGuard wraps the SDK's HTTP client for DescribeImages calls:
//
//   - it records the Date header of successful responses (serverClock);
//   - it hands the transport a private copy of the request body. smithy-go
//     closes the request body as soon as the response headers arrive, and
//     its closed body answers WriteTo with io.EOF; when net/http's write loop
//     is still doing its final read of the body at that moment it takes the
//     EOF for a write error and closes the connection while the (large)
//     response body is still being read, which fails the call with "use of
//     closed network connection". On a busy machine this happened to several
//     attempts in a row. A body nobody else closes cannot race.
type httpGuard struct {
	next  ec2.HTTPClient
	clock *serverClock
}

func (g httpGuard) Do(r *http.Request) (*http.Response, error) {
	if r.Body != nil && r.Body != http.NoBody {
		b, err := io.ReadAll(io.LimitReader(r.Body, maxRequestBody+1))
		_ = r.Body.Close()
		if err != nil {
			return nil, fmt.Errorf("reading the request body: %w", err)
		}
		if len(b) > maxRequestBody {
			return nil, fmt.Errorf("request body larger than %d bytes", maxRequestBody)
		}
		r.Body = io.NopCloser(bytes.NewReader(b))
		r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil }
		r.ContentLength = int64(len(b))
	}
	resp, err := g.next.Do(r)
	if err == nil && resp != nil && resp.StatusCode/100 == 2 {
		g.clock.record(resp.Header.Get("Date"))
	}
	return resp, err
}
