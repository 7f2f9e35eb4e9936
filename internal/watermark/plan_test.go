package watermark

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

const (
	acct  = "111122223333"
	other = "444455556666"
)

func own(name, imageID string) Watermark {
	return Watermark{Key: acct + ":" + name, SourceImageID: imageID, SourceImageRegion: "us-east-1"}
}

func inherited(account, name string) Watermark {
	return Watermark{Key: account + ":" + name, SourceImageID: "ami-0aaaaaaaaaaaaaaaa", SourceImageRegion: "us-west-2"}
}

func img(wms ...Watermark) Image {
	return Image{ID: "ami-0123456789abcdef0", Region: "us-east-1", OwnerID: acct, State: "available", Watermarks: wms}
}

func TestPlanImage(t *testing.T) {
	type want struct {
		detach       []string
		detachAbsent []string
		attach       []string
		skipped      []string // "key|reason"
		after        []string
		problems     []string // exact Problem.Error() texts
	}
	cases := []struct {
		name  string
		img   Image
		owned bool
		req   Request
		want  want
	}{
		{
			name: "fresh AMI gets both names", img: img(), owned: true,
			req:  Request{Attach: []string{"golden", "approved"}},
			want: want{attach: []string{"golden", "approved"}, after: []string{acct + ":golden", acct + ":approved"}},
		},
		{
			name: "re-run skips present names", img: img(own("golden", "ami-0123456789abcdef0"), own("approved", "ami-0123456789abcdef0")), owned: true,
			req: Request{Attach: []string{"golden", "approved"}},
			want: want{
				skipped: []string{acct + ":golden|already present", acct + ":approved|already present"},
				after:   []string{acct + ":golden", acct + ":approved"},
			},
		},
		{
			name: "inherited own key is kept with KeepInherited and says so", img: img(Watermark{Key: acct + ":base", SourceImageID: "ami-0bbbbbbbbbbbbbbbb", SourceImageRegion: "us-west-2"}), owned: true,
			req: Request{Attach: []string{"base", "golden"}, KeepInherited: true},
			want: want{
				attach:  []string{"golden"},
				skipped: []string{acct + ":base|already present, inherited from ami-0bbbbbbbbbbbbbbbb in us-west-2"},
				after:   []string{acct + ":base", acct + ":golden"},
			},
		},
		{
			name: "inherited own key is re-attached by default", img: img(Watermark{Key: acct + ":base", SourceImageID: "ami-0bbbbbbbbbbbbbbbb", SourceImageRegion: "us-west-2"}), owned: true,
			req: Request{Attach: []string{"base", "golden"}},
			want: want{
				detach: []string{acct + ":base"},
				attach: []string{"base", "golden"},
				after:  []string{acct + ":base", acct + ":golden"},
			},
		},
		{
			name: "re-attach counts once: 5 present with one inherited requested stays at 5", img: img(inherited(acct, "base"), inherited(other, "bbb"), inherited(other, "ccc"), inherited(other, "ddd"), inherited(other, "eee")), owned: true,
			req: Request{Attach: []string{"base"}},
			want: want{
				detach: []string{acct + ":base"},
				attach: []string{"base"},
				after:  []string{other + ":bbb", other + ":ccc", other + ":ddd", other + ":eee", acct + ":base"},
			},
		},
		{
			name: "re-attach plus a new name on 5 breaks the limit", img: img(inherited(acct, "base"), inherited(other, "bbb"), inherited(other, "ccc"), inherited(other, "ddd"), inherited(other, "eee")), owned: true,
			req: Request{Attach: []string{"base", "new"}},
			want: want{
				detach: []string{acct + ":base"},
				attach: []string{"base", "new"},
				after:  []string{other + ":bbb", other + ":ccc", other + ":ddd", other + ":eee", acct + ":base", acct + ":new"},
				problems: []string{"us-east-1 ami-0123456789abcdef0: the AMI would carry 6 watermarks, but AWS allows at most 5 per AMI, inherited ones included: it carries 5 now (" +
					"111122223333:base (inherited from ami-0aaaaaaaaaaaaaaaa in us-west-2) (detached by this run), 444455556666:bbb (inherited from ami-0aaaaaaaaaaaaaaaa in us-west-2), " +
					"444455556666:ccc (inherited from ami-0aaaaaaaaaaaaaaaa in us-west-2), 444455556666:ddd (inherited from ami-0aaaaaaaaaaaaaaaa in us-west-2), 444455556666:eee (inherited from ami-0aaaaaaaaaaaaaaaa in us-west-2)), 1 of them detached by this run, " +
					"and 2 would be attached (111122223333:base, 111122223333:new); detach keys you no longer need with `detach` (for example detach = [\"444455556666:bbb\"]) or request fewer names in `watermarks`"},
			},
		},
		{
			name: "key attached to this AMI is not re-attached", img: img(own("base", "ami-0123456789abcdef0")), owned: true,
			req: Request{Attach: []string{"base"}},
			want: want{
				skipped: []string{acct + ":base|already present"},
				after:   []string{acct + ":base"},
			},
		},
		{
			name: "key without a source is not re-attached", img: img(Watermark{Key: acct + ":base"}), owned: true,
			req: Request{Attach: []string{"base"}},
			want: want{
				skipped: []string{acct + ":base|already present"},
				after:   []string{acct + ":base"},
			},
		},
		{
			name: "inherited key to detach and another to re-attach", img: img(inherited(acct, "base"), inherited(acct, "candidate")), owned: true,
			req: Request{Attach: []string{"base"}, Detach: []string{"candidate"}},
			want: want{
				detach: []string{acct + ":candidate", acct + ":base"},
				attach: []string{"base"},
				after:  []string{acct + ":base"},
			},
		},
		{
			name: "4 inherited plus 2 new breaks the limit", img: img(inherited(other, "aaa"), inherited(other, "bbb"), inherited(other, "ccc"), inherited(other, "ddd")), owned: true,
			req: Request{Attach: []string{"golden", "approved"}},
			want: want{
				attach: []string{"golden", "approved"},
				after:  []string{other + ":aaa", other + ":bbb", other + ":ccc", other + ":ddd", acct + ":golden", acct + ":approved"},
				problems: []string{"us-east-1 ami-0123456789abcdef0: the AMI would carry 6 watermarks, but AWS allows at most 5 per AMI, inherited ones included: it carries 4 now (" +
					"444455556666:aaa (inherited from ami-0aaaaaaaaaaaaaaaa in us-west-2), 444455556666:bbb (inherited from ami-0aaaaaaaaaaaaaaaa in us-west-2), " +
					"444455556666:ccc (inherited from ami-0aaaaaaaaaaaaaaaa in us-west-2), 444455556666:ddd (inherited from ami-0aaaaaaaaaaaaaaaa in us-west-2)) " +
					"and 2 would be attached (111122223333:golden, 111122223333:approved); detach keys you no longer need with `detach` (for example detach = [\"444455556666:aaa\"]) or request fewer names in `watermarks`"},
			},
		},
		{
			name: "4 inherited plus 1 new is exactly 5", img: img(inherited(other, "aaa"), inherited(other, "bbb"), inherited(other, "ccc"), inherited(other, "ddd")), owned: true,
			req:  Request{Attach: []string{"golden"}},
			want: want{attach: []string{"golden"}, after: []string{other + ":aaa", other + ":bbb", other + ":ccc", other + ":ddd", acct + ":golden"}},
		},
		{
			name: "detach makes room", img: img(inherited(other, "aaa"), inherited(other, "bbb"), inherited(other, "ccc"), inherited(other, "ddd")), owned: true,
			req:  Request{Attach: []string{"golden", "approved"}, Detach: []string{other + ":aaa"}},
			want: want{detach: []string{other + ":aaa"}, attach: []string{"golden", "approved"}, after: []string{other + ":bbb", other + ":ccc", other + ":ddd", acct + ":golden", acct + ":approved"}},
		},
		{
			name: "limit still broken after detach mentions the detach", img: img(inherited(other, "aaa"), inherited(other, "bbb"), inherited(other, "ccc"), inherited(other, "ddd"), own("xxx", "ami-0123456789abcdef0")), owned: true,
			req: Request{Attach: []string{"golden", "approved"}, Detach: []string{"xxx"}},
			want: want{
				detach: []string{acct + ":xxx"},
				attach: []string{"golden", "approved"},
				after:  []string{other + ":aaa", other + ":bbb", other + ":ccc", other + ":ddd", acct + ":golden", acct + ":approved"},
				problems: []string{"us-east-1 ami-0123456789abcdef0: the AMI would carry 6 watermarks, but AWS allows at most 5 per AMI, inherited ones included: it carries 5 now (" +
					"444455556666:aaa (inherited from ami-0aaaaaaaaaaaaaaaa in us-west-2), 444455556666:bbb (inherited from ami-0aaaaaaaaaaaaaaaa in us-west-2), " +
					"444455556666:ccc (inherited from ami-0aaaaaaaaaaaaaaaa in us-west-2), 444455556666:ddd (inherited from ami-0aaaaaaaaaaaaaaaa in us-west-2), 111122223333:xxx (detached by this run)), " +
					"1 of them detached by this run, and 2 would be attached (111122223333:golden, 111122223333:approved); detach keys you no longer need with `detach` (for example detach = [\"444455556666:aaa\"]) or request fewer names in `watermarks`"},
			},
		},
		{
			name: "promote candidate to approved", img: img(own("candidate", "ami-0123456789abcdef0")), owned: true,
			req:  Request{Attach: []string{"approved"}, Detach: []string{"candidate"}},
			want: want{detach: []string{acct + ":candidate"}, attach: []string{"approved"}, after: []string{acct + ":approved"}},
		},
		{
			name: "detach of an absent key is no call", img: img(), owned: true,
			req:  Request{Detach: []string{"candidate", other + ":old"}},
			want: want{detachAbsent: []string{acct + ":candidate", other + ":old"}},
		},
		{
			name: "duplicate detach entries resolve to one key", img: img(own("candidate", "ami-0123456789abcdef0")), owned: true,
			req:  Request{Detach: []string{"candidate", acct + ":candidate"}},
			want: want{detach: []string{acct + ":candidate"}},
		},
		{
			name: "duplicate attach names count once", img: img(), owned: true,
			req:  Request{Attach: []string{"golden", "golden"}},
			want: want{attach: []string{"golden"}, after: []string{acct + ":golden"}},
		},
		{
			name: "key detached and attached", img: img(own("golden", "ami-0123456789abcdef0")), owned: true,
			req: Request{Attach: []string{"golden"}, Detach: []string{acct + ":golden"}},
			want: want{
				detach:   []string{acct + ":golden"},
				problems: []string{"us-east-1 ami-0123456789abcdef0: the key 111122223333:golden is both in detach and (as \"golden\") in watermarks: a key cannot be detached and attached in one run; remove it from one of the two lists"},
			},
		},
		{
			name: "public AMI", img: func() Image { i := img(); i.Public = true; return i }(), owned: true,
			req: Request{Attach: []string{"golden"}},
			want: want{
				attach:   []string{"golden"},
				after:    []string{acct + ":golden"},
				problems: []string{"us-east-1 ami-0123456789abcdef0: the AMI is public: AWS does not allow watermarks on public AMIs; make it private (remove the launch permission for group \"all\") or leave it out"},
			},
		},
		{
			name: "not owned", img: func() Image { i := img(); i.OwnerID = other; return i }(), owned: false,
			req:  Request{Attach: []string{"golden"}},
			want: want{problems: []string{"us-east-1 ami-0123456789abcdef0: the AMI is owned by account 444455556666, not by the account of the credentials in use: only the owner can attach or detach watermarks; run with credentials of the owning account (for example with assume_role) or leave this AMI out"}},
		},
		{
			name: "failed AMI", img: func() Image { i := img(); i.State = "failed"; return i }(), owned: true,
			req: Request{Attach: []string{"golden"}},
			want: want{
				attach:   []string{"golden"},
				after:    []string{acct + ":golden"},
				problems: []string{"us-east-1 ami-0123456789abcdef0: the AMI is in state \"failed\", not \"available\": watermarks can only be attached to available AMIs; fix or rebuild the AMI and run again"},
			},
		},
		{
			name: "public and failed lists both", img: func() Image { i := img(); i.State = "failed"; i.Public = true; return i }(), owned: true,
			req: Request{Attach: []string{"golden"}},
			want: want{
				attach: []string{"golden"},
				after:  []string{acct + ":golden"},
				problems: []string{
					"us-east-1 ami-0123456789abcdef0: the AMI is in state \"failed\", not \"available\": watermarks can only be attached to available AMIs; fix or rebuild the AMI and run again",
					"us-east-1 ami-0123456789abcdef0: the AMI is public: AWS does not allow watermarks on public AMIs; make it private (remove the launch permission for group \"all\") or leave it out",
				},
			},
		},
		{
			name: "invalid names in the request are problems, not panics", img: img(), owned: true,
			req: Request{Attach: []string{"ab", "ok-name"}, Detach: []string{"12:x"}},
			want: want{
				attach: []string{"ok-name"},
				after:  []string{acct + ":ok-name"},
				problems: []string{
					`us-east-1 ami-0123456789abcdef0: detach entry "12:x": watermark key "12:x": the account part "12" is not a 12-digit account id`,
					`us-east-1 ami-0123456789abcdef0: watermark name "ab" is 2 characters long: a name must be 3-128 characters`,
				},
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := PlanImage(tc.img, tc.owned, tc.req)
			var skipped, problems []string
			for _, s := range p.Skipped {
				skipped = append(skipped, s.Key+"|"+s.Reason())
			}
			for _, pr := range p.Problems {
				problems = append(problems, pr.Error())
			}
			check := func(what string, got, want []string) {
				t.Helper()
				if len(got) == 0 && len(want) == 0 {
					return
				}
				if !reflect.DeepEqual(got, want) {
					t.Errorf("%s:\n got  %q\n want %q", what, got, want)
				}
			}
			check("detach", p.Detach, tc.want.detach)
			check("detachAbsent", p.DetachAbsent, tc.want.detachAbsent)
			check("attach", p.Attach, tc.want.attach)
			check("skipped", skipped, tc.want.skipped)
			check("problems", problems, tc.want.problems)
			if tc.owned {
				check("after", p.KeysAfter(), tc.want.after)
			}
			if p.OK() != (len(tc.want.problems) == 0) {
				t.Errorf("OK() = %v with problems %q", p.OK(), problems)
			}
			if p.Calls() != len(p.Detach)+len(p.Attach) {
				t.Errorf("Calls() = %d", p.Calls())
			}
		})
	}
}

func TestPlanRequestedKeys(t *testing.T) {
	p := PlanImage(img(own("base", "ami-0123456789abcdef0")), true, Request{Attach: []string{"base", "golden"}})
	got := p.RequestedKeys()
	want := []string{acct + ":base", acct + ":golden"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("RequestedKeys = %q, want %q", got, want)
	}
	if ak := p.AttachKeys(); !reflect.DeepEqual(ak, []string{acct + ":golden"}) {
		t.Fatalf("AttachKeys = %q", ak)
	}
}

func TestResolveDetach(t *testing.T) {
	cases := []struct {
		entry, want, err string
	}{
		{"candidate", acct + ":candidate", ""},
		{other + ":old", other + ":old", ""},
		{"x", "", `watermark name "x" is 1 characters long: a name must be 3-128 characters`},
		{"abc:def", "", `watermark key "abc:def": the account part "abc" is not a 12-digit account id`},
		{acct + ":", "", `watermark key "111122223333:": watermark name "" is 0 characters long: a name must be 3-128 characters`},
	}
	for _, tc := range cases {
		got, err := ResolveDetach(tc.entry, acct)
		if tc.err != "" {
			if err == nil || err.Error() != tc.err {
				t.Errorf("ResolveDetach(%q) error = %v, want %q", tc.entry, err, tc.err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("ResolveDetach(%q) = %q, %v; want %q", tc.entry, got, err, tc.want)
		}
	}
}

func TestProblemError(t *testing.T) {
	if got := (Problem{Message: "m"}).Error(); got != "m" {
		t.Errorf("got %q", got)
	}
	if got := (Problem{Region: "eu-west-1", ImageID: "ami-12345678", Message: "m"}).Error(); got != "eu-west-1 ami-12345678: m" {
		t.Errorf("got %q", got)
	}
}

// FuzzPlanImage: any request on any image gives a plan without panicking,
// never attaches more than MaxPerImage without a problem, and never plans a
// call for an invalid name.
func FuzzPlanImage(f *testing.F) {
	f.Add("golden,approved", "candidate", acct+":a,"+other+":b", 0)
	f.Add("a:b,,x", ":,123", "", 1)
	f.Fuzz(func(t *testing.T, attach, detach, present string, flags int) {
		var wms []Watermark
		for _, k := range strings.Split(present, ",") {
			if k != "" {
				wms = append(wms, Watermark{Key: k, SourceImageID: "ami-0aaaaaaaaaaaaaaaa"})
			}
		}
		im := img(wms...)
		im.Public = flags&1 != 0
		p := PlanImage(im, flags&2 == 0, Request{Attach: strings.Split(attach, ","), Detach: strings.Split(detach, ",")})
		for _, n := range p.Attach {
			if ValidateName(n) != nil {
				t.Fatalf("plan attaches invalid name %q", n)
			}
		}
		if p.OK() && len(p.Attach) > 0 && len(p.KeysAfter()) > MaxPerImage {
			t.Fatalf("plan without problem ends with %d keys", len(p.KeysAfter()))
		}
		if im.Public && p.OK() {
			t.Fatal("public image planned without problem")
		}
	})
}

func TestImagePlanImageAfter(t *testing.T) {
	now := time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)
	created := now.Add(-48 * time.Hour)
	img := Image{ID: "ami-0123456789abcdef0", Region: "eu-west-1", OwnerID: "111122223333", CreationDate: created,
		Watermarks: []Watermark{{Key: "111122223333:candidate"}, {Key: "999988887777:base", SourceImageID: "ami-0aaaaaaaaaaaaaaaa"}}}
	p := ImagePlan{Account: "111122223333", Detach: []string{"111122223333:candidate"}, Attach: []string{"approved"}}
	after := p.ImageAfter(img, now)
	want := []Watermark{
		{Key: "999988887777:base", SourceImageID: "ami-0aaaaaaaaaaaaaaaa"},
		{Key: "111122223333:approved", SourceImageID: img.ID, SourceImageRegion: "eu-west-1", SourceImageCreationTime: created, WatermarkCreationTime: now},
	}
	if !reflect.DeepEqual(after.Watermarks, want) {
		t.Fatalf("ImageAfter watermarks = %+v\nwant %+v", after.Watermarks, want)
	}
	if len(img.Watermarks) != 2 || img.Watermarks[0].Key != "111122223333:candidate" {
		t.Fatalf("ImageAfter changed its input: %+v", img.Watermarks)
	}
}
