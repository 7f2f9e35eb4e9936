package awsconfig

import (
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
)

type doFunc func(*http.Request) (*http.Response, error)

func (f doFunc) Do(r *http.Request) (*http.Response, error) { return f(r) }

// closingBody behaves like smithy-go's request body: once closed, Read and
// WriteTo answer io.EOF.
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

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, errors.New("boom") }

func TestBufferBody(t *testing.T) {
	const body = "Action=DescribeImages&Version=2016-11-15"
	var sent *http.Request
	c := BufferBody(doFunc(func(r *http.Request) (*http.Response, error) {
		sent = r
		return &http.Response{StatusCode: 200, Body: http.NoBody}, nil
	}))
	orig := &closingBody{r: strings.NewReader(body)}
	req, _ := http.NewRequest(http.MethodPost, "http://x/", orig)
	if _, err := c.Do(req); err != nil {
		t.Fatal(err)
	}
	// smithy-go closes the request's body right after Do; the transport may
	// still do its final WriteTo/Read of the body it was given.
	_ = orig.Close()
	if sent.ContentLength != int64(len(body)) || sent.GetBody == nil {
		t.Fatalf("ContentLength = %d, GetBody set = %v", sent.ContentLength, sent.GetBody != nil)
	}
	if n, err := sent.Body.(io.WriterTo).WriteTo(io.Discard); err != nil || n != int64(len(body)) {
		t.Errorf("transport's body after close: WriteTo = %d, %v; want the whole body and no error", n, err)
	}
	if n, err := sent.Body.(io.WriterTo).WriteTo(io.Discard); err != nil || n != 0 {
		t.Errorf("final WriteTo = %d, %v; want 0, nil", n, err)
	}
	// The unwrapped body fails exactly the way the transport trips over.
	if _, err := orig.WriteTo(io.Discard); err != io.EOF {
		t.Errorf("closed smithy-like body: %v", err)
	}

	// A body that fails to read is an error, not a silent empty request.
	c = BufferBody(doFunc(func(r *http.Request) (*http.Response, error) {
		t.Errorf("request sent despite an unreadable body")
		return nil, errors.New("unreachable")
	}))
	req, _ = http.NewRequest(http.MethodPost, "http://x/", io.NopCloser(errReader{}))
	if _, err := c.Do(req); err == nil || !strings.Contains(err.Error(), "reading the request body") {
		t.Errorf("unreadable body: %v", err)
	}
}
