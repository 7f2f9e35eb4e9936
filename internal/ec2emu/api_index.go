package ec2emu

import (
	"reflect"
	"sort"
	"sync"
)

// imageIndex lists the images of each region in DescribeImages order
// (creationDate, then id), so a DescribeImages call scans one region's
// slice from its page position and stops once the page is full, without
// sorting.
//
// The index lives in State (unexported, so never persisted) and is rebuilt
// whenever State.Images is not the map it was built from or has another
// size. That is exact because images are never removed from the map
// (deregistered images keep their record) and an image's region, creation
// date and id never change. Code that adds images through the API calls
// putImage, which keeps the index up to date without a rebuild; code that
// adds images directly (seeding, loading) just makes the next DescribeImages
// rebuild it. Code that ever deletes an image must call
// invalidateImageIndex.
type imageIndex struct {
	images   uintptr // identity of the State.Images map it was built from
	n        int     // len(State.Images) when last in sync
	byRegion map[string][]*Image
	// byOwner[region][owner] is byRegion[region] narrowed to one owner (an
	// image's owner never changes either).
	byOwner map[string]map[string][]*Image
}

func mapIdentity(m map[string]*Image) uintptr { return uintptr(reflect.ValueOf(m).UnsafePointer()) }

func (ix *imageIndex) inSync(st *State) bool {
	return ix != nil && ix.n == len(st.Images) && ix.images == mapIdentity(st.Images)
}

func buildImageIndex(st *State) *imageIndex {
	ix := &imageIndex{images: mapIdentity(st.Images), n: len(st.Images), byRegion: map[string][]*Image{},
		byOwner: map[string]map[string][]*Image{}}
	for _, img := range st.Images {
		ix.byRegion[img.Region] = append(ix.byRegion[img.Region], img)
	}
	for region, list := range ix.byRegion {
		sort.Slice(list, func(i, j int) bool { return imageLess(list[i], list[j]) })
		owners := map[string][]*Image{}
		for _, img := range list {
			owners[img.Owner] = append(owners[img.Owner], img)
		}
		ix.byOwner[region] = owners
	}
	return ix
}

// insertOrdered inserts img into list (in DescribeImages order).
func insertOrdered(list []*Image, img *Image) []*Image {
	i := sort.Search(len(list), func(i int) bool { return imageLess(img, list[i]) })
	list = append(list, nil)
	copy(list[i+1:], list[i:])
	list[i] = img
	return list
}

// regionImages returns the images of region in DescribeImages order. The
// slice must not be modified. Callers hold s.mu.
func (s *Server) regionImages(region string) []*Image {
	if !s.st.index.inSync(s.st) {
		s.st.index = buildImageIndex(s.st)
	}
	return s.st.index.byRegion[region]
}

// putImage stores a new image and keeps the index in sync. Callers hold
// s.mu.
func (s *Server) putImage(img *Image) {
	if s.st.Images == nil {
		s.st.Images = map[string]*Image{}
	}
	ix := s.st.index
	wasInSync := ix.inSync(s.st)
	_, replaced := s.st.Images[img.ID]
	s.st.Images[img.ID] = img
	if !wasInSync || replaced {
		s.st.index = nil
		return
	}
	ix.byRegion[img.Region] = insertOrdered(ix.byRegion[img.Region], img)
	owners := ix.byOwner[img.Region]
	if owners == nil {
		owners = map[string][]*Image{}
		ix.byOwner[img.Region] = owners
	}
	owners[img.Owner] = insertOrdered(owners[img.Owner], img)
	ix.n = len(s.st.Images)
	ix.images = mapIdentity(s.st.Images)
}

// invalidateImageIndex forces a rebuild at the next DescribeImages. Callers
// hold s.mu.
func (s *Server) invalidateImageIndex() { s.st.index = nil }

// regionView is what region-wide DescribeImages calls need beyond the
// index, computed once per images generation (Generation but for the
// changes of STS sessions alone: nothing else can change without it
// growing) instead of at every call:
//   - volatile: an image of the region is pending or still answers
//     NotFound (describing may change the state, see describeMayChange);
//   - shared: the images of the region that are public or shared with some
//     account, in DescribeImages order. An account sees its own images and
//     some of these, nothing else, so a scan for it reads its own images
//     (byOwner) merged with these instead of the whole region.
type regionView struct {
	gen      uint64
	index    *imageIndex
	volatile bool
	shared   []*Image
}

// views caches the regionViews; it has its own lock because concurrent
// describes fill it under the shared s.mu.
type views struct {
	mu sync.Mutex
	m  map[string]*regionView
}

// regionView returns region's view. Callers hold s.mu (shared or
// exclusive) and the index is in sync (regionImages was called, or
// inSync checked).
func (s *Server) regionView(region string) *regionView {
	gen, ix := s.imagesGeneration(), s.st.index
	s.views.mu.Lock()
	defer s.views.mu.Unlock()
	if v := s.views.m[region]; v != nil && v.gen == gen && v.index == ix {
		return v
	}
	v := &regionView{gen: gen, index: ix}
	for _, img := range ix.byRegion[region] {
		v.volatile = v.volatile || volatile(img)
		if img.Public || len(img.SharedWith) > 0 {
			v.shared = append(v.shared, img)
		}
	}
	if s.views.m == nil {
		s.views.m = map[string]*regionView{}
	}
	s.views.m[region] = v
	return v
}

// visibleCandidates returns, in DescribeImages order, the images of region
// that account may see: its own and the public or shared ones (a superset
// of what it sees; discoverableBy decides). The slice must not be
// modified. Callers hold s.mu.
func (s *Server) visibleCandidates(region, account string) []*Image {
	s.regionImages(region) // brings the index in sync
	own := s.st.index.byOwner[region][account]
	shared := s.regionView(region).shared
	if len(shared) == 0 {
		return own
	}
	out := make([]*Image, 0, len(own)+len(shared))
	i, j := 0, 0
	for i < len(own) || j < len(shared) {
		switch {
		case j == len(shared) || i < len(own) && imageLess(own[i], shared[j]):
			out = append(out, own[i])
			i++
		case i == len(own) || imageLess(shared[j], own[i]):
			out = append(out, shared[j])
			j++
		default: // the same image: owned and shared
			out = append(out, own[i])
			i, j = i+1, j+1
		}
	}
	return out
}
