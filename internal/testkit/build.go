package testkit

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
)

// Module is the repository's Go module path.
const Module = "github.com/amiwatermark/packer-plugin-amiwatermark"

// PluginSource is the required_plugins source of this repository's plugin.
const PluginSource = "github.com/amiwatermark/amiwatermark"

// Exe is the executable suffix of the platform ("" or ".exe").
func Exe() string {
	if runtime.GOOS == "windows" {
		return ".exe"
	}
	return ""
}

// RepoRoot returns the root of the repository: the directory of the main
// module's go.mod above the working directory (a test runs in its
// package's directory).
func RepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if b, err := os.ReadFile(filepath.Join(dir, "go.mod")); err == nil && strings.HasPrefix(string(b), "module "+Module+"\n") {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("cannot find the repository root (go.mod of %s) above the working directory", Module)
		}
		dir = parent
	}
}

// GoBuild runs `go build [flags] -o out pkg` in dir.
func GoBuild(dir, out, pkg string, flags ...string) error {
	args := append([]string{"build"}, flags...)
	args = append(args, "-o", out, pkg)
	cmd := exec.Command("go", args...)
	cmd.Dir = dir
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go %s: %v\n%s", strings.Join(args, " "), err, b)
	}
	return nil
}

var emulatorOnce struct {
	sync.Mutex
	dir, bin string
}

// BuildEmulator builds cmd/ec2emu once per test process into a temporary
// directory and returns the binary; later calls return the same binary.
// The directory is removed by RemoveBuilds.
func BuildEmulator() (string, error) {
	emulatorOnce.Lock()
	defer emulatorOnce.Unlock()
	if emulatorOnce.bin != "" {
		return emulatorOnce.bin, nil
	}
	root, err := RepoRoot()
	if err != nil {
		return "", err
	}
	dir, err := os.MkdirTemp("", "testkit-ec2emu-")
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "ec2emu"+Exe())
	if err := GoBuild(root, bin, "./cmd/ec2emu"); err != nil {
		os.RemoveAll(dir)
		return "", err
	}
	emulatorOnce.dir, emulatorOnce.bin = dir, bin
	return bin, nil
}

// RemoveBuilds removes what BuildEmulator built (call it from TestMain).
func RemoveBuilds() {
	emulatorOnce.Lock()
	defer emulatorOnce.Unlock()
	if emulatorOnce.dir != "" {
		os.RemoveAll(emulatorOnce.dir)
		emulatorOnce.dir, emulatorOnce.bin = "", ""
	}
}

// BuildPlugin builds this repository's plugin into out. With release true
// the version has no pre-release suffix (0.1.0, matched by `>= 0.1.0` on
// every Packer); otherwise it is the -dev build `make dev` makes.
func BuildPlugin(out string, release bool) error {
	root, err := RepoRoot()
	if err != nil {
		return err
	}
	pre := "dev"
	if release {
		pre = ""
	}
	return GoBuild(root, out, ".", "-ldflags", "-X "+Module+"/version.VersionPrerelease="+pre)
}

// Description is what a plugin binary's `describe` command prints.
type Description struct {
	Version    string `json:"version"`
	APIVersion string `json:"api_version"`
}

// Describe runs `bin describe`.
func Describe(bin string) (Description, error) {
	out, err := exec.Command(bin, "describe").Output()
	if err != nil {
		return Description{}, fmt.Errorf("%s describe: %v", bin, err)
	}
	var d Description
	if err := json.Unmarshal(out, &d); err != nil || d.Version == "" || d.APIVersion == "" {
		if err == nil {
			err = errors.New("version or api_version missing")
		}
		return Description{}, fmt.Errorf("%s describe printed %q: want JSON with version and api_version (%v)", bin, out, err)
	}
	return d, nil
}
