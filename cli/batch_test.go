package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2/imapclient"

	"mailmover/core/batch"
	"mailmover/core/dovecottest"
	"mailmover/core/sample"
	"mailmover/core/secret"
	"mailmover/core/state"
)

func TestBatchUsage(t *testing.T) {
	list := filepath.Join(t.TempDir(), "list.csv")
	os.WriteFile(list, []byte("old.example;a;pw-Usage-1;new.example;b;pw-Usage-2\nbroken\n"), 0o600)
	dir := t.TempDir()
	for _, tc := range []struct {
		args []string
		want int
	}{
		{nil, ExitUsage},
		{[]string{"--resume", "--rerun"}, ExitUsage},
		{[]string{"--import-only"}, ExitUsage},
		{[]string{"--resume", "--source-master", "admin"}, ExitUsage},
		{[]string{"--resume", "extra"}, ExitUsage},
		{[]string{"--resume", "--dir", t.TempDir()}, ExitUsage}, // empty batch
		{[]string{"--csv", filepath.Join(dir, "missing.csv"), "--dir", dir}, ExitUsage},
		{[]string{"--csv", list, "--import-only", "--dir", dir}, ExitPartial}, // one bad line
		{[]string{"--status", "--dir", dir}, ExitPartial},
		{[]string{"--resume", "--dir", dir, "--source-ca", filepath.Join(dir, "missing.pem")}, ExitUsage},
	} {
		env, out, errb := testEnv(t, nil)
		if code := runBatch(context.Background(), env, tc.args); code != tc.want {
			t.Errorf("runBatch(%q) = %d; want %d\nstdout: %s\nstderr: %s", tc.args, code, tc.want, out, errb)
		}
		if all := out.String() + errb.String(); strings.Contains(all, "pw-Usage") {
			t.Errorf("runBatch(%q) printed a password", tc.args)
		}
	}
	env, _, errb := testEnv(t, nil)
	runBatch(context.Background(), env, []string{"--csv", list, "--import-only", "--dir", t.TempDir()})
	if !strings.Contains(errb.String(), "Delete "+list+" now") || !strings.Contains(errb.String(), "line 2") {
		t.Errorf("import output = %q; want the advice to delete the list and the bad line", errb)
	}
	env, out, errb := testEnv(t, nil)
	env.Stdin = strings.NewReader("old.example;a;pw-Usage-1;new.example;b;pw-Usage-2\n")
	if code := runBatch(context.Background(), env, []string{"--csv", "-", "--import-only", "--json", "--dir", t.TempDir()}); code != ExitOK {
		t.Errorf("import from standard input = %d; want 0\n%s%s", code, out, errb)
	}
	if !strings.Contains(out.String(), `"added":1`) || strings.Contains(out.String(), "pw-Usage") {
		t.Errorf("JSON import output = %q; want one pair added, no password", out)
	}
	if pw, _ := env.Keychain.Get("imap:b@new.example"); pw != "pw-Usage-2" {
		t.Errorf("the target password from standard input is not in the keychain")
	}
}

// TestBatchKilledResumes kills a batch process with SIGKILL while it copies,
// then resumes it from the batch folder alone: every mailbox ends done, with
// every message on the target exactly once, and no password anywhere.
func TestBatchKilledResumes(t *testing.T) {
	t.Parallel()
	const pairs = 4
	srcPW := func(i int) string { return fmt.Sprintf("src-Pw-%d-kill", i) }
	dstPW := func(i int) string { return fmt.Sprintf("dst-Pw-%d-kill", i) }
	var su, du []dovecottest.User
	for i := 1; i <= pairs; i++ {
		su = append(su, dovecottest.User{Name: fmt.Sprintf("s%d", i), Password: srcPW(i)})
		du = append(du, dovecottest.User{Name: fmt.Sprintf("t%d", i), Password: dstPW(i)})
	}
	ss := dovecottest.Start(t, dovecottest.Options{Users: su})
	ds := dovecottest.Start(t, dovecottest.Options{Users: du})
	const perBox = 60
	for i := 1; i <= pairs; i++ {
		c, err := imapclient.DialTLS(ss.Addr(), &imapclient.Options{TLSConfig: ss.TLSConfig()})
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Login(fmt.Sprintf("s%d", i), srcPW(i)).Wait(); err != nil {
			t.Fatal(err)
		}
		if err := sample.Load(context.Background(), c, sample.New(sample.Options{Seed: uint64(40 + i), Messages: perBox, MaxAttachment: 40 << 10})); err != nil {
			t.Fatal(err)
		}
		c.Close()
	}
	var list strings.Builder
	list.WriteString("# old;user;password;new;user;password\n")
	for i := 1; i <= pairs; i++ {
		fmt.Fprintf(&list, "127.0.0.1:%d;s%d;%s;127.0.0.1:%d;t%d;%s\n", ss.TLSPort, i, srcPW(i), ds.TLSPort, i, dstPW(i))
	}
	listFile := filepath.Join(t.TempDir(), "accounts.csv")
	if err := os.WriteFile(listFile, []byte(list.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	args := []string{"--csv", listFile, "--dir", dir, "--parallel", "2", "--source-ca", caFile(t, ss), "--target-ca", caFile(t, ds)}

	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "MAILMOVER_TEST_CHILD_ARGS="+strings.Join(append([]string{"batch"}, args...), "\x1f"))
	var childOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &childOut, &childOut
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(2 * time.Minute)
	killed := false
	for time.Now().Before(deadline) && !killed {
		journals, _ := filepath.Glob(filepath.Join(dir, batch.MailboxDir, "*", state.JournalFile))
		for _, j := range journals {
			recs, _ := state.ReadJournal(j)
			for _, r := range recs {
				if r.Event == "copied" {
					cmd.Process.Kill()
					killed = true
					break
				}
			}
		}
		time.Sleep(5 * time.Millisecond)
	}
	cmd.Wait()
	if !killed {
		t.Fatalf("the child finished or stalled before it could be killed:\n%s", childOut.String())
	}

	// A new process: the passwords are in its keychain (here, a fresh
	// in-memory one), the rest comes from the batch folder alone.
	env, out, errb := testEnv(t, nil)
	for i := 1; i <= pairs; i++ {
		env.Keychain.Set(secret.AccountKey(fmt.Sprintf("s%d", i), "127.0.0.1"), srcPW(i))
		env.Keychain.Set(secret.AccountKey(fmt.Sprintf("t%d", i), "127.0.0.1"), dstPW(i))
	}
	reports := t.TempDir()
	if code := runBatch(context.Background(), env, []string{"--resume", "--dir", dir, "--json", "--report", reports}); code != ExitOK {
		t.Fatalf("batch --resume = %d; want 0\nstdout: %s\nstderr: %s\nchild: %s", code, out, errb, childOut.String())
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	var sum struct {
		Type  string       `json:"type"`
		Exit  int          `json:"exit"`
		Items []batch.Item `json:"items"`
	}
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &sum); err != nil || sum.Type != "summary" {
		t.Fatalf("last JSON line = %q (%v); want a summary", lines[len(lines)-1], err)
	}
	if len(sum.Items) != pairs {
		t.Fatalf("summary has %d items; want %d", len(sum.Items), pairs)
	}
	for _, it := range sum.Items {
		c := it.Counts
		if it.Status != batch.Done || c.SourceMessages != perBox || c.TargetMessages != perBox || c.TotalCopied > perBox {
			t.Errorf("%s = %s %q, %d on the source, %d on the target, %d copied in all; want done, %d each, exactly once", it.Name(), it.Status, it.Reason, c.SourceMessages, c.TargetMessages, c.TotalCopied, perBox)
		}
	}

	// Running the batch again with --status reports everything done.
	env, out2, _ := testEnv(t, nil)
	if code := runBatch(context.Background(), env, []string{"--status", "--dir", dir}); code != ExitOK || !strings.Contains(out2.String(), "4 done") {
		t.Errorf("batch --status = %d, %q; want 0 and 4 done", code, out2)
	}

	var passwords []string
	for i := 1; i <= pairs; i++ {
		passwords = append(passwords, srcPW(i), dstPW(i))
	}
	os.WriteFile(filepath.Join(reports, "output.log"), []byte(childOut.String()+out.String()+errb.String()+out2.String()), 0o600)
	for _, root := range []string{dir, reports} {
		filepathWalk(t, root, func(b []byte, path string) {
			for _, pw := range passwords {
				if bytes.Contains(b, []byte(pw)) {
					t.Errorf("%s holds a password", path)
				}
			}
		})
	}
	if _, err := os.Stat(filepath.Join(reports, "batch-report.html")); err != nil {
		t.Errorf("no HTML report: %v", err)
	}
}
