package testproc

import "syscall"

// sysProcAttr makes the kernel stop a server if the test process dies
// without running its cleanups.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
}
