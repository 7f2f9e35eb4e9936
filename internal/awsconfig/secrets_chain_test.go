package awsconfig

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// An SSO profile: the access token the SDK reads from the SSO cache and
// sends to the portal is registered before it is sent, so a portal (or a
// proxy) that echoes it in an error gets it redacted; the role
// credentials the portal hands out are registered too.
func TestSSOCredentialsRedacted(t *testing.T) {
	const (
		startURL    = "https://example.awsapps.com/start"
		accessToken = "sso-access-token-from-the-cache-0123456789"
		roleKey     = "ASIASSOROLE111122223333"
		roleSecret  = "sso-role-secret-key-0123456789abcdefghij"
		roleToken   = "sso-role-session-token-0123456789abcdef"
	)
	for _, refuse := range []bool{true, false} {
		portal := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			if refuse {
				w.Header().Set("X-Amzn-Errortype", "UnauthorizedException")
				w.WriteHeader(http.StatusUnauthorized)
				_, _ = w.Write([]byte(`{"message":"the token ` + r.Header.Get("X-Amz-Sso_bearer_token") + ` has expired"}`))
				return
			}
			_, _ = w.Write([]byte(`{"roleCredentials":{"accessKeyId":"` + roleKey + `","secretAccessKey":"` + roleSecret +
				`","sessionToken":"` + roleToken + `","expiration":4102444800000}}`))
		}))
		defer portal.Close()
		ssoEnv(t, startURL, accessToken, portal.URL)
		cfg, err := (&AccessConfig{Profile: "sso"}).Config(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		creds, err := cfg.Credentials.Retrieve(context.Background())
		text := creds.AccessKeyID + " " + creds.SecretAccessKey + " " + creds.SessionToken
		if refuse {
			if err == nil || !strings.Contains(err.Error(), accessToken) {
				t.Fatalf("the portal's refusal does not quote the token: %v", err)
			}
			text = err.Error()
		} else if err != nil {
			t.Fatal(err)
		}
		out := Redact(text)
		for _, s := range []string{accessToken, roleKey, roleSecret, roleToken} {
			if strings.Contains(out, s) {
				t.Errorf("refuse=%v: %q is not redacted: %s", refuse, s, out)
			}
		}
	}
}

// ssoEnv writes a legacy SSO profile "sso" and its cached token, and points
// the SDK's SSO client at portal.
func ssoEnv(t *testing.T, startURL, token, portal string) {
	t.Helper()
	home := t.TempDir()
	sum := sha1.Sum([]byte(startURL))
	cache := filepath.Join(home, ".aws", "sso", "cache", hex.EncodeToString(sum[:])+".json")
	cfg := filepath.Join(home, "config")
	for path, body := range map[string]string{
		cache: `{"accessToken":"` + token + `","expiresAt":"2099-01-01T00:00:00Z","region":"us-east-1","startUrl":"` + startURL + `"}`,
		cfg: "[profile sso]\nsso_start_url = " + startURL + "\nsso_region = us-east-1\nsso_account_id = 111122223333\n" +
			"sso_role_name = Reader\nregion = us-east-1\n",
	} {
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	for k, v := range map[string]string{"HOME": home, "AWS_CONFIG_FILE": cfg, "AWS_SHARED_CREDENTIALS_FILE": filepath.Join(home, "none"),
		"AWS_ENDPOINT_URL_SSO": portal, "AWS_EC2_METADATA_DISABLED": "true", "AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": "", "AWS_PROFILE": ""} {
		t.Setenv(k, v)
		if v == "" {
			os.Unsetenv(k)
		}
	}
}

// A web identity token (AWS_WEB_IDENTITY_TOKEN_FILE) is registered before
// it is sent: an STS that echoes it in an error gets it redacted.
func TestWebIdentityTokenRedacted(t *testing.T) {
	const token = "web-identity-token-from-the-file-0123456789"
	stsSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		w.Header().Set("Content-Type", "text/xml")
		w.WriteHeader(http.StatusForbidden)
		_, _ = w.Write([]byte(`<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>refused token ` +
			r.Form.Get("WebIdentityToken") + `</Message></Error><RequestId>x</RequestId></ErrorResponse>`))
	}))
	defer stsSrv.Close()
	dir := t.TempDir()
	tokenFile, empty := filepath.Join(dir, "token"), filepath.Join(dir, "empty")
	if os.WriteFile(tokenFile, []byte(token), 0o600) != nil || os.WriteFile(empty, nil, 0o600) != nil {
		t.Fatal("writing the files")
	}
	for k, v := range map[string]string{"AWS_WEB_IDENTITY_TOKEN_FILE": tokenFile, "AWS_ROLE_ARN": "arn:aws:iam::111122223333:role/W",
		"AWS_ROLE_SESSION_NAME": "s", "AWS_ENDPOINT_URL_STS": stsSrv.URL, "AWS_REGION": "us-east-1", "AWS_CONFIG_FILE": empty,
		"AWS_SHARED_CREDENTIALS_FILE": empty, "AWS_EC2_METADATA_DISABLED": "true", "AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": "", "AWS_PROFILE": ""} {
		t.Setenv(k, v)
		if v == "" {
			os.Unsetenv(k)
		}
	}
	cfg, err := (&AccessConfig{}).Config(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	_, err = cfg.Credentials.Retrieve(context.Background())
	if err == nil || !strings.Contains(err.Error(), token) {
		t.Fatalf("STS's refusal does not quote the token: %v", err)
	}
	if out := Redact(err.Error()); strings.Contains(out, token) {
		t.Errorf("the token is not redacted: %s", out)
	}
}
