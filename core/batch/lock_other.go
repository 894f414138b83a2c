//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package batch

// lockDir does nothing where flock(2) is missing: run one batch per folder.
func lockDir(dir string) (unlock func(), err error) {
	return func() {}, nil
}
