package account

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"

	"mailmover/core/failure"
	"mailmover/core/secret"
)

func testAccount(name string) Account {
	return Account{
		Name:     name,
		Email:    "alice@example.com",
		Host:     "imap.example.com",
		Port:     993,
		Security: SecurityTLS,
		Username: "alice@example.com",
		Auth:     AuthPassword,
	}
}

func TestStoreMissingFileIsEmpty(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "accounts.json")
	s, err := OpenStore(path)
	if err != nil {
		t.Fatalf("OpenStore(%q) = %v; want nil", path, err)
	}
	if got := s.List(); len(got) != 0 {
		t.Errorf("List() = %v; want empty", got)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("OpenStore created %s before any Put", path)
	}
}

func TestStorePutGetRemove(t *testing.T) {
	path := filepath.Join(t.TempDir(), "Mailmover", "accounts.json")
	s, err := OpenStore(path)
	if err != nil {
		t.Fatal(err)
	}
	old, target := testAccount("Old"), testAccount("New")
	target.Host, target.Provider, target.CAFile = "imap.gmail.com", "gmail", "/etc/ssl/extra.pem"
	for _, a := range []Account{old, target} {
		if err := s.Put(a); err != nil {
			t.Fatalf("Put(%q) = %v", a.Name, err)
		}
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if runtime.GOOS != "windows" && fi.Mode().Perm() != 0o600 {
		t.Errorf("accounts file mode = %v; want 0600", fi.Mode().Perm())
	}

	// Reopen: what was put is read back, in order.
	s2, err := OpenStore(path)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := s2.List(), []Account{old, target}; !slices.Equal(got, want) {
		t.Fatalf("List() after reopen = %+v; want %+v", got, want)
	}
	if got, ok := s2.Get("New"); !ok || got != target {
		t.Errorf("Get(%q) = %+v, %v; want %+v, true", "New", got, ok, target)
	}
	if _, ok := s2.Get("Missing"); ok {
		t.Errorf("Get(%q) found an account", "Missing")
	}

	// Replace by name keeps the position.
	old.Port = 1993
	if err := s2.Put(old); err != nil {
		t.Fatal(err)
	}
	if got := s2.List(); len(got) != 2 || got[0].Port != 1993 {
		t.Errorf("List() after replace = %+v; want Old first with port 1993", got)
	}

	if err := s2.Remove("Old"); err != nil {
		t.Fatal(err)
	}
	if err := s2.Remove("Old"); err != nil {
		t.Errorf("Remove of a missing account = %v; want nil", err)
	}
	s3, err := OpenStore(path)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := s3.List(), []Account{target}; !slices.Equal(got, want) {
		t.Errorf("List() after Remove and reopen = %+v; want %+v", got, want)
	}

	// List returns a copy.
	l := s3.List()
	l[0].Host = "changed"
	if got, _ := s3.Get("New"); got.Host != target.Host {
		t.Errorf("changing List()'s result changed the store")
	}
}

func TestStorePutRejects(t *testing.T) {
	s, err := OpenStore(filepath.Join(t.TempDir(), "accounts.json"))
	if err != nil {
		t.Fatal(err)
	}
	bad := testAccount("Bad")
	bad.Port = 0
	tests := []struct {
		a    Account
		want string
	}{
		{testAccount(""), "no name"},
		{bad, "port 0"},
	}
	for _, tt := range tests {
		err := s.Put(tt.a)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Put(%+v) = %v; want an error mentioning %q", tt.a, err, tt.want)
		}
		if failure.KindOf(err) != failure.Config {
			t.Errorf("failure.KindOf(Put(%+v)) = %v; want %v", tt.a, failure.KindOf(err), failure.Config)
		}
	}
	if got := s.List(); len(got) != 0 {
		t.Errorf("List() after rejected Puts = %v; want empty", got)
	}
	if _, err := os.Stat(s.Path()); !os.IsNotExist(err) {
		t.Errorf("rejected Puts wrote %s", s.Path())
	}
}

func TestOpenStoreDamaged(t *testing.T) {
	tests := []struct {
		content string
		kind    failure.Kind
	}{
		{"{not json", failure.Malformed},
		{`{"version": 99, "accounts": []}`, failure.Config},
	}
	for _, tt := range tests {
		path := filepath.Join(t.TempDir(), "accounts.json")
		if err := os.WriteFile(path, []byte(tt.content), 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := OpenStore(path)
		if err == nil || failure.KindOf(err) != tt.kind {
			t.Errorf("OpenStore(file holding %q) = %v; want a %v error", tt.content, err, tt.kind)
		}
	}
	// An empty file is an empty store.
	path := filepath.Join(t.TempDir(), "accounts.json")
	if err := os.WriteFile(path, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if s, err := OpenStore(path); err != nil || len(s.List()) != 0 {
		t.Errorf("OpenStore(empty file) = %v; want an empty store", err)
	}
}

// TestStoreHoldsNoSecret puts accounts whose passwords sit in a keychain and
// scans the file: no password, and no field other than the account's own.
func TestStoreHoldsNoSecret(t *testing.T) {
	path := filepath.Join(t.TempDir(), "accounts.json")
	s, err := OpenStore(path)
	if err != nil {
		t.Fatal(err)
	}
	kc := secret.NewMemory()
	passwords := map[string]string{
		"Old": "Tr0ub4dor&3-old-password",
		"New": "correct horse battery staple",
	}
	for name, pw := range passwords {
		a := testAccount(name)
		a.Username = strings.ToLower(name) + "@example.com"
		if err := kc.Set(a.SecretKey(), pw); err != nil {
			t.Fatal(err)
		}
		if err := s.Put(a); err != nil {
			t.Fatal(err)
		}
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for name, pw := range passwords {
		if strings.Contains(string(data), pw) {
			t.Errorf("accounts file holds the password of %q", name)
		}
		for _, word := range strings.Fields(pw) {
			if strings.Contains(string(data), word) {
				t.Errorf("accounts file holds part of the password of %q: %q", name, word)
			}
		}
	}

	var raw struct {
		Version  int              `json:"version"`
		Accounts []map[string]any `json:"accounts"`
	}
	if err := json.Unmarshal(data, &raw); err != nil {
		t.Fatal(err)
	}
	allowed := []string{"name", "email", "host", "port", "security", "username", "auth", "caFile", "provider"}
	for _, a := range raw.Accounts {
		for k := range a {
			if !slices.Contains(allowed, k) {
				t.Errorf("accounts file has unexpected field %q", k)
			}
		}
	}
	if len(raw.Accounts) != len(passwords) {
		t.Errorf("accounts file holds %d accounts; want %d", len(raw.Accounts), len(passwords))
	}
}

func TestStoreConcurrentPut(t *testing.T) {
	path := filepath.Join(t.TempDir(), "accounts.json")
	s, err := OpenStore(path)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			if err := s.Put(testAccount(fmt.Sprintf("acct-%d", i))); err != nil {
				t.Error(err)
			}
			_ = s.List()
		})
	}
	wg.Wait()
	s2, err := OpenStore(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := len(s2.List()); got != 8 {
		t.Errorf("len(List()) after 8 concurrent Puts = %d; want 8", got)
	}
}

func TestDefaultStorePath(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("XDG_CONFIG_HOME decides os.UserConfigDir only on Linux and BSD")
	}
	dir := t.TempDir()
	t.Setenv("XDG_CONFIG_HOME", dir)
	got, err := DefaultStorePath()
	want := filepath.Join(dir, "Mailmover", "accounts.json")
	if err != nil || got != want {
		t.Errorf("DefaultStorePath() = %q, %v; want %q, nil", got, err, want)
	}
}
