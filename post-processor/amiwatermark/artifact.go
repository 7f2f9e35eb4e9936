package amiwatermark

import (
	"fmt"
	"sort"
	"strings"

	packersdk "github.com/hashicorp/packer-plugin-sdk/packer"

	"github.com/amiwatermark/packer-plugin-amiwatermark/internal/awsconfig"
)

// acceptedBuilders are the artifacts whose Id() is region:ami-...,...
var acceptedBuilders = []string{
	"mitchellh.amazonebs",
	"mitchellh.amazon.ebssurrogate",
	"mitchellh.amazon.chroot",
	"mitchellh.amazon.instance",
	"packer.post-processor.amazon-import",
}

func builderAccepted(id string) bool {
	for _, b := range acceptedBuilders {
		if b == id {
			return true
		}
	}
	return false
}

// Target is one AMI to watermark.
type Target struct {
	Region  string
	ImageID string
}

func (t Target) String() string { return t.Region + " " + t.ImageID }

// targetsFromArtifact returns the AMIs of the artifact, or an error that says
// which builders are understood and how to name AMIs with image_ids.
func targetsFromArtifact(a packersdk.Artifact) ([]Target, error) {
	if _, none := a.(noArtifact); a == nil || none {
		return nil, fmt.Errorf("the post-processor received no artifact: set image_ids to name the AMIs to watermark")
	}
	if id := a.BuilderId(); !builderAccepted(id) {
		return nil, fmt.Errorf("artifact of builder %q is not supported: amiwatermark reads AMI ids from the artifacts of %s "+
			"(mitchellh.amazon.ebsvolume is refused: it produces EBS volumes, not AMIs); for any other build name the AMIs with image_ids = { \"REGION\" = \"ami-...\" }",
			id, strings.Join(acceptedBuilders, ", "))
	}
	return ParseArtifactID(a.Id())
}

// targetsFromImageIDs turns the image_ids map into targets, sorted by region.
func targetsFromImageIDs(m map[string]string) []Target {
	out := make([]Target, 0, len(m))
	for r, id := range m {
		out = append(out, Target{Region: r, ImageID: id})
	}
	sortTargets(out)
	return out
}

func sortTargets(ts []Target) {
	sort.Slice(ts, func(i, j int) bool {
		if ts[i].Region != ts[j].Region {
			return ts[i].Region < ts[j].Region
		}
		return ts[i].ImageID < ts[j].ImageID
	})
}

// ParseArtifactID parses the Id() of an Amazon AMI artifact:
// "region:ami-...,region:ami-...". Each entry is split on its first colon and
// trimmed of spaces. Empty ids or entries, entries without a region, region
// names and AMI ids of the wrong form, and repeated AMIs are errors. The
// result keeps the order of the id. It never panics.
func ParseArtifactID(id string) ([]Target, error) {
	shown := clip(id)
	if strings.TrimSpace(id) == "" {
		return nil, fmt.Errorf("the artifact id is empty: the build produced no AMI to watermark; check the build, or name the AMIs with image_ids")
	}
	var out []Target
	seen := map[string]int{} // ami id -> entry number
	for i, entry := range strings.Split(id, ",") {
		n := i + 1
		entry = strings.TrimSpace(entry)
		if entry == "" {
			return nil, fmt.Errorf("artifact id %q: entry %d is empty: expected REGION:AMI_ID entries separated by commas", shown, n)
		}
		region, ami, ok := strings.Cut(entry, ":")
		region, ami = strings.TrimSpace(region), strings.TrimSpace(ami)
		if !ok {
			return nil, fmt.Errorf("artifact id %q: entry %d %q has no region: expected REGION:AMI_ID, for example us-east-1:ami-0123456789abcdef0", shown, n, clip(entry))
		}
		if !awsconfig.ValidRegion(region) {
			return nil, fmt.Errorf("artifact id %q: entry %d: %q is not a region name (expected REGION:AMI_ID, for example us-east-1:ami-0123456789abcdef0)", shown, n, clip(region))
		}
		if !IsAMIID(ami) {
			return nil, fmt.Errorf("artifact id %q: entry %d: %q is not an AMI id (expected %s)", shown, n, clip(ami), amiIDHelp)
		}
		if first, dup := seen[ami]; dup {
			return nil, fmt.Errorf("artifact id %q: entry %d repeats %s (already entry %d): an AMI can be listed once", shown, n, ami, first)
		}
		seen[ami] = n
		out = append(out, Target{Region: region, ImageID: ami})
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

// StateKey is the artifact state key under which the watermark keys are
// published: State(StateKey) is a map[string]map[string][]string of
// region -> AMI id -> keys on the AMI after the run.
const StateKey = "amiwatermark"

// GeneratedKeysName is the name added to the artifact's generated_data: the
// keys on the build's AMIs after the run, comma-separated.
const GeneratedKeysName = "WatermarkKeys"

// Artifact is what the post-processor returns: the input artifact (the same
// AMIs, the same builder id) plus the watermark keys in its state.
type Artifact struct {
	// Input is the artifact the post-processor received.
	Input packersdk.Artifact
	// Keys is region -> AMI id -> the keys on the AMI after the run.
	Keys map[string]map[string][]string
}

var _ packersdk.Artifact = (*Artifact)(nil)

// BuilderId is the input's builder id, so later post-processors that read
// Amazon artifacts (manifest, another amiwatermark) keep working.
func (a *Artifact) BuilderId() string { return a.Input.BuilderId() }

// Files delegates to the input artifact.
func (a *Artifact) Files() []string { return a.Input.Files() }

// Id delegates to the input artifact (region:ami-...,...).
func (a *Artifact) Id() string { return a.Input.Id() }

// String is the input artifact's description followed by the watermark keys
// on each AMI, so that Packer's closing list of artifacts shows them.
func (a *Artifact) String() string {
	var b strings.Builder
	if in := a.Input.String(); in != "" {
		b.WriteString(in)
		b.WriteString("\n")
	}
	b.WriteString("AMI watermarks:")
	regions := make([]string, 0, len(a.Keys))
	for r := range a.Keys {
		regions = append(regions, r)
	}
	sort.Strings(regions)
	for _, r := range regions {
		ids := make([]string, 0, len(a.Keys[r]))
		for id := range a.Keys[r] {
			ids = append(ids, id)
		}
		sort.Strings(ids)
		for _, id := range ids {
			keys := strings.Join(a.Keys[r][id], ", ")
			if keys == "" {
				keys = "(none)"
			}
			fmt.Fprintf(&b, "\n%s: %s: %s", r, id, keys)
		}
	}
	return b.String()
}

// State answers "amiwatermark" with the keys per region and AMI,
// "generated_data" with the input's generated data plus WatermarkKeys, and
// delegates every other name to the input artifact.
func (a *Artifact) State(name string) interface{} {
	switch name {
	case StateKey:
		return copyKeys(a.Keys)
	case "generated_data":
		out := map[string]interface{}{}
		if in, ok := a.Input.State("generated_data").(map[string]interface{}); ok {
			for k, v := range in {
				out[k] = v
			}
		}
		out[GeneratedKeysName] = strings.Join(allKeys(a.Keys), ",")
		return out
	}
	return a.Input.State(name)
}

// Destroy does nothing. The AMIs belong to the input artifact, whose
// lifetime stays with Packer core: the post-processor returns keep = true,
// so core keeps (and never destroys) the input artifact, and destroying the
// AMIs through this wrapper would deregister the very images just
// watermarked.
func (a *Artifact) Destroy() error { return nil }

// allKeys is the sorted union of the keys on all AMIs.
func allKeys(m map[string]map[string][]string) []string {
	set := map[string]bool{}
	for _, amis := range m {
		for _, keys := range amis {
			for _, k := range keys {
				set[k] = true
			}
		}
	}
	out := make([]string, 0, len(set))
	for k := range set {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func copyKeys(m map[string]map[string][]string) map[string]map[string][]string {
	out := make(map[string]map[string][]string, len(m))
	for r, amis := range m {
		out[r] = make(map[string][]string, len(amis))
		for id, keys := range amis {
			out[r][id] = append([]string{}, keys...)
		}
	}
	return out
}
