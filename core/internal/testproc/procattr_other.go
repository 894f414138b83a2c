//go:build !linux

package testproc

import "syscall"

// sysProcAttr returns nil: only Linux can tie a server's life to the test's.
func sysProcAttr() *syscall.SysProcAttr {
	return nil
}
