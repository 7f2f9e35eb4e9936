package testkit

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// SyncBuffer is a bytes.Buffer safe for one writer goroutine (a child's
// stderr) and readers in the test.
type SyncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *SyncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

// String returns everything written so far.
func (s *SyncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// ListeningPrefix is what a program prints, followed by its URL, as its
// first line on stdout once it accepts connections.
const ListeningPrefix = "listening on "

// StartTimeout bounds the wait for the `listening on` line.
const StartTimeout = 60 * time.Second

// Program is a running child process that announced its URL.
type Program struct {
	// URL is the address of the first line, for example http://127.0.0.1:43121.
	URL string
	// Stderr collects the program's stderr.
	Stderr *SyncBuffer

	cmd   *exec.Cmd
	lines chan string // stdout lines after the first; closed at EOF
	done  chan struct{}
	err   error // cmd.Wait's result, once done is closed
}

// Start runs bin with args, waits up to StartTimeout for its first stdout
// line `listening on http://HOST:PORT` and returns the running program.
// The caller stops it (Stop or Kill); StartT does so at the end of a test.
func Start(bin string, args ...string) (*Program, error) {
	p := &Program{Stderr: &SyncBuffer{}, cmd: exec.Command(bin, args...), lines: make(chan string, 1000), done: make(chan struct{})}
	p.cmd.Stderr = p.Stderr
	stdout, err := p.cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := p.cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s: %w", bin, err)
	}
	first := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 64*1024), 1024*1024)
		n := 0
		for sc.Scan() {
			if n == 0 {
				first <- sc.Text()
			} else {
				select {
				case p.lines <- sc.Text():
				default: // nobody reads: drop rather than block the child
				}
			}
			n++
		}
		_, _ = io.Copy(io.Discard, stdout)
		close(p.lines)
		if n == 0 {
			close(first)
		}
		p.err = p.cmd.Wait()
		close(p.done)
	}()
	name := filepath.Base(bin)
	select {
	case line, ok := <-first:
		if !ok {
			<-p.done
			return nil, fmt.Errorf("%s %s exited (%v) without printing `listening on http://HOST:PORT`; stderr:\n%s",
				name, strings.Join(args, " "), p.err, p.Stderr.String())
		}
		line = strings.TrimSpace(line)
		url := strings.TrimPrefix(line, ListeningPrefix)
		if url == line || !strings.HasPrefix(url, "http://") {
			p.Kill()
			return nil, fmt.Errorf("%s: first stdout line is %q, want `listening on http://HOST:PORT`; stderr:\n%s", name, line, p.Stderr.String())
		}
		p.URL = url
		return p, nil
	case <-time.After(StartTimeout):
		p.Kill()
		return nil, fmt.Errorf("%s printed nothing on stdout within %s; want `listening on http://HOST:PORT`; stderr:\n%s",
			name, StartTimeout, p.Stderr.String())
	}
}

// StartT is Start for a test: it fails the test when the program does not
// start, and kills the program (if still running) when the test ends.
func StartT(t testing.TB, bin string, args ...string) *Program {
	t.Helper()
	p, err := Start(bin, args...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Kill)
	return p
}

// Lines are the stdout lines after the first, closed when the program
// closes its stdout. Up to 1000 unread lines are kept.
func (p *Program) Lines() <-chan string { return p.lines }

// Done is closed when the program has exited.
func (p *Program) Done() <-chan struct{} { return p.done }

// Pid is the program's process id (for /proc figures such as its peak memory).
func (p *Program) Pid() int { return p.cmd.Process.Pid }

// Signal sends sig to the program.
func (p *Program) Signal(sig os.Signal) error { return p.cmd.Process.Signal(sig) }

// Wait waits up to timeout for the program to exit and returns its exit
// code (-1 when it was killed by a signal) and the stdout lines it printed
// after the first that were not read from Lines yet.
func (p *Program) Wait(timeout time.Duration) (code int, rest []string, err error) {
	select {
	case <-p.done:
	default:
		select {
		case <-p.done:
		case <-time.After(timeout):
			return 0, nil, fmt.Errorf("the program did not exit within %s", timeout)
		}
	}
	for l := range p.lines {
		rest = append(rest, l)
	}
	var ee *exec.ExitError
	switch {
	case p.err == nil:
		return 0, rest, nil
	case errors.As(p.err, &ee):
		return ee.ExitCode(), rest, nil
	default:
		return 0, rest, p.err
	}
}

// Stop sends SIGTERM (on Windows it kills) and waits up to 30s for a clean
// exit; an exit code other than 0 is an error.
func (p *Program) Stop() error {
	if runtime.GOOS == "windows" {
		p.Kill()
		return nil
	}
	if err := p.Signal(syscall.SIGTERM); err != nil {
		select {
		case <-p.done:
			return fmt.Errorf("the program had already exited: %v", p.err)
		default:
		}
		p.Kill()
		return fmt.Errorf("sending SIGTERM: %w", err)
	}
	code, _, err := p.Wait(30 * time.Second)
	if err != nil {
		p.Kill()
		return fmt.Errorf("after SIGTERM: %w", err)
	}
	if code != 0 {
		return fmt.Errorf("the program exited %d after SIGTERM, want 0; stderr:\n%s", code, p.Stderr.String())
	}
	return nil
}

// Kill kills the program and waits for it to be gone; it does nothing when
// the program has exited.
func (p *Program) Kill() {
	select {
	case <-p.done:
		return
	default:
	}
	_ = p.cmd.Process.Kill()
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
	}
}
