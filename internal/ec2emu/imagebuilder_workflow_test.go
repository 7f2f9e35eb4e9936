package ec2emu_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/imagebuilder"
	ibtypes "github.com/aws/aws-sdk-go-v2/service/imagebuilder/types"

	"github.com/amiwatermark/packer-plugin-amiwatermark/internal/ec2emu"
	"github.com/amiwatermark/packer-plugin-amiwatermark/internal/ec2emu/emutest"
)

const (
	stepA    = "step-0a1b2c3d-0000-4000-8000-00000000000a"
	stepB    = "step-0a1b2c3d-0000-4000-8000-00000000000b"
	stepC    = "step-0a1b2c3d-0000-4000-8000-00000000000c"
	stepX    = "step-0a1b2c3d-0000-4000-8000-0000000000ff"
	wfA      = "wf-0a1b2c3d-0000-4000-8000-00000000000a"
	otherARN = "arn:aws:imagebuilder:us-east-1:" + distAcct + ":image/other/1.0.0/1"
)

func stepSeed() *ec2emu.Seed {
	seed := builderSeed()
	seed.ImageBuilderImages[0].State = "DISTRIBUTING"
	seed.ImageBuilderImages[0].WaitingSteps = []ec2emu.SeedWaitingStep{
		{StepExecutionID: stepA, Name: "AMIWatermarkGate", WorkflowExecutionID: wfA},
		{StepExecutionID: stepB, WorkflowExecutionID: wfA},
		{StepExecutionID: stepC, WorkflowExecutionID: wfA},
	}
	seed.ImageBuilderImages = append(seed.ImageBuilderImages, ec2emu.SeedBuilderImage{ARN: otherARN,
		WaitingSteps: []ec2emu.SeedWaitingStep{{StepExecutionID: stepX, WorkflowExecutionID: wfA}}})
	return seed
}

func sendAction(c *imagebuilder.Client, step, arn, action, reason, token string) (*imagebuilder.SendWorkflowStepActionOutput, error) {
	in := &imagebuilder.SendWorkflowStepActionInput{StepExecutionId: aws.String(step), ImageBuildVersionArn: aws.String(arn),
		Action: ibtypes.WorkflowStepActionType(action), ClientToken: aws.String(token)}
	if reason != "" {
		in.Reason = aws.String(reason)
	}
	return c.SendWorkflowStepAction(context.Background(), in)
}

func stepStatus(t *testing.T, c *imagebuilder.Client, id string) *imagebuilder.GetWorkflowStepExecutionOutput {
	t.Helper()
	out, err := c.GetWorkflowStepExecution(context.Background(), &imagebuilder.GetWorkflowStepExecutionInput{StepExecutionId: aws.String(id)})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func waitingIDs(t *testing.T, c *imagebuilder.Client, arn string) []string {
	t.Helper()
	var ids []string
	p := imagebuilder.NewListWaitingWorkflowStepsPaginator(c, &imagebuilder.ListWaitingWorkflowStepsInput{MaxResults: aws.Int32(1)})
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Steps) > 1 {
			t.Fatalf("a page of %d steps with maxResults 1", len(page.Steps))
		}
		for _, s := range page.Steps {
			if aws.ToString(s.ImageBuildVersionArn) != arn || aws.ToString(s.Action) != "WaitForAction" || aws.ToString(s.WorkflowExecutionId) != wfA {
				t.Errorf("listed step %+v", s)
			}
			ids = append(ids, aws.ToString(s.StepExecutionId))
		}
	}
	return ids
}

func TestImageBuilderWorkflowSteps(t *testing.T) {
	srv := emutest.NewServer(t, emutest.Options{Seed: stepSeed()})
	c := srv.ImageBuilder("us-east-1", buildAcct)
	got := stepStatus(t, c, stepA)
	if got.Status != ibtypes.WorkflowStepExecutionStatusRunning || aws.ToString(got.Name) != "AMIWatermarkGate" ||
		aws.ToString(got.ImageBuildVersionArn) != goldenARN || aws.ToString(got.Action) != "WaitForAction" || aws.ToInt32(got.TimeoutSeconds) != 259200 {
		t.Fatalf("waiting step: %+v", got)
	}
	if aws.ToString(stepStatus(t, c, stepB).Name) != "WaitForAction" {
		t.Error("default name")
	}
	if ids := waitingIDs(t, c, goldenARN); strings.Join(ids, ",") != stepA+","+stepB+","+stepC {
		t.Fatalf("waiting steps %v", ids)
	}

	// RESUME completes the step; the same request again answers the same.
	for i := 0; i < 2; i++ {
		out, err := sendAction(c, stepA, goldenARN, "RESUME", "", "token-a")
		if err != nil || aws.ToString(out.ClientToken) != "token-a" || aws.ToString(out.StepExecutionId) != stepA || aws.ToString(out.ImageBuildVersionArn) != goldenARN {
			t.Fatalf("resume %d: %+v %v", i, out, err)
		}
	}
	if got := stepStatus(t, c, stepA); got.Status != ibtypes.WorkflowStepExecutionStatusCompleted || aws.ToString(got.EndTime) == "" {
		t.Fatalf("after RESUME: %+v", got)
	}
	// The same token with other parameters, or another action on a step
	// that no longer waits, is refused and changes nothing.
	_, err := sendAction(c, stepA, goldenARN, "STOP", "no", "token-a")
	wantAPIError(t, err, "IdempotentParameterMismatchException", http.StatusBadRequest)
	_, err = sendAction(c, stepB, goldenARN, "RESUME", "", "token-a")
	wantAPIError(t, err, "IdempotentParameterMismatchException", http.StatusBadRequest)
	_, err = sendAction(c, stepA, goldenARN, "STOP", "late", "token-late")
	wantAPIError(t, err, "InvalidRequestException", http.StatusBadRequest)
	if got := stepStatus(t, c, stepA); got.Status != ibtypes.WorkflowStepExecutionStatusCompleted {
		t.Fatalf("a refused action changed the step: %+v", got)
	}

	// STOP fails the step with the reason as its message; 1024 characters
	// is the longest reason.
	reason := strings.Repeat("r", 1024)
	if _, err := sendAction(c, stepB, goldenARN, "STOP", reason, "token-b"); err != nil {
		t.Fatal(err)
	}
	if got := stepStatus(t, c, stepB); got.Status != ibtypes.WorkflowStepExecutionStatusFailed || aws.ToString(got.Message) != reason {
		t.Fatalf("after STOP: %+v", got)
	}
	if ids := waitingIDs(t, c, goldenARN); strings.Join(ids, ",") != stepC {
		t.Fatalf("waiting after two actions: %v", ids)
	}
}

func TestImageBuilderWorkflowStepErrors(t *testing.T) {
	srv := emutest.NewServer(t, emutest.Options{Seed: stepSeed()})
	c := srv.ImageBuilder("us-east-1", buildAcct)
	for _, tc := range []struct {
		name, step, arn, action, reason, token, code string
		status                                       int
	}{
		{"long reason", stepC, goldenARN, "STOP", strings.Repeat("r", 1025), "t1", "InvalidParameterValueException", 400},
		{"bad action", stepC, goldenARN, "PAUSE", "", "t2", "InvalidParameterValueException", 400},
		{"bad step id", "step-1", goldenARN, "RESUME", "", "t3", "InvalidParameterValueException", 400},
		{"bad arn", stepC, "arn:aws:imagebuilder:us-east-1:" + buildAcct + ":image/golden-base/1.2.0", "RESUME", "", "t4", "InvalidParameterValueException", 400},
		{"long token", stepC, goldenARN, "RESUME", "", strings.Repeat("t", 65), "InvalidParameterValueException", 400},
		{"other image", stepC, otherARN, "RESUME", "", "t5", "ResourceNotFoundException", 404},
		{"other account's step", stepX, otherARN, "RESUME", "", "t6", "ResourceNotFoundException", 404},
		{"unknown step", "step-0a1b2c3d-0000-4000-8000-000000000099", goldenARN, "RESUME", "", "t7", "ResourceNotFoundException", 404},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := sendAction(c, tc.step, tc.arn, tc.action, tc.reason, tc.token)
			wantAPIError(t, err, tc.code, tc.status)
		})
	}
	if got := stepStatus(t, c, stepC); got.Status != ibtypes.WorkflowStepExecutionStatusRunning {
		t.Fatalf("refused actions changed the step: %+v", got)
	}
	// Another region or account does not see the step.
	_, err := srv.ImageBuilder("eu-west-1", buildAcct).GetWorkflowStepExecution(context.Background(), &imagebuilder.GetWorkflowStepExecutionInput{StepExecutionId: aws.String(stepC)})
	wantAPIError(t, err, "InvalidRequestException", 400)
	other := srv.ImageBuilder("us-east-1", distAcct)
	if _, err := sendAction(other, stepC, goldenARN, "RESUME", "", "t8"); err == nil {
		t.Fatal("another account answered the step")
	}
	// The other account lists its own step only.
	if ids := waitingIDs(t, other, otherARN); strings.Join(ids, ",") != stepX {
		t.Fatalf("other account's waiting steps: %v", ids)
	}
	_, err = c.ListWaitingWorkflowSteps(context.Background(), &imagebuilder.ListWaitingWorkflowStepsInput{NextToken: aws.String("bogus")})
	wantAPIError(t, err, "InvalidPaginationTokenException", 400)
}

func TestSeedWaitingStepsValidation(t *testing.T) {
	arn := `"arn":"arn:aws:imagebuilder:us-east-1:111122223333:image/g/1.0.0/1"`
	arn2 := `"arn":"arn:aws:imagebuilder:us-east-1:111122223333:image/h/1.0.0/1"`
	step := `"step_execution_id":"` + stepA + `"`
	wf := `"workflow_execution_id":"` + wfA + `"`
	for _, tc := range []struct{ name, seed, want string }{
		{"no step id", `{"image_builder_images":[{` + arn + `,"waiting_steps":[{` + wf + `}]}]}`, `image_builder_images[0]: waiting_steps[0]: step_execution_id is missing`},
		{"bad step id", `{"image_builder_images":[{` + arn + `,"waiting_steps":[{"step_execution_id":"step-x",` + wf + `}]}]}`, `is not step-<uuid>`},
		{"no wf id", `{"image_builder_images":[{` + arn + `,"waiting_steps":[{` + step + `}]}]}`, `workflow_execution_id is missing`},
		{"bad wf id", `{"image_builder_images":[{` + arn + `,"waiting_steps":[{` + step + `,"workflow_execution_id":"` + stepA + `"}]}]}`, `is not wf-<uuid>`},
		{"dup", `{"image_builder_images":[{` + arn + `,"waiting_steps":[{` + step + `,` + wf + `},{` + step + `,` + wf + `}]}]}`, `is already waiting_steps[0]`},
		{"dup across images", `{"image_builder_images":[{` + arn + `,"waiting_steps":[{` + step + `,` + wf + `}]},{` + arn2 + `,"waiting_steps":[{` + step + `,` + wf + `}]}]}`, `image_builder_images[1]: waiting_steps[0]: step_execution_id ` + stepA + ` is already a step of another image build version`},
		{"unknown field", `{"image_builder_images":[{` + arn + `,"waiting_steps":[{` + step + `,` + wf + `,"status":"RUNNING"}]}]}`, `status`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			seed, err := ec2emu.ParseSeed([]byte(tc.seed))
			if err == nil {
				err = ec2emu.New(ec2emu.Options{}).ApplySeed(seed)
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want it to contain %q", err, tc.want)
			}
		})
	}
	// A step id of another image build version already in the emulator.
	s := ec2emu.New(ec2emu.Options{})
	seed, _ := ec2emu.ParseSeed([]byte(`{"image_builder_images":[{` + arn + `,"waiting_steps":[{` + step + `,` + wf + `}]}]}`))
	if err := s.ApplySeed(seed); err != nil {
		t.Fatal(err)
	}
	// Seeding the same image again replaces its steps.
	if err := s.ApplySeed(seed); err != nil {
		t.Fatalf("re-seeding the same image: %v", err)
	}
	seed2, _ := ec2emu.ParseSeed([]byte(`{"image_builder_images":[{` + arn2 + `,"waiting_steps":[{` + step + `,` + wf + `}]}]}`))
	if err := s.ApplySeed(seed2); err == nil || !strings.Contains(err.Error(), "another image build version") {
		t.Fatalf("a step id taken by another image: %v", err)
	}
}

// Answered and waiting steps, and the answer a client token got, survive
// the state file (the ec2emu program's --state); a state whose steps are
// null is served without a panic.
func TestImageBuilderStepsPersist(t *testing.T) {
	s := ec2emu.New(ec2emu.Options{})
	if err := s.ApplySeed(*stepSeed()); err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s)
	c := emutest.ImageBuilderClient(ts.URL, "us-east-1", emutest.Credentials(buildAcct))
	if _, err := sendAction(c, stepA, goldenARN, "STOP", "bad image", "token-p"); err != nil {
		t.Fatal(err)
	}
	ts.Close()
	path := filepath.Join(t.TempDir(), "state.json")
	if err := s.SaveState(path); err != nil {
		t.Fatal(err)
	}
	loaded := ec2emu.New(ec2emu.Options{})
	if err := loaded.LoadState(path); err != nil {
		t.Fatal(err)
	}
	ts2 := httptest.NewServer(loaded)
	defer ts2.Close()
	c2 := emutest.ImageBuilderClient(ts2.URL, "us-east-1", emutest.Credentials(buildAcct))
	if got := stepStatus(t, c2, stepA); got.Status != ibtypes.WorkflowStepExecutionStatusFailed || aws.ToString(got.Message) != "bad image" {
		t.Fatalf("after reload: %+v", got)
	}
	if _, err := sendAction(c2, stepA, goldenARN, "STOP", "bad image", "token-p"); err != nil {
		t.Fatalf("the same request after reload: %v", err)
	}
	if ids := waitingIDs(t, c2, goldenARN); strings.Join(ids, ",") != stepB+","+stepC {
		t.Fatalf("waiting after reload: %v", ids)
	}

	b, _ := os.ReadFile(path)
	broken := strings.Replace(string(b), `"steps":[`, `"steps":[null,`, 1)
	if broken == string(b) {
		t.Fatal("no steps in the state file")
	}
	_ = os.WriteFile(path, []byte(broken), 0o600)
	nulls := ec2emu.New(ec2emu.Options{})
	if err := nulls.LoadState(path); err != nil {
		t.Fatalf("loading a state with a null step: %v", err)
	}
	ts3 := httptest.NewServer(nulls)
	defer ts3.Close()
	c3 := emutest.ImageBuilderClient(ts3.URL, "us-east-1", emutest.Credentials(buildAcct))
	_ = waitingIDs(t, c3, goldenARN)
	_ = stepStatus(t, c3, stepB)
}
