// Package secret keeps passwords (and later OAuth tokens) out of every file
// Mailmover writes. Secrets live in the operating system's keychain through
// github.com/zalando/go-keyring: the Keychain on macOS, the Credential Manager
// on Windows and the Secret Service (GNOME Keyring, KWallet) on Linux. Where
// no keychain can be reached, OS says so plainly and hands out an in-memory
// keychain that forgets everything when the app closes.
//
// No secret ever appears in a key, an error message or a log line written by
// this package.
package secret

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/zalando/go-keyring"
)

// Service is the service name under which every secret is filed in the OS
// keychain.
const Service = "Mailmover"

// probeKey is looked up once by OS to find out whether the keychain answers.
// Nothing is ever stored under it.
const probeKey = "mailmover-probe"

// probeTimeout bounds the probe made by OS. It is generous because a locked
// keychain may ask the user to unlock it first.
const probeTimeout = 2 * time.Minute

// ErrNotFound is returned by Keychain.Get and Keychain.Delete when no secret
// is stored under the key.
var ErrNotFound = errors.New("secret not found")

// Keychain stores secrets by key, under the Mailmover service.
type Keychain interface {
	// Get returns the secret stored under key, or ErrNotFound.
	Get(key string) (string, error)
	// Set stores secret under key, replacing any previous one.
	Set(key, secret string) error
	// Delete removes the secret stored under key, or returns ErrNotFound.
	Delete(key string) error
}

// AccountKey returns the key for an IMAP account's password:
// "imap:" + username + "@" + host. It holds no secret.
func AccountKey(username, host string) string {
	return "imap:" + username + "@" + host
}

// Unavailable is returned by OS when no system keychain can be reached. The
// keychain returned with it keeps secrets in memory for this session only.
type Unavailable struct {
	// Err is why the system keychain could not be reached.
	Err error
}

func (e *Unavailable) Error() string {
	msg := "no system keychain reachable: passwords are kept in memory for this session only and forgotten when Mailmover closes"
	if e.Err != nil {
		msg += " (" + e.Err.Error() + ")"
	}
	return msg
}

func (e *Unavailable) Unwrap() error { return e.Err }

// OS returns the operating system's keychain. If it cannot be reached (it is
// probed with a harmless Get), OS returns an in-memory keychain together with
// a non-nil *Unavailable error that explains that passwords will be kept only
// until the app closes. The probe is bounded by a timeout of a few minutes,
// long enough for the user to unlock a locked keychain.
func OS() (Keychain, error) {
	ctx, cancel := context.WithTimeout(context.Background(), probeTimeout)
	defer cancel()
	return OSContext(ctx)
}

// OSContext is OS with the probe bounded by ctx instead of the default
// timeout. When ctx ends before the keychain answers, it falls back to memory
// as OS does.
func OSContext(ctx context.Context) (Keychain, error) {
	return probeOS(ctx, func() error {
		_, err := keyring.Get(Service, probeKey)
		return err
	})
}

// probeOS runs probe, a harmless read from the OS keychain, and returns the
// OS keychain if it answered (found or not found), the in-memory one if it
// failed or did not answer before ctx ended.
func probeOS(ctx context.Context, probe func() error) (Keychain, error) {
	type result struct{ err error }
	done := make(chan result, 1)
	go func() {
		done <- result{probe()}
	}()
	var err error
	select {
	case r := <-done:
		err = r.err
	case <-ctx.Done():
		err = fmt.Errorf("the system keychain did not answer: %w", ctx.Err())
	}
	if err == nil || errors.Is(err, keyring.ErrNotFound) {
		return osKeychain{}, nil
	}
	return NewMemory(), &Unavailable{Err: err}
}

// osKeychain is the system keychain reached through go-keyring.
type osKeychain struct{}

func (osKeychain) Get(key string) (string, error) {
	s, err := keyring.Get(Service, key)
	if errors.Is(err, keyring.ErrNotFound) {
		return "", ErrNotFound
	}
	if err != nil {
		return "", fmt.Errorf("read %s from the system keychain: %w", key, err)
	}
	return s, nil
}

func (osKeychain) Set(key, secret string) error {
	// The error of go-keyring never holds the secret; only the key is named.
	if err := keyring.Set(Service, key, secret); err != nil {
		return fmt.Errorf("store %s in the system keychain: %w", key, err)
	}
	return nil
}

func (osKeychain) Delete(key string) error {
	err := keyring.Delete(Service, key)
	if errors.Is(err, keyring.ErrNotFound) {
		return ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("delete %s from the system keychain: %w", key, err)
	}
	return nil
}

// memory is a Keychain that lives only as long as the process.
type memory struct {
	mu sync.Mutex
	m  map[string]string
}

// NewMemory returns an empty keychain held in memory only. Nothing it holds
// is ever written anywhere; it is forgotten when the process ends.
func NewMemory() Keychain {
	return &memory{m: make(map[string]string)}
}

func (k *memory) Get(key string) (string, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	s, ok := k.m[key]
	if !ok {
		return "", ErrNotFound
	}
	return s, nil
}

func (k *memory) Set(key, secret string) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.m[key] = secret
	return nil
}

func (k *memory) Delete(key string) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	if _, ok := k.m[key]; !ok {
		return ErrNotFound
	}
	delete(k.m, key)
	return nil
}
