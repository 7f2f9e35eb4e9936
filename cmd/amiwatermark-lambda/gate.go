package main

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/amiwatermark/packer-plugin-amiwatermark/internal/builderimage"
	"github.com/amiwatermark/packer-plugin-amiwatermark/internal/engine"
)

// engineWaitTimeout bounds the engine's wait for a pending AMI: the AMIs
// of a distributed image are available, and the function must leave time
// to answer the step within Lambda's 15 minutes.
const engineWaitTimeout = 5 * time.Minute

// accountAMIs are the targets of one account.
type accountAMIs struct {
	account string
	targets []engine.Target
}

// gate watermarks the image's output AMIs with the engine shared by the
// post-processor and the CLI: in each account, every AMI of every region is
// described and planned first (names, the 5-watermark limit, the
// Allowed-AMIs gates), then changed, then verified. With AMIs in several
// accounts every account is planned (a dry run) before any is changed.
func (h *handler) gate(ctx context.Context, img *builderimage.Image, res *result) error {
	groups, err := h.accountsOf(ctx, img, res)
	if err != nil {
		return err
	}
	if len(groups) > 1 && !h.cfg.DryRun {
		for _, g := range groups {
			if _, err := h.runEngine(ctx, g, true); err != nil {
				return fmt.Errorf("nothing was changed in any account: account %s: %s", g.account, err)
			}
		}
	}
	for i, g := range groups {
		out, err := h.runEngine(ctx, g, h.cfg.DryRun)
		if err != nil {
			done := ""
			if i > 0 {
				done = fmt.Sprintf(" (the AMIs of account(s) %s were watermarked before)", accountList(groups[:i]))
			}
			return fmt.Errorf("account %s: %s%s", g.account, err, done)
		}
		res.addAMIs(g.account, out, h.cfg.DryRun)
	}
	return nil
}

// runEngine runs the engine on one account's AMIs.
func (h *handler) runEngine(ctx context.Context, g accountAMIs, dry bool) (*engine.Result, error) {
	req := h.cfg.request(g.account, h.sess.clock.Now)
	req.DryRun = dry
	req.Verify = !dry
	out, err := engine.Run(ctx, g.targets, req, h.sess.ec2Clients(g.account), lineLog{h.stderr})
	if err != nil {
		return nil, fmt.Errorf("%s", strings.TrimPrefix(err.Error(), "amiwatermark: "))
	}
	return out, nil
}

// accountsOf groups the image's AMIs by account: the image's own account
// first. AMIs of other accounts are reached through AMIWATERMARK_ROLE_NAME,
// left out with AMIWATERMARK_SKIP_OTHER_ACCOUNTS=true, or refused.
func (h *handler) accountsOf(ctx context.Context, img *builderimage.Image, res *result) ([]accountAMIs, error) {
	self := img.ARN.Account
	own, other := img.Split(self)
	groups := []accountAMIs{}
	if len(own) > 0 {
		groups = append(groups, accountAMIs{account: self, targets: targetsOf(own)})
	}
	if len(other) == 0 {
		return groups, nil
	}
	if h.cfg.RoleName == "" {
		if !h.cfg.SkipOtherAccounts {
			return nil, foreignError(other, self)
		}
		res.addNotAttachable(other, self)
		if len(groups) == 0 {
			return nil, fmt.Errorf("every output AMI of %s is in another account and %s=true leaves them: nothing to watermark", img.ARN.ARN, envSkipOtherAccounts)
		}
		return groups, nil
	}
	byAccount := map[string][]builderimage.AMI{}
	for _, a := range other {
		byAccount[a.Account] = append(byAccount[a.Account], a)
	}
	accounts := make([]string, 0, len(byAccount))
	for acct := range byAccount {
		accounts = append(accounts, acct)
	}
	sort.Strings(accounts)
	for _, acct := range accounts {
		if err := h.sess.assume(ctx, img.ARN.Partition, acct, img.ARN.Region, h.cfg.RoleName); err != nil {
			return nil, fmt.Errorf("nothing was changed: %s", err)
		}
		groups = append(groups, accountAMIs{account: acct, targets: targetsOf(byAccount[acct])})
	}
	return groups, nil
}

func targetsOf(amis []builderimage.AMI) []engine.Target {
	out := make([]engine.Target, len(amis))
	for i, a := range amis {
		out[i] = engine.Target{Region: a.Region, ImageID: a.ImageID}
	}
	return out
}

// foreignError refuses AMIs of other accounts without a role to reach them.
func foreignError(other []builderimage.AMI, self string) error {
	var b strings.Builder
	fmt.Fprintf(&b, "nothing was changed: %d output AMI(s) are in other accounts than the function's (%s):", len(other), self)
	for _, a := range other {
		fmt.Fprintf(&b, " %s %s (account %s): %s;", a.Region, a.ImageID, a.Account, foreignReason(a, self))
	}
	fmt.Fprintf(&b, " set %s to a role the function may assume in those accounts, or %s=true to watermark only account %s's AMIs", envRoleName, envSkipOtherAccounts, self)
	return fmt.Errorf("%s", b.String())
}

func foreignReason(a builderimage.AMI, self string) string {
	return fmt.Sprintf("owned by account %s, not by the function's account %s: not attachable without %s", a.Account, self, envRoleName)
}

func accountList(groups []accountAMIs) string {
	out := make([]string, len(groups))
	for i, g := range groups {
		out[i] = g.account
	}
	return strings.Join(out, ", ")
}

// request is the engine request of the configuration for account; names
// in messages are the environment variables.
func (c *config) request(account string, now func() time.Time) engine.Request {
	return engine.Request{
		Attach: c.Attach, Detach: c.Detach, KeepInherited: c.KeepInherited,
		RequireAllowed: c.RequireAllowed, Criteria: c.Criteria, CriteriaSource: "(inline)",
		WaitTimeout: engineWaitTimeout, Now: now,
		Account: func(context.Context) (string, error) { return account, nil },
		Names: engine.Names{
			WaitTimeout: "the function's timeout", RequireAllowed: envRequireAllowed, Detach: envDetach,
			Watermarks: envWatermarks, MaxRetries: "the function's retries (run the pipeline again later)",
			NotFoundGrace: "the not-found grace (2m)", KeepInherited: envReattachInherited + "=false",
			Criteria: envCriteria, Credentials: "the function's role or " + envRoleName,
			DetachKey: envDetach + "=%q", AssumeRole: envRoleName,
		},
	}
}
