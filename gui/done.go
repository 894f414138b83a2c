package gui

import (
	"fmt"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"mailmover/core/copier"
	"mailmover/core/imapstore"
	"mailmover/core/store"
)

// doneScreen gives the verdict of a copy: what the check found on the new
// mailbox folder by folder, what did not arrive and why, and the way to run
// again for what is new.
type doneScreen struct {
	ui *UI

	src, dst *imapstore.Config
	plan     *copier.Plan
	result   *copier.Result
	verified *copier.Verification
	checkErr error
	missing  []missingMessage

	icon     *widget.Icon
	title    *widget.Label
	subtitle *widget.Label
	list     *widget.List
	problems *widget.Label
	demoNote *widget.Label
	// davBox shows the check of contacts and calendars; davMissing counts
	// what is not on the new account.
	davBox     *fyne.Container
	davRows    *fyne.Container
	davMissing int
	errView    *errorView
	journal    *widget.Button
	show       *widget.Button
	again      *widget.Button
	finish     *widget.Button
	busy       *widget.Activity
	status     *widget.Label

	// missingList is the list in the "Show missing" dialog, while open.
	missingList *widget.List

	content fyne.CanvasObject
}

// missingMessage is a message that is not on the new mailbox, and why if
// the copy said.
type missingMessage struct {
	folder string
	info   store.MessageInfo
	why    string
}

var checkColumns = []float32{28, 0, 130, 130, 250}

func newDoneScreen(ui *UI) *doneScreen {
	d := &doneScreen{ui: ui}
	d.icon = widget.NewIcon(theme.NewSuccessThemedResource(theme.ConfirmIcon()))
	d.title = widget.NewLabel("")
	d.subtitle = widget.NewLabel("")
	d.list = widget.NewList(d.length, d.createRow, d.updateRow)
	d.list.OnSelected = func(widget.ListItemID) { d.list.UnselectAll() }
	d.problems = wrapped("")
	d.problems.Importance = widget.DangerImportance
	d.problems.Hide()
	d.demoNote = wrapped(lang.X("done.demo", "This was the demo: both mailboxes were practice ones on this computer, and they disappear when you leave it."))
	d.demoNote.TextStyle.Italic = true
	d.errView = newErrorView(ui.win)
	d.journal = widget.NewButtonWithIcon(lang.X("done.report", "Report"), theme.DocumentIcon(), func() { ui.report.open(stepDone) })
	d.show = widget.NewButtonWithIcon(lang.X("done.showmissing", "Show missing"), theme.ListIcon(), d.onShowMissing)
	d.again = widget.NewButtonWithIcon(lang.X("done.again", "Run again to copy only what is new"), theme.ViewRefreshIcon(), d.onAgain)
	d.finish = widget.NewButtonWithIcon(lang.X("done.finish", "Finish"), theme.HomeIcon(), d.onFinish)
	d.busy = widget.NewActivity()
	d.busy.Hide()
	d.status = widget.NewLabel("")

	header := container.New(&columns{widths: checkColumns},
		widget.NewLabel(""),
		heading(lang.X("done.col.folder", "Folder")),
		rightHeading(lang.X("done.col.old", "Old mailbox")),
		rightHeading(lang.X("done.col.new", "New mailbox")),
		heading(lang.X("done.col.check", "Check")),
	)
	table := container.NewBorder(container.NewVBox(header, widget.NewSeparator()), nil, nil, nil, d.list)
	top := container.NewVBox(d.errView.box, d.problems)
	d.davRows = container.NewGridWithColumns(2)
	d.davBox = container.NewVBox(widget.NewSeparator(), heading(lang.X("done.dav", "Contacts and calendars")), d.davRows)
	d.davBox.Hide()
	body := container.NewBorder(top, container.NewVBox(d.davBox, d.demoNote), nil, nil, table)
	titleRow := container.NewBorder(nil, nil, d.icon, nil, d.title)
	d.title.SizeName = theme.SizeNameHeadingText
	d.title.TextStyle.Bold = true
	d.subtitle.Wrapping = fyne.TextWrapWord
	bar := container.NewBorder(nil, nil,
		container.NewHBox(d.journal),
		container.NewHBox(d.busy, d.status, d.show, d.again, d.finish))
	d.content = container.NewPadded(container.NewBorder(container.NewVBox(titleRow, d.subtitle), container.NewVBox(widget.NewSeparator(), bar), nil, nil, body))
	return d
}

// setDAV shows the check of the contacts and calendars copied with the
// mail; nil hides it.
func (d *doneScreen) setDAV(j *davJob) {
	if j == nil || len(j.parts) == 0 {
		d.davBox.Hide()
		return
	}
	rows, missing := davCheckRows(j)
	d.davRows.Objects = rows
	d.davRows.Refresh()
	d.davBox.Show()
	d.davMissing = missing
	if missing > 0 && d.verified != nil && d.verified.OK() {
		d.setVerdict(theme.NewWarningThemedResource(theme.WarningIcon()),
			lang.X("done.dav.title", "The mail arrived; not all contacts and calendars did"),
			lang.X("done.dav.missing", "Every message is on the new mailbox. Some contacts or calendar items are not on the new account yet: the list below says which. Run again to copy what is missing."))
	}
	if missing > 0 {
		d.again.Importance = widget.HighImportance
		d.finish.Importance = widget.MediumImportance
		d.again.Refresh()
		d.finish.Refresh()
	}
}

// set shows the outcome of a copy and of its check.
func (d *doneScreen) set(src, dst *imapstore.Config, plan *copier.Plan, res *copier.Result, v *copier.Verification, verr error) {
	d.src, d.dst, d.plan, d.result, d.verified, d.checkErr = src, dst, plan, res, v, verr
	d.missing = d.missing[:0]
	why := map[string]string{}
	if res != nil {
		for _, p := range res.Problems {
			why[fmt.Sprintf("%s\x00%d", p.Folder, p.UID)] = adviceFor(p.Kind).Title + ": " + p.Err
		}
	}
	total, arrived := 0, 0
	if v != nil {
		for _, f := range v.Folders {
			total += f.SourceMessages
			arrived += f.SourceMessages - len(f.Missing)
			for _, m := range f.Missing {
				d.missing = append(d.missing, missingMessage{folder: f.Source, info: m, why: why[fmt.Sprintf("%s\x00%d", f.Source, m.UID)]})
			}
		}
	}
	d.errView.show(verr)
	d.busy.Hide()
	d.status.SetText("")
	d.again.Enable()
	d.finish.Enable()
	data := map[string]any{"Total": formatMessages(total), "Arrived": formatCount(arrived)}
	switch {
	case v == nil:
		d.setVerdict(theme.NewWarningThemedResource(theme.WarningIcon()),
			lang.X("done.unchecked.title", "The copy could not be checked"),
			lang.X("done.unchecked", "Both mailboxes could not be compared. Run again: what is already there is skipped, and the check is made at the end."))
	case v.Missing > 0:
		data["Missing"] = formatCount(v.Missing)
		d.setVerdict(theme.NewErrorThemedResource(theme.ErrorIcon()),
			lang.XN("done.missing.title", "{{.Missing}} messages did not arrive", v.Missing, data),
			lang.X("done.missing", "{{.Arrived}} of {{.Total}} are on the new mailbox. Show missing lists the others and why; Run again tries them once more.", data))
	case v.Errors > 0:
		data["Folders"] = formatFolders(v.Errors)
		d.setVerdict(theme.NewWarningThemedResource(theme.WarningIcon()),
			lang.X("done.errors.title", "Some folders could not be checked"),
			lang.X("done.errors", "{{.Folders}} could not be compared; the table says which and why. Run again to copy what is missing and check again.", data))
	case v.FlagDiffs > 0:
		data["Flags"] = formatMessages(v.FlagDiffs)
		d.setVerdict(theme.NewSuccessThemedResource(theme.ConfirmIcon()),
			lang.X("done.flags.title", "Everything arrived"),
			lang.X("done.flags", "All {{.Total}} are on the new mailbox, but {{.Flags}} have other marks (read, flagged) there. Run again to bring the marks over.", data))
	default:
		d.setVerdict(theme.NewSuccessThemedResource(theme.ConfirmIcon()),
			lang.X("done.ok.title", "Everything arrived"),
			lang.X("done.ok", "All {{.Total}} are on the new mailbox, with their read marks, flags and dates. Your old mailbox was not changed.", data))
	}
	if res != nil && len(res.Problems) > 0 {
		d.problems.SetText(lang.XN("done.problems", "{{.N}} problems were met during the copy; Show missing lists them.", len(res.Problems), map[string]any{"N": formatCount(len(res.Problems))}))
		d.problems.Show()
	} else {
		d.problems.Hide()
	}
	ok := v != nil && v.OK()
	if ok {
		d.show.Hide()
		d.again.Importance = widget.MediumImportance
		d.finish.Importance = widget.HighImportance
	} else {
		d.show.Show()
		if len(d.missing) == 0 && (res == nil || len(res.Problems) == 0) {
			d.show.Disable()
		} else {
			d.show.Enable()
		}
		d.again.Importance = widget.HighImportance
		d.finish.Importance = widget.MediumImportance
	}
	d.again.Refresh()
	d.finish.Refresh()
	if d.ui.demo != nil {
		d.demoNote.Show()
	} else {
		d.demoNote.Hide()
	}
	d.list.Refresh()
}

func (d *doneScreen) setVerdict(icon fyne.Resource, title, sub string) {
	d.icon.SetResource(icon)
	d.title.SetText(title)
	d.subtitle.SetText(sub)
}

func (d *doneScreen) length() int {
	if d.verified == nil {
		return 0
	}
	return len(d.verified.Folders)
}

func (d *doneScreen) createRow() fyne.CanvasObject {
	icon := widget.NewIcon(nil)
	name := widget.NewLabel("")
	name.Truncation = fyne.TextTruncateEllipsis
	old := widget.NewLabel("")
	old.Alignment = fyne.TextAlignTrailing
	nw := widget.NewLabel("")
	nw.Alignment = fyne.TextAlignTrailing
	check := widget.NewLabel("")
	check.Truncation = fyne.TextTruncateEllipsis
	return container.New(&columns{widths: checkColumns}, icon, name, old, nw, check)
}

func (d *doneScreen) updateRow(id widget.ListItemID, o fyne.CanvasObject) {
	if d.verified == nil || id >= len(d.verified.Folders) {
		return
	}
	f := d.verified.Folders[id]
	objs := o.(*fyne.Container).Objects
	icon, name, old, nw, check := objs[0].(*widget.Icon), objs[1].(*widget.Label), objs[2].(*widget.Label), objs[3].(*widget.Label), objs[4].(*widget.Label)
	name.SetText(f.Source)
	if f.Target != "" && f.Target != f.Source {
		name.SetText(lang.X("done.renamed", "{{.Source}}, now {{.Target}}", map[string]any{"Source": f.Source, "Target": f.Target}))
	}
	old.SetText(formatCount(f.SourceMessages))
	nw.SetText(formatCount(f.TargetMessages))
	switch {
	case f.Err != "":
		icon.SetResource(theme.NewWarningThemedResource(theme.WarningIcon()))
		check.SetText(lang.X("done.check.error", "could not be checked"))
		check.Importance = widget.WarningImportance
	case len(f.Missing) > 0:
		icon.SetResource(theme.NewErrorThemedResource(theme.ErrorIcon()))
		check.SetText(lang.XN("done.check.missing", "{{.N}} missing", len(f.Missing), map[string]any{"N": formatCount(len(f.Missing))}))
		check.Importance = widget.DangerImportance
	case len(f.FlagDiffs) > 0:
		icon.SetResource(theme.NewSuccessThemedResource(theme.ConfirmIcon()))
		check.SetText(lang.XN("done.check.flags", "all there, {{.N}} with other marks", len(f.FlagDiffs), map[string]any{"N": formatCount(len(f.FlagDiffs))}))
		check.Importance = widget.WarningImportance
	default:
		icon.SetResource(theme.NewSuccessThemedResource(theme.ConfirmIcon()))
		check.SetText(lang.X("done.check.ok", "all there"))
		check.Importance = widget.SuccessImportance
	}
	check.Refresh()
}

// onShowMissing lists what did not arrive: folder, date, sender, subject,
// and why where the copy said.
func (d *doneScreen) onShowMissing() {
	rows := append([]missingMessage(nil), d.missing...)
	if len(rows) == 0 && d.result != nil {
		// Nothing missing at the check, but problems were met: list them.
		for _, p := range d.result.Problems {
			rows = append(rows, missingMessage{folder: p.Folder, info: store.MessageInfo{UID: p.UID, Subject: p.Subject, From: p.From, Date: p.Date, Size: p.Size},
				why: adviceFor(p.Kind).Title + ": " + p.Err})
		}
	}
	cols := []float32{170, 100, 210, 0}
	header := container.New(&columns{widths: cols},
		heading(lang.X("missing.folder", "Folder")), heading(lang.X("missing.date", "Date")),
		heading(lang.X("missing.from", "From")), heading(lang.X("missing.subject", "Subject")))
	list := widget.NewList(func() int { return len(rows) },
		func() fyne.CanvasObject {
			mk := func() *widget.Label {
				l := widget.NewLabel("")
				l.Truncation = fyne.TextTruncateEllipsis
				return l
			}
			return container.New(&columns{widths: cols}, mk(), mk(), mk(), mk())
		},
		func(id widget.ListItemID, o fyne.CanvasObject) {
			r := rows[id]
			objs := o.(*fyne.Container).Objects
			objs[0].(*widget.Label).SetText(r.folder)
			objs[1].(*widget.Label).SetText(formatDate(r.info.Date))
			objs[2].(*widget.Label).SetText(orNone(r.info.From))
			objs[3].(*widget.Label).SetText(orNone(r.info.Subject))
		})
	list.OnSelected = func(id widget.ListItemID) {
		list.UnselectAll()
		r := rows[id]
		text := fmt.Sprintf("%s %s\n%s %s\n%s %s\n%s %s\n%s %s", lang.X("missing.folder", "Folder"), r.folder,
			lang.X("missing.date", "Date"), formatDate(r.info.Date), lang.X("missing.from", "From"), orNone(r.info.From),
			lang.X("missing.subject", "Subject"), orNone(r.info.Subject), lang.X("missing.size", "Size"), formatBytes(r.info.Size))
		if r.why != "" {
			text += "\n\n" + r.why
		}
		showDetails(d.ui.win, lang.X("missing.one", "Message not copied"), text)
	}
	intro := wrapped(lang.X("missing.intro", "These messages are on the old mailbox but not on the new one. They are still safe on the old mailbox. Select one for the reason."))
	box := container.NewBorder(container.NewVBox(intro, header, widget.NewSeparator()), nil, nil, nil, list)
	sized := container.NewGridWrap(fyne.NewSize(900, 440), box)
	dlg := newDialog(lang.XN("missing.title", "{{.N}} messages not on the new mailbox", len(rows), map[string]any{"N": formatCount(len(rows))}), sized, d.ui.win)
	dlg.SetButtons([]fyne.CanvasObject{widget.NewButton(lang.X("common.close", "Close"), func() {
		dlg.Hide()
		d.missingList = nil
	})})
	d.missingList = list
	dlg.Show()
}

func orNone(s string) string {
	if strings.TrimSpace(s) == "" {
		return lang.X("missing.none", "(none)")
	}
	return s
}

// onAgain plans again and copies only what is new or missing.
func (d *doneScreen) onAgain() {
	if d.plan == nil {
		return
	}
	d.again.Disable()
	d.finish.Disable()
	d.busy.Show()
	d.busy.Start()
	d.status.SetText(lang.X("accounts.reading", "Reading both mailboxes…"))
	d.ui.plan.runAgain(func(err error) {
		d.busy.Stop()
		d.busy.Hide()
		d.status.SetText("")
		d.again.Enable()
		d.finish.Enable()
		d.errView.show(err)
	})
}

// onFinish goes back to the start.
func (d *doneScreen) onFinish() {
	d.ui.show(stepStart)
}
