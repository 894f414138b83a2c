package batch

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"mailmover/core/copier"
	"mailmover/core/failure"
	"mailmover/core/secret"
	"mailmover/core/store"
)

const listCSV = "source_email,source_host,source_username,source_password,target_email,target_host,target_username,target_password\n" +
	"a@old.example,old.example,a,pw-A-1111,a@new.example,new.example,a,pw-A-2222\n" +
	"b@old.example,old.example,b,pw-B-1111,b@new.example,new.example,b,\n" +
	"c@old.example,old.example,c,pw-C-1111,c@new.example,new.example,c,pw-C-2222\n" +
	"broken row\n"

var listPasswords = []string{"pw-A-1111", "pw-A-2222", "pw-B-1111", "pw-C-1111", "pw-C-2222"}

// noSecrets fails the test if any file below root holds one of the passwords.
func noSecrets(t *testing.T, root string, passwords []string) {
	t.Helper()
	n := 0
	err := filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		n++
		for _, pw := range passwords {
			if bytes.Contains(b, []byte(pw)) {
				t.Errorf("%s holds the password %q", path, pw)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n == 0 {
		t.Errorf("no file below %s to scan", root)
	}
}

func statuses(items []Item) string {
	var s []string
	for _, it := range items {
		s = append(s, it.ID+":"+string(it.Status))
	}
	return strings.Join(s, " ")
}

func TestImportAndReopen(t *testing.T) {
	dir := t.TempDir()
	q, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	kc := secret.NewMemory()
	rep, err := q.Import(context.Background(), strings.NewReader(listCSV), kc)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Rows != 3 || rep.Added != 3 || rep.Passwords != 5 || rep.NeedPassword != 1 || len(rep.Errors) != 1 || rep.Errors[0].Line != 5 {
		t.Errorf("Import = %+v; want 3 rows added, 5 passwords, 1 needing a password, an error on line 5", rep)
	}
	if got, want := statuses(q.Items()), "1:waiting 2:needs-attention 3:waiting"; got != want {
		t.Errorf("statuses = %q; want %q", got, want)
	}
	it, _ := q.Item("2")
	if it.Cause != CausePassword || it.Reason != "password missing for b on new.example" {
		t.Errorf("item 2 = %q (%s); want the missing target password", it.Reason, it.Cause)
	}
	if pw, err := kc.Get(secret.AccountKey("a", "new.example")); err != nil || pw != "pw-A-2222" {
		t.Errorf("keychain a@new.example = %q, %v; want the imported password", pw, err)
	}
	noSecrets(t, dir, listPasswords)

	// The same list again updates, never duplicates; a password given
	// now clears the attention.
	again := strings.Replace(listCSV, "b,\n", "b,pw-B-2222\n", 1)
	rep, err = q.Import(context.Background(), strings.NewReader(again), kc)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Added != 0 || rep.Updated != 3 || rep.NeedPassword != 0 {
		t.Errorf("re-import = %+v; want 3 updated", rep)
	}
	if got, want := statuses(q.Items()), "1:waiting 2:waiting 3:waiting"; got != want {
		t.Errorf("statuses after re-import = %q; want %q", got, want)
	}

	// A process that dies leaves items running: they wait again on Open.
	q.update("3", true, func(x *Item) { x.Status = Running })
	q.update("1", true, func(x *Item) { x.Status, x.Reason, x.Cause = Failed, "login refused for a on old.example", CauseLogin })
	// ... unless another process is running the batch right now.
	if unlock, err := lockDir(dir); err == nil {
		busy, err := Open(dir)
		if err != nil {
			t.Fatal(err)
		}
		if it, _ := busy.Item("3"); it.Status != Running {
			t.Errorf("item 3 while another process holds the batch = %s; want running", it.Status)
		}
		unlock()
	}
	q2, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := statuses(q2.Items()), "1:failed 2:waiting 3:waiting"; got != want {
		t.Errorf("statuses after reopen = %q; want %q", got, want)
	}
	if it, _ := q2.Item("3"); it.Cause != CauseInterrupted || it.Source.Host != "old.example" || it.Target.Email != "c@new.example" {
		t.Errorf("reopened item 3 = %+v; want it interrupted, with its accounts", it)
	}
	if n, err := q2.RetryFailed(); n != 1 || err != nil {
		t.Errorf("RetryFailed = %d, %v; want 1", n, err)
	}
	q2.update("2", true, func(x *Item) { x.Status = Done })
	if n, err := q2.ResetAll(); n != 1 || err != nil {
		t.Errorf("ResetAll = %d, %v; want 1", n, err)
	}
	// New pairs get new IDs after a reopen.
	rep, err = q2.Import(context.Background(), strings.NewReader("old.example;d;pw-D-1;new.example;d;pw-D-2\n"), kc)
	if err != nil || rep.Added != 1 {
		t.Fatalf("Import = %+v, %v", rep, err)
	}
	if got, want := statuses(q2.Items()), "1:waiting 2:waiting 3:waiting 4:waiting"; got != want {
		t.Errorf("statuses = %q; want %q", got, want)
	}
	if err := q2.Remove("4"); err != nil || len(q2.Items()) != 3 {
		t.Errorf("Remove = %v, %d items left; want 3", err, len(q2.Items()))
	}
	noSecrets(t, dir, append(listPasswords, "pw-B-2222", "pw-D-1", "pw-D-2"))
}

func TestImportMaster(t *testing.T) {
	q, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	kc := secret.NewMemory()
	in := "one.example;a;;new.example;a;pa\ntwo.example;b;;new.example;b;pb\none.example;c;pc;new.example;c;pc2\n"
	rep, err := q.ImportWith(context.Background(), strings.NewReader(in), kc, ImportOptions{SourceMaster: Master{User: "admin", Password: "master-pw"}})
	if err != nil {
		t.Fatal(err)
	}
	if rep.NeedPassword != 0 || rep.Passwords != 6 {
		t.Errorf("Import = %+v; want no missing password, 6 stored (4 own, 2 master)", rep)
	}
	items := q.Items()
	for i, want := range []string{"a*admin", "b*admin", "c"} {
		if got := items[i].Source.Login(); got != want {
			t.Errorf("item %d source Login() = %q; want %q", i+1, got, want)
		}
	}
	for _, host := range []string{"one.example", "two.example"} {
		if pw, err := kc.Get(secret.AccountKey("admin", host)); pw != "master-pw" || err != nil {
			t.Errorf("master password on %s = %q, %v; want it stored", host, pw, err)
		}
	}
	if got, want := items[0].Source.SecretKey(), secret.AccountKey("admin", "one.example"); got != want {
		t.Errorf("SecretKey() = %q; want %q", got, want)
	}
	if got := items[0].Source.String(); got != "a on one.example:993" {
		t.Errorf("String() = %q; want the mailbox, not the master login", got)
	}
}

func TestClassify(t *testing.T) {
	it := &Item{
		Source: Side{Host: "old.example", Port: 993, Username: "alice"},
		Target: Side{Host: "new.example", Port: 993, Username: "alice2", Master: "admin"},
	}
	auth := failure.New(failure.Auth, failure.ScopeAccount, "log in to old.example:993", errors.New("the server refused the login for alice: Authentication failed."))
	plan := &copier.Plan{Bytes: 3 << 20}
	plan.Target.Quota = &store.Quota{Limit: 1 << 20, Used: 1 << 20}
	paused, pause := context.WithCancelCause(context.Background())
	pause(ErrPaused)
	stopped, stop := context.WithCancel(context.Background())
	stop()
	bg := context.Background()
	for _, tc := range []struct {
		name   string
		ctx    context.Context
		err    error
		status Status
		cause  Cause
		reason string
	}{
		{"source login", bg, &sideError{Source, auth}, Failed, CauseLogin, "login refused for alice on old.example"},
		{"source login by address", bg, auth, Failed, CauseLogin, "login refused for alice on old.example"},
		{"target master login", bg, &sideError{Target, auth}, Failed, CauseLogin, "login refused for alice2*admin (master user admin) on new.example"},
		{"quota", bg, failure.New(failure.Quota, failure.ScopeAccount, "append", errors.New("NO [OVERQUOTA]")), NeedsAttention, CauseQuota,
			"the target mailbox alice2 on new.example is full (quota 1.0 MB, the source holds 3.0 MB): raise its quota, then retry"},
		{"connection", bg, &sideError{Target, failure.New(failure.Connection, failure.ScopeAccount, "connect to new.example:993", errors.New("connection refused"))}, Failed, CauseConnection,
			"connection to new.example failed after retries: connect to new.example:993: connection refused"},
		{"password", bg, &sideError{Source, failure.Newf(failure.Config, failure.ScopeAccount, "password missing")}, NeedsAttention, CausePassword, "password missing for alice on old.example"},
		{"paused", paused, fmt.Errorf("copy: %w", context.Canceled), Waiting, CauseInterrupted, "paused: resumes where it stopped"},
		{"stopped", stopped, context.Canceled, Waiting, CauseInterrupted, "stopped before the end: resumes where it stopped"},
		{"other", bg, errors.New("something odd"), Failed, CauseOther, "something odd"},
	} {
		st, cause, reason := classify(tc.ctx, tc.err, it, plan)
		if st != tc.status || cause != tc.cause || reason != tc.reason {
			t.Errorf("classify(%s) = %s, %s, %q; want %s, %s, %q", tc.name, st, cause, reason, tc.status, tc.cause, tc.reason)
		}
	}
}

func TestServersCap(t *testing.T) {
	item := func(id, src, dst string) *Item {
		return &Item{ID: id, Source: Side{Host: src}, Target: Side{Host: dst}}
	}
	s := newServers(4, 1) // each mailbox: 1 on its source, 2 on its target
	a, b, c := item("a", "old", "new"), item("b", "old", "new"), item("c", "other", "elsewhere")
	if !s.take(a) || !s.take(b) {
		t.Fatalf("two mailboxes (4 on new) do not fit a cap of 4")
	}
	d := item("d", "old", "new")
	if s.take(d) {
		t.Errorf("a third mailbox on new fits a cap of 4")
	}
	if !s.take(c) {
		t.Errorf("a mailbox on other servers does not fit")
	}
	s.release(a)
	if !s.take(d) {
		t.Errorf("after a release, the waiting mailbox does not fit")
	}
	// A mailbox needing more than the cap runs alone.
	big := newServers(2, 3)
	if !big.take(a) || big.take(b) {
		t.Errorf("cap 2 with 3 connections per mailbox: want exactly one at a time")
	}
	same := newServers(3, 1)
	if !same.take(item("s", "one", "ONE")) || same.take(item("t", "one", "one")) {
		t.Errorf("a same-server pair holds 3 connections; want one at a time under a cap of 3")
	}
	if free := newServers(0, 5); !free.take(a) || !free.take(b) || !free.take(d) {
		t.Errorf("no cap refused a mailbox")
	}
}

// closedPort returns a loopback port nothing listens on.
func closedPort(t *testing.T) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	return port
}

// TestRunWithoutServers runs items that stop before copying: a missing
// password and a server that cannot be reached.
func TestRunWithoutServers(t *testing.T) {
	dir := t.TempDir()
	q, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	kc := secret.NewMemory()
	port := closedPort(t)
	in := fmt.Sprintf("127.0.0.1:%d;u1;pw-U1-src;127.0.0.1:%d;v1;pw-U1-dst\n127.0.0.1:%d;u2;pw-U2-src;127.0.0.1:%d;v2;pw-U2-dst\n127.0.0.1:%d;same;pw;127.0.0.1:%d;same;pw\n", port, port, port, port, port, port)
	rep, err := q.Import(context.Background(), strings.NewReader(in), kc)
	if err != nil || rep.Added != 2 || len(rep.Errors) != 1 || !strings.Contains(rep.Errors[0].Err, "same account") {
		t.Fatalf("Import = %+v, %v; want 2 pairs and the same-account row refused", rep, err)
	}
	kc.Delete(secret.AccountKey("u2", "127.0.0.1"))
	var mu sync.Mutex
	var events []Event
	var seen bytes.Buffer
	err = q.Run(context.Background(), RunOptions{Parallel: 3, Keychain: kc, OnEvent: func(e Event) {
		mu.Lock()
		defer mu.Unlock()
		events = append(events, e)
		fmt.Fprintf(&seen, "%+v\n", e)
	}})
	if err != nil {
		t.Fatalf("Run = %v", err)
	}
	items := q.Items()
	if items[0].Status != Failed || items[0].Cause != CauseConnection || !items[0].Retryable || !strings.HasPrefix(items[0].Reason, "connection to 127.0.0.1 failed") {
		t.Errorf("unreachable item = %s %s %q; want failed, retryable, connection", items[0].Status, items[0].Cause, items[0].Reason)
	}
	if items[1].Status != NeedsAttention || items[1].Reason != "password missing for u2 on 127.0.0.1" {
		t.Errorf("item without password = %s %q; want needs attention, password missing", items[1].Status, items[1].Reason)
	}
	if items[0].Runs != 1 || items[0].Finished.IsZero() {
		t.Errorf("item = %d runs, finished %v; want 1 run, finished", items[0].Runs, items[0].Finished)
	}
	if len(events) != 4 {
		t.Errorf("got %d events; want 4 status changes:\n%s", len(events), seen.String())
	}
	if strings.Contains(seen.String(), "pw-U") {
		t.Errorf("events reveal a password")
	}
	// Nothing is waiting: a second run returns at once.
	if err := q.Run(context.Background(), RunOptions{Keychain: kc}); err != nil {
		t.Errorf("second Run = %v", err)
	}
	if n, _ := q.RetryFailed(); n != 2 {
		t.Errorf("RetryFailed = %d; want 2", n)
	}
	var h, c bytes.Buffer
	if err := q.WriteReport(&h, &c); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "report.html"), h.Bytes(), 0o600)
	os.WriteFile(filepath.Join(dir, "report.csv"), c.Bytes(), 0o600)
	noSecrets(t, dir, []string{"pw-U1-src", "pw-U1-dst", "pw-U2-src", "pw-U2-dst"})
}

func TestRunNeedsKeychain(t *testing.T) {
	q, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if err := q.Run(context.Background(), RunOptions{}); failure.KindOf(err) != failure.Config {
		t.Errorf("Run without keychain = %v; want a config error", err)
	}
	q.Pause() // not running: nothing happens
	if err := q.Run(context.Background(), RunOptions{Keychain: secret.NewMemory()}); err != nil {
		t.Errorf("Run of an empty queue after Pause = %v; want nil", err)
	}
}

func TestLockDir(t *testing.T) {
	dir := t.TempDir()
	unlock, err := lockDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := lockDir(dir); err == nil {
		t.Skip("no exclusive lock on this system")
	}
	unlock()
	unlock2, err := lockDir(dir)
	if err != nil {
		t.Fatalf("lockDir after unlock = %v", err)
	}
	unlock2()
}

func TestOpenDamaged(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, QueueFile), []byte("{not json"), 0o600)
	if _, err := Open(dir); failure.KindOf(err) != failure.Malformed {
		t.Errorf("Open(damaged) = %v; want a malformed error", err)
	}
}

func TestReport(t *testing.T) {
	q, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := q.Import(context.Background(), strings.NewReader("old;=cmd;pw-1234;new;u;pw-5678\nold;v;pw-1234;new;v;pw-5678\n"), secret.NewMemory()); err != nil {
		t.Fatal(err)
	}
	q.update("1", true, func(x *Item) {
		x.Status, x.Reason = DoneWithProblems, "1 message or folder not copied"
		x.Counts = Counts{Messages: 10, Copied: 9, Skipped: 1, Verified: true, SourceMessages: 10, TargetMessages: 9, Missing: 1}
		x.Skipped = []Skipped{{Folder: "INBOX", Subject: "<script>alert(1)</script>", Kind: failure.TooBig, Reason: "too big"}}
	})
	var h, c bytes.Buffer
	if err := q.WriteReport(&h, &c); err != nil {
		t.Fatal(err)
	}
	html := h.String()
	for _, want := range []string{"done with problems", "1 message or folder not copied", "&lt;script&gt;alert(1)&lt;/script&gt;", "too big"} {
		if !strings.Contains(html, want) {
			t.Errorf("HTML report lacks %q", want)
		}
	}
	if strings.Contains(html, "<script>") || strings.Contains(html, "http") && !strings.Contains(html, "<html") {
		t.Errorf("HTML report holds a script or an outside resource")
	}
	recs, err := csv.NewReader(&c).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 3 || len(recs[0]) != len(reportColumns) {
		t.Fatalf("CSV report = %d rows of %d columns; want 3 of %d", len(recs), len(recs[0]), len(reportColumns))
	}
	col := map[string]int{}
	for i, n := range recs[0] {
		col[n] = i
	}
	r := recs[1]
	if r[col["status"]] != "done-with-problems" || r[col["source_messages"]] != "10" || r[col["target_messages"]] != "9" || r[col["skipped"]] != "1" || r[col["source_username"]] != "'=cmd" {
		t.Errorf("CSV row = %q; want status, counts per side, skipped, and a defused formula", r)
	}
	if recs[2][col["source_messages"]] != "" {
		t.Errorf("unverified row shows source messages %q; want empty", recs[2][col["source_messages"]])
	}
	if strings.Contains(html+c.String(), "pw-1234") || strings.Contains(html+c.String(), "pw-5678") {
		t.Errorf("a report holds a password")
	}
}
