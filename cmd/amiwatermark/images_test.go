package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"
	"unsafe"

	"github.com/amiwatermark/packer-plugin-amiwatermark/internal/watermark"
)

// pages is a fake paginator over n pages (plain values: eachPageAhead is
// generic and knows nothing of EC2). It records how many fetches ran at
// once and fails the fetch of page failAt, if set.
type pages struct {
	n, next  int
	failAt   int
	inFlight atomic.Int32
	maxIn    atomic.Int32
	fetched  atomic.Int32
	delay    time.Duration
}

func (p *pages) more() bool { return p.next < p.n }

func (p *pages) fetch(ctx context.Context) (int, error) {
	if in := p.inFlight.Add(1); in > p.maxIn.Load() {
		p.maxIn.Store(in)
	}
	defer p.inFlight.Add(-1)
	p.fetched.Add(1)
	select {
	case <-time.After(p.delay):
	case <-ctx.Done():
		return 0, ctx.Err()
	}
	i := p.next
	p.next++
	if p.failAt > 0 && i == p.failAt {
		return 0, fmt.Errorf("page %d: boom", i)
	}
	return i, nil
}

func TestEachPageAheadKeepsOrderAndOverlaps(t *testing.T) {
	p := &pages{n: 5, delay: 5 * time.Millisecond}
	var got []int
	var fetchedWhileHandling []int32
	err := eachPageAhead(context.Background(), p.more, p.fetch, func(page int) error {
		got = append(got, page)
		time.Sleep(15 * time.Millisecond) // the next fetch runs meanwhile
		fetchedWhileHandling = append(fetchedWhileHandling, p.fetched.Load())
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(got) != "[0 1 2 3 4]" {
		t.Errorf("pages %v, want 0..4 in order", got)
	}
	if p.maxIn.Load() != 1 {
		t.Errorf("%d fetches at once, want 1", p.maxIn.Load())
	}
	// While page 0 is handled, page 1 is fetched, and never more than one
	// page ahead: after handling page i, i+2 pages were fetched at most.
	if fetchedWhileHandling[0] != 2 {
		t.Errorf("while page 0 was handled %d pages were fetched, want 2 (one ahead)", fetchedWhileHandling[0])
	}
	for i, n := range fetchedWhileHandling {
		if int(n) > i+2 {
			t.Errorf("after page %d, %d pages fetched: more than one ahead", i, n)
		}
	}
}

func TestEachPageAheadStopsAtTheFirstError(t *testing.T) {
	t.Run("fetch", func(t *testing.T) {
		p := &pages{n: 5, failAt: 2}
		var got []int
		err := eachPageAhead(context.Background(), p.more, p.fetch, func(page int) error {
			got = append(got, page)
			return nil
		})
		if err == nil || !strings.Contains(err.Error(), "page 2: boom") {
			t.Fatalf("err = %v, want the fetch error of page 2", err)
		}
		if fmt.Sprint(got) != "[0 1]" {
			t.Errorf("handled %v before the error, want [0 1]", got)
		}
	})
	t.Run("handler", func(t *testing.T) {
		p := &pages{n: 100, delay: 20 * time.Millisecond}
		stop := errors.New("stop")
		err := eachPageAhead(context.Background(), p.more, p.fetch, func(page int) error { return stop })
		if !errors.Is(err, stop) {
			t.Fatalf("err = %v, want the handler's", err)
		}
		// The fetch in flight is cancelled: no page after it is fetched.
		time.Sleep(60 * time.Millisecond)
		if n := p.fetched.Load(); n > 2 {
			t.Errorf("%d pages fetched after the handler stopped at page 0", n)
		}
	})
	t.Run("cancelled", func(t *testing.T) {
		p := &pages{n: 100, delay: 10 * time.Millisecond}
		ctx, cancel := context.WithCancel(context.Background())
		n := 0
		err := eachPageAhead(ctx, p.more, p.fetch, func(page int) error {
			if n++; n == 2 {
				cancel()
			}
			return nil
		})
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v after Ctrl-C, want context.Canceled (not a complete walk)", err)
		}
	})
}

func TestIDSet(t *testing.T) {
	var s idSet
	s.grow(4)
	long := "ami-" + strings.Repeat("0", 30) // past the fixed-size keys
	for _, c := range []struct {
		id  string
		new bool
	}{
		{"ami-0123456789abcdef0", true}, {"ami-0123456789abcdef1", true}, {"ami-0123456789abcdef0", false},
		{"ami-1", true}, {"ami-1\x00", true}, {"ami-1", false}, // the length is part of the key
		{"", true}, {"", false}, {long, true}, {long, false}, {long + "1", true},
		{strings.Repeat("x", idKeySize-1), true}, {strings.Repeat("x", idKeySize), true}, {strings.Repeat("x", idKeySize), false},
	} {
		if got := s.add(c.id); got != c.new {
			t.Errorf("add(%q) = %v, want %v", c.id, got, c.new)
		}
	}
}

func TestKeptAndInternedCopyOutOfThePage(t *testing.T) {
	// Strings of a page, as the decoder gives them: slices of its body.
	page := []byte("ami-0123456789abcdef0111122223333amazonmy image")
	sub := func(i, j int) string { return unsafe.String(&page[i], j-i) }
	img := watermark.Image{ID: sub(0, 21), OwnerID: sub(21, 33), OwnerAlias: sub(33, 39), Name: sub(39, len(page))}
	id, owner, alias, name := kept(img)
	if id != img.ID || owner != img.OwnerID || alias != img.OwnerAlias || name != img.Name {
		t.Fatalf("kept = %q %q %q %q, want %q %q %q %q", id, owner, alias, name, img.ID, img.OwnerID, img.OwnerAlias, img.Name)
	}
	if i, o, a, n := kept(watermark.Image{ID: "ami-1", Name: "n"}); i != "ami-1" || o != "" || a != "" || n != "n" {
		t.Errorf("kept with empty fields = %q %q %q %q", i, o, a, n)
	}
	// A map assignment stores the key it is given: counting with the
	// interned copy leaves no key in the page's memory.
	keys, counts := map[string]string{}, map[string]int{}
	for _, owner := range []string{sub(21, 33), sub(21, 33), sub(33, 39)} {
		counts[interned(keys, owner)]++
	}
	for i := range page {
		page[i] = 0xff // the page is reused
	}
	if counts["111122223333"] != 2 || counts["amazon"] != 1 || len(counts) != 2 {
		t.Errorf("counts after the page was overwritten: %v", counts)
	}
	if id != "ami-0123456789abcdef0" || owner != "111122223333" || alias != "amazon" || name != "my image" {
		t.Errorf("kept strings changed with the page: %q %q %q %q", id, owner, alias, name)
	}
}
