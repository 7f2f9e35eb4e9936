package main

import (
	"encoding/json"

	"github.com/amiwatermark/packer-plugin-amiwatermark/internal/builderimage"
	"github.com/amiwatermark/packer-plugin-amiwatermark/internal/engine"
)

// Outcomes of one event.
const (
	outcomeResumed  = "resumed"  // the gate passed and the step was resumed
	outcomeStopped  = "stopped"  // the gate failed and the step was stopped
	outcomeAttached = "attached" // an AVAILABLE image's AMIs were watermarked
	outcomeIgnored  = "ignored"  // an image state other than AVAILABLE
	outcomeFailed   = "failed"   // nothing handled: a bad event, a failed run, or the step could not be answered
)

// result is what the function did with one event: its JSON is the Lambda
// response and what `amiwatermark-lambda --event` prints. The field names
// are stable (docs/imagebuilder.md).
type result struct {
	Event                string `json:"event,omitempty"`
	Outcome              string `json:"outcome"`
	ImageBuildVersionARN string `json:"image_build_version_arn,omitempty"`
	// ImageStatus is the status an Image State Change event carries.
	ImageStatus string `json:"image_status,omitempty"`
	// The waiting step and the answer sent to it.
	StepExecutionID string          `json:"step_execution_id,omitempty"`
	StepName        string          `json:"step_name,omitempty"`
	Action          string          `json:"action,omitempty"`
	Reason          string          `json:"reason,omitempty"`
	ClientToken     string          `json:"client_token,omitempty"`
	DryRun          bool            `json:"dry_run"`
	AMIs            []amiResult     `json:"amis"`
	NotAttachable   []notAttachable `json:"not_attachable"`
	// Error says why the gate failed or nothing was done; AnswerError why
	// SendWorkflowStepAction failed after its retries.
	Error       string `json:"error,omitempty"`
	AnswerError string `json:"answer_error,omitempty"`
	// Message is a one-line summary.
	Message string `json:"message,omitempty"`
}

type amiResult struct {
	Region   string   `json:"region"`
	ImageID  string   `json:"image_id"`
	Account  string   `json:"account"`
	Attached []string `json:"attached"`
	Detached []string `json:"detached"`
	// Keys are the keys on the AMI after the run (verified; in a dry run:
	// the keys it would carry).
	Keys []string `json:"keys"`
}

type notAttachable struct {
	Region  string `json:"region"`
	ImageID string `json:"image_id"`
	Account string `json:"account"`
	Reason  string `json:"reason"`
}

func newResult() *result {
	return &result{AMIs: []amiResult{}, NotAttachable: []notAttachable{}}
}

func (r *result) addAMIs(account string, out *engine.Result, dry bool) {
	for _, a := range out.AMIs {
		keys := a.Keys
		if dry {
			keys = a.Plan.KeysAfter()
		}
		r.AMIs = append(r.AMIs, amiResult{Region: a.Region, ImageID: a.ImageID, Account: account,
			Attached: nonNil(a.Attached), Detached: nonNil(a.Detached), Keys: nonNil(keys)})
	}
}

func (r *result) addNotAttachable(amis []builderimage.AMI, self string) {
	for _, a := range amis {
		r.NotAttachable = append(r.NotAttachable, notAttachable{Region: a.Region, ImageID: a.ImageID, Account: a.Account,
			Reason: foreignReason(a, self) + " (left as it is: " + envSkipOtherAccounts + "=true)"})
	}
}

// ok reports whether the outcome is a success (exit status 0).
func (r *result) ok() bool {
	return r.Outcome == outcomeResumed || r.Outcome == outcomeAttached || r.Outcome == outcomeIgnored
}

// encode is the result as redacted JSON.
func (r *result) encode() []byte {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		b = []byte(`{"outcome":"failed","error":"encoding the result failed"}`)
	}
	return []byte(redact(string(b)))
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
