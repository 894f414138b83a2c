package gui

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"mailmover/core/atomicfile"
	"mailmover/core/failure"
	"mailmover/core/report"
)

// reportScreen shows the record of past migrations made on this computer:
// for each pair of mailboxes, the verification, every folder's counts on
// both sides, each step with its time, and what was not copied; and saves
// it as a printable HTML page or a CSV table.
type reportScreen struct {
	ui *UI

	report *report.Report
	// current is the index of the pair shown, -1 for none.
	current int
	// from is the screen to go back to.
	from step

	title    *widget.Label
	subtitle *widget.Label
	pairs    *widget.List
	empty    *widget.Label
	verdict  *widget.Label
	icon     *widget.Icon
	folders  *widget.List
	steps    *widget.List
	problems *widget.List
	tabs     *container.AppTabs
	probTab  *container.TabItem
	loading  *widget.Activity
	errView  *errorView
	back     *widget.Button
	saveHTML *widget.Button
	saveCSV  *widget.Button
	saved    *widget.Label

	content fyne.CanvasObject
}

// Column widths of the report's tables; 0 shares what is left.
var (
	reportFolderColumns  = []float32{0, 0, 150, 150, 90, 150}
	reportStepColumns    = []float32{170, 220, 0}
	reportProblemColumns = []float32{170, 160, 0, 0}
)

func newReportScreen(ui *UI) *reportScreen {
	r := &reportScreen{ui: ui, current: -1}
	r.title = widget.NewLabel(lang.X("report.title", "Migration reports"))
	r.subtitle = widget.NewLabel(lang.X("report.subtitle", "Every copy made with Mailmover on this computer: when it ran, what arrived, and what did not."))
	r.pairs = widget.NewList(r.pairCount, r.createPair, r.updatePair)
	r.pairs.OnSelected = r.onSelect
	r.empty = wrapped(lang.X("report.empty", "No migration yet on this computer. Once you copy a mailbox, its report appears here."))
	r.empty.Alignment = fyne.TextAlignCenter
	r.empty.Hide()
	r.verdict = wrapped("")
	r.verdict.TextStyle.Bold = true
	r.icon = widget.NewIcon(nil)
	r.folders = widget.NewList(r.folderCount, r.createFolder, r.updateFolder)
	r.folders.OnSelected = func(widget.ListItemID) { r.folders.UnselectAll() }
	r.steps = widget.NewList(r.stepCount, r.createStep, r.updateStep)
	r.steps.OnSelected = func(widget.ListItemID) { r.steps.UnselectAll() }
	r.problems = widget.NewList(r.problemCount, r.createProblem, r.updateProblem)
	r.problems.OnSelected = r.onProblem
	r.loading = widget.NewActivity()
	r.loading.Hide()
	r.errView = newErrorView(ui.win)
	r.saved = widget.NewLabel("")
	r.saved.Truncation = fyne.TextTruncateEllipsis
	r.back = widget.NewButtonWithIcon(lang.X("report.back", "Back"), theme.NavigateBackIcon(), r.onBack)
	r.saveCSV = widget.NewButtonWithIcon(lang.X("report.csv", "Save as CSV…"), theme.DocumentSaveIcon(), func() { r.onSave("csv") })
	r.saveHTML = widget.NewButtonWithIcon(lang.X("report.html", "Save as web page…"), theme.DocumentSaveIcon(), func() { r.onSave("html") })
	r.saveHTML.Importance = widget.HighImportance

	folderHead := container.New(&columns{widths: reportFolderColumns},
		heading(lang.X("report.col.folder", "Folder")),
		heading(lang.X("report.col.target", "New folder")),
		rightHeading(lang.X("report.col.old", "Old mailbox")),
		rightHeading(lang.X("report.col.new", "New mailbox")),
		rightHeading(lang.X("report.col.copied", "Copied")),
		heading(lang.X("report.col.result", "Result")))
	stepHead := container.New(&columns{widths: reportStepColumns},
		heading(lang.X("report.col.when", "When")),
		heading(lang.X("report.col.what", "What")),
		heading(lang.X("report.col.details", "Details")))
	problemHead := container.New(&columns{widths: reportProblemColumns},
		heading(lang.X("report.col.when", "When")),
		heading(lang.X("report.col.folder", "Folder")),
		heading(lang.X("report.col.message", "Message")),
		heading(lang.X("report.col.why", "Why")))
	table := func(head fyne.CanvasObject, list *widget.List) fyne.CanvasObject {
		return container.NewBorder(container.NewVBox(head, widget.NewSeparator()), nil, nil, nil, list)
	}
	r.probTab = container.NewTabItem(lang.X("report.tab.problems", "Not copied"), table(problemHead, r.problems))
	r.tabs = container.NewAppTabs(
		container.NewTabItem(lang.X("report.tab.folders", "Folders"), table(folderHead, r.folders)),
		container.NewTabItem(lang.X("report.tab.steps", "Steps"), table(stepHead, r.steps)),
		r.probTab,
	)
	detail := container.NewBorder(container.NewBorder(nil, nil, lineIcon(r.icon), nil, r.verdict), nil, nil, nil, r.tabs)
	left := widget.NewCard("", "", container.NewBorder(heading(lang.X("report.pairs", "Mailboxes")), nil, nil, nil, r.pairs))
	split := container.NewHSplit(left, detail)
	split.Offset = 0.28
	body := container.NewBorder(r.errView.box, nil, nil, nil, container.NewStack(split, container.NewCenter(r.empty)))
	r.content = page(r.title, r.subtitle, body,
		[]fyne.CanvasObject{r.back, r.loading, r.saved},
		[]fyne.CanvasObject{r.saveCSV, r.saveHTML})
	return r
}

// open shows the screen, coming from the screen from.
func (r *reportScreen) open(from step) {
	r.from = from
	r.ui.show(stepReport)
}

// shown reads the journals again, on a goroutine: a run may have ended.
func (r *reportScreen) shown() {
	r.loading.Show()
	r.loading.Start()
	r.saved.SetText("")
	ui := r.ui
	dir := ui.stateDir()
	go func() {
		rep, err := loadReport(dir)
		ui.do(func() {
			r.loading.Stop()
			r.loading.Hide()
			r.errView.show(err)
			r.set(rep)
		})
	}()
}

// loadReport reads every journal under dir; no journal at all is an empty
// report, not an error.
func loadReport(dir string) (*report.Report, error) {
	rep, err := report.Load(dir)
	if errors.Is(err, report.ErrNoJournal) {
		return &report.Report{}, nil
	}
	if err != nil {
		return nil, failure.New(failure.Local, failure.ScopeAccount, "read the migration journals", err)
	}
	return rep, nil
}

// set shows a report, the most recent pair selected.
func (r *reportScreen) set(rep *report.Report) {
	r.report = rep
	n := r.pairCount()
	if n == 0 {
		r.empty.Show()
		r.saveCSV.Disable()
		r.saveHTML.Disable()
	} else {
		r.empty.Hide()
		r.saveCSV.Enable()
		r.saveHTML.Enable()
	}
	r.pairs.Refresh()
	r.current = -1
	if n > 0 {
		latest := 0
		for i, a := range rep.Accounts {
			if lastTime(a).After(lastTime(rep.Accounts[latest])) {
				latest = i
			}
		}
		r.pairs.Select(latest)
	} else {
		r.showPair()
	}
}

// lastTime is when a pair's last step happened.
func lastTime(a report.Account) (t time.Time) {
	for _, s := range a.Steps {
		if s.Time.After(t) {
			t = s.Time
		}
	}
	return t
}

func (r *reportScreen) onSelect(id widget.ListItemID) {
	r.current = id
	r.showPair()
}

// pair returns the pair shown, or nil.
func (r *reportScreen) pair() *report.Account {
	if r.report == nil || r.current < 0 || r.current >= len(r.report.Accounts) {
		return nil
	}
	return &r.report.Accounts[r.current]
}

// showPair fills the detail side for the selected pair.
func (r *reportScreen) showPair() {
	a := r.pair()
	switch {
	case a == nil:
		r.verdict.SetText("")
		r.icon.SetResource(nil)
	case a.Verification == "":
		r.verdict.SetText(lang.X("report.unverified", "Not checked yet: copy again or use “Check what arrived” to compare both mailboxes."))
		r.verdict.Importance = widget.WarningImportance
		r.icon.SetResource(theme.NewWarningThemedResource(theme.WarningIcon()))
	case a.Complete:
		r.verdict.SetText(lang.X("report.complete", "Checked {{.When}}: every message is on the new mailbox, with its flags.", map[string]any{
			"When": formatDate(a.VerifiedAt)}))
		r.verdict.Importance = widget.SuccessImportance
		r.icon.SetResource(theme.NewSuccessThemedResource(theme.ConfirmIcon()))
	default:
		r.verdict.SetText(lang.X("report.incomplete", "Checked {{.When}}: not everything is on the new mailbox yet. {{.Detail}}", map[string]any{
			"When": formatDate(a.VerifiedAt), "Detail": a.Verification}))
		r.verdict.Importance = widget.DangerImportance
		r.icon.SetResource(theme.NewErrorThemedResource(theme.ErrorIcon()))
	}
	r.verdict.Refresh()
	n := 0
	if a != nil {
		n = len(a.Problems)
	}
	r.probTab.Text = lang.X("report.tab.problemsn", "Not copied ({{.N}})", map[string]any{"N": formatCount(n)})
	r.tabs.Refresh()
	r.folders.Refresh()
	r.steps.Refresh()
	r.problems.Refresh()
}

func (r *reportScreen) pairCount() int {
	if r.report == nil {
		return 0
	}
	return len(r.report.Accounts)
}

func (r *reportScreen) createPair() fyne.CanvasObject {
	name := widget.NewLabel("")
	name.Truncation = fyne.TextTruncateEllipsis
	name.TextStyle.Bold = true
	target := widget.NewLabel("")
	target.Truncation = fyne.TextTruncateEllipsis
	return container.NewBorder(nil, nil, widget.NewIcon(nil), nil, container.NewVBox(name, target))
}

func (r *reportScreen) updatePair(id widget.ListItemID, o fyne.CanvasObject) {
	if r.report == nil || id >= len(r.report.Accounts) {
		return
	}
	a := r.report.Accounts[id]
	c := o.(*fyne.Container)
	texts := c.Objects[0].(*fyne.Container).Objects
	icon := c.Objects[1].(*widget.Icon)
	setText(texts[0].(*widget.Label), a.Source)
	setText(texts[1].(*widget.Label), lang.X("report.to", "to {{.Target}}", map[string]any{"Target": a.Target}))
	switch {
	case a.Verification == "":
		setIcon(icon, theme.NewWarningThemedResource(theme.QuestionIcon()))
	case a.Complete:
		setIcon(icon, theme.NewSuccessThemedResource(theme.ConfirmIcon()))
	default:
		setIcon(icon, theme.NewErrorThemedResource(theme.ErrorIcon()))
	}
}

func (r *reportScreen) folderCount() int {
	if a := r.pair(); a != nil {
		return len(a.Folders)
	}
	return 0
}

// cells makes a row of labels laid out in columns.
func cells(widths []float32, right ...int) fyne.CanvasObject {
	objs := make([]fyne.CanvasObject, len(widths))
	for i := range objs {
		l := widget.NewLabel("")
		l.Truncation = fyne.TextTruncateEllipsis
		objs[i] = l
	}
	for _, i := range right {
		objs[i].(*widget.Label).Alignment = fyne.TextAlignTrailing
	}
	return container.New(&columns{widths: widths}, objs...)
}

// cell returns the i-th label of a row made by cells.
func cell(o fyne.CanvasObject, i int) *widget.Label {
	return o.(*fyne.Container).Objects[i].(*widget.Label)
}

func (r *reportScreen) createFolder() fyne.CanvasObject {
	return cells(reportFolderColumns, 2, 3, 4)
}

func (r *reportScreen) updateFolder(id widget.ListItemID, o fyne.CanvasObject) {
	a := r.pair()
	if a == nil || id >= len(a.Folders) {
		return
	}
	f := a.Folders[id]
	setText(cell(o, 0), f.Source)
	setText(cell(o, 1), f.Target)
	setText(cell(o, 2), lang.X("report.count", "{{.N}} ({{.Size}})", map[string]any{"N": formatCount(f.SourceMessages), "Size": formatBytes(f.SourceBytes)}))
	setText(cell(o, 3), lang.X("report.count", "{{.N}} ({{.Size}})", map[string]any{"N": formatCount(f.TargetMessages), "Size": formatBytes(f.TargetBytes)}))
	setText(cell(o, 4), formatCount(f.Copied))
	result := cell(o, 5)
	switch {
	case f.Error != "":
		setText(result, f.Error)
		setImportance(result, widget.DangerImportance)
	case f.Missing > 0:
		setText(result, lang.XN("report.missing", "{{.N}} missing", f.Missing, map[string]any{"N": formatCount(f.Missing)}))
		setImportance(result, widget.DangerImportance)
	case f.Verified:
		setText(result, lang.X("report.folder.complete", "complete"))
		setImportance(result, widget.SuccessImportance)
	default:
		setText(result, lang.X("report.folder.unverified", "not checked"))
		setImportance(result, widget.LowImportance)
	}
}

func (r *reportScreen) stepCount() int {
	if a := r.pair(); a != nil {
		return len(a.Steps)
	}
	return 0
}

func (r *reportScreen) createStep() fyne.CanvasObject { return cells(reportStepColumns) }

func (r *reportScreen) updateStep(id widget.ListItemID, o fyne.CanvasObject) {
	a := r.pair()
	if a == nil || id >= len(a.Steps) {
		return
	}
	s := a.Steps[id]
	setText(cell(o, 0), formatDate(s.Time))
	setText(cell(o, 1), s.What)
	detail := cell(o, 2)
	if s.Error != "" {
		setText(detail, strings.TrimSpace(s.Detail+" "+s.Error))
		setImportance(detail, widget.DangerImportance)
		return
	}
	setText(detail, s.Detail)
	setImportance(detail, widget.MediumImportance)
}

func (r *reportScreen) problemCount() int {
	if a := r.pair(); a != nil {
		return len(a.Problems)
	}
	return 0
}

func (r *reportScreen) createProblem() fyne.CanvasObject { return cells(reportProblemColumns) }

func (r *reportScreen) updateProblem(id widget.ListItemID, o fyne.CanvasObject) {
	a := r.pair()
	if a == nil || id >= len(a.Problems) {
		return
	}
	p := a.Problems[id]
	setText(cell(o, 0), formatDate(p.Time))
	setText(cell(o, 1), p.Folder)
	setText(cell(o, 2), orNone(p.Subject))
	setText(cell(o, 3), p.Error)
}

// onProblem shows a problem in full, with what to do about it.
func (r *reportScreen) onProblem(id widget.ListItemID) {
	r.problems.UnselectAll()
	a := r.pair()
	if a == nil || id >= len(a.Problems) {
		return
	}
	p := a.Problems[id]
	adv := adviceFor(failureKind(p.Kind))
	text := lang.X("report.problem", "Folder: {{.Folder}}\nMessage: {{.Subject}}\nFrom: {{.From}}\n\n{{.Error}}", map[string]any{
		"Folder": p.Folder, "Subject": orNone(p.Subject), "From": orNone(p.From), "Error": p.Error})
	showDetails(r.ui.win, adv.Title, adv.Text+"\n\n"+text)
}

// failureKind reads back a kind written by its name.
func failureKind(name string) failure.Kind {
	var k failure.Kind
	if err := k.UnmarshalText([]byte(name)); err != nil {
		return failure.Unknown
	}
	return k
}

func (r *reportScreen) onBack() {
	if r.from == stepReport {
		r.from = stepStart
	}
	r.ui.show(r.from)
}

// onSave asks where to save the report as format ("html" or "csv").
func (r *reportScreen) onSave(format string) {
	d := dialog.NewFileSave(func(w fyne.URIWriteCloser, err error) {
		if err != nil || w == nil {
			return
		}
		path := w.URI().Path()
		w.Close()
		r.saveTo(path, format)
	}, r.ui.win)
	d.SetFileName("mailmover-report." + format)
	d.Show()
}

// saveTo writes the report shown as format at path.
func (r *reportScreen) saveTo(path, format string) {
	err := saveReport(r.ui.stateDir(), path, format)
	r.errView.show(err)
	if err == nil {
		r.saved.SetText(lang.X("report.saved", "Saved to {{.Path}}", map[string]any{"Path": path}))
	}
}

// saveReport writes the report of every journal under dir to path, as an
// HTML page or a CSV table, replacing the file in one step.
func saveReport(dir, path, format string) error {
	rep, err := report.Load(dir)
	var buf bytes.Buffer
	if err == nil {
		if format == "csv" {
			err = rep.WriteCSV(&buf)
		} else {
			err = rep.WriteHTML(&buf)
		}
	}
	if err == nil {
		err = os.MkdirAll(filepath.Dir(path), 0o755)
	}
	if err == nil {
		err = atomicfile.WriteFile(path, buf.Bytes(), 0o644)
	}
	if err != nil {
		return failure.New(failure.Local, failure.ScopeAccount, "save the report", err)
	}
	return nil
}
