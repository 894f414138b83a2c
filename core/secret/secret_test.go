package secret

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/zalando/go-keyring"
)

// The tests in this file that call keyring.MockInit replace go-keyring's
// provider for the rest of the test binary, so none of them runs in
// parallel, and the tests that need the real provider run in a child process
// (see runChild).

// childEnv names the test a child process runs for real.
const childEnv = "MAILMOVER_SECRET_CHILD"

// runChild runs the test named name again in a fresh test process, where
// go-keyring still talks to the real OS keychain, and fails t if it fails.
func runChild(t *testing.T, name string) {
	t.Helper()
	t.Setenv(childEnv, name)
	cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^"+name+"$", "-test.count=1", "-test.v")
	out, err := cmd.CombinedOutput()
	t.Logf("child output:\n%s", out)
	if err != nil {
		t.Fatalf("child test %s failed: %v", name, err)
	}
	if !strings.Contains(string(out), "--- PASS: "+name) {
		t.Fatalf("child test %s did not pass", name)
	}
}

func TestAccountKey(t *testing.T) {
	tests := []struct {
		user, host, want string
	}{
		{"alice", "imap.example.com", "imap:alice@imap.example.com"},
		{"alice@example.com", "imap.gmail.com", "imap:alice@example.com@imap.gmail.com"},
		{"", "127.0.0.1", "imap:@127.0.0.1"},
	}
	for _, tt := range tests {
		if got := AccountKey(tt.user, tt.host); got != tt.want {
			t.Errorf("AccountKey(%q, %q) = %q; want %q", tt.user, tt.host, got, tt.want)
		}
	}
}

// exercise runs the store, read, overwrite, read, delete cycle on k.
func exercise(t *testing.T, k Keychain, key string) {
	t.Helper()
	if _, err := k.Get(key); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get(%q) before Set: err = %v; want ErrNotFound", key, err)
	}
	steps := []string{"first-pass word", "second pässword ✓"}
	for _, pw := range steps {
		if err := k.Set(key, pw); err != nil {
			t.Fatalf("Set(%q): %v", key, err)
		}
		got, err := k.Get(key)
		if err != nil || got != pw {
			t.Fatalf("Get(%q) = %q, %v; want the secret just set, nil", key, got, err)
		}
	}
	if err := k.Delete(key); err != nil {
		t.Fatalf("Delete(%q): %v", key, err)
	}
	if _, err := k.Get(key); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get(%q) after Delete: err = %v; want ErrNotFound", key, err)
	}
	if err := k.Delete(key); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Delete(%q) twice: err = %v; want ErrNotFound", key, err)
	}
}

func TestMemory(t *testing.T) {
	exercise(t, NewMemory(), AccountKey("alice@example.com", "imap.example.com"))
}

func TestMemoryConcurrent(t *testing.T) {
	k := NewMemory()
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			key := fmt.Sprintf("k%d", i)
			for j := range 50 {
				if err := k.Set(key, fmt.Sprint(j)); err != nil {
					t.Error(err)
				}
				if _, err := k.Get(key); err != nil {
					t.Error(err)
				}
			}
			if err := k.Delete(key); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
}

func TestMemoryKeysAreSeparate(t *testing.T) {
	k := NewMemory()
	a, b := AccountKey("a", "h"), AccountKey("b", "h")
	if err := k.Set(a, "one"); err != nil {
		t.Fatal(err)
	}
	if err := k.Set(b, "two"); err != nil {
		t.Fatal(err)
	}
	if got, _ := k.Get(a); got != "one" {
		t.Errorf("Get(%q) = %q; want %q", a, got, "one")
	}
	if got, _ := k.Get(b); got != "two" {
		t.Errorf("Get(%q) = %q; want %q", b, got, "two")
	}
}

func TestOSWithMock(t *testing.T) {
	keyring.MockInit()
	k, err := OS()
	if err != nil {
		t.Fatalf("OS() with a reachable keychain: err = %v; want nil", err)
	}
	if _, ok := k.(osKeychain); !ok {
		t.Fatalf("OS() = %T; want the OS keychain", k)
	}
	key := AccountKey("alice@example.com", "imap.example.com")
	exercise(t, k, key)

	// What OS stores is filed under the Mailmover service.
	if err := k.Set(key, "s3cret"); err != nil {
		t.Fatal(err)
	}
	if got, err := keyring.Get(Service, key); err != nil || got != "s3cret" {
		t.Errorf("keyring.Get(%q, %q) = %q, %v; want the stored secret", Service, key, got, err)
	}
}

func TestOSFallsBackOnError(t *testing.T) {
	cause := errors.New("org.freedesktop.secrets was not provided by any .service files")
	keyring.MockInitWithError(cause)
	k, err := OS()
	var u *Unavailable
	if !errors.As(err, &u) {
		t.Fatalf("OS() error = %v; want *Unavailable", err)
	}
	if !errors.Is(err, cause) {
		t.Errorf("OS() error does not wrap the cause: %v", err)
	}
	for _, want := range []string{"no system keychain", "memory", "session"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("OS() error = %q; want it to mention %q", err, want)
		}
	}
	if _, ok := k.(*memory); !ok {
		t.Fatalf("OS() = %T; want the in-memory keychain", k)
	}
	exercise(t, k, AccountKey("bob", "127.0.0.1"))
}

func TestProbeOSNoAnswer(t *testing.T) {
	release := make(chan struct{})
	finished := make(chan struct{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	k, err := probeOS(ctx, func() error {
		defer close(finished)
		<-release
		return nil
	})
	close(release)
	<-finished
	var u *Unavailable
	if !errors.As(err, &u) || !errors.Is(err, context.Canceled) {
		t.Fatalf("probeOS(cancelled, hanging probe) error = %v; want *Unavailable wrapping context.Canceled", err)
	}
	if _, ok := k.(*memory); !ok {
		t.Fatalf("probeOS(cancelled, hanging probe) = %T; want the in-memory keychain", k)
	}
}

func TestProbeOS(t *testing.T) {
	broken := errors.New("dbus: connection refused")
	tests := []struct {
		probeErr error
		wantOS   bool
	}{
		{nil, true},
		{keyring.ErrNotFound, true},
		{fmt.Errorf("lookup: %w", keyring.ErrNotFound), true},
		{broken, false},
		{ErrNotFound, false}, // only go-keyring's own "not found" proves the keychain answered
	}
	for _, tt := range tests {
		k, err := probeOS(context.Background(), func() error { return tt.probeErr })
		_, isOS := k.(osKeychain)
		if isOS != tt.wantOS || (err == nil) != tt.wantOS {
			t.Errorf("probeOS(probe returning %v) = %T, %v; want OS keychain %v", tt.probeErr, k, err, tt.wantOS)
		}
	}
}

func TestOSErrorsHoldNoSecret(t *testing.T) {
	const pw = "hunter2-very-secret"
	keyring.MockInitWithError(errors.New("dbus: connection closed"))
	k := osKeychain{}
	key := AccountKey("alice", "imap.example.com")
	errs := []error{k.Set(key, pw)}
	_, err := k.Get(key)
	errs = append(errs, err, k.Delete(key))
	for _, err := range errs {
		if err == nil {
			t.Fatal("operation on a failing keychain returned nil error")
		}
		if strings.Contains(err.Error(), pw) {
			t.Errorf("error %q reveals the secret", err)
		}
		if errors.Is(err, ErrNotFound) {
			t.Errorf("error %q claims not found for a broken keychain", err)
		}
	}
}

func TestUnavailableError(t *testing.T) {
	tests := []struct {
		err  *Unavailable
		want string
	}{
		{&Unavailable{}, "no system keychain reachable: passwords are kept in memory for this session only and forgotten when Mailmover closes"},
		{&Unavailable{Err: errors.New("dbus: no bus")}, "no system keychain reachable: passwords are kept in memory for this session only and forgotten when Mailmover closes (dbus: no bus)"},
	}
	for _, tt := range tests {
		if got := tt.err.Error(); got != tt.want {
			t.Errorf("(&Unavailable{%v}).Error() = %q; want %q", tt.err.Err, got, tt.want)
		}
	}
}

// TestOSWithoutSecretService checks, against the real go-keyring provider,
// that OS falls back to memory when the session bus it is pointed at does not
// exist.
func TestOSWithoutSecretService(t *testing.T) {
	if os.Getenv(childEnv) != t.Name() {
		t.Setenv("DBUS_SESSION_BUS_ADDRESS", "unix:path="+filepath.Join(t.TempDir(), "no-such-bus"))
		runChild(t, t.Name())
		return
	}
	k, err := OS()
	var u *Unavailable
	if !errors.As(err, &u) {
		t.Fatalf("OS() without a session bus: error = %v; want *Unavailable", err)
	}
	if _, ok := k.(*memory); !ok {
		t.Fatalf("OS() without a session bus = %T; want the in-memory keychain", k)
	}
	t.Logf("OS() said: %v", err)
	exercise(t, k, AccountKey("alice", "127.0.0.1"))
}

// TestSecretServiceIntegration stores, reads, overwrites and deletes a
// secret in a real Secret Service. It runs only with
// MAILMOVER_SECRET_SERVICE=1 (see .ci/test-keyring.sh, which starts a private
// D-Bus session and gnome-keyring-daemon).
func TestSecretServiceIntegration(t *testing.T) {
	if os.Getenv("MAILMOVER_SECRET_SERVICE") != "1" {
		t.Skip("set MAILMOVER_SECRET_SERVICE=1 with a Secret Service running (see .ci/test-keyring.sh)")
	}
	if os.Getenv(childEnv) != t.Name() {
		runChild(t, t.Name())
		return
	}
	k, err := OS()
	if err != nil {
		t.Fatalf("OS() with a Secret Service running: %v", err)
	}
	if _, ok := k.(*memory); ok {
		t.Fatal("OS() returned the in-memory fallback with a Secret Service running")
	}
	key := AccountKey(fmt.Sprintf("integration-%d@example.com", os.Getpid()), "127.0.0.1")
	t.Cleanup(func() { _ = k.Delete(key) })
	exercise(t, k, key)

	// The secret really lands in the Secret Service, under our service name.
	if err := k.Set(key, "stored for real"); err != nil {
		t.Fatal(err)
	}
	if got, err := keyring.Get(Service, key); err != nil || got != "stored for real" {
		t.Fatalf("keyring.Get(%q, %q) = %q, %v; want the stored secret", Service, key, got, err)
	}
	// A second OS() finds it too: it is not held by this keychain value.
	k2, err := OS()
	if err != nil {
		t.Fatal(err)
	}
	if got, err := k2.Get(key); err != nil || got != "stored for real" {
		t.Fatalf("second OS().Get(%q) = %q, %v; want the stored secret", key, got, err)
	}
	if err := k2.Delete(key); err != nil {
		t.Fatal(err)
	}
}

// TestLazy opens the keychain once, on first use, and keeps its error.
func TestLazy(t *testing.T) {
	opened := 0
	unavailable := &Unavailable{}
	l := NewLazy(func() (Keychain, error) {
		opened++
		return NewMemory(), unavailable
	})
	if opened != 0 {
		t.Fatalf("NewLazy opened the keychain %d times before use; want 0", opened)
	}
	if err := l.Set("k", "v"); err != nil {
		t.Fatal(err)
	}
	if got, err := l.Get("k"); got != "v" || err != nil {
		t.Errorf("Get(%q) = %q, %v; want %q", "k", got, err, "v")
	}
	if err := l.Err(); err != unavailable {
		t.Errorf("Err() = %v; want the error open returned", err)
	}
	if opened != 1 {
		t.Errorf("the keychain was opened %d times; want once", opened)
	}
}
