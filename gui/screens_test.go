package gui

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"
	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"
	"github.com/emersion/go-imap/v2/imapserver/imapmemserver"

	"mailmover/core/account"
	"mailmover/core/copier"
	"mailmover/core/demo"
	"mailmover/core/failure"
	"mailmover/core/imapstore"
	"mailmover/core/secret"
	"mailmover/core/store"
)

func TestStartScreen(t *testing.T) {
	ui, q := newTestUI(t, Deps{})
	if ui.step != stepStart {
		t.Fatalf("first screen = %v; want the start", ui.step)
	}
	if ui.banner.Visible() {
		t.Error("the demo banner shows outside the demo")
	}
	for _, b := range ui.start.soon {
		if !b.Disabled() {
			t.Errorf("%q can be chosen though it is not there yet", b.Text)
		}
	}
	if ui.start.move.Disabled() || ui.start.tryDemo.Disabled() {
		t.Error("Move a mailbox or Try the demo cannot be chosen")
	}
	test.Tap(ui.start.move)
	if ui.step != stepAccounts {
		t.Errorf("Move a mailbox shows step %v; want the accounts", ui.step)
	}
	test.Tap(ui.accounts.back)
	if ui.step != stepStart {
		t.Errorf("Back shows step %v; want the start", ui.step)
	}
	startDemo(t, ui, q)
	if !ui.banner.Visible() {
		t.Error("the demo is not marked as such")
	}
}

func TestDemoOnStart(t *testing.T) {
	a := test.NewTempApp(t)
	q := newQueue()
	ui := newUI(a, Deps{Demo: true, StateDir: t.TempDir()}, q.post)
	ui.startDemo = testDemo
	t.Cleanup(func() {
		ui.cancel()
		ui.leaveDemoServers()
	})
	ui.begin()
	q.pumpUntil(t, "the demo", func() bool { return ui.demo != nil })
	if ui.step != stepAccounts || !ui.banner.Visible() {
		t.Errorf("Deps.Demo: step %v, banner %v; want the accounts of the demo", ui.step, ui.banner.Visible())
	}
}

func TestAccountValidation(t *testing.T) {
	tests := []struct {
		name                 string
		host, port, user, pw string
		security             int
		want                 string
	}{
		{"no server", "", "993", "me", "pw", 0, "server name"},
		{"bad server", "imap example.com", "993", "me", "pw", 0, "only a name"},
		{"bad port", "imap.example.com", "99999", "me", "pw", 0, "port"},
		{"no user", "imap.example.com", "993", "", "pw", 0, "user name"},
		{"no password", "imap.example.com", "993", "me", "", 0, "password"},
		{"plain remote", "imap.example.com", "143", "me", "pw", 2, "this computer"},
	}
	ui, _ := newTestUI(t, Deps{})
	f := ui.accounts.source
	for _, tt := range tests {
		f.host.SetText(tt.host)
		f.port.SetText(tt.port)
		f.username.SetText(tt.user)
		f.password.SetText(tt.pw)
		f.security.SetSelectedIndex(tt.security)
		f.port.SetText(tt.port)
		test.Tap(f.test)
		if !f.problem.box.Visible() || !strings.Contains(f.problem.text.Text, tt.want) {
			t.Errorf("%s: Test connection shows %q (visible %v); want it to mention %q", tt.name, f.problem.text.Text, f.problem.box.Visible(), tt.want)
		}
	}
	// The same account on both sides is refused before connecting.
	for _, f := range []*accountForm{ui.accounts.source, ui.accounts.target} {
		f.host.SetText("127.0.0.1")
		f.security.SetSelectedIndex(2)
		f.port.SetText("1143")
		f.username.SetText("me")
		f.password.SetText("pw")
	}
	test.Tap(ui.accounts.review)
	if !ui.accounts.errView.box.Visible() || !strings.Contains(ui.accounts.errView.title.Text, "same") {
		t.Errorf("same account on both sides: %q; want it refused", ui.accounts.errView.title.Text)
	}
}

func TestSecurityFollowsPort(t *testing.T) {
	ui, _ := newTestUI(t, Deps{})
	f := ui.accounts.source
	f.port.SetText("993")
	f.security.SetSelectedIndex(1)
	if f.port.Text != "143" {
		t.Errorf("STARTTLS: port = %q; want 143", f.port.Text)
	}
	f.security.SetSelectedIndex(0)
	if f.port.Text != "993" {
		t.Errorf("TLS: port = %q; want 993", f.port.Text)
	}
	f.port.SetText("1993")
	f.security.SetSelectedIndex(1)
	if f.port.Text != "1993" {
		t.Errorf("a port typed by hand changed to %q", f.port.Text)
	}
}

func TestDiscovery(t *testing.T) {
	kc := secret.NewMemory()
	kc.Set(secret.AccountKey("someone@gmail.com", "imap.gmail.com"), "saved")
	ui, q := newTestUI(t, Deps{Keychain: kc})
	test.Tap(ui.start.move)
	f := ui.accounts.source
	ui.win.Canvas().Focus(f.email)
	test.Type(f.email, "someone@gmail.com")
	ui.win.Canvas().Unfocus() // leaving the field looks the settings up
	q.pumpUntil(t, "the settings", func() bool { return f.host.Text != "" && f.finding.Hidden })
	if f.host.Text != "imap.gmail.com" || f.port.Text != "993" || f.selectedSecurity() != imapstore.ImplicitTLS || f.username.Text != "someone@gmail.com" {
		t.Errorf("found %s:%s %v %q; want imap.gmail.com:993 TLS someone@gmail.com", f.host.Text, f.port.Text, f.selectedSecurity(), f.username.Text)
	}
	if !strings.Contains(f.hint.Text, "Gmail") || !strings.Contains(f.hint.Text, "app password") {
		t.Errorf("hint = %q; want the provider and its app-password advice", f.hint.Text)
	}
	if !f.saved || f.password.PlaceHolder != "Saved in the keychain" {
		t.Errorf("saved password not noticed: saved %v, placeholder %q", f.saved, f.password.PlaceHolder)
	}
	if f.password.Text != "" {
		t.Error("the saved password was put in the password field")
	}

	// An address that is not one does not reach the network.
	g := ui.accounts.target
	g.email.SetText("not an address")
	test.Tap(g.find)
	if !strings.Contains(g.hint.Text, "whole address") || g.host.Text != "" {
		t.Errorf("bad address: hint %q host %q", g.hint.Text, g.host.Text)
	}
	g.email.SetText("me@example.org")
	test.Tap(g.find)
	q.pumpUntil(t, "the guess", func() bool { return g.host.Text != "" })
	if g.host.Text != "imap.example.org" || !strings.Contains(g.hint.Text, "guess") {
		t.Errorf("guess: host %q hint %q", g.host.Text, g.hint.Text)
	}
}

func TestConnectionReport(t *testing.T) {
	ui, q := newTestUI(t, Deps{})
	startDemo(t, ui, q)
	f := ui.accounts.source
	test.Tap(f.test)
	q.pumpUntil(t, "the report", func() bool { return f.result.Visible() || f.problem.box.Visible() })
	if !f.result.Visible() {
		t.Fatalf("Test connection failed: %q %q", f.problem.title.Text, f.problem.raw)
	}
	want := "16 folders, " + formatMessages(ui.demo.Messages)
	if !strings.Contains(f.result.Text, "Connected and logged in") || !strings.Contains(f.result.Text, want) {
		t.Errorf("report = %q; want it to say connected and %q", f.result.Text, want)
	}
	if !f.details.Visible() || !strings.Contains(f.detailsText, "IMAP4rev1") || !strings.Contains(f.detailsText, "LIST-STATUS") {
		t.Errorf("details = %q; want the capabilities", f.detailsText)
	}
	test.Tap(f.details)
	if len(ui.win.Canvas().Overlays().List()) == 0 {
		t.Error("Show details opened nothing")
	}
}

func TestWrongPassword(t *testing.T) {
	ui, q := newTestUI(t, Deps{})
	startDemo(t, ui, q)
	f := ui.accounts.target
	f.password.SetText("not the password")
	test.Tap(f.test)
	q.pumpUntil(t, "the failure", func() bool { return f.result.Visible() || f.problem.box.Visible() })
	want := adviceFor(failure.Auth)
	if f.problem.title.Text != want.Title || f.problem.text.Text != want.Text {
		t.Errorf("shown %q / %q; want the advice for a refused login %q", f.problem.title.Text, f.problem.text.Text, want.Title)
	}
	if !strings.Contains(f.problem.text.Text, "app password") {
		t.Errorf("advice %q does not mention app passwords", f.problem.text.Text)
	}
	if strings.Contains(f.problem.raw, "not the password") {
		t.Errorf("the details show the password: %q", f.problem.raw)
	}
	// Review the plan shows the same failure next to the same account.
	test.Tap(ui.accounts.review)
	q.pumpUntil(t, "the failure", func() bool { return ui.accounts.cancelPlan == nil && f.problem.box.Visible() })
	if ui.step != stepAccounts || f.problem.title.Text != want.Title {
		t.Errorf("review with a wrong password: step %v, %q", ui.step, f.problem.title.Text)
	}
}

// TestRemember checks what is kept after a successful login outside the
// demo: the password in the keychain, the settings in the account store and
// the address in the preferences, and never the password anywhere else.
func TestRemember(t *testing.T) {
	d, err := testDemo(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	kc := secret.NewMemory()
	st, err := account.OpenStore(filepath.Join(t.TempDir(), "accounts.json"))
	if err != nil {
		t.Fatal(err)
	}
	ui, q := newTestUI(t, Deps{Keychain: kc, Accounts: st})
	test.Tap(ui.start.move)
	fill := func(f *accountForm, email string, cfg *imapstore.Config) {
		f.email.SetText(email)
		f.host.SetText(cfg.Host)
		f.security.SetSelectedIndex(2)
		f.port.SetText(strconv.Itoa(cfg.Port))
		f.username.SetText(cfg.Username)
		f.password.SetText(cfg.Password)
	}
	fill(ui.accounts.source, demo.SourceEmail, d.Source)
	fill(ui.accounts.target, demo.TargetEmail, d.Target)
	ui.accounts.target.remember.SetChecked(false)
	reviewPlan(t, ui, q)
	q.pumpUntil(t, "the account store", func() bool { return len(st.List()) == 2 })

	if got, err := kc.Get(secret.AccountKey(d.Source.Username, d.Source.Host)); err != nil || got != d.Source.Password {
		t.Errorf("keychain holds %q, %v for the source; want its password", got, err)
	}
	if _, err := kc.Get(secret.AccountKey(d.Target.Username, d.Target.Host)); err == nil {
		t.Error("the target's password was kept though Remember was unticked")
	}
	a, ok := st.Get(demo.SourceEmail)
	if !ok || a.Host != d.Source.Host || a.Port != d.Source.Port || a.Username != d.Source.Username {
		t.Errorf("stored account = %+v, %v", a, ok)
	}
	p := ui.app.Preferences()
	if p.String(prefSourceEmail) != demo.SourceEmail || p.String(prefTargetEmail) != demo.TargetEmail {
		t.Errorf("preferences hold %q, %q; want the two addresses", p.String(prefSourceEmail), p.String(prefTargetEmail))
	}
	for _, k := range []string{prefSourceEmail, prefTargetEmail, prefWidth, prefHeight} {
		if v := p.String(k); v == d.Source.Password || v == d.Target.Password {
			t.Errorf("preference %s holds a password", k)
		}
	}

	// A new window finds the addresses, the settings and the saved password.
	ui2, _ := newTestUIWithApp(t, ui.app, Deps{Keychain: kc, Accounts: st})
	f := ui2.accounts.source
	if f.emailText() != demo.SourceEmail || f.host.Text != d.Source.Host || f.port.Text != strconv.Itoa(d.Source.Port) {
		t.Errorf("second window: %q %s:%s; want the remembered account", f.emailText(), f.host.Text, f.port.Text)
	}
}

// newTestUIWithApp builds a second window on an app, as after a restart.
func newTestUIWithApp(t *testing.T, a fyne.App, deps Deps) (*UI, *uiQueue) {
	t.Helper()
	q := newQueue()
	deps.StateDir = t.TempDir()
	ui := newUI(a, deps, q.post)
	ui.discover = fakeDiscover
	t.Cleanup(ui.cancel)
	return ui, q
}

func TestCertificateTrust(t *testing.T) {
	addr := tlsServer(t)
	host, port, _ := net.SplitHostPort(addr)
	ui, q := newTestUI(t, Deps{})
	test.Tap(ui.start.move)
	f := ui.accounts.source
	f.host.SetText(host)
	f.security.SetSelectedIndex(0)
	f.port.SetText(port)
	f.username.SetText("alex")
	f.password.SetText("secret")
	test.Tap(f.test)
	q.pumpUntil(t, "the certificate question", func() bool { return f.certDialog != nil || f.result.Visible() })
	if f.certDialog == nil {
		t.Fatal("a self-signed certificate was accepted without asking")
	}
	texts := labels(ui.win.Canvas().Overlays().Top())
	fp := ""
	for _, s := range texts {
		if strings.Count(s, ":") == 31 {
			fp = s
		}
	}
	if fp == "" {
		t.Errorf("the trust dialog shows no SHA-256 fingerprint: %q", texts)
	}
	if !f.problem.box.Visible() || f.problem.title.Text != "The server's certificate is not trusted" {
		t.Errorf("problem shown = %q", f.problem.title.Text)
	}
	test.Tap(f.certDialog.trust)
	q.pumpUntil(t, "the second test", func() bool { return f.result.Visible() || (f.problem.box.Visible() && f.testing.Hidden) })
	if !f.result.Visible() {
		t.Fatalf("after trusting: %q %q", f.problem.title.Text, f.problem.raw)
	}
	if !strings.Contains(f.result.Text, "secured with TLS") {
		t.Errorf("report = %q; want it secured with TLS", f.result.Text)
	}
}

// tlsServer serves an empty in-memory account (alex, secret) over implicit
// TLS with a fresh self-signed certificate on 127.0.0.1.
func tlsServer(t *testing.T) string {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(7),
		Subject:      pkix.Name{CommonName: "127.0.0.1", Organization: []string{"Test"}},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	mem := imapmemserver.New()
	u := imapmemserver.NewUser("alex", "secret")
	u.Create("INBOX", nil)
	mem.AddUser(u)
	srv := imapserver.New(&imapserver.Options{
		NewSession: func(*imapserver.Conn) (imapserver.Session, *imapserver.GreetingData, error) {
			return mem.NewSession(), nil, nil
		},
		Caps:   imap.CapSet{imap.CapIMAP4rev1: {}, imap.CapNamespace: {}},
		Logger: quiet{},
	})
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Go(func() { srv.Serve(ln) })
	t.Cleanup(func() {
		srv.Close()
		wg.Wait()
	})
	return ln.Addr().String()
}

type quiet struct{}

func (quiet) Printf(string, ...any) {}

func TestPlanChoices(t *testing.T) {
	ui, q := newTestUI(t, Deps{})
	startDemo(t, ui, q)
	reviewPlan(t, ui, q)
	p := ui.plan
	total := p.plan.Messages
	// Leave "Old Newsletters" out by its checkbox in the table.
	idx := -1
	for i, f := range p.plan.Folders {
		if f.Source.DisplayName() == "Old Newsletters" {
			idx = i
		}
	}
	if idx < 0 {
		t.Fatal("no Old Newsletters folder in the plan")
	}
	left := p.plan.Folders[idx].Source.Messages
	p.list.ScrollTo(idx)
	check := rowCheck(t, ui.win.Canvas(), p.list, idx)
	test.Tap(check)
	if p.plan.Messages != total-left || p.plan.Folders[idx].Include {
		t.Errorf("after leaving a folder out: %d messages, included %v; want %d, false", p.plan.Messages, p.plan.Folders[idx].Include, total-left)
	}
	if !strings.HasPrefix(p.copy.Text, "Copy "+formatMessages(total-left)) {
		t.Errorf("primary button = %q after leaving %d out", p.copy.Text, left)
	}

	// Rename "Projects/Alpha" on the target.
	for i, f := range p.plan.Folders {
		if f.Source.DisplayName() == "Projects/Alpha" {
			idx = i
		}
	}
	p.onRename(idx)
	if p.rename == nil {
		t.Fatal("no rename dialog")
	}
	p.rename.entry.SetText("Work/Alpha")
	test.Tap(p.rename.ok)
	q.pumpUntil(t, "the new plan", func() bool { return p.busy.Hidden })
	var renamed *copier.FolderPlan
	for i := range p.plan.Folders {
		if p.plan.Folders[i].Source.DisplayName() == "Projects/Alpha" {
			renamed = &p.plan.Folders[i]
		}
	}
	if renamed == nil || renamed.Target != "Work/Alpha" {
		t.Fatalf("renamed folder = %+v; want target Work/Alpha", renamed)
	}
	if p.plan.Messages != total-left {
		t.Errorf("the folder left out came back after renaming: %d messages", p.plan.Messages)
	}

	test.Tap(p.copy)
	q.pumpUntil(t, "the result", func() bool { return !ui.migrate.running })
	if ui.step != stepDone || !ui.done.verified.OK() {
		t.Fatalf("result: step %v, %q", ui.step, ui.done.title.Text)
	}
	found := false
	for _, f := range ui.done.verified.Folders {
		if f.Target == "Work/Alpha" && f.TargetMessages == f.SourceMessages {
			found = true
		}
		if f.Source == "Old Newsletters" {
			t.Error("a folder left out was copied")
		}
	}
	if !found {
		t.Error("Projects/Alpha did not arrive in Work/Alpha")
	}
}

// rowCheck finds the include checkbox of a plan row as drawn.
func rowCheck(t *testing.T, c fyne.Canvas, l *widget.List, id int) *widget.Check {
	t.Helper()
	var found *widget.Check
	for _, o := range test.LaidOutObjects(l) {
		row, ok := o.(*fyne.Container)
		if !ok || len(row.Objects) != len(planColumns) {
			continue
		}
		ch, ok := row.Objects[0].(*widget.Check)
		name, ok2 := row.Objects[1].(*widget.Label)
		if ok && ok2 && ch.Visible() && name.Text == "Old Newsletters" {
			found = ch
		}
	}
	if found == nil {
		t.Fatalf("no checkbox drawn for row %d", id)
	}
	return found
}

// slowDemo makes the demo's new mailbox slow, so a copy can be stopped.
func slowDemo(ui *UI) {
	ui.accounts.target.dialer = slowDialer(150_000)
}

func TestStopAndResume(t *testing.T) {
	ui, q := newTestUI(t, Deps{})
	startDemo(t, ui, q)
	slowDemo(ui)
	reviewPlan(t, ui, q)
	test.Tap(ui.plan.copy)
	m := ui.migrate
	q.pumpUntil(t, "some progress", func() bool { return m.progress.Copied > 0 || !m.running })
	if !m.running {
		t.Fatal("the copy ended before it could be stopped")
	}
	stopAt := time.Now()
	test.Tap(m.stop)
	q.pumpUntil(t, "the copy to stop", func() bool { return !m.running })
	t.Logf("stopped %s after Stop", time.Since(stopAt).Round(time.Millisecond))
	if ui.step != stepMigrate || m.title.Text != "Paused" || !m.resume.Visible() {
		t.Fatalf("after Stop: step %v, title %q, resume %v", ui.step, m.title.Text, m.resume.Visible())
	}
	if !strings.Contains(m.note.Text, "Resume") {
		t.Errorf("note = %q; want it to say Resume goes on", m.note.Text)
	}
	copied := m.progress.Copied
	ui.accounts.target.dialer = nil
	m.dst.Dialer = nil
	test.Tap(m.resume)
	q.pumpUntil(t, "the result", func() bool { return !m.running })
	if ui.step != stepDone || !ui.done.verified.OK() {
		t.Fatalf("after Resume: step %v, %q %q", ui.step, ui.done.title.Text, m.errView.raw)
	}
	if m.result.Progress.Existing < copied {
		t.Errorf("Resume found %d already there; want at least the %d copied before", m.result.Progress.Existing, copied)
	}
}

func TestCloseDuringCopy(t *testing.T) {
	ui, q := newTestUI(t, Deps{})
	startDemo(t, ui, q)
	slowDemo(ui)
	reviewPlan(t, ui, q)
	test.Tap(ui.plan.copy)
	q.pumpUntil(t, "some progress", func() bool { return ui.migrate.progress.DoneMessages > 0 || !ui.migrate.running })
	if !ui.migrate.running {
		t.Fatal("the copy ended before the window could be closed")
	}
	ui.onClose()
	if ui.closeDialog == nil || !ui.closeDialog.Visible() || ui.ctx.Err() != nil {
		t.Fatal("closing during a copy did not ask first")
	}
	if !containsText(labels(ui.win.Canvas().Overlays().Top()), "resumes") {
		t.Errorf("the question does not say the copy resumes: %q", labels(ui.win.Canvas().Overlays().Top()))
	}
	test.Tap(ui.closeDialog.buttons.Objects[1].(*widget.Button))
	q.pumpUntil(t, "the window to close", func() bool { return ui.ctx.Err() != nil })
	if ui.migrate.running {
		t.Error("the window closed while the copy ran")
	}
}

func TestDoneWithMissing(t *testing.T) {
	ui, _ := newTestUI(t, Deps{})
	date := time.Date(2024, 3, 1, 10, 0, 0, 0, time.UTC)
	plan := &copier.Plan{Folders: []copier.FolderPlan{{Source: store.Folder{Name: "INBOX", Path: []string{"INBOX"}}, Target: "INBOX", Include: true}}}
	res := &copier.Result{Problems: []copier.Problem{{Folder: "INBOX", UID: 7, Subject: "Big scan", From: "Ann", Kind: failure.TooBig, Err: "the message is 60 MB"}}}
	v := &copier.Verification{Missing: 1, Folders: []copier.FolderCheck{{Source: "INBOX", Target: "INBOX", SourceMessages: 3, TargetMessages: 2,
		Missing: []store.MessageInfo{{UID: 7, Subject: "Big scan", From: "Ann", Date: date}}}}}
	ui.done.set(&imapstore.Config{}, &imapstore.Config{}, plan, res, v, nil)
	ui.show(stepDone)
	d := ui.done
	if d.title.Text != "1 message did not arrive" {
		t.Errorf("verdict = %q; want %q", d.title.Text, "1 message did not arrive")
	}
	if !strings.Contains(d.subtitle.Text, "2 of 3") {
		t.Errorf("subtitle = %q; want 2 of 3", d.subtitle.Text)
	}
	if !d.show.Visible() || d.show.Disabled() || d.again.Importance != widget.HighImportance {
		t.Error("Show missing or Run again is not offered")
	}
	test.Tap(d.show)
	if d.missingList == nil || d.missingList.Length() != 1 {
		t.Fatal("Show missing lists nothing")
	}
	texts := labels(ui.win.Canvas().Overlays().Top())
	for _, want := range []string{"INBOX", "2024-03-01", "Ann", "Big scan"} {
		if !containsText(texts, want) {
			t.Errorf("the missing list does not show %q: %q", want, texts)
		}
	}
	if d.missing[0].why == "" || !strings.Contains(d.missing[0].why, "60 MB") {
		t.Errorf("why = %q; want the copy's reason", d.missing[0].why)
	}
}

func TestKeychainUnavailable(t *testing.T) {
	ui, _ := newTestUI(t, Deps{KeychainErr: &secret.Unavailable{}})
	if !ui.accounts.keychainNote.Visible() {
		t.Error("no word that passwords are kept in memory only")
	}
	if ui.accounts.source.remember.Text != "Remember until Mailmover closes" {
		t.Errorf("remember = %q", ui.accounts.source.remember.Text)
	}
	ui2, _ := newTestUI(t, Deps{})
	if ui2.accounts.keychainNote.Visible() {
		t.Error("keychain warning shown with a keychain")
	}
}

// TestScreensFit checks that every screen fits the smallest window.
func TestScreensFit(t *testing.T) {
	ui, q := newTestUI(t, Deps{})
	startDemo(t, ui, q)
	for _, s := range []step{stepStart, stepAccounts, stepPlan, stepMigrate, stepDone} {
		ui.show(s)
		if m := ui.win.Content().MinSize(); m.Width > minimumSize.Width || m.Height > minimumSize.Height {
			t.Errorf("step %v needs %v; want at most %v", s, m, minimumSize)
		}
	}
}

// TestResponsive copies a demo while probing the UI goroutine every 10 ms:
// each probe must run promptly: progress reaches the window about ten times
// a second and only what changed is drawn again, so the UI goroutine is never
// flooded. It logs the worst latency and fails only beyond a second, or if
// the copy sends more than about ten updates a second; the latency itself
// is measured by BenchmarkResponsive, at the 5,000 messages.
func TestResponsive(t *testing.T) {
	n := 1500
	if testing.Short() || raceEnabled {
		n = 400
	}
	r := measureResponsive(t, n)
	t.Log(r)
	switch {
	case raceEnabled:
		// The race detector slows everything tenfold and the copy's own
		// goroutines starve the test's of CPU: only the log is meaningful.
	case r.worst > time.Second:
		t.Errorf("a UI callback waited %s during the copy; want under a second", r.worst)
	}
	if limit := int(r.elapsed/flushInterval) + 20; r.updates > limit {
		t.Errorf("the copy sent %d updates to the window in %s; want at most about ten a second (%d)", r.updates, r.elapsed, limit)
	}
}

// BenchmarkResponsive measures how long UI events wait while the window
// shows a demo migration of 5,000 messages (MAILMOVER_BENCH_MESSAGES
// changes it): the worst and the 99th percentile wait of a probe posted
// every 10 ms, in milliseconds, and the window updates per second.
func BenchmarkResponsive(b *testing.B) {
	n := 5000
	if v, err := strconv.Atoi(os.Getenv("MAILMOVER_BENCH_MESSAGES")); err == nil && v > 0 {
		n = v
	}
	var worst, p99, rate float64
	for range b.N {
		r := measureResponsive(b, n)
		b.Log(r)
		worst = max(worst, float64(r.worst)/float64(time.Millisecond))
		p99 = max(p99, float64(r.p99)/float64(time.Millisecond))
		rate = max(rate, float64(r.updates)/r.elapsed.Seconds())
	}
	b.ReportMetric(worst, "worst-ms")
	b.ReportMetric(p99, "p99-ms")
	b.ReportMetric(rate, "updates/s")
}

// responsiveness is what measureResponsive saw.
type responsiveness struct {
	messages    int
	elapsed     time.Duration
	probes      int
	worst, p99  time.Duration
	updates     int
	slowestCall time.Duration
	slowestName string
}

func (r responsiveness) String() string {
	return fmt.Sprintf("%d messages in %s: %d probes, worst wait %s, 99th percentile %s; %d updates from the copy; slowest callback %s (%s)",
		r.messages, r.elapsed.Round(time.Millisecond), r.probes, r.worst, r.p99, r.updates, r.slowestCall, r.slowestName)
}

// measureResponsive copies a demo of n messages through the window while a
// probe is posted to the UI goroutine every 10 ms, and returns how long the
// probes waited.
func measureResponsive(tb testing.TB, n int) responsiveness {
	ui, q := newTestUI(tb, Deps{})
	ui.startDemo = func(ctx context.Context) (*demo.Demo, error) {
		return demo.StartWith(ctx, demo.Options{Messages: n, MaxAttachment: 8 << 10})
	}
	startDemo(tb, ui, q)
	reviewPlan(tb, ui, q)
	// The copy screen is drawn for the first time by the tap; probing
	// starts once it is on screen.
	before := q.postCount()
	start := time.Now()
	test.Tap(ui.plan.copy)
	q.slowest = 0
	var mu sync.Mutex
	var waits []time.Duration
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
			}
			at := time.Now()
			q.post(func() {
				d := time.Since(at)
				mu.Lock()
				waits = append(waits, d)
				mu.Unlock()
			})
		}
	})
	m := ui.migrate
	q.pumpUntil(tb, "the copy", func() bool {
		return !m.running || m.progress.TotalMessages > 0 && m.progress.DoneMessages >= m.progress.TotalMessages
	})
	r := responsiveness{messages: n, elapsed: time.Since(start)}
	close(stop)
	wg.Wait()
	q.runPending()
	r.slowestCall, r.slowestName = q.slowest, q.slowestName
	q.pumpUntil(tb, "the result", func() bool { return !m.running })
	if ui.step != stepDone || !ui.done.verified.OK() {
		tb.Fatalf("result: %q", ui.done.title.Text)
	}
	mu.Lock()
	defer mu.Unlock()
	slices.Sort(waits)
	r.probes = len(waits)
	if len(waits) > 0 {
		r.worst = waits[len(waits)-1]
		r.p99 = waits[len(waits)*99/100]
	}
	r.updates = q.postCount() - before - r.probes
	return r
}

func TestPlanQuotaAndWarnings(t *testing.T) {
	ui, _ := newTestUI(t, Deps{})
	folder := func(name string, n int, size int64, exists bool, why copier.Why) copier.FolderPlan {
		return copier.FolderPlan{Source: store.Folder{Name: name, Path: strings.Split(name, "/"), Messages: n, Size: size},
			Target: strings.ReplaceAll(name, "/", "."), TargetPath: strings.Split(name, "/"), Include: true, Exists: exists, Why: why}
	}
	plan := &copier.Plan{
		Target: copier.Info{Delim: ".", SizeLimit: 25 << 20, Quota: &imapstore.Quota{Used: 1 << 30, Limit: 2 << 30}},
		Folders: []copier.FolderPlan{
			folder("INBOX", 4000, 1<<30, true, copier.WhyNone),
			folder("v1.2 Release", 812, 200<<20, false, copier.WhyDelimiter),
		},
	}
	plan.Folders[1].TargetPath = []string{"v1_2 Release"}
	ui.plan.setPlan(&imapstore.Config{Username: "a@old.example"}, &imapstore.Config{Username: "a@new.example"}, plan)
	ui.show(stepPlan)
	p := ui.plan
	if want := "Copy 4,812 messages (1.2 GB)"; p.copy.Text != want {
		t.Errorf("primary button = %q; want %q", p.copy.Text, want)
	}
	if !p.quotaBox.Visible() || !strings.Contains(p.quota.Text, "does not fit") || p.quota.Importance != widget.DangerImportance {
		t.Errorf("quota = %q (visible %v); want it not to fit", p.quota.Text, p.quotaBox.Visible())
	}
	if p.quotaBar.Value != p.quotaBar.Max {
		t.Errorf("quota bar = %v of %v; want full", p.quotaBar.Value, p.quotaBar.Max)
	}
	for _, want := range []string{"“v1.2 Release” will be called “v1_2 Release”", "up to 25.0 MB"} {
		if !strings.Contains(p.warnings.Text, want) {
			t.Errorf("warnings = %q; want %q", p.warnings.Text, want)
		}
	}
	if !strings.Contains(p.summary.Text, "2 folders to copy: 1 created") {
		t.Errorf("summary = %q", p.summary.Text)
	}
	// Leaving the big folder out makes it fit.
	p.onInclude(0, false)
	if p.quota.Importance == widget.DangerImportance || !strings.HasPrefix(p.copy.Text, "Copy 812 messages") {
		t.Errorf("after leaving INBOX out: quota %q, button %q", p.quota.Text, p.copy.Text)
	}
	p.onInclude(1, false)
	if !p.copy.Disabled() || p.copy.Text != "Nothing to copy" {
		t.Errorf("nothing included: button %q, disabled %v", p.copy.Text, p.copy.Disabled())
	}
}
