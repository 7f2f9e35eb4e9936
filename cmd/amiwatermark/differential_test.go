package main

// The differential test of issue 9: internal/watermark's Allowed-AMIs
// evaluator (written from docs/ec2-semantics.md, "Allowed AMIs") against the
// emulator's evaluator (written independently), on thousands of random
// images and hundreds of random criteria, with zero disagreements.
//
// The emulator runs in-process with a fixed clock; images are seeded with
// (*ec2emu.Server).SeedImages; every criteria set goes through the real SDK
// (ReplaceImageCriteriaInAllowedImagesSettings), the account is in
// audit-mode, and DescribeImages' imageAllowed of every visible image is
// compared with watermark.Criteria.Evaluate on the same described image at
// the emulator's now. Every tenth set is also checked in enabled mode (the
// visible set must be exactly the allowed images). The stored criteria must
// come back unchanged from GetAllowedImagesSettings.
//
// Times are drawn around the day boundaries the criteria use (N days
// exactly, ±1 ms), so the day arithmetic is exercised where the two
// implementations could differ.
//
// Flags: -diff.images N, -diff.rounds N, -diff.seed N (go test
// ./cmd/amiwatermark/ -run Differential -diff.rounds 2000 -v).

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"math/rand/v2"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/amiwatermark/packer-plugin-amiwatermark/internal/awsconfig"
	"github.com/amiwatermark/packer-plugin-amiwatermark/internal/ec2emu"
	"github.com/amiwatermark/packer-plugin-amiwatermark/internal/ec2emu/emutest"
	"github.com/amiwatermark/packer-plugin-amiwatermark/internal/watermark"
)

var (
	diffImages = flag.Int("diff.images", 2000, "differential test: number of random images (400 with -short)")
	diffRounds = flag.Int("diff.rounds", 120, "differential test: number of random criteria sets (25 with -short)")
	diffSeed   = flag.Uint64("diff.seed", 1, "differential test: random seed")
)

// Accounts of the differential world.
const (
	dAmazon  = "137112412989" // alias amazon
	dMarket  = "679593333241" // alias aws-marketplace
	dBackup  = "012345678901" // alias aws-backup-vault
	dThird   = "777788889999"
	dRegion  = "us-east-1"
	dMaxShow = 10 // disagreements printed in full
)

var (
	dOwners = []struct{ acct, alias string }{
		{acctMe, ""}, {acctOther, ""}, {dThird, ""}, {dAmazon, "amazon"}, {dMarket, "aws-marketplace"}, {dBackup, "aws-backup-vault"},
	}
	dNameFmts = []string{"golden-base-%d", "al2023-ami-2026.%d", "app-%d", "ubuntu/images/hvm-ssd/%d", "Win (2022) [core] %d", "x'y@z_%d", "golden-%d-base"}
	dWMNames  = []string{"golden", "golden-base", "golden-2026", "base", "app", "sec (1)", "a.b/c", "x_y@z"}
	dWMAccts  = []string{acctMe, acctOther, dThird, dAmazon}
	dRegions  = []string{"us-east-1", "eu-west-1", "ap-south-1", "us-west-2"}
	dCodes    = []string{"prod1abc", "xyz789", "mkt42"}
	dDays     = []int64{0, 1, 2, 7, 30, 90, 365, 2147483647}

	dNamePats   = []string{"golden-*", "golden-base-?", "al2023-ami-*", "app-1*", "*", "ubuntu/images/*", "Win (2022) [core] *", "x'y@z_?", "*-1", "app-??", "g*n-b*e-1*", "golden-?-base", "???"}
	dKeyPats    = []string{acctMe + ":golden*", "*:golden", acctOther + ":*", "*", acctMe + ":golden-base", "1111*:g?lden*", "*:sec (1)", acctMe + ":a.b/c", "*base", "??????????33:*", "*:*@*", dAmazon + ":app"}
	dRegionPats = []string{"us-east-1", "us-*", "eu-west-?", "*-1", "ap-south-1", "*", "?s-west-2"}
	dProviders  = []string{"amazon", "aws-marketplace", "aws-backup-vault", acctMe, acctOther, dThird, dAmazon}
	dCodePats   = []string{"prod1abc", "xyz789", "mkt42", "nomatch1"}
)

// dTime draws a time around the day boundaries of dDays (or anywhere in the
// last 800 days, or in the future), at millisecond precision.
func dTime(r *rand.Rand, now time.Time) time.Time {
	day := 24 * time.Hour
	switch r.IntN(6) {
	case 0, 1, 2: // on a boundary: exactly N days, or 1 ms either side
		n := dDays[r.IntN(len(dDays)-1)] // not the huge one
		t := now.Add(-time.Duration(n) * day)
		return t.Add(time.Duration(r.IntN(3)-1) * time.Millisecond)
	case 3: // near a boundary
		n := dDays[r.IntN(len(dDays)-1)]
		return now.Add(-time.Duration(n)*day + time.Duration(r.IntN(24*3600*1000)-12*3600*1000)*time.Millisecond)
	case 4: // in the future (clock skew, or a scheduled deprecation)
		return now.Add(time.Duration(1+r.IntN(400*24*3600)) * time.Second)
	}
	return now.Add(-time.Duration(r.IntN(800*24*3600*1000)) * time.Millisecond)
}

func dPick[T any](r *rand.Rand, s []T) T { return s[r.IntN(len(s))] }

func dSubset[T any](r *rand.Rand, pool []T, max int) []T {
	n := 1 + r.IntN(max)
	idx := r.Perm(len(pool))
	if n > len(idx) {
		n = len(idx)
	}
	out := make([]T, n)
	for i := range out {
		out[i] = pool[idx[i]]
	}
	return out
}

func genImages(r *rand.Rand, now time.Time, n int) []ec2emu.SeedImage {
	past := func() time.Time { // creation times are not in the future
		for {
			if t := dTime(r, now); !t.After(now) {
				return t
			}
		}
	}
	out := make([]ec2emu.SeedImage, 0, n)
	for i := 0; i < n; i++ {
		o := dPick(r, dOwners)
		img := ec2emu.SeedImage{
			Region:       dRegion,
			Account:      o.acct,
			OwnerAlias:   o.alias,
			Name:         fmt.Sprintf(dPick(r, dNameFmts), r.IntN(30)),
			CreationDate: ts(past()),
		}
		if r.IntN(3) == 0 {
			img.ProductCodes = dSubset(r, dCodes, 2)
		}
		if r.IntN(3) == 0 {
			img.DeprecationTime = ts(dTime(r, now))
		}
		public := o.acct != acctMe && r.IntN(5) == 0
		if public {
			img.Public = true
		} else {
			// Most foreign images are shared with the caller; some are
			// private to their owner and must stay invisible.
			if o.acct != acctMe && r.IntN(10) != 0 {
				img.SharedWith = []string{acctMe}
			}
			seen := map[string]bool{}
			for k := r.IntN(6); k > 0; k-- {
				key := dPick(r, dWMAccts) + ":" + dPick(r, dWMNames)
				if seen[key] {
					continue
				}
				seen[key] = true
				src := now.Add(-time.Duration(r.IntN(900*24)) * time.Hour)
				if r.IntN(2) == 0 {
					src = past()
				}
				img.Watermarks = append(img.Watermarks, ec2emu.SeedWatermark{
					Key:                     key,
					SourceImageID:           fmt.Sprintf("ami-0%016x", r.Uint64()),
					SourceImageRegion:       dPick(r, dRegions),
					SourceImageCreationTime: ts(src),
					WatermarkCreationTime:   ts(past()),
				})
			}
		}
		if r.IntN(4) != 0 { // three in four images were scanned by Inspector
			img.ScanResults = genScanResults(r, now, past)
		}
		out = append(out, img)
	}
	return out
}

// genScanResults draws Inspector results: a scan date in the past, a
// highest severity (or none), and fix-available times around the day
// boundaries (also in the future: clock skew).
func genScanResults(r *rand.Rand, now time.Time, past func() time.Time) *ec2emu.SeedScanResults {
	sr := &ec2emu.SeedScanResults{FindingScanDate: ts(past())}
	if r.IntN(5) != 0 {
		sr.HighestFindingSeverity = string(dPick(r, watermark.Severities))
	}
	for _, f := range []*string{&sr.CriticalFixAvailableSince, &sr.HighFixAvailableSince, &sr.MediumFixAvailableSince,
		&sr.LowFixAvailableSince, &sr.InformationalFixAvailableSince} {
		if r.IntN(3) == 0 {
			*f = ts(dTime(r, now))
		}
	}
	return sr
}

// genScanCondition draws a ScanResultCondition with at least one field.
func genScanCondition(r *rand.Rand) *watermark.ScanResultCondition {
	sc := &watermark.ScanResultCondition{}
	for sc.IsEmpty() {
		if r.IntN(3) == 0 {
			sev := dPick(r, watermark.Severities)
			sc.MaximumSeverityLabel = &sev
		}
		if r.IntN(3) == 0 {
			sc.MaxDaysSinceLastFindingScan = aws.Int64(dPick(r, dDays))
		}
		for _, sev := range watermark.Severities {
			if r.IntN(4) == 0 {
				sc.SetFixDays(sev, aws.Int64(dPick(r, dDays)))
			}
		}
	}
	return sc
}

func genCriteria(r *rand.Rand) watermark.Criteria {
	n := 1 + r.IntN(4) // 1..4 criteria; 1 in 20 sets is empty (clears the list)
	if r.IntN(20) == 0 {
		n = 0
	}
	c := make(watermark.Criteria, 0, n)
	for i := 0; i < n; i++ {
		var cr watermark.Criterion
		for set := false; !set; {
			if r.IntN(3) == 0 {
				set = true
				if r.IntN(8) == 0 {
					cr.ImageProviders = []string{"none"}
				} else {
					cr.ImageProviders = dSubset(r, dProviders, 3)
				}
			}
			if r.IntN(3) == 0 {
				set = true
				cr.ImageNames = dSubset(r, dNamePats, 3)
			}
			if r.IntN(5) == 0 {
				set = true
				cr.MarketplaceProductCodes = dSubset(r, dCodePats, 2)
			}
			if r.IntN(4) == 0 {
				set = true
				cr.CreationDateCondition = &watermark.CreationDateCondition{MaximumDaysSinceCreated: aws.Int64(dPick(r, dDays))}
			}
			if r.IntN(4) == 0 {
				set = true
				cr.DeprecationTimeCondition = &watermark.DeprecationTimeCondition{MaximumDaysSinceDeprecated: aws.Int64(dPick(r, dDays))}
			}
			if r.IntN(3) == 0 {
				set = true
				cr.ScanResultCondition = genScanCondition(r)
			}
			if r.IntN(2) == 0 {
				set = true
				for k := 1 + r.IntN(3); k > 0; k-- {
					var f watermark.WatermarkFilter
					for fset := false; !fset; {
						if r.IntN(2) == 0 {
							fset, f.WatermarkKey = true, aws.String(dPick(r, dKeyPats))
						}
						if r.IntN(3) == 0 {
							fset, f.SourceImageRegion = true, aws.String(dPick(r, dRegionPats))
						}
						if r.IntN(3) == 0 {
							fset, f.MaximumDaysSinceWatermarkCreated = true, aws.Int64(dPick(r, dDays))
						}
						if r.IntN(3) == 0 {
							fset, f.MaximumDaysSinceSourceImageCreated = true, aws.Int64(dPick(r, dDays))
						}
					}
					cr.ImageWatermarks = append(cr.ImageWatermarks, f)
				}
			}
		}
		c = append(c, cr)
	}
	return c
}

// toRequest converts criteria into the SDK's request types.
func toRequest(c watermark.Criteria) []types.ImageCriterionRequest {
	i32 := func(v *int64) *int32 {
		if v == nil {
			return nil
		}
		return aws.Int32(int32(*v))
	}
	out := make([]types.ImageCriterionRequest, 0, len(c))
	for _, cr := range c {
		req := types.ImageCriterionRequest{
			ImageProviders:          cr.ImageProviders,
			ImageNames:              cr.ImageNames,
			MarketplaceProductCodes: cr.MarketplaceProductCodes,
		}
		if cd := cr.CreationDateCondition; cd != nil {
			req.CreationDateCondition = &types.CreationDateConditionRequest{MaximumDaysSinceCreated: i32(cd.MaximumDaysSinceCreated)}
		}
		if dc := cr.DeprecationTimeCondition; dc != nil {
			req.DeprecationTimeCondition = &types.DeprecationTimeConditionRequest{MaximumDaysSinceDeprecated: i32(dc.MaximumDaysSinceDeprecated)}
		}
		for _, f := range cr.ImageWatermarks {
			req.ImageWatermarks = append(req.ImageWatermarks, types.ImageWatermarkFilterRequest{
				WatermarkKey:                       f.WatermarkKey,
				SourceImageRegion:                  f.SourceImageRegion,
				MaximumDaysSinceWatermarkCreated:   i32(f.MaximumDaysSinceWatermarkCreated),
				MaximumDaysSinceSourceImageCreated: i32(f.MaximumDaysSinceSourceImageCreated),
			})
		}
		if sc := cr.ScanResultCondition; sc != nil {
			req.ScanResultCondition = &types.ScanResultConditionRequest{
				MaxDaysSinceLastFindingScan:           i32(sc.MaxDaysSinceLastFindingScan),
				MaxDaysSinceCriticalFixAvailable:      i32(sc.MaxDaysSinceCriticalFixAvailable),
				MaxDaysSinceHighFixAvailable:          i32(sc.MaxDaysSinceHighFixAvailable),
				MaxDaysSinceMediumFixAvailable:        i32(sc.MaxDaysSinceMediumFixAvailable),
				MaxDaysSinceLowFixAvailable:           i32(sc.MaxDaysSinceLowFixAvailable),
				MaxDaysSinceInformationalFixAvailable: i32(sc.MaxDaysSinceInformationalFixAvailable),
			}
			if sc.MaximumSeverityLabel != nil {
				req.ScanResultCondition.MaximumSeverityLabel = types.SeverityLabel(*sc.MaximumSeverityLabel)
			}
		}
		out = append(out, req)
	}
	return out
}

// fromResponse converts GetAllowedImagesSettings criteria back with the
// product's converter (awsconfig.Criteria), empty lists as nil like the
// generated criteria.
func fromResponse(in []types.ImageCriterion) watermark.Criteria {
	out := awsconfig.Criteria(in)
	nilIfEmpty := func(s []string) []string {
		if len(s) == 0 {
			return nil
		}
		return s
	}
	for i := range out {
		cr := &out[i]
		cr.ImageProviders, cr.ImageNames, cr.MarketplaceProductCodes = nilIfEmpty(cr.ImageProviders), nilIfEmpty(cr.ImageNames), nilIfEmpty(cr.MarketplaceProductCodes)
	}
	return out
}

func jsonText(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprintf("<%v>", err)
	}
	return string(b)
}

// describeAll lists every image the caller sees (deprecated included).
func describeAll(ctx context.Context, c *ec2.Client) ([]types.Image, error) {
	var out []types.Image
	p := ec2.NewDescribeImagesPaginator(c, &ec2.DescribeImagesInput{IncludeDeprecated: aws.Bool(true), MaxResults: aws.Int32(1000)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		out = append(out, page.Images...)
	}
	return out, nil
}

func TestDifferentialAllowedCriteria(t *testing.T) {
	fixed := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	es := emutest.NewServer(t, emutest.Options{Now: func() time.Time { return fixed }})
	now := es.Emulator.Now()
	r := rand.New(rand.NewPCG(*diffSeed, 0x9e3779b97f4a7c15))
	nImages, nRounds := *diffImages, *diffRounds
	if testing.Short() {
		nImages, nRounds = min(nImages, 400), min(nRounds, 25)
	}

	seeds := genImages(r, now, nImages)
	ids, err := es.Emulator.SeedImages(seeds)
	if err != nil {
		t.Fatalf("seeding: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	c := es.EC2(dRegion, acctMe, func(o *ec2.Options) { o.RetryMaxAttempts = 10 })
	setMode := func(st types.AllowedImagesSettingsEnabledState) {
		t.Helper()
		if _, err := c.EnableAllowedImagesSettings(ctx, &ec2.EnableAllowedImagesSettingsInput{AllowedImagesSettingsState: st}); err != nil {
			t.Fatalf("EnableAllowedImagesSettings %s: %v", st, err)
		}
	}
	setMode(types.AllowedImagesSettingsEnabledStateAuditMode)

	// The visible set does not depend on the criteria in audit mode:
	// check it once against the seeds.
	visible, err := describeAll(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	wantVisible := 0
	for _, s := range seeds {
		if s.Account == acctMe || s.Public || len(s.SharedWith) > 0 {
			wantVisible++
		}
	}
	if len(visible) != wantVisible || len(ids) != len(seeds) {
		t.Fatalf("DescribeImages returned %d images, want %d visible of %d seeded", len(visible), wantVisible, len(seeds))
	}

	var (
		compared, allowedN, ownN, rounds, emptyRounds int
		scanVerdicts, scanRounds                      int
		enabledChecks                                 int
		problems                                      []string
		total                                         int
	)
	note := func(format string, a ...any) {
		total++
		if len(problems) < dMaxShow {
			problems = append(problems, fmt.Sprintf(format, a...))
		}
	}
	for round := 0; round < nRounds; round++ {
		crit := genCriteria(r)
		if err := crit.Validate(); err != nil {
			t.Fatalf("round %d: the generator made criteria our validator refuses: %v\n%s", round, err, jsonText(crit))
		}
		if len(crit) == 0 {
			emptyRounds++
		}
		critJSON := jsonText(crit)
		hasScan := false
		for _, cr := range crit {
			hasScan = hasScan || cr.ScanResultCondition != nil
		}
		if hasScan {
			scanRounds++
		}
		if _, err := c.ReplaceImageCriteriaInAllowedImagesSettings(ctx, &ec2.ReplaceImageCriteriaInAllowedImagesSettingsInput{ImageCriteria: toRequest(crit)}); err != nil {
			note("round %d: the emulator refused criteria that internal/watermark accepts: %v\ncriteria: %s", round, err, critJSON)
			continue
		}
		rounds++
		got, err := c.GetAllowedImagesSettings(ctx, &ec2.GetAllowedImagesSettingsInput{})
		if err != nil {
			t.Fatalf("GetAllowedImagesSettings: %v", err)
		}
		if back := fromResponse(got.ImageCriteria); !reflect.DeepEqual(back, crit) && !(len(back) == 0 && len(crit) == 0) {
			note("round %d: GetAllowedImagesSettings returned other criteria\nsent: %s\ngot:  %s", round, critJSON, jsonText(back))
		}
		imgs, err := describeAll(ctx, c)
		if err != nil {
			t.Fatalf("round %d: DescribeImages: %v", round, err)
		}
		allowedIDs := map[string]bool{}
		for _, im := range imgs {
			img := awsconfig.Image(&im, dRegion)
			if img.Allowed == nil {
				note("round %d: %s: imageAllowed missing in audit-mode", round, img.ID)
				continue
			}
			v := crit.Evaluate(img, acctMe, now)
			compared++
			if hasScan {
				scanVerdicts++
			}
			if v.Allowed {
				allowedN++
				allowedIDs[img.ID] = true
			}
			if img.OwnerID == acctMe {
				ownN++
			}
			if v.Allowed != *img.Allowed {
				note("round %d: %s: emulator imageAllowed=%v, internal/watermark Allowed=%v (%s)\nimage: %s\ncriteria: %s\nnow: %s",
					round, img.ID, *img.Allowed, v.Allowed, v.Reason, jsonText(img), critJSON, now.Format(time.RFC3339Nano))
			}
		}
		if len(imgs) != wantVisible {
			note("round %d: audit-mode DescribeImages returned %d images, want all %d visible ones", round, len(imgs), wantVisible)
		}
		// Enabled mode: exactly the allowed images are visible.
		if round%10 == 0 {
			enabledChecks++
			setMode(types.AllowedImagesSettingsEnabledStateEnabled)
			en, err := describeAll(ctx, c)
			if err != nil {
				t.Fatalf("round %d: DescribeImages (enabled): %v", round, err)
			}
			var extra, seen []string
			for _, im := range en {
				id := aws.ToString(im.ImageId)
				seen = append(seen, id)
				if !allowedIDs[id] {
					extra = append(extra, id)
				}
				if !aws.ToBool(im.ImageAllowed) {
					note("round %d: enabled mode returned %s with imageAllowed=%v", round, id, aws.ToBool(im.ImageAllowed))
				}
			}
			if len(extra) > 0 || len(en) != len(allowedIDs) {
				sort.Strings(extra)
				note("round %d: enabled mode shows %d images, internal/watermark allows %d; shown but not allowed: %s\ncriteria: %s",
					round, len(en), len(allowedIDs), strings.Join(extra, ","), critJSON)
			}
			setMode(types.AllowedImagesSettingsEnabledStateAuditMode)
		}
	}
	perRound := 0
	if rounds > 0 {
		perRound = compared / rounds
	}
	t.Logf("differential: %d images seeded (%d visible to %s), %d criteria sets (%d empty, %d with a ScanResultCondition), %d enabled-mode checks: %d verdicts compared (%d allowed, %d of them own images; %d under a ScanResultCondition), %d disagreements (seed %d)",
		len(seeds), perRound, acctMe, rounds, emptyRounds, scanRounds, enabledChecks, compared, allowedN, ownN, scanVerdicts, total, *diffSeed)
	if compared < len(seeds)/2 || allowedN == 0 || allowedN == compared {
		t.Errorf("the random world is degenerate: %d compared, %d allowed", compared, allowedN)
	}
	if total > 0 {
		t.Errorf("%d disagreements between the emulator and internal/watermark; the first %d:\n\n%s", total, len(problems), strings.Join(problems, "\n\n"))
	}
}

// TestDifferentialValidation: criteria internal/watermark refuses, the
// emulator refuses too (InvalidParameterValue), and the edge cases it
// accepts, the emulator accepts. Only criteria the SDK can express are
// listed (an empty ImageWatermarks entry, for one, is not sent at all).
func TestDifferentialValidation(t *testing.T) {
	c := emutest.NewServer(t, emutest.Options{}).EC2(dRegion, acctMe, func(o *ec2.Options) { o.RetryMaxAttempts = 5 })
	many := func(n int, s string) string {
		parts := make([]string, n)
		for i := range parts {
			parts[i] = s
			if strings.Contains(s, "%") {
				parts[i] = fmt.Sprintf(s, i)
			}
		}
		return strings.Join(parts, ",")
	}
	tests := []struct {
		name  string
		json  string
		valid bool
	}{
		{"ten criteria", `[` + many(10, `{"ImageProviders":["amazon"]}`) + `]`, true},
		{"eleven criteria", `[` + many(11, `{"ImageProviders":["amazon"]}`) + `]`, false},
		{"50 names", `[{"ImageNames":[` + many(50, `"n%d"`) + `]}]`, true},
		{"51 names", `[{"ImageNames":[` + many(51, `"n%d"`) + `]}]`, false},
		{"200 providers", `[{"ImageProviders":[` + many(200, `"1111222%05d"`) + `]}]`, true},
		{"201 providers", `[{"ImageProviders":[` + many(201, `"1111222%05d"`) + `]}]`, false},
		{"50 product codes", `[{"MarketplaceProductCodes":[` + many(50, `"pc%d"`) + `]}]`, true},
		{"51 product codes", `[{"MarketplaceProductCodes":[` + many(51, `"pc%d"`) + `]}]`, false},
		{"50 watermark filters", `[{"ImageWatermarks":[` + many(50, `{"WatermarkKey":"111122223333:n%d"}`) + `]}]`, true},
		{"51 watermark filters", `[{"ImageWatermarks":[` + many(51, `{"WatermarkKey":"111122223333:n%d"}`) + `]}]`, false},
		{"bad provider", `[{"ImageProviders":["amazn"]}]`, false},
		{"short account", `[{"ImageProviders":["11112222333"]}]`, false},
		{"none alone", `[{"ImageProviders":["none"]}]`, true},
		{"none with another", `[{"ImageProviders":["none","amazon"]}]`, false},
		{"name 128", `[{"ImageNames":["` + strings.Repeat("a", 128) + `"]}]`, true},
		{"name 129", `[{"ImageNames":["` + strings.Repeat("a", 129) + `"]}]`, false},
		{"name ??? ", `[{"ImageNames":["???"]}]`, true},
		{"name a? too short", `[{"ImageNames":["a?"]}]`, false},
		{"name with colon", `[{"ImageNames":["a:b"]}]`, false},
		{"name all allowed chars", `[{"ImageNames":["Az09 ()[]./-'@_*?"]}]`, true},
		{"product code 25", `[{"MarketplaceProductCodes":["` + strings.Repeat("a", 25) + `"]}]`, true},
		{"product code 26", `[{"MarketplaceProductCodes":["` + strings.Repeat("a", 26) + `"]}]`, false},
		{"product code dash", `[{"MarketplaceProductCodes":["a-b"]}]`, false},
		{"days 0 and max", `[{"CreationDateCondition":{"MaximumDaysSinceCreated":0},"DeprecationTimeCondition":{"MaximumDaysSinceDeprecated":2147483647}}]`, true},
		{"negative creation days", `[{"CreationDateCondition":{"MaximumDaysSinceCreated":-1}}]`, false},
		{"scan condition every field", `[{"ScanResultCondition":{"MaximumSeverityLabel":"informational","MaxDaysSinceLastFindingScan":0,"MaxDaysSinceCriticalFixAvailable":2147483647,"MaxDaysSinceHighFixAvailable":1,"MaxDaysSinceMediumFixAvailable":2,"MaxDaysSinceLowFixAvailable":3,"MaxDaysSinceInformationalFixAvailable":4}}]`, true},
		{"scan severity unknown", `[{"ScanResultCondition":{"MaximumSeverityLabel":"severe"}}]`, false},
		{"scan severity uppercase", `[{"ScanResultCondition":{"MaximumSeverityLabel":"HIGH"}}]`, false},
		{"negative scan days", `[{"ScanResultCondition":{"MaxDaysSinceLastFindingScan":-1}}]`, false},
		{"negative fix days", `[{"ScanResultCondition":{"MaxDaysSinceMediumFixAvailable":-1}}]`, false},
		{"negative deprecation days", `[{"DeprecationTimeCondition":{"MaximumDaysSinceDeprecated":-5}}]`, false},
		{"negative watermark days", `[{"ImageWatermarks":[{"MaximumDaysSinceWatermarkCreated":-1}]}]`, false},
		{"negative source days", `[{"ImageWatermarks":[{"WatermarkKey":"*","MaximumDaysSinceSourceImageCreated":-1}]}]`, false},
		{"empty list", `[]`, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Our side: parse without validation, then validate.
			var crit watermark.Criteria
			if err := json.Unmarshal([]byte(tt.json), &crit); err != nil {
				t.Fatalf("test JSON: %v", err)
			}
			ourErr := crit.Validate()
			_, emuErr := c.ReplaceImageCriteriaInAllowedImagesSettings(ctxT(t), &ec2.ReplaceImageCriteriaInAllowedImagesSettingsInput{ImageCriteria: toRequest(crit)})
			if (ourErr == nil) != tt.valid {
				t.Errorf("internal/watermark: Validate() = %v, want valid=%v", ourErr, tt.valid)
			}
			if (emuErr == nil) != tt.valid {
				t.Errorf("emulator: ReplaceImageCriteria error = %v, want valid=%v", emuErr, tt.valid)
			}
			if emuErr != nil && !strings.Contains(emuErr.Error(), "InvalidParameterValue") {
				t.Errorf("emulator error %v, want InvalidParameterValue", emuErr)
			}
		})
	}
}
