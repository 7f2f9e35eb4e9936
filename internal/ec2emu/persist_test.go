package ec2emu

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// stateJSON renders the server's state for comparison.
func stateJSON(t *testing.T, s *Server) string {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	b, err := json.Marshal(s.st)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// describeAll renders what account sees in region through the SDK.
func describeAll(t *testing.T, url, region, account string) string {
	t.Helper()
	c := ctlEC2(t, url, region, account, 1)
	out, err := c.DescribeImages(context.Background(), &ec2.DescribeImagesInput{Owners: []string{"self"}})
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, img := range out.Images {
		fmt.Fprintf(&b, "%s %s %s %s %s tags=%d\n", aws.ToString(img.ImageId), aws.ToString(img.Name), img.State,
			aws.ToString(img.CreationDate), aws.ToString(img.SourceImageId), len(img.Tags))
		for _, w := range img.ImageWatermarks {
			fmt.Fprintf(&b, "  %s %s %s %s %s\n", aws.ToString(w.WatermarkKey), aws.ToString(w.SourceImageId), aws.ToString(w.SourceImageRegion),
				aws.ToTime(w.SourceImageCreationTime).Format(time.RFC3339Nano), aws.ToTime(w.WatermarkCreationTime).Format(time.RFC3339Nano))
		}
	}
	return b.String()
}

func TestPersistRoundTrip(t *testing.T) {
	s, ts := ctlServer(t, Options{})
	ids, err := s.SeedImages([]SeedImage{
		{Region: "us-east-1", Account: "111122223333", Name: "base", CreationDate: "2026-06-01T10:00:00.000Z",
			Watermarks: []SeedWatermark{{Key: "golden"}}, Tags: map[string]string{"team": "core"}, SharedWith: []string{"444455556666"}},
		{Region: "eu-west-1", Account: "111122223333", Name: "other", State: "pending", PendingDescribes: 3, DeprecationTime: "2027-01-01"},
	})
	if err != nil {
		t.Fatal(err)
	}
	c := ctlEC2(t, ts.URL, "us-east-1", "111122223333", 1)
	if _, err := c.AttachImageWatermark(context.Background(), &ec2.AttachImageWatermarkInput{ImageId: aws.String(ids[0]), WatermarkName: aws.String("approved")}); err != nil {
		t.Fatal(err)
	}
	cp, err := ctlEC2(t, ts.URL, "eu-west-1", "111122223333", 1).CopyImage(context.Background(), &ec2.CopyImageInput{
		SourceImageId: aws.String(ids[0]), SourceRegion: aws.String("us-east-1"), Name: aws.String("copy")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.EnableAllowedImagesSettings(context.Background(), &ec2.EnableAllowedImagesSettingsInput{AllowedImagesSettingsState: types.AllowedImagesSettingsEnabledStateAuditMode}); err != nil {
		t.Fatal(err)
	}
	s.AdvanceClock(48 * time.Hour)
	seenUS, seenEU := describeAll(t, ts.URL, "us-east-1", "111122223333"), describeAll(t, ts.URL, "eu-west-1", "111122223333")
	if !strings.Contains(seenUS, "111122223333:approved") || !strings.Contains(seenEU, aws.ToString(cp.ImageId)) {
		t.Fatalf("setup did not take:\n%s\n%s", seenUS, seenEU)
	}
	before := stateJSON(t, s) // after the describes: they count down pending_describes

	path := filepath.Join(t.TempDir(), "state.json")
	if err := s.SaveState(path); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("state file mode %v, want 0600", fi.Mode().Perm())
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 1 {
		t.Errorf("the directory holds %d entries after a save, want only the state file (no temp files)", len(entries))
	}

	s2, ts2 := ctlServer(t, Options{})
	if err := s2.LoadState(path); err != nil {
		t.Fatal(err)
	}
	after := stateJSON(t, s2)
	if after != before {
		t.Errorf("state after load differs:\n%s\nwant\n%s", after, before)
	}
	if !s2.Now().Equal(ctlBase.Add(48 * time.Hour)) {
		t.Errorf("clock after load = %s, want the offset kept", s2.Now())
	}
	if !strings.Contains(after, `"pending_describes":2`) {
		t.Errorf("the pending image's describe countdown was not kept: %s", after)
	}
	if got := describeAll(t, ts2.URL, "us-east-1", "111122223333"); got != seenUS {
		t.Errorf("us-east-1 after load:\n%s\nwant\n%s", got, seenUS)
	}
	if got := describeAll(t, ts2.URL, "eu-west-1", "111122223333"); got != seenEU {
		t.Errorf("eu-west-1 after load:\n%s\nwant\n%s", got, seenEU)
	}
	set, err := ctlEC2(t, ts2.URL, "us-east-1", "111122223333", 1).GetAllowedImagesSettings(context.Background(), &ec2.GetAllowedImagesSettingsInput{})
	if err != nil || aws.ToString(set.State) != "audit-mode" {
		t.Errorf("allowed-images setting after load: %v %v", aws.ToString(set.State), err)
	}
	// New ids do not collide with loaded ones.
	out, err := ctlEC2(t, ts2.URL, "us-east-1", "111122223333", 1).RegisterImage(context.Background(), &ec2.RegisterImageInput{Name: aws.String("new"), RootDeviceName: aws.String("/dev/xvda")})
	if err != nil {
		t.Fatal(err)
	}
	if id := aws.ToString(out.ImageId); id == ids[0] || id == ids[1] || id == aws.ToString(cp.ImageId) {
		t.Errorf("new image reused id %s", id)
	}

	// Saving again replaces the file as a whole.
	if err := s2.SaveState(path); err != nil {
		t.Fatal(err)
	}
	s3 := New(Options{})
	if err := s3.LoadState(path); err != nil {
		t.Fatal(err)
	}
	if s3.ImageCount() != 4 {
		t.Errorf("after the second save: %d images, want 4", s3.ImageCount())
	}
}

func TestPersistLoadErrors(t *testing.T) {
	s := New(Options{})
	if _, err := s.SeedImages([]SeedImage{{Region: "us-east-1", Name: "keep"}}); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	good := filepath.Join(dir, "good.json")
	if err := s.SaveState(good); err != nil {
		t.Fatal(err)
	}
	valid, _ := os.ReadFile(good)
	var img0 string
	for id := range s.st.Images {
		img0 = id
	}
	cases := []struct {
		name, content, want string
	}{
		{"garbage", "hello", "invalid JSON at byte 1"},
		{"empty", "", "the document ends too early"},
		{"truncated", string(valid[:len(valid)/2]), "ends too early"},
		{"array", "[]", "invalid JSON: the top-level value must be ec2emu.stateFile"},
		{"wrong format", `{"format":"other","version":1,"state":{}}`, `format is "other", want "ec2emu-state"`},
		{"wrong version", `{"format":"ec2emu-state","version":9,"state":{}}`, "version 9 is not supported"},
		{"no state", `{"format":"ec2emu-state","version":1}`, `"state" is missing`},
		{"null image", `{"format":"ec2emu-state","version":1,"state":{"images":{"ami-01234567":null}}}`, `images["ami-01234567"] is null`},
		{"id mismatch", `{"format":"ec2emu-state","version":1,"state":{"images":{"ami-01234567":{"id":"ami-89abcdef"}}}}`, `images["ami-01234567"] has id "ami-89abcdef"`},
		{"trailing data", string(valid) + "{}", "data after the state object"},
		{"negative clock", `{"format":"ec2emu-state","version":1,"state":{"clock_offset":-5}}`, "clock_offset -5 is negative"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(dir, strings.ReplaceAll(c.name, " ", "-")+".json")
			if err := os.WriteFile(path, []byte(c.content), 0o600); err != nil {
				t.Fatal(err)
			}
			err := s.LoadState(path)
			if err == nil {
				t.Fatal("loaded without error")
			}
			msg := err.Error()
			if !strings.Contains(msg, path) || !strings.Contains(msg, c.want) || !strings.Contains(msg, "move it away") {
				t.Errorf("error %q\nwant the path, %q and what to do", msg, c.want)
			}
			if _, ok := s.st.Images[img0]; !ok || s.ImageCount() != 1 {
				t.Error("a failed load changed the state")
			}
		})
	}
	err := s.LoadState(filepath.Join(dir, "missing.json"))
	if !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), "missing.json") {
		t.Errorf("missing file: %v", err)
	}
	// An empty but valid state loads (nil maps become empty maps).
	empty := filepath.Join(dir, "empty-state.json")
	_ = os.WriteFile(empty, []byte(`{"format":"ec2emu-state","version":1,"state":{}}`), 0o600)
	if err := s.LoadState(empty); err != nil || s.ImageCount() != 0 {
		t.Fatalf("empty state: %v, %d images", err, s.ImageCount())
	}
	if _, err := s.SeedImages([]SeedImage{{Region: "us-east-1", Name: "after"}}); err != nil {
		t.Errorf("seeding after loading an empty state: %v", err)
	}
}

func TestPersistSaveErrors(t *testing.T) {
	s := New(Options{})
	dir := t.TempDir()
	err := s.SaveState(filepath.Join(dir, "no", "such", "dir", "state.json"))
	if err == nil || !strings.Contains(err.Error(), filepath.Join(dir, "no", "such", "dir")) || !strings.Contains(err.Error(), "does the directory exist") {
		t.Errorf("save into a missing directory: %v", err)
	}
	// A failed save leaves the existing file alone: a directory in the way
	// of the rename makes it fail after the temp file was written.
	target := filepath.Join(dir, "target")
	if err := os.Mkdir(target, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(target, "x"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := s.SaveState(target); err == nil {
		t.Error("save over a non-empty directory succeeded")
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.Contains(e.Name(), ".tmp-") {
			t.Errorf("temporary file %s left behind", e.Name())
		}
	}
}

// TestPersistConcurrentSave saves repeatedly while SDK requests, seeding and
// clock moves run (run with -race). Every saved file is complete.
func TestPersistConcurrentSave(t *testing.T) {
	s := New(Options{})
	ts := httptest.NewServer(s)
	defer ts.Close()
	ids, err := s.SeedImages([]SeedImage{{Region: "us-east-1", Account: "111122223333", Name: "base"}})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "state.json")
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	// Writers, a fixed amount of work each: SDK copy/describe, bulk
	// seeding, clock moves.
	wg.Add(3)
	go func() {
		defer wg.Done()
		c := ctlEC2(t, ts.URL, "us-east-1", "111122223333", 1)
		for i := 0; i < 40; i++ {
			if _, err := c.CopyImage(context.Background(), &ec2.CopyImageInput{SourceImageId: aws.String(ids[0]), SourceRegion: aws.String("us-east-1"), Name: aws.String(fmt.Sprintf("copy-%d", i))}); err != nil {
				errs <- err
				return
			}
			if _, err := c.DescribeImages(context.Background(), &ec2.DescribeImagesInput{Owners: []string{"self"}}); err != nil {
				errs <- err
				return
			}
		}
	}()
	go func() {
		defer wg.Done()
		for i := 0; i < 200; i++ {
			if _, err := s.SeedImages([]SeedImage{{Region: "eu-west-1", Name: fmt.Sprintf("seed-%d", i), Watermarks: []SeedWatermark{{Key: "golden"}}}}); err != nil {
				errs <- err
				return
			}
		}
	}()
	go func() {
		defer wg.Done()
		for i := 0; i < 200; i++ {
			s.AdvanceClock(time.Second)
		}
	}()
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	// Savers: two at once into the same file, until the writers are done
	// (at least 3 saves each).
	var saves sync.WaitGroup
	for g := 0; g < 2; g++ {
		saves.Add(1)
		go func() {
			defer saves.Done()
			for i := 0; ; i++ {
				if i >= 3 {
					select {
					case <-done:
						return
					default:
					}
				}
				if err := s.SaveState(path); err != nil {
					errs <- err
					return
				}
				b, err := os.ReadFile(path)
				if err != nil {
					errs <- err
					return
				}
				if _, err := decodeState(b); err != nil {
					errs <- fmt.Errorf("a saved file does not load: %w", err)
					return
				}
			}
		}()
	}
	saves.Wait()
	<-done
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if err := s.SaveState(path); err != nil {
		t.Fatal(err)
	}
	s2 := New(Options{})
	if err := s2.LoadState(path); err != nil {
		t.Fatal(err)
	}
	if a, b := stateJSON(t, s2), stateJSON(t, s); a != b {
		t.Error("the last save does not hold the final state")
	}
	if entries, _ := os.ReadDir(filepath.Dir(path)); len(entries) != 1 {
		t.Errorf("%d entries in the state directory, want 1", len(entries))
	}
}

// FuzzPersistDecodeState: arbitrary file content never panics the loader,
// and whatever loads can be saved and loaded again to the same state.
func FuzzPersistDecodeState(f *testing.F) {
	f.Add([]byte(`{"format":"ec2emu-state","version":1,"state":{"images":{"ami-01234567":{"id":"ami-01234567","watermarks":[{"key":"111122223333:golden"}]}}}}`))
	f.Add([]byte(`{"format":"ec2emu-state","version":1,"state":{}}`))
	f.Add([]byte(`{}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		st, err := decodeState(b)
		if err != nil {
			return
		}
		s := New(Options{})
		s.st = st
		var buf bytes.Buffer
		if err := json.NewEncoder(&buf).Encode(stateFile{Format: stateFormat, Version: stateVersion, State: st}); err != nil {
			return // e.g. times outside JSON's range cannot be saved
		}
		st2, err := decodeState(buf.Bytes())
		if err != nil {
			t.Fatalf("a saved state does not load: %v", err)
		}
		a, _ := json.Marshal(st)
		c, _ := json.Marshal(st2)
		if !bytes.Equal(a, c) {
			t.Fatalf("round trip changed the state:\n%s\n%s", a, c)
		}
	})
}
