package main

import (
	"encoding/json"
	"testing"

	"github.com/amiwatermark/packer-plugin-amiwatermark/internal/ec2emu"
)

const (
	amiIBEast  = "ami-01b01b01b01b01b01" // us-east-1, mine: an Image Builder output
	amiIBWest  = "ami-02b02b02b02b02b02" // eu-west-1, mine: its distributed copy
	amiIBOther = "ami-03b03b03b03b03b03" // eu-west-1, acctOther's: a copy distributed to another account
	arnIB      = "arn:aws:imagebuilder:us-east-1:" + acctMe + ":image/golden-base/1.0.0/"
)

// seedImageBuilder seeds Image Builder image build versions whose output
// AMIs are emulator images: /1 in two regions of my account, /2 also in
// another account, /3 still distributing.
func (e *emu) seedImageBuilder() {
	e.t.Helper()
	img := func(region, acct, id string) ec2emu.SeedImage {
		return ec2emu.SeedImage{Region: region, Account: acct, ImageID: id, Name: "golden-base-1.0.0"}
	}
	out := func(id string) ec2emu.SeedBuilderAMI { return ec2emu.SeedBuilderAMI{Image: id} }
	err := e.Emulator.ApplySeed(ec2emu.Seed{
		Images: []ec2emu.SeedImage{img(regionEast, acctMe, amiIBEast), img(regionWest, acctMe, amiIBWest), img(regionWest, acctOther, amiIBOther)},
		ImageBuilderImages: []ec2emu.SeedBuilderImage{
			{ARN: arnIB + "1", OutputAMIs: []ec2emu.SeedBuilderAMI{out(amiIBEast), out(amiIBWest)}},
			{ARN: arnIB + "2", OutputAMIs: []ec2emu.SeedBuilderAMI{out(amiIBEast), out(amiIBOther)}},
			{ARN: arnIB + "3", State: "DISTRIBUTING", OutputAMIs: []ec2emu.SeedBuilderAMI{out(amiIBEast)}},
		},
	})
	if err != nil {
		e.t.Fatalf("seeding Image Builder images: %v", err)
	}
}

func TestAttachImageBuilderImage(t *testing.T) {
	e := newEmu(t)
	e.seedImageBuilder()

	code, out, errOut := e.cli("attach", "--image-builder-image", arnIB+"1", "--name", "golden-base")
	wantCode(t, code, 0, out, errOut)
	wantContains(t, "stderr", errOut, "us-east-1 "+amiIBEast+": attached 111122223333:golden-base", "eu-west-1 "+amiIBWest+": attached 111122223333:golden-base")
	wantLines(t, out, "DONE us-east-1 "+amiIBEast+": carries 111122223333:golden-base", "DONE eu-west-1 "+amiIBWest+": carries 111122223333:golden-base")
	e.wantSDKKeys(regionEast, amiIBEast, acctMe+":golden-base@"+amiIBEast)
	e.wantSDKKeys(regionWest, amiIBWest, acctMe+":golden-base@"+amiIBWest)
	if n := len(e.distinct("GetCallerIdentity")); n != 1 {
		t.Errorf("GetCallerIdentity calls = %d, want 1", n)
	}

	// detach by the same target form.
	code, out, errOut = e.cli("detach", "--image-builder-image", arnIB+"1", "--name", "golden-base")
	wantCode(t, code, 0, out, errOut)
	e.wantSDKKeys(regionEast, amiIBEast)
	e.wantSDKKeys(regionWest, amiIBWest)
}

func TestAttachImageBuilderOtherAccountRefused(t *testing.T) {
	e := newEmu(t)
	e.seedImageBuilder()

	e.clearRequests()
	code, out, errOut := e.cli("attach", "--image-builder-image", arnIB+"2", "--name", "golden-base")
	wantCode(t, code, 1, out, errOut)
	wantContains(t, "stderr", errOut, "nothing was changed",
		"eu-west-1 "+amiIBOther+": owned by account "+acctOther+", not by this account ("+acctMe+"): not attachable by this account",
		"attached in the build account before distribution", "--skip-other-accounts")
	if n := e.mutations(); n != 0 {
		t.Errorf("a refused run made %d mutating calls", n)
	}
	e.wantSDKKeys(regionEast, amiIBEast)

	// --skip-other-accounts: this account's AMI is watermarked, the other
	// is reported.
	code, out, errOut = e.cli("attach", "--image-builder-image", arnIB+"2", "--name", "golden-base", "--skip-other-accounts", "--json")
	wantCode(t, code, 0, out, errOut)
	var doc mutateOutput
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("--json: %v\n%s", err, out)
	}
	if len(doc.AMIs) != 1 || doc.AMIs[0].ImageID != amiIBEast || len(doc.NotAttachable) != 1 ||
		doc.NotAttachable[0].ImageID != amiIBOther || doc.NotAttachable[0].Account != acctOther {
		t.Errorf("--json: %+v", doc)
	}
	wantContains(t, "stderr", errOut, "eu-west-1 "+amiIBOther+": skipped: owned by account "+acctOther)
	e.wantSDKKeys(regionEast, amiIBEast, acctMe+":golden-base@"+amiIBEast)
	// The other account's AMI is untouched (asked as its owner).
	var keys []string
	img, err := e.EC2(regionWest, acctOther).DescribeImages(ctxT(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, im := range img.Images {
		for _, w := range im.ImageWatermarks {
			keys = append(keys, *w.WatermarkKey)
		}
	}
	if len(keys) != 0 {
		t.Errorf("the other account's images carry %v", keys)
	}
}

func TestAttachImageBuilderNotAvailableOrUnknown(t *testing.T) {
	e := newEmu(t)
	e.seedImageBuilder()
	for _, tc := range []struct{ arn, want string }{
		{arnIB + "3", "is DISTRIBUTING, not AVAILABLE"},
		{arnIB + "9", "imagebuilder:GetImage of " + arnIB + "9 in us-east-1 failed"},
	} {
		e.clearRequests()
		code, out, errOut := e.cli("attach", "--image-builder-image", tc.arn, "--name", "golden-base")
		wantCode(t, code, 1, out, errOut)
		wantContains(t, "stderr", errOut, tc.want)
		if n := e.mutations(); n != 0 || out != "" {
			t.Errorf("%s: %d mutating calls\n%s", tc.arn, n, out)
		}
	}
	e.wantSDKKeys(regionEast, amiIBEast)
}

func TestParseImageBuildVersionARN(t *testing.T) {
	good := "arn:aws:imagebuilder:eu-central-1:111122223333:image/golden-base_2/10.0.1/12"
	if a, err := parseImageBuildVersionARN(good); err != nil || a.Region != "eu-central-1" || a.Account != "111122223333" || a.ARN != good {
		t.Errorf("parse(%q) = %+v, %v", good, a, err)
	}
	if _, err := parseImageBuildVersionARN("arn:aws-us-gov:imagebuilder:us-gov-west-1:111122223333:image/x/1.0.0/1"); err != nil {
		t.Errorf("GovCloud partition refused: %v", err)
	}
	for _, bad := range []string{"", "golden-base", "arn:aws:imagebuilder:us-east-1:111122223333:image/x/1.0.0",
		"arn:aws:imagebuilder:us-east-1:111122223333:image-recipe/x/1.0.0/1", "arn:aws:ec2:us-east-1:111122223333:image/ami-0123",
		"arn:aws:imagebuilder:us-east-1:1111:image/x/1.0.0/1", "arn:aws:imagebuilder:us-east-1:111122223333:image/X/1.0.0/1"} {
		if _, err := parseImageBuildVersionARN(bad); err == nil {
			t.Errorf("parse(%q) accepted", bad)
		}
	}
}
