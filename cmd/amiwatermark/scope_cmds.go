package main

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/ec2"

	"github.com/amiwatermark/packer-plugin-amiwatermark/internal/orgscan"
	rpt "github.com/amiwatermark/packer-plugin-amiwatermark/internal/report"
	"github.com/amiwatermark/packer-plugin-amiwatermark/internal/watermark"
)

// The per-scope work of simulate, inspect and verify: what each command
// does in one account and region when the scope flags are given.

// checkRefRegions makes sure that every AMI named with a region is checked
// (a gate never passes over an AMI it was given): an AMI in a region that
// --regions leaves out refuses the run before any AWS call. Without
// --regions the run's regions are those of the AMIs (and the default
// region for an AMI named without one: addDefaultRegion). With --regions
// all, an AMI's region that DescribeRegions does not list for an account
// fails that account-region (refsCommand).
func checkRefRegions(p *scopePlan, refs []amiRef) error {
	if len(refs) == 0 || p.AllRegions {
		return nil
	}
	if len(p.Regions) > 0 {
		for _, r := range refs {
			if r.Region != anyRegion && !slices.Contains(p.Regions, r.Region) {
				return usagef("%s:%s is in region %s, which --regions %s leaves out: nothing was checked; add %s to --regions (or give --regions all), or leave the AMI out",
					r.Region, r.ID, r.Region, strings.Join(p.Regions, ","), r.Region)
			}
		}
		return nil
	}
	for _, r := range refs {
		if r.Region == anyRegion {
			p.refDefault = true
		} else if !slices.Contains(p.Regions, r.Region) {
			p.Regions = append(p.Regions, r.Region)
		}
	}
	slices.Sort(p.Regions)
	return nil
}

// addDefaultRegion adds the configured region to the regions of the AMIs
// named when one was named without a region.
func (p *scopePlan) addDefaultRegion(region string) {
	if p.refDefault && region != "" && !slices.Contains(p.Regions, region) {
		p.Regions = append(p.Regions, region)
		slices.Sort(p.Regions)
	}
}

// refsCommand is the part of inspect and verify in the fan-out: the
// regions of the AMIs named, each AMI checked where it is named.
func refsCommand(refs []amiRef, work func(context.Context, *orgscan.Scope) (any, error)) orgscan.Command {
	var needs []string
	for _, r := range refs {
		if r.Region != anyRegion && !slices.Contains(needs, r.Region) {
			needs = append(needs, r.Region)
		}
	}
	return orgscan.Command{WantRegion: wantRefRegion(refs), Work: work, Needs: needs,
		Unlisted: func(account, region string) error {
			return fmt.Errorf("region %s is not enabled for account %s (DescribeRegions does not list it), or is not a region: the AMIs named in it were not checked; check the region name, or enable the region", region, account)
		}}
}

// ---- simulate

func simulateScopeCommand(o *simulateOptions) *scopeCommand {
	params := map[string]any{"criteria_file": o.criteriaFile, "criteria_sha256": criteriaDigest(o.criteria, true), "at": o.at,
		"owners": o.owners, "in_use": o.inUse, "compare_current": o.compare}
	if o.account != "" {
		params["account"] = o.account
	}
	c := &scopeCommand{name: "simulate", countKeys: keysOf(o), params: params}
	if len(o.owners) > 0 || o.compare {
		// A narrowed scan is read per account as given; the comparison
		// evaluates every image against each account's own criteria.
		c.run.Work = func(ctx context.Context, sc *orgscan.Scope) (any, error) { return simulateScope(ctx, sc, o, nil) }
		return c
	}
	c.run.Work = func(ctx context.Context, sc *orgscan.Scope) (any, error) {
		return simulateScope(ctx, sc, o, notPublic)
	}
	c.run.Region = func(ctx context.Context, sc *orgscan.Scope) (any, error) { return readPublic(ctx, sc, o) }
	c.run.Finish = func(_ context.Context, sc *orgscan.Scope, region, work any) (any, error) {
		return finishWithPublic(work.(*scopeOut), region.(*publicImages), accountOf(o, sc)), nil
	}
	return c
}

// accountOf is the account whose own images are exempt in a scope:
// --account, else the scope's.
func accountOf(o *simulateOptions, sc *orgscan.Scope) string {
	if o.account != "" {
		return o.account
	}
	return sc.Account
}

// simulateScope runs simulate in one scope with the reads of scans (nil:
// every image the account can see).
func simulateScope(ctx context.Context, sc *orgscan.Scope, o *simulateOptions, scans []*ec2.DescribeImagesInput) (*scopeOut, error) {
	so := *o
	so.account = accountOf(o, sc)
	so.asJSON, so.progress, so.scans = true, false, scans
	var rows []rpt.Row
	res := &scopeOut{}
	so.onScanned = func(watermark.Image) { sc.Progress.Images.Add(1) }
	so.onBlocked = func(b blockedImage, _ watermark.Image) error {
		rows = append(rows, rpt.Row{Kind: "image", ImageID: b.ImageID, OwnerID: b.OwnerID, OwnerAlias: b.OwnerAlias,
			Name: b.Name, Status: "blocked", Blocked: true, Reason: b.Reason})
		return nil
	}
	out, err := simulate(ctx, sc.EC2, sc.Region, &so, io.Discard, io.Discard)
	if err != nil {
		return nil, err
	}
	c := map[string]int{"images": out.Totals.Images, "allowed": out.Totals.Allowed, "own": out.Totals.Own, "blocked": out.Totals.Blocked}
	if cmp := out.Comparison; cmp != nil {
		c["newly_blocked"], c["newly_allowed"] = len(cmp.NewlyBlocked), len(cmp.NewlyAllowed)
	}
	if u := out.InUse; u != nil {
		rows = append(rows, inUseRows(u, c)...)
	}
	for _, k := range keysOf(o) {
		c[k] += 0 // every key present, zeros included
	}
	res.counts, res.own, res.rows = c, rows, rpt.RowSlice(rows)
	return res, nil
}

// keysOf are the count keys of simulate with o.
func keysOf(o *simulateOptions) []string {
	keys := []string{"images", "allowed", "own", "blocked"}
	if o.inUse {
		keys = append(keys, "in_use_amis", "in_use_instances", "in_use_blocked_amis", "blocked_instances", "in_use_not_visible")
	}
	if o.compare {
		keys = append(keys, "newly_blocked", "newly_allowed")
	}
	return keys
}

// inUseRows are the rows of the in-use AMIs that are not allowed (one per
// instance), counting the blocked instances in c.
func inUseRows(u *inUseReport, c map[string]int) []rpt.Row {
	c["in_use_amis"], c["in_use_instances"], c["in_use_blocked_amis"], c["in_use_not_visible"] = u.AMIs, u.Instances, u.Blocked, u.NotVisible
	var rows []rpt.Row
	for _, im := range u.Images {
		if im.Status == "allowed" {
			continue
		}
		blocked := im.Status == "blocked"
		for _, inst := range im.Instances {
			if blocked {
				c["blocked_instances"]++
			}
			rows = append(rows, rpt.Row{Kind: "instance", ImageID: im.ImageID, InstanceID: inst, OwnerID: im.OwnerID,
				OwnerAlias: im.OwnerAlias, Name: im.Name, Status: im.Status, Blocked: blocked, Reason: im.Reason})
		}
	}
	return rows
}

// ---- inspect and verify: AMIs named on the command line

// scopedRefs parses AMI arguments for a scoped run: an AMI without a region
// is looked up in every region of the run ("*").
func scopedRefs(args []string) ([]amiRef, error) {
	return parseAMIArgs(args, anyRegion)
}

const anyRegion = "*"

// refsIn returns the AMI ids of refs to look up in region, in order.
func refsIn(refs []amiRef, region string) []string {
	var ids []string
	seen := map[string]bool{}
	for _, r := range refs {
		if (r.Region == region || r.Region == anyRegion) && !seen[r.ID] {
			seen[r.ID] = true
			ids = append(ids, r.ID)
		}
	}
	return ids
}

func wantRefRegion(refs []amiRef) func(string) bool {
	return func(region string) bool { return len(refsIn(refs, region)) > 0 }
}

func refParams(refs []amiRef) []string {
	out := make([]string, len(refs))
	for i, r := range refs {
		if r.Region == anyRegion {
			out[i] = r.ID
		} else {
			out[i] = r.Region + ":" + r.ID
		}
	}
	return out
}

func inspectScopeCommand(refs []amiRef, at time.Time) *scopeCommand {
	return &scopeCommand{
		name:      "inspect",
		countKeys: []string{"amis", "allowed", "not_allowed", "unknown", "not_found"},
		params:    map[string]any{"amis": refParams(refs), "at": at},
		refs:      refs,
		run: refsCommand(refs, func(ctx context.Context, t *orgscan.Scope) (any, error) {
			return inspectScope(ctx, t, refs)
		}),
	}
}

// inspectScope looks up the AMIs of refs in one scope.
func inspectScope(ctx context.Context, t *orgscan.Scope, refs []amiRef) (*scopeOut, error) {
	ids := refsIn(refs, t.Region)
	imgs, err := describeByID(ctx, t.EC2, t.Region, ids)
	if err != nil {
		return nil, err
	}
	t.Progress.Images.Add(int64(len(imgs)))
	c := map[string]int{"amis": len(ids), "allowed": 0, "not_allowed": 0, "unknown": 0, "not_found": 0}
	var rows []rpt.Row
	for _, id := range ids {
		img, ok := imgs[id]
		if !ok {
			c["not_found"]++
			rows = append(rows, rpt.Row{Kind: "image", ImageID: id, Status: "not found", Reason: notFoundText(t.Region)})
			continue
		}
		row := imageRow(img)
		switch {
		case img.Allowed == nil:
			row.Status = "unknown"
			c["unknown"]++
		case *img.Allowed:
			row.Status = "allowed"
			c["allowed"]++
		default:
			row.Status, row.Blocked = "not allowed", true
			row.Reason = "DescribeImages imageAllowed is false for this account"
			c["not_allowed"]++
		}
		rows = append(rows, row)
	}
	return &scopeOut{counts: c, rows: rpt.RowSlice(rows)}, nil
}

func imageRow(img watermark.Image) rpt.Row {
	r := rpt.Row{Kind: "image", ImageID: img.ID, OwnerID: img.OwnerID, OwnerAlias: img.OwnerAlias, Name: img.Name}
	for _, w := range img.Watermarks {
		r.Watermarks = append(r.Watermarks, w.Key)
	}
	return r
}

func verifyScopeCommand(refs []amiRef, o *verifyOptions, params map[string]any) *scopeCommand {
	params["amis"] = refParams(refs)
	return &scopeCommand{
		name:       "verify",
		countKeys:  []string{"amis", "ok", "failed"},
		params:     params,
		failedKey:  "failed",
		checkedKey: "amis",
		refs:       refs,
		run: refsCommand(refs, func(ctx context.Context, t *orgscan.Scope) (any, error) {
			return verifyScope(ctx, t, refs, o)
		}),
	}
}

// verifyScope checks the AMIs of refs in one scope.
func verifyScope(ctx context.Context, t *orgscan.Scope, refs []amiRef, o *verifyOptions) (*scopeOut, error) {
	ids := refsIn(refs, t.Region)
	imgs, err := describeByID(ctx, t.EC2, t.Region, ids)
	if err != nil {
		return nil, err
	}
	t.Progress.Images.Add(int64(len(imgs)))
	vo := *o
	if vo.criteriaFile != "" && vo.account == "" {
		vo.account = t.Account // evaluate the criteria for the scope's account
	}
	if vo.criteriaCurrent {
		// The live criteria of this account in this region.
		ls, err := liveSettingsOf(ctx, t.EC2, t.Region, vo.account)
		if err != nil {
			return nil, err
		}
		vo.live = map[string]*liveSettings{t.Region: ls}
	}
	c := map[string]int{"amis": len(ids), "ok": 0, "failed": 0}
	var rows []rpt.Row
	for _, id := range ids {
		var row rpt.Row
		var fails []string
		if img, ok := imgs[id]; ok {
			row, fails = imageRow(img), vo.check(img)
		} else {
			row = rpt.Row{Kind: "image", ImageID: id}
			fails = []string{"exists: " + notFoundText(t.Region)}
		}
		if len(fails) == 0 {
			row.Status = "ok"
			c["ok"]++
		} else {
			row.Status, row.Blocked, row.Reason = "failed", true, strings.Join(fails, " | ")
			c["failed"]++
		}
		rows = append(rows, row)
	}
	return &scopeOut{counts: c, rows: rpt.RowSlice(rows)}, nil
}
