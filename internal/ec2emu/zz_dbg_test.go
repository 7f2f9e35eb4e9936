package ec2emu

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"runtime/debug"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
)

type tracedConn struct {
	net.Conn
	once sync.Once
}

var stacks []string
var smu sync.Mutex

func (c *tracedConn) Close() error {
	c.once.Do(func() { smu.Lock(); stacks = append(stacks, string(debug.Stack())); smu.Unlock() })
	return c.Conn.Close()
}

func TestDbgBig(t *testing.T) {
	s, ts := newAPIServer(t, Options{})
	for i := 0; i < 2500; i++ {
		putImages(s, mkImage(acctA, "us-east-1", fmt.Sprintf("img-%04d", i), apiBase.Add(-time.Duration(i)*time.Minute)))
	}
	c := client(t, ts.URL, "us-east-1", acctA, func(o *ec2.Options) {
		o.HTTPClient = awshttp.NewBuildableClient().WithTransportOptions(func(tr *http.Transport) {
			d := &net.Dialer{}
			tr.DialContext = func(ctx context.Context, n, a string) (net.Conn, error) {
				cn, err := d.DialContext(ctx, n, a)
				if err != nil {
					return nil, err
				}
				return &tracedConn{Conn: cn}, nil
			}
		})
		o.RetryMaxAttempts = 1
	})
	pg := ec2.NewDescribeImagesPaginator(c, &ec2.DescribeImagesInput{Owners: []string{"self"}, MaxResults: aws.Int32(7)})
	for pg.HasMorePages() {
		if _, err := pg.NextPage(ctx); err != nil {
			t.Fatal(err)
		}
	}
	for i := 0; i < 5; i++ {
		_, err := c.DescribeImages(ctx, &ec2.DescribeImagesInput{Owners: []string{"self"}, MaxResults: aws.Int32(1000)})
		if err != nil {
			t.Logf("err %v stacks %d", err, len(stacks))
			smu.Lock()
			for _, s := range stacks {
				t.Log(s)
			}
			smu.Unlock()
			t.FailNow()
		}
	}
}
