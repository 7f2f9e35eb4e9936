package main

import (
	"slices"
	"strings"
	"testing"

	ibtypes "github.com/aws/aws-sdk-go-v2/service/imagebuilder/types"
)

// AMIs distributed to another account: refused without a role (nothing
// changed, the step stopped with a reason naming the AMI), left out with
// AMIWATERMARK_SKIP_OTHER_ACCOUNTS=true, watermarked as that account with
// AMIWATERMARK_ROLE_NAME.
func TestCrossAccountWithoutRole(t *testing.T) {
	srv := newEmulator(t, seedOpts{distributed: true})
	r := runLambda(t, srv, "step-waiting.json")
	r.want(t, exitFail, outcomeStopped)
	for _, want := range []string{amiDist, "eu-west-1", distAcct, envRoleName, envSkipOtherAccounts} {
		if !strings.Contains(r.res.Reason, want) {
			t.Errorf("the reason does not name %q: %s", want, r.res.Reason)
		}
	}
	if n := calls(srv, "AttachImageWatermark") + calls(srv, "DescribeImages"); n != 0 {
		t.Fatalf("%d EC2 calls after refusing the other account's AMI", n)
	}
	if st := stepOf(t, srv); st.Status != ibtypes.WorkflowStepExecutionStatusFailed {
		t.Fatalf("step %s", st.Status)
	}
}

func TestCrossAccountSkipped(t *testing.T) {
	srv := newEmulator(t, seedOpts{distributed: true})
	r := runLambda(t, srv, "step-waiting.json", envSkipOtherAccounts+"=true")
	r.want(t, exitOK, outcomeResumed)
	if len(r.res.AMIs) != 2 || len(r.res.NotAttachable) != 1 || r.res.NotAttachable[0].ImageID != amiDist || r.res.NotAttachable[0].Account != distAcct {
		t.Fatalf("result %+v", r.res)
	}
	if keys := keysOf(t, srv, "eu-west-1", distAcct, amiDist); len(keys) != 0 {
		t.Errorf("the skipped AMI was changed: %v", keys)
	}
}

func TestCrossAccountWithRole(t *testing.T) {
	srv := newEmulator(t, seedOpts{distributed: true})
	r := runLambda(t, srv, "step-waiting.json", envRoleName+"=AMIWatermarkDistributed")
	r.want(t, exitOK, outcomeResumed)
	if len(r.res.AMIs) != 3 || calls(srv, "AssumeRole") == 0 {
		t.Fatalf("result %+v, %d AssumeRole", r.res, calls(srv, "AssumeRole"))
	}
	// The distributed AMI carries its own account's key: attached as it.
	if keys := keysOf(t, srv, "eu-west-1", distAcct, amiDist); !slices.Contains(keys, distAcct+":"+approvedWM) {
		t.Fatalf("the distributed AMI carries %v", keys)
	}
	if keys := keysOf(t, srv, "us-east-1", buildAcct, amiEast); !slices.Contains(keys, buildAcct+":"+approvedWM) {
		t.Fatalf("the build account's AMI carries %v", keys)
	}
}

// A role that cannot be assumed stops the step before any change in any
// account.
func TestCrossAccountRoleRefused(t *testing.T) {
	srv := newEmulator(t, seedOpts{distributed: true, refuseRole: true})
	r := runLambda(t, srv, "step-waiting.json", envRoleName+"=AMIWatermarkDistributed")
	r.want(t, exitFail, outcomeStopped)
	if !strings.Contains(r.res.Reason, "arn:aws:iam::"+distAcct+":role/AMIWatermarkDistributed") || !strings.Contains(r.res.Reason, "nothing was changed") {
		t.Errorf("reason %s", r.res.Reason)
	}
	if n := calls(srv, "AttachImageWatermark"); n != 0 {
		t.Fatalf("%d attach calls", n)
	}
}

// With AMIs in two accounts, a breach in the second account stops the step
// before the first account is changed (every account is planned first).
func TestCrossAccountBreachChangesNoAccount(t *testing.T) {
	srv2 := newEmulator(t, seedOpts{distributed: true, distFull: true})
	r2 := runLambda(t, srv2, "step-waiting.json", envRoleName+"=AMIWatermarkDistributed")
	r2.want(t, exitFail, outcomeStopped)
	if !strings.Contains(r2.res.Reason, amiDist) || !strings.Contains(r2.res.Reason, "account "+distAcct) {
		t.Errorf("reason %s", r2.res.Reason)
	}
	// The plan of every account ran first (with EC2's DryRun flag: the
	// calls it counts change nothing); the build account's AMIs, planned
	// fine, were not changed.
	for _, a := range []struct{ region, id string }{{"us-east-1", amiEast}, {"eu-west-1", amiWest}} {
		if keys := keysOf(t, srv2, a.region, buildAcct, a.id); len(keys) != 0 {
			t.Fatalf("%s of the build account was changed before the breach in another account: %v", a.id, keys)
		}
	}
}
