package gencheck

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/amiwatermark/packer-plugin-amiwatermark/version"
)

// pluginBinary is the name `packer-sdc plugin-check` and Packer expect.
const pluginBinary = "packer-plugin-amiwatermark"

// generateTimeout bounds `make generate` in the copy. It normally takes about
// a minute (mapstructure-to-hcl2 type-checks the packages that import the EC2
// SDK); the bound turns a hang (struct-markdown never stops when it finds no
// packer-plugin-* directory) into a failure.
const generateTimeout = 10 * time.Minute

// TestGeneratedFilesUpToDate runs `make generate` in a copy of the tree
// (named packer-plugin-amiwatermark) and fails when any file differs from the
// one in the tree, or when generation creates or deletes a file. It never
// writes to the tree itself.
func TestGeneratedFilesUpToDate(t *testing.T) {
	if _, err := exec.LookPath("make"); err != nil {
		t.Fatalf("make is not on PATH: the generated-files check runs `make generate`; install make (GNU make)")
	}
	root := repoRoot(t)
	files, err := sourceFiles(root)
	if err != nil {
		t.Fatalf("listing the files of %s: %v", root, err)
	}
	work := filepath.Join(t.TempDir(), pluginBinary)
	// Files that vanish while the tree is copied (temporary files of other
	// tests running at the same time) are left out of the comparison.
	if files, err = copyFiles(root, work, files); err != nil {
		t.Fatalf("copying the tree to %s: %v", work, err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), generateTimeout)
	defer cancel()
	start := time.Now()
	out, err := run(ctx, work, nil, "make", "--no-print-directory", "generate")
	if ctx.Err() != nil {
		t.Fatalf("`make generate` did not finish within %s in %s (a packer-sdc step hangs?):\n%s", generateTimeout, work, out)
	}
	if err != nil {
		t.Fatalf("`make generate` failed in a copy of the tree (%v); run it in the tree to see and fix the error:\n%s", err, out)
	}
	t.Logf("make generate took %s", time.Since(start).Round(time.Second))

	diffs, err := compareTrees(root, work, files)
	if err != nil {
		t.Fatalf("comparing the tree with the regenerated copy: %v", err)
	}
	if len(diffs) > 0 {
		const max = 25
		more := ""
		if len(diffs) > max {
			more = fmt.Sprintf("\n  ... and %d more", len(diffs)-max)
			diffs = diffs[:max]
		}
		t.Errorf("generated files are out of date: run `make generate` and commit the result.\n"+
			"`make generate` would change %d file(s):\n  %s%s", len(diffs), strings.Join(diffs, "\n  "), more)
	}
}

// TestPluginCheck builds the plugin as `make build` does and runs
// `packer-sdc plugin-check` on it, then checks what `describe` reports: a
// development build is VERSION-dev and registers both components under the
// plugin's default name.
func TestPluginCheck(t *testing.T) {
	t.Parallel()
	root := repoRoot(t)
	dir := t.TempDir()
	bin := buildPlugin(t, root, dir)

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	out, err := run(ctx, root, nil, "go", "tool", "-n", "packer-sdc")
	if err != nil {
		t.Fatalf("locating packer-sdc (the go.mod tool) failed: %v\n%s", err, out)
	}
	sdc := strings.TrimSpace(lastLine(out))
	// plugin-check wants the bare binary name (it checks the packer-plugin-
	// prefix on its argument), so it runs next to the binary.
	out, err = run(ctx, dir, nil, sdc, "plugin-check", filepath.Base(bin))
	if err != nil {
		t.Fatalf("packer-sdc plugin-check %s failed (%v): the Packer registry would reject this binary:\n%s", filepath.Base(bin), err, out)
	}

	d := describe(t, bin)
	if version.VersionPrerelease != "dev" {
		t.Errorf("version.VersionPrerelease is %q in the source: it must be \"dev\" outside releases (release builds set it empty with -ldflags)", version.VersionPrerelease)
	}
	if want := version.Version + "-dev"; d.Version != want {
		t.Errorf("describe reports version %q, want %q (version.Version with the dev pre-release)", d.Version, want)
	}
	if !regexp.MustCompile(`^x\d+\.\d+$`).MatchString(d.APIVersion) {
		t.Errorf("describe reports api_version %q, want the form x5.0: release binary names carry it", d.APIVersion)
	}
	const defaultName = "-packer-default-plugin-name-"
	if !slices.Equal(d.PostProcessors, []string{defaultName}) {
		t.Errorf("describe reports post_processors %q, want [%q] so templates say post-processor \"amiwatermark\"", d.PostProcessors, defaultName)
	}
	if !slices.Equal(d.Datasources, []string{defaultName}) {
		t.Errorf("describe reports datasources %q, want [%q] so templates say data \"amiwatermark\"", d.Datasources, defaultName)
	}
	if len(d.Builders) != 0 || len(d.Provisioners) != 0 {
		t.Errorf("describe reports builders %q and provisioners %q; the plugin has neither", d.Builders, d.Provisioners)
	}
}

// TestReleaseBuildVersion builds with the ldflags .goreleaser.yml uses for a
// release and checks that `describe` then reports the bare version, which is
// what `packer plugins install` accepts and puts in the installed file name.
func TestReleaseBuildVersion(t *testing.T) {
	t.Parallel()
	root := repoRoot(t)
	mod := modulePath(t, root)
	bin := buildPlugin(t, root, t.TempDir(),
		"-ldflags=-X "+mod+"/version.Version="+version.Version+" -X "+mod+"/version.VersionPrerelease=")
	d := describe(t, bin)
	if d.Version != version.Version {
		t.Errorf("a release build (VersionPrerelease set empty) describes version %q, want %q", d.Version, version.Version)
	}

	cfg, err := os.ReadFile(filepath.Join(root, ".goreleaser.yml"))
	if err != nil {
		t.Fatalf("reading .goreleaser.yml: %v", err)
	}
	if !bytes.Contains(cfg, []byte("{{ .ModulePath }}/version.VersionPrerelease= ")) &&
		!bytes.Contains(cfg, []byte("{{ .ModulePath }}/version.VersionPrerelease='")) {
		t.Errorf(".goreleaser.yml does not set version.VersionPrerelease empty in its ldflags: release binaries would report %s-dev", version.Version)
	}
}

type description struct {
	Version        string   `json:"version"`
	SDKVersion     string   `json:"sdk_version"`
	APIVersion     string   `json:"api_version"`
	Builders       []string `json:"builders"`
	PostProcessors []string `json:"post_processors"`
	Provisioners   []string `json:"provisioners"`
	Datasources    []string `json:"datasources"`
}

func describe(t *testing.T, bin string) description {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "describe")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s describe failed: %v", bin, err)
	}
	var d description
	if err := json.Unmarshal(out, &d); err != nil {
		t.Fatalf("%s describe printed %q, not the JSON description: %v", bin, out, err)
	}
	return d
}

// buildPlugin builds the plugin's main package into dir under the name Packer
// expects and returns its path.
func buildPlugin(t *testing.T, root, dir string, flags ...string) string {
	t.Helper()
	bin := filepath.Join(dir, pluginBinary)
	if runtime.GOOS == "windows" {
		bin += ".exe"
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	args := append([]string{"build"}, flags...)
	args = append(args, "-o", bin, ".")
	if out, err := run(ctx, root, nil, "go", args...); err != nil {
		t.Fatalf("go %s failed: %v\n%s", strings.Join(args, " "), err, out)
	}
	return bin
}

func repoRoot(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		t.Fatalf("go env GOMOD: %v", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		t.Fatalf("go env GOMOD is empty: run the test inside the module")
	}
	return filepath.Dir(gomod)
}

func modulePath(t *testing.T, root string) string {
	t.Helper()
	cmd := exec.Command("go", "list", "-m")
	cmd.Dir = root
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list -m: %v", err)
	}
	return strings.TrimSpace(string(out))
}

func lastLine(s string) string {
	s = strings.TrimRight(s, "\n")
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		return s[i+1:]
	}
	return s
}

// run runs name with args in dir (in its own process group, killed as a whole
// when ctx ends) and returns its combined output. MAKEFLAGS and friends of an
// enclosing `make test` are dropped so the inner make starts clean.
func run(ctx context.Context, dir string, extraEnv []string, name string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	env := []string{"PWD=" + dir}
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch k {
		case "PWD", "MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEFILES", "MAKEOVERRIDES":
			continue
		}
		env = append(env, kv)
	}
	cmd.Env = append(env, extraEnv...)
	var buf bytes.Buffer
	cmd.Stdout = &buf
	cmd.Stderr = &buf
	setProcessGroup(cmd)
	cmd.WaitDelay = 10 * time.Second
	err := cmd.Run()
	return buf.String(), err
}

// ignoredDirs are skipped when the tree is not a git checkout; they hold
// build outputs, never sources (see .gitignore).
var ignoredDirs = map[string]bool{".git": true, "bin": true, "dist": true, ".demo": true, "e2e/testdata/tmp": true}

// sourceFiles lists the files of the tree relative to root: tracked and
// untracked-but-not-ignored files in a git checkout, else every file outside
// the build-output directories.
func sourceFiles(root string) ([]string, error) {
	if _, err := os.Stat(filepath.Join(root, ".git")); err == nil {
		if _, err := exec.LookPath("git"); err == nil {
			cmd := exec.Command("git", "ls-files", "-z", "--cached", "--others", "--exclude-standard")
			cmd.Dir = root
			out, err := cmd.Output()
			if err != nil {
				return nil, fmt.Errorf("git ls-files: %w", err)
			}
			var files []string
			seen := map[string]bool{}
			for _, f := range strings.Split(string(out), "\x00") {
				if f == "" || seen[f] {
					continue
				}
				seen[f] = true
				fi, err := os.Lstat(filepath.Join(root, f))
				if err != nil || !fi.Mode().IsRegular() {
					continue // deleted in the work tree, or a symlink
				}
				files = append(files, filepath.ToSlash(f))
			}
			return files, nil
		}
	}
	var files []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			if ignoredDirs[rel] {
				return filepath.SkipDir
			}
			return nil
		}
		if !d.Type().IsRegular() || strings.HasPrefix(rel, pluginBinary) || strings.HasSuffix(rel, ".test") {
			return nil
		}
		files = append(files, rel)
		return nil
	})
	return files, err
}

// copyFiles copies files from root to dst and returns those it copied:
// a file that no longer exists is skipped.
func copyFiles(root, dst string, files []string) ([]string, error) {
	var copied []string
	for _, f := range files {
		src := filepath.Join(root, filepath.FromSlash(f))
		to := filepath.Join(dst, filepath.FromSlash(f))
		if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
			return nil, err
		}
		err := copyFile(src, to)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		copied = append(copied, f)
	}
	return copied, nil
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	fi, err := in.Stat()
	if err != nil {
		return err
	}
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, fi.Mode().Perm())
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// compareTrees describes every difference between the files of the tree and
// the regenerated copy: changed, deleted and newly created files.
func compareTrees(root, work string, files []string) ([]string, error) {
	var diffs []string
	known := make(map[string]bool, len(files))
	for _, f := range files {
		known[f] = true
		want, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(f)))
		if errors.Is(err, fs.ErrNotExist) {
			continue // removed from the tree meanwhile
		}
		if err != nil {
			return nil, err
		}
		got, err := os.ReadFile(filepath.Join(work, filepath.FromSlash(f)))
		if errors.Is(err, fs.ErrNotExist) {
			diffs = append(diffs, f+": deleted by make generate (remove it from the tree)")
			continue
		}
		if err != nil {
			return nil, err
		}
		if !bytes.Equal(want, got) {
			diffs = append(diffs, f+": changed: "+firstDifference(want, got))
		}
	}
	err := filepath.WalkDir(work, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() || !d.Type().IsRegular() {
			return nil
		}
		rel, _ := filepath.Rel(work, p)
		rel = filepath.ToSlash(rel)
		if !known[rel] {
			diffs = append(diffs, rel+": created by make generate (not in the tree)")
		}
		return nil
	})
	slices.Sort(diffs)
	return diffs, err
}

// firstDifference names the first line where the committed file (want) and
// the regenerated one (got) differ.
func firstDifference(want, got []byte) string {
	wl := strings.Split(string(want), "\n")
	gl := strings.Split(string(got), "\n")
	for i := 0; i < len(wl) || i < len(gl); i++ {
		var w, g string
		if i < len(wl) {
			w = wl[i]
		}
		if i < len(gl) {
			g = gl[i]
		}
		if i >= len(wl) || i >= len(gl) || w != g {
			return fmt.Sprintf("line %d is %q in the tree, %q when regenerated", i+1, clip(w), clip(g))
		}
	}
	return "contents differ"
}

func clip(s string) string {
	if len(s) > 100 {
		return s[:100] + "..."
	}
	return s
}
