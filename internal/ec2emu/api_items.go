package ec2emu

import "sync"

// imageItems keeps the <item> each image of a DescribeImages answer was
// written as, for as long as nothing changes: an organization-wide scan
// describes hundreds of thousands of images that do not change, and writing
// each anew was most of the emulator's work. Every change to the images
// grows the images generation (countChanges, and every control endpoint
// that changes the State), and a new generation drops every kept item, so
// an answer is always the one writeImage would write now. imageAllowed,
// which depends on the caller's settings, is not kept: it is written
// between the two kept parts at every answer. At most maxItemBytes are
// kept; past that, items are written at every answer.
type imageItems struct {
	mu    sync.Mutex
	gen   uint64
	m     map[*Image]imageItem
	bytes int
}

// imageItem is an image's <item> without imageAllowed, which goes at split.
type imageItem struct {
	b     []byte
	split int
}

const maxItemBytes = 256 << 20

// get returns the kept items of page, in order (b nil where none is kept),
// for images generation gen. Callers hold s.mu, shared or exclusive.
func (c *imageItems) get(gen uint64, page []*Image) []imageItem {
	out := make([]imageItem, len(page))
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen != gen {
		c.gen, c.m, c.bytes = gen, nil, 0
		return out
	}
	for i, img := range page {
		out[i] = c.m[img]
	}
	return out
}

// put keeps the items of page written for generation gen.
func (c *imageItems) put(gen uint64, page []*Image, items []imageItem) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen != gen {
		return
	}
	if c.m == nil {
		c.m = map[*Image]imageItem{}
	}
	for i, img := range page {
		if _, ok := c.m[img]; ok || c.bytes+len(items[i].b) > maxItemBytes {
			continue
		}
		c.m[img] = items[i]
		c.bytes += len(items[i].b)
	}
}
