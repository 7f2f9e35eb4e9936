package main

import (
	"context"
	"maps"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"

	"github.com/amiwatermark/packer-plugin-amiwatermark/internal/awsconfig"
	"github.com/amiwatermark/packer-plugin-amiwatermark/internal/orgscan"
	rpt "github.com/amiwatermark/packer-plugin-amiwatermark/internal/report"
	"github.com/amiwatermark/packer-plugin-amiwatermark/internal/watermark"
)

// An organization-wide simulate reads a region's public images once per
// run instead of once per account: every account of a region sees the
// same public images. Each scope reads only what differs, its own images
// (Owner=self) and the images shared with it (ExecutableBy=self); the
// region's public images (ExecutableBy=all) are read and evaluated once,
// and each scope takes its share: every public image it did not read
// itself, with the verdict of the criteria, but exempt when its owner is
// the scope's account (own images are never restricted). A public image
// of an account is in that account's own read, so it is exempt there only.
//
// The verdict of the criteria depends on the account only through that
// exemption (watermark.Criteria.Evaluate), so one evaluation serves every
// account. The region keeps its blocked public images as rows, the count of
// the others by owner, and nothing else: memory follows the blocked public
// images of the regions in progress, not the number of accounts.

// ownAndShared are the reads of a scope when the public images are read
// once per region.
var ownAndShared = []*ec2.DescribeImagesInput{
	{Owners: []string{"self"}, IncludeDeprecated: aws.Bool(true), MaxResults: aws.Int32(1000)},
	{ExecutableUsers: []string{"self"}, IncludeDeprecated: aws.Bool(true), MaxResults: aws.Int32(1000)},
}

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

// notePublic records a public image of the scope's own reads: the
// region's read has it too, and the scope counts it once.
func (s *scopeOut) notePublic(img watermark.Image) {
	if s.publicSeen == nil {
		s.publicSeen = map[string]string{}
	}
	s.publicSeen[img.ID] = img.OwnerID
}

// finishWithPublic adds the region's public images to a scope's own
// reads: the images it did not read itself, own ones (owner account)
// exempt. Its rows are its own, then the public blocked ones.
func finishWithPublic(s *scopeOut, pub *publicImages, account string) *scopeOut {
	c := maps.Clone(s.counts)
	images, allowed, own := pub.total, pub.allowed, pub.allowedBy[account]
	for id, owner := range s.publicSeen {
		images--
		if _, blocked := pub.blockedAt[id]; !blocked {
			allowed--
			if owner == account {
				own--
			}
		}
	}
	var exempt int
	for _, r := range pub.blocked {
		if _, seen := s.publicSeen[r.ImageID]; !seen && r.OwnerID == account {
			exempt++
		}
	}
	blocked := images - allowed - exempt
	c["images"] += images
	c["allowed"] += allowed + exempt
	c["own"] += own + exempt
	c["blocked"] += blocked
	rows := func(yield func(rpt.Row) error) error {
		if err := rpt.RowSlice(s.own)(yield); err != nil {
			return err
		}
		for _, r := range pub.blocked {
			if _, seen := s.publicSeen[r.ImageID]; seen || r.OwnerID == account {
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
