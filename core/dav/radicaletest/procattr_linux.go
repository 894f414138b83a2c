package radicaletest

import "syscall"

// sysProcAttr makes the kernel stop Radicale if the test process dies
// without running its cleanups.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
}
