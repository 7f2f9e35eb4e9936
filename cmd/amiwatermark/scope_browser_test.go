package main

import (
	"bytes"
	"context"
	"github.com/amiwatermark/packer-plugin-amiwatermark/internal/orgscan"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
	"time"
)

// chromiumPath finds a headless-capable Chromium: $CHROMIUM, else chromium
// or chromium-browser on PATH (the Debian package "chromium"; .ci/run
// installs it). The test fails without one: set
// AMIWATERMARK_SKIP_BROWSER=1 to skip it explicitly on a machine without a
// browser.
func chromiumPath(t *testing.T) string {
	t.Helper()
	if os.Getenv("AMIWATERMARK_SKIP_BROWSER") == "1" {
		t.Skip("AMIWATERMARK_SKIP_BROWSER=1: the HTML report is not checked in a browser")
	}
	if p := os.Getenv("CHROMIUM"); p != "" {
		return p
	}
	for _, n := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(n); err == nil {
			return p
		}
	}
	t.Fatal("no Chromium found: install it (Debian: apt-get install -y chromium), set CHROMIUM=/path/to/chromium, or set AMIWATERMARK_SKIP_BROWSER=1 to skip this test")
	return ""
}

// headless runs Chromium headless on a file:// URL with a throw-away
// profile and no network; extra are its mode flags (--dump-dom,
// --screenshot=...).
func headless(t *testing.T, bin, page string, extra ...string) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	args := append([]string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
		"--no-first-run", "--user-data-dir=" + t.TempDir(), "--proxy-server=127.0.0.1:9", "--proxy-bypass-list=<-loopback>",
		"--window-size=1200,2000"}, extra...)
	args = append(args, "file://"+page)
	cmd := exec.CommandContext(ctx, bin, args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %v: %v\nstderr:\n%s", bin, args, err, errb.String())
	}
	return out.Bytes()
}

var (
	domTotalRE = regexp.MustCompile(`data-total="([a-z_]+)">(\d+)<`)
	domBarRE   = regexp.MustCompile(`<g class="bar" data-label="([^"]+)" data-count="(\d+)">`)
)

// TestHTMLReportInBrowser renders the --html report of a scoped simulate in
// headless Chromium: the page loads, draws, and the totals and chart bars
// in the rendered DOM equal the same run's JSON.
func TestHTMLReportInBrowser(t *testing.T) {
	bin := chromiumPath(t)
	e := newEmu(t)
	now := e.seedRegions(3)
	page := filepath.Join(t.TempDir(), "report.html")
	env := e.scopeEnvFor(t, &scopePlan{Plan: orgscan.Plan{Regions: scopeRegions}, json: true, html: page}, 2)
	code, out, errOut := runScoped(ctxT(t), env, simulateScopeCommand(simOpts(t, now)))
	wantCode(t, code, 0, out, errOut)
	doc := decodeScoped(t, out)

	dom := string(headless(t, bin, page, "--dump-dom"))
	got := map[string]int{}
	for _, m := range domTotalRE.FindAllStringSubmatch(dom, -1) {
		n, _ := strconv.Atoi(m[2])
		got[m[1]] = n
	}
	if len(got) != len(doc.Totals) {
		t.Errorf("the page shows %d totals %v, the JSON has %d %v", len(got), got, len(doc.Totals), doc.Totals)
	}
	for k, v := range doc.Totals {
		if g, ok := got[k]; !ok || g != v {
			t.Errorf("total %s: page %d (shown %v), JSON %d", k, g, ok, v)
		}
	}
	bars := map[string]int{}
	for _, m := range domBarRE.FindAllStringSubmatch(dom, -1) {
		n, _ := strconv.Atoi(m[2])
		bars[m[1]] += n
	}
	for owner, n := range doc.BlockedByOwner {
		if bars[owner] < n {
			t.Errorf("chart bar %s = %d, JSON blocked_by_owner %d", owner, bars[owner], n)
		}
	}
	wantContains(t, "rendered DOM", dom, `<table class="account-table" data-account="111122223333">`, `<svg`)

	// It draws: the screenshot is not blank.
	shot := filepath.Join(t.TempDir(), "shot.png")
	headless(t, bin, page, "--screenshot="+shot)
	f, err := os.Open(shot)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	colors := map[[3]uint32]bool{}
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y += 4 {
		for x := b.Min.X; x < b.Max.X; x += 4 {
			r, g, bl, _ := img.At(x, y).RGBA()
			colors[[3]uint32{r >> 8, g >> 8, bl >> 8}] = true
		}
	}
	if len(colors) < 3 {
		t.Errorf("the screenshot has %d colors: the page did not render", len(colors))
	}
	if !colors[[3]uint32{0xc0, 0x39, 0x2b}] {
		t.Error("the screenshot has no bar color (#c0392b): the charts did not draw")
	}
}
