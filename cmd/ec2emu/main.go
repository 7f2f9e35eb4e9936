// Command ec2emu runs the project's EC2 emulator (internal/ec2emu) as a
// program, for the demo, the examples and the end-to-end tests.
//
//	ec2emu [--addr 127.0.0.1:0] [--state FILE] [--write-behind 100ms]
//	       [--seed FILE] [--default-account 123456789012]
//	       [--available-after D] [--pending-describes N]
//	       [--not-found-describes N] [--throttle ec2|off]
//	       [--latency-base D] [--latency-per-item D]
//
// The first line on stdout is exactly "listening on http://HOST:PORT".
// EC2, STS, Organizations and Image Builder are served on one port (each
// request goes to the service of its SigV4 credential scope), the control
// endpoints under /_emu/ (see docs/emulator.md), plus POST /_emu/save, which writes the
// --state file now and answers {"saved":"FILE","images":N}.
//
// State: with --state FILE the emulator loads FILE at start when it exists
// (a damaged file is an error, exit 1) and writes it atomically (temporary
// file in the same directory, fsync, rename) right after start, after every
// change (write-behind, below), on POST /_emu/save, and after a graceful stop
// on SIGINT or SIGTERM. The file is never left half-written.
//
// Write-behind: after an API call or control request that changed the state
// (attach, detach, copy, register, deregister, settings, tags, instances,
// seeding, clock, reset, and describes that move a pending image along), the
// state is written within the --write-behind delay (default 100ms; changes
// made during the delay are written together). So once a client has had
// its answer and that delay (plus the time of one save) has passed, even a
// SIGKILL loses nothing. --write-behind 0 turns it off: then only POST
// /_emu/save and a graceful stop write the file, and a SIGKILL loses the
// changes made since the last save.
//
// Seeding: --seed FILE (a seed object, or a JSON array of images in the
// POST /_emu/images format; see docs/emulator.md) is
// applied at start only when there is no state to load (no --state, or the
// --state file does not exist yet), so a restart on the same state file does
// not add the seed images twice. Delete the state file to seed again.
//
// Models (off unless asked, also set at run time by POST /_emu/config):
// --throttle ec2 answers RequestLimitExceeded (503) the way EC2's token
// buckets do, per account, region and action class (AWS's numbers:
// non-mutating actions 100 tokens refilled 20 a second, mutating ones 50
// and 5); --latency-base and --latency-per-item make every API call take
// base + per-item x the items it returns (numbers of your choosing, such
// as 150ms and 1ms). See docs/emulator.md.
//
// The emulator has no authentication; it listens on loopback unless --addr
// says otherwise, and warns when it does.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/amiwatermark/packer-plugin-amiwatermark/internal/ec2emu"
)

// shutdownTimeout bounds the wait for in-flight requests at stop.
const shutdownTimeout = 10 * time.Second

// defaultWriteBehind is the default --write-behind delay.
const defaultWriteBehind = 100 * time.Millisecond

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

type config struct {
	addr, state, seed string
	writeBehind       time.Duration
	opts              ec2emu.Options
}

func parseFlags(args []string, stderr io.Writer) (*config, error) {
	c := &config{}
	f := flag.NewFlagSet("ec2emu", flag.ContinueOnError)
	f.SetOutput(stderr)
	f.Usage = func() {
		fmt.Fprint(f.Output(), `Usage: ec2emu [flags]

Runs the EC2 emulator: EC2, STS, Organizations and Image Builder on one port
(routed by the SigV4 credential scope's service), control endpoints under
/_emu/ (health, stats, reset, clock, faults, config, images, seed, save). The
first stdout line is "listening on http://HOST:PORT". See docs/emulator.md.

Models, off unless asked: --throttle ec2 answers RequestLimitExceeded (503)
as EC2's token buckets do (per account, region and action class; AWS's
numbers: non-mutating 100 tokens + 20/s, mutating 50 + 5/s);
--latency-base 150ms --latency-per-item 1ms makes every API call take
base + per-item x the items it returns (numbers of your choosing).

With --state FILE the state is loaded from FILE at start (when it exists) and
written to it atomically after every change (write-behind: within the
--write-behind delay of the change, default 100ms), on POST /_emu/save and on
SIGINT/SIGTERM. Once a change has been answered and the delay has passed, a
SIGKILL loses nothing. --write-behind 0 writes only on POST /_emu/save and at
a graceful stop.

Flags:
`)
		f.PrintDefaults()
	}
	f.StringVar(&c.addr, "addr", "127.0.0.1:0", "listen address HOST:PORT (port 0: any free port)")
	f.StringVar(&c.state, "state", "", "state file: loaded at start if it exists, written atomically after every change (see --write-behind), on POST /_emu/save and at stop")
	f.DurationVar(&c.writeBehind, "write-behind", defaultWriteBehind, "with --state: write the state this long after a change, so a SIGKILL after that loses nothing (0: only on POST /_emu/save and at stop)")
	f.StringVar(&c.seed, "seed", "", "JSON seed file (an object {\"images\":[...],...} or an array of images) applied at start when no state was loaded")
	f.StringVar(&c.opts.DefaultAccount, "default-account", ec2emu.DefaultAccount, "account of requests whose access key id does not end in 12 digits")
	f.DurationVar(&c.opts.AvailableAfter, "available-after", 0, "how long new images stay pending")
	f.IntVar(&c.opts.PendingDescribes, "pending-describes", 0, "DescribeImages calls that see a new image pending")
	f.IntVar(&c.opts.NotFoundDescribes, "not-found-describes", 0, "DescribeImages calls by id that answer InvalidAMIID.NotFound for a new image")
	f.StringVar(&c.opts.Throttle, "throttle", ec2emu.ThrottleOff, "throttle model: ec2 (EC2's token buckets per account, region and action class: RequestLimitExceeded when empty) or off")
	f.DurationVar(&c.opts.Latency.Base, "latency-base", 0, "latency model: every API call takes this long, plus --latency-per-item for each item it returns (e.g. 150ms)")
	f.DurationVar(&c.opts.Latency.PerItem, "latency-per-item", 0, "latency model: added to a call's time for each item it returns (DescribeImages images, ListAccounts accounts; e.g. 1ms)")
	if err := f.Parse(args); err != nil {
		return nil, err
	}
	if f.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q: ec2emu takes only flags (see -h)", f.Arg(0))
	}
	if !isAccountID(c.opts.DefaultAccount) {
		return nil, fmt.Errorf("--default-account %q is not a 12-digit account id", c.opts.DefaultAccount)
	}
	if c.opts.AvailableAfter < 0 || c.opts.PendingDescribes < 0 || c.opts.NotFoundDescribes < 0 {
		return nil, errors.New("--available-after, --pending-describes and --not-found-describes must not be negative")
	}
	if err := (ec2emu.RuntimeConfig{Throttle: c.opts.Throttle, LatencyModel: c.opts.Latency}).Validate(); err != nil {
		return nil, modelFlagError(err)
	}
	if c.writeBehind < 0 || c.writeBehind > time.Minute {
		return nil, fmt.Errorf("--write-behind %s is out of range: give 0 (off) up to 1m, for example 100ms", c.writeBehind)
	}
	return c, nil
}

// modelFlagError names the flags of a model setting Validate refused.
func modelFlagError(err error) error {
	msg := err.Error()
	for field, flag := range map[string]string{"throttle ": "--throttle ", "latency_model.base ": "--latency-base ", "latency_model.per_item ": "--latency-per-item "} {
		if rest, ok := strings.CutPrefix(msg, field); ok {
			return errors.New(flag + rest)
		}
	}
	return err
}

func isAccountID(s string) bool {
	if len(s) != 12 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// run is the program; it returns the exit code.
func run(args []string, stdout, stderr io.Writer) int {
	fail := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "ec2emu: "+format+"\n", a...)
		return 1
	}
	c, err := parseFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		return fail("%v", err)
	}
	srv := ec2emu.New(c.opts)

	loaded := false
	if c.state != "" {
		switch _, err := os.Stat(c.state); {
		case err == nil:
			if err := srv.LoadState(c.state); err != nil {
				return fail("%v", err)
			}
			loaded = true
		case errors.Is(err, fs.ErrNotExist):
		default:
			return fail("--state %s: %v", c.state, err)
		}
	}
	if c.seed != "" {
		if loaded {
			fmt.Fprintf(stderr, "ec2emu: --seed %s not applied: the state was loaded from %s (delete that file to seed again)\n", c.seed, c.state)
		} else {
			b, err := os.ReadFile(c.seed)
			if err != nil {
				return fail("--seed: %v", err)
			}
			seed, err := ec2emu.ParseSeed(b)
			if err != nil {
				return fail("--seed %s: %v", c.seed, err)
			}
			if err := srv.ApplySeed(seed); err != nil {
				return fail("--seed %s: %v", c.seed, err)
			}
		}
	}
	if c.state != "" {
		// Write at once: this checks the path is writable before anything
		// is served, and a restart after a SIGKILL does not seed twice.
		if err := srv.SaveState(c.state); err != nil {
			return fail("%v", err)
		}
	}

	ln, err := net.Listen("tcp", c.addr)
	if err != nil {
		return fail("--addr %s: %v", c.addr, err)
	}
	if tcp, ok := ln.Addr().(*net.TCPAddr); ok && !tcp.IP.IsLoopback() {
		fmt.Fprintf(stderr, "ec2emu: warning: listening on %s, which is not a loopback address; the emulator has no authentication, anyone who can reach it can read and change its state\n", ln.Addr())
	}
	if _, err := fmt.Fprintf(stdout, "listening on http://%s\n", ln.Addr()); err != nil {
		_ = ln.Close()
		return fail("writing to stdout: %v", err)
	}
	if f, ok := stdout.(interface{ Sync() error }); ok {
		_ = f.Sync()
	}

	// Request contexts derive from base; cancelling it at stop ends the
	// injected latency of in-flight requests at once instead of making the
	// graceful shutdown wait for it.
	base, cancelBase := context.WithCancel(context.Background())
	defer cancelBase()
	hs := &http.Server{
		Handler:           handler(srv, c.state),
		ReadHeaderTimeout: 10 * time.Second,
		BaseContext:       func(net.Listener) context.Context { return base },
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	stopSaver := func() {}
	if c.state != "" && c.writeBehind > 0 {
		stopSaver = startWriteBehind(srv, c.state, c.writeBehind, stderr)
	}
	served := make(chan error, 1)
	go func() { served <- hs.Serve(ln) }()

	code := 0
	select {
	case <-ctx.Done():
		stop() // a second signal kills the process the default way
		cancelBase()
		sctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
		if err := hs.Shutdown(sctx); err != nil {
			fmt.Fprintf(stderr, "ec2emu: requests still running after %s were cut off: %v\n", shutdownTimeout, err)
			_ = hs.Close()
		}
		cancel()
	case err := <-served:
		fmt.Fprintf(stderr, "ec2emu: serving stopped: %v\n", err)
		code = 1
	}

	stopSaver()
	if c.state == "" {
		fmt.Fprintln(stdout, "stopped")
		return code
	}
	if err := srv.SaveState(c.state); err != nil {
		return fail("%v", err)
	}
	fmt.Fprintf(stdout, "stopped; state saved to %s (%d images)\n", c.state, srv.ImageCount())
	return code
}

// handler adds POST /_emu/save to the emulator.
func handler(srv *ec2emu.Server, statePath string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.TrimSuffix(r.URL.Path, "/") != "/_emu/save" {
			srv.ServeHTTP(w, r)
			return
		}
		status, body := http.StatusOK, map[string]any{}
		switch {
		case r.Method != http.MethodPost:
			status, body["error"] = http.StatusMethodNotAllowed, "/_emu/save accepts POST only"
		case statePath == "":
			status, body["error"] = http.StatusBadRequest, "no state file: start ec2emu with --state FILE to save its state"
		default:
			if err := srv.SaveState(statePath); err != nil {
				status, body["error"] = http.StatusInternalServerError, err.Error()
			} else {
				body["saved"], body["images"] = statePath, srv.ImageCount()
			}
		}
		b, _ := json.Marshal(body)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = w.Write(append(b, '\n'))
	})
}

// writeBehindPoll is how often the write-behind loop looks at the state's
// Generation; a change is written at most this much later than the delay.
const writeBehindPoll = 10 * time.Millisecond

// startWriteBehind writes the state to path within delay of every change
// (ec2emu.Server.Generation): once a change is seen, further changes during
// delay are gathered, then one save writes them all. A failed save is
// reported on stderr and tried again after delay. The returned function
// stops the loop and waits for a save in progress to finish.
func startWriteBehind(srv *ec2emu.Server, path string, delay time.Duration, stderr io.Writer) (stop func()) {
	quit, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		saved := srv.Generation() // the state was written at start
		poll := min(writeBehindPoll, delay)
		tick := time.NewTicker(poll)
		defer tick.Stop()
		var dirtySince time.Time // zero: nothing unsaved seen yet
		failing := false
		for {
			select {
			case <-quit:
				return
			case now := <-tick.C:
				g := srv.Generation()
				if g == saved {
					dirtySince = time.Time{}
					continue
				}
				if dirtySince.IsZero() {
					dirtySince = now
				}
				if now.Sub(dirtySince) < delay-poll/2 {
					continue
				}
				// g is read before the snapshot, so the file holds at
				// least every change up to g.
				if err := srv.SaveState(path); err != nil {
					if !failing {
						fmt.Fprintf(stderr, "ec2emu: write-behind: %v (trying again after every change; POST /_emu/save to retry now)\n", err)
					}
					failing = true
					dirtySince = now
					continue
				}
				if failing {
					fmt.Fprintf(stderr, "ec2emu: write-behind: %s saved again\n", path)
				}
				failing = false
				saved, dirtySince = g, time.Time{}
			}
		}
	}()
	return func() {
		close(quit)
		<-done
	}
}
