package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// watermarkRow finds the table row of key in the inspect block of ami.
func inspectBlock(t *testing.T, out, ami string) string {
	t.Helper()
	for _, block := range strings.Split(out, "\n\n") {
		if strings.Contains(strings.SplitN(block, "\n", 2)[0], ami) {
			return block
		}
	}
	t.Fatalf("no inspect block for %s in:\n%s", ami, out)
	return ""
}

func rowFields(t *testing.T, block, key string) []string {
	t.Helper()
	for _, l := range lines(block) {
		f := strings.Fields(l)
		if len(f) > 0 && f[0] == key {
			return f
		}
	}
	t.Fatalf("no row for %s in:\n%s", key, block)
	return nil
}

func TestInspectTableLineage(t *testing.T) {
	e := newEmu(t)
	now := e.seedLineage()
	code, out, errOut := e.cli("inspect", "--region", regionEast, "--at", ts(now),
		amiGolden, regionWest+":"+amiCopy, amiApp, amiForged, amiBare)
	wantCode(t, code, 0, out, errOut)
	if errOut != "" {
		t.Errorf("stderr not empty: %s", errOut)
	}

	g := inspectBlock(t, out, amiGolden)
	wantContains(t, "golden block", g,
		`us-east-1 ami-0aaaaaaaaaaaaaaa1  "golden-base-1"`,
		"owner    111122223333",
		"(10d old)",
		"allowed  unknown (Allowed AMIs disabled)",
		"watermarks (1):")
	// KEY LINEAGE(2 words) SOURCE SOURCE-CREATED WATERMARKED AGE
	if f := rowFields(t, g, acctMe+":golden-base"); strings.Join(f[1:3], " ") != "attached here" || f[3] != "us-east-1/"+amiGolden || f[6] != "5d" {
		t.Errorf("golden row = %q", f)
	}

	c := inspectBlock(t, out, amiCopy)
	wantContains(t, "copy block", c, "eu-west-1 "+amiCopy, "built from  image us-east-1/"+amiGolden)
	if f := rowFields(t, c, acctMe+":golden-base"); f[1] != "copied" {
		t.Errorf("copy row = %q, want lineage copied", f)
	}

	a := inspectBlock(t, out, amiApp)
	wantContains(t, "app block", a, "via instance "+instSrc, "watermarks (2):")
	if f := rowFields(t, a, acctMe+":golden-base"); f[1] != "derived" {
		t.Errorf("app golden row = %q, want lineage derived", f)
	}
	if f := rowFields(t, a, acctMe+":app"); strings.Join(f[1:3], " ") != "attached here" || f[6] != "24h" {
		t.Errorf("app row = %q, want attached here, 24h", f)
	}

	fo := inspectBlock(t, out, amiForged)
	wantContains(t, "forged block", fo, "owner    "+acctOther, acctOther+":golden-base")

	wantContains(t, "bare block", inspectBlock(t, out, amiBare), "watermarks: none")
}

func TestInspectJSON(t *testing.T) {
	e := newEmu(t)
	now := e.seedLineage()
	code, out, errOut := e.cli("inspect", "--json", "--region", regionEast, "--at", ts(now), amiApp, amiBare, amiMissing)
	wantCode(t, code, 1, out, errOut)
	wantContains(t, "stderr", errOut, "amiwatermark inspect: us-east-1 "+amiMissing+": not found in us-east-1")

	var doc struct {
		At     string `json:"at"`
		Images []struct {
			Region           string `json:"region"`
			ImageID          string `json:"image_id"`
			Name             string `json:"name"`
			OwnerID          string `json:"owner_id"`
			State            string `json:"state"`
			SourceImageID    string `json:"source_image_id"`
			SourceInstanceID string `json:"source_instance_id"`
			AgeSeconds       *int64 `json:"age_seconds"`
			Allowed          *bool  `json:"allowed"`
			AllowedKnown     bool   `json:"allowed_known"`
			AllowedStatus    string `json:"allowed_status"`
			Watermarks       []struct {
				Key               string `json:"key"`
				Account           string `json:"account"`
				Name              string `json:"name"`
				Lineage           string `json:"lineage"`
				SourceImageID     string `json:"source_image_id"`
				SourceImageRegion string `json:"source_image_region"`
				WatermarkCreated  string `json:"watermark_creation_time"`
				AgeSeconds        int64  `json:"age_seconds"`
			} `json:"watermarks"`
		} `json:"images"`
		Errors []struct {
			Region  string `json:"region"`
			ImageID string `json:"image_id"`
			Error   string `json:"error"`
		} `json:"errors"`
	}
	dec := json.NewDecoder(strings.NewReader(out))
	if err := dec.Decode(&doc); err != nil {
		t.Fatalf("stdout is not JSON: %v\n%s", err, out)
	}
	if len(doc.Images) != 2 || len(doc.Errors) != 1 {
		t.Fatalf("images %d, errors %d; want 2 and 1:\n%s", len(doc.Images), len(doc.Errors), out)
	}
	app := doc.Images[0]
	if app.ImageID != amiApp || app.SourceInstanceID != instSrc || app.AgeSeconds == nil || *app.AgeSeconds != 2*86400 {
		t.Errorf("app image = %+v", app)
	}
	if app.Allowed != nil || app.AllowedKnown || app.AllowedStatus != "unknown (Allowed AMIs disabled)" {
		t.Errorf("allowed = %v %v %q, want null false unknown", app.Allowed, app.AllowedKnown, app.AllowedStatus)
	}
	if len(app.Watermarks) != 2 {
		t.Fatalf("app watermarks = %+v", app.Watermarks)
	}
	w0, w1 := app.Watermarks[0], app.Watermarks[1]
	if w0.Key != acctMe+":golden-base" || w0.Account != acctMe || w0.Name != "golden-base" || w0.Lineage != "derived" ||
		w0.SourceImageID != amiGolden || w0.SourceImageRegion != regionEast || w0.AgeSeconds != 5*86400 ||
		!strings.HasPrefix(w0.WatermarkCreated, "20") {
		t.Errorf("watermark 0 = %+v", w0)
	}
	if w1.Key != acctMe+":app" || w1.Lineage != "attached" || w1.AgeSeconds != 86400 {
		t.Errorf("watermark 1 = %+v", w1)
	}
	if bare := doc.Images[1]; bare.Watermarks == nil || len(bare.Watermarks) != 0 {
		t.Errorf("bare watermarks = %#v, want []", bare.Watermarks)
	}
	if e := doc.Errors[0]; e.Region != regionEast || e.ImageID != amiMissing || !strings.Contains(e.Error, "not found in") {
		t.Errorf("error = %+v", e)
	}
	if !strings.Contains(out, `"watermarks": []`) {
		t.Errorf("an image without watermarks must have \"watermarks\": [] in JSON:\n%s", out)
	}
}

// TestInspectAllowedStatus: imageAllowed appears once the account turns on
// audit mode; a shared image of another account is not allowed under
// criteria that do not match it, the caller's own image always is.
func TestInspectAllowedStatus(t *testing.T) {
	e := newEmu(t)
	e.seedLineage()
	ctx := ctxT(t)
	c := e.EC2(regionEast, acctMe)
	if _, err := c.ReplaceImageCriteriaInAllowedImagesSettings(ctx, &ec2.ReplaceImageCriteriaInAllowedImagesSettingsInput{
		ImageCriteria: []types.ImageCriterionRequest{{ImageProviders: []string{"amazon"}}},
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.EnableAllowedImagesSettings(ctx, &ec2.EnableAllowedImagesSettingsInput{
		AllowedImagesSettingsState: types.AllowedImagesSettingsEnabledStateAuditMode,
	}); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := e.cli("inspect", "--region", regionEast, amiGolden, amiForged)
	wantCode(t, code, 0, out, errOut)
	wantContains(t, "golden", inspectBlock(t, out, amiGolden), "allowed  allowed")
	wantContains(t, "forged", inspectBlock(t, out, amiForged), "allowed  not allowed")

	code, out, errOut = e.cli("inspect", "--json", "--region", regionEast, amiForged)
	wantCode(t, code, 0, out, errOut)
	wantContains(t, "json", out, `"allowed": false`, `"allowed_known": true`, `"allowed_status": "not allowed"`)
}

func TestInspectUsageErrors(t *testing.T) {
	e := newEmu(t)
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no AMI", []string{"inspect", "--region", regionEast}, "no AMI given"},
		{"bad id", []string{"inspect", "--region", regionEast, "ami-XYZ"}, `"ami-XYZ" is not an AMI id`},
		{"bad region prefix", []string{"inspect", "US_EAST:" + amiGolden}, `"US_EAST" is not a region name`},
		{"no region", []string{"inspect", amiGolden}, "no region for " + amiGolden + ": give --region, set AWS_REGION, or write REGION:" + amiGolden},
		{"unknown flag", []string{"inspect", "--colour", amiGolden}, "flag provided but not defined: -colour"},
		{"bad at", []string{"inspect", "--region", regionEast, "--at", "soon", amiGolden}, `--at "soon" is not a time`},
		{"bad retries", []string{"inspect", "--region", regionEast, "--max-retries", "-1", amiGolden}, "--max-retries is -1: it must be between 0 and 100"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := e.cli(tt.args...)
			wantCode(t, code, 2, out, errOut)
			wantContains(t, "stderr", errOut, tt.want)
			if out != "" {
				t.Errorf("stdout not empty on a usage error: %s", out)
			}
		})
	}
	// A bad endpoint is a usage error too (checked before any call).
	code, out, errOut := runCLI("inspect", "--endpoint", "localhost:1", "--region", regionEast, amiGolden)
	wantCode(t, code, 2, out, errOut)
	wantContains(t, "stderr", errOut, `--endpoint "localhost:1" is not a URL`)
}

// TestInspectRegionSources: the region comes from --region, AWS_REGION, or
// the REGION: prefix; a Packer artifact id names several regions.
func TestInspectRegionSources(t *testing.T) {
	e := newEmu(t)
	e.seedLineage()
	t.Setenv("AWS_REGION", regionWest)
	code, out, errOut := e.cli("inspect", amiCopy)
	wantCode(t, code, 0, out, errOut)
	wantContains(t, "stdout", out, "eu-west-1 "+amiCopy)

	code, out, errOut = e.cli("inspect", regionEast+":"+amiGolden+","+regionWest+":"+amiCopy)
	wantCode(t, code, 0, out, errOut)
	wantContains(t, "stdout", out, "us-east-1 "+amiGolden, "eu-west-1 "+amiCopy)
	// The image lives in us-east-1 only.
	code, out, errOut = e.cli("inspect", "--region", regionWest, amiGolden)
	wantCode(t, code, 1, out, errOut)
	wantContains(t, "stderr", errOut, "eu-west-1 "+amiGolden+": not found in eu-west-1")
}
