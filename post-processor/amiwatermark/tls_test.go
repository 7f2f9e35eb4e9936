package amiwatermark

import (
	"context"
	"reflect"
	"strings"
	"testing"

	"github.com/amiwatermark/packer-plugin-amiwatermark/internal/ec2emu"
	"github.com/amiwatermark/packer-plugin-amiwatermark/internal/ec2emu/emutest"
)

// TestPostProcessorInsecureSkipTLSVerify: against an endpoint with a
// self-signed certificate the post-processor fails by default, naming the
// certificate problem, and works with insecure_skip_tls_verify = true, which
// it announces in the UI.
func TestPostProcessorInsecureSkipTLSVerify(t *testing.T) {
	e := &emu{emutest.NewServer(t, emutest.Options{TLS: true})}
	id := e.SeedImages(t, ec2emu.SeedImage{Region: "us-east-1", Account: testAccount, Name: "app"})[0]
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
	// The suite's client trusts the test certificate.
	if keys := e.keys(t, "us-east-1", id); !reflect.DeepEqual(keys, []string{testAccount + ":golden"}) {
		t.Errorf("keys = %v", keys)
	}
}
