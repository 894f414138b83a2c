package gui

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

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
	"mailmover/core/sievemove"
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

	// filterSet is the filters read, carry the Sieve scripts made of them
	// (as last installed, if they were).
	filterSet   *filters.Set
	carry       *sievemove.Carry
	saveScripts *widget.Button
	install     *widget.Button
	activate    *widget.Check
	sievePort   *widget.Entry
	sieveResult *widget.Label
	sieveBusy   bool

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
	s.saveScripts = widget.NewButtonWithIcon(lang.X("archives.filters.saveScripts", "Save Sieve scripts…"), theme.DocumentSaveIcon(), func() {
		chooseFolder(ui.win, s.saveScriptsTo)
	})
	s.install = widget.NewButtonWithIcon(lang.X("archives.filters.install", "Install on the new server"), theme.UploadIcon(), s.onInstall)
	s.activate = widget.NewCheck(lang.X("archives.filters.activate", "Activate them"), nil)
	s.sievePort = widget.NewEntry()
	s.sievePort.SetText(strconv.Itoa(sievemove.DefaultPort))
	s.sieveResult = wrapped("")
	s.setSieveBusy(false)

	source := widget.NewCard(lang.X("archives.source", "Mail on this computer"), "",
		container.NewBorder(container.NewVBox(
			container.NewBorder(nil, nil, nil, s.find, s.kind),
			container.NewBorder(nil, nil, nil, s.browse, s.path),
			container.NewHBox(s.scan), s.found,
			heading(lang.X("archives.folders", "Local folders"))), nil, nil, nil, s.list))
	right := container.NewVScroll(container.NewVBox(s.target.card, container.NewHBox(s.inventory, s.upload, s.stop), s.progress.box, s.errView.box))
	mail := container.NewGridWithColumns(2, source, right)
	notesHelp := wrapped(lang.X("archives.filters.help", "Mail filters do not travel with the mail. Mailmover reads the Thunderbird profile's filters and writes what to set up again on the new server."))
	installHelp := wrapped(lang.X("archives.filters.install.help", "Install puts the Sieve scripts on the server of the new mailbox (filled in on the Mail tab) over ManageSieve. Scripts already there are kept, never replaced."))
	portBox := container.NewBorder(nil, nil, widget.NewLabel(lang.X("archives.filters.port", "ManageSieve port")), nil,
		container.NewGridWrap(fyne.NewSize(80, s.sievePort.MinSize().Height), s.sievePort))
	filtersTab := container.NewBorder(container.NewVBox(notesHelp, container.NewHBox(s.readNotes, s.saveNotes, s.saveScripts),
		installHelp, container.NewHBox(s.install, s.activate, portBox), s.sieveResult, s.notesError.box), nil, nil, nil,
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

// onReadFilters reads the Thunderbird profile's filters, makes their Sieve
// scripts and previews the notes.
func (s *archivesScreen) onReadFilters() {
	path := strings.TrimSpace(s.path.Text)
	if path == "" || s.kind.SelectedIndex() != archiveThunderbird {
		s.notesError.showText(lang.X("archives.filters.none.title", "No Thunderbird profile chosen"),
			lang.X("archives.filters.none", "Filters are read from a Thunderbird profile: find Thunderbird or choose its profile folder on the Mail tab."))
		return
	}
	s.notesError.show(nil)
	s.sieveResult.SetText("")
	s.setSieveBusy(true)
	ui := s.ui
	go func() {
		r, err := readNotes(ui.ctx, path)
		ui.do(func() {
			if err != nil {
				s.setSieveBusy(false)
				s.notesError.show(err)
				return
			}
			s.filterSet, s.carry, s.notes = r.set, r.carry, r.notes
			s.notesView.ParseMarkdown(r.md)
			s.saveNotes.Enable()
			s.setSieveBusy(false)
			if len(r.carry.Scripts) == 0 {
				s.sieveResult.SetText(lang.X("archives.filters.noscripts", "None of these filters can run on a server: there is no Sieve script to save or install."))
			}
		})
	}()
}

// filterNotes are filters read, their Sieve scripts and notes.
type filterNotes struct {
	set   *filters.Set
	carry *sievemove.Carry
	notes *filters.Notes
	md    string
}

// readNotes reads the filters of a Thunderbird profile, makes their Sieve
// scripts for a server with the common extensions, and builds the notes.
func readNotes(ctx context.Context, profile string) (*filterNotes, error) {
	set, err := filters.ReadThunderbird(ctx, profile)
	if err != nil {
		return nil, err
	}
	carry := sievemove.Generate(set, sievemove.Options{Trash: sievemove.DefaultTrash})
	return withNotes(set, carry, filters.NotesOptions{}, nil)
}

// withNotes builds the notes of carry, and their Markdown for the preview.
func withNotes(set *filters.Set, carry *sievemove.Carry, opts filters.NotesOptions, inst *sievemove.InstallResult) (*filterNotes, error) {
	notes := carry.Notes(opts, inst)
	var md bytes.Buffer
	if err := notes.WriteMarkdown(&md); err != nil {
		return nil, err
	}
	return &filterNotes{set: set, carry: carry, notes: notes, md: md.String()}, nil
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

// sieveTimeout bounds an installation of Sieve scripts.
const sieveTimeout = 2 * time.Minute

// setSieveBusy enables the Sieve buttons when there are scripts and nothing
// runs.
func (s *archivesScreen) setSieveBusy(busy bool) {
	s.sieveBusy = busy
	ready := !busy && s.carry != nil && len(s.carry.Scripts) > 0
	for _, b := range []*widget.Button{s.saveScripts, s.install} {
		if ready {
			b.Enable()
		} else {
			b.Disable()
		}
	}
	if busy {
		s.readNotes.Disable()
	} else {
		s.readNotes.Enable()
	}
}

// saveScriptsTo writes, in dir, the Sieve scripts and, next to them, the
// notes that say what each does.
func (s *archivesScreen) saveScriptsTo(dir string) {
	if s.carry == nil || s.notes == nil || s.sieveBusy {
		return
	}
	carry, notes := s.carry, s.notes
	s.notesError.show(nil)
	s.setSieveBusy(true)
	ui := s.ui
	go func() {
		_, err := carry.WriteFiles(ui.ctx, dir, notes)
		ui.do(func() {
			s.setSieveBusy(false)
			if err != nil {
				s.notesError.show(err)
				return
			}
			n := len(carry.Scripts)
			s.sieveResult.SetText(lang.XN("archives.filters.saved", "Saved {{.N}} Sieve scripts and the notes in {{.Dir}}.", n,
				map[string]any{"N": formatCount(n), "Dir": dir}))
		})
	}()
}

// onInstall installs the Sieve scripts on the new mailbox's server over
// ManageSieve, activating them if asked. Nothing there is replaced.
func (s *archivesScreen) onInstall() {
	if s.filterSet == nil || s.sieveBusy {
		return
	}
	missing := lang.X("accounts.incomplete", "Something is missing")
	cfg, ok := s.target.config()
	if !ok {
		s.notesError.showText(missing, lang.X("archives.filters.target", "Fill in the new mailbox on the Mail tab: the scripts go to its server."))
		return
	}
	port, err := strconv.Atoi(strings.TrimSpace(s.sievePort.Text))
	if err != nil || port < 1 || port > 65535 {
		s.notesError.showText(missing, lang.X("archives.filters.badport", "The ManageSieve port is a number from 1 to 65535, usually 4190."))
		return
	}
	set, activate := s.filterSet, s.activate.Checked
	s.notesError.show(nil)
	s.setSieveBusy(true)
	s.sieveResult.SetText(lang.X("archives.filters.installing", "Installing the Sieve scripts on the new server…"))
	ui := s.ui
	go func() {
		ctx, cancel := context.WithTimeout(ui.ctx, sieveTimeout)
		defer cancel()
		var r *filterNotes
		var inst *sievemove.InstallResult
		var server string
		err := ui.fillPassword(targetSide, cfg)
		if err == nil {
			acct := &sievemove.Account{Host: cfg.Host, Port: port, Username: cfg.Username, Password: cfg.Password, CAPEM: cfg.CAPEM, TLSConfig: cfg.TLSConfig}
			server = acct.String()
			r, inst, err = installFilters(ctx, set, acct, activate)
		}
		ui.do(func() {
			s.setSieveBusy(false)
			if err != nil {
				s.sieveResult.SetText("")
				s.notesError.show(err)
				return
			}
			s.carry, s.notes = r.carry, r.notes
			s.notesView.ParseMarkdown(r.md)
			s.sieveResult.SetText(installSummary(server, r.carry, inst))
		})
	}()
}

// installFilters makes the Sieve scripts of set for the server of acct,
// installs them there and builds the notes that name them.
func installFilters(ctx context.Context, set *filters.Set, acct *sievemove.Account, activate bool) (*filterNotes, *sievemove.InstallResult, error) {
	c, err := sievemove.Dial(ctx, acct)
	if err != nil {
		return nil, nil, err
	}
	defer c.Close()
	carry := sievemove.Generate(set, sievemove.Options{Trash: sievemove.DefaultTrash, Extensions: c.Capabilities().Sieve, Prefix: sievemove.InstallPrefix})
	inst, err := sievemove.Install(ctx, c, carry.Sieve(), nil, sievemove.InstallOptions{Activate: activate, User: acct.Username})
	if err != nil {
		return nil, nil, err
	}
	_ = c.Logout(ctx)
	r, err := withNotes(set, carry, filters.NotesOptions{Target: acct.String()}, inst)
	if err != nil {
		return nil, nil, failure.New(failure.Local, failure.ScopeAccount, "write filter notes", err)
	}
	return r, inst, nil
}

// installSummary says which scripts were installed on server and whether
// they run.
func installSummary(server string, carry *sievemove.Carry, inst *sievemove.InstallResult) string {
	var added, already []string
	for _, sc := range inst.Installed {
		if sc.Already {
			already = append(already, sc.Name)
		} else {
			added = append(added, sc.Name)
		}
	}
	var lines []string
	if len(added) > 0 {
		lines = append(lines, lang.X("archives.filters.installed", "Installed on {{.Server}}: {{.Names}}.",
			map[string]any{"Server": server, "Names": strings.Join(added, ", ")}))
	}
	if len(already) > 0 {
		lines = append(lines, lang.X("archives.filters.already", "Already there, unchanged: {{.Names}}.",
			map[string]any{"Names": strings.Join(already, ", ")}))
	}
	switch inst.Activation {
	case sievemove.Activated:
		line := lang.X("archives.filters.active", "Active: {{.Name}}. The new server runs these filters on new mail.", map[string]any{"Name": inst.Active})
		if inst.Previous != "" && inst.Previous != inst.Active {
			if inst.PreviousIncluded {
				line += " " + lang.X("archives.filters.previous.included", "It also runs {{.Name}}, the script that was active before.", map[string]any{"Name": inst.Previous})
			} else {
				line += " " + lang.X("archives.filters.previous.kept", "{{.Name}}, active before, is still there but no longer runs.", map[string]any{"Name": inst.Previous})
			}
		}
		lines = append(lines, line)
	case sievemove.ActivationFailed:
		lines = append(lines, lang.X("archives.filters.activate.failed", "Not active: the server did not activate them (see the problems below)."))
	case sievemove.NothingToActivate:
		lines = append(lines, lang.X("archives.filters.nothing", "Nothing was activated: the server took none of the scripts."))
	default:
		if len(inst.Installed) > 0 {
			lines = append(lines, lang.X("archives.filters.inactive", "Not active: these filters do not run yet. Tick “Activate them” and install again, or activate them in the webmail."))
		}
	}
	problems := append(append([]string(nil), carry.Problems...), inst.Problems...)
	if len(problems) > 0 {
		lines = append(lines, lang.XN("archives.filters.problems", "{{.N}} problems:", len(problems), map[string]any{"N": formatCount(len(problems))}))
		for _, p := range problems {
			lines = append(lines, "• "+p)
		}
	}
	return strings.Join(lines, "\n")
}
