package main

import (
	"context"
	"fmt"
	"io"
	"runtime/debug"
	"time"

	"github.com/amiwatermark/packer-plugin-amiwatermark/internal/builderimage"
)

// answerReserve is the time kept, out of the invocation's deadline, to
// answer the step after the gate: the engine's context ends that much
// earlier.
const answerReserve = 30 * time.Second

// handler handles events with one configuration, read at start.
type handler struct {
	cfg    *config
	cfgErr error
	stderr io.Writer
	sess   *session
}

func newHandler(getenv func(string) string, stderr io.Writer) *handler {
	h := &handler{stderr: stderr}
	// Lambda hands the function's credentials in the environment: they are
	// registered before anything is written (the SDK's chain registers the
	// ones it resolves, recordCredentials).
	addSecrets(getenv("AWS_ACCESS_KEY_ID"), getenv("AWS_SECRET_ACCESS_KEY"), getenv("AWS_SESSION_TOKEN"))
	h.cfg, h.cfgErr = loadConfig(getenv)
	if h.cfgErr != nil {
		logf(stderr, "amiwatermark-lambda: configuration: %s (every event is answered with this error until it is fixed)", h.cfgErr)
	}
	return h
}

// gateSafely runs the gate for ev; a panic in it is an error, so that a
// waiting step is still answered (STOP) after a bug.
func (h *handler) gateSafely(ctx context.Context, ev *event, res *result) (err error) {
	defer func() {
		if p := recover(); p != nil {
			logf(h.stderr, "amiwatermark-lambda: internal error: %v\n%s", p, debug.Stack())
			err = fmt.Errorf("internal error: %v (a bug: please report it with the log)", p)
		}
	}()
	return h.gateEvent(ctx, ev, res)
}

// handle handles one event: it never panics and always returns a result.
// A waiting step is answered on every path once the event names it.
func (h *handler) handle(ctx context.Context, data []byte) (res *result) {
	res = newResult()
	defer func() {
		if p := recover(); p != nil {
			logf(h.stderr, "amiwatermark-lambda: internal error: %v\n%s", p, debug.Stack())
			res.Outcome, res.Error = outcomeFailed, fmt.Sprintf("internal error: %v (a bug: please report it with the log)", p)
		}
	}()
	ev, err := parseEvent(data)
	if ev != nil {
		res.Event, res.ImageBuildVersionARN = ev.Kind, ev.Image.ARN
	}
	if err != nil {
		res.Outcome, res.Error = outcomeFailed, err.Error()
		return res
	}
	if ev.Kind == kindStateChange {
		res.ImageStatus = ev.State.State.Status
		if res.ImageStatus != "AVAILABLE" {
			res.Outcome = outcomeIgnored
			res.Message = fmt.Sprintf("ignored: the image's status is %s; only AVAILABLE is handled (nothing was asked of AWS)", clip(res.ImageStatus))
			return res
		}
	} else {
		res.StepExecutionID, res.StepName = ev.Step.StepExecutionID, ev.Step.StepName
	}
	if h.cfg != nil {
		res.DryRun = h.cfg.DryRun
	}
	gateErr := h.gateSafely(ctx, ev, res)
	if ev.Kind == kindStepWaiting {
		h.finishStep(ctx, ev, res, gateErr)
		return res
	}
	if gateErr != nil {
		res.Outcome, res.Error = outcomeFailed, gateErr.Error()
		return res
	}
	res.Outcome, res.Message = outcomeAttached, summary(res)
	return res
}

// gateEvent runs the gate for the event's image: configuration, GetImage,
// then the engine (with the time left before the answer is due).
func (h *handler) gateEvent(ctx context.Context, ev *event, res *result) error {
	if h.cfgErr != nil {
		return fmt.Errorf("the function's configuration is invalid: %s", h.cfgErr)
	}
	if h.sess == nil {
		sess, err := newSession(ctx, h.cfg)
		if err != nil {
			return err
		}
		h.sess = sess
	}
	img, err := builderimage.Get(ctx, h.sess.imageBuilder(ev.Image.Region), ev.Image)
	if err != nil {
		return err
	}
	if ev.Kind == kindStateChange {
		err = img.RequireAvailable()
	} else if img.Ended() {
		err = img.EndedError()
	} else {
		err = img.RequireAMIs()
	}
	if err != nil {
		return err
	}
	gctx := ctx
	if dl, ok := ctx.Deadline(); ok {
		var cancel context.CancelFunc
		gctx, cancel = context.WithDeadline(ctx, dl.Add(-answerReserve))
		defer cancel()
	}
	return h.gate(gctx, img, res)
}

// finishStep answers the waiting step: RESUME when the gate passed, STOP
// with the reason otherwise.
func (h *handler) finishStep(ctx context.Context, ev *event, res *result, gateErr error) {
	res.Action, res.Outcome = "RESUME", outcomeResumed
	res.Reason = "amiwatermark: " + summary(res)
	if gateErr != nil {
		res.Action, res.Outcome, res.Error = "STOP", outcomeStopped, gateErr.Error()
		res.Reason = "amiwatermark: " + gateErr.Error()
	}
	if h.sess == nil {
		// No session means the configuration is invalid: answer with the
		// SDK's chain alone.
		sess, err := newSession(ctx, &config{})
		if err != nil {
			res.Outcome, res.AnswerError = outcomeFailed, err.Error()
			return
		}
		h.sess = sess
	}
	if err := h.answer(ctx, ev, res); err != nil {
		res.Outcome, res.AnswerError = outcomeFailed, err.Error()
		return
	}
	res.Message = fmt.Sprintf("%s sent to step %s", res.Action, ev.Step.StepExecutionID)
}

// summary says what the gate did, in one line.
func summary(res *result) string {
	verb := "carry"
	if res.DryRun {
		verb = "would carry (dry run, nothing changed)"
	}
	msg := fmt.Sprintf("%d AMI(s) %s the watermarks:", len(res.AMIs), verb)
	for _, a := range res.AMIs {
		msg += fmt.Sprintf(" %s %s %v;", a.Region, a.ImageID, a.Keys)
	}
	if len(res.NotAttachable) > 0 {
		msg += fmt.Sprintf(" %d AMI(s) of other accounts left as they are", len(res.NotAttachable))
	}
	return msg
}
