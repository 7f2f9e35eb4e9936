package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/amiwatermark/packer-plugin-amiwatermark/internal/watermark"
)

const verifyUsage = `Usage: amiwatermark verify [--region R] --require-key ACCOUNT:PATTERN [--require-key ...]
           [--max-watermark-age 90d] [--max-source-image-age 180d] [--lineage any|attached]
           [--criteria FILE [--account ID]] [--at TIME] [REGION:]AMI...

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
                         --image-criteria), evaluated offline.
`

type verifyOptions struct {
	patterns     []watermark.Pattern
	maxAge       *time.Duration
	maxSourceAge *time.Duration
	lineage      string // lineageAny or watermark.LineageAttached
	criteria     watermark.Criteria
	criteriaFile string
	account      string
	at           time.Time
}

const lineageAny = "any"

func runVerify(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("verify", verifyUsage, stderr)
	var (
		af                            accessFlags
		keys                          stringList
		maxAge, maxSrcAge, lineageArg string
		criteriaFile, account, atFlag string
		allowAny, asJSON              bool
		sf                            scopeFlags
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
	pos, code, ok := parseCommandLine(fs, args, stdout, stderr)
	if !ok {
		return code
	}
	sf.visit(fs)
	opts, err := verifyFlags(keys, maxAge, maxSrcAge, lineageArg, criteriaFile, account, atFlag, allowAny)
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
		params := map[string]any{"require_key": []string(keys), "criteria_file": criteriaFile, "account": account,
			"at": opts.at, "lineage": lineageArg, "max_watermark_age": maxAge, "max_source_image_age": maxSrcAge}
		return startScoped(ctx, &sf, asJSON, ac, verifyScopeCommand(refs, opts, params), stdout, stderr)
	}
	sess, err := newSession(ctx, ac)
	if err != nil {
		return report(stderr, "verify", err)
	}
	refs, err := parseAMIArgs(pos, sess.defaultRegion())
	if err != nil {
		return report(stderr, "verify", err)
	}
	found, errs := describeRefs(ctx, sess, refs)
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

// verifyFlags validates the verify flags into options; every error is a
// usage error.
func verifyFlags(keys []string, maxAge, maxSrcAge, lineageArg, criteriaFile, account, atFlag string, allowAny bool) (*verifyOptions, error) {
	o := &verifyOptions{criteriaFile: criteriaFile, account: account}
	if len(keys) == 0 && criteriaFile == "" {
		return nil, usagef("nothing to verify: give --require-key ACCOUNT:PATTERN (for example --require-key 111122223333:golden-*) and/or --criteria FILE")
	}
	for _, k := range keys {
		p, err := watermark.ParsePattern(k, allowAny)
		if err != nil {
			msg := strings.ReplaceAll(err.Error(), "set allow_any_account = true", "give --allow-any-account")
			return nil, usagef("--require-key: %s", msg)
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
	if criteriaFile != "" {
		data, err := os.ReadFile(criteriaFile)
		if err != nil {
			return nil, usagef("--criteria: cannot read the criteria file: %v", err)
		}
		if o.criteria, err = watermark.ParseCriteriaJSON(data); err != nil {
			return nil, usagef("--criteria %s: %v", criteriaFile, err)
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
	if o.criteriaFile != "" {
		v := o.criteria.Evaluate(img, o.account, o.at)
		if !v.Allowed {
			fails = append(fails, "criteria "+o.criteriaFile+": not allowed: "+v.Reason)
		}
	}
	return fails
}

// checkPattern returns "" when one watermark of img matches p and meets
// every watermark condition, else why not.
func (o *verifyOptions) checkPattern(img watermark.Image, p watermark.Pattern) string {
	var whys []string
	for _, w := range img.Watermarks {
		if !p.MatchKey(w.Key) {
			continue
		}
		var bad []string
		if o.maxAge != nil {
			if w.WatermarkCreationTime.IsZero() {
				bad = append(bad, "its watermark creation time is unknown")
			} else if age := o.at.Sub(w.WatermarkCreationTime); age > *o.maxAge {
				bad = append(bad, fmt.Sprintf("it was attached %s ago (%s), more than %s", formatAge(age), formatTime(w.WatermarkCreationTime), formatAgeFlag(*o.maxAge)))
			}
		}
		if o.maxSourceAge != nil {
			if w.SourceImageCreationTime.IsZero() {
				bad = append(bad, "its source image creation time is unknown")
			} else if age := o.at.Sub(w.SourceImageCreationTime); age > *o.maxSourceAge {
				bad = append(bad, fmt.Sprintf("its source image %s was created %s ago (%s), more than %s", orDefault(w.SourceImageID, "-"), formatAge(age), formatTime(w.SourceImageCreationTime), formatAgeFlag(*o.maxSourceAge)))
			}
		}
		if o.lineage == string(watermark.LineageAttached) && lineageOf(img, w) == lineageDerived {
			bad = append(bad, "lineage is derived, not attached: "+lineageWhy(img, w))
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
