package testkit

import (
	"net/http"
	"os/exec"
	"runtime"
	"strings"
	"testing"
	"time"
)

func TestStartTheEmulatorProgram(t *testing.T) {
	bin, err := BuildEmulator()
	if err != nil {
		t.Fatal(err)
	}
	defer RemoveBuilds()
	p := StartT(t, bin, "--addr", "127.0.0.1:0")
	if !strings.HasPrefix(p.URL, "http://127.0.0.1:") {
		t.Fatalf("URL = %q, want http://127.0.0.1:PORT", p.URL)
	}
	var health map[string]any
	DoJSON(t, http.MethodGet, p.URL+"/_emu/health", nil, &health)
	if err := p.Stop(); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	select {
	case <-p.Done():
	default:
		t.Fatal("Stop returned before the program exited")
	}
	p.Kill() // after exit: a no-op
}

func TestStartRefusesProgramsThatDoNotAnnounceAURL(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("uses sh")
	}
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh")
	}
	for _, c := range []struct{ script, want string }{
		{"echo hello; sleep 30", `first stdout line is "hello"`},
		{"echo 'listening on ftp://x'; sleep 30", "want `listening on http://HOST:PORT`"},
		{"echo oops >&2; exit 3", "exited (exit status 3) without printing"},
	} {
		start := time.Now()
		p, err := Start(sh, "-c", c.script)
		if err == nil {
			p.Kill()
			t.Errorf("%q: Start succeeded, want an error", c.script)
			continue
		}
		if !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: error %q, want it to contain %q", c.script, err, c.want)
		}
		if time.Since(start) > 20*time.Second {
			t.Errorf("%q: Start took %s; a wrong first line must fail at once", c.script, time.Since(start))
		}
	}
}

func TestWaitReportsTheExitCodeAndTheRest(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("uses sh")
	}
	p, err := Start("sh", "-c", "echo 'listening on http://127.0.0.1:1'; echo one; echo two; exit 4")
	if err != nil {
		t.Fatal(err)
	}
	code, rest, err := p.Wait(10 * time.Second)
	if err != nil || code != 4 || strings.Join(rest, ",") != "one,two" {
		t.Fatalf("Wait = %d, %q, %v; want 4, [one two], nil", code, rest, err)
	}
}

func TestAtLeast(t *testing.T) {
	for _, c := range []struct {
		version      string
		major, minor int
		want         bool
	}{
		{"1.9.4", 1, 10, false},
		{"1.10.0", 1, 10, true},
		{"1.16.0", 1, 11, true},
		{"1.16.0", 2, 0, false},
		{"2.0.0", 1, 11, true},
		{"", 1, 0, false},
	} {
		if got := (&Packer{Version: c.version}).AtLeast(c.major, c.minor); got != c.want {
			t.Errorf("%q.AtLeast(%d, %d) = %v, want %v", c.version, c.major, c.minor, got, c.want)
		}
	}
}

func TestEnvironDropsTheCallersSettings(t *testing.T) {
	t.Setenv("AWS_PROFILE", "prod")
	t.Setenv("PACKER_LOG", "1")
	t.Setenv("PKR_VAR_x", "y")
	t.Setenv("E2E_PACKER_LOG", "")
	p := &Packer{PluginDir: "/p", Home: "/h", CacheDir: "/c", Env: []string{"AWS_REGION=eu-west-1"}}
	env := strings.Join(p.Environ("EXTRA=1"), "\n") + "\n"
	for _, gone := range []string{"AWS_PROFILE=", "PACKER_LOG=", "PKR_VAR_x="} {
		if strings.Contains(env, "\n"+gone) || strings.HasPrefix(env, gone) {
			t.Errorf("the environment keeps %s", gone)
		}
	}
	for _, want := range []string{"PACKER_PLUGIN_PATH=/p\n", "HOME=/h\n", "PACKER_CACHE_DIR=/c\n", "CHECKPOINT_DISABLE=1\n",
		"AWS_EC2_METADATA_DISABLED=true\n", "AWS_REGION=eu-west-1\n", "EXTRA=1\n"} {
		if !strings.Contains(env, want) {
			t.Errorf("the environment lacks %s", strings.TrimSpace(want))
		}
	}
	p.KeepAWSEnv = true
	if env := strings.Join(p.Environ(), "\n"); !strings.Contains(env, "AWS_PROFILE=prod") {
		t.Errorf("KeepAWSEnv: AWS_PROFILE was dropped")
	}
}

func TestUIRecords(t *testing.T) {
	u := &UI{}
	u.Say("one")
	u.Sayf("%s", "two")
	u.Error("bad")
	if got, want := u.String(), "one\ntwo\nERROR: bad\n"; got != want {
		t.Errorf("UI = %q, want %q", got, want)
	}
	a := &Artifact{Builder: AmazonEBSBuilderID, ID: "us-east-1:ami-1"}
	if err := a.Destroy(); err != nil || !a.Destroyed || a.Id() != "us-east-1:ami-1" {
		t.Errorf("Artifact: %+v", a)
	}
}

func TestStalledEndpointNeverAnswers(t *testing.T) {
	url := StalledEndpoint(t)
	c := &http.Client{Timeout: 200 * time.Millisecond}
	start := time.Now()
	resp, err := c.Get(url)
	if err == nil {
		resp.Body.Close()
		t.Fatalf("the stalled endpoint answered HTTP %d", resp.StatusCode)
	}
	if took := time.Since(start); took < 150*time.Millisecond {
		t.Errorf("failed after %s, before the client's timeout: %v (the connection must be accepted and held)", took, err)
	}
}
