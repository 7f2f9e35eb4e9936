package main

import (
	"context"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/amiwatermark/packer-plugin-amiwatermark/internal/awsconfig"
	"github.com/amiwatermark/packer-plugin-amiwatermark/internal/watermark"
)

// The per-scope work of simulate, inspect and verify: what each command
// does in one account and region when the scope flags are given.

// startScoped validates the scope flags, asks STS who the caller is and
// runs cmd in every scope.
func startScoped(ctx context.Context, sf *scopeFlags, asJSON bool, ac *awsconfig.AccessConfig,
	cmd *scopeCommand, stdout, stderr io.Writer) int {
	p, err := sf.plan(asJSON)
	if err != nil {
		return report(stderr, cmd.name, err)
	}
	if err := checkRefRegions(p, cmd.refs); err != nil {
		return report(stderr, cmd.name, err)
	}
	env, err := newScopeEnv(ctx, ac, p)
	if err != nil {
		return report(stderr, cmd.name, err)
	}
	return runScopes(ctx, env, cmd, stdout, stderr)
}

// checkRefRegions makes sure that every AMI named with a region is checked
// (a gate never passes over an AMI it was given): an AMI in a region that
// --regions leaves out refuses the run before any AWS call. Without
// --regions the run's regions are those of the AMIs (and the default
// region for an AMI named without one). With --regions all, an AMI's
// region that DescribeRegions does not list for an account fails that
// account (missingRegions).
func checkRefRegions(p *scopePlan, refs []amiRef) error {
	if len(refs) == 0 || p.allRegions {
		return nil
	}
	if len(p.regions) > 0 {
		for _, r := range refs {
			if r.Region != anyRegion && !slices.Contains(p.regions, r.Region) {
				return usagef("%s:%s is in region %s, which --regions %s leaves out: nothing was checked; add %s to --regions (or give --regions all), or leave the AMI out",
					r.Region, r.ID, r.Region, strings.Join(p.regions, ","), r.Region)
			}
		}
		return nil
	}
	for _, r := range refs {
		if r.Region == anyRegion {
			p.refDefault = true
		} else if !slices.Contains(p.refRegions, r.Region) {
			p.refRegions = append(p.refRegions, r.Region)
		}
	}
	sort.Strings(p.refRegions)
	return nil
}

// missingRegions returns the regions of cmd's AMIs that regions (an
// account's enabled regions, --regions all) does not have.
func (c *scopeCommand) missingRegions(regions []string) []string {
	var out []string
	for _, r := range c.refs {
		if r.Region != anyRegion && !slices.Contains(regions, r.Region) && !slices.Contains(out, r.Region) {
			out = append(out, r.Region)
		}
	}
	return out
}

// ---- simulate

func simulateScopeCommand(o *simulateOptions) *scopeCommand {
	keys := []string{"images", "allowed", "own", "blocked"}
	if o.inUse {
		keys = append(keys, "in_use_amis", "in_use_instances", "in_use_blocked_amis", "blocked_instances", "in_use_not_visible")
	}
	if o.compare {
		keys = append(keys, "newly_blocked", "newly_allowed")
	}
	params := map[string]any{"criteria_file": o.criteriaFile, "at": o.at, "owners": o.owners, "in_use": o.inUse, "compare_current": o.compare}
	if o.account != "" {
		params["account"] = o.account
	}
	return &scopeCommand{
		name:      "simulate",
		countKeys: keys,
		params:    params,
		summary: func(c map[string]int) string {
			s := fmt.Sprintf("%d images: %d allowed (%d own), %d blocked", c["images"], c["allowed"], c["own"], c["blocked"])
			if o.inUse {
				s += fmt.Sprintf("; in use: %d AMIs on %d instances, %d blocked (%d instances), %d not visible",
					c["in_use_amis"], c["in_use_instances"], c["in_use_blocked_amis"], c["blocked_instances"], c["in_use_not_visible"])
			}
			if o.compare {
				s += fmt.Sprintf("; against the current criteria: %d newly blocked, %d newly allowed", c["newly_blocked"], c["newly_allowed"])
			}
			return s
		},
		work: func(ctx context.Context, t *scopeTask) (map[string]int, error) {
			so := *o
			if so.account == "" {
				so.account = t.Account // the scope's account: its own images are exempt
			}
			so.asJSON, so.progress = true, false
			so.onScanned = func() { t.Scanned(1) }
			so.onBlocked = func(b blockedImage, _ watermark.Image) error {
				return t.Emit(scopeRow{Kind: "image", ImageID: b.ImageID, OwnerID: b.OwnerID, OwnerAlias: b.OwnerAlias,
					Name: b.Name, Status: "blocked", Blocked: true, Reason: b.Reason})
			}
			out, err := simulate(ctx, t.EC2, t.Region, &so, io.Discard, io.Discard)
			if err != nil {
				return nil, err
			}
			c := map[string]int{"images": out.Totals.Images, "allowed": out.Totals.Allowed, "own": out.Totals.Own, "blocked": out.Totals.Blocked}
			if cmp := out.Comparison; cmp != nil {
				c["newly_blocked"], c["newly_allowed"] = len(cmp.NewlyBlocked), len(cmp.NewlyAllowed)
			}
			if u := out.InUse; u != nil {
				c["in_use_amis"], c["in_use_instances"], c["in_use_blocked_amis"], c["in_use_not_visible"] = u.AMIs, u.Instances, u.Blocked, u.NotVisible
				for _, im := range u.Images {
					if im.Status == "allowed" {
						continue
					}
					blocked := im.Status == "blocked"
					for _, inst := range im.Instances {
						if blocked {
							c["blocked_instances"]++
						}
						if err := t.Emit(scopeRow{Kind: "instance", ImageID: im.ImageID, InstanceID: inst, OwnerID: im.OwnerID,
							OwnerAlias: im.OwnerAlias, Name: im.Name, Status: im.Status, Blocked: blocked, Reason: im.Reason}); err != nil {
							return nil, err
						}
					}
				}
			}
			return c, nil
		},
	}
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
		name:       "inspect",
		refs:       refs,
		countKeys:  []string{"amis", "allowed", "not_allowed", "unknown", "not_found"},
		params:     map[string]any{"amis": refParams(refs), "at": at},
		wantRegion: wantRefRegion(refs),
		summary: func(c map[string]int) string {
			return fmt.Sprintf("%d AMIs: %d allowed, %d not allowed, %d unknown (Allowed AMIs disabled), %d not found",
				c["amis"], c["allowed"], c["not_allowed"], c["unknown"], c["not_found"])
		},
		work: func(ctx context.Context, t *scopeTask) (map[string]int, error) {
			ids := refsIn(refs, t.Region)
			imgs, err := describeByID(ctx, t.EC2, t.Region, ids)
			if err != nil {
				return nil, err
			}
			t.Scanned(len(imgs))
			c := map[string]int{"amis": len(ids)}
			for _, id := range ids {
				img, ok := imgs[id]
				if !ok {
					c["not_found"]++
					if err := t.Emit(scopeRow{Kind: "image", ImageID: id, Status: "not found", Reason: notFoundText(t.Region)}); err != nil {
						return nil, err
					}
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
				if err := t.Emit(row); err != nil {
					return nil, err
				}
			}
			return c, nil
		},
	}
}

func imageRow(img watermark.Image) scopeRow {
	r := scopeRow{Kind: "image", ImageID: img.ID, OwnerID: img.OwnerID, OwnerAlias: img.OwnerAlias, Name: img.Name}
	for _, w := range img.Watermarks {
		r.Watermarks = append(r.Watermarks, w.Key)
	}
	return r
}

func verifyScopeCommand(refs []amiRef, o *verifyOptions, params map[string]any) *scopeCommand {
	params["amis"] = refParams(refs)
	return &scopeCommand{
		name:       "verify",
		refs:       refs,
		checkedKey: "amis",
		countKeys:  []string{"amis", "ok", "failed"},
		params:     params,
		wantRegion: wantRefRegion(refs),
		failedKey:  "failed",
		summary: func(c map[string]int) string {
			return fmt.Sprintf("%d AMIs: %d ok, %d failed", c["amis"], c["ok"], c["failed"])
		},
		work: func(ctx context.Context, t *scopeTask) (map[string]int, error) {
			ids := refsIn(refs, t.Region)
			imgs, err := describeByID(ctx, t.EC2, t.Region, ids)
			if err != nil {
				return nil, err
			}
			t.Scanned(len(imgs))
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
			c := map[string]int{"amis": len(ids)}
			for _, id := range ids {
				var row scopeRow
				var fails []string
				if img, ok := imgs[id]; ok {
					row, fails = imageRow(img), vo.check(img)
				} else {
					row = scopeRow{Kind: "image", ImageID: id}
					fails = []string{"exists: " + notFoundText(t.Region)}
				}
				if len(fails) == 0 {
					row.Status = "ok"
					c["ok"]++
				} else {
					row.Status, row.Blocked, row.Reason = "failed", true, strings.Join(fails, " | ")
					c["failed"]++
				}
				if err := t.Emit(row); err != nil {
					return nil, err
				}
			}
			return c, nil
		},
	}
}
