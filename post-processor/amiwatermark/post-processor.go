// Package amiwatermark is the amiwatermark post-processor: it attaches EC2 AMI
// watermarks to every AMI a build produced.
//
// A run goes: artifact -> (region, AMI) list -> describe every AMI (waiting
// until it is available) -> plan per AMI (pure, internal/watermark) -> refuse
// the whole run if any plan has a problem -> mutate (regions in parallel, each
// AMI's calls in order: detaches, then attaches) -> verify -> artifact.
package amiwatermark

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/hashicorp/hcl/v2/hcldec"
	packersdk "github.com/hashicorp/packer-plugin-sdk/packer"
	"github.com/hashicorp/packer-plugin-sdk/template/config"
)

// PostProcessor attaches watermarks to the AMIs of a build.
type PostProcessor struct {
	config Config
}

var _ packersdk.PostProcessor = (*PostProcessor)(nil)

// ConfigSpec returns the HCL2 spec of Config.
func (p *PostProcessor) ConfigSpec() hcldec.ObjectSpec { return p.config.FlatMapstructure().HCL2Spec() }

// Configure decodes and validates the configuration. Every problem is
// reported at once, so `packer validate` shows them all.
func (p *PostProcessor) Configure(raws ...interface{}) error {
	err := config.Decode(&p.config, &config.DecodeOpts{
		PluginType:         "packer.post-processor.amiwatermark",
		Interpolate:        true,
		InterpolateContext: &p.config.ctx,
	}, raws...)
	if err != nil {
		return err
	}
	return p.config.prepare()
}

// PostProcess watermarks the artifact's AMIs (or those of image_ids). It
// always returns keep = true: Packer core deregisters a build's AMIs when
// the first post-processor does not keep its input, and the AMIs are the
// point of the build. forceOverride = true makes that hold even when the
// template says keep_input_artifact = false.
func (p *PostProcessor) PostProcess(ctx context.Context, ui packersdk.Ui, in packersdk.Artifact) (packersdk.Artifact, bool, bool, error) {
	if in == nil {
		in = noArtifact{}
	}
	r := &run{cfg: &p.config, ui: &runUI{ui: ui, dry: p.config.DryRun, redact: p.config.AccessConfig.Redact}}
	out, err := r.do(ctx, in)
	if err == nil {
		return out, true, true, nil
	}
	msg := p.config.AccessConfig.Redact(err.Error())
	if !p.config.failOnError() {
		// Packer core destroys (deregisters) the input artifact when the
		// build's only post-processor fails. The user chose to keep the AMIs
		// over failing the build: report the failure as a warning and hand
		// the input artifact back, kept, without an error.
		ui.Error("WARNING (fail_on_error = false, so the build continues and its AMIs are kept): " + msg)
		return in, true, true, nil
	}
	return in, true, true, errors.New(msg)
}

// runUI serialises output from the region goroutines, prefixes every line,
// and redacts credentials from anything that quotes a server answer.
type runUI struct {
	mu     sync.Mutex
	ui     packersdk.Ui
	dry    bool
	redact func(string) string
}

func (u *runUI) prefix() string {
	// Packer already prefixes every line with the build and the
	// post-processor's name.
	if u.dry {
		return "[dry-run] "
	}
	return ""
}

func (u *runUI) say(format string, args ...any) {
	if u.ui == nil {
		return
	}
	msg := u.redact(u.prefix() + fmt.Sprintf(format, args...))
	u.mu.Lock()
	defer u.mu.Unlock()
	u.ui.Say(msg)
}

func (u *runUI) amiSay(t Target, format string, args ...any) {
	u.say("%s %s: %s", t.Region, t.ImageID, fmt.Sprintf(format, args...))
}

// joinOr renders a list for messages, "none" when empty.
func joinOr(list []string, empty string) string {
	if len(list) == 0 {
		return empty
	}
	return strings.Join(list, ", ")
}

// noArtifact stands in for a missing input artifact (possible only with
// image_ids), so the returned artifact never dereferences nil.
type noArtifact struct{}

func (noArtifact) BuilderId() string        { return "packer.post-processor.amiwatermark" }
func (noArtifact) Files() []string          { return nil }
func (noArtifact) Id() string               { return "" }
func (noArtifact) String() string           { return "no input artifact" }
func (noArtifact) State(string) interface{} { return nil }
func (noArtifact) Destroy() error           { return nil }
