package watermark

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// DeclarativePolicy is the Allowed-AMIs part of an AWS Organizations
// declarative policy for EC2 (ec2_attributes.allowed_images_settings).
type DeclarativePolicy struct {
	// State is the state the policy sets: "enabled", "audit-mode" (the
	// policy writes audit_mode) or "" when the policy does not set it.
	State string
	// Criteria are the image criteria, in the order of their names
	// (criteria_1, criteria_2, ... by number, then other names
	// alphabetically).
	Criteria Criteria
}

// isDeclarativePolicy reports whether the object data has the top-level key
// ec2_attributes.
func isDeclarativePolicy(data []byte) bool {
	var top map[string]json.RawMessage
	if json.Unmarshal(data, &top) != nil {
		return false
	}
	_, ok := top["ec2_attributes"]
	return ok
}

// The keys of ec2_attributes other than allowed_images_settings that AWS
// documents; they configure other EC2 settings and are skipped.
var otherEC2Attributes = map[string]bool{
	"exception_message": true, "vpc_block_public_access": true, "serial_console_access": true,
	"image_block_public_access": true, "instance_metadata_defaults": true, "snapshot_block_public_access": true,
}

// ParseDeclarativePolicy reads the Allowed-AMIs settings of an AWS
// Organizations declarative policy (or of the effective policy of an
// account) and converts them into criteria with this mapping, one key for
// each field of the API's ImageCriterionRequest:
//
//	allowed_images_settings.state              enabled | audit_mode
//	allowed_images_settings.image_criteria.NAME one criterion per NAME
//	  allowed_image_providers                    ImageProviders (amazon,
//	                                             aws_marketplace -> aws-marketplace,
//	                                             aws_backup_vault -> aws-backup-vault,
//	                                             account ids)
//	  image_names                                ImageNames
//	  marketplace_product_codes                  MarketplaceProductCodes
//	  creation_date_condition.maximum_days_since_created
//	                                             CreationDateCondition.MaximumDaysSinceCreated
//	  deprecation_time_condition.maximum_days_since_deprecated
//	                                             DeprecationTimeCondition.MaximumDaysSinceDeprecated
//	  image_watermarks[].watermark_key, source_image_region,
//	    maximum_days_since_watermark_created, maximum_days_since_source_image_created
//	                                             ImageWatermarks[].WatermarkKey, ...
//	  scan_result_condition.maximum_severity_label, max_days_since_last_finding_scan,
//	    max_days_since_{critical,high,medium,low,informational}_fix_available
//	                                             ScanResultCondition.MaximumSeverityLabel, ...
//
// Every value may be written plainly or with the value-setting operator
// @@assign (and, for lists, @@append, which in a single policy sets the
// list); @@operators_allowed_for_child_policies is ignored. @@remove is an
// error: it only has a meaning against inherited policies, so give the
// account's effective policy instead. Unknown keys are errors. The result
// is validated with EC2's limits.
func ParseDeclarativePolicy(data []byte) (*DeclarativePolicy, error) {
	if err := checkJSONShape(bytes.TrimSpace(data)); err != nil {
		return nil, fmt.Errorf("reading the declarative policy: %v", err)
	}
	tree, err := decodeTree(data)
	if err != nil {
		return nil, fmt.Errorf("reading the declarative policy: %v", err)
	}
	d := &dpReader{}
	p := d.policy(tree)
	if d.err != nil {
		return nil, fmt.Errorf("reading the declarative policy: %v", d.err)
	}
	if err := p.Criteria.Validate(); err != nil {
		return nil, fmt.Errorf("the declarative policy's image criteria: %v", err)
	}
	return p, nil
}

// dpReader walks the policy tree and keeps the first error.
type dpReader struct{ err error }

func (d *dpReader) fail(path, format string, a ...any) {
	if d.err == nil {
		d.err = fmt.Errorf("%s: %s", path, fmt.Sprintf(format, a...))
	}
}

// value removes the value-setting operators around v.
func (d *dpReader) value(v any, path string) any {
	m, ok := v.(map[string]any)
	if !ok {
		return v
	}
	_, assign := m["@@assign"]
	_, appendOp := m["@@append"]
	_, remove := m["@@remove"]
	if !assign && !appendOp && !remove {
		return v
	}
	for k := range m {
		switch k {
		case "@@assign", "@@append", "@@operators_allowed_for_child_policies":
		case "@@remove":
			d.fail(path, "@@remove only has a meaning against inherited policies: give the account's effective policy (aws organizations describe-effective-policy --policy-type DECLARATIVE_POLICY_EC2) instead")
			return nil
		default:
			d.fail(path, "unknown key %q next to a value-setting operator", k)
			return nil
		}
	}
	if assign && appendOp {
		d.fail(path, "both @@assign and @@append: use one")
		return nil
	}
	if assign {
		return m["@@assign"]
	}
	return m["@@append"]
}

// object returns v as an object, checking its keys against known.
func (d *dpReader) object(v any, path string, known ...string) map[string]any {
	v = d.value(v, path)
	m, ok := v.(map[string]any)
	if !ok {
		if d.err == nil {
			d.fail(path, "expected an object")
		}
		return nil
	}
	for k := range m {
		if k == "@@operators_allowed_for_child_policies" {
			continue
		}
		found := false
		for _, kn := range known {
			if k == kn {
				found = true
			}
		}
		if !found && known != nil {
			d.fail(path, "unknown key %q: the keys here are %s", k, strings.Join(known, ", "))
			return nil
		}
	}
	return m
}

func (d *dpReader) strings(v any, path string) []string {
	v = d.value(v, path)
	l, ok := v.([]any)
	if !ok {
		if s, isStr := v.(string); isStr {
			return []string{s}
		}
		d.fail(path, "expected a list of strings")
		return nil
	}
	out := make([]string, 0, len(l))
	for i, e := range l {
		s, ok := d.value(e, path).(string)
		if !ok {
			d.fail(fmt.Sprintf("%s[%d]", path, i), "expected a string")
			return nil
		}
		out = append(out, s)
	}
	return out
}

// policyProviders maps the provider values of a declarative policy to the
// API's ImageProviders values. AWS Organizations documents the owner
// aliases of a policy with underscores (amazon, aws_marketplace,
// aws_backup_vault); the API's spelling with hyphens and none are accepted
// too and kept.
var policyProviders = map[string]string{
	"amazon": "amazon", "aws_marketplace": "aws-marketplace", "aws_backup_vault": "aws-backup-vault",
	"aws-marketplace": "aws-marketplace", "aws-backup-vault": "aws-backup-vault", "none": "none",
}

// providers reads allowed_image_providers: account ids and the policy's
// owner aliases, mapped to the API's values.
func (d *dpReader) providers(v any, path string) []string {
	l := d.strings(v, path)
	out := make([]string, 0, len(l))
	for i, p := range l {
		if IsAccountID(p) {
			out = append(out, p)
			continue
		}
		api, ok := policyProviders[p]
		if !ok {
			d.fail(fmt.Sprintf("%s[%d]", path, i), "%q is not a 12-digit account id or an owner alias of amazon, aws_marketplace or aws_backup_vault", truncate(p))
			return nil
		}
		out = append(out, api)
	}
	return out
}

func (d *dpReader) str(v any, path string) *string {
	s, ok := d.value(v, path).(string)
	if !ok {
		d.fail(path, "expected a string")
		return nil
	}
	return &s
}

func (d *dpReader) days(v any, path string) *int64 {
	var text string
	switch x := d.value(v, path).(type) {
	case json.Number:
		text = x.String()
	case string:
		text = x
	default:
		d.fail(path, "expected a number of days")
		return nil
	}
	n, err := strconv.ParseInt(text, 10, 64)
	if err != nil {
		d.fail(path, "%q is not a whole number of days", text)
		return nil
	}
	return &n
}

// strAt is str of o[key] (at path.key); nil when o has no key.
func (d *dpReader) strAt(o map[string]any, path, key string) *string {
	if v, ok := o[key]; ok {
		return d.str(v, path+"."+key)
	}
	return nil
}

// daysAt is days of o[key] (at path.key); nil when o has no key.
func (d *dpReader) daysAt(o map[string]any, path, key string) *int64 {
	if v, ok := o[key]; ok {
		return d.days(v, path+"."+key)
	}
	return nil
}

func (d *dpReader) policy(tree any) *DeclarativePolicy {
	p := &DeclarativePolicy{}
	top := d.object(tree, "the top level", "ec2_attributes")
	if top == nil {
		return p
	}
	ec2 := d.object(top["ec2_attributes"], "ec2_attributes")
	if ec2 == nil {
		return p
	}
	for k := range ec2 {
		if k != "allowed_images_settings" && !otherEC2Attributes[k] && k != "@@operators_allowed_for_child_policies" {
			d.fail("ec2_attributes", "unknown key %q", k)
			return p
		}
	}
	raw, ok := ec2["allowed_images_settings"]
	if !ok {
		d.fail("ec2_attributes", "the policy has no allowed_images_settings: it does not configure Allowed AMIs")
		return p
	}
	ais := d.object(raw, "ec2_attributes.allowed_images_settings", "state", "image_criteria", "exception_message")
	if ais == nil {
		return p
	}
	if st, ok := ais["state"]; ok {
		path := "ec2_attributes.allowed_images_settings.state"
		if s := d.str(st, path); s != nil {
			switch *s {
			case "enabled":
				p.State = "enabled"
			case "audit_mode":
				p.State = "audit-mode"
			default:
				d.fail(path, "%q is not a state: use enabled or audit_mode", *s)
			}
		}
	}
	if rawCrit, ok := ais["image_criteria"]; ok {
		path := "ec2_attributes.allowed_images_settings.image_criteria"
		crit := d.object(rawCrit, path)
		for _, name := range criteriaOrder(crit) {
			cr := d.criterion(crit[name], path+"."+name)
			if d.err != nil {
				return p
			}
			p.Criteria = append(p.Criteria, cr)
		}
	}
	return p
}

// criteriaOrder sorts criterion names: criteria_N by N, then the others
// alphabetically.
func criteriaOrder(m map[string]any) []string {
	names := make([]string, 0, len(m))
	for k := range m {
		if k != "@@operators_allowed_for_child_policies" {
			names = append(names, k)
		}
	}
	num := func(s string) (int, bool) {
		n, err := strconv.Atoi(strings.TrimPrefix(s, "criteria_"))
		return n, strings.HasPrefix(s, "criteria_") && err == nil
	}
	sort.Slice(names, func(i, j int) bool {
		a, aok := num(names[i])
		b, bok := num(names[j])
		switch {
		case aok && bok:
			return a < b
		case aok != bok:
			return aok
		}
		return names[i] < names[j]
	})
	return names
}

func (d *dpReader) criterion(v any, path string) Criterion {
	var cr Criterion
	m := d.object(v, path, "allowed_image_providers", "image_names", "marketplace_product_codes",
		"creation_date_condition", "deprecation_time_condition", "image_watermarks", "scan_result_condition")
	if m == nil {
		return cr
	}
	if x, ok := m["allowed_image_providers"]; ok {
		cr.ImageProviders = d.providers(x, path+".allowed_image_providers")
	}
	if x, ok := m["image_names"]; ok {
		cr.ImageNames = d.strings(x, path+".image_names")
	}
	if x, ok := m["marketplace_product_codes"]; ok {
		cr.MarketplaceProductCodes = d.strings(x, path+".marketplace_product_codes")
	}
	if x, ok := m["creation_date_condition"]; ok {
		p := path + ".creation_date_condition"
		if o := d.object(x, p, "maximum_days_since_created"); o != nil {
			cr.CreationDateCondition = &CreationDateCondition{MaximumDaysSinceCreated: d.daysAt(o, p, "maximum_days_since_created")}
		}
	}
	if x, ok := m["deprecation_time_condition"]; ok {
		p := path + ".deprecation_time_condition"
		if o := d.object(x, p, "maximum_days_since_deprecated"); o != nil {
			cr.DeprecationTimeCondition = &DeprecationTimeCondition{MaximumDaysSinceDeprecated: d.daysAt(o, p, "maximum_days_since_deprecated")}
		}
	}
	if x, ok := m["image_watermarks"]; ok {
		p := path + ".image_watermarks"
		l, isList := d.value(x, p).([]any)
		if !isList {
			d.fail(p, "expected a list of watermark filters")
			return cr
		}
		for i, e := range l {
			ep := fmt.Sprintf("%s[%d]", p, i)
			o := d.object(e, ep, "watermark_key", "source_image_region", "maximum_days_since_watermark_created", "maximum_days_since_source_image_created")
			if o == nil {
				return cr
			}
			cr.ImageWatermarks = append(cr.ImageWatermarks, WatermarkFilter{
				WatermarkKey:                       d.strAt(o, ep, "watermark_key"),
				SourceImageRegion:                  d.strAt(o, ep, "source_image_region"),
				MaximumDaysSinceWatermarkCreated:   d.daysAt(o, ep, "maximum_days_since_watermark_created"),
				MaximumDaysSinceSourceImageCreated: d.daysAt(o, ep, "maximum_days_since_source_image_created"),
			})
		}
	}
	if x, ok := m["scan_result_condition"]; ok {
		p := path + ".scan_result_condition"
		keys := []string{"maximum_severity_label", "max_days_since_last_finding_scan"}
		for _, s := range Severities {
			keys = append(keys, "max_days_since_"+string(s)+"_fix_available")
		}
		o := d.object(x, p, keys...)
		if o == nil {
			return cr
		}
		sc := &ScanResultCondition{}
		if s := d.strAt(o, p, "maximum_severity_label"); s != nil {
			sev := Severity(*s)
			sc.MaximumSeverityLabel = &sev
		}
		sc.MaxDaysSinceLastFindingScan = d.daysAt(o, p, "max_days_since_last_finding_scan")
		for _, s := range Severities {
			sc.SetFixDays(s, d.daysAt(o, p, "max_days_since_"+string(s)+"_fix_available"))
		}
		cr.ScanResultCondition = sc
	}
	return cr
}
