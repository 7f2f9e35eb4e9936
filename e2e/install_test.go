package e2e

import (
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/amiwatermark/packer-plugin-amiwatermark/internal/testkit"
)

// devPlugin is the plugin built as `make dev` builds it (0.1.0-dev), once.
var devPlugin struct {
	once sync.Once
	bin  string
	err  error
}

func devBuild(t *testing.T) string {
	t.Helper()
	devPlugin.once.Do(func() {
		dir, err := os.MkdirTemp("", "amiwatermark-e2e-dev-")
		if err != nil {
			devPlugin.err = err
			return
		}
		devPlugin.bin = filepath.Join(dir, "packer-plugin-amiwatermark"+testkit.Exe())
		devPlugin.err = testkit.BuildPlugin(devPlugin.bin, false)
	})
	if devPlugin.err != nil {
		t.Fatal(devPlugin.err)
	}
	return devPlugin.bin
}

// constraintTemplate requires the plugin with the given version constraint;
// `packer validate` of it needs no AWS call.
func constraintTemplate(constraint string) string {
	return `packer {
  required_plugins {
    amiwatermark = {
      source  = "github.com/amiwatermark/amiwatermark"
      version = "` + constraint + `"
    }
  }
}

source "null" "x" {
  communicator = "none"
}

build {
  sources = ["source.null.x"]

  post-processor "amiwatermark" {
    region              = "us-east-1"
    access_key          = "AKIDTEST111122223333"
    secret_key          = "e2e-not-a-secret"
    custom_endpoint_ec2 = "http://127.0.0.1:9"
    image_ids           = { "us-east-1" = "ami-0123456789abcdef0" }
    watermarks          = ["candidate"]
  }
}
`
}

// TestVersionConstraints checks the README's advice for a -dev build
// (`make dev`): installed the way each Packer installs plugins, the
// constraint ">= 0.1.0" matches it on Packer >= 1.11 and not on 1.9, and
// ">= 0.1.0-dev" is refused by >= 1.11 and matches on 1.9.
func TestVersionConstraints(t *testing.T) {
	forEachPacker(t, func(t *testing.T, p *stack) {
		pk, err := testkit.NewPacker(p.Bin, t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		if err := pk.Install(devBuild(t), pluginSource); err != nil {
			t.Fatal(err)
		}
		r := pk.Run(t, "", nil, "plugins", "installed")
		mustSucceed(t, r)
		mustContain(t, r, "packer-plugin-amiwatermark_v0.1.0-dev_")

		newer := p.AtLeast(1, 11)
		for _, c := range []struct {
			constraint string
			ok         bool
			want       string
		}{
			{">= 0.1.0", newer, "Missing plugins"},
			{">= 0.1.0-dev", !newer, "Unsupported prerelease for constraint"},
		} {
			t.Run(c.constraint, func(t *testing.T) {
				dir := t.TempDir()
				tpl := filepath.Join(dir, "template.pkr.hcl")
				if err := os.WriteFile(tpl, []byte(constraintTemplate(c.constraint)), 0o644); err != nil {
					t.Fatal(err)
				}
				r := pk.Run(t, dir, nil, "validate", tpl)
				if c.ok {
					mustSucceed(t, r)
					mustContain(t, r, "The configuration is valid.")
				} else {
					mustFail(t, r)
					mustContain(t, r, c.want)
				}
			})
		}
	})
}
