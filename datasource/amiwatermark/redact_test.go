package amiwatermark

import (
	"errors"
	"strings"
	"testing"

	"github.com/aws/smithy-go"

	"github.com/amiwatermark/packer-plugin-amiwatermark/internal/ec2emu"
)

// TestDatasourceRedactsCredentials: an EC2 error that quotes the configured
// credentials reaches Packer with them replaced by [redacted]; the error
// still unwraps to the EC2 API error.
func TestDatasourceRedactsCredentials(t *testing.T) {
	e := newEmu(t)
	const (
		akid   = "AKIDREDACT" + acctConsumer
		secret = "wJalrXUtnFEMI-datasource-secret"
		token  = "IQoJb3JpZ2luX2VjEdatasource-token"
	)
	if err := e.Emulator.SetFaults(ec2emu.Faults{FailRate: 1, FailCode: "AuthFailure", FailStatus: 401,
		FailMessage: "token " + token + " of " + akid + " signed with " + secret + " is invalid", Actions: []string{"DescribeImages"}}); err != nil {
		t.Fatal(err)
	}
	raw := e.config(acctConsumer, "us-east-1", map[string]interface{}{"watermark_keys": []string{golden}, "owners": []string{"self"}})
	raw["access_key"], raw["secret_key"], raw["token"] = akid, secret, token
	d := &Datasource{}
	if err := d.Configure(raw); err != nil {
		t.Fatal(err)
	}
	_, err := d.Execute()
	if err == nil {
		t.Fatal("want an error")
	}
	msg := err.Error()
	for _, s := range []string{akid, secret, token} {
		if strings.Contains(msg, s) {
			t.Errorf("the error quotes a credential: %s", msg)
		}
	}
	if !strings.Contains(msg, "AuthFailure: token [redacted] of [redacted] signed with [redacted] is invalid") {
		t.Errorf("error: %s", msg)
	}
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != "AuthFailure" {
		t.Errorf("the error does not unwrap to the API error: %T", err)
	}
}
