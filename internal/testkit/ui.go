package testkit

import (
	"bytes"
	"fmt"
	"io"
	"sync"

	packersdk "github.com/hashicorp/packer-plugin-sdk/packer"
)

// UI is a packersdk.Ui that records what a component says, one line per
// message, errors prefixed with "ERROR: ". It is safe for concurrent use
// (the post-processor reports from several regions at once). Ask answers "".
type UI struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

var _ packersdk.Ui = (*UI)(nil)

func (u *UI) Ask(string) (string, error)          { return "", nil }
func (u *UI) Askf(string, ...any) (string, error) { return "", nil }
func (u *UI) Say(s string)                        { u.mu.Lock(); u.buf.WriteString(s + "\n"); u.mu.Unlock() }
func (u *UI) Sayf(f string, a ...any)             { u.Say(fmt.Sprintf(f, a...)) }
func (u *UI) Message(s string)                    { u.Say(s) }
func (u *UI) Error(s string)                      { u.Say("ERROR: " + s) }
func (u *UI) Errorf(f string, a ...any)           { u.Error(fmt.Sprintf(f, a...)) }
func (u *UI) Machine(string, ...string)           {}
func (u *UI) TrackProgress(_ string, _, _ int64, r io.ReadCloser) io.ReadCloser {
	return r
}

// String returns everything said so far.
func (u *UI) String() string { u.mu.Lock(); defer u.mu.Unlock(); return u.buf.String() }

// AmazonEBSBuilderID is the builder id of Packer's amazon-ebs builder.
const AmazonEBSBuilderID = "mitchellh.amazonebs"

// Artifact is a packersdk.Artifact as a builder returns it. Destroyed
// records a call of Destroy (Packer core calls it to delete what a build
// made when no post-processor keeps the artifact).
type Artifact struct {
	Builder   string
	ID        string
	StateData map[string]any
	FileList  []string
	Destroyed bool
}

var _ packersdk.Artifact = (*Artifact)(nil)

func (a *Artifact) BuilderId() string  { return a.Builder }
func (a *Artifact) Files() []string    { return a.FileList }
func (a *Artifact) Id() string         { return a.ID }
func (a *Artifact) String() string     { return "AMIs were created:\n" + a.ID }
func (a *Artifact) State(k string) any { return a.StateData[k] }
func (a *Artifact) Destroy() error     { a.Destroyed = true; return nil }
