package ec2emu

import (
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// filterFixture seeds a small catalogue in us-east-1 and returns the images
// by name.
func filterFixture(t *testing.T, s *Server) map[string]*Image {
	t.Helper()
	day := func(d int) time.Time { return apiBase.AddDate(0, 0, d) }
	imgs := map[string]*Image{
		"golden": mkImage(acctA, "us-east-1", "golden-2026", day(-3),
			wm(acctA, "golden", "ami-0aaaaaaaaaaaaaaa1", "us-east-1", day(-10), day(-3))),
		"star": mkImage(acctA, "us-east-1", "star-image", day(-2),
			wm(acctA, "gold*star", "ami-0aaaaaaaaaaaaaaa2", "eu-west-1", day(-9), day(-2))),
		"q": mkImage(acctA, "us-east-1", "q-image", day(-1),
			wm(acctA, "why?", "ami-0aaaaaaaaaaaaaaa3", "us-east-1", day(-8), day(-1))),
		"slash": mkImage(acctA, "us-east-1", "slash-image", day(0),
			wm(acctA, `back\slash`, "ami-0aaaaaaaaaaaaaaa4", "us-east-1", day(-7), day(0))),
		"two": mkImage(acctA, "us-east-1", "two-marks", day(1),
			wm(acctA, "silver", "ami-0aaaaaaaaaaaaaaa5", "eu-west-1", day(-6), day(1)),
			wm(acctB, "bronze", "ami-0aaaaaaaaaaaaaaa6", "us-east-1", day(-5), day(1))),
		"plain":   mkImage(acctA, "us-east-1", "plain", day(2)),
		"bshared": mkImage(acctB, "us-east-1", "b-shared", day(3), wm(acctB, "golden", "ami-0bbbbbbbbbbbbbbb1", "us-east-1", day(-4), day(3))),
		"amazon":  mkImage("137112412989", "us-east-1", "al2023-ami", day(4)),
		"bpriv":   mkImage(acctB, "us-east-1", "b-private", day(5), wm(acctB, "golden", "ami-0bbbbbbbbbbbbbbb2", "us-east-1", day(-4), day(5))),
		"west":    mkImage(acctA, "us-west-2", "golden-west", day(0), wm(acctA, "golden", "ami-0aaaaaaaaaaaaaaa7", "us-west-2", day(-1), day(0))),
	}
	imgs["bshared"].SharedWith = []string{acctA}
	imgs["amazon"].OwnerAlias, imgs["amazon"].Public = "amazon", true
	imgs["golden"].Tags = map[string]string{"team": "platform", "env": "prod"}
	imgs["plain"].Tags = map[string]string{"env": "dev"}
	imgs["plain"].Description = "a plain image"
	for _, img := range imgs {
		putImages(s, img)
	}
	return imgs
}

func TestDescribeImagesFilters(t *testing.T) {
	s, ts := newAPIServer(t, Options{})
	imgs := filterFixture(t, s)
	c := client(t, ts.URL, "us-east-1", acctA)
	f := func(name string, values ...string) types.Filter {
		return types.Filter{Name: aws.String(name), Values: values}
	}
	cases := []struct {
		what    string
		in      ec2.DescribeImagesInput
		want    []string // fixture names, in creation order
		wantErr string
	}{
		{what: "all visible", want: []string{"golden", "star", "q", "slash", "two", "plain", "bshared", "amazon"}},
		{what: "exact key", in: ec2.DescribeImagesInput{Filters: []types.Filter{f("image-watermark.watermark-key", acctA+":golden")}}, want: []string{"golden"}},
		{what: "key wildcard *", in: ec2.DescribeImagesInput{Filters: []types.Filter{f("image-watermark.watermark-key", "*:golden")}}, want: []string{"golden", "bshared"}},
		{what: "key wildcard prefix", in: ec2.DescribeImagesInput{Filters: []types.Filter{f("image-watermark.watermark-key", acctA+":gold*")}}, want: []string{"golden", "star"}},
		{what: "escaped star is literal", in: ec2.DescribeImagesInput{Filters: []types.Filter{f("image-watermark.watermark-key", `*:gold\*star`)}}, want: []string{"star"}},
		{what: "escaped star does not match other text", in: ec2.DescribeImagesInput{Filters: []types.Filter{f("image-watermark.watermark-key", `*:gold\*`)}}, want: nil},
		{what: "? is one character", in: ec2.DescribeImagesInput{Filters: []types.Filter{f("image-watermark.watermark-key", "*:w?y?")}}, want: []string{"q"}},
		{what: "escaped ?", in: ec2.DescribeImagesInput{Filters: []types.Filter{f("image-watermark.watermark-key", `*:why\?`)}}, want: []string{"q"}},
		{what: "escaped ? is literal", in: ec2.DescribeImagesInput{Filters: []types.Filter{f("image-watermark.watermark-key", `*:wh\?`)}}, want: nil},
		{what: "escaped backslash", in: ec2.DescribeImagesInput{Filters: []types.Filter{f("image-watermark.watermark-key", `*:back\\slash`)}}, want: []string{"slash"}},
		{what: "values ORed", in: ec2.DescribeImagesInput{Filters: []types.Filter{f("image-watermark.watermark-key", acctA+":golden", acctA+":silver")}}, want: []string{"golden", "two"}},
		{what: "filters ANDed", in: ec2.DescribeImagesInput{Filters: []types.Filter{f("image-watermark.watermark-key", "*:golden"), f("owner-id", acctB)}}, want: []string{"bshared"}},
		{what: "inherited key of other account", in: ec2.DescribeImagesInput{Filters: []types.Filter{f("image-watermark.watermark-key", acctB+":*")}}, want: []string{"two", "bshared"}},
		{what: "case-sensitive", in: ec2.DescribeImagesInput{Filters: []types.Filter{f("image-watermark.watermark-key", "*:GOLDEN")}}, want: nil},
		// Watermark filters are independent (docs/ec2-semantics.md, "DescribeImages"): silver is from eu-west-1,
		// bronze from us-east-1; "silver + us-east-1" still matches "two".
		{what: "independent watermark filters", in: ec2.DescribeImagesInput{Filters: []types.Filter{
			f("image-watermark.watermark-key", acctA+":silver"), f("image-watermark.source-image-region", "us-east-1")}}, want: []string{"two"}},
		{what: "source image id", in: ec2.DescribeImagesInput{Filters: []types.Filter{f("image-watermark.source-image-id", "ami-0aaaaaaaaaaaaaaa2")}}, want: []string{"star"}},
		{what: "source region", in: ec2.DescribeImagesInput{Filters: []types.Filter{f("image-watermark.source-image-region", "eu-*")}}, want: []string{"star", "two"}},
		{what: "watermark creation time", in: ec2.DescribeImagesInput{Filters: []types.Filter{f("image-watermark.watermark-creation-time", "2026-06-21T*")}}, want: []string{"golden"}},
		{what: "watermark creation time full form", in: ec2.DescribeImagesInput{Filters: []types.Filter{f("image-watermark.watermark-creation-time", "2026-06-21T03:15:42.123456+00:00")}}, want: []string{"golden"}},
		{what: "source image creation time", in: ec2.DescribeImagesInput{Filters: []types.Filter{f("image-watermark.source-image-creation-time", "2026-06-14T*")}}, want: []string{"golden"}},
		{what: "creation-date", in: ec2.DescribeImagesInput{Filters: []types.Filter{f("creation-date", "2026-06-22T*")}}, want: []string{"star"}},
		{what: "name glob", in: ec2.DescribeImagesInput{Filters: []types.Filter{f("name", "*-image")}}, want: []string{"star", "q", "slash"}},
		{what: "tag", in: ec2.DescribeImagesInput{Filters: []types.Filter{f("tag:env", "prod")}}, want: []string{"golden"}},
		{what: "tag-key", in: ec2.DescribeImagesInput{Filters: []types.Filter{f("tag-key", "env")}}, want: []string{"golden", "plain"}},
		{what: "description", in: ec2.DescribeImagesInput{Filters: []types.Filter{f("description", "a plain*")}}, want: []string{"plain"}},
		{what: "is-public", in: ec2.DescribeImagesInput{Filters: []types.Filter{f("is-public", "true")}}, want: []string{"amazon"}},
		{what: "owner-alias", in: ec2.DescribeImagesInput{Filters: []types.Filter{f("owner-alias", "amazon")}}, want: []string{"amazon"}},
		{what: "state", in: ec2.DescribeImagesInput{Filters: []types.Filter{f("state", "available"), f("image-id", imgs["q"].ID)}}, want: []string{"q"}},
		{what: "Owner self", in: ec2.DescribeImagesInput{Owners: []string{"self"}}, want: []string{"golden", "star", "q", "slash", "two", "plain"}},
		{what: "Owner id", in: ec2.DescribeImagesInput{Owners: []string{acctB}}, want: []string{"bshared"}},
		{what: "Owner alias", in: ec2.DescribeImagesInput{Owners: []string{"amazon"}}, want: []string{"amazon"}},
		{what: "Owner alias or id", in: ec2.DescribeImagesInput{Owners: []string{"amazon", acctB}}, want: []string{"bshared", "amazon"}},
		{what: "ExecutableBy self", in: ec2.DescribeImagesInput{ExecutableUsers: []string{"self"}}, want: []string{"bshared"}},
		{what: "ExecutableBy all", in: ec2.DescribeImagesInput{ExecutableUsers: []string{"all"}}, want: []string{"amazon"}},
		{what: "unknown filter", in: ec2.DescribeImagesInput{Filters: []types.Filter{f("image-watermark-key", "x")}}, wantErr: "InvalidParameterValue"},
		{what: "filter without values", in: ec2.DescribeImagesInput{Filters: []types.Filter{{Name: aws.String("name")}}}, wantErr: "InvalidParameterValue"},
		{what: "bad owner", in: ec2.DescribeImagesInput{Owners: []string{"someone"}}, wantErr: "InvalidUserID.Malformed"},
	}
	byID := map[string]string{}
	for n, img := range imgs {
		byID[img.ID] = n
	}
	for _, tc := range cases {
		t.Run(tc.what, func(t *testing.T) {
			in := tc.in
			out, err := c.DescribeImages(ctx, &in)
			if tc.wantErr != "" {
				apiErr(t, err, tc.wantErr, "")
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, img := range out.Images {
				got = append(got, byID[aws.ToString(img.ImageId)])
			}
			if strings.Join(got, ",") != strings.Join(tc.want, ",") {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
		})
	}
}

func TestDescribeImagesVisibilityAndIDs(t *testing.T) {
	s, ts := newAPIServer(t, Options{})
	imgs := filterFixture(t, s)
	cA := client(t, ts.URL, "us-east-1", acctA)
	cC := client(t, ts.URL, "us-east-1", acctC)
	// A third account sees only public images.
	if ids := describeIDs(t, cC, &ec2.DescribeImagesInput{}); len(ids) != 1 || ids[0] != imgs["amazon"].ID {
		t.Fatalf("account C sees %v", ids)
	}
	// Explicit ids: unknown, invisible and other-region ids are not found.
	for _, id := range []string{"ami-0123456789abcdef0", imgs["bpriv"].ID, imgs["west"].ID} {
		_, err := cA.DescribeImages(ctx, &ec2.DescribeImagesInput{ImageIds: []string{imgs["golden"].ID, id}})
		apiErr(t, err, "InvalidAMIID.NotFound", "The image id '["+id+"]' does not exist")
	}
	_, err := cA.DescribeImages(ctx, &ec2.DescribeImagesInput{ImageIds: []string{"ami-0123456789abcdef0", "ami-0123456789abcdef1"}})
	apiErr(t, err, "InvalidAMIID.NotFound", "The image ids '[ami-0123456789abcdef0, ami-0123456789abcdef1]' do not exist")
	_, err = cA.DescribeImages(ctx, &ec2.DescribeImagesInput{ImageIds: []string{"ami-12"}})
	apiErr(t, err, "InvalidAMIID.Malformed", `Invalid id: "ami-12" (expecting "ami-...")`)
	// Explicit ids that exist but fail a filter are just not returned.
	out := must(cA.DescribeImages(ctx, &ec2.DescribeImagesInput{ImageIds: []string{imgs["golden"].ID, imgs["plain"].ID},
		Filters: []types.Filter{{Name: aws.String("name"), Values: []string{"plain"}}}})).ok(t)
	if len(out.Images) != 1 || aws.ToString(out.Images[0].ImageId) != imgs["plain"].ID {
		t.Fatalf("got %d images", len(out.Images))
	}
	// In us-west-2 only the west image.
	if ids := describeIDs(t, client(t, ts.URL, "us-west-2", acctA), &ec2.DescribeImagesInput{}); len(ids) != 1 || ids[0] != imgs["west"].ID {
		t.Fatalf("us-west-2: %v", ids)
	}
}

func TestDescribeImagesDeprecatedAndDisabled(t *testing.T) {
	s, ts := newAPIServer(t, Options{})
	past := apiBase.Add(-time.Hour)
	future := apiBase.Add(time.Hour)
	dep := mkImage(acctB, "us-east-1", "b-deprecated", apiBase)
	dep.Public, dep.DeprecationTime = true, &past
	soon := mkImage(acctB, "us-east-1", "b-soon", apiBase)
	soon.Public, soon.DeprecationTime = true, &future
	ownDep := mkImage(acctA, "us-east-1", "a-deprecated", apiBase)
	ownDep.DeprecationTime = &past
	dis := mkImage(acctB, "us-east-1", "b-disabled", apiBase)
	dis.Public, dis.State = true, "disabled"
	putImages(s, dep, soon, ownDep, dis)
	c := client(t, ts.URL, "us-east-1", acctA)
	set := func(in *ec2.DescribeImagesInput) map[string]bool {
		m := map[string]bool{}
		for _, id := range describeIDs(t, c, in) {
			m[id] = true
		}
		return m
	}
	got := set(&ec2.DescribeImagesInput{})
	if got[dep.ID] || !got[soon.ID] || !got[ownDep.ID] || got[dis.ID] {
		t.Fatalf("default: %v", got)
	}
	got = set(&ec2.DescribeImagesInput{IncludeDeprecated: aws.Bool(true), IncludeDisabled: aws.Bool(true)})
	if !got[dep.ID] || !got[dis.ID] {
		t.Fatalf("include: %v", got)
	}
	// A deprecated AMI named by id is returned.
	if img := describeOne(t, c, dep.ID); aws.ToString(img.DeprecationTime) != "2026-06-24T02:15:42.123Z" {
		t.Fatalf("deprecationTime %q", aws.ToString(img.DeprecationTime))
	}
}

func TestDescribeImagesPagination(t *testing.T) {
	s, ts := newAPIServer(t, Options{})
	const n = 2500
	var imgs []*Image
	for i := 0; i < n; i++ {
		// Groups of 4 share a creation date, so the id breaks ties.
		img := mkImage(acctA, "us-east-1", fmt.Sprintf("img-%04d", i), apiBase.Add(-time.Duration(i/4)*time.Minute))
		if i%3 == 0 {
			img.Watermarks = []Watermark{wm(acctA, "golden", "ami-0aaaaaaaaaaaaaaa1", "us-east-1", apiBase, apiBase)}
		}
		imgs = append(imgs, img)
	}
	// Noise: other region, other account.
	putImages(s, mkImage(acctB, "us-east-1", "noise", apiBase), mkImage(acctA, "eu-west-1", "noise", apiBase))
	putImages(s, imgs...)
	c := client(t, ts.URL, "us-east-1", acctA)

	want := make([]string, 0, n)
	sorted := append([]*Image(nil), imgs...)
	sort.Slice(sorted, func(i, j int) bool { return imageLess(sorted[i], sorted[j]) })
	for _, img := range sorted {
		want = append(want, img.ID)
	}
	for _, size := range []int32{7} {
		var got []string
		pages := 0
		p := ec2.NewDescribeImagesPaginator(c, &ec2.DescribeImagesInput{Owners: []string{"self"}, MaxResults: aws.Int32(size)})
		for p.HasMorePages() {
			out := must(p.NextPage(ctx)).ok(t)
			pages++
			if len(out.Images) > int(size) {
				t.Fatalf("page of %d > MaxResults %d", len(out.Images), size)
			}
			for _, img := range out.Images {
				got = append(got, aws.ToString(img.ImageId))
			}
			if out.NextToken != nil && *out.NextToken == "" {
				t.Fatal("empty nextToken sent")
			}
		}
		if strings.Join(got, ",") != strings.Join(want, ",") {
			t.Fatalf("MaxResults %d: %d ids over %d pages, differ from the %d expected (duplicates or gaps)", size, len(got), pages, len(want))
		}
		if wantPages := (n + int(size) - 1) / int(size); pages != wantPages {
			t.Fatalf("MaxResults %d: %d pages, want %d", size, pages, wantPages)
		}
	}
	// A hand-written loop on NextToken != nil ends (the last page omits it).
	var tok *string
	var looped []string
	for i := 0; ; i++ {
		out := must(c.DescribeImages(ctx, &ec2.DescribeImagesInput{Owners: []string{"self"}, MaxResults: aws.Int32(1000), NextToken: tok})).ok(t)
		if len(out.Images) > 1000 {
			t.Fatalf("page of %d", len(out.Images))
		}
		for _, img := range out.Images {
			looped = append(looped, aws.ToString(img.ImageId))
		}
		if tok = out.NextToken; tok == nil {
			break
		}
		if i > 5 {
			t.Fatal("loop does not end")
		}
	}
	if strings.Join(looped, ",") != strings.Join(want, ",") {
		t.Fatalf("MaxResults 1000 loop: %d ids differ from the %d expected", len(looped), len(want))
	}
	// Filters apply before slicing.
	got := describeIDs(t, c, &ec2.DescribeImagesInput{MaxResults: aws.Int32(5),
		Filters: []types.Filter{{Name: aws.String("image-watermark.watermark-key"), Values: []string{acctA + ":golden"}}}})
	var wantFiltered []string
	for _, img := range sorted {
		if len(img.Watermarks) > 0 {
			wantFiltered = append(wantFiltered, img.ID)
		}
	}
	if len(wantFiltered) != (n+2)/3 || strings.Join(got, ",") != strings.Join(wantFiltered, ",") {
		t.Fatalf("filtered pagination: %d ids, want %d in order", len(got), len(wantFiltered))
	}
	// Without MaxResults: every match at once.
	out := must(c.DescribeImages(ctx, &ec2.DescribeImagesInput{Owners: []string{"self"},
		Filters: []types.Filter{{Name: aws.String("image-watermark.watermark-key"), Values: []string{acctA + ":golden"}}}})).ok(t)
	if len(out.Images) != len(wantFiltered) || out.NextToken != nil {
		t.Fatalf("no MaxResults: %d images, token %v", len(out.Images), out.NextToken)
	}
}

func TestDescribeImagesPaginationErrors(t *testing.T) {
	s, ts := newAPIServer(t, Options{})
	for i := 0; i < 12; i++ {
		putImages(s, mkImage(acctA, "us-east-1", fmt.Sprintf("img-%d", i), apiBase.Add(time.Duration(i)*time.Second)))
	}
	c := client(t, ts.URL, "us-east-1", acctA)
	for _, m := range []int32{4, 1001, 0, -1} {
		_, err := c.DescribeImages(ctx, &ec2.DescribeImagesInput{MaxResults: aws.Int32(m)})
		apiErr(t, err, "InvalidParameterValue", "")
	}
	_, err := c.DescribeImages(ctx, &ec2.DescribeImagesInput{MaxResults: aws.Int32(5), ImageIds: []string{"ami-0123456789abcdef0"}})
	apiErr(t, err, "InvalidParameterCombination", "")
	for _, tok := range []string{"garbage", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "eyJ9"} {
		_, err = c.DescribeImages(ctx, &ec2.DescribeImagesInput{MaxResults: aws.Int32(5), NextToken: aws.String(tok)})
		apiErr(t, err, "InvalidPaginationToken", "")
	}
	// A token of one query is rejected by another.
	out := must(c.DescribeImages(ctx, &ec2.DescribeImagesInput{MaxResults: aws.Int32(5)})).ok(t)
	if out.NextToken == nil {
		t.Fatal("no token")
	}
	_, err = c.DescribeImages(ctx, &ec2.DescribeImagesInput{MaxResults: aws.Int32(5), NextToken: out.NextToken, Owners: []string{"self"}})
	apiErr(t, err, "InvalidPaginationToken", "")
	_, err = client(t, ts.URL, "us-east-1", acctB).DescribeImages(ctx, &ec2.DescribeImagesInput{MaxResults: aws.Int32(5), NextToken: out.NextToken})
	apiErr(t, err, "InvalidPaginationToken", "")
	// A tampered token is rejected.
	tampered := []byte(*out.NextToken)
	tampered[3] ^= 1
	_, err = c.DescribeImages(ctx, &ec2.DescribeImagesInput{MaxResults: aws.Int32(5), NextToken: aws.String(string(tampered))})
	apiErr(t, err, "InvalidPaginationToken", "")
}

// The DescribeImages index follows images added through the API, seeded
// in bulk behind its back, and a reset.
func TestImageIndexStaysInSync(t *testing.T) {
	s, ts := newAPIServer(t, Options{})
	c := client(t, ts.URL, "us-east-1", acctA)
	count := func() int { return len(describeIDs(t, c, &ec2.DescribeImagesInput{Owners: []string{"self"}})) }
	registerImg(t, c, "one")
	if n := count(); n != 1 {
		t.Fatalf("%d", n)
	}
	registerImg(t, c, "two") // added to the index in place
	if n := count(); n != 2 {
		t.Fatalf("%d", n)
	}
	if _, err := s.SeedImages([]SeedImage{{Region: "us-east-1", Account: acctA, Name: "seeded", CreationDate: "2020-01-01T00:00:00Z"}}); err != nil {
		t.Fatal(err)
	}
	ids := describeIDs(t, c, &ec2.DescribeImagesInput{Owners: []string{"self"}})
	if len(ids) != 3 || describeOne(t, c, ids[0]).Name == nil || *describeOne(t, c, ids[0]).Name != "seeded" {
		t.Fatalf("after seeding: %v", ids)
	}
	s.Reset()
	if n := count(); n != 0 {
		t.Fatalf("after reset: %d", n)
	}
	registerImg(t, c, "three")
	if n := count(); n != 1 {
		t.Fatalf("after reset and register: %d", n)
	}
}

func TestReadOnlyDryRun(t *testing.T) {
	_, ts := newAPIServer(t, Options{})
	c := client(t, ts.URL, "us-east-1", acctA)
	_, err := c.DescribeImages(ctx, &ec2.DescribeImagesInput{DryRun: aws.Bool(true)})
	if st := apiErr(t, err, "DryRunOperation", "Request would have succeeded, but DryRun flag is set."); st != 412 {
		t.Fatalf("status %d", st)
	}
	// Invalid input is reported rather than DryRunOperation.
	_, err = c.DescribeImages(ctx, &ec2.DescribeImagesInput{DryRun: aws.Bool(true), Filters: []types.Filter{{Name: aws.String("bogus"), Values: []string{"x"}}}})
	apiErr(t, err, "InvalidParameterValue", "The filter 'bogus' is invalid")
	_, err = c.GetAllowedImagesSettings(ctx, &ec2.GetAllowedImagesSettingsInput{DryRun: aws.Bool(true)})
	apiErr(t, err, "DryRunOperation", "")
	_, err = c.DescribeInstances(ctx, &ec2.DescribeInstancesInput{DryRun: aws.Bool(true)})
	apiErr(t, err, "DryRunOperation", "")
}
