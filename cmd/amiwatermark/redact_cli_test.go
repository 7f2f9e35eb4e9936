package main

import (
	"html"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/amiwatermark/packer-plugin-amiwatermark/internal/ec2emu/emutest"
)

// Every credential the CLI holds, renewed ones included,
// is redacted in every output. An echo (emutest.CredentialEcho) in front
// of the emulator makes the roles' credentials expire at once, so the SDK
// renews them before each call, and answers DescribeImages with an error
// quoting the credentials that signed it.

// echoFront starts echo in front of e, points STS at it and returns its URL.
func echoFront(t *testing.T, e *emu, echo *emutest.CredentialEcho) string {
	t.Helper()
	u, err := url.Parse(e.URL)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(echo.Wrap(httputil.NewSingleHostReverseProxy(u)))
	t.Cleanup(srv.Close)
	t.Setenv("AWS_ENDPOINT_URL_STS", srv.URL)
	return srv.URL
}

// wantRedacted fails when an output quotes a credential of creds (HTML
// unescaped first), or when no output says [redacted].
func wantRedacted(t *testing.T, outputs map[string]string, creds []aws.Credentials) {
	t.Helper()
	said := false
	for name, out := range outputs {
		out = html.UnescapeString(out)
		said = said || strings.Contains(out, "[redacted]")
		var leaked []string
		for _, c := range creds {
			for _, v := range []string{c.AccessKeyID, c.SecretAccessKey, c.SessionToken} {
				if v != "" && strings.Contains(out, v) && !slices.Contains(leaked, v) {
					leaked = append(leaked, v)
				}
			}
		}
		if len(leaked) > 0 {
			t.Errorf("%s quotes %d credentials, %.40q...:\n%.1500s", name, len(leaked), leaked, out)
		}
	}
	if !said {
		t.Errorf("no output shows the echo redacted: %v", outputs)
	}
}

// renewed checks that the echo quoted a role credential other than the
// first one AssumeRole handed out, and returns every credential in play.
func renewed(t *testing.T, echo *emutest.CredentialEcho) []aws.Credentials {
	t.Helper()
	issued, echoed := echo.Issued(), echo.Echoed()
	if len(issued) < 2 {
		t.Fatalf("AssumeRole handed out %d credentials: no renewal", len(issued))
	}
	found := false
	for _, c := range echoed {
		found = found || (strings.HasPrefix(c.AccessKeyID, "ASIA") && c.AccessKeyID != issued[0].AccessKeyID && c.SecretAccessKey != "")
	}
	if !found {
		t.Fatalf("the echo quoted no renewed credential: %v", echoed)
	}
	return append(issued, echoed...)
}

// A role_arn profile: the SDK's chain assumes the role with the source
// profile's keys and renews the role's credentials during the run.
func TestRenewedProfileRoleRedacted(t *testing.T) {
	e := newEmu(t)
	const srcSecret = "profile-source-secret-key-0123456789"
	echo := &emutest.CredentialEcho{Actions: []string{"DescribeImages"}, Known: map[string]string{keyMe: srcSecret}}
	front := echoFront(t, e, echo)
	cfg := writeFile(t, "config", "[profile src]\naws_access_key_id = "+keyMe+"\naws_secret_access_key = "+srcSecret+
		"\n\n[profile role]\nrole_arn = arn:aws:iam::"+acctOther+":role/Reader\nsource_profile = src\nregion = "+regionEast+"\n")
	t.Setenv("AWS_CONFIG_FILE", cfg)
	for _, form := range [][]string{nil, {"--json"}} {
		args := append([]string{"inspect", "--endpoint", front, "--profile", "role", "--max-retries", "0"}, form...)
		code, out, errOut := runCLI(append(args, regionEast+":ami-0123456789abcdef0", regionWest+":ami-0123456789abcdef1")...)
		if code == exitOK {
			t.Fatalf("%v: exit 0 against the echo\n%s", form, errOut)
		}
		wantRedacted(t, map[string]string{"stdout": out, "stderr": errOut}, renewed(t, echo))
	}
}

// An organization-wide run: each account's role is renewed during the run;
// its failures are shown in stderr, --json and the --html report.
func TestRenewedOrgRolesRedacted(t *testing.T) {
	o := newOrgEmu(t)
	o.seedAccounts([]string{regionEast}, acctMe, acctOther, acctThird)
	echo := &emutest.CredentialEcho{Actions: []string{"DescribeImages"}, Known: map[string]string{keyMe: "secret"}}
	front := echoFront(t, o.emu, echo)
	crit := writeFile(t, "policy.json", simCriteria)
	page := filepath.Join(t.TempDir(), "r.html")
	code, out, errOut := runCLI("simulate", "--endpoint", front, "--criteria", crit, "--regions", regionEast, "--max-retries", "0",
		"--accounts", acctMe+","+acctOther+","+acctThird, "--role-name", "Audit", "--json", "--html", page)
	wantCode(t, code, 1, out, errOut)
	report, err := os.ReadFile(page)
	if err != nil {
		t.Fatal(err)
	}
	wantContains(t, "--json", out, `"failures"`, "AuthFailure")
	wantContains(t, "--html", string(report), `<table id="failures">`, "AuthFailure")
	wantRedacted(t, map[string]string{"stdout": out, "stderr": errOut, "html": string(report)}, renewed(t, echo))
}

// The source profile's keys sign the role's AssumeRole and never come out
// of the chain: an STS that echoes them gets them redacted too.
func TestProfileSourceKeysRedacted(t *testing.T) {
	e := newEmu(t)
	const srcKey, srcSecret = "AKIDSOURCE" + acctMe, "profile-source-secret-key-9876543210"
	echo := &emutest.CredentialEcho{Actions: []string{"AssumeRole"}, Known: map[string]string{srcKey: srcSecret}}
	front := echoFront(t, e, echo)
	cfg := writeFile(t, "config", "[profile src]\naws_access_key_id = "+srcKey+"\naws_secret_access_key = "+srcSecret+
		"\n\n[profile role]\nrole_arn = arn:aws:iam::"+acctOther+":role/Reader\nsource_profile = src\nregion = "+regionEast+"\n")
	t.Setenv("AWS_CONFIG_FILE", cfg)
	code, out, errOut := runCLI("inspect", "--endpoint", front, "--profile", "role", "--max-retries", "0", "--json", "ami-0123456789abcdef0")
	if code == exitOK || len(echo.Echoed()) == 0 {
		t.Fatalf("exit %d, %d echoes\n%s", code, len(echo.Echoed()), errOut)
	}
	if leaked := echo.Leaked(out + errOut); len(leaked) > 0 {
		t.Errorf("the output quotes %q:\n%s%s", leaked, out, errOut)
	}
	wantContains(t, "stderr", errOut, "AccessDenied: The request signed with access key [redacted]")
}
