package e2e

import (
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"
)

// credentialRecorder is a reverse proxy in front of the emulator that
// records the credentials each EC2 API request carried: the access key id
// of the SigV4 Authorization header and the X-Amz-Security-Token header.
type credentialRecorder struct {
	mu         sync.Mutex
	requests   int
	accessKeys map[string]int
	tokens     map[string]int
}

func (p *stack) startCredentialProxy(t *testing.T) (*credentialRecorder, string) {
	t.Helper()
	target, err := url.Parse(p.emuURL)
	if err != nil {
		t.Fatal(err)
	}
	rec := &credentialRecorder{accessKeys: map[string]int{}, tokens: map[string]int{}}
	proxy := httputil.NewSingleHostReverseProxy(target)
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.URL.Path, "/_emu/") {
			akid := ""
			if _, cred, ok := strings.Cut(r.Header.Get("Authorization"), "Credential="); ok {
				akid, _, _ = strings.Cut(cred, "/")
			}
			rec.mu.Lock()
			rec.requests++
			rec.accessKeys[akid]++
			rec.tokens[r.Header.Get("X-Amz-Security-Token")]++
			rec.mu.Unlock()
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(ts.Close)
	return rec, ts.URL
}

func (c *credentialRecorder) reset() {
	c.mu.Lock()
	c.requests, c.accessKeys, c.tokens = 0, map[string]int{}, map[string]int{}
	c.mu.Unlock()
}

// check fails unless every request since the last reset carried akid and
// token, and there were at least min of them.
func (c *credentialRecorder) check(t *testing.T, akid, token string, min int) {
	t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.requests < min {
		t.Errorf("the emulator received %d EC2 requests, want at least %d", c.requests, min)
	}
	if c.accessKeys[akid] != c.requests || len(c.accessKeys) != 1 {
		t.Errorf("access key ids of the %d requests: %d were the configured one, %d distinct values", c.requests, c.accessKeys[akid], len(c.accessKeys))
	}
	if c.tokens[token] != c.requests || len(c.tokens) != 1 {
		t.Errorf("session tokens of the %d requests: %d were the configured one, %d distinct values", c.requests, c.tokens[token], len(c.tokens))
	}
}

func randomHex(t *testing.T, n int) string {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

// leaks returns the credentials (by name) that appear in out, also in the
// encoded forms a log line could carry them in.
func leaks(out string, secrets map[string]string) []string {
	var found []string
	for name, s := range secrets {
		for _, form := range []string{s, url.QueryEscape(s), strings.ToLower(s), s[:len(s)*2/3]} {
			if strings.Contains(out, form) {
				found = append(found, name)
				break
			}
		}
	}
	return found
}

// TestCredentialsNeverPrinted is the security check of issue 7: with
// PACKER_LOG=1 (Packer's debug log, which includes everything the plugin
// logs, on stderr), the data source and the post-processor run with static
// credentials and a session token, given as ordinary variables, and none of
// the three appears anywhere in stdout or stderr: not on success, and not
// when EC2's error messages quote them. A proxy in front of the emulator
// checks that the requests did carry them (so the check can fail), and the
// account of the access key is the one the watermarks end up with.
func TestCredentialsNeverPrinted(t *testing.T) {
	forEachPacker(t, func(t *testing.T, p *stack) {
		const account = "135791357913"
		accessKey := "AKIA" + strings.ToUpper(randomHex(t, 2)) + account
		secretKey := randomHex(t, 20)
		token := "IQoJb3JpZ2luX2VjE" + randomHex(t, 48)
		secrets := map[string]string{"access key": accessKey, "secret key": secretKey, "session token": token}

		p.resetEmulator(t)
		id := p.seed(t, seedImage{Region: "us-east-1", Account: account, Name: "sec-base-1", Watermarks: []seedWatermark{{Key: "sec-base"}},
			SharedWith: []string{testAccount}})[0]
		rec, proxyURL := p.startCredentialProxy(t)
		tpl := testdata("security.pkr.hcl")
		// The credentials come from the environment, the way CI passes them;
		// the other variables on the command line.
		envVars := []string{"PACKER_LOG=1", "PKR_VAR_access_key=" + accessKey, "PKR_VAR_secret_key=" + secretKey, "PKR_VAR_token=" + token}
		args := []string{"build", "-color=false", "-var", "endpoint=" + proxyURL, "-var", "account=" + account, tpl}

		t.Run("success", func(t *testing.T) {
			rec.reset()
			r := p.runPacker(t, "", envVars, args...)
			mustSucceed(t, r)
			if l := leaks(r.Output(), secrets); len(l) > 0 {
				t.Errorf("the output contains the %s", strings.Join(l, ", "))
			}
			// The debug log is on and carries the plugin's own lines.
			mustContain(t, r, "[INFO] Packer version", "packer-plugin-amiwatermark", "attached "+account+":sec-approved")
			// The requests carried the credentials: data source describe,
			// post-processor describe, attach, verify.
			rec.check(t, accessKey, token, 4)
			// The emulator took the account from the access key.
			p.wantKeys(t, "us-east-1", id, account+":sec-base", account+":sec-approved")
		})

		// EC2 (or a proxy) quoting the credentials in an error: the text is
		// redacted by the data source and by the post-processor.
		quoting := "The security token " + token + " for " + accessKey + " signed with " + secretKey + " is invalid."
		for _, c := range []struct {
			name, action, want string
		}{
			{"data source error", "DescribeImages", "amiwatermark: DescribeImages in us-east-1"},
			{"post-processor error", "AttachImageWatermark", `:sec-other could not be checked`},
		} {
			t.Run(c.name, func(t *testing.T) {
				p.emuDo(t, http.MethodPost, "/_emu/faults", map[string]any{
					"fail_rate": 1, "fail_code": "AuthFailure", "fail_status": 401, "fail_message": quoting, "actions": []string{c.action}}, nil)
				defer p.emuDo(t, http.MethodPost, "/_emu/faults", map[string]any{}, nil)
				rec.reset()
				// A name the image does not carry yet, so an attach is made.
				failArgs := append([]string{}, args[:len(args)-1]...)
				failArgs = append(failArgs, "-var", `names=["sec-other"]`, tpl)
				r := p.runPacker(t, "", envVars, failArgs...)
				mustFail(t, r)
				mustContain(t, r, c.want, "AuthFailure: The security token [redacted] for [redacted] signed with [redacted] is invalid.")
				if l := leaks(r.Output(), secrets); len(l) > 0 {
					t.Errorf("the output contains the %s", strings.Join(l, ", "))
				}
				rec.check(t, accessKey, token, 1)
			})
		}
	})
}
