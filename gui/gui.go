// Package gui is Mailmover's window, for people who are not IMAP experts: a
// guided flow Start -> Accounts -> Plan -> Migrate -> Done over the same core
// API the command line uses (packages account, imapstore, copier).
//
// Every screen lives in a file of its own as a struct holding its widgets and
// what it depends on, with onXxx handlers. Long work (connecting, planning,
// copying, verifying) runs on goroutines of its own; widgets change only on
// the UI goroutine, through UI.do (fyne.Do), and copy progress reaches the
// window about ten times a second at most. All user-facing text goes through
// fyne's lang package (English and French are embedded). Nothing secret is
// ever put in the preferences: passwords live in the keychain or in memory.
//
// The package does not import fyne.io/fyne/v2/app: it is given a fyne.App,
// so that tests run on fyne's headless test driver.
package gui

import (
	"context"
	"image/color"
	"os"
	"path/filepath"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"mailmover/core/account"
	"mailmover/core/demo"
	"mailmover/core/secret"
)

// Deps is what the window needs from the rest of the program.
type Deps struct {
	// StateDir is the root under which copier state and journals live.
	StateDir string
	// Keychain holds passwords; nil means an in-memory one.
	Keychain secret.Keychain
	// KeychainErr, if not nil, says no OS keychain could be reached and
	// Keychain keeps passwords in memory only: the window tells the user.
	KeychainErr error
	// Accounts is where accounts are remembered (never with a secret); may be nil.
	Accounts *account.Store
	// Demo starts the window straight into the demo.
	Demo bool
	// ScreenshotDir, if not empty, makes the window run through the demo by
	// itself, save a PNG of each screen there and quit (used to make the
	// pictures of the README).
	ScreenshotDir string
}

// Window sizes: the window fits a 1280x800 screen and works down to 1024x700.
var (
	defaultSize = fyne.NewSize(1200, 760)
	minimumSize = fyne.NewSize(1024, 700)
)

// Preference keys. Never a secret.
const (
	prefWidth       = "window.width"
	prefHeight      = "window.height"
	prefSourceEmail = "source.email"
	prefTargetEmail = "target.email"
)

// step is a stage of the guided flow.
type step int

const (
	stepStart step = iota
	stepAccounts
	stepPlan
	stepMigrate
	stepDone
	// The screens below stand outside the guided flow of a migration.
	stepBackup
	stepArchives
	stepBatch
	stepCutover
	stepReport
)

// UI is Mailmover's main window.
type UI struct {
	app      fyne.App
	win      fyne.Window
	deps     Deps
	keychain secret.Keychain

	// do runs f on the UI goroutine: fyne.Do, replaced in tests by a queue
	// the test drains itself.
	do func(f func())
	// discover finds the server settings of an address (network: replaced in tests).
	discover func(ctx context.Context, email string) (account.Discovery, error)
	// startDemo starts the demo servers.
	startDemo func(ctx context.Context) (*demo.Demo, error)

	// ctx ends when the window closes; every goroutine of the window uses it.
	ctx    context.Context
	cancel context.CancelFunc

	banner *fyne.Container
	leave  *widget.Button
	steps  *stepBar
	body   *fyne.Container
	step   step

	start    *startScreen
	accounts *accountsScreen
	plan     *planScreen
	migrate  *migrateScreen
	done     *doneScreen
	backup   *backupScreen
	archives *archivesScreen
	batch    *batchScreen
	cutover  *cutoverScreen
	report   *reportScreen
	// views maps each step to its screen's content and shown hook.
	views map[step]view

	// demo is the running demo, nil outside it; demoDir holds its state.
	demo    *demo.Demo
	demoDir string
	// closing is set when the window waits for a run to stop before closing.
	closing bool
	// closeDialog is the question asked when closing during a copy.
	closeDialog *modal

	shots *screenshots
}

// New builds the window. Show it with ShowAndRun.
func New(a fyne.App, deps Deps) *UI {
	ui := newUI(a, deps, fyne.Do)
	ui.begin()
	return ui
}

// newUI builds the window with do as the way onto the UI goroutine.
func newUI(a fyne.App, deps Deps, do func(func())) *UI {
	if deps.Keychain == nil {
		deps.Keychain = secret.NewMemory()
	}
	if deps.StateDir == "" {
		if dir, err := os.UserCacheDir(); err == nil {
			deps.StateDir = filepath.Join(dir, "Mailmover", "state")
		} else {
			deps.StateDir = filepath.Join(os.TempDir(), "mailmover-state")
		}
	}
	ui := &UI{app: a, deps: deps, keychain: deps.Keychain, do: do}
	ui.discover = func(ctx context.Context, email string) (account.Discovery, error) {
		return (&account.Discoverer{}).Discover(ctx, email)
	}
	ui.startDemo = demo.Start
	ui.ctx, ui.cancel = context.WithCancel(context.Background())

	ui.win = a.NewWindow(lang.X("app.title", "Mailmover"))
	if icon := a.Metadata().Icon; icon != nil {
		ui.win.SetIcon(icon)
	}
	p := a.Preferences()
	w := float32(p.FloatWithFallback(prefWidth, float64(defaultSize.Width)))
	h := float32(p.FloatWithFallback(prefHeight, float64(defaultSize.Height)))
	ui.win.Resize(fyne.NewSize(max(w, minimumSize.Width), max(h, minimumSize.Height)))

	if deps.ScreenshotDir != "" {
		ui.shots = newScreenshots(ui, deps.ScreenshotDir)
	}
	ui.start = newStartScreen(ui)
	ui.accounts = newAccountsScreen(ui)
	ui.plan = newPlanScreen(ui)
	ui.migrate = newMigrateScreen(ui)
	ui.done = newDoneScreen(ui)
	ui.backup = newBackupScreen(ui)
	ui.archives = newArchivesScreen(ui)
	ui.batch = newBatchScreen(ui)
	ui.cutover = newCutoverScreen(ui)
	ui.report = newReportScreen(ui)
	ui.views = map[step]view{
		stepStart:    {ui.start.content, ui.start.shown},
		stepAccounts: {ui.accounts.content, ui.accounts.shown},
		stepPlan:     {ui.plan.content, nil},
		stepMigrate:  {ui.migrate.content, nil},
		stepDone:     {ui.done.content, nil},
		stepBackup:   {ui.backup.content, ui.backup.shown},
		stepArchives: {ui.archives.content, ui.archives.shown},
		stepBatch:    {ui.batch.content, nil},
		stepCutover:  {ui.cutover.content, ui.cutover.shown},
		stepReport:   {ui.report.content, ui.report.shown},
	}

	ui.banner = ui.makeBanner()
	ui.steps = newStepBar()
	ui.body = container.NewStack()
	header := container.NewVBox(ui.banner, ui.steps.box, widget.NewSeparator())
	ui.win.SetContent(container.New(minSizeLayout{minimumSize}, container.NewBorder(header, nil, nil, nil, ui.body)))
	ui.win.SetCloseIntercept(ui.onClose)
	ui.win.SetMaster()

	ui.show(stepStart)
	return ui
}

// begin starts what Deps ask for at launch: the demo, or screenshot mode.
func (ui *UI) begin() {
	switch {
	case ui.shots != nil:
		ui.shots.begin()
	case ui.deps.Demo:
		ui.start.onDemo()
	}
}

// Window returns the main window.
func (ui *UI) Window() fyne.Window { return ui.win }

// ShowAndRun shows the window and runs the application until it closes.
func (ui *UI) ShowAndRun() {
	ui.win.ShowAndRun()
}

// show puts a screen in the window.
func (ui *UI) show(s step) {
	v := ui.views[s]
	ui.step = s
	ui.steps.set(s)
	ui.body.Objects = []fyne.CanvasObject{v.content}
	ui.body.Refresh()
	settle(v.content, ui.body.Size())
	if v.shown != nil {
		v.shown()
	}
	if ui.shots != nil {
		ui.shots.shown(s)
	}
}

// view is a screen as show needs it: what to put in the window, and what
// to do each time it appears (read files again, fill from the demo), if
// anything.
type view struct {
	content fyne.CanvasObject
	shown   func()
}

// makeBanner builds the strip that marks the demo.
func (ui *UI) makeBanner() *fyne.Container {
	bg := canvas.NewRectangle(withAlpha(theme.Color(theme.ColorNamePrimary), 0x40))
	text := widget.NewLabel(lang.X("demo.banner", "Demo: two practice mailboxes on this computer, filled with made-up mail. Nothing real is read or changed."))
	text.TextStyle.Bold = true
	text.Wrapping = fyne.TextWrapWord
	ui.leave = widget.NewButtonWithIcon(lang.X("demo.leave", "Leave the demo"), theme.LogoutIcon(), ui.leaveDemo)
	b := container.NewStack(bg, container.NewBorder(nil, nil, widget.NewIcon(theme.InfoIcon()), container.NewCenter(ui.leave), text))
	b.Hide()
	return b
}

// enterDemo fills both accounts from a running demo and marks the window.
func (ui *UI) enterDemo(d *demo.Demo) {
	ui.leaveDemoServers()
	ui.demo = d
	if dir, err := os.MkdirTemp("", "mailmover-demo-"); err == nil {
		ui.demoDir = dir
	}
	ui.banner.Show()
	ui.accounts.fillDemo(d)
	ui.show(stepAccounts)
}

// leaveDemo stops the demo and goes back to the start.
func (ui *UI) leaveDemo() {
	if ui.migrate.running {
		d := newDialog(lang.X("demo.leave.busy.title", "The demo is copying"), wrapped(lang.X("demo.leave.busy", "Stop the copy first, then leave the demo.")), ui.win)
		d.SetButtons([]fyne.CanvasObject{widget.NewButton(lang.X("common.ok", "OK"), d.Hide)})
		d.Show()
		return
	}
	if ui.accounts.cancelPlan != nil {
		ui.accounts.cancelPlan()
	}
	ui.leaveDemoServers()
	ui.banner.Hide()
	ui.accounts.clearDemo()
	ui.plan.reset()
	ui.show(stepStart)
}

func (ui *UI) leaveDemoServers() {
	if ui.demo != nil {
		d := ui.demo
		ui.demo = nil
		go d.Close()
	}
	if ui.demoDir != "" {
		dir := ui.demoDir
		ui.demoDir = ""
		go os.RemoveAll(dir)
	}
}

// stateDir is where copier state goes: the demo keeps its own, thrown away
// when it ends.
func (ui *UI) stateDir() string {
	if ui.demo != nil && ui.demoDir != "" {
		return ui.demoDir
	}
	return ui.deps.StateDir
}

// working returns how to stop each copy under way: a migration, a backup,
// an upload of local archives, a batch.
func (ui *UI) working() []func() {
	var stops []func()
	if ui.migrate.running {
		stops = append(stops, ui.migrate.onStop)
	}
	if ui.backup.running {
		stops = append(stops, ui.backup.onStop)
	}
	if ui.archives.cancel != nil {
		stops = append(stops, ui.archives.onStop)
	}
	if ui.batch.running {
		stops = append(stops, ui.batch.onStop)
	}
	return stops
}

// onClose asks before closing while something copies; the copies stop,
// and each resumes next time where it stopped.
func (ui *UI) onClose() {
	if len(ui.working()) == 0 {
		ui.finishClose()
		return
	}
	d := newDialog(lang.X("close.title", "Stop copying and quit?"),
		wrapped(lang.X("close.text", "Copying stops now. Nothing is lost and nothing is copied twice: the next time you copy these mailboxes, Mailmover resumes where it stopped.")), ui.win)
	keep := widget.NewButton(lang.X("close.dismiss", "Keep copying"), d.Hide)
	quit := widget.NewButton(lang.X("close.confirm", "Stop and quit"), func() {
		d.Hide()
		ui.closing = true
		for _, stop := range ui.working() {
			stop()
		}
	})
	quit.Importance = widget.WarningImportance
	d.SetButtons([]fyne.CanvasObject{keep, quit})
	ui.closeDialog = d
	d.Show()
}

// workEnded closes the window once the last copy has stopped after the user
// chose to quit.
func (ui *UI) workEnded() {
	if ui.closing && len(ui.working()) == 0 {
		ui.finishClose()
	}
}

// finishClose saves the window size and closes the window.
func (ui *UI) finishClose() {
	if s := ui.win.Canvas().Size(); s.Width >= minimumSize.Width && s.Height >= minimumSize.Height {
		p := ui.app.Preferences()
		p.SetFloat(prefWidth, float64(s.Width))
		p.SetFloat(prefHeight, float64(s.Height))
	}
	ui.accounts.savePrefs()
	ui.cancel()
	ui.leaveDemoServers()
	ui.win.Close()
}

// modal is a dialog over the window: a title, some content and the buttons
// the caller sets, each named for what it does.
type modal struct {
	pop     *widget.PopUp
	buttons *fyne.Container
}

// newDialog builds a modal dialog; show it with Show.
func newDialog(title string, content fyne.CanvasObject, win fyne.Window) *modal {
	m := &modal{buttons: container.NewHBox()}
	t := widget.NewLabel(title)
	t.TextStyle.Bold = true
	t.SizeName = theme.SizeNameSubHeadingText
	box := container.NewBorder(t, container.NewVBox(widget.NewSeparator(), container.NewHBox(layout.NewSpacer(), m.buttons)), nil, nil, content)
	m.pop = widget.NewModalPopUp(container.NewPadded(box), win.Canvas())
	return m
}

// SetButtons puts the dialog's buttons at its bottom right, in order.
func (m *modal) SetButtons(buttons []fyne.CanvasObject) {
	m.buttons.Objects = buttons
	m.buttons.Refresh()
}

// Show shows the dialog.
func (m *modal) Show() { m.pop.Show() }

// Hide closes the dialog.
func (m *modal) Hide() { m.pop.Hide() }

// Visible reports whether the dialog is on screen.
func (m *modal) Visible() bool { return m.pop.Visible() }

// stepBar shows where the user is in the flow.
type stepBar struct {
	box   *fyne.Container
	title *widget.Label
	names []*widget.Label
	trail *fyne.Container
}

func newStepBar() *stepBar {
	b := &stepBar{}
	b.title = widget.NewLabelWithStyle(lang.X("app.title", "Mailmover"), fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	icon := widget.NewIcon(theme.MailForwardIcon())
	items := []fyne.CanvasObject{}
	for i, n := range []string{
		lang.X("step.accounts", "1. Accounts"),
		lang.X("step.plan", "2. Plan"),
		lang.X("step.copy", "3. Copy"),
		lang.X("step.result", "4. Result"),
	} {
		if i > 0 {
			items = append(items, widget.NewIcon(theme.NavigateNextIcon()))
		}
		l := widget.NewLabel(n)
		b.names = append(b.names, l)
		items = append(items, l)
	}
	b.trail = container.NewHBox(items...)
	b.box = container.NewBorder(nil, nil, container.NewHBox(icon, b.title), nil,
		container.NewHBox(layout.NewSpacer(), b.trail))
	return b
}

func (b *stepBar) set(s step) {
	for i, l := range b.names {
		cur := step(i+1) == s
		l.TextStyle.Bold = cur
		switch {
		case cur:
			l.Importance = widget.HighImportance
		case step(i+1) < s:
			l.Importance = widget.MediumImportance
		default:
			l.Importance = widget.LowImportance
		}
		l.Refresh()
	}
	if s == stepStart || s > stepDone {
		b.trail.Hide()
	} else {
		b.trail.Show()
	}
}

// page lays out a screen: a title and a line under it, the body, and an
// action bar at the bottom with secondary actions on the left and the one
// primary action on the right.
func page(title, subtitle *widget.Label, body fyne.CanvasObject, left, right []fyne.CanvasObject) fyne.CanvasObject {
	title.SizeName = theme.SizeNameHeadingText
	title.TextStyle.Bold = true
	title.Wrapping = fyne.TextWrapWord
	subtitle.Wrapping = fyne.TextWrapWord
	top := container.NewVBox(title, subtitle)
	bar := container.NewBorder(nil, nil, container.NewHBox(left...), container.NewHBox(right...))
	bottom := container.NewVBox(widget.NewSeparator(), bar)
	return container.NewPadded(container.NewBorder(top, bottom, nil, nil, body))
}

// heading is a bold section label.
func heading(text string) *widget.Label {
	l := widget.NewLabel(text)
	l.TextStyle.Bold = true
	return l
}

// lineIcon places an icon at the height of the first line of the text next
// to it, however many lines that text takes.
func lineIcon(icon *widget.Icon) fyne.CanvasObject {
	line := widget.NewLabel("M").MinSize().Height
	return container.NewVBox(container.New(layout.NewGridWrapLayout(fyne.NewSize(theme.IconInlineSize(), line)), icon))
}

// wrapped is a label that wraps words.
func wrapped(text string) *widget.Label {
	l := widget.NewLabel(text)
	l.Wrapping = fyne.TextWrapWord
	return l
}

func withAlpha(c color.Color, a uint8) color.Color {
	r, g, b, _ := c.RGBA()
	return color.NRGBA{R: uint8(r >> 8), G: uint8(g >> 8), B: uint8(b >> 8), A: a}
}

// maxWidthLayout centres its objects horizontally, no wider than width, so
// that lines stay readable on a wide window.
type maxWidthLayout struct{ width float32 }

func (l maxWidthLayout) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	w := min(size.Width, l.width)
	for _, o := range objs {
		o.Resize(fyne.NewSize(w, size.Height))
		o.Move(fyne.NewPos((size.Width-w)/2, 0))
	}
}

func (l maxWidthLayout) MinSize(objs []fyne.CanvasObject) fyne.Size {
	var m fyne.Size
	for _, o := range objs {
		m = m.Max(o.MinSize())
	}
	return m
}

// minSizeLayout stacks its objects and never reports less than min, so the
// window cannot be made smaller than the screens were designed for.
type minSizeLayout struct{ min fyne.Size }

func (l minSizeLayout) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	for _, o := range objs {
		settle(o, size)
		o.Move(fyne.NewPos(0, 0))
	}
}

// settle lays o out at size twice, the first time a pixel narrower: text
// that wraps reports its height for the width it had at the last layout, so
// a second pass is what makes rows of wrapped text as tall as they need at
// the new width, no more, no less.
func settle(o fyne.CanvasObject, size fyne.Size) {
	if o.Size() != size {
		o.Resize(size.SubtractWidthHeight(1, 0))
	}
	o.Resize(size)
}

func (l minSizeLayout) MinSize(objs []fyne.CanvasObject) fyne.Size {
	m := l.min
	for _, o := range objs {
		m = m.Max(o.MinSize())
	}
	return m
}
