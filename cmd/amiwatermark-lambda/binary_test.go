package main

import (
	"slices"
	"strings"
	"testing"

	ibtypes "github.com/aws/aws-sdk-go-v2/service/imagebuilder/types"
)

// A passing gate attaches in both regions, then resumes the step; the
// same event again (a retried invocation) changes nothing and sends the
// same answer with the same client token.
func TestStepWaitingAttachesAndResumes(t *testing.T) {
	srv := newEmulator(t, seedOpts{})
	r := runLambda(t, srv, "step-waiting.json")
	r.want(t, exitOK, outcomeResumed)
	key := buildAcct + ":" + approvedWM
	for _, a := range []struct{ region, id string }{{"us-east-1", amiEast}, {"eu-west-1", amiWest}} {
		if keys := keysOf(t, srv, a.region, buildAcct, a.id); !slices.Contains(keys, key) {
			t.Errorf("%s %s carries %v, want %s", a.region, a.id, keys, key)
		}
	}
	if len(r.res.AMIs) != 2 || r.res.Action != "RESUME" || r.res.StepExecutionID != stepID || r.res.ClientToken != clientToken(stepID) {
		t.Fatalf("result %+v", r.res)
	}
	if st := stepOf(t, srv); st.Status != ibtypes.WorkflowStepExecutionStatusCompleted {
		t.Fatalf("step %s, want COMPLETED", st.Status)
	}
	attaches := calls(srv, "AttachImageWatermark")
	again := runLambda(t, srv, "step-waiting.json")
	again.want(t, exitOK, outcomeResumed)
	if calls(srv, "AttachImageWatermark") != attaches || again.res.ClientToken != r.res.ClientToken {
		t.Fatalf("the retried invocation attached again or changed its token: %d attaches, token %s", calls(srv, "AttachImageWatermark")-attaches, again.res.ClientToken)
	}
	if calls(srv, "SendWorkflowStepAction") != 2 {
		t.Errorf("%d SendWorkflowStepAction calls, want 2", calls(srv, "SendWorkflowStepAction"))
	}
}

// A 5-limit breach on one AMI stops the step with a reason naming the AMI
// and its region, and changes no AMI (the gate runs before any change).
func TestStepWaitingLimitBreachStops(t *testing.T) {
	srv := newEmulator(t, seedOpts{westWatermarks: fiveWatermarks()})
	r := runLambda(t, srv, "step-waiting.json")
	r.want(t, exitFail, outcomeStopped)
	st := stepOf(t, srv)
	if st.Status != ibtypes.WorkflowStepExecutionStatusFailed || *st.Message != r.res.Reason {
		t.Fatalf("step %s %q, want FAILED with the reason %q", st.Status, *st.Message, r.res.Reason)
	}
	for _, want := range []string{amiWest, "eu-west-1", "5", "AMIWATERMARK_DETACH", "AMIWATERMARK_WATERMARKS"} {
		if !strings.Contains(r.res.Reason, want) {
			t.Errorf("the reason does not name %q: %s", want, r.res.Reason)
		}
	}
	for _, foreign := range []string{"`watermarks`", "detach = [", "--detach", "--name"} {
		if strings.Contains(r.res.Reason, foreign) {
			t.Errorf("the reason speaks another program's option %s: %s", foreign, r.res.Reason)
		}
	}
	if n := calls(srv, "AttachImageWatermark") + calls(srv, "DetachImageWatermark"); n != 0 {
		t.Fatalf("%d attach/detach calls after a refused plan", n)
	}
	if keys := keysOf(t, srv, "us-east-1", buildAcct, amiEast); len(keys) != 0 {
		t.Errorf("the AMI without a problem was changed: %v", keys)
	}
	if len(r.res.Reason) > maxReason {
		t.Errorf("reason of %d bytes", len(r.res.Reason))
	}
}

// An Image State Change to TESTING is ignored without any AWS call.
func TestStateChangeTestingIgnored(t *testing.T) {
	srv := newEmulator(t, seedOpts{})
	r := runLambda(t, srv, "state-testing.json")
	r.want(t, exitOK, outcomeIgnored)
	if n := srv.Emulator.Stats().Total; n != 0 {
		t.Fatalf("%d AWS calls for an ignored event", n)
	}
	if r.res.ImageStatus != "TESTING" || !strings.Contains(r.res.Message, "only AVAILABLE") {
		t.Errorf("result %+v", r.res)
	}
}

// An Image State Change to AVAILABLE attaches, with no step to answer.
func TestStateChangeAvailableAttaches(t *testing.T) {
	srv := newEmulator(t, seedOpts{state: "AVAILABLE"})
	r := runLambda(t, srv, "state-available.json")
	r.want(t, exitOK, outcomeAttached)
	if len(r.res.AMIs) != 2 || calls(srv, "SendWorkflowStepAction") != 0 {
		t.Fatalf("result %+v, %d answers", r.res, calls(srv, "SendWorkflowStepAction"))
	}
	// The same event for an image that is not AVAILABLE (the event came
	// before GetImage caught up) fails and changes nothing.
	srv2 := newEmulator(t, seedOpts{})
	r2 := runLambda(t, srv2, "state-available.json")
	r2.want(t, exitFail, outcomeFailed)
	if !strings.Contains(r2.res.Error, "DISTRIBUTING, not AVAILABLE") || calls(srv2, "AttachImageWatermark") != 0 {
		t.Fatalf("result %+v", r2.res)
	}
}

// An EC2 event (or anything else) is refused with an error naming what was
// expected, and nothing is asked of AWS.
func TestOtherEventsRefused(t *testing.T) {
	srv := newEmulator(t, seedOpts{})
	r := runLambda(t, srv, "ec2-ami-state.json")
	r.want(t, exitFail, outcomeFailed)
	if !strings.Contains(r.res.Error, `"aws.ec2"`) || !strings.Contains(r.res.Error, kindStepWaiting) || !strings.Contains(r.res.Error, kindStateChange) {
		t.Errorf("error %q", r.res.Error)
	}
	if n := srv.Emulator.Stats().Total; n != 0 {
		t.Fatalf("%d AWS calls for a refused event", n)
	}
}
