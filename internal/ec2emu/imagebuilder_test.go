package ec2emu_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/imagebuilder"
	ibtypes "github.com/aws/aws-sdk-go-v2/service/imagebuilder/types"

	"github.com/amiwatermark/packer-plugin-amiwatermark/internal/ec2emu"
	"github.com/amiwatermark/packer-plugin-amiwatermark/internal/ec2emu/emutest"
)

const (
	buildAcct = "111122223333"
	distAcct  = "444455556666"
	goldenARN = "arn:aws:imagebuilder:us-east-1:" + buildAcct + ":image/golden-base/1.2.0/3"
)

func builderSeed() *ec2emu.Seed {
	return &ec2emu.Seed{
		Images: []ec2emu.SeedImage{
			{Region: "us-east-1", Account: buildAcct, Name: "golden-base 1.2.0", Description: "built by Image Builder"},
			{Region: "eu-west-1", Account: buildAcct, Name: "golden-base 1.2.0", ImageID: "ami-0123456789abcdef0"},
			{Region: "eu-west-1", Account: distAcct, Name: "golden-base 1.2.0"},
		},
		ImageBuilderImages: []ec2emu.SeedBuilderImage{{
			ARN:         goldenARN,
			DateCreated: "2026-05-01T10:00:00Z",
			OutputAMIs: []ec2emu.SeedBuilderAMI{
				{Image: "golden-base 1.2.0", Region: "us-east-1"},
				{Image: "ami-0123456789abcdef0"},
				{Image: "golden-base 1.2.0", AccountID: distAcct},
			},
		}, {
			ARN: "arn:aws:imagebuilder:us-east-1:" + buildAcct + ":image/broken/1.0.0/1", State: "FAILED", StateReason: "test failed",
		}},
	}
}

func TestImageBuilderGetImage(t *testing.T) {
	srv := emutest.NewServer(t, emutest.Options{Seed: builderSeed()})
	ctx := context.Background()
	c := srv.ImageBuilder("us-east-1", buildAcct)
	out, err := c.GetImage(ctx, &imagebuilder.GetImageInput{ImageBuildVersionArn: aws.String(goldenARN)})
	if err != nil {
		t.Fatal(err)
	}
	img := out.Image
	if aws.ToString(img.Arn) != goldenARN || aws.ToString(img.Name) != "golden-base" || aws.ToString(img.Version) != "1.2.0/3" ||
		img.State == nil || img.State.Status != ibtypes.ImageStatusAvailable || aws.ToString(img.DateCreated) != "2026-05-01T10:00:00.000Z" ||
		img.Type != ibtypes.ImageTypeAmi || aws.ToString(out.RequestId) == "" {
		t.Fatalf("image %+v", img)
	}
	amis := img.OutputResources.Amis
	if len(amis) != 3 {
		t.Fatalf("%d output AMIs", len(amis))
	}
	want := []struct{ region, account, desc string }{{"us-east-1", buildAcct, "built by Image Builder"}, {"eu-west-1", buildAcct, ""}, {"eu-west-1", distAcct, ""}}
	for i, a := range amis {
		if aws.ToString(a.Region) != want[i].region || aws.ToString(a.AccountId) != want[i].account || aws.ToString(a.Name) != "golden-base 1.2.0" ||
			aws.ToString(a.Description) != want[i].desc || a.State == nil || a.State.Status != ibtypes.ImageStatusAvailable ||
			!strings.HasPrefix(aws.ToString(a.Image), "ami-") {
			t.Errorf("ami %d: %+v", i, a)
		}
	}
	if aws.ToString(amis[1].Image) != "ami-0123456789abcdef0" {
		t.Errorf("ami by id: %s", aws.ToString(amis[1].Image))
	}
	// The output AMIs are real emulator images: the distributed one is
	// owned by the other account, and deregistering one shows as DELETED.
	e := srv.EC2("eu-west-1", distAcct)
	d, err := e.DescribeImages(ctx, &ec2.DescribeImagesInput{ImageIds: []string{aws.ToString(amis[2].Image)}})
	if err != nil || len(d.Images) != 1 || aws.ToString(d.Images[0].OwnerId) != distAcct {
		t.Fatalf("distributed AMI: %+v %v", d, err)
	}
	if _, err := e.DeregisterImage(ctx, &ec2.DeregisterImageInput{ImageId: amis[2].Image}); err != nil {
		t.Fatal(err)
	}
	out, err = c.GetImage(ctx, &imagebuilder.GetImageInput{ImageBuildVersionArn: aws.String(goldenARN)})
	if err != nil || out.Image.OutputResources.Amis[2].State.Status != ibtypes.ImageStatusDeleted {
		t.Fatalf("after deregistering: %+v %v", out, err)
	}

	failed, err := c.GetImage(ctx, &imagebuilder.GetImageInput{ImageBuildVersionArn: aws.String("arn:aws:imagebuilder:us-east-1:" + buildAcct + ":image/broken/1.0.0/1")})
	if err != nil || failed.Image.State.Status != ibtypes.ImageStatusFailed || aws.ToString(failed.Image.State.Reason) != "test failed" ||
		len(failed.Image.OutputResources.Amis) != 0 {
		t.Fatalf("failed image: %+v %v", failed, err)
	}
}

func TestImageBuilderErrors(t *testing.T) {
	srv := emutest.NewServer(t, emutest.Options{Seed: builderSeed()})
	ctx := context.Background()
	for _, tc := range []struct {
		name, region, account, arn, code string
		status                           int
	}{
		{"unknown", "us-east-1", buildAcct, "arn:aws:imagebuilder:us-east-1:" + buildAcct + ":image/other/1.0.0/1", "ResourceNotFoundException", http.StatusNotFound},
		{"other account", "us-east-1", distAcct, goldenARN, "ResourceNotFoundException", http.StatusNotFound},
		{"other region", "eu-west-1", buildAcct, goldenARN, "ResourceNotFoundException", http.StatusNotFound},
		{"no build", "us-east-1", buildAcct, "arn:aws:imagebuilder:us-east-1:" + buildAcct + ":image/golden-base/1.2.0", "InvalidParameterException", http.StatusBadRequest},
		{"recipe arn", "us-east-1", buildAcct, "arn:aws:imagebuilder:us-east-1:" + buildAcct + ":image-recipe/golden-base/1.2.0", "InvalidParameterException", http.StatusBadRequest},
		{"not an arn", "us-east-1", buildAcct, "golden-base", "InvalidParameterException", http.StatusBadRequest},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := srv.ImageBuilder(tc.region, tc.account).GetImage(ctx, &imagebuilder.GetImageInput{ImageBuildVersionArn: aws.String(tc.arn)})
			wantAPIError(t, err, tc.code, tc.status)
		})
	}
	// The raw error shape: the code in x-amzn-ErrorType.
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/GetImage?imageBuildVersionArn=x", nil)
	req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKIDTEST"+buildAcct+"/20260624/us-east-1/imagebuilder/aws4_request, SignedHeaders=host, Signature=00")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest || resp.Header.Get("X-Amzn-Errortype") != "InvalidParameterException" {
		t.Errorf("raw: %d %q", resp.StatusCode, resp.Header.Get("X-Amzn-Errortype"))
	}
}

func TestSeedImageBuilderValidation(t *testing.T) {
	for _, tc := range []struct{ name, seed, want string }{
		{"no arn", `{"image_builder_images":[{}]}`, `image_builder_images[0]: arn is missing`},
		{"bad arn", `{"image_builder_images":[{"arn":"arn:aws:imagebuilder:us-east-1:111122223333:image/Golden/1.0.0/1"}]}`, `is not an image build version ARN`},
		{"state", `{"image_builder_images":[{"arn":"arn:aws:imagebuilder:us-east-1:111122223333:image/g/1.0.0/1","state":"DONE"}]}`, `state "DONE"`},
		{"unknown name", `{"image_builder_images":[{"arn":"arn:aws:imagebuilder:us-east-1:111122223333:image/g/1.0.0/1","output_amis":[{"image":"nope"}]}]}`, `output_amis[0]: image "nope" names no image`},
		{"unknown id", `{"image_builder_images":[{"arn":"arn:aws:imagebuilder:us-east-1:111122223333:image/g/1.0.0/1","output_amis":[{"image":"ami-0123456789abcdef0"}]}]}`, `neither in the emulator nor`},
		{"ambiguous", `{"images":[{"region":"us-east-1","name":"a1"},{"region":"eu-west-1","name":"a1"}],"image_builder_images":[{"arn":"arn:aws:imagebuilder:us-east-1:111122223333:image/g/1.0.0/1","output_amis":[{"image":"a1"}]}]}`, `names 2 images`},
		{"dup", `{"image_builder_images":[{"arn":"arn:aws:imagebuilder:us-east-1:111122223333:image/g/1.0.0/1"},{"arn":"arn:aws:imagebuilder:us-east-1:111122223333:image/g/1.0.0/1"}]}`, `is already image_builder_images[0]`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			seed, err := ec2emu.ParseSeed([]byte(tc.seed))
			if err != nil {
				t.Fatal(err)
			}
			s := ec2emu.New(ec2emu.Options{})
			err = s.ApplySeed(seed)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want it to contain %q", err, tc.want)
			}
			if s.ImageCount() != 0 {
				t.Errorf("a refused seed added %d images", s.ImageCount())
			}
		})
	}
}
