package amiwatermark

import (
	"fmt"
	"sort"
	"strings"

	packersdk "github.com/hashicorp/packer-plugin-sdk/packer"

	"github.com/amiwatermark/packer-plugin-amiwatermark/internal/amiref"
	"github.com/amiwatermark/packer-plugin-amiwatermark/internal/engine"
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
type Target = engine.Target

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
// "region:ami-...,region:ami-..." (amiref.ParseList: entries trimmed of
// spaces; empty ids or entries, entries without a region, region names and
// AMI ids of the wrong form, and repeated AMIs are errors). The result keeps
// the order of the id. It never panics.
func ParseArtifactID(id string) ([]Target, error) {
	refs, err := amiref.ParseList(id, amiref.Options{})
	if err != nil {
		return nil, err
	}
	out := make([]Target, len(refs))
	for i, r := range refs {
		out[i] = Target{Region: r.Region, ImageID: r.ImageID}
	}
	return out, nil
}

// StateKey is the artifact state key under which the watermark keys are
// published: State(StateKey) is a map[string]string from "region:ami-id" (the
// form of an Amazon artifact's id) to the comma-separated keys on that AMI
// after the run. The value is a map[string]string because artifact state
// crosses Packer's RPC boundary with encoding/gob, which only carries
// registered types.
const StateKey = "amiwatermark"

// GeneratedKeysName is the name added to the artifact's generated_data: the
// keys on the build's AMIs after the run, comma-separated, for Go code and
// plugins that read the artifact's state.
const GeneratedKeysName = "WatermarkKeys"

// snapshotStates are the state names of the input artifact the output
// artifact answers for: the generated data, and the metadata Packer's
// registry integrations read from Amazon artifacts.
var snapshotStates = []string{"atlas.artifact.metadata", "par.artifact.metadata"}

// Artifact is what the post-processor returns: the input artifact's identity
// (the same AMIs, the same builder id) plus the watermark keys in its state.
//
// Everything is copied from the input when the artifact is made: inside the
// plugin the input artifact is an RPC client whose connection Packer closes
// once PostProcess returns, so asking it later (as the next post-processor in
// the chain does, through this artifact) would answer empty values.
type Artifact struct {
	builderID string
	id        string
	files     []string
	desc      string
	generated map[string]string
	states    map[string]interface{}
	// Keys is region -> AMI id -> the keys on the AMI after the run.
	Keys engine.Keys
}

var _ packersdk.Artifact = (*Artifact)(nil)

// NewArtifact copies what it needs of in and adds keys.
func NewArtifact(in packersdk.Artifact, keys engine.Keys) *Artifact {
	a := &Artifact{
		builderID: in.BuilderId(),
		id:        in.Id(),
		files:     append([]string(nil), in.Files()...),
		desc:      in.String(),
		generated: map[string]string{},
		states:    map[string]interface{}{},
		Keys:      copyKeys(keys),
	}
	switch gd := in.State("generated_data").(type) {
	case map[interface{}]interface{}:
		for k, v := range gd {
			ks, kok := k.(string)
			vs, vok := v.(string)
			if kok && vok {
				a.generated[ks] = vs
			}
		}
	case map[string]interface{}:
		for k, v := range gd {
			if s, ok := v.(string); ok {
				a.generated[k] = s
			}
		}
	case map[string]string:
		for k, v := range gd {
			a.generated[k] = v
		}
	}
	a.generated[GeneratedKeysName] = strings.Join(allKeys(keys), ",")
	for _, name := range snapshotStates {
		if v := in.State(name); v != nil {
			a.states[name] = v
		}
	}
	return a
}

// BuilderId is the input's builder id, so later post-processors that read
// Amazon artifacts (manifest, another amiwatermark) keep working.
func (a *Artifact) BuilderId() string { return a.builderID }

// Files are the input artifact's files.
func (a *Artifact) Files() []string { return append([]string(nil), a.files...) }

// Id is the input artifact's id (region:ami-...,...).
func (a *Artifact) Id() string { return a.id }

// String is the input artifact's description followed by the watermark keys
// on each AMI, so that Packer's closing list of artifacts shows them.
func (a *Artifact) String() string {
	var b strings.Builder
	if a.desc != "" {
		b.WriteString(a.desc)
		b.WriteString("\n")
	}
	b.WriteString("AMI watermarks:")
	for _, e := range a.entries() {
		keys := e.keys
		if keys == "" {
			keys = "(none)"
		}
		fmt.Fprintf(&b, "\n%s: %s: %s", e.region, e.id, keys)
	}
	return b.String()
}

type keyEntry struct{ region, id, keys string }

// entries lists the AMIs sorted by region and id with their joined keys.
func (a *Artifact) entries() []keyEntry {
	var out []keyEntry
	for r, amis := range a.Keys {
		for id, keys := range amis {
			out = append(out, keyEntry{region: r, id: id, keys: strings.Join(keys, ", ")})
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].region != out[j].region {
			return out[i].region < out[j].region
		}
		return out[i].id < out[j].id
	})
	return out
}

// State answers StateKey with the keys per AMI, "generated_data" with the
// input's generated data (its string values) plus WatermarkKeys, and the
// input's registry metadata; anything else is nil.
func (a *Artifact) State(name string) interface{} {
	switch name {
	case StateKey:
		out := map[string]string{}
		for r, amis := range a.Keys {
			for id, keys := range amis {
				out[r+":"+id] = strings.Join(keys, ",")
			}
		}
		return out
	case "generated_data":
		out := make(map[string]interface{}, len(a.generated))
		for k, v := range a.generated {
			out[k] = v
		}
		return out
	}
	return a.states[name]
}

// KeysFromState turns the value of State(StateKey) back into region -> AMI
// id -> keys; nil when v is not such a value.
func KeysFromState(v interface{}) engine.Keys {
	m, ok := v.(map[string]string)
	if !ok {
		return nil
	}
	out := engine.Keys{}
	for target, joined := range m {
		region, id, ok := strings.Cut(target, ":")
		if !ok {
			continue
		}
		if out[region] == nil {
			out[region] = map[string][]string{}
		}
		var keys []string
		if joined != "" {
			keys = strings.Split(joined, ",")
		}
		out[region][id] = keys
	}
	return out
}

// Destroy does nothing. The AMIs belong to the input artifact, whose
// lifetime stays with Packer core: the post-processor returns keep = true,
// so core keeps (and never destroys) the input artifact, and destroying the
// AMIs through this artifact would deregister the very images just
// watermarked.
func (a *Artifact) Destroy() error { return nil }

// allKeys is the sorted union of the keys on all AMIs.
func allKeys(m engine.Keys) []string {
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

func copyKeys(m engine.Keys) engine.Keys {
	out := make(engine.Keys, len(m))
	for r, amis := range m {
		out[r] = make(map[string][]string, len(amis))
		for id, keys := range amis {
			out[r][id] = append([]string{}, keys...)
		}
	}
	return out
}
