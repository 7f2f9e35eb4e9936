package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"
)

// Once changes start, a failed attach or detach says
// exactly what it left, in the AWS state and in --json.

// faults sets the emulator's fault injection (POST /_emu/faults).
func (e *emu) faults(body string) {
	e.t.Helper()
	resp, err := http.Post(e.URL+"/_emu/faults", "application/json", strings.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		e.t.Fatalf("POST /_emu/faults %s: %s", body, resp.Status)
	}
}

// decodeMutate decodes the --json document of attach or detach, by AMI.
func decodeMutate(t *testing.T, out string) (mutateOutput, map[string]amiOutput) {
	t.Helper()
	var doc mutateOutput
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("--json output: %v\n%s", err, out)
	}
	by := map[string]amiOutput{}
	for _, a := range doc.AMIs {
		by[a.Region+" "+a.ImageID] = a
	}
	return doc, by
}

func wantState(t *testing.T, by map[string]amiOutput, key, state string) amiOutput {
	t.Helper()
	a, ok := by[key]
	if !ok {
		t.Fatalf("--json has no AMI %s: %v", key, by)
	}
	if a.State != state {
		t.Errorf("%s: state %q, want %q (%+v)", key, a.State, state, a)
	}
	return a
}

// Attach denied in the second region only: the first region's AMI is
// changed (and says so), the second unchanged, with the failed call.
func TestAttachFailureInSecondRegionReportsEachAMI(t *testing.T) {
	e := newEmu(t)
	e.seedLineage()
	// "after":1 lets the DryRun check of eu-west-1's attach through: the
	// real call fails, after us-east-1's was made.
	e.faults(`{"fail_rate":1,"fail_code":"UnauthorizedOperation","actions":["AttachImageWatermark"],"regions":["eu-west-1"],"after":1}`)
	code, out, errOut := e.cli("attach", "--json", "--name", "approved", regionEast+":"+amiBare, regionWest+":"+amiCopy)
	wantCode(t, code, 1, out, errOut)
	doc, by := decodeMutate(t, out)
	if doc.OK || !strings.Contains(doc.Error, "UnauthorizedOperation") {
		t.Errorf("ok %v, error %q", doc.OK, doc.Error)
	}
	east := wantState(t, by, regionEast+" "+amiBare, "changed")
	if strings.Join(east.Attached, ",") != acctMe+":approved" {
		t.Errorf("east attached %v", east.Attached)
	}
	west := wantState(t, by, regionWest+" "+amiCopy, "unchanged")
	if len(west.Attached) != 0 || !strings.Contains(west.Failed, "UnauthorizedOperation") {
		t.Errorf("west %+v", west)
	}
	if strings.Join(west.Keys, ",") != acctMe+":golden-base" {
		t.Errorf("west keys %v, want its keys before the run", west.Keys)
	}
	// The AMIs as EC2 has them agree with the report; the docs' words too.
	e.wantSDKKeys(regionEast, amiBare, acctMe+":approved@"+amiBare)
	e.wantSDKKeys(regionWest, amiCopy, acctMe+":golden-base@"+amiGolden)
	wantContains(t, "stderr", errOut, "Calls that succeeded stay in effect", "Nothing was undone.")
}

// Ctrl-C while the second region's attach is in flight: the first is
// changed, the second unknown (the call may or may not have taken effect).
func TestAttachInterruptedReportsEachAMI(t *testing.T) {
	e := newEmu(t)
	e.seedLineage()
	e.faults(`{"latency":"20s","actions":["AttachImageWatermark"],"regions":["eu-west-1"],"after":1}`)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		deadline := time.Now().Add(10 * time.Second)
		for time.Now().Before(deadline) && len(realCalls(e.distinct("AttachImageWatermark"))) < 2 {
			time.Sleep(20 * time.Millisecond)
		}
		time.Sleep(200 * time.Millisecond)
		cancel()
	}()
	var stdout, stderr bytes.Buffer
	code := runContext(ctx, []string{"attach", "--endpoint", e.URL, "--json", "--name", "approved",
		regionEast + ":" + amiBare, regionWest + ":" + amiCopy}, &stdout, &stderr)
	wantCode(t, code, 1, stdout.String(), stderr.String())
	_, by := decodeMutate(t, stdout.String())
	wantState(t, by, regionEast+" "+amiBare, "changed")
	west := wantState(t, by, regionWest+" "+amiCopy, "unknown")
	if west.Keys != nil {
		t.Errorf("west keys %v, want null (not known)", west.Keys)
	}
	e.wantSDKKeys(regionEast, amiBare, acctMe+":approved@"+amiBare)
}

// Verification that cannot describe the second region: both AMIs were
// changed, and the report says so.
func TestAttachFailedVerificationReportsEachAMI(t *testing.T) {
	e := newEmu(t)
	e.seedLineage()
	// The first DescribeImages in eu-west-1 (the plan's) passes; the
	// verification's is denied.
	e.faults(`{"fail_rate":1,"fail_code":"UnauthorizedOperation","after":1,"actions":["DescribeImages"],"regions":["eu-west-1"]}`)
	code, out, errOut := e.cli("attach", "--json", "--name", "approved", regionEast+":"+amiBare, regionWest+":"+amiCopy)
	wantCode(t, code, 1, out, errOut)
	_, by := decodeMutate(t, out)
	east := wantState(t, by, regionEast+" "+amiBare, "changed")
	if strings.Join(east.Keys, ",") != acctMe+":approved" {
		t.Errorf("east keys %v, want the verified ones", east.Keys)
	}
	west := wantState(t, by, regionWest+" "+amiCopy, "changed")
	if west.Keys != nil {
		t.Errorf("west keys %v, want null (not described)", west.Keys)
	}
	e.faults(`{}`)
	e.wantSDKKeys(regionWest, amiCopy, acctMe+":golden-base@"+amiGolden, acctMe+":approved@"+amiCopy)
}

// A refused run (plan problem) lists every AMI, unchanged.
func TestAttachRefusedJSONListsAMIsUnchanged(t *testing.T) {
	e := newEmu(t)
	e.seedLineage()
	code, out, errOut := e.cli("attach", "--json", "--name", "approved", regionEast+":"+amiBare, regionEast+":"+amiForged)
	wantCode(t, code, 1, out, errOut)
	_, by := decodeMutate(t, out)
	wantState(t, by, regionEast+" "+amiBare, "unchanged")
	wantState(t, by, regionEast+" "+amiForged, "unchanged")
}

// A refused Image Builder run's --json names the AMIs
// that are not attachable, and lists the own AMIs unchanged.
func TestAttachImageBuilderRefusedJSONNamesNotAttachable(t *testing.T) {
	e := newEmu(t)
	e.seedImageBuilder()
	code, out, errOut := e.cli("attach", "--json", "--image-builder-image", arnIB+"2", "--name", "golden-base")
	wantCode(t, code, 1, out, errOut)
	doc, by := decodeMutate(t, out)
	if len(doc.NotAttachable) != 1 || doc.NotAttachable[0].ImageID != amiIBOther || doc.NotAttachable[0].Account != acctOther ||
		!strings.Contains(doc.NotAttachable[0].Reason, "not attachable by this account") {
		t.Errorf("not_attachable = %+v", doc.NotAttachable)
	}
	wantState(t, by, regionEast+" "+amiIBEast, "unchanged")
	if e.mutations() != 0 {
		t.Error("a refused run made changes")
	}
}

// realCalls leaves out the requests sent with DryRun (the check made before
// any change).
func realCalls(bodies []string) []string {
	var out []string
	for _, b := range bodies {
		if !strings.Contains(b, "DryRun=true") {
			out = append(out, b)
		}
	}
	return out
}
