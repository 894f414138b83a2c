package gui

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"mailmover/core/atomicfile"
	"mailmover/core/copier"
	"mailmover/core/demo"
	"mailmover/core/failure"
	"mailmover/core/filters"
	"mailmover/core/localarchive"
	"mailmover/core/localstore"
)

// archiveInto is the folder of the new mailbox local folders are uploaded under.
const archiveInto = "Local Archives"

// Kinds of local mail the archives screen reads, in the order of its select.
const (
	archiveThunderbird = iota
	archiveMbox
	archiveApple
	archiveEML
)

// archiveRow is one local folder, with what the inventory found.
type archiveRow struct {
	name     string
	messages int
	// there and only are what the inventory found (only < 0: not known yet).
	there, only int
}

// archivesScreen finds mail kept only on this computer (Thunderbird, Apple
// Mail, mbox and .eml files), says what of it is not yet on the new mailbox,
// uploads it, and turns the mail filters into notes for the new server.
type archivesScreen struct {
	ui *UI

	kind     *widget.Select
	path     *widget.Entry
	browse   *widget.Button
	find     *widget.Button
	profiles []localarchive.Profile
	scan     *widget.Button
	found    *widget.Label

	rows    []archiveRow
	list    *widget.List
	archive *localstore.Archive
	what    string

	target    *accountForm
	inventory *widget.Button
	upload    *widget.Button
	stop      *widget.Button
	// cancel stops the upload under way, nil when none runs.
	cancel   context.CancelFunc
	progress *transferView
	errView  *errorView
	busy     bool

	notes      *filters.Notes
	notesView  *widget.RichText
	readNotes  *widget.Button
	saveNotes  *widget.Button
	notesError *errorView

	content fyne.CanvasObject
}

func newArchivesScreen(ui *UI) *archivesScreen {
	s := &archivesScreen{ui: ui}
	s.kind = widget.NewSelect([]string{
		lang.X("archives.kind.thunderbird", "Thunderbird profile"),
		lang.X("archives.kind.mbox", "mbox file or folder of them"),
		lang.X("archives.kind.apple", "Apple Mail folder"),
		lang.X("archives.kind.eml", "Folder of .eml files"),
	}, nil)
	s.kind.SetSelectedIndex(archiveThunderbird)
	s.path = widget.NewEntry()
	s.path.PlaceHolder = lang.X("archives.path.placeholder", "where the mail is on this computer")
	s.browse = widget.NewButtonWithIcon(lang.X("common.browse", "Choose…"), theme.FolderOpenIcon(), s.onBrowse)
	s.find = widget.NewButtonWithIcon(lang.X("archives.find", "Find Thunderbird"), theme.SearchIcon(), s.onFind)
	s.scan = widget.NewButtonWithIcon(lang.X("archives.scan", "Read the folders"), theme.ViewRefreshIcon(), s.onScan)
	s.found = wrapped("")
	s.list = widget.NewList(func() int { return len(s.rows) }, s.createRow, s.updateRow)
	s.list.OnSelected = func(widget.ListItemID) { s.list.UnselectAll() }

	s.target = newAccountForm(ui, targetSide)
	s.target.card.SetTitle(lang.X("archives.target", "New mailbox"))
	s.target.card.SetSubTitle(lang.X("archives.target.sub", "The local folders are uploaded under “Local Archives”."))
	s.inventory = widget.NewButtonWithIcon(lang.X("archives.inventory", "Inventory"), theme.SearchIcon(), s.onInventory)
	s.upload = widget.NewButtonWithIcon(lang.X("archives.upload", "Upload"), theme.UploadIcon(), s.onUpload)
	s.upload.Importance = widget.HighImportance
	s.stop = widget.NewButtonWithIcon(lang.X("archives.stop", "Stop"), theme.MediaStopIcon(), s.onStop)
	s.stop.Importance = widget.WarningImportance
	s.stop.Hide()
	s.progress = newTransferView()
	s.errView = newErrorView(ui.win)

	s.notesView = widget.NewRichTextFromMarkdown("")
	s.notesView.Wrapping = fyne.TextWrapWord
	s.readNotes = widget.NewButtonWithIcon(lang.X("archives.filters.read", "Read the filters"), theme.DocumentIcon(), s.onReadFilters)
	s.saveNotes = widget.NewButtonWithIcon(lang.X("archives.filters.save", "Save notes…"), theme.DocumentSaveIcon(), func() {
		chooseFolder(ui.win, s.saveNotesTo)
	})
	s.saveNotes.Disable()
	s.notesError = newErrorView(ui.win)

	source := widget.NewCard(lang.X("archives.source", "Mail on this computer"), "",
		container.NewBorder(container.NewVBox(
			container.NewBorder(nil, nil, nil, s.find, s.kind),
			container.NewBorder(nil, nil, nil, s.browse, s.path),
			container.NewHBox(s.scan), s.found,
			heading(lang.X("archives.folders", "Local folders"))), nil, nil, nil, s.list))
	right := container.NewVScroll(container.NewVBox(s.target.card, container.NewHBox(s.inventory, s.upload, s.stop), s.progress.box, s.errView.box))
	mail := container.NewGridWithColumns(2, source, right)
	notesHelp := wrapped(lang.X("archives.filters.help", "Mail filters do not travel with the mail. Mailmover reads the Thunderbird profile's filters and writes what to set up again on the new server."))
	filtersTab := container.NewBorder(container.NewVBox(notesHelp, container.NewHBox(s.readNotes, s.saveNotes), s.notesError.box), nil, nil, nil,
		container.NewVScroll(s.notesView))
	tabs := container.NewAppTabs(
		container.NewTabItemWithIcon(lang.X("archives.tab.mail", "Mail"), theme.MailComposeIcon(), mail),
		container.NewTabItemWithIcon(lang.X("archives.tab.filters", "Filters"), theme.ListIcon(), filtersTab))
	title := widget.NewLabel(lang.X("archives.title", "Bring local archives and filters"))
	sub := widget.NewLabel(lang.X("archives.subtitle", "Upload mail kept only on this computer to the new mailbox. The local files are only read."))
	back := widget.NewButtonWithIcon(lang.X("common.back", "Back"), theme.NavigateBackIcon(), func() { ui.show(stepStart) })
	s.content = page(title, sub, tabs, []fyne.CanvasObject{back}, nil)
	s.setBusy(false)
	return s
}

// shown fills the new mailbox from the demo, if one runs.
// It forgets the demo's once the demo has ended.
func (s *archivesScreen) shown() {
	d := s.ui.demo
	switch {
	case d != nil && s.target.emailText() == "":
		s.target.fillDemo(demo.TargetEmail, d.Target, lang.X("accounts.demo.target", "Practice mailbox on this computer, empty but for the usual folders."))
	case d == nil && !s.busy && s.target.emailText() == demo.TargetEmail:
		s.target.clear()
	}
}

func (s *archivesScreen) onBrowse() {
	set := func(p string) { s.path.SetText(p) }
	if s.kind.SelectedIndex() == archiveMbox {
		chooseFile(s.ui.win, nil, set)
		return
	}
	chooseFolder(s.ui.win, set)
}

// onFind looks for Thunderbird profiles and picks the default one.
func (s *archivesScreen) onFind() {
	ui := s.ui
	s.find.Disable()
	go func() {
		var profiles []localarchive.Profile
		places, err := localarchive.DefaultPlaces()
		if err == nil {
			profiles, err = localarchive.ThunderbirdProfiles(ui.ctx, places)
		}
		ui.do(func() {
			s.find.Enable()
			s.profiles = profiles
			if err != nil {
				s.errView.show(err)
				return
			}
			if len(profiles) == 0 {
				s.found.SetText(lang.X("archives.noprofile", "No Thunderbird profile was found on this computer. Choose its folder yourself."))
				return
			}
			p := profiles[0]
			for _, pr := range profiles {
				if pr.Default {
					p = pr
				}
			}
			s.kind.SetSelectedIndex(archiveThunderbird)
			s.path.SetText(p.Dir)
			s.found.SetText(lang.X("archives.profile", "Thunderbird found: the profile it opens is chosen."))
			s.onScan()
		})
	}()
}

// onScan reads the local folders and counts their messages.
func (s *archivesScreen) onScan() {
	path := strings.TrimSpace(s.path.Text)
	if path == "" {
		s.errView.showText(lang.X("accounts.incomplete", "Something is missing"), lang.X("archives.missing.path", "Choose where the mail is, or find Thunderbird."))
		return
	}
	s.errView.show(nil)
	kind := s.kind.SelectedIndex()
	ui := s.ui
	s.setBusy(true)
	s.found.SetText(lang.X("archives.scanning", "Reading the local folders…"))
	go func() {
		var folders []localarchive.Folder
		var err error
		var what string
		switch kind {
		case archiveMbox:
			what = "mbox " + path
			folders, err = localarchive.ScanMbox(ui.ctx, path)
		case archiveApple:
			what = "Apple Mail " + path
			folders, err = localarchive.ScanAppleMail(ui.ctx, path)
		case archiveEML:
			what = ".eml files in " + path
			folders, err = localarchive.ScanEML(ui.ctx, path)
		default:
			what = "Thunderbird profile " + path
			folders, err = localarchive.ScanThunderbird(ui.ctx, path)
		}
		var rows []archiveRow
		var a *localstore.Archive
		if err == nil {
			a = localstore.NewArchive(folders)
			fs, ferr := a.Folders(ui.ctx)
			err = ferr
			for _, f := range fs {
				rows = append(rows, archiveRow{name: f.DisplayName(), messages: max(f.Messages, 0), only: -1})
			}
		}
		ui.do(func() {
			s.setBusy(false)
			if err != nil {
				s.found.SetText("")
				s.errView.show(err)
				return
			}
			s.archive, s.what, s.rows = a, what, rows
			total := 0
			for _, r := range rows {
				total += r.messages
			}
			s.found.SetText(lang.X("archives.found", "{{.Folders}} with {{.Messages}}.", map[string]any{
				"Folders": formatFolders(len(rows)), "Messages": formatMessages(total)}))
			s.list.Refresh()
			s.setBusy(false)
		})
	}()
}

func (s *archivesScreen) setBusy(busy bool) {
	s.busy = busy
	for _, b := range []*widget.Button{s.scan, s.find, s.inventory, s.upload} {
		if busy || (s.archive == nil && (b == s.inventory || b == s.upload)) {
			b.Disable()
		} else {
			b.Enable()
		}
	}
}

// endpoints returns the local archive and the new mailbox, or false.
func (s *archivesScreen) endpoints() (src, dst copier.Endpoint, ok bool, cfgOK func() error) {
	if s.archive == nil {
		return src, dst, false, nil
	}
	cfg, ok := s.target.config()
	if !ok {
		return src, dst, false, nil
	}
	ui := s.ui
	return localstore.ArchiveEndpoint(s.what, s.archive), endpoint(targetSide, cfg), true, func() error { return ui.fillPassword(targetSide, cfg) }
}

// onInventory says, per folder, what is already on the new mailbox and what
// is only on this disk. Nothing is written.
func (s *archivesScreen) onInventory() {
	src, dst, ok, pw := s.endpoints()
	if !ok {
		return
	}
	s.errView.show(nil)
	s.setBusy(true)
	s.progress.box.Hide()
	ui := s.ui
	go func() {
		var v *copier.Verification
		var plan *copier.Plan
		err := pw()
		if err == nil {
			plan, err = copier.MakePlan(ui.ctx, src, dst, copier.Options{Into: []string{archiveInto}})
		}
		if err == nil {
			v, err = copier.Verify(ui.ctx, src, dst, plan)
		}
		ui.do(func() {
			s.setBusy(false)
			if err != nil {
				s.errView.show(err)
				return
			}
			s.applyInventory(plan, v)
		})
	}()
}

// applyInventory puts what the check found in the rows, as the command
// line's inventory does: a folder missing on the target is only here.
func (s *archivesScreen) applyInventory(plan *copier.Plan, v *copier.Verification) {
	index := map[string]int{}
	for i, r := range s.rows {
		index[r.name] = i
	}
	for _, f := range v.Folders {
		i, ok := index[f.Source]
		if !ok {
			continue
		}
		r := &s.rows[i]
		if f.Err != "" {
			for _, fp := range plan.Folders {
				if fp.Source.DisplayName() == f.Source {
					r.messages = max(fp.Source.Messages, 0)
				}
			}
			r.there, r.only = 0, r.messages
			continue
		}
		r.messages = f.SourceMessages
		r.only = len(f.Missing)
		r.there = r.messages - r.only
	}
	s.list.Refresh()
}

// onUpload copies the local folders under "Local Archives" on the new
// mailbox, then checks them.
func (s *archivesScreen) onUpload() {
	src, dst, ok, pw := s.endpoints()
	if !ok {
		return
	}
	s.errView.show(nil)
	s.setBusy(true)
	s.progress.begin(lang.X("archives.reading", "Reading both sides…"))
	ui := s.ui
	stateDir := ui.stateDir()
	ctx, cancel := context.WithCancel(ui.ctx)
	s.cancel = cancel
	s.stop.Enable()
	s.stop.Show()
	go func() {
		defer cancel()
		var res *copier.Result
		var v *copier.Verification
		err := pw()
		if err == nil {
			opts := copier.Options{Into: []string{archiveInto}}
			run := opts
			run.StateDir = stateDir
			res, v, err = transfer(ctx, ui, s.progress, src, dst, opts, run, lang.X("archives.uploading", "Uploading to the new mailbox"))
		}
		ui.do(func() {
			s.cancel = nil
			s.stop.Hide()
			s.setBusy(false)
			if ui.closing {
				ui.workEnded()
				return
			}
			s.progress.end(res, v, err, lang.X("archives.ok", "Uploaded: every local message is on the new mailbox, under “Local Archives”."))
			if err != nil && !isCancel(err) {
				s.errView.show(err)
			}
			if v != nil {
				for i := range s.rows {
					s.rows[i].only = -1
				}
				s.list.Refresh()
			}
		})
	}()
}

// onStop stops the upload: what arrived stays, and the next upload goes on
// from there without copying anything twice.
func (s *archivesScreen) onStop() {
	if s.cancel != nil {
		s.stop.Disable()
		s.cancel()
	}
}

func (s *archivesScreen) createRow() fyne.CanvasObject {
	name := widget.NewLabel("")
	name.Truncation = fyne.TextTruncateEllipsis
	count := widget.NewLabel("")
	count.Alignment = fyne.TextAlignTrailing
	inv := widget.NewLabel("")
	inv.Truncation = fyne.TextTruncateEllipsis
	return container.New(&columns{widths: []float32{0, 120, 260}}, name, count, inv)
}

func (s *archivesScreen) updateRow(id widget.ListItemID, o fyne.CanvasObject) {
	if id >= len(s.rows) {
		return
	}
	r := s.rows[id]
	objs := o.(*fyne.Container).Objects
	name, count, inv := objs[0].(*widget.Label), objs[1].(*widget.Label), objs[2].(*widget.Label)
	setText(name, r.name)
	setText(count, formatMessages(r.messages))
	switch {
	case r.only < 0:
		setText(inv, "")
	case r.only == 0:
		setText(inv, lang.X("archives.row.there", "all already on the new mailbox"))
		setImportance(inv, widget.SuccessImportance)
	default:
		setText(inv, lang.X("archives.row.only", "{{.Only}} only on this disk, {{.There}} already there", map[string]any{
			"Only": formatCount(r.only), "There": formatCount(r.there)}))
		setImportance(inv, widget.WarningImportance)
	}
}

// onReadFilters reads the Thunderbird profile's filters and previews the notes.
func (s *archivesScreen) onReadFilters() {
	path := strings.TrimSpace(s.path.Text)
	if path == "" || s.kind.SelectedIndex() != archiveThunderbird {
		s.notesError.showText(lang.X("archives.filters.none.title", "No Thunderbird profile chosen"),
			lang.X("archives.filters.none", "Filters are read from a Thunderbird profile: find Thunderbird or choose its profile folder on the Mail tab."))
		return
	}
	s.notesError.show(nil)
	s.readNotes.Disable()
	ui := s.ui
	go func() {
		notes, md, err := readNotes(ui.ctx, path)
		ui.do(func() {
			s.readNotes.Enable()
			if err != nil {
				s.notesError.show(err)
				return
			}
			s.notes = notes
			s.notesView.ParseMarkdown(md)
			s.saveNotes.Enable()
		})
	}()
}

// readNotes builds the filter notes of a Thunderbird profile.
func readNotes(ctx context.Context, profile string) (*filters.Notes, string, error) {
	set, err := filters.ReadThunderbird(ctx, profile)
	if err != nil {
		return nil, "", err
	}
	notes := filters.BuildNotes(set, filters.NotesOptions{})
	var md bytes.Buffer
	if err := notes.WriteMarkdown(&md); err != nil {
		return nil, "", err
	}
	return notes, md.String(), nil
}

// saveNotesTo writes the notes as HTML and Markdown in dir.
func (s *archivesScreen) saveNotesTo(dir string) {
	if s.notes == nil {
		return
	}
	var html, md bytes.Buffer
	err := s.notes.WriteHTML(&html)
	if err == nil {
		err = s.notes.WriteMarkdown(&md)
	}
	if err == nil {
		err = os.MkdirAll(dir, 0o755)
	}
	if err == nil {
		err = atomicfile.WriteFile(filepath.Join(dir, "filter-notes.html"), html.Bytes(), 0o644)
	}
	if err == nil {
		err = atomicfile.WriteFile(filepath.Join(dir, "filter-notes.md"), md.Bytes(), 0o644)
	}
	if err != nil {
		s.notesError.show(failure.New(failure.Local, failure.ScopeAccount, "save the filter notes", err))
		return
	}
	s.notesError.show(nil)
}
