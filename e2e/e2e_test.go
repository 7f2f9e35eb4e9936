package e2e

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// Image ids seeded by the scenarios (ami- + 17 hex digits).
const (
	oldBaseID   = "ami-0e2e000000000a901" // golden-base-2026.09, us-east-1
	newBaseID   = "ami-0e2e000000000b101" // golden-base-2026.11, us-east-1
	testBaseID  = "ami-0e2e000000000c120" // golden-base-test-2026.11.20 (watermark golden-base-test)
	appID       = "ami-0e2e000000000d122" // app image derived from newBaseID with CreateImage
	lookalikeID = "ami-0e2e000000000e124" // other account, watermark 444455556666:golden-base
	foreignID   = "ami-0e2e000000000f125" // other account, derived from newBaseID, carries our key
)

func key(name string) string { return testAccount + ":" + name }

// ownWatermark is a watermark attached by the owner to the image itself.
func ownWatermark(name, imageID, region, created, attached string) seedWatermark {
	return seedWatermark{Key: key(name), SourceImageID: imageID, SourceImageRegion: region,
		SourceImageCreationTime: created, WatermarkCreationTime: attached}
}

// seedGoldenChain seeds the images of scenarios 1 and 5 in us-east-1:
// two golden bases (the newer one must win), an image with a similar
// watermark name, an application image derived from the new base (newer,
// carries the key by inheritance: lineage "attached" must skip it), a
// look-alike from another account with the same watermark name, and an image
// of another account that inherited our key and is shared with us (owners
// must exclude it).
func (p *stack) seedGoldenChain(t *testing.T) {
	t.Helper()
	const r = "us-east-1"
	baseMark := seedWatermark{Key: key("golden-base"), SourceImageID: newBaseID, SourceImageRegion: r,
		SourceImageCreationTime: "2026-11-01T08:00:00Z", WatermarkCreationTime: "2026-11-01T09:00:00Z"}
	ids := p.seed(t,
		seedImage{Region: r, Account: testAccount, ImageID: oldBaseID, Name: "golden-base-2026.09",
			CreationDate: "2026-09-01T08:00:00.000Z",
			Watermarks:   []seedWatermark{ownWatermark("golden-base", oldBaseID, r, "2026-09-01T08:00:00Z", "2026-09-01T09:00:00Z")}},
		seedImage{Region: r, Account: testAccount, ImageID: newBaseID, Name: "golden-base-2026.11",
			CreationDate: "2026-11-01T08:00:00.000Z",
			Watermarks:   []seedWatermark{baseMark}},
		seedImage{Region: r, Account: testAccount, ImageID: testBaseID, Name: "golden-base-test-2026.11.20",
			CreationDate: "2026-11-20T08:00:00.000Z",
			Watermarks:   []seedWatermark{ownWatermark("golden-base-test", testBaseID, r, "2026-11-20T08:00:00Z", "2026-11-20T09:00:00Z")}},
		seedImage{Region: r, Account: testAccount, ImageID: appID, Name: "app-web-2026.11.22",
			CreationDate:  "2026-11-22T08:00:00.000Z",
			SourceImageID: newBaseID, SourceImageRegion: r, SourceInstanceID: "i-0e2e000000000d122",
			Watermarks: []seedWatermark{baseMark}},
		seedImage{Region: r, Account: otherAccount, ImageID: lookalikeID, Name: "golden-base-2026.11.24",
			CreationDate: "2026-11-24T08:00:00.000Z", SharedWith: []string{testAccount},
			Watermarks: []seedWatermark{seedWatermark{Key: otherAccount + ":golden-base", SourceImageID: lookalikeID,
				SourceImageRegion: r, SourceImageCreationTime: "2026-11-24T08:00:00Z", WatermarkCreationTime: "2026-11-24T09:00:00Z"}}},
		seedImage{Region: r, Account: otherAccount, ImageID: foreignID, Name: "golden-base-2026.11.25",
			CreationDate: "2026-11-25T08:00:00.000Z", SharedWith: []string{testAccount},
			SourceImageID: newBaseID, SourceImageRegion: r, SourceInstanceID: "i-0e2e000000000f125",
			Watermarks: []seedWatermark{baseMark}},
	)
	if ids[1] != newBaseID {
		t.Fatalf("seeded ids %v: want the given image ids back", ids)
	}
}

// TestSelectAttachAndRerun is scenarios 1 and 5 of issue 5.
//
// 1: the data source selects the newest golden base by watermark (not the
// newer derived app image, not the look-alikes, not the older base); a null
// build passes data.amiwatermark.base.id to the post-processor's image_ids;
// two names are attached; the keys are on the AMI with the AMI itself as
// their source. 5: running the same build again attaches nothing.
func TestSelectAttachAndRerun(t *testing.T) {
	forEachPacker(t, func(t *testing.T, p *stack) {
		p.resetEmulator(t)
		p.seedGoldenChain(t)
		tpl := testdata("select-and-attach.pkr.hcl")
		dir := t.TempDir()

		t.Run("validate", func(t *testing.T) {
			// Plain validate (data source outputs unknown, as in a user's CI)
			// and with the data sources evaluated (a real query to the emulator).
			for _, flags := range [][]string{{"validate"}, {"validate", "-evaluate-datasources"}} {
				r := p.runPacker(t, "", nil, append(flags, "-var", p.endpointVar(), tpl)...)
				if r.Code != 0 {
					t.Errorf("packer %s exited %d, want 0", strings.Join(r.Args, " "), r.Code)
					continue
				}
				mustContain(t, r, "The configuration is valid.")
			}
		})
		t.Run("inspect", func(t *testing.T) {
			r := p.runPacker(t, "", nil, "inspect", tpl)
			mustSucceed(t, r)
			mustContain(t, r, "var.endpoint", "null.x", "0: amiwatermark", "1: manifest")
		})
		p.resetStats(t)

		var firstAttach map[string]time.Time
		ok := t.Run("1_build_attaches_two_names", func(t *testing.T) {
			r := p.build(t, dir, tpl, p.endpointVar())
			mustSucceed(t, r)
			mustContain(t, r, newBaseID, "candidate", "ci-passed")

			// What the data source returned.
			m := readManifest(t, filepath.Join(dir, "manifest.json"))
			want := map[string]string{
				"id": newBaseID, "name": "golden-base-2026.11", "region": "us-east-1", "owner_id": testAccount,
				"matched_key": key("golden-base"), "matched_account": testAccount, "matched_name": "golden-base",
				"matched_source_image": newBaseID, "matched_source_region": "us-east-1", "watermark_count": "1",
			}
			for k, v := range want {
				if m[k] != v {
					t.Errorf("data source output %s = %q, want %q", k, m[k], v)
				}
			}

			// The emulator's state, through the SDK.
			img := p.wantKeys(t, "us-east-1", newBaseID, key("golden-base"), key("candidate"), key("ci-passed"))
			firstAttach = map[string]time.Time{}
			for _, name := range []string{"candidate", "ci-passed"} {
				w := watermarkOf(t, img, key(name))
				if got := aws.ToString(w.SourceImageId); got != newBaseID {
					t.Errorf("%s on %s: SourceImageId = %q, want the image itself", key(name), newBaseID, got)
				}
				if got := aws.ToString(w.SourceImageRegion); got != "us-east-1" {
					t.Errorf("%s on %s: SourceImageRegion = %q, want us-east-1", key(name), newBaseID, got)
				}
				if w.WatermarkCreationTime == nil {
					t.Errorf("%s on %s: no WatermarkCreationTime", key(name), newBaseID)
				} else {
					firstAttach[name] = *w.WatermarkCreationTime
				}
			}
			// Nothing else changed.
			p.wantKeys(t, "us-east-1", oldBaseID, key("golden-base"))
			p.wantKeys(t, "us-east-1", appID, key("golden-base"))
			p.wantKeys(t, "us-east-1", testBaseID, key("golden-base-test"))

			s := p.getStats(t)
			if got := s.Actions["AttachImageWatermark"] - s.DryRun["AttachImageWatermark"]; got != 2 {
				t.Errorf("AttachImageWatermark calls without DryRun = %d, want 2 (stats %+v)", got, s)
			}
			if got := s.Actions["DetachImageWatermark"]; got != 0 {
				t.Errorf("DetachImageWatermark calls = %d, want 0", got)
			}
			for region := range s.Regions {
				if region != "us-east-1" {
					t.Errorf("calls reached region %s (%v); only us-east-1 is involved", region, s.Regions[region])
				}
			}
		})
		if !ok {
			return // scenario 5 re-runs scenario 1
		}

		t.Run("5_rerun_attaches_nothing", func(t *testing.T) {
			p.resetStats(t)
			r := p.build(t, dir, tpl, p.endpointVar())
			mustSucceed(t, r)
			mustContain(t, r, newBaseID)
			s := p.getStats(t)
			if got := s.Actions["AttachImageWatermark"]; got != 0 {
				t.Errorf("re-run: AttachImageWatermark calls = %d, want 0 (stats %+v)", got, s)
			}
			if got := s.Actions["DetachImageWatermark"]; got != 0 {
				t.Errorf("re-run: DetachImageWatermark calls = %d, want 0", got)
			}
			if s.Actions["DescribeImages"] == 0 {
				t.Errorf("re-run: no DescribeImages call; the data source and the post-processor must look")
			}
			img := p.wantKeys(t, "us-east-1", newBaseID, key("golden-base"), key("candidate"), key("ci-passed"))
			for name, at := range firstAttach {
				w := watermarkOf(t, img, key(name))
				if w.WatermarkCreationTime == nil || !w.WatermarkCreationTime.Equal(at) {
					t.Errorf("re-run: %s was attached again (creation time %v, first %v)", key(name), w.WatermarkCreationTime, at)
				}
			}
		})
	})
}

// TestLimitRefusedBeforeAnyAttach is scenario 2: an AMI with 4 watermarks
// (3 of them inherited from other accounts) and 2 names requested. The build
// fails naming the AMI, and nothing is attached anywhere, not even to the
// healthy AMI in the other region.
func TestLimitRefusedBeforeAnyAttach(t *testing.T) {
	forEachPacker(t, func(t *testing.T, p *stack) {
		p.resetEmulator(t)
		const full, other = "ami-0e2e0000000010001", "ami-0e2e0000000020001"
		inh := func(acct, name, src string) seedWatermark {
			return seedWatermark{Key: acct + ":" + name, SourceImageID: src, SourceImageRegion: "us-west-2",
				SourceImageCreationTime: "2026-06-01T00:00:00Z", WatermarkCreationTime: "2026-06-02T00:00:00Z"}
		}
		p.seed(t,
			seedImage{Region: "us-east-1", Account: testAccount, ImageID: full, Name: "vendor-based-2026.11",
				CreationDate: "2026-11-10T00:00:00.000Z", SourceImageID: "ami-0aaa0000000000001", SourceImageRegion: "us-west-2",
				Watermarks: []seedWatermark{
					inh("999988887777", "vendor-hardened", "ami-0aaa0000000000001"),
					inh("999988887777", "vendor-cis-l1", "ami-0aaa0000000000001"),
					inh("888877776666", "scanner-ok", "ami-0aaa0000000000001"),
					{Key: "golden-base"},
				}},
			seedImage{Region: "eu-west-1", Account: testAccount, ImageID: other, Name: "other-2026.11",
				CreationDate: "2026-11-11T00:00:00.000Z", Watermarks: []seedWatermark{{Key: "golden-base"}}},
		)
		tpl := testdata("image-ids.pkr.hcl")
		kv := []string{p.endpointVar(), fmt.Sprintf(`image_ids={"us-east-1" = "%s", "eu-west-1" = "%s"}`, full, other), `watermarks=["candidate", "ci-passed"]`}

		mustSucceed(t, p.validate(t, tpl, kv...))
		p.resetStats(t)
		r := p.build(t, "", tpl, kv...)
		mustFail(t, r)
		// The message names the AMI and its region, the limit, and that nothing
		// was changed.
		mustContain(t, r, "us-east-1 "+full, "at most 5", "nothing was changed")

		s := p.getStats(t)
		if got := s.Actions["AttachImageWatermark"]; got != 0 {
			t.Errorf("AttachImageWatermark calls = %d, want 0: the plan must be refused before the first attach (stats %+v)", got, s)
		}
		if got := s.Actions["DetachImageWatermark"]; got != 0 {
			t.Errorf("DetachImageWatermark calls = %d, want 0", got)
		}
		if s.Actions["DescribeImages"] == 0 {
			t.Errorf("no DescribeImages call: the post-processor must describe the AMIs to plan")
		}
		p.wantKeys(t, "us-east-1", full, "999988887777:vendor-hardened", "999988887777:vendor-cis-l1",
			"888877776666:scanner-ok", key("golden-base"))
		p.wantKeys(t, "eu-west-1", other, key("golden-base"))
	})
}

// TestBadNamesFailValidate is scenario 3: names the AWS rule refuses fail at
// `packer validate`, with the plugin's message, before any AWS call.
func TestBadNamesFailValidate(t *testing.T) {
	forEachPacker(t, func(t *testing.T, p *stack) {
		tpl := testdata("names.pkr.hcl")
		long := strings.Repeat("a", 129)
		cases := []struct {
			name  string
			names string // HCL list
			want  []string
		}{
			{"colon", `["111122223333:golden"]`, []string{badNameColon(0, "111122223333:golden", "golden")}},
			{"two_chars", `["ab"]`, []string{badNameLength(0, "ab")}},
			{"129_chars", fmt.Sprintf(`["%s"]`, long), []string{badNameLength(0, long)}},
			{"duplicate", `["dup-name", "dup-name"]`,
				[]string{`watermarks[1]: "dup-name" is listed twice (also watermarks[0]): remove the duplicate`}},
			{"all_three_reported_together", fmt.Sprintf(`["a:bcd", "ab", "%s"]`, long),
				[]string{badNameColon(0, "a:bcd", "bcd"), badNameLength(1, "ab"), badNameLength(2, long)}},
		}
		p.resetEmulator(t)
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				r := p.validate(t, tpl, "names="+c.names)
				mustFail(t, r)
				mustContain(t, r, c.want...)
			})
		}
		t.Run("valid_names_pass", func(t *testing.T) {
			r := p.validate(t, tpl, `names=["abc", "golden base (v2) [x]./-'@_", "`+strings.Repeat("b", 128)+`"]`)
			mustSucceed(t, r)
		})
		if s := p.getStats(t); s.Total != 0 {
			t.Errorf("packer validate made %d EC2 calls (%v); name checks need none", s.Total, s.Actions)
		}
	})
}

// TestDataSourceRefusalsAndNoMatch is scenario 4: a key pattern with a
// wildcard account is refused (validate and build) unless allow_any_account;
// when nothing matches, the error shows the query, and when images matched the
// key but failed a condition it says how many failed which condition.
func TestDataSourceRefusalsAndNoMatch(t *testing.T) {
	forEachPacker(t, func(t *testing.T, p *stack) {
		p.resetEmulator(t)
		p.seedGoldenChain(t)
		tpl := testdata("select.pkr.hcl")

		for _, pattern := range []string{"*:golden-base", "1111*:golden-base"} {
			t.Run("wildcard_account_refused_"+pattern, func(t *testing.T) {
				p.resetStats(t)
				kv := []string{p.endpointVar(), fmt.Sprintf(`keys=["%s"]`, pattern)}
				r := p.validate(t, tpl, kv...)
				mustFail(t, r)
				mustContain(t, r, wildcardAccountRefused(pattern)...)
				r = p.build(t, "", tpl, kv...)
				mustFail(t, r)
				mustContain(t, r, wildcardAccountRefused(pattern)...)
				if s := p.getStats(t); s.Actions["DescribeImages"] != 0 {
					t.Errorf("a refused pattern still queried EC2 (%v)", s.Actions)
				}
			})
		}

		t.Run("allow_any_account_accepts_the_lookalike", func(t *testing.T) {
			// This is why the account is literal by default: with any account
			// allowed and the other account listed in owners, its look-alike is
			// the newest image with a watermark named golden-base.
			dir := t.TempDir()
			kv := []string{p.endpointVar(), `keys=["*:golden-base"]`, "allow_any_account=true",
				fmt.Sprintf(`owners=["self", "%s"]`, otherAccount)}
			mustSucceed(t, p.validate(t, tpl, kv...))
			mustSucceed(t, p.build(t, dir, tpl, kv...))
			m := readManifest(t, filepath.Join(dir, "manifest.json"))
			if m["id"] != lookalikeID || m["matched_key"] != otherAccount+":golden-base" {
				t.Errorf("selected %q with key %q, want the look-alike %s with %s:golden-base", m["id"], m["matched_key"], lookalikeID, otherAccount)
			}
		})

		t.Run("no_match_shows_the_query", func(t *testing.T) {
			kv := []string{p.endpointVar(), `keys=["111122223333:no-such-name"]`, `filters={"name" = "golden-*"}`}
			// Plain validate does not run data sources.
			mustSucceed(t, p.validate(t, tpl, kv...))
			r := p.runPacker(t, "", nil, append(append([]string{"validate", "-evaluate-datasources"}, vars(kv...)...), tpl)...)
			mustFail(t, r)
			query := []string{"no image in us-east-1 matches the query", "region: us-east-1", "owners: self",
				"watermark_keys: 111122223333:no-such-name", "filters: name = golden-*", "lineage: attached"}
			mustContain(t, r, query...)
			r = p.build(t, "", tpl, kv...)
			mustFail(t, r)
			mustContain(t, r, query...)
		})

		t.Run("conditions_failed_are_counted", func(t *testing.T) {
			// Every golden-base watermark in the chain was attached more than 7
			// days ago (in September and on 2026-11-01); the app image also fails
			// lineage.
			kv := []string{p.endpointVar(), `keys=["111122223333:golden-base"]`, "max_watermark_age_days=7"}
			r := p.build(t, "", tpl, kv...)
			mustFail(t, r)
			mustContain(t, r, noMatchConditions()...)
		})
	})
}

// TestPromotion is scenario 6: select the candidate in two regions, detach
// `candidate` and attach `approved` on both (the eu-west-1 image is a copy
// that inherited `candidate`), then a second template selects by `approved`.
func TestPromotion(t *testing.T) {
	forEachPacker(t, func(t *testing.T, p *stack) {
		p.resetEmulator(t)
		const (
			oldUse1  = "ami-0e2e00000000a0a01" // approved in October
			candUse1 = "ami-0e2e00000000a0b01" // candidate, us-east-1
			oldEuw1  = "ami-0e2e00000000e0a01" // approved in October, eu-west-1 copy
			candEuw1 = "ami-0e2e00000000e0b01" // CopyImage of candUse1, inherited candidate
		)
		p.seed(t,
			seedImage{Region: "us-east-1", Account: testAccount, ImageID: oldUse1, Name: "base-2026.10",
				CreationDate: "2026-10-01T00:00:00.000Z", Watermarks: []seedWatermark{{Key: "approved"}}},
			seedImage{Region: "us-east-1", Account: testAccount, ImageID: candUse1, Name: "base-2026.11",
				CreationDate: "2026-11-01T00:00:00.000Z", Watermarks: []seedWatermark{{Key: "candidate"}}},
			seedImage{Region: "eu-west-1", Account: testAccount, ImageID: oldEuw1, Name: "base-2026.10",
				CreationDate: "2026-10-01T02:00:00.000Z", Watermarks: []seedWatermark{{Key: "approved"}}},
			seedImage{Region: "eu-west-1", Account: testAccount, ImageID: candEuw1, Name: "base-2026.11",
				CreationDate: "2026-11-01T02:00:00.000Z", SourceImageID: candUse1, SourceImageRegion: "us-east-1",
				Watermarks: []seedWatermark{seedWatermark{Key: key("candidate"), SourceImageID: candUse1, SourceImageRegion: "us-east-1",
					SourceImageCreationTime: "2026-11-01T00:00:00Z", WatermarkCreationTime: "2026-11-01T01:00:00Z"}}},
		)
		promote := testdata("promote.pkr.hcl")
		sel := testdata("select.pkr.hcl")

		if r := p.validate(t, promote, p.endpointVar()); r.Code != 0 {
			t.Errorf("packer %s exited %d, want 0", strings.Join(r.Args, " "), r.Code)
		}
		r := p.runPacker(t, "", nil, "inspect", promote)
		mustSucceed(t, r)
		// packer 1.9 inspect lists variables, sources and post-processors (not
		// data sources).
		mustContain(t, r, "var.endpoint", "null.promote", "0: amiwatermark")

		p.resetStats(t)
		r = p.build(t, "", promote, p.endpointVar())
		mustSucceed(t, r)
		mustContain(t, r, candUse1, candEuw1)

		for _, c := range []struct{ region, id string }{{"us-east-1", candUse1}, {"eu-west-1", candEuw1}} {
			img := p.wantKeys(t, c.region, c.id, key("approved"))
			w := watermarkOf(t, img, key("approved"))
			if aws.ToString(w.SourceImageId) != c.id || aws.ToString(w.SourceImageRegion) != c.region {
				t.Errorf("approved on %s: source %s/%s, want the image itself", c.id,
					aws.ToString(w.SourceImageRegion), aws.ToString(w.SourceImageId))
			}
		}
		p.wantKeys(t, "us-east-1", oldUse1, key("approved"))
		p.wantKeys(t, "eu-west-1", oldEuw1, key("approved"))
		// One detach and one attach per region, each first checked with
		// DryRun (the permission check before any change).
		s := p.getStats(t)
		for _, region := range []string{"us-east-1", "eu-west-1"} {
			if got := s.Regions[region]["DetachImageWatermark"]; got != 2 {
				t.Errorf("%s: DetachImageWatermark calls = %d, want 1 and its DryRun check (stats %+v)", region, got, s)
			}
			if got := s.Regions[region]["AttachImageWatermark"]; got != 2 {
				t.Errorf("%s: AttachImageWatermark calls = %d, want 1 and its DryRun check", region, got)
			}
		}
		if s.DryRun["DetachImageWatermark"] != 2 || s.DryRun["AttachImageWatermark"] != 2 {
			t.Errorf("DryRun checks = %v, want one per call", s.DryRun)
		}

		// The second template selects by approved: the promoted images, newer
		// than October's.
		for _, c := range []struct{ region, id string }{{"us-east-1", candUse1}, {"eu-west-1", candEuw1}} {
			dir := t.TempDir()
			r := p.build(t, dir, sel, p.endpointVar(), "region="+c.region, `keys=["111122223333:approved"]`)
			mustSucceed(t, r)
			m := readManifest(t, filepath.Join(dir, "manifest.json"))
			if m["id"] != c.id || m["matched_key"] != key("approved") {
				t.Errorf("%s: approved selects %q (key %q), want %s", c.region, m["id"], m["matched_key"], c.id)
			}
		}
		// And no candidate is left.
		r = p.build(t, "", sel, p.endpointVar(), `keys=["111122223333:candidate"]`)
		mustFail(t, r)
	})
}

// The messages the plugin must print (issue 3 and 4: name what is wrong and
// how to fix it).

func badNameColon(i int, name, bare string) string {
	return fmt.Sprintf(`watermarks[%d]: watermark name %q contains ':': give the name only (for example %q); `+
		`AWS adds the account id itself and the key becomes ACCOUNT:NAME`, i, name, bare)
}

func badNameLength(i int, name string) string {
	return fmt.Sprintf(`watermarks[%d]: watermark name %q is %d characters long: a name must be 3-128 characters`, i, name, len(name))
}

func wildcardAccountRefused(pattern string) []string {
	acct, _, _ := strings.Cut(pattern, ":")
	return []string{
		fmt.Sprintf(`watermark_keys[0]: watermark key pattern %q: the account part %q is not a literal 12-digit account id.`, pattern, acct),
		"so it is the one part of a key nobody else can forge",
		"or set allow_any_account = true",
	}
}

func noMatchConditions() []string {
	return []string{
		"no image in us-east-1 matches the query",
		"max_watermark_age_days: 7",
		"3 images returned by EC2 for this query were rejected",
		"whose matching watermark was attached more than max_watermark_age_days = 7 days ago",
	}
}

// TestExamples runs `packer init` and validates every template in example/
// (pipeline.pkr.hcl starts a real instance, so it is only validated and
// inspected) and runs the demo
// flow on example/demo-seed.json: candidate, verify (fails: nothing approved
// yet), promote, verify, the amazon-ebs application build of
// emulated-pipeline.pkr.hcl, and verify again. The examples take their credentials from the
// environment, as a user's would.
func TestExamples(t *testing.T) {
	forEachPacker(t, func(t *testing.T, p *stack) {
		p.resetEmulator(t)
		p.seedFile(t, example("demo-seed.json"))
		creds := []string{"AWS_ACCESS_KEY_ID=" + testAccessKey, "AWS_SECRET_ACCESS_KEY=" + testSecretKey}
		ep := []string{"-var", "ec2_endpoint=" + p.emuURL}
		run := func(dir string, args ...string) result {
			t.Helper()
			return p.runPacker(t, dir, creds, args...)
		}
		const (
			basePrimary = "ami-0b45e0000000a1101"
			baseCopy    = "ami-0b45e0000000e1101"
			oldPrimary  = "ami-0b45e0000000a0901"
			oldCopy     = "ami-0b45e0000000e0901"
			app         = "ami-0a99e0000000a1120"
			lookalike   = "ami-0bad00000000a1124"
		)

		// As a user runs them: `packer init` (both plugins are installed
		// already, from local builds, so it must find them and download
		// nothing), then validate.
		for _, name := range []string{"pipeline", "candidate", "promote", "verify", "emulated-pipeline"} {
			t.Run("init_"+name, func(t *testing.T) {
				r := run("", "init", example(name+".pkr.hcl"))
				mustSucceed(t, r)
				if strings.Contains(r.Output(), "Installed plugin") {
					t.Errorf("packer init downloaded a plugin; both are installed from local builds")
				}
			})
			t.Run("validate_"+name, func(t *testing.T) {
				r := run("", append(append([]string{"validate"}, ep...), example(name+".pkr.hcl"))...)
				mustSucceed(t, r)
				mustContain(t, r, "The configuration is valid.")
			})
		}
		t.Run("inspect_pipeline", func(t *testing.T) {
			r := run("", "inspect", example("pipeline.pkr.hcl"))
			mustSucceed(t, r)
			mustContain(t, r, `var.build_account_id: "111122223333"`, "amazon-ebs.app", "shell", "0: amiwatermark")
		})

		dir := t.TempDir()
		p.resetStats(t)
		r := run(dir, append(append([]string{"build", "-color=false"}, ep...), example("candidate.pkr.hcl"))...)
		mustSucceed(t, r)
		m := readManifest(t, filepath.Join(dir, "candidate-manifest.json"))
		if m["primary_id"] != basePrimary || m["copy_id"] != baseCopy {
			t.Fatalf("candidate.pkr.hcl selected %s (us-east-1) and %s (eu-west-1), want %s and %s",
				m["primary_id"], m["copy_id"], basePrimary, baseCopy)
		}
		if m["primary_matched_key"] != key("golden-base") || m["copy_source_image_id"] != basePrimary {
			t.Errorf("candidate manifest %v: want matched key %s and the copy's watermark source %s", m, key("golden-base"), basePrimary)
		}
		p.wantKeys(t, "us-east-1", basePrimary, key("golden-base"), key("candidate"))
		p.wantKeys(t, "eu-west-1", baseCopy, key("golden-base"), key("candidate"))
		p.wantKeys(t, "us-east-1", oldPrimary, key("golden-base"))
		p.wantKeys(t, "eu-west-1", oldCopy, key("golden-base"))
		p.wantKeys(t, "us-east-1", app, key("golden-base"))
		if s := p.getStats(t); s.Actions["AttachImageWatermark"]-s.DryRun["AttachImageWatermark"] != 2 {
			got := s.Actions["AttachImageWatermark"] - s.DryRun["AttachImageWatermark"]
			t.Errorf("candidate.pkr.hcl: AttachImageWatermark calls = %d, want 2", got)
		}

		// Nothing is approved yet: verify.pkr.hcl must fail the build.
		r = run(dir, append(append([]string{"build", "-color=false"}, ep...), example("verify.pkr.hcl"))...)
		mustFail(t, r)
		mustContain(t, r, "no image in us-east-1 matches the query", key("approved"))

		r = run(dir, append(append([]string{"build", "-color=false"}, ep...), example("promote.pkr.hcl"))...)
		mustSucceed(t, r)
		p.wantKeys(t, "us-east-1", basePrimary, key("golden-base"), key("approved"))
		p.wantKeys(t, "eu-west-1", baseCopy, key("golden-base"), key("approved"))

		r = run(dir, append(append([]string{"build", "-color=false"}, ep...), example("verify.pkr.hcl"))...)
		mustSucceed(t, r)
		m = readManifest(t, filepath.Join(dir, "verify-manifest.json"))
		if m["approved_id"] != basePrimary || m["approved_key"] != key("approved") {
			t.Errorf("verify.pkr.hcl selected %q (key %q), want %s", m["approved_id"], m["approved_key"], basePrimary)
		}
		if want := key("golden-base") + ", " + key("approved"); m["all_watermarks"] != want {
			t.Errorf("verify.pkr.hcl: all_watermarks = %q, want %q", m["all_watermarks"], want)
		}
		p.wantKeys(t, "us-east-1", lookalike, otherAccount+":golden-base")

		// The application build of the demo: amazon-ebs on the approved base
		// (CreateImage + CopyImage inherit its keys), then app-web attached.
		r = p.runPacker(t, dir, append(creds, p.ebsEnv()...),
			append(append([]string{"build", "-color=false"}, ep...), example("emulated-pipeline.pkr.hcl"))...)
		mustSucceed(t, r)
		entry := manifestBuild(t, filepath.Join(dir, "emulated-pipeline-manifest.json"))
		if entry.CustomData["base_id"] != basePrimary {
			t.Errorf("emulated-pipeline.pkr.hcl built on %q, want the approved base %s", entry.CustomData["base_id"], basePrimary)
		}
		targets := strings.Split(entry.ArtifactID, ",")
		if len(targets) != 2 {
			t.Fatalf("emulated-pipeline artifact_id %q: want one AMI in each of 2 regions", entry.ArtifactID)
		}
		for _, target := range targets {
			region, id, _ := strings.Cut(target, ":")
			img := p.wantKeys(t, region, id, key("golden-base"), key("approved"), key("app-web"))
			if w := watermarkOf(t, img, key("approved")); aws.ToString(w.SourceImageId) != basePrimary {
				t.Errorf("%s %s: inherited %s has source %s, want the base %s", region, id, key("approved"), aws.ToString(w.SourceImageId), basePrimary)
			}
		}
		// The application AMIs carry approved (inherited) and are newer, yet the
		// base is still the answer of verify.pkr.hcl (lineage = "attached").
		r = run(dir, append(append([]string{"build", "-color=false"}, ep...), example("verify.pkr.hcl"))...)
		mustSucceed(t, r)
		if m = readManifest(t, filepath.Join(dir, "verify-manifest.json")); m["approved_id"] != basePrimary {
			t.Errorf("after the application build verify.pkr.hcl selected %q, want the base %s", m["approved_id"], basePrimary)
		}
	})
}

// TestTemplatesFormatted keeps every template in e2e/testdata and example/
// in `packer fmt` form, as a user copying them would expect.
func TestTemplatesFormatted(t *testing.T) {
	forEachPacker(t, func(t *testing.T, p *stack) {
		for _, dir := range []string{filepath.Join(root, "e2e", "testdata"), filepath.Join(root, "example")} {
			r := p.runPacker(t, "", nil, "fmt", "-check", "-diff", dir)
			if r.Code != 0 {
				t.Errorf("packer fmt -check %s: exit %d; run `bin/packer fmt %s`", dir, r.Code, dir)
			}
		}
	})
}
