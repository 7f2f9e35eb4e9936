// Package engine is the watermarking run shared by the post-processor and
// the CLI: given AMIs (region, id), a request (names to attach, keys to
// detach, options) and EC2 clients, it describes every AMI, plans each one
// with the pure rules of internal/watermark, refuses the whole run if any
// plan is invalid, mutates the regions in parallel, verifies, and returns
// the result per AMI. It knows nothing of Packer.
package engine

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/smithy-go"

	"github.com/amiwatermark/packer-plugin-amiwatermark/internal/awsconfig"
	"github.com/amiwatermark/packer-plugin-amiwatermark/internal/watermark"
)

// Target is one AMI to watermark.
type Target struct {
	Region  string
	ImageID string
}

func (t Target) String() string { return t.Region + " " + t.ImageID }

// Keys is region -> AMI id -> the watermark keys on the AMI.
type Keys map[string]map[string][]string

// Set records the keys of one AMI (a copy of ks).
func (k Keys) Set(t Target, ks []string) {
	if k[t.Region] == nil {
		k[t.Region] = map[string][]string{}
	}
	k[t.Region][t.ImageID] = append([]string{}, ks...)
}

// Get returns the keys recorded for t.
func (k Keys) Get(t Target) []string { return k[t.Region][t.ImageID] }

// Timing is the polling schedule of a run; zero fields take the defaults.
type Timing struct {
	// PollInitial is the first wait between two DescribeImages calls while
	// an AMI is pending or not found yet; it grows by half each time up to
	// PollMax.
	PollInitial time.Duration
	PollMax     time.Duration
	// VerifyWindow bounds how long verification retries while EC2 has not
	// caught up with the changes yet (eventual consistency).
	VerifyWindow time.Duration
}

// DefaultTiming is the polling schedule used for zero Timing fields.
var DefaultTiming = Timing{PollInitial: 2 * time.Second, PollMax: 15 * time.Second, VerifyWindow: 2 * time.Minute}

func (t Timing) withDefaults() Timing {
	if t.PollInitial <= 0 {
		t.PollInitial = DefaultTiming.PollInitial
	}
	if t.PollMax <= 0 {
		t.PollMax = DefaultTiming.PollMax
	}
	if t.VerifyWindow <= 0 {
		t.VerifyWindow = DefaultTiming.VerifyWindow
	}
	return t
}

// Request is what a run does on every AMI, and how.
type Request struct {
	// Attach are watermark names to attach, Detach full keys or bare names
	// (the AMI owner's key) to detach first.
	Attach []string
	Detach []string
	// DryRun makes the attach and detach calls with EC2's DryRun flag and
	// skips verification.
	DryRun bool
	// Verify describes the AMIs again after the changes and checks them.
	Verify bool
	// RequireAllowed fails unless DescribeImages reports imageAllowed =
	// true after the changes.
	RequireAllowed bool
	// Criteria, when not nil, must allow every AMI (evaluated offline on
	// the planned result and after verification) for CriteriaAccount;
	// CriteriaSource names them in messages (a file name).
	Criteria        watermark.Criteria
	CriteriaAccount string
	CriteriaSource  string
	// WaitTimeout bounds the wait for an AMI to become available.
	WaitTimeout time.Duration
	Timing      Timing
	// Names are the front end's names of its options, for messages.
	Names Names
}

// Names are the names a front end gives its options; messages use them so
// that they say what to change. Empty fields take the template names.
type Names struct {
	WaitTimeout    string // "wait_timeout"
	RequireAllowed string // "require_allowed"
	Detach         string // "detach"
	Watermarks     string // "watermarks"
	MaxRetries     string // "max_retries"
}

func (n Names) withDefaults() Names {
	def := func(s *string, v string) {
		if *s == "" {
			*s = v
		}
	}
	def(&n.WaitTimeout, "wait_timeout")
	def(&n.RequireAllowed, "require_allowed")
	def(&n.Detach, "detach")
	def(&n.Watermarks, "watermarks")
	def(&n.MaxRetries, "max_retries")
	return n
}

// Clients returns the EC2 client of a region (for example
// awsconfig.AccessConfig.NewEC2Client bound to an aws.Config).
type Clients func(region string) (*ec2.Client, error)

// Reporter receives the run's progress lines (safe: the engine serialises
// its calls). A front end may redact or prefix them.
type Reporter interface {
	Say(line string)
}

// AMIResult is what a run did on one AMI.
type AMIResult struct {
	Target
	Plan watermark.ImagePlan
	// Attached and Detached are the keys of the calls that succeeded (in a
	// dry run: that would be made).
	Attached []string
	Detached []string
	// Keys are the keys on the AMI after the run: described again when
	// verified, else planned (in a dry run: the keys it carries now).
	Keys []string
}

// Result is the outcome of a run that succeeded.
type Result struct {
	AMIs []AMIResult
	Keys Keys
}

// run is one Run call.
type run struct {
	req Request
	ui  *ui
}

// regionWork is everything known about one region during a run.
type regionWork struct {
	region  string
	client  *ec2.Client
	targets []Target
}

// described is the outcome of describing one AMI before planning.
type described struct {
	img   watermark.Image
	owned bool
	// problem, when set, means the AMI could not be planned (not found, not
	// available in time, not visible).
	problem string
}

// outcome is what the mutation phase did on one AMI.
type outcome struct {
	t        Target
	plan     watermark.ImagePlan
	detached []string // keys
	attached []string // keys
	failedOp string   // the call that failed, e.g. `attach "golden"`
	err      error    // its error
	notDone  []string // calls not made
}

func (o *outcome) complete() bool { return o.err == nil && len(o.notDone) == 0 }

// Run watermarks targets as req says, with clients for the EC2 calls and
// rep for progress. Nothing is changed unless every AMI was described and
// every plan is valid. The error says what was done per AMI.
func Run(ctx context.Context, targets []Target, req Request, clients Clients, rep Reporter) (*Result, error) {
	req.Timing = req.Timing.withDefaults()
	req.Names = req.Names.withDefaults()
	r := &run{req: req, ui: &ui{rep: rep, dry: req.DryRun}}
	return r.do(ctx, targets, clients)
}

func (r *run) do(ctx context.Context, targets []Target, clients Clients) (*Result, error) {
	if len(targets) == 0 {
		return nil, fmt.Errorf("amiwatermark: no AMI to watermark")
	}
	regions, err := groupRegions(targets, clients)
	if err != nil {
		return nil, err
	}
	wreq := watermark.Request{Attach: r.req.Attach, Detach: r.req.Detach}
	r.ui.say("%d AMI(s) in %d region(s): attach %s; detach %s", len(targets), len(regions),
		joinOr(quoteAll(wreq.Attach), "nothing"), joinOr(quoteAll(wreq.Detach), "nothing"))

	// 1. Describe every AMI, waiting until it is available.
	desc, err := r.describeAll(ctx, regions)
	if err != nil {
		return nil, err
	}

	// 2. Plan every AMI; refuse the whole run on any problem.
	plans, err := r.planAll(targets, desc, wreq)
	if err != nil {
		return nil, err
	}

	// 3. Mutate.
	outcomes := r.mutateAll(ctx, regions, plans)
	if err := r.mutationError(ctx, targets, outcomes); err != nil {
		return nil, err
	}

	// 4. Verify, and report.
	res := &Result{Keys: Keys{}}
	switch {
	case r.req.DryRun:
		for _, t := range targets {
			var present []string
			for _, w := range plans[t.ImageID].Present {
				present = append(present, w.Key)
			}
			res.Keys.Set(t, present)
		}
	case r.req.Verify || r.req.RequireAllowed || r.req.Criteria != nil:
		after, err := r.verifyAll(ctx, regions, plans)
		if err != nil {
			return nil, err
		}
		for _, t := range targets {
			res.Keys.Set(t, after[t.ImageID])
		}
	default:
		for _, t := range targets {
			res.Keys.Set(t, plans[t.ImageID].KeysAfter())
		}
	}
	for _, t := range targets {
		o := outcomes[t.ImageID]
		res.AMIs = append(res.AMIs, AMIResult{Target: t, Plan: o.plan, Attached: o.attached, Detached: o.detached, Keys: res.Keys.Get(t)})
	}
	r.summary(res, len(regions))
	return res, nil
}

// groupRegions groups the targets by region and gets one client per region.
func groupRegions(targets []Target, clients Clients) ([]*regionWork, error) {
	by := map[string]*regionWork{}
	var out []*regionWork
	for _, t := range targets {
		w := by[t.Region]
		if w == nil {
			c, err := clients(t.Region)
			if err != nil {
				return nil, err
			}
			w = &regionWork{region: t.Region, client: c}
			by[t.Region] = w
			out = append(out, w)
		}
		w.targets = append(w.targets, t)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].region < out[j].region })
	return out, nil
}

// planAll plans every AMI (pure) and checks the criteria on the planned
// result; any problem refuses the whole run before anything is changed.
func (r *run) planAll(targets []Target, desc map[string]described, req watermark.Request) (map[string]watermark.ImagePlan, error) {
	plans := map[string]watermark.ImagePlan{}
	var problems []string
	for _, t := range targets {
		d := desc[t.ImageID]
		if d.problem != "" {
			problems = append(problems, watermark.Problem{Region: t.Region, ImageID: t.ImageID, Message: d.problem}.Error())
			continue
		}
		d.img.Region = t.Region
		p := watermark.PlanImage(d.img, d.owned, req)
		for _, pr := range p.Problems {
			problems = append(problems, pr.Error())
		}
		if p.OK() {
			if msg := r.criteriaProblem(p.ImageAfter(d.img, time.Now().UTC())); msg != "" {
				problems = append(problems, watermark.Problem{Region: t.Region, ImageID: t.ImageID,
					Message: msg + " (evaluated on the watermarks the AMI would carry after this run)"}.Error())
			}
		}
		plans[t.ImageID] = p
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("amiwatermark: nothing was changed: %d problem(s) found while planning; fix them and run again:\n  - %s",
			len(problems), strings.Join(problems, "\n  - "))
	}
	for _, t := range targets {
		p := plans[t.ImageID]
		for _, s := range p.Skipped {
			r.ui.amiSay(t, "skipped %s (%s)", s.Key, s.Reason())
		}
		for _, k := range p.DetachAbsent {
			r.ui.amiSay(t, "detach %s: not present, nothing to do", k)
		}
	}
	return plans, nil
}

// summary reports the result per AMI and in total.
func (r *run) summary(res *Result, regions int) {
	if r.req.DryRun {
		for _, a := range res.AMIs {
			r.ui.amiSay(a.Target, "would carry %s (%d to attach, %d to detach, %d already present)", joinOr(a.Plan.KeysAfter(), "no watermark"), len(a.Attached), len(a.Detached), len(a.Plan.Skipped))
		}
		r.ui.say("nothing was changed; verification skipped")
		return
	}
	attached, detached, skipped := 0, 0, 0
	for _, a := range res.AMIs {
		attached += len(a.Attached)
		detached += len(a.Detached)
		skipped += len(a.Plan.Skipped)
		r.ui.amiSay(a.Target, "carries %s (%d attached, %d detached, %d already present)", joinOr(a.Keys, "no watermark"), len(a.Attached), len(a.Detached), len(a.Plan.Skipped))
	}
	r.ui.say("done: %d AMI(s) in %d region(s); %d attached, %d detached, %d already present", len(res.AMIs), regions, attached, detached, skipped)
}

// ui serialises output from the region goroutines and prefixes dry-run
// lines.
type ui struct {
	mu  sync.Mutex
	rep Reporter
	dry bool
}

func (u *ui) say(format string, args ...any) {
	if u.rep == nil {
		return
	}
	msg := fmt.Sprintf(format, args...)
	if u.dry {
		msg = "[dry-run] " + msg
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	u.rep.Say(msg)
}

func (u *ui) amiSay(t Target, format string, args ...any) {
	u.say("%s %s: %s", t.Region, t.ImageID, fmt.Sprintf(format, args...))
}

// joinOr renders a list for messages, empty when it is empty.
func joinOr(list []string, empty string) string {
	if len(list) == 0 {
		return empty
	}
	return strings.Join(list, ", ")
}

// ---- describe ----------------------------------------------------------

func (r *run) describeAll(ctx context.Context, regions []*regionWork) (map[string]described, error) {
	deadline := time.Now().Add(r.req.WaitTimeout)
	var mu sync.Mutex
	all := map[string]described{}
	errs := make([]error, len(regions))
	var wg sync.WaitGroup
	for i, w := range regions {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := r.describeRegion(ctx, w, deadline)
			errs[i] = err
			mu.Lock()
			for id, d := range res {
				all[id] = d
			}
			mu.Unlock()
		}()
	}
	wg.Wait()
	if ctx.Err() != nil {
		return nil, fmt.Errorf("amiwatermark: interrupted while describing the AMIs: nothing was changed")
	}
	var msgs []string
	for _, err := range errs {
		if err != nil {
			msgs = append(msgs, err.Error())
		}
	}
	if len(msgs) > 0 {
		return nil, fmt.Errorf("amiwatermark: nothing was changed: the AMIs could not be described:\n  - %s", strings.Join(msgs, "\n  - "))
	}
	return all, nil
}

// describeRegion describes the region's AMIs with one DescribeImages call
// (Owners = self, so an AMI in the answer is the caller's), repeating it
// while an AMI is not found yet (a new AMI can take a moment to appear) or
// pending, until every AMI is settled or the deadline passes. An AMI missing
// from the answer is described once more without Owners to tell "owned by
// another account" from "not found".
func (r *run) describeRegion(ctx context.Context, w *regionWork, deadline time.Time) (map[string]described, error) {
	res := map[string]described{}
	last := map[string]string{} // last state seen per AMI
	waiting := make([]string, 0, len(w.targets))
	for _, t := range w.targets {
		waiting = append(waiting, t.ImageID)
	}
	told := map[string]string{} // what the UI was last told per AMI
	tell := func(id, state string) {
		if told[id] == state {
			return
		}
		told[id] = state
		r.ui.amiSay(Target{w.region, id}, "%s; waiting up to %s (wait_timeout) for it to become available", state, r.req.WaitTimeout)
	}
	delay := r.req.Timing.PollInitial
	for {
		// One call for every AMI still waiting. When EC2 answers
		// InvalidAMIID.NotFound for some of them (its message names them),
		// the others are described at once without them, so one AMI that
		// has not appeared yet does not hide the state of the rest.
		var next []string
		batch := waiting
		for len(batch) > 0 {
			out, err := w.client.DescribeImages(ctx, &ec2.DescribeImagesInput{ImageIds: batch, Owners: []string{"self"}})
			switch {
			case err != nil && ctx.Err() != nil:
				return res, ctx.Err()
			case err != nil && apiCode(err) == "InvalidAMIID.NotFound":
				named := namedIn(errText(err), batch)
				if len(named) == 0 {
					named = batch
				}
				for _, id := range named {
					if last[id] == "" || last[id] == "not found" {
						last[id] = "not found"
						tell(id, "not found yet (a new AMI can take a moment to appear)")
					}
					next = append(next, id)
				}
				batch = without(batch, named)
				continue
			case err != nil:
				return res, fmt.Errorf("%s: DescribeImages of %s failed: %s%s", w.region, strings.Join(batch, ", "), errText(err), hint(err, "ec2:DescribeImages"))
			}
			got := map[string]types.Image{}
			for _, im := range out.Images {
				got[aws.ToString(im.ImageId)] = im
			}
			for _, id := range batch {
				im, ok := got[id]
				if !ok {
					res[id] = r.describeForeign(ctx, w, id)
					continue
				}
				img := awsconfig.Image(&im, w.region)
				last[id] = img.State
				if img.State == "pending" || img.State == "transient" {
					tell(id, "state "+img.State)
					next = append(next, id)
					continue
				}
				if told[id] != "" {
					r.ui.amiSay(Target{w.region, id}, "state %s", img.State)
				}
				res[id] = described{img: img, owned: true}
			}
			batch = nil
		}
		waiting = next
		if len(waiting) == 0 {
			return res, nil
		}
		remaining := time.Until(deadline)
		if remaining <= 0 {
			for _, id := range waiting {
				if last[id] == "not found" {
					res[id] = described{problem: fmt.Sprintf("did not become available within wait_timeout (%s): last state seen \"not found\": no AMI with this id is visible in %s to the account of the credentials in use; check the AMI id and its region, or raise wait_timeout", r.req.WaitTimeout, w.region)}
				} else {
					res[id] = described{problem: fmt.Sprintf("did not become available within wait_timeout (%s): last state seen %q; raise wait_timeout or check the AMI in EC2", r.req.WaitTimeout, last[id])}
				}
			}
			return res, nil
		}
		if err := sleep(ctx, min(delay, remaining)); err != nil {
			return res, err
		}
		delay = min(delay+delay/2, r.req.Timing.PollMax)
	}
}

// describeForeign describes an AMI that the Owners=self answer left out.
func (r *run) describeForeign(ctx context.Context, w *regionWork, id string) described {
	out, err := w.client.DescribeImages(ctx, &ec2.DescribeImagesInput{ImageIds: []string{id}})
	if err != nil {
		if apiCode(err) == "InvalidAMIID.NotFound" {
			return described{problem: fmt.Sprintf("not found: no AMI with this id is visible in %s to the account of the credentials in use; check the AMI id and its region", w.region)}
		}
		return described{problem: fmt.Sprintf("DescribeImages failed: %s%s", errText(err), hint(err, "ec2:DescribeImages"))}
	}
	for _, im := range out.Images {
		if aws.ToString(im.ImageId) == id {
			return described{img: awsconfig.Image(&im, w.region), owned: false}
		}
	}
	return described{problem: fmt.Sprintf("not found: DescribeImages in %s does not return this AMI to the account of the credentials in use; check the AMI id and its region", w.region)}
}

// ---- mutate ------------------------------------------------------------

// mutateAll runs every region in parallel, and the AMIs of a region in
// parallel; each AMI's calls run in order, detaches first. After a failed
// call a region issues no new call; the other regions go on.
func (r *run) mutateAll(ctx context.Context, regions []*regionWork, plans map[string]watermark.ImagePlan) map[string]*outcome {
	outcomes := map[string]*outcome{}
	for _, w := range regions {
		for _, t := range w.targets {
			outcomes[t.ImageID] = &outcome{t: t, plan: plans[t.ImageID]}
		}
	}
	var wg sync.WaitGroup
	for _, w := range regions {
		var stopMu sync.Mutex
		stopped := false
		stop := func() { stopMu.Lock(); stopped = true; stopMu.Unlock() }
		isStopped := func() bool { stopMu.Lock(); defer stopMu.Unlock(); return stopped }
		for _, t := range w.targets {
			o := outcomes[t.ImageID]
			if o.plan.Calls() == 0 {
				continue
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				r.mutateAMI(ctx, w.client, o, isStopped, stop)
			}()
		}
	}
	wg.Wait()
	return outcomes
}

type call struct {
	detach string // key
	attach string // name
}

func (c call) String() string {
	if c.detach != "" {
		return fmt.Sprintf("detach %s", c.detach)
	}
	return fmt.Sprintf("attach %q", c.attach)
}

func (r *run) mutateAMI(ctx context.Context, c *ec2.Client, o *outcome, isStopped func() bool, stop func()) {
	var calls []call
	for _, k := range o.plan.Detach {
		calls = append(calls, call{detach: k})
	}
	for _, n := range o.plan.Attach {
		calls = append(calls, call{attach: n})
	}
	var dry *bool // sent only in a dry run
	if r.req.DryRun {
		dry = aws.Bool(true)
	}
	for i, cl := range calls {
		if isStopped() || ctx.Err() != nil {
			for _, rest := range calls[i:] {
				o.notDone = append(o.notDone, rest.String())
			}
			return
		}
		var err error
		key := cl.detach
		if cl.detach != "" {
			_, err = c.DetachImageWatermark(ctx, &ec2.DetachImageWatermarkInput{ImageId: aws.String(o.t.ImageID), WatermarkKey: aws.String(cl.detach), DryRun: dry})
		} else {
			key = watermark.FormatKey(o.plan.Account, cl.attach)
			var out *ec2.AttachImageWatermarkOutput
			out, err = c.AttachImageWatermark(ctx, &ec2.AttachImageWatermarkInput{ImageId: aws.String(o.t.ImageID), WatermarkName: aws.String(cl.attach), DryRun: dry})
			if err == nil && aws.ToString(out.WatermarkKey) != "" {
				key = aws.ToString(out.WatermarkKey)
			}
		}
		note := "DryRun check passed"
		switch code := apiCode(err); {
		case r.req.DryRun && code == "DryRunOperation":
			err = nil
		case r.req.DryRun && code == "ResourceLimitExceeded" && cl.attach != "" && len(o.plan.Detach) > 0:
			// A dry-run detach changes nothing, so EC2 still counts the
			// keys this run would detach first; the plan has checked the
			// limit with those detaches applied.
			err = nil
			note = "room is made by the detaches before it; the plan checked the 5-limit"
		}
		if err != nil {
			stop()
			o.failedOp = cl.String()
			o.err = err
			for _, rest := range calls[i+1:] {
				o.notDone = append(o.notDone, rest.String())
			}
			return
		}
		verb := "attached"
		if cl.detach != "" {
			verb = "detached"
			o.detached = append(o.detached, key)
		} else {
			o.attached = append(o.attached, key)
		}
		if r.req.DryRun {
			verb = "would be " + verb + " (" + note + ")"
			r.ui.amiSay(o.t, "%s %s", key, verb)
		} else {
			r.ui.amiSay(o.t, "%s %s", verb, key)
		}
	}
}

// mutationError summarises a mutation phase that did not complete, per
// region and AMI: what was done, what failed, what was not done.
func (r *run) mutationError(ctx context.Context, targets []Target, outcomes map[string]*outcome) error {
	failed, notDone := 0, 0
	var failedRegions []string
	seen := map[string]bool{}
	for _, t := range targets {
		o := outcomes[t.ImageID]
		if o.err != nil {
			failed++
			if !seen[t.Region] {
				seen[t.Region] = true
				failedRegions = append(failedRegions, t.Region)
			}
		}
		notDone += len(o.notDone)
	}
	if failed == 0 && notDone == 0 {
		return nil
	}
	var b strings.Builder
	interrupted := ctx.Err() != nil
	if interrupted {
		fmt.Fprintf(&b, "amiwatermark: interrupted: %d call(s) were not made", notDone)
	} else {
		fmt.Fprintf(&b, "amiwatermark: watermarking failed in %s: %d call(s) failed and %d were not made", strings.Join(failedRegions, ", "), failed, notDone)
	}
	b.WriteString("; per AMI:")
	for _, t := range targets {
		o := outcomes[t.ImageID]
		fmt.Fprintf(&b, "\n  %s %s: ", t.Region, t.ImageID)
		var parts []string
		if o.complete() {
			parts = append(parts, "complete")
		}
		if len(o.detached) > 0 {
			parts = append(parts, "detached "+strings.Join(o.detached, ", "))
		}
		if len(o.attached) > 0 {
			parts = append(parts, "attached "+strings.Join(o.attached, ", "))
		}
		if len(o.plan.Skipped) > 0 {
			var ks []string
			for _, s := range o.plan.Skipped {
				ks = append(ks, s.Key)
			}
			parts = append(parts, "already present "+strings.Join(ks, ", "))
		}
		if o.complete() && o.plan.Calls() == 0 && len(o.plan.Skipped) == 0 {
			parts = append(parts, "nothing to do")
		}
		if o.err != nil {
			what := "FAILED"
			if errors.Is(o.err, context.Canceled) || errors.Is(o.err, context.DeadlineExceeded) {
				what = "INTERRUPTED (the call may or may not have taken effect)"
			}
			parts = append(parts, fmt.Sprintf("%s %s: %s%s", what, o.failedOp, errText(o.err), hint(o.err, opPermission(o.failedOp))))
		}
		if len(o.notDone) > 0 {
			parts = append(parts, "not done: "+strings.Join(o.notDone, ", "))
		}
		b.WriteString(strings.Join(parts, "; "))
	}
	b.WriteString("\nRun again once the cause is fixed: keys already present are skipped, so only the missing calls are made.")
	return errors.New(b.String())
}

func opPermission(op string) string {
	if strings.HasPrefix(op, "detach") {
		return "ec2:DetachImageWatermark"
	}
	return "ec2:AttachImageWatermark"
}

// ---- verify ------------------------------------------------------------

type verifyProblem struct {
	msg   string
	final bool // retrying can't help
}

// verifyAll describes every region's AMIs again (one call per region) and
// checks the result against the plans. It returns the keys on each AMI.
func (r *run) verifyAll(ctx context.Context, regions []*regionWork, plans map[string]watermark.ImagePlan) (map[string][]string, error) {
	var mu sync.Mutex
	after := map[string][]string{}
	var problems []string
	var errs []string
	var wg sync.WaitGroup
	for _, w := range regions {
		wg.Add(1)
		go func() {
			defer wg.Done()
			keys, probs, err := r.verifyRegion(ctx, w, plans)
			mu.Lock()
			defer mu.Unlock()
			for id, ks := range keys {
				after[id] = ks
			}
			problems = append(problems, probs...)
			if err != nil {
				errs = append(errs, err.Error())
			}
		}()
	}
	wg.Wait()
	if ctx.Err() != nil {
		return nil, fmt.Errorf("amiwatermark: interrupted during verification: every planned change was made, but the result was not verified")
	}
	if len(errs) > 0 {
		sort.Strings(errs)
		return nil, fmt.Errorf("amiwatermark: every planned change was made, but verification could not describe the AMIs:\n  - %s", strings.Join(errs, "\n  - "))
	}
	if len(problems) > 0 {
		sort.Strings(problems)
		return nil, fmt.Errorf("amiwatermark: verification failed (the attach and detach calls succeeded):\n  - %s", strings.Join(problems, "\n  - "))
	}
	return after, nil
}

func (r *run) verifyRegion(ctx context.Context, w *regionWork, plans map[string]watermark.ImagePlan) (map[string][]string, []string, error) {
	ids := make([]string, 0, len(w.targets))
	for _, t := range w.targets {
		ids = append(ids, t.ImageID)
	}
	deadline := time.Now().Add(min(r.req.Timing.VerifyWindow, r.req.WaitTimeout))
	delay := r.req.Timing.PollInitial
	for {
		out, err := w.client.DescribeImages(ctx, &ec2.DescribeImagesInput{ImageIds: ids})
		if err != nil {
			return nil, nil, fmt.Errorf("%s: DescribeImages of %s failed: %s%s", w.region, strings.Join(ids, ", "), errText(err), hint(err, "ec2:DescribeImages"))
		}
		got := map[string]watermark.Image{}
		for _, im := range out.Images {
			img := awsconfig.Image(&im, w.region)
			got[img.ID] = img
		}
		keys := map[string][]string{}
		var probs []verifyProblem
		for _, t := range w.targets {
			img, ok := got[t.ImageID]
			if !ok {
				probs = append(probs, verifyProblem{msg: fmt.Sprintf("%s %s: DescribeImages did not return the AMI", t.Region, t.ImageID)})
				continue
			}
			for _, wm := range img.Watermarks {
				keys[t.ImageID] = append(keys[t.ImageID], wm.Key)
			}
			probs = append(probs, r.checkImage(t, img, plans[t.ImageID])...)
		}
		if len(probs) == 0 {
			r.ui.say("%s: verified %d AMI(s)", w.region, len(w.targets))
			return keys, nil, nil
		}
		retry := false
		for _, p := range probs {
			if !p.final {
				retry = true
			}
		}
		remaining := time.Until(deadline)
		if !retry || remaining <= 0 {
			var msgs []string
			for _, p := range probs {
				msgs = append(msgs, p.msg)
			}
			return keys, msgs, nil
		}
		if err := sleep(ctx, min(delay, remaining)); err != nil {
			return nil, nil, err
		}
		delay = min(delay+delay/2, r.req.Timing.PollMax)
	}
}

// checkImage compares one described AMI with its plan.
func (r *run) checkImage(t Target, img watermark.Image, p watermark.ImagePlan) []verifyProblem {
	var probs []verifyProblem
	add := func(final bool, format string, args ...any) {
		probs = append(probs, verifyProblem{msg: t.Region + " " + t.ImageID + ": " + fmt.Sprintf(format, args...), final: final})
	}
	if r.req.Verify {
		byKey := map[string]watermark.Watermark{}
		for _, w := range img.Watermarks {
			byKey[w.Key] = w
		}
		for _, k := range p.RequestedKeys() {
			if _, ok := byKey[k]; !ok {
				add(false, "key %s is missing although it was attached; run again to attach it", k)
			}
		}
		for _, k := range p.AttachKeys() {
			w, ok := byKey[k]
			if !ok {
				continue
			}
			if w.SourceImageID != t.ImageID || w.SourceImageRegion != t.Region {
				add(false, "key %s reports SourceImageId %q and SourceImageRegion %q, expected %q and %q: it was not attached to this AMI; check the AMI in EC2", k, w.SourceImageID, w.SourceImageRegion, t.ImageID, t.Region)
			}
		}
		for _, k := range p.Detach {
			if _, ok := byKey[k]; ok {
				add(false, "key %s is still present although it was detached; run again to detach it", k)
			}
		}
	}
	if msg := r.criteriaProblem(img); msg != "" {
		add(false, "%s", msg)
	}
	if r.req.RequireAllowed {
		switch {
		case img.Allowed == nil:
			add(true, "require_allowed: DescribeImages does not report imageAllowed, which means the account's Allowed AMIs setting in %s is disabled: put it in audit-mode or enabled mode (aws ec2 enable-allowed-images-settings --allowed-images-settings-state audit-mode --region %s), or set require_allowed = false", t.Region, t.Region)
		case !*img.Allowed:
			add(false, "require_allowed: imageAllowed is false: the AMI with keys %s does not match the account's Allowed AMIs criteria in %s; add an image criterion that matches it (for example an ImageWatermarks entry with one of its keys) or set require_allowed = false", joinOr(keysOf(img), "none"), t.Region)
		}
	}
	return probs
}

// criteriaProblem evaluates allowed_criteria_file on img; "" when the
// option is not set or the AMI is allowed.
func (r *run) criteriaProblem(img watermark.Image) string {
	if r.req.Criteria == nil {
		return ""
	}
	v := r.req.Criteria.Evaluate(img, r.req.CriteriaAccount, time.Now().UTC())
	if v.Allowed {
		return ""
	}
	return fmt.Sprintf("allowed_criteria_file %s: the AMI with keys %s would be blocked by these Allowed-AMIs criteria (%s); attach a watermark the criteria accept, or change the criteria",
		r.req.CriteriaSource, joinOr(keysOf(img), "none"), v.Reason)
}

func keysOf(img watermark.Image) []string {
	out := make([]string, 0, len(img.Watermarks))
	for _, w := range img.Watermarks {
		out = append(out, w.Key)
	}
	return out
}

// ---- helpers -----------------------------------------------------------

// apiCode is the EC2 error code of err ("" when it is not an API error).
func apiCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

// errText renders an SDK error compactly: "Code: message" for API errors.
func errText(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return fmt.Sprintf("%s: %s", ae.ErrorCode(), ae.ErrorMessage())
	}
	if errors.Is(err, context.Canceled) {
		return "cancelled"
	}
	return err.Error()
}

// hint says what to do about an API error.
func hint(err error, permission string) string {
	switch apiCode(err) {
	case "UnauthorizedOperation", "AccessDenied", "AccessDeniedException":
		return fmt.Sprintf(" (the credentials are not allowed to call %s: grant it in IAM)", permission)
	case "AuthFailure":
		return " (the credentials were rejected or do not own this AMI: check the credentials and that the account owns the AMI)"
	case "RequestLimitExceeded", "Throttling", "ThrottlingException":
		return " (EC2 kept throttling after every retry: raise max_retries or run again later)"
	case "ResourceLimitExceeded":
		return " (the AMI already carries 5 watermarks, perhaps changed since it was described: detach some with `detach` and run again)"
	case "IncorrectState":
		return " (the AMI is no longer available: check it in EC2)"
	case "InvalidAMIID.NotFound", "InvalidAMIID.Unavailable":
		return " (the AMI is gone or not visible: check the AMI id and its region)"
	case "UnsupportedOperation":
		return " (check the AMI: watermarks can't be attached to public AMIs)"
	}
	return ""
}

// namedIn returns the ids of list that occur in msg.
func namedIn(msg string, list []string) []string {
	var out []string
	for _, id := range list {
		if strings.Contains(msg, id) {
			out = append(out, id)
		}
	}
	return out
}

// without returns list minus the ids in drop.
func without(list, drop []string) []string {
	var out []string
	for _, id := range list {
		if !contains(drop, id) {
			out = append(out, id)
		}
	}
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

func quoteAll(list []string) []string {
	out := make([]string, len(list))
	for i, s := range list {
		out[i] = fmt.Sprintf("%q", s)
	}
	return out
}
