package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"github.com/amiwatermark/packer-plugin-amiwatermark/internal/amiref"
)

// packerManifest is the file Packer's `manifest` post-processor writes
// (packer-manifest.json by default). Every `packer build` appends one entry
// per build to builds and sets last_run_uuid to the run's packer_run_uuid.
type packerManifest struct {
	Builds      []manifestBuild `json:"builds"`
	LastRunUUID string          `json:"last_run_uuid"`
}

// manifestBuild is one entry of builds. Only the fields the CLI reads are
// decoded; unknown fields (files, custom_data, build_time) are ignored.
type manifestBuild struct {
	Name          string `json:"name"`
	BuilderType   string `json:"builder_type"`
	ArtifactID    string `json:"artifact_id"`
	PackerRunUUID string `json:"packer_run_uuid"`
}

// label names the build in messages: "name" (builder_type).
func (b manifestBuild) label() string {
	name := b.Name
	if name == "" {
		name = "(no name)"
	}
	if b.BuilderType != "" {
		return fmt.Sprintf("%q (%s)", name, b.BuilderType)
	}
	return fmt.Sprintf("%q", name)
}

// matches reports whether --build NAME selects b: NAME is the build's name
// as the manifest records it, or BUILDER_TYPE.NAME (amazon-ebs.app), the
// form `packer build -only` accepts for HCL2 sources.
func (b manifestBuild) matches(name string) bool {
	return name == b.Name || (b.BuilderType != "" && name == b.BuilderType+"."+b.Name)
}

// manifestSelection is how --packer-manifest is narrowed.
type manifestSelection struct {
	// Build, when set, keeps the builds named so (--build NAME).
	Build string
	// Last keeps the builds of the manifest's last run (--last).
	Last bool
}

// readManifestTargets reads a Packer manifest file and returns its AMIs
// (see manifestTargets). Every error is a usage error: nothing was asked of
// AWS.
func readManifestTargets(path string, sel manifestSelection) ([]amiRef, error) {
	data, err := readBounded(path, maxManifestSize)
	if err != nil {
		return nil, usagef("--packer-manifest: cannot read the manifest: %v", err)
	}
	refs, err := manifestTargets(data, sel)
	if err != nil {
		return nil, usagef("--packer-manifest %s: %v", path, err)
	}
	return refs, nil
}

// maxManifestSize bounds what --packer-manifest reads: a manifest holds a
// few hundred bytes per build, so 64 MiB is some hundred thousand builds.
const maxManifestSize = 64 << 20

// readBounded reads the file at path, refusing one larger than limit
// without reading more than limit+1 bytes of it.
func readBounded(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("%s is larger than %d MiB: give the manifest file Packer's manifest post-processor wrote", path, limit>>20)
	}
	return data, nil
}

// manifestTargets returns the AMIs of the selected builds of a Packer
// manifest, in manifest order, without duplicates. The rules:
//
//   - --last keeps the builds whose packer_run_uuid is last_run_uuid;
//   - --build NAME keeps the builds named NAME (or BUILDER_TYPE.NAME);
//   - the same build name appearing in several runs is ambiguous without
//     --last (the manifest post-processor appends one entry per run, so an
//     old AMI would be watermarked by accident);
//   - every selected build's artifact_id must be Amazon AMIs,
//     "REGION:ami-...,REGION:ami-..." (an empty one means the build made
//     no AMI; another builder's artifact is refused with its name, to be
//     left out with --build).
//
// It never panics on any input.
func manifestTargets(data []byte, sel manifestSelection) ([]amiRef, error) {
	var m packerManifest
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("not a Packer manifest (JSON with a \"builds\" list, as the manifest post-processor writes): %v", err)
	}
	if dec.More() {
		return nil, fmt.Errorf("not a Packer manifest: text follows the JSON document")
	}
	if len(m.Builds) == 0 {
		return nil, fmt.Errorf("the manifest has no builds: run `packer build` with a `post-processor \"manifest\"` first")
	}
	builds := m.Builds
	if sel.Last {
		if m.LastRunUUID == "" {
			return nil, fmt.Errorf("--last: the manifest has no last_run_uuid; drop --last and select the build with --build")
		}
		builds = filterBuilds(builds, func(b manifestBuild) bool { return b.PackerRunUUID == m.LastRunUUID })
		if len(builds) == 0 {
			return nil, fmt.Errorf("--last: no build has packer_run_uuid %q (last_run_uuid); the manifest is inconsistent: drop --last and select the build with --build", m.LastRunUUID)
		}
	}
	if sel.Build != "" {
		kept := filterBuilds(builds, func(b manifestBuild) bool { return b.matches(sel.Build) })
		if len(kept) == 0 {
			where := "the manifest"
			if sel.Last {
				where = "the last run of the manifest"
			}
			return nil, fmt.Errorf("--build %q: no build of that name in %s; its builds are %s", sel.Build, where, buildNames(builds))
		}
		builds = kept
	}
	// A name built in several runs: which one is meant?
	runs := map[string][]string{} // name -> run uuids
	for _, b := range builds {
		runs[b.BuilderType+"."+b.Name] = append(runs[b.BuilderType+"."+b.Name], b.PackerRunUUID)
	}
	for _, b := range builds {
		if n := len(runs[b.BuilderType+"."+b.Name]); n > 1 {
			return nil, fmt.Errorf("build %s appears %d times (one entry per `packer build` run): give --last to take the builds of the last run (last_run_uuid), or remove the old entries from the manifest", b.label(), n)
		}
	}
	var (
		out  []amiRef
		seen = map[amiRef]bool{}
	)
	for _, b := range builds {
		if strings.TrimSpace(b.ArtifactID) == "" {
			return nil, fmt.Errorf("build %s has an empty artifact_id: it produced no AMI; check that build, or leave it out with --build", b.label())
		}
		ts, err := amiref.ParseList(b.ArtifactID, amiref.Options{})
		if err != nil {
			hint := ""
			if len(builds) > 1 && sel.Build == "" {
				hint = "; select the Amazon builds with --build NAME"
			}
			return nil, fmt.Errorf("build %s: its artifact is not a list of Amazon AMIs (REGION:ami-...): %v%s", b.label(), err, hint)
		}
		for _, t := range ts {
			ref := amiRef{Region: t.Region, ID: t.ImageID}
			if !seen[ref] {
				seen[ref] = true
				out = append(out, ref)
			}
		}
	}
	return out, nil
}

func filterBuilds(bs []manifestBuild, keep func(manifestBuild) bool) []manifestBuild {
	var out []manifestBuild
	for _, b := range bs {
		if keep(b) {
			out = append(out, b)
		}
	}
	return out
}

// buildNames lists the distinct build names for an error message.
func buildNames(bs []manifestBuild) string {
	seen := map[string]bool{}
	var names []string
	for _, b := range bs {
		l := b.label()
		if !seen[l] {
			seen[l] = true
			names = append(names, l)
		}
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}
