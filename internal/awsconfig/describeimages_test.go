package awsconfig_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/amiwatermark/packer-plugin-amiwatermark/internal/awsconfig"
	"github.com/amiwatermark/packer-plugin-amiwatermark/internal/ec2emu"
	"github.com/amiwatermark/packer-plugin-amiwatermark/internal/ec2emu/emutest"
)

// cannedHTTP answers every request with one body: the SDK's whole pipeline
// (serialize, sign, send, deserialize) runs, the answer is fixed.
type cannedHTTP struct {
	status int
	body   []byte
}

func (c cannedHTTP) Do(r *http.Request) (*http.Response, error) {
	if r.Body != nil {
		_, _ = io.Copy(io.Discard, r.Body)
		r.Body.Close()
	}
	return &http.Response{StatusCode: c.status, Status: http.StatusText(c.status), Header: http.Header{"Content-Type": {"text/xml"}},
		Body: io.NopCloser(bytes.NewReader(c.body)), ContentLength: int64(len(c.body)), Request: r}, nil
}

// describe decodes body as a DescribeImages answer through an SDK client,
// with the fast path or with the SDK's deserializer alone.
func describe(body []byte, status int, fast bool) (*ec2.DescribeImagesOutput, error) {
	o := ec2.Options{Region: "us-east-1", BaseEndpoint: aws.String("http://ec2.invalid"), RetryMaxAttempts: 1,
		Credentials: credentials.NewStaticCredentialsProvider("AKID", "secret", ""), HTTPClient: cannedHTTP{status, body}}
	if fast {
		o.APIOptions = append(o.APIOptions, awsconfig.FastDescribeImages)
	}
	return ec2.New(o).DescribeImages(context.Background(), &ec2.DescribeImagesInput{})
}

// sameAnswer fails unless the fast path and the SDK agree on body.
func sameAnswer(t testing.TB, body []byte, status int) {
	t.Helper()
	want, wantErr := describe(body, status, false)
	got, gotErr := describe(body, status, true)
	if (wantErr == nil) != (gotErr == nil) || wantErr != nil && wantErr.Error() != gotErr.Error() {
		t.Fatalf("errors differ:\nSDK:  %v\nfast: %v\nbody: %q", wantErr, gotErr, body)
	}
	if wantErr != nil {
		return
	}
	if !reflect.DeepEqual(want.Images, got.Images) || !reflect.DeepEqual(want.NextToken, got.NextToken) {
		t.Fatalf("outputs differ:\nSDK:  %s\nfast: %s\nbody: %q", dump(want), dump(got), body)
	}
}

func dump(o *ec2.DescribeImagesOutput) string {
	var b strings.Builder
	fmt.Fprintf(&b, "next=%v ", aws.ToString(o.NextToken))
	for _, im := range o.Images {
		fmt.Fprintf(&b, "%s ", deref(reflect.ValueOf(im)))
	}
	return b.String()
}

// deref prints a value with its pointers followed.
func deref(v reflect.Value) string {
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			return "nil"
		}
		return "&" + deref(v.Elem())
	case reflect.Struct:
		var parts []string
		for i := 0; i < v.NumField(); i++ {
			if f := v.Type().Field(i); f.IsExported() {
				parts = append(parts, f.Name+":"+deref(v.Field(i)))
			}
		}
		return "{" + strings.Join(parts, " ") + "}"
	case reflect.Slice:
		if v.IsNil() {
			return "nil"
		}
		var parts []string
		for i := 0; i < v.Len(); i++ {
			parts = append(parts, deref(v.Index(i)))
		}
		return "[" + strings.Join(parts, ",") + "]"
	}
	return fmt.Sprintf("%q", fmt.Sprint(v.Interface()))
}

// everyField is an answer naming every field the scanner fills, twice
// over where the SDK appends or merges, with character references and
// elements nobody knows.
const everyField = `<?xml version="1.0" encoding="UTF-8"?>
<DescribeImagesResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">
  <requestId>59dbff89-35bd-4eac-99ed-be587EXAMPLE</requestId>
  <futureThing><a>1</a><b/></futureThing>
  <imagesSet>
    <item>
      <imageId>ami-0123456789abcdef0</imageId>
      <imageLocation>123456789012/golden &amp; &lt;base&gt; &#233;&#x1F600;</imageLocation>
      <imageState>available</imageState>
      <imageOwnerId>123456789012</imageOwnerId>
      <imageOwnerAlias>amazon</imageOwnerAlias>
      <creationDate>2026-06-24T03:15:42.000Z</creationDate>
      <deprecationTime>2028-06-24T03:15:42.000Z</deprecationTime>
      <isPublic>false</isPublic>
      <name>golden 'quoted' &quot;double&quot; &apos;x&apos;</name>
      <description></description>
      <architecture>arm64</architecture>
      <imageType>machine</imageType>
      <platform>windows</platform>
      <platformDetails>Windows</platformDetails>
      <usageOperation>RunInstances:0002</usageOperation>
      <rootDeviceType>ebs</rootDeviceType>
      <rootDeviceName>/dev/xvda</rootDeviceName>
      <virtualizationType>hvm</virtualizationType>
      <hypervisor>xen</hypervisor>
      <enaSupport>true</enaSupport>
      <sriovNetSupport>simple</sriovNetSupport>
      <bootMode>uefi</bootMode>
      <tpmSupport>v2.0</tpmSupport>
      <imdsSupport>v2.0</imdsSupport>
      <kernelId>aki-12345678</kernelId>
      <ramdiskId>ari-12345678</ramdiskId>
      <lastLaunchedTime>2026-07-01T00:00:00Z</lastLaunchedTime>
      <deregistrationProtection>enabled-with-cooldown</deregistrationProtection>
      <publicSsmParameterName>/aws/service/x</publicSsmParameterName>
      <freeTierEligible>1</freeTierEligible>
      <imageAllowed>False</imageAllowed>
      <sourceImageId>ami-0fedcba9876543210</sourceImageId>
      <sourceImageRegion>eu-west-1</sourceImageRegion>
      <sourceInstanceId>i-0123456789abcdef0</sourceInstanceId>
      <blockDeviceMapping>
        <item>
          <deviceName>/dev/xvda</deviceName>
          <ebs>
            <snapshotId>snap-0123456789abcdef0</snapshotId>
            <volumeSize>8</volumeSize>
            <deleteOnTermination>true</deleteOnTermination>
            <volumeType>gp3</volumeType>
            <iops>3000</iops>
            <throughput>125</throughput>
            <encrypted>true</encrypted>
            <kmsKeyId>arn:aws:kms:us-east-1:123456789012:key/abc</kmsKeyId>
            <outpostArn>arn:aws:outposts:us-east-1:123456789012:outpost/op-1</outpostArn>
            <availabilityZone>us-east-1a</availabilityZone>
          </ebs>
          <ebs><volumeSize>4294967306</volumeSize></ebs>
        </item>
        <item><deviceName>/dev/sdb</deviceName><virtualName>ephemeral0</virtualName><noDevice></noDevice></item>
      </blockDeviceMapping>
      <blockDeviceMapping><item><deviceName>/dev/sdc</deviceName><unknown>x</unknown></item></blockDeviceMapping>
      <productCodes>
        <item><productCode>abcdefghijklmnopqrstuvwxy</productCode><type>marketplace</type></item>
      </productCodes>
      <tagSet>
        <item><key>Name</key><value>golden</value></item>
        <item><key>empty</key><value/></item>
        <notAnItem>skipped</notAnItem>
      </tagSet>
      <stateReason><code>Client.InvalidImage</code></stateReason>
      <stateReason><message>The image failed to be created.</message></stateReason>
      <imageWatermarkSet>
        <item>
          <watermarkKey>123456789012:golden</watermarkKey>
          <sourceImageId>ami-0fedcba9876543210</sourceImageId>
          <sourceImageRegion>eu-west-1</sourceImageRegion>
          <sourceImageCreationTime>2026-06-24T03:15:42.000Z</sourceImageCreationTime>
          <watermarkCreationTime>2026-06-25T10:00:00.123456Z</watermarkCreationTime>
        </item>
      </imageWatermarkSet>
      <scanResults>
        <findingScanDate>2026-06-25T00:00:00Z</findingScanDate>
        <highestFindingSeverityLabel>high</highestFindingSeverityLabel>
        <criticalFixAvailableSince>2026-06-20T00:00:00Z</criticalFixAvailableSince>
        <highFixAvailableSince>2026-06-21T00:00:00Z</highFixAvailableSince>
        <mediumFixAvailableSince>2026-06-22T00:00:00Z</mediumFixAvailableSince>
        <lowFixAvailableSince>2026-06-23T00:00:00Z</lowFixAvailableSince>
        <informationalFixAvailableSince>2026-06-24T00:00:00Z</informationalFixAvailableSince>
      </scanResults>
      <aFieldFromTheFuture><nested>ignored</nested></aFieldFromTheFuture>
    </item>
    <item><imageId>ami-1</imageId><tagSet/><imageWatermarkSet></imageWatermarkSet><stateReason/></item>
  </imagesSet>
  <imagesSet><item><imageId>ami-2</imageId></item></imagesSet>
  <nextToken>token&amp;more</nextToken>
</DescribeImagesResponse>
`

// notFilled are the fields the scanner leaves to the SDK: an answer
// carrying one of them is decoded by the SDK.
var notFilled = map[string]bool{
	"Image.InstanceTypeSpecification":         true,
	"EbsBlockDevice.AvailabilityZoneId":       true,
	"EbsBlockDevice.EbsCardIndex":             true,
	"EbsBlockDevice.VolumeInitializationRate": true,
}

// TestFastDescribeImagesFillsEveryField: the scanner reads everyField
// itself and fills every field of the SDK's types (but notFilled). When an
// SDK upgrade adds a field, this fails until the scanner fills it or
// leaves it to the SDK.
func TestFastDescribeImagesFillsEveryField(t *testing.T) {
	out, err := awsconfig.DecodeDescribeImages([]byte(everyField))
	if err != nil {
		t.Fatalf("the scanner refused everyField: %v", err)
	}
	if len(out.Images) != 3 || aws.ToString(out.NextToken) != "token&more" {
		t.Fatalf("images %d, next token %q", len(out.Images), aws.ToString(out.NextToken))
	}
	// A field counts as filled when any image or item has it (a non-nil
	// pointer, a non-empty slice, a non-zero value).
	filled, seen := map[string]bool{}, map[string]bool{}
	var walk func(path string, v reflect.Value)
	walk = func(path string, v reflect.Value) {
		seen[path] = true
		switch v.Kind() {
		case reflect.Pointer:
			if !v.IsNil() {
				filled[path] = true
				walk(path+"*", v.Elem())
			}
		case reflect.Slice:
			filled[path] = filled[path] || v.Len() > 0
			for i := 0; i < v.Len(); i++ {
				walk(path+"[]", v.Index(i))
			}
		case reflect.Struct:
			filled[path] = true
			typ := v.Type()
			for i := 0; i < v.NumField(); i++ {
				f := typ.Field(i)
				if f.IsExported() && !notFilled[typ.Name()+"."+f.Name] {
					walk(typ.Name()+"."+f.Name, v.Field(i))
				}
			}
		default:
			filled[path] = filled[path] || !v.IsZero()
		}
	}
	for _, im := range out.Images {
		walk("Image", reflect.ValueOf(im))
	}
	var empty []string
	for p := range seen {
		if !filled[p] && !strings.HasSuffix(p, "*") && !strings.HasSuffix(p, "[]") {
			empty = append(empty, p)
		}
	}
	slices.Sort(empty)
	if len(empty) > 0 {
		t.Fatalf("fields everyField leaves empty (fill them in the scanner, or add them to notFilled and the scanner's name lists): %v", empty)
	}
	if got := aws.ToString(out.Images[0].ImageLocation); got != "123456789012/golden & <base> é😀" {
		t.Errorf("imageLocation %q", got)
	}
	if got := aws.ToInt32(out.Images[0].BlockDeviceMappings[0].Ebs.VolumeSize); got != 10 {
		t.Errorf("a repeated <ebs> is merged and 4294967306 truncates to int32 as the SDK does: %d", got)
	}
	sameAnswer(t, []byte(everyField), 200)
}

// emulatorAnswers are DescribeImages answers of the emulator for images
// with every feature it models.
func emulatorAnswers(t testing.TB) [][]byte {
	var mu sync.Mutex
	var bodies [][]byte
	ts := emutest.NewServer(t, emutest.Options{Wrap: func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			rec := &recorder{ResponseWriter: w}
			next.ServeHTTP(rec, r)
			if r.Header.Get("X-Amz-Target") == "" && strings.Contains(rec.buf.String(), "<DescribeImagesResponse") {
				mu.Lock()
				bodies = append(bodies, rec.buf.Bytes())
				mu.Unlock()
			}
		})
	}})
	const owner = "111122223333"
	ids := ts.SeedImages(t,
		ec2emu.SeedImage{Region: "us-east-1", Account: owner, Name: "base", Description: `a "base" <image> & more: 金`,
			Tags: map[string]string{"Name": "base", "team": ""}, Architecture: "arm64", Platform: "windows",
			OwnerAlias: "amazon", DeprecationTime: "2030-01-01T00:00:00Z", ProductCodes: []string{"abcdefghijklmnopqrstuvwxy"},
			Watermarks: []ec2emu.SeedWatermark{{Key: "golden"}, {Key: "444455556666:approved"}},
			ScanResults: &ec2emu.SeedScanResults{FindingScanDate: "2026-06-01T00:00:00Z", HighestFindingSeverity: "medium",
				CriticalFixAvailableSince: "2026-05-01T00:00:00Z", LowFixAvailableSince: "2026-05-02T00:00:00Z"}},
		ec2emu.SeedImage{Region: "us-east-1", Account: owner, Name: "failed one", State: "failed", Public: true},
	)
	ts.SeedImages(t, ec2emu.SeedImage{Region: "us-east-1", Account: owner, Name: "child", SourceImageID: ids[0], SourceImageRegion: "us-east-1",
		SourceInstanceID: "i-0123456789abcdef0", Watermarks: []ec2emu.SeedWatermark{{Key: owner + ":golden", SourceImageID: ids[0]}}})
	for i := 0; i < 30; i++ {
		ts.SeedImages(t, ec2emu.SeedImage{Region: "us-east-1", Account: owner, Name: fmt.Sprintf("bulk-%d", i)})
	}
	c := ts.EC2("us-east-1", owner)
	ctx := context.Background()
	for _, in := range []*ec2.DescribeImagesInput{
		{Owners: []string{"self"}},
		{Owners: []string{"self"}, MaxResults: aws.Int32(5)},
		{ImageIds: ids},
		{Owners: []string{"self"}, Filters: []types.Filter{{Name: aws.String("name"), Values: []string{"nothing-matches"}}}},
	} {
		if _, err := c.DescribeImages(ctx, in); err != nil {
			t.Fatal(err)
		}
	}
	if len(bodies) != 4 {
		t.Fatalf("recorded %d answers, want 4", len(bodies))
	}
	return bodies
}

type recorder struct {
	http.ResponseWriter
	buf bytes.Buffer
}

func (r *recorder) Write(b []byte) (int, error) {
	r.buf.Write(b)
	return r.ResponseWriter.Write(b)
}

// TestFastDescribeImagesMatchesSDK: on the emulator's answers the scanner
// reads every body itself, and the client's output equals the SDK's alone.
func TestFastDescribeImagesMatchesSDK(t *testing.T) {
	for i, body := range emulatorAnswers(t) {
		if _, err := awsconfig.DecodeDescribeImages(body); err != nil {
			t.Errorf("answer %d: the scanner refused the emulator's answer (%v):\n%s", i, err, body)
		}
		sameAnswer(t, body, 200)
	}
}

// unusualBodies are answers the scanner leaves to the SDK; the client's
// result (output or error) must still be the SDK's.
var unusualBodies = []string{
	``,
	`   `,
	`not xml`,
	`<DescribeImagesResponse/>`,
	`<R><imagesSet><item><imageId>ami-1</imageId><!-- c --></item></imagesSet></R>`,
	`<R><imagesSet><item><imageId><![CDATA[ami-1]]></imageId></item></imagesSet></R>`,
	`<R><imagesSet><item><imageId>a&nbsp;b</imageId></item></imagesSet></R>`,
	`<R><imagesSet><item><imageId>a&amp b</imageId></item></imagesSet></R>`,
	"<R><imagesSet><item><imageId>a\r\nb</imageId></item></imagesSet></R>",
	"<R><imagesSet><item><imageId>a\x01b</imageId></item></imagesSet></R>",
	"<R><imagesSet><item><imageId>abcdefghijklmno\x1fpqrstuvwxyz0123</imageId></item></imagesSet></R>",
	"<R><imagesSet><item><imageId>abcdefghijklmnop\x7fqrstuvwxyz012\xc3</imageId></item></imagesSet></R>",
	"<R><imagesSet><item><imageId>a\xffb</imageId></item></imagesSet></R>",
	`<R><imagesSet><item><imageId>a]]>b</imageId></item></imagesSet></R>`,
	`<R><imagesSet><item><ImageId>ami-1</ImageId></item></imagesSet></R>`,
	`<R><imagesSet><ITEM><imageId>ami-1</imageId></ITEM></imagesSet></R>`,
	`<R><imagesSet><item><imageId a="b">ami-1</imageId></item></imagesSet></R>`,
	`<R><imagesSet><item><x:imageId xmlns:x="u">ami-1</x:imageId></item></imagesSet></R>`,
	`<R><imagesSet><item><imageId><b/></imageId></item></imagesSet></R>`,
	`<R><imagesSet><item><isPublic>yes</isPublic></item></imagesSet></R>`,
	`<R><imagesSet><item><isPublic></isPublic></item></imagesSet></R>`,
	`<R><imagesSet><item><blockDeviceMapping><item><ebs><volumeSize>8.5</volumeSize></ebs></item></blockDeviceMapping></item></imagesSet></R>`,
	`<R><imagesSet><item><imageWatermarkSet><item><watermarkCreationTime>yesterday</watermarkCreationTime></item></imageWatermarkSet></item></imagesSet></R>`,
	`<R><imagesSet><item><instanceTypeSpecification><supportedInstanceTypeSet><item>t3.micro</item></supportedInstanceTypeSet></instanceTypeSpecification></item></imagesSet></R>`,
	`<R><imagesSet><item><imageId>ami-1</imageId></item></imagesSet>`,
	`<R><imagesSet><item><imageId>ami-1</imageID></item></imagesSet></R>`,
	`<R><imagesSet><item><imageId>ami-1</imageId></item></imagesSet></R>trailing`,
	`<?xml version="1.0" encoding="ISO-8859-1"?><R><imagesSet/></R>`,
	`<R a><imagesSet/></R>`,
	`<R a="<"><imagesSet/></R>`,
	`<R><imagesSet>text<item/></imagesSet></R>`,
	`<R><imagesSet><item><imageId>&#0;</imageId></item></imagesSet></R>`,
	`<R><imagesSet><item><imageId>&#xD800;</imageId></item></imagesSet></R>`,
	`<R><imagesSet><item><imageId>&#X41;</imageId></item></imagesSet></R>`,
}

func TestFastDescribeImagesLeavesTheUnusualToTheSDK(t *testing.T) {
	for _, body := range unusualBodies {
		if _, err := awsconfig.DecodeDescribeImages([]byte(body)); err == nil {
			t.Errorf("the scanner read %q itself; it should leave it to the SDK", body)
		}
		sameAnswer(t, []byte(body), 200)
	}
}

// TestFastDescribeImagesErrorsAreTheSDKs: an error answer and a body cut
// short by the connection reach the caller as the SDK reports them.
func TestFastDescribeImagesErrorsAreTheSDKs(t *testing.T) {
	sameAnswer(t, []byte(`<?xml version="1.0" encoding="UTF-8"?>
<Response><Errors><Error><Code>UnauthorizedOperation</Code><Message>You are not authorized to perform this operation.</Message></Error></Errors><RequestID>r-1</RequestID></Response>`), 403)
	_, err := describe([]byte(`<Response><Errors><Error><Code>InvalidAMIID.Malformed</Code><Message>Invalid id</Message></Error></Errors></Response>`), 400, true)
	if err == nil || !strings.Contains(err.Error(), "InvalidAMIID.Malformed") {
		t.Fatalf("error answer: %v", err)
	}
	cut := everyField[:len(everyField)/2]
	for _, fast := range []bool{false, true} {
		o := ec2.Options{Region: "us-east-1", BaseEndpoint: aws.String("http://ec2.invalid"), RetryMaxAttempts: 1,
			Credentials: credentials.NewStaticCredentialsProvider("AKID", "secret", ""), HTTPClient: brokenBody{cut}}
		if fast {
			o.APIOptions = append(o.APIOptions, awsconfig.FastDescribeImages)
		}
		_, err := ec2.New(o).DescribeImages(context.Background(), &ec2.DescribeImagesInput{})
		if err == nil || !strings.Contains(err.Error(), "connection reset") {
			t.Errorf("fast=%v: a body cut by the connection: %v", fast, err)
		}
	}
}

// brokenBody sends part of an answer, then fails the read.
type brokenBody struct{ part string }

func (b brokenBody) Do(r *http.Request) (*http.Response, error) {
	return &http.Response{StatusCode: 200, Header: http.Header{}, Request: r,
		Body: io.NopCloser(io.MultiReader(strings.NewReader(b.part), failingReader{}))}, nil
}

type failingReader struct{}

func (failingReader) Read([]byte) (int, error) {
	return 0, fmt.Errorf("read tcp: connection reset by peer")
}

// FuzzFastDescribeImages: for any body, the client's result is the SDK's,
// and whatever the scanner reads itself the SDK reads the same way.
func FuzzFastDescribeImages(f *testing.F) {
	f.Add([]byte(everyField))
	for _, b := range unusualBodies {
		f.Add([]byte(b))
	}
	f.Add([]byte(`<R><imagesSet><item><imageId>ami-1</imageId><name> spaced &lt;x&gt; </name><tagSet><item><key>k</key></item></tagSet></item></imagesSet><nextToken/></R>`))
	f.Fuzz(func(t *testing.T, body []byte) {
		if out, err := awsconfig.DecodeDescribeImages(body); err == nil {
			want, err := describe(body, 200, false)
			if err != nil {
				t.Fatalf("the scanner read a body the SDK refuses (%v): %q", err, body)
			}
			if !reflect.DeepEqual(want.Images, out.Images) || !reflect.DeepEqual(want.NextToken, out.NextToken) {
				t.Fatalf("outputs differ:\nSDK:     %s\nscanner: %s\nbody: %q", dump(want), dump(out), body)
			}
		}
		sameAnswer(t, body, 200)
	})
}

// BenchmarkDescribeImagesDecode decodes a 1 000-image page of the
// emulator's answer through an SDK client (everything but the network)
// with the SDK's deserializer (the baseline) and with the fast path, and
// reports sdk/fast, the ratio of their times.
func BenchmarkDescribeImagesDecode(b *testing.B) {
	var page bytes.Buffer
	page.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n" + `<DescribeImagesResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>r</requestId><imagesSet>`)
	first := emulatorAnswers(b)[0]
	item := first[bytes.Index(first, []byte("<item>")):]
	item = item[:bytes.Index(item, []byte("</imagesSet>"))]
	for n := 0; n < 1000; n += bytes.Count(item, []byte("<imageId>")) {
		page.Write(item)
	}
	page.WriteString(`</imagesSet></DescribeImagesResponse>`)
	body := page.Bytes()
	// Both decoders in the same run, alternating, the same number of times.
	var times [2]time.Duration
	for b.Loop() {
		for i, fast := range []bool{false, true} {
			start := time.Now()
			if _, err := describe(body, 200, fast); err != nil {
				b.Fatal(err)
			}
			times[i] += time.Since(start)
		}
	}
	b.ReportMetric(float64(times[0].Microseconds())/float64(b.N)/1e3, "sdk_ms/page")
	b.ReportMetric(float64(times[1].Microseconds())/float64(b.N)/1e3, "fast_ms/page")
	b.ReportMetric(float64(times[0])/float64(times[1]), "sdk/fast")
}

// TestReleaseDescribeImages: a released page's memory serves later pages,
// which still equal the SDK's output whatever page came before; a released
// page is emptied, releasing twice or releasing a page the SDK decoded does
// nothing, and with PoisonReleasedPages a string read from a released page
// shows it (so the CLI's tests can prove it keeps none).
func TestReleaseDescribeImages(t *testing.T) {
	bodies := emulatorAnswers(t)
	if len(bodies) < 2 {
		t.Fatalf("want at least two emulator answers, got %d", len(bodies))
	}
	for round := 0; round < 3; round++ {
		for i, body := range bodies {
			want, err := describe(body, 200, false)
			if err != nil {
				t.Fatal(err)
			}
			got, err := describe(body, 200, true)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(want.Images, got.Images) || !reflect.DeepEqual(want.NextToken, got.NextToken) {
				t.Fatalf("round %d, answer %d, after released pages: outputs differ:\nSDK:  %s\nfast: %s", round, i, dump(want), dump(got))
			}
			awsconfig.ReleaseDescribeImages(got)
			if got.Images != nil {
				t.Fatalf("a released page still lists %d images", len(got.Images))
			}
			awsconfig.ReleaseDescribeImages(got) // twice: nothing happens
			awsconfig.ReleaseDescribeImages(want)
			if len(want.Images) > 0 && aws.ToString(want.Images[0].ImageId) == "" {
				t.Fatal("releasing a page the SDK decoded changed it")
			}
		}
	}

	awsconfig.PoisonReleasedPages(true)
	defer awsconfig.PoisonReleasedPages(false)
	var page *ec2.DescribeImagesOutput
	for _, body := range bodies {
		if p, err := describe(body, 200, true); err == nil && len(p.Images) > 0 {
			page = p
			break
		}
	}
	if page == nil {
		t.Fatal("no emulator answer with images")
	}
	id := aws.ToString(page.Images[0].ImageId)
	kept, token := strings.Clone(id), page.NextToken
	tokenText := aws.ToString(token)
	awsconfig.ReleaseDescribeImages(page)
	if id == kept || strings.Trim(id, "#") != "" {
		t.Errorf("a string read from a poisoned page reads %q, want only '#' (it was %q)", id, kept)
	}
	if aws.ToString(token) != tokenText {
		t.Errorf("the NextToken changed with the page's release: %q, was %q", aws.ToString(token), tokenText)
	}
}
