// Package engine is the watermarking run shared by the post-processor and
// the CLI: given AMIs (region, id), a request (names to attach, keys to
// detach, options) and EC2 clients, it describes every AMI, plans each one
// with the pure rules of internal/watermark, refuses the whole run if any
// plan is invalid or any planned call fails EC2's DryRun check (a denied
// detach or attach), mutates the regions in parallel, verifies, and returns
// the result per AMI. It knows nothing of Packer.
package engine

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/ec2"

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

// DefaultWaitTimeout is how long a run waits for an AMI to become
// available when Request.WaitTimeout is zero.
const DefaultWaitTimeout = 30 * time.Minute

// DefaultNotFoundGrace is how long a run waits for an AMI that is not
// found: long enough for EC2's eventual consistency after CreateImage or
// CopyImage, short enough that a typo or the wrong account fails fast.
const DefaultNotFoundGrace = 2 * time.Minute

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
	// KeepInherited leaves requested keys the AMIs carry inherited alone
	// (by default they are re-attached to the AMI itself).
	KeepInherited bool
	// WaitTimeout bounds the wait for an AMI to become available.
	WaitTimeout time.Duration
	// NotFoundGrace bounds the wait for an AMI that is not found (yet):
	// after it the run fails saying what was looked up, where and as whom.
	// Zero means DefaultNotFoundGrace.
	NotFoundGrace time.Duration
	// Now is the clock ages and Allowed-AMIs day conditions are measured
	// against (awsconfig.Clock: EC2's clock); nil means the local clock.
	Now func() time.Time
	// Account, when set, returns the caller's account id (for example
	// with sts:GetCallerIdentity); messages about AMIs not found name it.
	Account func(ctx context.Context) (string, error)
	Timing  Timing
	// Names are the front end's names of its options, for messages.
	Names Names
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

func (c call) String() string {
	if c.detach != "" {
		return fmt.Sprintf("detach %s", c.detach)
	}
	return fmt.Sprintf("attach %q", c.attach)
}
