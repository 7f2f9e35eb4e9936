// Command amiwatermark inspects and verifies the watermarks of EC2 AMIs and
// tests an Allowed-AMIs policy before it is enabled.
//
//	amiwatermark inspect  [--region R] [--json] [REGION:]AMI...
//	amiwatermark verify   [--region R] [--require-key ACCOUNT:NAME-PATTERN ...] [--criteria FILE|current]
//	                      [--max-severity LEVEL] [--max-days-since-scan N] [--max-days-since-fix-available SEVERITY=N] [REGION:]AMI...
//	amiwatermark simulate [--region R] --criteria FILE [--owners self,amazon,...] [--in-use] [--compare-current]
//	amiwatermark attach   --name NAME [--detach KEY] [--dry-run] [--json] TARGETS
//	amiwatermark detach   --name NAME|ACCOUNT:NAME [--dry-run] [--json] TARGETS
//	amiwatermark version
//
// Exit codes: 0 success (verify: every AMI satisfies every requirement),
// 1 a requirement failed or AWS could not be asked, 2 a usage error (bad
// flag, bad pattern, unreadable criteria file). See docs/cli.md.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/amiwatermark/packer-plugin-amiwatermark/internal/awsconfig"
	"github.com/amiwatermark/packer-plugin-amiwatermark/version"
)

// Exit codes.
const (
	exitOK    = 0
	exitFail  = 1
	exitUsage = 2
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := runContext(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run runs the command line args (without the program name) and returns the
// exit code. Tests call it in-process.
func run(args []string, stdout, stderr io.Writer) int {
	return runContext(context.Background(), args, stdout, stderr)
}

const mainUsage = `amiwatermark: inspect and verify EC2 AMI watermarks, test Allowed-AMIs criteria.

Usage:
  amiwatermark inspect  [flags] [REGION:]AMI...   show each AMI's watermarks, lineage, owner, age, allowed status
  amiwatermark verify   [flags] [REGION:]AMI...   exit 0 only if every AMI meets every requirement (CI gate)
  amiwatermark simulate [flags]                   which images would proposed Allowed-AMIs criteria block?
  amiwatermark attach   --name NAME [flags] TARGETS   attach watermarks: plan all, refuse on any problem, change, verify
  amiwatermark detach   --name NAME [flags] TARGETS   detach watermarks, the same way
  amiwatermark report   [--csv | --json] [--html FILE] RESULT.json...   merge the --json results of shards
  amiwatermark version                            print the version
  amiwatermark help COMMAND                       the flags of COMMAND

Exit codes: 0 success, 1 a requirement failed or an AWS call failed, 2 usage error.
AWS access: the SDK's default credential chain (AWS_ACCESS_KEY_ID..., AWS_PROFILE, SSO,
instance role) and the flags --region, --profile, --endpoint, --max-retries.
`

type command struct {
	name  string
	short string
	run   func(ctx context.Context, args []string, stdout, stderr io.Writer) int
}

func commands() []command {
	return []command{
		{"inspect", "show each AMI's watermarks", runInspect},
		{"verify", "check AMIs against requirements", runVerify},
		{"simulate", "evaluate proposed Allowed-AMIs criteria", runSimulate},
		{"attach", "attach watermarks to AMIs (plan, refuse on any problem, change, verify)", runAttach},
		{"detach", "detach watermarks from AMIs", runDetach},
		{"report", "merge the --json results of shard runs into one report", runReport},
	}
}

func runContext(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	rout, rerr := awsconfig.NewRedactWriter(stdout), awsconfig.NewRedactWriter(stderr)
	defer rerr.Flush()
	defer rout.Flush()
	stdout, stderr = rout, rerr
	if len(args) == 0 {
		fmt.Fprint(stderr, mainUsage)
		return exitUsage
	}
	name, rest := args[0], args[1:]
	switch name {
	case "-h", "-help", "--help", "help":
		if name == "help" && len(rest) > 0 {
			for _, c := range commands() {
				if c.name == rest[0] {
					return c.run(ctx, []string{"-h"}, stdout, stderr)
				}
			}
			fmt.Fprintf(stderr, "amiwatermark: unknown command %q: use inspect, verify, simulate, attach, detach or report\n", rest[0])
			return exitUsage
		}
		fmt.Fprint(stdout, mainUsage)
		return exitOK
	case "version", "-version", "--version":
		fmt.Fprintf(stdout, "amiwatermark %s\n", version.PluginVersion.FormattedVersion())
		return exitOK
	}
	for _, c := range commands() {
		if c.name == name {
			return c.run(ctx, rest, stdout, stderr)
		}
	}
	fmt.Fprintf(stderr, "amiwatermark: unknown command %q: use inspect, verify, simulate, attach, detach or report (amiwatermark help)\n", name)
	return exitUsage
}

// usageError is an error in the command line: exit code 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, a ...any) error { return &usageError{fmt.Sprintf(format, a...)} }

// stringList is a repeatable flag; each value may also be a comma-separated
// list.
type stringList []string

func (l *stringList) String() string { return strings.Join(*l, ",") }

func (l *stringList) Set(v string) error {
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			*l = append(*l, s)
		}
	}
	return nil
}

// parseInterleaved parses flags that may appear before, between and after
// positional arguments (`verify ami-1 --require-key k` works as well as the
// other order). "--" ends flag parsing. It returns the positional arguments.
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		// fs.Parse stops at the first non-flag or after "--".
		consumed := len(args) - len(rest)
		if consumed > 0 && args[consumed-1] == "--" {
			return append(pos, rest...), nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// newFlagSet returns a flag set that writes its usage to stderr (or stdout
// for -h) and does not exit.
func newFlagSet(name, usage string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("amiwatermark "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), usage)
		fmt.Fprintln(fs.Output(), "\nFlags:")
		fs.PrintDefaults()
	}
	return fs
}

// parseCommandLine parses args and turns the outcome into an exit code when
// parsing should stop the command: -h prints the usage to stdout (exit 0), a
// bad flag prints the error and the usage to stderr (exit 2).
func parseCommandLine(fs *flag.FlagSet, args []string, stdout, stderr io.Writer) ([]string, int, bool) {
	fs.SetOutput(io.Discard)
	pos, err := parseInterleaved(fs, args)
	if errors.Is(err, flag.ErrHelp) {
		fs.SetOutput(stdout)
		fs.Usage()
		return nil, exitOK, false
	}
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v (see %s -h)\n", fs.Name(), err, fs.Name())
		return nil, exitUsage, false
	}
	fs.SetOutput(stderr)
	return pos, 0, true
}

// report prints err for the command and returns its exit code: 2 for usage
// errors, 1 otherwise.
func report(stderr io.Writer, cmd string, err error) int {
	var ue *usageError
	if errors.As(err, &ue) {
		fmt.Fprintf(stderr, "amiwatermark %s: %v\n", cmd, err)
		return exitUsage
	}
	fmt.Fprintf(stderr, "amiwatermark %s: %v\n", cmd, err)
	return exitFail
}
