package main

import (
	"fmt"
	"strings"
	"testing"

	"github.com/amiwatermark/packer-plugin-amiwatermark/internal/ec2emu"
)

// TestAttachEngineMessagesSpeakFlags: the messages the shared engine
// writes for the CLI name the CLI's flags, never the post-processor's
// template keys.
func TestAttachEngineMessagesSpeakFlags(t *testing.T) {
	e := newEmu(t)
	now := e.seedLineage()
	full := ec2emu.SeedImage{Region: regionWest, Account: acctMe, ImageID: "ami-0123456789abcdef0", Name: "full",
		CreationDate: ts(now.Add(-testDay))}
	for i := range 5 {
		full.Watermarks = append(full.Watermarks, ec2emu.SeedWatermark{Key: fmt.Sprintf("w%d-name", i)})
	}
	e.seed(full)
	cases := []struct {
		name string
		args []string
		want []string
	}{
		{"not owned", []string{"attach", "--name", "approved", regionEast + ":" + amiForged},
			[]string{"(for example with a --profile that assumes a role in it)"}},
		{"5-limit", []string{"attach", "--name", "approved", regionWest + ":ami-0123456789abcdef0"},
			[]string{"detach keys you no longer need with `--detach` (for example --detach \"111122223333:w0-name\") or request fewer names in `--name`"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, out, errOut := e.cli(c.args...)
			if code == 0 {
				t.Fatalf("exit 0\n%s\n%s", out, errOut)
			}
			wantContains(t, "stderr", errOut, c.want...)
			for _, tmpl := range []string{"detach = [", "assume_role", "`watermarks`", "`detach`", "reattach_inherited", "wait_timeout", "max_retries"} {
				if strings.Contains(errOut, tmpl) {
					t.Errorf("stderr has the template's %q:\n%s", tmpl, errOut)
				}
			}
		})
	}
}
