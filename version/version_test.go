package version

import (
	"regexp"
	"testing"
)

// TestVersion checks what `describe` will report: Version is a bare
// MAJOR.MINOR.PATCH (goreleaser's ldflags replace it with the tag's version),
// VersionPrerelease is "dev" in the source (release builds set it empty), and
// PluginVersion joins them the way `packer plugins install --path` accepts:
// a release (1.2.3) or a dev pre-release (1.2.3-dev), nothing else.
func TestVersion(t *testing.T) {
	if !regexp.MustCompile(`^\d+\.\d+\.\d+$`).MatchString(Version) {
		t.Errorf("Version = %q, want MAJOR.MINOR.PATCH", Version)
	}
	if VersionPrerelease != "dev" && VersionPrerelease != "" {
		t.Errorf("VersionPrerelease = %q: Packer installs only releases and -dev builds; use \"dev\" (the source default) or \"\" (release builds, via -ldflags)", VersionPrerelease)
	}
	want := Version
	if VersionPrerelease != "" {
		want += "-" + VersionPrerelease
	}
	if VersionMetadata != "" {
		want += "+" + VersionMetadata
	}
	if got := PluginVersion.String(); got != want {
		t.Errorf("PluginVersion = %q, want %q", got, want)
	}
}
