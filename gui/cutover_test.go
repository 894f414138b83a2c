package gui

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"fyne.io/fyne/v2/test"

	"mailmover/core/copier"
	"mailmover/core/cutover"
	"mailmover/core/dnscheck"
	"mailmover/core/dnscheck/dnstest"
)

// TestCutoverChecklist shows the checklist before and after a migration,
// marks a step and saves the report.
func TestCutoverChecklist(t *testing.T) {
	ui, q := newTestUI(t, Deps{})
	test.Tap(ui.start.cutover)
	if ui.step != stepCutover {
		t.Fatalf("Switch over shows step %v; want the switch-over", ui.step)
	}
	c := ui.cutover
	if !strings.HasPrefix(c.pairNote.Text, "No migration was done yet") {
		t.Errorf("without a migration the note says %q", c.pairNote.Text)
	}
	if len(c.stepsBox.Objects) != len(cutover.Steps()) {
		t.Errorf("checklist has %d steps; want %d", len(c.stepsBox.Objects), len(cutover.Steps()))
	}
	if !c.stepMarks[cutover.LowerTTL].Disabled() {
		t.Error("a step can be marked without a migration")
	}

	// As after a migration of the demo.
	startDemo(t, ui, q)
	ui.migrate.src, ui.migrate.dst = ui.demo.Source, ui.demo.Target
	ui.show(stepCutover)
	if !strings.Contains(c.pairNote.Text, ui.demo.Target.Username) {
		t.Errorf("pair note = %q", c.pairNote.Text)
	}
	want := copier.PairDir(ui.stateDir(), copier.IMAP(ui.demo.Source), copier.IMAP(ui.demo.Target))
	if c.pairDir != want {
		t.Errorf("pair folder = %q; want %q", c.pairDir, want)
	}
	test.Tap(c.stepMarks[cutover.LowerTTL])
	q.pumpUntil(t, "the step to be marked", func() bool {
		_, ok := c.done[cutover.LowerTTL]
		return ok || c.errView.box.Visible()
	})
	if c.errView.box.Visible() {
		t.Fatalf("mark failed: %q", c.errView.raw)
	}
	if !containsText(labels(c.stepsBox), "Lower the MX TTL") {
		t.Errorf("checklist labels = %q", labels(c.stepsBox))
	}

	path := filepath.Join(t.TempDir(), "report.html")
	c.saveReportTo(path)
	if c.errView.box.Visible() {
		t.Fatalf("save report failed: %q", c.errView.raw)
	}
	if data, err := os.ReadFile(path); err != nil || !strings.Contains(string(data), "<html") {
		t.Errorf("report = %.80q, %v; want an HTML page", data, err)
	}
}

// TestCutoverDNS checks a domain against a local DNS server and shows each
// check with its marker and fix.
func TestCutoverDNS(t *testing.T) {
	addr := dnstest.Serve(t, dnstest.Zone{Records: []string{
		"good.test. 300 IN MX 10 mx1.newhost.test.",
		"mx1.newhost.test. 300 IN A 192.0.2.20",
		"mail.newhost.test. 300 IN A 192.0.2.20",
		`good.test. 300 IN TXT "v=spf1 ip4:192.0.2.20 -all"`,
	}})
	ui, q := newTestUI(t, Deps{})
	c := ui.cutover
	c.resolver = dnscheck.NewResolver(addr)
	ui.show(stepCutover)
	test.Tap(c.checkDNS)
	if !c.errView.box.Visible() {
		t.Error("Check DNS without a domain does not say what is missing")
	}
	c.domain.SetText("good.test")
	c.server.SetText("mail.newhost.test")
	test.Tap(c.checkDNS)
	q.pumpUntil(t, "the DNS checks", func() bool { return len(c.checks) > 0 || c.errView.box.Visible() })
	if len(c.checks) == 0 {
		t.Fatalf("DNS check failed: %q", c.errView.raw)
	}
	byName := map[string]dnscheck.Check{}
	for _, ch := range c.checks {
		byName[ch.Name] = ch
	}
	if byName["MX"].Status != dnscheck.OK {
		t.Errorf("MX = %v (%s); want ok", byName["MX"].Status, byName["MX"].Summary)
	}
	if byName["DMARC"].Status == dnscheck.OK || byName["DMARC"].Fix == "" {
		t.Errorf("DMARC = %+v; want a problem with its fix", byName["DMARC"])
	}
	shown := labels(c.checkBox)
	if len(c.checkBox.Objects) != len(c.checks) || !containsText(shown, "MX") || !containsText(shown, "To do: "+byName["DMARC"].Fix) {
		t.Errorf("checks shown = %q", shown)
	}
}
