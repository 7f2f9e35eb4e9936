package main

import (
	"bytes"
	"context"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	ibtypes "github.com/aws/aws-sdk-go-v2/service/imagebuilder/types"

	"github.com/amiwatermark/packer-plugin-amiwatermark/internal/ec2emu"
)

// A bad configuration still answers the step: STOP with a reason naming the
// variable, and no EC2 call. A credential echoed by the error (here the
// secret key given as a name) is redacted everywhere, the step's reason
// included.
func TestBadConfigurationStopsStep(t *testing.T) {
	for _, tc := range []struct{ name, env, want string }{
		{"no watermarks", "AMIWATERMARK_WATERMARKS=", envWatermarks + " is not set"},
		{"bad bool", envDryRun + "=maybe", envDryRun + `="maybe" is not true or false`},
		{"bad timeout", envRequestTimeout + "=soon", envRequestTimeout},
		{"bad criteria", envCriteria + "={", envCriteria},
		{"bad role", envRoleName + "=no role", envRoleName},
		{"secret as a value", envSkipOtherAccounts + "=" + secretKey, envSkipOtherAccounts + `="[redacted]" is not true or false`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := newEmulator(t, seedOpts{})
			r := runLambda(t, srv, "step-waiting.json", tc.env)
			r.want(t, exitFail, outcomeStopped)
			if !strings.Contains(r.res.Reason, tc.want) || !strings.Contains(r.stderr, tc.want) {
				t.Fatalf("reason %q / stderr %q do not say %q", r.res.Reason, r.stderr, tc.want)
			}
			stats := srv.Emulator.Stats()
			if stats.Total != stats.Actions["SendWorkflowStepAction"] {
				t.Fatalf("calls other than the answer: %v", stats.Actions)
			}
			st := stepOf(t, srv)
			if st.Status != ibtypes.WorkflowStepExecutionStatusFailed || strings.Contains(*st.Message, secretKey) {
				t.Fatalf("step %s %q", st.Status, *st.Message)
			}
		})
	}
}

// Only SendWorkflowStepAction is retried when it fails, then the failure is
// logged and the run fails (exit 1).
func TestAnswerRetriedThenLogged(t *testing.T) {
	srv := newEmulator(t, seedOpts{})
	if err := srv.Emulator.SetFaults(ec2emu.Faults{FailRate: 1, FailStatus: 400, FailCode: "SomethingOdd", FailMessage: "no answer today",
		Actions: []string{"SendWorkflowStepAction"}}); err != nil {
		t.Fatal(err)
	}
	r := runLambda(t, srv, "step-waiting.json")
	r.want(t, exitFail, outcomeFailed)
	if n := calls(srv, "SendWorkflowStepAction"); n != answerAttempts {
		t.Fatalf("%d SendWorkflowStepAction calls, want %d", n, answerAttempts)
	}
	if calls(srv, "GetImage") != 1 {
		t.Errorf("the gate ran %d times: only the answer is retried", calls(srv, "GetImage"))
	}
	if !strings.Contains(r.res.AnswerError, "SomethingOdd") || !strings.Contains(r.stderr, "sending it again (3 of 3)") ||
		!strings.Contains(r.stderr, "imagebuilder:SendWorkflowStepAction RESUME on step "+stepID) {
		t.Fatalf("answer error %q\nstderr:\n%s", r.res.AnswerError, r.stderr)
	}
	if st := stepOf(t, srv); st.Status != ibtypes.WorkflowStepExecutionStatusRunning {
		t.Fatalf("step %s", st.Status)
	}
}

// --event - reads standard input; usage errors exit 2 and call nothing.
func TestEventFromStdinAndUsage(t *testing.T) {
	srv := newEmulator(t, seedOpts{})
	cmd := exec.Command(lambdaBin, "--event", "-")
	cmd.Env = baseEnv(t, srv)
	event, _ := filepathRead("state-testing.json")
	cmd.Stdin = bytes.NewReader(event)
	out, err := cmd.Output()
	if err != nil || !strings.Contains(string(out), `"outcome": "ignored"`) {
		t.Fatalf("--event -: %v\n%s", err, out)
	}
	for _, args := range [][]string{{}, {"--event"}, {"--bogus"}, {"--event", "no-such-file.json"}, {"--event", "-", "extra"}} {
		cmd := exec.CommandContext(context.Background(), lambdaBin, args...)
		cmd.Env = baseEnv(t, srv)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		err := cmd.Run()
		ee, ok := err.(*exec.ExitError)
		if !ok || ee.ExitCode() != exitUsage || stderr.Len() == 0 {
			t.Errorf("%v: %v, stderr %q; want exit 2 with a message", args, err, stderr.String())
		}
	}
	if n := srv.Emulator.Stats().Total; n != 0 {
		t.Fatalf("%d AWS calls", n)
	}
}

func filepathRead(name string) ([]byte, error) {
	return readEvent(filepath.Join("testdata", name), nil)
}

// A failing GetImage (here: denied) still answers the step: STOP with the
// call, the image and the hint in the reason, and no EC2 call.
func TestGetImageFailureStopsStep(t *testing.T) {
	srv := newEmulator(t, seedOpts{})
	if err := srv.Emulator.SetFaults(ec2emu.Faults{FailRate: 1, FailStatus: 403, FailCode: "AccessDeniedException", FailMessage: "not allowed",
		Actions: []string{"GetImage"}}); err != nil {
		t.Fatal(err)
	}
	r := runLambda(t, srv, "step-waiting.json")
	r.want(t, exitFail, outcomeStopped)
	for _, want := range []string{"imagebuilder:GetImage", imageARN, "AccessDeniedException", "grant it in IAM"} {
		if !strings.Contains(r.res.Reason, want) {
			t.Errorf("the reason does not say %q: %s", want, r.res.Reason)
		}
	}
	if n := calls(srv, "DescribeImages"); n != 0 {
		t.Fatalf("%d EC2 calls after GetImage failed", n)
	}
	if st := stepOf(t, srv); st.Status != ibtypes.WorkflowStepExecutionStatusFailed {
		t.Fatalf("step %s", st.Status)
	}
}
