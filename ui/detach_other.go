//go:build !unix

package ui

import "os/exec"

// detach: elsewhere the null device for stdin, stdout and stderr is all.
func detach(cmd *exec.Cmd) {}
