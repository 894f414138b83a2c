package gui

import (
	"context"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"mailmover/core/report"
)

// startScreen asks what the user wants to do. Only what works can be chosen;
// what is coming is shown as such.
type startScreen struct {
	ui *UI

	move      *widget.Button
	tryDemo   *widget.Button
	preparing *widget.Activity
	status    *widget.Label
	errView   *errorView
	// soon lists what is shown but cannot be chosen yet (nothing now).
	soon []*widget.Button

	backup, archives, several, cutover, reports *widget.Button

	// pending is the copy that did not finish, offered to resume.
	pending    *report.Pending
	resumeBox  *fyne.Container
	resumeText *widget.Label
	resumeCopy *widget.Button

	content fyne.CanvasObject
}

func newStartScreen(ui *UI) *startScreen {
	s := &startScreen{ui: ui}
	s.move = widget.NewButtonWithIcon(lang.X("start.move", "Move a mailbox"), theme.MailForwardIcon(), s.onMove)
	s.move.Importance = widget.HighImportance
	s.tryDemo = widget.NewButtonWithIcon(lang.X("start.demo", "Try the demo"), theme.MediaPlayIcon(), s.onDemo)
	s.preparing = widget.NewActivity()
	s.preparing.Hide()
	s.status = widget.NewLabel("")
	s.status.Hide()
	s.errView = newErrorView(ui.win)

	tile := func(icon fyne.Resource, b *widget.Button, text string) fyne.CanvasObject {
		ic := container.NewGridWrap(fyne.NewSize(48, 48), widget.NewIcon(theme.NewPrimaryThemedResource(icon)))
		body := container.NewVBox(b, wrapped(text))
		return widget.NewCard("", "", container.NewBorder(nil, nil, container.NewVBox(ic), nil, body))
	}
	choices := container.NewGridWithColumns(2,
		tile(theme.MailForwardIcon(), s.move, lang.X("start.move.text", "Copy all the mail of an old account (folders, read and unread marks, dates) to a new one. Your old mailbox is only read, never changed.")),
		tile(theme.MediaPlayIcon(), s.tryDemo, lang.X("start.demo.text", "Watch a whole migration between two practice mailboxes on this computer, filled with made-up mail. Nothing real is touched.")),
	)
	more := func(icon fyne.Resource, b *widget.Button, text string) fyne.CanvasObject {
		ic := container.NewGridWrap(fyne.NewSize(32, 32), widget.NewIcon(theme.NewPrimaryThemedResource(icon)))
		return widget.NewCard("", "", container.NewBorder(nil, nil, container.NewVBox(ic), nil, container.NewVBox(b, wrapped(text))))
	}
	s.backup = widget.NewButtonWithIcon(lang.X("start.backup", "Back up a mailbox"), theme.DownloadIcon(), func() { ui.show(stepBackup) })
	s.archives = widget.NewButtonWithIcon(lang.X("start.archives", "Bring local archives and filters"), theme.FolderOpenIcon(), func() { ui.show(stepArchives) })
	s.several = widget.NewButtonWithIcon(lang.X("start.several", "Migrate several mailboxes"), theme.AccountIcon(), func() { ui.show(stepBatch) })
	s.cutover = widget.NewButtonWithIcon(lang.X("start.cutover", "Switch over"), theme.ListIcon(), func() { ui.show(stepCutover) })
	s.reports = widget.NewButtonWithIcon(lang.X("start.reports", "Migration reports"), theme.DocumentIcon(), func() { ui.report.open(stepStart) })
	others := container.NewGridWithColumns(3,
		more(theme.DownloadIcon(), s.backup,
			lang.X("start.backup.text", "Keep a copy of every folder on this computer.")),
		more(theme.FolderOpenIcon(), s.archives,
			lang.X("start.archives.text", "Upload mail kept only in Thunderbird or Apple Mail, and your filters.")),
		more(theme.AccountIcon(), s.several,
			lang.X("start.several.text", "Move a whole team or family in one go.")),
		more(theme.ListIcon(), s.cutover,
			lang.X("start.cutover.text", "Check your domain's DNS and follow the switch-over checklist after a migration.")),
		more(theme.DocumentIcon(), s.reports,
			lang.X("start.reports.text", "What each past copy did, what arrived and what did not; save it as a web page or a table.")),
	)
	howStep := func(n, text string) fyne.CanvasObject {
		num := widget.NewLabel(n)
		num.TextStyle.Bold = true
		num.SizeName = theme.SizeNameSubHeadingText
		num.Importance = widget.HighImportance
		return container.NewBorder(nil, nil, container.NewVBox(num), nil, wrapped(text))
	}
	how := container.NewGridWithColumns(3,
		howStep("1", lang.X("start.how1", "Type your old and your new email address: Mailmover finds the server settings.")),
		howStep("2", lang.X("start.how2", "See every folder and how much mail will be copied, before anything happens.")),
		howStep("3", lang.X("start.how3", "Watch the copy, stop and resume when you like, and get a check that everything arrived.")),
	)
	safe := wrapped(lang.X("start.safe", "Nothing is ever deleted: your old mailbox is only read, and the new one only receives."))
	safeRow := container.NewBorder(nil, nil, lineIcon(widget.NewIcon(theme.NewSuccessThemedResource(theme.ConfirmIcon()))), nil, safe)
	s.resumeText = wrapped("")
	s.resumeCopy = widget.NewButtonWithIcon(lang.X("start.resume", "Continue this copy"), theme.MediaPlayIcon(), s.onResume)
	s.resumeCopy.Importance = widget.HighImportance
	s.resumeBox = container.NewVBox(widget.NewCard("", "", container.NewBorder(nil, nil,
		lineIcon(widget.NewIcon(theme.NewWarningThemedResource(theme.MediaPauseIcon()))), container.NewVBox(s.resumeCopy), s.resumeText)))
	s.resumeBox.Hide()
	body := container.NewVBox(
		s.resumeBox,
		choices,
		container.NewHBox(s.preparing, s.status),
		s.errView.box,
		heading(lang.X("start.how", "How it works")),
		how,
		safeRow,
		widget.NewSeparator(),
		heading(lang.X("start.more", "More")),
		others,
	)
	title := widget.NewLabel(lang.X("start.title", "What do you want to do?"))
	sub := widget.NewLabel(lang.X("start.subtitle", "Mailmover copies your email from one provider to another without losing anything."))
	title.SizeName = theme.SizeNameHeadingText
	title.TextStyle.Bold = true
	sub.Wrapping = fyne.TextWrapWord
	s.content = container.NewPadded(container.New(maxWidthLayout{1100},
		container.NewBorder(container.NewVBox(title, sub), nil, nil, nil, container.NewVScroll(body))))
	return s
}

// shown looks for a copy that did not finish, on a goroutine, and offers
// to continue it.
func (s *startScreen) shown() {
	ui := s.ui
	if ui.demo != nil || ui.shots != nil {
		s.resumeBox.Hide()
		return
	}
	dir := ui.stateDir()
	go func() {
		found, err := report.FindPending(dir)
		ui.do(func() {
			if err != nil || len(found) == 0 || ui.demo != nil {
				s.pending = nil
				s.resumeBox.Hide()
				return
			}
			p := found[0]
			s.pending = &p
			data := map[string]any{"Source": p.Source, "Target": p.Target, "When": formatDate(p.Started)}
			if p.Error == "" {
				s.resumeText.SetText(lang.X("start.resume.killed", "The copy from {{.Source}} to {{.Target}}, started {{.When}}, did not finish: Mailmover was closed while it ran. Nothing is lost; it goes on where it stopped, without copying anything twice.", data))
			} else {
				s.resumeText.SetText(lang.X("start.resume.stopped", "The copy from {{.Source}} to {{.Target}}, started {{.When}}, stopped before the end. Nothing is lost; it goes on where it stopped, without copying anything twice.", data))
			}
			s.resumeBox.Show()
		})
	}()
}

// onResume fills the accounts of the unfinished copy.
func (s *startScreen) onResume() {
	if s.pending == nil {
		return
	}
	s.ui.accounts.resumePair(*s.pending)
}

// onMove starts the real flow.
func (s *startScreen) onMove() {
	if s.ui.demo != nil {
		s.ui.leaveDemo()
	}
	s.ui.show(stepAccounts)
}

// onDemo starts the demo servers on a goroutine, then fills the accounts.
func (s *startScreen) onDemo() {
	s.move.Disable()
	s.tryDemo.Disable()
	s.errView.show(nil)
	s.status.SetText(lang.X("start.demo.preparing", "Preparing two practice mailboxes…"))
	s.status.Show()
	s.preparing.Show()
	s.preparing.Start()
	ui := s.ui
	go func() {
		ctx, cancel := context.WithTimeout(ui.ctx, 2*time.Minute)
		defer cancel()
		d, err := ui.startDemo(ctx)
		ui.do(func() {
			s.preparing.Stop()
			s.preparing.Hide()
			s.status.Hide()
			s.move.Enable()
			s.tryDemo.Enable()
			if err != nil {
				s.errView.show(err)
				return
			}
			if ui.ctx.Err() != nil {
				d.Close()
				return
			}
			ui.enterDemo(d)
		})
	}()
}
