//go:build unix

package sievetest

import (
	"os/exec"
	"syscall"
)

// setpgid keeps Dovecot out of the test's process group, so a Ctrl-C
// reaches the test, which then stops the server itself.
func setpgid(cmd *exec.Cmd) { cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} }

// terminate asks Dovecot to stop.
func terminate(cmd *exec.Cmd) { _ = cmd.Process.Signal(syscall.SIGTERM) }
