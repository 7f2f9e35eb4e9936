package main

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/imagebuilder"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/amiwatermark/packer-plugin-amiwatermark/internal/awsconfig"
)

// session holds the AWS configuration of one invocation: the SDK's usual
// chain for credentials, region and endpoints (AWS_ENDPOINT_URL_*), every
// call bounded by AMIWATERMARK_REQUEST_TIMEOUT and retried as the
// post-processor's are; and one configuration per account the AMIs live in.
type session struct {
	ac    *awsconfig.AccessConfig
	cfg   aws.Config
	clock *awsconfig.Clock

	mu       sync.Mutex
	accounts map[string]aws.Config
}

func newSession(ctx context.Context, c *config) (*session, error) {
	ac := &awsconfig.AccessConfig{RequestTimeout: c.RequestTimeout}
	ac.NameTimeoutSetting(envRequestTimeout)
	cfg, err := ac.Config(ctx)
	if err != nil {
		return nil, err
	}
	clock := &awsconfig.Clock{}
	cfg = awsconfig.WithClock(recordCredentials(cfg), clock)
	return &session{ac: ac, cfg: cfg, clock: clock, accounts: map[string]aws.Config{}}, nil
}

// imageBuilder is an Image Builder client in region.
func (s *session) imageBuilder(region string) *imagebuilder.Client {
	return imagebuilder.NewFromConfig(s.cfg, func(o *imagebuilder.Options) { o.Region = region })
}

// ec2Clients returns the engine's clients acting as account: the
// function's own credentials for its account, the assumed role elsewhere
// (account must have been prepared with assume).
func (s *session) ec2Clients(account string) func(region string) (*ec2.Client, error) {
	s.mu.Lock()
	cfg, ok := s.accounts[account]
	s.mu.Unlock()
	if !ok {
		cfg = s.cfg
	}
	return func(region string) (*ec2.Client, error) { return s.ac.NewEC2Client(cfg, region) }
}

// assume takes roleName in account (sts:AssumeRole, in region) and keeps
// its credentials for the account's clients. The error says what to check.
func (s *session) assume(ctx context.Context, partition, account, region, roleName string) error {
	arn := fmt.Sprintf("arn:%s:iam::%s:role/%s", partition, account, strings.TrimPrefix(roleName, "/"))
	stsc := sts.NewFromConfig(s.cfg, func(o *sts.Options) { o.Region = region })
	provider := stscreds.NewAssumeRoleProvider(stsc, arn, func(o *stscreds.AssumeRoleOptions) {
		o.RoleSessionName = "amiwatermark-imagebuilder"
	})
	cfg := s.cfg.Copy()
	cfg.Credentials = awsconfig.RegisterCredentials(provider)
	if _, err := cfg.Credentials.Retrieve(ctx); err != nil {
		return fmt.Errorf("assuming %s (%s) failed: %s; check that the role exists in account %s, trusts the function's role, and allows what docs/imagebuilder.md lists", arn, envRoleName, oneLine(err), account)
	}
	s.mu.Lock()
	s.accounts[account] = cfg
	s.mu.Unlock()
	return nil
}

// oneLine shortens an SDK error for one line.
func oneLine(err error) string { return strings.Join(strings.Fields(err.Error()), " ") }
