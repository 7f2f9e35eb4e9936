package ec2emu

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"
)

// Account is a seeded AWS account: its Organizations listing, the regions
// DescribeRegions shows it, and whether its roles can be assumed.
type Account struct {
	ID     string    `json:"id"`
	Name   string    `json:"name"`
	Email  string    `json:"email"`
	Status string    `json:"status"` // ACTIVE, SUSPENDED or PENDING_CLOSURE
	Joined time.Time `json:"joined"`
	// Regions are the enabled regions (DescribeRegions); nil: the default
	// list (the commercial regions that need no opt-in).
	Regions []string `json:"regions,omitempty"`
	// RefuseAssumeRole: AssumeRole into any role of this account answers
	// AccessDenied, as when its roles' trust policies do not trust the
	// caller.
	RefuseAssumeRole bool `json:"refuse_assume_role,omitempty"`
	// ExternalID, when set, must be given to AssumeRole into this account's
	// roles (the trust policy's sts:ExternalId condition).
	ExternalID string `json:"external_id,omitempty"`
	// DenyActions are EC2 actions ("ec2:DetachImageWatermark") every
	// caller of this account is denied, as by an SCP (see api_deny.go).
	DenyActions []string `json:"deny_actions,omitempty"`
}

// Organization is the seeded AWS organization.
type Organization struct {
	ID                string   `json:"id"`
	ManagementAccount string   `json:"management_account"`
	DelegatedAdmins   []string `json:"delegated_admins,omitempty"`
}

// SeedAccount is one account of a seed ("accounts"). Only ID is required.
type SeedAccount struct {
	ID string `json:"id"`
	// Name: default "account-ID".
	Name string `json:"name,omitempty"`
	// Email: default ID@example.com.
	Email string `json:"email,omitempty"`
	// Status: ACTIVE (default), SUSPENDED or PENDING_CLOSURE.
	Status string `json:"status,omitempty"`
	// Joined: when the account joined the organization (a seed time);
	// default the emulator's now.
	Joined string `json:"joined,omitempty"`
	// Regions: the enabled regions, in any order; default the commercial
	// regions that need no opt-in.
	Regions []string `json:"regions,omitempty"`
	// RefuseAssumeRole: every AssumeRole into this account is refused
	// (AccessDenied), to test that one account's failure stays its own.
	RefuseAssumeRole bool `json:"refuse_assume_role,omitempty"`
	// ExternalID: AssumeRole into this account must give this ExternalId.
	ExternalID string `json:"external_id,omitempty"`
	// DenyActions: EC2 actions ("ec2:DetachImageWatermark") denied to
	// every caller of this account, as an SCP's Deny statement does: the
	// call, DryRun or not, answers 403 UnauthorizedOperation.
	DenyActions []string `json:"deny_actions,omitempty"`
}

// SeedOrganization is the organization of a seed ("organization"). Its
// members are the seed's accounts (the management account is added when it
// is not among them).
type SeedOrganization struct {
	// ID: o- and 10 to 32 lowercase letters or digits; default derived
	// from the management account.
	ID                string `json:"id,omitempty"`
	ManagementAccount string `json:"management_account"`
	// DelegatedAdmins may call ListAccounts like the management account.
	DelegatedAdmins []string `json:"delegated_admins,omitempty"`
}

var accountStatuses = map[string]bool{"ACTIVE": true, "SUSPENDED": true, "PENDING_CLOSURE": true}

// buildAccounts checks the seed's accounts and returns them.
func buildAccounts(in []SeedAccount, now time.Time) ([]*Account, error) {
	out := make([]*Account, 0, len(in))
	seen := map[string]int{}
	for i, a := range in {
		acct, err := buildAccount(a, now)
		if err != nil {
			return nil, fmt.Errorf("accounts[%d]: %w", i, err)
		}
		if j, dup := seen[a.ID]; dup {
			return nil, fmt.Errorf("accounts[%d]: id %s is already accounts[%d]", i, a.ID, j)
		}
		seen[a.ID] = i
		out = append(out, acct)
	}
	return out, nil
}

func buildAccount(in SeedAccount, now time.Time) (*Account, error) {
	if !seedIsAccount(in.ID) {
		return nil, fmt.Errorf("id %q is not a 12-digit account id", truncateForMsg(in.ID))
	}
	a := &Account{ID: in.ID, Name: in.Name, Email: in.Email, Status: in.Status, Joined: now.Truncate(time.Millisecond),
		RefuseAssumeRole: in.RefuseAssumeRole, ExternalID: in.ExternalID}
	if a.Name == "" {
		a.Name = "account-" + in.ID
	}
	if len(a.Name) > 50 {
		return nil, fmt.Errorf("name is %d characters long: an account name has at most 50", len(a.Name))
	}
	if a.Email == "" {
		a.Email = in.ID + "@example.com"
	}
	if at := strings.IndexByte(a.Email, '@'); at <= 0 || at == len(a.Email)-1 || len(a.Email) > 64 {
		return nil, fmt.Errorf("email %q is not an email address (at most 64 characters)", truncateForMsg(a.Email))
	}
	if a.Status == "" {
		a.Status = "ACTIVE"
	}
	if !accountStatuses[a.Status] {
		return nil, fmt.Errorf("status %q is not ACTIVE, SUSPENDED or PENDING_CLOSURE", truncateForMsg(a.Status))
	}
	if in.Joined != "" {
		t, err := parseSeedTime("joined", in.Joined)
		if err != nil {
			return nil, err
		}
		a.Joined = t
	}
	if in.Regions != nil {
		if len(in.Regions) == 0 {
			return nil, errors.New(`regions is empty: list the enabled regions, or leave "regions" out for the default list`)
		}
		seen := map[string]bool{}
		for j, r := range in.Regions {
			if !seedIsRegion(r) {
				return nil, fmt.Errorf("regions[%d] %q is not a region name such as us-east-1", j, truncateForMsg(r))
			}
			if seen[r] {
				return nil, fmt.Errorf("regions[%d] %s appears twice", j, r)
			}
			seen[r] = true
		}
		a.Regions = append([]string(nil), in.Regions...)
		sort.Strings(a.Regions)
	}
	var err error
	if a.DenyActions, err = seedDenyActions(in.DenyActions); err != nil {
		return nil, err
	}
	if in.ExternalID != "" && !validSTSName(in.ExternalID, 2, 1224, ":/") {
		return nil, fmt.Errorf("external_id %q must be 2-1224 characters of letters, digits and _+=,.@:/-", truncateForMsg(in.ExternalID))
	}
	return a, nil
}

// buildOrganization checks the seed's organization against its accounts.
func buildOrganization(in *SeedOrganization, accounts []*Account) (*Organization, error) {
	if in == nil {
		return nil, nil
	}
	if in.ManagementAccount == "" {
		return nil, errors.New(`organization: management_account is missing: give the 12-digit id of the management account`)
	}
	if !seedIsAccount(in.ManagementAccount) {
		return nil, fmt.Errorf("organization: management_account %q is not a 12-digit account id", truncateForMsg(in.ManagementAccount))
	}
	o := &Organization{ID: in.ID, ManagementAccount: in.ManagementAccount}
	if o.ID == "" {
		o.ID = "o-" + strings.ToLower(uniqueID("", in.ManagementAccount))[:10]
	}
	if !validOrgID(o.ID) {
		return nil, fmt.Errorf("organization: id %q is not o- and 10 to 32 lowercase letters or digits", truncateForMsg(o.ID))
	}
	members := map[string]bool{in.ManagementAccount: true}
	for _, a := range accounts {
		members[a.ID] = true
	}
	for j, d := range in.DelegatedAdmins {
		if !members[d] {
			return nil, fmt.Errorf("organization: delegated_admins[%d] %q is not one of the seed's accounts", j, truncateForMsg(d))
		}
		if d == in.ManagementAccount {
			return nil, fmt.Errorf("organization: delegated_admins[%d] is the management account, which needs no delegation", j)
		}
	}
	o.DelegatedAdmins = append([]string(nil), in.DelegatedAdmins...)
	return o, nil
}

func validOrgID(id string) bool {
	rest, ok := strings.CutPrefix(id, "o-")
	if !ok || len(rest) < 10 || len(rest) > 32 {
		return false
	}
	for i := 0; i < len(rest); i++ {
		c := rest[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// applyAccounts stores checked accounts and the organization (replacing a
// previous organization, and accounts with the same id). Callers hold s.mu.
func (s *Server) applyAccounts(accounts []*Account, org *Organization, now time.Time) {
	if len(accounts) == 0 && org == nil {
		return
	}
	if s.st.Accounts == nil {
		s.st.Accounts = map[string]*Account{}
	}
	for _, a := range accounts {
		s.st.Accounts[a.ID] = a
	}
	if org != nil {
		if _, ok := s.st.Accounts[org.ManagementAccount]; !ok {
			a, _ := buildAccount(SeedAccount{ID: org.ManagementAccount, Name: "management"}, now)
			s.st.Accounts[a.ID] = a
		}
		s.st.Organization = org
	}
	s.changed()
}

// orgAccounts lists the organization's accounts by id.
func (s *Server) orgAccounts() []*Account {
	out := make([]*Account, 0, len(s.st.Accounts))
	for _, a := range s.st.Accounts {
		out = append(out, a)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}
