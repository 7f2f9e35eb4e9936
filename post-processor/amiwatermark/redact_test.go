package amiwatermark

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/amiwatermark/packer-plugin-amiwatermark/internal/ec2emu"
	"github.com/amiwatermark/packer-plugin-amiwatermark/internal/ec2emu/emutest"
)

// The post-processor redacts every credential the
// process holds, not only the configured ones: the default chain's, an
// assumed role's and each renewal. emutest.CredentialEcho makes the
// role's credentials expire at once (the SDK renews them before each call:
// DescribeImages signs with the first, AttachImageWatermark with the
// renewed ones) and answers AttachImageWatermark with an error quoting the
// credentials that signed it.

// chainEnv points the SDK's default chain at the given keys only (no
// shared files, no instance role) and STS at sts.
func chainEnv(t *testing.T, key, secret, token, sts string) {
	t.Helper()
	empty := filepath.Join(t.TempDir(), "empty")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for k, v := range map[string]string{"AWS_ACCESS_KEY_ID": key, "AWS_SECRET_ACCESS_KEY": secret, "AWS_SESSION_TOKEN": token,
		"AWS_CONFIG_FILE": empty, "AWS_SHARED_CREDENTIALS_FILE": empty, "AWS_EC2_METADATA_DISABLED": "true",
		"AWS_PROFILE": "", "AWS_ENDPOINT_URL_STS": sts, "AWS_ENDPOINT_URL": ""} {
		t.Setenv(k, v)
		if v == "" {
			os.Unsetenv(k)
		}
	}
}

func TestPostProcessorRedactsEveryCredential(t *testing.T) {
	const (
		envSecret = "default-chain-secret-key-0123456789abc"
		envToken  = "default-chain-session-token-0123456789"
	)
	for _, c := range []struct {
		name        string
		raw         map[string]interface{}
		failOnError bool
	}{
		{"default chain", nil, true},
		{"assume_role, renewed", map[string]interface{}{"assume_role": map[string]interface{}{"role_arn": "arn:aws:iam::" + testAccount + ":role/Builder"}}, true},
		{"assume_role, renewed, fail_on_error = false", map[string]interface{}{"assume_role": map[string]interface{}{"role_arn": "arn:aws:iam::" + testAccount + ":role/Builder"}}, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := newEmu(t)
			id := e.SeedImages(t, ec2emu.SeedImage{Region: "us-east-1", Account: testAccount, Name: "app"})[0]
			echo := &emutest.CredentialEcho{Actions: []string{"AttachImageWatermark"}, Known: map[string]string{testKeyID: envSecret}}
			front := echo.Front(t, e.URL)
			chainEnv(t, testKeyID, envSecret, envToken, front)
			raw := map[string]interface{}{"custom_endpoint_ec2": front, "watermarks": []string{"golden"}, "max_retries": 0, "fail_on_error": c.failOnError}
			for k, v := range c.raw {
				raw[k] = v
			}
			p := &PostProcessor{}
			if err := p.Configure(raw); err != nil {
				t.Fatal(err)
			}
			_, ui, err := runPP(t, context.Background(), p, amiArtifact("us-east-1:"+id))
			if (err == nil) == c.failOnError {
				t.Fatalf("error %v with fail_on_error = %v\n%s", err, c.failOnError, ui)
			}
			out := ui.String()
			if err != nil {
				out += "\nerror: " + err.Error()
			}
			if leaked := echo.Leaked(out); len(leaked) > 0 {
				t.Errorf("the output quotes %d credentials %.40q:\n%.2000s", len(leaked), leaked, out)
			}
			if !strings.Contains(out, "AuthFailure: The request signed with access key [redacted]") {
				t.Errorf("the echo is not shown redacted:\n%.2000s", out)
			}
			if c.raw != nil && !echo.Renewed() {
				t.Errorf("the echo quoted no renewed role credential: %v", echo.Echoed())
			}
		})
	}
}
