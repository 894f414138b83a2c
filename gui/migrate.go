package gui

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"mailmover/core/copier"
	"mailmover/core/cutover"
	"mailmover/core/dav"
	"mailmover/core/failure"
	"mailmover/core/imapstore"
	"mailmover/core/state"
)

// flushInterval is how often copy progress reaches the window: about ten
// times a second, however fast the copy goes.
const flushInterval = 100 * time.Millisecond

// maxJournal bounds the journal shown (the full one is on disk).
const maxJournal = 5000

// folderState is what is known of one folder during a copy.
type folderState int

const (
	folderWaiting folderState = iota
	folderCopying
	folderDone
	folderProblems
	folderStopped
)

type folderRow struct {
	name     string
	target   string
	messages int
	// done counts the messages dealt with so far in this run.
	done     int
	state    folderState
	result   *copier.FolderResult
	problems int
}

// journalKind styles a journal line.
type journalKind int

const (
	journalInfo journalKind = iota
	journalDone
	journalWarning
	journalProblem
)

type journalLine struct {
	at     time.Time
	text   string
	detail string
	kind   journalKind
}

// migrateScreen shows a copy as it happens: overall progress in messages
// and bytes, the folder being copied, speed, elapsed time and time left,
// each folder's state, and a live journal with problems highlighted.
type migrateScreen struct {
	ui *UI

	src, dst *imapstore.Config
	plan     *copier.Plan
	// running is set from start until the copy and the check have ended.
	running bool
	// stopping is set when the user asked to stop.
	stopping bool
	cancel   context.CancelFunc
	progress copier.Progress
	finished time.Time
	rows     []folderRow
	rowIndex map[string]int
	journal  []journalLine
	result   *copier.Result
	// dav is the contacts and calendars copied after the mail, nil if none.
	dav *davJob

	title      *widget.Label
	subtitle   *widget.Label
	msgBar     *widget.ProgressBar
	msgText    string
	msgCount   *widget.Label
	byteBar    *widget.ProgressBar
	byteText   string
	byteCount  *widget.Label
	heartbeat  *widget.Activity
	current    *widget.Label
	speed      *widget.Label
	elapsed    *widget.Label
	eta        *widget.Label
	folderList *widget.List
	journalBox *widget.List
	note       *widget.Label
	errView    *errorView
	stop       *widget.Button
	resume     *widget.Button
	back       *widget.Button
	check      *widget.Button

	// icons are made once: an icon is drawn again only when it changes.
	icons  map[folderState]fyne.Resource
	jicons map[journalKind]fyne.Resource

	content fyne.CanvasObject
}

var folderColumns = []float32{28, 0, 150, 230}

func newMigrateScreen(ui *UI) *migrateScreen {
	m := &migrateScreen{ui: ui, rowIndex: map[string]int{}}
	m.icons = map[folderState]fyne.Resource{
		folderWaiting:  theme.NewDisabledResource(theme.RadioButtonIcon()),
		folderCopying:  theme.NewPrimaryThemedResource(theme.MailForwardIcon()),
		folderDone:     theme.NewSuccessThemedResource(theme.ConfirmIcon()),
		folderProblems: theme.NewErrorThemedResource(theme.ErrorIcon()),
		folderStopped:  theme.NewWarningThemedResource(theme.MediaPauseIcon()),
	}
	m.jicons = map[journalKind]fyne.Resource{
		journalInfo:    theme.InfoIcon(),
		journalDone:    theme.NewSuccessThemedResource(theme.ConfirmIcon()),
		journalWarning: theme.NewWarningThemedResource(theme.WarningIcon()),
		journalProblem: theme.NewErrorThemedResource(theme.ErrorIcon()),
	}
	m.title = widget.NewLabel(lang.X("migrate.title", "Copying your mail"))
	m.subtitle = widget.NewLabel("")
	// The counts stand beside the bars, where they read well in both themes.
	m.msgBar = widget.NewProgressBar()
	m.msgBar.TextFormatter = func() string { return "" }
	m.byteBar = widget.NewProgressBar()
	m.byteBar.TextFormatter = func() string { return "" }
	m.msgCount = widget.NewLabel("")
	m.byteCount = widget.NewLabel("")
	m.heartbeat = widget.NewActivity()
	m.current = widget.NewLabel("")
	m.current.Truncation = fyne.TextTruncateEllipsis
	m.speed = widget.NewLabel("")
	m.elapsed = widget.NewLabel("")
	m.eta = widget.NewLabel("")
	m.folderList = widget.NewList(func() int { return len(m.rows) }, m.createFolderRow, m.updateFolderRow)
	m.folderList.OnSelected = func(id widget.ListItemID) { m.folderList.UnselectAll() }
	m.journalBox = widget.NewList(func() int { return len(m.journal) }, m.createJournalRow, m.updateJournalRow)
	m.journalBox.OnSelected = m.onJournalSelected
	m.note = wrapped("")
	m.errView = newErrorView(ui.win)
	m.stop = widget.NewButtonWithIcon(lang.X("migrate.pause", "Pause"), theme.MediaPauseIcon(), m.onStop)
	m.stop.Importance = widget.WarningImportance
	m.resume = widget.NewButtonWithIcon(lang.X("migrate.resume", "Resume"), theme.MediaPlayIcon(), m.onResume)
	m.resume.Importance = widget.HighImportance
	m.back = widget.NewButtonWithIcon(lang.X("migrate.back", "Back to the plan"), theme.NavigateBackIcon(), m.onBack)
	m.check = widget.NewButtonWithIcon(lang.X("migrate.check", "Check what arrived"), theme.SearchIcon(), m.onCheck)

	label := func(s string) *widget.Label {
		l := widget.NewLabel(s)
		l.TextStyle.Bold = true
		return l
	}
	counter := func(l *widget.Label) fyne.CanvasObject {
		l.Alignment = fyne.TextAlignTrailing
		return container.New(layout.NewGridWrapLayout(fyne.NewSize(240, l.MinSize().Height)), l)
	}
	row := func(bar *widget.ProgressBar, count *widget.Label) fyne.CanvasObject {
		return container.NewBorder(nil, nil, nil, counter(count), container.NewVBox(layout.NewSpacer(), bar, layout.NewSpacer()))
	}
	bars := container.New(layout.NewFormLayout(),
		label(lang.X("migrate.messages", "Messages")), row(m.msgBar, m.msgCount),
		label(lang.X("migrate.data", "Data")), row(m.byteBar, m.byteCount))
	stat := func(name string, value *widget.Label) fyne.CanvasObject {
		return container.NewBorder(nil, nil, widget.NewLabel(name), nil, value)
	}
	stats := container.NewGridWithColumns(4,
		container.NewBorder(nil, nil, container.NewHBox(m.heartbeat, widget.NewLabel(lang.X("migrate.now", "Now:"))), nil, m.current),
		stat(lang.X("migrate.speed", "Speed:"), m.speed),
		stat(lang.X("migrate.elapsed", "Elapsed:"), m.elapsed),
		stat(lang.X("migrate.left", "Time left:"), m.eta),
	)
	folders := widget.NewCard("", "", container.NewBorder(heading(lang.X("migrate.folders", "Folders")), nil, nil, nil, m.folderList))
	journal := widget.NewCard("", "", container.NewBorder(heading(lang.X("migrate.journal", "What happened")), nil, nil, nil, m.journalBox))
	split := container.NewHSplit(folders, journal)
	split.Offset = 0.5
	body := container.NewBorder(container.NewVBox(bars, stats, m.errView.box), nil, nil, nil, split)
	m.content = page(m.title, m.subtitle, body,
		[]fyne.CanvasObject{m.stop, m.back, m.note},
		[]fyne.CanvasObject{m.check, m.resume})
	return m
}

// start begins copying plan from src to dst and shows the screen.
func (m *migrateScreen) start(src, dst *imapstore.Config, plan *copier.Plan) {
	if m.running {
		return
	}
	ui := m.ui
	m.src, m.dst, m.plan = src, dst, plan
	m.running, m.stopping = true, false
	m.result = nil
	m.finished = time.Time{}
	m.progress = copier.Progress{TotalMessages: plan.Messages, TotalBytes: plan.Bytes}
	m.rows = m.rows[:0]
	m.rowIndex = map[string]int{}
	for _, f := range plan.Included() {
		m.rowIndex[f.Source.DisplayName()] = len(m.rows)
		m.rows = append(m.rows, folderRow{name: f.Source.DisplayName(), target: displayTarget(f), messages: max(f.Source.Messages, 0)})
	}
	m.journal = m.journal[:0]
	m.log(journalInfo, lang.X("migrate.log.start", "Started: {{.Messages}} ({{.Size}}) in {{.Folders}}.", map[string]any{
		"Messages": formatMessages(plan.Messages), "Size": formatBytes(plan.Bytes), "Folders": formatFolders(len(m.rows))}), "")
	m.title.SetText(lang.X("migrate.title", "Copying your mail"))
	m.subtitle.SetText(lang.X("migrate.subtitle", "From {{.Source}} to {{.Target}}. Your old mailbox is only read; nothing is deleted on the new one.", map[string]any{
		"Source": src.Username, "Target": dst.Username}))
	m.note.SetText(lang.X("migrate.note", "You can stop at any time: Resume goes on where it stopped, without copying anything twice."))
	m.errView.show(nil)
	m.stop.Enable()
	m.stop.Show()
	m.resume.Hide()
	m.back.Hide()
	m.check.Hide()
	m.heartbeat.Show()
	m.heartbeat.Start()
	m.current.SetText(lang.X("migrate.connecting", "connecting…"))
	m.showProgress()
	m.folderList.Refresh()
	m.journalBox.Refresh()
	ui.show(stepMigrate)

	ctx, cancel := context.WithCancel(ui.ctx)
	m.cancel = cancel
	fd := &feed{}
	stateDir := ui.stateDir()
	srcE, dstE := endpoint(sourceSide, src), endpoint(targetSide, dst)
	job := ui.plan.davToCopy()
	m.dav = job
	go func() {
		defer cancel()
		stopFlush := flushEvery(ui, fd, m.apply)
		res, err := copier.Run(ctx, srcE, dstE, plan, copier.Options{StateDir: stateDir}, fd.onEvent)
		stopFlush()
		var v *copier.Verification
		var verr error
		if err == nil && ctx.Err() == nil {
			p, evs, _ := fd.take()
			ui.do(func() {
				m.apply(p, evs)
				m.setChecking()
			})
			v, verr = verify(ctx, stateDir, srcE, dstE, plan)
			markCopy(res, verr == nil && v.OK())
			m.copyDAV(ctx, job)
		}
		p, evs, _ := fd.take()
		ui.do(func() {
			m.apply(p, evs)
			m.end(ctx, res, err, v, verr)
		})
	}()
}

// copyDAV copies the contacts and calendars found, after the mail, on the
// copy's goroutine. It waits for their search if it has not ended yet.
func (m *migrateScreen) copyDAV(ctx context.Context, job *davJob) {
	if job == nil {
		return
	}
	select {
	case <-job.done:
	case <-ctx.Done():
		return
	}
	parts := job.found()
	if len(parts) == 0 {
		return
	}
	ui := m.ui
	ui.do(func() {
		m.title.SetText(lang.X("migrate.dav.title", "Copying contacts and calendars"))
		m.current.SetText(lang.X("migrate.dav", "contacts and calendars…"))
		m.log(journalInfo, lang.X("migrate.log.dav", "Mail checked; copying contacts and calendars."), "")
		m.journalBox.Refresh()
		m.journalBox.ScrollToBottom()
	})
	copyDAV(ctx, parts, func(kind dav.Kind, r dav.CollectionResult) {
		ui.do(func() {
			data := map[string]any{"What": davCollectionWord(kind), "Name": r.Source, "Copied": formatCount(r.Copied), "Existing": formatCount(r.Existing)}
			switch {
			case r.Err != "":
				m.log(journalProblem, lang.X("migrate.log.davfailed", "{{.What}} “{{.Name}}”: stopped by a problem.", data), r.Err)
			case r.Failed > 0:
				data["Failed"] = formatCount(r.Failed)
				m.log(journalProblem, lang.X("migrate.log.davproblems", "{{.What}} “{{.Name}}”: {{.Copied}} copied, {{.Existing}} already there, {{.Failed}} not copied.", data), "")
			default:
				m.log(journalDone, lang.X("migrate.log.davdone", "{{.What}} “{{.Name}}”: {{.Copied}} copied, {{.Existing}} already there.", data), "")
			}
			m.journalBox.Refresh()
			m.journalBox.ScrollToBottom()
		})
	})
}

// markCopy records a finished copy in the switch-over checklist of the
// pair. The checklist is a convenience: failing to write it is not worth
// troubling the user over a copy that worked, so errors are dropped.
func markCopy(res *copier.Result, verified bool) {
	if res == nil || res.StateDir == "" {
		return
	}
	d, err := state.Open(res.StateDir)
	if err != nil {
		return
	}
	cutover.MarkCopy(d, verified, "")
	d.Close()
}

// feed collects events from the copy's workers between two flushes: the
// latest progress, every other event, none dropped, and for each folder one
// progress event summing the messages dealt with there since the last take.
type feed struct {
	mu       sync.Mutex
	progress copier.Progress
	events   []copier.Event
	// counted maps a folder to its summed progress event in events.
	counted map[string]int
	dirty   bool
}

// onEvent is copier.Run's callback; it runs on worker goroutines.
func (f *feed) onEvent(e copier.Event) {
	f.mu.Lock()
	defer f.mu.Unlock()
	// Snapshots from two workers may arrive out of order: keep the furthest.
	if e.Progress.DoneMessages >= f.progress.DoneMessages || e.Kind == copier.EventStart || e.Kind == copier.EventDone {
		f.progress = e.Progress
	}
	switch {
	case e.Kind != copier.EventProgress:
		f.events = append(f.events, e)
	case e.Messages > 0:
		if i, ok := f.counted[e.Folder]; ok {
			f.events[i].Messages += e.Messages
			break
		}
		if f.counted == nil {
			f.counted = map[string]int{}
		}
		f.counted[e.Folder] = len(f.events)
		f.events = append(f.events, copier.Event{Kind: copier.EventProgress, Folder: e.Folder, Messages: e.Messages})
	}
	f.dirty = true
}

// take returns what arrived since the last take.
func (f *feed) take() (copier.Progress, []copier.Event, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	evs, dirty := f.events, f.dirty
	f.events, f.dirty = nil, false
	clear(f.counted)
	return f.progress, evs, dirty
}

// pumpUI runs flush on the UI goroutine about ten times a second until the
// returned func is called (which waits for the pump to end). A flush is not
// posted while the previous one waits to run, so a busy window is never sent
// more.
func pumpUI(ui *UI, flush func()) (stop func()) {
	done := make(chan struct{})
	var pending atomic.Bool
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(flushInterval)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
			}
			if !pending.CompareAndSwap(false, true) {
				continue // the last flush has not run yet
			}
			ui.do(func() {
				pending.Store(false)
				flush()
			})
		}
	})
	return func() {
		close(done)
		wg.Wait()
	}
}

// flushEvery brings a feed to the window through apply about ten times a
// second; the returned func stops it.
func flushEvery(ui *UI, fd *feed, apply func(copier.Progress, []copier.Event)) (stop func()) {
	return pumpUI(ui, func() {
		p, evs, _ := fd.take()
		apply(p, evs)
	})
}

// apply shows progress and events on the UI goroutine.
func (m *migrateScreen) apply(p copier.Progress, evs []copier.Event) {
	if !p.Started.IsZero() {
		m.progress = p
	}
	changed := map[int]bool{}
	lines := len(m.journal)
	for _, e := range evs {
		switch e.Kind {
		case copier.EventFolderStart:
			m.setRow(e.Folder, func(r *folderRow) { r.state = folderCopying })
		case copier.EventProgress:
			m.setRow(e.Folder, func(r *folderRow) { r.done += e.Messages })
			setText(m.current, e.Folder)
		case copier.EventFolderDone:
			m.folderDone(e)
		case copier.EventProblem:
			m.problem(e.Problem)
		case copier.EventReconnect:
			m.log(journalWarning, lang.X("migrate.log.reconnect", "Connection trouble, trying again in a moment."), e.Message)
		}
		if i, ok := m.rowIndex[e.Folder]; ok {
			changed[i] = true
		}
	}
	// Only what changed is drawn again: the window stays light however
	// many folders and journal lines there are.
	for i := range changed {
		m.folderList.RefreshItem(i)
	}
	if len(m.journal) != lines {
		m.journalBox.Refresh()
		m.journalBox.ScrollToBottom()
	}
	m.showProgress()
	if m.ui.shots != nil {
		m.ui.shots.progress(m.progress)
	}
}

func (m *migrateScreen) setRow(name string, f func(*folderRow)) {
	if i, ok := m.rowIndex[name]; ok {
		f(&m.rows[i])
	}
}

func (m *migrateScreen) folderDone(e copier.Event) {
	res := e.Result
	if res == nil {
		return
	}
	m.setRow(e.Folder, func(r *folderRow) {
		r.result = res
		switch {
		case m.stopping && res.Copied+res.Existing+res.Failed < res.Messages:
			r.state = folderStopped
		case res.Failed > 0 || res.Err != "" || r.problems > 0:
			r.state = folderProblems
		default:
			r.state = folderDone
		}
	})
	data := map[string]any{"Folder": e.Folder, "Copied": formatCount(res.Copied), "Existing": formatCount(res.Existing)}
	switch {
	case res.Err != "":
		m.log(journalProblem, lang.X("migrate.log.folderfailed", "{{.Folder}}: stopped by a problem.", data), res.Err)
	case res.Failed > 0:
		data["Failed"] = formatCount(res.Failed)
		m.log(journalProblem, lang.X("migrate.log.folderproblems", "{{.Folder}}: {{.Copied}} copied, {{.Existing}} already there, {{.Failed}} not copied.", data), "")
	case res.Unchanged:
		m.log(journalDone, lang.X("migrate.log.unchanged", "{{.Folder}}: nothing new since last time.", data), "")
	default:
		m.log(journalDone, lang.X("migrate.log.folderdone", "{{.Folder}}: {{.Copied}} copied, {{.Existing}} already there.", data), "")
	}
}

func (m *migrateScreen) problem(p *copier.Problem) {
	if p == nil {
		return
	}
	m.setRow(p.Folder, func(r *folderRow) { r.problems++ })
	a := adviceFor(p.Kind)
	var text string
	if p.Subject != "" || p.From != "" {
		text = lang.X("migrate.log.message", "{{.Folder}}: “{{.Subject}}” from {{.From}} was not copied: {{.Why}}", map[string]any{
			"Folder": p.Folder, "Subject": p.Subject, "From": p.From, "Why": a.Title})
	} else {
		text = lang.X("migrate.log.problem", "{{.Folder}}: {{.Why}}", map[string]any{"Folder": p.Folder, "Why": a.Title})
	}
	m.log(journalProblem, text, a.Text+"\n\n"+p.Err)
}

// log adds a journal line.
func (m *migrateScreen) log(kind journalKind, text, detail string) {
	m.journal = append(m.journal, journalLine{at: time.Now(), text: text, detail: detail, kind: kind})
	if len(m.journal) > maxJournal {
		m.journal = append(m.journal[:0], m.journal[len(m.journal)-maxJournal:]...)
	}
}

// showProgress draws the counters.
func (m *migrateScreen) showProgress() {
	p := m.progress
	m.msgText = lang.X("migrate.msgs", "{{.Done}} of {{.Total}}", map[string]any{
		"Done": formatCount(p.DoneMessages), "Total": formatMessages(p.TotalMessages)})
	m.byteText = lang.X("migrate.bytes", "{{.Done}} of {{.Total}}", map[string]any{
		"Done": formatBytes(p.DoneBytes), "Total": formatBytes(p.TotalBytes)})
	setText(m.msgCount, m.msgText)
	setText(m.byteCount, m.byteText)
	setBar(m.msgBar, float64(p.DoneMessages), float64(p.TotalMessages), !m.running)
	setBar(m.byteBar, float64(p.DoneBytes), float64(p.TotalBytes), !m.running)
	now := time.Now()
	if !m.finished.IsZero() {
		now = m.finished
	}
	if p.Started.IsZero() {
		setText(m.speed, "–")
		setText(m.elapsed, "–")
		setText(m.eta, lang.X("migrate.eta.unknown", "estimating…"))
		return
	}
	msgRate, byteRate := p.Rate(now)
	setText(m.speed, lang.X("migrate.rate", "{{.Bytes}}, {{.Messages}} msg/s", map[string]any{
		"Bytes": formatRate(byteRate), "Messages": formatCount(int(msgRate + 0.5))}))
	setText(m.elapsed, formatDuration(now.Sub(p.Started)))
	switch eta := p.ETA(now); {
	case !m.running || p.DoneBytes >= p.TotalBytes:
		setText(m.eta, "–")
	case eta <= 0:
		setText(m.eta, lang.X("migrate.eta.unknown", "estimating…"))
	case eta < time.Minute:
		setText(m.eta, lang.X("migrate.eta.soon", "less than a minute"))
	default:
		setText(m.eta, lang.X("migrate.eta", "about {{.Time}}", map[string]any{"Time": formatDuration(eta.Round(10 * time.Second))}))
	}
}

// setChecking says the copy is over and the check under way.
func (m *migrateScreen) setChecking() {
	m.title.SetText(lang.X("migrate.checking.title", "Checking that everything arrived"))
	m.current.SetText(lang.X("migrate.checking", "comparing both mailboxes…"))
	m.log(journalInfo, lang.X("migrate.log.checking", "Copy finished; checking every folder on the new mailbox."), "")
	m.journalBox.Refresh()
	m.journalBox.ScrollToBottom()
}

// end handles the end of a copy on the UI goroutine.
func (m *migrateScreen) end(ctx context.Context, res *copier.Result, err error, v *copier.Verification, verr error) {
	m.running = false
	m.finished = time.Now()
	m.result = res
	m.heartbeat.Stop()
	m.heartbeat.Hide()
	m.stop.Hide()
	m.showProgress()
	ui := m.ui
	if ui.closing {
		ui.workEnded()
		return
	}
	switch {
	case m.stopping || errors.Is(err, context.Canceled) || failure.KindOf(err) == failure.Cancelled:
		m.markStopped()
		m.title.SetText(lang.X("migrate.paused.title", "Paused"))
		m.current.SetText("–")
		m.note.SetText(lang.X("migrate.stopped", "Nothing is lost. Resume goes on where it stopped, without copying anything twice."))
		m.log(journalWarning, lang.X("migrate.log.paused", "Paused by you."), "")
		m.resume.SetText(lang.X("migrate.resume", "Resume"))
		m.resume.Show()
		m.back.Show()
		m.check.Show()
	case err != nil:
		m.markStopped()
		m.title.SetText(lang.X("migrate.failed.title", "The copy stopped"))
		m.current.SetText("–")
		m.errView.show(err)
		a := adviceForError(err)
		m.log(journalProblem, a.Title, err.Error())
		m.note.SetText(lang.X("migrate.failed", "What was copied stays copied. Try again once the cause is fixed: it resumes where it stopped."))
		m.resume.SetText(lang.X("migrate.retry", "Try again"))
		m.resume.Show()
		m.back.Show()
		m.check.Show()
	default:
		ui.done.set(m.src, m.dst, m.plan, res, v, verr)
		ui.done.setDAV(m.dav)
		ui.show(stepDone)
	}
	m.folderList.Refresh()
	m.journalBox.Refresh()
	m.journalBox.ScrollToBottom()
}

// markStopped marks the folders left unfinished.
func (m *migrateScreen) markStopped() {
	for i := range m.rows {
		if m.rows[i].state == folderWaiting || m.rows[i].state == folderCopying {
			m.rows[i].state = folderStopped
		}
	}
}

// onStop cancels the copy: it stops within a second, and the next run
// resumes where it stopped.
func (m *migrateScreen) onStop() {
	if !m.running || m.cancel == nil {
		return
	}
	m.stopping = true
	m.stop.Disable()
	m.current.SetText(lang.X("migrate.pausing", "pausing…"))
	m.cancel()
}

// onResume runs the same plan again; what is already there is skipped.
func (m *migrateScreen) onResume() {
	if m.plan == nil {
		return
	}
	m.start(m.src, m.dst, m.plan)
}

func (m *migrateScreen) onBack() { m.ui.show(stepPlan) }

// onCheck compares both mailboxes after a stopped copy and shows the result.
func (m *migrateScreen) onCheck() {
	if m.running || m.plan == nil {
		return
	}
	m.check.Disable()
	m.resume.Disable()
	m.heartbeat.Show()
	m.heartbeat.Start()
	m.current.SetText(lang.X("migrate.checking", "comparing both mailboxes…"))
	ui := m.ui
	src, dst, plan, res := m.src, m.dst, m.plan, m.result
	stateDir := ui.stateDir()
	go func() {
		v, err := verify(ui.ctx, stateDir, endpoint(sourceSide, src), endpoint(targetSide, dst), plan)
		ui.do(func() {
			m.heartbeat.Stop()
			m.heartbeat.Hide()
			m.check.Enable()
			m.resume.Enable()
			m.current.SetText("–")
			ui.done.set(src, dst, plan, res, v, err)
			ui.done.setDAV(nil)
			ui.show(stepDone)
		})
	}()
}

func (m *migrateScreen) createFolderRow() fyne.CanvasObject {
	icon := widget.NewIcon(theme.RadioButtonIcon())
	name := widget.NewLabel("")
	name.Truncation = fyne.TextTruncateEllipsis
	count := widget.NewLabel("")
	count.Alignment = fyne.TextAlignTrailing
	status := widget.NewLabel("")
	status.Truncation = fyne.TextTruncateEllipsis
	bar := widget.NewProgressBar()
	bar.Hide()
	return container.New(&columns{widths: folderColumns}, icon, name, count, container.NewStack(status, container.NewVBox(layout.NewSpacer(), bar, layout.NewSpacer())))
}

func (m *migrateScreen) updateFolderRow(id widget.ListItemID, o fyne.CanvasObject) {
	if id >= len(m.rows) {
		return
	}
	r := m.rows[id]
	objs := o.(*fyne.Container).Objects
	icon, name, count := objs[0].(*widget.Icon), objs[1].(*widget.Label), objs[2].(*widget.Label)
	cell := objs[3].(*fyne.Container).Objects
	status, bar := cell[0].(*widget.Label), cell[1].(*fyne.Container).Objects[1].(*widget.ProgressBar)
	setText(name, r.name)
	setIcon(icon, m.icons[r.state])
	if r.state == folderCopying && r.messages > 0 {
		setText(count, lang.X("migrate.folder.count", "{{.Done}} of {{.Total}}", map[string]any{"Done": formatCount(min(r.done, r.messages)), "Total": formatCount(r.messages)}))
		status.Hide()
		setBar(bar, float64(r.done), float64(r.messages), false)
		bar.Show()
		return
	}
	bar.Hide()
	status.Show()
	setText(count, formatMessages(r.messages))
	switch r.state {
	case folderWaiting:
		setText(status, lang.X("migrate.folder.waiting", "waiting"))
		setImportance(status, widget.MediumImportance)
	case folderCopying:
		setText(status, lang.X("migrate.folder.copying", "copying…"))
		setImportance(status, widget.HighImportance)
	case folderDone:
		setText(status, folderSummary(r))
		setImportance(status, widget.SuccessImportance)
	case folderProblems:
		n := r.problems
		if r.result != nil {
			n = max(n, r.result.Failed)
		}
		setText(status, lang.XN("migrate.folder.problems", "{{.N}} not copied", n, map[string]any{"N": formatCount(n)}))
		setImportance(status, widget.DangerImportance)
	case folderStopped:
		setText(status, lang.X("migrate.folder.stopped", "stopped, resumes next time"))
		setImportance(status, widget.WarningImportance)
	}
}

// folderSummary says what happened to a finished folder.
func folderSummary(r folderRow) string {
	if r.result == nil {
		return lang.X("migrate.folder.done", "done")
	}
	if r.result.Existing > 0 && r.result.Copied == 0 {
		return lang.X("migrate.folder.already", "already there")
	}
	return lang.X("migrate.folder.copied", "{{.N}} copied", map[string]any{"N": formatCount(r.result.Copied)})
}

func (m *migrateScreen) createJournalRow() fyne.CanvasObject {
	at := widget.NewLabel("00:00:00")
	at.TextStyle.Monospace = true
	icon := widget.NewIcon(nil)
	text := widget.NewLabel("")
	text.Truncation = fyne.TextTruncateEllipsis
	return container.NewBorder(nil, nil, container.NewHBox(at, icon), nil, text)
}

func (m *migrateScreen) updateJournalRow(id widget.ListItemID, o fyne.CanvasObject) {
	if id >= len(m.journal) {
		return
	}
	l := m.journal[id]
	c := o.(*fyne.Container)
	text := c.Objects[0].(*widget.Label)
	left := c.Objects[1].(*fyne.Container)
	at, icon := left.Objects[0].(*widget.Label), left.Objects[1].(*widget.Icon)
	setText(at, l.at.Format("15:04:05"))
	setText(text, l.text)
	setIcon(icon, m.jicons[l.kind])
	switch l.kind {
	case journalProblem:
		setImportance(text, widget.DangerImportance)
	case journalWarning:
		setImportance(text, widget.WarningImportance)
	case journalDone:
		setImportance(text, widget.MediumImportance)
	default:
		setImportance(text, widget.MediumImportance)
	}
}

// onJournalSelected shows a journal line in full, with its details.
func (m *migrateScreen) onJournalSelected(id widget.ListItemID) {
	m.journalBox.UnselectAll()
	if id >= len(m.journal) {
		return
	}
	l := m.journal[id]
	text := l.text
	if l.detail != "" {
		text += "\n\n" + l.detail
	}
	showDetails(m.ui.win, lang.X("migrate.line.title", "Journal"), text)
}

// setText changes a label only if its text changes: drawing text again is
// the costly part of an update.
func setText(l *widget.Label, text string) {
	if l.Text != text {
		l.SetText(text)
	}
}

// setBar shows done of total on a progress bar; an empty total is complete
// once over.
func setBar(b *widget.ProgressBar, done, total float64, over bool) {
	if total <= 0 {
		total, done = 1, 0
		if over {
			done = 1
		}
	}
	b.Max = total
	b.SetValue(min(done, total))
}

// setImportance restyles a label only if its style changes.
func setImportance(l *widget.Label, imp widget.Importance) {
	if l.Importance != imp {
		l.Importance = imp
		l.Refresh()
	}
}

// setIcon changes an icon only if it changes.
func setIcon(i *widget.Icon, r fyne.Resource) {
	if i.Resource != r {
		i.SetResource(r)
	}
}
