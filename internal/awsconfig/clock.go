package awsconfig

import (
	"net/http"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// dateResolution is the precision of an HTTP Date header plus the time an
// answer takes to arrive.
const dateResolution = 2 * time.Second

// Clock is the one time rule of every component (post-processor, data
// source, CLI): ages and Allowed-AMIs day conditions are measured against
// EC2's clock. The watermark and image timestamps come from EC2's clock, so
// EC2's idea of "now" is the consistent reference: a skewed build machine
// clock does not shift a result, and an emulator whose clock was moved
// forward is measured like EC2. EC2's clock is the local clock corrected by
// the offset of the Date header of the first successful (2xx) answer of the
// run; before that answer, or when it has no usable Date header, the local
// clock. A Date header has one-second resolution, so an offset within
// dateResolution counts as none: the clocks agree.
type Clock struct {
	mu     sync.Mutex
	offset time.Duration
	have   bool
}

// Record takes the Date header of a successful answer received at local
// time local; only the first usable one counts.
func (c *Clock) Record(date string, local time.Time) {
	if date == "" {
		return
	}
	t, err := http.ParseTime(date)
	if err != nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.have {
		c.offset, c.have = t.Sub(local), true
		if c.offset > -dateResolution && c.offset < dateResolution {
			c.offset = 0
		}
	}
}

// Now is EC2's clock (see Clock), in UTC.
func (c *Clock) Now() time.Time {
	now := time.Now()
	if c == nil {
		return now.UTC()
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return now.Add(c.offset).UTC()
}

// Known reports whether an answer has set the clock.
func (c *Clock) Known() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.have
}

// Wrap returns an HTTP client that records the Date of successful answers.
func (c *Clock) Wrap(next aws.HTTPClient) aws.HTTPClient { return clockClient{next: next, clock: c} }

type clockClient struct {
	next  aws.HTTPClient
	clock *Clock
}

func (g clockClient) Do(r *http.Request) (*http.Response, error) {
	resp, err := g.next.Do(r)
	if err == nil && resp != nil && resp.StatusCode/100 == 2 {
		g.clock.Record(resp.Header.Get("Date"), time.Now())
	}
	return resp, err
}

// WithClock returns cfg with its HTTP client recording into clock, so that
// every client made from it sets the clock.
func WithClock(cfg aws.Config, clock *Clock) aws.Config {
	if cfg.HTTPClient != nil {
		cfg.HTTPClient = clock.Wrap(cfg.HTTPClient)
	}
	return cfg
}
