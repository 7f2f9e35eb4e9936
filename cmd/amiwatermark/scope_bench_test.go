package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/amiwatermark/packer-plugin-amiwatermark/internal/awsconfig"
	"github.com/amiwatermark/packer-plugin-amiwatermark/internal/ec2emu"
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

// BenchmarkOrgSimulate: simulate across 40 accounts × 4 regions × 2 000
// images each (320 000 images), every call delayed 50 ms by the emulator,
// at the default concurrency. In the same run it walks the same scopes one
// after the other (the baseline) and reports:
//
//	wall_s            the concurrent run
//	seq_s             the sequential walk
//	chain_ms          one scope's chain of dependent calls = seq_s / scopes
//	floor_s           chain × ceil(scopes / concurrency)
//	wall/floor        must be <= 1.3
//	speedup           seq_s / wall_s; speedup/conc must be >= 0.8
//	peak_heap_MB      peak heap in use above the baseline (emulator's state
//	                  seeded), sampled every 5 ms during the concurrent run
//	heap/data         peak_heap / bytes of all DescribeImages answers: far
//	                  below 1 when images are not held
//
// Run it with: go test -run '^$' -bench OrgSimulate -benchtime 1x ./cmd/amiwatermark/
func BenchmarkOrgSimulate(b *testing.B) {
	const (
		perScope = 2000
		latency  = 50 * time.Millisecond
	)
	nAccounts := 40
	if v := os.Getenv("ORG_BENCH_ACCOUNTS"); v != "" { // smaller runs for profiling
		fmt.Sscan(v, &nAccounts)
	}
	regions := []string{"us-east-1", "eu-west-1", "ap-southeast-2", "sa-east-1"}
	srv := ec2emu.New(ec2emu.Options{})
	var respBytes atomic.Int64
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		srv.ServeHTTP(countingWriter{w, &respBytes}, r)
	}))
	defer ts.Close()
	b.Setenv("AWS_SECRET_ACCESS_KEY", "secret")
	empty := filepath.Join(b.TempDir(), "empty")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		b.Fatal(err)
	}
	b.Setenv("AWS_CONFIG_FILE", empty)
	b.Setenv("AWS_SHARED_CREDENTIALS_FILE", empty)
	b.Setenv("AWS_EC2_METADATA_DISABLED", "true")

	// Seed: each account owns 2 000 images per region; one in ten carries
	// the golden watermark (allowed), the others are blocked.
	now := srv.Now()
	accounts := make([]string, nAccounts)
	for a := range accounts {
		accounts[a] = fmt.Sprintf("2000%08d", a)
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
	// The caller is the first account; the others are reached with their
	// own credentials (the emulator's account is the access key's digits).
	b.Setenv("AWS_ACCESS_KEY_ID", "AKIDTEST"+accounts[0])
	if err := srv.SetFaults(ec2emu.Faults{Latency: latency}); err != nil {
		b.Fatal(err)
	}
	crit := filepath.Join(b.TempDir(), "policy.json")
	if err := os.WriteFile(crit, []byte(`[{"ImageWatermarks":[{"WatermarkKey":"2000*:golden"}]}]`), 0o600); err != nil {
		b.Fatal(err)
	}
	// The criteria are evaluated for an outside account, so no image is
	// exempt as the scope's own: 90 % are blocked and stream through.
	o := &simulateOptions{criteriaFile: crit, account: "999999999999"}
	if err := o.validate(ts0(now)); err != nil {
		b.Fatal(err)
	}

	run := func(concurrency int, sample bool) (time.Duration, uint64, map[string]int) {
		maxRetries := 2
		ac := &awsconfig.AccessConfig{CustomEndpointEc2: ts.URL, MaxRetries: &maxRetries}
		cfg, err := ac.Config(context.Background())
		if err != nil {
			b.Fatal(err)
		}
		env := &scopeEnv{ac: ac, base: cfg, home: "us-east-1", limiters: newLimiters(), creds: map[string]*acctCreds{},
			plan:   &scopePlan{regions: regions, accounts: accounts, concurrency: concurrency, json: true},
			caller: identity{Account: accounts[0], ARN: "arn:aws:iam::" + accounts[0] + ":user/bench", Partition: "aws"}}
		for _, a := range accounts[1:] {
			c := &acctCreds{ready: make(chan struct{})}
			c.cfg = cfg.Copy()
			c.cfg.Credentials = aws.NewCredentialsCache(credentials.NewStaticCredentialsProvider("AKIDTEST"+a, "secret", ""))
			close(c.ready)
			env.creds[a] = c
		}
		runtime.GC()
		var base runtime.MemStats
		runtime.ReadMemStats(&base)
		var peak atomic.Uint64
		stop := make(chan struct{})
		done := make(chan struct{})
		go func() {
			defer close(done)
			t := time.NewTicker(5 * time.Millisecond)
			defer t.Stop()
			var ms runtime.MemStats
			for {
				select {
				case <-stop:
					return
				case <-t.C:
					if !sample {
						continue
					}
					runtime.ReadMemStats(&ms)
					if ms.HeapInuse > base.HeapInuse && ms.HeapInuse-base.HeapInuse > peak.Load() {
						peak.Store(ms.HeapInuse - base.HeapInuse)
					}
				}
			}
		}()
		sum := &totalsSink{}
		start := time.Now()
		code := runScopes(context.Background(), env, simulateScopeCommand(o), sum, io.Discard)
		wall := time.Since(start)
		close(stop)
		<-done
		if code != 0 {
			b.Fatalf("run exit %d", code)
		}
		return wall, peak.Load(), sum.totals()
	}

	for i := 0; i < b.N; i++ {
		respBytes.Store(0)
		wall, peak, tot := run(defaultConcurrency, true)
		data := respBytes.Load()
		seq, _, seqTot := run(1, false)
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
		b.ReportMetric(float64(peak)/(1<<20), "peak_heap_MB")
		b.ReportMetric(float64(peak)/float64(data), "heap/data")
		b.ReportMetric(float64(data)/(1<<20), "data_MB")
		if tot["images"] != scopes*perScope || seqTot["images"] != tot["images"] || tot["blocked"] != scopes*perScope*9/10 {
			b.Fatalf("totals: concurrent %v, sequential %v", tot, seqTot)
		}
	}
}

func ts0(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

// totalsSink reads the totals of the JSON document as it is written,
// keeping only the last part of the stream.
type totalsSink struct {
	tail []byte
}

func (s *totalsSink) Write(p []byte) (int, error) {
	s.tail = append(s.tail, p...)
	if len(s.tail) > 1<<16 {
		s.tail = append(s.tail[:0:0], s.tail[len(s.tail)-1<<15:]...)
	}
	return len(p), nil
}

func (s *totalsSink) totals() map[string]int {
	return parseTotalsTail(string(s.tail))
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
