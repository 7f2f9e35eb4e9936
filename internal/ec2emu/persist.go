package ec2emu

// Persistence of the emulator's State as JSON (the program's --state file).
//
// The file is written atomically: the JSON goes to a temporary file in the
// same directory, which is fsynced, then renamed over the target, and the
// directory is fsynced. A reader (or a restart after a crash or SIGKILL)
// therefore sees either the previous complete file or the new complete file,
// never a partial one. Changes made after the last save are lost on SIGKILL.
//
// Only State is saved (images, instances, Allowed-AMIs settings, the clock
// offset, the id sequence); stats, faults and run-time config are not.

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"time"
)

const (
	stateFormat  = "ec2emu-state"
	stateVersion = 1
)

// stateFile is the on-disk envelope around State.
type stateFile struct {
	Format  string    `json:"format"`
	Version int       `json:"version"`
	SavedAt time.Time `json:"saved_at"`
	State   *State    `json:"state"`
}

// saveMu serialises saves so that two concurrent saves to one path cannot
// rename an older snapshot over a newer one.
var saveMu sync.Mutex

// SaveState writes the state to path atomically (temp file in the same
// directory, fsync, rename, directory fsync). The snapshot is taken under
// the server's lock, so it is consistent even while requests are served.
func (s *Server) SaveState(path string) error {
	saveMu.Lock()
	defer saveMu.Unlock()
	var buf bytes.Buffer
	buf.Grow(1 << 16)
	s.mu.Lock()
	err := json.NewEncoder(&buf).Encode(stateFile{Format: stateFormat, Version: stateVersion, SavedAt: s.now(), State: s.st})
	s.mu.Unlock()
	if err != nil {
		return fmt.Errorf("save state to %s: encoding: %w", path, err)
	}
	if err := writeFileAtomic(path, buf.Bytes(), 0o600); err != nil {
		return fmt.Errorf("save state to %s: %w", path, err)
	}
	return nil
}

// LoadState replaces the whole state with the one saved in path. On error the
// current state is left as it was, and the error names the file and says
// what to do.
func (s *Server) LoadState(path string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("load state from %s: %w", path, err)
	}
	st, err := decodeState(b)
	if err != nil {
		return fmt.Errorf("load state from %s: %w; the file is not an ec2emu state file or is damaged: fix it or move it away to start empty", path, err)
	}
	s.mu.Lock()
	s.st = st
	s.mu.Unlock()
	s.changed()
	return nil
}

// decodeState parses and checks a state file.
func decodeState(b []byte) (*State, error) {
	var f stateFile
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&f); err != nil {
		return nil, ctlJSONError(err)
	}
	if dec.More() {
		return nil, errors.New("invalid JSON: data after the state object")
	}
	if f.Format != stateFormat {
		return nil, fmt.Errorf("format is %q, want %q", f.Format, stateFormat)
	}
	if f.Version != stateVersion {
		return nil, fmt.Errorf("version %d is not supported (this ec2emu reads version %d)", f.Version, stateVersion)
	}
	st := f.State
	if st == nil {
		return nil, errors.New(`"state" is missing`)
	}
	if st.Images == nil {
		st.Images = map[string]*Image{}
	}
	if st.Instances == nil {
		st.Instances = map[string]*Instance{}
	}
	if st.Settings == nil {
		st.Settings = map[string]*AllowedSettings{}
	}
	for id, img := range st.Images {
		if img == nil {
			return nil, fmt.Errorf("images[%q] is null", id)
		}
		if img.ID != id {
			return nil, fmt.Errorf("images[%q] has id %q", id, img.ID)
		}
	}
	for id, in := range st.Instances {
		if in == nil {
			return nil, fmt.Errorf("instances[%q] is null", id)
		}
		if in.ID != id {
			return nil, fmt.Errorf("instances[%q] has id %q", id, in.ID)
		}
	}
	for k, v := range st.Settings {
		if v == nil {
			return nil, fmt.Errorf("settings[%q] is null", k)
		}
	}
	if st.ClockOffset < 0 {
		return nil, fmt.Errorf("clock_offset %d is negative", st.ClockOffset)
	}
	return st, nil
}

// writeFileAtomic writes data to path so that path holds either its old
// content or data, never a mix, even across a crash.
func writeFileAtomic(path string, data []byte, perm fs.FileMode) (err error) {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("creating a temporary file in %s (does the directory exist and is it writable?): %w", dir, err)
	}
	tmpName := tmp.Name()
	defer func() {
		if err != nil {
			_ = tmp.Close()
			_ = os.Remove(tmpName)
		}
	}()
	if _, err = tmp.Write(data); err != nil {
		return fmt.Errorf("writing %s: %w", tmpName, err)
	}
	if err = tmp.Chmod(perm); err != nil {
		return fmt.Errorf("chmod %s: %w", tmpName, err)
	}
	if err = tmp.Sync(); err != nil {
		return fmt.Errorf("fsync %s: %w", tmpName, err)
	}
	if err = tmp.Close(); err != nil {
		return fmt.Errorf("closing %s: %w", tmpName, err)
	}
	if err = os.Rename(tmpName, path); err != nil {
		return fmt.Errorf("renaming %s to %s: %w", tmpName, path, err)
	}
	// Make the rename durable. Some systems cannot fsync a directory; the
	// file itself is already complete then, so that error is not fatal.
	if d, derr := os.Open(dir); derr == nil {
		_ = d.Sync()
		_ = d.Close()
	}
	return nil
}
