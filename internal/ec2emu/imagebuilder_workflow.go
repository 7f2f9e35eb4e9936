package ec2emu

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"time"
)

// The workflow-step operations of Image Builder (REST-JSON):
//   - PUT  /SendWorkflowStepAction  {stepExecutionId, imageBuildVersionArn, action, reason, clientToken}
//   - GET  /GetWorkflowStepExecution?stepExecutionId=ID
//   - POST /ListWaitingWorkflowSteps {maxResults, nextToken}
// over the steps seeded as "waiting_steps" (imagebuilder_steps.go). A step
// belongs to its image build version's account and region.

const (
	// maxBuilderBody bounds a request body.
	maxBuilderBody = 64 << 10
	// maxStepReason is the longest reason SendWorkflowStepAction takes.
	maxStepReason = 1024
	// maxClientToken is the longest clientToken.
	maxClientToken = 64
	// defaultWaitingPage and maxWaitingPage bound ListWaitingWorkflowSteps.
	defaultWaitingPage = 25
	maxWaitingPage     = 25
	// builderTimeLayout is how Image Builder writes times.
	builderTimeLayout = "2006-01-02T15:04:05.000Z"
)

func errBuilderRequest(format string, args ...any) *jsonError {
	return &jsonError{Status: http.StatusBadRequest, Code: "InvalidRequestException", Message: fmt.Sprintf(format, args...)}
}

func errBuilderValue(format string, args ...any) *jsonError {
	return &jsonError{Status: http.StatusBadRequest, Code: "InvalidParameterValueException", Message: fmt.Sprintf(format, args...)}
}

// stepActionInput is SendWorkflowStepAction's body.
type stepActionInput struct {
	StepExecutionID      *string `json:"stepExecutionId"`
	ImageBuildVersionArn *string `json:"imageBuildVersionArn"`
	Action               *string `json:"action"`
	Reason               *string `json:"reason"`
	ClientToken          *string `json:"clientToken"`
}

// builderSendStepAction answers SendWorkflowStepAction. Callers hold s.mu.
func (s *Server) builderSendStepAction(c caller, _ url.Values, body []byte) (map[string]any, *jsonError) {
	var in stepActionInput
	if err := json.NewDecoder(bytes.NewReader(body)).Decode(&in); err != nil {
		return nil, errBuilderRequest("The request body is not a JSON object: %v", err)
	}
	if jerr := checkStepAction(&in); jerr != nil {
		return nil, jerr
	}
	id, arn, token := *in.StepExecutionID, *in.ImageBuildVersionArn, *in.ClientToken
	img, st := s.builderStep(id)
	if img == nil || img.Account != c.account || img.Region != c.region || img.ARN != arn {
		return nil, &jsonError{Status: http.StatusNotFound, Code: "ResourceNotFoundException",
			Message: "The workflow step " + id + " of image " + truncateForMsg(arn) + " does not exist in account " + c.account + " in " + truncateForMsg(c.region) + "."}
	}
	reason := ""
	if in.Reason != nil {
		reason = *in.Reason
	}
	answer := StepAnswer{ClientToken: token, Action: *in.Action, Reason: reason}
	out := map[string]any{"stepExecutionId": id, "imageBuildVersionArn": arn, "clientToken": token}
	if jerr := s.tokenReused(c, answer, id); jerr != nil {
		return nil, jerr
	}
	if st.Answer != nil && *st.Answer == answer {
		// The same request again: the first answer, nothing changes.
		return out, nil
	}
	if st.Status != stepRunning {
		return nil, errBuilderRequest("The workflow step %s is not waiting for an action: its status is %s.", id, st.Status)
	}
	st.Status = stepCompleted
	if answer.Action == "STOP" {
		st.Status = stepFailed
	}
	st.Message = reason
	st.EndTime = s.now().Truncate(time.Millisecond)
	st.Answer = &answer
	s.changed()
	return out, nil
}

// checkStepAction checks SendWorkflowStepAction's parameters.
func checkStepAction(in *stepActionInput) *jsonError {
	switch {
	case in.StepExecutionID == nil:
		return errBuilderValue("The value supplied for parameter 'stepExecutionId' is not valid: it is required.")
	case !validPrefixedUUID(*in.StepExecutionID, "step-"):
		return errBuilderValue("The value supplied for parameter 'stepExecutionId' is not valid. %s does not match step-<uuid>.", strconv.Quote(truncateForMsg(*in.StepExecutionID)))
	case in.ImageBuildVersionArn == nil:
		return errBuilderValue("The value supplied for parameter 'imageBuildVersionArn' is not valid: it is required.")
	case !validBuilderARN(*in.ImageBuildVersionArn):
		return errBuilderValue("The value supplied for parameter 'imageBuildVersionArn' is not valid. %s is not an image build version ARN (arn:aws:imagebuilder:REGION:ACCOUNT:image/NAME/X.Y.Z/BUILD).", strconv.Quote(truncateForMsg(*in.ImageBuildVersionArn)))
	case in.Action == nil || (*in.Action != "RESUME" && *in.Action != "STOP"):
		return errBuilderValue("The value supplied for parameter 'action' is not valid: it must be RESUME or STOP.")
	case in.Reason != nil && (len(*in.Reason) < 1 || len(*in.Reason) > maxStepReason):
		return errBuilderValue("The value supplied for parameter 'reason' is not valid: its length is %d, it must be 1 to %d characters.", len(*in.Reason), maxStepReason)
	case in.ClientToken == nil || len(*in.ClientToken) < 1 || len(*in.ClientToken) > maxClientToken:
		return errBuilderValue("The value supplied for parameter 'clientToken' is not valid: it must be 1 to %d characters.", maxClientToken)
	}
	return nil
}

func validBuilderARN(arn string) bool {
	_, _, _, _, ok := parseBuilderARN(arn)
	return ok
}

// tokenReused refuses a client token the caller's account already used for
// another step or other parameters (IdempotentParameterMismatchException).
func (s *Server) tokenReused(c caller, a StepAnswer, id string) *jsonError {
	for _, img := range s.st.BuilderImages {
		if img == nil || img.Account != c.account {
			continue
		}
		for _, st := range img.Steps {
			if st == nil || st.Answer == nil || st.Answer.ClientToken != a.ClientToken {
				continue
			}
			if st.StepExecutionID != id || *st.Answer != a {
				return &jsonError{Status: http.StatusBadRequest, Code: "IdempotentParameterMismatchException",
					Message: "The client token " + strconv.Quote(truncateForMsg(a.ClientToken)) + " was already used with other parameters (step " + st.StepExecutionID + ", action " + st.Answer.Action + ")."}
			}
		}
	}
	return nil
}

// builderGetStep answers GetWorkflowStepExecution. Callers hold s.mu.
func (s *Server) builderGetStep(c caller, q url.Values, _ []byte) (map[string]any, *jsonError) {
	id := q.Get("stepExecutionId")
	if !validPrefixedUUID(id, "step-") {
		return nil, errBuilderRequest("The value supplied for parameter 'stepExecutionId' is not valid. %s does not match step-<uuid>.", strconv.Quote(truncateForMsg(id)))
	}
	img, st := s.builderStep(id)
	if img == nil || img.Account != c.account || img.Region != c.region {
		return nil, errBuilderRequest("The workflow step %s does not exist in account %s in %s.", id, c.account, truncateForMsg(c.region))
	}
	out := stepSummary(img, st)
	out["status"] = st.Status
	out["description"] = "Waits for an action (SendWorkflowStepAction) before the workflow continues."
	out["inputs"] = "{}"
	out["onFailure"] = "Abort"
	out["timeoutSeconds"] = stepTimeoutSeconds
	if st.Message != "" {
		out["message"] = st.Message
	}
	if !st.EndTime.IsZero() {
		out["endTime"] = st.EndTime.UTC().Format(builderTimeLayout)
	}
	return out, nil
}

// stepSummary is a step as ListWaitingWorkflowSteps lists it.
func stepSummary(img *BuilderImage, st *BuilderStep) map[string]any {
	return map[string]any{
		"stepExecutionId":         st.StepExecutionID,
		"imageBuildVersionArn":    img.ARN,
		"workflowExecutionId":     st.WorkflowExecutionID,
		"workflowBuildVersionArn": builderWorkflowARN(img),
		"name":                    st.Name,
		"action":                  "WaitForAction",
		"startTime":               st.StartTime.UTC().Format(builderTimeLayout),
	}
}

// builderWorkflowARN is the workflow build version a seeded step belongs to.
func builderWorkflowARN(img *BuilderImage) string {
	return "arn:aws:imagebuilder:" + img.Region + ":" + img.Account + ":workflow/distribution/amiwatermark-gate/1.0.0/1"
}

// waitingInput is ListWaitingWorkflowSteps' body.
type waitingInput struct {
	MaxResults *int    `json:"maxResults"`
	NextToken  *string `json:"nextToken"`
}

// builderListWaiting answers ListWaitingWorkflowSteps: the caller's RUNNING
// steps in its region, oldest first. Callers hold s.mu.
func (s *Server) builderListWaiting(c caller, _ url.Values, body []byte) (map[string]any, *jsonError) {
	var in waitingInput
	if len(bytes.TrimSpace(body)) > 0 {
		if err := json.NewDecoder(bytes.NewReader(body)).Decode(&in); err != nil {
			return nil, errBuilderRequest("The request body is not a JSON object: %v", err)
		}
	}
	limit := defaultWaitingPage
	if in.MaxResults != nil {
		if *in.MaxResults < 1 || *in.MaxResults > maxWaitingPage {
			return nil, errBuilderRequest("The value supplied for parameter 'maxResults' is not valid: it must be 1 to %d.", maxWaitingPage)
		}
		limit = *in.MaxResults
	}
	start := 0
	if in.NextToken != nil {
		n, ok := parseWaitingToken(*in.NextToken)
		if !ok {
			return nil, &jsonError{Status: http.StatusBadRequest, Code: "InvalidPaginationTokenException", Message: "The nextToken is not one this operation returned."}
		}
		start = n
	}
	steps := s.waitingSteps(c)
	out := map[string]any{"steps": []map[string]any{}}
	if start > len(steps) {
		start = len(steps)
	}
	end := min(start+limit, len(steps))
	page := make([]map[string]any, 0, end-start)
	for _, w := range steps[start:end] {
		page = append(page, stepSummary(w.img, w.st))
	}
	out["steps"] = page
	if end < len(steps) {
		out["nextToken"] = base64.RawURLEncoding.EncodeToString([]byte("waiting:" + strconv.Itoa(end)))
	}
	return out, nil
}

type waitingStep struct {
	img *BuilderImage
	st  *BuilderStep
}

// waitingSteps lists the caller's RUNNING steps, by start time then id.
func (s *Server) waitingSteps(c caller) []waitingStep {
	var out []waitingStep
	for _, img := range s.st.BuilderImages {
		if img == nil || img.Account != c.account || img.Region != c.region {
			continue
		}
		for _, st := range img.Steps {
			if st != nil && st.Status == stepRunning {
				out = append(out, waitingStep{img, st})
			}
		}
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i].st, out[j].st
		if !a.StartTime.Equal(b.StartTime) {
			return a.StartTime.Before(b.StartTime)
		}
		return a.StepExecutionID < b.StepExecutionID
	})
	return out
}

func parseWaitingToken(t string) (int, bool) {
	b, err := base64.RawURLEncoding.DecodeString(t)
	if err != nil || len(b) < len("waiting:") || string(b[:len("waiting:")]) != "waiting:" {
		return 0, false
	}
	n, err := strconv.Atoi(string(b[len("waiting:"):]))
	return n, err == nil && n >= 0
}
