package main

import (
	"net/url"
	"os"
	"regexp"
	"sort"
	"strings"
	"testing"
)

// The permissions docs/cli.md lists for inspect, verify
// and simulate are the EC2 actions these commands call.

// permissionsParagraph is the "Permissions needed" paragraph of docs/cli.md.
func permissionsParagraph(t *testing.T) string {
	t.Helper()
	doc, err := os.ReadFile("../../docs/cli.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(doc), "Permissions needed:")
	if !ok {
		t.Fatal(`docs/cli.md has no "Permissions needed:" paragraph`)
	}
	para, _, _ := strings.Cut(rest, "\n\n")
	return para
}

// actions are the distinct API actions the emulator received.
func (e *emu) actions() map[string]bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := map[string]bool{}
	for _, b := range e.reqs {
		if v, err := url.ParseQuery(b); err == nil && v.Get("Action") != "" {
			out[v.Get("Action")] = true
		}
	}
	return out
}

func TestDocsPermissionsAreTheActionsCalled(t *testing.T) {
	e := newEmu(t)
	now := e.seedSimulate()
	crit := writeFile(t, "policy.json", simCriteria)
	for _, args := range [][]string{
		{"simulate", "--region", regionEast, "--criteria", crit, "--at", ts(now), "--in-use", "--compare-current"},
		{"inspect", "--region", regionEast, amiGolden},
		{"verify", "--region", regionEast, "--criteria", "current", amiGolden},
	} {
		code, out, errOut := e.cli(args...)
		if code == exitUsage {
			t.Fatalf("%v: usage error\n%s", args, errOut+out)
		}
	}
	called := e.actions()
	para := permissionsParagraph(t)
	documented := map[string]bool{}
	for _, m := range regexp.MustCompile("`ec2:([A-Za-z]+)`").FindAllStringSubmatch(para, -1) {
		documented[m[1]] = true
	}
	var missing, extra []string
	for a := range called {
		if !documented[a] {
			missing = append(missing, a)
		}
	}
	for a := range documented {
		if !called[a] && !strings.Contains(a, "ImageWatermark") { // attach/detach: their own section
			extra = append(extra, a)
		}
	}
	sort.Strings(missing)
	sort.Strings(extra)
	if len(missing)+len(extra) > 0 {
		t.Errorf("docs/cli.md permissions: called but not listed %v; listed but never called %v\n%s", missing, extra, para)
	}
}
