package awsconfig

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/ec2"

	"github.com/amiwatermark/packer-plugin-amiwatermark/internal/testkit"
)

func TestRequestTimeoutBoundsAStalledEndpoint(t *testing.T) {
	url := testkit.StalledEndpoint(t)
	retries := 1
	ac := &AccessConfig{Region: "us-east-1", AccessKey: "AKIDTEST111122223333", SecretKey: "secret-value",
		CustomEndpointEc2: url, MaxRetries: &retries, RequestTimeout: "300ms"}
	if errs := ac.Prepare(); len(errs) > 0 {
		t.Fatal(errs)
	}
	cfg, err := ac.Config(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	c, err := ac.NewEC2Client(cfg, "")
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, err = c.DescribeImages(context.Background(), &ec2.DescribeImagesInput{Owners: []string{"self"}})
	took := time.Since(start)
	if err == nil {
		t.Fatal("DescribeImages against a stalled endpoint succeeded")
	}
	// request_timeout × attempts, with scheduling slack.
	if limit := 2*300*time.Millisecond + 150*time.Millisecond; took > limit {
		t.Errorf("the call took %v, more than request_timeout × attempts (%v)", took, limit)
	}
	var te *TimeoutError
	if !errors.As(err, &te) {
		t.Errorf("error is not a TimeoutError: %v", err)
	}
	for _, want := range []string{url, "DescribeImages", "request_timeout (300ms)"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not name %q: %v", want, err)
		}
	}
}

func TestParseRequestTimeout(t *testing.T) {
	for in, want := range map[string]time.Duration{"": DefaultRequestTimeout, "5s": 5 * time.Second, "1m30s": 90 * time.Second} {
		if got, err := ParseRequestTimeout(in); err != nil || got != want {
			t.Errorf("ParseRequestTimeout(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"0", "-1s", "5", "soon", "1e400h"} {
		if _, err := ParseRequestTimeout(in); err == nil || !strings.Contains(err.Error(), "request_timeout") {
			t.Errorf("ParseRequestTimeout(%q) = %v, want an error naming request_timeout", in, err)
		}
	}
}
