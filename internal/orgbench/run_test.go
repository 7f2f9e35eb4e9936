package orgbench

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// cliRun is one measured run of the CLI.
type cliRun struct {
	wall      time.Duration
	rss       int64 // the CLI's peak resident memory (VmHWM)
	calls     int64 // DescribeImages calls the emulator received
	throttled int64
	scopes    int // account-regions
}

// orgRun seeds an organization of n accounts and runs an org-wide
// simulate across it (--accounts org) at the CLI's default concurrency.
func (e *bench) orgRun(b *testing.B, n int) cliRun {
	e.seed(b, n)
	e.describeCalls(b)
	out := filepath.Join(e.dir, fmt.Sprintf("org-%d.json", n))
	r := e.runCLI(b, accountID(0), out, "simulate", "--endpoint", e.emu.URL, "--criteria", e.crit, "--json",
		"--accounts", "org", "--role-name", roleName, "--regions", strings.Join(p4Regions, ","))
	r.calls, r.throttled = e.describeCalls(b)
	r.scopes = n * len(p4Regions)
	checkTotals(b, out, r.scopes)
	return r
}

// baseline runs today's per-account full scan, a plain simulate (no scope
// flag: every image the account sees), once per account of a slice of 4
// accounts × 1 region, one after the other.
func (e *bench) baseline(b *testing.B) cliRun {
	var sum cliRun
	for a := range 4 {
		id := accountID(a)
		out := filepath.Join(e.dir, "baseline-"+id+".txt")
		r := e.runCLI(b, id, out, "simulate", "--endpoint", e.emu.URL, "--criteria", e.crit,
			"--region", p4Regions[0], "--account", id)
		want := fmt.Sprintf("Total: %d images", p4.Public+p4.Own+p4.Shared)
		if text, _ := os.ReadFile(out); !strings.Contains(string(text), want) {
			b.Fatalf("baseline for %s: no %q in its output:\n%.2000s", id, want, text)
		}
		sum.wall += r.wall
		sum.rss = max(sum.rss, r.rss)
		sum.scopes++
	}
	sum.calls, sum.throttled = e.describeCalls(b)
	return sum
}

// runCLI runs the CLI as account, its stdout to the file out, and
// measures its wall time and peak memory; a failed run fails b.
func (e *bench) runCLI(b *testing.B, account, out string, args ...string) cliRun {
	f, err := os.Create(out)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	cmd := exec.Command(e.cli, args...)
	cmd.Env = e.env(account)
	var stderr strings.Builder
	cmd.Stdout, cmd.Stderr = f, &stderr
	start := time.Now()
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	rss := pollHWM(cmd.Process.Pid)
	err = cmd.Wait()
	r := cliRun{wall: time.Since(start), rss: rss()}
	if err != nil {
		b.Fatalf("%s: %v\n%s", strings.Join(cmd.Args, " "), err, stderr.String())
	}
	return r
}

// pollHWM reads the VmHWM of pid every 25 ms until the returned function
// is called, which returns the highest value read. VmHWM only grows.
func pollHWM(pid int) func() int64 {
	var peak int64
	stop, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		for {
			peak = max(peak, vmHWM(pid))
			select {
			case <-stop:
				return
			case <-time.After(25 * time.Millisecond):
			}
		}
	}()
	return func() int64 { close(stop); <-done; return peak }
}

// vmHWM is the peak resident memory of pid in bytes (0 once it is gone).
func vmHWM(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(l, "VmHWM:"); ok {
			var kb int64
			fmt.Sscan(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), &kb)
			return kb * 1024
		}
	}
	return 0
}

// checkTotals fails b unless the JSON result in file covers every
// account-region with the verdicts of the model (see totalsError).
func checkTotals(b *testing.B, file string, scopes int) {
	if err := totalsError(file, scopes); err != nil {
		b.Fatal(err)
	}
}

// totalsError says how the totals of the JSON result in file differ from
// the model's: every account-region ok, every image seen, the shared ones
// blocked, the public ones allowed, the own ones exempt.
func totalsError(file string, scopes int) error {
	raw, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	var doc struct {
		Totals map[string]int `json:"totals"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		return fmt.Errorf("%s: %v", file, err)
	}
	t := doc.Totals
	want := map[string]int{"scopes_ok": scopes, "scopes_failed": 0, "images": scopes * (p4.Public + p4.Own + p4.Shared),
		"blocked": scopes * p4.Shared, "own": scopes * p4.Own}
	for _, k := range []string{"scopes_ok", "scopes_failed", "images", "blocked", "own"} {
		if t[k] != want[k] {
			return fmt.Errorf("%s: totals %s = %d, want %d (all totals: %v)", file, k, t[k], want[k], t)
		}
	}
	return nil
}
