package gui

import (
	"context"
	"errors"
	"net/url"
	"path/filepath"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/storage"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"mailmover/core/copier"
	"mailmover/core/demo"
	"mailmover/core/failure"
	"mailmover/core/localstore"
)

// backupScreen copies every folder of one account into mbox files in a
// folder of this computer, then checks that everything is there.
type backupScreen struct {
	ui *UI

	form   *accountForm
	dir    *widget.Entry
	browse *widget.Button
	run    *widget.Button
	stop   *widget.Button
	open   *widget.Button
	back   *widget.Button

	progress *transferView
	// davNote says what was saved of the contacts and calendars.
	davNote *widget.Label
	errView *errorView

	running bool
	cancel  context.CancelFunc
	// folder is the destination of the last backup.
	folder string
	// verification is the check of the last backup, nil if none ended.
	verification *copier.Verification
	// saved is what the last backup saved of contacts and calendars.
	saved *davSaved

	content fyne.CanvasObject
}

func newBackupScreen(ui *UI) *backupScreen {
	b := &backupScreen{ui: ui}
	b.form = newAccountForm(ui, sourceSide)
	b.form.card.SetTitle(lang.X("backup.account", "Mailbox to back up"))
	b.form.card.SetSubTitle(lang.X("backup.account.sub", "It is only read, never changed."))
	b.dir = widget.NewEntry()
	b.dir.PlaceHolder = lang.X("backup.dir.placeholder", "a folder on this computer or on a USB disk")
	b.browse = widget.NewButtonWithIcon(lang.X("common.browse", "Choose…"), theme.FolderOpenIcon(), func() {
		chooseFolder(ui.win, func(path string) { b.dir.SetText(path) })
	})
	b.run = widget.NewButtonWithIcon(lang.X("backup.run", "Back up"), theme.DownloadIcon(), b.onRun)
	b.run.Importance = widget.HighImportance
	b.stop = widget.NewButtonWithIcon(lang.X("migrate.stop", "Stop"), theme.MediaStopIcon(), b.onStop)
	b.stop.Importance = widget.WarningImportance
	b.stop.Hide()
	b.open = widget.NewButtonWithIcon(lang.X("backup.open", "Open folder"), theme.FolderOpenIcon(), b.onOpen)
	b.open.Hide()
	b.back = widget.NewButtonWithIcon(lang.X("common.back", "Back"), theme.NavigateBackIcon(), func() { ui.show(stepStart) })
	b.progress = newTransferView()
	b.davNote = wrapped("")
	b.davNote.Hide()
	b.errView = newErrorView(ui.win)

	where := widget.NewCard(lang.X("backup.dest", "Where to keep it"),
		lang.X("backup.dest.sub", "One mbox file per mail folder, which most mail programs can open. Backing up again adds only what is new."),
		container.NewVBox(container.NewBorder(nil, nil, nil, b.browse, b.dir)))
	right := container.NewVBox(where, b.progress.box, b.davNote, b.errView.box)
	body := container.NewVScroll(container.NewGridWithColumns(2, container.NewVBox(b.form.card), right))
	title := widget.NewLabel(lang.X("backup.title", "Back up a mailbox"))
	sub := widget.NewLabel(lang.X("backup.subtitle", "Keep a copy of every folder on this computer."))
	b.content = page(title, sub, body,
		[]fyne.CanvasObject{b.back, b.stop},
		[]fyne.CanvasObject{b.open, b.run})
	return b
}

// shown fills the account from the demo, if one runs and the form is
// empty, and forgets the demo's once it has ended.
func (b *backupScreen) shown() {
	d := b.ui.demo
	switch {
	case d != nil && b.form.emailText() == "":
		b.form.fillDemo(demo.SourceEmail, d.Source, lang.X("backup.demo", "Practice mailbox on this computer, with made-up mail."))
	case d == nil && !b.running && b.form.emailText() == demo.SourceEmail:
		b.form.clear()
	}
}

// onRun plans, copies and checks the backup on a goroutine.
func (b *backupScreen) onRun() {
	if b.running {
		return
	}
	b.errView.show(nil)
	cfg, ok := b.form.config()
	if !ok {
		return
	}
	dir := strings.TrimSpace(b.dir.Text)
	if dir == "" {
		b.errView.showText(lang.X("accounts.incomplete", "Something is missing"),
			lang.X("backup.missing.dir", "Choose the folder to keep the backup in."))
		return
	}
	dir = filepath.Clean(dir)
	ui := b.ui
	ctx, cancel := context.WithCancel(ui.ctx)
	b.cancel, b.running, b.folder, b.verification = cancel, true, dir, nil
	b.run.Disable()
	b.open.Hide()
	b.stop.Enable()
	b.stop.Show()
	b.progress.begin(lang.X("backup.reading", "Reading the mailbox…"))
	b.davNote.Hide()
	stateDir := ui.stateDir()
	email, running := b.form.emailText(), ui.demo
	if email != demo.SourceEmail {
		running = nil // another account than the demo's
	}
	go func() {
		defer cancel()
		src, dst := endpoint(sourceSide, cfg), localstore.BackupEndpoint(dir)
		var res *copier.Result
		var v *copier.Verification
		err := ui.fillPassword(sourceSide, cfg)
		if err == nil {
			res, v, err = transfer(ctx, ui, b.progress, src, dst,
				copier.Options{KeepPaths: true}, copier.Options{StateDir: stateDir, KeepPaths: true},
				lang.X("backup.copying", "Copying to {{.Folder}}", map[string]any{"Folder": dir}))
		}
		var saved *davSaved
		if davCfg, _ := davConfigs(running, cfg, nil, email, ""); err == nil && davCfg != nil {
			ui.do(func() { b.progress.setStatus(lang.X("backup.dav", "Saving contacts and calendars…")) })
			s := backupDAV(ctx, davCfg, filepath.Join(dir, davBackupDir))
			saved = &s
		}
		ui.do(func() {
			b.running = false
			b.cancel = nil
			b.run.Enable()
			b.stop.Hide()
			if ui.closing {
				ui.workEnded()
				return
			}
			if err == nil {
				b.form.succeeded(cfg)
			}
			b.verification = v
			b.progress.end(res, v, err, lang.X("backup.ok", "Backup complete: every message is in the folder."))
			b.saved = saved
			if saved != nil {
				text, imp := saved.text()
				b.davNote.SetText(text)
				b.davNote.Importance = imp
				b.davNote.Refresh()
				b.davNote.Show()
			}
			if err != nil && !isCancel(err) {
				b.errView.show(err)
			}
			if res != nil || v != nil {
				b.open.Show()
			}
		})
	}()
}

func (b *backupScreen) onStop() {
	if b.cancel != nil {
		b.stop.Disable()
		b.cancel()
	}
}

// onOpen shows the backup folder in the file manager.
func (b *backupScreen) onOpen() {
	if b.folder == "" {
		return
	}
	u := storage.NewFileURI(b.folder)
	parsed, err := url.Parse(u.String())
	if err != nil {
		return
	}
	if err := b.ui.app.OpenURL(parsed); err != nil {
		b.errView.show(failure.New(failure.Local, failure.ScopeAccount, "open the backup folder", err))
	}
}

// isCancel reports whether err says the user stopped the work.
func isCancel(err error) bool {
	return errors.Is(err, context.Canceled) || failure.KindOf(err) == failure.Cancelled
}

// transfer plans, copies and verifies from src to dst, showing progress in
// view. It runs on a goroutine; view is only touched through ui.do.
func transfer(ctx context.Context, ui *UI, view *transferView, src, dst copier.Endpoint, planOpts, runOpts copier.Options, what string) (*copier.Result, *copier.Verification, error) {
	plan, err := copier.MakePlan(ctx, src, dst, planOpts)
	if err != nil {
		return nil, nil, err
	}
	ui.do(func() { view.planned(plan, what) })
	fd := &feed{}
	stop := flushEvery(ui, fd, view.apply)
	res, err := copier.Run(ctx, src, dst, plan, runOpts, fd.onEvent)
	stop()
	p, _, _ := fd.take()
	ui.do(func() { view.apply(p, nil) })
	if err != nil {
		return res, nil, err
	}
	ui.do(func() { view.setStatus(lang.X("migrate.checking", "comparing both mailboxes…")) })
	v, err := verify(ctx, runOpts.StateDir, src, dst, plan)
	return res, v, err
}

// verify compares both sides and writes the outcome into the pair's journal
// under stateDir, for the report. The journal is the record, not the check:
// a journal that cannot be written does not change the verdict shown.
func verify(ctx context.Context, stateDir string, src, dst copier.Endpoint, plan *copier.Plan) (*copier.Verification, error) {
	v, err := copier.Verify(ctx, src, dst, plan)
	if err == nil && stateDir != "" {
		v.Record(stateDir, src, dst)
	}
	return v, err
}

// transferView shows the progress of a copy outside the migration flow:
// messages and data, the folder being copied, and the verdict at the end.
type transferView struct {
	box       *fyne.Container
	activity  *widget.Activity
	status    *widget.Label
	msgBar    *widget.ProgressBar
	msgCount  *widget.Label
	byteBar   *widget.ProgressBar
	byteCount *widget.Label
	icon      *widget.Icon
	verdict   *widget.Label

	progress copier.Progress
}

func newTransferView() *transferView {
	v := &transferView{}
	v.activity = widget.NewActivity()
	v.status = widget.NewLabel("")
	v.status.Truncation = fyne.TextTruncateEllipsis
	v.msgBar = widget.NewProgressBar()
	v.msgBar.TextFormatter = func() string { return "" }
	v.byteBar = widget.NewProgressBar()
	v.byteBar.TextFormatter = func() string { return "" }
	v.msgCount = widget.NewLabel("")
	v.byteCount = widget.NewLabel("")
	v.icon = widget.NewIcon(nil)
	v.verdict = wrapped("")
	v.verdict.TextStyle.Bold = true
	counter := func(l *widget.Label) fyne.CanvasObject {
		l.Alignment = fyne.TextAlignTrailing
		return container.New(layout.NewGridWrapLayout(fyne.NewSize(240, l.MinSize().Height)), l)
	}
	row := func(bar *widget.ProgressBar, count *widget.Label) fyne.CanvasObject {
		return container.NewBorder(nil, nil, nil, counter(count), container.NewVBox(layout.NewSpacer(), bar, layout.NewSpacer()))
	}
	bars := container.New(layout.NewFormLayout(),
		heading(lang.X("migrate.messages", "Messages")), row(v.msgBar, v.msgCount),
		heading(lang.X("migrate.data", "Data")), row(v.byteBar, v.byteCount))
	v.box = container.NewVBox(
		container.NewBorder(nil, nil, v.activity, nil, v.status),
		bars,
		container.NewBorder(nil, nil, lineIcon(v.icon), nil, v.verdict))
	v.box.Hide()
	return v
}

// begin shows the view at the start of some work.
func (v *transferView) begin(status string) {
	v.progress = copier.Progress{}
	v.box.Show()
	v.activity.Show()
	v.activity.Start()
	v.status.SetText(status)
	v.icon.SetResource(nil)
	v.verdict.SetText("")
	v.show(false)
}

// planned shows the totals of a plan.
func (v *transferView) planned(plan *copier.Plan, what string) {
	v.progress = copier.Progress{TotalMessages: plan.Messages, TotalBytes: plan.Bytes}
	v.status.SetText(what)
	v.show(false)
}

func (v *transferView) setStatus(text string) { setText(v.status, text) }

// apply shows progress (UI goroutine).
func (v *transferView) apply(p copier.Progress, evs []copier.Event) {
	if !p.Started.IsZero() {
		v.progress = p
	}
	for _, e := range evs {
		if e.Kind == copier.EventFolderStart {
			setText(v.status, e.Folder)
		}
	}
	v.show(false)
}

func (v *transferView) show(over bool) {
	p := v.progress
	setText(v.msgCount, lang.X("migrate.msgs", "{{.Done}} of {{.Total}}", map[string]any{
		"Done": formatCount(p.DoneMessages), "Total": formatMessages(p.TotalMessages)}))
	setText(v.byteCount, lang.X("migrate.bytes", "{{.Done}} of {{.Total}}", map[string]any{
		"Done": formatBytes(p.DoneBytes), "Total": formatBytes(p.TotalBytes)}))
	setBar(v.msgBar, float64(p.DoneMessages), float64(p.TotalMessages), over)
	setBar(v.byteBar, float64(p.DoneBytes), float64(p.TotalBytes), over)
}

// end shows the verdict of a copy and its check.
func (v *transferView) end(res *copier.Result, ver *copier.Verification, err error, okText string) {
	v.activity.Stop()
	v.activity.Hide()
	v.show(err == nil)
	switch {
	case err != nil && isCancel(err):
		v.status.SetText(lang.X("migrate.stopped.title", "Stopped"))
		v.icon.SetResource(theme.NewWarningThemedResource(theme.MediaPauseIcon()))
		v.verdict.SetText(lang.X("transfer.stopped", "Stopped. Nothing is lost: starting again goes on where it stopped, without copying anything twice."))
	case err != nil:
		v.status.SetText(lang.X("migrate.failed.title", "The copy stopped"))
		v.icon.SetResource(theme.NewErrorThemedResource(theme.ErrorIcon()))
		v.verdict.SetText(adviceForError(err).Title)
	case ver != nil && ver.OK():
		v.status.SetText(lang.X("transfer.done", "Done"))
		v.icon.SetResource(theme.NewSuccessThemedResource(theme.ConfirmIcon()))
		v.verdict.SetText(okText)
	case ver != nil:
		v.status.SetText(lang.X("transfer.done", "Done"))
		v.icon.SetResource(theme.NewWarningThemedResource(theme.WarningIcon()))
		v.verdict.SetText(lang.X("transfer.missing", "{{.Missing}} missing, {{.Flags}} with other marks, {{.Errors}} folders not checked. Run it again to copy what is missing.",
			map[string]any{"Missing": formatCount(ver.Missing), "Flags": formatCount(ver.FlagDiffs), "Errors": formatCount(ver.Errors)}))
	}
}

// chooseFolder asks for a folder with the system's dialog.
func chooseFolder(win fyne.Window, done func(path string)) {
	d := dialog.NewFolderOpen(func(u fyne.ListableURI, err error) {
		if err != nil || u == nil {
			return
		}
		done(u.Path())
	}, win)
	d.Show()
}

// chooseFile asks for a file to open with the system's dialog.
func chooseFile(win fyne.Window, exts []string, done func(path string)) {
	d := dialog.NewFileOpen(func(r fyne.URIReadCloser, err error) {
		if err != nil || r == nil {
			return
		}
		path := r.URI().Path()
		r.Close()
		done(path)
	}, win)
	if len(exts) > 0 {
		d.SetFilter(storage.NewExtensionFileFilter(exts))
	}
	d.Show()
}
