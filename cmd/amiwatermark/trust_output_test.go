package main

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// --html is checked before any AWS call, and keeps the
// mode of the file it replaces.

func TestHTMLPathCheckedBeforeAnyAWSCall(t *testing.T) {
	o := newOrgEmu(t)
	o.seedAccounts([]string{regionEast}, acctMe)
	crit := writeFile(t, "policy.json", simCriteria)
	dir := t.TempDir()
	ro := filepath.Join(t.TempDir(), "ro")
	if err := os.Mkdir(ro, 0o555); err != nil {
		t.Fatal(err)
	}
	cases := map[string]string{
		"a directory":         dir,
		"a missing directory": filepath.Join(dir, "no", "r.html"),
		"a file as directory": filepath.Join(crit, "r.html"),
	}
	if os.Geteuid() != 0 { // root writes anywhere
		cases["an unwritable directory"] = filepath.Join(ro, "r.html")
	}
	if runtime.GOOS == "linux" { // not even root creates files in /proc
		cases["a directory nobody writes in"] = "/proc/r.html"
	}
	for name, path := range cases {
		for _, cmd := range [][]string{
			{"simulate", "--criteria", crit},
			{"inspect", amiGolden},
			{"verify", "--require-key", acctMe + ":golden-base", amiGolden},
		} {
			before := o.Emulator.Stats().Total
			code, out, errOut := o.cli(append(cmd, "--regions", regionEast, "--html", path)...)
			wantCode(t, code, 2, out, errOut)
			wantContains(t, name+" stderr", errOut, "--html "+path, "nothing was asked of AWS")
			if n := o.Emulator.Stats().Total - before; n != 0 {
				t.Errorf("%s, %s: %d AWS calls before the refusal, want 0", name, cmd[0], n)
			}
		}
	}
}

func TestHTMLKeepsModeOfReplacedFile(t *testing.T) {
	o := newOrgEmu(t)
	o.seedAccounts([]string{regionEast}, acctMe)
	crit := writeFile(t, "policy.json", simCriteria)
	page := filepath.Join(t.TempDir(), "r.html")
	if err := os.WriteFile(page, []byte("old"), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := o.cli("simulate", "--criteria", crit, "--regions", regionEast, "--html", page)
	wantCode(t, code, 0, out, errOut)
	st, err := os.Stat(page)
	if err != nil || st.Size() < 100 {
		t.Fatalf("page not written: %v", err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("mode %v after replacing a 0600 file, want 0600", st.Mode().Perm())
	}
	// A new file is 0644 as before.
	fresh := filepath.Join(filepath.Dir(page), "new.html")
	code, out, errOut = o.cli("simulate", "--criteria", crit, "--regions", regionEast, "--html", fresh)
	wantCode(t, code, 0, out, errOut)
	if st, err := os.Stat(fresh); err != nil || st.Mode().Perm() != 0o644 {
		t.Errorf("new page: %v %v, want mode 0644", st, err)
	}
}

// A throttled ListAccounts says it was throttled, not
// that the caller is in the wrong account.
func TestOrgListAccountsThrottled(t *testing.T) {
	o := newOrgEmu(t)
	t.Setenv("AWS_ENDPOINT_URL_ORGANIZATIONS", o.URL)
	seed, _ := orgSeed(1)
	if err := o.Emulator.ApplySeed(seed); err != nil {
		t.Fatal(err)
	}
	o.faults(`{"throttle_rate":1,"actions":["ListAccounts"]}`)
	crit := writeFile(t, "policy.json", simCriteria)
	code, out, errOut := o.cli("simulate", "--criteria", crit, "--accounts", "org", "--role-name", "R", "--regions", regionEast, "--max-retries", "0")
	wantCode(t, code, 1, out, errOut)
	wantContains(t, "stderr", errOut, "TooManyRequestsException", "throttled", "run again later", "--max-retries")
	if strings.Contains(errOut, "management account") {
		t.Errorf("a throttled call blamed on the account:\n%s", errOut)
	}
}

// --name X --detach X is a usage error naming the
// CLI's flags, before any AWS call.
func TestAttachNameAndDetachSameKeyIsUsageError(t *testing.T) {
	e := newEmu(t)
	e.seedLineage()
	for _, args := range [][]string{
		{"attach", "--json", "--name", "approved", "--detach", "approved", regionEast + ":" + amiBare},
		{"attach", "--name", "app1,approved", "--detach", "approved", regionEast + ":" + amiBare},
	} {
		before := e.Emulator.Stats().Total
		code, out, errOut := e.cli(args...)
		wantCode(t, code, 2, out, errOut)
		wantContains(t, "stderr", errOut, `--name "approved"`, `--detach "approved"`)
		for _, word := range []string{"detach = ", "watermarks", "assume_role"} {
			if strings.Contains(errOut, word) {
				t.Errorf("stderr speaks the post-processor's %q:\n%s", word, errOut)
			}
		}
		if n := e.Emulator.Stats().Total - before; n != 0 {
			t.Errorf("%d AWS calls for a usage error", n)
		}
	}
}
