package ec2emu

import (
	"encoding/json"
	"encoding/xml"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// FuzzServiceRequest sends arbitrary requests to STS, Organizations and Image
// Builder: nothing panics, and every answer is that service's shape: STS
// XML (a result or the ErrorResponse envelope), JSON with an error type in
// x-amzn-ErrorType for the JSON services.
func FuzzServiceRequest(f *testing.F) {
	for _, c := range []struct {
		service, target, query, body string
	}{
		{"sts", "", "", "Action=GetCallerIdentity&Version=2011-06-15"},
		{"sts", "", "", "Action=AssumeRole&Version=2011-06-15&RoleArn=arn%3Aaws%3Aiam%3A%3A444455556666%3Arole%2Fa%2Fb&RoleSessionName=s1&DurationSeconds=900"},
		{"sts", "", "", "Action=AssumeRole&Version=2011-06-15&RoleArn=arn%3Aaws%3Aiam%3A%3A%3Arole%2F&RoleSessionName=%00&ExternalId=%FF"},
		{"organizations", "AWSOrganizationsV20161128.ListAccounts", "", `{"MaxResults":2,"NextToken":"ZW11LWFjY291bnRzOjEwMDAwMDAwMDAwMA"}`},
		{"organizations", "AWSOrganizationsV20161128.ListAccounts", "", `{"MaxResults":"x"}`},
		{"organizations", "AWSOrganizationsV20161128.DescribeOrganization", "", `{}`},
		{"imagebuilder", "", "imageBuildVersionArn=arn%3Aaws%3Aimagebuilder%3Aus-east-1%3A111122223333%3Aimage%2Fg%2F1.0.0%2F1", ""},
		{"imagebuilder", "", "imageBuildVersionArn=%3C%26", ""},
	} {
		f.Add(c.service, c.target, c.query, c.body)
	}
	s := New(Options{Now: func() time.Time { return apiBase }})
	seed, err := ParseSeed([]byte(`{"images":[{"region":"us-east-1","account":"111122223333","name":"g","description":"<&>"}],
		"accounts":[{"id":"100000000000"},{"id":"444455556666","refuse_assume_role":true}],
		"organization":{"management_account":"100000000000"},
		"image_builder_images":[{"arn":"arn:aws:imagebuilder:us-east-1:111122223333:image/g/1.0.0/1","output_amis":[{"image":"g"}]}]}`))
	if err != nil {
		f.Fatal(err)
	}
	if err := s.ApplySeed(seed); err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, service, target, query, body string) {
		switch service {
		case "sts", "organizations", "imagebuilder":
		default:
			t.Skip()
		}
		method, path := http.MethodPost, "/"
		if service == "imagebuilder" {
			method, path = http.MethodGet, "/GetImage"
		}
		req := httptest.NewRequest(method, path, strings.NewReader(body))
		req.URL.RawQuery = query
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("X-Amz-Target", target)
		for _, acct := range []string{"100000000000", "111122223333"} {
			req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKIDTEST"+acct+"/20260624/us-east-1/"+service+"/aws4_request, SignedHeaders=host, Signature=00")
			rec := httptest.NewRecorder()
			s.ServeHTTP(rec, req)
			b, _ := io.ReadAll(rec.Body)
			if rec.Header().Get("X-Amzn-Requestid") == "" {
				t.Fatal("no request id header")
			}
			if service == "sts" {
				if err := wellFormed(b); err != nil {
					t.Fatalf("status %d, body not well-formed XML (%v):\n%s", rec.Code, err, b)
				}
				if rec.Code >= 400 {
					var env struct {
						Error struct{ Type, Code string }
					}
					if err := xml.Unmarshal(b, &env); err != nil || env.Error.Code == "" || env.Error.Type == "" {
						t.Fatalf("status %d without STS's error envelope:\n%s", rec.Code, b)
					}
				}
				continue
			}
			if !json.Valid(b) {
				t.Fatalf("status %d, body not JSON:\n%s", rec.Code, b)
			}
			if rec.Code >= 400 && rec.Header().Get("X-Amzn-Errortype") == "" {
				t.Fatalf("status %d without x-amzn-ErrorType:\n%s", rec.Code, b)
			}
			if rec.Code != 200 && rec.Code < 400 {
				t.Fatalf("status %d", rec.Code)
			}
		}
	})
}

// FuzzParseSeed: a seed is parsed and applied or refused with an error,
// never a panic, and a refused seed changes nothing.
func FuzzParseSeed(f *testing.F) {
	for _, s := range []string{
		`[{"region":"us-east-1","name":"a"}]`,
		`{"images":[{"region":"us-east-1","name":"a","image_id":"ami-0123456789abcdef0"}],"image_builder_images":[{"arn":"arn:aws:imagebuilder:us-east-1:111122223333:image/g/1.0.0/1","output_amis":[{"image":"ami-0123456789abcdef0"}]}]}`,
		`{"accounts":[{"id":"111122223333","regions":["eu-west-1"],"joined":"2024-01-02"}],"organization":{"management_account":"111122223333"}}`,
		`{"organization":{"id":"o-","management_account":"1"}}`,
		`{"images":null,"accounts":[{}]}`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		seed, err := ParseSeed([]byte(in))
		if err != nil {
			return
		}
		s := New(Options{Now: func() time.Time { return apiBase }})
		if err := s.ApplySeed(seed); err != nil && (s.ImageCount() != 0 || len(s.st.Accounts) != 0 || len(s.st.BuilderImages) != 0) {
			t.Fatalf("a refused seed (%v) changed the state", err)
		}
	})
}
