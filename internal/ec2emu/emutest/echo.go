package emutest

import (
	"bytes"
	"encoding/xml"
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// CredentialEcho is a handler in front of the emulator (Options.Wrap) that
// plays the worst server for credentials, to test their redaction:
//   - the AssumeRole answers it passes on expire at once, so the SDK renews
//     a role's credentials before each call that uses them;
//   - the requests of Actions are answered with an error that quotes the
//     credentials that signed them: the access key id, its secret key (one
//     STS handed out through it, or one of Known) and the session token.
type CredentialEcho struct {
	// Actions are answered with the echo (query-protocol actions such as
	// DescribeImages or AssumeRole).
	Actions []string
	// Known maps access key ids to secret keys that do not go over the
	// wire (long-term keys), so that the echo can quote them.
	Known map[string]string
	// After: this many requests of Actions pass untouched first.
	After int

	mu     sync.Mutex
	passed int
	issued []aws.Credentials
	echoed []aws.Credentials
}

// Issued returns every credential AssumeRole handed out, in order.
func (e *CredentialEcho) Issued() []aws.Credentials {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.Clone(e.issued)
}

// Echoed returns the credentials the echo quoted, in order.
func (e *CredentialEcho) Echoed() []aws.Credentials {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.Clone(e.echoed)
}

// Wrap puts the echo in front of next.
func (e *CredentialEcho) Wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		form, _ := url.ParseQuery(string(body))
		action := form.Get("Action")
		if slices.Contains(e.Actions, action) && !e.pass() {
			e.echo(w, r)
			return
		}
		if action != "AssumeRole" || slices.Contains(e.Actions, action) {
			next.ServeHTTP(w, r)
			return
		}
		rec := httptest.NewRecorder()
		next.ServeHTTP(rec, r)
		out := rec.Body.Bytes()
		if rec.Code == http.StatusOK {
			out = e.expireAtOnce(out)
		}
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		w.Header().Set("Content-Length", strconv.Itoa(len(out)))
		w.WriteHeader(rec.Code)
		_, _ = w.Write(out)
	})
}

// pass counts a request of Actions and tells whether it passes (After).
func (e *CredentialEcho) pass() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.passed++
	return e.passed <= e.After
}

var expiration = regexp.MustCompile(`<Expiration>[^<]*</Expiration>`)

// expireAtOnce records the credentials of an AssumeRole answer and sets
// their expiration to now.
func (e *CredentialEcho) expireAtOnce(answer []byte) []byte {
	var v struct {
		Creds struct {
			AccessKeyID     string `xml:"AccessKeyId"`
			SecretAccessKey string
			SessionToken    string
		} `xml:"AssumeRoleResult>Credentials"`
	}
	if xml.Unmarshal(answer, &v) == nil && v.Creds.AccessKeyID != "" {
		e.mu.Lock()
		e.issued = append(e.issued, aws.Credentials{AccessKeyID: v.Creds.AccessKeyID, SecretAccessKey: v.Creds.SecretAccessKey, SessionToken: v.Creds.SessionToken})
		e.mu.Unlock()
	}
	now := "<Expiration>" + time.Now().UTC().Format(time.RFC3339) + "</Expiration>"
	return expiration.ReplaceAll(answer, []byte(now))
}

// echo answers an error quoting the request's credentials, in the error
// format of the service (STS's or EC2's).
func (e *CredentialEcho) echo(w http.ResponseWriter, r *http.Request) {
	key, service := signingScope(r)
	c := aws.Credentials{AccessKeyID: key, SessionToken: r.Header.Get("X-Amz-Security-Token")}
	e.mu.Lock()
	c.SecretAccessKey = e.Known[c.AccessKeyID]
	for _, i := range e.issued {
		if i.AccessKeyID == c.AccessKeyID {
			c.SecretAccessKey = i.SecretAccessKey
		}
	}
	e.echoed = append(e.echoed, c)
	e.mu.Unlock()
	msg := html.EscapeString("The request signed with access key " + c.AccessKeyID + ", secret key " + c.SecretAccessKey +
		" and session token " + c.SessionToken + " was refused.")
	w.Header().Set("Content-Type", "text/xml")
	w.WriteHeader(http.StatusForbidden)
	if service == "sts" {
		_, _ = io.WriteString(w, `<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>`+msg+
			`</Message></Error><RequestId>echo</RequestId></ErrorResponse>`)
		return
	}
	_, _ = io.WriteString(w, `<Response><Errors><Error><Code>AuthFailure</Code><Message>`+msg+
		`</Message></Error></Errors><RequestID>echo</RequestID></Response>`)
}

// signingScope is the access key id and the service of a SigV4
// Authorization header (Credential=KEY/DATE/REGION/SERVICE/aws4_request).
func signingScope(r *http.Request) (key, service string) {
	_, cred, _ := strings.Cut(r.Header.Get("Authorization"), "Credential=")
	cred, _, _ = strings.Cut(cred, ",")
	parts := strings.Split(cred, "/")
	if len(parts) < 4 {
		return parts[0], ""
	}
	return parts[0], parts[3]
}

// Front starts the echo in front of the server at target (the emulator's
// URL) and returns the echo's URL; it closes when the test ends.
func (e *CredentialEcho) Front(t testing.TB, target string) string {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(e.Wrap(httputil.NewSingleHostReverseProxy(u)))
	t.Cleanup(srv.Close)
	return srv.URL
}

// Renewed reports whether the echo quoted a role's credential other than
// the first one AssumeRole handed out: one the SDK renewed.
func (e *CredentialEcho) Renewed() bool {
	issued, echoed := e.Issued(), e.Echoed()
	for _, c := range echoed {
		if len(issued) > 1 && strings.HasPrefix(c.AccessKeyID, "ASIA") && c.AccessKeyID != issued[0].AccessKeyID && c.SecretAccessKey != "" {
			return true
		}
	}
	return false
}

// Leaked returns the credentials in play (issued, echoed, Known) that text
// quotes, HTML entities unescaped.
func (e *CredentialEcho) Leaked(text string) []string {
	text = html.UnescapeString(text)
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []string
	for _, c := range append(slices.Clone(e.issued), e.echoed...) {
		for _, v := range []string{c.AccessKeyID, c.SecretAccessKey, c.SessionToken} {
			if v != "" && strings.Contains(text, v) && !slices.Contains(out, v) {
				out = append(out, v)
			}
		}
	}
	for k, v := range e.Known {
		for _, s := range []string{k, v} {
			if strings.Contains(text, s) && !slices.Contains(out, s) {
				out = append(out, s)
			}
		}
	}
	return out
}
