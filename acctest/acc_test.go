package acctest

import (
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// TestAccSelectAndAttach is e2e scenarios 1 and 5 against AWS: the data
// source picks the newest of two bases carrying the run's golden key, the
// post-processor attaches two names to it (and to a base in the second
// region when one is configured); a second run attaches nothing.
func TestAccSelectAndAttach(t *testing.T) {
	s := setup(t)
	golden := s.wm("golden")
	old := s.registerAMI(t, s.region, "base-old")
	s.attach(t, s.region, old, golden)
	newer := s.registerAMI(t, s.region, "base-new")
	s.attach(t, s.region, newer, golden)
	extra := map[string]string{}
	if s.second != "" {
		extra[s.second] = s.registerAMI(t, s.second, "base-second")
	}
	names := []string{s.wm("candidate"), s.wm("ci-passed")}
	vars := func() map[string]any {
		return map[string]any{
			"region":          s.region,
			"key":             s.key(golden),
			"filters":         map[string]string{"name": s.name("base-*")},
			"extra_image_ids": extra,
			"watermarks":      names,
		}
	}

	r := s.packerRun(t, "build", "select-and-attach.pkr.hcl", vars()).ok(t)
	m := r.manifest(t)
	if m["id"] != newer {
		t.Errorf("the data source selected %s, want the newest base %s (the older one is %s)", m["id"], newer, old)
	}
	if m["matched_key"] != s.key(golden) {
		t.Errorf("matched_watermark.key = %q, want %q", m["matched_key"], s.key(golden))
	}

	targets := map[string]string{s.region: newer}
	for region, id := range extra {
		targets[region] = id
	}
	created := map[string]string{}
	for region, id := range targets {
		wms := s.watermarks(t, region, id)
		for _, n := range names {
			w, ok := wms[s.key(n)]
			if !ok {
				t.Errorf("%s %s: key %s is missing after the build; it has %v", region, id, s.key(n), keysOf(wms))
				continue
			}
			if aws.ToString(w.SourceImageId) != id || aws.ToString(w.SourceImageRegion) != region {
				t.Errorf("%s %s: key %s has source %s/%s, want the AMI itself", region, id, s.key(n), aws.ToString(w.SourceImageRegion), aws.ToString(w.SourceImageId))
			}
			created[region+"/"+n] = aws.ToTime(w.WatermarkCreationTime).String()
		}
	}
	if wms := s.watermarks(t, s.region, old); len(wms) != 1 {
		t.Errorf("%s %s (the older base) has %v; the build must not touch it", s.region, old, keysOf(wms))
	}

	// Scenario 5: the same build again changes nothing.
	s.packerRun(t, "build", "select-and-attach.pkr.hcl", vars()).ok(t)
	for region, id := range targets {
		wms := s.watermarks(t, region, id)
		if len(wms) != len(names)+boolInt(region == s.region) {
			t.Errorf("%s %s: after the second run the AMI has %v", region, id, keysOf(wms))
		}
		for _, n := range names {
			if got := aws.ToTime(wms[s.key(n)].WatermarkCreationTime).String(); got != created[region+"/"+n] {
				t.Errorf("%s %s: %s was attached again by the second run (creation time %s, was %s)", region, id, s.key(n), got, created[region+"/"+n])
			}
		}
	}
}

// TestAccLimit is e2e scenario 2: an AMI that already carries 4 watermarks
// cannot take 2 more; the build fails naming the AMI and changes nothing, in
// any region.
func TestAccLimit(t *testing.T) {
	s := setup(t)
	full := s.registerAMI(t, s.region, "full")
	var have []string
	for i := 1; i <= 4; i++ {
		have = append(have, s.wm("w"+string(rune('0'+i))))
	}
	s.attach(t, s.region, full, have...)
	ids := map[string]string{s.region: full}
	if s.second != "" {
		ids[s.second] = s.registerAMI(t, s.second, "roomy")
	}
	names := []string{s.wm("candidate"), s.wm("ci-passed")}

	r := s.packerRun(t, "build", "image-ids.pkr.hcl", map[string]any{
		"region": s.region, "image_ids": ids, "watermarks": names,
	}).fails(t)
	r.contains(t, full)

	if wms := s.watermarks(t, s.region, full); len(wms) != 4 {
		t.Errorf("%s %s has %v after the refused build, want the 4 it had", s.region, full, keysOf(wms))
	}
	if s.second != "" {
		if wms := s.watermarks(t, s.second, ids[s.second]); len(wms) != 0 {
			t.Errorf("%s %s has %v after the refused build: nothing may change in any region", s.second, ids[s.second], keysOf(wms))
		}
	}
}

// TestAccBadNames is e2e scenario 3: invalid names fail `packer validate`.
func TestAccBadNames(t *testing.T) {
	s := setup(t)
	for _, tc := range []struct {
		name string
		want []string
	}{
		{"123456789012:golden", []string{"123456789012:golden", "account id"}},
		{"ab", []string{`"ab"`, "3-128"}},
		{strings.Repeat("n", 129), []string{"129", "3-128"}},
	} {
		r := s.packerRun(t, "validate", "image-ids.pkr.hcl", map[string]any{
			"region":     s.region,
			"image_ids":  map[string]string{s.region: "ami-0123456789abcdef0"},
			"watermarks": []string{tc.name},
		}).fails(t)
		r.contains(t, tc.want...)
	}
}

// TestAccDataSourceRefusals is e2e scenario 4: a wildcard account is refused
// at validate time, and a query that matches nothing fails with the query
// in the message.
func TestAccDataSourceRefusals(t *testing.T) {
	s := setup(t)
	// The account is learnt from the first AMI; this test needs none, so it
	// uses a fixed one for the no-match key.
	acct := s.account
	if acct == "" {
		acct = "123456789012"
	}
	r := s.packerRun(t, "validate", "select.pkr.hcl", map[string]any{
		"region": s.region, "keys": []string{"*:" + s.wm("golden")}, "filters": map[string]string{"name": s.name("*")},
	}).fails(t)
	r.contains(t, "*:"+s.wm("golden"), "12-digit")

	missing := acct + ":" + s.wm("nothing")
	r = s.packerRun(t, "build", "select.pkr.hcl", map[string]any{
		"region": s.region, "keys": []string{missing}, "filters": map[string]string{"name": s.name("*")},
	}).fails(t)
	r.contains(t, missing, s.region, "self")
}

// TestAccPromote is e2e scenario 6: detach candidate, attach approved, then
// a second template selects the image by approved.
func TestAccPromote(t *testing.T) {
	s := setup(t)
	cand, appr := s.wm("candidate"), s.wm("approved")
	id := s.registerAMI(t, s.region, "promote")
	s.attach(t, s.region, id, cand)

	// select-and-attach.pkr.hcl as a promotion: select by the candidate
	// key, detach it (a bare name: this account's key), attach approved.
	s.packerRun(t, "build", "select-and-attach.pkr.hcl", map[string]any{
		"region": s.region, "key": s.key(cand), "detach": []string{cand}, "watermarks": []string{appr},
		"filters": map[string]string{"name": s.name("promote")},
	}).ok(t)
	wms := s.watermarks(t, s.region, id)
	if _, ok := wms[s.key(cand)]; ok {
		t.Errorf("%s %s still carries %s after the promotion (if an SCP denies ec2:DetachImageWatermark here, run the acceptance tests in an account where the test role may detach)", s.region, id, s.key(cand))
	}
	if _, ok := wms[s.key(appr)]; !ok {
		t.Errorf("%s %s does not carry %s after the promotion; it has %v", s.region, id, s.key(appr), keysOf(wms))
	}

	r := s.packerRun(t, "build", "select.pkr.hcl", map[string]any{
		"region": s.region, "keys": []string{s.key(appr)}, "filters": map[string]string{"name": s.name("promote")},
	}).ok(t)
	if got := r.manifest(t)["id"]; got != id {
		t.Errorf("selecting by %s returned %s, want the promoted %s", s.key(appr), got, id)
	}
}

// TestAccCopyLineage checks, with a real cross-region CopyImage, that a
// direct copy of the watermarked image is accepted with lineage "attached"
// in the other region. It needs AMIWATERMARK_ACC_SECOND_REGION.
func TestAccCopyLineage(t *testing.T) {
	s := setup(t)
	if s.second == "" {
		t.Skip("needs a second region: set AMIWATERMARK_ACC_SECOND_REGION (for example eu-west-1) and run `make testacc`")
	}
	golden := s.wm("golden-copy")
	base := s.registerAMI(t, s.region, "copy-src")
	s.attach(t, s.region, base, golden)
	cp := s.copyAMI(t, s.region, base, s.second, "copy-dst")

	r := s.packerRun(t, "build", "select.pkr.hcl", map[string]any{
		"region": s.second, "keys": []string{s.key(golden)}, "lineage": "attached", "filters": map[string]string{"name": s.name("copy-*")},
	}).ok(t)
	if got := r.manifest(t)["id"]; got != cp {
		t.Errorf("lineage attached in %s selected %s, want the copy %s of %s", s.second, got, cp, base)
	}
}

func keysOf[V any](m map[string]V) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	return ks
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
