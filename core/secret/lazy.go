package secret

import "sync"

// Lazy is a Keychain opened on first use: commands that never need a
// password (help, version) never wait for the system keychain, which may
// ask the user to unlock it.
type Lazy struct {
	open func() (Keychain, error)
	once sync.Once
	kc   Keychain
	err  error
}

// NewLazy returns a keychain that calls open (such as OS) the first time it
// is used, and uses what open returned from then on.
func NewLazy(open func() (Keychain, error)) *Lazy {
	return &Lazy{open: open}
}

func (l *Lazy) get() Keychain {
	l.once.Do(func() { l.kc, l.err = l.open() })
	return l.kc
}

// Err opens the keychain if it was not yet, and returns the error open
// returned alongside it (for OS, an *Unavailable when passwords are kept in
// memory only).
func (l *Lazy) Err() error {
	l.get()
	return l.err
}

// Get implements Keychain.
func (l *Lazy) Get(key string) (string, error) { return l.get().Get(key) }

// Set implements Keychain.
func (l *Lazy) Set(key, secret string) error { return l.get().Set(key, secret) }

// Delete implements Keychain.
func (l *Lazy) Delete(key string) error { return l.get().Delete(key) }
