package gui

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"

	"mailmover/core/batch"
	"mailmover/core/imaptest"
)

// TestBatchRun imports a list of two pairs of mailboxes and runs the
// queue to the end.
func TestBatchRun(t *testing.T) {
	ui, q := newTestUI(t, Deps{})
	var lines []string
	lines = append(lines, "source_email,source_host,source_port,source_security,source_username,source_password,target_email,target_host,target_port,target_security,target_username,target_password")
	// Two demo-like pairs on one test server: the demo's mailboxes all
	// have the same user name on 127.0.0.1, and a batch files passwords by
	// user and host.
	srv := imaptest.Start(t, imaptest.Options{})
	date := time.Date(2025, 1, 6, 10, 0, 0, 0, time.UTC)
	for i := range 2 {
		old, nw := "old"+strconv.Itoa(i)+"@example.com", "new"+strconv.Itoa(i)+"@example.com"
		srv.AddUser(old, "pw-"+old)
		srv.AddUser(nw, "pw-"+nw)
		for n := range 5 + i {
			msg := fmt.Sprintf("From: a@example.com\r\nTo: %s\r\nSubject: note %d\r\nMessage-ID: <%d.%d@example.com>\r\nDate: Mon, 06 Jan 2025 10:00:00 +0000\r\n\r\nHello %d.\r\n", old, n, i, n, n)
			if _, err := srv.Append(old, "INBOX", []byte(msg), []string{`\Seen`}, date); err != nil {
				t.Fatal(err)
			}
		}
		row := func(email string) string {
			return fmt.Sprintf("%s,%s,%d,none,%s,pw-%s", email, srv.Host, srv.Port, email, email)
		}
		lines = append(lines, row(old)+","+row(nw))
	}
	list := filepath.Join(t.TempDir(), "accounts.csv")
	if err := os.WriteFile(list, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}

	test.Tap(ui.start.several)
	if ui.step != stepBatch {
		t.Fatalf("Migrate several mailboxes shows step %v; want the batch", ui.step)
	}
	b := ui.batch
	if !b.start.Disabled() {
		t.Error("Start can be chosen before a list was imported")
	}
	b.dir.SetText(filepath.Join(t.TempDir(), "batch"))
	b.importFile(list)
	q.pumpUntil(t, "the import", func() bool { return b.queue != nil || b.errView.box.Visible() })
	if b.queue == nil {
		t.Fatalf("import failed: %q", b.errView.raw)
	}
	if len(b.items) != 2 {
		t.Fatalf("queue has %d mailboxes; want 2", len(b.items))
	}
	if !b.warn.Visible() {
		t.Error("no warning to delete the list")
	}
	if b.start.Disabled() {
		t.Fatal("Start cannot be chosen after the import")
	}

	test.Tap(b.start)
	if !b.running || b.pause.Disabled() {
		t.Fatalf("after Start: running %v, pause enabled %v", b.running, !b.pause.Disabled())
	}
	q.pumpUntil(t, "the batch to end", func() bool { return !b.running })
	if b.runErr != nil {
		t.Fatalf("Run = %v", b.runErr)
	}
	for _, it := range b.items {
		if it.Status != batch.Done {
			t.Errorf("%s ended %q (%s); want done", it.Name(), it.Status, it.Reason)
		}
		if it.Counts.Done != it.Counts.Messages || it.Counts.Messages == 0 {
			t.Errorf("%s: %d of %d messages", it.Name(), it.Counts.Done, it.Counts.Messages)
		}
	}
	if !strings.HasPrefix(b.summary.Text, "2 of 2 mailboxes done") {
		t.Errorf("summary = %q", b.summary.Text)
	}
	out := t.TempDir()
	b.saveReport(out)
	for _, name := range []string{"batch-report.html", "batch-report.csv"} {
		if _, err := os.Stat(filepath.Join(out, name)); err != nil {
			t.Errorf("report not saved: %v", err)
		}
	}
}
