package amiwatermark

import (
	"reflect"
	"strings"
	"testing"

	"github.com/amiwatermark/packer-plugin-amiwatermark/internal/amiref"
	"github.com/amiwatermark/packer-plugin-amiwatermark/internal/testkit"
)

func TestParseArtifactID(t *testing.T) {
	const a1, a2 = "ami-0123456789abcdef0", "ami-0fedcba9876543210"
	cases := []struct {
		id   string
		want []Target
		err  string
	}{
		{id: "us-east-1:" + a1, want: []Target{{Region: "us-east-1", ImageID: a1}}},
		{id: "us-east-1:" + a1 + ",eu-west-1:" + a2, want: []Target{{Region: "us-east-1", ImageID: a1}, {Region: "eu-west-1", ImageID: a2}}},
		{id: " us-east-1 : " + a1 + " , eu-west-1:" + a2 + " ", want: []Target{{Region: "us-east-1", ImageID: a1}, {Region: "eu-west-1", ImageID: a2}}},
		{id: "us-east-1:ami-12345678", want: []Target{{Region: "us-east-1", ImageID: "ami-12345678"}}},
		{id: "us-east-1:" + a1 + ",us-east-1:" + a2, want: []Target{{Region: "us-east-1", ImageID: a1}, {Region: "us-east-1", ImageID: a2}}},
		{id: "", err: "the artifact id is empty: the build produced no AMI to watermark; check the build, or name the AMIs with image_ids"},
		{id: "   ", err: "the artifact id is empty: the build produced no AMI to watermark; check the build, or name the AMIs with image_ids"},
		{id: "us-east-1:" + a1 + ",", err: `artifact id "us-east-1:ami-0123456789abcdef0,": entry 2 is empty: expected REGION:AMI_ID entries separated by commas`},
		{id: a1, err: `artifact id "ami-0123456789abcdef0": entry 1 "ami-0123456789abcdef0" has no region: expected REGION:AMI_ID, for example us-east-1:ami-0123456789abcdef0`},
		{id: ":" + a1, err: `artifact id ":ami-0123456789abcdef0": entry 1: "" is not a region name (expected REGION:AMI_ID, for example us-east-1:ami-0123456789abcdef0)`},
		{id: "us-east-1:vol-0123456789abcdef0", err: `artifact id "us-east-1:vol-0123456789abcdef0": entry 1: "vol-0123456789abcdef0" is not an AMI id (expected ami- followed by 8 or 17 hexadecimal digits, for example ami-0123456789abcdef0)`},
		{id: "us-east-1:", err: `artifact id "us-east-1:": entry 1: "" is not an AMI id (expected ami- followed by 8 or 17 hexadecimal digits, for example ami-0123456789abcdef0)`},
		{id: "us-east-1:ami-xyz", err: `artifact id "us-east-1:ami-xyz": entry 1: "ami-xyz" is not an AMI id (expected ami- followed by 8 or 17 hexadecimal digits, for example ami-0123456789abcdef0)`},
		{id: "us-east-1:" + a1 + ":extra", err: `artifact id "us-east-1:ami-0123456789abcdef0:extra": entry 1: "ami-0123456789abcdef0:extra" is not an AMI id (expected ami- followed by 8 or 17 hexadecimal digits, for example ami-0123456789abcdef0)`},
		{id: "us-east-1:" + a1 + ",us-east-1:" + a1, err: `artifact id "us-east-1:ami-0123456789abcdef0,us-east-1:ami-0123456789abcdef0": entry 2 repeats ami-0123456789abcdef0 (already entry 1): an AMI can be listed once`},
		{id: "us-east-1:" + a1 + ",eu-west-1:" + a1, err: `artifact id "us-east-1:ami-0123456789abcdef0,eu-west-1:ami-0123456789abcdef0": entry 2 repeats ami-0123456789abcdef0 (already entry 1): an AMI can be listed once`},
	}
	for _, tc := range cases {
		got, err := ParseArtifactID(tc.id)
		if tc.err != "" {
			if err == nil || err.Error() != tc.err {
				t.Errorf("ParseArtifactID(%q) error = %v,\n want %s", tc.id, err, tc.err)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("ParseArtifactID(%q) = %v, %v; want %v", tc.id, got, err, tc.want)
		}
	}
}

// FuzzParseArtifactID: never panics; a success is a non-empty list of
// distinct, well-formed region/AMI pairs, and rendering it back parses to
// the same list.
func FuzzParseArtifactID(f *testing.F) {
	for _, s := range []string{"us-east-1:ami-0123456789abcdef0", "a:b,c:d", "", ",", ":", "us-east-1:ami-12345678,eu-west-1:ami-87654321", "x:ami-", "\xff:ami-12345678"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, id string) {
		ts, err := ParseArtifactID(id)
		if err != nil {
			if ts != nil {
				t.Fatalf("targets %v with error %v", ts, err)
			}
			if !strings.Contains(err.Error(), "artifact id") {
				t.Fatalf("error does not say it is about the artifact id: %v", err)
			}
			return
		}
		if len(ts) == 0 {
			t.Fatalf("no targets and no error for %q", id)
		}
		seen := map[string]bool{}
		var parts []string
		for _, tg := range ts {
			if !amiref.IsAMIID(tg.ImageID) || tg.Region == "" || seen[tg.ImageID] {
				t.Fatalf("bad target %+v from %q", tg, id)
			}
			seen[tg.ImageID] = true
			parts = append(parts, tg.Region+":"+tg.ImageID)
		}
		again, err := ParseArtifactID(strings.Join(parts, ","))
		if err != nil || !reflect.DeepEqual(again, ts) {
			t.Fatalf("round trip of %q: %v, %v", id, again, err)
		}
	})
}

func TestTargetsFromArtifact(t *testing.T) {
	for _, b := range []string{"mitchellh.amazonebs", "mitchellh.amazon.ebssurrogate", "mitchellh.amazon.chroot", "mitchellh.amazon.instance", "packer.post-processor.amazon-import"} {
		ts, err := targetsFromArtifact(&testkit.Artifact{Builder: b, ID: "us-east-1:ami-12345678"})
		if err != nil || len(ts) != 1 {
			t.Errorf("%s: %v, %v", b, ts, err)
		}
	}
	want := `artifact of builder "mitchellh.amazon.ebsvolume" is not supported: amiwatermark reads AMI ids from the artifacts of mitchellh.amazonebs, mitchellh.amazon.ebssurrogate, mitchellh.amazon.chroot, mitchellh.amazon.instance, packer.post-processor.amazon-import (mitchellh.amazon.ebsvolume is refused: it produces EBS volumes, not AMIs); for any other build name the AMIs with image_ids = { "REGION" = "ami-..." }`
	_, err := targetsFromArtifact(&testkit.Artifact{Builder: "mitchellh.amazon.ebsvolume", ID: "us-east-1:vol-12345678"})
	if err == nil || err.Error() != want {
		t.Errorf("ebsvolume: %v\nwant %s", err, want)
	}
	if _, err := targetsFromArtifact(&testkit.Artifact{Builder: "packer.null"}); err == nil || !strings.Contains(err.Error(), `"packer.null" is not supported`) {
		t.Errorf("null: %v", err)
	}
	if _, err := targetsFromArtifact(nil); err == nil {
		t.Error("nil artifact accepted")
	}
	if _, err := targetsFromArtifact(&testkit.Artifact{Builder: "mitchellh.amazonebs", ID: ""}); err == nil {
		t.Error("empty id accepted")
	}
}

func TestOutputArtifact(t *testing.T) {
	in := &testkit.Artifact{Builder: "mitchellh.amazonebs", ID: "us-east-1:ami-12345678", FileList: []string{"f"}, StateData: map[string]interface{}{
		"generated_data":        map[string]interface{}{"SourceAMI": "ami-87654321", "Count": 3},
		"par.artifact.metadata": "x",
		"other":                 "y",
	}}
	keys := map[string]map[string][]string{"us-east-1": {"ami-12345678": {"111122223333:golden", "444455556666:base"}}}
	a := NewArtifact(in, keys)
	// The input is an RPC client that stops answering once PostProcess
	// returns: everything must have been copied already.
	in.Builder, in.ID, in.StateData, in.FileList = "", "", nil, nil
	if a.BuilderId() != "mitchellh.amazonebs" || a.Id() != "us-east-1:ami-12345678" || !reflect.DeepEqual(a.Files(), []string{"f"}) {
		t.Fatalf("artifact does not carry the input's identity: %q %q %v", a.BuilderId(), a.Id(), a.Files())
	}
	if want := "AMIs were created:\nus-east-1:ami-12345678\nAMI watermarks:\nus-east-1: ami-12345678: 111122223333:golden, 444455556666:base"; a.String() != want {
		t.Fatalf("String() = %q, want %q", a.String(), want)
	}
	want := map[string]string{"us-east-1:ami-12345678": "111122223333:golden,444455556666:base"}
	if got := a.State("amiwatermark"); !reflect.DeepEqual(got, want) {
		t.Fatalf("State(amiwatermark) = %#v, want %#v", got, want)
	}
	keys["us-east-1"]["ami-12345678"][0] = "changed"
	if got := a.State("amiwatermark"); !reflect.DeepEqual(got, want) {
		t.Fatal("the artifact shares the caller's key map")
	}
	gd := a.State("generated_data").(map[string]interface{})
	if !reflect.DeepEqual(gd, map[string]interface{}{"SourceAMI": "ami-87654321", "WatermarkKeys": "111122223333:golden,444455556666:base"}) {
		t.Fatalf("generated_data = %v", gd)
	}
	if a.State("par.artifact.metadata") != "x" || a.State("other") != nil {
		t.Fatal("registry metadata is not kept, or other state is answered")
	}
	if err := a.Destroy(); err != nil || in.Destroyed {
		t.Fatal("Destroy must be a no-op")
	}
	// An input without generated_data still yields WatermarkKeys.
	b := NewArtifact(&testkit.Artifact{Builder: "packer.null"}, map[string]map[string][]string{"eu-west-1": {"ami-87654321": nil}})
	if gd := b.State("generated_data").(map[string]interface{}); gd["WatermarkKeys"] != "" || len(gd) != 1 {
		t.Fatalf("generated_data = %v", gd)
	}
	if !strings.HasSuffix(b.String(), "eu-west-1: ami-87654321: (none)") {
		t.Fatalf("String() = %q", b.String())
	}
}
