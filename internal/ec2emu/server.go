// Package ec2emu is the project's EC2 emulator: an http.Handler that speaks
// the EC2 Query protocol over in-memory state, for the AMI-watermark,
// DescribeImages and Allowed-AMIs behaviour of docs/ec2-semantics.md, plus
// STS, Organizations and Image Builder on the same port (route.go).
package ec2emu

import (
	"net/http"
	"strings"
	"sync"
	"time"
)

// DefaultAccount is the account of requests whose access key id does not end
// in 12 digits.
const DefaultAccount = "123456789012"

// Options configures a Server.
type Options struct {
	// DefaultAccount is the account of requests whose access key id does not
	// end in 12 digits. Defaults to DefaultAccount.
	DefaultAccount string
	// AvailableAfter is how long a new image (RegisterImage, CopyImage,
	// CreateImage) stays pending before it becomes available. 0: at once,
	// unless PendingDescribes is set.
	AvailableAfter time.Duration
	// PendingDescribes: a new image answers pending to this many
	// DescribeImages calls that return it, then available.
	PendingDescribes int
	// NotFoundDescribes: a new image answers InvalidAMIID.NotFound to this
	// many DescribeImages calls that name it by id before it is visible
	// (eventual consistency).
	NotFoundDescribes int
	// Throttle is ThrottleEC2 for EC2's request token buckets (see
	// model_throttle.go); "" or ThrottleOff for none.
	Throttle string
	// Latency is the latency model (see model_latency.go); zero for none.
	Latency LatencyModel
	// Now is the base clock; nil means time.Now. The emulator's clock is
	// Now() plus the offset moved forward by POST /_emu/clock.
	Now func() time.Time
}

// Server is the emulator. It is safe for concurrent use.
type Server struct {
	opts Options

	mu      sync.RWMutex // guards st, stats, faults; DescribeImages that change nothing share it (describeShared)
	st      *State
	stats   *stats
	faults  *faults
	views   views
	buckets buckets
}

// New returns an emulator with empty state.
func New(opts Options) *Server {
	if opts.DefaultAccount == "" {
		opts.DefaultAccount = DefaultAccount
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Server{opts: opts, st: newState(), stats: newStats()}
}

// now is the emulator's clock. Callers hold s.mu.
func (s *Server) now() time.Time {
	return s.opts.Now().Add(s.st.ClockOffset).UTC()
}

// ServeHTTP serves the control endpoints under /_emu/ and, on every other
// path, the AWS API named by the SigV4 credential scope's service (see
// route.go): EC2 (also for unsigned requests), STS, Organizations and
// Image Builder.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, "/_emu/") {
		s.serveControl(w, r)
		return
	}
	s.serveService(w, r)
}
