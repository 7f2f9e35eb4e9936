package ec2emu

// The throttle and latency models of /_emu/config, through the real SDK.

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// drain makes calls until the first error and returns how many succeeded
// (at most limit); the error must be 503 RequestLimitExceeded.
func drain(t *testing.T, call func() error, limit int) int {
	t.Helper()
	for n := 0; n <= limit; n++ {
		if err := call(); err != nil {
			if code, status := ctlAPIErr(t, err); code != "RequestLimitExceeded" || status != 503 {
				t.Fatalf("after %d calls: %s %d, want RequestLimitExceeded 503", n, code, status)
			}
			return n
		}
	}
	return limit + 1
}

func describeCall(c *ec2.Client) func() error {
	return func() error {
		_, err := c.DescribeImages(context.Background(), &ec2.DescribeImagesInput{Owners: []string{"self"}})
		return err
	}
}

// tagCall is a mutating call; tagging an image that does not exist fails
// with InvalidAMIID.NotFound, which still takes a token.
func tagCall(t *testing.T, c *ec2.Client) func() error {
	return func() error {
		_, err := c.CreateTags(context.Background(), &ec2.CreateTagsInput{Resources: []string{"ami-0123456789abcdef0"},
			Tags: []types.Tag{{Key: aws.String("k"), Value: aws.String("v")}}})
		if code, _ := ctlAPIErr(t, err); code == "RequestLimitExceeded" {
			return err
		}
		return nil
	}
}

func TestThrottleModelBuckets(t *testing.T) {
	clock := &testClock{t: apiBase}
	s, ts := ctlServer(t, Options{Now: clock.Now})
	m := ctlOK(t, ts, "POST", "/_emu/config", `{"throttle":"ec2"}`)
	if m["throttle"] != "ec2" {
		t.Fatalf("POST config = %v", m)
	}
	a := ctlEC2(t, ts.URL, "us-east-1", "111122223333", 1) // retries off
	tick := func(d time.Duration) { clock.mu.Lock(); clock.t = clock.t.Add(d); clock.mu.Unlock() }

	if n := drain(t, describeCall(a), 200); n != 100 {
		t.Fatalf("non-mutating burst: %d calls before RequestLimitExceeded, want 100", n)
	}
	for _, step := range []struct {
		wait time.Duration
		want int
	}{{time.Second, 20}, {500 * time.Millisecond, 10}, {50 * time.Millisecond, 1}, {time.Hour, 100}} {
		tick(step.wait)
		if n := drain(t, describeCall(a), 200); n != step.want {
			t.Fatalf("after %s: %d calls, want %d (refill 20/s, at most 100)", step.wait, n, step.want)
		}
	}
	// Mutating: its own bucket, 50 then 5 a second.
	if n := drain(t, tagCall(t, a), 100); n != 50 {
		t.Fatalf("mutating burst: %d calls, want 50", n)
	}
	tick(time.Second)
	if n := drain(t, tagCall(t, a), 100); n != 5 {
		t.Fatalf("mutating after 1s: %d calls, want 5", n)
	}
	// Other account, other region: full buckets.
	for _, c := range []*ec2.Client{
		ctlEC2(t, ts.URL, "us-east-1", "444455556666", 1),
		ctlEC2(t, ts.URL, "eu-west-1", "111122223333", 1),
	} {
		if n := drain(t, describeCall(c), 200); n != 100 {
			t.Fatalf("a separate account or region: %d calls, want 100", n)
		}
	}
	if st := s.Stats(); st.Throttled != 9 || st.Faults["throttle"] != 0 {
		t.Errorf("stats: throttled %d (want 9: one per drain), faults %v", st.Throttled, st.Faults)
	}
	// Off: no limit.
	ctlOK(t, ts, "POST", "/_emu/config", `{"throttle":"off"}`)
	if n := drain(t, describeCall(a), 150); n != 151 {
		t.Fatalf("throttle off: throttled after %d calls", n)
	}
}

func TestThrottleModelOffByDefaultAndReset(t *testing.T) {
	_, ts := ctlServer(t, Options{})
	a := ctlEC2(t, ts.URL, "us-east-1", "111122223333", 1)
	if n := drain(t, describeCall(a), 120); n != 121 {
		t.Fatalf("no model: throttled after %d calls", n)
	}
	ctlOK(t, ts, "POST", "/_emu/config", `{"throttle":"ec2"}`)
	ctlOK(t, ts, "POST", "/_emu/config", `{}`)
	if m := ctlOK(t, ts, "GET", "/_emu/config", ""); m["throttle"] != "off" {
		t.Fatalf("{} did not turn the throttle off: %v", m)
	}
	ctlOK(t, ts, "POST", "/_emu/config", `{"throttle":"ec2","pending_describes":1}`)
	ctlOK(t, ts, "POST", "/_emu/reset", "")
	if m := ctlOK(t, ts, "GET", "/_emu/config", ""); m["throttle"] != "off" || m["pending_describes"] != float64(0) {
		t.Fatalf("reset did not undo the config: %v", m)
	}
}

func TestModelConfigErrors(t *testing.T) {
	s, ts := ctlServer(t, Options{})
	for body, want := range map[string]string{
		`{"throttle":"aws"}`:                            `throttle "aws" is not a throttle model: use "ec2"`,
		`{"latency_model":{"base":"soon"}}`:             `latency_model.base "soon" is not a duration`,
		`{"latency_model":{"per_item":"-1ms"}}`:         "latency_model.per_item -1ms is out of range",
		`{"latency_model":{"base":"1ms","item":"1ms"}}`: `unknown field "item"`,
	} {
		code, m := ctlDo(t, ts, "POST", "/_emu/config", body)
		if msg, _ := m["error"].(string); code != 400 || !strings.Contains(msg, want) {
			t.Errorf("POST config %s = %d %v, want 400 containing %q", body, code, m, want)
		}
	}
	if c := s.Config(); c.Throttle != "" || c.LatencyModel != (LatencyModel{}) {
		t.Errorf("bad requests changed the config: %+v", c)
	}
}

// timeCall returns how long call took: the shortest of 3 tries, so that a
// stall of the test machine does not count (the model's time is a floor:
// no try can be shorter).
func timeCall(t *testing.T, call func() error) time.Duration {
	t.Helper()
	best := time.Duration(1<<63 - 1)
	for range 3 {
		start := time.Now()
		if err := call(); err != nil {
			t.Fatal(err)
		}
		best = min(best, time.Since(start))
	}
	return best
}

func TestLatencyModel(t *testing.T) {
	s, ts := ctlServer(t, Options{})
	var seed []SeedImage
	for i := range 60 {
		seed = append(seed, SeedImage{Region: "us-east-1", Account: "111122223333", Name: fmt.Sprintf("img-%d", i)})
	}
	if _, err := s.SeedImages(seed); err != nil {
		t.Fatal(err)
	}
	a := ctlEC2(t, ts.URL, "us-east-1", "111122223333", 1)
	page := func(n int32) func() error {
		return func() error {
			_, err := a.DescribeImages(context.Background(), &ec2.DescribeImagesInput{Owners: []string{"self"}, MaxResults: aws.Int32(n)})
			return err
		}
	}
	if d := timeCall(t, page(50)); d > 100*time.Millisecond {
		t.Fatalf("no model: a call took %s", d)
	}
	m := ctlOK(t, ts, "POST", "/_emu/config", `{"latency_model":{"base":"150ms","per_item":"4ms"}}`)
	if lm, _ := m["latency_model"].(map[string]any); lm["base"] != "150ms" || lm["per_item"] != "4ms" {
		t.Fatalf("POST config = %v", m)
	}
	for _, c := range []struct {
		call func() error
		want time.Duration
	}{
		{page(5), 150*time.Millisecond + 5*4*time.Millisecond},
		{page(50), 150*time.Millisecond + 50*4*time.Millisecond},
		{func() error { // an error answer returns no item
			_, err := a.DescribeImages(context.Background(), &ec2.DescribeImagesInput{ImageIds: []string{"bad"}})
			if err == nil {
				return fmt.Errorf("DescribeImages of a malformed id succeeded")
			}
			return nil
		}, 150 * time.Millisecond},
	} {
		if d := timeCall(t, c.call); d < c.want || d > c.want+80*time.Millisecond {
			t.Errorf("a call took %s, want %s (base + per_item x items) to +80ms", d, c.want)
		}
	}
	// An injected fault latency runs within the model's time.
	ctlOK(t, ts, "POST", "/_emu/faults", `{"latency":"100ms"}`)
	if d, want := timeCall(t, page(5)), 170*time.Millisecond; d < want || d > want+80*time.Millisecond {
		t.Errorf("with a 100ms fault latency a call took %s, want %s to +80ms", d, want)
	}
	ctlOK(t, ts, "DELETE", "/_emu/faults", "")
	ctlOK(t, ts, "POST", "/_emu/config", `{"latency_model":{}}`)
	if d := timeCall(t, page(50)); d > 100*time.Millisecond {
		t.Fatalf("model off: a call took %s", d)
	}
}
