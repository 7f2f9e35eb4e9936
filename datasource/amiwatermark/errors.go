package amiwatermark

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/amiwatermark/packer-plugin-amiwatermark/internal/watermark"
)

// queryText renders the whole query for error messages, one setting a line.
func (d *Datasource) queryText(region string) string {
	c := d.config
	var b strings.Builder
	line := func(k, v string) { fmt.Fprintf(&b, "  %-26s %s\n", k+":", v) }
	line("region", region)
	line("owners", strings.Join(c.Owners, ", "))
	line("watermark_keys", strings.Join(c.WatermarkKeys, ", "))
	if len(d.filters) == 0 {
		line("filters", "(none)")
	} else {
		fs := make([]string, len(d.filters))
		for i, f := range d.filters {
			fs[i] = *f.Name + " = " + strings.Join(f.Values, ",")
		}
		line("filters", strings.Join(fs, "; "))
	}
	line("lineage", string(d.lineage))
	if c.SourceImageRegion == "" {
		line("source_image_region", "(any)")
	} else {
		line("source_image_region", c.SourceImageRegion)
	}
	days := func(v *int) string {
		if v == nil {
			return "(no limit)"
		}
		return strconv.Itoa(*v)
	}
	line("max_watermark_age_days", days(c.MaxWatermarkAgeDays))
	line("max_source_image_age_days", days(c.MaxSourceImageAgeDays))
	line("include_deprecated", strconv.FormatBool(c.IncludeDeprecated))
	line("allowed_only", strconv.FormatBool(c.AllowedOnly))
	if d.scan != nil {
		line("scan conditions", scanConditionText(c))
	}
	return b.String()
}

// reasonText says what the images rejected for r had wrong and what to do.
func (d *Datasource) reasonText(r watermark.Reason, region string) string {
	c := d.config
	switch r {
	case watermark.RejectOwner:
		return "owned by an account that is not in owners; add the owner to owners if you trust images it builds"
	case watermark.RejectKey:
		return "returned by EC2 but carrying no watermark key that matches watermark_keys when re-checked"
	case watermark.RejectState:
		return "not in the available state (still pending, or failed); wait for them or check the image"
	case watermark.RejectDeprecated:
		return "deprecated; set include_deprecated = true to accept deprecated images"
	case watermark.RejectAllowedUnknown:
		return fmt.Sprintf("without an imageAllowed value: the account's Allowed AMIs setting is disabled in %s; enable it (audit-mode is enough) or set allowed_only = false", region)
	case watermark.RejectNotAllowed:
		return "not allowed by the account's Allowed AMIs settings (imageAllowed = false) while allowed_only = true"
	case watermark.RejectScan:
		return "whose Amazon Inspector scan results fail " + scanConditionText(c) + " (or that Inspector never scanned); rebuild the base with the fixes, or relax these settings"
	case watermark.RejectSourceRegion:
		return fmt.Sprintf("whose matching watermark was attached in a region that does not match source_image_region %q", c.SourceImageRegion)
	case watermark.RejectWatermarkAge:
		return fmt.Sprintf("whose matching watermark was attached more than max_watermark_age_days = %d days ago", *c.MaxWatermarkAgeDays)
	case watermark.RejectSourceImageAge:
		return fmt.Sprintf("whose matching watermark's source image was created more than max_source_image_age_days = %d days ago", *c.MaxSourceImageAgeDays)
	case watermark.RejectLineage:
		return `built from the watermarked image with CreateImage (or copied from a copy): lineage = "attached" accepts only the image the watermark was attached to and its direct copies; set lineage = "any" to accept derived images`
	}
	return r.String()
}

// noMatchError explains an empty result: the whole query, and how many
// images carrying a matching key failed which condition.
func (d *Datasource) noMatchError(region string, sel *watermark.Selector) error {
	var b strings.Builder
	if d.config.AllowedOnly && sel.RejectedFor(watermark.RejectAllowedUnknown) > 0 {
		fmt.Fprintf(&b, "amiwatermark: allowed_only = true, but EC2 does not report imageAllowed in %s: the account's Allowed AMIs setting is disabled there. "+
			"Enable it (aws ec2 enable-allowed-images-settings --allowed-images-settings-state audit-mode is enough) or set allowed_only = false.\n", region)
	} else {
		fmt.Fprintf(&b, "amiwatermark: no image in %s matches the query.\n", region)
	}
	b.WriteString("Query:\n")
	b.WriteString(d.queryText(region))
	rej := sel.Rejected()
	if len(rej) == 0 {
		fmt.Fprintf(&b, "EC2 returned no image carrying a watermark key that matches watermark_keys for these owners and filters. "+
			"Check that each pattern is ACCOUNT:NAME with the account that attached the watermark, that the images are in %s "+
			"and owned by a listed owner, and that the filters hold for them.", region)
		return fmt.Errorf("%s", b.String())
	}
	total := 0
	for _, r := range rej {
		total += r.Count
	}
	fmt.Fprintf(&b, "%s returned by EC2 for this query %s rejected:", plural(total, "image"), isAre(total))
	for _, r := range rej {
		fmt.Fprintf(&b, "\n  %d %s", r.Count, d.reasonText(r.Reason, region))
	}
	return fmt.Errorf("%s", b.String())
}

// ambiguousError is the most_recent = false error: more than one match.
func (d *Datasource) ambiguousError(region string, sel *watermark.Selector) error {
	var b strings.Builder
	n := sel.Matches()
	newest := sel.Newest()
	fmt.Fprintf(&b, "amiwatermark: %d images in %s match the query and most_recent = false asks for exactly one. The newest %d:", n, region, len(newest))
	for _, m := range newest {
		created := ""
		if !m.Image.CreationDate.IsZero() {
			created = m.Image.CreationDate.UTC().Format("2006-01-02T15:04:05Z")
		}
		fmt.Fprintf(&b, "\n  %s  %q  created %s", m.Image.ID, m.Image.Name, created)
	}
	b.WriteString("\nSet most_recent = true to take the newest, or narrow watermark_keys, owners or filters.\nQuery:\n")
	b.WriteString(strings.TrimRight(d.queryText(region), "\n"))
	return fmt.Errorf("%s", b.String())
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return strconv.Itoa(n) + " " + what + "s"
}

func isAre(n int) string {
	if n == 1 {
		return "was"
	}
	return "were"
}

// scanConditionText lists the scan settings that are set.
func scanConditionText(c Config) string {
	var parts []string
	if c.MaxSeverity != "" {
		parts = append(parts, "max_severity = "+strconv.Quote(c.MaxSeverity))
	}
	if c.MaxDaysSinceScan != nil {
		parts = append(parts, "max_days_since_scan = "+strconv.Itoa(*c.MaxDaysSinceScan))
	}
	if len(c.MaxDaysSinceFixAvailable) > 0 {
		keys := make([]string, 0, len(c.MaxDaysSinceFixAvailable))
		for k := range c.MaxDaysSinceFixAvailable {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		kv := make([]string, len(keys))
		for i, k := range keys {
			kv[i] = k + " = " + c.MaxDaysSinceFixAvailable[k]
		}
		parts = append(parts, "max_days_since_fix_available = { "+strings.Join(kv, ", ")+" }")
	}
	return strings.Join(parts, ", ")
}
