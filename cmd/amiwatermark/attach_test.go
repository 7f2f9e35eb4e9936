package main

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/amiwatermark/packer-plugin-amiwatermark/internal/ec2emu"
)

// sdkImage describes one AMI through the SDK as the caller (acctMe).
func (e *emu) sdkImage(region, id string) types.Image {
	e.t.Helper()
	out, err := e.EC2(region, acctMe).DescribeImages(ctxT(e.t), &ec2.DescribeImagesInput{ImageIds: []string{id}})
	if err != nil || len(out.Images) != 1 {
		e.t.Fatalf("DescribeImages %s %s: %v (%d images)", region, id, err, len(out.Images))
	}
	return out.Images[0]
}

// sdkKeys are the watermark keys of an AMI, as "key@source" (the AMI the
// key was attached to), sorted.
func (e *emu) sdkKeys(region, id string) []string {
	e.t.Helper()
	var out []string
	for _, w := range e.sdkImage(region, id).ImageWatermarks {
		out = append(out, aws.ToString(w.WatermarkKey)+"@"+aws.ToString(w.SourceImageId))
	}
	sort.Strings(out)
	return out
}

func (e *emu) wantSDKKeys(region, id string, want ...string) {
	e.t.Helper()
	sort.Strings(want)
	got := e.sdkKeys(region, id)
	if strings.Join(got, " ") != strings.Join(want, " ") {
		e.t.Errorf("%s %s carries %v, want %v", region, id, got, want)
	}
}

// calls counts the mutating calls the emulator received since the last
// clearRequests.
// mutations counts the attach and detach requests that could change
// something: those without DryRun (the permission check's are left out).
func (e *emu) mutations() int {
	n := 0
	for _, b := range append(e.distinct("AttachImageWatermark"), e.distinct("DetachImageWatermark")...) {
		if !strings.Contains(b, "&DryRun=true") {
			n++
		}
	}
	return n
}

func TestAttachArgumentsAndDetach(t *testing.T) {
	e := newEmu(t)
	e.seedLineage()

	code, out, errOut := e.cli("attach", "--region", regionEast, "--name", "approved", amiBare, regionWest+":"+amiCopy)
	wantCode(t, code, 0, out, errOut)
	wantLines(t, out,
		"DONE us-east-1 "+amiBare+": carries 111122223333:approved",
		"DONE eu-west-1 "+amiCopy+": carries 111122223333:golden-base, 111122223333:approved")
	wantContains(t, "stderr", errOut,
		"us-east-1 "+amiBare+": attached 111122223333:approved",
		"eu-west-1 "+amiCopy+": attached 111122223333:approved",
		"done: 2 AMI(s) in 2 region(s); 2 attached")
	e.wantSDKKeys(regionEast, amiBare, acctMe+":approved@"+amiBare)
	e.wantSDKKeys(regionWest, amiCopy, acctMe+":golden-base@"+amiGolden, acctMe+":approved@"+amiCopy)

	// A re-run changes nothing.
	e.clearRequests()
	code, out, errOut = e.cli("attach", "--name", "approved", regionEast+":"+amiBare)
	wantCode(t, code, 0, out, errOut)
	wantContains(t, "stderr", errOut, "skipped 111122223333:approved (already present)")
	if n := e.mutations(); n != 0 {
		t.Errorf("a re-run made %d mutating calls", n)
	}

	// Promotion in one run: detach candidate... here approved -> released.
	code, out, errOut = e.cli("attach", "--name", "released", "--detach", "approved", regionEast+":"+amiBare)
	wantCode(t, code, 0, out, errOut)
	e.wantSDKKeys(regionEast, amiBare, acctMe+":released@"+amiBare)

	// detach takes a bare name (the owner's key) or a full key.
	code, out, errOut = e.cli("detach", "--name", acctMe+":released", regionEast+":"+amiBare, "--name", "approved")
	wantCode(t, code, 0, out, errOut)
	wantContains(t, "stderr", errOut, "detached 111122223333:released", "detach 111122223333:approved: not present, nothing to do")
	wantLines(t, out, "DONE us-east-1 "+amiBare+": carries no watermark")
	e.wantSDKKeys(regionEast, amiBare)
}

func TestAttachRefusedBeforeAnyChange(t *testing.T) {
	e := newEmu(t)
	now := e.seedLineage()
	full := ec2emu.SeedImage{Region: regionWest, Account: acctMe, ImageID: "ami-0123456789abcdef0", Name: "full",
		CreationDate: ts(now.Add(-testDay))}
	for i := range 5 {
		full.Watermarks = append(full.Watermarks, ec2emu.SeedWatermark{Key: fmt.Sprintf("w%d-name", i)})
	}
	e.seed(full)

	cases := []struct {
		name string
		args []string
		want []string
	}{
		{"not owned", []string{"--name", "approved", regionEast + ":" + amiBare, regionEast + ":" + amiForged},
			[]string{"nothing was changed", "us-east-1 " + amiForged}},
		{"5-limit in another region", []string{"--name", "approved", regionEast + ":" + amiBare, regionWest + ":ami-0123456789abcdef0"},
			[]string{"nothing was changed", "eu-west-1 ami-0123456789abcdef0", "5"}},
		{"criteria", []string{"--name", "approved", "--criteria", writeFile(t, "c.json", `[{"ImageWatermarks":[{"WatermarkKey":"111122223333:golden-*"}]}]`),
			regionEast + ":" + amiBare, regionEast + ":" + amiGolden},
			[]string{"nothing was changed", "us-east-1 " + amiBare, "would be blocked"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e.clearRequests()
			code, out, errOut := e.cli(append([]string{"attach"}, tc.args...)...)
			wantCode(t, code, 1, out, errOut)
			wantContains(t, "stderr", errOut, tc.want...)
			if n := e.mutations(); n != 0 {
				t.Errorf("a refused run made %d mutating calls", n)
			}
			e.wantSDKKeys(regionEast, amiBare)
			e.wantSDKKeys(regionEast, amiGolden, acctMe+":golden-base@"+amiGolden)
		})
	}
}

func TestAttachDryRun(t *testing.T) {
	e := newEmu(t)
	e.seedLineage()
	e.clearRequests()
	code, out, errOut := e.cli("attach", "--dry-run", "--name", "approved", regionEast+":"+amiBare)
	wantCode(t, code, 0, out, errOut)
	wantContains(t, "stderr", errOut, "[dry-run]", "would", "nothing was changed")
	wantLines(t, out, "DRY-RUN us-east-1 "+amiBare+": would carry 111122223333:approved")
	if strings.Contains(errOut, ": attached ") {
		t.Errorf("a dry run says it attached:\n%s", errOut)
	}
	if n := len(e.distinct("AttachImageWatermark")); n != 1 || !strings.Contains(e.distinct("AttachImageWatermark")[0], "DryRun=true") {
		t.Errorf("dry run: attach requests %v, want one with DryRun=true", e.distinct("AttachImageWatermark"))
	}
	e.wantSDKKeys(regionEast, amiBare)

	// --json: the document on stdout, progress on stderr.
	code, out, errOut = e.cli("attach", "--dry-run", "--json", "--name", "approved", regionEast+":"+amiBare)
	wantCode(t, code, 0, out, errOut)
	var doc mutateOutput
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("--json output is not JSON: %v\n%s", err, out)
	}
	if !doc.OK || !doc.DryRun || len(doc.AMIs) != 1 || strings.Join(doc.AMIs[0].KeysAfter, ",") != acctMe+":approved" || len(doc.AMIs[0].Keys) != 0 {
		t.Errorf("--json document %+v", doc)
	}
	wantContains(t, "stderr", errOut, "[dry-run]")
	e.wantSDKKeys(regionEast, amiBare)
}

func TestAttachReattachesInheritedKey(t *testing.T) {
	e := newEmu(t)
	e.seedLineage()

	// --keep-inherited: the inherited key is left alone.
	code, out, errOut := e.cli("attach", "--keep-inherited", "--name", "golden-base", regionEast+":"+amiApp)
	wantCode(t, code, 0, out, errOut)
	e.wantSDKKeys(regionEast, amiApp, acctMe+":golden-base@"+amiGolden, acctMe+":app@"+amiApp)

	// Default: detached and attached again, now attached to amiApp itself.
	code, out, errOut = e.cli("attach", "--json", "--name", "golden-base", regionEast+":"+amiApp)
	wantCode(t, code, 0, out, errOut)
	var doc mutateOutput
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("--json: %v\n%s", err, out)
	}
	if len(doc.AMIs) != 1 || strings.Join(doc.AMIs[0].Reattached, ",") != acctMe+":golden-base" {
		t.Errorf("--json: reattached = %+v", doc.AMIs)
	}
	wantContains(t, "stderr", errOut, "re-attaching 111122223333:golden-base")
	e.wantSDKKeys(regionEast, amiApp, acctMe+":golden-base@"+amiApp, acctMe+":app@"+amiApp)
}

func TestAttachPackerManifest(t *testing.T) {
	e := newEmu(t)
	e.seedLineage()
	m := writeFile(t, "packer-manifest.json", `{"builds":[
	  {"name":"app","builder_type":"amazon-ebs","artifact_id":"us-east-1:`+amiOld+`","packer_run_uuid":"r1"},
	  {"name":"app","builder_type":"amazon-ebs","artifact_id":"us-east-1:`+amiBare+`,eu-west-1:`+amiCopy+`","packer_run_uuid":"r2"}],
	  "last_run_uuid":"r2"}`)

	code, out, errOut := e.cli("attach", "--packer-manifest", m, "--name", "approved")
	wantCode(t, code, 2, out, errOut)
	wantContains(t, "stderr", errOut, "appears 2 times", "give --last")

	code, out, errOut = e.cli("attach", "--packer-manifest", m, "--last", "--build", "app", "--name", "approved")
	wantCode(t, code, 0, out, errOut)
	e.wantSDKKeys(regionEast, amiBare, acctMe+":approved@"+amiBare)
	e.wantSDKKeys(regionWest, amiCopy, acctMe+":golden-base@"+amiGolden, acctMe+":approved@"+amiCopy)
	e.wantSDKKeys(regionEast, amiOld, acctMe+":golden-base@"+amiOld)
}

func TestAttachUsageErrors(t *testing.T) {
	e := newEmu(t)
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"attach", regionEast + ":" + amiBare}, "nothing to attach: give --name"},
		{[]string{"detach", regionEast + ":" + amiBare}, "nothing to detach"},
		{[]string{"attach", "--name", "ab", regionEast + ":" + amiBare}, `--name "ab"`},
		{[]string{"attach", "--name", "approved"}, "no AMI given"},
		{[]string{"attach", "--name", "approved", "--last", regionEast + ":" + amiBare}, "give --packer-manifest too"},
		{[]string{"attach", "--name", "approved", "--image-builder-image", "arn:aws:imagebuilder:us-east-1:111122223333:image/x/1.0.0"}, "add the build number"},
		{[]string{"attach", "--name", "approved", "--image-builder-image", "ami-0123"}, "is not an EC2 Image Builder image build version ARN"},
		{[]string{"attach", "--name", "approved", "--wait-timeout", "0", regionEast + ":" + amiBare}, "--wait-timeout"},
		{[]string{"attach", "--name", "approved", "--packer-manifest", "/nonexistent/m.json"}, "cannot read the manifest"},
		{[]string{"attach", "--name", "approved", "--criteria", "/nonexistent/c.json", regionEast + ":" + amiBare}, "--criteria"},
		{[]string{"detach", "--name", "bad:key", regionEast + ":" + amiBare}, `--name "bad:key"`},
	}
	for _, tc := range cases {
		e.clearRequests()
		code, out, errOut := e.cli(tc.args...)
		wantCode(t, code, 2, out, errOut)
		wantContains(t, "stderr", errOut, tc.want)
		if len(e.reqs) != 0 {
			t.Errorf("%v: a usage error asked AWS %d time(s)", tc.args, len(e.reqs))
		}
	}
}
