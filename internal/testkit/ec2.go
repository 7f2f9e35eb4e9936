package testkit

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// DescribeImage describes the image id through c (the emulator's or real
// EC2) and fails the test unless exactly that one image comes back.
func DescribeImage(t testing.TB, c *ec2.Client, id string) types.Image {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	out, err := c.DescribeImages(ctx, &ec2.DescribeImagesInput{ImageIds: []string{id}})
	if err != nil {
		t.Fatalf("DescribeImages %s in %s: %v", id, c.Options().Region, err)
	}
	if len(out.Images) != 1 {
		t.Fatalf("DescribeImages %s in %s returned %d images", id, c.Options().Region, len(out.Images))
	}
	return out.Images[0]
}
