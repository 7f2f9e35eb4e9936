package amiwatermark

import (
	"context"
	"os"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	packersdk "github.com/hashicorp/packer-plugin-sdk/packer"

	"github.com/amiwatermark/packer-plugin-amiwatermark/internal/ec2emu"
	"github.com/amiwatermark/packer-plugin-amiwatermark/internal/ec2emu/emutest"
	"github.com/amiwatermark/packer-plugin-amiwatermark/internal/engine"
	"github.com/amiwatermark/packer-plugin-amiwatermark/internal/testkit"
)

// The tests run the post-processor with the real SDK against the in-process
// emulator. Credentials AKIDTEST111122223333 act as account 111122223333.
const (
	testAccount = "111122223333"
	otherAcct   = "444455556666"
	testKeyID   = "AKIDTEST" + testAccount
	testSecret  = "emulator-secret-value"
	testToken   = "emulator-session-token"
)

func TestMain(m *testing.M) {
	// Poll fast: the emulator's pending images change per describe.
	timing = engine.Timing{PollInitial: 10 * time.Millisecond, PollMax: 50 * time.Millisecond, VerifyWindow: 300 * time.Millisecond}
	os.Exit(m.Run())
}

// emu is the in-process emulator with the suite's helpers.
type emu struct{ *emutest.Server }

func newEmu(t testing.TB) *emu { return &emu{emutest.NewServer(t, emutest.Options{})} }

// calls is the number of requests of action received (all regions)
// without DryRun: the calls that could change something.
func (e *emu) calls(action string) int64 {
	st := e.Emulator.Stats()
	return st.Actions[action] - st.DryRun[action]
}

func (e *emu) image(t testing.TB, region, id string) types.Image {
	t.Helper()
	return testkit.DescribeImage(t, e.EC2(region, testAccount), id)
}

func (e *emu) keys(t testing.TB, region, id string) []string {
	t.Helper()
	var out []string
	for _, w := range e.image(t, region, id).ImageWatermarks {
		out = append(out, aws.ToString(w.WatermarkKey))
	}
	sort.Strings(out)
	return out
}

// pp configures a post-processor against the emulator.
func (e *emu) pp(t testing.TB, raw map[string]interface{}) *PostProcessor {
	t.Helper()
	base := map[string]interface{}{
		"custom_endpoint_ec2": e.URL,
		"access_key":          testKeyID,
		"secret_key":          testSecret,
		"token":               testToken,
	}
	p := &PostProcessor{}
	if err := p.Configure(base, raw); err != nil {
		t.Fatalf("Configure: %v", err)
	}
	return p
}

func amiArtifact(targets ...string) *testkit.Artifact {
	return &testkit.Artifact{Builder: "mitchellh.amazonebs", ID: strings.Join(targets, ","),
		StateData: map[string]interface{}{"generated_data": map[string]interface{}{"SourceAMIName": "base"}}}
}

// runPP runs PostProcess and checks the keep/forceOverride contract.
func runPP(t testing.TB, ctx context.Context, p *PostProcessor, in packersdk.Artifact) (packersdk.Artifact, *testkit.UI, error) {
	t.Helper()
	ui := &testkit.UI{}
	out, keep, force, err := p.PostProcess(ctx, ui, in)
	if !keep || !force {
		t.Fatalf("PostProcess returned keep=%v forceOverride=%v, want true/true", keep, force)
	}
	if testing.Verbose() {
		t.Logf("UI:\n%serror: %v", ui, err)
	}
	for _, s := range []string{testSecret, testToken} {
		if strings.Contains(ui.String(), s) || (err != nil && strings.Contains(err.Error(), s)) {
			t.Fatalf("a credential appears in the output")
		}
	}
	return out, ui, err
}

func TestPostProcessorTwoRegions(t *testing.T) {
	e := newEmu(t)
	east := e.SeedImages(t, ec2emu.SeedImage{Region: "us-east-1", Account: testAccount, Name: "app"})[0]
	west := e.SeedImages(t, ec2emu.SeedImage{Region: "eu-west-1", Account: testAccount, Name: "app"})[0]
	in := amiArtifact("us-east-1:"+east, "eu-west-1:"+west)
	p := e.pp(t, map[string]interface{}{"watermarks": []string{"golden", "approved"}})

	out, ui, err := runPP(t, context.Background(), p, in)
	if err != nil {
		t.Fatalf("PostProcess: %v\n%s", err, ui)
	}
	st := e.Emulator.Stats()
	want := []string{testAccount + ":approved", testAccount + ":golden"}
	for region, id := range map[string]string{"us-east-1": east, "eu-west-1": west} {
		if got := e.keys(t, region, id); !reflect.DeepEqual(got, want) {
			t.Errorf("%s %s keys = %v, want %v", region, id, got, want)
		}
		for _, w := range e.image(t, region, id).ImageWatermarks {
			if aws.ToString(w.SourceImageId) != id || aws.ToString(w.SourceImageRegion) != region {
				t.Errorf("%s: watermark %s source %s/%s", id, aws.ToString(w.WatermarkKey), aws.ToString(w.SourceImageId), aws.ToString(w.SourceImageRegion))
			}
		}
		if !strings.Contains(ui.String(), region+" "+id+": attached "+testAccount+":golden\n") {
			t.Errorf("UI does not report the attach in %s:\n%s", region, ui)
		}
	}
	if st.Actions["AttachImageWatermark"]-st.DryRun["AttachImageWatermark"] != 4 || st.Actions["DescribeImages"] != 4 || st.Actions["DetachImageWatermark"] != 0 {
		t.Errorf("calls = %v (DryRun %v), want 4 attaches and 4 describes (1 + 1 verify per region)", st.Actions, st.DryRun)
	}
	if st.DryRun["AttachImageWatermark"] != 4 || len(st.DryRun) != 1 {
		t.Errorf("DryRun calls = %v, want the 4 attaches checked once each before any change", st.DryRun)
	}
	// Output artifact: the input's identity, the keys in its state.
	if out.BuilderId() != "mitchellh.amazonebs" || out.Id() != in.Id() {
		t.Errorf("artifact %s %s", out.BuilderId(), out.Id())
	}
	keys := KeysFromState(out.State("amiwatermark"))
	for region, id := range map[string]string{"us-east-1": east, "eu-west-1": west} {
		got := append([]string{}, keys[region][id]...)
		sort.Strings(got)
		if !reflect.DeepEqual(got, want) {
			t.Errorf("State(amiwatermark)[%s][%s] = %v", region, id, got)
		}
	}
	gd := out.State("generated_data").(map[string]interface{})
	if gd["WatermarkKeys"] != strings.Join(want, ",") || gd["SourceAMIName"] != "base" {
		t.Errorf("generated_data = %v", gd)
	}

	// Re-run: nothing changes, no Attach call, the names are reported as
	// already present.
	e.Emulator.ResetStats()
	_, ui, err = runPP(t, context.Background(), e.pp(t, map[string]interface{}{"watermarks": []string{"golden", "approved"}}), in)
	if err != nil {
		t.Fatalf("re-run: %v\n%s", err, ui)
	}
	if n := e.calls("AttachImageWatermark"); n != 0 {
		t.Errorf("re-run made %d Attach calls, want 0", n)
	}
	if !strings.Contains(ui.String(), "us-east-1 "+east+": skipped "+testAccount+":golden (already present)") {
		t.Errorf("re-run UI:\n%s", ui)
	}
}

func TestPostProcessorLimitRefusedBeforeMutation(t *testing.T) {
	e := newEmu(t)
	east := e.SeedImages(t, ec2emu.SeedImage{Region: "us-east-1", Account: testAccount, Name: "app"})[0]
	parent := e.SeedImages(t, ec2emu.SeedImage{Region: "us-west-2", Account: otherAcct, Name: "parent"})[0]
	west := e.SeedImages(t, ec2emu.SeedImage{Region: "eu-west-1", Account: testAccount, Name: "app", Watermarks: []ec2emu.SeedWatermark{
		{Key: otherAcct + ":aaa", SourceImageID: parent, SourceImageRegion: "us-west-2"},
		{Key: otherAcct + ":bbb", SourceImageID: parent, SourceImageRegion: "us-west-2"},
		{Key: otherAcct + ":ccc", SourceImageID: parent, SourceImageRegion: "us-west-2"},
		{Key: otherAcct + ":ddd", SourceImageID: parent, SourceImageRegion: "us-west-2"},
	}})[0]
	e.Emulator.ResetStats()
	_, ui, err := runPP(t, context.Background(), e.pp(t, map[string]interface{}{"watermarks": []string{"golden", "approved"}}),
		amiArtifact("us-east-1:"+east, "eu-west-1:"+west))
	if err == nil {
		t.Fatalf("want an error\n%s", ui)
	}
	msg := err.Error()
	for _, s := range []string{"nothing was changed", "eu-west-1 " + west + ": the AMI would carry 6 watermarks", otherAcct + ":aaa (inherited from " + parent + " in us-west-2)", "detach = [\"" + otherAcct + ":aaa\"]"} {
		if !strings.Contains(msg, s) {
			t.Errorf("error does not contain %q:\n%s", s, msg)
		}
	}
	st := e.Emulator.Stats()
	for region, acts := range st.Regions {
		if acts["AttachImageWatermark"]+acts["DetachImageWatermark"] != 0 {
			t.Errorf("%s: mutations made: %v", region, acts)
		}
	}
	if got := e.keys(t, "us-east-1", east); len(got) != 0 {
		t.Errorf("us-east-1 AMI changed: %v", got)
	}
}

func TestPostProcessorDetachThenAttach(t *testing.T) {
	e := newEmu(t)
	// 4 inherited + candidate = 5: attaching approved only fits after the
	// detach, so this also proves the order of the calls.
	parent := e.SeedImages(t, ec2emu.SeedImage{Region: "us-west-2", Account: otherAcct, Name: "parent"})[0]
	id := e.SeedImages(t, ec2emu.SeedImage{Region: "us-east-1", Account: testAccount, Name: "app", Watermarks: []ec2emu.SeedWatermark{
		{Key: otherAcct + ":aaa", SourceImageID: parent, SourceImageRegion: "us-west-2"},
		{Key: otherAcct + ":bbb", SourceImageID: parent, SourceImageRegion: "us-west-2"},
		{Key: otherAcct + ":ccc", SourceImageID: parent, SourceImageRegion: "us-west-2"},
		{Key: otherAcct + ":ddd", SourceImageID: parent, SourceImageRegion: "us-west-2"},
		{Key: "candidate"},
	}})[0]
	e.Emulator.ResetStats()
	out, ui, err := runPP(t, context.Background(), e.pp(t, map[string]interface{}{"watermarks": []string{"approved"}, "detach": []string{"candidate", "111122223333:never"}}),
		amiArtifact("us-east-1:"+id))
	if err != nil {
		t.Fatalf("%v\n%s", err, ui)
	}
	want := []string{testAccount + ":approved", otherAcct + ":aaa", otherAcct + ":bbb", otherAcct + ":ccc", otherAcct + ":ddd"}
	if got := e.keys(t, "us-east-1", id); !reflect.DeepEqual(got, want) {
		t.Errorf("keys = %v, want %v", got, want)
	}
	if d, a := e.calls("DetachImageWatermark"), e.calls("AttachImageWatermark"); d != 1 || a != 1 {
		t.Errorf("detach calls %d, attach calls %d; want 1 and 1", d, a)
	}
	s := ui.String()
	di, ai := strings.Index(s, "detached "+testAccount+":candidate"), strings.Index(s, "attached "+testAccount+":approved")
	if di < 0 || ai < 0 || di > ai {
		t.Errorf("UI does not show detach before attach:\n%s", s)
	}
	if !strings.Contains(s, "detach 111122223333:never: not present, nothing to do") {
		t.Errorf("UI does not report the absent key:\n%s", s)
	}
	if got := KeysFromState(out.State("amiwatermark"))["us-east-1"][id]; len(got) != 5 {
		t.Errorf("state keys = %v", got)
	}
}

func TestPostProcessorDryRun(t *testing.T) {
	e := newEmu(t)
	parent := e.SeedImages(t, ec2emu.SeedImage{Region: "us-west-2", Account: otherAcct, Name: "parent"})[0]
	id := e.SeedImages(t, ec2emu.SeedImage{Region: "us-east-1", Account: testAccount, Name: "app", Watermarks: []ec2emu.SeedWatermark{
		{Key: otherAcct + ":aaa", SourceImageID: parent, SourceImageRegion: "us-west-2"},
		{Key: otherAcct + ":bbb", SourceImageID: parent, SourceImageRegion: "us-west-2"},
		{Key: otherAcct + ":ccc", SourceImageID: parent, SourceImageRegion: "us-west-2"},
		{Key: otherAcct + ":ddd", SourceImageID: parent, SourceImageRegion: "us-west-2"},
		{Key: "candidate"},
	}})[0]
	id2 := e.SeedImages(t, ec2emu.SeedImage{Region: "eu-west-1", Account: testAccount, Name: "app"})[0]
	before1, before2 := e.keys(t, "us-east-1", id), e.keys(t, "eu-west-1", id2)
	e.Emulator.ResetStats()
	out, ui, err := runPP(t, context.Background(), e.pp(t, map[string]interface{}{"watermarks": []string{"approved", "golden"}, "detach": []string{"candidate", otherAcct + ":aaa"}, "dry_run": true}),
		amiArtifact("us-east-1:"+id, "eu-west-1:"+id2))
	if err != nil {
		t.Fatalf("%v\n%s", err, ui)
	}
	st := e.Emulator.Stats()
	if got := e.keys(t, "us-east-1", id); !reflect.DeepEqual(got, before1) {
		t.Errorf("dry run changed us-east-1: %v -> %v", before1, got)
	}
	if got := e.keys(t, "eu-west-1", id2); !reflect.DeepEqual(got, before2) {
		t.Errorf("dry run changed eu-west-1: %v -> %v", before2, got)
	}
	// The DryRun calls are made (they check permissions), verify is not.
	if st.Actions["AttachImageWatermark"] != 4 || st.Actions["DetachImageWatermark"] != 2 || st.Actions["DescribeImages"] != 2 {
		t.Errorf("calls = %v", st.Actions)
	}
	for _, line := range strings.Split(strings.TrimSpace(ui.String()), "\n") {
		if !strings.HasPrefix(line, "[dry-run] ") {
			t.Errorf("line without [dry-run] prefix: %q", line)
		}
	}
	if !strings.Contains(ui.String(), "eu-west-1 "+id2+": would attach "+testAccount+":golden (DryRun check passed)") {
		t.Errorf("UI:\n%s", ui)
	}
	if got := KeysFromState(out.State("amiwatermark"))["eu-west-1"][id2]; len(got) != 0 {
		t.Errorf("dry-run state for an untouched AMI = %v", got)
	}
}

func TestPostProcessorThrottling(t *testing.T) {
	e := newEmu(t)
	regions := []string{"us-east-1", "eu-west-1", "ap-southeast-2", "sa-east-1"}
	var targets []string
	for _, r := range regions {
		targets = append(targets, r+":"+e.SeedImages(t, ec2emu.SeedImage{Region: r, Account: testAccount, Name: "app"})[0])
	}
	if err := e.Emulator.SetFaults(ec2emu.Faults{ThrottleRate: 0.3, ErrorRate: 0.05, Seed: 7}); err != nil {
		t.Fatal(err)
	}
	_, ui, err := runPP(t, context.Background(), e.pp(t, map[string]interface{}{"watermarks": []string{"golden", "approved", "qa-passed"}}), amiArtifact(targets...))
	if err != nil {
		t.Fatalf("%v\n%s", err, ui)
	}
	st := e.Emulator.Stats()
	if st.Faults["throttle"] == 0 {
		t.Fatalf("no throttling was injected: %v", st.Faults)
	}
	if err := e.Emulator.SetFaults(ec2emu.Faults{}); err != nil {
		t.Fatal(err)
	}
	want := []string{testAccount + ":approved", testAccount + ":golden", testAccount + ":qa-passed"}
	for _, tg := range targets {
		region, id, _ := strings.Cut(tg, ":")
		if got := e.keys(t, region, id); !reflect.DeepEqual(got, want) {
			t.Errorf("%s keys = %v, want %v", tg, got, want)
		}
	}
	t.Logf("calls %v, faults %v", st.Actions, st.Faults)
}

func TestPostProcessorPendingBecomesAvailable(t *testing.T) {
	e := newEmu(t)
	ids := e.SeedImages(t,
		ec2emu.SeedImage{Region: "us-east-1", Account: testAccount, Name: "new", State: "pending", PendingDescribes: 3, NotFoundDescribes: 2},
		ec2emu.SeedImage{Region: "us-east-1", Account: testAccount, Name: "ready"})
	e.Emulator.ResetStats()
	_, ui, err := runPP(t, context.Background(), e.pp(t, map[string]interface{}{"watermarks": []string{"golden"}}),
		amiArtifact("us-east-1:"+ids[0], "us-east-1:"+ids[1]))
	if err != nil {
		t.Fatalf("%v\n%s", err, ui)
	}
	for _, id := range ids {
		if got := e.keys(t, "us-east-1", id); !reflect.DeepEqual(got, []string{testAccount + ":golden"}) {
			t.Errorf("%s keys = %v", id, got)
		}
	}
	s := ui.String()
	for _, want := range []string{ids[0] + ": not found yet", ids[0] + ": state pending; waiting up to 30m0s", ids[0] + ": state available"} {
		if !strings.Contains(s, want) {
			t.Errorf("UI does not say %q:\n%s", want, s)
		}
	}
	if strings.Contains(s, ids[1]+": not found") {
		t.Errorf("the available AMI was reported not found because the other one was:\n%s", s)
	}
	if n := e.calls("DescribeImages"); n < 6 {
		t.Errorf("only %d describes: the post-processor did not wait", n)
	}
}

func TestPostProcessorWaitTimeout(t *testing.T) {
	e := newEmu(t)
	ids := e.SeedImages(t,
		ec2emu.SeedImage{Region: "us-east-1", Account: testAccount, Name: "stuck", State: "pending"},
		ec2emu.SeedImage{Region: "eu-west-1", Account: testAccount, Name: "fine"})
	missing := "ami-0000000000000dead"
	start := time.Now()
	_, ui, err := runPP(t, context.Background(), e.pp(t, map[string]interface{}{"watermarks": []string{"golden"}, "wait_timeout": "300ms"}),
		amiArtifact("us-east-1:"+ids[0], "eu-west-1:"+ids[1], "ap-south-1:"+missing))
	if err == nil {
		t.Fatalf("want a timeout error\n%s", ui)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("took %v with wait_timeout 300ms", d)
	}
	msg := err.Error()
	for _, want := range []string{
		"us-east-1 " + ids[0] + `: did not become available within wait_timeout (300ms): last state seen "pending"`,
		"ap-south-1 " + missing + `: not found: DescribeImages of ` + missing + ` in ap-south-1 as account ` + testAccount + ` returned no such AMI`,
		"likely causes: a typo in the AMI id, the wrong region, credentials of another account",
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("error does not contain %q:\n%s", want, msg)
		}
	}
	if n := e.calls("AttachImageWatermark"); n != 0 {
		t.Errorf("%d attach calls after a failed plan", n)
	}
}

func TestPostProcessorForeignAndPublicRefused(t *testing.T) {
	e := newEmu(t)
	ids := e.SeedImages(t,
		ec2emu.SeedImage{Region: "us-east-1", Account: testAccount, Name: "mine"},
		ec2emu.SeedImage{Region: "us-east-1", Account: otherAcct, Name: "theirs", SharedWith: []string{testAccount}},
		ec2emu.SeedImage{Region: "eu-west-1", Account: testAccount, Name: "public", Public: true},
		ec2emu.SeedImage{Region: "eu-west-1", Account: testAccount, Name: "broken", State: "failed"})
	e.Emulator.ResetStats()
	_, ui, err := runPP(t, context.Background(), e.pp(t, map[string]interface{}{"watermarks": []string{"golden"}}),
		amiArtifact("us-east-1:"+ids[0], "us-east-1:"+ids[1], "eu-west-1:"+ids[2], "eu-west-1:"+ids[3]))
	if err == nil {
		t.Fatalf("want an error\n%s", ui)
	}
	msg := err.Error()
	for _, want := range []string{
		"nothing was changed: 3 problem(s) found while planning",
		"us-east-1 " + ids[1] + ": the AMI is owned by account " + otherAcct + ", not by the account of the credentials in use",
		"eu-west-1 " + ids[2] + ": the AMI is public",
		"eu-west-1 " + ids[3] + `: the AMI is in state "failed"`,
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("error does not contain %q:\n%s", want, msg)
		}
	}
	if n := e.calls("AttachImageWatermark") + e.calls("DetachImageWatermark"); n != 0 {
		t.Errorf("%d mutations", n)
	}
}

func TestPostProcessorRequireAllowed(t *testing.T) {
	e := newEmu(t)
	id := e.SeedImages(t, ec2emu.SeedImage{Region: "us-east-1", Account: testAccount, Name: "app"})[0]
	ctx := context.Background()
	c := e.EC2("us-east-1", testAccount)
	// Criteria that accept images watermarked golden by this account, but
	// the setting itself still disabled: imageAllowed is not reported.
	if _, err := c.ReplaceImageCriteriaInAllowedImagesSettings(ctx, &ec2.ReplaceImageCriteriaInAllowedImagesSettingsInput{
		ImageCriteria: []types.ImageCriterionRequest{{ImageWatermarks: []types.ImageWatermarkFilterRequest{{WatermarkKey: aws.String(testAccount + ":golden")}}}},
	}); err != nil {
		t.Fatal(err)
	}
	_, ui, err := runPP(t, ctx, e.pp(t, map[string]interface{}{"watermarks": []string{"golden"}, "require_allowed": true}), amiArtifact("us-east-1:"+id))
	want := "require_allowed: the account's Allowed AMIs setting in us-east-1 is disabled, so no criteria decide launches there"
	if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "nothing was changed") {
		t.Fatalf("disabled setting: error %v\nwant %s\n%s", err, want, ui)
	}
	// Refused before any change.
	if got := e.keys(t, "us-east-1", id); len(got) != 0 || e.calls("AttachImageWatermark") != 0 {
		t.Errorf("keys = %v, attach calls %d after a refusal", got, e.calls("AttachImageWatermark"))
	}

	// Audit mode, criteria on golden: attaching golden passes.
	if _, err := c.EnableAllowedImagesSettings(ctx, &ec2.EnableAllowedImagesSettingsInput{AllowedImagesSettingsState: types.AllowedImagesSettingsEnabledStateAuditMode}); err != nil {
		t.Fatal(err)
	}
	// Attaching only "other" would leave the AMI outside the criteria, as
	// a consuming account sees them, although the owner may launch it.
	_, ui, err = runPP(t, ctx, e.pp(t, map[string]interface{}{"watermarks": []string{"other"}, "require_allowed": true}), amiArtifact("us-east-1:"+id))
	if err == nil || !strings.Contains(err.Error(), "would not be allowed by the account's current Allowed AMIs criteria in us-east-1") ||
		!strings.Contains(err.Error(), "criterion 1:") {
		t.Fatalf("breach: error %v\n%s", err, ui)
	}
	if got := e.keys(t, "us-east-1", id); len(got) != 0 {
		t.Errorf("keys = %v after a refused breach", got)
	}
	_, ui, err = runPP(t, ctx, e.pp(t, map[string]interface{}{"watermarks": []string{"golden"}, "require_allowed": true}), amiArtifact("us-east-1:"+id))
	if err != nil {
		t.Fatalf("audit-mode: %v\n%s", err, ui)
	}
	if got := e.keys(t, "us-east-1", id); !reflect.DeepEqual(got, []string{testAccount + ":golden"}) {
		t.Errorf("keys = %v", got)
	}
	// Without require_allowed the same disabled setting is no failure.
	e2 := newEmu(t)
	id2 := e2.SeedImages(t, ec2emu.SeedImage{Region: "us-east-1", Account: testAccount, Name: "app"})[0]
	if _, ui, err := runPP(t, ctx, e2.pp(t, map[string]interface{}{"watermarks": []string{"golden"}}), amiArtifact("us-east-1:"+id2)); err != nil {
		t.Fatalf("no require_allowed: %v\n%s", err, ui)
	}
}

func TestPostProcessorImageIDsWithNullBuilder(t *testing.T) {
	e := newEmu(t)
	id := e.SeedImages(t, ec2emu.SeedImage{Region: "eu-central-1", Account: testAccount, Name: "external"})[0]
	in := &testkit.Artifact{Builder: "packer.null", ID: "Did not export anything. This is the null builder"}
	out, ui, err := runPP(t, context.Background(), e.pp(t, map[string]interface{}{"watermarks": []string{"golden"}, "image_ids": map[string]string{"eu-central-1": id}}), in)
	if err != nil {
		t.Fatalf("%v\n%s", err, ui)
	}
	if got := e.keys(t, "eu-central-1", id); !reflect.DeepEqual(got, []string{testAccount + ":golden"}) {
		t.Errorf("keys = %v", got)
	}
	if out.BuilderId() != "packer.null" {
		t.Errorf("builder id %q", out.BuilderId())
	}
	// Without image_ids the null artifact is refused.
	_, _, err = runPP(t, context.Background(), e.pp(t, map[string]interface{}{"watermarks": []string{"golden"}}), in)
	if err == nil || !strings.Contains(err.Error(), `artifact of builder "packer.null" is not supported`) {
		t.Errorf("null artifact without image_ids: %v", err)
	}
}

func TestPostProcessorRegionFailsMidRun(t *testing.T) {
	e := newEmu(t)
	east := e.SeedImages(t, ec2emu.SeedImage{Region: "us-east-1", Account: testAccount, Name: "app"})[0]
	west := e.SeedImages(t, ec2emu.SeedImage{Region: "eu-west-1", Account: testAccount, Name: "app"})[0]
	in := amiArtifact("us-east-1:"+east, "eu-west-1:"+west)
	names := []string{"aaa", "bbb", "ccc"}
	if err := e.Emulator.SetFaults(ec2emu.Faults{FailRate: 1, FailCode: "UnauthorizedOperation", FailStatus: 403, FailMessage: "You are not authorized to perform this operation.",
		// The permission check's 3 DryRun attaches in eu-west-1 and the
		// first attach pass; the second attach fails.
		Regions: []string{"eu-west-1"}, Actions: []string{"AttachImageWatermark"}, After: 3 + 1}); err != nil {
		t.Fatal(err)
	}
	_, ui, err := runPP(t, context.Background(), e.pp(t, map[string]interface{}{"watermarks": names}), in)
	if err == nil {
		t.Fatalf("want an error\n%s", ui)
	}
	msg := err.Error()
	for _, want := range []string{
		"watermarking failed in eu-west-1",
		"us-east-1 " + east + ": complete; attached " + testAccount + ":aaa, " + testAccount + ":bbb, " + testAccount + ":ccc",
		"eu-west-1 " + west + ": attached " + testAccount + `:aaa; FAILED attach "bbb": UnauthorizedOperation: You are not authorized to perform this operation. (an SCP or IAM policy denies attaching watermarks (ec2:AttachImageWatermark) to these credentials: allow ec2:AttachImageWatermark for the build role, or run with credentials that may attach); not done: attach "ccc"`,
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("error does not contain %q:\n%s", want, msg)
		}
	}
	// Re-run with the fault gone: only the missing attaches are made.
	if err := e.Emulator.SetFaults(ec2emu.Faults{}); err != nil {
		t.Fatal(err)
	}
	e.Emulator.ResetStats()
	if _, ui, err := runPP(t, context.Background(), e.pp(t, map[string]interface{}{"watermarks": names}), in); err != nil {
		t.Fatalf("re-run: %v\n%s", err, ui)
	}
	if n := e.Emulator.Stats().Regions["eu-west-1"]["AttachImageWatermark"]; n != 2+2 {
		t.Errorf("re-run attach calls in eu-west-1 = %d, want 2 (and their 2 DryRun checks)", n)
	}
	if n := e.calls("AttachImageWatermark"); n != 2 {
		t.Errorf("re-run attach calls = %d, want 2", n)
	}
	if n := e.Emulator.Stats().Regions["us-east-1"]["AttachImageWatermark"]; n != 0 {
		t.Errorf("re-run attach calls in us-east-1 = %d, want 0", n)
	}
}

func TestPostProcessorCancel(t *testing.T) {
	e := newEmu(t)
	var targets []string
	for _, r := range []string{"us-east-1", "eu-west-1"} {
		targets = append(targets, r+":"+e.SeedImages(t, ec2emu.SeedImage{Region: r, Account: testAccount, Name: "app"})[0])
	}
	if err := e.Emulator.SetFaults(ec2emu.Faults{Latency: 300 * time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	// Describe (300ms), the permission check's 3 DryRun attaches per region
	// (900ms), then the first attaches.
	time.AfterFunc(1350*time.Millisecond, cancel)
	start := time.Now()
	_, ui, err := runPP(t, ctx, e.pp(t, map[string]interface{}{"watermarks": []string{"aaa", "bbb", "ccc"}}), amiArtifact(targets...))
	elapsed := time.Since(start)
	if err == nil {
		t.Fatalf("want an error\n%s", ui)
	}
	if elapsed > 2500*time.Millisecond {
		t.Errorf("returned %v after the start (cancel at 1.35s)", elapsed)
	}
	if !strings.Contains(err.Error(), "interrupted") || !strings.Contains(err.Error(), "not done: ") {
		t.Errorf("error does not report what was not done:\n%s", err)
	}
}

func TestPostProcessorFailOnErrorFalse(t *testing.T) {
	e := newEmu(t)
	id := e.SeedImages(t, ec2emu.SeedImage{Region: "us-east-1", Account: testAccount, Name: "public", Public: true})[0]
	in := amiArtifact("us-east-1:" + id)
	out, ui, err := runPP(t, context.Background(), e.pp(t, map[string]interface{}{"watermarks": []string{"golden"}, "fail_on_error": false}), in)
	if err != nil {
		t.Fatalf("fail_on_error=false returned %v", err)
	}
	if out != packersdk.Artifact(in) {
		t.Errorf("want the input artifact back")
	}
	if !strings.Contains(ui.String(), "ERROR: WARNING (fail_on_error = false") || !strings.Contains(ui.String(), "the AMI is public") {
		t.Errorf("UI:\n%s", ui)
	}
}

func TestPostProcessorVerifyOff(t *testing.T) {
	e := newEmu(t)
	id := e.SeedImages(t, ec2emu.SeedImage{Region: "us-east-1", Account: testAccount, Name: "app"})[0]
	e.Emulator.ResetStats()
	out, ui, err := runPP(t, context.Background(), e.pp(t, map[string]interface{}{"watermarks": []string{"golden"}, "verify": false}), amiArtifact("us-east-1:"+id))
	if err != nil {
		t.Fatalf("%v\n%s", err, ui)
	}
	if n := e.calls("DescribeImages"); n != 1 {
		t.Errorf("describes = %d, want 1 (no verify)", n)
	}
	if got := KeysFromState(out.State("amiwatermark"))["us-east-1"][id]; !reflect.DeepEqual(got, []string{testAccount + ":golden"}) {
		t.Errorf("state = %v", got)
	}
}

// A server answer that quotes a credential is redacted in the error and UI.
func TestPostProcessorRedactsSecrets(t *testing.T) {
	e := newEmu(t)
	id := e.SeedImages(t, ec2emu.SeedImage{Region: "us-east-1", Account: testAccount, Name: "app"})[0]
	if err := e.Emulator.SetFaults(ec2emu.Faults{FailRate: 1, FailCode: "AuthFailure", FailStatus: 401,
		FailMessage: "signature of " + testKeyID + " with " + testSecret + " and " + testToken + " does not match", Actions: []string{"AttachImageWatermark"}}); err != nil {
		t.Fatal(err)
	}
	_, ui, err := runPP(t, context.Background(), e.pp(t, map[string]interface{}{"watermarks": []string{"golden"}}), amiArtifact("us-east-1:"+id))
	if err == nil {
		t.Fatalf("want an error\n%s", ui)
	}
	if !strings.Contains(err.Error(), "AuthFailure: signature of [redacted] with [redacted] and [redacted] does not match") {
		t.Errorf("error:\n%s", err)
	}
}

// Issue 12, item 2: a requested key the AMI carries inherited is
// re-attached (detach + attach) and verified attached to the AMI itself;
// reattach_inherited = false leaves it inherited.
func TestPostProcessorReattachInherited(t *testing.T) {
	for _, keep := range []bool{false, true} {
		e := newEmu(t)
		old := "ami-0bbbbbbbbbbbbbbbb"
		inh := ec2emu.SeedWatermark{Key: testAccount + ":golden-base", SourceImageID: old, SourceImageRegion: "us-east-1",
			SourceImageCreationTime: "2026-10-01T00:00:00Z", WatermarkCreationTime: "2026-10-01T00:00:00Z"}
		id := e.SeedImages(t, ec2emu.SeedImage{Region: "us-east-1", Account: testAccount, Name: "next-base", Watermarks: []ec2emu.SeedWatermark{inh}})[0]
		raw := map[string]interface{}{"watermarks": []string{"golden-base"}}
		if keep {
			raw["reattach_inherited"] = false
		}
		_, ui, err := runPP(t, context.Background(), e.pp(t, raw), amiArtifact("us-east-1:"+id))
		if err != nil {
			t.Fatalf("keep=%v: %v\n%s", keep, err, ui)
		}
		img := e.image(t, "us-east-1", id)
		if len(img.ImageWatermarks) != 1 {
			t.Fatalf("keep=%v: watermarks %v", keep, img.ImageWatermarks)
		}
		want, line := id, "re-attaching "+testAccount+":golden-base (inherited from "+old+" in us-east-1"
		if keep {
			want, line = old, "skipped "+testAccount+":golden-base (already present, inherited from "+old
		}
		if got := aws.ToString(img.ImageWatermarks[0].SourceImageId); got != want {
			t.Errorf("keep=%v: SourceImageId %s, want %s", keep, got, want)
		}
		if !strings.Contains(ui.String(), line) {
			t.Errorf("keep=%v: UI does not say %q:\n%s", keep, line, ui)
		}
	}
}
