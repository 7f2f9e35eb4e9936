package awsconfig

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// Every credential a registered provider hands out, each renewal included
// and the access key id too, is redacted from then on.
func TestRegisterCredentialsRenewals(t *testing.T) {
	n := 0
	p := RegisterCredentials(aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
		n++
		// Expired at once: the cache asks again at each Retrieve.
		return aws.Credentials{AccessKeyID: fmt.Sprintf("ASIARENEWAL%09d", n), SecretAccessKey: fmt.Sprintf("renewed-secret-%d-abcdefgh", n),
			SessionToken: fmt.Sprintf("renewed-token-%d-abcdefgh", n), CanExpire: true, Expires: time.Now().Add(-time.Second)}, nil
	}))
	var got []aws.Credentials
	for range 3 {
		c, err := p.Retrieve(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, c)
	}
	if n != 3 {
		t.Fatalf("the provider was asked %d times, want 3 (a renewal at each Retrieve)", n)
	}
	for _, c := range got {
		text := "key " + c.AccessKeyID + " secret " + c.SecretAccessKey + " token " + c.SessionToken
		if out := Redact(text); strings.Contains(out, c.AccessKeyID) || strings.Contains(out, c.SecretAccessKey) || strings.Contains(out, c.SessionToken) {
			t.Errorf("not redacted: %s", out)
		}
	}
	if !aws.IsCredentialsProvider(RegisterCredentials(aws.AnonymousCredentials{}), aws.AnonymousCredentials{}) {
		t.Error("anonymous credentials are no longer seen as anonymous")
	}
	if RegisterCredentials(nil) != nil {
		t.Error("no provider became one")
	}
}

// AccessConfig.Redact redacts the configured keys and every registered
// credential; values under 4 characters are no credentials.
func TestAccessConfigRedactsRegistry(t *testing.T) {
	AddSecrets("registry-only-secret-value", "abc")
	c := &AccessConfig{AccessKey: "AKIDCONFIGURED123456", SecretKey: "configured-secret-value"}
	got := c.Redact("AKIDCONFIGURED123456 configured-secret-value registry-only-secret-value abc")
	if got != "[redacted] [redacted] [redacted] abc" {
		t.Errorf("Redact = %q", got)
	}
}
