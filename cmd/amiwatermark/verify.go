package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/amiwatermark/packer-plugin-amiwatermark/internal/awsconfig"
	"github.com/amiwatermark/packer-plugin-amiwatermark/internal/watermark"
)

const verifyUsage = `Usage: amiwatermark verify [--region R] --require-key ACCOUNT:PATTERN [--require-key ...]
           [--max-watermark-age 90d] [--max-source-image-age 180d] [--lineage any|attached]
           [--criteria FILE|current [--account ID]]
           [--max-severity LEVEL] [--max-days-since-scan N] [--max-days-since-fix-available SEVERITY=N ...]
           [--at TIME] [REGION:]AMI...

Checks every AMI against every requirement and prints one line per AMI that
passes and one line per failed requirement:
  OK <region> <ami>
  FAIL <region> <ami>: <requirement>: <why>
Exit 0 only if every AMI satisfies every requirement, 1 otherwise (also when
an AMI cannot be found or described), 2 on a usage error.

Requirements:
  --require-key P        the AMI carries a watermark whose key matches P. P is
                         ACCOUNT:NAME with * and ? allowed in NAME; ACCOUNT is a
                         literal 12-digit id (the one part of a key nobody else
                         can forge) unless --allow-any-account is given.
                         Repeat the flag (or separate with commas): every
                         pattern must be matched.
  --max-watermark-age, --max-source-image-age, --lineage attached
                         conditions that must hold on the same watermark that
                         matches P.
  --criteria FILE        the AMI is allowed by these Allowed-AMIs criteria (the
                         JSON of aws ec2 replace-image-criteria-in-allowed-images-settings
                         --image-criteria, the output of get-allowed-images-settings,
                         or an AWS Organizations declarative policy), evaluated offline.
  --criteria current     the same with the account's live criteria in the AMI's
                         region (GetAllowedImagesSettings), whatever their state,
                         evaluated for the calling account (own AMIs always pass)
                         unless --account names another.
  --max-severity LEVEL   Amazon Inspector has scanned the AMI and its highest finding
                         severity is at most LEVEL (informational, low, medium, high,
                         critical); an AMI without findings passes.
  --max-days-since-scan N
                         Inspector scanned the AMI at most N days ago.
  --max-days-since-fix-available SEVERITY=N
                         no finding of SEVERITY has had a fix available for more
                         than N days (critical=7: an unpatched critical finding
                         whose fix is older than a week fails). Repeatable.
                         The scan gates are the Allowed-AMIs ScanResultCondition,
                         evaluated by the same rules; an AMI Inspector never
                         scanned fails every one of them.
`

type verifyOptions struct {
	patterns     []watermark.Pattern
	maxAge       *time.Duration
	maxSourceAge *time.Duration
	lineage      string // lineageAny or watermark.LineageAttached
	criteria     watermark.Criteria
	criteriaFile string
	// criteriaCurrent: --criteria current (the live criteria per region,
	// read by liveCriteria).
	criteriaCurrent bool
	live            map[string]*liveSettings
	// scan is the condition of the scan gates; nil without them.
	scan    *watermark.ScanResultCondition
	account string
	at      time.Time
}

const lineageAny = "any"

// cliNames spells the domain rules' terms with the CLI's flags.
var cliNames = watermark.Names{
	watermark.TermKeys:             "--require-key",
	watermark.TermAllowAnyAccount:  "--allow-any-account",
	watermark.TermEnableAnyAccount: "give --allow-any-account",
	watermark.TermLineage:          "--lineage",
	watermark.TermOwners:           "--owners",
}

func runVerify(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("verify", verifyUsage, stderr)
	var (
		af                            accessFlags
		keys                          stringList
		maxAge, maxSrcAge, lineageArg string
		criteriaFile, account, atFlag string
		allowAny, asJSON              bool
		sf                            scopeFlags
		maxSeverity, maxScanDays      string
		fixDays                       stringList
	)
	af.register(fs)
	sf.register(fs)
	fs.BoolVar(&asJSON, "json", false, "print one JSON document of the run across accounts and regions (a scoped run: see --regions/--accounts)")
	fs.Var(&keys, "require-key", "watermark key pattern ACCOUNT:NAME (* and ? in NAME) the AMI must carry; repeatable")
	fs.StringVar(&maxAge, "max-watermark-age", "", "the matching watermark was attached at most this long ago (90d, 12h, 2w)")
	fs.StringVar(&maxSrcAge, "max-source-image-age", "", "the matching watermark's source image was created at most this long ago")
	fs.StringVar(&lineageArg, "lineage", lineageAny, "any: the watermark may be inherited (an image built from a golden one passes); attached: only the image it was attached to, or a direct copy")
	fs.StringVar(&criteriaFile, "criteria", "", "Allowed-AMIs criteria JSON file the AMI must be allowed by (evaluated offline)")
	fs.StringVar(&account, "account", "", "evaluate --criteria as this account, whose own AMIs are never restricted (default: as an account that does not own the AMI)")
	fs.StringVar(&atFlag, "at", "", "evaluate ages at this time instead of now: RFC 3339, a date, or +30d / -1d")
	fs.BoolVar(&allowAny, "allow-any-account", false, "allow wildcards in the account part of --require-key (accepts keys attached by any account)")
	fs.StringVar(&maxSeverity, "max-severity", "", "Inspector scanned the AMI and its highest finding severity is at most this: informational, low, medium, high or critical")
	fs.StringVar(&maxScanDays, "max-days-since-scan", "", "Inspector scanned the AMI at most this many days ago")
	fs.Var(&fixDays, "max-days-since-fix-available", "SEVERITY=N: no SEVERITY finding has had a fix available for more than N days; repeatable")
	pos, code, ok := parseCommandLine(fs, args, stdout, stderr)
	if !ok {
		return code
	}
	sf.visit(fs)
	opts, err := verifyFlags(keys, maxAge, maxSrcAge, lineageArg, criteriaFile, account, atFlag, allowAny)
	if err == nil {
		opts.scan, err = scanGates(maxSeverity, maxScanDays, fixDays)
	}
	if err == nil && len(keys) == 0 && criteriaFile == "" && opts.scan == nil {
		err = usagef("nothing to verify: give --require-key ACCOUNT:PATTERN (for example --require-key 111122223333:golden-*), --criteria FILE|current and/or a scan gate (--max-severity, --max-days-since-scan, --max-days-since-fix-available)")
	}
	if err != nil {
		return report(stderr, "verify", err)
	}
	ac, err := af.accessConfig(fs)
	if err != nil {
		return report(stderr, "verify", err)
	}
	if len(pos) == 0 {
		return report(stderr, "verify", usagef("no AMI given: name one or more AMIs as ami-0123456789abcdef0 (with --region) or REGION:ami-0123456789abcdef0"))
	}
	if sf.active() || asJSON {
		refs, err := scopedRefs(pos)
		if err != nil {
			return report(stderr, "verify", err)
		}
		params := map[string]any{"require_key": []string(keys), "criteria_file": criteriaFile, "criteria_sha256": criteriaDigest(opts.criteria, criteriaFile != "" && !opts.criteriaCurrent), "account": account,
			"at": opts.at, "lineage": lineageArg, "max_watermark_age": maxAge, "max_source_image_age": maxSrcAge}
		return startScoped(ctx, &sf, asJSON, ac, verifyScopeCommand(refs, opts, params), stdout, stderr)
	}
	return verifyInRegion(ctx, ac, pos, opts, atFlag, stdout, stderr)
}

// verifyFlags validates the verify flags into options; every error is a
// usage error.
func verifyFlags(keys []string, maxAge, maxSrcAge, lineageArg, criteriaFile, account, atFlag string, allowAny bool) (*verifyOptions, error) {
	o := &verifyOptions{criteriaFile: criteriaFile, account: account}
	for _, k := range keys {
		p, err := watermark.ParsePattern(k, allowAny)
		if err != nil {
			return nil, usagef("--require-key: %s", watermark.Render(err, cliNames))
		}
		o.patterns = append(o.patterns, p)
	}
	var err error
	if o.maxAge, err = ageFlag("--max-watermark-age", maxAge); err != nil {
		return nil, err
	}
	if o.maxSourceAge, err = ageFlag("--max-source-image-age", maxSrcAge); err != nil {
		return nil, err
	}
	switch lineageArg {
	case lineageAny, string(watermark.LineageAttached):
		o.lineage = lineageArg
	default:
		return nil, usagef("--lineage %q: use any (the default: the watermark may be inherited, e.g. by an application image built from a golden one) or attached (only the image the watermark was attached to, or a direct copy of it)", lineageArg)
	}
	if len(keys) == 0 && (o.maxAge != nil || o.maxSourceAge != nil || lineageArg != lineageAny) {
		return nil, usagef("--max-watermark-age, --max-source-image-age and --lineage are conditions on the watermark matching --require-key: give --require-key too")
	}
	if criteriaFile == "current" {
		o.criteriaCurrent = true
	} else if criteriaFile != "" {
		if o.criteria, err = watermark.ReadCriteriaFile(criteriaFile); err != nil {
			return nil, criteriaUsage(criteriaFile, err)
		}
	} else if account != "" {
		return nil, usagef("--account says which account --criteria is evaluated for: give --criteria too")
	}
	if account != "" && !watermark.IsAccountID(account) {
		return nil, usagef("--account %q is not a 12-digit account id", account)
	}
	if o.at, err = parseAt(atFlag, time.Now().UTC()); err != nil {
		return nil, usagef("%v", err)
	}
	return o, nil
}

func ageFlag(name, v string) (*time.Duration, error) {
	if v == "" {
		return nil, nil
	}
	d, err := parseAge(v)
	if err != nil {
		return nil, usagef("%s: %v", name, err)
	}
	return &d, nil
}

// check returns one "<requirement>: <why>" per failed requirement of img.
func (o *verifyOptions) check(img watermark.Image) []string {
	var fails []string
	for _, p := range o.patterns {
		if why := o.checkPattern(img, p); why != "" {
			fails = append(fails, "require-key "+p.Raw+": "+why)
		}
	}
	switch {
	case o.criteriaCurrent:
		ls := o.live[img.Region]
		if v := ls.criteria.Evaluate(img, ls.account, o.at); !v.Allowed {
			fails = append(fails, "criteria current ("+ls.describe()+"): not allowed: "+v.Reason)
		}
	case o.criteriaFile != "":
		if v := o.criteria.Evaluate(img, o.account, o.at); !v.Allowed {
			fails = append(fails, "criteria "+o.criteriaFile+": not allowed: "+v.Reason)
		}
	}
	if o.scan != nil {
		if ok, why := o.scan.Check(img.ScanResults, o.at); !ok {
			fails = append(fails, "scan-results: "+why)
		}
	}
	return fails
}

// failureText says why w fails the verify condition r.
func (o *verifyOptions) failureText(r watermark.Reason, img watermark.Image, w watermark.Watermark) string {
	switch r {
	case watermark.RejectWatermarkAge:
		if w.WatermarkCreationTime.IsZero() {
			return "its watermark creation time is unknown"
		}
		return fmt.Sprintf("it was attached %s ago (%s), more than %s", formatAge(o.at.Sub(w.WatermarkCreationTime)), formatTime(w.WatermarkCreationTime), formatAgeFlag(*o.maxAge))
	case watermark.RejectSourceImageAge:
		if w.SourceImageCreationTime.IsZero() {
			return "its source image creation time is unknown"
		}
		return fmt.Sprintf("its source image %s was created %s ago (%s), more than %s", orDefault(w.SourceImageID, "-"), formatAge(o.at.Sub(w.SourceImageCreationTime)), formatTime(w.SourceImageCreationTime), formatAgeFlag(*o.maxSourceAge))
	case watermark.RejectLineage:
		return "lineage is derived, not attached: " + lineageWhy(img, w)
	}
	return r.String()
}

// checkPattern returns "" when one watermark of img matches p and meets
// every watermark condition, else why not.
func (o *verifyOptions) checkPattern(img watermark.Image, p watermark.Pattern) string {
	limits := watermark.WatermarkLimits{MaxWatermarkAge: o.maxAge, MaxSourceImageAge: o.maxSourceAge, Lineage: watermark.Lineage(o.lineage)}
	var whys []string
	for _, w := range img.Watermarks {
		if !p.MatchKey(w.Key) {
			continue
		}
		var bad []string
		for _, r := range limits.Failures(img, w, o.at) {
			bad = append(bad, o.failureText(r, img, w))
		}
		if len(bad) == 0 {
			return ""
		}
		whys = append(whys, w.Key+": "+strings.Join(bad, "; "))
	}
	if len(whys) > 0 {
		return strings.Join(whys, " | ")
	}
	if len(img.Watermarks) == 0 {
		return "no watermark matches: the image has no watermarks"
	}
	keys := make([]string, len(img.Watermarks))
	for i, w := range img.Watermarks {
		keys[i] = w.Key
	}
	return "no watermark matches: the image carries " + strings.Join(keys, ", ")
}

// verifyInRegion verifies the AMIs of pos in the caller's account (not a
// scoped run) and prints OK or FAIL per AMI.
func verifyInRegion(ctx context.Context, ac *awsconfig.AccessConfig, pos []string, opts *verifyOptions, atFlag string, stdout, stderr io.Writer) int {
	sess, err := newSession(ctx, ac)
	if err != nil {
		return report(stderr, "verify", err)
	}
	refs, err := parseAMIArgs(pos, sess.defaultRegion())
	if err != nil {
		return report(stderr, "verify", err)
	}
	found, errs := describeRefs(ctx, sess, refs)
	opts.at = sess.at(atFlag, opts.at)
	if opts.criteriaCurrent {
		opts.live = map[string]*liveSettings{}
		for _, region := range regionsOf(refs) {
			ls, err := readLiveSettings(ctx, sess, region, opts.account)
			if err != nil {
				return report(stderr, "verify", err)
			}
			opts.live[region] = ls
		}
	}
	failedAMIs := 0
	for _, ref := range refs {
		var fails []string
		if e, bad := errs[ref]; bad {
			fails = []string{e.requirement + ": " + e.msg}
		} else {
			fails = opts.check(found[ref])
		}
		if len(fails) == 0 {
			fmt.Fprintf(stdout, "OK %s %s\n", ref.Region, ref.ID)
			continue
		}
		failedAMIs++
		for _, f := range fails {
			fmt.Fprintf(stdout, "FAIL %s %s: %s\n", ref.Region, ref.ID, f)
		}
	}
	if failedAMIs > 0 {
		fmt.Fprintf(stderr, "amiwatermark verify: %d of %d AMIs failed\n", failedAMIs, len(refs))
		return exitFail
	}
	return exitOK
}
