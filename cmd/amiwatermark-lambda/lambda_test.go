package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	eventstest "github.com/aws/aws-lambda-go/events/test"
	"github.com/aws/aws-lambda-go/lambdacontext"
	ibtypes "github.com/aws/aws-sdk-go-v2/service/imagebuilder/types"
)

// The recorded events are EventBridge events as aws-lambda-go models them
// (its own round-trip helper), and a malformed one is refused.
func TestRecordedEventsAreEventBridgeEvents(t *testing.T) {
	for _, f := range []string{"step-waiting.json", "state-available.json", "state-testing.json", "ec2-ami-state.json"} {
		eventstest.AssertJsonFile(t, "testdata/"+f, &events.CloudWatchEvent{})
	}
	eventstest.TestMalformedJson(t, &events.CloudWatchEvent{})
	if _, err := parseEvent(eventstest.GetMalformedJson()); err == nil {
		t.Fatal("a malformed event was accepted")
	}
}

// The function as the Lambda runtime invokes it (aws-lambda-go's
// lambda.Handler, with a Lambda context and deadline).
func TestLambdaRuntimeInvoke(t *testing.T) {
	srv := newEmulator(t, seedOpts{})
	for _, kv := range baseEnv(t, srv) {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
	}
	var logs bytes.Buffer
	env := map[string]string{envWatermarks: approvedWM, "AWS_SECRET_ACCESS_KEY": secretKey}
	h := lambdaHandler(newHandler(func(k string) string { return env[k] }, &logs))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	ctx = lambdacontext.NewContext(ctx, &lambdacontext.LambdaContext{AwsRequestID: "0f3a1b2c-test"})

	out, err := h.Invoke(ctx, eventstest.ReadJSONFromFile(t, "testdata/step-waiting.json"))
	var res result
	if err != nil || json.Unmarshal(out, &res) != nil || res.Outcome != outcomeResumed {
		t.Fatalf("invoke: %v\n%s\nlogs:\n%s", err, out, logs.String())
	}
	if st := stepOf(t, srv); st.Status != ibtypes.WorkflowStepExecutionStatusCompleted {
		t.Fatalf("step %s", st.Status)
	}
	out, err = h.Invoke(ctx, eventstest.ReadJSONFromFile(t, "testdata/state-testing.json"))
	if err != nil || outcomeOf(out) != outcomeIgnored {
		t.Fatalf("ignored event: %v %s", err, out)
	}
	// A refused event is an invocation error naming what was expected.
	_, err = h.Invoke(ctx, eventstest.ReadJSONFromFile(t, "testdata/ec2-ami-state.json"))
	if err == nil || !strings.Contains(err.Error(), kindStepWaiting) {
		t.Fatalf("EC2 event: %v", err)
	}
	if strings.Contains(logs.String(), secretKey) {
		t.Fatal("the secret key is in the logs")
	}
}

// The built binary serves the Lambda Runtime API (AWS_LAMBDA_RUNTIME_API):
// it takes the next invocation, answers the step and posts the result.
func TestBinaryServesRuntimeAPI(t *testing.T) {
	srv := newEmulator(t, seedOpts{})
	event := eventstest.ReadJSONFromFile(t, "testdata/step-waiting.json")
	responses := make(chan []byte, 1)
	served := false
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.Method == http.MethodGet && r.URL.Path == "/2018-06-01/runtime/invocation/next" && !served:
			served = true
			w.Header().Set("Lambda-Runtime-Aws-Request-Id", "req-1")
			w.Header().Set("Lambda-Runtime-Deadline-Ms", strconv.FormatInt(time.Now().Add(time.Minute).UnixMilli(), 10))
			w.Header().Set("Lambda-Runtime-Invoked-Function-Arn", "arn:aws:lambda:us-east-1:"+buildAcct+":function:amiwatermark")
			_, _ = w.Write(event)
		case r.Method == http.MethodPost && r.URL.Path == "/2018-06-01/runtime/invocation/req-1/response":
			b, _ := io.ReadAll(r.Body)
			w.WriteHeader(http.StatusAccepted)
			responses <- b
		default:
			<-r.Context().Done() // the next invocation never comes
		}
	}))
	defer api.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, lambdaBin)
	cmd.Env = append(baseEnv(t, srv), "AWS_LAMBDA_RUNTIME_API="+strings.TrimPrefix(api.URL, "http://"), "AWS_LAMBDA_FUNCTION_NAME=amiwatermark")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	select {
	case b := <-responses:
		if outcomeOf(b) != outcomeResumed {
			t.Fatalf("response %s\nstderr:\n%s", b, stderr.String())
		}
	case <-ctx.Done():
		t.Fatalf("no response; stderr:\n%s", stderr.String())
	}
	if st := stepOf(t, srv); st.Status != ibtypes.WorkflowStepExecutionStatusCompleted {
		t.Fatalf("step %s", st.Status)
	}
}

func outcomeOf(b []byte) string {
	var r result
	if json.Unmarshal(b, &r) != nil {
		return ""
	}
	return r.Outcome
}

// A panic inside the gate (here a handler whose configuration was never
// loaded, a bug) still answers the waiting step: STOP, with the panic as
// the reason, and the stack in the log.
func TestPanicInGateStopsStep(t *testing.T) {
	srv := newEmulator(t, seedOpts{})
	for _, kv := range baseEnv(t, srv) {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
	}
	var logs bytes.Buffer
	h := &handler{stderr: &logs} // no configuration and no error: gateEvent panics
	res := h.handle(context.Background(), eventstest.ReadJSONFromFile(t, "testdata/step-waiting.json"))
	if res.Outcome != outcomeStopped || res.Action != "STOP" || !strings.Contains(res.Reason, "internal error") {
		t.Fatalf("result %+v, want the step stopped with the internal error", res)
	}
	if st := stepOf(t, srv); st.Status != ibtypes.WorkflowStepExecutionStatusFailed {
		t.Fatalf("step %s, want FAILED", st.Status)
	}
	if !strings.Contains(logs.String(), "goroutine") {
		t.Errorf("the log has no stack:\n%s", logs.String())
	}
}
