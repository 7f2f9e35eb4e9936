// Package version holds the plugin's version, reported by `packer-plugin-amiwatermark describe`.
package version

import "github.com/hashicorp/packer-plugin-sdk/version"

var (
	// Version is the main version number that is being run at the moment.
	Version = "0.1.0"

	// VersionPrerelease is a pre-release marker for the Version. It is "dev"
	// outside releases; release builds set it empty with
	// -ldflags "-X github.com/amiwatermark/packer-plugin-amiwatermark/version.VersionPrerelease=".
	VersionPrerelease = "dev"

	// VersionMetadata is metadata further describing the build type.
	VersionMetadata = ""

	// PluginVersion is used by the plugin set to report the version.
	PluginVersion = version.NewPluginVersion(Version, VersionPrerelease, VersionMetadata)
)
