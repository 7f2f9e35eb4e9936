//go:build !unix

package gencheck

import "os/exec"

// setProcessGroup is a no-op where process groups are not available; the
// context still kills the direct child.
func setProcessGroup(cmd *exec.Cmd) {}
