package main

import (
	"fmt"
	"io"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/amiwatermark/packer-plugin-amiwatermark/internal/awsconfig"
)

// Every credential the process holds (the SDK chain's, each role's, and
// each renewal of them) is registered in awsconfig's process-wide registry
// when it is retrieved, and every output (the result, the step's reason,
// log lines) is redacted with them.

func addSecrets(values ...string) { awsconfig.AddSecrets(values...) }

// redact replaces every registered credential value in s.
func redact(s string) string { return awsconfig.Redact(s) }

// recordCredentials wraps cfg's credentials so that each retrieval is
// registered, cached as the SDK caches them.
func recordCredentials(cfg aws.Config) aws.Config {
	if cfg.Credentials != nil {
		cfg.Credentials = awsconfig.RegisterCredentials(cfg.Credentials)
	}
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
