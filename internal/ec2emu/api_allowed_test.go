package ec2emu

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// allowedFixture: account B publishes three public images in us-east-1,
// one watermarked golden by B, one by C, one plain; A owns one image.
func allowedFixture(t *testing.T, s *Server) (own, bGolden, cGolden, plain *Image) {
	t.Helper()
	own = mkImage(acctA, "us-east-1", "a-own", apiBase.Add(-time.Hour))
	bGolden = mkImage(acctB, "us-east-1", "b-golden", apiBase.Add(-2*time.Hour),
		wm(acctB, "golden", "ami-0bbbbbbbbbbbbbbb1", "us-east-1", apiBase.AddDate(0, 0, -30), apiBase.AddDate(0, 0, -2)))
	cGolden = mkImage(acctC, "us-east-1", "c-golden", apiBase.Add(-3*time.Hour),
		wm(acctC, "golden", "ami-0ccccccccccccccc1", "eu-west-1", apiBase.AddDate(0, 0, -5), apiBase.AddDate(0, 0, -1)))
	plain = mkImage(acctB, "us-east-1", "b-plain", apiBase.Add(-4*time.Hour))
	for _, img := range []*Image{bGolden, cGolden, plain} {
		img.Public = true
	}
	putImages(s, own, bGolden, cGolden, plain)
	return
}

func allowedMap(t *testing.T, c *ec2.Client) map[string]*bool {
	t.Helper()
	out := must(c.DescribeImages(ctx, &ec2.DescribeImagesInput{IncludeDeprecated: aws.Bool(true)})).ok(t)
	m := map[string]*bool{}
	for _, img := range out.Images {
		m[aws.ToString(img.ImageId)] = img.ImageAllowed
	}
	return m
}

func TestAllowedAuditModeReportsImageAllowed(t *testing.T) {
	s, ts := newAPIServer(t, Options{})
	own, bGolden, cGolden, plain := allowedFixture(t, s)
	c := client(t, ts.URL, "us-east-1", acctA)

	// disabled: imageAllowed omitted (docs/ec2-semantics.md, "DescribeImages").
	for id, a := range allowedMap(t, c) {
		if a != nil {
			t.Fatalf("disabled: %s has imageAllowed %v", id, *a)
		}
	}
	setAllowed(t, c, types.AllowedImagesSettingsEnabledStateAuditMode, types.ImageCriterionRequest{
		ImageWatermarks: []types.ImageWatermarkFilterRequest{{WatermarkKey: aws.String(acctB + ":golden")}},
	})
	m := allowedMap(t, c)
	want := map[string]bool{own.ID: true, bGolden.ID: true, cGolden.ID: false, plain.ID: false}
	for id, w := range want {
		if m[id] == nil || *m[id] != w {
			t.Errorf("audit-mode %s: imageAllowed %v, want %v", id, m[id], w)
		}
	}
	// audit-mode restricts nothing: launch from a non-allowed image works.
	must(c.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: aws.String(plain.ID), MinCount: aws.Int32(1), MaxCount: aws.Int32(1)})).ok(t)
	// image-allowed filter.
	out := must(c.DescribeImages(ctx, &ec2.DescribeImagesInput{Filters: []types.Filter{{Name: aws.String("image-allowed"), Values: []string{"false"}}}})).ok(t)
	if len(out.Images) != 2 {
		t.Fatalf("image-allowed=false: %d images", len(out.Images))
	}
	// Settings are per account and region.
	if a := allowedMap(t, client(t, ts.URL, "us-east-1", acctC)); a[plain.ID] != nil {
		t.Fatal("account C inherits A's setting")
	}
}

func TestAllowedEnabledHidesAndBlocksLaunch(t *testing.T) {
	s, ts := newAPIServer(t, Options{})
	own, bGolden, cGolden, plain := allowedFixture(t, s)
	c := client(t, ts.URL, "us-east-1", acctA)
	setAllowed(t, c, types.AllowedImagesSettingsEnabledStateEnabled, types.ImageCriterionRequest{
		ImageWatermarks: []types.ImageWatermarkFilterRequest{{WatermarkKey: aws.String("*:golden"), SourceImageRegion: aws.String("us-*")}},
	})
	m := allowedMap(t, c)
	if len(m) != 2 || m[own.ID] == nil || !*m[own.ID] || m[bGolden.ID] == nil || !*m[bGolden.ID] {
		t.Fatalf("enabled: visible %v", m)
	}
	for _, hidden := range []*Image{cGolden, plain} {
		_, err := c.DescribeImages(ctx, &ec2.DescribeImagesInput{ImageIds: []string{hidden.ID}})
		apiErr(t, err, "InvalidAMIID.NotFound", "")
		_, err = c.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: aws.String(hidden.ID), MinCount: aws.Int32(1), MaxCount: aws.Int32(1)})
		apiErr(t, err, "InvalidAMIID.NotFound", "The image id '["+hidden.ID+"]' does not exist")
		_, err = c.CopyImage(ctx, &ec2.CopyImageInput{SourceImageId: aws.String(hidden.ID), SourceRegion: aws.String("us-east-1"), Name: aws.String("copy-" + hidden.Name)})
		apiErr(t, err, "InvalidAMIID.NotFound", "")
	}
	must(c.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: aws.String(bGolden.ID), MinCount: aws.Int32(1), MaxCount: aws.Int32(1)})).ok(t)
	must(c.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: aws.String(own.ID), MinCount: aws.Int32(1), MaxCount: aws.Int32(1)})).ok(t)
	// Disabling keeps the criteria but stops applying them.
	must(c.DisableAllowedImagesSettings(ctx, &ec2.DisableAllowedImagesSettingsInput{})).ok(t)
	if m := allowedMap(t, c); len(m) != 4 {
		t.Fatalf("disabled: %d visible", len(m))
	}
	got := must(c.GetAllowedImagesSettings(ctx, &ec2.GetAllowedImagesSettingsInput{})).ok(t)
	if aws.ToString(got.State) != "disabled" || len(got.ImageCriteria) != 1 {
		t.Fatalf("after disable: %s %d criteria", aws.ToString(got.State), len(got.ImageCriteria))
	}
}

func TestAllowedEnabledWithoutCriteriaOnlyOwn(t *testing.T) {
	s, ts := newAPIServer(t, Options{})
	own, _, _, _ := allowedFixture(t, s)
	c := client(t, ts.URL, "us-east-1", acctA)
	setAllowed(t, c, types.AllowedImagesSettingsEnabledStateEnabled)
	if m := allowedMap(t, c); len(m) != 1 || m[own.ID] == nil || !*m[own.ID] {
		t.Fatalf("enabled without criteria: %v", m)
	}
}

func TestAllowedWatermarkFieldsOnSameWatermark(t *testing.T) {
	s, ts := newAPIServer(t, Options{})
	img := mkImage(acctB, "us-east-1", "two-marks", apiBase,
		wm(acctB, "golden", "ami-0bbbbbbbbbbbbbbb1", "eu-west-1", apiBase, apiBase),
		wm(acctB, "silver", "ami-0bbbbbbbbbbbbbbb2", "us-east-1", apiBase, apiBase))
	img.Public = true
	putImages(s, img)
	c := client(t, ts.URL, "us-east-1", acctA)
	cases := []struct {
		what string
		f    types.ImageWatermarkFilterRequest
		want bool
	}{
		{"golden from eu: same watermark", types.ImageWatermarkFilterRequest{WatermarkKey: aws.String(acctB + ":golden"), SourceImageRegion: aws.String("eu-west-1")}, true},
		{"golden from us: fields on different watermarks", types.ImageWatermarkFilterRequest{WatermarkKey: aws.String(acctB + ":golden"), SourceImageRegion: aws.String("us-east-1")}, false},
		{"silver from us", types.ImageWatermarkFilterRequest{WatermarkKey: aws.String(acctB + ":silver"), SourceImageRegion: aws.String("us-east-1")}, true},
		{"wildcards ? and *", types.ImageWatermarkFilterRequest{WatermarkKey: aws.String("*:g?lden")}, true},
	}
	for _, tc := range cases {
		setAllowed(t, c, types.AllowedImagesSettingsEnabledStateAuditMode, types.ImageCriterionRequest{ImageWatermarks: []types.ImageWatermarkFilterRequest{tc.f}})
		m := allowedMap(t, c)
		if m[img.ID] == nil || *m[img.ID] != tc.want {
			t.Errorf("%s: imageAllowed %v, want %v", tc.what, m[img.ID], tc.want)
		}
	}
	// But DescribeImages filters are independent (docs/ec2-semantics.md, "DescribeImages").
	out := must(c.DescribeImages(ctx, &ec2.DescribeImagesInput{Filters: []types.Filter{
		{Name: aws.String("image-watermark.watermark-key"), Values: []string{acctB + ":golden"}},
		{Name: aws.String("image-watermark.source-image-region"), Values: []string{"us-east-1"}}}})).ok(t)
	if len(out.Images) != 1 {
		t.Fatalf("independent DescribeImages filters: %d", len(out.Images))
	}
}

func TestAllowedDayConditions(t *testing.T) {
	// A clock on a whole second, so "exactly N days" is exact.
	base := apiBase.Truncate(time.Second)
	s, ts := newAPIServer(t, Options{Now: func() time.Time { return base }})
	// Source image created 10 days ago, watermark attached 3 days ago.
	img := mkImage(acctB, "us-east-1", "aged", base.AddDate(0, 0, -1),
		wm(acctB, "golden", "ami-0bbbbbbbbbbbbbbb1", "us-east-1", base.AddDate(0, 0, -10), base.AddDate(0, 0, -3)))
	img.Public = true
	past := base.AddDate(0, 0, -2)
	img.DeprecationTime = &past
	putImages(s, img)
	c := client(t, ts.URL, "us-east-1", acctA)
	i64 := func(v int32) *int32 { return aws.Int32(v) }
	cases := []struct {
		what string
		c    types.ImageCriterionRequest
		want bool
	}{
		// "Allowed AMIs": now - sourceImageCreationTime (10 days), elapsed <= N days.
		{"source 10 days old, max 10", types.ImageCriterionRequest{ImageWatermarks: []types.ImageWatermarkFilterRequest{{MaximumDaysSinceSourceImageCreated: i64(10)}}}, true},
		{"source 10 days old, max 9", types.ImageCriterionRequest{ImageWatermarks: []types.ImageWatermarkFilterRequest{{MaximumDaysSinceSourceImageCreated: i64(9)}}}, false},
		// Not the user-guide reading (watermark - source = 7 days).
		{"source max 7 (user-guide reading would allow)", types.ImageCriterionRequest{ImageWatermarks: []types.ImageWatermarkFilterRequest{{MaximumDaysSinceSourceImageCreated: i64(7)}}}, false},
		{"watermark 3 days old, max 3", types.ImageCriterionRequest{ImageWatermarks: []types.ImageWatermarkFilterRequest{{MaximumDaysSinceWatermarkCreated: i64(3)}}}, true},
		{"watermark 3 days old, max 2", types.ImageCriterionRequest{ImageWatermarks: []types.ImageWatermarkFilterRequest{{MaximumDaysSinceWatermarkCreated: i64(2)}}}, false},
		{"created 1 day ago, max 1", types.ImageCriterionRequest{CreationDateCondition: &types.CreationDateConditionRequest{MaximumDaysSinceCreated: i64(1)}}, true},
		{"created, max 0", types.ImageCriterionRequest{CreationDateCondition: &types.CreationDateConditionRequest{MaximumDaysSinceCreated: i64(0)}}, false},
		{"deprecated 2 days, max 2", types.ImageCriterionRequest{DeprecationTimeCondition: &types.DeprecationTimeConditionRequest{MaximumDaysSinceDeprecated: i64(2)}}, true},
		{"deprecated 2 days, max 0", types.ImageCriterionRequest{DeprecationTimeCondition: &types.DeprecationTimeConditionRequest{MaximumDaysSinceDeprecated: i64(0)}}, false},
		{"provider", types.ImageCriterionRequest{ImageProviders: []string{acctB}}, true},
		{"provider other", types.ImageCriterionRequest{ImageProviders: []string{acctC, "amazon"}}, false},
		{"name glob", types.ImageCriterionRequest{ImageNames: []string{"ag*"}}, true},
		{"AND: provider ok, name not", types.ImageCriterionRequest{ImageProviders: []string{acctB}, ImageNames: []string{"other*"}}, false},
	}
	for _, tc := range cases {
		setAllowed(t, c, types.AllowedImagesSettingsEnabledStateAuditMode, tc.c)
		m := allowedMap(t, c)
		if m[img.ID] == nil || *m[img.ID] != tc.want {
			t.Errorf("%s: imageAllowed %v, want %v", tc.what, m[img.ID], tc.want)
		}
	}
	// The boundary moves with the emulator clock: exactly 10 days is allowed,
	// a second more is not.
	setAllowed(t, c, types.AllowedImagesSettingsEnabledStateAuditMode, types.ImageCriterionRequest{
		ImageWatermarks: []types.ImageWatermarkFilterRequest{{MaximumDaysSinceSourceImageCreated: i64(10)}}})
	advance(s, time.Second)
	if m := allowedMap(t, c); *m[img.ID] {
		t.Fatal("10 days and 1 second still allowed")
	}
}

func TestAllowedSettingsAPI(t *testing.T) {
	_, ts := newAPIServer(t, Options{})
	c := client(t, ts.URL, "eu-west-1", acctA)
	got := must(c.GetAllowedImagesSettings(ctx, &ec2.GetAllowedImagesSettingsInput{})).ok(t)
	if aws.ToString(got.State) != "disabled" || string(got.ManagedBy) != "account" || len(got.ImageCriteria) != 0 {
		t.Fatalf("defaults: %+v", got)
	}
	full := types.ImageCriterionRequest{
		ImageProviders:           []string{"amazon", acctB},
		ImageNames:               []string{"al2023-*", "ab?"},
		MarketplaceProductCodes:  []string{"abc123"},
		CreationDateCondition:    &types.CreationDateConditionRequest{MaximumDaysSinceCreated: aws.Int32(300)},
		DeprecationTimeCondition: &types.DeprecationTimeConditionRequest{MaximumDaysSinceDeprecated: aws.Int32(0)},
		ImageWatermarks: []types.ImageWatermarkFilterRequest{{WatermarkKey: aws.String(acctB + ":golden"), SourceImageRegion: aws.String("us-east-1"),
			MaximumDaysSinceWatermarkCreated: aws.Int32(30), MaximumDaysSinceSourceImageCreated: aws.Int32(90)}},
	}
	setAllowed(t, c, types.AllowedImagesSettingsEnabledStateEnabled, full, types.ImageCriterionRequest{ImageProviders: []string{"none"}})
	got = must(c.GetAllowedImagesSettings(ctx, &ec2.GetAllowedImagesSettingsInput{})).ok(t)
	if aws.ToString(got.State) != "enabled" || len(got.ImageCriteria) != 2 {
		t.Fatalf("after replace: %+v", got)
	}
	gc := got.ImageCriteria[0]
	w := gc.ImageWatermarks
	if strings.Join(gc.ImageProviders, ",") != "amazon,"+acctB || strings.Join(gc.ImageNames, ",") != "al2023-*,ab?" ||
		strings.Join(gc.MarketplaceProductCodes, ",") != "abc123" ||
		aws.ToInt32(gc.CreationDateCondition.MaximumDaysSinceCreated) != 300 || aws.ToInt32(gc.DeprecationTimeCondition.MaximumDaysSinceDeprecated) != 0 ||
		len(w) != 1 || aws.ToString(w[0].WatermarkKey) != acctB+":golden" || aws.ToString(w[0].SourceImageRegion) != "us-east-1" ||
		aws.ToInt32(w[0].MaximumDaysSinceWatermarkCreated) != 30 || aws.ToInt32(w[0].MaximumDaysSinceSourceImageCreated) != 90 {
		t.Fatalf("round trip: %+v %+v", gc, w)
	}
	// Other regions and accounts are untouched.
	if s := aws.ToString(must(client(t, ts.URL, "us-east-1", acctA).GetAllowedImagesSettings(ctx, &ec2.GetAllowedImagesSettingsInput{})).ok(t).State); s != "disabled" {
		t.Fatalf("us-east-1: %s", s)
	}
	// An empty replace clears.
	must(c.ReplaceImageCriteriaInAllowedImagesSettings(ctx, &ec2.ReplaceImageCriteriaInAllowedImagesSettingsInput{})).ok(t)
	if n := len(must(c.GetAllowedImagesSettings(ctx, &ec2.GetAllowedImagesSettingsInput{})).ok(t).ImageCriteria); n != 0 {
		t.Fatalf("%d criteria after clear", n)
	}
	_, err := c.EnableAllowedImagesSettings(ctx, &ec2.EnableAllowedImagesSettingsInput{AllowedImagesSettingsState: "on"})
	apiErr(t, err, "InvalidParameterValue", "")

	many := make([]types.ImageCriterionRequest, 11)
	for i := range many {
		many[i] = types.ImageCriterionRequest{ImageProviders: []string{"amazon"}}
	}
	names51 := make([]string, 51)
	for i := range names51 {
		names51[i] = fmt.Sprintf("name-%d", i)
	}
	bad := []struct {
		what string
		c    []types.ImageCriterionRequest
	}{
		{"11 criteria", many},
		{"none with others", []types.ImageCriterionRequest{{ImageProviders: []string{"none", "amazon"}}}},
		{"bad provider", []types.ImageCriterionRequest{{ImageProviders: []string{"someone"}}}},
		{"51 names", []types.ImageCriterionRequest{{ImageNames: names51}}},
		{"name with ? under 3 chars", []types.ImageCriterionRequest{{ImageNames: []string{"a?"}}}},
		{"name with bad char", []types.ImageCriterionRequest{{ImageNames: []string{"a:b"}}}},
		{"name too long", []types.ImageCriterionRequest{{ImageNames: []string{strings.Repeat("a", 129)}}}},
		{"product code too long", []types.ImageCriterionRequest{{MarketplaceProductCodes: []string{strings.Repeat("a", 26)}}}},
		{"product code not alnum", []types.ImageCriterionRequest{{MarketplaceProductCodes: []string{"ab-c"}}}},
		{"negative days", []types.ImageCriterionRequest{{CreationDateCondition: &types.CreationDateConditionRequest{MaximumDaysSinceCreated: aws.Int32(-1)}}}},
		{"negative watermark days", []types.ImageCriterionRequest{{ImageWatermarks: []types.ImageWatermarkFilterRequest{{MaximumDaysSinceWatermarkCreated: aws.Int32(-5)}}}}},
	}
	for _, b := range bad {
		_, err := c.ReplaceImageCriteriaInAllowedImagesSettings(ctx, &ec2.ReplaceImageCriteriaInAllowedImagesSettingsInput{ImageCriteria: b.c})
		if err == nil {
			t.Errorf("%s: accepted", b.what)
			continue
		}
		apiErr(t, err, "InvalidParameterValue", "")
	}
	// A watermark filter that sets no field (only a raw caller can send
	// one: the SDK sends no keys for it).
	resp := rawPost(t, ts.URL, "Action=ReplaceImageCriteriaInAllowedImagesSettings&Version=2016-11-15&ImageCriterion.1.ImageWatermark.1.Other=x",
		"eu-west-1", "AKIDTEST"+acctA)
	env := readEnvelope(t, resp)
	if e := env.Errors.Error[0]; resp.StatusCode != 400 || e.Code != "InvalidParameterValue" || !strings.Contains(e.Message, "ImageCriterion.1.ImageWatermark.1") {
		t.Fatalf("empty watermark filter: %d %+v", resp.StatusCode, e)
	}
}

func TestAllowedManagedByDeclarativePolicy(t *testing.T) {
	s, ts := newAPIServer(t, Options{})
	s.mu.Lock()
	s.st.Settings[settingsKey(acctA, "us-east-1")] = &AllowedSettings{State: "enabled", ManagedBy: "declarative-policy"}
	s.mu.Unlock()
	c := client(t, ts.URL, "us-east-1", acctA)
	got := must(c.GetAllowedImagesSettings(ctx, &ec2.GetAllowedImagesSettingsInput{})).ok(t)
	if string(got.ManagedBy) != "declarative-policy" || aws.ToString(got.State) != "enabled" {
		t.Fatalf("got %+v", got)
	}
	_, err := c.DisableAllowedImagesSettings(ctx, &ec2.DisableAllowedImagesSettingsInput{})
	apiErr(t, err, "UnsupportedOperation", "")
	_, err = c.EnableAllowedImagesSettings(ctx, &ec2.EnableAllowedImagesSettingsInput{AllowedImagesSettingsState: "audit-mode"})
	apiErr(t, err, "UnsupportedOperation", "")
	_, err = c.ReplaceImageCriteriaInAllowedImagesSettings(ctx, &ec2.ReplaceImageCriteriaInAllowedImagesSettingsInput{})
	apiErr(t, err, "UnsupportedOperation", "")
}
