package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
)

// Exit statuses of --event.
const (
	exitOK    = 0
	exitFail  = 1
	exitUsage = 2
)

const usage = `Usage: amiwatermark-lambda [--event FILE|-]

In AWS Lambda (AWS_LAMBDA_RUNTIME_API set) it serves Image Builder events.
Anywhere else --event handles one event from FILE (- for standard input)
with the same code and prints the result as JSON on standard output.
Configuration: the AMIWATERMARK_* environment variables; AWS credentials,
region and endpoints (AWS_ENDPOINT_URL_*) from the SDK's usual chain.

Exit 0 when it resumed the step, attached or ignored the event, 1 when it
stopped the step or failed, 2 on a usage error.
`

// run is the program: flags, then one event (--event) or the Lambda loop.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string) int {
	fs := flag.NewFlagSet("amiwatermark-lambda", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, usage) }
	eventFile := fs.String("event", "", "handle the event in `FILE` (- for standard input) and print the result as JSON")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "amiwatermark-lambda: unexpected argument %q: give the event with --event FILE (or --event - for standard input)\n", clip(fs.Arg(0)))
		return exitUsage
	}
	if *eventFile == "" {
		if getenv("AWS_LAMBDA_RUNTIME_API") == "" {
			fmt.Fprintf(stderr, "amiwatermark-lambda: no event: outside AWS Lambda (AWS_LAMBDA_RUNTIME_API is not set) give --event FILE, or --event - to read it from standard input\n")
			return exitUsage
		}
		startLambda(newHandler(getenv, stderr))
		return exitOK
	}
	data, err := readEvent(*eventFile, stdin)
	if err != nil {
		fmt.Fprintf(stderr, "amiwatermark-lambda: --event: %v\n", err)
		return exitUsage
	}
	res := newHandler(getenv, stderr).handle(ctx, data)
	if res.Error != "" {
		logf(stderr, "amiwatermark-lambda: %s: %s", res.Outcome, res.Error)
	}
	_, _ = stdout.Write(append(res.encode(), '\n'))
	if res.ok() {
		return exitOK
	}
	return exitFail
}

// readEvent reads the event file (- is stdin), at most maxEventBytes+1
// bytes: parseEvent refuses a larger one.
func readEvent(name string, stdin io.Reader) ([]byte, error) {
	r := stdin
	if name != "-" {
		f, err := os.Open(name)
		if err != nil {
			return nil, fmt.Errorf("cannot read the event file: %v", err)
		}
		defer f.Close()
		r = f
	}
	data, err := io.ReadAll(io.LimitReader(r, maxEventBytes+1))
	if err != nil {
		return nil, fmt.Errorf("reading the event: %v", err)
	}
	return data, nil
}
