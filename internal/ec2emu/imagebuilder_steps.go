package ec2emu

import (
	"errors"
	"fmt"
	"time"
)

// Image Builder workflow steps that wait for an action (a WaitForAction
// step): seeded per image build version ("waiting_steps"), answered by
// SendWorkflowStepAction, read by GetWorkflowStepExecution and
// ListWaitingWorkflowSteps (imagebuilder_workflow.go).

// Workflow step statuses (GetWorkflowStepExecution's status).
const (
	stepRunning   = "RUNNING"
	stepCompleted = "COMPLETED"
	stepFailed    = "FAILED"
)

// stepTimeoutSeconds is a WaitForAction step's timeout when the workflow
// document does not set one: 3 days.
const stepTimeoutSeconds = 3 * 24 * 60 * 60

// BuilderStep is one workflow step of an image build version that paused
// at a WaitForAction step.
type BuilderStep struct {
	StepExecutionID     string    `json:"step_execution_id"`
	Name                string    `json:"name"`
	WorkflowExecutionID string    `json:"workflow_execution_id"`
	Status              string    `json:"status"`
	Message             string    `json:"message,omitempty"`
	StartTime           time.Time `json:"start_time"`
	EndTime             time.Time `json:"end_time,omitzero"`
	// Answer is the SendWorkflowStepAction that ended the wait: a repeated
	// client token with the same parameters gets the same answer.
	Answer *StepAnswer `json:"answer,omitempty"`
}

// StepAnswer is the accepted SendWorkflowStepAction of a step.
type StepAnswer struct {
	ClientToken string `json:"client_token"`
	Action      string `json:"action"`
	Reason      string `json:"reason,omitempty"`
}

// SeedWaitingStep is one entry of an image build version's "waiting_steps":
// a step that is waiting for an action (RUNNING).
type SeedWaitingStep struct {
	// StepExecutionID: step-<uuid> (required).
	StepExecutionID string `json:"step_execution_id"`
	// Name: the step's name in the workflow document (default
	// "WaitForAction").
	Name string `json:"name,omitempty"`
	// WorkflowExecutionID: wf-<uuid> (required).
	WorkflowExecutionID string `json:"workflow_execution_id"`
}

// buildWaitingSteps checks the seed's waiting steps of one image build
// version; taken reports a step id the emulator already has.
func buildWaitingSteps(in []SeedWaitingStep, taken func(id string) bool, now time.Time) ([]*BuilderStep, error) {
	out := make([]*BuilderStep, 0, len(in))
	seen := map[string]int{}
	for i, w := range in {
		st, err := buildWaitingStep(w, now)
		if err != nil {
			return nil, fmt.Errorf("waiting_steps[%d]: %w", i, err)
		}
		if j, dup := seen[w.StepExecutionID]; dup {
			return nil, fmt.Errorf("waiting_steps[%d]: step_execution_id %s is already waiting_steps[%d]", i, w.StepExecutionID, j)
		}
		if taken != nil && taken(w.StepExecutionID) {
			return nil, fmt.Errorf("waiting_steps[%d]: step_execution_id %s is already a step of another image build version", i, w.StepExecutionID)
		}
		seen[w.StepExecutionID] = i
		out = append(out, st)
	}
	return out, nil
}

func buildWaitingStep(w SeedWaitingStep, now time.Time) (*BuilderStep, error) {
	if w.StepExecutionID == "" {
		return nil, errors.New("step_execution_id is missing: give step-<uuid>, e.g. step-0123abcd-0123-4567-89ab-0123456789ab")
	}
	if !validPrefixedUUID(w.StepExecutionID, "step-") {
		return nil, fmt.Errorf("step_execution_id %q is not step-<uuid> (step- and 8-4-4-4-12 hexadecimal digits)", truncateForMsg(w.StepExecutionID))
	}
	if w.WorkflowExecutionID == "" {
		return nil, errors.New("workflow_execution_id is missing: give wf-<uuid>, e.g. wf-0123abcd-0123-4567-89ab-0123456789ab")
	}
	if !validPrefixedUUID(w.WorkflowExecutionID, "wf-") {
		return nil, fmt.Errorf("workflow_execution_id %q is not wf-<uuid> (wf- and 8-4-4-4-12 hexadecimal digits)", truncateForMsg(w.WorkflowExecutionID))
	}
	name := w.Name
	if name == "" {
		name = "WaitForAction"
	}
	if len(name) > 128 {
		return nil, fmt.Errorf("name %q is longer than 128 characters", truncateForMsg(name))
	}
	return &BuilderStep{StepExecutionID: w.StepExecutionID, Name: name, WorkflowExecutionID: w.WorkflowExecutionID,
		Status: stepRunning, StartTime: now.Truncate(time.Millisecond)}, nil
}

// validPrefixedUUID reports whether s is prefix followed by a UUID in its
// 8-4-4-4-12 hexadecimal form (either case), as Image Builder's
// stepExecutionId and workflowExecutionId patterns say.
func validPrefixedUUID(s, prefix string) bool {
	if len(s) != len(prefix)+36 || s[:len(prefix)] != prefix {
		return false
	}
	u := s[len(prefix):]
	for i := 0; i < len(u); i++ {
		c := u[i]
		if i == 8 || i == 13 || i == 18 || i == 23 {
			if c != '-' {
				return false
			}
			continue
		}
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}

// builderStep finds a step by id with its image build version. Callers
// hold s.mu.
func (s *Server) builderStep(id string) (*BuilderImage, *BuilderStep) {
	for _, img := range s.st.BuilderImages {
		if img == nil {
			continue
		}
		for _, st := range img.Steps {
			if st != nil && st.StepExecutionID == id {
				return img, st
			}
		}
	}
	return nil, nil
}

// builderStepTaken reports whether a step id belongs to an image build
// version other than arn (a seed may replace arn's own steps).
func (s *Server) builderStepTaken(arn string) func(string) bool {
	return func(id string) bool {
		s.mu.Lock()
		defer s.mu.Unlock()
		img, _ := s.builderStep(id)
		return img != nil && img.ARN != arn
	}
}
