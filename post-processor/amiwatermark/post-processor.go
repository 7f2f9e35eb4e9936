// Package amiwatermark is the amiwatermark post-processor: it attaches EC2 AMI
// watermarks to every AMI a build produced.
//
// The package holds what is Packer's: the configuration, reading the AMIs
// from the artifact (or image_ids), the returned Artifact and what the
// failure means for the build's AMIs. The run itself is internal/engine:
// (region, AMI) list -> describe every AMI -> plan per AMI (pure,
// internal/watermark) -> refuse the whole run if any plan has a problem ->
// mutate (regions in parallel) -> verify -> result per AMI.
package amiwatermark

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/hashicorp/hcl/v2/hcldec"
	packersdk "github.com/hashicorp/packer-plugin-sdk/packer"
	"github.com/hashicorp/packer-plugin-sdk/template/config"
	"github.com/zclconf/go-cty/cty"

	"github.com/amiwatermark/packer-plugin-amiwatermark/internal/awsconfig"
	"github.com/amiwatermark/packer-plugin-amiwatermark/internal/engine"
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
	if err := nullElements(raws); err != nil {
		return err
	}
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
	rep := &reporter{ui: ui, redact: p.config.AccessConfig.Redact}
	out, err := p.run(ctx, rep, in)
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
	return in, true, true, errors.New(msg + afterFailure(in))
}

// afterFailure says what Packer core does with the build's AMIs now that
// the post-processor failed, and how to keep them next time. Packer
// ignores keep = true on an error: it deregisters the builder's artifact
// unless another post-processor sequence of the build keeps it (Packer
// 1.9 and later, packer/build.go).
func afterFailure(in packersdk.Artifact) string {
	amis, err := targetsFromArtifact(in)
	if err != nil || len(amis) == 0 {
		return ""
	}
	list := make([]string, len(amis))
	for i, t := range amis {
		list[i] = t.String()
	}
	return fmt.Sprintf("\nWhat happens to the AMIs: the build fails, and Packer will now deregister the build's AMIs and delete their snapshots "+
		"(watermarks already attached go with them), unless another post-processor sequence of this build keeps the artifact: %s. "+
		"To keep the AMIs when watermarking fails next time, set fail_on_error = false (the failure becomes a warning and the build succeeds), "+
		"or add a separate post-processor sequence that keeps the artifact, for example a top-level post-processor \"manifest\" block.",
		strings.Join(list, ", "))
}

// run finds the AMIs, drives the engine and wraps its result.
func (p *PostProcessor) run(ctx context.Context, rep *reporter, in packersdk.Artifact) (*Artifact, error) {
	c := &p.config
	targets, err := c.targets(in)
	if err != nil {
		return nil, err
	}
	awsCfg, err := c.AccessConfig.Config(ctx)
	if err != nil {
		return nil, err
	}
	if c.InsecureSkipTLSVerify {
		// Also in the log (awsconfig); the UI is what a user sees.
		rep.Say("WARNING: insecure_skip_tls_verify is on: the TLS certificate of the EC2 endpoint is not checked; use it only with test endpoints")
	}
	clock := &awsconfig.Clock{}
	awsCfg = awsconfig.WithClock(awsCfg, clock)
	clients := func(region string) (*ec2.Client, error) { return c.AccessConfig.NewEC2Client(awsCfg, region) }
	req := c.request()
	req.Now = clock.Now
	req.Account = func(ctx context.Context) (string, error) { return c.AccessConfig.CallerAccount(ctx, awsCfg) }
	res, err := engine.Run(ctx, targets, req, clients, rep)
	if err != nil {
		return nil, err
	}
	return NewArtifact(in, res.Keys), nil
}

// targets are the AMIs of image_ids, or else of the artifact.
func (c *Config) targets(in packersdk.Artifact) ([]Target, error) {
	if len(c.ImageIDs) == 0 {
		return targetsFromArtifact(in)
	}
	if msgs := checkImageIDs(c.ImageIDs, false); len(msgs) > 0 {
		return nil, fmt.Errorf("amiwatermark: nothing was changed: %s", strings.Join(msgs, "; "))
	}
	return targetsFromImageIDs(c.ImageIDs), nil
}

// Poll timing of the engine. Package variables so tests can shorten them.
var timing engine.Timing

// request is the engine request of the configuration.
func (c *Config) request() engine.Request {
	return engine.Request{
		Attach:          c.Watermarks,
		Detach:          c.Detach,
		DryRun:          c.DryRun,
		Verify:          c.verify(),
		RequireAllowed:  c.RequireAllowed,
		Criteria:        c.allowedCriteria,
		CriteriaAccount: c.AllowedCriteriaAccount,
		CriteriaSource:  c.AllowedCriteriaFile,
		WaitTimeout:     c.waitTimeout,
		NotFoundGrace:   c.notFoundGrace,
		KeepInherited:   !c.reattachInherited(),
		Timing:          timing,
		Names:           engine.PostProcessorNames,
	}
}

// reporter shows the engine's lines in Packer's UI, redacting every
// credential the process holds (AccessConfig.Redact: awsconfig's registry,
// renewals included) from anything that quotes a server answer. Packer already prefixes every
// line with the build and the post-processor's name.
type reporter struct {
	ui     packersdk.Ui
	redact func(string) string
}

func (r *reporter) Say(line string) {
	if r.ui != nil {
		r.ui.Say(r.redact(line))
	}
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

// nullElements refuses a null inside a list or map of the configuration
// (`watermarks = ["golden", null]`) with the setting's name, before the
// SDK's decoder reports it with its internal path.
func nullElements(raws []interface{}) error {
	var msgs []string
	for _, raw := range raws {
		v, ok := raw.(cty.Value)
		if !ok || !v.IsWhollyKnown() || v.IsNull() {
			continue
		}
		_ = cty.Walk(v, func(path cty.Path, el cty.Value) (bool, error) {
			if len(path) < 2 || !el.IsNull() {
				return true, nil
			}
			if _, elem := path[len(path)-1].(cty.IndexStep); !elem {
				return true, nil // an unset attribute of a block
			}
			msgs = append(msgs, fmt.Sprintf("%s is null: remove the null element or give a value", pathText(path)))
			return false, nil
		})
	}
	if len(msgs) == 0 {
		return nil
	}
	return errors.New(strings.Join(msgs, "; "))
}

// pathText renders a cty path as the template writes it: watermarks[1],
// image_ids["us-east-1"].
func pathText(path cty.Path) string {
	var b strings.Builder
	for _, step := range path {
		switch s := step.(type) {
		case cty.GetAttrStep:
			if b.Len() > 0 {
				b.WriteString(".")
			}
			b.WriteString(s.Name)
		case cty.IndexStep:
			if s.Key.Type() == cty.Number {
				n, _ := s.Key.AsBigFloat().Int64()
				fmt.Fprintf(&b, "[%d]", n)
			} else if s.Key.Type() == cty.String {
				fmt.Fprintf(&b, "[%q]", s.Key.AsString())
			}
		}
	}
	return b.String()
}
