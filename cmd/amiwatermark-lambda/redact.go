package main

import (
	"context"
	"fmt"
	"io"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/amiwatermark/packer-plugin-amiwatermark/internal/awsconfig"
)

// Every credential the process holds (the SDK chain's, each role's, and
// each renewal of them) is registered here when it is retrieved, and every
// output (the result, the step's reason, log lines) is redacted with them.
//
// REDACT-WIRING: a process-wide registry of credentials is being built in
// internal/awsconfig (branch redact); when it is merged, secrets.add and
// redact below become calls to it.
var secrets struct {
	mu       sync.Mutex
	values   []string
	redactor *awsconfig.Redactor
}

func addSecrets(values ...string) {
	secrets.mu.Lock()
	defer secrets.mu.Unlock()
	for _, v := range values {
		if v != "" {
			secrets.values = append(secrets.values, v)
			secrets.redactor = nil
		}
	}
}

// redact replaces every registered credential value in s.
func redact(s string) string {
	secrets.mu.Lock()
	if secrets.redactor == nil {
		secrets.redactor = awsconfig.NewRedactor(secrets.values...)
	}
	r := secrets.redactor
	secrets.mu.Unlock()
	return r.String(s)
}

// recordingProvider registers every credential it hands out (renewed ones
// included) before the SDK uses it.
type recordingProvider struct{ next aws.CredentialsProvider }

func (p recordingProvider) Retrieve(ctx context.Context) (aws.Credentials, error) {
	c, err := p.next.Retrieve(ctx)
	if err == nil {
		addSecrets(c.AccessKeyID, c.SecretAccessKey, c.SessionToken)
	}
	return c, err
}

// recordCredentials wraps cfg's credentials so that each retrieval is
// registered, cached as the SDK caches them.
func recordCredentials(cfg aws.Config) aws.Config {
	if cfg.Credentials == nil {
		return cfg
	}
	cfg.Credentials = aws.NewCredentialsCache(recordingProvider{next: cfg.Credentials})
	return cfg
}

// logf writes one redacted line to w (standard error: CloudWatch Logs in
// Lambda).
func logf(w io.Writer, format string, args ...any) {
	fmt.Fprintln(w, redact(fmt.Sprintf(format, args...)))
}

// lineLog is the engine's Reporter: its progress lines, redacted, to w.
type lineLog struct{ w io.Writer }

func (l lineLog) Say(line string) { logf(l.w, "%s", line) }
