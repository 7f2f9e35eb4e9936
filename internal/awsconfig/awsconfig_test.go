package awsconfig

import (
	"strings"
	"testing"
)

func TestPrepare(t *testing.T) {
	neg, big := -1, 101
	cases := []struct {
		name string
		c    AccessConfig
		errs []string
	}{
		{name: "empty is fine"},
		{name: "static", c: AccessConfig{AccessKey: "AKID", SecretKey: "s", Token: "t", Region: "us-east-1"}},
		{name: "secret without key", c: AccessConfig{SecretKey: "topsecret"}, errs: []string{
			"access_key and secret_key must be set together: set both, or neither to use the default credential chain"}},
		{name: "token alone", c: AccessConfig{Token: "tok"}, errs: []string{
			"token is set but access_key is not: a session token is only used together with access_key and secret_key"}},
		{name: "retries", c: AccessConfig{MaxRetries: &neg}, errs: []string{"max_retries is -1: it must be between 0 and 100"}},
		{name: "retries big", c: AccessConfig{MaxRetries: &big}, errs: []string{"max_retries is 101: it must be between 0 and 100"}},
		{name: "endpoint", c: AccessConfig{CustomEndpointEc2: "localhost:4566"}, errs: []string{
			`custom_endpoint_ec2 "localhost:4566" is not a URL: write it as https://host[:port] or http://host:port`}},
		{name: "assume_role without arn", c: AccessConfig{AssumeRole: AssumeRoleConfig{SessionName: "x"}}, errs: []string{
			"assume_role: role_arn is required when the assume_role block is used"}},
		{name: "assume_role bad", c: AccessConfig{AssumeRole: AssumeRoleConfig{RoleARN: "role/x", DurationSeconds: 60}}, errs: []string{
			`assume_role.role_arn "role/x" is not an ARN: write it as arn:aws:iam::123456789012:role/NAME`,
			"assume_role.duration_seconds is 60: it must be between 900 and 43200"}},
	}
	for _, tc := range cases {
		var got []string
		for _, err := range tc.c.Prepare() {
			got = append(got, err.Error())
		}
		if strings.Join(got, "\n") != strings.Join(tc.errs, "\n") {
			t.Errorf("%s:\n got  %q\n want %q", tc.name, got, tc.errs)
		}
		for _, e := range got {
			if strings.Contains(e, "topsecret") {
				t.Errorf("%s: error quotes the secret: %s", tc.name, e)
			}
		}
	}
}

func TestRedact(t *testing.T) {
	c := AccessConfig{AccessKey: "AKIDTEST111122223333", SecretKey: "wJalrXUtnFEMI", Token: "FwoGZXIvYXdz"}
	got := c.Redact("key AKIDTEST111122223333 secret wJalrXUtnFEMI token FwoGZXIvYXdz account 111122223333")
	want := "key [redacted] secret [redacted] token [redacted] account 111122223333"
	if got != want {
		t.Errorf("Redact = %q, want %q", got, want)
	}
	short := AccessConfig{AccessKey: "a", SecretKey: "b"}
	if got := short.Redact("a b c"); got != "a b c" {
		t.Errorf("short values redacted: %q", got)
	}
	if n := len(c.Secrets()); n != 3 {
		t.Errorf("Secrets() has %d values", n)
	}
}

func TestRetryMaxAttempts(t *testing.T) {
	zero := 0
	if got := (&AccessConfig{}).RetryMaxAttempts(); got != DefaultMaxRetries+1 {
		t.Errorf("default attempts %d", got)
	}
	if got := (&AccessConfig{MaxRetries: &zero}).RetryMaxAttempts(); got != 1 {
		t.Errorf("max_retries=0 gives %d attempts", got)
	}
}
