package orgscan

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
)

// ErrNoRegion: the plan names no region and the configuration has none.
var ErrNoRegion = errors.New("no region")

// Regions returns the regions to scan in account: the plan's, every region
// enabled for the account (AllRegions, DescribeRegions), or the configured
// region.
func (e *Env) Regions(ctx context.Context, account string) ([]string, error) {
	switch {
	case len(e.plan.Regions) > 0:
		return e.plan.Regions, nil
	case !e.plan.AllRegions:
		if e.base.Region == "" {
			return nil, ErrNoRegion
		}
		return []string{e.base.Region}, nil
	}
	cfg, err := e.Config(ctx, account)
	if err != nil {
		return nil, err
	}
	c, err := e.EC2(cfg, account, e.home)
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
		if aws.ToString(r.OptInStatus) == "not-opted-in" {
			continue
		}
		if n := aws.ToString(r.RegionName); n != "" {
			regions = append(regions, n)
		}
	}
	slices.Sort(regions)
	if len(regions) == 0 {
		return nil, fmt.Errorf("DescribeRegions returned no enabled region for account %s", account)
	}
	return regions, nil
}
