package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/amiwatermark/packer-plugin-amiwatermark/internal/awsconfig"
	"github.com/amiwatermark/packer-plugin-amiwatermark/internal/orgscan"
	rpt "github.com/amiwatermark/packer-plugin-amiwatermark/internal/report"
)

// The wiring of a scoped run: internal/orgscan runs the scopes, each
// finished scope goes to the writers of internal/report as it finishes
// (nothing waits for an earlier scope), and the totals end the outputs.

// scopeCommand is one command's part in a scoped run.
type scopeCommand struct {
	name string
	// countKeys are the keys of a scope's totals, in display order.
	countKeys []string
	// failedKey, if set, is a count that makes the run exit 1 (verify's
	// failed AMIs).
	failedKey string
	// checkedKey, if set, is a count that must not be zero: a gate that
	// checked nothing does not pass (verify's AMIs).
	checkedKey string
	// refs are the AMIs named on the command line (inspect, verify).
	refs []amiRef
	// params are the command's settings, echoed in the JSON and HTML.
	params map[string]any
	run    orgscan.Command
}

// scopeOut is the value of a finished scope: its counts and rows.
type scopeOut struct {
	counts map[string]int
	rows   rpt.Rows
	// With public images read once per region (simulate): the rows of the
	// scope's own read.
	own []rpt.Row
}

// startScoped validates the scope flags, asks STS who the caller is and
// runs cmd in every scope.
func startScoped(ctx context.Context, sf *scopeFlags, asJSON bool, ac *awsconfig.AccessConfig,
	cmd *scopeCommand, stdout, stderr io.Writer) int {
	p, err := sf.plan(asJSON)
	if err == nil {
		err = checkRefRegions(p, cmd.refs)
	}
	if err != nil {
		return report(stderr, cmd.name, err)
	}
	env, err := orgscan.New(ctx, ac, &p.Plan)
	if err != nil {
		return report(stderr, cmd.name, err)
	}
	p.addDefaultRegion(env.Base().Region)
	if err := checkScope(env, p); err != nil {
		return report(stderr, cmd.name, err)
	}
	return runScopes(ctx, env, p, cmd, stdout, stderr)
}

// checkScope refuses what the caller's identity and configuration make
// impossible: other accounts without a role, no region at all.
func checkScope(env *orgscan.Env, p *scopePlan) error {
	if p.RoleName == "" {
		for _, a := range p.Accounts {
			if a != env.Caller().Account {
				return usagef("--accounts %s: the caller is account %s; give --role-name NAME to assume a role in the other accounts", a, env.Caller().Account)
			}
		}
	}
	if len(p.Regions) == 0 && !p.AllRegions && env.Base().Region == "" {
		return usagef("no region: give --regions R1,R2 (or all), --region, or set AWS_REGION")
	}
	return nil
}

// outputs are the writers of a run: the form on stdout, and --html.
type outputs struct {
	writers []reportWriter
	html    *rpt.HTML
}

type reportWriter interface {
	Begin(*rpt.Header) error
	Scope(*rpt.Scope) error
	End(*rpt.Summary) error
}

func newOutputs(p *scopePlan, stdout io.Writer) (*outputs, error) {
	o := &outputs{}
	switch {
	case p.json:
		o.writers = append(o.writers, &rpt.JSON{W: stdout})
	case p.csv:
		o.writers = append(o.writers, &rpt.CSV{W: stdout})
	default:
		o.writers = append(o.writers, &rpt.Text{W: stdout})
	}
	if p.html != "" {
		h, err := rpt.NewHTML(p.html)
		if err != nil {
			return nil, usagef("--html %s: %v", p.html, err)
		}
		h.Redact = redact
		o.html = h
		o.writers = append(o.writers, h)
	}
	return o, nil
}

// runScopes runs cmd in every scope of env's plan, writes the outputs and
// returns the exit code.
func runScopes(ctx context.Context, env *orgscan.Env, p *scopePlan, cmd *scopeCommand, stdout, stderr io.Writer) int {
	prog := &orgscan.Progress{Start: time.Now()}
	accounts, err := env.Accounts(ctx)
	if err != nil {
		return report(stderr, cmd.name, err)
	}
	out, err := newOutputs(p, stdout)
	if err != nil {
		return report(stderr, cmd.name, err)
	}
	if out.html != nil {
		defer out.html.Abort()
	}
	c := env.Caller()
	head := &rpt.Header{Command: cmd.name, Caller: rpt.Caller{Account: c.Account, ARN: c.ARN}, Accounts: len(accounts),
		Params: cmd.params, Started: prog.Start.UTC(), CountKeys: cmd.countKeys}
	if p.Shard.N > 0 {
		head.Params = withShard(cmd.params, p.Shard)
	}
	if err := out.begin(head); err != nil {
		return report(stderr, cmd.name, err)
	}
	stop := showProgress(stderr, cmd.name, prog)
	sum := rpt.NewSummary(cmd.countKeys)
	var werr error
	env.Run(ctx, accounts, &cmd.run, prog, func(r *orgscan.Result) {
		if err := out.scope(sum, prog, toScope(r)); err != nil && werr == nil {
			werr = err
		}
	})
	stop()
	sum.Interrupted, sum.Elapsed = ctx.Err() != nil, time.Since(prog.Start)
	sum.Sort()
	if err := out.end(sum); err != nil && werr == nil {
		werr = err
	}
	fmt.Fprintln(stderr, progressLine(cmd.name, prog))
	if werr != nil {
		return report(stderr, cmd.name, fmt.Errorf("writing the results: %w", werr))
	}
	if out.html != nil {
		if err := out.html.Commit(); err != nil {
			return report(stderr, cmd.name, fmt.Errorf("writing --html %s: %w", p.html, err))
		}
	}
	return exitCode(stderr, cmd, sum)
}

// withShard adds the shard to the parameters (a copy).
func withShard(params map[string]any, s orgscan.Shard) map[string]any {
	out := map[string]any{"shard": s.String()}
	for k, v := range params {
		out[k] = v
	}
	return out
}

func (o *outputs) begin(h *rpt.Header) error {
	for _, w := range o.writers {
		if err := w.Begin(h); err != nil {
			return err
		}
	}
	return nil
}

// scope counts a finished scope and writes it to every output.
func (o *outputs) scope(sum *rpt.Summary, prog *orgscan.Progress, sc *rpt.Scope) error {
	blocked, err := rpt.BlockedOwners(sc)
	if err != nil {
		return err
	}
	for _, n := range blocked {
		prog.Blocked.Add(int64(n))
	}
	sum.Add(sc, blocked)
	for _, w := range o.writers {
		if err := w.Scope(sc); err != nil {
			return err
		}
	}
	return nil
}

func (o *outputs) end(sum *rpt.Summary) error {
	var first error
	for _, w := range o.writers {
		if err := w.End(sum); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// toScope is the report's view of a result.
func toScope(r *orgscan.Result) *rpt.Scope {
	sc := &rpt.Scope{Account: r.Account, Region: r.Region, Status: r.Status, Error: r.Error}
	if v, ok := r.Value.(*scopeOut); ok {
		sc.Counts, sc.Rows = v.counts, v.rows
	}
	return sc
}

// exitCode reports the failures and interruption on stderr and returns the
// run's exit code.
func exitCode(stderr io.Writer, cmd *scopeCommand, sum *rpt.Summary) int {
	for _, f := range sum.Failures {
		fmt.Fprintf(stderr, "amiwatermark %s: %s %s: %s\n", cmd.name, f.Account, f.Region, f.Error)
	}
	code := exitOK
	if len(sum.Failures) > 0 {
		fmt.Fprintf(stderr, "amiwatermark %s: %d of %d account-regions failed (listed above); the others are complete\n", cmd.name, len(sum.Failures), sum.Scopes())
		code = exitFail
	}
	if cmd.failedKey != "" && sum.Totals[cmd.failedKey] > 0 {
		code = exitFail
	}
	if cmd.checkedKey != "" && sum.Totals[cmd.checkedKey] == 0 && code == exitOK {
		fmt.Fprintf(stderr, "amiwatermark %s: no AMI was checked: a run that checked nothing does not pass\n", cmd.name)
		code = exitFail
	}
	if sum.Interrupted {
		fmt.Fprintf(stderr, "amiwatermark %s: interrupted: %d of %d account-regions finished; the output above has every finished one, the unfinished are listed\n",
			cmd.name, sum.Totals["scopes_ok"]+sum.Totals["scopes_failed"], sum.Scopes())
		code = exitFail
	}
	return code
}

// Progress line intervals: on a terminal, and when stderr is a file or
// pipe (CI logs).
var (
	progressTerminal = 1 * time.Second
	progressLog      = 5 * time.Second
)

// showProgress prints the progress line on stderr until the returned stop.
func showProgress(stderr io.Writer, name string, prog *orgscan.Progress) (stop func()) {
	quit, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		every := progressLog
		if isTerminal(stderr) {
			every = progressTerminal
		}
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				fmt.Fprintln(stderr, progressLine(name, prog))
			case <-quit:
				return
			}
		}
	}()
	return func() { close(quit); <-done }
}

func progressLine(cmd string, p *orgscan.Progress) string {
	eta := "?"
	if d, ok := p.ETA(); ok {
		eta = d.Round(time.Second).String()
	}
	tot := fmt.Sprint(p.Total.Load())
	if !p.Final.Load() {
		tot += "+"
	}
	return fmt.Sprintf("amiwatermark %s: %d/%s account-regions done (%d failed), %d images scanned, %d blocked so far, ETA %s",
		cmd, p.Done.Load(), tot, p.Failed.Load(), p.Images.Load(), p.Blocked.Load(), eta)
}
