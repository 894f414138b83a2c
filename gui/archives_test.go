package gui

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"fyne.io/fyne/v2/test"

	"mailmover/core/filters/filtertest"
)

// looseMbox is an mbox file of two messages.
const looseMbox = "From alice@example.com Mon Jan  6 10:00:00 2025\n" +
	"From: Alice <alice@example.com>\nTo: bob@example.com\nSubject: Old news\n" +
	"Date: Mon, 06 Jan 2025 10:00:00 +0000\nMessage-ID: <one@example.com>\n\nKept only here.\n\n" +
	"From bob@example.com Tue Jan  7 11:00:00 2025\n" +
	"From: Bob <bob@example.com>\nTo: alice@example.com\nSubject: Re: Old news\n" +
	"Date: Tue, 07 Jan 2025 11:00:00 +0000\nMessage-ID: <two@example.com>\n\nStill here.\n"

// TestArchivesUpload reads a loose mbox file, takes its inventory against
// the demo's new mailbox and uploads it.
func TestArchivesUpload(t *testing.T) {
	ui, q := newTestUI(t, Deps{})
	startDemo(t, ui, q)
	test.Tap(ui.start.archives)
	if ui.step != stepArchives {
		t.Fatalf("Bring local archives shows step %v; want the archives", ui.step)
	}
	s := ui.archives
	if s.target.host.Text != "127.0.0.1" {
		t.Fatalf("new mailbox not filled from the demo: host %q", s.target.host.Text)
	}
	if !s.upload.Disabled() || !s.inventory.Disabled() {
		t.Error("Upload or Inventory can be chosen before any folder was read")
	}
	path := filepath.Join(t.TempDir(), "old.mbox")
	if err := os.WriteFile(path, []byte(looseMbox), 0o600); err != nil {
		t.Fatal(err)
	}
	s.kind.SetSelectedIndex(archiveMbox)
	s.path.SetText(path)
	test.Tap(s.scan)
	q.pumpUntil(t, "the folders", func() bool { return len(s.rows) > 0 || s.errView.box.Visible() })
	if len(s.rows) != 1 || s.rows[0].messages != 2 {
		t.Fatalf("rows = %+v; want one folder of 2 messages (%q)", s.rows, s.errView.raw)
	}
	if !containsText(labels(s.list), "2 messages") || !strings.Contains(s.found.Text, "2 messages") {
		t.Errorf("the folder's count is not shown: %q / %q", labels(s.list), s.found.Text)
	}

	test.Tap(s.inventory)
	q.pumpUntil(t, "the inventory", func() bool { return !s.busy })
	if s.errView.box.Visible() {
		t.Fatalf("inventory failed: %q", s.errView.raw)
	}
	if r := s.rows[0]; r.only != 2 || r.there != 0 {
		t.Errorf("inventory = %d only here, %d there; want 2, 0", r.only, r.there)
	}
	if !containsText(labels(s.list), "2 only on this disk") {
		t.Errorf("inventory not shown: %q", labels(s.list))
	}

	test.Tap(s.upload)
	q.pumpUntil(t, "the upload", func() bool { return !s.busy })
	if s.errView.box.Visible() {
		t.Fatalf("upload failed: %q %q", s.errView.title.Text, s.errView.raw)
	}
	if !strings.HasPrefix(s.progress.verdict.Text, "Uploaded") {
		t.Errorf("verdict = %q; want uploaded", s.progress.verdict.Text)
	}

	test.Tap(s.inventory)
	q.pumpUntil(t, "the second inventory", func() bool { return !s.busy })
	if r := s.rows[0]; r.only != 0 || r.there != 2 {
		t.Errorf("inventory after upload = %d only here, %d there; want 0, 2", r.only, r.there)
	}
}

// TestArchivesFilters previews the filter notes of a Thunderbird profile
// and saves them.
func TestArchivesFilters(t *testing.T) {
	ui, q := newTestUI(t, Deps{})
	notesTheme(ui)
	s := ui.archives
	ui.show(stepArchives)
	test.Tap(s.readNotes)
	if !s.notesError.box.Visible() {
		t.Error("Read the filters without a profile does not say what is missing")
	}
	readTestFilters(t, s, q)
	if !strings.Contains(s.notesView.String(), "alice@example.com") {
		t.Errorf("notes preview lacks the rule: %q", s.notesView.String())
	}
	out := filepath.Join(t.TempDir(), "notes")
	s.saveNotesTo(out)
	for _, name := range []string{"filter-notes.html", "filter-notes.md"} {
		if _, err := os.Stat(filepath.Join(out, name)); err != nil {
			t.Errorf("notes not saved: %v", err)
		}
	}
}

// readTestFilters reads the filters of the test Thunderbird profile on the
// Filters tab, as a user would, and waits for the notes.
func readTestFilters(t *testing.T, s *archivesScreen, q *uiQueue) {
	t.Helper()
	profile := t.TempDir()
	if err := filtertest.WriteThunderbirdProfile(profile); err != nil {
		t.Fatal(err)
	}
	s.kind.SetSelectedIndex(archiveThunderbird)
	s.path.SetText(profile)
	test.Tap(s.readNotes)
	q.pumpUntil(t, "the notes", func() bool { return s.notes != nil || s.notesError.box.Visible() })
	if s.notes == nil {
		t.Fatalf("no notes: %q %q", s.notesError.title.Text, s.notesError.raw)
	}
}
