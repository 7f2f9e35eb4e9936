package watermark

import (
	"strings"
	"testing"
	"time"
)

func sev(s Severity) *Severity { return &s }

func TestScanResultCondition(t *testing.T) {
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	day := 24 * time.Hour
	scanned := &ScanResults{FindingScanDate: now.Add(-3 * day), HighestFindingSeverity: SeverityHigh,
		HighFixAvailableSince: now.Add(-10 * day), LowFixAvailableSince: now.Add(-100 * day)}
	clean := &ScanResults{FindingScanDate: now.Add(-1 * day)}
	tests := []struct {
		name string
		c    ScanResultCondition
		r    *ScanResults
		want bool
		why  string
	}{
		{"never scanned", ScanResultCondition{MaxDaysSinceLastFindingScan: i64(7)}, nil, false, "not scanned"},
		{"results without scan date", ScanResultCondition{MaximumSeverityLabel: sev(SeverityCritical)}, &ScanResults{HighestFindingSeverity: SeverityLow}, false, "not scanned"},
		{"scan recent", ScanResultCondition{MaxDaysSinceLastFindingScan: i64(3)}, scanned, true, ""},
		{"scan too old", ScanResultCondition{MaxDaysSinceLastFindingScan: i64(2)}, scanned, false, "more than 2 days ago"},
		{"severity at limit", ScanResultCondition{MaximumSeverityLabel: sev(SeverityHigh)}, scanned, true, ""},
		{"severity above", ScanResultCondition{MaximumSeverityLabel: sev(SeverityMedium)}, scanned, false, "severity high is above medium"},
		{"no findings meets severity", ScanResultCondition{MaximumSeverityLabel: sev(SeverityInformational)}, clean, true, ""},
		{"high fix within", ScanResultCondition{MaxDaysSinceHighFixAvailable: i64(10)}, scanned, true, ""},
		{"high fix too long", ScanResultCondition{MaxDaysSinceHighFixAvailable: i64(9)}, scanned, false, "a fix for a high finding"},
		{"no critical fix meets", ScanResultCondition{MaxDaysSinceCriticalFixAvailable: i64(0)}, scanned, true, ""},
		{"low fix", ScanResultCondition{MaxDaysSinceLowFixAvailable: i64(99)}, scanned, false, "low finding"},
		{"huge days never overflow", ScanResultCondition{MaxDaysSinceLowFixAvailable: i64(2147483647), MaxDaysSinceLastFindingScan: i64(200000)}, scanned, true, ""},
		{"empty condition", ScanResultCondition{}, scanned, false, "sets no field"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ok, why := tt.c.Check(tt.r, now)
			if ok != tt.want || !strings.Contains(why, tt.why) {
				t.Fatalf("Check = %v %q, want %v containing %q", ok, why, tt.want, tt.why)
			}
		})
	}
	// Through a criterion: the condition ANDs with the other parameters.
	img := Image{OwnerID: "999988887777", ScanResults: scanned}
	c := Criteria{{ImageProviders: []string{"999988887777"}, ScanResultCondition: &ScanResultCondition{MaximumSeverityLabel: sev(SeverityMedium)}}}
	if v := c.Evaluate(img, "111122223333", now); v.Allowed {
		t.Fatalf("high finding allowed under MaximumSeverityLabel medium: %+v", v)
	}
	img.ScanResults = clean
	if v := c.Evaluate(img, "111122223333", now); !v.Allowed {
		t.Fatalf("clean image not allowed: %+v", v)
	}
}

func TestWithinDaysNoOverflow(t *testing.T) {
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	created := now.Add(-time.Hour)
	for _, days := range []int64{106751, 106752, 200000, 2147483647} {
		if !WithinDays(now, created, days) {
			t.Errorf("WithinDays(1h ago, %d) = false", days)
		}
	}
	c := Criteria{{CreationDateCondition: &CreationDateCondition{MaximumDaysSinceCreated: i64(200000)}}}
	if v := c.Evaluate(Image{OwnerID: "999988887777", CreationDate: created}, "111122223333", now); !v.Allowed {
		t.Fatalf("MaximumDaysSinceCreated 200000 blocks a new image: %s", v.Reason)
	}
	if Days(2147483647) <= 0 || Days(-2147483647) >= 0 {
		t.Fatalf("Days wraps")
	}
}

func TestParseCriteriaJSONStrict(t *testing.T) {
	tests := []struct {
		name, in, wantErr string
	}{
		{"lowercase key", `[{"imageproviders":["amazon"]}]`, `field names are case-sensitive, write "ImageProviders"`},
		{"duplicate key", `[{"ImageProviders":["amazon"],"ImageProviders":["111122223333"]}]`, `"ImageProviders" appears twice`},
		{"duplicate wrapper key", `{"ImageCriteria":[],"ImageCriteria":[{"ImageProviders":["amazon"]}]}`, `appears twice`},
		{"nested lowercase", `[{"ScanResultCondition":{"maximumSeverityLabel":"low"}}]`, `write "MaximumSeverityLabel"`},
		{"bad severity", `[{"ScanResultCondition":{"MaximumSeverityLabel":"CRITICAL"}}]`, `"CRITICAL" is not a severity`},
		{"empty scan condition", `[{"ScanResultCondition":{}}]`, `ScanResultCondition sets no field`},
		{"scan days too big", `[{"ScanResultCondition":{"MaxDaysSinceHighFixAvailable":2147483648}}]`, `MaxDaysSinceHighFixAvailable is 2147483648`},
		{"truncated", `[{"ImageProviders":["amazon"]`, `ends too early`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseCriteriaJSON([]byte(tt.in))
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("error = %v, want it to contain %q", err, tt.wantErr)
			}
		})
	}
	c, err := ParseCriteriaJSON([]byte(`{"State":"audit-mode","ManagedBy":"account","ImageCriteria":[{"ScanResultCondition":{"MaximumSeverityLabel":"medium","MaxDaysSinceLastFindingScan":7,"MaxDaysSinceCriticalFixAvailable":0,"MaxDaysSinceHighFixAvailable":1,"MaxDaysSinceMediumFixAvailable":2,"MaxDaysSinceLowFixAvailable":3,"MaxDaysSinceInformationalFixAvailable":4}}]}`))
	if err != nil {
		t.Fatal(err)
	}
	sc := c[0].ScanResultCondition
	if *sc.MaximumSeverityLabel != SeverityMedium || *sc.MaxDaysSinceLastFindingScan != 7 || *sc.MaxDaysSinceCriticalFixAvailable != 0 ||
		*sc.MaxDaysSinceHighFixAvailable != 1 || *sc.MaxDaysSinceMediumFixAvailable != 2 || *sc.MaxDaysSinceLowFixAvailable != 3 || *sc.MaxDaysSinceInformationalFixAvailable != 4 {
		t.Fatalf("scan condition read wrong: %+v", sc)
	}
}

const testPolicy = `{
  "ec2_attributes": {
    "exception_message": {"@@assign": "See the wiki"},
    "allowed_images_settings": {
      "state": {"@@assign": "audit_mode"},
      "image_criteria": {
        "criteria_10": {"image_names": {"@@assign": ["late-*"]}},
        "criteria_2": {
          "allowed_image_providers": {"@@append": ["111122223333"]},
          "image_watermarks": {"@@assign": [{"watermark_key": "111122223333:golden", "maximum_days_since_watermark_created": 30}]},
          "scan_result_condition": {"maximum_severity_label": {"@@assign": "medium"}, "max_days_since_critical_fix_available": {"@@assign": 7}}
        },
        "criteria_1": {
          "allowed_image_providers": {"@@assign": ["amazon"]},
          "creation_date_condition": {"maximum_days_since_created": {"@@assign": 300}},
          "deprecation_time_condition": {"maximum_days_since_deprecated": 0},
          "marketplace_product_codes": ["abc123"]
        }
      }
    }
  }
}`

func TestParseDeclarativePolicy(t *testing.T) {
	p, err := ParseDeclarativePolicy([]byte(testPolicy))
	if err != nil {
		t.Fatal(err)
	}
	if p.State != "audit-mode" || len(p.Criteria) != 3 {
		t.Fatalf("state %q, %d criteria", p.State, len(p.Criteria))
	}
	c1, c2, c10 := p.Criteria[0], p.Criteria[1], p.Criteria[2]
	if c1.ImageProviders[0] != "amazon" || *c1.CreationDateCondition.MaximumDaysSinceCreated != 300 ||
		*c1.DeprecationTimeCondition.MaximumDaysSinceDeprecated != 0 || c1.MarketplaceProductCodes[0] != "abc123" {
		t.Fatalf("criteria_1 = %+v", c1)
	}
	if c2.ImageProviders[0] != "111122223333" || *c2.ImageWatermarks[0].WatermarkKey != "111122223333:golden" ||
		*c2.ImageWatermarks[0].MaximumDaysSinceWatermarkCreated != 30 || *c2.ScanResultCondition.MaximumSeverityLabel != SeverityMedium ||
		*c2.ScanResultCondition.MaxDaysSinceCriticalFixAvailable != 7 {
		t.Fatalf("criteria_2 = %+v", c2)
	}
	if c10.ImageNames[0] != "late-*" {
		t.Fatalf("criteria_10 = %+v", c10)
	}
	// The same file through ParseCriteriaJSON gives the same criteria.
	c, err := ParseCriteriaJSON([]byte(testPolicy))
	if err != nil || len(c) != 3 {
		t.Fatalf("ParseCriteriaJSON: %v %d", err, len(c))
	}

	bad := []struct{ name, in, want string }{
		{"unknown criterion key", `{"ec2_attributes":{"allowed_images_settings":{"image_criteria":{"criteria_1":{"image_provider":["amazon"]}}}}}`, `unknown key "image_provider"`},
		{"unknown ec2 attribute", `{"ec2_attributes":{"allowed_images":{}}}`, `unknown key "allowed_images"`},
		{"no settings", `{"ec2_attributes":{"serial_console_access":{}}}`, `has no allowed_images_settings`},
		{"remove", `{"ec2_attributes":{"allowed_images_settings":{"image_criteria":{"criteria_1":{"allowed_image_providers":{"@@remove":["amazon"]}}}}}}`, `@@remove only has a meaning`},
		{"bad state", `{"ec2_attributes":{"allowed_images_settings":{"state":{"@@assign":"audit-mode"}}}}`, `use enabled or audit_mode`},
		{"duplicate key", `{"ec2_attributes":{"allowed_images_settings":{"state":"enabled","state":"audit_mode"}}}`, `"state" appears twice`},
		{"uppercase key", `{"ec2_attributes":{"Allowed_Images_Settings":{}}}`, `unknown key "Allowed_Images_Settings"`},
		{"invalid provider", `{"ec2_attributes":{"allowed_images_settings":{"image_criteria":{"criteria_1":{"allowed_image_providers":["amazn"]}}}}}`, `"amazn" is not a 12-digit account id or an owner alias of amazon, aws_marketplace or aws_backup_vault`},
		{"bad days", `{"ec2_attributes":{"allowed_images_settings":{"image_criteria":{"criteria_1":{"creation_date_condition":{"maximum_days_since_created":"ten"}}}}}}`, `"ten" is not a whole number`},
		{"bad scan key", `{"ec2_attributes":{"allowed_images_settings":{"image_criteria":{"criteria_1":{"scan_result_condition":{"max_severity":"low"}}}}}}`, `unknown key "max_severity"`},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseCriteriaJSON([]byte(tt.in))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

func FuzzParseDeclarativePolicy(f *testing.F) {
	f.Add(testPolicy)
	f.Add(`{"ec2_attributes":{"allowed_images_settings":{"image_criteria":{"criteria_1":{"scan_result_condition":{"max_days_since_last_finding_scan":1}}}}}}`)
	f.Fuzz(func(t *testing.T, in string) {
		p, err := ParseDeclarativePolicy([]byte(in))
		if err != nil {
			return
		}
		if p.Criteria.Validate() != nil {
			t.Fatalf("parsed policy does not validate: %q", in)
		}
	})
}
