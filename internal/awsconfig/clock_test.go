package awsconfig

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

func answer(status int, date string) doFunc {
	return func(r *http.Request) (*http.Response, error) {
		return &http.Response{StatusCode: status, Header: http.Header{"Date": {date}}, Body: http.NoBody}, nil
	}
}

func TestClockFollowsEC2sDate(t *testing.T) {
	var c Clock
	ec2Now := time.Now().UTC().Add(240 * time.Hour).Truncate(time.Second) // an emulator 10 days ahead
	req, _ := http.NewRequest(http.MethodPost, "http://x/", strings.NewReader("Action=DescribeImages"))
	if _, err := c.Wrap(answer(200, ec2Now.Format(http.TimeFormat))).Do(req); err != nil {
		t.Fatal(err)
	}
	if got := c.Now(); got.Sub(ec2Now) < 0 || got.Sub(ec2Now) > 5*time.Second {
		t.Errorf("Now = %v, want EC2's clock %v", got, ec2Now)
	}

	// Errors, non-2xx answers and bad dates do not set the clock; the
	// first good Date wins.
	var c2 Clock
	_, _ = c2.Wrap(answer(503, ec2Now.Format(http.TimeFormat))).Do(req)
	c2.Record("not a date", time.Now())
	if c2.Known() {
		t.Errorf("a 503 or a bad Date set the clock")
	}
	if d := time.Since(c2.Now()); d < -time.Second || d > time.Second {
		t.Errorf("without an answer Now is %v, want the local clock", c2.Now())
	}
	local := time.Now()
	c2.Record(local.Add(-48*time.Hour).UTC().Format(http.TimeFormat), local)
	c2.Record(local.Add(48*time.Hour).UTC().Format(http.TimeFormat), local)
	if d := time.Since(c2.Now()); d < 47*time.Hour || d > 49*time.Hour {
		t.Errorf("Now is %v behind, want the first Date's 48h", d)
	}
	var nilClock *Clock
	if d := time.Since(nilClock.Now()); d < -time.Second || d > time.Second {
		t.Errorf("a nil clock is not the local clock")
	}
}
