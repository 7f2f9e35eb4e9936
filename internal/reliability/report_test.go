package reliability

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestFormatTable pins the layout of the make reliability table: figures
// are compared across runs, so a change must be on purpose.
func TestFormatTable(t *testing.T) {
	rows := []Row{
		{Scenario: "throttle30+5xx5 8rx3n", Runs: 10, Calls: 635, Logical: 415, Faults: 220, Time: 24140 * time.Millisecond},
		{Scenario: "cancel latency500ms", Runs: 1, Calls: 24, Logical: 24, Failures: 1, WantFailures: 1, Time: 1270 * time.Millisecond},
	}
	want := "" +
		"scenario                        runs   calls  logical  faults  retries  failed  expected      time\n" +
		"cancel latency500ms                1      24       24       0        0       1         1     1.27s\n" +
		"throttle30+5xx5 8rx3n             10     635      415     220      220       0         0    24.14s\n"
	if got := FormatTable(rows); got != want {
		t.Errorf("FormatTable:\n%s\nwant\n%s", got, want)
	}
	if rows[0].Scenario != "throttle30+5xx5 8rx3n" {
		t.Error("FormatTable reordered its argument")
	}
	path := filepath.Join(t.TempDir(), "report.txt")
	if err := WriteTable(path, rows); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(path); err != nil || string(b) != want {
		t.Errorf("WriteTable wrote %q, %v", b, err)
	}
	if err := WriteTable(filepath.Join(t.TempDir(), "no", "such", "dir"), rows); err == nil {
		t.Error("WriteTable into a missing directory succeeded")
	}
}
