package amiwatermark

import (
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/amiwatermark/packer-plugin-amiwatermark/internal/awsconfig"
)

type doFunc func(*http.Request) (*http.Response, error)

func (f doFunc) Do(r *http.Request) (*http.Response, error) { return f(r) }

// closingBody behaves like smithy-go's request body: once closed, WriteTo
// answers io.EOF.
type closingBody struct {
	mu     sync.Mutex
	r      *strings.Reader
	closed bool
}

func (b *closingBody) Read(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return 0, io.EOF
	}
	return b.r.Read(p)
}

func (b *closingBody) WriteTo(w io.Writer) (int64, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return 0, io.EOF
	}
	return b.r.WriteTo(w)
}

func (b *closingBody) Close() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.closed = true
	return nil
}

func TestDatasourceHTTPGuard(t *testing.T) {
	const body = "Action=DescribeImages&Version=2016-11-15"
	clock := &serverClock{}
	var sent io.Reader
	g := httpGuard{clock: clock, next: awsconfig.BufferBody(doFunc(func(r *http.Request) (*http.Response, error) {
		sent = r.Body
		if r.ContentLength != int64(len(body)) {
			t.Errorf("ContentLength = %d", r.ContentLength)
		}
		return &http.Response{StatusCode: 200, Header: http.Header{"Date": {"Tue, 10 Nov 2026 23:00:00 GMT"}}, Body: http.NoBody}, nil
	}))}
	orig := &closingBody{r: strings.NewReader(body)}
	req, _ := http.NewRequest(http.MethodPost, "http://x/", orig)
	if _, err := g.Do(req); err != nil {
		t.Fatal(err)
	}
	// smithy-go closes the request's body right after Do; the transport may
	// still do its final WriteTo/Read of the body it was given.
	_ = req.Body.Close()
	_ = orig.Close()
	if n, err := sent.(io.WriterTo).WriteTo(io.Discard); err != nil || n != int64(len(body)) {
		t.Errorf("transport's body after close: WriteTo = %d, %v; want the whole body and no error", n, err)
	}
	if n, err := sent.(io.WriterTo).WriteTo(io.Discard); err != nil || n != 0 {
		t.Errorf("final WriteTo = %d, %v; want 0, nil", n, err)
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
	req, _ = http.NewRequest(http.MethodPost, "http://x/", strings.NewReader(body))
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

	// A body that fails to read is an error, not a silent empty request.
	g3 := httpGuard{clock: &serverClock{}, next: awsconfig.BufferBody(doFunc(func(r *http.Request) (*http.Response, error) {
		t.Errorf("request sent despite an unreadable body")
		return nil, errors.New("unreachable")
	}))}
	req, _ = http.NewRequest(http.MethodPost, "http://x/", io.NopCloser(errReader{}))
	if _, err := g3.Do(req); err == nil || !strings.Contains(err.Error(), "reading the request body") {
		t.Errorf("unreadable body: %v", err)
	}
}

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, errors.New("boom") }
