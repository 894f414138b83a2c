//go:build !linux

package dovecottest

import "syscall"

// sysProcAttr returns nil: only Linux can tie dovecot's life to the test's.
func sysProcAttr() *syscall.SysProcAttr {
	return nil
}
