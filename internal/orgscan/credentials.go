package orgscan

import (
	"context"
	"fmt"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/amiwatermark/packer-plugin-amiwatermark/internal/awsconfig"
)

// credCache holds each account's credentials, or the refusal.
type credCache struct {
	mu sync.Mutex
	m  map[string]*acctCreds
}

type acctCreds struct {
	ready chan struct{}
	cfg   aws.Config
	err   error
}

// RoleARN is the role assumed in account.
func (e *Env) RoleARN(account string) string {
	return "arn:" + e.caller.Partition + ":iam::" + account + ":role/" + e.plan.RoleName
}

// Config returns the configuration acting in account: the caller's own, or
// the assumed role's. AssumeRole runs once per account; its failure is
// remembered, so every scope of the account reports it without asking
// again (an interruption is not remembered).
func (e *Env) Config(ctx context.Context, account string) (aws.Config, error) {
	if account == e.caller.Account {
		return e.base, nil
	}
	e.creds.mu.Lock()
	c, ok := e.creds.m[account]
	if !ok {
		c = &acctCreds{ready: make(chan struct{})}
		e.creds.m[account] = c
		e.creds.mu.Unlock()
		c.cfg, c.err = e.assume(ctx, account)
		if c.err != nil && ctx.Err() != nil {
			e.creds.mu.Lock()
			delete(e.creds.m, account)
			e.creds.mu.Unlock()
		}
		close(c.ready)
		return c.cfg, c.err
	}
	e.creds.mu.Unlock()
	select {
	case <-c.ready:
		return c.cfg, c.err
	case <-ctx.Done():
		return aws.Config{}, ctx.Err()
	}
}

func (e *Env) assume(ctx context.Context, account string) (aws.Config, error) {
	arn := e.RoleARN(account)
	stsc := sts.NewFromConfig(e.base, func(o *sts.Options) {
		o.Region = e.home
		o.APIOptions = append(o.APIOptions, e.limiters.middleware(account, "sts"))
	})
	provider := stscreds.NewAssumeRoleProvider(stsc, arn, func(o *stscreds.AssumeRoleOptions) {
		o.RoleSessionName = "amiwatermark-" + e.caller.Account
		if e.plan.ExternalID != "" {
			o.ExternalID = aws.String(e.plan.ExternalID)
		}
	})
	// Every credential of the role, each renewal too, is registered for
	// redaction before it is used.
	cache := awsconfig.RegisterCredentials(provider)
	if _, err := cache.Retrieve(ctx); err != nil {
		if ctx.Err() != nil {
			return aws.Config{}, ctx.Err()
		}
		return aws.Config{}, fmt.Errorf("assuming %s: %s; check that the role exists in account %s, trusts the caller %s (and the --external-id), and allows what docs/cli.md lists", arn, errorText(err), account, e.caller.ARN)
	}
	cfg := e.base.Copy()
	cfg.Credentials = cache
	return cfg, nil
}

// EC2 returns an EC2 client acting in account and region with cfg, paced
// by the account-region's rate limiter.
func (e *Env) EC2(cfg aws.Config, account, region string) (*ec2.Client, error) {
	c, err := e.ac.NewEC2Client(cfg, region)
	if err != nil {
		return nil, err
	}
	mw := e.limiters.middleware(account, region)
	return ec2.New(c.Options(), func(o *ec2.Options) {
		o.APIOptions = append(o.APIOptions, mw)
	}), nil
}
