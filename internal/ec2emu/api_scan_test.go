package ec2emu

import (
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// scanSeed seeds, through POST /_emu/images, three public images of account
// B: one scanned with every field, one scanned clean, one never scanned.
func scanSeed(t *testing.T) (c *ec2.Client, s *Server, full, clean, never string) {
	t.Helper()
	s, ts := newAPIServer(t, Options{})
	m := ctlOK(t, ts, "POST", "/_emu/images", `[
	  {"region":"us-east-1","account":"`+acctB+`","name":"full","public":true,"creation_date":"2026-06-01T00:00:00Z",
	   "scan_results":{"finding_scan_date":"2026-06-21T03:15:42.2Z","highest_finding_severity":"critical",
	     "critical_fix_available_since":"2026-06-14T03:15:42.5Z","high_fix_available_since":"2026-06-10T00:00:00Z",
	     "medium_fix_available_since":"2026-06-01","low_fix_available_since":"2026-05-01T00:00:00+02:00",
	     "informational_fix_available_since":"2026-04-01T00:00:00.000Z"}},
	  {"region":"us-east-1","account":"`+acctB+`","name":"clean","public":true,"creation_date":"2026-06-01T00:00:00Z",
	   "scan_results":{"finding_scan_date":"2026-06-23T03:15:42Z"}},
	  {"region":"us-east-1","account":"`+acctB+`","name":"never","public":true,"creation_date":"2026-06-01T00:00:00Z"}
	]`)
	ids := m["image_ids"].([]any)
	return client(t, ts.URL, "us-east-1", acctA), s, ids[0].(string), ids[1].(string), ids[2].(string)
}

func ts3339(t *time.Time) string {
	if t == nil {
		return "<nil>"
	}
	return t.UTC().Format(time.RFC3339Nano)
}

func TestScanResultsInDescribeImages(t *testing.T) {
	c, _, full, clean, never := scanSeed(t)
	f := describeOne(t, c, full)
	r := f.ScanResults
	if r == nil {
		t.Fatal("no ScanResults")
	}
	got := []string{ts3339(r.FindingScanDate), string(r.HighestFindingSeverityLabel), ts3339(r.CriticalFixAvailableSince),
		ts3339(r.HighFixAvailableSince), ts3339(r.MediumFixAvailableSince), ts3339(r.LowFixAvailableSince), ts3339(r.InformationalFixAvailableSince)}
	want := []string{"2026-06-21T03:15:42.2Z", "critical", "2026-06-14T03:15:42.5Z", "2026-06-10T00:00:00Z", "2026-06-01T00:00:00Z",
		"2026-04-30T22:00:00Z", "2026-04-01T00:00:00Z"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("ScanResults =\n %v\nwant\n %v", got, want)
	}
	if r := describeOne(t, c, clean).ScanResults; r == nil || r.HighestFindingSeverityLabel != "" || r.CriticalFixAvailableSince != nil || ts3339(r.FindingScanDate) != "2026-06-23T03:15:42Z" {
		t.Fatalf("clean: %+v", r)
	}
	if r := describeOne(t, c, never).ScanResults; r != nil {
		t.Fatalf("never scanned has ScanResults %+v", r)
	}
}

func TestScanResultsSeedErrors(t *testing.T) {
	s, ts := ctlServer(t, Options{})
	for _, tc := range []struct{ entry, want string }{
		{`{"region":"us-east-1","name":"a","scan_results":{"highest_finding_severity":"low"}}`, "scan_results.finding_scan_date is required"},
		{`{"region":"us-east-1","name":"a","scan_results":{"finding_scan_date":"2026-06-01","highest_finding_severity":"CRITICAL"}}`, `scan_results.highest_finding_severity "CRITICAL" is not a severity`},
		{`{"region":"us-east-1","name":"a","scan_results":{"finding_scan_date":"yesterday"}}`, `scan_results.finding_scan_date "yesterday" is not a time`},
		{`{"region":"us-east-1","name":"a","scan_results":{"finding_scan_date":"2026-06-01","high_fix_available_since":"soon"}}`, `scan_results.high_fix_available_since "soon" is not a time`},
		{`{"region":"us-east-1","name":"a","scan_results":{"finding_scan_date":"2026-06-01","severity":"low"}}`, `unknown field "severity"`},
	} {
		code, m := ctlDo(t, ts, "POST", "/_emu/images", "["+tc.entry+"]")
		msg, _ := m["error"].(string)
		if code != 400 || !strings.Contains(msg, tc.want) {
			t.Errorf("%s: status %d, error %q, want 400 containing %q", tc.entry, code, msg, tc.want)
		}
	}
	if n := s.ImageCount(); n != 0 {
		t.Fatalf("bad seeds added %d images", n)
	}
}

// allScanCondition sets every field of the SDK's ScanResultConditionRequest.
func allScanCondition() *types.ScanResultConditionRequest {
	return &types.ScanResultConditionRequest{
		MaximumSeverityLabel:                  types.SeverityLabelHigh,
		MaxDaysSinceLastFindingScan:           aws.Int32(7),
		MaxDaysSinceCriticalFixAvailable:      aws.Int32(0),
		MaxDaysSinceHighFixAvailable:          aws.Int32(1),
		MaxDaysSinceMediumFixAvailable:        aws.Int32(2),
		MaxDaysSinceLowFixAvailable:           aws.Int32(3),
		MaxDaysSinceInformationalFixAvailable: aws.Int32(2147483647),
	}
}

func TestScanResultConditionEchoedAndValidated(t *testing.T) {
	c, _, _, _, _ := scanSeed(t)
	must(c.ReplaceImageCriteriaInAllowedImagesSettings(ctx, &ec2.ReplaceImageCriteriaInAllowedImagesSettingsInput{
		ImageCriteria: []types.ImageCriterionRequest{{ImageProviders: []string{acctB}, ScanResultCondition: allScanCondition()}},
	})).ok(t)
	out := must(c.GetAllowedImagesSettings(ctx, &ec2.GetAllowedImagesSettingsInput{})).ok(t)
	if len(out.ImageCriteria) != 1 || out.ImageCriteria[0].ScanResultCondition == nil {
		t.Fatalf("criteria not echoed: %+v", out.ImageCriteria)
	}
	sc := out.ImageCriteria[0].ScanResultCondition
	w := allScanCondition()
	if sc.MaximumSeverityLabel != w.MaximumSeverityLabel || *sc.MaxDaysSinceLastFindingScan != 7 || *sc.MaxDaysSinceCriticalFixAvailable != 0 ||
		*sc.MaxDaysSinceHighFixAvailable != 1 || *sc.MaxDaysSinceMediumFixAvailable != 2 || *sc.MaxDaysSinceLowFixAvailable != 3 ||
		*sc.MaxDaysSinceInformationalFixAvailable != 2147483647 {
		t.Fatalf("ScanResultCondition echoed as %+v", sc)
	}
	// Only the set fields come back.
	must(c.ReplaceImageCriteriaInAllowedImagesSettings(ctx, &ec2.ReplaceImageCriteriaInAllowedImagesSettingsInput{
		ImageCriteria: []types.ImageCriterionRequest{{ScanResultCondition: &types.ScanResultConditionRequest{MaxDaysSinceLastFindingScan: aws.Int32(7)}}},
	})).ok(t)
	sc = must(c.GetAllowedImagesSettings(ctx, &ec2.GetAllowedImagesSettingsInput{})).ok(t).ImageCriteria[0].ScanResultCondition
	if sc == nil || sc.MaximumSeverityLabel != "" || sc.MaxDaysSinceHighFixAvailable != nil || aws.ToInt32(sc.MaxDaysSinceLastFindingScan) != 7 {
		t.Fatalf("partial condition echoed as %+v", sc)
	}
	for _, bad := range []struct {
		sc   *types.ScanResultConditionRequest
		want string
	}{
		{&types.ScanResultConditionRequest{MaximumSeverityLabel: "severe"}, "ImageCriterion.1.ScanResultCondition.MaximumSeverityLabel"},
		{&types.ScanResultConditionRequest{MaxDaysSinceLastFindingScan: aws.Int32(-1)}, "ImageCriterion.1.ScanResultCondition.MaxDaysSinceLastFindingScan"},
		{&types.ScanResultConditionRequest{MaxDaysSinceLowFixAvailable: aws.Int32(-5)}, "ImageCriterion.1.ScanResultCondition.MaxDaysSinceLowFixAvailable"},
	} {
		_, err := c.ReplaceImageCriteriaInAllowedImagesSettings(ctx, &ec2.ReplaceImageCriteriaInAllowedImagesSettingsInput{
			ImageCriteria: []types.ImageCriterionRequest{{ScanResultCondition: bad.sc}}})
		apiErr(t, err, "InvalidParameterValue", "")
		if !strings.Contains(err.Error(), bad.want) {
			t.Errorf("error %v does not name %s", err, bad.want)
		}
	}
	// The rejected calls changed nothing.
	if sc := must(c.GetAllowedImagesSettings(ctx, &ec2.GetAllowedImagesSettingsInput{})).ok(t).ImageCriteria[0].ScanResultCondition; aws.ToInt32(sc.MaxDaysSinceLastFindingScan) != 7 {
		t.Fatalf("a rejected replace changed the criteria: %+v", sc)
	}
}

// TestScanResultConditionEnabledBlocksUnscanned is the case:
// {ImageProviders:[B], ScanResultCondition:{MaxDaysSinceLastFindingScan:7}}
// must not let B's never-scanned AMI launch.
func TestScanResultConditionEnabledBlocksUnscanned(t *testing.T) {
	c, s, full, clean, never := scanSeed(t)
	setAllowed(t, c, types.AllowedImagesSettingsEnabledStateEnabled, types.ImageCriterionRequest{
		ImageProviders:      []string{acctB},
		ScanResultCondition: &types.ScanResultConditionRequest{MaxDaysSinceLastFindingScan: aws.Int32(7)},
	})
	got := sortedIDs(describeIDs(t, c, &ec2.DescribeImagesInput{})...)
	if strings.Join(got, ",") != strings.Join(sortedIDs(full, clean), ",") {
		t.Fatalf("enabled: visible %v, want %s and %s (never scanned hidden)", got, full, clean)
	}
	_, err := c.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: aws.String(never), MinCount: aws.Int32(1), MaxCount: aws.Int32(1)})
	apiErr(t, err, "InvalidAMIID.NotFound", "The image id '["+never+"]' does not exist")
	must(c.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: aws.String(clean), MinCount: aws.Int32(1), MaxCount: aws.Int32(1)})).ok(t)
	// Ten days on, the last scans are too old: nothing of B launches.
	advance(s, 10*24*time.Hour)
	_, err = c.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: aws.String(clean), MinCount: aws.Int32(1), MaxCount: aws.Int32(1)})
	apiErr(t, err, "InvalidAMIID.NotFound", "")
}

func sortedIDs(ids ...string) []string {
	out := append([]string(nil), ids...)
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			if out[j] < out[i] {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return out
}

// TestScanResultConditionAuditMode evaluates each field in audit mode at
// the emulator's now (2026-06-24T03:15:42.123Z).
func TestScanResultConditionAuditMode(t *testing.T) {
	c, _, full, clean, never := scanSeed(t)
	cases := []struct {
		name              string
		sc                *types.ScanResultConditionRequest
		full, clean, none bool
	}{
		{"last scan 3 days: full scanned 3d ago", &types.ScanResultConditionRequest{MaxDaysSinceLastFindingScan: aws.Int32(3)}, true, true, false},
		{"last scan 2 days", &types.ScanResultConditionRequest{MaxDaysSinceLastFindingScan: aws.Int32(2)}, false, true, false},
		{"severity high: full is critical", &types.ScanResultConditionRequest{MaximumSeverityLabel: types.SeverityLabelHigh}, false, true, false},
		{"severity critical", &types.ScanResultConditionRequest{MaximumSeverityLabel: types.SeverityLabelCritical}, true, true, false},
		{"critical fix 10 days", &types.ScanResultConditionRequest{MaxDaysSinceCriticalFixAvailable: aws.Int32(10)}, true, true, false},
		{"critical fix 9 days (available 9d 12ms ago)", &types.ScanResultConditionRequest{MaxDaysSinceCriticalFixAvailable: aws.Int32(9)}, false, true, false},
		{"high fix 15 days", &types.ScanResultConditionRequest{MaxDaysSinceHighFixAvailable: aws.Int32(15)}, true, true, false},
		{"high fix 14 days (available 14d 3h ago)", &types.ScanResultConditionRequest{MaxDaysSinceHighFixAvailable: aws.Int32(14)}, false, true, false},
		{"medium fix 23 days", &types.ScanResultConditionRequest{MaxDaysSinceMediumFixAvailable: aws.Int32(23)}, false, true, false},
		{"medium fix 24 days", &types.ScanResultConditionRequest{MaxDaysSinceMediumFixAvailable: aws.Int32(24)}, true, true, false},
		{"low fix 55 days", &types.ScanResultConditionRequest{MaxDaysSinceLowFixAvailable: aws.Int32(55)}, true, true, false},
		{"low fix 54 days", &types.ScanResultConditionRequest{MaxDaysSinceLowFixAvailable: aws.Int32(54)}, false, true, false},
		{"informational fix 84 days", &types.ScanResultConditionRequest{MaxDaysSinceInformationalFixAvailable: aws.Int32(84)}, false, true, false},
		{"informational fix huge", &types.ScanResultConditionRequest{MaxDaysSinceInformationalFixAvailable: aws.Int32(2147483647)}, true, true, false},
	}
	for _, tc := range cases {
		setAllowed(t, c, types.AllowedImagesSettingsEnabledStateAuditMode, types.ImageCriterionRequest{ImageProviders: []string{acctB}, ScanResultCondition: tc.sc})
		m := allowedMap(t, c)
		for id, want := range map[string]bool{full: tc.full, clean: tc.clean, never: tc.none} {
			if m[id] == nil || *m[id] != want {
				t.Errorf("%s: %s imageAllowed %v, want %v", tc.name, id, m[id], want)
			}
		}
	}
}

func TestScanResultFilters(t *testing.T) {
	c, _, full, clean, _ := scanSeed(t)
	for _, tc := range []struct {
		name, value string
		want        []string
	}{
		{"scan-result.finding-scan-date", "2026-06-2*", sortedIDs(full, clean)},
		{"scan-result.finding-scan-date", "2026-06-21T03:15:42.200Z", []string{full}},
		{"scan-result.highest-finding-severity-label", "critical", []string{full}},
		{"scan-result.highest-finding-severity-label", "*", []string{full}},
		{"scan-result.critical-fix-available-since", "2026-06-14T03:15:42.500Z", []string{full}},
		{"scan-result.high-fix-available-since", "2026-06-10T*", []string{full}},
		{"scan-result.medium-fix-available-since", "2026-06-01T*", []string{full}},
		{"scan-result.low-fix-available-since", "2026-04-30T22:*", []string{full}},
		{"scan-result.informational-fix-available-since", "2026-04-01T00:00:00.000Z", []string{full}},
		{"scan-result.informational-fix-available-since", "2027*", nil},
	} {
		got := sortedIDs(describeIDs(t, c, &ec2.DescribeImagesInput{Filters: []types.Filter{{Name: aws.String(tc.name), Values: []string{tc.value}}}})...)
		if strings.Join(got, ",") != strings.Join(tc.want, ",") {
			t.Errorf("%s=%s: %v, want %v", tc.name, tc.value, got, tc.want)
		}
	}
}

// TestImageAllowedFilterWhileDisabled: "image-allowed - whether the image
// meets the criteria specified for Allowed AMIs": the stored criteria
// decide in every state, disabled included (own images always meet them).
func TestImageAllowedFilterWhileDisabled(t *testing.T) {
	s, ts := newAPIServer(t, Options{})
	own, bGolden, cGolden, plain := allowedFixture(t, s)
	c := client(t, ts.URL, "us-east-1", acctA)
	filter := func(v string) []string {
		return sortedIDs(describeIDs(t, c, &ec2.DescribeImagesInput{Filters: []types.Filter{{Name: aws.String("image-allowed"), Values: []string{v}}}})...)
	}
	// Disabled, no criteria: only the own image meets them.
	if got := filter("true"); strings.Join(got, ",") != own.ID {
		t.Fatalf("disabled, no criteria, image-allowed=true: %v, want only %s", got, own.ID)
	}
	if got := filter("false"); strings.Join(got, ",") != strings.Join(sortedIDs(bGolden.ID, cGolden.ID, plain.ID), ",") {
		t.Fatalf("disabled, no criteria, image-allowed=false: %v", got)
	}
	must(c.ReplaceImageCriteriaInAllowedImagesSettings(ctx, &ec2.ReplaceImageCriteriaInAllowedImagesSettingsInput{
		ImageCriteria: []types.ImageCriterionRequest{{ImageWatermarks: []types.ImageWatermarkFilterRequest{{WatermarkKey: aws.String(acctB + ":golden")}}}}})).ok(t)
	if got := filter("true"); strings.Join(got, ",") != strings.Join(sortedIDs(own.ID, bGolden.ID), ",") {
		t.Fatalf("disabled with criteria, image-allowed=true: %v", got)
	}
	// The attribute itself stays absent while disabled.
	for id, a := range allowedMap(t, c) {
		if a != nil {
			t.Fatalf("disabled: %s reports imageAllowed", id)
		}
	}
}

func TestGetImageAncestry(t *testing.T) {
	s, ts := newAPIServer(t, Options{})
	root := mkImage(acctB, "us-east-1", "root", apiBase.AddDate(0, 0, -30))
	root.OwnerAlias, root.Public = "amazon", true
	putImages(s, root)
	ce := client(t, ts.URL, "us-east-1", acctA)
	cw := client(t, ts.URL, "eu-west-1", acctA)
	run := must(ce.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: aws.String(root.ID), MinCount: aws.Int32(1), MaxCount: aws.Int32(1)})).ok(t)
	built := aws.ToString(must(ce.CreateImage(ctx, &ec2.CreateImageInput{InstanceId: run.Instances[0].InstanceId, Name: aws.String("built")})).ok(t).ImageId)
	copied := aws.ToString(must(cw.CopyImage(ctx, &ec2.CopyImageInput{SourceImageId: aws.String(built), SourceRegion: aws.String("us-east-1"), Name: aws.String("copied")})).ok(t).ImageId)

	out := must(cw.GetImageAncestry(ctx, &ec2.GetImageAncestryInput{ImageId: aws.String(copied)})).ok(t)
	var got []string
	for _, e := range out.ImageAncestryEntries {
		got = append(got, aws.ToString(e.ImageId)+"<"+aws.ToString(e.SourceImageRegion)+"/"+aws.ToString(e.SourceImageId)+" "+aws.ToString(e.ImageOwnerAlias))
		if e.CreationDate == nil || e.CreationDate.IsZero() {
			t.Errorf("%s: no creation date", aws.ToString(e.ImageId))
		}
	}
	want := []string{copied + "<us-east-1/" + built + " ", built + "<us-east-1/" + root.ID + " ", root.ID + "</ amazon"}
	if strings.Join(got, " | ") != strings.Join(want, " | ") {
		t.Fatalf("ancestry =\n %v\nwant\n %v", got, want)
	}
	if !out.ImageAncestryEntries[2].CreationDate.Equal(root.CreationDate.Truncate(time.Millisecond)) {
		t.Errorf("root creation date %v, want %v", out.ImageAncestryEntries[2].CreationDate, root.CreationDate)
	}
	_, err := ce.GetImageAncestry(ctx, &ec2.GetImageAncestryInput{ImageId: aws.String("ami-0123456789abcdef9")})
	apiErr(t, err, "InvalidAMIID.NotFound", "")
	_, err = ce.GetImageAncestry(ctx, &ec2.GetImageAncestryInput{ImageId: aws.String("image-1")})
	apiErr(t, err, "InvalidAMIID.Malformed", "")
	// Another account cannot trace A's private image.
	_, err = client(t, ts.URL, "eu-west-1", acctC).GetImageAncestry(ctx, &ec2.GetImageAncestryInput{ImageId: aws.String(copied)})
	apiErr(t, err, "InvalidAMIID.NotFound", "")
}

func TestDescribeInstanceImageMetadata(t *testing.T) {
	s, ts := newAPIServer(t, Options{})
	_, bGolden, _, plain := allowedFixture(t, s)
	c := client(t, ts.URL, "us-east-1", acctA)
	var insts []string
	for i := 0; i < 7; i++ {
		img := plain.ID
		if i%2 == 0 {
			img = bGolden.ID
		}
		out := must(c.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: aws.String(img), MinCount: aws.Int32(1), MaxCount: aws.Int32(1)})).ok(t)
		insts = append(insts, aws.ToString(out.Instances[0].InstanceId))
		advance(s, time.Second)
	}
	// B deregisters the golden image and stops sharing: the metadata still
	// reports it, watermarks included.
	cb := client(t, ts.URL, "us-east-1", acctB)
	must(cb.DeregisterImage(ctx, &ec2.DeregisterImageInput{ImageId: aws.String(bGolden.ID)})).ok(t)
	setAllowed(t, c, types.AllowedImagesSettingsEnabledStateAuditMode, types.ImageCriterionRequest{
		ImageWatermarks: []types.ImageWatermarkFilterRequest{{WatermarkKey: aws.String(acctB + ":golden")}}})

	p := ec2.NewDescribeInstanceImageMetadataPaginator(c, &ec2.DescribeInstanceImageMetadataInput{MaxResults: aws.Int32(5)})
	var got []types.InstanceImageMetadata
	pages := 0
	for p.HasMorePages() {
		page := must(p.NextPage(ctx)).ok(t)
		pages++
		got = append(got, page.InstanceImageMetadata...)
	}
	if pages != 2 || len(got) != 7 {
		t.Fatalf("%d pages, %d entries; want 2 pages, 7 entries", pages, len(got))
	}
	for i, m := range got {
		if aws.ToString(m.InstanceId) != insts[i] || aws.ToString(m.OwnerId) != acctA || m.State == nil || m.LaunchTime == nil || m.ImageMetadata == nil {
			t.Fatalf("entry %d = %+v", i, m)
		}
		im := m.ImageMetadata
		if i%2 == 0 {
			if aws.ToString(im.ImageId) != bGolden.ID || im.State != types.ImageStateDeregistered || len(im.ImageWatermarks) != 1 ||
				aws.ToString(im.ImageWatermarks[0].WatermarkKey) != acctB+":golden" || !aws.ToBool(im.ImageAllowed) || aws.ToString(im.OwnerId) != acctB {
				t.Errorf("entry %d golden metadata = %+v", i, im)
			}
		} else if aws.ToString(im.ImageId) != plain.ID || im.ImageAllowed == nil || *im.ImageAllowed || aws.ToString(im.Name) != "b-plain" || !aws.ToBool(im.IsPublic) {
			t.Errorf("entry %d plain metadata = %+v", i, im)
		}
	}
	// Filters and ids.
	out := must(c.DescribeInstanceImageMetadata(ctx, &ec2.DescribeInstanceImageMetadataInput{
		Filters: []types.Filter{{Name: aws.String("image-allowed"), Values: []string{"false"}}}})).ok(t)
	if len(out.InstanceImageMetadata) != 3 {
		t.Errorf("image-allowed=false: %d entries, want 3", len(out.InstanceImageMetadata))
	}
	out = must(c.DescribeInstanceImageMetadata(ctx, &ec2.DescribeInstanceImageMetadataInput{InstanceIds: []string{insts[3]}})).ok(t)
	if len(out.InstanceImageMetadata) != 1 || aws.ToString(out.InstanceImageMetadata[0].InstanceId) != insts[3] {
		t.Errorf("by id: %+v", out.InstanceImageMetadata)
	}
	_, err := c.DescribeInstanceImageMetadata(ctx, &ec2.DescribeInstanceImageMetadataInput{InstanceIds: []string{"i-0123456789abcdef9"}})
	apiErr(t, err, "InvalidInstanceID.NotFound", "")
	_, err = cb.DescribeInstanceImageMetadata(ctx, &ec2.DescribeInstanceImageMetadataInput{InstanceIds: []string{insts[0]}})
	apiErr(t, err, "InvalidInstanceID.NotFound", "")
	_, err = c.DescribeInstanceImageMetadata(ctx, &ec2.DescribeInstanceImageMetadataInput{MaxResults: aws.Int32(2)})
	apiErr(t, err, "InvalidParameterValue", "")
	_, err = c.DescribeInstanceImageMetadata(ctx, &ec2.DescribeInstanceImageMetadataInput{Filters: []types.Filter{{Name: aws.String("image-id"), Values: []string{"x"}}}})
	apiErr(t, err, "InvalidParameterValue", "")
	_, err = c.DescribeInstanceImageMetadata(ctx, &ec2.DescribeInstanceImageMetadataInput{MaxResults: aws.Int32(5), NextToken: aws.String("bogus")})
	apiErr(t, err, "InvalidPaginationToken", "")
}

// TestScanResultsPersist: --state keeps the scan results and the scan
// condition of the criteria across a restart.
func TestScanResultsPersist(t *testing.T) {
	c, s, full, _, never := scanSeed(t)
	setAllowed(t, c, types.AllowedImagesSettingsEnabledStateAuditMode, types.ImageCriterionRequest{
		ImageProviders: []string{acctB}, ScanResultCondition: allScanCondition()})
	path := t.TempDir() + "/state.json"
	if err := s.SaveState(path); err != nil {
		t.Fatal(err)
	}
	s2, ts2 := newAPIServer(t, Options{})
	if err := s2.LoadState(path); err != nil {
		t.Fatal(err)
	}
	c2 := client(t, ts2.URL, "us-east-1", acctA)
	before, after := describeOne(t, c, full).ScanResults, describeOne(t, c2, full).ScanResults
	if after == nil || ts3339(after.CriticalFixAvailableSince) != ts3339(before.CriticalFixAvailableSince) ||
		after.HighestFindingSeverityLabel != before.HighestFindingSeverityLabel || !after.FindingScanDate.Equal(*before.FindingScanDate) {
		t.Fatalf("scan results after a restart: %+v, before %+v", after, before)
	}
	if describeOne(t, c2, never).ScanResults != nil {
		t.Fatal("an unscanned image gained scan results")
	}
	sc := must(c2.GetAllowedImagesSettings(ctx, &ec2.GetAllowedImagesSettingsInput{})).ok(t).ImageCriteria[0].ScanResultCondition
	if sc == nil || sc.MaximumSeverityLabel != types.SeverityLabelHigh || aws.ToInt32(sc.MaxDaysSinceInformationalFixAvailable) != 2147483647 {
		t.Fatalf("scan condition after a restart: %+v", sc)
	}
}
