package main

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/smithy-go"
)

// The fan-out: every scope (one account in one region) runs the command's
// per-scope work with a client acting in that account and region. At most
// --concurrency scopes (and account preparations: AssumeRole,
// DescribeRegions) run at once. A scope's failure stays in that scope.
// Results are written in a fixed order (accounts as listed, regions as
// listed or sorted), each scope as soon as it and every scope before it are
// done; the rows of a scope wait in a spool (memory, then a temporary file
// past spoolMemory bytes), so memory does not grow with the organization.

// scopeRow is one line of a scope's result: a blocked image, an instance
// running a blocked image, or an AMI inspected or verified.
type scopeRow struct {
	// Kind is image or instance.
	Kind       string `json:"kind"`
	ImageID    string `json:"image_id"`
	InstanceID string `json:"instance_id,omitempty"`
	OwnerID    string `json:"owner_id,omitempty"`
	OwnerAlias string `json:"owner_alias,omitempty"`
	Name       string `json:"name,omitempty"`
	// Status: simulate blocked; inspect allowed, not allowed, unknown, not
	// found; verify ok, failed.
	Status string `json:"status"`
	// Blocked: the row counts as blocked (a CSV row, a bar of the charts).
	Blocked    bool     `json:"blocked"`
	Reason     string   `json:"reason,omitempty"`
	Watermarks []string `json:"watermarks,omitempty"`
}

// ownerKey is the owner a blocked row is charted under.
func (r scopeRow) ownerKey() string {
	return orDefault(r.OwnerAlias, orDefault(r.OwnerID, "unknown"))
}

// scopeTask is what the per-scope work gets.
type scopeTask struct {
	Account string
	Region  string
	Config  aws.Config
	EC2     *ec2.Client
	emit    func(scopeRow) error
	scanned func(n int)
}

// Emit adds a row to the scope's result.
func (t *scopeTask) Emit(r scopeRow) error { return t.emit(r) }

// Scanned counts n images (progress only).
func (t *scopeTask) Scanned(n int) { t.scanned(n) }

// scopeCommand is one command's part in the fan-out.
type scopeCommand struct {
	name string
	// countKeys are the keys of a scope's totals, in display order.
	countKeys []string
	// summary renders a scope's (or the run's) totals as one phrase.
	summary func(c map[string]int) string
	// work runs the command in one scope.
	work func(ctx context.Context, t *scopeTask) (map[string]int, error)
	// wantRegion, if set, skips regions where the command has nothing to do.
	wantRegion func(region string) bool
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
}

// Scope statuses.
const (
	scopeOK          = "ok"
	scopeFailed      = "failed"
	scopeInterrupted = "interrupted"
	scopeNotStarted  = "not started"
)

type scopeResult struct {
	seq     int
	Account string
	Region  string
	Status  string
	Error   string
	Counts  map[string]int
	rows    *spool
}

// spoolRows is how many rows a running scope keeps in memory before it
// moves them to a temporary file.
var spoolRows = 2048

// waitingBudget bounds the memory (the rows' approximate size) of the
// finished scopes that wait for an earlier one before they are written;
// past it, a waiting scope moves its rows to its file (park). Memory holds
// at most `concurrency` running scopes' rows plus this budget, whatever
// the size of the organization.
var waitingBudget = 16 << 20

// spool holds a scope's rows: in memory, then in a temporary file (each
// row as its fields, length-prefixed: see appendBinary).
type spool struct {
	// rows are the rows in memory, in chunks of rowChunk (growing a
	// single slice would copy them again and again).
	rows [][]scopeRow
	// size is their approximate memory.
	size int
	path string
	n    int
	// blockedByOwner counts the blocked image rows per owner.
	blockedByOwner map[string]int
}

// rowSize approximates a row's memory.
func rowSize(r *scopeRow) int {
	n := 160 + len(r.ImageID) + len(r.InstanceID) + len(r.OwnerID) + len(r.OwnerAlias) + len(r.Name) + len(r.Reason)
	for _, w := range r.Watermarks {
		n += 16 + len(w)
	}
	return n
}

// memory is the approximate memory of the rows s keeps in memory.
func (s *spool) memory() int {
	if s == nil {
		return 0
	}
	return s.size
}

// rowChunk is how many rows a chunk of a spool holds.
const rowChunk = 256

// inMemory is the number of rows in memory: every chunk but the last is
// full.
func (s *spool) inMemory() int {
	if len(s.rows) == 0 {
		return 0
	}
	return (len(s.rows)-1)*rowChunk + len(s.rows[len(s.rows)-1])
}

func (s *spool) add(r scopeRow) error {
	// The first chunk grows as rows come (most scopes have few); the next
	// ones are made whole.
	switch n := len(s.rows); {
	case n == 0:
		s.rows = append(s.rows, nil)
	case len(s.rows[n-1]) == rowChunk:
		s.rows = append(s.rows, make([]scopeRow, 0, rowChunk))
	}
	last := &s.rows[len(s.rows)-1]
	*last = append(*last, r)
	s.size += rowSize(&r)
	s.n++
	if r.Blocked && r.Kind == "image" {
		if s.blockedByOwner == nil {
			s.blockedByOwner = map[string]int{}
		}
		s.blockedByOwner[r.ownerKey()]++
	}
	if s.inMemory() >= spoolRows {
		return s.spill()
	}
	return nil
}

// park moves the rows in memory to the file, and frees their slots (a
// finished scope adds no more rows).
func (s *spool) park() error {
	if s == nil || len(s.rows) == 0 {
		return nil
	}
	return s.spill()
}

func (s *spool) spill() error {
	var f *os.File
	var err error
	if s.path == "" {
		f, err = os.CreateTemp("", "amiwatermark-scope-*.rows")
		if err == nil {
			s.path = f.Name()
		}
	} else {
		f, err = os.OpenFile(s.path, os.O_WRONLY|os.O_APPEND, 0)
	}
	if err != nil {
		return fmt.Errorf("spooling results to a temporary file: %w", err)
	}
	bw := bufio.NewWriterSize(f, 64<<10)
	var rec []byte
write:
	for _, chunk := range s.rows {
		for i := range chunk {
			rec = chunk[i].appendBinary(rec[:0])
			if _, err = bw.Write(rec); err != nil {
				break write
			}
		}
	}
	if err == nil {
		err = bw.Flush()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("spooling results to %s: %w", s.path, err)
	}
	s.rows, s.size = nil, 0 // nothing keeps the rows' strings alive
	return nil
}

// each calls fn for every row in order.
func (s *spool) each(fn func(scopeRow) error) error {
	if s == nil {
		return nil
	}
	if s.path != "" {
		f, err := os.Open(s.path)
		if err != nil {
			return err
		}
		br := bufio.NewReaderSize(f, 64<<10)
		for {
			var row scopeRow
			if err = row.readBinary(br); err != nil {
				break
			}
			if err = fn(row); err != nil {
				break
			}
		}
		f.Close()
		if err != io.EOF {
			return fmt.Errorf("reading the results spooled to %s: %w", s.path, err)
		}
	}
	for _, chunk := range s.rows {
		for _, r := range chunk {
			if err := fn(r); err != nil {
				return err
			}
		}
	}
	return nil
}

// appendBinary appends the row as the spool file holds it: its strings
// (kind, image id, instance id, owner id, owner alias, name, status,
// reason), each as a uvarint length and the bytes, a byte for blocked, the
// number of watermarks and each of them.
func (r *scopeRow) appendBinary(b []byte) []byte {
	str := func(s string) {
		b = binary.AppendUvarint(b, uint64(len(s)))
		b = append(b, s...)
	}
	for _, s := range [...]string{r.Kind, r.ImageID, r.InstanceID, r.OwnerID, r.OwnerAlias, r.Name, r.Status, r.Reason} {
		str(s)
	}
	if r.Blocked {
		b = append(b, 1)
	} else {
		b = append(b, 0)
	}
	b = binary.AppendUvarint(b, uint64(len(r.Watermarks)))
	for _, w := range r.Watermarks {
		str(w)
	}
	return b
}

// readBinary reads a row of appendBinary; io.EOF at the end of the file
// (and only there).
func (r *scopeRow) readBinary(br *bufio.Reader) error {
	str := func() (string, error) {
		n, err := binary.ReadUvarint(br)
		if err != nil {
			return "", err
		}
		if n > 1<<24 {
			return "", fmt.Errorf("a row field of %d bytes", n)
		}
		b := make([]byte, n)
		if _, err := io.ReadFull(br, b); err != nil {
			return "", err
		}
		return string(b), nil
	}
	fields := [...]*string{&r.Kind, &r.ImageID, &r.InstanceID, &r.OwnerID, &r.OwnerAlias, &r.Name, &r.Status, &r.Reason}
	for i, f := range fields {
		v, err := str()
		if err != nil {
			if i > 0 && err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return err
		}
		*f = v
	}
	blocked, err := br.ReadByte()
	if err != nil {
		return io.ErrUnexpectedEOF
	}
	r.Blocked = blocked == 1
	n, err := binary.ReadUvarint(br)
	if err != nil || n > 1<<16 {
		return fmt.Errorf("a row with a bad watermark count: %v", err)
	}
	for i := uint64(0); i < n; i++ {
		w, err := str()
		if err != nil {
			return io.ErrUnexpectedEOF
		}
		r.Watermarks = append(r.Watermarks, w)
	}
	return nil
}

func (s *spool) remove() {
	if s == nil {
		return
	}
	if s.path != "" {
		os.Remove(s.path)
		s.path = ""
	}
	s.rows, s.size = nil, 0
}

// progress counts what the run has done, for the progress line.
type progress struct {
	total    atomic.Int64 // scopes known so far
	final    atomic.Bool  // total is the final total
	done     atomic.Int64
	failed   atomic.Int64
	images   atomic.Int64
	blocked  atomic.Int64
	start    time.Time
	accounts atomic.Int64
}

func (p *progress) line(cmd string) string {
	total, done := p.total.Load(), p.done.Load()
	eta := "?"
	if done > 0 && p.final.Load() {
		el := time.Since(p.start)
		rem := time.Duration(float64(el) / float64(done) * float64(total-done))
		eta = rem.Round(time.Second).String()
	}
	tot := fmt.Sprint(total)
	if !p.final.Load() {
		tot += "+"
	}
	return fmt.Sprintf("amiwatermark %s: %d/%s account-regions done (%d failed), %d images scanned, %d blocked so far, ETA %s",
		cmd, done, tot, p.failed.Load(), p.images.Load(), p.blocked.Load(), eta)
}

// Progress line intervals: on a terminal, and when stderr is a file or
// pipe (CI logs).
var (
	progressTerminal = 1 * time.Second
	progressLog      = 5 * time.Second
)

// runScopes runs cmd in every scope of env's plan, writes the outputs and
// returns the exit code.
func runScopes(ctx context.Context, env *scopeEnv, cmd *scopeCommand, stdout, stderr io.Writer) int {
	prog := &progress{start: time.Now()}
	accounts, err := env.accounts(ctx)
	if err != nil {
		return report(stderr, cmd.name, err)
	}
	prog.accounts.Store(int64(len(accounts)))

	var writers []reportWriter
	switch {
	case env.plan.json:
		writers = append(writers, &jsonReport{w: stdout})
	case env.plan.csv:
		writers = append(writers, &csvReport{w: stdout})
	default:
		writers = append(writers, &textReport{w: stdout})
	}
	var htmlOut *htmlReport
	if env.plan.html != "" {
		h, err := newHTMLReport(env.plan.html)
		if err != nil {
			return report(stderr, cmd.name, usagef("--html %s: %v", env.plan.html, err))
		}
		htmlOut = h
		writers = append(writers, h)
		defer h.abort()
	}
	head := &reportHeader{Command: cmd.name, Caller: env.caller, Accounts: len(accounts), Params: cmd.params, cmd: cmd,
		Started: prog.start.UTC()}
	for _, w := range writers {
		if err := w.begin(head); err != nil {
			return report(stderr, cmd.name, err)
		}
	}

	// Progress on stderr.
	stopProgress := make(chan struct{})
	progressDone := make(chan struct{})
	go func() {
		defer close(progressDone)
		every := progressLog
		if isTerminal(stderr) {
			every = progressTerminal
		}
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				fmt.Fprintln(stderr, prog.line(cmd.name))
			case <-stopProgress:
				return
			}
		}
	}()

	results := make(chan *scopeResult, env.plan.concurrency)
	go produceScopes(ctx, env, cmd, accounts, prog, results)

	// Two loops: this one takes every finished scope at once (so that
	// finished scopes never pile up unreceived, each with its rows) and
	// puts them in output order; the writer writes them. A finished scope
	// that is not written yet keeps its rows in memory within
	// waitingBudget, in its file beyond it.
	sum := newReportSummary(cmd)
	var (
		mu      sync.Mutex
		ready   []*scopeResult // in output order, for the writer
		waiting int            // memory of the rows of received, unwritten scopes
		werr    error
	)
	wake := make(chan struct{}, 1)
	written := make(chan struct{})
	go func() {
		defer close(written)
		for done := false; !done; {
			_, open := <-wake
			done = !open
			for {
				mu.Lock()
				if len(ready) == 0 {
					mu.Unlock()
					break
				}
				r := ready[0]
				ready = ready[1:]
				failed := werr != nil
				mu.Unlock()
				sum.add(r)
				var err error
				if !failed {
					for _, w := range writers {
						if err = w.scope(r); err != nil {
							break
						}
					}
				}
				m := r.rows.memory() // unchanged since it was received
				r.rows.remove()
				mu.Lock()
				waiting -= m
				if err != nil && werr == nil {
					werr = err
				}
				mu.Unlock()
			}
		}
	}()
	pending := map[int]*scopeResult{}
	next := 0
	for res := range results {
		mu.Lock()
		over := waiting+res.rows.memory() > waitingBudget
		mu.Unlock()
		var perr error
		if over {
			perr = res.rows.park()
		}
		mu.Lock()
		if perr != nil && werr == nil {
			werr = perr
		}
		waiting += res.rows.memory()
		pending[res.seq] = res
		for r, ok := pending[next]; ok; r, ok = pending[next] {
			delete(pending, next)
			ready = append(ready, r)
			next++
		}
		mu.Unlock()
		select {
		case wake <- struct{}{}:
		default:
		}
	}
	close(wake)
	<-written
	close(stopProgress)
	<-progressDone
	sum.Interrupted = ctx.Err() != nil
	sum.Elapsed = time.Since(prog.start)
	for _, w := range writers {
		if err := w.end(sum); err != nil && werr == nil {
			werr = err
		}
	}
	fmt.Fprintln(stderr, prog.line(cmd.name))
	if werr != nil {
		return report(stderr, cmd.name, fmt.Errorf("writing the results: %w", werr))
	}
	if htmlOut != nil {
		if err := htmlOut.commit(); err != nil {
			return report(stderr, cmd.name, fmt.Errorf("writing --html %s: %w", env.plan.html, err))
		}
	}
	for _, f := range sum.Failures {
		fmt.Fprintf(stderr, "amiwatermark %s: %s %s: %s\n", cmd.name, f.Account, f.Region, f.Error)
	}
	code := exitOK
	if len(sum.Failures) > 0 {
		fmt.Fprintf(stderr, "amiwatermark %s: %d of %d account-regions failed (listed above); the others are complete\n", cmd.name, len(sum.Failures), sum.scopes)
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
			cmd.name, sum.Totals["scopes_ok"]+sum.Totals["scopes_failed"], sum.scopes)
		code = exitFail
	}
	return code
}

// produceScopes numbers the scopes in output order, runs them with bounded
// concurrency and sends every result (also of scopes that failed, were
// interrupted or never started) on results, which it closes at the end.
func produceScopes(ctx context.Context, env *scopeEnv, cmd *scopeCommand, accounts []string, prog *progress, results chan<- *scopeResult) {
	sem := env.slotsFor() // shared with the early preparations (prepareEarly)
	var wg sync.WaitGroup
	defer func() {
		wg.Wait()
		close(results)
	}()

	// Account preparations run ahead of the scopes, sharing the scopes'
	// slots: the account's credentials (AssumeRole) and, with --regions
	// all, its region list. They run a few accounts ahead, not more: a
	// preparation far ahead would hold a slot that a scope of the current
	// accounts could use.
	type regionList struct {
		regions []string
		err     error
		ahead   bool // holds a token of ahead
	}
	lists := make([]chan regionList, len(accounts))
	for i := range accounts {
		lists[i] = make(chan regionList, 1)
	}
	ahead := make(chan struct{}, prepareAhead(env.plan))
	// acquire takes a place in ch (a slot, a token), false if ctx ends first.
	acquire := func(ch chan struct{}) bool {
		select {
		case ch <- struct{}{}:
			return true
		case <-ctx.Done():
			return false
		}
	}
	go func() {
		for i, a := range accounts {
			ok := acquire(ahead)
			if ok && !acquire(sem) {
				<-ahead
				ok = false
			}
			if !ok {
				for _, l := range lists[i:] {
					l <- regionList{err: ctx.Err()}
				}
				return
			}
			go func(i int, a string) {
				defer func() { <-sem }()
				rs, err := env.regionsFor(ctx, a)
				if err == nil {
					// Assume the account's role ahead of its scopes, so
					// that AssumeRole is off their chain of calls. A
					// refusal is remembered and reported by each scope.
					_, _ = env.config(ctx, a)
				}
				lists[i] <- regionList{rs, err, true}
			}(i, a)
		}
	}()

	seq := 0
	send := func(r *scopeResult) {
		r.seq = seq
		seq++
		prog.total.Add(1)
		results <- r
	}
	for i, a := range accounts {
		l := <-lists[i]
		if l.ahead {
			<-ahead // the next account's preparation may start
		}
		if l.err != nil && ctx.Err() != nil {
			// Interrupted before the account was prepared: each of its
			// account-regions is unfinished (not done, not "all" unless
			// --regions all).
			for _, region := range unstartedRegions(ctx, env, cmd, a) {
				send(&scopeResult{Account: a, Region: region, Status: scopeNotStarted})
			}
			continue
		}
		if l.err != nil {
			prog.failed.Add(1)
			prog.done.Add(1)
			send(&scopeResult{Account: a, Region: "all", Status: scopeFailed, Error: l.err.Error()})
			continue
		}
		for _, region := range cmd.missingRegions(l.regions) {
			prog.failed.Add(1)
			prog.done.Add(1)
			send(&scopeResult{Account: a, Region: region, Status: scopeFailed,
				Error: fmt.Sprintf("region %s is not enabled for account %s (DescribeRegions does not list it), or is not a region: the AMIs named in it were not checked; check the region name, or enable the region", region, a)})
		}
		for _, region := range l.regions {
			if cmd.wantRegion != nil && !cmd.wantRegion(region) {
				continue
			}
			acquired := ctx.Err() == nil && acquire(sem)
			if ctx.Err() != nil {
				if acquired {
					<-sem
				}
				send(&scopeResult{Account: a, Region: region, Status: scopeNotStarted})
				continue
			}
			r := &scopeResult{Account: a, Region: region, seq: seq}
			seq++
			prog.total.Add(1)
			wg.Add(1)
			go func() {
				defer wg.Done()
				runScope(ctx, env, cmd, r, prog)
				// The slot is free before the result is handed over: a
				// writer busy with earlier scopes does not hold up the
				// next ones.
				<-sem
				results <- r
			}()
		}
	}
	prog.final.Store(true)
}

// unstartedRegions are the account-regions of account a that an
// interrupted run lists as not started when it never prepared a: the
// regions of the run the command would scan, or "all" when they would
// have come from DescribeRegions (--regions all).
func unstartedRegions(ctx context.Context, env *scopeEnv, cmd *scopeCommand, a string) []string {
	if env.plan.allRegions {
		return []string{"all"}
	}
	rs, err := env.regionsFor(ctx, a) // no AWS call without --regions all
	if err != nil {
		return []string{"all"}
	}
	var out []string
	for _, r := range rs {
		if cmd.wantRegion == nil || cmd.wantRegion(r) {
			out = append(out, r)
		}
	}
	return out
}

// prepareAhead is how many accounts are prepared ahead of the scopes
// being started: enough for the slots of about one round of scopes
// (concurrency / regions per account), at least 2.
func prepareAhead(p *scopePlan) int {
	perAccount := len(p.regions)
	if p.allRegions || perAccount == 0 {
		perAccount = 8 // unknown before DescribeRegions: EC2 has 17 by default
	}
	return max(2, (p.concurrency+perAccount-1)/perAccount)
}

// runScope runs cmd's work in one scope and fills r.
func runScope(ctx context.Context, env *scopeEnv, cmd *scopeCommand, r *scopeResult, prog *progress) {
	defer func() {
		if r.Status != scopeInterrupted { // done: finished, ok or failed
			prog.done.Add(1)
		}
	}()
	r.rows = &spool{}
	fail := func(err error) {
		if ctx.Err() != nil {
			r.Status, r.Error = scopeInterrupted, ""
			return
		}
		r.Status, r.Error = scopeFailed, err.Error()
		var ae smithy.APIError
		if errors.As(err, &ae) && ae.ErrorCode() == "AuthFailure" {
			r.Error += fmt.Sprintf(" (AWS answers AuthFailure in a region the account has not enabled: if %s is an opt-in region, enable it for account %s or leave it out of --regions; --regions all uses the enabled ones)", r.Region, r.Account)
		}
		prog.failed.Add(1)
	}
	cfg, err := env.config(ctx, r.Account)
	if err != nil {
		fail(err)
		return
	}
	c, err := env.ec2Client(cfg, r.Account, r.Region)
	if err != nil {
		fail(err)
		return
	}
	t := &scopeTask{Account: r.Account, Region: r.Region, Config: cfg, EC2: c,
		emit: func(row scopeRow) error {
			if row.Blocked {
				prog.blocked.Add(1)
			}
			return r.rows.add(row)
		},
		scanned: func(n int) { prog.images.Add(int64(n)) },
	}
	counts, err := cmd.work(ctx, t)
	if err != nil {
		r.rows.remove()
		r.rows = nil
		fail(err)
		return
	}
	for _, k := range cmd.countKeys {
		counts[k] += 0 // every key present, zeros included
	}
	r.Status, r.Counts = scopeOK, counts
}

// scopeFailure is a scope that failed (or, in unfinished lists, did not
// finish).
type scopeFailure struct {
	Account string `json:"account"`
	Region  string `json:"region"`
	Error   string `json:"error,omitempty"`
	Status  string `json:"status,omitempty"`
}

// reportSummary is what the run found, summed over the scopes written.
type reportSummary struct {
	cmd              *scopeCommand
	Totals           map[string]int
	BlockedByOwner   map[string]int
	BlockedByAccount map[string]int
	Failures         []scopeFailure
	Unfinished       []scopeFailure
	Interrupted      bool
	Elapsed          time.Duration
	scopes           int
	accountsSeen     map[string]bool
}

func newReportSummary(cmd *scopeCommand) *reportSummary {
	s := &reportSummary{cmd: cmd, Totals: map[string]int{}, BlockedByOwner: map[string]int{},
		BlockedByAccount: map[string]int{}, Failures: []scopeFailure{}, Unfinished: []scopeFailure{}, accountsSeen: map[string]bool{}}
	for _, k := range append([]string{"accounts", "scopes", "scopes_ok", "scopes_failed", "scopes_unfinished"}, cmd.countKeys...) {
		s.Totals[k] = 0
	}
	return s
}

// add counts one scope.
func (s *reportSummary) add(r *scopeResult) {
	s.scopes++
	s.Totals["scopes"]++
	if !s.accountsSeen[r.Account] {
		s.accountsSeen[r.Account] = true
		s.Totals["accounts"]++
	}
	switch r.Status {
	case scopeOK:
		s.Totals["scopes_ok"]++
		for _, k := range s.cmd.countKeys {
			s.Totals[k] += r.Counts[k]
		}
		if r.rows != nil {
			for owner, n := range r.rows.blockedByOwner {
				s.BlockedByOwner[owner] += n
				s.BlockedByAccount[r.Account] += n
			}
		}
	case scopeFailed:
		s.Totals["scopes_failed"]++
		s.Failures = append(s.Failures, scopeFailure{Account: r.Account, Region: r.Region, Error: r.Error})
	default:
		s.Totals["scopes_unfinished"]++
		s.Unfinished = append(s.Unfinished, scopeFailure{Account: r.Account, Region: r.Region, Status: r.Status})
	}
}

// sortedCounts returns m's entries by count (descending), then key.
func sortedCounts(m map[string]int) []kvCount {
	out := make([]kvCount, 0, len(m))
	for k, n := range m {
		out = append(out, kvCount{k, n})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].N != out[j].N {
			return out[i].N > out[j].N
		}
		return out[i].K < out[j].K
	})
	return out
}

type kvCount struct {
	K string
	N int
}

func countsText(m map[string]int) string {
	parts := []string{}
	for _, e := range sortedCounts(m) {
		parts = append(parts, fmt.Sprintf("%s=%d", e.K, e.N))
	}
	return strings.Join(parts, ", ")
}
