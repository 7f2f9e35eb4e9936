// Command amiwatermark-lambda is the EC2 Image Builder function of
// amiwatermark (docs/imagebuilder.md): on an "EC2 Image Builder Workflow
// Step Waiting" event it watermarks the image's output AMIs with the
// engine of the post-processor and the CLI, then resumes the step, or
// stops it with the reason; on an "EC2 Image Builder Image State Change"
// event with status AVAILABLE it does the same with no step to answer.
//
// In Lambda (custom runtime provided.al2023, the binary named bootstrap)
// it serves the Runtime API. Anywhere else, --event FILE (or - for
// standard input) handles one event and prints the result as JSON: exit 0
// when it resumed, attached or ignored, 1 when it stopped the step or
// failed, 2 on a usage error.
package main

import (
	"context"
	"os"
)

func main() {
	os.Exit(run(context.Background(), os.Args[1:], os.Stdin, os.Stdout, os.Stderr, os.Getenv))
}
