package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/amiwatermark/packer-plugin-amiwatermark/internal/ec2emu"
	"github.com/amiwatermark/packer-plugin-amiwatermark/internal/ec2emu/emutest"
)

// countingWriter counts the bytes of the emulator's answers.
type countingWriter struct {
	http.ResponseWriter
	n *atomic.Int64
}

func (w countingWriter) Write(b []byte) (int, error) {
	w.n.Add(int64(len(b)))
	return w.ResponseWriter.Write(b)
}

// BenchmarkOrgSimulate: `amiwatermark simulate --accounts org --role-name
// R --regions R1,R2,R3,R4` (the built CLI, as users run it) across 40
// accounts × 4 regions × 2 000 images each (320 000 images), every call
// (ListAccounts, AssumeRole, DescribeImages) delayed 50 ms by the emulator,
// at the default concurrency. In the same run it walks the same scopes one
// after the other (--concurrency 1, the baseline) and reports:
//
//	wall_s        the concurrent run
//	seq_s         the sequential walk
//	chain_ms      one scope's chain of dependent calls, measured: seq_s / scopes
//	floor_s       chain × ceil(scopes / concurrency)
//	wall/floor    must be <= 1.3
//	speedup       seq_s / wall_s; speedup/conc must be >= 0.8
//	cli_cpu_us/image, emu_cpu_us/image
//	              CPU (user + system) of the concurrent run per image, in the
//	              CLI and in the emulator (this process)
//	cpu_busy      both CPUs over wall × cores: near 1, the run is CPU-bound
//	peak_rss_MB   the CLI process's peak resident memory (VmHWM)
//	rss/data      peak_rss / bytes of all DescribeImages answers: far below
//	              1 when images are not held
//
// Run it with: go test -run '^$' -bench OrgSimulate -benchtime 1x ./cmd/amiwatermark/
// (ORG_BENCH_ACCOUNTS=N runs an organization of N accounts: peak_rss_MB
// stays about the same from 40 to 120 accounts, it does not follow the
// number of images.)
//
// The sub-benchmark images=2000 is the specified one. images=20 is a
// control with the same calls minus most of the decoding: where images=2000
// is far from the floor but images=20 is near it, the run is CPU-bound
// (reading and evaluating 320 000 images) rather than held back by the
// fan-out.
func BenchmarkOrgSimulate(b *testing.B) {
	bin := filepath.Join(b.TempDir(), "amiwatermark")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		b.Fatalf("go build: %v\n%s", err, out)
	}
	for _, n := range []int{2000, 20} {
		b.Run(fmt.Sprintf("images=%d", n), func(b *testing.B) { benchOrg(b, bin, n) })
	}
}

func benchOrg(b *testing.B, bin string, perScope int) {
	const latency = 50 * time.Millisecond
	nAccounts := 40
	if v := os.Getenv("ORG_BENCH_ACCOUNTS"); v != "" {
		fmt.Sscan(v, &nAccounts)
	}
	regions := []string{"us-east-1", "eu-west-1", "ap-southeast-2", "sa-east-1"}
	var respBytes atomic.Int64
	ts := emutest.NewServer(b, emutest.Options{Wrap: func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { next.ServeHTTP(countingWriter{w, &respBytes}, r) })
	}})
	srv := ts.Emulator

	// The organization: 40 accounts, the first is the management account
	// (the caller). Each owns 2 000 images per region; one in ten carries
	// the golden watermark (allowed), the others are blocked.
	now := srv.Now()
	accounts := make([]string, nAccounts)
	seed := ec2emu.Seed{}
	for a := range accounts {
		accounts[a] = fmt.Sprintf("2000%08d", a)
		seed.Accounts = append(seed.Accounts, ec2emu.SeedAccount{ID: accounts[a], Regions: regions})
	}
	seed.Organization = &ec2emu.SeedOrganization{ManagementAccount: accounts[0]}
	if err := srv.ApplySeed(seed); err != nil {
		b.Fatal(err)
	}
	for a := range accounts {
		var imgs []ec2emu.SeedImage
		for _, r := range regions {
			for i := 0; i < perScope; i++ {
				im := ec2emu.SeedImage{Region: r, Account: accounts[a], Name: fmt.Sprintf("img-%s-%d", r, i), CreationDate: ts0(now.Add(-time.Duration(i) * time.Minute))}
				if i%10 == 0 {
					im.Watermarks = []ec2emu.SeedWatermark{{Key: "golden", WatermarkCreationTime: ts0(now.Add(-time.Hour))}}
				}
				imgs = append(imgs, im)
			}
		}
		if _, err := srv.SeedImages(imgs); err != nil {
			b.Fatal(err)
		}
	}
	dir := b.TempDir()
	crit := filepath.Join(dir, "policy.json")
	if err := os.WriteFile(crit, []byte(`[{"ImageWatermarks":[{"WatermarkKey":"2000*:golden"}]}]`), 0o600); err != nil {
		b.Fatal(err)
	}
	empty := filepath.Join(dir, "empty")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		b.Fatal(err)
	}
	// Credentials shaped like AWS's (a 20-character key id, a 40-character
	// secret key): the CLI redacts them, and the assumed roles' ones, from
	// everything it writes.
	env := append(os.Environ(), "AWS_ACCESS_KEY_ID=AKIDTEST"+accounts[0], "AWS_SECRET_ACCESS_KEY=bench/Secret+Access+Key0123456789abcdefg",
		"AWS_CONFIG_FILE="+empty, "AWS_SHARED_CREDENTIALS_FILE="+empty, "AWS_EC2_METADATA_DISABLED=true",
		"AWS_ENDPOINT_URL_STS="+ts.URL, "AWS_ENDPOINT_URL_ORGANIZATIONS="+ts.URL, "AWS_REGION=us-east-1")

	// run runs the CLI; the criteria are evaluated for an outside account
	// (--account), so no image is exempt as the scope's own: 90 % are
	// blocked and stream through the output.
	run := func(concurrency int) (time.Duration, int64, map[string]int, cpuTimes) {
		cmd := exec.Command(bin, "simulate", "--endpoint", ts.URL, "--criteria", crit, "--account", "999999999999", "--json",
			"--accounts", "org", "--role-name", "AMIWatermarkAudit", "--regions", strings.Join(regions, ","),
			"--concurrency", fmt.Sprint(concurrency))
		cmd.Env = env
		// The output goes to a file, as a run's report usually does: read
		// through a pipe, its 60 MB would cost this process (the
		// emulator, on the same CPUs) as much as the CLI writing it.
		outFile, err := os.Create(filepath.Join(dir, "out.json"))
		if err != nil {
			b.Fatal(err)
		}
		defer outFile.Close()
		var errb strings.Builder
		cmd.Stdout, cmd.Stderr = outFile, &errb
		// The emulator's collector walks every seeded image (hundreds of
		// MB): collect before each run, so that a collection lands in
		// neither run rather than by chance in one of them.
		runtime.GC()
		start, emuStart := time.Now(), selfCPU()
		if err := cmd.Start(); err != nil {
			b.Fatal(err)
		}
		// The CLI's peak resident memory: VmHWM of its own address space
		// (getrusage's maxrss would include this test process's, inherited
		// across the fork), read until it exits. VmHWM only grows, so a read
		// every 25 ms misses at most the last 25 ms; each read costs this
		// process (which shares the CPUs with the CLI) about 0.1 ms.
		var rss int64
		stop := make(chan struct{})
		polled := make(chan struct{})
		go func() {
			defer close(polled)
			for {
				if v := vmHWM(cmd.Process.Pid); v > rss {
					rss = v
				}
				select {
				case <-stop:
					return
				case <-time.After(25 * time.Millisecond):
				}
			}
		}()
		err = cmd.Wait()
		wall := time.Since(start)
		cpu := cpuTimes{emu: selfCPU() - emuStart}
		if st := cmd.ProcessState; st != nil {
			cpu.cli = st.UserTime() + st.SystemTime()
		}
		close(stop)
		<-polled
		if err != nil {
			b.Fatalf("%v: %v\n%s", cmd.Args, err, errb.String())
		}
		return wall, rss, fileTotals(b, outFile), cpu
	}

	// The emulator orders the seeded images at the first DescribeImages
	// after seeding (a one-time build, under its lock), and keeps each
	// image's written item until something changes. Both are done here, by
	// one run without latency, so that neither measured run pays them:
	// otherwise only the first run, the concurrent one, would.
	run(defaultConcurrency)
	if err := srv.SetFaults(ec2emu.Faults{Latency: latency}); err != nil {
		b.Fatal(err)
	}
	for i := 0; i < b.N; i++ {
		respBytes.Store(0)
		wall, rss, tot, cpu := run(defaultConcurrency)
		data := respBytes.Load()
		seq, seqRSS, seqTot, _ := run(1)
		scopes := nAccounts * len(regions)
		chain := seq / time.Duration(scopes)
		rounds := (scopes + defaultConcurrency - 1) / defaultConcurrency
		floor := chain * time.Duration(rounds)
		b.ReportMetric(wall.Seconds(), "wall_s")
		b.ReportMetric(seq.Seconds(), "seq_s")
		b.ReportMetric(float64(chain.Milliseconds()), "chain_ms")
		b.ReportMetric(floor.Seconds(), "floor_s")
		b.ReportMetric(wall.Seconds()/floor.Seconds(), "wall/floor")
		b.ReportMetric(seq.Seconds()/wall.Seconds(), "speedup")
		b.ReportMetric(seq.Seconds()/wall.Seconds()/defaultConcurrency, "speedup/conc")
		images := float64(scopes * perScope)
		b.ReportMetric(float64(cpu.cli.Microseconds())/images, "cli_cpu_us/image")
		b.ReportMetric(float64(cpu.emu.Microseconds())/images, "emu_cpu_us/image")
		b.ReportMetric((cpu.cli+cpu.emu).Seconds()/wall.Seconds()/float64(runtime.NumCPU()), "cpu_busy")
		b.ReportMetric(float64(rss)/(1<<20), "peak_rss_MB")
		b.ReportMetric(float64(seqRSS)/(1<<20), "seq_peak_rss_MB")
		b.ReportMetric(float64(rss)/float64(data), "rss/data")
		b.ReportMetric(float64(data)/(1<<20), "data_MB")
		if tot["images"] != scopes*perScope || seqTot["images"] != tot["images"] || tot["blocked"] != scopes*perScope*9/10 {
			b.Fatalf("totals: concurrent %v, sequential %v", tot, seqTot)
		}
	}
}

// cpuTimes is the CPU a run cost the CLI and the emulator (this process).
type cpuTimes struct{ cli, emu time.Duration }

// selfCPU is the CPU time this process (the emulator) has used.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func ts0(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

// fileTotals reads the totals at the end of the JSON document in f.
func fileTotals(b *testing.B, f *os.File) map[string]int {
	st, err := f.Stat()
	if err != nil {
		b.Fatal(err)
	}
	tail := make([]byte, min(st.Size(), 1<<16))
	if _, err := f.ReadAt(tail, st.Size()-int64(len(tail))); err != nil {
		b.Fatal(err)
	}
	return parseTotalsTail(string(tail))
}

// parseTotalsTail decodes the last "totals" object of a JSON document's
// tail (the org totals follow every scope's).
func parseTotalsTail(s string) map[string]int {
	i := strings.LastIndex(s, `"totals": `)
	if i < 0 {
		return nil
	}
	var m map[string]int
	if err := json.NewDecoder(strings.NewReader(s[i+len(`"totals": `):])).Decode(&m); err != nil {
		return nil
	}
	return m
}

// vmHWM is the peak resident set of process pid in bytes (Linux
// /proc/PID/status), 0 when unknown.
func vmHWM(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(l, "VmHWM:"); ok {
			var kb int64
			fmt.Sscan(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), &kb)
			return kb * 1024
		}
	}
	return 0
}
