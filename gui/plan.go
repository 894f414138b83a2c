package gui

import (
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"mailmover/core/copier"
	"mailmover/core/imapstore"
)

// planScreen shows what will happen before anything is written: the folder
// mapping, the totals, the quota and the warnings. The user may leave
// folders out and rename targets; nothing is written before Copy.
type planScreen struct {
	ui *UI

	src, dst *imapstore.Config
	plan     *copier.Plan
	// renames maps a source folder name to the target name the user chose;
	// excluded holds the source folders left out.
	renames  map[string]string
	excluded map[string]bool

	title    *widget.Label
	subtitle *widget.Label
	list     *widget.List
	empty    *widget.Label
	warnings *widget.Label
	warnBox  *fyne.Container
	quotaBar *widget.ProgressBar
	quota    *widget.Label
	quotaBox *fyne.Container
	summary  *widget.Label
	back     *widget.Button
	copy     *widget.Button
	busy     *widget.Activity
	status   *widget.Label
	errView  *errorView

	rename *renameDialog

	// dav is the search for contacts and calendars of the two accounts.
	dav       *davJob
	davBox    *fyne.Container
	davRows   *fyne.Container
	davCheck  *widget.Check
	davStatus *widget.Label
	davBusy   *widget.Activity

	content fyne.CanvasObject
}

// Column widths of the folder table; 0 is a column sharing what is left.
var planColumns = []float32{36, 0, 96, 96, 28, 0, 40, 190}

func newPlanScreen(ui *UI) *planScreen {
	p := &planScreen{ui: ui, renames: map[string]string{}, excluded: map[string]bool{}}
	p.title = widget.NewLabel(lang.X("plan.title", "Review the plan"))
	p.subtitle = widget.NewLabel("")
	p.list = widget.NewList(p.length, p.createRow, p.updateRow)
	p.empty = widget.NewLabel(lang.X("plan.empty", "The old mailbox has no folder to copy."))
	p.empty.Hide()
	p.warnings = widget.NewLabel("")
	p.warnings.Wrapping = fyne.TextWrapWord
	p.warnings.Importance = widget.WarningImportance
	p.warnBox = container.NewBorder(nil, nil, lineIcon(widget.NewIcon(theme.NewWarningThemedResource(theme.WarningIcon()))), nil, p.warnings)
	p.warnBox.Hide()
	p.quotaBar = widget.NewProgressBar()
	p.quota = widget.NewLabel("")
	p.quota.Wrapping = fyne.TextWrapWord
	p.quotaBox = container.NewVBox(p.quota, p.quotaBar)
	p.quotaBox.Hide()
	p.summary = widget.NewLabel("")
	p.summary.Wrapping = fyne.TextWrapWord
	p.summary.TextStyle.Bold = true
	p.back = widget.NewButtonWithIcon(lang.X("plan.back", "Back to the accounts"), theme.NavigateBackIcon(), p.onBack)
	p.copy = widget.NewButtonWithIcon("", theme.MailForwardIcon(), p.onCopy)
	p.copy.Importance = widget.HighImportance
	p.busy = widget.NewActivity()
	p.busy.Hide()
	p.status = widget.NewLabel("")
	p.errView = newErrorView(ui.win)

	safe := wrapped(lang.X("plan.safe", "Your old mailbox is only read, never changed, and nothing is deleted on the new one. Nothing is written before you press Copy; you can stop at any time and resume later."))
	safeBox := container.NewBorder(nil, nil, lineIcon(widget.NewIcon(theme.NewSuccessThemedResource(theme.ConfirmIcon()))), nil, safe)

	header := container.New(&columns{widths: planColumns},
		widget.NewLabel(""),
		heading(lang.X("plan.col.source", "Folder on the old mailbox")),
		rightHeading(lang.X("plan.col.messages", "Messages")),
		rightHeading(lang.X("plan.col.size", "Size")),
		widget.NewLabel(""),
		heading(lang.X("plan.col.target", "Folder on the new mailbox")),
		widget.NewLabel(""),
		heading(lang.X("plan.col.what", "What happens")),
	)
	table := container.NewBorder(container.NewVBox(header, widget.NewSeparator()), nil, nil, nil, container.NewStack(p.list, container.NewCenter(p.empty)))
	p.davCheck = widget.NewCheck(lang.X("plan.dav.check", "Also copy contacts and calendars"), p.onDAVInclude)
	p.davCheck.SetChecked(true)
	p.davCheck.Hide()
	p.davStatus = widget.NewLabel("")
	p.davBusy = widget.NewActivity()
	p.davRows = container.NewGridWithColumns(2)
	p.davBox = container.NewVBox(
		container.NewHBox(heading(lang.X("plan.dav", "Contacts and calendars")), p.davBusy, p.davStatus, p.davCheck),
		p.davRows)
	p.davBox.Hide()
	bottom := container.NewVBox(p.davBox, p.warnBox, p.quotaBox, p.errView.box, p.summary)
	body := container.NewBorder(safeBox, bottom, nil, nil, table)
	p.content = page(p.title, p.subtitle, body,
		[]fyne.CanvasObject{p.back},
		[]fyne.CanvasObject{p.busy, p.status, p.copy})
	return p
}

func rightHeading(text string) *widget.Label {
	l := heading(text)
	l.Alignment = fyne.TextAlignTrailing
	return l
}

// reset forgets the plan (leaving the demo, new accounts).
func (p *planScreen) reset() {
	p.src, p.dst, p.plan, p.dav = nil, nil, nil, nil
	p.davBox.Hide()
	p.renames = map[string]string{}
	p.excluded = map[string]bool{}
}

// setPlan shows a fresh plan for two accounts. Choices made for the same
// two accounts are kept.
func (p *planScreen) setPlan(src, dst *imapstore.Config, plan *copier.Plan) {
	if p.src == nil || p.src.String() != src.String() || p.dst.String() != dst.String() {
		p.renames = map[string]string{}
		p.excluded = map[string]bool{}
	}
	p.src, p.dst = src, dst
	p.plan = plan
	warmGlyphs(plan)
	p.applyExclusions()
	p.subtitle.SetText(lang.X("plan.subtitle", "From {{.Source}} to {{.Target}}.", map[string]any{
		"Source": src.Username, "Target": dst.Username}))
	p.errView.show(nil)
	p.refresh()
}

// warmGlyphs measures every folder name of a plan once, so that the fonts
// of scripts the theme lacks (a folder called 日本語) are loaded now, while
// the user reads the plan, and not in the middle of the copy, where loading
// them would hold the window for a moment.
func warmGlyphs(plan *copier.Plan) {
	size := theme.TextSize()
	for _, f := range plan.Folders {
		fyne.MeasureText(f.Source.DisplayName(), size, fyne.TextStyle{})
		fyne.MeasureText(displayTarget(f), size, fyne.TextStyle{})
	}
}

// setDAV shows the search for contacts and calendars under way, then what
// it found.
func (p *planScreen) setDAV(j *davJob) {
	p.dav = j
	p.davRows.Objects = nil
	p.davRows.Refresh()
	p.davCheck.Hide()
	p.davStatus.SetText(lang.X("plan.dav.looking", "looking for them…"))
	p.davStatus.Show()
	p.davBusy.Show()
	p.davBusy.Start()
	p.davBox.Show()
	ui := p.ui
	go func() {
		select {
		case <-j.done:
		case <-ui.ctx.Done():
			return
		}
		ui.do(func() {
			if p.dav == j {
				p.showDAV()
			}
		})
	}()
}

// showDAV shows what the search for contacts and calendars found.
func (p *planScreen) showDAV() {
	j := p.dav
	p.davBusy.Stop()
	p.davBusy.Hide()
	p.davRows.Objects = davRows(j)
	p.davRows.Refresh()
	if len(j.found()) == 0 {
		p.davStatus.SetText(lang.X("plan.dav.none", "only mail is copied"))
		p.davCheck.Hide()
		return
	}
	p.davStatus.Hide()
	p.davCheck.SetChecked(j.include)
	p.davCheck.Show()
}

// onDAVInclude takes contacts and calendars in or out of the copy.
func (p *planScreen) onDAVInclude(on bool) {
	if p.dav != nil {
		p.dav.include = on
	}
}

// davToCopy returns the contacts and calendars the copy takes along: the
// search, if it found any and the user left them in.
func (p *planScreen) davToCopy() *davJob {
	if p.dav == nil || !p.dav.include {
		return nil
	}
	return p.dav
}

// applyExclusions marks the folders left out and recomputes the totals the
// copy will announce.
func (p *planScreen) applyExclusions() {
	pl := p.plan
	pl.Messages, pl.Bytes = 0, 0
	for i := range pl.Folders {
		f := &pl.Folders[i]
		f.Include = !p.excluded[f.Source.Name]
		if f.Include {
			pl.Messages += max(f.Source.Messages, 0)
			pl.Bytes += max(f.Source.Size, 0)
		}
	}
}

func (p *planScreen) refresh() {
	pl := p.plan
	p.list.Refresh()
	if len(pl.Folders) == 0 {
		p.empty.Show()
	} else {
		p.empty.Hide()
	}
	included := pl.Included()
	creates := pl.Creates()
	p.summary.SetText(lang.X("plan.summary", "{{.Folders}} to copy: {{.Created}} created on the new mailbox, {{.Merged}} merged into folders already there.", map[string]any{
		"Folders": formatFolders(len(included)), "Created": formatCount(creates), "Merged": formatCount(len(included) - creates)}))
	if len(included) == 0 || pl.Messages == 0 {
		p.copy.SetText(lang.X("plan.copy.nothing", "Nothing to copy"))
		p.copy.Disable()
	} else {
		p.copy.SetText(lang.X("plan.copy", "Copy {{.Messages}} ({{.Size}})", map[string]any{
			"Messages": formatMessages(pl.Messages), "Size": formatBytes(pl.Bytes)}))
		p.copy.Enable()
	}
	p.showQuota()
	p.showWarnings()
}

// showQuota draws the new mailbox's storage: used now, plus what the copy
// adds, against the limit.
func (p *planScreen) showQuota() {
	q := p.plan.Target.Quota
	if q == nil || q.Limit <= 0 {
		p.quotaBox.Hide()
		return
	}
	after := q.Used + p.plan.Bytes
	p.quotaBar.Max = float64(q.Limit)
	p.quotaBar.SetValue(float64(min(after, q.Limit)))
	data := map[string]any{"Used": formatBytes(q.Used), "Copy": formatBytes(p.plan.Bytes), "Limit": formatBytes(q.Limit)}
	if after > q.Limit {
		p.quota.SetText(lang.X("plan.quota.full", "Storage of the new mailbox: {{.Used}} used + {{.Copy}} to copy does not fit in {{.Limit}}. Leave folders out or ask your provider for more space.", data))
		p.quota.Importance = widget.DangerImportance
	} else {
		p.quota.SetText(lang.X("plan.quota", "Storage of the new mailbox: {{.Used}} used + {{.Copy}} to copy, of {{.Limit}}.", data))
		p.quota.Importance = widget.MediumImportance
	}
	p.quota.Refresh()
	p.quotaBox.Show()
}

// showWarnings lists what the user should know before starting, in plain words.
func (p *planScreen) showWarnings() {
	var w []string
	for _, f := range p.plan.Folders {
		if !f.Include {
			continue
		}
		data := map[string]any{"Folder": f.Source.DisplayName(), "Target": displayTarget(f)}
		switch f.Why {
		case copier.WhyDelimiter:
			data["Delim"] = p.plan.Target.Delim
			w = append(w, lang.X("plan.warn.delim", "“{{.Folder}}” will be called “{{.Target}}”: the new server cannot have “{{.Delim}}” in a folder name.", data))
		case copier.WhyCollision:
			w = append(w, lang.X("plan.warn.collision", "“{{.Folder}}” will be called “{{.Target}}” so that it is not mixed with another folder.", data))
		}
	}
	if l := p.plan.Target.SizeLimit; l > 0 {
		w = append(w, lang.X("plan.warn.limit", "The new server accepts messages up to {{.Size}}; larger ones would be listed as not copied.", map[string]any{"Size": formatBytes(l)}))
	}
	if len(w) == 0 {
		p.warnBox.Hide()
		return
	}
	p.warnings.SetText(strings.Join(w, "\n"))
	p.warnBox.Show()
}

// displayTarget is a target folder as people read it.
func displayTarget(f copier.FolderPlan) string {
	if len(f.TargetPath) > 0 {
		return strings.Join(f.TargetPath, "/")
	}
	return f.Target
}

func (p *planScreen) length() int {
	if p.plan == nil {
		return 0
	}
	return len(p.plan.Folders)
}

func (p *planScreen) createRow() fyne.CanvasObject {
	check := widget.NewCheck("", nil)
	src := widget.NewLabel("")
	src.Truncation = fyne.TextTruncateEllipsis
	msgs := widget.NewLabel("")
	msgs.Alignment = fyne.TextAlignTrailing
	size := widget.NewLabel("")
	size.Alignment = fyne.TextAlignTrailing
	arrow := widget.NewIcon(theme.NavigateNextIcon())
	target := widget.NewLabel("")
	target.Truncation = fyne.TextTruncateEllipsis
	edit := widget.NewButtonWithIcon("", theme.DocumentCreateIcon(), nil)
	edit.Importance = widget.LowImportance
	what := widget.NewLabel("")
	what.Truncation = fyne.TextTruncateEllipsis
	return container.New(&columns{widths: planColumns}, check, src, msgs, size, arrow, target, edit, what)
}

func (p *planScreen) updateRow(id widget.ListItemID, o fyne.CanvasObject) {
	if p.plan == nil || id >= len(p.plan.Folders) {
		return
	}
	f := p.plan.Folders[id]
	objs := o.(*fyne.Container).Objects
	check := objs[0].(*widget.Check)
	check.OnChanged = nil
	check.SetChecked(f.Include)
	check.OnChanged = func(on bool) { p.onInclude(id, on) }
	objs[1].(*widget.Label).SetText(f.Source.DisplayName())
	objs[2].(*widget.Label).SetText(formatCount(max(f.Source.Messages, 0)))
	objs[3].(*widget.Label).SetText(formatBytes(f.Source.Size))
	target := objs[5].(*widget.Label)
	target.SetText(displayTarget(f))
	edit := objs[6].(*widget.Button)
	edit.OnTapped = func() { p.onRename(id) }
	what := objs[7].(*widget.Label)
	switch {
	case !f.Include:
		what.SetText(lang.X("plan.what.left", "left out"))
		what.Importance = widget.LowImportance
		target.Importance = widget.LowImportance
		edit.Disable()
	case f.Exists:
		what.SetText(lang.X("plan.what.merged", "merged into existing"))
		what.Importance = widget.MediumImportance
		target.Importance = widget.MediumImportance
		edit.Enable()
	default:
		what.SetText(lang.X("plan.what.created", "will be created"))
		what.Importance = widget.SuccessImportance
		target.Importance = widget.MediumImportance
		edit.Enable()
	}
	what.Refresh()
	target.Refresh()
}

// onInclude leaves a folder out or takes it back in.
func (p *planScreen) onInclude(id int, on bool) {
	if p.plan == nil || id >= len(p.plan.Folders) {
		return
	}
	name := p.plan.Folders[id].Source.Name
	if on {
		delete(p.excluded, name)
	} else {
		p.excluded[name] = true
	}
	p.applyExclusions()
	p.refresh()
}

// renameDialog asks for a folder's new name on the target.
type renameDialog struct {
	entry *widget.Entry
	ok    *widget.Button
}

// onRename asks for another target name; the plan is then computed again.
func (p *planScreen) onRename(id int) {
	if p.plan == nil || id >= len(p.plan.Folders) {
		return
	}
	f := p.plan.Folders[id]
	entry := widget.NewEntry()
	entry.SetText(f.Target)
	text := wrapped(lang.X("plan.rename.text", "Name of the folder on the new mailbox for “{{.Folder}}”. Use “{{.Delim}}” between levels. An existing folder of that name receives the messages; otherwise it is created.",
		map[string]any{"Folder": f.Source.DisplayName(), "Delim": p.plan.Target.Delim}))
	content := container.NewVBox(text, entry)
	d := newDialog(lang.X("plan.rename.title", "Rename on the new mailbox"), container.NewGridWrap(fyne.NewSize(520, content.MinSize().Height+40), content), p.ui.win)
	rd := &renameDialog{entry: entry}
	cancel := widget.NewButton(lang.X("common.cancel", "Cancel"), func() { d.Hide(); p.rename = nil })
	rd.ok = widget.NewButton(lang.X("plan.rename.ok", "Rename"), func() {
		d.Hide()
		p.rename = nil
		name := strings.TrimSpace(entry.Text)
		if name == "" || name == f.Target {
			return
		}
		p.renames[f.Source.Name] = name
		p.replan()
	})
	rd.ok.Importance = widget.HighImportance
	entry.OnSubmitted = func(string) { rd.ok.OnTapped() }
	d.SetButtons([]fyne.CanvasObject{cancel, rd.ok})
	p.rename = rd
	d.Show()
	p.ui.win.Canvas().Focus(entry)
}

// replan computes the plan again with the user's renames, on a goroutine.
func (p *planScreen) replan() {
	src, dst := p.src, p.dst
	renames := make(map[string]string, len(p.renames))
	for k, v := range p.renames {
		renames[k] = v
	}
	p.setBusy(lang.X("plan.updating", "Updating the plan…"))
	ui := p.ui
	go func() {
		plan, err := copier.MakePlan(ui.ctx, endpoint(sourceSide, src), endpoint(targetSide, dst), copier.Options{Rename: renames})
		ui.do(func() {
			p.setBusy("")
			if err != nil {
				p.errView.show(err)
				return
			}
			p.plan = plan
			p.applyExclusions()
			p.errView.show(nil)
			p.refresh()
		})
	}()
}

// runAgain computes a fresh plan with the same choices and starts copying
// what is new, on a goroutine (from the result screen).
func (p *planScreen) runAgain(done func(err error)) {
	src, dst := p.src, p.dst
	renames := make(map[string]string, len(p.renames))
	for k, v := range p.renames {
		renames[k] = v
	}
	ui := p.ui
	go func() {
		plan, err := copier.MakePlan(ui.ctx, endpoint(sourceSide, src), endpoint(targetSide, dst), copier.Options{Rename: renames})
		ui.do(func() {
			if err != nil {
				done(err)
				return
			}
			p.plan = plan
			p.applyExclusions()
			p.refresh()
			done(nil)
			ui.migrate.start(src, dst, p.plan)
		})
	}()
}

func (p *planScreen) setBusy(text string) {
	p.status.SetText(text)
	if text != "" {
		p.busy.Show()
		p.busy.Start()
		p.copy.Disable()
		p.back.Disable()
		return
	}
	p.busy.Stop()
	p.busy.Hide()
	p.back.Enable()
	if p.plan != nil && p.plan.Messages > 0 {
		p.copy.Enable()
	}
}

func (p *planScreen) onBack() { p.ui.show(stepAccounts) }

// onCopy starts the copy: the user has seen the plan and confirmed it.
func (p *planScreen) onCopy() {
	if p.plan == nil || p.plan.Messages == 0 {
		return
	}
	p.ui.migrate.start(p.src, p.dst, p.plan)
}

// columns lays objects out in a row of columns: fixed widths, and columns
// of width 0 sharing the rest equally.
type columns struct{ widths []float32 }

func (c *columns) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	pad := theme.Padding()
	fixed, flex := float32(0), 0
	for _, w := range c.widths {
		if w == 0 {
			flex++
		}
		fixed += w
	}
	rest := size.Width - fixed - pad*float32(len(c.widths)-1)
	each := float32(0)
	if flex > 0 && rest > 0 {
		each = rest / float32(flex)
	}
	x := float32(0)
	for i, o := range objs {
		w := each
		if i < len(c.widths) && c.widths[i] > 0 {
			w = c.widths[i]
		}
		h := o.MinSize().Height
		o.Resize(fyne.NewSize(w, h))
		o.Move(fyne.NewPos(x, (size.Height-h)/2))
		x += w + pad
	}
}

func (c *columns) MinSize(objs []fyne.CanvasObject) fyne.Size {
	pad := theme.Padding()
	w, h := float32(0), float32(0)
	for i, o := range objs {
		ms := o.MinSize()
		h = max(h, ms.Height)
		if i < len(c.widths) && c.widths[i] > 0 {
			w += c.widths[i]
		} else {
			w += 80
		}
	}
	return fyne.NewSize(w+pad*float32(len(objs)-1), h)
}
