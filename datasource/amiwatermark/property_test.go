package amiwatermark

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/amiwatermark/packer-plugin-amiwatermark/internal/ec2emu"
	"github.com/amiwatermark/packer-plugin-amiwatermark/internal/watermark"
)

// The property of issue 7: for random images, watermark sets and owner
// lists, the data source never returns an image whose matching watermark
// key's account is not the configured literal account, nor an image whose
// owner is not in owners. It is checked twice:
//   - TestPropertyExecute: a few hundred random worlds seeded into an
//     emulator and queried through the real Configure + Execute (for worlds
//     whose owners do not include "self", through a server that drops the
//     Owner and Filter parameters, so the client-side re-check is all that
//     stands between the user and a wrong image);
//   - TestPropertySelector: many thousands of random worlds offered, every
//     image of them, to the pure selector the data source uses.
// Both also check the other direction on an easy case (an image that
// plainly qualifies is found), so a selector that returns nothing fails.

var propAccounts = []string{acctConsumer, acctGolden, acctThird, "222233334444"}

var propNames = []string{"golden", "golden-2", "gold", "base"}

// propPatterns are name parts of watermark_keys: exact names and globs.
var propPatterns = []string{"golden", "golden-*", "gold*", "golden-?", "*", "base", "g?ld"}

// propOwnerEntries are the entries owners is drawn from.
var propOwnerEntries = []string{"self", acctGolden, acctThird, "222233334444"}

// propWorld is one random world: the images (as the selector sees them,
// ids and all), how each is shared, and a configuration.
type propWorld struct {
	images   []watermark.Image
	public   []bool
	shared   []bool // shared with the consumer
	keys     []string
	owners   []string
	lineage  string
	inclDepr bool
}

func randHexID(rng *rand.Rand) string {
	const hex = "0123456789abcdef"
	b := []byte("ami-0")
	for i := 0; i < 16; i++ {
		b = append(b, hex[rng.IntN(16)])
	}
	return string(b)
}

func pick[T any](rng *rand.Rand, list []T) T { return list[rng.IntN(len(list))] }

// genWorld draws a world. Times are whole seconds before now, in the
// formats EC2 uses.
func genWorld(rng *rand.Rand, now time.Time, maxImages int) propWorld {
	var w propWorld
	n := 1 + rng.IntN(maxImages)
	ids := make([]string, n)
	for i := range ids {
		ids[i] = randHexID(rng)
	}
	for i := 0; i < n; i++ {
		img := watermark.Image{
			ID:           ids[i],
			Region:       "us-east-1",
			OwnerID:      pick(rng, propAccounts),
			Name:         fmt.Sprintf("img-%d", i),
			State:        "available",
			CreationDate: now.Add(-time.Duration(1+rng.IntN(100*24*3600)) * time.Second).Truncate(time.Second),
		}
		if rng.IntN(10) == 0 {
			img.State = "pending"
		}
		if rng.IntN(8) == 0 {
			img.DeprecationTime = now.Add(-time.Duration(1+rng.IntN(48)) * time.Hour).Truncate(time.Second)
		}
		public := img.OwnerID != acctConsumer && rng.IntN(6) == 0
		shared := img.OwnerID != acctConsumer && !public && rng.IntN(5) != 0
		// Lineage: a direct copy of another image of the world, an image
		// built from an instance of one, or neither.
		switch rng.IntN(4) {
		case 0:
			img.SourceImageID, img.SourceImageRegion = pick(rng, ids), pick(rng, []string{"us-east-1", "eu-west-1"})
		case 1:
			img.SourceImageID, img.SourceImageRegion = pick(rng, ids), "us-east-1"
			img.SourceInstanceID = fmt.Sprintf("i-0%016x", rng.Uint64()>>4)
		}
		if !public { // EC2 refuses watermarks on public images
			for k := rng.IntN(5); k > 0; k-- {
				wm := watermark.Watermark{
					Key:                     pick(rng, propAccounts) + ":" + pick(rng, propNames),
					SourceImageID:           img.ID,
					SourceImageRegion:       "us-east-1",
					SourceImageCreationTime: img.CreationDate,
					WatermarkCreationTime:   img.CreationDate.Add(time.Duration(rng.IntN(3600)) * time.Second),
				}
				switch rng.IntN(3) {
				case 0: // inherited from another image of the world
					wm.SourceImageID = pick(rng, ids)
				case 1: // attached in another region
					wm.SourceImageRegion = "eu-west-1"
				}
				dup := false
				for _, o := range img.Watermarks {
					dup = dup || o.Key == wm.Key
				}
				if !dup {
					img.Watermarks = append(img.Watermarks, wm)
				}
			}
		}
		w.images = append(w.images, img)
		w.public = append(w.public, public)
		w.shared = append(w.shared, shared)
	}
	for k := 1 + rng.IntN(2); k > 0; k-- {
		w.keys = append(w.keys, pick(rng, propAccounts)+":"+pick(rng, propPatterns))
	}
	seen := map[string]bool{}
	for k := 1 + rng.IntN(3); k > 0; k-- {
		o := pick(rng, propOwnerEntries)
		if !seen[o] {
			seen[o] = true
			w.owners = append(w.owners, o)
		}
	}
	w.lineage = pick(rng, []string{"attached", "any"})
	w.inclDepr = rng.IntN(3) == 0
	return w
}

// visible reports whether the consumer can see image i.
func (w propWorld) visible(i int) bool {
	return w.images[i].OwnerID == acctConsumer || w.public[i] || w.shared[i]
}

// ownerListed resolves owners ("self" is the consumer).
func (w propWorld) ownerListed(owner string) bool {
	for _, o := range w.owners {
		if o == owner || (o == "self" && owner == acctConsumer) {
			return true
		}
	}
	return false
}

func (w propWorld) hasSelf() bool {
	for _, o := range w.owners {
		if o == "self" {
			return true
		}
	}
	return false
}

// checkChoice checks the property for the image chosen (by id) with the
// watermark key that matched: the owner is listed, the image carries the
// key, and the key's account is the literal account of a pattern that
// matches it.
func (w propWorld) checkChoice(t *testing.T, world int, id, matchedKey string, patterns []watermark.Pattern) {
	t.Helper()
	var img *watermark.Image
	for i := range w.images {
		if w.images[i].ID == id {
			if !w.visible(i) {
				t.Errorf("world %d: chose %s, which the consumer cannot see", world, id)
			}
			img = &w.images[i]
		}
	}
	if img == nil {
		t.Fatalf("world %d: chose %s, which is not in the world", world, id)
	}
	if !w.ownerListed(img.OwnerID) {
		t.Errorf("world %d: chose %s owned by %s, not in owners %v", world, id, img.OwnerID, w.owners)
	}
	carries := false
	for _, wm := range img.Watermarks {
		carries = carries || wm.Key == matchedKey
	}
	if !carries {
		t.Errorf("world %d: chose %s for key %q, which it does not carry (it has %v)", world, id, matchedKey, img.Watermarks)
	}
	acct, _ := watermark.SplitKey(matchedKey)
	ok := false
	for _, p := range patterns {
		if p.AccountIsGlob {
			t.Fatalf("world %d: pattern %q has a wildcard account without allow_any_account", world, p.Raw)
		}
		ok = ok || (p.MatchKey(matchedKey) && p.Account == acct)
	}
	if !ok {
		t.Errorf("world %d: chose %s by key %q, whose account %s is not the literal account of a matching pattern of %v", world, id, matchedKey, acct, w.keys)
	}
}

// plainlyQualifies returns the images that meet every condition in the
// simplest way: visible, owner listed, available, not deprecated (unless
// included), carrying a key that a pattern matches with the watermark
// attached to the image itself in its region (which every lineage accepts).
func (w propWorld) plainlyQualifies(patterns []watermark.Pattern, now time.Time) []string {
	var out []string
	for i, img := range w.images {
		if !w.visible(i) || !w.ownerListed(img.OwnerID) || img.State != "available" {
			continue
		}
		if !w.inclDepr && !img.DeprecationTime.IsZero() && !img.DeprecationTime.After(now) {
			continue
		}
		for _, wm := range img.Watermarks {
			if wm.SourceImageID != img.ID || wm.SourceImageRegion != img.Region {
				continue
			}
			for _, p := range patterns {
				if p.MatchKey(wm.Key) {
					out = append(out, img.ID)
				}
			}
		}
	}
	return out
}

// seedImages turns the world into emulator seeds.
func (w propWorld) seedImages() []ec2emu.SeedImage {
	const ts = "2006-01-02T15:04:05.000Z"
	var out []ec2emu.SeedImage
	for i, img := range w.images {
		s := ec2emu.SeedImage{
			Region: img.Region, Account: img.OwnerID, Name: img.Name, ImageID: img.ID,
			CreationDate: img.CreationDate.UTC().Format(ts), State: img.State, Public: w.public[i],
			SourceImageID: img.SourceImageID, SourceImageRegion: img.SourceImageRegion, SourceInstanceID: img.SourceInstanceID,
		}
		if !img.DeprecationTime.IsZero() {
			s.DeprecationTime = img.DeprecationTime.UTC().Format(ts)
		}
		if w.shared[i] {
			s.SharedWith = []string{acctConsumer}
		}
		for _, wm := range img.Watermarks {
			s.Watermarks = append(s.Watermarks, ec2emu.SeedWatermark{
				Key: wm.Key, SourceImageID: wm.SourceImageID, SourceImageRegion: wm.SourceImageRegion,
				SourceImageCreationTime: wm.SourceImageCreationTime.UTC().Format(time.RFC3339),
				WatermarkCreationTime:   wm.WatermarkCreationTime.UTC().Format(time.RFC3339),
			})
		}
		out = append(out, s)
	}
	return out
}

func TestPropertyExecute(t *testing.T) {
	const worlds = 300
	rng := rand.New(rand.NewPCG(20260624, 7))
	found, lying, easy := 0, 0, 0
	for n := 0; n < worlds; n++ {
		e := newEmu(t)
		w := genWorld(rng, e.Emulator.Now(), 8)
		if _, err := e.Emulator.SeedImages(w.seedImages()); err != nil {
			t.Fatalf("world %d: seeding: %v", n, err)
		}
		patterns, errs := watermark.ParsePatterns(w.keys, false)
		if len(errs) > 0 {
			t.Fatalf("world %d: patterns %v: %v", n, w.keys, errs)
		}
		raw := e.config(acctConsumer, "us-east-1", map[string]interface{}{
			"watermark_keys": w.keys, "owners": w.owners, "lineage": w.lineage, "include_deprecated": w.inclDepr,
		})
		if !w.hasSelf() && n%2 == 0 {
			// A server that ignores owners and filters: only the
			// client-side re-check keeps the property. (With "self" the
			// caller's account is learnt from EC2's answer to Owners=self,
			// which such a server falsifies.)
			raw["custom_endpoint_ec2"] = e.lyingServer(t)
			lying++
		}
		d := &Datasource{}
		if err := d.Configure(raw); err != nil {
			t.Fatalf("world %d: Configure: %v", n, err)
		}
		v, err := d.Execute()
		want := w.plainlyQualifies(patterns, e.Emulator.Now())
		if err != nil {
			if !strings.Contains(err.Error(), "no image") && !strings.Contains(err.Error(), "matches") {
				t.Errorf("world %d: unexpected error: %v", n, err)
			}
			if len(want) > 0 {
				t.Errorf("world %d: nothing found, but %v plainly qualify (keys %v, owners %v): %v", n, want, w.keys, w.owners, err)
			}
			continue
		}
		found++
		if len(want) > 0 {
			easy++
		}
		w.checkChoice(t, n, v.GetAttr("id").AsString(), v.GetAttr("matched_watermark").GetAttr("key").AsString(), patterns)
		if got := v.GetAttr("matched_watermark").GetAttr("account").AsString(); !strings.HasPrefix(v.GetAttr("matched_watermark").GetAttr("key").AsString(), got+":") {
			t.Errorf("world %d: matched_watermark.account %q does not match its key", n, got)
		}
	}
	t.Logf("%d worlds (%d through a server ignoring owners and filters): %d found an image (%d of them with a plainly qualifying one)", worlds, lying, found, easy)
	if found < worlds/10 || easy == 0 {
		t.Errorf("only %d of %d worlds found an image: the generator does not exercise the data source", found, worlds)
	}
}

func TestPropertySelector(t *testing.T) {
	worlds := 20000
	if testing.Short() {
		worlds = 2000
	}
	rng := rand.New(rand.NewPCG(20260624, 8))
	now := time.Date(2026, 6, 24, 12, 0, 0, 0, time.UTC)
	found := 0
	for n := 0; n < worlds; n++ {
		w := genWorld(rng, now, 12)
		patterns, errs := watermark.ParsePatterns(w.keys, false)
		owners, oerrs := watermark.ParseOwners(w.owners)
		if len(errs)+len(oerrs) > 0 {
			t.Fatalf("world %d: %v %v", n, errs, oerrs)
		}
		lineage, _ := watermark.ParseLineage(w.lineage)
		sel := watermark.NewSelector(watermark.Conditions{
			Patterns: patterns, Owners: owners, SelfAccount: acctConsumer, Lineage: lineage,
			IncludeDeprecated: w.inclDepr, Now: now,
		})
		// Every visible image is offered, as a server that ignores the
		// query would return them, in random order.
		for _, i := range rng.Perm(len(w.images)) {
			if w.visible(i) {
				sel.Offer(w.images[i])
			}
		}
		m, ok := sel.Best()
		want := w.plainlyQualifies(patterns, now)
		if !ok {
			if len(want) > 0 {
				t.Errorf("world %d: nothing selected, but %v plainly qualify", n, want)
			}
			continue
		}
		found++
		w.checkChoice(t, n, m.Image.ID, m.Watermark.Key, patterns)
		if t.Failed() {
			t.FailNow()
		}
	}
	t.Logf("%d worlds, %d selected an image", worlds, found)
	if found < worlds/10 {
		t.Errorf("only %d of %d worlds selected an image", found, worlds)
	}
}
