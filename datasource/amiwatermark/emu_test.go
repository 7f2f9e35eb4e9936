package amiwatermark

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/zclconf/go-cty/cty"

	"github.com/amiwatermark/packer-plugin-amiwatermark/internal/ec2emu/emutest"
)

// Accounts used by the integration tests. The emulator takes the account
// from the last 12 digits of the access key id.
const (
	acctGolden   = "111122223333" // attaches the golden watermark
	acctConsumer = "444455556666" // runs the data source
	acctThird    = "777788889999" // a third account that can launch golden images
)

// emu is an in-process emulator reached over HTTP, with the suite's
// helpers. Its responses carry the emulator's clock in the Date header, as
// EC2's carry EC2's clock (the data source measures ages against that
// header).
type emu struct{ *emutest.Server }

func newEmu(t testing.TB) *emu { return &emu{emutest.NewServer(t, emutest.Options{})} }

// config is a data source configuration for account in region against the
// emulator, plus extra keys.
func (e *emu) config(account, region string, extra map[string]interface{}) map[string]interface{} {
	raw := map[string]interface{}{
		"access_key":          emutest.AccessKey(account),
		"secret_key":          "secret",
		"region":              region,
		"custom_endpoint_ec2": e.URL,
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

// lyingServer serves the emulator after dropping every Owner.N and
// Filter.* parameter of DescribeImages: a server that ignores the query.
// The data source must still return only what the query asks for.
func (e *emu) lyingServer(t testing.TB) string {
	t.Helper()
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
		r.Body, r.ContentLength = io.NopCloser(strings.NewReader(body)), int64(len(body))
		r.Form, r.PostForm = nil, nil
		e.Emulator.ServeHTTP(w, r)
	}))
	t.Cleanup(ts.Close)
	return ts.URL
}

var bg = context.Background()

// advanceClock moves the emulator's clock forward through its control
// endpoint, POST /_emu/clock.
func (e *emu) advanceClock(t testing.TB, d string) {
	t.Helper()
	before := e.Emulator.Now()
	resp, err := http.Post(e.URL+"/_emu/clock", "application/json", strings.NewReader(`{"advance":"`+d+`"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	want, _ := time.ParseDuration(d)
	if resp.StatusCode != 200 || e.Emulator.Now().Sub(before) < want {
		t.Fatalf("POST /_emu/clock: status %d, clock %v -> %v", resp.StatusCode, before, e.Emulator.Now())
	}
}
