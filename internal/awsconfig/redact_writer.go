package awsconfig

import (
	"bytes"
	"cmp"
	"io"
	"sync"
)

// RedactWriter writes to another writer with every credential the process
// holds replaced by "[redacted]" (Redact). It redacts whole lines: the end
// of a write after its last line break is held back until the line is
// complete or Flush is called, so a credential cut in two by the writes
// (a bufio.Writer's flushes) is redacted all the same. A line longer than
// 64 KiB is not held whole: all of it that no secret could still reach is
// written (Redactor.safeCut), so memory stays bounded. It may be used by
// several goroutines at once (a progress line and a report on stderr).
type RedactWriter struct {
	mu sync.Mutex
	w  io.Writer
	// redactor is the redactor of the moment: the registry's (Redact),
	// or a fixed one in tests.
	redactor func() *Redactor
	held     []byte
	// limit is how much of a line is held at most before its safe part is
	// written (0: maxHeldLine).
	limit int
}

// maxHeldLine is how much of an unfinished line a RedactWriter holds.
const maxHeldLine = 64 << 10

// NewRedactWriter returns a RedactWriter writing to w.
func NewRedactWriter(w io.Writer) *RedactWriter {
	return &RedactWriter{w: w, redactor: CurrentRedactor}
}

// Write writes the complete lines of what was held back and p, redacted,
// and holds back the rest.
func (r *RedactWriter) Write(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.held = append(r.held, p...)
	end := bytes.LastIndexByte(r.held, '\n') + 1
	if len(r.held)-end > cmp.Or(r.limit, maxHeldLine) {
		end += r.redactor().safeCut(r.held[end:])
	}
	if end == 0 {
		return len(p), nil
	}
	err := r.emit(r.held[:end])
	r.held = r.held[:copy(r.held, r.held[end:])]
	if err != nil {
		return 0, err
	}
	return len(p), nil
}

// Flush writes what was held back, redacted.
func (r *RedactWriter) Flush() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.held) == 0 {
		return nil
	}
	err := r.emit(r.held)
	r.held = r.held[:0]
	return err
}

func (r *RedactWriter) emit(b []byte) error {
	_, err := r.redactor().WriteString(r.w, string(b))
	return err
}
