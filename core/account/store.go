package account

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sync"

	"mailmover/core/atomicfile"
	"mailmover/core/failure"
)

// storeVersion is the version of the accounts file format.
const storeVersion = 1

// storeFile is the JSON layout of the accounts file. It has no field for a
// password or token, by design.
type storeFile struct {
	Version  int       `json:"version"`
	Accounts []Account `json:"accounts"`
}

// Store keeps accounts in a JSON file, written atomically with
// mailmover/core/atomicfile and readable only by the user. It never holds a
// secret. A Store is safe for concurrent use within one process.
type Store struct {
	path string

	mu       sync.Mutex
	accounts []Account
}

// DefaultStorePath returns where the accounts file lives:
// os.UserConfigDir()/Mailmover/accounts.json.
func DefaultStorePath() (string, error) {
	dir, err := os.UserConfigDir()
	if err != nil {
		return "", failure.New(failure.Local, failure.ScopeAccount, "find the configuration folder", err)
	}
	return filepath.Join(dir, "Mailmover", "accounts.json"), nil
}

// OpenStore reads the accounts file at path. A missing file is an empty
// store; it is created on the first Put.
func OpenStore(path string) (*Store, error) {
	s := &Store{path: path}
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return s, nil
	}
	if err != nil {
		return nil, failure.New(failure.Local, failure.ScopeAccount, "read accounts file", err)
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return s, nil
	}
	var f storeFile
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, failure.New(failure.Malformed, failure.ScopeAccount, "read accounts file",
			fmt.Errorf("%s is damaged (%w): fix or remove it, then add the accounts again", path, err))
	}
	if f.Version > storeVersion {
		return nil, failure.New(failure.Config, failure.ScopeAccount, "read accounts file",
			fmt.Errorf("%s was written by a newer Mailmover (format %d): update Mailmover", path, f.Version))
	}
	s.accounts = f.Accounts
	return s, nil
}

// Path returns the file the store is kept in.
func (s *Store) Path() string { return s.path }

// List returns a copy of the accounts, in the order they were first added.
func (s *Store) List() []Account {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.accounts)
}

// Get returns the account named name.
func (s *Store) Get(name string) (Account, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if i := s.index(name); i >= 0 {
		return s.accounts[i], true
	}
	return Account{}, false
}

// Put adds a, or replaces the account of the same Name, and saves the file.
// The account must have a Name and pass Validate.
func (s *Store) Put(a Account) error {
	if a.Name == "" {
		return failure.New(failure.Config, failure.ScopeAccount, "save account",
			errors.New("the account has no name: give it a label such as \"Old mailbox\""))
	}
	if err := a.Validate(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	next := slices.Clone(s.accounts)
	if i := s.index(a.Name); i >= 0 {
		next[i] = a
	} else {
		next = append(next, a)
	}
	if err := s.save(next); err != nil {
		return err
	}
	s.accounts = next
	return nil
}

// Remove deletes the account named name and saves the file. Removing an
// account that is not there is not an error. The account's password stays
// in the keychain; delete it there with its SecretKey.
func (s *Store) Remove(name string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	i := s.index(name)
	if i < 0 {
		return nil
	}
	next := slices.Delete(slices.Clone(s.accounts), i, i+1)
	if err := s.save(next); err != nil {
		return err
	}
	s.accounts = next
	return nil
}

// index returns the position of the account named name, or -1. s.mu is held.
func (s *Store) index(name string) int {
	return slices.IndexFunc(s.accounts, func(a Account) bool { return a.Name == name })
}

// save writes accounts to the file. s.mu is held.
func (s *Store) save(accounts []Account) error {
	if accounts == nil {
		accounts = []Account{}
	}
	data, err := json.MarshalIndent(storeFile{Version: storeVersion, Accounts: accounts}, "", "  ")
	if err != nil {
		return failure.New(failure.Local, failure.ScopeAccount, "save accounts file", err)
	}
	data = append(data, '\n')
	if err := atomicfile.WriteFile(s.path, data, 0o600); err != nil {
		return failure.New(failure.Local, failure.ScopeAccount, "save accounts file", err)
	}
	return nil
}
