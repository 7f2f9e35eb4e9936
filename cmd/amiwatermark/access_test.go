package main

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/amiwatermark/packer-plugin-amiwatermark/internal/awsconfig"
	"github.com/amiwatermark/packer-plugin-amiwatermark/internal/ec2emu"
	"github.com/amiwatermark/packer-plugin-amiwatermark/internal/testkit"
)

// Issue 12, item 4: --request-timeout bounds every call; a stalled
// endpoint fails naming endpoint, action and timeout.
func TestInspectRequestTimeout(t *testing.T) {
	newEmu(t) // the environment: credentials, no shared config
	url := testkit.StalledEndpoint(t)
	start := time.Now()
	code, _, stderr := runCLI("inspect", "--endpoint", url, "--region", regionEast, "--max-retries", "1", "--request-timeout", "300ms", "ami-0123456789abcdef0")
	took := time.Since(start)
	if code != exitFail {
		t.Errorf("exit code %d, want %d\n%s", code, exitFail, stderr)
	}
	for _, want := range []string{"no answer from " + url, "DescribeImages", "--request-timeout (300ms)"} {
		if !strings.Contains(stderr, want) {
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

// Issue 12: the CLI measures ages against EC2's clock, the rule of the
// data source and the post-processor (awsconfig.Clock): with the
// emulator's clock 10 days ahead, `inspect` dates "now" 10 days ahead.
func TestInspectAgesAgainstEC2Clock(t *testing.T) {
	e := newEmu(t)
	id := e.seed(ec2emu.SeedImage{Region: regionEast, Account: acctMe, Name: "app"})[0]
	e.Emulator.AdvanceClock(10 * testDay)
	code, stdout, stderr := e.cli("inspect", "--region", regionEast, "--json", id)
	if code != exitOK {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	var out struct {
		At time.Time `json:"at"`
	}
	if err := json.Unmarshal([]byte(stdout), &out); err != nil {
		t.Fatal(err)
	}
	if d := out.At.Sub(time.Now()); d < 10*testDay-time.Minute || d > 10*testDay+time.Minute {
		t.Errorf("at = %v, %v from the local clock; want EC2's clock, 10 days ahead", out.At, d)
	}
	// An absolute --at stays as given.
	_, stdout, _ = e.cli("inspect", "--region", regionEast, "--json", "--at", "2026-07-01", id)
	if err := json.Unmarshal([]byte(stdout), &out); err != nil || !out.At.Equal(time.Date(2026, 7, 1, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("--at 2026-07-01: at = %v (%v)", out.At, err)
	}
}

// A credential cut in two by the writes of a stream (a bufio.Writer's
// flushes) is redacted all the same: the writer holds back an end that
// may begin one until the next write or Flush.
func TestRedactWriterAcrossWrites(t *testing.T) {
	const secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
	const key = "AKIAIOSFODNN7EXAMPLA" // ends with the A that begins it
	awsconfig.AddSecrets(secret, key)
	text := "first " + secret + " middle wJal not it " + secret + secret + " key=" + key + "\nlast wJalrX"
	want := "first [redacted] middle wJal not it [redacted][redacted] key=[redacted]\nlast wJalrX"
	for size := 1; size <= len(text); size++ {
		var out strings.Builder
		w := awsconfig.NewRedactWriter(&out)
		for i := 0; i < len(text); i += size {
			if _, err := w.Write([]byte(text[i:min(i+size, len(text))])); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}
		if out.String() != want {
			t.Fatalf("writes of %d bytes: %q\nwant %q", size, out.String(), want)
		}
	}
}
