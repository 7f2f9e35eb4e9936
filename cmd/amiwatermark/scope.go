package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	orgtypes "github.com/aws/aws-sdk-go-v2/service/organizations/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/amiwatermark/packer-plugin-amiwatermark/internal/amiref"
	"github.com/amiwatermark/packer-plugin-amiwatermark/internal/awsconfig"
	"github.com/amiwatermark/packer-plugin-amiwatermark/internal/watermark"
)

// The scope flags run a command in many accounts and regions at once
// (docs/cli.md, "Across an organization"). Without them a command runs in
// one account (the caller's) and one region, exactly as before.

// defaultConcurrency is how many scopes (one account in one region) run at
// once by default. Each scope is a chain of dependent calls (one page after
// the other), so the wall time of a run is about the chain time ×
// ceil(scopes / concurrency); 16 keeps each account-region far below EC2's
// request rate limits while a 3 400-scope organization finishes in minutes.
const defaultConcurrency = 16

// maxConcurrency bounds --concurrency.
const maxConcurrency = 256

// scopeFlags are the flags shared by simulate, inspect and verify.
type scopeFlags struct {
	regions     string
	accounts    string
	roleName    string
	externalID  string
	concurrency int
	csv         bool
	html        string

	set map[string]bool // flags given on the command line
}

func (s *scopeFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&s.regions, "regions", "", "run in these regions (comma-separated), or \"all\": every region enabled for each account (DescribeRegions)")
	fs.StringVar(&s.accounts, "accounts", "", "run in these accounts (comma-separated 12-digit ids), or \"org\": every ACTIVE account of the AWS Organization (ListAccounts)")
	fs.StringVar(&s.roleName, "role-name", "", "IAM role assumed in each account other than the caller's: arn:PARTITION:iam::ACCOUNT:role/NAME")
	fs.StringVar(&s.externalID, "external-id", "", "external id passed to AssumeRole with --role-name")
	fs.IntVar(&s.concurrency, "concurrency", defaultConcurrency, "account-regions scanned at once with --regions/--accounts (1-256)")
	fs.BoolVar(&s.csv, "csv", false, "print CSV: one row per blocked image or instance (or failed AMI) per account and region, with a header row")
	fs.StringVar(&s.html, "html", "", "also write a self-contained HTML report to FILE (totals, a table per account, charts)")
}

// visit records which flags were given. Call it after parsing.
func (s *scopeFlags) visit(fs *flag.FlagSet) {
	s.set = map[string]bool{}
	fs.Visit(func(f *flag.Flag) { s.set[f.Name] = true })
}

// active reports whether the command runs in scope mode: the scope flags
// or an output form that only scope mode has were given.
func (s *scopeFlags) active() bool {
	for _, n := range []string{"regions", "accounts", "role-name", "external-id", "concurrency", "csv", "html"} {
		if s.set[n] {
			return true
		}
	}
	return false
}

// scopePlan is the validated scope flags.
type scopePlan struct {
	regions     []string // nil with allRegions, or when the default region applies
	allRegions  bool
	accounts    []string // nil with org, or for the caller's account only
	org         bool
	roleName    string
	externalID  string
	concurrency int
	csv         bool
	json        bool
	html        string
	// refRegions are the regions of the AMIs named (inspect, verify)
	// without --regions, refDefault whether an AMI was named without a
	// region: they are the run's regions then (checkRefRegions).
	refRegions []string
	refDefault bool
}

// plan validates the scope flags. asJSON is the command's --json.
func (s *scopeFlags) plan(asJSON bool) (*scopePlan, error) {
	p := &scopePlan{roleName: s.roleName, externalID: s.externalID, concurrency: s.concurrency,
		csv: s.csv, json: asJSON, html: s.html}
	if s.csv && asJSON {
		return nil, usagef("--csv and --json are two forms of the same output: give one of them")
	}
	if s.concurrency < 1 || s.concurrency > maxConcurrency {
		return nil, usagef("--concurrency %d: give 1 to %d account-regions at once (default %d)", s.concurrency, maxConcurrency, defaultConcurrency)
	}
	if s.set["html"] && strings.TrimSpace(s.html) == "" {
		return nil, usagef("--html needs a file name: --html report.html")
	}
	if s.html != "" {
		if err := checkOutputFile(s.html); err != nil {
			return nil, usagef("--html %s: %v; nothing was asked of AWS", s.html, err)
		}
	}
	var err error
	if p.allRegions, p.regions, err = regionsFlag.parse(s.regions, s.set["regions"]); err != nil {
		return nil, err
	}
	if p.org, p.accounts, err = accountsFlag.parse(s.accounts, s.set["accounts"]); err != nil {
		return nil, err
	}
	if p.roleName != "" {
		if !s.set["accounts"] {
			return nil, usagef("--role-name is assumed in the accounts of --accounts: give --accounts ID,ID or --accounts org too")
		}
		if !validRoleName(p.roleName) {
			return nil, usagef("--role-name %q is not an IAM role name: give the name (with its path, if any) as in arn:aws:iam::ACCOUNT:role/NAME, for example OrganizationAccountAccessRole", p.roleName)
		}
	}
	if p.externalID != "" && p.roleName == "" {
		return nil, usagef("--external-id is passed when assuming --role-name: give --role-name too")
	}
	if p.externalID != "" && (len(p.externalID) < 2 || len(p.externalID) > 1224) {
		return nil, usagef("--external-id must be 2 to 1224 characters long")
	}
	if p.org && p.roleName == "" {
		return nil, usagef("--accounts org needs --role-name: the role to assume in each member account (for example OrganizationAccountAccessRole)")
	}
	return p, nil
}

// validRoleName checks an IAM role name with an optional path
// (path/name): letters, digits and +=,.@_- in each part, 1-64 characters
// in the name.
func validRoleName(s string) bool {
	parts := strings.Split(s, "/")
	name := parts[len(parts)-1]
	if len(name) < 1 || len(name) > 64 || len(s) > 512 {
		return false
	}
	for _, p := range parts {
		if p == "" {
			return false
		}
		for _, c := range p {
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune("+=,.@_-", c)) {
				return false
			}
		}
	}
	return true
}

// identity is the caller as STS sees it.
type identity struct {
	Account   string
	ARN       string
	Partition string
}

// partitionOf returns the partition of an ARN (arn:PARTITION:...).
func partitionOf(arn string) (string, error) {
	parts := strings.SplitN(arn, ":", 3)
	if len(parts) < 3 || parts[0] != "arn" || parts[1] == "" {
		return "", fmt.Errorf("%q is not an ARN", arn)
	}
	return parts[1], nil
}

// globalRegion is the region of the partition's global endpoints
// (Organizations, and STS when no region is configured).
func globalRegion(partition string) string {
	switch partition {
	case "aws-us-gov":
		return "us-gov-west-1"
	case "aws-cn":
		return "cn-northwest-1"
	}
	return "us-east-1"
}

// scopeEnv is what the fan-out needs from AWS: the caller's configuration,
// and per account its credentials and EC2 clients.
type scopeEnv struct {
	ac       *awsconfig.AccessConfig
	base     aws.Config
	home     string // region of STS, Organizations and DescribeRegions calls
	caller   identity
	plan     *scopePlan
	limiters *limiters

	mu    sync.Mutex
	creds map[string]*acctCreds

	orgList chan orgList // with --accounts org: the answer of ListAccounts
	// known is closed once caller is known (callerOK) or cannot be.
	known    chan struct{}
	callerOK bool
	// slots bounds what runs at once: scopes and account preparations
	// (--concurrency).
	slots chan struct{}
}

// slotsFor returns env's slots, made at the first call.
func (e *scopeEnv) slotsFor() chan struct{} {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.slots == nil {
		e.slots = make(chan struct{}, e.plan.concurrency)
	}
	return e.slots
}

type orgList struct {
	accounts []string
	err      error
}

// partitionOfRegion tells the partition of a region name.
func partitionOfRegion(region string) string {
	switch {
	case strings.HasPrefix(region, "us-gov-"):
		return "aws-us-gov"
	case strings.HasPrefix(region, "cn-"):
		return "aws-cn"
	}
	return "aws"
}

type acctCreds struct {
	ready chan struct{}
	cfg   aws.Config
	err   error
}

// newScopeEnv loads the caller's configuration and asks STS who the caller
// is. STS and Organizations clients honour AWS_ENDPOINT_URL_STS,
// AWS_ENDPOINT_URL_ORGANIZATIONS and AWS_ENDPOINT_URL as the SDK resolves
// them for clients built from the loaded configuration.
func newScopeEnv(ctx context.Context, ac *awsconfig.AccessConfig, p *scopePlan) (*scopeEnv, error) {
	cfg, err := ac.Config(ctx)
	if err != nil {
		return nil, err
	}
	home := cfg.Region
	if home == "" && len(p.regions) > 0 {
		home = p.regions[0]
	}
	if home == "" && len(p.refRegions) > 0 {
		home = p.refRegions[0]
	}
	if home == "" {
		home = "us-east-1"
	}
	e := &scopeEnv{ac: ac, base: cfg, home: home, plan: p, limiters: newLimiters(), creds: map[string]*acctCreds{},
		known: make(chan struct{})}
	defer close(e.known)
	if p.org {
		// ListAccounts does not depend on the caller's identity: ask both
		// at once. The partition (for the Organizations region) follows
		// from the configured region.
		ch := make(chan orgList, 1)
		e.orgList = ch
		go func() {
			accts, err := e.orgAccounts(ctx, globalRegion(partitionOfRegion(home)), e.prepareEarly)
			ch <- orgList{accts, err}
		}()
	}
	out, err := sts.NewFromConfig(cfg, func(o *sts.Options) { o.Region = home }).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		return nil, fmt.Errorf("asking STS who the caller is (GetCallerIdentity in %s): %s; check the credentials (AWS_PROFILE, AWS_ACCESS_KEY_ID...) and AWS_ENDPOINT_URL_STS", home, errorText(err))
	}
	e.caller = identity{Account: aws.ToString(out.Account), ARN: aws.ToString(out.Arn)}
	if e.caller.Partition, err = partitionOf(e.caller.ARN); err != nil {
		return nil, fmt.Errorf("STS GetCallerIdentity: the caller's ARN %v: cannot tell the partition", err)
	}
	if !watermark.IsAccountID(e.caller.Account) {
		return nil, fmt.Errorf("STS GetCallerIdentity answered account %q, not a 12-digit id", e.caller.Account)
	}
	if p.roleName == "" {
		for _, a := range p.accounts {
			if a != e.caller.Account {
				return nil, usagef("--accounts %s: the caller is account %s; give --role-name NAME to assume a role in the other accounts", a, e.caller.Account)
			}
		}
	}
	e.callerOK = true
	return e, nil
}

// prepareEarly starts assuming the role in the first accounts of the first
// page of ListAccounts while the next page is listed: the run can then start
// scanning them as soon as the list is complete. It starts as many as the
// scopes prepare ahead (prepareAhead), never more than --concurrency minus
// the ListAccounts call in flight (none with --concurrency 1), each in one
// of the run's slots. The credentials, or the refusal, are kept for the
// scopes (config).
func (e *scopeEnv) prepareEarly(ctx context.Context, page []string) {
	n := min(prepareAhead(e.plan), e.plan.concurrency-1)
	if e.plan.roleName == "" || n <= 0 {
		return
	}
	page = slices.Sorted(slices.Values(page)) // a copy: the caller's slice grows on
	go func() {
		select {
		case <-e.known:
		case <-ctx.Done():
			return
		}
		if !e.callerOK {
			return
		}
		slots := e.slotsFor()
		for _, a := range page {
			if n == 0 {
				return
			}
			if a == e.caller.Account {
				continue
			}
			select {
			case slots <- struct{}{}:
			case <-ctx.Done():
				return
			}
			n--
			go func() {
				defer func() { <-slots }()
				_, _ = e.config(ctx, a) // kept for the scopes
			}()
		}
	}()
}

// roleARN is the role assumed in account.
func (e *scopeEnv) roleARN(account string) string {
	return "arn:" + e.caller.Partition + ":iam::" + account + ":role/" + e.plan.roleName
}

// accounts lists the accounts of the run in order: --accounts as given,
// the organization's ACTIVE accounts by id, or the caller's account.
func (e *scopeEnv) accounts(ctx context.Context) ([]string, error) {
	switch {
	case e.plan.org && e.orgList != nil:
		l := <-e.orgList
		e.orgList <- l
		return l.accounts, l.err
	case e.plan.org:
		return e.orgAccounts(ctx, globalRegion(e.caller.Partition), nil)
	case len(e.plan.accounts) > 0:
		return e.plan.accounts, nil
	}
	return []string{e.caller.Account}, nil
}

// orgAccounts pages through Organizations ListAccounts. onFirst, when not
// nil, is given the ACTIVE accounts of the first page that has some, when
// another page follows it.
func (e *scopeEnv) orgAccounts(ctx context.Context, region string, onFirst func(context.Context, []string)) ([]string, error) {
	c := organizations.NewFromConfig(e.base, func(o *organizations.Options) {
		o.Region = region
	})
	p := organizations.NewListAccountsPaginator(c, &organizations.ListAccountsInput{})
	var out []string
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, listAccountsError(err)
		}
		for _, a := range page.Accounts {
			if accountActive(a) {
				out = append(out, aws.ToString(a.Id))
			}
		}
		if onFirst != nil && p.HasMorePages() && len(out) > 0 {
			onFirst(ctx, out) // it copies what it keeps before returning
			onFirst = nil
		}
	}
	sort.Strings(out)
	if len(out) == 0 {
		return nil, errors.New("Organizations ListAccounts returned no ACTIVE account")
	}
	return out, nil
}

// listAccountsError says why ListAccounts failed and what to do: a
// throttled call is not a missing permission.
func listAccountsError(err error) error {
	const what = "listing the organization's accounts (Organizations ListAccounts)"
	switch awsconfig.ErrorCode(err) {
	case "TooManyRequestsException", "Throttling", "ThrottlingException", "RequestLimitExceeded":
		return fmt.Errorf("%s: %s: Organizations throttled the call and every retry; run again later, raise --max-retries, or give --accounts ID,ID", what, errorText(err))
	}
	return fmt.Errorf("%s: %s; --accounts org must run in the management account or a delegated administrator account with organizations:ListAccounts, or give --accounts ID,ID", what, errorText(err))
}

func accountActive(a orgtypes.Account) bool {
	if a.State != "" {
		return a.State == orgtypes.AccountStateActive
	}
	return a.Status == orgtypes.AccountStatusActive
}

// config returns the configuration acting in account: the caller's own, or
// the assumed role's. AssumeRole runs once per account; its failure is
// remembered, so every scope of the account reports it without asking again.
func (e *scopeEnv) config(ctx context.Context, account string) (aws.Config, error) {
	if account == e.caller.Account {
		return e.base, nil
	}
	e.mu.Lock()
	c, ok := e.creds[account]
	if !ok {
		c = &acctCreds{ready: make(chan struct{})}
		e.creds[account] = c
		e.mu.Unlock()
		c.cfg, c.err = e.assume(ctx, account)
		if c.err != nil && ctx.Err() != nil {
			// Interrupted, not refused: let a later caller try again.
			e.mu.Lock()
			delete(e.creds, account)
			e.mu.Unlock()
		}
		close(c.ready)
		return c.cfg, c.err
	}
	e.mu.Unlock()
	select {
	case <-c.ready:
		return c.cfg, c.err
	case <-ctx.Done():
		return aws.Config{}, ctx.Err()
	}
}

func (e *scopeEnv) assume(ctx context.Context, account string) (aws.Config, error) {
	arn := e.roleARN(account)
	stsc := sts.NewFromConfig(e.base, func(o *sts.Options) {
		o.Region = e.home
		o.APIOptions = append(o.APIOptions, e.limiters.middleware(account, "sts"))
	})
	provider := stscreds.NewAssumeRoleProvider(stsc, arn, func(o *stscreds.AssumeRoleOptions) {
		o.RoleSessionName = "amiwatermark-" + e.caller.Account
		if e.plan.externalID != "" {
			o.ExternalID = aws.String(e.plan.externalID)
		}
	})
	// Every credential of the role, each renewal too, is registered for
	// redaction before it is used.
	cache := awsconfig.RegisterCredentials(provider)
	_, err := cache.Retrieve(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return aws.Config{}, ctx.Err()
		}
		return aws.Config{}, fmt.Errorf("assuming %s: %s; check that the role exists in account %s, trusts the caller %s (and the --external-id), and allows what docs/cli.md lists", arn, errorText(err), account, e.caller.ARN)
	}
	cfg := e.base.Copy()
	cfg.Credentials = cache
	return cfg, nil
}

// ec2Client returns an EC2 client acting in account and region, paced by
// the account-region's rate limiter.
func (e *scopeEnv) ec2Client(cfg aws.Config, account, region string) (*ec2.Client, error) {
	c, err := e.ac.NewEC2Client(cfg, region)
	if err != nil {
		return nil, err
	}
	mw := e.limiters.middleware(account, region)
	return ec2.New(c.Options(), func(o *ec2.Options) {
		o.APIOptions = append(o.APIOptions, mw)
	}), nil
}

// regionsFor returns the regions to scan in account: --regions, every
// region enabled for the account (--regions all), or the default region.
func (e *scopeEnv) regionsFor(ctx context.Context, account string) ([]string, error) {
	switch {
	case len(e.plan.regions) > 0:
		return e.plan.regions, nil
	case !e.plan.allRegions && len(e.plan.refRegions) > 0:
		out := e.plan.refRegions
		if e.plan.refDefault && e.base.Region != "" && !slices.Contains(out, e.base.Region) {
			out = append(slices.Clone(out), e.base.Region)
			sort.Strings(out)
		}
		return out, nil
	case !e.plan.allRegions:
		if e.base.Region == "" {
			return nil, usagef("no region: give --regions R1,R2 (or all), --region, or set AWS_REGION")
		}
		return []string{e.base.Region}, nil
	}
	cfg, err := e.config(ctx, account)
	if err != nil {
		return nil, err
	}
	c, err := e.ec2Client(cfg, account, e.home)
	if err != nil {
		return nil, err
	}
	out, err := c.DescribeRegions(ctx, &ec2.DescribeRegionsInput{})
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, fmt.Errorf("listing the regions enabled for account %s (DescribeRegions in %s): %s", account, e.home, errorText(err))
	}
	var regions []string
	for _, r := range out.Regions {
		if st := aws.ToString(r.OptInStatus); st == "not-opted-in" {
			continue
		}
		if n := aws.ToString(r.RegionName); n != "" {
			regions = append(regions, n)
		}
	}
	sort.Strings(regions)
	if len(regions) == 0 {
		return nil, fmt.Errorf("DescribeRegions returned no enabled region for account %s", account)
	}
	return regions, nil
}

// listFlag is a scope flag that takes a comma-separated list or one keyword
// (--regions R1,R2|all, --accounts ID,ID|org), with its usage messages.
type listFlag struct {
	keyword  string            // "all", "org"
	valid    func(string) bool // one entry
	empty    string            // the flag given with no entry
	combined string            // the keyword mixed with entries
	bad      string            // an invalid entry (%q)
}

var (
	regionsFlag = listFlag{keyword: "all", valid: amiref.ValidRegion,
		empty:    `--regions is empty: give regions as us-east-1,eu-west-1 or "all"`,
		combined: `--regions: "all" cannot be combined with region names: give either all or a list`,
		bad:      "--regions: %q is not a region name: write regions like us-east-1,eu-west-1, or all"}
	accountsFlag = listFlag{keyword: "org", valid: watermark.IsAccountID,
		empty:    `--accounts is empty: give 12-digit account ids (111122223333,444455556666) or "org"`,
		combined: `--accounts: "org" cannot be combined with account ids: give either org or a list`,
		bad:      "--accounts: %q is not a 12-digit account id: write ids like 111122223333,444455556666, or org"}
)

// parse reads the flag's value (set: the flag was given): the keyword, or
// the entries in order without repeats; nothing when the flag is absent.
func (f listFlag) parse(raw string, set bool) (keyword bool, list []string, err error) {
	raw = strings.TrimSpace(raw)
	switch {
	case raw == f.keyword:
		return true, nil, nil
	case raw == "" && !set:
		return false, nil, nil
	}
	seen := map[string]bool{}
	for _, x := range strings.Split(raw, ",") {
		x = strings.TrimSpace(x)
		switch {
		case x == "":
			continue
		case x == f.keyword:
			return false, nil, usagef("%s", f.combined)
		case !f.valid(x):
			return false, nil, usagef(f.bad, x)
		case !seen[x]:
			seen[x] = true
			list = append(list, x)
		}
	}
	if len(list) == 0 {
		return false, nil, usagef("%s", f.empty)
	}
	return false, list, nil
}
