package ec2emu_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	"github.com/amiwatermark/packer-plugin-amiwatermark/internal/ec2emu"
	"github.com/amiwatermark/packer-plugin-amiwatermark/internal/ec2emu/emutest"
)

const (
	userAcct = "111122223333"
	roleAcct = "444455556666"
)

func stsServer(t *testing.T) string {
	t.Helper()
	return emutest.NewServer(t, emutest.Options{}).URL
}

func stsClient(url string, creds aws.CredentialsProvider) *sts.Client {
	return emutest.STSClient(url, "us-east-1", creds)
}

func static(akid string) aws.CredentialsProvider {
	return credentials.NewStaticCredentialsProvider(akid, "secret", "")
}

// wantAPIError checks err is an API error with code and HTTP status.
func wantAPIError(t *testing.T, err error, code string, status int) smithy.APIError {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("want API error %s, got %v", code, err)
	}
	if ae.ErrorCode() != code {
		t.Fatalf("error code %q (%s), want %q", ae.ErrorCode(), ae.ErrorMessage(), code)
	}
	var re *awshttp.ResponseError
	if !errors.As(err, &re) || re.HTTPStatusCode() != status {
		t.Fatalf("want HTTP %d for %s, got %v", status, code, err)
	}
	return ae
}

func TestSTSGetCallerIdentityUser(t *testing.T) {
	url := stsServer(t)
	ctx := context.Background()
	for _, c := range []struct{ akid, account string }{
		{"AKIDTEST" + userAcct, userAcct},
		{"AKIDTEST", ec2emu.DefaultAccount},
		{"AKIDTEST12345678901X", ec2emu.DefaultAccount},
	} {
		out, err := stsClient(url, static(c.akid)).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
		if err != nil {
			t.Fatalf("%s: %v", c.akid, err)
		}
		if aws.ToString(out.Account) != c.account {
			t.Errorf("%s: Account %q, want %q", c.akid, aws.ToString(out.Account), c.account)
		}
		if want := "arn:aws:iam::" + c.account + ":user/ec2emu"; aws.ToString(out.Arn) != want {
			t.Errorf("%s: Arn %q, want %q", c.akid, aws.ToString(out.Arn), want)
		}
		if id := aws.ToString(out.UserId); !strings.HasPrefix(id, "AIDA") || len(id) != 21 {
			t.Errorf("%s: UserId %q is not an IAM user id", c.akid, id)
		}
	}
}

// TestSTSAssumeRoleActsAsRoleAccount: the SDK's own AssumeRole provider
// (what the amazon plugin's assume_role uses) gets credentials that act as
// the role's account for STS and EC2 alike.
func TestSTSAssumeRoleActsAsRoleAccount(t *testing.T) {
	url := stsServer(t)
	ctx := context.Background()
	base := stsClient(url, static("AKIDTEST"+userAcct))
	roleARN := "arn:aws:iam::" + roleAcct + ":role/ops/Watermarker"

	out, err := base.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(roleARN), RoleSessionName: aws.String("build-42"),
		ExternalId: aws.String("ext-1"), DurationSeconds: aws.Int32(900)})
	if err != nil {
		t.Fatal(err)
	}
	cr := out.Credentials
	if !strings.HasSuffix(aws.ToString(cr.AccessKeyId), roleAcct) || aws.ToString(cr.SecretAccessKey) == "" || aws.ToString(cr.SessionToken) == "" {
		t.Fatalf("credentials %+v: want an access key id ending in %s, a secret and a token", cr, roleAcct)
	}
	if d := time.Until(aws.ToTime(cr.Expiration)); d < 14*time.Minute || d > 16*time.Minute {
		t.Errorf("Expiration in %v, want about 15 minutes", d)
	}
	wantARN := "arn:aws:sts::" + roleAcct + ":assumed-role/Watermarker/build-42"
	if got := aws.ToString(out.AssumedRoleUser.Arn); got != wantARN {
		t.Errorf("AssumedRoleUser.Arn %q, want %q", got, wantARN)
	}
	if id := aws.ToString(out.AssumedRoleUser.AssumedRoleId); !strings.HasPrefix(id, "AROA") || !strings.HasSuffix(id, ":build-42") {
		t.Errorf("AssumedRoleId %q", id)
	}

	provider := aws.NewCredentialsCache(stscreds.NewAssumeRoleProvider(base, roleARN, func(o *stscreds.AssumeRoleOptions) {
		o.RoleSessionName = "packer"
	}))
	who, err := stsClient(url, provider).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(who.Account) != roleAcct || aws.ToString(who.Arn) != "arn:aws:sts::"+roleAcct+":assumed-role/Watermarker/packer" {
		t.Errorf("GetCallerIdentity as the role: %s %s", aws.ToString(who.Account), aws.ToString(who.Arn))
	}
	if !strings.HasSuffix(aws.ToString(who.UserId), ":packer") {
		t.Errorf("UserId %q, want ROLEID:packer", aws.ToString(who.UserId))
	}

	e := emutest.EC2Client(url, "eu-west-1", provider)
	reg, err := e.RegisterImage(ctx, &ec2.RegisterImageInput{Name: aws.String("as-role")})
	if err != nil {
		t.Fatal(err)
	}
	imgs, err := e.DescribeImages(ctx, &ec2.DescribeImagesInput{ImageIds: []string{aws.ToString(reg.ImageId)}})
	if err != nil || len(imgs.Images) != 1 {
		t.Fatalf("DescribeImages: %v %v", imgs, err)
	}
	if owner := aws.ToString(imgs.Images[0].OwnerId); owner != roleAcct {
		t.Errorf("an image registered with the role's credentials is owned by %s, want %s", owner, roleAcct)
	}
}

func TestSTSAssumeRoleValidation(t *testing.T) {
	url := stsServer(t)
	ctx := context.Background()
	c := stsClient(url, static("AKIDTEST"+userAcct))
	for _, tc := range []struct {
		name string
		in   sts.AssumeRoleInput
		msg  string
	}{
		{"user arn", sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::444455556666:user/bob"), RoleSessionName: aws.String("s1")}, "not a valid role ARN"},
		{"short account", sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::4444:role/x"), RoleSessionName: aws.String("s1")}, "not a valid role ARN"},
		{"no name", sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::444455556666:role/"), RoleSessionName: aws.String("s1")}, "not a valid role ARN"},
		{"sts service", sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:sts::444455556666:role/x"), RoleSessionName: aws.String("s1")}, "not a valid role ARN"},
		{"session chars", sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::444455556666:role/x"), RoleSessionName: aws.String("a b")}, "roleSessionName"},
		{"session short", sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::444455556666:role/x"), RoleSessionName: aws.String("a")}, "roleSessionName"},
		{"duration low", sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::444455556666:role/x"), RoleSessionName: aws.String("s1"), DurationSeconds: aws.Int32(899)}, "durationSeconds"},
		{"duration high", sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::444455556666:role/x"), RoleSessionName: aws.String("s1"), DurationSeconds: aws.Int32(43201)}, "durationSeconds"},
		{"external id", sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::444455556666:role/x"), RoleSessionName: aws.String("s1"), ExternalId: aws.String("a b")}, "externalId"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := c.AssumeRole(ctx, &tc.in)
			ae := wantAPIError(t, err, "ValidationError", http.StatusBadRequest)
			if !strings.Contains(ae.ErrorMessage(), tc.msg) {
				t.Errorf("message %q does not mention %q", ae.ErrorMessage(), tc.msg)
			}
		})
	}
}

// stsRaw posts a form signed (in scope only) for sts.
func stsRaw(t *testing.T, url, body string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, url+"/", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKIDTEST"+userAcct+"/20260624/us-east-1/sts/aws4_request, SignedHeaders=host, Signature=00")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestSTSErrorShape: STS's error envelope, not EC2's.
func TestSTSErrorShape(t *testing.T) {
	url := stsServer(t)
	status, body := stsRaw(t, url, "Action=AssumeRole&Version=2011-06-15&RoleSessionName=s1")
	if status != http.StatusBadRequest {
		t.Errorf("status %d, want 400", status)
	}
	for _, want := range []string{"<ErrorResponse", "<Error><Type>Sender</Type><Code>ValidationError</Code><Message>", "roleArn", "</Error><RequestId>"} {
		if !strings.Contains(body, want) {
			t.Errorf("error body lacks %q:\n%s", want, body)
		}
	}
	for body, code := range map[string]string{
		"Version=2011-06-15":                          "MissingAction",
		"Action=DescribeImages&Version=2011-06-15":    "InvalidAction",
		"Action=GetCallerIdentity&Version=2016-11-15": "InvalidAction",
	} {
		status, out := stsRaw(t, url, body)
		if status != http.StatusBadRequest || !strings.Contains(out, "<Code>"+code+"</Code>") {
			t.Errorf("%s: %d %s, want 400 %s", body, status, out, code)
		}
	}
	status, body = stsRaw(t, url, "Action=GetCallerIdentity&Version=2011-06-15")
	if status != http.StatusOK || !strings.Contains(body, "<GetCallerIdentityResult><Arn>arn:aws:iam::"+userAcct+":user/ec2emu</Arn>") ||
		!strings.Contains(body, "<ResponseMetadata><RequestId>") {
		t.Errorf("GetCallerIdentity: %d %s", status, body)
	}
}

func TestUnknownServiceRefused(t *testing.T) {
	url := stsServer(t)
	req, _ := http.NewRequest(http.MethodPost, url+"/", strings.NewReader("Action=ListBuckets"))
	req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKID/20260624/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=00")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(b), "UnknownService") || !strings.Contains(string(b), "s3") {
		t.Errorf("s3 request: %d %s", resp.StatusCode, b)
	}
}

// TestSTSFaultsAndStats: STS calls are counted and get injected faults in
// STS's own throttling code.
func TestSTSFaultsAndStats(t *testing.T) {
	srv := emutest.NewServer(t, emutest.Options{})
	s := srv.Emulator
	if err := s.SetFaults(ec2emu.Faults{ThrottleRate: 1, Actions: []string{"GetCallerIdentity"}}); err != nil {
		t.Fatal(err)
	}
	c := srv.STS("us-east-1", userAcct, func(o *sts.Options) { o.RetryMaxAttempts = 1 })
	_, err := c.GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{})
	wantAPIError(t, err, "Throttling", http.StatusBadRequest)
	if n := s.Stats().Actions["GetCallerIdentity"]; n != 1 {
		t.Errorf("stats count %d GetCallerIdentity calls, want 1", n)
	}
}
