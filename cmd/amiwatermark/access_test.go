package main

import (
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// Issue 12, item 4: --request-timeout bounds every call; a stalled
// endpoint fails naming endpoint, action and timeout.
func TestInspectRequestTimeout(t *testing.T) {
	newEmu(t) // the environment: credentials, no shared config
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c) // accepted, never answered
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	url := "http://" + ln.Addr().String()
	start := time.Now()
	code, _, stderr := runCLI("inspect", "--endpoint", url, "--region", regionEast, "--max-retries", "1", "--request-timeout", "300ms", "ami-0123456789abcdef0")
	took := time.Since(start)
	if code != exitFail {
		t.Errorf("exit code %d, want %d\n%s", code, exitFail, stderr)
	}
	for _, want := range []string{"no answer from " + url, "DescribeImages", "request_timeout (300ms)"} {
		if !strings.Contains(stderr, strings.ReplaceAll(want, "request_timeout", "--request-timeout")) && !strings.Contains(stderr, want) {
			t.Errorf("stderr does not name %q:\n%s", want, stderr)
		}
	}
	if took > 2*300*time.Millisecond+500*time.Millisecond {
		t.Errorf("inspect took %s, more than --request-timeout × attempts", took)
	}
	if code, _, stderr := runCLI("inspect", "--request-timeout", "soon", "ami-0123456789abcdef0"); code != exitUsage || !strings.Contains(stderr, `--request-timeout "soon" is not a duration`) {
		t.Errorf("bad --request-timeout: exit %d\n%s", code, stderr)
	}
}

// Issue 12: a --profile that does not exist is a usage error (exit 2)
// naming the flag, not raw SDK text.
func TestMissingProfileIsUsageError(t *testing.T) {
	newEmu(t)
	code, _, stderr := runCLI("inspect", "--profile", "no-such-profile", "--region", regionEast, "ami-0123456789abcdef0")
	if code != exitUsage {
		t.Errorf("exit code %d, want %d\n%s", code, exitUsage, stderr)
	}
	if !strings.Contains(stderr, `--profile "no-such-profile": no such profile`) || strings.Contains(stderr, "failed to get shared config profile") {
		t.Errorf("stderr:\n%s", stderr)
	}
}

// Issue 12: an endpoint that echoes the credentials in an error never gets
// them printed: the CLI redacts what the SDK's chain resolved, like the
// plugin.
func TestEchoedSecretRedacted(t *testing.T) {
	newEmu(t)
	const secretKey = "cli-echoed-secret-value-1234"
	t.Setenv("AWS_SECRET_ACCESS_KEY", secretKey)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/xml")
		w.WriteHeader(http.StatusBadRequest)
		_, _ = w.Write([]byte(`<Response><Errors><Error><Code>InvalidParameterValue</Code><Message>bad key ` + keyMe + ` with secret ` + secretKey +
			`</Message></Error></Errors><RequestID>r</RequestID></Response>`))
	}))
	t.Cleanup(srv.Close)
	code, stdout, stderr := runCLI("inspect", "--endpoint", srv.URL, "--region", regionEast, "--max-retries", "0", "ami-0123456789abcdef0")
	if code == exitOK {
		t.Errorf("exit 0 against a failing endpoint")
	}
	out := stdout + stderr
	if strings.Contains(out, secretKey) || strings.Contains(out, keyMe) {
		t.Errorf("a credential is printed:\n%s", out)
	}
	if !strings.Contains(out, "[redacted]") {
		t.Errorf("the echoed message is not shown redacted:\n%s", out)
	}
}
