package gui

import (
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"testing"

	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/theme"

	"mailmover/core/failure"
	"mailmover/core/sieve"
	"mailmover/core/sieve/managesieve"
	"mailmover/core/sieve/sievetest"
)

// notesTheme gives the window the default theme: the notes show code in
// bold headings, a font the test driver's theme lacks.
func notesTheme(ui *UI) {
	ui.app.Settings().SetTheme(theme.DefaultTheme())
}

// TestArchivesSieve reads a Thunderbird profile's filters, saves their
// Sieve scripts, and installs them on a real Dovecot with Pigeonhole
// where the new account already has its own active script: first without
// activating them, then activated.
func TestArchivesSieve(t *testing.T) {
	d := sievetest.Start(t, "bob")
	ctx := t.Context()
	sign := func() *managesieve.Client {
		t.Helper()
		c, err := managesieve.Dial(ctx, d.Addr, managesieve.Options{TLSConfig: d.TLSConfig()})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		if err := c.Authenticate(ctx, "bob", sievetest.Password("bob")); err != nil {
			t.Fatal(err)
		}
		return c
	}
	mine := "require [\"fileinto\"];\nif header :contains \"subject\" \"zzz\" { fileinto \"Z\"; }\n"
	c := sign()
	if _, err := c.PutScript(ctx, "roundcube", mine); err != nil {
		t.Fatal(err)
	}
	if err := c.SetActive(ctx, "roundcube"); err != nil {
		t.Fatal(err)
	}
	scripts := func() []string {
		t.Helper()
		list, err := c.ListScripts(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, s := range list {
			n := s.Name
			if s.Active {
				n += " (active)"
			}
			out = append(out, n)
		}
		sort.Strings(out)
		return out
	}

	ui, q := newTestUI(t, Deps{})
	notesTheme(ui)
	s := ui.archives
	ui.show(stepArchives)
	if !s.saveScripts.Disabled() || !s.install.Disabled() {
		t.Error("Save Sieve scripts or Install can be chosen before the filters were read")
	}
	if s.activate.Checked {
		t.Error("Activate them is ticked by default")
	}
	readTestFilters(t, s, q)
	if !strings.Contains(s.notesView.String(), "Sieve script on the new server: alice@example.com") {
		t.Errorf("notes preview does not name the script: %q", s.notesView.String())
	}
	if s.saveScripts.Disabled() || s.install.Disabled() {
		t.Fatal("Save Sieve scripts or Install stays disabled after reading the filters")
	}

	// Save: the scripts next to the notes.
	out := filepath.Join(t.TempDir(), "filters")
	s.saveScriptsTo(out)
	q.pumpUntil(t, "the scripts to be saved", func() bool { return !s.sieveBusy })
	if s.notesError.box.Visible() {
		t.Fatalf("saving failed: %q %q", s.notesError.title.Text, s.notesError.raw)
	}
	if want := "Saved 3 Sieve scripts and the notes in " + out + "."; s.sieveResult.Text != want {
		t.Errorf("after saving, the window says %q; want %q", s.sieveResult.Text, want)
	}
	for _, name := range []string{"alice@example.com.sieve", "alice@pop.example.net.sieve", "Local-Folders.sieve", "filter-notes.md", "filter-notes.html"} {
		b, err := os.ReadFile(filepath.Join(out, name))
		if err != nil {
			t.Errorf("%s not saved: %v", name, err)
			continue
		}
		if strings.HasSuffix(name, ".sieve") {
			if err := sieve.Check(string(b)); err != nil {
				t.Errorf("%s: %v", name, err)
			}
		}
	}

	// Install without the new mailbox: the window says what is missing.
	test.Tap(s.install)
	if !s.notesError.box.Visible() || !strings.Contains(s.notesError.text.Text, "Mail tab") {
		t.Errorf("Install without a new mailbox shows %q", s.notesError.text.Text)
	}

	f := s.target
	f.host.SetText("127.0.0.1")
	f.security.SetSelectedIndex(1) // STARTTLS
	f.port.SetText("143")
	f.username.SetText("bob")
	f.password.SetText("wrong")
	f.trustedPEM = d.CAPEM
	s.sievePort.SetText("0")
	test.Tap(s.install)
	if !strings.Contains(s.notesError.text.Text, "ManageSieve port") {
		t.Errorf("Install with port 0 shows %q", s.notesError.text.Text)
	}
	s.sievePort.SetText(strconv.Itoa(d.Port))

	install := func(what string) {
		t.Helper()
		test.Tap(s.install)
		q.pumpUntil(t, what, func() bool { return !s.sieveBusy })
	}
	install("a refused sign-in")
	if !s.notesError.box.Visible() || s.notesError.title.Text != adviceFor(failure.Auth).Title {
		t.Errorf("a wrong password shows %q / %q", s.notesError.title.Text, s.notesError.raw)
	}
	if strings.Contains(s.notesError.raw, "wrong") && !strings.Contains(s.notesError.raw, "bob") {
		t.Errorf("the error shows the password: %q", s.notesError.raw)
	}
	if got, want := scripts(), []string{"roundcube (active)"}; !reflect.DeepEqual(got, want) {
		t.Errorf("after a refused sign-in the server has %q; want %q", got, want)
	}

	f.password.SetText(sievetest.Password("bob"))
	install("the installation")
	if s.notesError.box.Visible() {
		t.Fatalf("install failed: %q %q", s.notesError.title.Text, s.notesError.raw)
	}
	server := "bob on " + d.Addr
	for _, want := range []string{
		"Installed on " + server + ": mailmover-alice@example.com, mailmover-alice@pop.example.net, mailmover-Local-Folders.",
		"Not active: these filters do not run yet.",
	} {
		if !strings.Contains(s.sieveResult.Text, want) {
			t.Errorf("after installing, the window says %q; want %q in it", s.sieveResult.Text, want)
		}
	}
	want := []string{"mailmover-Local-Folders", "mailmover-alice@example.com", "mailmover-alice@pop.example.net", "roundcube (active)"}
	if got := scripts(); !reflect.DeepEqual(got, want) {
		t.Errorf("after installing, the server has %q; want %q", got, want)
	}
	if !strings.Contains(s.notesView.String(), "Sieve script on the new server: mailmover-alice@example.com") {
		t.Errorf("notes preview does not name the installed script: %q", s.notesView.String())
	}

	test.Tap(s.activate)
	install("the activation")
	if s.notesError.box.Visible() {
		t.Fatalf("activation failed: %q %q", s.notesError.title.Text, s.notesError.raw)
	}
	for _, want := range []string{
		"Installed on " + server + ": mailmover.",
		"Already there, unchanged: mailmover-alice@example.com, mailmover-alice@pop.example.net, mailmover-Local-Folders.",
		"Active: mailmover. The new server runs these filters on new mail. It also runs roundcube, the script that was active before.",
	} {
		if !strings.Contains(s.sieveResult.Text, want) {
			t.Errorf("after activating, the window says %q; want %q in it", s.sieveResult.Text, want)
		}
	}
	want = []string{"mailmover (active)", "mailmover-Local-Folders", "mailmover-alice@example.com", "mailmover-alice@pop.example.net", "roundcube"}
	if got := scripts(); !reflect.DeepEqual(got, want) {
		t.Errorf("after activating, the server has %q; want %q", got, want)
	}
	if got, err := c.GetScript(ctx, "roundcube"); err != nil || strings.ReplaceAll(got, "\r\n", "\n") != mine {
		t.Errorf("the new account's own script changed: %q, %v", got, err)
	}

	// Saving after the installation writes the notes naming the installed scripts.
	out2 := t.TempDir()
	s.saveScriptsTo(out2)
	q.pumpUntil(t, "the scripts to be saved again", func() bool { return !s.sieveBusy })
	md, err := os.ReadFile(filepath.Join(out2, "filter-notes.md"))
	if err != nil || !strings.Contains(string(md), "`mailmover-alice@example.com`") {
		t.Errorf("saved notes do not name the installed script: %v", err)
	}
}
