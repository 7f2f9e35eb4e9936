package ec2emu_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	orgtypes "github.com/aws/aws-sdk-go-v2/service/organizations/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/amiwatermark/packer-plugin-amiwatermark/internal/ec2emu"
	"github.com/amiwatermark/packer-plugin-amiwatermark/internal/ec2emu/emutest"
)

const (
	mgmtAcct     = "100000000000"
	adminAcct    = "100000000001"
	refusingAcct = "100000000002"
)

// orgSeed is an organization of n accounts (100000000000 up): the first is
// the management account, the second a delegated admin, the third refuses
// AssumeRole and is suspended, the fourth needs an external id and has two
// regions enabled.
func orgSeed(n int) *ec2emu.Seed {
	seed := &ec2emu.Seed{Organization: &ec2emu.SeedOrganization{ID: "o-abcdef1234", ManagementAccount: mgmtAcct, DelegatedAdmins: []string{adminAcct}}}
	for i := 0; i < n; i++ {
		a := ec2emu.SeedAccount{ID: fmt.Sprintf("1%011d", i), Name: fmt.Sprintf("acct-%02d", i), Joined: "2024-01-02T03:04:05Z"}
		switch i {
		case 2:
			a.RefuseAssumeRole, a.Status = true, "SUSPENDED"
		case 3:
			a.ExternalID, a.Regions = "ext-123", []string{"eu-west-1", "ap-east-1"}
		}
		seed.Accounts = append(seed.Accounts, a)
	}
	return seed
}

func listAll(t *testing.T, c *organizations.Client, max int32) ([]orgtypes.Account, int) {
	t.Helper()
	var out []orgtypes.Account
	pages := 0
	p := organizations.NewListAccountsPaginator(c, &organizations.ListAccountsInput{MaxResults: aws.Int32(max)})
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Accounts) > int(max) {
			t.Fatalf("a page of %d accounts, MaxResults %d", len(page.Accounts), max)
		}
		pages++
		out = append(out, page.Accounts...)
	}
	return out, pages
}

func TestOrganizationsListAccounts(t *testing.T) {
	srv := emutest.NewServer(t, emutest.Options{Seed: orgSeed(45)})
	ctx := context.Background()
	for _, max := range []int32{20, 7, 1} {
		got, pages := listAll(t, srv.Organizations("us-east-1", mgmtAcct), max)
		if len(got) != 45 || pages != (45+int(max)-1)/int(max) {
			t.Fatalf("MaxResults %d: %d accounts in %d pages, want 45", max, len(got), pages)
		}
		ids := map[string]bool{}
		for _, a := range got {
			ids[aws.ToString(a.Id)] = true
		}
		if len(ids) != 45 {
			t.Fatalf("MaxResults %d: %d distinct accounts", max, len(ids))
		}
	}
	got, _ := listAll(t, srv.Organizations("us-east-1", adminAcct), 20)
	if len(got) != 45 {
		t.Fatalf("the delegated admin lists %d accounts", len(got))
	}
	sort.Slice(got, func(i, j int) bool { return aws.ToString(got[i].Id) < aws.ToString(got[j].Id) })
	a := got[2]
	if aws.ToString(a.Name) != "acct-02" || aws.ToString(a.Email) != refusingAcct+"@example.com" || a.Status != orgtypes.AccountStatusSuspended ||
		a.State != orgtypes.AccountStateSuspended || aws.ToString(a.Arn) != "arn:aws:organizations::"+mgmtAcct+":account/o-abcdef1234/"+refusingAcct ||
		!aws.ToTime(a.JoinedTimestamp).Equal(time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)) {
		t.Errorf("account fields: %+v (joined %v)", a, aws.ToTime(a.JoinedTimestamp))
	}

	for _, who := range []string{"100000000009", "999999999999"} {
		_, err := srv.Organizations("us-east-1", who).ListAccounts(ctx, &organizations.ListAccountsInput{})
		wantAPIError(t, err, "AccessDeniedException", http.StatusBadRequest)
	}
	_, err := srv.Organizations("us-east-1", mgmtAcct).ListAccounts(ctx, &organizations.ListAccountsInput{NextToken: aws.String("bogus")})
	wantAPIError(t, err, "InvalidInputException", http.StatusBadRequest)
	_, err = srv.Organizations("us-east-1", mgmtAcct).ListAccounts(ctx, &organizations.ListAccountsInput{MaxResults: aws.Int32(21)})
	wantAPIError(t, err, "InvalidInputException", http.StatusBadRequest)
}

func TestOrganizationsDescribeOrganization(t *testing.T) {
	srv := emutest.NewServer(t, emutest.Options{Seed: orgSeed(5)})
	ctx := context.Background()
	out, err := srv.Organizations("us-east-1", "100000000004").DescribeOrganization(ctx, &organizations.DescribeOrganizationInput{})
	if err != nil {
		t.Fatal(err)
	}
	o := out.Organization
	if aws.ToString(o.Id) != "o-abcdef1234" || aws.ToString(o.MasterAccountId) != mgmtAcct || o.FeatureSet != orgtypes.OrganizationFeatureSetAll ||
		aws.ToString(o.MasterAccountEmail) != mgmtAcct+"@example.com" {
		t.Errorf("organization %+v", o)
	}
	_, err = srv.Organizations("us-east-1", "999999999999").DescribeOrganization(ctx, &organizations.DescribeOrganizationInput{})
	wantAPIError(t, err, "AWSOrganizationsNotInUseException", http.StatusBadRequest)
}

func TestOrganizationsNotInUse(t *testing.T) {
	srv := emutest.NewServer(t, emutest.Options{Seed: &ec2emu.Seed{Accounts: []ec2emu.SeedAccount{{ID: mgmtAcct}}}})
	_, err := srv.Organizations("us-east-1", mgmtAcct).ListAccounts(context.Background(), &organizations.ListAccountsInput{})
	wantAPIError(t, err, "AWSOrganizationsNotInUseException", http.StatusBadRequest)
}

// TestAssumeRoleIsolation: an account marked refuse_assume_role refuses,
// one with external_id needs it, the others let the caller in, and the
// role's credentials then act as that account (ListAccounts as the
// management account's role works).
func TestAssumeRoleIsolation(t *testing.T) {
	srv := emutest.NewServer(t, emutest.Options{Seed: orgSeed(5)})
	ctx := context.Background()
	c := srv.STS("us-east-1", "555555555555")
	role := func(acct string) *string { return aws.String("arn:aws:iam::" + acct + ":role/AmiWatermarkReader") }

	_, err := c.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: role(refusingAcct), RoleSessionName: aws.String("scan")})
	ae := wantAPIError(t, err, "AccessDenied", http.StatusForbidden)
	if want := "User: arn:aws:iam::555555555555:user/ec2emu is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::" + refusingAcct + ":role/AmiWatermarkReader"; ae.ErrorMessage() != want {
		t.Errorf("message %q", ae.ErrorMessage())
	}
	_, err = c.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: role("100000000003"), RoleSessionName: aws.String("scan")})
	wantAPIError(t, err, "AccessDenied", http.StatusForbidden)
	_, err = c.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: role("100000000003"), RoleSessionName: aws.String("scan"), ExternalId: aws.String("ext-123")})
	if err != nil {
		t.Fatalf("with the external id: %v", err)
	}

	creds := aws.NewCredentialsCache(stscreds.NewAssumeRoleProvider(c, aws.ToString(role(mgmtAcct))))
	got, _ := listAll(t, emutest.OrganizationsClient(srv.URL, "us-east-1", creds), 20)
	if len(got) != 5 {
		t.Fatalf("the management account's role lists %d accounts", len(got))
	}
}

func regionNames(t *testing.T, c *ec2.Client, in *ec2.DescribeRegionsInput) []string {
	t.Helper()
	out, err := c.DescribeRegions(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, r := range out.Regions {
		names = append(names, aws.ToString(r.RegionName)+"="+aws.ToString(r.OptInStatus))
	}
	return names
}

func TestDescribeRegionsPerAccount(t *testing.T) {
	srv := emutest.NewServer(t, emutest.Options{Seed: orgSeed(5)})
	seeded := srv.EC2("us-east-1", "100000000003")
	if got := strings.Join(regionNames(t, seeded, &ec2.DescribeRegionsInput{}), " "); got != "ap-east-1=opted-in eu-west-1=opt-in-not-required" {
		t.Errorf("seeded account's regions: %s", got)
	}
	all := regionNames(t, seeded, &ec2.DescribeRegionsInput{AllRegions: aws.Bool(true)})
	if len(all) != 29 || !strings.Contains(strings.Join(all, " "), "us-east-1=not-opted-in") {
		t.Errorf("AllRegions: %d regions %v", len(all), all)
	}
	got := regionNames(t, seeded, &ec2.DescribeRegionsInput{AllRegions: aws.Bool(true),
		Filters: []ec2types.Filter{{Name: aws.String("opt-in-status"), Values: []string{"opted-in", "opt-in-not-required"}}}})
	if len(got) != 2 {
		t.Errorf("opt-in-status filter: %v", got)
	}
	got = regionNames(t, seeded, &ec2.DescribeRegionsInput{Filters: []ec2types.Filter{{Name: aws.String("region-name"), Values: []string{"eu-*"}}}})
	if strings.Join(got, " ") != "eu-west-1=opt-in-not-required" {
		t.Errorf("region-name filter: %v", got)
	}
	def := regionNames(t, srv.EC2("us-east-1", "100000000004"), &ec2.DescribeRegionsInput{})
	if len(def) != 17 || def[0] != "ap-northeast-1=opt-in-not-required" {
		t.Errorf("default list: %d %v", len(def), def)
	}
}

func TestSeedAccountsValidation(t *testing.T) {
	for _, tc := range []struct {
		name, seed, want string
	}{
		{"bad id", `{"accounts":[{"id":"12"}]}`, `accounts[0]: id "12" is not a 12-digit account id`},
		{"dup id", `{"accounts":[{"id":"111122223333"},{"id":"111122223333"}]}`, `accounts[1]: id 111122223333 is already accounts[0]`},
		{"status", `{"accounts":[{"id":"111122223333","status":"CLOSED"}]}`, `status "CLOSED" is not ACTIVE, SUSPENDED or PENDING_CLOSURE`},
		{"region", `{"accounts":[{"id":"111122223333","regions":["mars-1"]}]}`, `regions[0] "mars-1" is not a region name`},
		{"empty regions", `{"accounts":[{"id":"111122223333","regions":[]}]}`, `regions is empty`},
		{"joined", `{"accounts":[{"id":"111122223333","joined":"yesterday"}]}`, `joined "yesterday" is not a time`},
		{"no mgmt", `{"organization":{}}`, `management_account is missing`},
		{"org id", `{"organization":{"id":"org-1","management_account":"111122223333"}}`, `id "org-1" is not o- and 10 to 32`},
		{"admin not member", `{"organization":{"management_account":"111122223333","delegated_admins":["444455556666"]}}`, `delegated_admins[0] "444455556666" is not one of the seed's accounts`},
		{"unknown field", `{"acounts":[]}`, `acounts`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			seed, err := ec2emu.ParseSeed([]byte(tc.seed))
			if err == nil {
				err = ec2emu.New(ec2emu.Options{}).ApplySeed(seed)
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want it to contain %q", err, tc.want)
			}
		})
	}
}

// TestSeedAllOrNothing: a seed whose organization is bad adds no image, and
// one whose images are bad adds no account.
func TestSeedAllOrNothing(t *testing.T) {
	s := ec2emu.New(ec2emu.Options{})
	bad := ec2emu.Seed{Images: []ec2emu.SeedImage{{Region: "us-east-1", Name: "a"}},
		Organization: &ec2emu.SeedOrganization{ManagementAccount: "x"}}
	if err := s.ApplySeed(bad); err == nil || s.ImageCount() != 0 {
		t.Fatalf("bad organization: err %v, %d images", err, s.ImageCount())
	}
	bad = ec2emu.Seed{Images: []ec2emu.SeedImage{{Region: "nowhere", Name: "a"}}, Organization: &ec2emu.SeedOrganization{ManagementAccount: mgmtAcct}}
	if err := s.ApplySeed(bad); err == nil {
		t.Fatal("bad image accepted")
	}
	ts := httptest.NewServer(s)
	defer ts.Close()
	_, err := emutest.OrganizationsClient(ts.URL, "us-east-1", emutest.Credentials(mgmtAcct)).ListAccounts(context.Background(), &organizations.ListAccountsInput{})
	wantAPIError(t, err, "AWSOrganizationsNotInUseException", http.StatusBadRequest)
}

// TestSeedAccountsPersist: accounts, the organization and sessions are part
// of the saved state.
func TestSeedAccountsPersist(t *testing.T) {
	s := ec2emu.New(ec2emu.Options{})
	if err := s.ApplySeed(*orgSeed(3)); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "state.json")
	if err := s.SaveState(path); err != nil {
		t.Fatal(err)
	}
	srv := emutest.NewServer(t, emutest.Options{})
	if err := srv.Emulator.LoadState(path); err != nil {
		t.Fatal(err)
	}
	got, _ := listAll(t, srv.Organizations("us-east-1", mgmtAcct), 20)
	if len(got) != 3 {
		t.Fatalf("after a restart: %d accounts", len(got))
	}
}

// An opt-in region a seeded account has not enabled refuses its calls
// (AuthFailure, HTTP 401); commercial regions and unseeded accounts are
// never refused.
func TestOptInRegionNotEnabledIsRefused(t *testing.T) {
	const enabled, notEnabled, unseeded = "100000000001", "100000000002", "100000000003"
	ts := emutest.NewServer(t, emutest.Options{Seed: &ec2emu.Seed{Accounts: []ec2emu.SeedAccount{
		{ID: enabled, Regions: []string{"us-east-1", "af-south-1"}},
		{ID: notEnabled, Regions: []string{"us-east-1"}},
	}}})
	ctx := context.Background()
	for _, c := range []struct {
		account, region string
		refused         bool
	}{
		{enabled, "af-south-1", false},
		{notEnabled, "af-south-1", true},
		{notEnabled, "eu-west-1", false},
		{unseeded, "af-south-1", false},
	} {
		_, err := ts.EC2(c.region, c.account).DescribeImages(ctx, &ec2.DescribeImagesInput{Owners: []string{"self"}})
		var re *awshttp.ResponseError
		refused := errors.As(err, &re) && re.HTTPStatusCode() == 401 && strings.Contains(err.Error(), "AuthFailure")
		if refused != c.refused || err != nil && !refused {
			t.Errorf("%s in %s: %v (refused %v, want %v)", c.account, c.region, err, refused, c.refused)
		}
	}
}

// TestLatencyModelOtherServices: the latency model applies to every
// service; a ListAccounts page counts its accounts as items, STS calls
// return none. The throttle model leaves them alone.
func TestLatencyModelOtherServices(t *testing.T) {
	srv := emutest.NewServer(t, emutest.Options{Seed: orgSeed(25)})
	if err := srv.Emulator.SetConfig(ec2emu.RuntimeConfig{Throttle: ec2emu.ThrottleEC2,
		LatencyModel: ec2emu.LatencyModel{Base: 100 * time.Millisecond, PerItem: 5 * time.Millisecond}}); err != nil {
		t.Fatal(err)
	}
	org := srv.Organizations("us-east-1", mgmtAcct)
	stsc := srv.STS("us-east-1", mgmtAcct)
	ctx := context.Background()
	for _, c := range []struct {
		what string
		call func() error
		want time.Duration
	}{
		{"ListAccounts of 20", func() error {
			_, err := org.ListAccounts(ctx, &organizations.ListAccountsInput{MaxResults: aws.Int32(20)})
			return err
		}, 100*time.Millisecond + 20*5*time.Millisecond},
		{"GetCallerIdentity", func() error { _, err := stsc.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}); return err }, 100 * time.Millisecond},
	} {
		d := time.Duration(1<<63 - 1)
		for range 3 { // the shortest of 3 tries: a stall of the machine does not count
			start := time.Now()
			if err := c.call(); err != nil {
				t.Fatalf("%s: %v", c.what, err)
			}
			d = min(d, time.Since(start))
		}
		if d < c.want || d > c.want+80*time.Millisecond {
			t.Errorf("%s took %s, want %s to +80ms", c.what, d, c.want)
		}
	}
	// 150 STS calls in a row (latency off): no bucket (EC2 only).
	if err := srv.Emulator.SetConfig(ec2emu.RuntimeConfig{Throttle: ec2emu.ThrottleEC2}); err != nil {
		t.Fatal(err)
	}
	for i := range 150 {
		if _, err := stsc.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}); err != nil {
			t.Fatalf("call %d: %v", i, err)
		}
	}
}
