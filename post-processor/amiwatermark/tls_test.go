package amiwatermark

import (
	"context"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ec2"

	"github.com/amiwatermark/packer-plugin-amiwatermark/internal/ec2emu"
)

// TestPostProcessorInsecureSkipTLSVerify: against an endpoint with a
// self-signed certificate the post-processor fails by default, naming the
// certificate problem, and works with insecure_skip_tls_verify = true, which
// it announces in the UI.
func TestPostProcessorInsecureSkipTLSVerify(t *testing.T) {
	srv := ec2emu.New(ec2emu.Options{})
	ts := httptest.NewTLSServer(srv)
	defer ts.Close()
	e := &emu{srv: srv, url: ts.URL}
	id := e.seed(t, ec2emu.SeedImage{Region: "us-east-1", Account: testAccount, Name: "app"})[0]
	in := amiArtifact("us-east-1:" + id)

	_, ui, err := runPP(t, context.Background(), e.pp(t, map[string]interface{}{"watermarks": []string{"golden"}, "max_retries": 0}), in)
	if err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("default: %v, want a certificate error\n%s", err, ui)
	}
	if strings.Contains(ui.String(), "insecure_skip_tls_verify") {
		t.Errorf("UI warns with the setting off:\n%s", ui)
	}

	_, ui, err = runPP(t, context.Background(), e.pp(t, map[string]interface{}{"watermarks": []string{"golden"}, "insecure_skip_tls_verify": true}), in)
	if err != nil {
		t.Fatalf("insecure_skip_tls_verify = true: %v\n%s", err, ui)
	}
	if !strings.Contains(ui.String(), "WARNING: insecure_skip_tls_verify is on: the TLS certificate of the EC2 endpoint is not checked") {
		t.Errorf("UI does not warn:\n%s", ui)
	}
	tls := ec2.New(ec2.Options{Region: "us-east-1", BaseEndpoint: aws.String(ts.URL), HTTPClient: ts.Client(),
		Credentials: credentials.NewStaticCredentialsProvider(testKeyID, "x", "")})
	out, err := tls.DescribeImages(context.Background(), &ec2.DescribeImagesInput{ImageIds: []string{id}})
	if err != nil || len(out.Images) != 1 {
		t.Fatalf("describe: %v", err)
	}
	var keys []string
	for _, w := range out.Images[0].ImageWatermarks {
		keys = append(keys, aws.ToString(w.WatermarkKey))
	}
	if !reflect.DeepEqual(keys, []string{testAccount + ":golden"}) {
		t.Errorf("keys = %v", keys)
	}
}
