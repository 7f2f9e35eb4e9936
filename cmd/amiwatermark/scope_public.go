package main

import (
	"context"
	"maps"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/amiwatermark/packer-plugin-amiwatermark/internal/awsconfig"
	"github.com/amiwatermark/packer-plugin-amiwatermark/internal/orgscan"
	rpt "github.com/amiwatermark/packer-plugin-amiwatermark/internal/report"
	"github.com/amiwatermark/packer-plugin-amiwatermark/internal/watermark"
)

// An organization-wide simulate reads a region's public images once per
// run instead of once per account: every account of a region sees the
// same public images. Each scope reads only what differs, in one read: the
// images it can see that are not public (filter is-public=false: its own
// private images, and the images shared with it, by account, organization
// or organizational unit). The region's public images (ExecutableBy=all)
// are read and evaluated once, and each scope takes them all with the
// verdict of the criteria, but exempt when their owner is the scope's
// account (own images are never restricted): a public image of a member
// is exempt in that member only.
//
// The verdict of the criteria depends on the account only through that
// exemption (watermark.Criteria.Evaluate), so one evaluation serves every
// account. The region keeps its blocked public images as rows, the count of
// the others by owner, and nothing else: memory follows the blocked public
// images of the regions in progress, not the number of accounts.

// notPublic is the read of a scope when the public images are read once
// per region.
var notPublic = []*ec2.DescribeImagesInput{{
	Filters:           []types.Filter{{Name: aws.String("is-public"), Values: []string{"false"}}},
	IncludeDeprecated: aws.Bool(true), MaxResults: aws.Int32(1000),
}}

// publicImages is the one read of a region's public images.
type publicImages struct {
	total int
	// blocked are the images the criteria do not allow (for an account
	// that does not own them), in the order read; blockedAt indexes them.
	blocked   []rpt.Row
	blockedAt map[string]int
	// allowedBy counts the allowed ones by owner id.
	allowedBy map[string]int
	allowed   int
}

// readPublic reads and evaluates the region's public images with sc's
// client, page by page.
func readPublic(ctx context.Context, sc *orgscan.Scope, o *simulateOptions) (*publicImages, error) {
	pub := &publicImages{blockedAt: map[string]int{}, allowedBy: map[string]int{}}
	p := ec2.NewDescribeImagesPaginator(sc.EC2, &ec2.DescribeImagesInput{
		ExecutableUsers: []string{"all"}, IncludeDeprecated: aws.Bool(true), MaxResults: aws.Int32(1000)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, describeErr(sc.Region, err)
		}
		sc.Progress.Images.Add(int64(len(page.Images)))
		for i := range page.Images {
			pub.add(o, awsconfig.Image(&page.Images[i], sc.Region))
		}
	}
	return pub, nil
}

// add evaluates one public image for an account that does not own it.
func (pub *publicImages) add(o *simulateOptions, img watermark.Image) {
	if _, dup := pub.blockedAt[img.ID]; dup {
		return // pages never overlap on EC2; be safe anyway
	}
	pub.total++
	v := o.criteria.Evaluate(img, "", o.at)
	if v.Allowed {
		pub.allowed++
		pub.allowedBy[img.OwnerID]++
		return
	}
	pub.blockedAt[img.ID] = len(pub.blocked)
	pub.blocked = append(pub.blocked, rpt.Row{Kind: "image", ImageID: img.ID, OwnerID: img.OwnerID,
		OwnerAlias: img.OwnerAlias, Name: img.Name, Status: "blocked", Blocked: true, Reason: v.Reason})
}

// finishWithPublic adds the region's public images to a scope's own
// read, those of the scope's account exempt. Its rows are its own, then
// the public blocked ones.
func finishWithPublic(s *scopeOut, pub *publicImages, account string) *scopeOut {
	c := maps.Clone(s.counts)
	var exempt int
	for _, r := range pub.blocked {
		if r.OwnerID == account {
			exempt++
		}
	}
	own := pub.allowedBy[account] + exempt
	c["images"] += pub.total
	c["allowed"] += pub.allowed + exempt
	c["own"] += own
	c["blocked"] += pub.total - pub.allowed - exempt
	rows := func(yield func(rpt.Row) error) error {
		if err := rpt.RowSlice(s.own)(yield); err != nil {
			return err
		}
		for _, r := range pub.blocked {
			if r.OwnerID == account {
				continue
			}
			if err := yield(r); err != nil {
				return err
			}
		}
		return nil
	}
	return &scopeOut{counts: c, rows: rows}
}
