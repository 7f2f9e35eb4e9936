package main

import (
	"flag"
	"strings"

	"github.com/amiwatermark/packer-plugin-amiwatermark/internal/amiref"
	"github.com/amiwatermark/packer-plugin-amiwatermark/internal/orgscan"
	rpt "github.com/amiwatermark/packer-plugin-amiwatermark/internal/report"
	"github.com/amiwatermark/packer-plugin-amiwatermark/internal/watermark"
)

// The scope flags run a command in many accounts and regions at once
// (docs/cli.md, "Across an organization"; the run is internal/orgscan's).
// Without them a command runs in one account (the caller's) and one
// region, exactly as before.

// scopeFlags are the flags shared by simulate, inspect and verify.
type scopeFlags struct {
	regions     string
	accounts    string
	roleName    string
	externalID  string
	concurrency int
	shard       string
	csv         bool
	html        string

	set map[string]bool // flags given on the command line
}

func (s *scopeFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&s.regions, "regions", "", "run in these regions (comma-separated), or \"all\": every region enabled for each account (DescribeRegions)")
	fs.StringVar(&s.accounts, "accounts", "", "run in these accounts (comma-separated 12-digit ids), or \"org\": every ACTIVE account of the AWS Organization (ListAccounts)")
	fs.StringVar(&s.roleName, "role-name", "", "IAM role assumed in each account other than the caller's: arn:PARTITION:iam::ACCOUNT:role/NAME")
	fs.StringVar(&s.externalID, "external-id", "", "external id passed to AssumeRole with --role-name")
	fs.IntVar(&s.concurrency, "concurrency", orgscan.DefaultConcurrency, "account-regions scanned at once with --regions/--accounts (1-256)")
	fs.StringVar(&s.shard, "shard", "", "I/N: run only the accounts whose position in the ascending list of account ids is I-1 modulo N (merge the --json results with amiwatermark report)")
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
	for _, n := range []string{"regions", "accounts", "role-name", "external-id", "concurrency", "shard", "csv", "html"} {
		if s.set[n] {
			return true
		}
	}
	return false
}

// scopePlan is the validated scope flags: the run's plan and its outputs.
type scopePlan struct {
	orgscan.Plan
	csv  bool
	json bool
	html string
	// refDefault: an AMI was named without a region (inspect, verify
	// without --regions): the configured region is one of the run's.
	refDefault bool
}

// plan validates the scope flags. asJSON is the command's --json.
func (s *scopeFlags) plan(asJSON bool) (*scopePlan, error) {
	p := &scopePlan{Plan: orgscan.Plan{RoleName: s.roleName, ExternalID: s.externalID, Concurrency: s.concurrency},
		csv: s.csv, json: asJSON, html: s.html}
	if err := s.outputs(asJSON); err != nil {
		return nil, err
	}
	var err error
	if p.AllRegions, p.Regions, err = regionsFlag.parse(s.regions, s.set["regions"]); err != nil {
		return nil, err
	}
	if p.Org, p.Accounts, err = accountsFlag.parse(s.accounts, s.set["accounts"]); err != nil {
		return nil, err
	}
	if s.set["shard"] {
		if p.Shard, err = orgscan.ParseShard(s.shard); err != nil {
			return nil, usagef("--shard: %v", err)
		}
	}
	return p, s.roles(p)
}

// outputs checks the output flags and --concurrency.
func (s *scopeFlags) outputs(asJSON bool) error {
	if s.csv && asJSON {
		return usagef("--csv and --json are two forms of the same output: give one of them")
	}
	if s.concurrency < 1 || s.concurrency > orgscan.MaxConcurrency {
		return usagef("--concurrency %d: give 1 to %d account-regions at once (default %d)", s.concurrency, orgscan.MaxConcurrency, orgscan.DefaultConcurrency)
	}
	if s.set["html"] && strings.TrimSpace(s.html) == "" {
		return usagef("--html needs a file name: --html report.html")
	}
	if s.html != "" {
		if err := rpt.CheckOutputFile(s.html); err != nil {
			return usagef("--html %s: %v; nothing was asked of AWS", s.html, err)
		}
	}
	return nil
}

// roles checks --role-name and --external-id against the accounts.
func (s *scopeFlags) roles(p *scopePlan) error {
	if p.RoleName != "" {
		if !s.set["accounts"] {
			return usagef("--role-name is assumed in the accounts of --accounts: give --accounts ID,ID or --accounts org too")
		}
		if !validRoleName(p.RoleName) {
			return usagef("--role-name %q is not an IAM role name: give the name (with its path, if any) as in arn:aws:iam::ACCOUNT:role/NAME, for example OrganizationAccountAccessRole", p.RoleName)
		}
	}
	if p.ExternalID != "" && p.RoleName == "" {
		return usagef("--external-id is passed when assuming --role-name: give --role-name too")
	}
	if p.ExternalID != "" && (len(p.ExternalID) < 2 || len(p.ExternalID) > 1224) {
		return usagef("--external-id must be 2 to 1224 characters long")
	}
	if p.Org && p.RoleName == "" {
		return usagef("--accounts org needs --role-name: the role to assume in each member account (for example OrganizationAccountAccessRole)")
	}
	return nil
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
