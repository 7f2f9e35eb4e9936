package amiwatermark

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"runtime/metrics"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/amiwatermark/packer-plugin-amiwatermark/internal/ec2emu"
	"github.com/amiwatermark/packer-plugin-amiwatermark/internal/ec2emu/emutest"
)

const (
	benchImages  = 100_000
	benchMatches = 5_000
)

// seedBench seeds benchImages images in us-east-1 for acctGolden; every
// (benchImages/benchMatches)th carries the golden watermark, the others
// another one or none.
func seedBench(b *testing.B, e *emu) {
	b.Helper()
	start := time.Now().UTC().Add(-200 * 24 * time.Hour)
	step := benchImages / benchMatches
	imgs := make([]ec2emu.SeedImage, 0, benchImages)
	for i := 0; i < benchImages; i++ {
		si := ec2emu.SeedImage{Region: "us-east-1", Account: acctGolden, Name: fmt.Sprintf("img-%06d", i),
			CreationDate: start.Add(time.Duration(i) * time.Minute).Format(time.RFC3339)}
		switch {
		case i%step == 0:
			si.Watermarks = wms("golden", "team-x")
		case i%2 == 0:
			si.Watermarks = wms("silver")
		}
		imgs = append(imgs, si)
	}
	e.SeedImages(b, imgs...)
}

// bareQuery is the baseline: a plain aws-sdk-go-v2 paginator over the same
// query, keeping nothing.
func bareQuery(ctx context.Context, c *ec2.Client) (int, error) {
	return bareQueryHook(ctx, c, nil)
}

func bareQueryHook(ctx context.Context, c *ec2.Client, afterPage func(any)) (int, error) {
	p := ec2.NewDescribeImagesPaginator(c, &ec2.DescribeImagesInput{
		Owners:     []string{"self"},
		Filters:    []ec2types.Filter{{Name: aws.String("image-watermark.watermark-key"), Values: []string{golden}}},
		MaxResults: aws.Int32(pageSize),
	})
	n := 0
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			return n, err
		}
		n += len(out.Images)
		if afterPage != nil {
			afterPage(out)
		}
	}
	return n, nil
}

// heapPeak samples the live heap every 500µs until stopped and returns the
// highest value seen above the value at start.
type heapPeak struct {
	stop chan struct{}
	done chan struct{}
	base uint64
	peak atomic.Uint64
}

func startHeapPeak() *heapPeak {
	runtime.GC()
	h := &heapPeak{stop: make(chan struct{}), done: make(chan struct{})}
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(s)
	h.base = s[0].Value.Uint64()
	go func() {
		defer close(h.done)
		t := time.NewTicker(500 * time.Microsecond)
		defer t.Stop()
		for {
			metrics.Read(s)
			if v := s[0].Value.Uint64(); v > h.peak.Load() {
				h.peak.Store(v)
			}
			select {
			case <-h.stop:
				return
			case <-t.C:
			}
		}
	}()
	return h
}

// Stop returns the peak growth of the heap in bytes.
func (h *heapPeak) Stop() uint64 {
	close(h.stop)
	<-h.done
	if p := h.peak.Load(); p > h.base {
		return p - h.base
	}
	return 0
}

// liveHeap records the highest live heap (after a GC) seen at sample
// points, above the live heap at start.
type liveHeap struct {
	base, max uint64
}

func (l *liveHeap) start() {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	l.base, l.max = m.HeapAlloc, 0
}

func (l *liveHeap) sample(page any) {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	if m.HeapAlloc > l.base && m.HeapAlloc-l.base > l.max {
		l.max = m.HeapAlloc - l.base
	}
	runtime.KeepAlive(page)
}

type measure struct {
	dur    time.Duration
	allocs uint64
	bytes  uint64
	peak   uint64
}

func measureOnce(f func()) measure {
	var m0, m1 runtime.MemStats
	hp := startHeapPeak()
	runtime.ReadMemStats(&m0)
	t0 := time.Now()
	f()
	d := time.Since(t0)
	runtime.ReadMemStats(&m1)
	return measure{dur: d, allocs: m1.Mallocs - m0.Mallocs, bytes: m1.TotalAlloc - m0.TotalAlloc, peak: hp.Stop()}
}

// replayServer answers DescribeImages from recorded emulator responses,
// keyed by NextToken, so that a run measures the client and not the
// emulator's filtering of 100 000 images.
type replayServer struct {
	mu    sync.Mutex
	pages map[string][]byte
	live  http.Handler // records when non-nil
}

func (r *replayServer) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	req.Body = io.NopCloser(bytes.NewReader(body))
	_ = req.ParseForm()
	key := req.PostForm.Get("NextToken")
	r.mu.Lock()
	page, ok := r.pages[key]
	r.mu.Unlock()
	if ok {
		w.Header().Set("Content-Type", "text/xml;charset=UTF-8")
		w.Header().Set("X-Amzn-Requestid", "replay")
		_, _ = w.Write(page)
		return
	}
	req.Body = io.NopCloser(bytes.NewReader(body))
	rec := httptest.NewRecorder()
	r.live.ServeHTTP(rec, req)
	if rec.Code == 200 {
		r.mu.Lock()
		r.pages[key] = rec.Body.Bytes()
		r.mu.Unlock()
	}
	for k, v := range rec.Header() {
		w.Header()[k] = v
	}
	w.WriteHeader(rec.Code)
	_, _ = w.Write(rec.Body.Bytes())
}

// BenchmarkDatasource100k compares, in one run, the data source against a
// bare SDK paginator over the same query: 100 000 images, 5 000 carrying
// the key. "emulator" serves every request from the emulator (server work
// included in both); "replay" serves recorded pages, so the figures are the
// client's own cost. Reported: ms per query of both, the time ratio (of the
// sums, and the median of the per-iteration ratios, which resists load
// spikes on a shared machine) and allocation ratios (goal <= 1.2); the heap
// growth during one query: "peak" is the high-water mark of the heap sampled
// every 500µs (garbage not yet collected included, so an upper bound that
// follows GC pacing), "live" the heap after a full GC at each page boundary
// with the current page still held (goal well under 100 MB).
func BenchmarkDatasource100k(b *testing.B) {
	e := newEmu(b)
	seedBench(b, e)
	for _, mode := range []string{"emulator", "replay"} {
		b.Run(mode, func(b *testing.B) {
			url := e.URL
			if mode == "replay" {
				rs := &replayServer{pages: map[string][]byte{}, live: e.Emulator}
				ts := httptest.NewServer(rs)
				defer ts.Close()
				url = ts.URL
			}
			// The baseline gets the same request-body guard as the data
			// source (see httpGuard), so that neither side loses attempts
			// to the smithy-go body race on this busy machine.
			bare := emutest.EC2Client(url, "us-east-1", emutest.Credentials(acctGolden))
			d := &Datasource{}
			raw := e.config(acctGolden, "us-east-1", map[string]interface{}{"watermark_keys": []string{golden}, "owners": []string{"self"}})
			raw["custom_endpoint_ec2"] = url
			if err := d.Configure(raw); err != nil {
				b.Fatal(err)
			}
			ctx := context.Background()
			awsCfg, err := d.config.AccessConfig.Config(ctx)
			if err != nil {
				b.Fatal(err)
			}
			dsClient, err := d.config.NewEC2Client(awsCfg, "")
			if err != nil {
				b.Fatal(err)
			}
			runBare := func() {
				n, err := bareQuery(ctx, bare)
				if err != nil || n != benchMatches {
					b.Fatalf("bare: %d images, %v", n, err)
				}
			}
			runDS := func() {
				out, err := d.search(ctx, dsClient, "us-east-1")
				if err != nil || out.ID == "" {
					b.Fatalf("data source: %v", err)
				}
			}
			runBare() // warm up (and record the replay pages)
			runDS()

			var bm, dm measure
			var bpeak, dpeak uint64
			ratios := make([]float64, 0, b.N)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				// Alternate the order so that neither always runs on a
				// freshly collected heap.
				var x, y measure
				if i%2 == 0 {
					x, y = measureOnce(runBare), measureOnce(runDS)
				} else {
					y, x = measureOnce(runDS), measureOnce(runBare)
				}
				bm.dur += x.dur
				bm.allocs += x.allocs
				bm.bytes += x.bytes
				dm.dur += y.dur
				dm.allocs += y.allocs
				dm.bytes += y.bytes
				bpeak = max(bpeak, x.peak)
				dpeak = max(dpeak, y.peak)
				ratios = append(ratios, float64(y.dur)/float64(x.dur))
			}
			b.StopTimer()

			// Live heap at page boundaries (after a full GC, the page
			// still referenced), above the heap before the query.
			var live liveHeap
			live.start()
			if _, err := bareQueryHook(ctx, bare, live.sample); err != nil {
				b.Fatal(err)
			}
			bareLive := live.max
			live.start()
			d.afterPage = live.sample
			runDS()
			d.afterPage = nil
			dsLive := live.max

			sort.Float64s(ratios)
			n := float64(b.N)
			b.ReportMetric(float64(bm.dur.Milliseconds())/n, "bare-ms/query")
			b.ReportMetric(float64(dm.dur.Milliseconds())/n, "ds-ms/query")
			b.ReportMetric(float64(dm.dur)/float64(bm.dur), "time-ratio")
			b.ReportMetric(ratios[len(ratios)/2], "median-time-ratio")
			b.ReportMetric(float64(dm.allocs)/float64(bm.allocs), "allocs-ratio")
			b.ReportMetric(float64(dm.bytes)/float64(bm.bytes), "bytes-ratio")
			b.ReportMetric(float64(dm.allocs)/n, "ds-allocs/query")
			b.ReportMetric(float64(bpeak)/(1<<20), "bare-peak-heap-MB")
			b.ReportMetric(float64(dpeak)/(1<<20), "ds-peak-heap-MB")
			b.ReportMetric(float64(bareLive)/(1<<20), "bare-live-heap-MB")
			b.ReportMetric(float64(dsLive)/(1<<20), "ds-live-heap-MB")
		})
	}
}
