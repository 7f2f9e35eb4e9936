//go:generate go tool packer-sdc mapstructure-to-hcl2 -type Config,DatasourceOutput,WatermarkOutput
//go:generate go tool packer-sdc struct-markdown

// Package amiwatermark is the amiwatermark data source: it returns the newest
// AMI that truly carries a watermark, re-checking on the client everything
// the DescribeImages filters promise.
package amiwatermark

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/hashicorp/hcl/v2/hcldec"
	"github.com/hashicorp/packer-plugin-sdk/hcl2helper"
	packersdk "github.com/hashicorp/packer-plugin-sdk/packer"
	"github.com/hashicorp/packer-plugin-sdk/template/config"
	"github.com/zclconf/go-cty/cty"

	"github.com/amiwatermark/packer-plugin-amiwatermark/internal/awsconfig"
	"github.com/amiwatermark/packer-plugin-amiwatermark/internal/watermark"
)

// Config is the data source's configuration.
type Config struct {
	awsconfig.AccessConfig `mapstructure:",squash"`

	// Watermark key patterns, ACCOUNT:NAME; an image matches when one of its
	// watermarks matches any of them. The name part may use the wildcards
	// `*` and `?`. The account part must be a literal 12-digit account id:
	// AWS sets it to the account that attached the watermark, so it is the
	// one part of a key nobody else can forge. Example:
	// `["123456789012:golden-base"]`.
	WatermarkKeys []string `mapstructure:"watermark_keys" required:"true"`
	// Accept wildcards (`*`, `?`) in the account part of watermark_keys, so
	// that watermarks attached by any account can match. Off by default;
	// leave it off unless owners alone is what you trust.
	AllowAnyAccount bool `mapstructure:"allow_any_account" required:"false"`
	// The accounts whose images may be returned: `self`, 12-digit account
	// ids, or the aliases `amazon`, `aws-marketplace`, `aws-backup-vault`.
	// Required, because watermarks are inherited: any account that can
	// launch your golden AMI can build an image that carries its watermark
	// and share that image with you.
	Owners []string `mapstructure:"owners" required:"true"`
	// Which images carrying the watermark qualify. `attached` (default): the
	// image the watermark was attached to, or a direct CopyImage of it (in
	// any region). `any`: also images built with CreateImage from an
	// instance of such an image, which inherit every watermark.
	Lineage string `mapstructure:"lineage" required:"false"`
	// The matching watermark must have been attached at most this many days
	// ago (now - watermark creation time <= N × 24h).
	MaxWatermarkAgeDays *int `mapstructure:"max_watermark_age_days" required:"false"`
	// The source image of the matching watermark (the image it was attached
	// to) must have been created at most this many days ago.
	MaxSourceImageAgeDays *int `mapstructure:"max_source_image_age_days" required:"false"`
	// The matching watermark must have been attached in a region matching
	// this pattern (wildcards `*` and `?`), for example `us-*`.
	SourceImageRegion string `mapstructure:"source_image_region" required:"false"`
	// Extra DescribeImages filters, as in the amazon-ami data source: the
	// key is the filter name (for example `name`, `tag:team`,
	// `architecture`), the value a comma-separated list of values, ORed.
	// EC2 validates the names.
	Filters map[string]string `mapstructure:"filters" required:"false"`
	// Also return deprecated images. Off by default.
	IncludeDeprecated bool `mapstructure:"include_deprecated" required:"false"`
	// Only return images that the account's Allowed AMIs settings allow
	// (imageAllowed = true). The setting must be `enabled` or `audit-mode`
	// in the region; with it disabled EC2 does not report imageAllowed and
	// the data source fails with an error saying so.
	AllowedOnly bool `mapstructure:"allowed_only" required:"false"`
	// Only return images Amazon Inspector has scanned whose highest finding
	// severity is at most this: `informational`, `low`, `medium`, `high` or
	// `critical`. A scanned image without findings qualifies; an image that
	// was never scanned does not. This is the Allowed-AMIs
	// `ScanResultCondition.MaximumSeverityLabel`, checked on the scan
	// results DescribeImages reports.
	MaxSeverity string `mapstructure:"max_severity" required:"false"`
	// Only return images Amazon Inspector scanned at most this many days
	// ago (the `MaxDaysSinceLastFindingScan` of Allowed AMIs). An image that
	// was never scanned does not qualify.
	MaxDaysSinceScan *int `mapstructure:"max_days_since_scan" required:"false"`
	// Per severity, the most days a fix may have been available for a
	// finding of that severity (the `MaxDaysSince<Severity>FixAvailable`
	// fields of Allowed AMIs). `{ critical = 0 }` refuses a base with any
	// unpatched critical finding that has a fix; `{ critical = 7, high = 30 }`
	// gives a grace period. Keys: `informational`, `low`, `medium`, `high`,
	// `critical`. An image with no finding of that severity with a fix
	// qualifies; an image that was never scanned does not.
	MaxDaysSinceFixAvailable map[string]string `mapstructure:"max_days_since_fix_available" required:"false"`
	// Return the newest matching image (by creation date, ties broken by the
	// greatest image id). Defaults to true. When false, more than one
	// matching image is an error.
	MostRecent *bool `mapstructure:"most_recent" required:"false"`
}

// WatermarkOutput is one watermark in the output.
type WatermarkOutput struct {
	// The watermark key, ACCOUNT:NAME.
	Key string `mapstructure:"key"`
	// The account part of the key: the account that attached it.
	Account string `mapstructure:"account"`
	// The name part of the key.
	Name string `mapstructure:"name"`
	// The image the watermark was attached to.
	SourceImageID string `mapstructure:"source_image_id"`
	// The region of that image.
	SourceImageRegion string `mapstructure:"source_image_region"`
	// When that image was created (RFC 3339, UTC).
	SourceImageCreationTime string `mapstructure:"source_image_creation_time"`
	// When the watermark was attached (RFC 3339, UTC).
	WatermarkCreationTime string `mapstructure:"watermark_creation_time"`
}

// DatasourceOutput is what the data source returns.
type DatasourceOutput struct {
	// The id of the selected AMI.
	ID string `mapstructure:"id"`
	// Its name.
	Name string `mapstructure:"name"`
	// Its description.
	Description string `mapstructure:"description"`
	// The region it was found in.
	Region string `mapstructure:"region"`
	// The account that owns it.
	OwnerID string `mapstructure:"owner_id"`
	// The owner alias (amazon, aws-marketplace, ...), or "".
	OwnerAlias string `mapstructure:"owner_alias"`
	// Its creation date as EC2 reports it.
	CreationDate string `mapstructure:"creation_date"`
	// Its architecture.
	Architecture string `mapstructure:"architecture"`
	// Its platform details.
	PlatformDetails string `mapstructure:"platform_details"`
	// Its root device name.
	RootDeviceName string `mapstructure:"root_device_name"`
	// Its virtualization type.
	VirtualizationType string `mapstructure:"virtualization_type"`
	// Its tags.
	Tags map[string]string `mapstructure:"tags"`
	// Whether the account's Allowed AMIs settings allow it; false when
	// unknown (see image_allowed_known).
	ImageAllowed bool `mapstructure:"image_allowed"`
	// Whether EC2 reported imageAllowed (the setting is enabled or in audit
	// mode).
	ImageAllowedKnown bool `mapstructure:"image_allowed_known"`
	// The watermark that matched watermark_keys and met every condition.
	MatchedWatermark WatermarkOutput `mapstructure:"matched_watermark"`
	// Every watermark on the image.
	Watermarks []WatermarkOutput `mapstructure:"watermarks"`
}

// Datasource resolves an AMI by watermark.
type Datasource struct {
	config Config

	patterns   []watermark.Pattern
	scan       *watermark.ScanResultCondition
	owners     watermark.Owners
	lineage    watermark.Lineage
	filters    []ec2types.Filter // user filters, sorted by name
	mostRecent bool

	// now, when set, is the clock ages are measured against (tests).
	// Otherwise the Date header of EC2's first DescribeImages response is
	// used, falling back to the local clock.
	now func() time.Time
	// afterPage, when set, is called with each DescribeImages page once it
	// has been processed (the benchmark measures the live heap there).
	afterPage func(page any)
}

// ConfigSpec returns the HCL2 spec of Config.
func (d *Datasource) ConfigSpec() hcldec.ObjectSpec { return d.config.FlatMapstructure().HCL2Spec() }

// OutputSpec returns the HCL2 spec of DatasourceOutput.
func (d *Datasource) OutputSpec() hcldec.ObjectSpec {
	return (&DatasourceOutput{}).FlatMapstructure().HCL2Spec()
}

// Configure decodes and validates the configuration. Every problem is
// reported at once.
func (d *Datasource) Configure(raws ...interface{}) error {
	if err := config.Decode(&d.config, nil, raws...); err != nil {
		return err
	}
	var errs *packersdk.MultiError
	errs = packersdk.MultiErrorAppend(errs, d.config.AccessConfig.Prepare()...)
	errs = packersdk.MultiErrorAppend(errs, d.prepare()...)
	if len(errs.Errors) > 0 {
		return errs
	}
	return nil
}

// maxDays is the largest day count EC2 accepts in Allowed-AMIs conditions.
const maxDays = math.MaxInt32

// prepare validates everything but the access configuration and fills the
// parsed fields.
func (d *Datasource) prepare() []error {
	c := &d.config
	var errs []error
	if len(c.WatermarkKeys) == 0 {
		errs = append(errs, errors.New(`watermark_keys is required: list one or more key patterns ACCOUNT:NAME, for example ["123456789012:golden-base"] (the name part may use * and ?)`))
	}
	var perrs []error
	d.patterns, perrs = watermark.ParsePatterns(c.WatermarkKeys, c.AllowAnyAccount)
	errs = append(errs, perrs...)

	var oerrs []error
	d.owners, oerrs = watermark.ParseOwners(c.Owners)
	errs = append(errs, oerrs...)

	l, err := watermark.ParseLineage(c.Lineage)
	if err != nil {
		errs = append(errs, err)
	}
	d.lineage = l

	for _, f := range []struct {
		name string
		v    *int
	}{{"max_watermark_age_days", c.MaxWatermarkAgeDays}, {"max_source_image_age_days", c.MaxSourceImageAgeDays}} {
		if f.v != nil && (*f.v < 0 || *f.v > maxDays) {
			errs = append(errs, fmt.Errorf("%s is %d: it must be a number of days between 0 and %d", f.name, *f.v, maxDays))
		}
	}
	if r := c.SourceImageRegion; r != "" {
		for _, ch := range r {
			if !(ch >= 'a' && ch <= 'z' || ch >= '0' && ch <= '9' || ch == '-' || ch == '*' || ch == '?') {
				errs = append(errs, fmt.Errorf("source_image_region %q is not a region pattern: use a region name such as us-east-1, or a pattern with * and ? such as us-*", r))
				break
			}
		}
	}

	var serrs []error
	d.scan, serrs = scanCondition(c)
	errs = append(errs, serrs...)

	var ferrs []error
	d.filters, ferrs = parseFilters(c.Filters)
	errs = append(errs, ferrs...)

	d.mostRecent = c.MostRecent == nil || *c.MostRecent
	return errs
}

// scanCondition turns max_severity, max_days_since_scan and
// max_days_since_fix_available into the Allowed-AMIs ScanResultCondition
// they stand for; nil when none is set.
func scanCondition(c *Config) (*watermark.ScanResultCondition, []error) {
	if c.MaxSeverity == "" && c.MaxDaysSinceScan == nil && len(c.MaxDaysSinceFixAvailable) == 0 {
		return nil, nil
	}
	var errs []error
	sc := &watermark.ScanResultCondition{}
	if c.MaxSeverity != "" {
		if sev, err := watermark.ParseSeverity(c.MaxSeverity); err != nil {
			errs = append(errs, fmt.Errorf("max_severity: %v", err))
		} else {
			sc.MaximumSeverityLabel = &sev
		}
	}
	if v := c.MaxDaysSinceScan; v != nil {
		if *v < 0 || *v > maxDays {
			errs = append(errs, fmt.Errorf("max_days_since_scan is %d: it must be a number of days between 0 and %d", *v, maxDays))
		} else {
			n := int64(*v)
			sc.MaxDaysSinceLastFindingScan = &n
		}
	}
	names := make([]string, 0, len(c.MaxDaysSinceFixAvailable))
	for k := range c.MaxDaysSinceFixAvailable {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		raw := c.MaxDaysSinceFixAvailable[k]
		sev, err := watermark.ParseSeverity(k)
		if err != nil {
			errs = append(errs, fmt.Errorf("max_days_since_fix_available: the key %v", err))
			continue
		}
		// HCL hands a map over as strings: { critical = 7 } arrives as "7".
		n, err := strconv.ParseInt(strings.TrimSpace(raw), 10, 64)
		if err != nil || n < 0 || n > maxDays {
			errs = append(errs, fmt.Errorf("max_days_since_fix_available[%q] is %q: it must be a whole number of days between 0 and %d", k, raw, maxDays))
			continue
		}
		sc.SetFixDays(sev, &n)
	}
	return sc, errs
}

// parseFilters turns the filters map (filter name -> comma-separated
// values) into DescribeImages filters sorted by name, values trimmed of
// spaces and in the order given. An empty name or an empty value is an
// error naming the filter; such a filter is left out. It never panics.
func parseFilters(m map[string]string) ([]ec2types.Filter, []error) {
	var (
		out  []ec2types.Filter
		errs []error
	)
	names := make([]string, 0, len(m))
	for k := range m {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		if strings.TrimSpace(k) == "" {
			errs = append(errs, errors.New("filters has an empty filter name: use DescribeImages filter names such as name, tag:team or architecture"))
			continue
		}
		var vals []string
		for _, v := range strings.Split(m[k], ",") {
			v = strings.TrimSpace(v)
			if v == "" {
				errs = append(errs, fmt.Errorf("filters[%q] = %q has an empty value: separate values with single commas, for example \"a,b\"", k, m[k]))
				vals = nil
				break
			}
			vals = append(vals, v)
		}
		if vals != nil {
			out = append(out, ec2types.Filter{Name: aws.String(k), Values: vals})
		}
	}
	return out, errs
}

// Execute runs the query and returns the selected image. An error never
// quotes a configured credential (see redact).
func (d *Datasource) Execute() (cty.Value, error) {
	out, err := d.run(context.Background())
	if err != nil {
		return cty.NullVal(cty.EmptyObject), redact(&d.config.AccessConfig, err)
	}
	return hcl2helper.HCL2ValueFromConfig(out, d.OutputSpec()), nil
}

// redact returns err with every credential the process holds (the
// configured ones, the default chain's, assumed roles' and their renewals:
// awsconfig's registry) replaced by "[redacted]" in its text: EC2 answers,
// proxies and endpoints can quote what they were sent, and Packer prints
// the data source's error. The original error stays reachable with
// errors.Is/As.
func redact(c *awsconfig.AccessConfig, err error) error {
	msg := c.Redact(err.Error())
	if msg == err.Error() {
		return err
	}
	return &awsconfig.TextError{Text: msg, Err: err}
}

func (d *Datasource) run(ctx context.Context) (DatasourceOutput, error) {
	awsCfg, err := d.config.AccessConfig.Config(ctx)
	if err != nil {
		return DatasourceOutput{}, err
	}
	client, err := d.config.NewEC2Client(awsCfg, "")
	if err != nil {
		return DatasourceOutput{}, err
	}
	return d.search(ctx, client, client.Options().Region)
}

// ownerGroups splits owners into the DescribeImages Owners lists to query:
// "self" alone (so that every image it returns is known to be the caller's,
// which is how the caller's account is learnt without STS), then the ids
// and aliases.
func (d *Datasource) ownerGroups() [][]string {
	var g [][]string
	if d.owners.Self {
		g = append(g, []string{"self"})
	}
	if lit := d.owners.Literal(); len(lit) > 0 {
		g = append(g, lit)
	}
	return g
}

func (d *Datasource) conditions() watermark.Conditions {
	c := d.config
	return watermark.Conditions{
		Patterns:              d.patterns,
		Owners:                d.owners,
		Lineage:               d.lineage,
		SourceImageRegion:     c.SourceImageRegion,
		MaxWatermarkAgeDays:   c.MaxWatermarkAgeDays,
		MaxSourceImageAgeDays: c.MaxSourceImageAgeDays,
		IncludeDeprecated:     c.IncludeDeprecated,
		AllowedOnly:           c.AllowedOnly,
		Scan:                  d.scan,
	}
}

// pageSize is the DescribeImages MaxResults.
const pageSize = 1000

// search queries region and selects the image. It keeps only the best
// candidate (and a handful for error messages), so its memory does not grow
// with the number of matching images.
func (d *Datasource) search(ctx context.Context, client ec2.DescribeImagesAPIClient, region string) (DatasourceOutput, error) {
	sel := watermark.NewSelector(d.conditions())
	clock := &awsconfig.Clock{}
	nowSet := false

	keyValues := make([]string, len(d.patterns))
	for i, p := range d.patterns {
		keyValues[i] = p.Raw
	}
	filters := append([]ec2types.Filter{{Name: aws.String("image-watermark.watermark-key"), Values: keyValues}}, d.filters...)

	var best ec2types.Image
	for _, group := range d.ownerGroups() {
		selfGroup := len(group) == 1 && group[0] == "self"
		in := &ec2.DescribeImagesInput{
			Owners:     group,
			Filters:    filters,
			MaxResults: aws.Int32(pageSize),
		}
		if d.config.IncludeDeprecated {
			in.IncludeDeprecated = aws.Bool(true)
		}
		p := ec2.NewDescribeImagesPaginator(client, in)
		for p.HasMorePages() {
			page, err := p.NextPage(ctx, recordClock(clock))
			if err != nil {
				return DatasourceOutput{}, d.describeError(region, group, err)
			}
			if !nowSet {
				sel.SetNow(d.clockNow(clock))
				nowSet = true
			}
			for i := range page.Images {
				raw := &page.Images[i]
				img := awsconfig.Image(raw, region)
				if selfGroup {
					if sel.SelfAccount() == "" && img.OwnerID != "" {
						sel.SetSelfAccount(img.OwnerID)
					}
				} else if self := sel.SelfAccount(); self != "" && img.OwnerID == self {
					// Already offered by the "self" query.
					continue
				}
				if sel.Offer(img).Best {
					best = *raw
				}
			}
			if d.afterPage != nil {
				d.afterPage(page)
			}
		}
	}

	m, ok := sel.Best()
	if !ok {
		return DatasourceOutput{}, d.noMatchError(region, sel)
	}
	if !d.mostRecent && sel.Matches() > 1 {
		return DatasourceOutput{}, d.ambiguousError(region, sel)
	}
	return output(&best, m, region), nil
}

// clockNow is the time ages are measured against: EC2's clock
// (awsconfig.Clock, the rule of every component).
func (d *Datasource) clockNow(c *awsconfig.Clock) time.Time {
	if d.now != nil {
		return d.now()
	}
	return c.Now()
}

// recordClock is a per-call option that makes the client's HTTP client
// record EC2's clock.
func recordClock(c *awsconfig.Clock) func(*ec2.Options) {
	return func(o *ec2.Options) {
		next := o.HTTPClient
		if next == nil {
			next = awsconfig.BufferBody(awshttp.NewBuildableClient())
		}
		o.HTTPClient = c.Wrap(next)
	}
}

func (d *Datasource) describeError(region string, owners []string, err error) error {
	hint := "check the credentials, the region and the filters"
	if s := err.Error(); strings.Contains(s, "InvalidParameterValue") || strings.Contains(s, "filter") {
		hint = "check the names and values in filters: they are DescribeImages filter names such as name, tag:team or architecture"
	}
	return fmt.Errorf("amiwatermark: DescribeImages in %s (owners %s, watermark_keys %s) failed: %w; %s",
		region, strings.Join(owners, ", "), strings.Join(d.config.WatermarkKeys, ", "), err, hint)
}

func formatTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

func watermarkOutput(w watermark.Watermark) WatermarkOutput {
	acct, name := watermark.SplitKey(w.Key)
	return WatermarkOutput{
		Key:                     w.Key,
		Account:                 acct,
		Name:                    name,
		SourceImageID:           w.SourceImageID,
		SourceImageRegion:       w.SourceImageRegion,
		SourceImageCreationTime: formatTime(w.SourceImageCreationTime),
		WatermarkCreationTime:   formatTime(w.WatermarkCreationTime),
	}
}

func output(raw *ec2types.Image, m watermark.Match, region string) DatasourceOutput {
	out := DatasourceOutput{
		ID:                 aws.ToString(raw.ImageId),
		Name:               aws.ToString(raw.Name),
		Description:        aws.ToString(raw.Description),
		Region:             region,
		OwnerID:            aws.ToString(raw.OwnerId),
		OwnerAlias:         aws.ToString(raw.ImageOwnerAlias),
		CreationDate:       aws.ToString(raw.CreationDate),
		Architecture:       string(raw.Architecture),
		PlatformDetails:    aws.ToString(raw.PlatformDetails),
		RootDeviceName:     aws.ToString(raw.RootDeviceName),
		VirtualizationType: string(raw.VirtualizationType),
		Tags:               map[string]string{},
		ImageAllowed:       aws.ToBool(raw.ImageAllowed),
		ImageAllowedKnown:  raw.ImageAllowed != nil,
		MatchedWatermark:   watermarkOutput(m.Watermark),
		Watermarks:         []WatermarkOutput{},
	}
	for _, t := range raw.Tags {
		out.Tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	for _, w := range m.Image.Watermarks {
		out.Watermarks = append(out.Watermarks, watermarkOutput(w))
	}
	return out
}
