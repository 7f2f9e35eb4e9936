package ec2emu_test

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/amiwatermark/packer-plugin-amiwatermark/internal/ec2emu"
	"github.com/amiwatermark/packer-plugin-amiwatermark/internal/ec2emu/emutest"
)

// TestConcurrentDescribesSeeChanges: DescribeImages calls that change
// nothing run in parallel (under the shared lock) while other calls share
// images, attach watermarks (to the images shared with an account, not
// made public: a watermarked AMI cannot be public) and register images. Every answer is a
// consistent state (run with -race, as `make test` does), and once the
// changes are done every account sees exactly what it may see: its own
// images and those shared with it or public, whatever it saw before.
func TestConcurrentDescribesSeeChanges(t *testing.T) {
	const owner, other, third = "111122223333", "444455556666", "777788889999"
	ts := emutest.NewServer(t, emutest.Options{})
	var seed []ec2emu.SeedImage
	for _, acct := range []string{owner, other, third} {
		for i := 0; i < 60; i++ {
			seed = append(seed, ec2emu.SeedImage{Region: "us-east-1", Account: acct, Name: fmt.Sprintf("%s-%d", acct, i)})
		}
	}
	ids := ts.SeedImages(t, seed...)
	ownerIDs := ids[:60]
	ctx := context.Background()
	co, cother := ts.EC2("us-east-1", owner), ts.EC2("us-east-1", other)

	all := func(c *ec2.Client) []string {
		var out []string
		p := ec2.NewDescribeImagesPaginator(c, &ec2.DescribeImagesInput{MaxResults: aws.Int32(7)})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				t.Error(err)
				return nil
			}
			for _, im := range page.Images {
				out = append(out, aws.ToString(im.ImageId))
			}
		}
		return out
	}
	if got := all(cother); len(got) != 60 {
		t.Fatalf("before sharing, %s sees %d images, want its own 60", other, len(got))
	}

	var wg sync.WaitGroup
	for g := 0; g < 6; g++ {
		wg.Add(1)
		go func(c *ec2.Client) {
			defer wg.Done()
			for i := 0; i < 15; i++ {
				all(c)
			}
		}([]*ec2.Client{co, cother, ts.EC2("us-east-1", third)}[g%3])
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i, id := range ownerIDs[:20] {
			perm := &types.LaunchPermissionModifications{Add: []types.LaunchPermission{{UserId: aws.String(other)}}}
			if i%4 == 0 {
				perm = &types.LaunchPermissionModifications{Add: []types.LaunchPermission{{Group: types.PermissionGroupAll}}}
			}
			if i%4 != 0 {
				if _, err := co.AttachImageWatermark(ctx, &ec2.AttachImageWatermarkInput{ImageId: aws.String(id), WatermarkName: aws.String("golden")}); err != nil {
					t.Error(err)
				}
			}
			if _, err := co.ModifyImageAttribute(ctx, &ec2.ModifyImageAttributeInput{ImageId: aws.String(id), LaunchPermission: perm}); err != nil {
				t.Error(err)
			}
			if _, err := co.CopyImage(ctx, &ec2.CopyImageInput{SourceImageId: aws.String(id), SourceRegion: aws.String("us-east-1"), Name: aws.String(fmt.Sprintf("copy-%d", i))}); err != nil {
				t.Error(err)
			}
		}
	}()
	wg.Wait()

	// The other account: its own 60, the 20 shared or public; the third:
	// its own 60 and the 5 public ones. The owner: its 60 and 20 copies.
	for _, c := range []struct {
		name   string
		client *ec2.Client
		want   int
	}{{other, cother, 80}, {third, ts.EC2("us-east-1", third), 65}, {owner, co, 80}} {
		got := all(c.client)
		if len(got) != c.want {
			t.Errorf("%s sees %d images after the changes, want %d", c.name, len(got), c.want)
		}
		sorted := slices.Clone(got)
		slices.Sort(sorted)
		if len(slices.Compact(sorted)) != len(got) {
			t.Errorf("%s: an image appears twice across pages", c.name)
		}
	}
	out, err := cother.DescribeImages(ctx, &ec2.DescribeImagesInput{ImageIds: ownerIDs[1:2]})
	if err != nil || len(out.Images) != 1 || len(out.Images[0].ImageWatermarks) != 1 {
		t.Fatalf("the shared image with its watermark: %v %+v", err, out)
	}
}

// TestDescribeAnswersFollowChanges: a change to an image, to the account's
// Allowed AMIs setting (imageAllowed) or a deregistration is in the very
// next DescribeImages answer (describes that change nothing run under the
// shared lock, from the cached region view), and an unchanged image
// answers the same every time.
func TestDescribeAnswersFollowChanges(t *testing.T) {
	const owner = "111122223333"
	ts := emutest.NewServer(t, emutest.Options{})
	var seed []ec2emu.SeedImage
	for i := 0; i < 30; i++ {
		seed = append(seed, ec2emu.SeedImage{Region: "us-east-1", Account: owner, Name: fmt.Sprintf("img-%d", i)})
	}
	ids := ts.SeedImages(t, seed...)
	ctx := context.Background()
	c := ts.EC2("us-east-1", owner)
	describe := func() map[string]types.Image {
		t.Helper()
		out, err := c.DescribeImages(ctx, &ec2.DescribeImagesInput{Owners: []string{"self"}, MaxResults: aws.Int32(1000)})
		if err != nil {
			t.Fatal(err)
		}
		m := map[string]types.Image{}
		for _, im := range out.Images {
			m[aws.ToString(im.ImageId)] = im
		}
		return m
	}
	first, again := describe(), describe()
	if len(first) != 30 || !reflect.DeepEqual(first, again) {
		t.Fatalf("an unchanged region answers differently: %d then %d images", len(first), len(again))
	}
	// Paged (7 a page, twice): the same images, in the same order, as one
	// page.
	one, err := c.DescribeImages(ctx, &ec2.DescribeImagesInput{Owners: []string{"self"}, MaxResults: aws.Int32(1000)})
	if err != nil {
		t.Fatal(err)
	}
	for round := 0; round < 2; round++ {
		var paged []types.Image
		p := ec2.NewDescribeImagesPaginator(c, &ec2.DescribeImagesInput{Owners: []string{"self"}, MaxResults: aws.Int32(7)})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				t.Fatal(err)
			}
			paged = append(paged, page.Images...)
		}
		if !reflect.DeepEqual(paged, one.Images) {
			t.Fatalf("round %d: %d images in pages of 7 differ from the %d of one page", round, len(paged), len(one.Images))
		}
	}
	if _, err := c.AttachImageWatermark(ctx, &ec2.AttachImageWatermarkInput{ImageId: aws.String(ids[3]), WatermarkName: aws.String("golden")}); err != nil {
		t.Fatal(err)
	}
	after := describe()
	if len(after[ids[3]].ImageWatermarks) != 1 || aws.ToString(after[ids[3]].ImageWatermarks[0].WatermarkKey) != owner+":golden" {
		t.Fatalf("the watermark just attached is missing: %+v", after[ids[3]].ImageWatermarks)
	}
	delete(after, ids[3])
	delete(first, ids[3])
	if !reflect.DeepEqual(first, after) {
		t.Error("images that did not change answer differently")
	}
	if _, err := c.EnableAllowedImagesSettings(ctx, &ec2.EnableAllowedImagesSettingsInput{AllowedImagesSettingsState: types.AllowedImagesSettingsEnabledStateAuditMode}); err != nil {
		t.Fatal(err)
	}
	for id, im := range describe() {
		if im.ImageAllowed == nil || !*im.ImageAllowed {
			t.Fatalf("%s in audit mode: imageAllowed %v, want true (own image)", id, im.ImageAllowed)
		}
	}
	if _, err := c.DisableAllowedImagesSettings(ctx, &ec2.DisableAllowedImagesSettingsInput{}); err != nil {
		t.Fatal(err)
	}
	// Every change to an image shows in the next answer, in a region scan
	// and described by id.
	changes := []struct {
		what   string
		change func() error
		shows  func(types.Image) bool
	}{
		{"a tag", func() error {
			_, err := c.CreateTags(ctx, &ec2.CreateTagsInput{Resources: []string{ids[5]}, Tags: []types.Tag{{Key: aws.String("team"), Value: aws.String("blue")}}})
			return err
		}, func(im types.Image) bool { return len(im.Tags) == 1 && aws.ToString(im.Tags[0].Value) == "blue" }},
		{"a tag removed", func() error {
			_, err := c.DeleteTags(ctx, &ec2.DeleteTagsInput{Resources: []string{ids[5]}, Tags: []types.Tag{{Key: aws.String("team")}}})
			return err
		}, func(im types.Image) bool { return len(im.Tags) == 0 }},
		{"a deprecation time", func() error {
			_, err := c.EnableImageDeprecation(ctx, &ec2.EnableImageDeprecationInput{ImageId: aws.String(ids[5]), DeprecateAt: aws.Time(time.Now().Add(48 * time.Hour))})
			return err
		}, func(im types.Image) bool { return aws.ToString(im.DeprecationTime) != "" }},
		{"the image made public", func() error {
			_, err := c.ModifyImageAttribute(ctx, &ec2.ModifyImageAttributeInput{ImageId: aws.String(ids[5]),
				LaunchPermission: &types.LaunchPermissionModifications{Add: []types.LaunchPermission{{Group: types.PermissionGroupAll}}}})
			return err
		}, func(im types.Image) bool { return aws.ToBool(im.Public) }},
		{"the watermark detached", func() error {
			_, err := c.DetachImageWatermark(ctx, &ec2.DetachImageWatermarkInput{ImageId: aws.String(ids[3]), WatermarkKey: aws.String(owner + ":golden")})
			return err
		}, func(im types.Image) bool { return len(im.ImageWatermarks) == 0 }},
	}
	for _, ch := range changes {
		id := ids[5]
		if strings.Contains(ch.what, "watermark") {
			id = ids[3]
		}
		if ch.shows(describe()[id]) {
			t.Fatalf("%s: shows before the change", ch.what)
		}
		if err := ch.change(); err != nil {
			t.Fatalf("%s: %v", ch.what, err)
		}
		if !ch.shows(describe()[id]) {
			t.Errorf("%s: the next answer does not show it", ch.what)
		}
		named, err := c.DescribeImages(ctx, &ec2.DescribeImagesInput{ImageIds: []string{id}})
		if err != nil || len(named.Images) != 1 || !ch.shows(named.Images[0]) {
			t.Errorf("%s: described by id, the answer does not show it (%v)", ch.what, err)
		}
	}
	if _, err := c.DeregisterImage(ctx, &ec2.DeregisterImageInput{ImageId: aws.String(ids[0])}); err != nil {
		t.Fatal(err)
	}
	final := describe()
	if _, ok := final[ids[0]]; ok || len(final) != 29 {
		t.Errorf("after a deregistration: %d images, the deregistered one present: %v", len(final), ok)
	}
	for id, im := range final {
		if im.ImageAllowed != nil {
			t.Fatalf("%s with the setting disabled again: imageAllowed %v, want none", id, *im.ImageAllowed)
		}
	}
}
