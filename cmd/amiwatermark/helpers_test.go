package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/amiwatermark/packer-plugin-amiwatermark/internal/ec2emu"
	"github.com/amiwatermark/packer-plugin-amiwatermark/internal/ec2emu/emutest"
)

// Accounts of the tests. The emulator takes the account from the last 12
// digits of the access key id.
const (
	acctMe      = "111122223333" // the caller of the CLI
	acctOther   = "444455556666" // shares images with the caller
	acctAmazon  = "137112412989" // owner alias "amazon"
	keyMe       = "AKIDTEST" + acctMe
	keyOther    = "AKIDTEST" + acctOther
	regionEast  = "us-east-1"
	regionWest  = "eu-west-1"
	testDay     = 24 * time.Hour
	testTimeout = 2 * time.Minute
)

// emu is the in-process emulator behind a recorder of the API requests
// (form bodies, whatever the service) and of the peak number of requests
// in flight.
type emu struct {
	*emutest.Server
	t *testing.T

	mu       sync.Mutex
	reqs     []string // API request bodies in arrival order
	arrived  []time.Time
	inflight int
	peak     int // the most requests in flight at once
}

// record is the recorder, in front of the emulator.
func (e *emu) record(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && r.URL.Path == "/" {
			b, err := io.ReadAll(r.Body)
			r.Body = io.NopCloser(bytes.NewReader(b))
			e.mu.Lock()
			if err == nil {
				e.reqs = append(e.reqs, string(b))
				e.arrived = append(e.arrived, time.Now())
			}
			e.inflight++
			e.peak = max(e.peak, e.inflight)
			e.mu.Unlock()
			defer func() {
				e.mu.Lock()
				e.inflight--
				e.mu.Unlock()
			}()
		}
		next.ServeHTTP(w, r)
	})
}

// distinct returns the distinct API request bodies of action received since
// the last clearRequests, in first-arrival order. A request the SDK retried
// (same body) counts once, so tests can count pages exactly even if a
// connection error makes the SDK retry one.
func (e *emu) distinct(action string) []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []string
	seen := map[string]bool{}
	for _, b := range e.reqs {
		if strings.HasPrefix(b, "Action="+action+"&") && !seen[b] {
			seen[b] = true
			out = append(out, b)
		}
	}
	return out
}

func (e *emu) clearRequests() {
	e.mu.Lock()
	e.reqs, e.arrived = nil, nil
	e.mu.Unlock()
}

// newEmu starts an in-process emulator and points the SDK's default
// credential chain at account acctMe through the environment (so the tests
// using it cannot run in parallel). Shared config files and IMDS are cut
// off so the machine's own AWS setup cannot leak in.
func newEmu(t *testing.T) *emu { return newEmuWith(t, emutest.Options{}) }

// newEmuWith is newEmu with the emulator's options (its Wrap is the
// recorder's).
func newEmuWith(t *testing.T, opts emutest.Options) *emu {
	t.Helper()
	e := &emu{t: t}
	opts.Wrap = e.record
	e.Server = emutest.NewServer(t, opts)
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for k, v := range map[string]string{
		"AWS_ACCESS_KEY_ID":           keyMe,
		"AWS_SECRET_ACCESS_KEY":       "secret",
		"AWS_SESSION_TOKEN":           "",
		"AWS_CONFIG_FILE":             empty,
		"AWS_SHARED_CREDENTIALS_FILE": empty,
		"AWS_EC2_METADATA_DISABLED":   "true",
		"AWS_PROFILE":                 "",
		"AWS_DEFAULT_PROFILE":         "",
		"AWS_REGION":                  "",
		"AWS_DEFAULT_REGION":          "",
		"AWS_ENDPOINT_URL":            "",
		"AWS_ENDPOINT_URL_EC2":        "",
		"AWS_MAX_ATTEMPTS":            "",
		"AWS_RETRY_MODE":              "",
	} {
		t.Setenv(k, v) // restores the old value after the test
		if v == "" {
			os.Unsetenv(k)
		}
	}
	return e
}

// cli runs the command in-process against the emulator (--endpoint is
// added after the subcommand) and returns exit code, stdout and stderr.
func (e *emu) cli(args ...string) (int, string, string) {
	e.t.Helper()
	full := args
	if len(args) > 0 {
		full = append([]string{args[0], "--endpoint", e.URL}, args[1:]...)
	}
	return runCLI(full...)
}

func runCLI(args ...string) (int, string, string) {
	var out, errb bytes.Buffer
	code := run(args, &out, &errb)
	return code, out.String(), errb.String()
}

func (e *emu) seed(imgs ...ec2emu.SeedImage) []string {
	e.t.Helper()
	return e.SeedImages(e.t, imgs...)
}

// ts renders t for seed JSON.
func ts(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	t.Cleanup(cancel)
	return ctx
}

// writeFile writes content to a file in a temp dir and returns its path.
func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func wantCode(t *testing.T, got, want int, stdout, stderr string) {
	t.Helper()
	if got != want {
		t.Fatalf("exit code %d, want %d\nstdout:\n%s\nstderr:\n%s", got, want, stdout, stderr)
	}
}

func wantContains(t *testing.T, what, s string, subs ...string) {
	t.Helper()
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			t.Errorf("%s does not contain %q:\n%s", what, sub, s)
		}
	}
}

func lines(s string) []string {
	s = strings.TrimRight(s, "\n")
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}
