package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/ec2"

	"github.com/amiwatermark/packer-plugin-amiwatermark/internal/engine"
	"github.com/amiwatermark/packer-plugin-amiwatermark/internal/watermark"
)

const attachUsage = `Usage: amiwatermark attach --name NAME [--name ...] [--detach KEY ...] [flags] TARGETS
       amiwatermark detach --name NAME|ACCOUNT:NAME [--name ...] [flags] TARGETS

Attaches watermarks to AMIs (attach) or removes them (detach), with the same
engine as the Packer post-processor: every AMI is described and planned
first (names, the 5-watermark limit counting inherited ones, ownership,
state, --criteria); if any AMI's plan has a problem the whole run is
refused and nothing is changed. Then the regions are changed in parallel
and every AMI is described again to verify the result.

TARGETS (combinable; duplicates are dropped):
  REGION:ami-ID ...            AMIs as arguments (ami-ID alone: in --region),
                               also a Packer artifact id us-east-1:ami-1,eu-west-1:ami-2
  --packer-manifest FILE       the AMIs of Packer's manifest post-processor output;
                               --build NAME keeps one build, --last the last run's builds
  --image-builder-image ARN    the output AMIs of an EC2 Image Builder image build
                               version in every distribution region (imagebuilder:GetImage)

Exit 0 when every change was made (and verified), 1 when the run was refused
(nothing changed) or a call failed (the report says what was done per AMI;
changes made are not undone; --json gives each AMI's state: changed,
unchanged or unknown), 2 on a usage error (nothing was asked of AWS).
`

// mutateFlags are the flags of attach and detach.
type mutateFlags struct {
	af                accessFlags
	tf                targetFlags
	names             watermark.NameList // kept as written (spaces too), as AWS and the post-processor do
	detach            watermark.NameList
	dryRun            bool
	noVerify          bool
	waitTimeout       string
	notFoundGrace     string
	criteriaFile      string
	criteriaAccount   string
	requireAllowed    bool
	reattachInherited bool
	keepInherited     bool
	jsonOut           bool
}

func runAttach(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return runMutate(ctx, "attach", args, stdout, stderr)
}

func runDetach(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return runMutate(ctx, "detach", args, stdout, stderr)
}

func (m *mutateFlags) register(fs *flag.FlagSet, cmd string) {
	m.af.register(fs)
	if cmd == "attach" {
		fs.Var(&m.names, "name", "watermark name to attach, 3-128 characters (AWS makes the key ACCOUNT:NAME); repeatable")
		fs.Var(&m.detach, "detach", "key ACCOUNT:NAME (or a bare name: the AMI owner's key) to detach before attaching, e.g. to promote candidate -> approved; repeatable")
	} else {
		fs.Var(&m.names, "name", "watermark to detach: a bare NAME (the AMI owner's key) or a full key ACCOUNT:NAME; repeatable")
		fs.Var(&m.detach, "detach", "the same as --name")
	}
	fs.StringVar(&m.tf.manifest, "packer-manifest", "", "take the AMIs from this Packer manifest (the manifest post-processor's packer-manifest.json)")
	fs.StringVar(&m.tf.build, "build", "", "with --packer-manifest: only the builds of this name (NAME or BUILDER_TYPE.NAME)")
	fs.BoolVar(&m.tf.last, "last", false, "with --packer-manifest: only the builds of the last run (last_run_uuid)")
	fs.Var(&m.tf.imageBuilder, "image-builder-image", "take the AMIs from this EC2 Image Builder image build version ARN (arn:aws:imagebuilder:REGION:ACCOUNT:image/NAME/X.Y.Z/N); repeatable")
	fs.BoolVar(&m.tf.skipOtherAccounts, "skip-other-accounts", false, "with --image-builder-image: watermark this account's output AMIs and only report those distributed to other accounts (default: refuse the run)")
	fs.BoolVar(&m.dryRun, "dry-run", false, "plan and check permissions with EC2's DryRun flag; change nothing")
	fs.BoolVar(&m.noVerify, "no-verify", false, "do not describe the AMIs again after the changes")
	fs.StringVar(&m.waitTimeout, "wait-timeout", "30m", "how long to wait for an AMI to become available (a pending AMI of a build)")
	fs.StringVar(&m.notFoundGrace, "not-found-grace", "2m", "how long an AMI may be not found (EC2's eventual consistency) before the run is refused")
	fs.StringVar(&m.criteriaFile, "criteria", "", "Allowed-AMIs criteria JSON file every AMI must be allowed by after the run, checked before any change and again after")
	fs.StringVar(&m.criteriaAccount, "account", "", "evaluate --criteria as this account (whose own AMIs are never restricted); default: as another account")
	fs.BoolVar(&m.requireAllowed, "require-allowed", false, "refuse unless the account's current Allowed-AMIs criteria (GetAllowedImagesSettings) allow every AMI after the run")
	fs.BoolVar(&m.reattachInherited, "reattach-inherited", true, "re-attach a requested key the AMI carries inherited from another AMI (detach, attach) so that it is attached to this AMI; =false leaves it")
	fs.BoolVar(&m.keepInherited, "keep-inherited", false, "the same as --reattach-inherited=false")
	fs.BoolVar(&m.jsonOut, "json", false, "print the result as a JSON document on stdout instead of one line per AMI (progress always goes to stderr)")
}

// request checks the flags and returns the engine request.
func (m *mutateFlags) request(cmd string) (engine.Request, error) {
	req := engine.Request{
		DryRun:         m.dryRun,
		Verify:         !m.noVerify,
		RequireAllowed: m.requireAllowed,
		KeepInherited:  m.keepInherited || !m.reattachInherited,
		Names: engine.Names{
			WaitTimeout:    "--wait-timeout",
			RequireAllowed: "--require-allowed",
			Detach:         "--detach",
			Watermarks:     "--name",
			MaxRetries:     "--max-retries",
			NotFoundGrace:  "--not-found-grace",
			KeepInherited:  "--keep-inherited",
			Criteria:       "--criteria",
			Credentials:    "the --profile or the credentials",
			DetachKey:      "--detach %q",
			AssumeRole:     "a --profile that assumes a role in it",
		},
	}
	if cmd == "attach" {
		if len(m.names) == 0 && len(m.detach) == 0 {
			return req, usagef("nothing to attach: give --name NAME (repeatable; for example --name golden-base)")
		}
		req.Attach, req.Detach = m.names, m.detach
	} else {
		req.Detach = append(append([]string{}, m.names...), m.detach...)
		if len(req.Detach) == 0 {
			return req, usagef("nothing to detach: give --name NAME (the AMI owner's key) or --name ACCOUNT:NAME (repeatable)")
		}
		req.Names.Detach, req.Names.DetachKey = "--name", "--name %q"
	}
	// The name rules are checked now, before any AWS call; the plan checks
	// them again per AMI.
	for _, n := range req.Attach {
		if err := watermark.ValidateName(n); err != nil {
			return req, usagef("--name %q: %v", n, err)
		}
	}
	for _, d := range req.Detach {
		var err error
		if strings.Contains(d, ":") {
			_, err = watermark.ParseKey(d)
		} else {
			err = watermark.ValidateName(d)
		}
		if err != nil {
			return req, usagef("%s %q: %v", req.Names.Detach, d, err)
		}
	}
	if err := attachDetachOverlap(req.Attach, req.Detach); err != nil {
		return req, err
	}
	var err error
	if req.WaitTimeout, err = positiveDuration("--wait-timeout", m.waitTimeout); err != nil {
		return req, err
	}
	if req.NotFoundGrace, err = positiveDuration("--not-found-grace", m.notFoundGrace); err != nil {
		return req, err
	}
	if m.criteriaFile != "" {
		if req.Criteria, err = watermark.ReadCriteriaFile(m.criteriaFile); err != nil {
			return req, criteriaUsage(m.criteriaFile, err)
		}
		req.CriteriaSource = m.criteriaFile
		req.CriteriaAccount = m.criteriaAccount
	} else if m.criteriaAccount != "" {
		return req, usagef("--account says which account --criteria is evaluated for: give --criteria too")
	}
	if m.criteriaAccount != "" && !watermark.IsAccountID(m.criteriaAccount) {
		return req, usagef("--account %q is not a 12-digit account id", m.criteriaAccount)
	}
	return req, nil
}

// attachDetachOverlap refuses a bare name given to both --name and
// --detach: both mean the AMI owner's key, which cannot be detached and
// attached in one run. (A full key ACCOUNT:NAME may be another account's
// inherited key; the plan checks it against the AMI's owner.)
func attachDetachOverlap(attach, detach []string) error {
	for _, d := range detach {
		if !strings.Contains(d, ":") && slices.Contains(attach, d) {
			return usagef("--name %q and --detach %q name the same key (the AMI owner's %s): a key cannot be detached and attached in one run; give it to one of the two flags (an inherited key is re-attached to the AMI by --name alone, unless --keep-inherited)", d, d, d)
		}
	}
	return nil
}

func positiveDuration(name, v string) (time.Duration, error) {
	d, err := parseAge(v)
	if err != nil {
		return 0, usagef("%s: %v", name, err)
	}
	if d <= 0 {
		return 0, usagef("%s must be more than 0, for example 30m", name)
	}
	return d, nil
}

// lineReporter writes the engine's progress lines.
type lineReporter struct{ w io.Writer }

func (r lineReporter) Say(line string) { fmt.Fprintln(r.w, line) }

func runMutate(ctx context.Context, cmd string, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet(cmd, attachUsage, stderr)
	var m mutateFlags
	m.register(fs, cmd)
	pos, code, ok := parseCommandLine(fs, args, stdout, stderr)
	if !ok {
		return code
	}
	// res, once known, names the AMIs of a failed run in its --json.
	var res *resolved
	fail := func(err error) int {
		code := report(stderr, cmd, err)
		if m.jsonOut {
			writeJSON(stdout, failedResult(cmd, m.dryRun, err, res))
		}
		return code
	}
	req, err := m.request(cmd)
	if err != nil {
		return fail(err)
	}
	if err := m.tf.check(pos); err != nil {
		return fail(err)
	}
	ac, err := m.af.accessConfig(fs)
	if err != nil {
		return fail(err)
	}
	sess, err := newSession(ctx, ac)
	if err != nil {
		return fail(err)
	}
	self := callerAccount(sess)
	req.Account = self
	res, err = resolveTargets(ctx, sess, self, &m.tf, pos)
	if err != nil {
		res = nil
		return fail(err)
	}
	// Progress goes to stderr; stdout carries the result only (as for
	// every command): one line per AMI, or the JSON document.
	progress := stderr
	if len(res.foreign) > 0 {
		if !m.tf.skipOtherAccounts || len(res.refs) == 0 {
			return fail(res.foreignError())
		}
		for _, f := range res.foreign {
			fmt.Fprintf(progress, "%s %s: skipped: %s\n", f.Region, f.ID, f.problem(res.self))
		}
	}
	targets := make([]engine.Target, len(res.refs))
	for i, r := range res.refs {
		targets[i] = engine.Target{Region: r.Region, ImageID: r.ID}
	}
	clients := func(region string) (*ec2.Client, error) { return sess.client(region) }
	out, err := engine.Run(ctx, targets, req, clients, lineReporter{progress})
	if err != nil {
		// The engine's message already starts with "amiwatermark:".
		return fail(&trimmedError{strings.TrimPrefix(err.Error(), "amiwatermark: "), err})
	}
	if m.jsonOut {
		writeJSON(stdout, jsonResult(cmd, m.dryRun, out, res))
		return exitOK
	}
	for _, a := range out.AMIs {
		if m.dryRun {
			fmt.Fprintf(stdout, "DRY-RUN %s %s: would carry %s\n", a.Region, a.ImageID, joinKeys(a.Plan.KeysAfter()))
		} else {
			fmt.Fprintf(stdout, "DONE %s %s: carries %s\n", a.Region, a.ImageID, joinKeys(a.Keys))
		}
	}
	for _, f := range res.foreign {
		fmt.Fprintf(stdout, "SKIPPED %s %s: not attachable by this account (owner %s)\n", f.Region, f.ID, f.Account)
	}
	return exitOK
}

// trimmedError is err with another message (the engine's without its
// "amiwatermark: " prefix); errors.As still finds err's report per AMI.
type trimmedError struct {
	msg string
	err error
}

func (e *trimmedError) Error() string { return e.msg }
func (e *trimmedError) Unwrap() error { return e.err }

// mutateOutput is the --json document of attach and detach. Its field
// names are stable (see docs/cli.md).
type mutateOutput struct {
	Command string `json:"command"`
	DryRun  bool   `json:"dry_run"`
	// OK is true when every change was made (and verified).
	OK bool `json:"ok"`
	// Error is the refusal or failure report when OK is false.
	Error         string                `json:"error,omitempty"`
	AMIs          []amiOutput           `json:"amis"`
	NotAttachable []notAttachableOutput `json:"not_attachable"`
}

type amiOutput struct {
	Region  string `json:"region"`
	ImageID string `json:"image_id"`
	// State is what the run left: changed (a call took effect), unchanged
	// (none did), unknown (a call ended without EC2's answer and nothing
	// else took effect: it may or may not have taken effect).
	State string `json:"state"`
	// Failed is the call that failed and why; NotDone the calls not made.
	Failed  string   `json:"failed,omitempty"`
	NotDone []string `json:"not_done,omitempty"`
	// Attached and Detached are the keys of the calls made (in a dry run:
	// that would be made); Reattached the inherited keys among them that
	// were detached and attached again; AlreadyPresent the requested keys
	// left as they were.
	Attached       []string `json:"attached"`
	Detached       []string `json:"detached"`
	Reattached     []string `json:"reattached"`
	AlreadyPresent []string `json:"already_present"`
	// Keys are the keys on the AMI after the run (verified unless
	// --no-verify; in a dry run: the keys it carries now). On failure: as
	// described by verification, the keys before the run for an unchanged
	// AMI, else null (not known).
	Keys []string `json:"keys"`
	// KeysAfter are the keys the plan leads to (the same as Keys after a
	// verified run; in a dry run: what the run would leave).
	KeysAfter []string `json:"keys_after"`
}

type notAttachableOutput struct {
	Region  string `json:"region"`
	ImageID string `json:"image_id"`
	Account string `json:"account"`
	Reason  string `json:"reason"`
}

func jsonResult(cmd string, dry bool, out *engine.Result, res *resolved) mutateOutput {
	doc := mutateOutput{Command: cmd, DryRun: dry, OK: true, AMIs: []amiOutput{}, NotAttachable: notAttachable(res)}
	for _, a := range out.AMIs {
		state := engine.StateUnchanged
		if !dry && len(a.Attached)+len(a.Detached) > 0 {
			state = engine.StateChanged
		}
		doc.AMIs = append(doc.AMIs, amiJSON(a.Target, a.Plan, state, a.Attached, a.Detached, nonNil(a.Keys)))
	}
	return doc
}

// amiJSON is one AMI of the --json document.
func amiJSON(t engine.Target, p watermark.ImagePlan, state string, attached, detached, keys []string) amiOutput {
	o := amiOutput{Region: t.Region, ImageID: t.ImageID, State: state,
		Attached: nonNil(attached), Detached: nonNil(detached), Reattached: []string{}, AlreadyPresent: []string{},
		Keys: keys, KeysAfter: nonNil(p.KeysAfter())}
	for _, s := range p.Reattach {
		o.Reattached = append(o.Reattached, s.Key)
	}
	for _, s := range p.Skipped {
		o.AlreadyPresent = append(o.AlreadyPresent, s.Key)
	}
	return o
}

// failedResult is the --json document of a run that failed: every AMI
// with the state the run left it in. Before the engine's changes start
// (a refusal, a plan problem) every AMI is unchanged; after, the engine
// reports each AMI (engine.PartialError).
func failedResult(cmd string, dry bool, err error, res *resolved) mutateOutput {
	doc := mutateOutput{Command: cmd, DryRun: dry, Error: err.Error(), AMIs: []amiOutput{}, NotAttachable: notAttachable(res)}
	var pe *engine.PartialError
	if errors.As(err, &pe) {
		byTarget := map[engine.Target]engine.AMIState{}
		order := []engine.Target{}
		for _, a := range pe.AMIs {
			byTarget[a.Target] = a
			order = append(order, a.Target)
		}
		if res != nil { // the order of the targets, not the engine's regions
			order = order[:0]
			for _, r := range res.refs {
				order = append(order, engine.Target{Region: r.Region, ImageID: r.ID})
			}
		}
		for _, t := range order {
			a, ok := byTarget[t]
			if !ok {
				a = engine.AMIState{Target: t, State: engine.StateUnchanged}
			}
			keys := a.Keys
			if keys == nil && a.State == engine.StateUnchanged {
				keys = presentKeys(a.Plan)
			}
			o := amiJSON(a.Target, a.Plan, a.State, a.Attached, a.Detached, keys)
			o.Failed, o.NotDone = a.Failed, a.NotDone
			doc.AMIs = append(doc.AMIs, o)
		}
		return doc
	}
	if res != nil {
		for _, r := range res.refs {
			doc.AMIs = append(doc.AMIs, amiOutput{Region: r.Region, ImageID: r.ID, State: engine.StateUnchanged,
				Attached: []string{}, Detached: []string{}, Reattached: []string{}, AlreadyPresent: []string{}, KeysAfter: []string{}})
		}
	}
	return doc
}

// presentKeys are the keys an AMI carried before the run.
func presentKeys(p watermark.ImagePlan) []string {
	out := []string{}
	for _, w := range p.Present {
		out = append(out, w.Key)
	}
	return out
}

func notAttachable(res *resolved) []notAttachableOutput {
	out := []notAttachableOutput{}
	if res == nil {
		return out
	}
	for _, f := range res.foreign {
		out = append(out, notAttachableOutput{Region: f.Region, ImageID: f.ID, Account: f.Account, Reason: f.problem(res.self)})
	}
	return out
}

// joinKeys renders keys for a result line; keys whose name has leading or
// trailing spaces are quoted so that they can be told apart.
func joinKeys(keys []string) string {
	if len(keys) == 0 {
		return "no watermark"
	}
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = k
		if _, name, _ := strings.Cut(k, ":"); name == "" || strings.TrimSpace(name) != name {
			out[i] = fmt.Sprintf("%q", k)
		}
	}
	return strings.Join(out, ", ")
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func writeJSON(w io.Writer, v any) {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}
