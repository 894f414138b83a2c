package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"

	"mailmover/core/dovecottest"
	"mailmover/core/mailtest"
	"mailmover/core/sample"
	"mailmover/core/secret"
)

// TestMain lets the test binary act as the mailmover command in a child
// process, so that a real process can be killed mid-migration.
func TestMain(m *testing.M) {
	if args := os.Getenv("MAILMOVER_TEST_CHILD_ARGS"); args != "" {
		env := &Env{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr, Getenv: os.Getenv, ConfigDir: os.TempDir(), Keychain: secret.NewMemory()}
		os.Exit(Main(strings.Split(args, "\x1f"), env))
	}
	os.Exit(m.Run())
}

// TestMigrateKilledResumes kills a migrating process with SIGKILL after its
// first batches, then runs again: every message ends up on the target exactly once.
func TestMigrateKilledResumes(t *testing.T) {
	t.Parallel()
	ss := dovecottest.Start(t, dovecottest.Options{Flavour: dovecottest.Modern})
	ds := dovecottest.Start(t, dovecottest.Options{Flavour: dovecottest.Modern})
	corpus := sample.New(sample.Options{Seed: 5, Messages: 400, MaxAttachment: 400 << 10})
	mailtest.Load(t, mailtest.Account(ss, "alice", "alice-pw"), corpus)
	stateDir := t.TempDir()
	args := []string{"--from", fmt.Sprintf("imaps://alice@127.0.0.1:%d", ss.TLSPort), "--to", fmt.Sprintf("imaps://alice@127.0.0.1:%d", ds.TLSPort),
		"--from-password-env", "SRC_PW", "--to-password-env", "DST_PW", "--from-ca", caFile(t, ss), "--to-ca", caFile(t, ds)}
	migrateArgs := append([]string{"migrate", "--state", stateDir, "--connections", "1"}, args...)

	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "MAILMOVER_TEST_CHILD_ARGS="+strings.Join(migrateArgs, "\x1f"), "SRC_PW=alice-pw", "DST_PW=alice-pw")
	var childOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &childOut, &childOut
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	killed := waitAndKill(t, cmd, stateDir, 2)
	cmd.Wait()
	if !killed {
		t.Fatalf("the child finished or stalled before it could be killed:\n%s", childOut.String())
	}

	vars := map[string]string{"SRC_PW": "alice-pw", "DST_PW": "alice-pw"}
	env, out, errb := testEnv(t, vars)
	if code := Dispatch(context.Background(), migrateArgs, env); code != ExitOK {
		t.Fatalf("resumed migrate = %d; want 0\n%s\n%s", code, out, errb)
	}
	env, out, errb = testEnv(t, vars)
	if code := Dispatch(context.Background(), append([]string{"verify", "--json"}, args...), env); code != ExitOK {
		t.Fatalf("verify = %d; want 0\n%s\n%s", code, out, errb)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	var sum struct {
		Verification struct {
			Folders []struct {
				Source         string `json:"source"`
				SourceMessages int    `json:"sourceMessages"`
				TargetMessages int    `json:"targetMessages"`
			} `json:"folders"`
		} `json:"verification"`
	}
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &sum); err != nil {
		t.Fatal(err)
	}
	total := 0
	for _, f := range sum.Verification.Folders {
		total += f.SourceMessages
		if f.SourceMessages != f.TargetMessages {
			t.Errorf("folder %q: %d messages on the target; want %d (exactly once each)", f.Source, f.TargetMessages, f.SourceMessages)
		}
	}
	if total != corpus.Len() {
		t.Errorf("verified %d source messages; want %d", total, corpus.Len())
	}
}
