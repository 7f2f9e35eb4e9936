package awsconfig_test

import (
	"context"
	"crypto/x509"
	"errors"
	"log"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/hashicorp/packer-plugin-sdk/template/config"

	"github.com/amiwatermark/packer-plugin-amiwatermark/internal/awsconfig"
	"github.com/amiwatermark/packer-plugin-amiwatermark/internal/ec2emu/emutest"
	"github.com/amiwatermark/packer-plugin-amiwatermark/internal/testkit"
)

const insecureWarning = "[WARN] amiwatermark: insecure_skip_tls_verify is on: the TLS certificate of the EC2 endpoint is not checked"

// captureLog redirects the standard logger (where the plugin's log lines
// go; Packer shows them with PACKER_LOG=1) for the duration of f.
// The test servers log to it too (a refused TLS handshake), from their own
// goroutines: the buffer is locked (testkit.SyncBuffer).
func captureLog(t *testing.T, f func()) string {
	t.Helper()
	buf := &testkit.SyncBuffer{}
	prevOut, prevFlags := log.Writer(), log.Flags()
	log.SetOutput(buf)
	defer func() { log.SetOutput(prevOut); log.SetFlags(prevFlags) }()
	f()
	return buf.String()
}

// describeVia makes one DescribeImages call through the client c builds.
func describeVia(t *testing.T, c awsconfig.AccessConfig) error {
	t.Helper()
	ctx := context.Background()
	cfg, err := c.Config(ctx)
	if err != nil {
		t.Fatalf("Config: %v", err)
	}
	cl, err := c.NewEC2Client(cfg, "us-east-1")
	if err != nil {
		t.Fatal(err)
	}
	_, err = cl.DescribeImages(ctx, &ec2.DescribeImagesInput{Owners: []string{"self"}})
	return err
}

// TestInsecureSkipTLSVerify: the setting is off unless configured; off, an
// endpoint with a certificate nobody vouches for (an httptest TLS server in
// front of the emulator) is refused with a certificate error and nothing is
// logged; on, the same endpoint is reached and a warning is logged.
func TestInsecureSkipTLSVerify(t *testing.T) {
	ts := emutest.NewServer(t, emutest.Options{TLS: true})
	zero := 0

	// Decoded from a template that does not mention it: off.
	var decoded awsconfig.AccessConfig
	if err := config.Decode(&decoded, nil, map[string]interface{}{"access_key": "AKIDTEST111122223333", "secret_key": "s3cr3t-value"}); err != nil {
		t.Fatal(err)
	}
	if decoded.InsecureSkipTLSVerify {
		t.Fatal("insecure_skip_tls_verify is on by default")
	}

	base := awsconfig.AccessConfig{AccessKey: "AKIDTEST111122223333", SecretKey: "s3cr3t-value", CustomEndpointEc2: ts.URL, MaxRetries: &zero}
	var err error
	logged := captureLog(t, func() { err = describeVia(t, base) })
	var unknownCA x509.UnknownAuthorityError
	if err == nil || !errors.As(err, &unknownCA) {
		t.Errorf("default setting against a self-signed endpoint: %v, want a certificate (unknown authority) error", err)
	}
	if strings.Contains(logged, "insecure_skip_tls_verify") {
		t.Errorf("a warning was logged with the setting off: %q", logged)
	}

	on := base
	on.InsecureSkipTLSVerify = true
	logged = captureLog(t, func() { err = describeVia(t, on) })
	if err != nil {
		t.Errorf("insecure_skip_tls_verify = true: %v", err)
	}
	if strings.Count(logged, insecureWarning) != 1 {
		t.Errorf("log output %q, want the warning once", logged)
	}
	if strings.Contains(logged, "s3cr3t-value") {
		t.Errorf("the log quotes the secret key: %q", logged)
	}
}
