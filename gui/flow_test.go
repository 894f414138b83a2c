package gui

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"mailmover/core/account"
	"mailmover/core/demo"
	"mailmover/core/imapstore"
	"mailmover/core/state"
)

// TestDemoMigration runs the whole demo as a newcomer would: try the demo,
// review the plan, copy, and read the verdict.
func TestDemoMigration(t *testing.T) {
	ui, q := newTestUI(t, Deps{})
	startDemo(t, ui, q)
	if !ui.banner.Visible() {
		t.Error("the demo banner is hidden during the demo")
	}
	if got := ui.accounts.source.email.Text; got == "" || ui.accounts.source.host.Text != "127.0.0.1" {
		t.Errorf("source not filled from the demo: email %q host %q", got, ui.accounts.source.host.Text)
	}
	if ui.accounts.source.remember.Checked || !ui.accounts.source.remember.Disabled() {
		t.Error("remember in keychain is offered for a demo account")
	}

	reviewPlan(t, ui, q)
	plan := ui.plan.plan
	if plan.Messages != ui.demo.Messages {
		t.Errorf("plan has %d messages; want %d", plan.Messages, ui.demo.Messages)
	}
	want := "Copy " + formatMessages(plan.Messages) + " (" + formatBytes(plan.Bytes) + ")"
	if ui.plan.copy.Text != want || ui.plan.copy.Disabled() {
		t.Errorf("primary button = %q (disabled %v); want %q enabled", ui.plan.copy.Text, ui.plan.copy.Disabled(), want)
	}
	if !strings.Contains(ui.plan.summary.Text, "created") || !strings.Contains(ui.plan.summary.Text, "merged") {
		t.Errorf("summary = %q; want folders created and merged", ui.plan.summary.Text)
	}

	// Contacts and calendars are found next to the mail.
	q.pumpUntil(t, "contacts and calendars", func() bool { return ui.plan.dav != nil && ui.plan.dav.ready() && ui.plan.davBusy.Hidden })
	if got := len(ui.plan.davRows.Objects); got != len(demo.SourceAddressBooks())+len(demo.SourceCalendars()) || !ui.plan.davCheck.Visible() || !ui.plan.davCheck.Checked {
		t.Errorf("plan shows %d DAV rows %q, check visible %v; want one per collection, checked", got, labels(ui.plan.davRows), ui.plan.davCheck.Visible())
	}
	if !containsText(labels(ui.plan.davRows), "Address book “Contacts” (25 contacts) to “Contacts”, merged into existing") {
		t.Errorf("plan DAV rows = %q", labels(ui.plan.davRows))
	}

	test.Tap(ui.plan.copy)
	if ui.step != stepMigrate || !ui.migrate.running {
		t.Fatalf("after Copy: step %v, running %v; want the copy screen, running", ui.step, ui.migrate.running)
	}
	q.pumpUntil(t, "the result", func() bool { return ui.step == stepDone || !ui.migrate.running })
	if ui.step != stepDone {
		t.Fatalf("the copy ended on step %v: %q %q", ui.step, ui.migrate.title.Text, ui.migrate.errView.raw)
	}
	m := ui.migrate
	if m.msgBar.Value != m.msgBar.Max || m.byteBar.Value != m.byteBar.Max {
		t.Errorf("progress = %v/%v messages, %v/%v bytes; want 100%%", m.msgBar.Value, m.msgBar.Max, m.byteBar.Value, m.byteBar.Max)
	}
	if m.msgText != formatCount(plan.Messages)+" of "+formatMessages(plan.Messages) {
		t.Errorf("message counter = %q", m.msgText)
	}
	for _, r := range m.rows {
		if r.state != folderDone {
			t.Errorf("folder %q ended in state %v; want done", r.name, r.state)
		}
		if r.done != r.messages {
			t.Errorf("folder %q counted %d of %d messages; want all", r.name, r.done, r.messages)
		}
	}
	d := ui.done
	if d.title.Text != "Everything arrived" {
		t.Errorf("verdict = %q; want %q", d.title.Text, "Everything arrived")
	}
	if d.verified == nil || !d.verified.OK() || len(d.verified.Folders) != len(plan.Included()) {
		t.Errorf("verification = %+v; want OK for %d folders", d.verified, len(plan.Included()))
	}
	if d.show.Visible() {
		t.Error("Show missing is offered though nothing is missing")
	}
	if !d.davBox.Visible() || d.davMissing != 0 || !containsText(labels(d.davRows), "Calendar “Personal”: all") {
		t.Errorf("result DAV: shown %v, missing %d, rows %q; want every collection checked", d.davBox.Visible(), d.davMissing, labels(d.davRows))
	}
	var journal []string
	for _, l := range m.journal {
		journal = append(journal, l.text)
	}
	if !containsText(journal, "Address book “Family”: 4 copied") {
		t.Errorf("journal = %q; want the address book copied", journal)
	}
	if !d.demoNote.Visible() {
		t.Error("the result does not say it was the demo")
	}

	// The report of this run, and the switch-over checklist it fed.
	test.Tap(d.journal)
	r := ui.report
	q.pumpUntil(t, "the report", func() bool { return ui.step == stepReport && r.loading.Hidden })
	if r.errView.box.Visible() || len(r.report.Accounts) != 1 {
		t.Fatalf("report: error %q, %d pairs; want 1 pair", r.errView.raw, r.pairCount())
	}
	a := r.pair()
	if a == nil || !a.Complete || len(a.Folders) != len(plan.Included()) {
		t.Fatalf("report pair = %+v; want complete with %d folders", a, len(plan.Included()))
	}
	if !strings.HasPrefix(r.verdict.Text, "Checked") || r.verdict.Importance != widget.SuccessImportance {
		t.Errorf("report verdict = %q", r.verdict.Text)
	}
	var steps []string
	for _, s := range a.Steps {
		steps = append(steps, s.What)
	}
	for _, want := range []string{"Copy started", "Verified", "Initial copy"} {
		if !slices.Contains(steps, want) {
			t.Errorf("report steps = %q; want %q among them", steps, want)
		}
	}
	for _, format := range []string{"html", "csv"} {
		path := filepath.Join(t.TempDir(), "report."+format)
		r.saveTo(path, format)
		data, err := os.ReadFile(path)
		if err != nil || !strings.Contains(string(data), "INBOX") {
			t.Errorf("saved %s report = %.80q, %v; want INBOX in it", format, data, err)
		}
	}
	test.Tap(r.back)
	if ui.step != stepDone {
		t.Errorf("Back from the report went to step %v; want the result", ui.step)
	}

	// Run again: nothing new, everything found already there.
	test.Tap(d.again)
	q.pumpUntil(t, "the second result", func() bool { return ui.step == stepDone && !ui.migrate.running && d.busy.Hidden })
	if ui.migrate.result == nil || ui.migrate.result.Progress.Copied != 0 {
		t.Errorf("second run copied %+v; want nothing", ui.migrate.result)
	}
	if d.title.Text != "Everything arrived" {
		t.Errorf("second verdict = %q", d.title.Text)
	}

	test.Tap(ui.leave)
	if ui.step != stepStart || ui.banner.Visible() || ui.demo != nil {
		t.Errorf("after leaving the demo: step %v, banner %v, demo %v", ui.step, ui.banner.Visible(), ui.demo)
	}
	if ui.accounts.source.host.Text != "" {
		t.Errorf("the demo's server %q is left in the form", ui.accounts.source.host.Text)
	}
}

// TestReportEmpty shows the report screen before any migration.
func TestReportEmpty(t *testing.T) {
	ui, q := newTestUI(t, Deps{})
	test.Tap(ui.start.reports)
	r := ui.report
	q.pumpUntil(t, "the report", func() bool { return ui.step == stepReport && r.loading.Hidden })
	if r.errView.box.Visible() {
		t.Fatalf("an empty state folder is an error: %q", r.errView.raw)
	}
	if !r.empty.Visible() || !r.saveHTML.Disabled() || !r.saveCSV.Disabled() {
		t.Errorf("empty report: note shown %v, save enabled %v; want the note and no save", r.empty.Visible(), !r.saveHTML.Disabled())
	}
	test.Tap(r.back)
	if ui.step != stepStart {
		t.Errorf("Back went to step %v; want the start", ui.step)
	}
}

// TestResumeUnfinished offers, at the start, to continue a copy that was
// stopped, and fills both accounts from the saved ones or the journal.
func TestResumeUnfinished(t *testing.T) {
	stateDir := t.TempDir()
	st, err := account.OpenStore(filepath.Join(t.TempDir(), "accounts.json"))
	if err != nil {
		t.Fatal(err)
	}
	saved := account.Account{Name: "ann@old.example", Email: "ann@old.example", Host: "imap.old.example", Port: 993, Security: account.SecurityTLS, Username: "ann@old.example", Auth: account.AuthPassword}
	if err := st.Put(saved); err != nil {
		t.Fatal(err)
	}
	d, err := state.Open(filepath.Join(stateDir, "pair"))
	if err != nil {
		t.Fatal(err)
	}
	d.Log(state.Record{Run: "1", Event: "run-start", Source: "ann@old.example on imap.old.example:993", Target: "ann on mail.new.example:143"})
	d.Log(state.Record{Run: "1", Event: "run-done", Error: "context canceled"})
	d.Close()

	ui, q := newTestUI(t, Deps{StateDir: stateDir, Accounts: st})
	s := ui.start
	q.pumpUntil(t, "the offer to continue", func() bool { return s.resumeBox.Visible() })
	if !strings.Contains(s.resumeText.Text, "ann@old.example on imap.old.example:993") || !strings.Contains(s.resumeText.Text, "stopped before the end") {
		t.Errorf("offer = %q", s.resumeText.Text)
	}
	test.Tap(s.resumeCopy)
	if ui.step != stepAccounts {
		t.Fatalf("Continue shows step %v; want the accounts", ui.step)
	}
	src, dst := ui.accounts.source, ui.accounts.target
	if src.email.Text != "ann@old.example" || src.host.Text != "imap.old.example" || src.port.Text != "993" {
		t.Errorf("source = %q %q:%q; want the saved account", src.email.Text, src.host.Text, src.port.Text)
	}
	if dst.username.Text != "ann" || dst.host.Text != "mail.new.example" || dst.port.Text != "143" || dst.selectedSecurity() != imapstore.StartTLS {
		t.Errorf("target = %q on %q:%q (%v); want the journal's account with STARTTLS", dst.username.Text, dst.host.Text, dst.port.Text, dst.selectedSecurity())
	}
}
