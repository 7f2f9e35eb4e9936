//go:generate go tool packer-sdc mapstructure-to-hcl2 -type Config
//go:generate go tool packer-sdc struct-markdown

package amiwatermark

import (
	"errors"
	"fmt"
	"io/fs"
	"sort"
	"strings"
	"time"

	"github.com/hashicorp/packer-plugin-sdk/common"
	packersdk "github.com/hashicorp/packer-plugin-sdk/packer"
	"github.com/hashicorp/packer-plugin-sdk/template/interpolate"

	"github.com/amiwatermark/packer-plugin-amiwatermark/internal/amiref"
	"github.com/amiwatermark/packer-plugin-amiwatermark/internal/awsconfig"
	"github.com/amiwatermark/packer-plugin-amiwatermark/internal/engine"
	"github.com/amiwatermark/packer-plugin-amiwatermark/internal/watermark"
)

// DefaultWaitTimeout is how long the post-processor waits for an AMI to
// become available when wait_timeout is not set.
const DefaultWaitTimeout = 30 * time.Minute

// Config is the post-processor's configuration.
type Config struct {
	common.PackerConfig    `mapstructure:",squash"`
	awsconfig.AccessConfig `mapstructure:",squash"`

	// Watermark names to attach to every AMI of the build, 1 to 5. A name is
	// 3-128 characters of letters, digits, spaces and `( ) [ ] . / - ' @ _`;
	// it is used exactly as written: spaces around it are part of it, as
	// AWS keeps them (`" qa"` and `"qa"` are two keys; the CLI's `--name`
	// follows the same rule). Give the name only: AWS forms the key `ACCOUNT:NAME` from the account
	// that owns the AMI. Names whose key the AMI already carries, attached
	// to this AMI, are skipped, so a re-run changes nothing. A key the AMI
	// carries inherited (attached to another AMI and carried here by
	// CreateImage or CopyImage, as when a new golden base is built from the
	// previous one) is re-attached: see `reattach_inherited`. Required
	// unless `detach` is given.
	Watermarks []string `mapstructure:"watermarks" required:"true"`
	// Watermarks to remove before attaching, for example to promote an AMI
	// from `candidate` to `approved`. Each entry is a full key
	// `ACCOUNT:NAME` (also a key inherited from another account) or a bare
	// name meaning the AMI owner's key. Keys the AMI does not carry are
	// ignored. A name can't be both in `detach` and in `watermarks`.
	Detach []string `mapstructure:"detach" required:"false"`
	// AMIs to watermark as a map of region to AMI id, for builds whose
	// artifact is not an AMI from an Amazon builder (a `null` build after an
	// external image build, an EC2 Image Builder output). When set, the
	// build artifact is not read at all.
	//
	// ```hcl
	// image_ids = {
	//   "us-east-1" = "ami-0123456789abcdef0"
	//   "eu-west-1" = "ami-0fedcba9876543210"
	// }
	// ```
	ImageIDs map[string]string `mapstructure:"image_ids" required:"false"`
	// Plan and report without changing anything: the AMIs are described and
	// planned (with the `require_allowed` and `allowed_criteria_file`
	// checks), the attach and detach calls are made with the EC2 `DryRun`
	// flag (which checks permissions), every output line is prefixed
	// `[dry-run]` and says what would happen, and verification is skipped.
	// A failed DryRun check fails the run as a real failure would, saying
	// that nothing was changed.
	DryRun bool `mapstructure:"dry_run" required:"false"`
	// Describe every AMI again after the changes and fail unless every
	// requested key is present (with `SourceImageId` and `SourceImageRegion`
	// of the AMI for keys attached in this run) and every detached key is
	// gone. Defaults to `true`.
	Verify *bool `mapstructure:"verify" required:"false"`
	// Refuse the run unless every AMI, with the watermarks it will carry
	// after the run, is allowed by the account's current Allowed AMIs
	// criteria in its region. The criteria are read with
	// `GetAllowedImagesSettings` (IAM permission
	// `ec2:GetAllowedImagesSettings`) and evaluated offline by the plugin
	// as an account that does not own the AMIs sees them (EC2 never
	// restricts an account's own AMIs, so asking EC2 about them could
	// never fail). The check runs before any change: a breach refuses the
	// whole run, nothing is attached, and the error names the criterion
	// that failed. A region whose setting is `disabled` refuses the run
	// too (no criteria decide launches there). The AMIs are checked again
	// after verification. Defaults to `false`.
	RequireAllowed bool `mapstructure:"require_allowed" required:"false"`
	// How long to wait for a `pending` AMI to become `available` before
	// failing, as a duration such as `30m`, `1h` or `90s`. New AMIs are
	// often `pending` for minutes after a build. Defaults to `30m`.
	WaitTimeout string `mapstructure:"wait_timeout" required:"false"`
	// How long to keep looking for an AMI that DescribeImages does not
	// return, as a duration such as `2m` or `30s` (at most `wait_timeout`).
	// A just-created AMI can be invisible for a few describes; an AMI id
	// with a typo, in another region, of another account or deregistered
	// never appears. After the grace the run fails, before any change,
	// naming the AMI id, the region, the account of the credentials and
	// the likely causes. A disabled AMI fails at once as disabled.
	// Defaults to `2m`.
	NotFoundGrace string `mapstructure:"not_found_grace" required:"false"`
	// Re-attach a requested key the AMI carries inherited: a key whose
	// `SourceImageId` is another AMI, carried here by CreateImage or
	// CopyImage (a new golden base built from the previous one carries the
	// previous base's key). The key is detached and attached again, so
	// that its `SourceImageId` is this AMI and lineage checks (the data
	// source's `lineage = "attached"`) select it; the plan counts it once
	// against the limit of 5, a dry run only checks the two calls, and
	// verification checks the new `SourceImageId`. If the attach fails
	// after the detach, the AMI is left without the key and the error says
	// so: run again to attach it. Set it to `false` to leave inherited keys
	// as they are (skipped, as before), for example where an SCP denies
	// `ec2:DetachImageWatermark`: the permission check made before any
	// change (EC2's `DryRun`) then refuses the run and says so. Defaults to
	// `true`.
	ReattachInherited *bool `mapstructure:"reattach_inherited" required:"false"`
	// When `true` (the default), a watermarking failure fails the build,
	// and Packer core then deregisters the build's AMIs (and deletes their
	// snapshots) unless another post-processor sequence of the build keeps
	// the artifact; the error lists the AMIs concerned. When `false`, a
	// failure is reported as a warning, the build succeeds, its AMIs are
	// kept, and the next post-processors of the sequence run.
	FailOnError *bool `mapstructure:"fail_on_error" required:"false"`

	// A JSON file of Allowed-AMIs image criteria, in the form of `aws ec2
	// replace-image-criteria-in-allowed-images-settings --image-criteria`
	// (an array of criteria, or an object with `ImageCriteria` such as the
	// output of `aws ec2 get-allowed-images-settings`), or an AWS
	// Organizations declarative policy with
	// `ec2_attributes.allowed_images_settings` (converted with the mapping
	// in the CLI documentation's "Criteria files"; `allowed_image_providers`
	// takes `amazon`, `aws_marketplace`, `aws_backup_vault` and account ids,
	// as AWS Organizations writes them). Every field of the API is
	// read, `ScanResultCondition` included; field names are case-sensitive
	// and unknown or repeated keys are errors. The file must hold one JSON
	// array or object (not `null`) and nothing after it but white space, be
	// at most 1 MiB and nested at most 32 levels deep: anything else fails
	// `packer validate` with an error naming the file and what is wrong,
	// before the file is decoded. Every AMI
	// must be allowed under these criteria, evaluated offline by the plugin
	// exactly as EC2 evaluates them: before anything is changed (on the
	// watermarks the AMI will carry after the run: nothing is attached when
	// the result could not pass) and again after verification. Use it to
	// prove that the image will launch in accounts where the policy you are
	// about to enable applies. The AMIs are evaluated as images of another
	// account (own AMIs are never restricted by EC2), unless
	// `allowed_criteria_account` names the account that owns them.
	AllowedCriteriaFile string `mapstructure:"allowed_criteria_file" required:"false"`
	// The 12-digit account whose launches `allowed_criteria_file` is
	// evaluated for. AMIs owned by this account are always allowed, as in
	// EC2. Defaults to none: every AMI must match the criteria.
	AllowedCriteriaAccount string `mapstructure:"allowed_criteria_account" required:"false"`

	waitTimeout     time.Duration
	notFoundGrace   time.Duration
	allowedCriteria watermark.Criteria
	ctx             interpolate.Context
}

// verify is the effective value of `verify` (default true).
func (c *Config) verify() bool { return c.Verify == nil || *c.Verify }

// reattachInherited is the effective value of `reattach_inherited`
// (default true).
func (c *Config) reattachInherited() bool { return c.ReattachInherited == nil || *c.ReattachInherited }

// failOnError is the effective value of `fail_on_error` (default true).
func (c *Config) failOnError() bool { return c.FailOnError == nil || *c.FailOnError }

// prepare validates the decoded configuration and sets defaults. It returns
// every error found at once (a *packersdk.MultiError) or nil.
func (c *Config) prepare() error {
	var errs *packersdk.MultiError
	add := func(format string, args ...any) {
		errs = packersdk.MultiErrorAppend(errs, fmt.Errorf(format, args...))
	}
	for _, err := range c.AccessConfig.Prepare() {
		errs = packersdk.MultiErrorAppend(errs, err)
	}

	// watermarks
	if len(c.Watermarks) == 0 && len(c.Detach) == 0 {
		add("watermarks is required: list 1 to %d watermark names to attach, or set only detach to remove watermarks", watermark.MaxPerImage)
	}
	if len(c.Watermarks) > watermark.MaxPerImage {
		add("watermarks has %d names: an AMI can carry at most %d watermarks, inherited ones included; list at most %d", len(c.Watermarks), watermark.MaxPerImage, watermark.MaxPerImage)
	}
	firstName := map[string]int{}
	for i, name := range c.Watermarks {
		if err := watermark.ValidateName(name); err != nil {
			add("watermarks[%d]: %v", i, err)
			continue
		}
		if j, dup := firstName[name]; dup {
			add("watermarks[%d]: %q is listed twice (also watermarks[%d]): remove the duplicate", i, name, j)
			continue
		}
		firstName[name] = i
	}

	// detach
	firstDetach := map[string]int{}
	for i, entry := range c.Detach {
		if strings.Contains(entry, ":") {
			if _, err := watermark.ParseKey(entry); err != nil {
				add("detach[%d]: %v; write a full key ACCOUNT:NAME with the 12-digit account id, or a bare name for the AMI owner's key", i, err)
				continue
			}
		} else if err := watermark.ValidateName(entry); err != nil {
			add("detach[%d]: %v", i, err)
			continue
		}
		if j, dup := firstDetach[entry]; dup {
			add("detach[%d]: %q is listed twice (also detach[%d]): remove the duplicate", i, entry, j)
			continue
		}
		firstDetach[entry] = i
		if j, both := firstName[entry]; both {
			add("detach[%d]: %q is also in watermarks (watermarks[%d]): a name can't be detached and attached in one run; remove it from one of the two lists", i, entry, j)
		}
	}

	// image_ids
	if c.ImageIDs != nil && len(c.ImageIDs) == 0 {
		add("image_ids is empty: name at least one AMI as { \"REGION\" = \"ami-...\" }, or remove image_ids to watermark the build's artifact")
	}
	for _, msg := range checkImageIDs(c.ImageIDs, true) {
		add("%s", msg)
	}

	// allowed_criteria_file
	c.allowedCriteria = nil
	if c.AllowedCriteriaFile != "" {
		crit, err := watermark.ReadCriteriaFile(c.AllowedCriteriaFile)
		var unreadable *fs.PathError
		if errors.As(err, &unreadable) {
			add("allowed_criteria_file: %v: give the path of a JSON file of Allowed-AMIs image criteria", err)
		} else if err != nil {
			add("allowed_criteria_file %s: %v", c.AllowedCriteriaFile, err)
		} else {
			c.allowedCriteria = crit
		}
	}
	if c.AllowedCriteriaAccount != "" {
		if !watermark.IsAccountID(c.AllowedCriteriaAccount) {
			add("allowed_criteria_account %q is not a 12-digit account id", c.AllowedCriteriaAccount)
		}
		if c.AllowedCriteriaFile == "" {
			add("allowed_criteria_account is set but allowed_criteria_file is not: set the criteria file too, or remove allowed_criteria_account")
		}
	}

	// wait_timeout
	if d, err := parseWaitTimeout(c.WaitTimeout); err != nil {
		add("%v", err)
		c.waitTimeout = DefaultWaitTimeout
	} else {
		c.waitTimeout = d
	}

	// not_found_grace
	if d, err := awsconfig.ParseDurationSetting("not_found_grace", c.NotFoundGrace, engine.DefaultNotFoundGrace, "2m or 30s"); err != nil {
		add("%v", err)
		c.notFoundGrace = engine.DefaultNotFoundGrace
	} else {
		c.notFoundGrace = d
	}

	if errs == nil || len(errs.Errors) == 0 {
		return nil
	}
	return errs
}

// parseWaitTimeout parses wait_timeout: "" is DefaultWaitTimeout, anything
// else a Go duration greater than zero. It never panics.
func parseWaitTimeout(s string) (time.Duration, error) {
	return awsconfig.ParseDurationSetting("wait_timeout", s, DefaultWaitTimeout, "30m, 1h or 90s")
}

// unknownValue is what Packer passes for a value it cannot know yet, such as
// a data source output during `packer validate` without
// -evaluate-datasources.
const unknownValue = "<unknown>"

// checkImageIDs validates image_ids and returns one message per problem.
// With allowUnknown, values Packer does not know yet are accepted; they are
// checked again when the post-processor runs.
func checkImageIDs(ids map[string]string, allowUnknown bool) []string {
	var msgs []string
	regions := make([]string, 0, len(ids))
	for r := range ids {
		regions = append(regions, r)
	}
	sort.Strings(regions)
	regionOf := map[string]string{}
	for _, r := range regions {
		id := ids[r]
		if !amiref.ValidRegion(r) {
			msgs = append(msgs, fmt.Sprintf("image_ids: %q is not a region name: write each key as a region like us-east-1", r))
		}
		if allowUnknown && id == unknownValue {
			continue
		}
		if !amiref.IsAMIID(id) {
			msgs = append(msgs, fmt.Sprintf("image_ids[%q]: %q is not an AMI id: write it as %s", r, id, amiref.AMIIDHelp))
			continue
		}
		if prev, dup := regionOf[id]; dup {
			msgs = append(msgs, fmt.Sprintf("image_ids: %s is given for both %q and %q: an AMI belongs to one region; keep only the region it lives in", id, prev, r))
			continue
		}
		regionOf[id] = r
	}
	return msgs
}
