package amiwatermark

import (
	"net/http"
	"sync"
	"time"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/ec2"

	"github.com/amiwatermark/packer-plugin-amiwatermark/internal/awsconfig"
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
		next = awsconfig.BufferBody(awshttp.NewBuildableClient())
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

// httpGuard wraps the SDK's HTTP client for DescribeImages calls and
// records the Date header of successful responses (serverClock). The client
// it wraps comes from awsconfig, which already gives the transport a private
// copy of each request body (awsconfig.BufferBody).
type httpGuard struct {
	next  ec2.HTTPClient
	clock *serverClock
}

func (g httpGuard) Do(r *http.Request) (*http.Response, error) {
	resp, err := g.next.Do(r)
	if err == nil && resp != nil && resp.StatusCode/100 == 2 {
		g.clock.record(resp.Header.Get("Date"))
	}
	return resp, err
}
