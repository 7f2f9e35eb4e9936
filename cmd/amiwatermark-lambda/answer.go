package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/imagebuilder"
	ibtypes "github.com/aws/aws-sdk-go-v2/service/imagebuilder/types"
	"github.com/aws/smithy-go"

	"github.com/amiwatermark/packer-plugin-amiwatermark/internal/engine"
)

// maxReason is the longest reason SendWorkflowStepAction takes.
const maxReason = 1024

// answerAttempts is how many times a failed SendWorkflowStepAction is
// sent again (each attempt is itself retried by the SDK); answerPause is
// the pause between two.
const answerAttempts = 3

var answerPause = 2 * time.Second

// clientToken derives SendWorkflowStepAction's clientToken from the step:
// a retried invocation for the same step sends the same token, so Image
// Builder returns the first answer instead of acting twice (and refuses a
// different one). A UUID-shaped hash: 36 characters.
func clientToken(stepID string) string {
	h := sha256.Sum256([]byte("amiwatermark-imagebuilder:" + stepID))
	s := hex.EncodeToString(h[:16])
	return s[0:8] + "-" + s[8:12] + "-" + s[12:16] + "-" + s[16:20] + "-" + s[20:32]
}

// answer sends RESUME or STOP to the waiting step; only this call is
// retried (answerAttempts, then the error is logged and returned).
func (h *handler) answer(ctx context.Context, ev *event, res *result) error {
	res.Reason = clipReason(redact(res.Reason))
	res.ClientToken = clientToken(ev.Step.StepExecutionID)
	in := &imagebuilder.SendWorkflowStepActionInput{
		StepExecutionId:      aws.String(ev.Step.StepExecutionID),
		ImageBuildVersionArn: aws.String(ev.Image.ARN),
		Action:               ibtypes.WorkflowStepActionType(res.Action),
		ClientToken:          aws.String(res.ClientToken),
	}
	if res.Reason != "" {
		in.Reason = aws.String(res.Reason)
	}
	c := h.sess.imageBuilder(ev.Image.Region)
	var err error
	for i := 0; i < answerAttempts; i++ {
		if i > 0 {
			logf(h.stderr, "imagebuilder:SendWorkflowStepAction %s on %s failed (%s); sending it again (%d of %d)", res.Action, ev.Step.StepExecutionID, oneLine(err), i+1, answerAttempts)
			if serr := engine.Sleep(ctx, answerPause); serr != nil {
				break
			}
		}
		if _, err = c.SendWorkflowStepAction(ctx, in); err == nil || !retryAnswer(err) {
			break
		}
	}
	if err != nil {
		err = fmt.Errorf("imagebuilder:SendWorkflowStepAction %s on step %s of %s failed: %s%s", res.Action, ev.Step.StepExecutionID, ev.Image.ARN, oneLine(err), answerHint(err))
		logf(h.stderr, "%s", err)
	}
	return err
}

// retryAnswer reports whether sending the answer again may help: not when
// Image Builder refused it for what it is.
func retryAnswer(err error) bool {
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		return true
	}
	switch ae.ErrorCode() {
	case "InvalidRequestException", "InvalidParameterValueException", "ResourceNotFoundException",
		"IdempotentParameterMismatchException", "ForbiddenException", "AccessDeniedException", "ClientException":
		return false
	}
	return true
}

func answerHint(err error) string {
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		return ""
	}
	switch ae.ErrorCode() {
	case "InvalidRequestException":
		return " (the step is no longer waiting: it was answered before or timed out)"
	case "IdempotentParameterMismatchException":
		return " (the step was already answered differently by an earlier invocation)"
	case "ResourceNotFoundException":
		return " (no such waiting step of this image in this account and region)"
	case "ForbiddenException", "AccessDeniedException":
		return " (the function's role is not allowed to call imagebuilder:SendWorkflowStepAction: grant it in IAM)"
	}
	return ""
}

// clipReason makes a reason fit SendWorkflowStepAction: one line, at most
// 1 024 bytes, cut on a character boundary.
func clipReason(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) <= maxReason {
		return s
	}
	const more = "..."
	cut := maxReason - len(more)
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + more
}
