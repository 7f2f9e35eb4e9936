package engine

import (
	"fmt"
	"strings"

	"github.com/amiwatermark/packer-plugin-amiwatermark/internal/watermark"
)

// Names are the names a front end gives its options: every message of a
// run says what to change in the words of the program that printed it
// (template keys for the post-processor, flags for the CLI, environment
// variables for the Image Builder function). Empty fields take the template
// names.
type Names struct {
	WaitTimeout    string // "wait_timeout"
	RequireAllowed string // "require_allowed"
	Detach         string // "detach"
	Watermarks     string // "watermarks"
	MaxRetries     string // "max_retries"
	NotFoundGrace  string // "not_found_grace"
	KeepInherited  string // "reattach_inherited = false"
	Criteria       string // "allowed_criteria_file"
	Credentials    string // "the profile, keys or assume_role"
	// DetachKey asks for the detach of one key: a format with one %q verb
	// for the key ("detach = [%q]", "--detach %q").
	DetachKey string
	// AssumeRole names the way to act as another account ("assume_role").
	AssumeRole string
}

// PostProcessorNames are the post-processor's template keys (also the
// defaults).
var PostProcessorNames = Names{
	WaitTimeout: "wait_timeout", RequireAllowed: "require_allowed", Detach: "detach", Watermarks: "watermarks",
	MaxRetries: "max_retries", NotFoundGrace: "not_found_grace", KeepInherited: "reattach_inherited = false",
	Criteria: "allowed_criteria_file", Credentials: "the profile, keys or assume_role",
	DetachKey: "detach = [%q]", AssumeRole: "assume_role",
}

func (n Names) withDefaults() Names {
	d := PostProcessorNames
	for _, f := range []struct {
		s   *string
		def string
	}{
		{&n.WaitTimeout, d.WaitTimeout}, {&n.RequireAllowed, d.RequireAllowed}, {&n.Detach, d.Detach},
		{&n.Watermarks, d.Watermarks}, {&n.MaxRetries, d.MaxRetries}, {&n.NotFoundGrace, d.NotFoundGrace},
		{&n.KeepInherited, d.KeepInherited}, {&n.Criteria, d.Criteria}, {&n.Credentials, d.Credentials},
		{&n.DetachKey, d.DetachKey}, {&n.AssumeRole, d.AssumeRole},
	} {
		if *f.s == "" {
			*f.s = f.def
		}
	}
	return n
}

// terms spells the domain rules' terms (watermark.Problem) with n.
func (n Names) terms() watermark.Names {
	return watermark.Names{
		watermark.TermDetach:     n.Detach,
		watermark.TermWatermarks: n.Watermarks,
		watermark.TermDetachKey:  n.DetachKey,
		watermark.TermAssumeRole: n.AssumeRole,
	}
}

// deniedHint explains an UnauthorizedOperation (or AccessDenied) answer
// to permission: an IAM policy or an SCP denies it. A denied detach names
// both ways out: leave inherited keys alone, or allow the detach for the
// role the run uses.
func (r *run) deniedHint(permission string) string {
	n := r.req.Names
	switch permission {
	case "ec2:DetachImageWatermark":
		return fmt.Sprintf(" (an SCP or IAM policy denies detaching watermarks (%s) to these credentials: set %s to leave inherited keys as they are and drop the keys to detach from %s, or allow %s for the build role)",
			permission, n.KeepInherited, n.Detach, permission)
	case "ec2:AttachImageWatermark":
		return fmt.Sprintf(" (an SCP or IAM policy denies attaching watermarks (%s) to these credentials: allow %s for the build role, or run with credentials that may attach)",
			permission, permission)
	}
	return fmt.Sprintf(" (an SCP or IAM policy denies %s to these credentials: allow it for the role in use)", permission)
}

// deniedAdvice says, after the calls the permission check refused, why
// and what to do: the ways out of a denied detach and of a denied attach.
func (r *run) deniedAdvice(detach, attach, reattach bool) string {
	n := r.req.Names
	var b strings.Builder
	if detach {
		b.WriteString("\nAn SCP or IAM policy denies detaching watermarks (ec2:DetachImageWatermark) to these credentials, as the recommended SCP does in build accounts. Either ")
		if reattach {
			fmt.Fprintf(&b, "set %s to leave inherited keys as they are (the AMI keeps them, inherited)", n.KeepInherited)
		} else {
			fmt.Fprintf(&b, "remove the denied keys from %s", n.Detach)
		}
		b.WriteString(", or allow ec2:DetachImageWatermark for the build role.")
	}
	if attach {
		fmt.Fprintf(&b, "\nAn SCP or IAM policy denies attaching watermarks (ec2:AttachImageWatermark) to these credentials: allow ec2:AttachImageWatermark for the build role, or run with other credentials (%s).", n.Credentials)
	}
	if !detach && !attach {
		b.WriteString("\nEC2 did not confirm these calls (see the errors above); nothing was changed: run again.")
	}
	return b.String()
}
