package batch

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2/imapclient"

	"mailmover/core/dovecottest"
	"mailmover/core/sample"
	"mailmover/core/secret"
)

// loadUser fills a Dovecot user's mailbox with a small corpus.
func loadUser(t *testing.T, s *dovecottest.Server, user, pw string, corpus *sample.Corpus) {
	t.Helper()
	c, err := imapclient.DialTLS(s.Addr(), &imapclient.Options{TLSConfig: s.TLSConfig()})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Login(user, pw).Wait(); err != nil {
		t.Fatal(err)
	}
	if err := sample.Load(context.Background(), c, corpus); err != nil {
		t.Fatal(err)
	}
}

// mailbox reads a user's Maildir on disk, without logging in: per folder,
// the sorted list of message content hashes with their flags, and the
// number of messages.
func mailbox(t *testing.T, s *dovecottest.Server, user string) (map[string][]string, int) {
	t.Helper()
	root := s.MailDir(user)
	out := map[string][]string{}
	total := 0
	err := filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		dir := filepath.Base(filepath.Dir(path))
		if dir != "cur" && dir != "new" {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		flags := ""
		if _, f, ok := strings.Cut(d.Name(), ":2,"); ok {
			flags = f
		}
		folder, _ := filepath.Rel(root, filepath.Dir(filepath.Dir(path)))
		if folder == "." {
			folder = "INBOX"
		}
		out[folder] = append(out[folder], fmt.Sprintf("%x %s", sha256.Sum256(b), flags))
		total++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range out {
		sort.Strings(l)
	}
	return out, total
}

// TestBatchDovecot migrates 20 mailbox pairs, 3 at a time, between two real
// Dovecot servers. One pair has a wrong source password and one a target
// quota too small. The batch is stopped mid-way, reopened from disk and
// resumed; then the wrong password is corrected and everything re-run.
func TestBatchDovecot(t *testing.T) {
	t.Parallel()
	const pairs = 20
	const perBox = 15
	const wrongPW, quotaUser = "u07", "u13"
	name := func(i int) string { return fmt.Sprintf("u%02d", i) }
	srcPW := func(u string) string { return "src-" + u + "-Secret!9" }
	dstPW := func(u string) string { return "dst-" + u + "-Secret!9" }
	var srcUsers, dstUsers []dovecottest.User
	for i := 1; i <= pairs; i++ {
		u := name(i)
		srcUsers = append(srcUsers, dovecottest.User{Name: u, Password: srcPW(u)})
		d := dovecottest.User{Name: u, Password: dstPW(u)}
		if u == quotaUser {
			d.QuotaBytes = 6 << 10
		}
		dstUsers = append(dstUsers, d)
	}
	dstUsers = append(dstUsers, dovecottest.User{Name: "bystander", Password: dstPW("bystander")})
	ss := dovecottest.Start(t, dovecottest.Options{Users: srcUsers})
	ds := dovecottest.Start(t, dovecottest.Options{Users: dstUsers})

	var wg sync.WaitGroup
	for i := 1; i <= pairs; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Two mailboxes have the full folder tree (special-use,
			// nested, non-ASCII names); the others one folder, to keep
			// the test short.
			opts := sample.Options{Seed: uint64(100 + i), Messages: perBox, FixedSize: 3 << 10}
			if i <= 2 {
				opts = sample.Options{Seed: uint64(100 + i), Messages: perBox, MaxAttachment: 2 << 10}
			}
			loadUser(t, ss, name(i), srcPW(name(i)), sample.New(opts))
		}()
	}
	wg.Wait()
	// Mail already on the target: a message in u05's INBOX and a bystander
	// the batch does not know.
	loadUser(t, ds, "u05", dstPW("u05"), sample.New(sample.Options{Seed: 999, Messages: 1, MaxAttachment: 1 << 10}))
	loadUser(t, ds, "bystander", dstPW("bystander"), sample.New(sample.Options{Seed: 998, Messages: 3, MaxAttachment: 1 << 10}))
	srcBefore := map[string]string{}
	for i := 1; i <= pairs; i++ {
		m, n := mailbox(t, ss, name(i))
		if n != perBox {
			t.Fatalf("source %s holds %d messages; want %d", name(i), n, perBox)
		}
		srcBefore[name(i)] = fmt.Sprint(m)
	}
	bystander, _ := mailbox(t, ds, "bystander")
	u05Before, _ := mailbox(t, ds, "u05")

	var list strings.Builder
	list.WriteString("source_email,source_host,source_port,source_security,source_username,source_password,target_email,target_host,target_port,target_security,target_username,target_password\n")
	for i := 1; i <= pairs; i++ {
		u := name(i)
		pw := srcPW(u)
		if u == wrongPW {
			pw = "wrong-Secret-77"
		}
		fmt.Fprintf(&list, "%s@old.example,127.0.0.1,%d,tls,%s,%q,%s@new.example,127.0.0.1,%d,tls,%s,%q\n", u, ss.TLSPort, u, pw, u, ds.TLSPort, u, dstPW(u))
	}
	passwords := []string{"wrong-Secret-77"}
	for i := 1; i <= pairs; i++ {
		passwords = append(passwords, srcPW(name(i)), dstPW(name(i)))
	}

	dir := t.TempDir()
	q, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	kc := secret.NewMemory()
	rep, err := q.Import(context.Background(), strings.NewReader(list.String()), kc)
	if err != nil || rep.Added != pairs || len(rep.Errors) != 0 {
		t.Fatalf("Import = %+v, %v; want %d pairs", rep, err, pairs)
	}

	var mu sync.Mutex
	var logs bytes.Buffer
	running, maxRunning, finished := 0, 0, 0
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	opts := RunOptions{Parallel: 3, PerServer: 9, Keychain: kc, SourceCAPEM: ss.CAPEM, TargetCAPEM: ds.CAPEM, Timeout: 20 * time.Second,
		OnEvent: func(e Event) {
			mu.Lock()
			defer mu.Unlock()
			fmt.Fprintf(&logs, "%s %s %s %s %q %+v %s\n", time.Now().Format("15:04:05.000"), e.Kind, e.Item.ID, e.Item.Status, e.Item.Reason, e.Item.Counts, e.Message)
			if e.Kind != EventStatus {
				return
			}
			if e.Item.Status == Running {
				running++
				maxRunning = max(maxRunning, running)
				return
			}
			running--
			if finished++; finished == 5 {
				cancel() // stop the batch mid-way
			}
		}}
	if err := q.Run(ctx, opts); !errors.Is(err, context.Canceled) {
		t.Fatalf("Run = %v; want it stopped by the cancel", err)
	}

	// Reopen from disk, as after a restart, and resume.
	q, err = Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	waiting := 0
	for _, it := range q.Items() {
		switch it.Status {
		case Running:
			t.Errorf("item %s is still running after the stop", it.ID)
		case Waiting:
			waiting++
		}
	}
	if waiting == 0 {
		t.Fatalf("nothing left waiting after the stop: %s", statuses(q.Items()))
	}
	t.Logf("stopped with %d of %d waiting", waiting, pairs)
	opts.OnEvent = func(e Event) {
		mu.Lock()
		defer mu.Unlock()
		fmt.Fprintf(&logs, "%s %s %s %s %q %+v %s\n", time.Now().Format("15:04:05.000"), e.Kind, e.Item.ID, e.Item.Status, e.Item.Reason, e.Item.Counts, e.Message)
		if e.Kind == EventStatus && e.Item.Status == Running {
			running++
			maxRunning = max(maxRunning, running)
		} else if e.Kind == EventStatus {
			running--
		}
	}
	running = 0
	ctx = context.Background()
	if err := q.Run(ctx, opts); err != nil {
		t.Fatalf("resumed Run = %v", err)
	}
	if maxRunning > 3 {
		t.Errorf("%d mailboxes ran at once; want at most 3", maxRunning)
	}

	check := func(stage string) {
		t.Helper()
		for _, it := range q.Items() {
			u := it.Source.Username
			switch u {
			case wrongPW:
				if it.Status != Failed || it.Cause != CauseLogin || it.Reason != "login refused for u07 on 127.0.0.1" {
					t.Errorf("%s: %s = %s %q; want failed, login refused for u07 on 127.0.0.1", stage, u, it.Status, it.Reason)
				}
			case quotaUser:
				if it.Status != NeedsAttention || it.Cause != CauseQuota || !strings.Contains(it.Reason, "the target mailbox u13 on 127.0.0.1 is full") {
					t.Errorf("%s: %s = %s %q; want needs attention, target full", stage, u, it.Status, it.Reason)
				}
			default:
				want := perBox
				if u == "u05" {
					want++
				}
				c := it.Counts
				if it.Status != Done || !c.Verified || c.SourceMessages != perBox || c.TargetMessages != want || c.Missing != 0 || c.Skipped != 0 {
					t.Errorf("%s: %s = %s %q %+v; want done, %d on the source, %d on the target", stage, u, it.Status, it.Reason, c, perBox, want)
				}
			}
		}
	}
	check("after resume")

	// Nothing duplicated, nothing else disturbed.
	for i := 1; i <= pairs; i++ {
		u := name(i)
		m, n := mailbox(t, ss, u)
		if fmt.Sprint(m) != srcBefore[u] {
			t.Errorf("source %s changed", u)
		}
		_, n = mailbox(t, ds, u)
		switch u {
		case wrongPW:
			if n != 0 {
				t.Errorf("target %s of the refused login holds %d messages; want 0", u, n)
			}
		case quotaUser:
			if n >= perBox {
				t.Errorf("target %s over quota holds %d messages; want fewer than %d", u, n, perBox)
			}
		case "u05":
			if n != perBox+1 {
				t.Errorf("target u05 holds %d messages; want %d exactly once each, plus its own", n, perBox+1)
			}
		default:
			if n != perBox {
				t.Errorf("target %s holds %d messages; want %d exactly once each", u, n, perBox)
			}
		}
	}
	if got, _ := mailbox(t, ds, "bystander"); fmt.Sprint(got) != fmt.Sprint(bystander) {
		t.Errorf("the bystander's mailbox changed")
	}
	u05After, _ := mailbox(t, ds, "u05")
	for f, ms := range u05Before {
		for _, m := range ms {
			if !slices.Contains(u05After[f], m) {
				t.Errorf("u05's own message %q in %s is gone or changed", m, f)
			}
		}
	}

	// The password is corrected and the failed pair runs again.
	if err := q.SetPassword("7", Source, srcPW(wrongPW), kc); err != nil {
		t.Fatal(err)
	}
	if it, _ := q.Item("7"); it.Status != Waiting {
		t.Fatalf("after SetPassword item 7 is %s; want waiting", it.Status)
	}
	if err := q.Run(ctx, opts); err != nil {
		t.Fatal(err)
	}
	if it, _ := q.Item("7"); it.Status != Done || it.Counts.Copied != perBox {
		t.Errorf("retried item 7 = %s %q, copied %d; want done, %d", it.Status, it.Reason, it.Counts.Copied, perBox)
	}

	// No password in the queue, the journals, the reports or the logs.
	reports := t.TempDir()
	hf, _ := os.Create(filepath.Join(reports, "report.html"))
	cf, _ := os.Create(filepath.Join(reports, "report.csv"))
	if err := q.WriteReport(hf, cf); err != nil {
		t.Fatal(err)
	}
	hf.Close()
	cf.Close()
	os.WriteFile(filepath.Join(reports, "events.log"), logs.Bytes(), 0o600)
	noSecrets(t, dir, passwords)
	noSecrets(t, reports, passwords)
	journals, _ := filepath.Glob(filepath.Join(dir, MailboxDir, "*", "journal.jsonl"))
	if len(journals) < pairs {
		t.Errorf("found %d journals; want one per pair that logged in", len(journals))
	}
	html, _ := os.ReadFile(filepath.Join(reports, "report.html"))
	if !strings.Contains(string(html), "u13") || !strings.Contains(string(html), "needs attention") {
		t.Errorf("the HTML report does not show the pair needing attention")
	}
}

// TestBatchRerunPause re-runs a finished batch for the final delta, pausing
// it on the way: only what is new is copied, and changed flags come over.
func TestBatchRerunPause(t *testing.T) {
	t.Parallel()
	const pairs = 4
	var users []dovecottest.User
	for i := 1; i <= pairs; i++ {
		users = append(users, dovecottest.User{Name: fmt.Sprintf("p%d", i), Password: fmt.Sprintf("Pw-%d-rerun", i)})
	}
	ss := dovecottest.Start(t, dovecottest.Options{Users: users})
	ds := dovecottest.Start(t, dovecottest.Options{Users: users})
	var list strings.Builder
	for i, u := range users {
		loadUser(t, ss, u.Name, u.Password, sample.New(sample.Options{Seed: uint64(i), Messages: 10, FixedSize: 2 << 10}))
		fmt.Fprintf(&list, "127.0.0.1:%d;%s;%s;127.0.0.1:%d;%s;%s\n", ss.TLSPort, u.Name, u.Password, ds.TLSPort, u.Name, u.Password)
	}
	dir := t.TempDir()
	q, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	kc := secret.NewMemory()
	if _, err := q.Import(context.Background(), strings.NewReader(list.String()), kc); err != nil {
		t.Fatal(err)
	}
	if pw, _ := kc.Get(secret.AccountKey("p1", fmt.Sprintf("127.0.0.1:%d", ds.TLSPort))); pw != "Pw-1-rerun" {
		t.Errorf("same user on two servers of one host: target password filed under %q; want it by port", pw)
	}
	opts := RunOptions{Parallel: 2, Keychain: kc, SourceCAPEM: ss.CAPEM, TargetCAPEM: ds.CAPEM}
	ctx := context.Background()
	if err := q.Run(ctx, opts); err != nil {
		t.Fatal(err)
	}
	if s := Summarize(q.Items()); !s.AllDone() || s.Copied != 10*pairs {
		t.Fatalf("first run = %+v; want all done, %d copied", s, 10*pairs)
	}

	// Mail arrives on the old server before the switch.
	loadUser(t, ss, "p2", "Pw-2-rerun", sample.New(sample.Options{Seed: 77, Messages: 3, FixedSize: 2 << 10}))

	if n, err := q.ResetAll(); n != pairs || err != nil {
		t.Fatalf("ResetAll = %d, %v; want %d", n, err, pairs)
	}
	var mu sync.Mutex
	ended := 0
	opts.OnEvent = func(e Event) {
		if e.Kind != EventStatus || !e.Item.Status.Final() {
			return
		}
		mu.Lock()
		ended++
		n := ended
		mu.Unlock()
		if n == 1 {
			q.Pause()
		}
	}
	if err := q.Run(ctx, opts); !errors.Is(err, ErrPaused) {
		t.Fatalf("paused Run = %v; want ErrPaused", err)
	}
	waiting := 0
	for _, it := range q.Items() {
		switch it.Status {
		case Running:
			t.Errorf("item %s still running after Pause", it.ID)
		case Waiting:
			waiting++
		}
	}
	if waiting == 0 {
		t.Errorf("nothing left waiting after Pause: %s", statuses(q.Items()))
	}
	opts.OnEvent = nil
	if err := q.Run(ctx, opts); err != nil {
		t.Fatal(err)
	}
	for _, it := range q.Items() {
		c := it.Counts
		want := 0
		if it.Source.Username == "p2" {
			want = 3
		}
		// The pause may have caught a mailbox after its copy: the last
		// run then copies nothing, but the total counts every run.
		if it.Status != Done || c.TargetMessages != 10+want || c.SourceMessages != 10+want || c.TotalCopied > 10+want || c.TotalCopied < 10 {
			t.Errorf("re-run of %s = %s %q, %d copied in all, %d/%d on source/target; want done, %d new", it.Source.Username, it.Status, it.Reason, c.TotalCopied, c.SourceMessages, c.TargetMessages, want)
		}
	}
	var pws []string
	for _, u := range users {
		pws = append(pws, u.Password)
	}
	noSecrets(t, dir, pws)
}
