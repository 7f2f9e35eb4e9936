package orgscan

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	orgtypes "github.com/aws/aws-sdk-go-v2/service/organizations/types"

	"github.com/amiwatermark/packer-plugin-amiwatermark/internal/awsconfig"
)

// Accounts lists the accounts of the run: the plan's, the organization's
// ACTIVE accounts, or the caller's; with a shard, the shard's part of
// them in ascending order.
func (e *Env) Accounts(ctx context.Context) ([]string, error) {
	var list []string
	switch {
	case e.plan.Org:
		a := e.organization(ctx)
		if a.err != nil {
			return nil, a.err
		}
		list = a.accounts
	case len(e.plan.Accounts) > 0:
		list = e.plan.Accounts
	default:
		list = []string{e.caller.Account}
	}
	if e.plan.Shard.N > 0 {
		list = e.plan.Shard.Of(list)
	}
	return list, nil
}

// organization is the answer of ListAccounts: the one New asked for, or
// asked now (an Env made by NewWithConfig).
func (e *Env) organization(ctx context.Context) orgAnswer {
	e.orgOnce.Do(func() {
		if e.orgList != nil {
			e.orgFinal = <-e.orgList
			return
		}
		e.orgFinal.accounts, e.orgFinal.err = e.orgAccounts(ctx, globalRegion(e.caller.Partition))
	})
	return e.orgFinal
}

// orgAccounts pages through Organizations ListAccounts in region.
func (e *Env) orgAccounts(ctx context.Context, region string) ([]string, error) {
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
	}
	slices.Sort(out)
	if len(out) == 0 {
		return nil, errors.New("Organizations ListAccounts returned no ACTIVE account")
	}
	return out, nil
}

func accountActive(a orgtypes.Account) bool {
	if a.State != "" {
		return a.State == orgtypes.AccountStateActive
	}
	return a.Status == orgtypes.AccountStatusActive
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
