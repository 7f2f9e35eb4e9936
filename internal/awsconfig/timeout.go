package awsconfig

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/smithy-go/middleware"
)

// DefaultRequestTimeout bounds one attempt of an AWS call when
// request_timeout is not set. EC2 answers the calls of this plugin in well
// under a second; 30 s leaves room for a slow network and a large
// DescribeImages page, and a stalled endpoint fails one call within
// 30 s × attempts.
const DefaultRequestTimeout = 30 * time.Second

// ParseRequestTimeout parses request_timeout: "" is DefaultRequestTimeout,
// anything else a Go duration greater than zero. It never panics.
func ParseRequestTimeout(s string) (time.Duration, error) {
	return ParseDurationSetting("request_timeout", s, DefaultRequestTimeout, "30s, 1m or 500ms")
}

// ParseDurationSetting parses a duration setting such as request_timeout or
// wait_timeout: "" is def, anything else a Go duration greater than zero.
// Errors name the setting and show examples ("30s, 1m or 500ms"). It never
// panics.
func ParseDurationSetting(setting, s string, def time.Duration, examples string) (time.Duration, error) {
	if s == "" {
		return def, nil
	}
	d, err := time.ParseDuration(s)
	switch {
	case err != nil:
		return 0, fmt.Errorf("%s %q is not a duration: write it like %s", setting, s, examples)
	case d <= 0:
		return 0, fmt.Errorf("%s %q must be greater than zero", setting, s)
	}
	return d, nil
}

// TimeoutError is an attempt of an AWS call that got no complete answer
// within the request timeout. The SDK retries it like a connection error.
type TimeoutError struct {
	Endpoint string        // scheme://host of the request
	Action   string        // the API action, e.g. DescribeImages
	Timeout  time.Duration // request_timeout
	Attempts int           // attempts per call
	// Setting names the timeout setting in the message: "request_timeout"
	// (the default) in templates, "--request-timeout" in the CLI.
	Setting string
}

func (e *TimeoutError) Error() string {
	setting := e.Setting
	if setting == "" {
		setting = "request_timeout"
	}
	return fmt.Sprintf("no answer from %s to %s within %s (%s); each call makes at most %d attempt(s), so it fails after at most %s: check that the endpoint is reachable and answers, or raise %s",
		e.Endpoint, e.Action, setting, e.Timeout, e.Attempts, e.Timeout*time.Duration(e.Attempts), setting)
}

// ConnectionError makes the SDK's retryer retry the attempt.
func (e *TimeoutError) ConnectionError() bool { return true }

// timeoutClient bounds every attempt of an SDK call: the request, and the
// reading of its answer, must finish within d.
type timeoutClient struct {
	next     aws.HTTPClient
	d        time.Duration
	attempts int
	setting  string
}

func (c timeoutClient) Do(r *http.Request) (*http.Response, error) {
	if info, ok := r.Context().Value(callInfoKey{}).(*callInfo); ok {
		info.mu.Lock()
		info.endpoint = r.URL.Scheme + "://" + r.URL.Host
		info.mu.Unlock()
	}
	ctx, cancel := context.WithTimeout(r.Context(), c.d)
	resp, err := c.next.Do(r.WithContext(ctx))
	if err != nil {
		cancel()
		if errors.Is(ctx.Err(), context.DeadlineExceeded) && r.Context().Err() == nil || errors.Is(r.Context().Err(), context.DeadlineExceeded) {
			return nil, &TimeoutError{Endpoint: r.URL.Scheme + "://" + r.URL.Host, Action: actionOf(r), Timeout: c.d, Attempts: c.attempts, Setting: c.setting}
		}
		return nil, err
	}
	resp.Body = &cancelOnClose{ReadCloser: resp.Body, cancel: cancel}
	return resp, nil
}

// cancelOnClose releases the attempt's timer when the answer has been read.
type cancelOnClose struct {
	io.ReadCloser
	cancel context.CancelFunc
}

func (b *cancelOnClose) Close() error {
	err := b.ReadCloser.Close()
	b.cancel()
	return err
}

// actionOf names the API action of a request: the Action of a Query
// request (EC2, STS) or the X-Amz-Target of a JSON one.
func actionOf(r *http.Request) string {
	if t := r.Header.Get("X-Amz-Target"); t != "" {
		return t
	}
	if r.GetBody != nil {
		if body, err := r.GetBody(); err == nil {
			b, _ := io.ReadAll(io.LimitReader(body, maxRequestBody))
			_ = body.Close()
			if v, err := url.ParseQuery(string(b)); err == nil && v.Get("Action") != "" {
				return v.Get("Action")
			}
		}
	}
	return r.Method + " " + r.URL.Path
}

// callDeadline bounds a whole call, its retries and backoff included, by
// request_timeout × attempts, so that a stalled endpoint never holds a run
// longer than that. When the bound is what ends the call, the error is a
// TimeoutError that names the endpoint and the action.
func callDeadline(timeout time.Duration, attempts int, setting string) func(*middleware.Stack) error {
	total := timeout * time.Duration(attempts)
	return func(stack *middleware.Stack) error {
		return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("amiwatermarkCallDeadline",
			func(parent context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
				info := &callInfo{action: awsmiddleware.GetOperationName(parent)}
				ctx, cancel := context.WithTimeout(context.WithValue(parent, callInfoKey{}, info), total)
				defer cancel()
				out, md, err := next.HandleInitialize(ctx, in)
				if err != nil && parent.Err() == nil && errors.Is(ctx.Err(), context.DeadlineExceeded) {
					info.mu.Lock()
					endpoint := info.endpoint
					info.mu.Unlock()
					err = &TimeoutError{Endpoint: endpoint, Action: info.action, Timeout: timeout, Attempts: attempts, Setting: setting}
				}
				return out, md, err
			}), middleware.Before)
	}
}

// callInfo is what the HTTP client learns of a call, for its timeout error.
type callInfo struct {
	mu       sync.Mutex
	action   string
	endpoint string
}

type callInfoKey struct{}
