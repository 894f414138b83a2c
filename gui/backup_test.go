package gui

import (
	"io/fs"
	"path/filepath"
	"strings"
	"testing"

	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"mailmover/core/demo"
)

// TestBackupDemo backs up the demo's old mailbox into a folder and reads
// the verdict.
func TestBackupDemo(t *testing.T) {
	ui, q := newTestUI(t, Deps{})
	startDemo(t, ui, q)
	test.Tap(ui.start.backup)
	if ui.step != stepBackup {
		t.Fatalf("Back up a mailbox shows step %v; want the backup", ui.step)
	}
	b := ui.backup
	if b.form.host.Text != "127.0.0.1" || b.form.password.Text == "" {
		t.Fatalf("account not filled from the demo: host %q", b.form.host.Text)
	}

	test.Tap(b.run)
	if !b.errView.box.Visible() || b.running {
		t.Error("Back up without a folder does not say what is missing")
	}

	dir := filepath.Join(t.TempDir(), "backup")
	b.dir.SetText(dir)
	test.Tap(b.run)
	if !b.running || !b.run.Disabled() {
		t.Fatalf("after Back up: running %v, button enabled %v", b.running, !b.run.Disabled())
	}
	q.pumpUntil(t, "the backup to end", func() bool { return !b.running })
	if b.errView.box.Visible() {
		t.Fatalf("backup failed: %q %q", b.errView.title.Text, b.errView.raw)
	}
	if b.verification == nil || !b.verification.OK() {
		t.Fatalf("verification = %+v; want everything there", b.verification)
	}
	if got, want := b.progress.verdict.Text, "Backup complete: every message is in the folder."; got != want {
		t.Errorf("verdict = %q; want %q", got, want)
	}
	if b.progress.msgBar.Value != b.progress.msgBar.Max {
		t.Errorf("progress = %v/%v; want 100%%", b.progress.msgBar.Value, b.progress.msgBar.Max)
	}
	if !b.open.Visible() {
		t.Error("Open folder is not offered at the end")
	}
	if !b.davNote.Visible() || !strings.HasPrefix(b.davNote.Text, "Also saved") {
		t.Errorf("contacts and calendars note = %q (visible %v); want them saved", b.davNote.Text, b.davNote.Visible())
	}
	for ext, want := range map[string]int{".vcf": len(demo.SourceAddressBooks()), ".ics": len(demo.SourceCalendars())} {
		files, _ := filepath.Glob(filepath.Join(dir, davBackupDir, "*"+ext))
		if len(files) != want {
			t.Errorf("backup holds %d %s files %q; want %d", len(files), ext, files, want)
		}
	}
	var mboxes []string
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(p, ".mbox") {
			mboxes = append(mboxes, p)
		}
		return nil
	})
	if len(mboxes) == 0 {
		t.Errorf("no mbox file in %s", dir)
	}

	// The backup read back as local archives.
	ui.show(stepArchives)
	a := ui.archives
	a.kind.SetSelectedIndex(archiveMbox)
	a.path.SetText(dir)
	test.Tap(a.scan)
	q.pumpUntil(t, "the backup's folders", func() bool { return !a.busy })
	total := 0
	for _, r := range a.rows {
		total += r.messages
	}
	if a.errView.box.Visible() || total != ui.demo.Messages {
		t.Errorf("backup read as archives: %d messages in %d folders (%q); want %d", total, len(a.rows), a.errView.raw, ui.demo.Messages)
	}

	ui.leaveDemo()
	ui.show(stepBackup)
	if b.form.host.Text != "" {
		t.Errorf("the demo's account stays after the demo: host %q", b.form.host.Text)
	}
}

// TestCloseDuringBackup asks before closing the window while a backup runs,
// then stops it and closes.
func TestCloseDuringBackup(t *testing.T) {
	ui, q := newTestUI(t, Deps{})
	startDemo(t, ui, q)
	test.Tap(ui.start.backup)
	b := ui.backup
	b.form.dialer = slowDialer(150_000)
	b.dir.SetText(filepath.Join(t.TempDir(), "backup"))
	test.Tap(b.run)
	q.pumpUntil(t, "some progress", func() bool { return b.progress.progress.DoneMessages > 0 || !b.running })
	if !b.running {
		t.Fatal("the backup ended before the window could be closed")
	}
	ui.onClose()
	if ui.closeDialog == nil || !ui.closeDialog.Visible() || ui.ctx.Err() != nil {
		t.Fatal("closing during a backup did not ask first")
	}
	test.Tap(ui.closeDialog.buttons.Objects[1].(*widget.Button))
	q.pumpUntil(t, "the window to close", func() bool { return ui.ctx.Err() != nil })
	if b.running {
		t.Error("the window closed while the backup ran")
	}
}
