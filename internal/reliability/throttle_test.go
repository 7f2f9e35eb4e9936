package reliability

import (
	"context"
	"fmt"
	"math/rand/v2"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/amiwatermark/packer-plugin-amiwatermark/internal/ec2emu"
	"github.com/amiwatermark/packer-plugin-amiwatermark/post-processor/amiwatermark"
)

// throttleRuns is the number of runs (seeds) of the main scenario.
const throttleRuns = 10

// fixture is one AMI of a run: what it carries before, and what it must
// carry after.
type fixture struct {
	region, id string
	before     types.Image
	want       []string // sorted keys after the run
	calls      int      // logical calls the run needs for it: attaches + detaches
}

// seedFleet seeds one AMI per region, each with watermarks that must stay
// (the owner's "baseline", sometimes a key inherited from another account),
// sometimes "candidate" (which the run detaches) and sometimes one of the
// requested names already (which the run skips). rng decides.
func seedFleet(t testing.TB, w *world, rng *rand.Rand, regions []string, names []string) []*fixture {
	t.Helper()
	parent := w.SeedImages(t, ec2emu.SeedImage{Region: "us-west-1", Account: otherAccount, Name: "parent"})[0]
	var out []*fixture
	for _, r := range regions {
		wms := []ec2emu.SeedWatermark{{Key: "baseline"}}
		keep := []string{key("baseline")}
		if rng.IntN(2) == 0 {
			wms = append(wms, ec2emu.SeedWatermark{Key: otherAccount + ":parent", SourceImageID: parent, SourceImageRegion: "us-west-1"})
			keep = append(keep, otherAccount+":parent")
		}
		f := &fixture{region: r}
		if rng.IntN(2) == 0 {
			wms = append(wms, ec2emu.SeedWatermark{Key: "candidate"})
			f.calls++ // its detach
		}
		present := ""
		if rng.IntN(3) == 0 {
			present = names[rng.IntN(len(names))]
			wms = append(wms, ec2emu.SeedWatermark{Key: present})
		}
		for _, n := range names {
			keep = append(keep, key(n))
			if n != present {
				f.calls++
			}
		}
		f.want = sorted(keep)
		f.id = w.SeedImages(t, ec2emu.SeedImage{Region: r, Account: account, Name: "app-" + r, Watermarks: wms})[0]
		out = append(out, f)
	}
	for _, f := range out {
		f.before = describe(t, w.URL, f.region, f.id)
	}
	return out
}

func targetsOf(fs []*fixture) []string {
	var out []string
	for _, f := range fs {
		out = append(out, f.region+":"+f.id)
	}
	return out
}

// checkFleet asserts the final EC2 state of every fixture through the SDK:
// exactly the wanted keys, no key twice, every watermark that was there and
// had to stay unchanged, every new one attached to the AMI itself.
func checkFleet(t testing.TB, w *world, fs []*fixture) {
	t.Helper()
	for _, f := range fs {
		img := describe(t, w.URL, f.region, f.id)
		got := keysOf(img)
		if s := sorted(got); !reflect.DeepEqual(s, f.want) {
			t.Errorf("%s %s: keys %v, want %v", f.region, f.id, s, f.want)
		}
		seen := map[string]bool{}
		for _, k := range got {
			if seen[k] {
				t.Errorf("%s %s: key %s is there twice: %v", f.region, f.id, k, got)
			}
			seen[k] = true
		}
		old := map[string]types.ImageWatermark{}
		for _, wm := range f.before.ImageWatermarks {
			old[aws.ToString(wm.WatermarkKey)] = wm
		}
		for _, wm := range img.ImageWatermarks {
			k := aws.ToString(wm.WatermarkKey)
			if prev, ok := old[k]; ok {
				if !reflect.DeepEqual(prev, wm) {
					t.Errorf("%s %s: watermark %s changed: %+v -> %+v", f.region, f.id, k, prev, wm)
				}
				continue
			}
			if aws.ToString(wm.SourceImageId) != f.id || aws.ToString(wm.SourceImageRegion) != f.region {
				t.Errorf("%s %s: new watermark %s has source %s/%s, want the AMI itself", f.region, f.id, k,
					aws.ToString(wm.SourceImageRegion), aws.ToString(wm.SourceImageId))
			}
		}
	}
}

// TestThrottlingAndServerErrors is the main scenario of issue 7: 30 %
// throttling (503 RequestLimitExceeded) and 5 % server errors (500/503) on
// every action in every region, the post-processor over 8 regions × 3 names
// (plus a detach), 10 runs with different seeds. Every run must succeed with
// the default retry settings, end with exactly the requested keys plus the
// ones that must stay, and make no call beyond the plan: every extra request
// is the retry of an injected fault.
//
// The runs are independent (one emulator each) and spend their time in
// retry backoff, not on the CPU, so they run in parallel (go test's
// -parallel, GOMAXPROCS by default: 2 at a time on a 2-core machine).
func TestThrottlingAndServerErrors(t *testing.T) {
	row := Row{Scenario: "throttle30+5xx5 8rx3n", Runs: throttleRuns}
	var mu sync.Mutex // guards row
	start := time.Now()
	defer func() { row.Time = time.Since(start); record(row) }()
	t.Run("runs", func(t *testing.T) {
		for seed := 1; seed <= throttleRuns; seed++ {
			t.Run(fmt.Sprintf("seed%02d", seed), func(t *testing.T) {
				t.Parallel()
				throttleRun(t, seed, &row, &mu)
			})
		}
	})
}

// throttleRun is one run of TestThrottlingAndServerErrors; it adds its
// figures to row.
func throttleRun(t *testing.T, seed int, row *Row, mu *sync.Mutex) {
	w := newWorld(t)
	rng := rand.New(rand.NewPCG(uint64(seed), 0x7e11))
	fleet := seedFleet(t, w, rng, regions8, names3)
	w.Emulator.ResetStats()
	w.wire.reset()
	w.setFaults(t, ec2emu.Faults{ThrottleRate: 0.3, ErrorRate: 0.05, Seed: int64(seed)})

	runStart := time.Now()
	out, ui, err := runPP(t, context.Background(), w.URL, map[string]interface{}{
		"watermarks": names3,
		"detach":     []string{"candidate"},
	}, amiArtifact(targetsOf(fleet)...))
	took := time.Since(runStart)
	st := w.Emulator.Stats()
	calls, logical := w.wire.counts()
	w.wire.mu.Lock()
	if !reflect.DeepEqual(w.wire.accessKeys, map[string]bool{accessKey: true}) || !reflect.DeepEqual(w.wire.tokens, map[string]bool{sessionToken: true}) {
		t.Errorf("the requests did not all carry the configured access key and session token: %d keys, %d tokens", len(w.wire.accessKeys), len(w.wire.tokens))
	}
	w.wire.mu.Unlock()
	w.setFaults(t, ec2emu.Faults{})

	mu.Lock()
	row.Calls += calls
	row.Logical += logical
	row.Faults += injected(st)
	if err != nil {
		row.Failures++
	}
	mu.Unlock()
	if err != nil {
		t.Fatalf("run failed after %s: %v\n%s", took, err, ui)
	}
	checkFleet(t, w, fleet)

	// The artifact's state lists the final keys.
	state := amiwatermark.KeysFromState(out.State("amiwatermark"))
	for _, f := range fleet {
		if got := sorted(state[f.region][f.id]); !reflect.DeepEqual(got, f.want) {
			t.Errorf("State(amiwatermark)[%s][%s] = %v, want %v", f.region, f.id, got, f.want)
		}
	}

	// Calls: the plan is 1 describe + 1 verify per region plus
	// the attaches and detaches, each made twice (the permission
	// check's DryRun first); every request beyond that is a retry of
	// an injected fault, and nothing else was retried.
	planned := int64(2 * len(fleet))
	for _, f := range fleet {
		planned += 2 * int64(f.calls)
	}
	if calls != st.Total {
		t.Errorf("the wire saw %d API requests, the emulator counted %d", calls, st.Total)
	}
	if logical != planned {
		t.Errorf("%d SDK operations, want the %d the plan needs", logical, planned)
	}
	if retries, faults := calls-logical, st.Faults["throttle"]+st.Faults["error"]; retries != faults {
		t.Errorf("%d retried attempts for %d injected faults (throttle %d, error %d)", retries, faults, st.Faults["throttle"], st.Faults["error"])
	}
	if st.Faults["throttle"] == 0 {
		t.Errorf("no throttling was injected: %v", st.Faults)
	}
	if !strings.Contains(ui, fmt.Sprintf("done: %d AMI(s) in %d region(s)", len(fleet), len(regions8))) {
		t.Errorf("UI does not report the result:\n%s", ui)
	}
	t.Logf("seed %d: %s, %d requests for %d operations, faults %v, attempts per operation %v", seed, took.Round(time.Millisecond), calls, logical, st.Faults, w.wire.attempts())
}
