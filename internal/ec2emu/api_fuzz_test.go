package ec2emu

import (
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// globRegexp is an independent oracle: the EC2 wildcard pattern as an
// anchored regular expression.
func globRegexp(p string) *regexp.Regexp {
	var b strings.Builder
	b.WriteString(`(?s)\A`)
	for i := 0; i < len(p); {
		r, w := utf8.DecodeRuneInString(p[i:])
		switch r {
		case '*':
			b.WriteString(".*")
		case '?':
			b.WriteString(".")
		case '\\':
			if i+w < len(p) {
				r2, w2 := utf8.DecodeRuneInString(p[i+w:])
				b.WriteString(regexp.QuoteMeta(string(r2)))
				w += w2
			} else {
				b.WriteString(`\\`)
			}
		default:
			b.WriteString(regexp.QuoteMeta(string(r)))
		}
		i += w
	}
	b.WriteString(`\z`)
	return regexp.MustCompile(b.String())
}

func TestGlobTable(t *testing.T) {
	cases := []struct {
		p, s string
		want bool
	}{
		{"", "", true}, {"", "a", false}, {"*", "", true}, {"*", "anything", true}, {"**", "x", true},
		{"a*", "abc", true}, {"a*", "ba", false}, {"*c", "abc", true}, {"*b*", "abc", true}, {"*x*", "abc", false},
		{"a?c", "abc", true}, {"a?c", "ac", false}, {"?", "é", true}, {"??", "é", false},
		{`\*`, "*", true}, {`\*`, "a", false}, {`a\?`, "a?", true}, {`a\?`, "ab", false},
		{`\\`, `\`, true}, {`a\`, `a\`, true}, {`\*amazon\?\\`, `*amazon?\`, true},
		{"a*b*c", "aXbYc", true}, {"a*b*c", "aXbY", false}, {"*:golden", "123456789012:golden", true},
		{"1234*:gold?n", "123456789012:golden", true}, {"a*a*a*a*b", strings.Repeat("a", 40), false},
	}
	for _, c := range cases {
		g := compileGlob(c.p)
		if got := g.match(c.s); got != c.want {
			t.Errorf("compiled %q ~ %q = %v, want %v", c.p, c.s, got, c.want)
		}
		if got := globMatch(c.p, c.s); got != c.want {
			t.Errorf("globMatch %q ~ %q = %v, want %v", c.p, c.s, got, c.want)
		}
	}
}

func FuzzGlob(f *testing.F) {
	for _, seed := range [][2]string{{"*:golden", "1:golden"}, {`a\*b?`, "a*bc"}, {"*a?b*", "xxaxbyy"}, {`\`, `\`}, {"?é*", "aé"}} {
		f.Add(seed[0], seed[1])
	}
	f.Fuzz(func(t *testing.T, p, s string) {
		if !utf8.ValidString(p) || !utf8.ValidString(s) || len(p) > 64 || len(s) > 256 {
			t.Skip()
		}
		want := globRegexp(p).MatchString(s)
		if got := compileGlob(p); got.match(s) != want {
			t.Fatalf("compiled %q (kind %d) ~ %q = %v, regexp says %v", p, got.kind, s, !want, want)
		}
		if got := globMatch(p, s); got != want {
			t.Fatalf("globMatch %q ~ %q = %v, regexp says %v", p, s, got, want)
		}
	})
}

// FuzzAPIRequest sends arbitrary form bodies to the handler: it must never
// panic, and every answer must be well-formed XML: a 200 with the action's
// response element, or an error status with the EC2 error envelope.
func FuzzAPIRequest(f *testing.F) {
	seeds := []string{
		"Action=DescribeImages&Version=2016-11-15",
		"Action=DescribeImages&Filter.1.Name=image-watermark.watermark-key&Filter.1.Value.1=*%3Agold%5C*",
		"Action=DescribeImages&MaxResults=5&NextToken=AAAA",
		"Action=AttachImageWatermark&ImageId=ami-0aaaaaaaaaaaaaaa1&WatermarkName=%00%FF",
		"Action=DetachImageWatermark&ImageId=ami-0aaaaaaaaaaaaaaa1&WatermarkKey=x",
		"Action=ReplaceImageCriteriaInAllowedImagesSettings&ImageCriterion.1.ImageWatermark.1.MaximumDaysSinceWatermarkCreated=99999999999",
		"Action=ModifyImageAttribute&ImageId=ami-0aaaaaaaaaaaaaaa1&LaunchPermission.Add.1.Group=all",
		"Action=CopyImage&SourceImageId=ami-0aaaaaaaaaaaaaaa1&SourceRegion=us-east-1&Name=%3Cx%3E",
		"Action=RunInstances&ImageId=ami-0aaaaaaaaaaaaaaa1&MinCount=1&MaxCount=99999",
		"Action=CreateTags&ResourceId.1=ami-0aaaaaaaaaaaaaaa1&Tag.1.Key=a&Tag.1.Value=%1F",
		"Action=%3C%26",
	}
	for _, s := range seeds {
		f.Add(s)
	}
	s := New(Options{Now: func() time.Time { return apiBase }})
	img := mkImage(acctA, "us-east-1", "base", apiBase, wm(acctA, "golden", "", "us-east-1", apiBase, apiBase))
	img.ID = "ami-0aaaaaaaaaaaaaaa1"
	img.Watermarks[0].SourceImageID = img.ID
	img.Tags = map[string]string{"weird": "\x01<&>\uFFFE"}
	putImages(s, img)
	f.Fuzz(func(t *testing.T, body string) {
		req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKIDTEST"+acctA+"/20260624/us-east-1/ec2/aws4_request, SignedHeaders=host, Signature=00")
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, req)
		b, _ := io.ReadAll(rec.Body)
		if err := wellFormed(b); err != nil {
			t.Fatalf("status %d, body not well-formed XML (%v):\n%s", rec.Code, err, b)
		}
		switch {
		case rec.Code == 200:
			if !strings.Contains(string(b), `Response xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"`) {
				t.Fatalf("200 without response element:\n%s", b)
			}
		case rec.Code >= 400:
			var env errorEnvelope
			if err := xml.Unmarshal(b, &env); err != nil || len(env.Errors.Error) != 1 || env.Errors.Error[0].Code == "" || env.RequestID == "" {
				t.Fatalf("status %d without the error envelope:\n%s", rec.Code, b)
			}
		default:
			t.Fatalf("status %d", rec.Code)
		}
		if rec.Header().Get("X-Amzn-Requestid") == "" {
			t.Fatal("no request id header")
		}
	})
}

func wellFormed(b []byte) error {
	d := xml.NewDecoder(strings.NewReader(string(b)))
	for {
		_, err := d.Token()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("%w", err)
		}
	}
}
