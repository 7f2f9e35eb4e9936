package amiwatermark

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/amiwatermark/packer-plugin-amiwatermark/internal/ec2emu/emutest"
)

// The data source redacts every credential the process
// holds, not only access_key/secret_key/token: here a profile's role_arn
// assumed with its source profile's keys, renewed during the run.
// emutest.CredentialEcho makes the role's credentials expire at once (the
// SDK renews them before each call) and answers the second DescribeImages
// with an error quoting the credentials that signed it.
func TestDatasourceRedactsProfileRoleRenewed(t *testing.T) {
	e := newEmu(t)
	const srcSecret = "datasource-profile-source-secret-0123"
	srcKey := emutest.AccessKey(acctConsumer)
	echo := &emutest.CredentialEcho{Actions: []string{"DescribeImages"}, After: 1, Known: map[string]string{srcKey: srcSecret}}
	front := echo.Front(t, e.URL)
	dir := t.TempDir()
	cfg, empty := filepath.Join(dir, "config"), filepath.Join(dir, "empty")
	profile := "[profile src]\naws_access_key_id = " + srcKey + "\naws_secret_access_key = " + srcSecret +
		"\n\n[profile role]\nrole_arn = arn:aws:iam::" + acctConsumer + ":role/Reader\nsource_profile = src\n"
	if os.WriteFile(cfg, []byte(profile), 0o600) != nil || os.WriteFile(empty, nil, 0o600) != nil {
		t.Fatal("writing the shared config")
	}
	for k, v := range map[string]string{"AWS_CONFIG_FILE": cfg, "AWS_SHARED_CREDENTIALS_FILE": empty, "AWS_EC2_METADATA_DISABLED": "true",
		"AWS_ENDPOINT_URL_STS": front, "AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": "", "AWS_SESSION_TOKEN": "", "AWS_PROFILE": ""} {
		t.Setenv(k, v)
		if v == "" {
			os.Unsetenv(k)
		}
	}
	d := &Datasource{}
	if err := d.Configure(map[string]interface{}{"profile": "role", "region": "us-east-1", "custom_endpoint_ec2": front, "max_retries": 0,
		"watermark_keys": []string{golden}, "owners": []string{"self", "amazon"}}); err != nil {
		t.Fatal(err)
	}
	_, err := d.Execute()
	if err == nil {
		t.Fatal("want an error")
	}
	if leaked := echo.Leaked(err.Error()); len(leaked) > 0 {
		t.Errorf("the error quotes %d credentials %.40q:\n%s", len(leaked), leaked, err)
	}
	if !strings.Contains(err.Error(), "The request signed with access key [redacted]") {
		t.Errorf("the echo is not shown redacted: %v", err)
	}
	if !echo.Renewed() {
		t.Errorf("the echo quoted no renewed role credential: %v", echo.Echoed())
	}
}
