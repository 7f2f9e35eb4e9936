package orgscan

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
)

// Scope statuses.
const (
	StatusOK          = "ok"
	StatusFailed      = "failed"
	StatusInterrupted = "interrupted"
	StatusNotStarted  = "not started"
)

// Scope is one account in one region, as a command's work gets it.
type Scope struct {
	Account  string
	Region   string
	Config   aws.Config
	EC2      *ec2.Client
	Progress *Progress
}

// Command is one command's part in the fan-out.
type Command struct {
	// WantRegion, if set, skips regions where the command has nothing to
	// do.
	WantRegion func(region string) bool
	// Needs are regions the command must run in: with AllRegions, each
	// one an account's enabled regions lack fails that account-region
	// with Unlisted's error.
	Needs    []string
	Unlisted func(account, region string) error
	// Work runs the command in one scope, holding one of the run's
	// Concurrency slots.
	Work func(ctx context.Context, sc *Scope) (any, error)
	// Region, if set, runs once per region and run: in the slot of the
	// region's first scope, before its Work, with its credentials (again
	// with another account's if it fails); Finish then gets its value in
	// every scope of the region.
	Region func(ctx context.Context, sc *Scope) (any, error)
	// Finish, with Region, turns a scope's Work value into its result
	// once the region's value is ready. A failure of Region fails every
	// scope of the region.
	Finish func(ctx context.Context, sc *Scope, region, work any) (any, error)
}

// Result is a finished scope: Value is its work's value (StatusOK), Error
// the reason it failed (StatusFailed).
type Result struct {
	Account string
	Region  string
	Status  string
	Error   string
	// Err is the failure itself (StatusFailed).
	Err   error
	Value any
}

// Progress counts what the run has done.
type Progress struct {
	Total   atomic.Int64 // scopes known so far
	Final   atomic.Bool  // Total is the final total
	Done    atomic.Int64 // finished scopes: ok or failed
	Failed  atomic.Int64
	Images  atomic.Int64
	Blocked atomic.Int64
	Start   time.Time
}

// ETA estimates the time left; false before it can.
func (p *Progress) ETA() (time.Duration, bool) {
	total, done := p.Total.Load(), p.Done.Load()
	if done == 0 || !p.Final.Load() {
		return 0, false
	}
	el := time.Since(p.Start)
	return time.Duration(float64(el) / float64(done) * float64(total-done)), true
}
