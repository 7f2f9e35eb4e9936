package amiwatermark

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

type doFunc func(*http.Request) (*http.Response, error)

func (f doFunc) Do(r *http.Request) (*http.Response, error) { return f(r) }

func TestDatasourceHTTPGuard(t *testing.T) {
	clock := &serverClock{}
	g := httpGuard{clock: clock, next: doFunc(func(r *http.Request) (*http.Response, error) {
		return &http.Response{StatusCode: 200, Header: http.Header{"Date": {"Tue, 10 Nov 2026 23:00:00 GMT"}}, Body: http.NoBody}, nil
	})}
	req, _ := http.NewRequest(http.MethodPost, "http://x/", strings.NewReader("Action=DescribeImages&Version=2016-11-15"))
	if _, err := g.Do(req); err != nil {
		t.Fatal(err)
	}
	if got, ok := clock.get(); !ok || !got.Equal(time.Date(2026, 11, 10, 23, 0, 0, 0, time.UTC)) {
		t.Errorf("clock = %v, %v", got, ok)
	}

	// Errors and non-2xx answers do not set the clock; the first good Date
	// wins.
	clock2 := &serverClock{}
	g2 := httpGuard{clock: clock2, next: doFunc(func(r *http.Request) (*http.Response, error) {
		return &http.Response{StatusCode: 503, Header: http.Header{"Date": {"Tue, 10 Nov 2026 23:00:00 GMT"}}, Body: http.NoBody}, nil
	})}
	req, _ = http.NewRequest(http.MethodPost, "http://x/", strings.NewReader("Action=DescribeImages"))
	_, _ = g2.Do(req)
	if _, ok := clock2.get(); ok {
		t.Errorf("a 503 set the clock")
	}
	clock2.record("not a date")
	clock2.record("Wed, 11 Nov 2026 01:00:00 GMT")
	clock2.record("Thu, 12 Nov 2026 01:00:00 GMT")
	if got, _ := clock2.get(); got.Day() != 11 {
		t.Errorf("clock = %v, want the first valid Date", got)
	}
}
