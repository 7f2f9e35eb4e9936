package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"

	"github.com/aws/aws-lambda-go/events"

	"github.com/amiwatermark/packer-plugin-amiwatermark/internal/builderimage"
)

// The two EventBridge events the function handles (Image Builder's user
// guide, "Amazon EventBridge integration"): source aws.imagebuilder,
// resources[0] the image build version ARN.
const (
	eventSource      = "aws.imagebuilder"
	kindStepWaiting  = "EC2 Image Builder Workflow Step Waiting"
	kindStateChange  = "EC2 Image Builder Image State Change"
	maxEventBytes    = 1 << 20
	expectedEventMsg = `an EventBridge event with "source": "aws.imagebuilder" and "detail-type" "` + kindStepWaiting + `" or "` + kindStateChange + `"`
)

// stepIDRE is a workflow step execution id (SendWorkflowStepAction's
// stepExecutionId pattern).
var stepIDRE = regexp.MustCompile(`^step-[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// stepDetail is the detail of a Workflow Step Waiting event.
type stepDetail struct {
	WorkflowExecutionID string `json:"workflow-execution-id"`
	StepExecutionID     string `json:"workflow-step-execution-id"`
	StepName            string `json:"workflow-step-name"`
}

// stateDetail is the detail of an Image State Change event.
type stateDetail struct {
	State         imageState `json:"state"`
	PreviousState imageState `json:"previous-state"`
}

type imageState struct {
	Status string `json:"status"`
	Reason string `json:"reason,omitempty"`
}

// event is a checked event: its kind, image and (for a waiting step) the
// step to answer.
type event struct {
	Kind  string
	Image builderimage.ARN
	Step  stepDetail
	State stateDetail
}

// eventError is an event the function does not handle.
type eventError struct{ msg string }

func (e *eventError) Error() string { return e.msg }

func eventErrorf(format string, args ...any) error {
	return &eventError{msg: fmt.Sprintf(format, args...)}
}

// parseEvent reads one event. Anything but the two Image Builder events,
// complete, is an eventError saying what was expected.
func parseEvent(data []byte) (*event, error) {
	if len(data) > maxEventBytes {
		return nil, eventErrorf("the event is %d bytes, more than %d: expected %s", len(data), maxEventBytes, expectedEventMsg)
	}
	var raw events.CloudWatchEvent
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, eventErrorf("the event is not a JSON object (%v): expected %s", err, expectedEventMsg)
	}
	if raw.Source != eventSource || (raw.DetailType != kindStepWaiting && raw.DetailType != kindStateChange) {
		return nil, eventErrorf("the event has source %q and detail-type %q: expected %s; nothing was done", clip(raw.Source), clip(raw.DetailType), expectedEventMsg)
	}
	ev := &event{Kind: raw.DetailType}
	if len(raw.Resources) == 0 {
		return nil, eventErrorf("the %q event has no resources: expected resources[0] to be the image build version ARN (%s)", raw.DetailType, builderimage.Example)
	}
	arn, err := builderimage.ParseARN(raw.Resources[0])
	if err != nil {
		return nil, eventErrorf("the %q event's resources[0] %q is %v: expected an image build version ARN such as %s", raw.DetailType, clip(raw.Resources[0]), err, builderimage.Example)
	}
	ev.Image = arn
	if ev.Kind == kindStepWaiting {
		return ev, ev.readStep(raw.Detail)
	}
	return ev, ev.readState(raw.Detail)
}

func (ev *event) readStep(detail json.RawMessage) error {
	if err := decodeDetail(detail, &ev.Step); err != nil {
		return eventErrorf("the %q event's detail %v", ev.Kind, err)
	}
	if !stepIDRE.MatchString(ev.Step.StepExecutionID) {
		return eventErrorf("the %q event's detail.workflow-step-execution-id %q is not step-<uuid>: the step cannot be answered", ev.Kind, clip(ev.Step.StepExecutionID))
	}
	return nil
}

func (ev *event) readState(detail json.RawMessage) error {
	if err := decodeDetail(detail, &ev.State); err != nil {
		return eventErrorf("the %q event's detail %v", ev.Kind, err)
	}
	if ev.State.State.Status == "" {
		return eventErrorf("the %q event has no detail.state.status: expected the image's status, such as AVAILABLE", ev.Kind)
	}
	return nil
}

func decodeDetail(detail json.RawMessage, v any) error {
	if len(bytes.TrimSpace(detail)) == 0 || bytes.Equal(bytes.TrimSpace(detail), []byte("null")) {
		return fmt.Errorf("is missing")
	}
	if err := json.Unmarshal(detail, v); err != nil {
		return fmt.Errorf("is not the documented object: %v", err)
	}
	return nil
}
