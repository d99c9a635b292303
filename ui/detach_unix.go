//go:build unix

package ui

import (
	"os/exec"
	"syscall"
)

// detach starts cmd in a session of its own, without our terminal as its
// controlling terminal.
func detach(cmd *exec.Cmd) { cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true} }
