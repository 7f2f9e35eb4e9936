package ec2emu

import (
	"reflect"
	"sort"
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
}

func mapIdentity(m map[string]*Image) uintptr { return uintptr(reflect.ValueOf(m).UnsafePointer()) }

func (ix *imageIndex) inSync(st *State) bool {
	return ix != nil && ix.n == len(st.Images) && ix.images == mapIdentity(st.Images)
}

func buildImageIndex(st *State) *imageIndex {
	ix := &imageIndex{images: mapIdentity(st.Images), n: len(st.Images), byRegion: map[string][]*Image{}}
	for _, img := range st.Images {
		ix.byRegion[img.Region] = append(ix.byRegion[img.Region], img)
	}
	for _, list := range ix.byRegion {
		sort.Slice(list, func(i, j int) bool { return imageLess(list[i], list[j]) })
	}
	return ix
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
	list := ix.byRegion[img.Region]
	i := sort.Search(len(list), func(i int) bool { return imageLess(img, list[i]) })
	list = append(list, nil)
	copy(list[i+1:], list[i:])
	list[i] = img
	ix.byRegion[img.Region] = list
	ix.n = len(s.st.Images)
	ix.images = mapIdentity(s.st.Images)
}

// invalidateImageIndex forces a rebuild at the next DescribeImages. Callers
// hold s.mu.
func (s *Server) invalidateImageIndex() { s.st.index = nil }
