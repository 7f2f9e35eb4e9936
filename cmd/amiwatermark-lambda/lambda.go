package main

import (
	"context"
	"encoding/json"
	"errors"

	"github.com/aws/aws-lambda-go/lambda"
)

// startLambda serves the Lambda Runtime API with h until Lambda stops the
// process.
func startLambda(h *handler) { lambda.Start(lambdaHandler(h)) }

// lambdaHandler is the function as aws-lambda-go invokes it: the event's
// JSON in, the result's JSON out. A result that failed (a bad event, a run
// that failed, a step that could not be answered) is an invocation error,
// so that Lambda reports it and retries asynchronous invocations; the
// clientToken keeps a retry from answering a step twice. The result is
// logged either way.
func lambdaHandler(h *handler) lambda.Handler {
	return lambda.NewHandler(func(ctx context.Context, payload json.RawMessage) (json.RawMessage, error) {
		res := h.handle(ctx, payload)
		out := res.encode()
		logf(h.stderr, "%s", out)
		if res.Outcome == outcomeFailed {
			msg := res.Error
			if res.AnswerError != "" {
				msg = res.AnswerError
			}
			return nil, errors.New(redact(msg))
		}
		return out, nil
	})
}
