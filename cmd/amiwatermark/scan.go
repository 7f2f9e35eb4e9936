package main

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"

	"github.com/amiwatermark/packer-plugin-amiwatermark/internal/awsconfig"
	"github.com/amiwatermark/packer-plugin-amiwatermark/internal/watermark"
)

// scanGates turns verify's scan flags into the Allowed-AMIs
// ScanResultCondition they stand for (nil when none is given), so the
// gates and the criteria are one rule (watermark.ScanResultCondition.Check).
func scanGates(maxSeverity, maxScanDays string, fixDays []string) (*watermark.ScanResultCondition, error) {
	if maxSeverity == "" && maxScanDays == "" && len(fixDays) == 0 {
		return nil, nil
	}
	c := &watermark.ScanResultCondition{}
	if maxSeverity != "" {
		sev, err := watermark.ParseSeverity(maxSeverity)
		if err != nil {
			return nil, usagef("--max-severity: %v", err)
		}
		c.MaximumSeverityLabel = &sev
	}
	if maxScanDays != "" {
		n, err := daysArg(maxScanDays)
		if err != nil {
			return nil, usagef("--max-days-since-scan %q: %v", maxScanDays, err)
		}
		c.MaxDaysSinceLastFindingScan = &n
	}
	for _, v := range fixDays {
		name, days, ok := strings.Cut(v, "=")
		if !ok {
			return nil, usagef("--max-days-since-fix-available %q: write SEVERITY=DAYS, for example critical=7", v)
		}
		sev, err := watermark.ParseSeverity(name)
		if err != nil {
			return nil, usagef("--max-days-since-fix-available %q: %v", v, err)
		}
		n, err := daysArg(days)
		if err != nil {
			return nil, usagef("--max-days-since-fix-available %q: %v", v, err)
		}
		if c.FixDays(sev) != nil {
			return nil, usagef("--max-days-since-fix-available: %s is given twice: give each severity once", sev)
		}
		c.SetFixDays(sev, &n)
	}
	return c, nil
}

// daysArg parses a whole number of days from 0 to 2147483647 (the range
// EC2 accepts in a ScanResultCondition).
func daysArg(s string) (int64, error) {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 || n > watermark.MaxDays {
		return 0, fmt.Errorf("not a number of days: write a whole number from 0 to %d", watermark.MaxDays)
	}
	return n, nil
}

// liveSettings are the account's current Allowed-AMIs settings in one
// region (GetAllowedImagesSettings).
type liveSettings struct {
	region    string
	state     string
	managedBy string
	criteria  watermark.Criteria
	// account is the account the criteria are evaluated for: --account,
	// else the caller's (the owner of one of its images), else "".
	account string
}

func (l *liveSettings) describe() string {
	return fmt.Sprintf("%s, state %s, managed by %s", l.region, orDefault(l.state, "-"), orDefault(l.managedBy, "-"))
}

// readLiveSettings reads the settings of region; account "" looks the
// caller's account up from its own images.
func readLiveSettings(ctx context.Context, sess *session, region, account string) (*liveSettings, error) {
	c, err := sess.client(region)
	if err != nil {
		return nil, err
	}
	return liveSettingsOf(ctx, c, region, account)
}

// liveSettingsOf reads the settings with the client c of region.
func liveSettingsOf(ctx context.Context, c *ec2.Client, region, account string) (*liveSettings, error) {
	ls, err := settingsOf(ctx, c, region)
	if err != nil {
		return nil, err
	}
	ls.account = account
	if ls.account == "" {
		if ls.account, err = ownAccount(ctx, c, region); err != nil {
			return nil, err
		}
	}
	return ls, nil
}

// settingsOf reads the settings of region (GetAllowedImagesSettings)
// without the account they are evaluated for.
func settingsOf(ctx context.Context, c *ec2.Client, region string) (*liveSettings, error) {
	out, err := c.GetAllowedImagesSettings(ctx, &ec2.GetAllowedImagesSettingsInput{})
	if err != nil {
		return nil, callErr(err, "reading the current Allowed-AMIs settings in %s (GetAllowedImagesSettings): %s; check the region and that the credentials allow ec2:GetAllowedImagesSettings", region, errorText(err))
	}
	return &liveSettings{region: region, state: aws.ToString(out.State), managedBy: string(out.ManagedBy),
		criteria: awsconfig.Criteria(out.ImageCriteria)}, nil
}

// scanResultsText is the readable scan results of an image for inspect.
func scanResultsText(r *watermark.ScanResults, at time.Time) string {
	if !r.Scanned() {
		return "not scanned by Amazon Inspector"
	}
	s := fmt.Sprintf("scanned %s (%s ago)", formatTime(r.FindingScanDate), formatAge(at.Sub(r.FindingScanDate)))
	if r.HighestFindingSeverity == "" {
		s += ", no findings"
	} else {
		s += ", highest severity " + string(r.HighestFindingSeverity)
	}
	var fixes []string
	for i := len(watermark.Severities) - 1; i >= 0; i-- {
		sev := watermark.Severities[i]
		if t := r.FixAvailableSince(sev); !t.IsZero() {
			fixes = append(fixes, fmt.Sprintf("%s since %s (%s)", sev, formatTime(t), formatAge(at.Sub(t))))
		}
	}
	if len(fixes) > 0 {
		s += "; fixes available: " + strings.Join(fixes, ", ")
	}
	return s
}
