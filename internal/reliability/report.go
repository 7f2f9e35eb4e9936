// Package reliability holds the fault suite of issue 7: the post-processor
// driven the way Packer drives it (Configure with a raws map, PostProcess
// with an Amazon artifact) against the EC2 emulator with injected faults,
// each case asserting the final EC2 state through the SDK. The tests are in
// the _test.go files; this file is the small report helper behind
// `make reliability`, which prints one line per scenario so the figures can
// be compared from run to run.
package reliability

import (
	"fmt"
	"os"
	"sort"
	"strings"
	"time"
)

// Row is the outcome of one scenario of the suite.
type Row struct {
	// Scenario is a short stable name, e.g. "throttle30+5xx5 8rx3n".
	Scenario string
	// Runs is how many post-processor (or data source) runs it made.
	Runs int
	// Calls is the number of EC2 API requests the emulator received.
	Calls int64
	// Logical is the number of SDK operations behind those requests (one
	// per operation, however many attempts it took).
	Logical int64
	// Faults is the number of faults the emulator injected (throttles,
	// 5xx and hard failures; latency not counted).
	Faults int64
	// Failures is how many runs returned an error.
	Failures int
	// WantFailures is how many runs were meant to fail (the scenario checks
	// that they fail the right way).
	WantFailures int
	// Time is the wall time of the scenario.
	Time time.Duration
}

// Retries is the number of retried attempts: calls minus logical calls.
func (r Row) Retries() int64 { return r.Calls - r.Logical }

// header and the column formats; the layout is part of the interface
// (figures are compared across runs), so change it only on purpose.
var columns = []struct {
	title string
	width int
}{
	{"scenario", 30}, {"runs", 5}, {"calls", 7}, {"logical", 8}, {"faults", 7},
	{"retries", 8}, {"failed", 7}, {"expected", 9}, {"time", 9},
}

// FormatTable renders rows as a fixed-width text table, sorted by scenario
// name, with a header line.
func FormatTable(rows []Row) string {
	rows = append([]Row(nil), rows...)
	sort.SliceStable(rows, func(i, j int) bool { return rows[i].Scenario < rows[j].Scenario })
	var b strings.Builder
	cell := func(i int, s string) {
		if i == 0 {
			fmt.Fprintf(&b, "%-*s", columns[i].width, s)
			return
		}
		fmt.Fprintf(&b, " %*s", columns[i].width, s)
	}
	for i, c := range columns {
		cell(i, c.title)
	}
	b.WriteByte('\n')
	for _, r := range rows {
		for i, v := range []string{
			r.Scenario, fmt.Sprint(r.Runs), fmt.Sprint(r.Calls), fmt.Sprint(r.Logical), fmt.Sprint(r.Faults),
			fmt.Sprint(r.Retries()), fmt.Sprint(r.Failures), fmt.Sprint(r.WantFailures), formatDuration(r.Time),
		} {
			cell(i, v)
		}
		b.WriteByte('\n')
	}
	return b.String()
}

// formatDuration renders d in seconds with two decimals ("12.34s").
func formatDuration(d time.Duration) string { return fmt.Sprintf("%.2fs", d.Seconds()) }

// WriteTable writes FormatTable(rows) to path (created or replaced).
func WriteTable(path string, rows []Row) error {
	if err := os.WriteFile(path, []byte(FormatTable(rows)), 0o644); err != nil {
		return fmt.Errorf("writing the reliability report: %w", err)
	}
	return nil
}
