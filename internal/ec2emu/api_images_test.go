package ec2emu

import (
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// ---- CopyImage (docs/ec2-semantics.md, "CopyImage") ----

func TestCopyImageCarriesWatermarksVerbatim(t *testing.T) {
	s, ts := newAPIServer(t, Options{})
	cA := client(t, ts.URL, "us-east-1", acctA)
	src := mkImage(acctA, "us-east-1", "src", apiBase.Add(-48*time.Hour))
	src.Tags = map[string]string{"team": "platform"}
	src.Description = "source image"
	putImages(s, src)
	attach(t, cA, src.ID, "golden")
	advance(s, time.Hour)
	attach(t, cA, src.ID, "hardened")
	want := sdkWatermarks(describeOne(t, cA, src.ID).ImageWatermarks)
	if len(want) != 2 || !want[0].SourceImageCreationTime.Equal(src.CreationDate) {
		t.Fatalf("source watermarks %+v", want)
	}
	advance(s, time.Hour)

	cases := []struct {
		what, region, account string
	}{
		{"same region", "us-east-1", acctA},
		{"cross region", "eu-west-1", acctA},
	}
	for _, tc := range cases {
		c := client(t, ts.URL, tc.region, tc.account)
		out := must(c.CopyImage(ctx, &ec2.CopyImageInput{SourceImageId: aws.String(src.ID), SourceRegion: aws.String("us-east-1"),
			Name: aws.String("copy-" + tc.region), CopyImageTags: aws.Bool(true)})).ok(t)
		img := describeOne(t, c, aws.ToString(out.ImageId))
		sameWatermarks(t, tc.what, sdkWatermarks(img.ImageWatermarks), want)
		if aws.ToString(img.SourceImageId) != src.ID || aws.ToString(img.SourceImageRegion) != "us-east-1" {
			t.Errorf("%s: source %s/%s", tc.what, aws.ToString(img.SourceImageId), aws.ToString(img.SourceImageRegion))
		}
		if aws.ToString(img.OwnerId) != tc.account || img.Public == nil || *img.Public {
			t.Errorf("%s: owner %s public %v", tc.what, aws.ToString(img.OwnerId), img.Public)
		}
		if len(img.Tags) != 1 || aws.ToString(img.Tags[0].Key) != "team" {
			t.Errorf("%s: CopyImageTags: tags %+v", tc.what, img.Tags)
		}
		if aws.ToString(img.Description) != "source image" {
			t.Errorf("%s: description %q", tc.what, aws.ToString(img.Description))
		}
	}
	// Without CopyImageTags no tags, TagSpecifications apply.
	out := must(cA.CopyImage(ctx, &ec2.CopyImageInput{SourceImageId: aws.String(src.ID), SourceRegion: aws.String("us-east-1"), Name: aws.String("copy-notags"),
		TagSpecifications: []types.TagSpecification{{ResourceType: types.ResourceTypeImage, Tags: []types.Tag{{Key: aws.String("k"), Value: aws.String("v")}}}}})).ok(t)
	img := describeOne(t, cA, aws.ToString(out.ImageId))
	if len(img.Tags) != 1 || aws.ToString(img.Tags[0].Key) != "k" {
		t.Fatalf("tags %+v", img.Tags)
	}
	// Copy of a copy keeps the original provenance.
	out2 := must(cA.CopyImage(ctx, &ec2.CopyImageInput{SourceImageId: out.ImageId, SourceRegion: aws.String("us-east-1"), Name: aws.String("copy-of-copy")})).ok(t)
	sameWatermarks(t, "copy of copy", sdkWatermarks(describeOne(t, cA, aws.ToString(out2.ImageId)).ImageWatermarks), want)
}

func TestCopyImageCrossAccountShared(t *testing.T) {
	s, ts := newAPIServer(t, Options{})
	cA := client(t, ts.URL, "us-east-1", acctA)
	cB := client(t, ts.URL, "us-west-2", acctB)
	src := mkImage(acctA, "us-east-1", "src", apiBase)
	putImages(s, src)
	attach(t, cA, src.ID, "golden")
	want := sdkWatermarks(describeOne(t, cA, src.ID).ImageWatermarks)

	// Not shared yet: not found for B.
	_, err := cB.CopyImage(ctx, &ec2.CopyImageInput{SourceImageId: aws.String(src.ID), SourceRegion: aws.String("us-east-1"), Name: aws.String("b-copy")})
	apiErr(t, err, "InvalidAMIID.NotFound", "")

	must(cA.ModifyImageAttribute(ctx, &ec2.ModifyImageAttributeInput{ImageId: aws.String(src.ID),
		Attribute: aws.String("launchPermission"), OperationType: types.OperationTypeAdd, UserIds: []string{acctB}})).ok(t)
	out := must(cB.CopyImage(ctx, &ec2.CopyImageInput{SourceImageId: aws.String(src.ID), SourceRegion: aws.String("us-east-1"), Name: aws.String("b-copy")})).ok(t)
	img := describeOne(t, cB, aws.ToString(out.ImageId))
	if aws.ToString(img.OwnerId) != acctB {
		t.Fatalf("owner %s", aws.ToString(img.OwnerId))
	}
	// Keys keep the original account id.
	sameWatermarks(t, "cross-account copy", sdkWatermarks(img.ImageWatermarks), want)
	if k := aws.ToString(img.ImageWatermarks[0].WatermarkKey); !strings.HasPrefix(k, acctA+":") {
		t.Fatalf("key %s", k)
	}
	// The recipient can add its own watermark next to the inherited one.
	if key := attach(t, cB, aws.ToString(out.ImageId), "accepted"); key != acctB+":accepted" {
		t.Fatalf("key %s", key)
	}
}

func TestCopyImageErrorsAndIdempotency(t *testing.T) {
	s, ts := newAPIServer(t, Options{})
	c := client(t, ts.URL, "us-east-1", acctA)
	src := mkImage(acctA, "us-east-1", "src", apiBase)
	pending := mkImage(acctA, "us-east-1", "pending", apiBase)
	pending.State = "pending"
	putImages(s, src, pending)
	_, err := c.CopyImage(ctx, &ec2.CopyImageInput{SourceImageId: aws.String(src.ID), SourceRegion: aws.String("eu-west-1"), Name: aws.String("x-copy")})
	apiErr(t, err, "InvalidAMIID.NotFound", "")
	_, err = c.CopyImage(ctx, &ec2.CopyImageInput{SourceImageId: aws.String("ami-bad"), SourceRegion: aws.String("us-east-1"), Name: aws.String("x-copy")})
	apiErr(t, err, "InvalidAMIID.Malformed", "")
	_, err = c.CopyImage(ctx, &ec2.CopyImageInput{SourceImageId: aws.String(pending.ID), SourceRegion: aws.String("us-east-1"), Name: aws.String("x-copy")})
	apiErr(t, err, "IncorrectState", "")
	_, err = c.CopyImage(ctx, &ec2.CopyImageInput{SourceImageId: aws.String(src.ID), SourceRegion: aws.String("us-east-1"), Name: aws.String("src")})
	apiErr(t, err, "InvalidAMIName.Duplicate", "")
	_, err = c.CopyImage(ctx, &ec2.CopyImageInput{SourceImageId: aws.String(src.ID), SourceRegion: aws.String("us-east-1"), Name: aws.String("a:b")})
	apiErr(t, err, "InvalidAMIName.Malformed", "")
	// Same ClientToken: same image, no second copy.
	in := &ec2.CopyImageInput{SourceImageId: aws.String(src.ID), SourceRegion: aws.String("us-east-1"), Name: aws.String("tok-copy"), ClientToken: aws.String("tok-1")}
	a := aws.ToString(must(c.CopyImage(ctx, in)).ok(t).ImageId)
	b := aws.ToString(must(c.CopyImage(ctx, in)).ok(t).ImageId)
	if a != b {
		t.Fatalf("ClientToken not idempotent: %s vs %s", a, b)
	}
}

// ---- CreateImage ("CreateImage") ----

func TestCreateImageInheritsLaunchWatermarks(t *testing.T) {
	s, ts := newAPIServer(t, Options{})
	c := client(t, ts.URL, "us-east-1", acctA)
	src := mkImage(acctA, "us-east-1", "src", apiBase.Add(-24*time.Hour))
	putImages(s, src)
	attach(t, c, src.ID, "golden")
	attach(t, c, src.ID, "silver")
	atLaunch := sdkWatermarks(describeOne(t, c, src.ID).ImageWatermarks)

	run := must(c.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: aws.String(src.ID), MinCount: aws.Int32(1), MaxCount: aws.Int32(1)})).ok(t)
	inst := aws.ToString(run.Instances[0].InstanceId)
	// Changes after launch do not reach the new image.
	advance(s, time.Hour)
	must(c.DetachImageWatermark(ctx, &ec2.DetachImageWatermarkInput{ImageId: aws.String(src.ID), WatermarkKey: aws.String(acctA + ":silver")})).ok(t)
	attach(t, c, src.ID, "late")

	out := must(c.CreateImage(ctx, &ec2.CreateImageInput{InstanceId: aws.String(inst), Name: aws.String("from-instance")})).ok(t)
	img := describeOne(t, c, aws.ToString(out.ImageId))
	sameWatermarks(t, "CreateImage", sdkWatermarks(img.ImageWatermarks), atLaunch)
	if aws.ToString(img.SourceInstanceId) != inst || aws.ToString(img.SourceImageId) != src.ID || aws.ToString(img.SourceImageRegion) != "us-east-1" {
		t.Fatalf("provenance %s %s %s", aws.ToString(img.SourceInstanceId), aws.ToString(img.SourceImageId), aws.ToString(img.SourceImageRegion))
	}
	// And a copy of the created image still carries them.
	cp := must(c.CopyImage(ctx, &ec2.CopyImageInput{SourceImageId: out.ImageId, SourceRegion: aws.String("us-east-1"), Name: aws.String("copy-of-created")})).ok(t)
	sameWatermarks(t, "copy of created", sdkWatermarks(describeOne(t, c, aws.ToString(cp.ImageId)).ImageWatermarks), atLaunch)

	_, err := c.CreateImage(ctx, &ec2.CreateImageInput{InstanceId: aws.String("i-0123456789abcdef0"), Name: aws.String("nope")})
	apiErr(t, err, "InvalidInstanceID.NotFound", "")
	_, err = client(t, ts.URL, "us-east-1", acctB).CreateImage(ctx, &ec2.CreateImageInput{InstanceId: aws.String(inst), Name: aws.String("theirs")})
	apiErr(t, err, "InvalidInstanceID.NotFound", "")
}

// ---- public / shared ("ModifyImageAttribute") ----

func TestWatermarkedImageCannotBeMadePublic(t *testing.T) {
	s, ts := newAPIServer(t, Options{})
	c := client(t, ts.URL, "us-east-1", acctA)
	img := mkImage(acctA, "us-east-1", "marked", apiBase)
	plain := mkImage(acctA, "us-east-1", "plain", apiBase)
	putImages(s, img, plain)
	attach(t, c, img.ID, "golden")
	forms := []struct {
		what string
		in   *ec2.ModifyImageAttributeInput
	}{
		{"LaunchPermission.Add.N.Group", &ec2.ModifyImageAttributeInput{ImageId: aws.String(img.ID),
			LaunchPermission: &types.LaunchPermissionModifications{Add: []types.LaunchPermission{{Group: types.PermissionGroupAll}}}}},
		{"Attribute/OperationType/UserGroup.N", &ec2.ModifyImageAttributeInput{ImageId: aws.String(img.ID),
			Attribute: aws.String("launchPermission"), OperationType: types.OperationTypeAdd, UserGroups: []string{"all"}}},
	}
	for _, f := range forms {
		_, err := c.ModifyImageAttribute(ctx, f.in)
		if st := apiErr(t, err, "InvalidParameter", "Images with watermarks can't be made public."); st != 400 {
			t.Errorf("%s: status %d", f.what, st)
		}
	}
	if d := describeOne(t, c, img.ID); aws.ToBool(d.Public) {
		t.Fatal("image became public")
	}
	// Sharing with an account is fine.
	must(c.ModifyImageAttribute(ctx, &ec2.ModifyImageAttributeInput{ImageId: aws.String(img.ID),
		LaunchPermission: &types.LaunchPermissionModifications{Add: []types.LaunchPermission{{UserId: aws.String(acctB)}}}})).ok(t)
	attr := must(c.DescribeImageAttribute(ctx, &ec2.DescribeImageAttributeInput{ImageId: aws.String(img.ID), Attribute: types.ImageAttributeNameLaunchPermission})).ok(t)
	if len(attr.LaunchPermissions) != 1 || aws.ToString(attr.LaunchPermissions[0].UserId) != acctB {
		t.Fatalf("launch permissions %+v", attr.LaunchPermissions)
	}
	// An unwatermarked image can be made public, and then refuses watermarks.
	must(c.ModifyImageAttribute(ctx, &ec2.ModifyImageAttributeInput{ImageId: aws.String(plain.ID),
		Attribute: aws.String("launchPermission"), OperationType: types.OperationTypeAdd, UserGroups: []string{"all"}})).ok(t)
	if !aws.ToBool(describeOne(t, c, plain.ID).Public) {
		t.Fatal("plain image is not public")
	}
	attr = must(c.DescribeImageAttribute(ctx, &ec2.DescribeImageAttributeInput{ImageId: aws.String(plain.ID), Attribute: types.ImageAttributeNameLaunchPermission})).ok(t)
	if len(attr.LaunchPermissions) != 1 || attr.LaunchPermissions[0].Group != types.PermissionGroupAll {
		t.Fatalf("launch permissions %+v", attr.LaunchPermissions)
	}
	_, err := c.AttachImageWatermark(ctx, &ec2.AttachImageWatermarkInput{ImageId: aws.String(plain.ID), WatermarkName: aws.String("golden")})
	apiErr(t, err, "UnsupportedOperation", "Watermarks can't be attached to public images.")
	// Removing group all makes it private again.
	must(c.ModifyImageAttribute(ctx, &ec2.ModifyImageAttributeInput{ImageId: aws.String(plain.ID),
		LaunchPermission: &types.LaunchPermissionModifications{Remove: []types.LaunchPermission{{Group: types.PermissionGroupAll}}}})).ok(t)
	if aws.ToBool(describeOne(t, c, plain.ID).Public) {
		t.Fatal("still public")
	}
	// Bad values.
	_, err = c.ModifyImageAttribute(ctx, &ec2.ModifyImageAttributeInput{ImageId: aws.String(plain.ID),
		Attribute: aws.String("launchPermission"), OperationType: types.OperationTypeAdd, UserIds: []string{"12345"}})
	apiErr(t, err, "InvalidAMIAttributeItemValue", "")
	_, err = c.ModifyImageAttribute(ctx, &ec2.ModifyImageAttributeInput{ImageId: aws.String(plain.ID),
		Attribute: aws.String("launchPermission"), OperationType: types.OperationTypeAdd, UserGroups: []string{"everyone"}})
	apiErr(t, err, "InvalidAMIAttributeItemValue", "")
	// Only the owner modifies or reads launch permissions.
	cB := client(t, ts.URL, "us-east-1", acctB)
	_, err = cB.ModifyImageAttribute(ctx, &ec2.ModifyImageAttributeInput{ImageId: aws.String(img.ID),
		LaunchPermission: &types.LaunchPermissionModifications{Add: []types.LaunchPermission{{UserId: aws.String(acctC)}}}})
	apiErr(t, err, "AuthFailure", "")
	_, err = cB.DescribeImageAttribute(ctx, &ec2.DescribeImageAttributeInput{ImageId: aws.String(img.ID), Attribute: types.ImageAttributeNameLaunchPermission})
	apiErr(t, err, "AuthFailure", "")
}

// ---- Register / Deregister ("RegisterImage and DeregisterImage") ----

func TestRegisterDeregister(t *testing.T) {
	s, ts := newAPIServer(t, Options{})
	c := client(t, ts.URL, "us-east-1", acctA)
	id := registerImg(t, c, "registered")
	img := describeOne(t, c, id)
	if img.State != types.ImageStateAvailable || len(img.ImageWatermarks) != 0 || len(img.BlockDeviceMappings) != 1 ||
		aws.ToString(img.Name) != "registered" || img.Architecture != types.ArchitectureValuesX8664 {
		t.Fatalf("registered image %+v", img)
	}
	if !isImageID(id) || len(id) != len("ami-0123456789abcdef0") {
		t.Fatalf("id %q", id)
	}
	_, err := c.RegisterImage(ctx, &ec2.RegisterImageInput{Name: aws.String("registered")})
	apiErr(t, err, "InvalidAMIName.Duplicate", "")
	_, err = c.RegisterImage(ctx, &ec2.RegisterImageInput{Name: aws.String("ab")})
	apiErr(t, err, "InvalidAMIName.Malformed", "")

	attach(t, c, id, "golden")
	cp := aws.ToString(must(c.CopyImage(ctx, &ec2.CopyImageInput{SourceImageId: aws.String(id), SourceRegion: aws.String("us-east-1"), Name: aws.String("derived")})).ok(t).ImageId)
	out := must(c.DeregisterImage(ctx, &ec2.DeregisterImageInput{ImageId: aws.String(id), DeleteAssociatedSnapshots: aws.Bool(true)})).ok(t)
	if !aws.ToBool(out.Return) || len(out.DeleteSnapshotResults) != 1 {
		t.Fatalf("deregister output %+v", out)
	}
	_, err = c.DescribeImages(ctx, &ec2.DescribeImagesInput{ImageIds: []string{id}})
	apiErr(t, err, "InvalidAMIID.NotFound", "")
	_, err = c.DeregisterImage(ctx, &ec2.DeregisterImageInput{ImageId: aws.String(id)})
	apiErr(t, err, "InvalidAMIID.Unavailable", "")
	// The derived image is unaffected.
	if d := describeOne(t, c, cp); len(d.ImageWatermarks) != 1 || d.State != types.ImageStateAvailable {
		t.Fatalf("derived %+v", d)
	}
	// The name is free again.
	registerImg(t, c, "registered")
	// Only the owner deregisters.
	other := mkImage(acctB, "us-east-1", "public-b", apiBase)
	other.Public = true
	putImages(s, other)
	_, err = c.DeregisterImage(ctx, &ec2.DeregisterImageInput{ImageId: aws.String(other.ID)})
	apiErr(t, err, "AuthFailure", "")
}

// ---- tags ----

func TestCreateDeleteTags(t *testing.T) {
	s, ts := newAPIServer(t, Options{})
	c := client(t, ts.URL, "us-east-1", acctA)
	img := mkImage(acctA, "us-east-1", "tagged", apiBase)
	putImages(s, img)
	must(c.CreateTags(ctx, &ec2.CreateTagsInput{Resources: []string{img.ID},
		Tags: []types.Tag{{Key: aws.String("a"), Value: aws.String("1")}, {Key: aws.String("b"), Value: aws.String("2")}, {Key: aws.String("c"), Value: aws.String("")}}})).ok(t)
	tags := func() string {
		var kv []string
		for _, tg := range describeOne(t, c, img.ID).Tags {
			kv = append(kv, aws.ToString(tg.Key)+"="+aws.ToString(tg.Value))
		}
		return strings.Join(kv, ",")
	}
	if got := tags(); got != "a=1,b=2,c=" {
		t.Fatalf("tags %s", got)
	}
	// Delete with a non-matching value keeps the tag; without a value removes it.
	must(c.DeleteTags(ctx, &ec2.DeleteTagsInput{Resources: []string{img.ID}, Tags: []types.Tag{{Key: aws.String("a"), Value: aws.String("nope")}, {Key: aws.String("b")}}})).ok(t)
	if got := tags(); got != "a=1,c=" {
		t.Fatalf("tags %s", got)
	}
	must(c.DeleteTags(ctx, &ec2.DeleteTagsInput{Resources: []string{img.ID}})).ok(t)
	if got := tags(); got != "" {
		t.Fatalf("tags %s", got)
	}
	_, err := c.CreateTags(ctx, &ec2.CreateTagsInput{Resources: []string{img.ID}, Tags: []types.Tag{{Key: aws.String("aws:reserved"), Value: aws.String("x")}}})
	apiErr(t, err, "InvalidParameterValue", "")
	_, err = c.CreateTags(ctx, &ec2.CreateTagsInput{Resources: []string{"ami-0123456789abcdef0"}, Tags: []types.Tag{{Key: aws.String("a"), Value: aws.String("x")}}})
	apiErr(t, err, "InvalidAMIID.NotFound", "")
	_, err = c.CreateTags(ctx, &ec2.CreateTagsInput{Resources: []string{"vol-0123"}, Tags: []types.Tag{{Key: aws.String("a"), Value: aws.String("x")}}})
	apiErr(t, err, "InvalidID", "")
}
