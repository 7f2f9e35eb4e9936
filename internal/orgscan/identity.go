package orgscan

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/amiwatermark/packer-plugin-amiwatermark/internal/awsconfig"
	"github.com/amiwatermark/packer-plugin-amiwatermark/internal/watermark"
)

// Identity is the caller as STS sees it.
type Identity struct {
	Account   string
	ARN       string
	Partition string
}

// Env is what the fan-out needs from AWS: the caller's configuration and
// identity, and per account its credentials (assumed once) and clients.
type Env struct {
	ac       *awsconfig.AccessConfig
	base     aws.Config
	home     string // region of STS, Organizations and DescribeRegions calls
	caller   Identity
	plan     *Plan
	limiters *limiters
	creds    credCache
	// orgList is the answer of ListAccounts (Org), asked while STS is
	// asked who the caller is.
	orgList  chan orgAnswer
	orgOnce  sync.Once
	orgFinal orgAnswer
}

type orgAnswer struct {
	accounts []string
	err      error
}

// New loads the caller's configuration and asks STS who the caller is.
// STS and Organizations clients honour AWS_ENDPOINT_URL_STS,
// AWS_ENDPOINT_URL_ORGANIZATIONS and AWS_ENDPOINT_URL as the SDK resolves
// them. Every credential the run holds (the caller's, each role's, every
// renewal) is in internal/awsconfig's redaction registry before it is
// used.
func New(ctx context.Context, ac *awsconfig.AccessConfig, p *Plan) (*Env, error) {
	cfg, err := ac.Config(ctx)
	if err != nil {
		return nil, err
	}
	e := NewWithConfig(ac, cfg, p)
	if p.Org {
		// ListAccounts does not depend on the caller's identity: ask both
		// at once (the partition follows from the configured region).
		e.orgList = make(chan orgAnswer, 1)
		go func() {
			accts, err := e.orgAccounts(ctx, globalRegion(partitionOfRegion(e.home)))
			e.orgList <- orgAnswer{accts, err}
		}()
	}
	out, err := sts.NewFromConfig(cfg, func(o *sts.Options) { o.Region = e.home }).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		return nil, fmt.Errorf("asking STS who the caller is (GetCallerIdentity in %s): %s; check the credentials (AWS_PROFILE, AWS_ACCESS_KEY_ID...) and AWS_ENDPOINT_URL_STS", e.home, errorText(err))
	}
	id := Identity{Account: aws.ToString(out.Account), ARN: aws.ToString(out.Arn)}
	if id.Partition, err = partitionOf(id.ARN); err != nil {
		return nil, fmt.Errorf("STS GetCallerIdentity: the caller's ARN %v: cannot tell the partition", err)
	}
	if !watermark.IsAccountID(id.Account) {
		return nil, fmt.Errorf("STS GetCallerIdentity answered account %q, not a 12-digit id", id.Account)
	}
	e.caller = id
	return e, nil
}

// NewWithConfig makes an Env from a loaded configuration; its caller is
// unknown until SetCaller (New asks STS).
func NewWithConfig(ac *awsconfig.AccessConfig, cfg aws.Config, p *Plan) *Env {
	home := cfg.Region
	if home == "" && len(p.Regions) > 0 {
		home = p.Regions[0]
	}
	if home == "" {
		home = "us-east-1"
	}
	if p.Concurrency <= 0 {
		p.Concurrency = DefaultConcurrency
	}
	return &Env{ac: ac, base: cfg, home: home, plan: p, limiters: newLimiters(), creds: credCache{m: map[string]*acctCreds{}}}
}

// SetCaller sets the caller's identity (what New asks STS).
func (e *Env) SetCaller(id Identity) { e.caller = id }

// Caller is the caller's identity.
func (e *Env) Caller() Identity { return e.caller }

// Base is the caller's configuration.
func (e *Env) Base() aws.Config { return e.base }

// Plan is the run's plan.
func (e *Env) Plan() *Plan { return e.plan }

// partitionOf returns the partition of an ARN (arn:PARTITION:...).
func partitionOf(arn string) (string, error) {
	parts := strings.SplitN(arn, ":", 3)
	if len(parts) < 3 || parts[0] != "arn" || parts[1] == "" {
		return "", fmt.Errorf("%q is not an ARN", arn)
	}
	return parts[1], nil
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

// globalRegion is the region of the partition's global endpoints
// (Organizations).
func globalRegion(partition string) string {
	switch partition {
	case "aws-us-gov":
		return "us-gov-west-1"
	case "aws-cn":
		return "cn-northwest-1"
	}
	return "us-east-1"
}

// errorText shortens an AWS SDK error for one output line.
func errorText(err error) string {
	return strings.Join(strings.Fields(err.Error()), " ")
}
