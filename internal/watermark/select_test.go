package watermark

import (
	"fmt"
	"math/rand"
	"reflect"
	"testing"
	"time"
)

const (
	selAcct  = "111122223333" // the trusted watermarking account
	selOther = "444455556666" // another account
	selThird = "777788889999"
)

var selNow = time.Date(2026, 7, 1, 12, 0, 0, 0, time.UTC)

func selDays(d int) time.Time { return selNow.Add(-time.Duration(d) * 24 * time.Hour) }
func selIntp(v int) *int      { return &v }
func selBoolp(v bool) *bool   { return &v }

// selWM is a watermark attached by acct to image src in region.
func selWM(acct, name, src, region string, attachedDaysAgo int) Watermark {
	return Watermark{
		Key: acct + ":" + name, SourceImageID: src, SourceImageRegion: region,
		SourceImageCreationTime: selDays(attachedDaysAgo + 1), WatermarkCreationTime: selDays(attachedDaysAgo),
	}
}

// selImage is an available image owned by owner in us-east-1.
func selImage(id, owner string, created int, wms ...Watermark) Image {
	return Image{ID: id, Region: "us-east-1", OwnerID: owner, Name: "n-" + id, State: "available",
		CreationDate: selDays(created), Watermarks: wms}
}

func selPatterns(t testing.TB, any bool, raws ...string) []Pattern {
	t.Helper()
	ps, errs := ParsePatterns(raws, any)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	return ps
}

func TestSelectParseLineage(t *testing.T) {
	for in, want := range map[string]Lineage{"": LineageAttached, "attached": LineageAttached, "any": LineageAny} {
		got, err := ParseLineage(in)
		if err != nil || got != want {
			t.Errorf("ParseLineage(%q) = %q, %v", in, got, err)
		}
	}
	_, err := ParseLineage("Any")
	want := `lineage "Any" is not valid: use "attached" (the default: only the image the watermark was attached to, or a direct copy of it) or "any" (also images built from it with CreateImage, which inherit its watermarks)`
	if err == nil || err.Error() != want {
		t.Errorf("ParseLineage(Any) error\n got: %v\nwant: %s", err, want)
	}
}

func TestLineageOK(t *testing.T) {
	w := selWM(selAcct, "golden", "ami-src", "us-east-1", 1)
	tests := []struct {
		name             string
		img              Image
		attached, anyLin bool
	}{
		{"the watermarked image", Image{ID: "ami-src", Region: "us-east-1"}, true, true},
		{"same id in another region is another image", Image{ID: "ami-src", Region: "eu-west-1"}, false, true},
		{"copy in the same region", Image{ID: "ami-c", Region: "us-east-1", SourceImageID: "ami-src", SourceImageRegion: "us-east-1"}, true, true},
		{"copy in another region", Image{ID: "ami-c", Region: "eu-west-1", SourceImageID: "ami-src", SourceImageRegion: "us-east-1"}, true, true},
		{"copy without source region, same region", Image{ID: "ami-c", Region: "us-east-1", SourceImageID: "ami-src"}, true, true},
		{"copy of a same-id image from another region", Image{ID: "ami-c", Region: "eu-west-1", SourceImageID: "ami-src", SourceImageRegion: "ap-south-1"}, false, true},
		{"CreateImage from an instance of it", Image{ID: "ami-d", Region: "us-east-1", SourceImageID: "ami-src", SourceImageRegion: "us-east-1", SourceInstanceID: "i-1"}, false, true},
		{"copy of a copy", Image{ID: "ami-cc", Region: "us-east-1", SourceImageID: "ami-c", SourceImageRegion: "us-east-1"}, false, true},
		{"no provenance at all", Image{ID: "ami-x", Region: "us-east-1"}, false, true},
	}
	for _, tt := range tests {
		if got := LineageOK(LineageAttached, tt.img, w); got != tt.attached {
			t.Errorf("%s: attached = %v, want %v", tt.name, got, tt.attached)
		}
		if got := LineageOK(LineageAny, tt.img, w); got != tt.anyLin {
			t.Errorf("%s: any = %v, want %v", tt.name, got, tt.anyLin)
		}
	}
	// A watermark without a source image id never makes "attached" true
	// for an image without one either.
	if LineageOK(LineageAttached, Image{ID: "ami-x", Region: "us-east-1"}, Watermark{Key: selAcct + ":x"}) {
		t.Errorf("empty SourceImageID accepted")
	}
}

func TestSelectParseOwners(t *testing.T) {
	o, errs := ParseOwners([]string{"self", selAcct, "amazon", "aws-marketplace", "aws-backup-vault", selAcct})
	if len(errs) != 0 {
		t.Fatal(errs)
	}
	want := Owners{Self: true, Accounts: []string{selAcct}, Aliases: []string{"amazon", "aws-marketplace", "aws-backup-vault"}}
	if !reflect.DeepEqual(o, want) {
		t.Errorf("ParseOwners = %+v, want %+v", o, want)
	}
	if got := o.Literal(); !reflect.DeepEqual(got, []string{selAcct, "amazon", "aws-marketplace", "aws-backup-vault"}) {
		t.Errorf("Literal = %v", got)
	}

	_, errs = ParseOwners([]string{"self", "1234", "*", "Amazon"})
	wantErrs := []string{
		`owners[1] "1234" is not an owner: use "self", a 12-digit account id, or one of the aliases amazon, aws-marketplace, aws-backup-vault (wildcards are not allowed)`,
		`owners[2] "*" is not an owner: use "self", a 12-digit account id, or one of the aliases amazon, aws-marketplace, aws-backup-vault (wildcards are not allowed)`,
		`owners[3] "Amazon" is not an owner: use "self", a 12-digit account id, or one of the aliases amazon, aws-marketplace, aws-backup-vault (wildcards are not allowed)`,
	}
	if len(errs) != len(wantErrs) {
		t.Fatalf("errors = %v", errs)
	}
	for i := range wantErrs {
		if errs[i].Error() != wantErrs[i] {
			t.Errorf("error %d\n got: %s\nwant: %s", i, errs[i], wantErrs[i])
		}
	}
	_, errs = ParseOwners(nil)
	wantEmpty := `owners is required: list the accounts whose images may be returned ("self", 12-digit account ids, or the aliases amazon, aws-marketplace, aws-backup-vault). ` +
		`A watermark is inherited by every image built from a watermarked one, so any account that can launch your golden AMI can build an image carrying its watermark and share it with you; only images of the listed owners are considered`
	if len(errs) != 1 || errs[0].Error() != wantEmpty {
		t.Errorf("ParseOwners(nil) = %v\nwant: %s", errs, wantEmpty)
	}
}

func TestSelectOwnersAllows(t *testing.T) {
	o := Owners{Self: true, Accounts: []string{selOther}, Aliases: []string{"amazon"}}
	tests := []struct {
		owner, alias, self string
		want               bool
	}{
		{selAcct, "", selAcct, true},   // self, known
		{selAcct, "", "", false},       // self, unknown caller
		{selOther, "", selAcct, true},  // listed id
		{selThird, "", selAcct, false}, // unlisted
		{selThird, "amazon", "", true}, // listed alias
		{selThird, "aws-marketplace", "", false},
		{"", "", "", false},
	}
	for _, tt := range tests {
		if got := o.Allows(Image{OwnerID: tt.owner, OwnerAlias: tt.alias}, tt.self); got != tt.want {
			t.Errorf("Allows(owner %q alias %q self %q) = %v, want %v", tt.owner, tt.alias, tt.self, got, tt.want)
		}
	}
}

func TestSelectWithinDays(t *testing.T) {
	tests := []struct {
		t    time.Time
		days int64
		want bool
	}{
		{selDays(0), 0, true},
		{selNow.Add(-time.Second), 0, false},
		{selDays(30), 30, true},
		{selDays(30).Add(-time.Second), 30, false},
		{selNow.Add(time.Hour), 0, true}, // future
		{time.Time{}, 1000, false},       // unknown time
		{selDays(1), -1, false},
		{selDays(100000), 2147483647, true},
	}
	for _, tt := range tests {
		if got := WithinDays(selNow, tt.t, tt.days); got != tt.want {
			t.Errorf("WithinDays(%v, %d) = %v, want %v", tt.t, tt.days, got, tt.want)
		}
	}
}

func TestSelectorBest(t *testing.T) {
	c := Conditions{
		Patterns: selPatterns(t, false, selAcct+":golden-*"),
		Owners:   Owners{Accounts: []string{selAcct}},
		Now:      selNow,
	}
	tests := []struct {
		name   string
		images []Image
		want   string // id of Best, "" for none
		n      int    // matches
	}{
		{"empty", nil, "", 0},
		{"newest of several", []Image{
			selImage("ami-1", selAcct, 3, selWM(selAcct, "golden-a", "ami-1", "us-east-1", 3)),
			selImage("ami-2", selAcct, 1, selWM(selAcct, "golden-a", "ami-2", "us-east-1", 1)),
			selImage("ami-3", selAcct, 2, selWM(selAcct, "golden-b", "ami-3", "us-east-1", 2)),
		}, "ami-2", 3},
		{"tie broken by greatest id, any order", []Image{
			selImage("ami-b", selAcct, 1, selWM(selAcct, "golden-a", "ami-b", "us-east-1", 1)),
			selImage("ami-c", selAcct, 1, selWM(selAcct, "golden-a", "ami-c", "us-east-1", 1)),
			selImage("ami-a", selAcct, 1, selWM(selAcct, "golden-a", "ami-a", "us-east-1", 1)),
		}, "ami-c", 3},
		{"newest does not match, older does", []Image{
			selImage("ami-1", selAcct, 3, selWM(selAcct, "golden-a", "ami-1", "us-east-1", 3)),
			selImage("ami-2", selAcct, 1, selWM(selAcct, "silver", "ami-2", "us-east-1", 1)),
		}, "ami-1", 1},
		{"no creation date is oldest", []Image{
			{ID: "ami-z", Region: "us-east-1", OwnerID: selAcct, State: "available", Watermarks: []Watermark{selWM(selAcct, "golden-a", "ami-z", "us-east-1", 1)}},
			selImage("ami-1", selAcct, 300, selWM(selAcct, "golden-a", "ami-1", "us-east-1", 3)),
		}, "ami-1", 2},
	}
	for _, tt := range tests {
		s := NewSelector(c)
		for _, im := range tt.images {
			s.Offer(im)
		}
		m, ok := s.Best()
		if got := m.Image.ID; ok != (tt.want != "") || got != tt.want {
			t.Errorf("%s: Best = %q (%v), want %q", tt.name, got, ok, tt.want)
		}
		if s.Matches() != tt.n || s.Offered() != len(tt.images) {
			t.Errorf("%s: Matches = %d Offered = %d, want %d, %d", tt.name, s.Matches(), s.Offered(), tt.n, len(tt.images))
		}
	}
}

func TestSelectorRejects(t *testing.T) {
	base := Conditions{
		Patterns: selPatterns(t, false, selAcct+":golden"),
		Owners:   Owners{Self: true, Accounts: []string{selOther}},
		Now:      selNow,
	}
	good := func() Image {
		return selImage("ami-1", selAcct, 2, selWM(selAcct, "golden", "ami-1", "us-east-1", 2))
	}
	tests := []struct {
		name   string
		mod    func(*Conditions)
		img    func() Image
		want   Reason
		accept bool
	}{
		{"accepted (self known)", nil, good, 0, true},
		{"self unknown", func(c *Conditions) { c.SelfAccount = "" }, good, RejectOwner, false},
		{"owner not listed", nil, func() Image { i := good(); i.OwnerID = selThird; return i }, RejectOwner, false},
		{"listed other owner", nil, func() Image { i := good(); i.OwnerID = selOther; return i }, 0, true},
		{"key of another account with the same name", nil, func() Image {
			return selImage("ami-1", selAcct, 2, selWM(selThird, "golden", "ami-1", "us-east-1", 2))
		}, RejectKey, false},
		{"no watermarks", nil, func() Image { return selImage("ami-1", selAcct, 2) }, RejectKey, false},
		{"pending", nil, func() Image { i := good(); i.State = "pending"; return i }, RejectState, false},
		{"deprecated", nil, func() Image { i := good(); i.DeprecationTime = selDays(1); return i }, RejectDeprecated, false},
		{"deprecated, included", func(c *Conditions) { c.IncludeDeprecated = true }, func() Image { i := good(); i.DeprecationTime = selDays(1); return i }, 0, true},
		{"deprecation in the future", nil, func() Image { i := good(); i.DeprecationTime = selNow.Add(time.Hour); return i }, 0, true},
		{"allowed unknown", func(c *Conditions) { c.AllowedOnly = true }, good, RejectAllowedUnknown, false},
		{"not allowed", func(c *Conditions) { c.AllowedOnly = true }, func() Image { i := good(); i.Allowed = selBoolp(false); return i }, RejectNotAllowed, false},
		{"allowed", func(c *Conditions) { c.AllowedOnly = true }, func() Image { i := good(); i.Allowed = selBoolp(true); return i }, 0, true},
		{"not allowed but allowed_only off", nil, func() Image { i := good(); i.Allowed = selBoolp(false); return i }, 0, true},
		{"source region", func(c *Conditions) { c.SourceImageRegion = "eu-*" }, good, RejectSourceRegion, false},
		{"source region ok", func(c *Conditions) { c.SourceImageRegion = "us-*" }, good, 0, true},
		{"watermark too old", func(c *Conditions) { c.MaxWatermarkAgeDays = selIntp(1) }, good, RejectWatermarkAge, false},
		{"watermark age ok", func(c *Conditions) { c.MaxWatermarkAgeDays = selIntp(2) }, good, 0, true},
		{"source image too old", func(c *Conditions) { c.MaxSourceImageAgeDays = selIntp(2) }, good, RejectSourceImageAge, false},
		{"source image age ok", func(c *Conditions) { c.MaxSourceImageAgeDays = selIntp(3) }, good, 0, true},
		{"derived", nil, func() Image {
			i := selImage("ami-d", selAcct, 1, selWM(selAcct, "golden", "ami-1", "us-east-1", 2))
			i.SourceImageID, i.SourceImageRegion, i.SourceInstanceID = "ami-1", "us-east-1", "i-1"
			return i
		}, RejectLineage, false},
		{"derived, lineage any", func(c *Conditions) { c.Lineage = LineageAny }, func() Image {
			i := selImage("ami-d", selAcct, 1, selWM(selAcct, "golden", "ami-1", "us-east-1", 2))
			i.SourceImageID, i.SourceImageRegion, i.SourceInstanceID = "ami-1", "us-east-1", "i-1"
			return i
		}, 0, true},
		{"cross-region copy", nil, func() Image {
			i := selImage("ami-c", selAcct, 1, selWM(selAcct, "golden", "ami-1", "us-east-1", 2))
			i.Region, i.SourceImageID, i.SourceImageRegion = "eu-west-1", "ami-1", "us-east-1"
			return i
		}, 0, true},
	}
	for _, tt := range tests {
		c := base
		c.SelfAccount = selAcct
		if tt.mod != nil {
			tt.mod(&c)
		}
		s := NewSelector(c)
		v := s.Offer(tt.img())
		if v.Accepted != tt.accept || (!tt.accept && v.Reason != tt.want) {
			t.Errorf("%s: Offer = %+v, want accepted %v reason %v", tt.name, v, tt.accept, tt.want)
		}
		if !tt.accept {
			if got := s.Rejected(); !reflect.DeepEqual(got, []Rejection{{tt.want, 1}}) {
				t.Errorf("%s: Rejected = %v", tt.name, got)
			}
			if s.RejectedFor(tt.want) != 1 {
				t.Errorf("%s: RejectedFor = %d", tt.name, s.RejectedFor(tt.want))
			}
		}
	}
}

// All conditions must hold on the SAME watermark.
func TestSelectorSameWatermark(t *testing.T) {
	c := Conditions{
		Patterns:            selPatterns(t, false, selAcct+":golden", selAcct+":silver"),
		Owners:              Owners{Accounts: []string{selAcct}},
		SourceImageRegion:   "eu-*",
		MaxWatermarkAgeDays: selIntp(10),
		Now:                 selNow,
		Lineage:             LineageAny,
	}
	// golden: right region, too old; silver: young, wrong region; an
	// unrelated key is young and in the right region. No single matching
	// watermark meets everything.
	im := selImage("ami-1", selAcct, 1,
		selWM(selAcct, "golden", "ami-0", "eu-west-1", 30),
		selWM(selAcct, "silver", "ami-0", "us-east-1", 1),
		selWM(selAcct, "bronze", "ami-0", "eu-west-1", 1),
	)
	s := NewSelector(c)
	if v := s.Offer(im); v.Accepted {
		t.Fatalf("accepted an image whose conditions hold only on different watermarks")
	}
	// The reason is that of the watermark that got furthest (golden failed
	// the age check, after the region check).
	if got := s.Rejected(); !reflect.DeepEqual(got, []Rejection{{RejectWatermarkAge, 1}}) {
		t.Errorf("Rejected = %v", got)
	}
	// A third matching watermark that meets everything is chosen.
	im.Watermarks = append(im.Watermarks, selWM(selAcct, "golden", "ami-9", "eu-central-1", 2))
	v := s.Offer(im)
	m, _ := s.Best()
	if !v.Accepted || !v.Best || m.Watermark.SourceImageID != "ami-9" {
		t.Errorf("Offer = %+v, matched %+v", v, m.Watermark)
	}
}

func TestSelectorNewest(t *testing.T) {
	c := Conditions{Patterns: selPatterns(t, false, selAcct+":golden"), Owners: Owners{Accounts: []string{selAcct}}, Now: selNow, Keep: 3}
	s := NewSelector(c)
	for _, d := range []int{5, 1, 7, 3, 2, 9, 4} {
		id := fmt.Sprintf("ami-%d", d)
		s.Offer(selImage(id, selAcct, d, selWM(selAcct, "golden", id, "us-east-1", d)))
	}
	var got []string
	for _, m := range s.Newest() {
		got = append(got, m.Image.ID)
	}
	if want := []string{"ami-1", "ami-2", "ami-3"}; !reflect.DeepEqual(got, want) {
		t.Errorf("Newest = %v, want %v", got, want)
	}
	if s.Matches() != 7 {
		t.Errorf("Matches = %d", s.Matches())
	}
}

// The selector keeps its own copies: the caller may reuse its buffers.
func TestSelectorCopies(t *testing.T) {
	c := Conditions{Patterns: selPatterns(t, false, selAcct+":golden"), Owners: Owners{Accounts: []string{selAcct}}, Now: selNow}
	s := NewSelector(c)
	im := selImage("ami-1", selAcct, 1, selWM(selAcct, "golden", "ami-1", "us-east-1", 1))
	s.Offer(im)
	im.Watermarks[0].Key = "changed"
	m, _ := s.Best()
	if m.Image.Watermarks[0].Key != selAcct+":golden" {
		t.Errorf("Best shares the caller's slice")
	}
}

// A property: whatever is offered, the best match is owned by a listed
// owner, carries a watermark whose key matches a pattern (with the literal
// account), and that watermark is the one reported.
func TestSelectorProperty(t *testing.T) {
	r := rand.New(rand.NewSource(1))
	accounts := []string{selAcct, selOther, selThird}
	names := []string{"golden", "golden-x", "silver"}
	for round := 0; round < 2000; round++ {
		owners := Owners{Accounts: []string{accounts[r.Intn(3)]}}
		c := Conditions{
			Patterns: selPatterns(t, false, accounts[r.Intn(3)]+":golden*"),
			Owners:   owners,
			Lineage:  []Lineage{LineageAttached, LineageAny}[r.Intn(2)],
			Now:      selNow,
		}
		s := NewSelector(c)
		for i := 0; i < 6; i++ {
			id := fmt.Sprintf("ami-%d", r.Intn(5))
			var wms []Watermark
			for j := r.Intn(4); j > 0; j-- {
				wms = append(wms, selWM(accounts[r.Intn(3)], names[r.Intn(3)], fmt.Sprintf("ami-%d", r.Intn(5)), "us-east-1", r.Intn(5)))
			}
			im := selImage(id, accounts[r.Intn(3)], r.Intn(5), wms...)
			if r.Intn(3) == 0 {
				im.SourceImageID, im.SourceInstanceID = fmt.Sprintf("ami-%d", r.Intn(5)), []string{"", "i-1"}[r.Intn(2)]
			}
			s.Offer(im)
		}
		m, ok := s.Best()
		if !ok {
			continue
		}
		if m.Image.OwnerID != owners.Accounts[0] {
			t.Fatalf("round %d: owner %s not in %v", round, m.Image.OwnerID, owners.Accounts)
		}
		if m.Watermark.Account() != c.Patterns[0].Account || !c.Patterns[0].MatchKey(m.Watermark.Key) {
			t.Fatalf("round %d: matched watermark %q for pattern %q", round, m.Watermark.Key, c.Patterns[0].Raw)
		}
		if !LineageOK(c.Lineage, m.Image, m.Watermark) {
			t.Fatalf("round %d: lineage %s violated by %+v", round, c.Lineage, m)
		}
	}
}

func TestSelectReasonString(t *testing.T) {
	if RejectLineage.String() != "lineage" || RejectOwner.String() != "owner" || Reason(99).String() != "Reason(99)" {
		t.Errorf("Reason.String wrong")
	}
}

func BenchmarkSelectorOffer(b *testing.B) {
	c := Conditions{Patterns: selPatterns(b, false, selAcct+":golden-*"), Owners: Owners{Accounts: []string{selAcct}}, Now: selNow}
	s := NewSelector(c)
	im := selImage("ami-1", selAcct, 1, selWM(selOther, "x-1", "ami-0", "us-east-1", 1), selWM(selAcct, "golden-a", "ami-1", "us-east-1", 1))
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		s.Offer(im)
	}
}

func TestOriginOf(t *testing.T) {
	const (
		a = "ami-0aaaaaaaaaaaaaaa1"
		b = "ami-0bbbbbbbbbbbbbbb2"
		c = "ami-0ccccccccccccccc3"
	)
	w := Watermark{Key: "111122223333:golden", SourceImageID: a, SourceImageRegion: "us-east-1"}
	tests := []struct {
		name string
		img  Image
		want Origin
	}{
		{"attached here", Image{ID: a, Region: "us-east-1"}, OriginAttached},
		{"same id other region", Image{ID: a, Region: "eu-west-1"}, OriginDerived},
		{"cross-region copy", Image{ID: b, Region: "eu-west-1", SourceImageID: a, SourceImageRegion: "us-east-1"}, OriginCopied},
		{"same-region copy", Image{ID: b, Region: "us-east-1", SourceImageID: a, SourceImageRegion: "us-east-1"}, OriginCopied},
		{"copy, source region omitted", Image{ID: b, Region: "us-east-1", SourceImageID: a}, OriginCopied},
		{"copy of a same-id image elsewhere", Image{ID: b, Region: "us-east-1", SourceImageID: a, SourceImageRegion: "ap-south-1"}, OriginDerived},
		{"CreateImage", Image{ID: b, Region: "us-east-1", SourceImageID: a, SourceImageRegion: "us-east-1", SourceInstanceID: "i-0123456789abcdef0"}, OriginDerived},
		{"copy of a copy", Image{ID: c, Region: "us-east-1", SourceImageID: b, SourceImageRegion: "eu-west-1"}, OriginDerived},
		{"no source", Image{ID: c, Region: "us-east-1"}, OriginDerived},
	}
	for _, tt := range tests {
		if got := OriginOf(tt.img, w); got != tt.want {
			t.Errorf("%s: OriginOf = %s, want %s", tt.name, got, tt.want)
		}
	}
}
