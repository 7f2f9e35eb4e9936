// Package testkit is the test kit every suite of this repository shares:
// programs started as child processes (the ec2emu program, packer), the
// packer binaries under test with their private plugin directories, plugin
// builds and installs, and a recording packer UI.
//
// The kit holds what several suites need and nothing about any one of them:
//
//   - Programs: [Start] runs a program that prints `listening on URL` as
//     its first line on stdout (cmd/ec2emu does), waits for that line and
//     returns a [Program] with the URL, the rest of stdout as lines, stderr
//     in a [SyncBuffer], and Stop/Kill/Wait. [GoBuild] and [RepoRoot] build
//     the repository's programs.
//   - Packer: [NewPacker] wraps one packer binary with its own plugin
//     directory, config directory and cache, so two packers (or two test
//     packages) never share state; [Packer.Run] runs a command with an
//     environment from which the developer's PACKER_*, AWS_* and PKR_VAR_*
//     settings are removed, and returns a [Result]. [Packer.Install] installs
//     a plugin binary the way its packer expects: `packer plugins install
//     --path` on Packer >= 1.10, the same layout by hand on older ones.
//     [BuildPlugin] builds this repository's plugin (release or pre-release).
//   - Packer's interfaces in process: [UI] records what a component says
//     (a packersdk.Ui), [Artifact] is what a builder hands its
//     post-processors.
//   - Endpoints: [StalledEndpoint] accepts connections and never answers,
//     to prove that calls are bounded.
//
// In-process emulator servers and SDK clients live beside the emulator, in
// internal/ec2emu/emutest.
//
// The kit uses only the standard library and packer-plugin-sdk's interfaces;
// it never imports the product or the emulator.
package testkit
