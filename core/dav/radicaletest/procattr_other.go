//go:build !linux

package radicaletest

import "syscall"

// sysProcAttr returns nil: only Linux can tie Radicale's life to the test's.
func sysProcAttr() *syscall.SysProcAttr {
	return nil
}
