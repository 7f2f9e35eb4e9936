package amiwatermark

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	packersdk "github.com/hashicorp/packer-plugin-sdk/packer"
	"github.com/zclconf/go-cty/cty"
)

// configure runs Configure the way Packer does: raw maps, the build's
// common keys first.
func configure(raw map[string]interface{}) (*PostProcessor, error) {
	p := &PostProcessor{}
	err := p.Configure(map[string]interface{}{"packer_build_name": "test", "packer_builder_type": "amazon-ebs"}, raw)
	return p, err
}

// errTexts flattens a Configure error into its messages.
func errTexts(err error) []string {
	if err == nil {
		return nil
	}
	var me *packersdk.MultiError
	if errors.As(err, &me) {
		var out []string
		for _, e := range me.Errors {
			out = append(out, e.Error())
		}
		return out
	}
	return []string{err.Error()}
}

func TestConfigValidation(t *testing.T) {
	const chars = "letters (A-Z, a-z), digits (0-9), spaces and ( ) [ ] . / - ' @ _"
	cases := []struct {
		name string
		raw  map[string]interface{}
		errs []string
	}{
		{name: "one name", raw: map[string]interface{}{"watermarks": []string{"golden"}}},
		{name: "five names", raw: map[string]interface{}{"watermarks": []string{"aaa", "bbb", "ccc", "ddd", "eee"}}},
		{name: "only detach", raw: map[string]interface{}{"detach": []string{"candidate", "111122223333:old"}}},
		{name: "region without image_ids", raw: map[string]interface{}{"watermarks": []string{"golden"}, "region": "eu-west-1"}},
		{name: "image_ids", raw: map[string]interface{}{"watermarks": []string{"golden"}, "image_ids": map[string]string{"us-east-1": "ami-0123456789abcdef0", "eu-west-1": "ami-12345678"}}},
		{name: "all options", raw: map[string]interface{}{
			"watermarks": []string{"approved"}, "detach": []string{"candidate"}, "dry_run": true, "verify": false,
			"require_allowed": true, "wait_timeout": "90s", "fail_on_error": false,
			"access_key": "AKIDTEST111122223333", "secret_key": "secret", "token": "tok", "custom_endpoint_ec2": "http://127.0.0.1:1", "max_retries": 3,
		}},
		{
			name: "nothing to do",
			raw:  map[string]interface{}{},
			errs: []string{"watermarks is required: list 1 to 5 watermark names to attach, or set only detach to remove watermarks"},
		},
		{
			name: "six names",
			raw:  map[string]interface{}{"watermarks": []string{"aaa", "bbb", "ccc", "ddd", "eee", "fff"}},
			errs: []string{"watermarks has 6 names: an AMI can carry at most 5 watermarks, inherited ones included; list at most 5"},
		},
		{
			name: "bad names",
			raw:  map[string]interface{}{"watermarks": []string{"ab", "111122223333:golden", "gold*en"}},
			errs: []string{
				`watermarks[0]: watermark name "ab" is 2 characters long: a name must be 3-128 characters`,
				`watermarks[1]: watermark name "111122223333:golden" contains ':': give the name only (for example "golden"); AWS adds the account id itself and the key becomes ACCOUNT:NAME`,
				`watermarks[2]: watermark name "gold*en" has the character '*' at position 5: a name may contain only ` + chars,
			},
		},
		{
			name: "duplicate name",
			raw:  map[string]interface{}{"watermarks": []string{"golden", "approved", "golden"}},
			errs: []string{`watermarks[2]: "golden" is listed twice (also watermarks[0]): remove the duplicate`},
		},
		{
			name: "bad detach entries",
			raw:  map[string]interface{}{"detach": []string{"12345:old", "x", "111122223333:ok-name", "111122223333:ok-name"}},
			errs: []string{
				`detach[0]: watermark key "12345:old": the account part "12345" is not a 12-digit account id; write a full key ACCOUNT:NAME with the 12-digit account id, or a bare name for the AMI owner's key`,
				`detach[1]: watermark name "x" is 1 characters long: a name must be 3-128 characters`,
				`detach[3]: "111122223333:ok-name" is listed twice (also detach[2]): remove the duplicate`,
			},
		},
		{
			name: "name in detach and watermarks",
			raw:  map[string]interface{}{"watermarks": []string{"approved", "golden"}, "detach": []string{"golden", "111122223333:approved"}},
			errs: []string{`detach[0]: "golden" is also in watermarks (watermarks[1]): a name can't be detached and attached in one run; remove it from one of the two lists`},
		},
		{
			name: "bad image_ids",
			raw: map[string]interface{}{"watermarks": []string{"golden"}, "image_ids": map[string]string{
				"US_EAST_1": "ami-0123456789abcdef0", "eu-west-1": "ami-123", "eu-west-2": "0123456789abcdef0",
				"us-west-2": "ami-0123456789abcdef0", "ap-south-1": "ami-0123456789ABCDEF0",
			}},
			errs: []string{
				`image_ids: "US_EAST_1" is not a region name: write each key as a region like us-east-1`,
				`image_ids["ap-south-1"]: "ami-0123456789ABCDEF0" is not an AMI id: write it as ami- followed by 8 or 17 hexadecimal digits, for example ami-0123456789abcdef0`,
				`image_ids["eu-west-1"]: "ami-123" is not an AMI id: write it as ami- followed by 8 or 17 hexadecimal digits, for example ami-0123456789abcdef0`,
				`image_ids["eu-west-2"]: "0123456789abcdef0" is not an AMI id: write it as ami- followed by 8 or 17 hexadecimal digits, for example ami-0123456789abcdef0`,
				`image_ids: ami-0123456789abcdef0 is given for both "US_EAST_1" and "us-west-2": an AMI belongs to one region; keep only the region it lives in`,
			},
		},
		{
			name: "wait_timeout not a duration",
			raw:  map[string]interface{}{"watermarks": []string{"golden"}, "wait_timeout": "30 minutes"},
			errs: []string{`wait_timeout "30 minutes" is not a duration: write it like 30m, 1h or 90s`},
		},
		{
			name: "wait_timeout zero",
			raw:  map[string]interface{}{"watermarks": []string{"golden"}, "wait_timeout": "0s"},
			errs: []string{`wait_timeout "0s" must be greater than zero`},
		},
		{
			name: "not_found_grace not a duration",
			raw:  map[string]interface{}{"watermarks": []string{"golden"}, "not_found_grace": "soon"},
			errs: []string{`not_found_grace "soon" is not a duration: write it like 2m or 30s`},
		},
		{
			name: "not_found_grace negative",
			raw:  map[string]interface{}{"watermarks": []string{"golden"}, "not_found_grace": "-1m"},
			errs: []string{`not_found_grace "-1m" must be greater than zero`},
		},
		{
			name: "request_timeout not a duration",
			raw:  map[string]interface{}{"watermarks": []string{"golden"}, "request_timeout": "fast"},
			errs: []string{`request_timeout "fast" is not a duration: write it like 30s, 1m or 500ms`},
		},
		{
			name: "every error at once, access config included",
			raw: map[string]interface{}{
				"watermarks": []string{"x"}, "detach": []string{"y"}, "wait_timeout": "-5m",
				"access_key": "AKIDTEST111122223333", "region": "Mars",
			},
			errs: []string{
				"access_key and secret_key must be set together: set both, or neither to use the default credential chain",
				`region "Mars" is not a region name: write it like us-east-1`,
				`watermarks[0]: watermark name "x" is 1 characters long: a name must be 3-128 characters`,
				`detach[0]: watermark name "y" is 1 characters long: a name must be 3-128 characters`,
				`wait_timeout "-5m" must be greater than zero`,
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := configure(tc.raw)
			got := errTexts(err)
			if !reflect.DeepEqual(got, tc.errs) {
				t.Fatalf("Configure errors:\n got  %q\n want %q", got, tc.errs)
			}
		})
	}
}

func TestConfigDefaults(t *testing.T) {
	p, err := configure(map[string]interface{}{"watermarks": []string{"golden"}})
	if err != nil {
		t.Fatal(err)
	}
	c := p.config
	if !c.verify() || !c.failOnError() || c.RequireAllowed || c.DryRun || c.waitTimeout != 30*time.Minute {
		t.Fatalf("defaults: verify=%v fail_on_error=%v require_allowed=%v dry_run=%v wait_timeout=%v", c.verify(), c.failOnError(), c.RequireAllowed, c.DryRun, c.waitTimeout)
	}
	p, err = configure(map[string]interface{}{"watermarks": []string{"golden"}, "verify": false, "fail_on_error": false, "wait_timeout": "1h30m", "dry_run": true, "require_allowed": true})
	if err != nil {
		t.Fatal(err)
	}
	c = p.config
	if c.verify() || c.failOnError() || !c.RequireAllowed || !c.DryRun || c.waitTimeout != 90*time.Minute {
		t.Fatalf("set: verify=%v fail_on_error=%v require_allowed=%v dry_run=%v wait_timeout=%v", c.verify(), c.failOnError(), c.RequireAllowed, c.DryRun, c.waitTimeout)
	}
}

// The HCL2 spec must carry every documented key, with the names.
func TestConfigSpecKeys(t *testing.T) {
	spec := (&PostProcessor{}).ConfigSpec()
	for _, k := range []string{"watermarks", "detach", "image_ids", "dry_run", "verify", "require_allowed", "wait_timeout", "fail_on_error",
		"region", "access_key", "secret_key", "token", "profile", "shared_credentials_file", "assume_role", "custom_endpoint_ec2", "max_retries", "insecure_skip_tls_verify"} {
		if _, ok := spec[k]; !ok {
			t.Errorf("ConfigSpec has no %q", k)
		}
	}
}

// Errors never quote a credential.
func TestConfigErrorsHideSecrets(t *testing.T) {
	_, err := configure(map[string]interface{}{"secret_key": "SUPERSECRETVALUE", "token": "SESSIONTOKENVALUE", "watermarks": []string{"x"}})
	if err == nil {
		t.Fatal("want an error")
	}
	if s := err.Error(); strings.Contains(s, "SUPERSECRETVALUE") || strings.Contains(s, "SESSIONTOKENVALUE") {
		t.Fatalf("error quotes a secret: %s", s)
	}
}

// Issue 12: a null inside a list is named as the template writes it, not
// with the SDK's internal path.
func TestNullElementNamed(t *testing.T) {
	v := cty.ObjectVal(map[string]cty.Value{
		"watermarks":  cty.ListVal([]cty.Value{cty.StringVal("golden"), cty.NullVal(cty.String)}),
		"image_ids":   cty.MapVal(map[string]cty.Value{"us-east-1": cty.NullVal(cty.String)}),
		"assume_role": cty.ObjectVal(map[string]cty.Value{"role_arn": cty.NullVal(cty.String)}),
		"detach":      cty.NullVal(cty.List(cty.String)),
	})
	err := (&PostProcessor{}).Configure(v)
	if err == nil {
		t.Fatal("a null element was accepted")
	}
	for _, want := range []string{"watermarks[1] is null", `image_ids["us-east-1"] is null`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not contain %q", err, want)
		}
	}
	if strings.Contains(err.Error(), "assume_role") || strings.Contains(err.Error(), "detach") {
		t.Errorf("an unset attribute is reported: %v", err)
	}
}
