package gui

import (
	"cmp"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"mailmover/core/account"
	"mailmover/core/atomicfile"
	"mailmover/core/copier"
	"mailmover/core/demo"
	"mailmover/core/imapstore"
	"mailmover/core/report"
	"mailmover/core/secret"
)

// side is one end of a migration.
type side int

const (
	sourceSide side = iota
	targetSide
)

// sideError is a failure of one side's connection, so that the window can
// show it next to the account it concerns.
type sideError struct {
	side side
	err  error
}

func (e *sideError) Error() string { return e.err.Error() }
func (e *sideError) Unwrap() error { return e.err }

// endpoint is copier.IMAP(cfg) with its connection failures marked with
// their side. Its Name is the same, so state and journals are shared with
// the command line.
func endpoint(s side, cfg *imapstore.Config) copier.Endpoint {
	e := copier.IMAP(cfg)
	dial := e.Dial
	e.Dial = func(ctx context.Context) (copier.TargetConn, error) {
		c, err := dial(ctx)
		if err != nil {
			return nil, &sideError{side: s, err: err}
		}
		return c, nil
	}
	return e
}

// Timeouts of the account screen's network work.
const (
	discoverTimeout = 30 * time.Second
	testTimeout     = 45 * time.Second
)

// accountsScreen pairs the old and the new account, side by side.
type accountsScreen struct {
	ui *UI

	source, target *accountForm
	back           *widget.Button
	review         *widget.Button
	busy           *widget.Activity
	status         *widget.Label
	errView        *errorView
	keychainNote   *fyne.Container

	// cancelPlan stops the planning under way, nil when idle.
	cancelPlan context.CancelFunc

	content fyne.CanvasObject
}

func newAccountsScreen(ui *UI) *accountsScreen {
	s := &accountsScreen{ui: ui}
	s.source = newAccountForm(ui, sourceSide)
	s.target = newAccountForm(ui, targetSide)
	s.back = widget.NewButtonWithIcon(lang.X("common.back", "Back"), theme.NavigateBackIcon(), s.onBack)
	s.review = widget.NewButtonWithIcon(lang.X("accounts.review", "Review the plan"), theme.NavigateNextIcon(), s.onReview)
	s.review.Importance = widget.HighImportance
	s.review.IconPlacement = widget.ButtonIconTrailingText
	s.busy = widget.NewActivity()
	s.busy.Hide()
	s.status = widget.NewLabel("")
	s.errView = newErrorView(ui.win)

	note := widget.NewLabel(lang.X("accounts.nokeychain", "No system keychain was found: passwords are kept in memory only, until Mailmover closes."))
	note.Wrapping = fyne.TextWrapWord
	note.Importance = widget.WarningImportance
	s.keychainNote = container.NewBorder(nil, nil, lineIcon(widget.NewIcon(theme.NewWarningThemedResource(theme.WarningIcon()))), nil, note)
	if ui.deps.KeychainErr == nil {
		s.keychainNote.Hide()
	}

	forms := container.NewGridWithColumns(2, s.source.card, s.target.card)
	body := container.NewVScroll(container.NewVBox(forms, s.keychainNote, s.errView.box))
	title := widget.NewLabel(lang.X("accounts.title", "Your two mailboxes"))
	sub := widget.NewLabel(lang.X("accounts.subtitle", "Type each email address: Mailmover finds the server settings. Then enter the passwords and review what will be copied."))
	s.content = page(title, sub, body,
		[]fyne.CanvasObject{s.back},
		[]fyne.CanvasObject{s.busy, s.status, s.review})
	s.loadSaved()
	return s
}

// shown is called when the screen appears.
func (s *accountsScreen) shown() {
	if s.ui.demo != nil || s.ui.deps.KeychainErr == nil {
		s.keychainNote.Hide() // the demo keeps no password
	} else {
		s.keychainNote.Show()
	}
}

func (s *accountsScreen) form(sd side) *accountForm {
	if sd == sourceSide {
		return s.source
	}
	return s.target
}

// loadSaved fills the forms with the last addresses used and the settings
// remembered for them.
func (s *accountsScreen) loadSaved() {
	p := s.ui.app.Preferences()
	s.source.load(p.String(prefSourceEmail))
	s.target.load(p.String(prefTargetEmail))
}

// savePrefs remembers the addresses (never a password), outside the demo.
func (s *accountsScreen) savePrefs() {
	if s.ui.demo != nil {
		return
	}
	p := s.ui.app.Preferences()
	if e := s.source.emailText(); e != "" {
		p.SetString(prefSourceEmail, e)
	}
	if e := s.target.emailText(); e != "" {
		p.SetString(prefTargetEmail, e)
	}
}

// fillDemo puts the demo accounts in the forms.
func (s *accountsScreen) fillDemo(d *demo.Demo) {
	s.source.fillDemo(demo.SourceEmail, d.Source,
		lang.X("accounts.demo.source", "Practice mailbox on this computer, with {{.Messages}} made-up messages in {{.Size}}.",
			map[string]any{"Messages": formatCount(d.Messages), "Size": formatBytes(d.Bytes)}))
	s.target.fillDemo(demo.TargetEmail, d.Target,
		lang.X("accounts.demo.target", "Practice mailbox on this computer, empty but for the usual folders."))
	s.errView.show(nil)
}

// resumePair fills both forms with the accounts of a copy that did not
// finish, from the saved accounts where they are, else from the journal's
// names, and shows the screen: Review the plan, then Copy, resumes it.
func (s *accountsScreen) resumePair(p report.Pending) {
	s.source.fillNamed(p.Source)
	s.target.fillNamed(p.Target)
	s.errView.show(nil)
	s.ui.show(stepAccounts)
}

// fillNamed fills the form for an account named as the journal names it,
// "USER on HOST:PORT": a saved account of that user, host and port if there
// is one, else those settings.
func (f *accountForm) fillNamed(name string) {
	i := strings.LastIndex(name, " on ")
	if i < 0 {
		return
	}
	user := name[:i]
	host, portText, err := net.SplitHostPort(name[i+len(" on "):])
	if err != nil {
		return
	}
	port, _ := strconv.Atoi(portText)
	f.clear()
	if st := f.ui.deps.Accounts; st != nil {
		for _, a := range st.List() {
			if a.Username == user && strings.EqualFold(a.Host, host) && a.Port == port {
				f.email.SetText(cmp.Or(a.Email, a.Username))
				f.fillAccount(a)
				f.discovered = f.email.Text
				f.checkSaved()
				return
			}
		}
	}
	if strings.Contains(user, "@") {
		f.email.SetText(user)
		f.discovered = user
	}
	sec := account.SecurityStartTLS
	if port == 993 {
		sec = account.SecurityTLS
	}
	f.fillAccount(account.Account{Host: host, Port: port, Username: user, Security: sec})
	f.checkSaved()
}

// clearDemo empties the demo's settings from the forms.
func (s *accountsScreen) clearDemo() {
	s.source.clear()
	s.target.clear()
	s.loadSaved()
	s.errView.show(nil)
}

func (s *accountsScreen) onBack() {
	if s.cancelPlan != nil {
		s.cancelPlan()
		return
	}
	s.ui.show(stepStart)
}

func (s *accountsScreen) setBusy(text string) {
	busy := text != ""
	s.status.SetText(text)
	if busy {
		s.busy.Show()
		s.busy.Start()
		s.review.Disable()
		s.back.SetText(lang.X("common.stop", "Stop"))
	} else {
		s.busy.Stop()
		s.busy.Hide()
		s.review.Enable()
		s.back.SetText(lang.X("common.back", "Back"))
	}
	s.source.setBusy(busy)
	s.target.setBusy(busy)
}

// onReview connects to both accounts and computes the plan. Nothing is
// written anywhere.
func (s *accountsScreen) onReview() {
	s.errView.show(nil)
	src, srcOK := s.source.config()
	dst, dstOK := s.target.config()
	if !srcOK || !dstOK {
		return
	}
	if strings.EqualFold(src.Host, dst.Host) && src.Port == dst.Port && src.Username == dst.Username {
		s.errView.showText(lang.X("accounts.same.title", "The old and the new mailbox are the same"),
			lang.X("accounts.same", "Choose two different accounts: mail is copied from the one on the left to the one on the right."))
		return
	}
	s.savePrefs()
	ctx, cancel := context.WithCancel(s.ui.ctx)
	s.cancelPlan = cancel
	s.setBusy(lang.X("accounts.reading", "Reading both mailboxes…"))
	ui := s.ui
	go func() {
		defer cancel()
		plan, err := s.makePlan(ctx, src, dst)
		stopped := ctx.Err() != nil
		ui.do(func() {
			s.cancelPlan = nil
			s.setBusy("")
			if stopped {
				return // stopped by the user, or the window closed
			}
			if err != nil {
				s.showError(err, s.onReview)
				return
			}
			s.source.succeeded(src)
			s.target.succeeded(dst)
			ui.plan.setPlan(src, dst, plan)
			srcDAV, dstDAV := davConfigs(ui.demo, src, dst, s.source.emailText(), s.target.emailText())
			ui.plan.setDAV(startDAV(ui.ctx, srcDAV, dstDAV))
			ui.show(stepPlan)
		})
	}()
}

// makePlan fetches saved passwords and computes the plan; it runs on a
// goroutine.
func (s *accountsScreen) makePlan(ctx context.Context, src, dst *imapstore.Config) (*copier.Plan, error) {
	if err := s.ui.fillPassword(sourceSide, src); err != nil {
		return nil, err
	}
	if err := s.ui.fillPassword(targetSide, dst); err != nil {
		return nil, err
	}
	return copier.MakePlan(ctx, endpoint(sourceSide, src), endpoint(targetSide, dst), copier.Options{})
}

// showError shows a failure next to the account it concerns, or under both.
// An untrusted certificate opens the trust dialog, and retry runs again if
// the user trusts it.
func (s *accountsScreen) showError(err error, retry func()) {
	var se *sideError
	if errors.As(err, &se) {
		f := s.form(se.side)
		f.showError(err, retry)
		return
	}
	s.errView.show(err)
}

// fillPassword puts the saved password of cfg's account in cfg if none was
// typed. It may block on the keychain: never call it on the UI goroutine.
func (ui *UI) fillPassword(sd side, cfg *imapstore.Config) error {
	if cfg.Password != "" {
		return nil
	}
	pw, err := ui.keychain.Get(secret.AccountKey(cfg.Username, cfg.Host))
	if err != nil {
		return &sideError{side: sd, err: errNoPassword}
	}
	cfg.Password = pw
	return nil
}

// errNoPassword says a password is needed and none is saved.
var errNoPassword = errors.New("no password typed and none saved in the keychain")

// securityOptions are the choices of the security select, in order.
func securityOptions() []string {
	return []string{
		lang.X("security.tls", "TLS (port 993)"),
		lang.X("security.starttls", "STARTTLS (port 143)"),
		lang.X("security.none", "None (this computer only)"),
	}
}

var securities = [...]imapstore.Security{imapstore.ImplicitTLS, imapstore.StartTLS, imapstore.Plain}

// accountForm is one account's settings.
type accountForm struct {
	ui   *UI
	side side

	email    *emailEntry
	find     *widget.Button
	finding  *widget.Activity
	hint     *widget.Label
	host     *widget.Entry
	port     *widget.Entry
	security *widget.Select
	username *widget.Entry
	password *widget.Entry
	remember *widget.Check

	test        *widget.Button
	testing     *widget.Activity
	resultIcon  *widget.Icon
	result      *widget.Label
	details     *widget.Button
	detailsText string
	problem     *errorView

	card *widget.Card
	grid *fyne.Container

	// saved is set when the keychain holds this account's password.
	saved bool
	// trustedPEM is a certificate the user chose to trust for this server.
	trustedPEM []byte
	caFile     string
	provider   string
	// discovered is the address settings were last looked up for; gen
	// tells stale lookups from the current one.
	discovered string
	gen        int
	// certDialog is the trust dialog on screen, if any (tests tap it).
	certDialog *certDialog
	// dialer, if set, opens this account's connections (screenshot mode
	// slows the demo down with it).
	dialer func(ctx context.Context, network, addr string) (net.Conn, error)
}

func newAccountForm(ui *UI, sd side) *accountForm {
	f := &accountForm{ui: ui, side: sd}
	f.email = newEmailEntry()
	f.email.PlaceHolder = lang.X("accounts.email.placeholder", "name@example.com")
	f.email.onFocusLost = f.onEmailDone
	f.email.OnSubmitted = func(string) { f.onFind() }
	f.find = widget.NewButtonWithIcon(lang.X("accounts.find", "Find settings"), theme.SearchIcon(), f.onFind)
	f.finding = widget.NewActivity()
	f.finding.Hide()
	f.hint = widget.NewLabel("")
	f.hint.Wrapping = fyne.TextWrapWord
	f.hint.TextStyle.Italic = true
	f.hint.Hide()
	f.host = widget.NewEntry()
	f.host.PlaceHolder = lang.X("accounts.host.placeholder", "imap.example.com")
	f.port = widget.NewEntry()
	f.port.SetText("993")
	f.security = widget.NewSelect(securityOptions(), nil)
	f.security.SetSelectedIndex(0)
	f.username = widget.NewEntry()
	f.username.PlaceHolder = lang.X("accounts.username.placeholder", "often the whole email address")
	f.password = widget.NewPasswordEntry()
	rememberText := lang.X("accounts.remember", "Remember in the keychain")
	if ui.deps.KeychainErr != nil {
		rememberText = lang.X("accounts.remember.session", "Remember until Mailmover closes")
	}
	f.remember = widget.NewCheck(rememberText, nil)
	f.remember.SetChecked(true)

	f.test = widget.NewButtonWithIcon(lang.X("accounts.test", "Test connection"), theme.ConfirmIcon(), f.onTest)
	f.testing = widget.NewActivity()
	f.testing.Hide()
	f.resultIcon = widget.NewIcon(nil)
	f.resultIcon.Hide()
	f.result = widget.NewLabel("")
	f.result.Wrapping = fyne.TextWrapWord
	f.result.Hide()
	f.details = widget.NewButton(lang.X("common.details", "Show details"), func() {
		showDetails(ui.win, lang.X("accounts.details.title", "Connection details"), f.detailsText)
	})
	f.details.Importance = widget.LowImportance
	f.details.Hide()
	f.problem = newErrorView(ui.win)

	if ui.shots != nil && sd == targetSide {
		f.dialer = ui.shots.dialer
	}
	for _, e := range []*widget.Entry{f.host, f.port, f.username, f.password} {
		e.OnChanged = func(string) { f.clearResult() }
	}

	label := func(s string) fyne.CanvasObject {
		l := widget.NewLabel(s)
		l.Alignment = fyne.TextAlignTrailing
		return l
	}
	portBox := container.NewBorder(nil, nil, widget.NewLabel(lang.X("accounts.port", "Port")), nil, f.port)
	f.grid = container.New(layout.NewFormLayout(),
		label(lang.X("accounts.email", "Email address")), container.NewBorder(nil, nil, nil, container.NewHBox(f.finding, f.find), f.email),
		layout.NewSpacer(), f.hint,
		label(lang.X("accounts.host", "Server")), f.host,
		label(lang.X("accounts.security", "Security")), container.NewGridWithColumns(2, f.security, portBox),
		label(lang.X("accounts.username", "User name")), f.username,
		label(lang.X("accounts.password", "Password")), f.password,
		layout.NewSpacer(), f.remember,
	)
	result := container.NewBorder(nil, nil, lineIcon(f.resultIcon), nil, container.NewVBox(f.result, container.NewHBox(f.details)))
	testRow := container.NewHBox(f.test, f.testing)
	box := container.NewVBox(f.grid, testRow, result, f.problem.box)
	var title, sub string
	if sd == sourceSide {
		title = lang.X("accounts.source", "Old mailbox")
		sub = lang.X("accounts.source.sub", "Mail is copied from here. It is only read, never changed.")
	} else {
		title = lang.X("accounts.target", "New mailbox")
		sub = lang.X("accounts.target.sub", "Mail is copied to here. Nothing on it is deleted.")
	}
	f.card = widget.NewCard(title, sub, box)
	f.security.OnChanged = f.onSecurity
	return f
}

func (f *accountForm) emailText() string { return strings.TrimSpace(f.email.Text) }

// load fills the form for an address remembered from last time.
func (f *accountForm) load(email string) {
	if email == "" {
		return
	}
	f.email.SetText(email)
	if a, ok := f.stored(email); ok {
		f.fillAccount(a)
		f.discovered = email
		f.setHint(lang.X("accounts.hint.stored", "Settings remembered from last time."))
		f.checkSaved()
	}
}

// stored returns the remembered account of an address.
func (f *accountForm) stored(email string) (account.Account, bool) {
	st := f.ui.deps.Accounts
	if st == nil {
		return account.Account{}, false
	}
	for _, a := range st.List() {
		if strings.EqualFold(a.Email, email) {
			return a, true
		}
	}
	return account.Account{}, false
}

func (f *accountForm) fillAccount(a account.Account) {
	f.host.SetText(a.Host)
	f.setSecurity(imapstore.Security(a.Security))
	if a.Port != 0 {
		f.port.SetText(strconv.Itoa(a.Port))
	}
	f.username.SetText(a.Username)
	f.provider = a.Provider
	f.caFile = a.CAFile
	f.trustedPEM = nil
	if a.CAFile != "" {
		if pem, err := imapstore.LoadCAFile(a.CAFile); err == nil {
			f.trustedPEM = pem
		}
	}
}

// fillDemo fills the form with a demo account.
func (f *accountForm) fillDemo(email string, cfg *imapstore.Config, hint string) {
	f.clear()
	f.email.SetText(email)
	f.discovered = email
	f.host.SetText(cfg.Host)
	f.setSecurity(cfg.Security)
	f.port.SetText(strconv.Itoa(cfg.Port))
	f.username.SetText(cfg.Username)
	f.password.SetText(cfg.Password)
	f.remember.SetChecked(false)
	f.remember.Disable()
	f.find.Disable()
	f.setHint(hint)
}

// clear empties the form.
func (f *accountForm) clear() {
	f.gen++
	for _, e := range []*widget.Entry{&f.email.Entry, f.host, f.username, f.password} {
		e.SetText("")
	}
	f.port.SetText("993")
	f.security.SetSelectedIndex(0)
	f.remember.Enable()
	f.remember.SetChecked(true)
	f.find.Enable()
	f.password.PlaceHolder = ""
	f.password.Refresh()
	f.saved, f.trustedPEM, f.caFile, f.provider, f.discovered = false, nil, "", "", ""
	f.setHint("")
	f.clearResult()
}

func (f *accountForm) setHint(text string) {
	f.hint.SetText(text)
	if text == "" {
		f.hint.Hide()
	} else {
		f.hint.Show()
	}
}

func (f *accountForm) setSecurity(s imapstore.Security) {
	for i, v := range securities {
		if v == s {
			f.security.SetSelectedIndex(i)
			return
		}
	}
	f.security.SetSelectedIndex(0)
}

func (f *accountForm) selectedSecurity() imapstore.Security {
	i := f.security.SelectedIndex()
	if i < 0 || i >= len(securities) {
		return imapstore.ImplicitTLS
	}
	return securities[i]
}

// onSecurity follows the port to the security chosen when it was a default.
func (f *accountForm) onSecurity(string) {
	switch f.selectedSecurity() {
	case imapstore.ImplicitTLS:
		if f.port.Text == "143" || f.port.Text == "" {
			f.port.SetText("993")
		}
	case imapstore.StartTLS:
		if f.port.Text == "993" || f.port.Text == "" {
			f.port.SetText("143")
		}
	}
	f.clearResult()
}

func (f *accountForm) setBusy(busy bool) {
	if busy {
		f.test.Disable()
	} else {
		f.test.Enable()
	}
}

func (f *accountForm) clearResult() {
	f.resultIcon.Hide()
	f.result.Hide()
	f.details.Hide()
	f.problem.show(nil)
}

// emailPattern is a loose check that an address was typed, before asking
// the network about it.
var emailPattern = regexp.MustCompile(`^[^@\s]+@[^@\s]+\.[^@\s.]+$`)

// onEmailDone looks the settings up when the address field is left with a
// new address.
func (f *accountForm) onEmailDone() {
	e := f.emailText()
	if f.ui.demo != nil || e == "" || strings.EqualFold(e, f.discovered) || !emailPattern.MatchString(e) {
		return
	}
	f.onFind()
}

// onFind finds the server settings of the address typed: remembered ones
// first, else autodiscovery on a goroutine.
func (f *accountForm) onFind() {
	email := f.emailText()
	if !emailPattern.MatchString(email) {
		f.setHint(lang.X("accounts.hint.notemail", "Type the whole address, for example name@example.com."))
		return
	}
	f.clearResult()
	if a, ok := f.stored(email); ok {
		f.fillAccount(a)
		f.discovered = email
		f.setHint(lang.X("accounts.hint.stored", "Settings remembered from last time."))
		f.checkSaved()
		return
	}
	f.gen++
	gen := f.gen
	f.discovered = email
	f.finding.Show()
	f.finding.Start()
	f.find.Disable()
	f.setHint(lang.X("accounts.hint.finding", "Looking for the settings of {{.Domain}}…", map[string]any{"Domain": domainOf(email)}))
	ui := f.ui
	go func() {
		ctx, cancel := context.WithTimeout(ui.ctx, discoverTimeout)
		defer cancel()
		disc, err := ui.discover(ctx, email)
		saved := false
		if err == nil {
			_, kerr := ui.keychain.Get(secret.AccountKey(disc.Account.Username, disc.Account.Host))
			saved = kerr == nil
		}
		ui.do(func() {
			if gen != f.gen {
				return // the user moved on
			}
			f.finding.Stop()
			f.finding.Hide()
			f.find.Enable()
			if err != nil {
				f.setHint(lang.X("accounts.hint.failed", "The settings could not be found. Enter the server name your provider gives."))
				return
			}
			f.fillAccount(disc.Account)
			f.setHint(discoveryHint(disc))
			f.setSaved(saved)
		})
	}()
}

// checkSaved asks the keychain on a goroutine whether it holds the password.
func (f *accountForm) checkSaved() {
	user, host := strings.TrimSpace(f.username.Text), strings.TrimSpace(f.host.Text)
	if user == "" || host == "" || f.ui.demo != nil {
		return
	}
	gen := f.gen
	ui := f.ui
	go func() {
		_, err := ui.keychain.Get(secret.AccountKey(user, host))
		ui.do(func() {
			if gen == f.gen {
				f.setSaved(err == nil)
			}
		})
	}()
}

func (f *accountForm) setSaved(saved bool) {
	f.saved = saved
	if saved {
		f.password.PlaceHolder = lang.X("accounts.password.saved", "Saved in the keychain")
		f.remember.SetChecked(true)
	} else {
		f.password.PlaceHolder = ""
	}
	f.password.Refresh()
}

// discoveryHint says in plain words where the settings come from and what
// to do before logging in.
func discoveryHint(d account.Discovery) string {
	var parts []string
	switch d.Source {
	case account.SourcePreset, account.SourceMX:
		name := d.Account.Host
		if d.Preset != nil {
			name = d.Preset.Name
		}
		parts = append(parts, lang.X("accounts.hint.preset", "Known provider: {{.Name}}.", map[string]any{"Name": name}))
	case account.SourceAutoconfig, account.SourceWellKnown:
		parts = append(parts, lang.X("accounts.hint.autoconfig", "Found in the settings your provider publishes."))
	case account.SourceSRV:
		parts = append(parts, lang.X("accounts.hint.srv", "Found in your domain's DNS records."))
	default:
		parts = append(parts, lang.X("accounts.hint.guess", "This is a guess: nothing is published for this domain. Check the server name with your provider."))
	}
	if d.Preset != nil && d.Preset.Hint != "" {
		parts = append(parts, lang.X("preset."+d.Preset.ID, d.Preset.Hint))
	}
	return strings.Join(parts, " ")
}

func domainOf(email string) string {
	if i := strings.LastIndex(email, "@"); i >= 0 {
		return email[i+1:]
	}
	return email
}

// config reads the form into a connection configuration, showing what is
// missing. The password may be empty if the keychain holds it.
func (f *accountForm) config() (*imapstore.Config, bool) {
	f.problem.show(nil)
	bad := func(text string) (*imapstore.Config, bool) {
		f.problem.showText(lang.X("accounts.incomplete", "Something is missing"), text)
		return nil, false
	}
	host := strings.TrimSpace(f.host.Text)
	user := strings.TrimSpace(f.username.Text)
	sec := f.selectedSecurity()
	port, err := strconv.Atoi(strings.TrimSpace(f.port.Text))
	switch {
	case host == "":
		return bad(lang.X("accounts.missing.host", "Enter the server name (for example imap.example.com), or type the email address and choose Find settings."))
	case strings.ContainsAny(host, " /\\@?#"):
		return bad(lang.X("accounts.bad.host", "The server name is only a name, like imap.example.com, without spaces or slashes."))
	case err != nil || port < 1 || port > 65535:
		return bad(lang.X("accounts.bad.port", "The port is a number from 1 to 65535: usually 993 for TLS, 143 for STARTTLS."))
	case user == "":
		return bad(lang.X("accounts.missing.username", "Enter the user name, often the whole email address."))
	case f.password.Text == "" && !f.saved:
		return bad(lang.X("accounts.missing.password", "Enter the password (or the app password your provider asks for)."))
	case sec == imapstore.Plain && !isLoopback(host):
		return bad(lang.X("accounts.bad.plain", "Without encryption Mailmover connects only to a server on this computer. Choose TLS or STARTTLS."))
	}
	return &imapstore.Config{
		Host:       host,
		Port:       port,
		Security:   sec,
		Username:   user,
		Password:   f.password.Text,
		CAPEM:      f.trustedPEM,
		AllowPlain: sec == imapstore.Plain,
		Timeout:    testTimeout,
		Dialer:     f.dialer,
	}, true
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// onTest logs in on a goroutine and reports in plain words.
func (f *accountForm) onTest() {
	f.clearResult()
	cfg, ok := f.config()
	if !ok {
		return
	}
	f.test.Disable()
	f.testing.Show()
	f.testing.Start()
	gen := f.gen
	ui := f.ui
	go func() {
		ctx, cancel := context.WithTimeout(ui.ctx, testTimeout)
		defer cancel()
		var rep *probeReport
		err := ui.fillPassword(f.side, cfg)
		if err == nil {
			rep, err = probeAccount(ctx, cfg)
		}
		ui.do(func() {
			f.testing.Stop()
			f.testing.Hide()
			f.test.Enable()
			if gen != f.gen {
				return
			}
			if err != nil {
				f.showError(err, f.onTest)
				return
			}
			f.succeeded(cfg)
			f.showReport(rep)
		})
	}()
}

// showError shows a failed connection with its advice; an untrusted
// certificate asks whether to trust it, then runs retry.
func (f *accountForm) showError(err error, retry func()) {
	var ce *imapstore.CertError
	if errors.As(err, &ce) {
		f.askTrust(ce, retry)
	}
	if errors.Is(err, errNoPassword) {
		f.problem.showText(lang.X("accounts.incomplete", "Something is missing"),
			lang.X("accounts.missing.password", "Enter the password (or the app password your provider asks for)."))
		return
	}
	f.problem.show(err)
}

// succeeded remembers what worked: the password in the keychain if asked,
// the account's settings in the account store. Nothing of the demo is kept.
func (f *accountForm) succeeded(cfg *imapstore.Config) {
	if f.ui.demo != nil {
		return
	}
	key := secret.AccountKey(cfg.Username, cfg.Host)
	typed := f.password.Text
	keep := f.remember.Checked
	kc := f.ui.keychain
	if keep && typed != "" {
		f.saved = true
		go kc.Set(key, typed)
	} else if !keep && f.saved {
		f.saved = false
		go kc.Delete(key)
	}
	st := f.ui.deps.Accounts
	email := f.emailText()
	if st == nil || email == "" {
		return
	}
	a := account.Account{Name: email, Email: email, Host: cfg.Host, Port: cfg.Port, Security: account.Security(cfg.Security),
		Username: cfg.Username, Auth: account.AuthPassword, Provider: f.provider, CAFile: f.caFile}
	pem := f.trustedPEM
	go func() {
		if len(pem) > 0 && a.CAFile == "" {
			path := filepath.Join(filepath.Dir(st.Path()), "certificates", safeFileName(a.Host+"-"+strconv.Itoa(a.Port))+".pem")
			if err := os.MkdirAll(filepath.Dir(path), 0o700); err == nil && atomicfile.WriteFile(path, pem, 0o600) == nil {
				a.CAFile = path
			}
		}
		if err := st.Put(a); err != nil {
			fyne.LogError("remember account", err)
		}
	}()
}

var unsafeChars = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

func safeFileName(s string) string { return unsafeChars.ReplaceAllString(s, "_") }

// probeReport is what a connection test found.
type probeReport struct {
	tls         string
	cipher      string
	folders     int
	messages    int
	bytes       int64
	quota       *imapstore.Quota
	caps        []string
	prefix      string
	delim       rune
	serverID    string
	appendLimit int64
}

// probeAccount logs in and reads what the report shows. It only reads.
func probeAccount(ctx context.Context, cfg *imapstore.Config) (*probeReport, error) {
	s, err := imapstore.Open(ctx, cfg)
	if err != nil {
		return nil, err
	}
	defer s.Close()
	rep := &probeReport{prefix: s.Prefix, delim: s.Delim, appendLimit: s.AppendLimit()}
	if s.TLS != nil {
		rep.tls = tlsName(s.TLS.Version)
		rep.cipher = tlsCipher(s.TLS.CipherSuite)
	}
	for c := range s.Caps {
		rep.caps = append(rep.caps, string(c))
	}
	slices.Sort(rep.caps)
	if id := s.ServerID; id != nil {
		rep.serverID = strings.TrimSpace(strings.Join([]string{id.Name, id.Version, id.Vendor}, " "))
	}
	folders, err := s.Folders(ctx)
	if err != nil {
		return nil, err
	}
	for _, fo := range folders {
		if fo.NoSelect {
			continue
		}
		rep.folders++
		rep.messages += max(fo.Messages, 0)
		if fo.Size < 0 || rep.bytes < 0 {
			rep.bytes = -1
		} else {
			rep.bytes += fo.Size
		}
	}
	if q, err := s.Quota(ctx); err == nil {
		rep.quota = q
	}
	return rep, nil
}

// showReport tells what the test found, in plain words, with the technical
// details on demand.
func (f *accountForm) showReport(r *probeReport) {
	var lines []string
	if r.tls != "" {
		lines = append(lines, lang.X("report.ok.tls", "Connected and logged in, secured with {{.TLS}}.", map[string]any{"TLS": r.tls}))
	} else {
		lines = append(lines, lang.X("report.ok.plain", "Connected and logged in, without encryption (allowed only because the server is on this computer)."))
	}
	content := lang.X("report.content", "{{.Folders}}, {{.Messages}}", map[string]any{"Folders": formatFolders(r.folders), "Messages": formatMessages(r.messages)})
	if r.bytes >= 0 {
		content += " (" + formatBytes(r.bytes) + ")"
	}
	lines = append(lines, content+".")
	if q := r.quota; q != nil && q.Limit > 0 {
		lines = append(lines, lang.X("report.quota", "Storage: {{.Used}} used of {{.Limit}}.", map[string]any{"Used": formatBytes(q.Used), "Limit": formatBytes(q.Limit)}))
	}
	f.result.SetText(strings.Join(lines, " "))
	f.result.Importance = widget.SuccessImportance
	f.result.Refresh()
	f.result.Show()
	f.resultIcon.SetResource(theme.NewSuccessThemedResource(theme.ConfirmIcon()))
	f.resultIcon.Show()

	var d strings.Builder
	fmt.Fprintf(&d, "%s %s\n", lang.X("details.server", "Server:"), f.host.Text+":"+f.port.Text)
	if r.tls != "" {
		fmt.Fprintf(&d, "%s %s, %s\n", lang.X("details.tls", "Encryption:"), r.tls, r.cipher)
	} else {
		fmt.Fprintf(&d, "%s %s\n", lang.X("details.tls", "Encryption:"), lang.X("details.none", "none"))
	}
	if r.serverID != "" {
		fmt.Fprintf(&d, "%s %s\n", lang.X("details.software", "Server software:"), r.serverID)
	}
	fmt.Fprintf(&d, "%s %q, %s %q\n", lang.X("details.prefix", "Folder prefix:"), r.prefix, lang.X("details.delim", "separator:"), string(r.delim))
	if r.appendLimit > 0 {
		fmt.Fprintf(&d, "%s %s\n", lang.X("details.limit", "Largest message accepted:"), formatBytes(r.appendLimit))
	}
	fmt.Fprintf(&d, "%s %s\n", lang.X("details.caps", "Capabilities:"), strings.Join(r.caps, " "))
	f.detailsText = d.String()
	f.details.Show()
}

// emailEntry is an entry that reports when it loses the focus, so that the
// settings are looked up once the address is typed.
type emailEntry struct {
	widget.Entry
	onFocusLost func()
}

func newEmailEntry() *emailEntry {
	e := &emailEntry{}
	e.ExtendBaseWidget(e)
	return e
}

// FocusLost runs onFocusLost after the entry's own handling.
func (e *emailEntry) FocusLost() {
	e.Entry.FocusLost()
	if e.onFocusLost != nil {
		e.onFocusLost()
	}
}

func tlsName(v uint16) string { return tls.VersionName(v) }

func tlsCipher(c uint16) string { return tls.CipherSuiteName(c) }

// certDialog asks whether to trust a server's certificate, showing its
// SHA-256 fingerprint to compare with what the provider publishes.
type certDialog struct {
	d      *modal
	trust  *widget.Button
	cancel *widget.Button
}

// askTrust opens the trust dialog; trusting keeps the certificate for this
// account (saved next to the account settings) and runs retry.
func (f *accountForm) askTrust(ce *imapstore.CertError, retry func()) {
	text := wrapped(lang.X("cert.text", "Mailmover could not check the identity of {{.Host}}: {{.Reason}}. This happens with servers that use their own certificate, and with someone trying to intercept your mail. Trust it only if this fingerprint matches the one your provider or administrator gives you.",
		map[string]any{"Host": f.host.Text, "Reason": ce.Err}))
	fp := widget.NewLabel(ce.Fingerprint)
	fp.TextStyle.Monospace = true
	fp.Wrapping = fyne.TextWrapWord
	fp.Selectable = true
	info := container.New(layout.NewFormLayout(),
		heading(lang.X("cert.fingerprint", "SHA-256 fingerprint")), fp,
		heading(lang.X("cert.subject", "Issued to")), wrapped(ce.Subject),
		heading(lang.X("cert.issuer", "Issued by")), wrapped(ce.Issuer),
		heading(lang.X("cert.until", "Valid until")), widget.NewLabel(ce.NotAfter.Format("2006-01-02")),
	)
	content := container.NewVBox(text, info)
	scroll := container.NewVScroll(content)
	scroll.SetMinSize(fyne.NewSize(640, 320))
	cd := &certDialog{d: newDialog(lang.X("cert.title", "Do you trust this server?"), scroll, f.ui.win)}
	cd.cancel = widget.NewButton(lang.X("common.cancel", "Cancel"), func() {
		cd.d.Hide()
		f.certDialog = nil
	})
	cd.trust = widget.NewButtonWithIcon(lang.X("cert.trust", "Trust this certificate"), theme.ConfirmIcon(), func() {
		cd.d.Hide()
		f.certDialog = nil
		f.trustedPEM = ce.PEM
		f.caFile = ""
		f.problem.show(nil)
		if retry != nil {
			retry()
		}
	})
	cd.trust.Importance = widget.WarningImportance
	cd.d.SetButtons([]fyne.CanvasObject{cd.cancel, cd.trust})
	f.certDialog = cd
	cd.d.Show()
}
