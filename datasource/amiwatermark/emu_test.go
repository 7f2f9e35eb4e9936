package amiwatermark

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/zclconf/go-cty/cty"

	"github.com/amiwatermark/packer-plugin-amiwatermark/internal/ec2emu"
)

// Accounts used by the integration tests. The emulator takes the account
// from the last 12 digits of the access key id.
const (
	acctGolden   = "111122223333" // attaches the golden watermark
	acctConsumer = "444455556666" // runs the data source
	acctThird    = "777788889999" // a third account that can launch golden images
)

// emu is an in-process emulator reached over HTTP.
type emu struct {
	srv *ec2emu.Server
	url string
}

// newEmu starts an emulator. Its responses carry the emulator's clock in the
// Date header, as EC2's carry EC2's clock (the data source measures ages
// against that header).
func newEmu(t testing.TB) *emu {
	t.Helper()
	srv := ec2emu.New(ec2emu.Options{})
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Date", srv.Now().UTC().Format(http.TimeFormat))
		srv.ServeHTTP(w, r)
	})
	ts := httptest.NewServer(h)
	t.Cleanup(ts.Close)
	return &emu{srv: srv, url: ts.URL}
}

func accessKey(account string) string { return "AKIDTEST" + account }

// client is a plain SDK client acting as account in region, for setting up
// state the way a user would (CreateImage, CopyImage, Allowed AMIs).
func (e *emu) client(account, region string) *ec2.Client {
	return ec2.New(ec2.Options{
		Region:       region,
		BaseEndpoint: aws.String(e.url),
		Credentials:  credentials.NewStaticCredentialsProvider(accessKey(account), "secret", ""),
	})
}

func (e *emu) seed(t testing.TB, imgs ...ec2emu.SeedImage) []string {
	t.Helper()
	ids, err := e.srv.SeedImages(imgs)
	if err != nil {
		t.Fatalf("seeding: %v", err)
	}
	return ids
}

// config is a data source configuration for account in region against the
// emulator, plus extra keys.
func (e *emu) config(account, region string, extra map[string]interface{}) map[string]interface{} {
	raw := map[string]interface{}{
		"access_key":          accessKey(account),
		"secret_key":          "secret",
		"region":              region,
		"custom_endpoint_ec2": e.url,
		"max_retries":         2,
	}
	for k, v := range extra {
		raw[k] = v
	}
	return raw
}

// run configures and executes the data source.
func (e *emu) run(t testing.TB, account, region string, extra map[string]interface{}) (cty.Value, error) {
	t.Helper()
	d := &Datasource{}
	if err := d.Configure(e.config(account, region, extra)); err != nil {
		t.Fatalf("Configure: %v", err)
	}
	return d.Execute()
}

// mustRun is run that expects success and returns the selected image id.
func (e *emu) mustRun(t testing.TB, account, region string, extra map[string]interface{}) (string, cty.Value) {
	t.Helper()
	v, err := e.run(t, account, region, extra)
	if err != nil {
		t.Fatalf("Execute: %v", err)
	}
	return v.GetAttr("id").AsString(), v
}

// lyingServer forwards to the emulator after dropping every Owner.N and
// Filter.* parameter of DescribeImages: a server that ignores the query.
// The data source must still return only what the query asks for.
func (e *emu) lyingServer(t testing.TB) string {
	t.Helper()
	target, _ := url.Parse(e.url)
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		form := url.Values{}
		for k, v := range r.PostForm {
			if r.PostForm.Get("Action") == "DescribeImages" && (strings.HasPrefix(k, "Owner.") || strings.HasPrefix(k, "Filter.")) {
				continue
			}
			form[k] = v
		}
		body := form.Encode()
		req, _ := http.NewRequestWithContext(r.Context(), http.MethodPost, target.String()+"/", strings.NewReader(body))
		req.Header = r.Header.Clone()
		req.ContentLength = int64(len(body))
		req.Header.Del("Content-Length")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			http.Error(w, err.Error(), 502)
			return
		}
		defer resp.Body.Close()
		for k, v := range resp.Header {
			w.Header()[k] = v
		}
		w.WriteHeader(resp.StatusCode)
		buf := make([]byte, 32<<10)
		for {
			n, err := resp.Body.Read(buf)
			_, _ = w.Write(buf[:n])
			if err != nil {
				break
			}
		}
	}))
	t.Cleanup(ts.Close)
	return ts.URL
}

var bg = context.Background()

// advanceClock moves the emulator's clock forward through its control
// endpoint, POST /_emu/clock.
func (e *emu) advanceClock(t testing.TB, d string) {
	t.Helper()
	before := e.srv.Now()
	resp, err := http.Post(e.url+"/_emu/clock", "application/json", strings.NewReader(`{"advance":"`+d+`"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	want, _ := time.ParseDuration(d)
	if resp.StatusCode != 200 || e.srv.Now().Sub(before) < want {
		t.Fatalf("POST /_emu/clock: status %d, clock %v -> %v", resp.StatusCode, before, e.srv.Now())
	}
}
