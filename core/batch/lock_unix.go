//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package batch

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"

	"mailmover/core/failure"
)

// lockFile is the name of the lock held by a running batch.
const lockFile = "queue.lock"

// lockDir takes an exclusive lock on the batch folder, so that two
// processes never run the same queue. The kernel releases it when the
// process ends, however it ends.
func lockDir(dir string) (unlock func(), err error) {
	f, err := os.OpenFile(filepath.Join(dir, lockFile), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, failure.New(failure.Local, failure.ScopeAccount, "lock the batch folder", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, failure.Newf(failure.Config, failure.ScopeAccount, "another Mailmover is already running the batch in %s", dir)
		}
		return nil, failure.New(failure.Local, failure.ScopeAccount, "lock the batch folder", err)
	}
	return func() {
		syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
	}, nil
}
