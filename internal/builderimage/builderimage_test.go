package builderimage

import (
	"errors"
	"testing"
)

func TestParseARN(t *testing.T) {
	for _, tc := range []struct {
		in                         string
		err                        error
		partition, region, account string
	}{
		{Example, nil, "aws", "us-east-1", "111122223333"},
		{"arn:aws-us-gov:imagebuilder:us-gov-west-1:111122223333:image/a_b-c/10.0.1/12", nil, "aws-us-gov", "us-gov-west-1", "111122223333"},
		{"arn:aws:imagebuilder:us-east-1:111122223333:image/golden-base/1.0.0", ErrNoBuild, "", "", ""},
		{"arn:aws:imagebuilder:us-east-1:111122223333:image-recipe/golden-base/1.0.0", ErrNotARN, "", "", ""},
		{"arn:aws:imagebuilder:us-east-1:1111:image/golden-base/1.0.0/1", ErrNotARN, "", "", ""},
		{"arn:aws:imagebuilder:us-east-1:111122223333:image/Golden/1.0.0/1", ErrNotARN, "", "", ""},
		{"", ErrNotARN, "", "", ""},
	} {
		got, err := ParseARN(tc.in)
		if !errors.Is(err, tc.err) || (err == nil && (got.ARN != tc.in || got.Partition != tc.partition || got.Region != tc.region || got.Account != tc.account)) {
			t.Errorf("ParseARN(%q) = %+v, %v", tc.in, got, err)
		}
	}
}

func FuzzParseARN(f *testing.F) {
	f.Add(Example)
	f.Add("arn:aws:imagebuilder:us-east-1:111122223333:image/golden-base/1.0.0")
	f.Fuzz(func(t *testing.T, s string) {
		a, err := ParseARN(s)
		if err == nil && (a.ARN != s || len(a.Account) != 12 || a.Region == "") {
			t.Fatalf("accepted %q as %+v", s, a)
		}
	})
}

func TestSplitAndStatus(t *testing.T) {
	arn, _ := ParseARN(Example)
	im := &Image{ARN: arn, Status: "DISTRIBUTING", AMIs: []AMI{{"us-east-1", "ami-1", "111122223333"}, {"eu-west-1", "ami-2", "444455556666"}}}
	own, other := im.Split("111122223333")
	if len(own) != 1 || len(other) != 1 || other[0].Account != "444455556666" {
		t.Fatalf("split %v %v", own, other)
	}
	if im.Ended() || im.RequireAvailable() == nil || im.RequireAMIs() != nil {
		t.Fatal("a DISTRIBUTING image with AMIs: not ended, not available, has AMIs")
	}
	im.Status = "FAILED"
	if !im.Ended() || im.EndedError() == nil {
		t.Fatal("a FAILED image ended")
	}
	im.Status, im.AMIs = "AVAILABLE", nil
	if im.RequireAvailable() == nil {
		t.Fatal("an AVAILABLE image without AMIs has nothing to watermark")
	}
}
