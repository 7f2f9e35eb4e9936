package engine

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aws/smithy-go"

	"github.com/amiwatermark/packer-plugin-amiwatermark/internal/awsconfig"
	"github.com/amiwatermark/packer-plugin-amiwatermark/internal/watermark"
)

// announce says what the run is about to do.
func (r *run) announce(amis, regions int) {
	verbs := "attach %s; detach %s"
	if r.req.DryRun {
		verbs = "would attach %s; would detach %s (dry run: nothing is changed)"
	}
	r.ui.say("%d AMI(s) in %d region(s): "+verbs, amis, regions,
		joinOr(quoteAll(r.req.Attach), "nothing"), joinOr(quoteAll(r.req.Detach), "nothing"))
}

// summary reports the result per AMI and in total.
func (r *run) summary(res *Result, regions int) {
	if r.req.DryRun {
		for _, a := range res.AMIs {
			r.ui.amiSay(a.Target, "would carry %s (%d to attach, %d to detach, %d already present)", joinOr(showAll(a.Plan.KeysAfter()), "no watermark"), len(a.Attached), len(a.Detached), len(a.Plan.Skipped))
		}
		r.ui.say("nothing was changed; verification skipped")
		return
	}
	attached, detached, skipped := 0, 0, 0
	for _, a := range res.AMIs {
		attached += len(a.Attached)
		detached += len(a.Detached)
		skipped += len(a.Plan.Skipped)
		r.ui.amiSay(a.Target, "carries %s (%d attached, %d detached, %d already present)", joinOr(showAll(a.Keys), "no watermark"), len(a.Attached), len(a.Detached), len(a.Plan.Skipped))
	}
	r.ui.say("done: %d AMI(s) in %d region(s); %d attached, %d detached, %d already present", len(res.AMIs), regions, attached, detached, skipped)
}

// ui serialises output from the region goroutines and prefixes dry-run
// lines.
type ui struct {
	mu  sync.Mutex
	rep Reporter
	dry bool
}

func (u *ui) say(format string, args ...any) {
	if u.rep == nil {
		return
	}
	msg := fmt.Sprintf(format, args...)
	if u.dry {
		msg = "[dry-run] " + msg
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	u.rep.Say(msg)
}

func (u *ui) amiSay(t Target, format string, args ...any) {
	u.say("%s %s: %s", t.Region, t.ImageID, fmt.Sprintf(format, args...))
}

// joinOr renders a list for messages, empty when it is empty.
func joinOr(list []string, empty string) string {
	if len(list) == 0 {
		return empty
	}
	return strings.Join(list, ", ")
}

// apiCode is the EC2 error code of err ("" when it is not an API error).
func apiCode(err error) string { return awsconfig.ErrorCode(err) }

// errText renders an SDK error compactly: "Code: message" for API errors.
func errText(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return fmt.Sprintf("%s: %s", ae.ErrorCode(), ae.ErrorMessage())
	}
	if errors.Is(err, context.Canceled) {
		return "cancelled"
	}
	return err.Error()
}

// hint says what to do about an API error.
func (r *run) hint(err error, permission string) string {
	switch apiCode(err) {
	case "UnauthorizedOperation", "AccessDenied", "AccessDeniedException":
		return r.deniedHint(permission)
	case "AuthFailure":
		return " (the credentials were rejected or do not own this AMI: check the credentials and that the account owns the AMI)"
	case "RequestLimitExceeded", "Throttling", "ThrottlingException":
		return " (EC2 kept throttling after every retry: raise " + r.req.Names.MaxRetries + " or run again later)"
	case "ResourceLimitExceeded":
		return " (the AMI already carries 5 watermarks, perhaps changed since it was described: detach some with `" + r.req.Names.Detach + "` and run again)"
	case "IncorrectState":
		return " (the AMI is no longer available: check it in EC2)"
	case "InvalidAMIID.NotFound", "InvalidAMIID.Unavailable":
		return " (the AMI is gone or not visible: check the AMI id and its region)"
	case "UnsupportedOperation":
		return " (check the AMI: watermarks can't be attached to public AMIs)"
	}
	return ""
}

// namedIn returns the ids of list that occur in msg.
func namedIn(msg string, list []string) []string {
	var out []string
	for _, id := range list {
		if strings.Contains(msg, id) {
			out = append(out, id)
		}
	}
	return out
}

// without returns list minus the ids in drop.
func without(list, drop []string) []string {
	var out []string
	for _, id := range list {
		if !slices.Contains(drop, id) {
			out = append(out, id)
		}
	}
	return out
}

// Sleep waits d, or until ctx ends (then it returns ctx's error).
func Sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

func quoteAll(list []string) []string {
	out := make([]string, len(list))
	for i, s := range list {
		out[i] = fmt.Sprintf("%q", s)
	}
	return out
}

// showKey renders a key for messages: quoted when its name has leading or
// trailing spaces (or is empty), so that "111122223333:   " does not read
// as a key without a name.
func showKey(k string) string {
	_, name, _ := strings.Cut(k, ":")
	if name == "" || strings.TrimSpace(name) != name {
		return fmt.Sprintf("%q", k)
	}
	return k
}

// showKeys renders keys with showKey, comma-separated.
func showKeys(keys []string) string {
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = showKey(k)
	}
	return strings.Join(out, ", ")
}

func showAll(keys []string) []string {
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = showKey(k)
	}
	return out
}

// The state a run leaves an AMI in (AMIState.State).
const (
	// StateChanged: at least one attach or detach call took effect.
	StateChanged = "changed"
	// StateUnchanged: no call took effect (none was made, every one was
	// refused, or the run was a dry run).
	StateUnchanged = "unchanged"
	// StateUnknown: no call is known to have taken effect, but one ended
	// without EC2's answer (interrupted, a timeout, a network error): it
	// may or may not have taken effect.
	StateUnknown = "unknown"
)

// AMIState is what a run that failed once its changes had started left on
// one AMI.
type AMIState struct {
	Target
	Plan  watermark.ImagePlan
	State string
	// Attached and Detached are the keys of the calls that took effect.
	Attached []string
	Detached []string
	// Failed is the call that failed and its error; NotDone the calls not
	// made.
	Failed  string
	NotDone []string
	// Keys are the keys on the AMI as verification described them; nil
	// when the AMI was not described after the changes.
	Keys []string
}

// PartialError is the error of a run that failed once changes had started
// (a call failed, the run was interrupted, or verification failed): the
// message is the report printed to the user, AMIs the state of every AMI
// of the run.
type PartialError struct {
	msg  string
	AMIs []AMIState
}

func (e *PartialError) Error() string { return e.msg }

// stateOf is the state of an AMI whose calls that took effect are done,
// and whose failed call (if any) ended with err.
func stateOf(dry bool, done int, err error) string {
	switch {
	case dry:
		return StateUnchanged
	case done > 0:
		return StateChanged
	case err == nil:
		return StateUnchanged
	}
	switch apiCode(err) {
	case "", "InternalError", "InternalFailure", "Unavailable", "ServiceUnavailable":
		// No answer, or a server error: the call may have taken effect.
		return StateUnknown
	}
	return StateUnchanged // refused: it did not take effect
}
