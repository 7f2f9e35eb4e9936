// Package gencheck holds no code: its tests guard what the Packer registry and
// `packer plugins install` depend on. They fail `make test` when
// `make generate` (go generate ./..., packer-sdc renderdocs and the web-docs
// compile step) would change a committed file, and when
// `packer-sdc plugin-check` rejects the built plugin binary or its `describe`
// output reports the wrong version.
package gencheck
