package cli

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"

	"mailmover/core/account"
	"mailmover/core/dovecottest"
)

// TestAccountCycle adds, lists, tests, uses and removes an account, then
// scans every file Mailmover wrote for the password.
func TestAccountCycle(t *testing.T) {
	t.Parallel()
	s := dovecottest.Start(t, dovecottest.Options{})
	s.AddUser(t, dovecottest.User{Name: "bob", Password: "bob-Secret-77"})
	vars := map[string]string{"PW": "alice-pw", "BOBPW": "bob-Secret-77"}
	env, _, _ := testEnv(t, vars)
	store, err := account.OpenStore(env.ConfigDir + "/accounts.json")
	if err != nil {
		t.Fatal(err)
	}
	env.Accounts = store
	ca := caFile(t, s)
	run := func(want int, args ...string) string {
		t.Helper()
		var out, errb bytes.Buffer
		env.Stdout, env.Stderr = &out, &errb
		if code := Dispatch(context.Background(), args, env); code != want {
			t.Fatalf("Dispatch(%q) = %d; want %d\n%s\n%s", args, code, want, out.String(), errb.String())
		}
		all := out.String() + errb.String()
		if strings.Contains(all, "alice-pw") || strings.Contains(all, "bob-Secret-77") {
			t.Errorf("Dispatch(%q) printed a password", args)
		}
		return all
	}
	port := fmt.Sprint(s.TLSPort)
	run(ExitOK, "account", "add", "--name", "old", "--email", "alice@example.com", "--username", "alice", "--host", "127.0.0.1", "--port", port, "--security", "tls", "--ca", ca, "--password-env", "PW")
	run(ExitOK, "account", "add", "--name", "new", "--email", "bob@example.com", "--username", "bob", "--host", "127.0.0.1", "--port", port, "--security", "tls", "--ca", ca, "--password-env", "BOBPW")
	run(ExitAuth, "account", "add", "--name", "bad", "--username", "alice", "--host", "127.0.0.1", "--port", port, "--ca", ca, "--password-env", "BOBPW")
	if out := run(ExitOK, "account", "list"); !strings.Contains(out, "old") || !strings.Contains(out, "new") || strings.Contains(out, "bad") {
		t.Errorf("account list = %q; want old and new only", out)
	}
	if out := run(ExitOK, "account", "test", "old"); !strings.Contains(out, "logged in") {
		t.Errorf("account test = %q; want a successful report", out)
	}
	run(ExitOK, "migrate", "--from", "old", "--to", "new", "--state", env.StateDir())
	run(ExitOK, "verify", "--from", "old", "--to", "new")
	run(ExitOK, "account", "remove", "new")
	if _, err := env.Keychain.Get("imap:bob@127.0.0.1"); err == nil {
		t.Errorf("the removed account's password is still in the keychain")
	}
	filepathWalk(t, env.ConfigDir, func(b []byte, path string) {
		if bytes.Contains(b, []byte("alice-pw")) || bytes.Contains(b, []byte("bob-Secret-77")) {
			t.Errorf("%s holds a password", path)
		}
	})
}
