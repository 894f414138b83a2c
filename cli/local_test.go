package cli

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"mailmover/core/dovecottest"
	"mailmover/core/mailtest"
	"mailmover/core/mbox"
	"mailmover/core/sample"
	"mailmover/core/state"
)

// waitAndKill kills cmd once the journal under stateDir records n batches.
func waitAndKill(t *testing.T, cmd *exec.Cmd, stateDir string, n int) bool {
	deadline := time.Now().Add(2 * time.Minute)
	for time.Now().Before(deadline) {
		journals, _ := filepath.Glob(filepath.Join(stateDir, "*", state.JournalFile))
		if len(journals) == 1 {
			recs, _ := state.ReadJournal(journals[0])
			copied := 0
			for _, r := range recs {
				if r.Event == "copied" {
					copied++
				}
			}
			if copied >= n {
				cmd.Process.Kill()
				return true
			}
		}
		time.Sleep(5 * time.Millisecond)
	}
	return false
}

// TestBackupKilledThenRestore kills a backup with SIGKILL mid-way, runs it
// again, checks every mbox is complete and valid, then restores it.
func TestBackupKilledThenRestore(t *testing.T) {
	t.Parallel()
	ss := dovecottest.Start(t, dovecottest.Options{Flavour: dovecottest.Modern})
	ds := dovecottest.Start(t, dovecottest.Options{Flavour: dovecottest.Courier})
	src := mailtest.Account(ss, "alice", "alice-pw")
	corpus := sample.New(sample.Options{Seed: 8, Messages: 300, MaxAttachment: 400 << 10})
	mailtest.Load(t, src, corpus)
	out := filepath.Join(t.TempDir(), "backup")
	stateDir := t.TempDir()
	backupArgs := []string{"backup", "--from", fmt.Sprintf("imaps://alice@127.0.0.1:%d", ss.TLSPort), "--from-password-env", "SRC_PW", "--from-ca", caFile(t, ss), "--out", out, "--state", stateDir}

	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "MAILMOVER_TEST_CHILD_ARGS="+strings.Join(backupArgs, "\x1f"), "SRC_PW=alice-pw")
	var childOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &childOut, &childOut
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	killed := waitAndKill(t, cmd, stateDir, 2)
	cmd.Wait()
	if !killed {
		t.Fatalf("the backup finished or stalled before it could be killed:\n%s", childOut.String())
	}
	vars := map[string]string{"SRC_PW": "alice-pw", "DST_PW": "alice-pw"}
	env, o, e := testEnv(t, vars)
	if code := Dispatch(context.Background(), backupArgs, env); code != ExitOK {
		t.Fatalf("backup after the kill = %d; want 0\n%s\n%s", code, o, e)
	}
	// Every mbox is valid and the whole corpus is there exactly once.
	ctx := context.Background()
	tree, err := mbox.OpenTree(ctx, out)
	if err != nil {
		t.Fatal(err)
	}
	total := 0
	for _, ent := range tree.Entries() {
		box, err := mbox.OpenMailbox(ctx, tree.FilePath(ent))
		if os.IsNotExist(err) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		for _, err := range box.Messages(ctx) {
			if err != nil {
				t.Errorf("%s: %v", ent.File, err)
			}
			total++
		}
		box.Close()
	}
	if total != corpus.Len() {
		t.Errorf("backup holds %d messages; want %d", total, corpus.Len())
	}
	env, o, e = testEnv(t, vars)
	restoreArgs := []string{"restore", "--backup", out, "--to", fmt.Sprintf("imaps://alice@127.0.0.1:%d", ds.TLSPort), "--to-password-env", "DST_PW", "--to-ca", caFile(t, ds), "--state", stateDir}
	if code := Dispatch(ctx, restoreArgs, env); code != ExitOK {
		t.Fatalf("restore = %d; want 0\n%s\n%s", code, o, e)
	}
}
