package watermark

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// Request is what one post-processor run asks for on every AMI: names to
// attach (AWS forms the key ACCOUNT:NAME from the caller's account) and
// entries to detach, each a full key ACCOUNT:NAME or a bare NAME meaning the
// AMI owner's key.
type Request struct {
	Attach []string
	Detach []string
	// KeepInherited leaves a requested key alone when the AMI carries it
	// inherited (attached to another AMI and carried by CreateImage or
	// CopyImage). By default such a key is re-attached: detached and
	// attached again, so that it is attached to this AMI (its
	// SourceImageId becomes this AMI) and lineage checks see this AMI as
	// the one the key was given to.
	KeepInherited bool
}

// Skip is a requested name whose key is already on the AMI, so attaching it
// again is skipped (re-runs are idempotent).
type Skip struct {
	Key  string
	Name string
	// Inherited is true when the watermark was attached to another AMI
	// (SourceImageID) and came to this one through a copy or CreateImage.
	Inherited         bool
	SourceImageID     string
	SourceImageRegion string
}

// Reason says why the name is skipped, for the UI.
func (s Skip) Reason() string {
	if !s.Inherited {
		return "already present"
	}
	src := s.SourceImageID
	if s.SourceImageRegion != "" {
		src += " in " + s.SourceImageRegion
	}
	return "already present, inherited from " + src
}

// Problem is a reason the whole run must not mutate anything. Its message
// names what is wrong and how to fix it; Error prefixes region and AMI id.
type Problem struct {
	Region  string
	ImageID string
	// Message is the problem worded with the template key names.
	Message string
	// Field is the setting the problem concerns ("" when none).
	Field Term

	render func(Names) string // Message with a front end's names; nil: Message
}

func (p Problem) Error() string { return p.Render(nil) }

// Render words the problem (region and AMI first) with names.
func (p Problem) Render(n Names) string {
	msg := p.Message
	if p.render != nil {
		msg = p.render(n)
	}
	where := strings.TrimSpace(p.Region + " " + p.ImageID)
	if where == "" {
		return msg
	}
	return where + ": " + msg
}

// ImagePlan is what one AMI needs: keys to detach first, then names to
// attach. It is computed from a described image without any AWS call.
type ImagePlan struct {
	Region  string
	ImageID string
	// Account is the AMI owner's account; keys attached in this run are
	// Account:name.
	Account string
	// Present are the watermarks on the AMI before the run, as described.
	Present []Watermark
	// Detach are keys to detach, present on the AMI, in request order.
	Detach []string
	// DetachAbsent are requested detach keys the AMI does not carry
	// (nothing to do).
	DetachAbsent []string
	// Attach are names to attach, in request order.
	Attach []string
	// Skipped are requested names whose key is already present.
	Skipped []Skip
	// Reattach are requested names whose key the AMI carries inherited:
	// the key is in Detach and the name in Attach, so it ends up attached
	// to this AMI. The 5-limit counts them once.
	Reattach []Skip
	// Problems, when not empty, forbid any mutation of the whole run.
	Problems []Problem
}

// OK reports whether the plan has no problem.
func (p ImagePlan) OK() bool { return len(p.Problems) == 0 }

// AttachKeys are the keys the attach calls create.
func (p ImagePlan) AttachKeys() []string {
	out := make([]string, 0, len(p.Attach))
	for _, n := range p.Attach {
		out = append(out, FormatKey(p.Account, n))
	}
	return out
}

// RequestedKeys are the keys the run wants on the AMI afterwards: the
// attached and the skipped ones.
func (p ImagePlan) RequestedKeys() []string {
	out := make([]string, 0, len(p.Attach)+len(p.Skipped))
	for _, s := range p.Skipped {
		out = append(out, s.Key)
	}
	return append(out, p.AttachKeys()...)
}

// KeysAfter are the keys the AMI carries once the plan is carried out:
// present minus detached, plus attached, in that order.
func (p ImagePlan) KeysAfter() []string {
	gone := make(map[string]bool, len(p.Detach))
	for _, k := range p.Detach {
		gone[k] = true
	}
	var out []string
	for _, w := range p.Present {
		if !gone[w.Key] {
			out = append(out, w.Key)
		}
	}
	return append(out, p.AttachKeys()...)
}

// ImageAfter is img as it will be once the plan is carried out at now:
// detached watermarks gone, and one watermark per attached name with the AMI
// itself as source, as EC2 records an attach.
func (p ImagePlan) ImageAfter(img Image, now time.Time) Image {
	gone := make(map[string]bool, len(p.Detach))
	for _, k := range p.Detach {
		gone[k] = true
	}
	after := img
	after.Watermarks = make([]Watermark, 0, len(img.Watermarks)+len(p.Attach))
	for _, w := range img.Watermarks {
		if !gone[w.Key] {
			after.Watermarks = append(after.Watermarks, w)
		}
	}
	for _, k := range p.AttachKeys() {
		after.Watermarks = append(after.Watermarks, Watermark{
			Key: k, SourceImageID: img.ID, SourceImageRegion: img.Region,
			SourceImageCreationTime: img.CreationDate, WatermarkCreationTime: now,
		})
	}
	return after
}

// Calls is the number of mutating calls the plan makes.
func (p ImagePlan) Calls() int { return len(p.Detach) + len(p.Attach) }

// ResolveDetach turns a detach entry into a key: a bare name becomes
// account:name, a full key is checked and returned as is.
func ResolveDetach(entry, account string) (string, error) {
	if strings.Contains(entry, ":") {
		k, err := ParseKey(entry)
		if err != nil {
			return "", err
		}
		return k.String(), nil
	}
	if err := ValidateName(entry); err != nil {
		return "", err
	}
	return FormatKey(account, entry), nil
}

// PlanImage computes the plan of one described AMI. owned says whether the
// caller owns it (only the owner can attach or detach). The plan carries a
// Problem for: an invalid name or detach entry, a key both detached and
// attached, an AMI that is not available, public, or not owned, and an AMI
// that would carry more than MaxPerImage watermarks (inherited ones count).
func PlanImage(img Image, owned bool, req Request) ImagePlan {
	p := ImagePlan{
		Region:  img.Region,
		ImageID: img.ID,
		Account: img.OwnerID,
		Present: append([]Watermark(nil), img.Watermarks...),
	}
	problem := func(format string, args ...any) {
		p.Problems = append(p.Problems, Problem{Region: img.Region, ImageID: img.ID, Message: fmt.Sprintf(format, args...)})
	}
	named := func(field Term, render func(Names) string) {
		p.Problems = append(p.Problems, Problem{Region: img.Region, ImageID: img.ID, Message: render(nil), Field: field, render: render})
	}

	if !owned {
		owner := img.OwnerID
		if owner == "" {
			owner = "another account"
		} else {
			owner = "account " + owner
		}
		named(TermAssumeRole, func(n Names) string {
			return fmt.Sprintf("the AMI is owned by %s, not by the account of the credentials in use: only the owner can attach or detach watermarks; run with credentials of the owning account (for example with %s) or leave this AMI out", owner, n.Of(TermAssumeRole))
		})
		return p
	}
	if img.State != "available" {
		state := img.State
		if state == "" {
			state = "unknown"
		}
		problem("the AMI is in state %q, not \"available\": watermarks can only be attached to available AMIs; fix or rebuild the AMI and run again", state)
	}
	if img.Public {
		problem("the AMI is public: AWS does not allow watermarks on public AMIs; make it private (remove the launch permission for group \"all\") or leave it out")
	}
	if img.OwnerID == "" {
		problem("DescribeImages reported no owner account for the AMI, so its watermark keys cannot be formed; run again")
		return p
	}

	present := make(map[string]Watermark, len(img.Watermarks))
	for _, w := range img.Watermarks {
		present[w.Key] = w
	}

	// Detaches first: only keys that are present need a call.
	detaching := map[string]bool{}
	for _, entry := range req.Detach {
		key, err := ResolveDetach(entry, img.OwnerID)
		if err != nil {
			entry := entry
			named(TermDetach, func(n Names) string { return fmt.Sprintf("%s entry %q: %v", n.Of(TermDetach), entry, err) })
			continue
		}
		if detaching[key] || slices.Contains(p.DetachAbsent, key) {
			continue
		}
		if _, ok := present[key]; ok {
			detaching[key] = true
			p.Detach = append(p.Detach, key)
		} else {
			p.DetachAbsent = append(p.DetachAbsent, key)
		}
	}

	seen := map[string]bool{}
	for _, name := range req.Attach {
		if err := ValidateName(name); err != nil {
			problem("%v", err)
			continue
		}
		if seen[name] {
			continue
		}
		seen[name] = true
		key := FormatKey(img.OwnerID, name)
		if detaching[key] || slices.Contains(p.DetachAbsent, key) {
			key, name := key, name
			named(TermDetach, func(n Names) string {
				return fmt.Sprintf("the key %s is both in %s and (as %q) in %s: a key cannot be detached and attached in one run; remove it from one of the two lists", key, n.Of(TermDetach), name, n.Of(TermWatermarks))
			})
			continue
		}
		if w, ok := present[key]; ok {
			s := Skip{
				Key:               key,
				Name:              name,
				Inherited:         Inherited(w, img),
				SourceImageID:     w.SourceImageID,
				SourceImageRegion: w.SourceImageRegion,
			}
			if s.Inherited && !req.KeepInherited {
				p.Reattach = append(p.Reattach, s)
				p.Detach = append(p.Detach, key)
				p.Attach = append(p.Attach, name)
				continue
			}
			p.Skipped = append(p.Skipped, s)
			continue
		}
		p.Attach = append(p.Attach, name)
	}

	after := len(img.Watermarks) - len(p.Detach) + len(p.Attach)
	if after > MaxPerImage && len(p.Attach) > 0 {
		plan := p
		named(TermWatermarks, func(n Names) string { return limitMessage(img, plan, after, n) })
	}
	return p
}

// Inherited reports whether w was attached to another AMI than img (its
// source is another AMI id, or the same id in another region) and came to
// img through CreateImage or CopyImage.
func Inherited(w Watermark, img Image) bool {
	if w.SourceImageID == "" {
		return false
	}
	return w.SourceImageID != img.ID || (w.SourceImageRegion != "" && img.Region != "" && w.SourceImageRegion != img.Region)
}

// ReattachReason says what a re-attach does, for the UI.
func (s Skip) ReattachReason() string {
	src := s.SourceImageID
	if s.SourceImageRegion != "" {
		src += " in " + s.SourceImageRegion
	}
	return "inherited from " + src + ": detached and attached again so that it is attached to this AMI"
}

// limitMessage explains a breach of the 5-limit: the current keys (with
// their origin), the new ones, and the two ways out.
func limitMessage(img Image, p ImagePlan, after int, n Names) string {
	detaching := map[string]bool{}
	for _, k := range p.Detach {
		detaching[k] = true
	}
	var cur []string
	example := ""
	for _, w := range img.Watermarks {
		s := w.Key
		if w.SourceImageID != "" && w.SourceImageID != img.ID {
			s += " (inherited from " + w.SourceImageID
			if w.SourceImageRegion != "" {
				s += " in " + w.SourceImageRegion
			}
			s += ")"
		}
		if detaching[w.Key] {
			s += " (detached by this run)"
		} else if example == "" {
			example = w.Key
		}
		cur = append(cur, s)
	}
	msg := fmt.Sprintf("the AMI would carry %d watermarks, but AWS allows at most %d per AMI, inherited ones included: it carries %d now (%s)",
		after, MaxPerImage, len(img.Watermarks), strings.Join(cur, ", "))
	if len(p.Detach) > 0 {
		msg += fmt.Sprintf(", %d of them detached by this run,", len(p.Detach))
	}
	msg += fmt.Sprintf(" and %d would be attached (%s); ", len(p.Attach), strings.Join(p.AttachKeys(), ", "))
	if example != "" {
		msg += fmt.Sprintf("detach keys you no longer need with `%s` (for example %s) or request fewer names in `%s`", n.Of(TermDetach), fmt.Sprintf(n.Of(TermDetachKey), example), n.Of(TermWatermarks))
	} else {
		msg += "request fewer names in `" + n.Of(TermWatermarks) + "`"
	}
	return msg
}
