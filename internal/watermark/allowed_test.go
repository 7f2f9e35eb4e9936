package watermark

import (
	"strings"
	"testing"
	"time"
)

func i64(v int64) *int64   { return &v }
func str(v string) *string { return &v }

func TestParseCriteriaJSON(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    int
		wantErr string
	}{
		{"array", `[{"ImageWatermarks":[{"WatermarkKey":"111122223333:golden*"}]}]`, 1, ""},
		{"cli input json", `{"ImageCriteria":[{"ImageProviders":["amazon"]},{"ImageNames":["al2023-*"]}]}`, 2, ""},
		{"empty list clears", `[]`, 0, ""},
		{"empty input", ``, 0, "the criteria JSON is empty"},
		{"typo field", `[{"ImageProvider":["amazon"]}]`, 0, `unknown field "ImageProvider"`},
		{"bad provider", `[{"ImageProviders":["amazn"]}]`, 0, `criterion 1: ImageProviders: "amazn" is not amazon`},
		{"none not alone", `[{"ImageProviders":["none","amazon"]}]`, 0, `"none" must be the only value`},
		{"short name with ?", `[{"ImageNames":["a?"]}]`, 0, `uses '?' and must then be at least 3 characters`},
		{"bad name char", `[{"ImageNames":["a:b"]}]`, 0, `has the character ':'`},
		{"bad product code", `[{"MarketplaceProductCodes":["a-b"]}]`, 0, `must be 1-25 letters or digits`},
		{"negative days", `[{"CreationDateCondition":{"MaximumDaysSinceCreated":-1}}]`, 0, `MaximumDaysSinceCreated is -1`},
		{"huge days", `[{"ImageWatermarks":[{"MaximumDaysSinceWatermarkCreated":2147483648}]}]`, 0, `ImageWatermarks[1].MaximumDaysSinceWatermarkCreated is 2147483648`},
		{"empty watermark filter", `[{"ImageWatermarks":[{}]}]`, 0, `ImageWatermarks[1] sets no field`},
		{"trailing data", `[] []`, 0, `unexpected text after the JSON value at byte 4`},
		{"eleven criteria", `[` + strings.Repeat(`{"ImageProviders":["amazon"]},`, 10) + `{"ImageProviders":["amazon"]}]`, 0, `there are 11 criteria: EC2 allows at most 10`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := ParseCriteriaJSON([]byte(tt.in))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want it to contain %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			if len(c) != tt.want {
				t.Fatalf("got %d criteria, want %d", len(c), tt.want)
			}
		})
	}
}

func TestCriteriaEvaluate(t *testing.T) {
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	day := 24 * time.Hour
	golden := Watermark{
		Key: "111122223333:golden", SourceImageID: "ami-0aaaaaaaaaaaaaaaa", SourceImageRegion: "us-east-1",
		SourceImageCreationTime: now.Add(-40 * day), WatermarkCreationTime: now.Add(-10 * day),
	}
	other := Watermark{
		Key: "444455556666:golden", SourceImageID: "ami-0bbbbbbbbbbbbbbbb", SourceImageRegion: "eu-west-1",
		SourceImageCreationTime: now.Add(-2 * day), WatermarkCreationTime: now.Add(-1 * day),
	}
	img := Image{ID: "ami-0ccccccccccccccccc", OwnerID: "999988887777", Name: "app-2026", CreationDate: now.Add(-5 * day),
		Watermarks: []Watermark{golden, other}}
	caller := "123456789012"
	tests := []struct {
		name string
		c    Criteria
		img  Image
		want bool
	}{
		{"no criteria blocks foreign", nil, img, false},
		{"own image always allowed", nil, Image{OwnerID: caller}, true},
		{"empty criterion never matches", Criteria{{}}, img, false},
		{"provider id", Criteria{{ImageProviders: []string{"999988887777"}}}, img, true},
		{"provider none", Criteria{{ImageProviders: []string{"none"}}}, img, false},
		{"provider alias", Criteria{{ImageProviders: []string{"amazon"}}}, Image{OwnerID: "137112412989", OwnerAlias: "amazon"}, true},
		{"name glob", Criteria{{ImageNames: []string{"app-20??"}}}, img, true},
		{"name glob miss", Criteria{{ImageNames: []string{"base-*"}}}, img, false},
		{"AND inside criterion", Criteria{{ImageProviders: []string{"999988887777"}, ImageNames: []string{"base-*"}}}, img, false},
		{"OR across criteria", Criteria{{ImageNames: []string{"base-*"}}, {ImageNames: []string{"app-*"}}}, img, true},
		{"creation within", Criteria{{CreationDateCondition: &CreationDateCondition{MaximumDaysSinceCreated: i64(5)}}}, img, true},
		{"creation too old", Criteria{{CreationDateCondition: &CreationDateCondition{MaximumDaysSinceCreated: i64(4)}}}, img, false},
		{"not deprecated passes", Criteria{{DeprecationTimeCondition: &DeprecationTimeCondition{MaximumDaysSinceDeprecated: i64(0)}}}, img, true},
		{"deprecated long ago", Criteria{{DeprecationTimeCondition: &DeprecationTimeCondition{MaximumDaysSinceDeprecated: i64(3)}}},
			Image{OwnerID: "999988887777", DeprecationTime: now.Add(-4 * day)}, false},
		{"deprecated exactly now, 0 days: excluded", Criteria{{DeprecationTimeCondition: &DeprecationTimeCondition{MaximumDaysSinceDeprecated: i64(0)}}},
			Image{OwnerID: "999988887777", DeprecationTime: now}, false},
		{"deprecated 1ms ago, 0 days: excluded", Criteria{{DeprecationTimeCondition: &DeprecationTimeCondition{MaximumDaysSinceDeprecated: i64(0)}}},
			Image{OwnerID: "999988887777", DeprecationTime: now.Add(-time.Millisecond)}, false},
		{"deprecated exactly 3 days ago, 3 days: allowed", Criteria{{DeprecationTimeCondition: &DeprecationTimeCondition{MaximumDaysSinceDeprecated: i64(3)}}},
			Image{OwnerID: "999988887777", DeprecationTime: now.Add(-3 * day)}, true},
		{"deprecated 3 days + 1ms ago, 3 days: excluded", Criteria{{DeprecationTimeCondition: &DeprecationTimeCondition{MaximumDaysSinceDeprecated: i64(3)}}},
			Image{OwnerID: "999988887777", DeprecationTime: now.Add(-3*day - time.Millisecond)}, false},
		{"deprecated now, 1 day: allowed", Criteria{{DeprecationTimeCondition: &DeprecationTimeCondition{MaximumDaysSinceDeprecated: i64(1)}}},
			Image{OwnerID: "999988887777", DeprecationTime: now}, true},
		{"deprecation in future passes", Criteria{{DeprecationTimeCondition: &DeprecationTimeCondition{MaximumDaysSinceDeprecated: i64(0)}}},
			Image{OwnerID: "999988887777", DeprecationTime: now.Add(day)}, true},
		{"watermark key", Criteria{{ImageWatermarks: []WatermarkFilter{{WatermarkKey: str("111122223333:gold*")}}}}, img, true},
		{"watermark same-watermark rule", Criteria{{ImageWatermarks: []WatermarkFilter{{
			WatermarkKey: str("111122223333:golden"), SourceImageRegion: str("eu-*")}}}}, img, false},
		{"watermark region on the other", Criteria{{ImageWatermarks: []WatermarkFilter{{
			WatermarkKey: str("444455556666:golden"), SourceImageRegion: str("eu-*")}}}}, img, true},
		{"watermark age", Criteria{{ImageWatermarks: []WatermarkFilter{{
			WatermarkKey: str("111122223333:golden"), MaximumDaysSinceWatermarkCreated: i64(9)}}}}, img, false},
		{"watermark age boundary", Criteria{{ImageWatermarks: []WatermarkFilter{{
			WatermarkKey: str("111122223333:golden"), MaximumDaysSinceWatermarkCreated: i64(10)}}}}, img, true},
		{"source age", Criteria{{ImageWatermarks: []WatermarkFilter{{
			WatermarkKey: str("111122223333:golden"), MaximumDaysSinceSourceImageCreated: i64(39)}}}}, img, false},
		{"filters ORed", Criteria{{ImageWatermarks: []WatermarkFilter{
			{WatermarkKey: str("000000000000:x")}, {SourceImageRegion: str("us-east-?")}}}}, img, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := tt.c.Evaluate(tt.img, caller, now)
			if v.Allowed != tt.want {
				t.Fatalf("Allowed = %v (%s), want %v", v.Allowed, v.Reason, tt.want)
			}
			if v.Reason == "" {
				t.Fatalf("empty reason")
			}
		})
	}
}

func FuzzParseCriteriaJSON(f *testing.F) {
	f.Add(`[{"ImageWatermarks":[{"WatermarkKey":"111122223333:golden*","MaximumDaysSinceWatermarkCreated":3}]}]`)
	f.Add(`{"ImageCriteria":[{"ImageProviders":["none"]}]}`)
	f.Add(`[{"ImageNames":["a?c"],"CreationDateCondition":{"MaximumDaysSinceCreated":0}}]`)
	f.Add(`[{"ScanResultCondition":{"MaximumSeverityLabel":"high","MaxDaysSinceCriticalFixAvailable":7}}]`)
	f.Add(`{"ec2_attributes":{"allowed_images_settings":{"image_criteria":{"criteria_1":{"image_names":["a*"]}}}}}`)
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, in string) {
		c, err := ParseCriteriaJSON([]byte(in))
		if err != nil {
			return
		}
		if c.Validate() != nil {
			t.Fatalf("parsed criteria do not validate: %q", in)
		}
		img := Image{OwnerID: "111122223333", Name: in, Watermarks: []Watermark{{Key: "111122223333:" + in}},
			ScanResults: &ScanResults{FindingScanDate: now.Add(-time.Hour), HighestFindingSeverity: SeverityHigh, CriticalFixAvailableSince: now.Add(-240 * time.Hour)}}
		_ = c.Evaluate(img, "123456789012", now)
	})
}
