package ec2emu

import (
	"encoding/xml"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// ---- wire protocol (docs/ec2-semantics.md, "EC2 wire protocol") ----

type errorEnvelope struct {
	XMLName xml.Name `xml:"Response"`
	Errors  struct {
		Error []struct {
			Code    string `xml:"Code"`
			Message string `xml:"Message"`
		} `xml:"Error"`
	} `xml:"Errors"`
	RequestID string `xml:"RequestID"`
}

func readEnvelope(t *testing.T, resp *http.Response) errorEnvelope {
	t.Helper()
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var env errorEnvelope
	if err := xml.Unmarshal(b, &env); err != nil {
		t.Fatalf("error body is not the EC2 envelope: %v\n%s", err, b)
	}
	if len(env.Errors.Error) != 1 || env.RequestID == "" {
		t.Fatalf("error envelope incomplete: %s", b)
	}
	return env
}

func TestAPIUnknownActionEnvelope(t *testing.T) {
	_, ts := newAPIServer(t, Options{})
	resp := rawPost(t, ts.URL, "Action=FlyToTheMoon&Version=2016-11-15", "us-east-1", "AKIDTEST"+acctA)
	if resp.StatusCode != 400 {
		t.Fatalf("status %d, want 400", resp.StatusCode)
	}
	for _, h := range []string{"X-Amzn-Requestid", "X-Amz-Requestid"} {
		if resp.Header.Get(h) == "" {
			t.Errorf("header %s missing", h)
		}
	}
	env := readEnvelope(t, resp)
	if env.Errors.Error[0].Code != "InvalidAction" || !strings.Contains(env.Errors.Error[0].Message, "FlyToTheMoon") {
		t.Fatalf("got %+v", env)
	}
	if env.RequestID != resp.Header.Get("X-Amzn-Requestid") {
		t.Fatalf("RequestID %q differs from header %q", env.RequestID, resp.Header.Get("X-Amzn-Requestid"))
	}
}

func TestAPIMissingParameterRaw(t *testing.T) {
	s, ts := newAPIServer(t, Options{})
	img := mkImage(acctA, "us-east-1", "base", apiBase)
	putImages(s, img)
	cases := []struct{ body, code, param string }{
		{"Action=AttachImageWatermark&Version=2016-11-15&ImageId=" + img.ID, "MissingParameter", "WatermarkName"},
		{"Action=AttachImageWatermark&Version=2016-11-15&WatermarkName=abc", "MissingParameter", "ImageId"},
		{"Action=DetachImageWatermark&Version=2016-11-15&ImageId=" + img.ID, "MissingParameter", "WatermarkKey"},
		{"Action=CopyImage&Version=2016-11-15&SourceImageId=" + img.ID + "&Name=x", "MissingParameter", "SourceRegion"},
		{"Action=RegisterImage&Version=2016-11-15", "MissingParameter", "Name"},
		{"Version=2016-11-15", "MissingAction", "Action"},
	}
	for _, c := range cases {
		resp := rawPost(t, ts.URL, c.body, "us-east-1", "AKIDTEST"+acctA)
		if resp.StatusCode != 400 {
			t.Errorf("%s: status %d", c.body, resp.StatusCode)
		}
		env := readEnvelope(t, resp)
		if e := env.Errors.Error[0]; e.Code != c.code || !strings.Contains(e.Message, c.param) {
			t.Errorf("%s: got %s %q, want %s naming %s", c.body, e.Code, e.Message, c.code, c.param)
		}
	}
}

func TestAPISuccessShape(t *testing.T) {
	s, ts := newAPIServer(t, Options{})
	img := mkImage(acctA, "us-east-1", "base", apiBase)
	putImages(s, img)
	resp := rawPost(t, ts.URL, url.Values{"Action": {"AttachImageWatermark"}, "Version": {"2016-11-15"},
		"ImageId": {img.ID}, "WatermarkName": {"golden"}}.Encode(), "us-east-1", "AKIDTEST"+acctA)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("status %d: %s", resp.StatusCode, b)
	}
	body := string(b)
	for _, want := range []string{
		`<AttachImageWatermarkResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">`,
		"<watermarkKey>" + acctA + ":golden</watermarkKey>",
		"<requestId>" + resp.Header.Get("X-Amz-Requestid") + "</requestId>",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("response lacks %s:\n%s", want, body)
		}
	}
	if resp.Header.Get("X-Amzn-Requestid") == "" || resp.Header.Get("X-Amzn-Requestid") != resp.Header.Get("X-Amz-Requestid") {
		t.Errorf("request id headers: %v", resp.Header)
	}
	// Timestamps on the wire ("EC2 wire protocol").
	resp = rawPost(t, ts.URL, "Action=DescribeImages&Version=2016-11-15&ImageId.1="+img.ID, "us-east-1", "AKIDTEST"+acctA)
	b, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{
		"<creationDate>2026-06-24T03:15:42.000Z</creationDate>",
		"<sourceImageCreationTime>2026-06-24T03:15:42.000000+00:00</sourceImageCreationTime>",
		"<watermarkCreationTime>2026-06-24T03:15:42.123456+00:00</watermarkCreationTime>",
		"<imageState>available</imageState>", "<isPublic>false</isPublic>", "<imageOwnerId>" + acctA + "</imageOwnerId>",
	} {
		if !strings.Contains(string(b), want) {
			t.Errorf("DescribeImages lacks %s:\n%s", want, b)
		}
	}
	if strings.Contains(string(b), "nextToken") || strings.Contains(string(b), "imageAllowed") {
		t.Errorf("nextToken/imageAllowed must be omitted:\n%s", b)
	}
}

func TestAPIRegionAndAccountFromRequest(t *testing.T) {
	_, ts := newAPIServer(t, Options{DefaultAccount: acctC})
	cb := client(t, ts.URL, "eu-west-1", acctB)
	id := registerImg(t, cb, "in-eu")
	img := describeOne(t, cb, id)
	if aws.ToString(img.OwnerId) != acctB {
		t.Fatalf("owner %s, want %s", aws.ToString(img.OwnerId), acctB)
	}
	// Not in another region.
	_, err := client(t, ts.URL, "us-east-1", acctB).DescribeImages(ctx, &ec2.DescribeImagesInput{ImageIds: []string{id}})
	apiErr(t, err, "InvalidAMIID.NotFound", "The image id '["+id+"]' does not exist")
	// A key id not ending in 12 digits acts as the default account.
	other := clientAKID(t, ts.URL, "eu-west-1", "AKIDEXAMPLEKEY")
	id2 := registerImg(t, other, "default-acct")
	if got := aws.ToString(describeOne(t, other, id2).OwnerId); got != acctC {
		t.Fatalf("default account: owner %s, want %s", got, acctC)
	}
}

// ---- AttachImageWatermark (docs/ec2-semantics.md, "AttachImageWatermark") ----

func TestAttachReturnsCallerKeyAndRecordsProvenance(t *testing.T) {
	s, ts := newAPIServer(t, Options{})
	c := client(t, ts.URL, "us-west-2", acctA)
	id := registerImg(t, c, "base")
	created := apiBase.Truncate(time.Second)
	advance(s, 90*time.Minute)
	key := attach(t, c, id, "golden")
	if key != acctA+":golden" {
		t.Fatalf("key %q, want %s:golden", key, acctA)
	}
	img := describeOne(t, c, id)
	sameWatermarks(t, "attached", sdkWatermarks(img.ImageWatermarks), []Watermark{
		wm(acctA, "golden", id, "us-west-2", created, apiBase.Add(90*time.Minute).Truncate(time.Microsecond)),
	})
	if aws.ToString(img.CreationDate) != "2026-06-24T03:15:42.000Z" {
		t.Fatalf("creationDate %q", aws.ToString(img.CreationDate))
	}
}

func TestAttachNameValidation(t *testing.T) {
	s, ts := newAPIServer(t, Options{})
	c := client(t, ts.URL, "us-east-1", acctA)
	img := mkImage(acctA, "us-east-1", "base", apiBase)
	putImages(s, img)
	const msg = "The watermark name isn't valid. The name must be 3-128 characters and can contain only letters (A-Z, a-z), numbers (0-9), spaces, and the following characters: () [] . / - ' @ _."
	cases := []struct {
		name string
		ok   bool
	}{
		{"", false}, {"x", false}, {"ab", false}, {"abc", true},
		{strings.Repeat("a", 128), true}, {strings.Repeat("a", 129), false},
		{"golden:v1", false}, {acctA + ":golden", false},
		{"a b (c) [d] e.f/g-h'i@j_k", true}, {"AZaz09", true},
		{"naïve", false}, {"tab\tname", false}, {"star*", false}, {"semi;colon", false}, {"comma,x", false},
	}
	for _, tc := range cases {
		_, err := c.AttachImageWatermark(ctx, &ec2.AttachImageWatermarkInput{ImageId: aws.String(img.ID), WatermarkName: aws.String(tc.name)})
		if tc.ok {
			if err != nil {
				t.Errorf("name %q: %v", tc.name, err)
			}
			// keep room: detach again
			must(c.DetachImageWatermark(ctx, &ec2.DetachImageWatermarkInput{ImageId: aws.String(img.ID), WatermarkKey: aws.String(acctA + ":" + tc.name)})).ok(t)
			continue
		}
		if st := apiErr(t, err, "InvalidParameter", msg); st != 400 {
			t.Errorf("name %q: status %d", tc.name, st)
		}
	}
}

func TestAttachSixthFailsWithLimit(t *testing.T) {
	s, ts := newAPIServer(t, Options{})
	c := client(t, ts.URL, "us-east-1", acctA)
	img := mkImage(acctA, "us-east-1", "base", apiBase)
	putImages(s, img)
	for i := 1; i <= 5; i++ {
		attach(t, c, img.ID, "mark-"+string(rune('0'+i)))
	}
	_, err := c.AttachImageWatermark(ctx, &ec2.AttachImageWatermarkInput{ImageId: aws.String(img.ID), WatermarkName: aws.String("mark-6")})
	if st := apiErr(t, err, "ResourceLimitExceeded", "Can't attach the watermark because the image already has the maximum number of watermarks (5). Detach unused watermarks, and try again."); st != 400 {
		t.Fatalf("status %d, want 400 (not retryable)", st)
	}
	// Re-attaching a present key at the limit is idempotent success ("AttachImageWatermark", row 8).
	if key := attach(t, c, img.ID, "mark-3"); key != acctA+":mark-3" {
		t.Fatalf("idempotent key %q", key)
	}
	if n := len(describeOne(t, c, img.ID).ImageWatermarks); n != 5 {
		t.Fatalf("%d watermarks, want 5", n)
	}
}

func TestAttachInheritedWatermarksCountTowardLimit(t *testing.T) {
	s, ts := newAPIServer(t, Options{})
	cA := client(t, ts.URL, "us-east-1", acctA)
	cB := client(t, ts.URL, "us-east-1", acctB)
	src := mkImage(acctA, "us-east-1", "src", apiBase)
	src.SharedWith = []string{acctB}
	putImages(s, src)
	for _, n := range []string{"one", "two", "three", "four"} {
		attach(t, cA, src.ID, n)
	}
	cp := must(cB.CopyImage(ctx, &ec2.CopyImageInput{SourceImageId: aws.String(src.ID), SourceRegion: aws.String("us-east-1"), Name: aws.String("copy")})).ok(t)
	cid := aws.ToString(cp.ImageId)
	attach(t, cB, cid, "five") // 4 inherited + 1 own
	_, err := cB.AttachImageWatermark(ctx, &ec2.AttachImageWatermarkInput{ImageId: cp.ImageId, WatermarkName: aws.String("six")})
	apiErr(t, err, "ResourceLimitExceeded", msgWatermarkLimit)
}

func TestAttachErrorOrder(t *testing.T) {
	s, ts := newAPIServer(t, Options{})
	c := client(t, ts.URL, "us-east-1", acctA)
	full := []Watermark{}
	for _, n := range []string{"a1a", "a2a", "a3a", "a4a", "a5a"} {
		full = append(full, wm(acctA, n, "ami-00000000", "us-east-1", apiBase, apiBase))
	}
	own := mkImage(acctA, "us-east-1", "own", apiBase)
	others := mkImage(acctB, "us-east-1", "others-public", apiBase)
	others.Public = true
	othersPrivate := mkImage(acctB, "us-east-1", "others-private", apiBase)
	public := mkImage(acctA, "us-east-1", "public-pending", apiBase)
	public.Public, public.State = true, "pending"
	pendingFull := mkImage(acctA, "us-east-1", "pending-full", apiBase, full...)
	pendingFull.State = "pending"
	fullImg := mkImage(acctA, "us-east-1", "full", apiBase, full...)
	putImages(s, own, others, othersPrivate, public, pendingFull, fullImg)

	cases := []struct {
		what, id, name, code, msg string
	}{
		{"malformed id beats bad name", "ami-xyz", "x", "InvalidAMIID.Malformed", `Invalid id: "ami-xyz" (expecting "ami-...")`},
		{"malformed: no prefix", "img-0123456789abcdef0", "golden", "InvalidAMIID.Malformed", ""},
		{"unknown id beats bad name", "ami-0123456789abcdef0", "x", "InvalidAMIID.NotFound", "The image id '[ami-0123456789abcdef0]' does not exist"},
		{"invisible (private, other account) is not found", othersPrivate.ID, "golden", "InvalidAMIID.NotFound", ""},
		{"bad name beats not owner", others.ID, "x", "InvalidParameter", msgInvalidWatermarkName},
		{"not owner beats public", others.ID, "golden", "AuthFailure", "Not authorized for image:" + others.ID},
		{"public beats pending", public.ID, "golden", "UnsupportedOperation", "Watermarks can't be attached to public images."},
		{"pending beats limit", pendingFull.ID, "golden", "IncorrectState", "The image '" + pendingFull.ID + "' is not in the available state."},
		{"limit", fullImg.ID, "golden", "ResourceLimitExceeded", msgWatermarkLimit},
	}
	for _, tc := range cases {
		_, err := c.AttachImageWatermark(ctx, &ec2.AttachImageWatermarkInput{ImageId: aws.String(tc.id), WatermarkName: aws.String(tc.name)})
		if st := apiErr(t, err, tc.code, tc.msg); st != 400 {
			t.Errorf("%s: status %d, want 400", tc.what, st)
		}
	}
	// Present key on a full image: idempotent success, nothing changes.
	out := must(c.AttachImageWatermark(ctx, &ec2.AttachImageWatermarkInput{ImageId: aws.String(fullImg.ID), WatermarkName: aws.String("a3a")})).ok(t)
	if aws.ToString(out.WatermarkKey) != acctA+":a3a" {
		t.Fatalf("key %q", aws.ToString(out.WatermarkKey))
	}
	sameWatermarks(t, "unchanged", sdkWatermarks(describeOne(t, c, fullImg.ID).ImageWatermarks), full)
}

func TestAttachIdempotentKeepsOriginalTime(t *testing.T) {
	s, ts := newAPIServer(t, Options{})
	c := client(t, ts.URL, "us-east-1", acctA)
	img := mkImage(acctA, "us-east-1", "base", apiBase)
	putImages(s, img)
	attach(t, c, img.ID, "golden")
	first := sdkWatermarks(describeOne(t, c, img.ID).ImageWatermarks)
	advance(s, time.Hour)
	attach(t, c, img.ID, "golden")
	sameWatermarks(t, "after second attach", sdkWatermarks(describeOne(t, c, img.ID).ImageWatermarks), first)
}

func TestAttachDetachDryRun(t *testing.T) {
	s, ts := newAPIServer(t, Options{})
	c := client(t, ts.URL, "us-east-1", acctA)
	img := mkImage(acctA, "us-east-1", "base", apiBase)
	putImages(s, img)
	_, err := c.AttachImageWatermark(ctx, &ec2.AttachImageWatermarkInput{ImageId: aws.String(img.ID), WatermarkName: aws.String("golden"), DryRun: aws.Bool(true)})
	if st := apiErr(t, err, "DryRunOperation", "Request would have succeeded, but DryRun flag is set."); st != 412 {
		t.Fatalf("status %d, want 412", st)
	}
	if n := len(describeOne(t, c, img.ID).ImageWatermarks); n != 0 {
		t.Fatalf("dry run attached: %d", n)
	}
	// A dry run of a failing request reports the real error.
	_, err = c.AttachImageWatermark(ctx, &ec2.AttachImageWatermarkInput{ImageId: aws.String(img.ID), WatermarkName: aws.String("x"), DryRun: aws.Bool(true)})
	apiErr(t, err, "InvalidParameter", msgInvalidWatermarkName)

	attach(t, c, img.ID, "golden")
	_, err = c.DetachImageWatermark(ctx, &ec2.DetachImageWatermarkInput{ImageId: aws.String(img.ID), WatermarkKey: aws.String(acctA + ":golden"), DryRun: aws.Bool(true)})
	if st := apiErr(t, err, "DryRunOperation", ""); st != 412 {
		t.Fatalf("status %d", st)
	}
	if n := len(describeOne(t, c, img.ID).ImageWatermarks); n != 1 {
		t.Fatalf("dry run detached: %d left", n)
	}
}

func TestSharedAMIOtherAccountCannotAttachOrDetach(t *testing.T) {
	s, ts := newAPIServer(t, Options{})
	cA := client(t, ts.URL, "us-east-1", acctA)
	cB := client(t, ts.URL, "us-east-1", acctB)
	img := mkImage(acctA, "us-east-1", "shared", apiBase)
	putImages(s, img)
	attach(t, cA, img.ID, "golden")
	must(cA.ModifyImageAttribute(ctx, &ec2.ModifyImageAttributeInput{ImageId: aws.String(img.ID),
		LaunchPermission: &types.LaunchPermissionModifications{Add: []types.LaunchPermission{{UserId: aws.String(acctB)}}}})).ok(t)

	// The recipient sees the watermarks.
	got := describeOne(t, cB, img.ID)
	if len(got.ImageWatermarks) != 1 || aws.ToString(got.ImageWatermarks[0].WatermarkKey) != acctA+":golden" {
		t.Fatalf("recipient sees %+v", got.ImageWatermarks)
	}
	_, err := cB.AttachImageWatermark(ctx, &ec2.AttachImageWatermarkInput{ImageId: aws.String(img.ID), WatermarkName: aws.String("mine")})
	apiErr(t, err, "AuthFailure", "Not authorized for image:"+img.ID)
	_, err = cB.DetachImageWatermark(ctx, &ec2.DetachImageWatermarkInput{ImageId: aws.String(img.ID), WatermarkKey: aws.String(acctA + ":golden")})
	apiErr(t, err, "AuthFailure", "Not authorized for image:"+img.ID)
	// A third account does not see it at all.
	_, err = client(t, ts.URL, "us-east-1", acctC).AttachImageWatermark(ctx, &ec2.AttachImageWatermarkInput{ImageId: aws.String(img.ID), WatermarkName: aws.String("mine")})
	apiErr(t, err, "InvalidAMIID.NotFound", "")
}

// ---- DetachImageWatermark (docs/ec2-semantics.md, "DetachImageWatermark") ----

func TestDetachIdempotentAndLocal(t *testing.T) {
	s, ts := newAPIServer(t, Options{})
	cA := client(t, ts.URL, "us-east-1", acctA)
	src := mkImage(acctA, "us-east-1", "src", apiBase)
	putImages(s, src)
	attach(t, cA, src.ID, "golden")
	attach(t, cA, src.ID, "silver")
	cp := aws.ToString(must(cA.CopyImage(ctx, &ec2.CopyImageInput{SourceImageId: aws.String(src.ID), SourceRegion: aws.String("us-east-1"), Name: aws.String("copy")})).ok(t).ImageId)
	before := sdkWatermarks(describeOne(t, cA, cp).ImageWatermarks)

	for i := 0; i < 2; i++ { // twice: idempotent
		out := must(cA.DetachImageWatermark(ctx, &ec2.DetachImageWatermarkInput{ImageId: aws.String(src.ID), WatermarkKey: aws.String(acctA + ":golden")})).ok(t)
		if !aws.ToBool(out.Return) {
			t.Fatal("return false")
		}
	}
	for _, k := range []string{"not-a-key", "", acctB + ":never", "999:x:y"} {
		must(cA.DetachImageWatermark(ctx, &ec2.DetachImageWatermarkInput{ImageId: aws.String(src.ID), WatermarkKey: aws.String(k)})).ok(t)
	}
	left := describeOne(t, cA, src.ID).ImageWatermarks
	if len(left) != 1 || aws.ToString(left[0].WatermarkKey) != acctA+":silver" {
		t.Fatalf("source keeps %+v", left)
	}
	sameWatermarks(t, "derived copy", sdkWatermarks(describeOne(t, cA, cp).ImageWatermarks), before)

	// Errors: malformed and unknown ids.
	_, err := cA.DetachImageWatermark(ctx, &ec2.DetachImageWatermarkInput{ImageId: aws.String("ami-nothex!"), WatermarkKey: aws.String("k")})
	apiErr(t, err, "InvalidAMIID.Malformed", "")
	_, err = cA.DetachImageWatermark(ctx, &ec2.DetachImageWatermarkInput{ImageId: aws.String("ami-0000000000000000f"), WatermarkKey: aws.String("k")})
	apiErr(t, err, "InvalidAMIID.NotFound", "")
}

func TestDetachInheritedKeyOfAnotherAccount(t *testing.T) {
	s, ts := newAPIServer(t, Options{})
	cA := client(t, ts.URL, "us-east-1", acctA)
	cB := client(t, ts.URL, "us-east-1", acctB)
	src := mkImage(acctA, "us-east-1", "src", apiBase)
	src.SharedWith = []string{acctB}
	putImages(s, src)
	attach(t, cA, src.ID, "golden")
	cp := aws.ToString(must(cB.CopyImage(ctx, &ec2.CopyImageInput{SourceImageId: aws.String(src.ID), SourceRegion: aws.String("us-east-1"), Name: aws.String("copy")})).ok(t).ImageId)
	must(cB.DetachImageWatermark(ctx, &ec2.DetachImageWatermarkInput{ImageId: aws.String(cp), WatermarkKey: aws.String(acctA + ":golden")})).ok(t)
	if n := len(describeOne(t, cB, cp).ImageWatermarks); n != 0 {
		t.Fatalf("inherited key still there: %d", n)
	}
	if n := len(describeOne(t, cA, src.ID).ImageWatermarks); n != 1 {
		t.Fatalf("source lost its watermark: %d", n)
	}
}

// ---- retries and waiters ----

// throttleFirst answers the first n API requests with 503
// RequestLimitExceeded, then passes through.
type throttleFirst struct {
	mu   sync.Mutex
	n    int
	seen int
	next http.Handler
}

func (h *throttleFirst) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.mu.Lock()
	h.seen++
	throttle := h.seen <= h.n
	h.mu.Unlock()
	if throttle {
		writeAPIError(w, newRequestID(), &apiError{Status: 503, Code: "RequestLimitExceeded", Message: "Request limit exceeded."})
		return
	}
	h.next.ServeHTTP(w, r)
}

func fastRetry(o *ec2.Options) {
	o.Retryer = retry.NewStandard(func(so *retry.StandardOptions) { so.MaxBackoff = 5 * time.Millisecond })
}

func TestSDKRetryerRidesOutThrottling(t *testing.T) {
	s, ts := newAPIServer(t, Options{})
	img := mkImage(acctA, "us-east-1", "base", apiBase)
	putImages(s, img)
	h := &throttleFirst{n: 2, next: s}
	front := httptestServer(t, h)
	c := client(t, front, "us-east-1", acctA, fastRetry)
	if key := attach(t, c, img.ID, "golden"); key != acctA+":golden" {
		t.Fatalf("key %q", key)
	}
	if h.seen != 3 {
		t.Fatalf("%d attempts, want 3", h.seen)
	}
	// With more throttles than attempts the error surfaces.
	h.mu.Lock()
	h.n, h.seen = 10, 0
	h.mu.Unlock()
	_, err := c.AttachImageWatermark(ctx, &ec2.AttachImageWatermarkInput{ImageId: aws.String(img.ID), WatermarkName: aws.String("x-y-z")})
	if st := apiErr(t, err, "RequestLimitExceeded", "Request limit exceeded."); st != 503 {
		t.Fatalf("status %d", st)
	}
	_ = ts
}

func TestSDKRetryerWithInjectedFaults(t *testing.T) {
	s, ts := newAPIServer(t, Options{})
	img := mkImage(acctA, "us-east-1", "base", apiBase)
	putImages(s, img)
	if err := s.SetFaults(Faults{ThrottleRate: 0.5, Seed: 7, Actions: []string{"DescribeImages"}}); err != nil {
		t.Fatal(err)
	}
	c := client(t, ts.URL, "us-east-1", acctA, func(o *ec2.Options) {
		o.Retryer = retry.NewStandard(func(so *retry.StandardOptions) { so.MaxBackoff = time.Millisecond; so.MaxAttempts = 10 })
	})
	for i := 0; i < 20; i++ {
		describeOne(t, c, img.ID)
	}
	st := s.Stats()
	if st.Actions["DescribeImages"] <= 20 || st.Faults["throttle"] == 0 {
		t.Fatalf("no throttling happened: %+v", st)
	}
}

func httptestServer(t *testing.T, h http.Handler) string {
	t.Helper()
	ts := httptest.NewServer(h)
	t.Cleanup(ts.Close)
	return ts.URL
}

func TestImageAvailableWaiterOnPendingImage(t *testing.T) {
	_, ts := newAPIServer(t, Options{PendingDescribes: 2})
	c := client(t, ts.URL, "us-east-1", acctA)
	id := registerImg(t, c, "fresh")
	if st := describeOne(t, c, id).State; st != types.ImageStatePending {
		t.Fatalf("new image is %s, want pending", st)
	}
	w := ec2.NewImageAvailableWaiter(c, func(o *ec2.ImageAvailableWaiterOptions) {
		o.MinDelay, o.MaxDelay = time.Millisecond, 5*time.Millisecond
	})
	if err := w.Wait(ctx, &ec2.DescribeImagesInput{ImageIds: []string{id}}, 10*time.Second); err != nil {
		t.Fatalf("waiter: %v", err)
	}
	if st := describeOne(t, c, id).State; st != types.ImageStateAvailable {
		t.Fatalf("after wait: %s", st)
	}
}

func TestImagePendingByTime(t *testing.T) {
	s, ts := newAPIServer(t, Options{AvailableAfter: 2 * time.Minute})
	c := client(t, ts.URL, "us-east-1", acctA)
	id := registerImg(t, c, "slow")
	if st := describeOne(t, c, id).State; st != types.ImageStatePending {
		t.Fatalf("state %s", st)
	}
	_, err := c.AttachImageWatermark(ctx, &ec2.AttachImageWatermarkInput{ImageId: aws.String(id), WatermarkName: aws.String("golden")})
	apiErr(t, err, "IncorrectState", "The image '"+id+"' is not in the available state.")
	advance(s, 2*time.Minute)
	attach(t, c, id, "golden") // settles without a describe
	if st := describeOne(t, c, id).State; st != types.ImageStateAvailable {
		t.Fatalf("state %s", st)
	}
}

func TestNotFoundDescribesAndExistsWaiter(t *testing.T) {
	_, ts := newAPIServer(t, Options{NotFoundDescribes: 2})
	c := client(t, ts.URL, "us-east-1", acctA)
	id := registerImg(t, c, "eventual")
	_, err := c.DescribeImages(ctx, &ec2.DescribeImagesInput{ImageIds: []string{id}})
	apiErr(t, err, "InvalidAMIID.NotFound", "")
	w := ec2.NewImageExistsWaiter(c, func(o *ec2.ImageExistsWaiterOptions) { o.MinDelay, o.MaxDelay = time.Millisecond, 5*time.Millisecond })
	if err := w.Wait(ctx, &ec2.DescribeImagesInput{ImageIds: []string{id}}, 10*time.Second); err != nil {
		t.Fatalf("exists waiter: %v", err)
	}
}

// ---- concurrency ----

func TestConcurrentRequests(t *testing.T) {
	s, ts := newAPIServer(t, Options{})
	var imgs []*Image
	for i := 0; i < 8; i++ {
		imgs = append(imgs, mkImage(acctA, "us-east-1", "img-"+string(rune('a'+i)), apiBase.Add(time.Duration(i)*time.Second)))
	}
	putImages(s, imgs...)
	c := client(t, ts.URL, "us-east-1", acctA)
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			img := imgs[g]
			for i := 0; i < 5; i++ {
				if _, err := c.AttachImageWatermark(ctx, &ec2.AttachImageWatermarkInput{ImageId: aws.String(img.ID), WatermarkName: aws.String("mark-" + string(rune('a'+i)))}); err != nil {
					errs <- err
					return
				}
				if _, err := c.DescribeImages(ctx, &ec2.DescribeImagesInput{Filters: []types.Filter{{Name: aws.String("image-watermark.watermark-key"), Values: []string{acctA + ":mark-*"}}}}); err != nil {
					errs <- err
					return
				}
				if _, err := c.CopyImage(ctx, &ec2.CopyImageInput{SourceImageId: aws.String(img.ID), SourceRegion: aws.String("us-east-1"), Name: aws.String("copy-" + img.ID + "-" + string(rune('a'+i)))}); err != nil {
					errs <- err
					return
				}
			}
		}(g)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	ids := describeIDs(t, c, &ec2.DescribeImagesInput{Owners: []string{"self"}, MaxResults: aws.Int32(5)})
	if len(ids) != 8+8*5 {
		t.Fatalf("%d images, want %d", len(ids), 8+8*5)
	}
}
