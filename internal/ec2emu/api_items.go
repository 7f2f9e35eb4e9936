package ec2emu

import (
	"sync"
	"unsafe"
)

// imageItems keeps the <item> each image of a DescribeImages answer was
// written as, for as long as nothing changes: an organization-wide scan
// describes hundreds of thousands of images that do not change, and writing
// each anew was most of the emulator's work. Every change to the images
// grows the images generation (countChanges, and every control endpoint
// that changes the State), and a new generation drops every kept item, so
// an answer is always the one writeImage would write now. imageAllowed,
// which depends on the caller's settings, is not kept: it is written
// between the two kept parts at every answer.
//
// Items are kept for region scans of an index list (an account's images in
// a region, see visibleCandidates), in a slice aligned with the list: a
// page finds its items by position, without a lookup per image. At most
// maxItemBytes are kept; past that, items are written at every answer.
type imageItems struct {
	mu    sync.Mutex
	gen   uint64
	lists map[itemList][]imageItem
	bytes int
}

// itemList identifies an index list: its array and length.
type itemList struct {
	first **Image
	n     int
}

// imageItem is an image's <item> without imageAllowed, which goes at split.
type imageItem struct {
	b     []byte
	split int
}

const maxItemBytes = 256 << 20

func listOf(list []*Image) itemList { return itemList{unsafe.SliceData(list), len(list)} }

// get returns the kept items of list at positions at, in order (b nil
// where none is kept), for images generation gen. Callers hold s.mu,
// shared or exclusive.
func (c *imageItems) get(gen uint64, list []*Image, at []int) []imageItem {
	out := make([]imageItem, len(at))
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen != gen {
		c.gen, c.lists, c.bytes = gen, nil, 0
		return out
	}
	if kept := c.lists[listOf(list)]; kept != nil {
		for i, p := range at {
			out[i] = kept[p]
		}
	}
	return out
}

// put keeps items, written for generation gen, of list at positions at.
func (c *imageItems) put(gen uint64, list []*Image, at []int, items []imageItem) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen != gen {
		return
	}
	key := listOf(list)
	kept := c.lists[key]
	if kept == nil {
		if c.lists == nil {
			c.lists = map[itemList][]imageItem{}
		}
		kept = make([]imageItem, len(list))
		c.lists[key] = kept
	}
	for i, p := range at {
		if kept[p].b != nil || items[i].b == nil || c.bytes+len(items[i].b) > maxItemBytes {
			continue
		}
		kept[p] = items[i]
		c.bytes += len(items[i].b)
	}
}
