package awsconfig

import (
	"bytes"
	"fmt"
	"io"
	"net/http"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// maxRequestBody bounds the request bodies BufferBody copies; an EC2 Query
// request of this plugin is a few kilobytes.
const maxRequestBody = 1 << 20

// BufferBody wraps an SDK HTTP client so that the transport gets a private
// copy of the request body.
//
// smithy-go closes the request body as soon as the response headers arrive,
// and its closed body answers WriteTo with io.EOF; when net/http's write loop
// is still doing its final read of the body at that moment it takes the EOF
// for a write error and closes the connection while a large response body is
// still being read, which fails the call with "use of closed network
// connection". On a busy machine this happened to several attempts of a big
// DescribeImages page in a row. A body nobody else closes cannot race.
func BufferBody(next aws.HTTPClient) aws.HTTPClient { return bufferedBody{next: next} }

type bufferedBody struct{ next aws.HTTPClient }

func (g bufferedBody) Do(r *http.Request) (*http.Response, error) {
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
	return g.next.Do(r)
}
