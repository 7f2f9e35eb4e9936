package orgbench

import (
	"fmt"
	"testing"
)

// report is what one BenchmarkP4 iteration measured.
type report struct {
	org, base, large cliRun
	largeN           int
	emuRSS           int64 // the emulator's peak memory after the org run
}

func met(ok bool) string {
	if ok {
		return "met"
	}
	return "NOT MET"
}

func mb(n int64) float64 { return float64(n) / (1 << 20) }

// print writes the figures and whether each goal is met, and
// reports the main ones as benchmark metrics.
func (r report) print(b *testing.B) {
	floor := p4.Floor()
	wallFloor := r.org.wall.Seconds() / floor.Seconds()
	callsMin := float64(r.org.calls) / float64(p4.MinCalls())
	baseCalls := float64(r.base.calls) / float64(r.base.scopes)
	orgCalls := float64(r.org.calls) / float64(r.org.scopes)
	bestCalls := float64(p4.MinCalls()) / float64(p4.Accounts*p4.Regions)
	// The calls an account-region makes itself: all but the region's one
	// public read (its pages at the minimum; any repeat counts here).
	ownCalls := float64(r.org.calls-int64(p4.Regions*len(pages(p4.Public, p4.PageSize)))) / float64(r.org.scopes)
	// Today's full scan of the whole organization at the same
	// concurrency, projected from the slice's time per account-region.
	baseWall := r.base.wall.Seconds() / float64(r.base.scopes)
	projected := baseWall * float64((r.org.scopes+p4.Concurrency-1)/p4.Concurrency)
	fmt.Printf("\nP4: ec2emu --throttle ec2 --latency-base %s --latency-per-item %s; %d accounts x %d regions, %d public images a region, %d own + %d shared per account-region; CLI at its default concurrency\n",
		p4.Base, p4.PerItem, p4.Accounts, p4.Regions, p4.Public, p4.Own, p4.Shared)
	fmt.Printf("  wall / floor            %7.2f  (wall %.1f s, floor %.2f s)           goal <= 1.15: %s\n", wallFloor, r.org.wall.Seconds(), floor.Seconds(), met(wallFloor <= 1.15))
	fmt.Printf("  DescribeImages / min    %7.2f  (%d calls, minimum %d; %d throttled)  goal 1.0: %s\n", callsMin, r.org.calls, p4.MinCalls(), r.org.throttled, met(callsMin <= 1.0))
	fmt.Printf("  calls per account-region: full scan %.2f (4 accounts x %s, one plain simulate each), org run's own calls %.2f -> %.1fx fewer  goal >= 10x: %s\n",
		baseCalls, p4Regions[0], ownCalls, baseCalls/ownCalls, met(baseCalls/ownCalls >= 10))
	fmt.Printf("    with each account-region's share of its region's public read: %.2f -> %.1fx fewer (the model's minimum, %.2f, gives %.1fx)\n",
		orgCalls, baseCalls/orgCalls, bestCalls, baseCalls/bestCalls)
	fmt.Printf("  wall: full scan of the org projected from the slice %.1f s (%.2f s an account-region x %d rounds of %d), org run %.1f s -> %.2fx\n",
		projected, baseWall, (r.org.scopes+p4.Concurrency-1)/p4.Concurrency, p4.Concurrency, r.org.wall.Seconds(), projected/r.org.wall.Seconds())
	fmt.Printf("  CLI peak RSS            %d accounts %.0f MB", p4.Accounts, mb(r.org.rss))
	ok := mb(r.org.rss) <= 150
	if r.largeN > 0 {
		flat := float64(r.large.rss) <= 1.25*float64(r.org.rss)
		ok = ok && mb(r.large.rss) <= 150 && flat
		fmt.Printf(", %d accounts %.0f MB (wall %.1f s, %d DescribeImages)", r.largeN, mb(r.large.rss), r.large.wall.Seconds(), r.large.calls)
		b.ReportMetric(mb(r.large.rss), "rss_large_MB")
	}
	fmt.Printf("  goal <= 150 MB and flat (within 25%%): %s\n", met(ok))
	fmt.Printf("  emulator peak RSS       %.0f MB\n\n", mb(r.emuRSS))
	b.ReportMetric(wallFloor, "wall/floor")
	b.ReportMetric(callsMin, "calls/min")
	b.ReportMetric(baseCalls/ownCalls, "fewer_calls_x")
	b.ReportMetric(baseCalls/orgCalls, "fewer_calls_shared_x")
	b.ReportMetric(mb(r.org.rss), "rss_MB")
	b.ReportMetric(mb(r.emuRSS), "emu_rss_MB")
	b.ReportMetric(r.org.wall.Seconds(), "wall_s")
	b.ReportMetric(projected/r.org.wall.Seconds(), "wall_vs_full_scan_x")
}
