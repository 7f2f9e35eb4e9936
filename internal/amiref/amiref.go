// Package amiref holds the one definition of AMI references: what an AMI
// id and a region name look like, and the REGION:AMI_ID lists of Packer's
// Amazon artifacts (`us-east-1:ami-1,eu-west-1:ami-2`), which the
// post-processor reads from artifacts and the CLI from its arguments. Pure
// standard library; errors are typed (Error) so each front end words them
// with its own names.
package amiref

import (
	"fmt"
	"strings"
)

// IsAMIID reports whether s is an AMI id: ami- followed by 8 or 17
// lowercase hexadecimal digits.
func IsAMIID(s string) bool {
	h, ok := strings.CutPrefix(s, "ami-")
	if !ok || (len(h) != 8 && len(h) != 17) {
		return false
	}
	for i := 0; i < len(h); i++ {
		c := h[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// AMIIDHelp says what an AMI id looks like, for error messages.
const AMIIDHelp = "ami- followed by 8 or 17 hexadecimal digits, for example ami-0123456789abcdef0"

// ValidRegion reports whether r looks like an AWS region name (us-east-1,
// us-gov-west-1, eu-central-2): 3 to 40 lowercase letters, digits and
// dashes, with at least one dash.
func ValidRegion(r string) bool {
	if len(r) < 3 || len(r) > 40 || !strings.Contains(r, "-") {
		return false
	}
	for _, ch := range r {
		if !(ch >= 'a' && ch <= 'z' || ch >= '0' && ch <= '9' || ch == '-') {
			return false
		}
	}
	return true
}

// Ref is one AMI in one region.
type Ref struct {
	Region  string
	ImageID string
}

func (r Ref) String() string { return r.Region + ":" + r.ImageID }

// Problem is what is wrong with a list or one of its entries.
type Problem int

const (
	// EmptyList: the list names no AMI.
	EmptyList Problem = iota
	// EmptyEntry: an entry between commas is empty.
	EmptyEntry
	// NoRegion: an entry has no REGION: and there is no default region.
	NoRegion
	// BadRegion: the region part is not a region name.
	BadRegion
	// BadAMIID: the id part is not an AMI id.
	BadAMIID
	// Repeated: the AMI id was already listed.
	Repeated
)

// Error is a typed parse error: the problem, the 1-based entry, the entry's
// text and the part of it that is wrong. Front ends render it with their
// own words; Error() is the artifact-id wording.
type Error struct {
	Problem Problem
	// List is the whole list as given; Entry the 1-based entry number and
	// Text its text (trimmed).
	List  string
	Entry int
	Text  string
	// Value is the wrong part: the region, the id, or the repeated id.
	Value string
	// First is the entry that listed a Repeated id first.
	First int
}

func (e *Error) Error() string {
	shown := clip(e.List)
	switch e.Problem {
	case EmptyList:
		return "the artifact id is empty: the build produced no AMI to watermark; check the build, or name the AMIs with image_ids"
	case EmptyEntry:
		return fmt.Sprintf("artifact id %q: entry %d is empty: expected REGION:AMI_ID entries separated by commas", shown, e.Entry)
	case NoRegion:
		return fmt.Sprintf("artifact id %q: entry %d %q has no region: expected REGION:AMI_ID, for example us-east-1:ami-0123456789abcdef0", shown, e.Entry, clip(e.Text))
	case BadRegion:
		return fmt.Sprintf("artifact id %q: entry %d: %q is not a region name (expected REGION:AMI_ID, for example us-east-1:ami-0123456789abcdef0)", shown, e.Entry, clip(e.Value))
	case BadAMIID:
		return fmt.Sprintf("artifact id %q: entry %d: %q is not an AMI id (expected %s)", shown, e.Entry, clip(e.Value), AMIIDHelp)
	case Repeated:
		return fmt.Sprintf("artifact id %q: entry %d repeats %s (already entry %d): an AMI can be listed once", shown, e.Entry, e.Value, e.First)
	}
	return fmt.Sprintf("artifact id %q: entry %d is not valid", shown, e.Entry)
}

// Options say how lenient ParseList is.
type Options struct {
	// DefaultRegion is the region of entries without REGION:; "" makes such
	// entries a NoRegion error.
	DefaultRegion string
	// SkipEmpty skips empty entries (a trailing comma) instead of
	// refusing them.
	SkipEmpty bool
	// DropRepeats drops an AMI listed again in the same region instead of
	// refusing it. Without it any repeated AMI id is an error, in any
	// region (a build produces one AMI per region).
	DropRepeats bool
}

// ParseList parses "REGION:AMI_ID,REGION:AMI_ID,...": entries split at
// commas, each at its first colon, every part trimmed of spaces. Checks, in
// order for each entry: empty, region (missing, or not a region name), AMI
// id, repeat. The result keeps the order of the list. It never panics.
func ParseList(list string, o Options) ([]Ref, error) {
	if strings.TrimSpace(list) == "" {
		return nil, &Error{Problem: EmptyList, List: list}
	}
	var out []Ref
	first := map[string]int{} // ami id -> entry
	seen := map[Ref]bool{}    // for DropRepeats
	for i, entry := range strings.Split(list, ",") {
		n := i + 1
		entry = strings.TrimSpace(entry)
		e := &Error{List: list, Entry: n, Text: entry}
		if entry == "" {
			if o.SkipEmpty {
				continue
			}
			e.Problem = EmptyEntry
			return nil, e
		}
		region, id, hasRegion := strings.Cut(entry, ":")
		region, id = strings.TrimSpace(region), strings.TrimSpace(id)
		if !hasRegion {
			region, id = o.DefaultRegion, entry
			if region == "" {
				e.Problem, e.Value = NoRegion, entry
				return nil, e
			}
		} else if !ValidRegion(region) {
			e.Problem, e.Value = BadRegion, region
			return nil, e
		}
		if !IsAMIID(id) {
			e.Problem, e.Value = BadAMIID, id
			return nil, e
		}
		ref := Ref{Region: region, ImageID: id}
		if o.DropRepeats {
			if seen[ref] {
				continue
			}
			seen[ref] = true
		} else if f, dup := first[id]; dup {
			e.Problem, e.Value, e.First = Repeated, id, f
			return nil, e
		}
		first[id] = n
		out = append(out, ref)
	}
	if len(out) == 0 {
		return nil, &Error{Problem: EmptyList, List: list}
	}
	return out, nil
}

// clip keeps error messages readable for very long input.
func clip(s string) string {
	const max = 200
	if len(s) <= max {
		return s
	}
	return s[:max] + "..."
}
