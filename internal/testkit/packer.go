package testkit

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
)

// DefaultTimeout bounds one packer command unless Packer.Timeout is set.
const DefaultTimeout = 3 * time.Minute

// Packer is one packer binary under test with private directories: its
// plugins (PACKER_PLUGIN_PATH), its configuration and home (HOME,
// PACKER_CONFIG_DIR) and its cache. Runs of two Packers never share
// anything, so they may run in parallel.
type Packer struct {
	// Bin is the packer binary.
	Bin string
	// Version is what `packer version` reports, without the v: "1.9.4".
	Version string
	// PluginDir is PACKER_PLUGIN_PATH of every run.
	PluginDir string
	// Home is HOME (and APPDATA, USERPROFILE, PACKER_CONFIG_DIR) of every run.
	Home string
	// CacheDir is PACKER_CACHE_DIR of every run.
	CacheDir string
	// Env is added to the environment of every run (after the kit's own
	// settings, so it can override them).
	Env []string
	// KeepAWSEnv passes the test process's AWS_* variables to the runs
	// (acceptance tests use the caller's credentials). By default they are
	// removed, with every PACKER_* and PKR_VAR_* variable, so nothing of the
	// developer's configuration reaches a run.
	KeepAWSEnv bool
	// Timeout bounds one command (DefaultTimeout when zero).
	Timeout time.Duration
}

var versionRE = regexp.MustCompile(`Packer v([0-9]+\.[0-9]+\.[0-9]+)`)

// PackerVersion returns the version `bin version` reports ("1.16.0").
func PackerVersion(bin string) (string, error) {
	out, err := exec.Command(bin, "version").Output()
	if err != nil {
		return "", fmt.Errorf("%s version: %v", bin, err)
	}
	m := versionRE.FindSubmatch(out)
	if m == nil {
		return "", fmt.Errorf("%s version printed %q: no `Packer vX.Y.Z`", bin, out)
	}
	return string(m[1]), nil
}

// NewPacker prepares bin for tests: its version, and fresh plugin, home and
// cache directories under dir (created).
func NewPacker(bin, dir string) (*Packer, error) {
	v, err := PackerVersion(bin)
	if err != nil {
		return nil, err
	}
	p := &Packer{Bin: bin, Version: v, PluginDir: filepath.Join(dir, "plugins"),
		Home: filepath.Join(dir, "home"), CacheDir: filepath.Join(dir, "cache")}
	for _, d := range []string{p.PluginDir, p.Home, p.CacheDir} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// Name is "packer-" and the version, the name of a subtest per Packer.
func (p *Packer) Name() string { return "packer-" + p.Version }

// AtLeast reports whether the version is major.minor or newer.
func (p *Packer) AtLeast(major, minor int) bool {
	parts := strings.SplitN(p.Version, ".", 3)
	if len(parts) < 2 {
		return false
	}
	ma, _ := strconv.Atoi(parts[0])
	mi, _ := strconv.Atoi(parts[1])
	return ma > major || ma == major && mi >= minor
}

// Environ is the environment of a run: the test process's environment
// without PACKER_*, PKR_VAR_*, CHECKPOINT_DISABLE, the home variables and
// (unless KeepAWSEnv) AWS_*; then the kit's directories, no update check,
// no instance metadata lookups, PACKER_LOG=1 when E2E_PACKER_LOG is set,
// p.Env and extra. Go's own caches are unaffected: only the child gets the
// new HOME.
func (p *Packer) Environ(extra ...string) []string {
	var out []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch {
		case strings.HasPrefix(k, "PACKER_"), strings.HasPrefix(k, "PKR_VAR_"), strings.HasPrefix(k, "AWS_") && !p.KeepAWSEnv,
			k == "HOME", k == "APPDATA", k == "USERPROFILE", k == "XDG_CONFIG_HOME", k == "CHECKPOINT_DISABLE":
			continue
		}
		out = append(out, kv)
	}
	out = append(out,
		"CHECKPOINT_DISABLE=1",
		"PACKER_PLUGIN_PATH="+p.PluginDir,
		"PACKER_CONFIG_DIR="+p.Home,
		"PACKER_CACHE_DIR="+p.CacheDir,
		"HOME="+p.Home,
		"APPDATA="+p.Home,
		"USERPROFILE="+p.Home,
	)
	if !p.KeepAWSEnv {
		out = append(out, "AWS_EC2_METADATA_DISABLED=true")
	}
	if os.Getenv("E2E_PACKER_LOG") != "" {
		out = append(out, "PACKER_LOG=1")
	}
	out = append(out, p.Env...)
	return append(out, extra...)
}

// Result is the outcome of one packer command.
type Result struct {
	Args     []string
	Code     int
	Stdout   string
	Stderr   string
	Duration time.Duration
}

// Output is stdout and stderr together.
func (r Result) Output() string { return r.Stdout + "\n" + r.Stderr }

func (r Result) String() string {
	return fmt.Sprintf("packer %s (exit %d, %s)\n--- stdout ---\n%s\n--- stderr ---\n%s",
		strings.Join(r.Args, " "), r.Code, r.Duration.Round(time.Millisecond), r.Stdout, r.Stderr)
}

// Exec runs packer with args in dir (a fresh temporary directory when "")
// and the extra environment. A non-zero exit is a Result, not an error;
// the error is for a packer that could not run or did not finish within
// the timeout.
func (p *Packer) Exec(ctx context.Context, dir string, env []string, args ...string) (Result, error) {
	timeout := p.Timeout
	if timeout == 0 {
		timeout = DefaultTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, p.Bin, args...)
	cmd.Dir = dir
	cmd.Env = p.Environ(env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err := cmd.Run()
	r := Result{Args: args, Stdout: stdout.String(), Stderr: stderr.String(), Duration: time.Since(start)}
	var exitErr *exec.ExitError
	switch {
	case ctx.Err() != nil:
		return r, fmt.Errorf("%s %s did not finish within %s\n%s", p.Name(), strings.Join(args, " "), timeout, r)
	case err == nil:
	case errors.As(err, &exitErr):
		r.Code = exitErr.ExitCode()
	default:
		return r, fmt.Errorf("%s %s: %v", p.Name(), strings.Join(args, " "), err)
	}
	return r, nil
}

// Run is Exec for a test: dir "" is a fresh t.TempDir(), the result is
// logged, and a packer that cannot run or times out fails the test.
func (p *Packer) Run(t testing.TB, dir string, env []string, args ...string) Result {
	t.Helper()
	if dir == "" {
		dir = t.TempDir()
	}
	r, err := p.Exec(context.Background(), dir, env, args...)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%s %s", p.Name(), r)
	return r
}

// Install installs a plugin binary under source (github.com/OWNER/NAME)
// into PluginDir: with `packer plugins install --path BIN SOURCE` on
// Packer >= 1.10 (the only way those find a plugin), and on older ones
// with the layout that command and `packer init` produce:
// PluginDir/SOURCE/packer-plugin-NAME_vVERSION_API_OS_ARCH plus a
// _SHA256SUM file.
func (p *Packer) Install(bin, source string) error {
	if p.AtLeast(1, 10) {
		r, err := p.Exec(context.Background(), p.Home, nil, "plugins", "install", "--path", bin, source)
		if err != nil {
			return err
		}
		if r.Code != 0 {
			return fmt.Errorf("%s plugins install --path %s %s exited %d:\n%s", p.Name(), bin, source, r.Code, r.Output())
		}
		return nil
	}
	d, err := Describe(bin)
	if err != nil {
		return err
	}
	name := source[strings.LastIndex(source, "/")+1:]
	file := fmt.Sprintf("packer-plugin-%s_v%s_%s_%s_%s%s", name, d.Version, d.APIVersion, runtime.GOOS, runtime.GOARCH, Exe())
	dst := filepath.Join(p.PluginDir, filepath.FromSlash(source), file)
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	data, err := os.ReadFile(bin)
	if err != nil {
		return err
	}
	if err := os.WriteFile(dst, data, 0o755); err != nil {
		return err
	}
	sum := sha256.Sum256(data)
	return os.WriteFile(strings.TrimSuffix(dst, Exe())+"_SHA256SUM", []byte(hex.EncodeToString(sum[:])), 0o644)
}
