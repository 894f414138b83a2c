package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"

	"mailmover/core/dovecottest"
	"mailmover/core/mailtest"
	"mailmover/core/sample"
	"mailmover/core/secret"
)

func testEnv(t *testing.T, vars map[string]string) (*Env, *bytes.Buffer, *bytes.Buffer) {
	var out, errb bytes.Buffer
	return &Env{
		Stdout: &out, Stderr: &errb, Stdin: strings.NewReader(""),
		Getenv:    func(k string) string { return vars[k] },
		Keychain:  secret.NewMemory(),
		ConfigDir: t.TempDir(),
	}, &out, &errb
}

func TestHelpListsCommands(t *testing.T) {
	env, out, _ := testEnv(t, nil)
	if code := Dispatch(context.Background(), []string{"help"}, env); code != ExitOK {
		t.Fatalf("help = %d; want 0", code)
	}
	for _, c := range commands() {
		if !strings.Contains(out.String(), c.name) {
			t.Errorf("help does not list %q:\n%s", c.name, out)
		}
	}
}

func TestUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{"nonsense"},
		{"migrate"},
		{"migrate", "--from", "imaps://a@b", "--to", "ftp://x@y"},
		{"migrate", "--from", "imaps://a:secret@b", "--to", "imaps://x@y"},
		{"migrate", "--from", "no-such-account", "--to", "imaps://x@y"},
	} {
		env, _, errb := testEnv(t, nil)
		if code := Dispatch(context.Background(), args, env); code != ExitUsage {
			t.Errorf("Dispatch(%q) = %d; want %d (stderr %q)", args, code, ExitUsage, errb)
		}
		if strings.Contains(errb.String(), "secret") {
			t.Errorf("Dispatch(%q) printed the password: %q", args, errb)
		}
	}
}

func caFile(t *testing.T, s *dovecottest.Server) string {
	p := t.TempDir() + "/ca.pem"
	if err := os.WriteFile(p, s.CAPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestMigrateCommandDovecot(t *testing.T) {
	t.Parallel()
	ss := dovecottest.Start(t, dovecottest.Options{Flavour: dovecottest.Modern})
	ds := dovecottest.Start(t, dovecottest.Options{Flavour: dovecottest.Courier})
	mailtest.Load(t, mailtest.Account(ss, "alice", "alice-pw"), sample.New(sample.Options{Seed: 3, Messages: 40, MaxAttachment: 100 << 10}))
	from := fmt.Sprintf("imaps://alice@127.0.0.1:%d", ss.TLSPort)
	to := fmt.Sprintf("imap://alice@127.0.0.1:%d", ds.StartTLSPort)
	vars := map[string]string{"SRC_PW": "alice-pw", "DST_PW": "alice-pw", "BAD_PW": "wrong-password-123"}
	base := []string{"--from", from, "--to", to, "--from-password-env", "SRC_PW", "--from-ca", caFile(t, ss), "--to-ca", caFile(t, ds)}
	state := t.TempDir()

	for _, tc := range []struct {
		name string
		args []string
		want int
	}{
		{"dry run", append([]string{"migrate", "--dry-run", "--to-password-env", "DST_PW", "--state", state}, base...), ExitOK},
		{"wrong password", append([]string{"migrate", "--to-password-env", "BAD_PW", "--state", state}, base...), ExitAuth},
		{"untrusted certificate", []string{"migrate", "--from", from, "--to", to, "--from-password-env", "SRC_PW", "--to-password-env", "DST_PW", "--state", state}, ExitConn},
		{"migrate", append([]string{"migrate", "--json", "--to-password-env", "DST_PW", "--state", state}, base...), ExitOK},
		{"verify", append([]string{"verify", "--to-password-env", "DST_PW"}, base...), ExitOK},
	} {
		env, out, errb := testEnv(t, vars)
		code := Dispatch(context.Background(), tc.args, env)
		if code != tc.want {
			t.Errorf("%s: exit %d; want %d\nstdout: %s\nstderr: %s", tc.name, code, tc.want, out, errb)
		}
		all := out.String() + errb.String()
		if strings.Contains(all, "alice-pw") || strings.Contains(all, "wrong-password-123") {
			t.Errorf("%s: output reveals a password", tc.name)
		}
		if code != ExitOK && !strings.Contains(errb.String(), "What to do:") {
			t.Errorf("%s: stderr has no advice: %s", tc.name, errb)
		}
		if tc.name == "migrate" {
			lines := strings.Split(strings.TrimSpace(out.String()), "\n")
			var sum struct {
				Type         string                `json:"type"`
				Exit         int                   `json:"exit"`
				Verification struct{ Missing int } `json:"verification"`
			}
			if err := json.Unmarshal([]byte(lines[len(lines)-1]), &sum); err != nil || sum.Type != "summary" || sum.Exit != 0 {
				t.Errorf("last JSON line = %q (%v); want a summary with exit 0", lines[len(lines)-1], err)
			}
		}
	}
	// The journal holds no password.
	filepathWalk(t, state, func(b []byte, path string) {
		if bytes.Contains(b, []byte("alice-pw")) {
			t.Errorf("%s holds the password", path)
		}
	})
}

func filepathWalk(t *testing.T, root string, f func([]byte, string)) {
	entries, err := os.ReadDir(root)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		p := root + "/" + e.Name()
		if e.IsDir() {
			filepathWalk(t, p, f)
			continue
		}
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		f(b, p)
	}
}
