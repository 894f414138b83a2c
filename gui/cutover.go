package gui

import (
	"context"
	"path/filepath"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"mailmover/core/copier"
	"mailmover/core/cutover"
	"mailmover/core/dnscheck"
	"mailmover/core/failure"
	"mailmover/core/state"
)

// dnsTimeout bounds the DNS checks.
const dnsTimeout = 30 * time.Second

// cutoverScreen guides the switch-over from the old server to the new one:
// the checklist recorded in the migration's journal, the DNS checks with
// what to fix, the final copy and the report.
type cutoverScreen struct {
	ui *UI

	// resolver answers the DNS checks; nil means the system's.
	resolver dnscheck.Resolver

	pairNote  *widget.Label
	stepsBox  *fyne.Container
	stepMarks map[string]*widget.Button
	done      map[string]time.Time
	// pairDir is the state folder of the migration, "" before one.
	pairDir string

	domain   *widget.Entry
	server   *widget.Entry
	checkDNS *widget.Button
	checking *widget.Activity
	checks   []dnscheck.Check
	checkBox *fyne.Container

	finalCopy  *widget.Button
	saveReport *widget.Button
	errView    *errorView

	content fyne.CanvasObject
}

func newCutoverScreen(ui *UI) *cutoverScreen {
	c := &cutoverScreen{ui: ui, stepMarks: map[string]*widget.Button{}, done: map[string]time.Time{}}
	c.pairNote = wrapped("")
	c.stepsBox = container.NewVBox()
	c.domain = widget.NewEntry()
	c.domain.PlaceHolder = lang.X("cutover.domain.placeholder", "example.com")
	c.server = widget.NewEntry()
	c.server.PlaceHolder = lang.X("cutover.server.placeholder", "imap.newprovider.com (optional)")
	c.checkDNS = widget.NewButtonWithIcon(lang.X("cutover.check", "Check DNS"), theme.SearchIcon(), c.onCheckDNS)
	c.checking = widget.NewActivity()
	c.checking.Hide()
	c.checkBox = container.NewVBox()
	c.finalCopy = widget.NewButtonWithIcon(lang.X("cutover.final", "Final copy"), theme.MailForwardIcon(), c.onFinalCopy)
	c.finalCopy.Importance = widget.HighImportance
	c.saveReport = widget.NewButtonWithIcon(lang.X("cutover.report", "Save report…"), theme.DocumentSaveIcon(), func() {
		d := dialog.NewFileSave(func(w fyne.URIWriteCloser, err error) {
			if err != nil || w == nil {
				return
			}
			path := w.URI().Path()
			w.Close()
			c.saveReportTo(path)
		}, ui.win)
		d.SetFileName("mailmover-report.html")
		d.Show()
	})
	c.errView = newErrorView(ui.win)

	form := container.NewBorder(nil, nil, nil, container.NewHBox(c.checking, c.checkDNS),
		container.NewGridWithColumns(2, c.domain, c.server))
	checklist := widget.NewCard(lang.X("cutover.steps", "Checklist"), "", container.NewVBox(c.pairNote, c.stepsBox))
	dns := widget.NewCard(lang.X("cutover.dns", "DNS of your domain"),
		lang.X("cutover.dns.sub", "Where mail for your domain goes, and whether it will be trusted."),
		container.NewVBox(form, c.checkBox))
	body := container.NewVScroll(container.NewVBox(c.errView.box, container.NewGridWithColumns(2, checklist, dns)))
	title := widget.NewLabel(lang.X("cutover.title", "Switch over to the new server"))
	sub := widget.NewLabel(lang.X("cutover.subtitle", "Move your domain's mail to the new server step by step, without losing a message on the way."))
	back := widget.NewButtonWithIcon(lang.X("common.back", "Back"), theme.NavigateBackIcon(), func() { ui.show(stepStart) })
	c.content = page(title, sub, body,
		[]fyne.CanvasObject{back, c.saveReport},
		[]fyne.CanvasObject{c.finalCopy})
	c.buildSteps()
	return c
}

// shown reads the checklist of the last migration.
func (c *cutoverScreen) shown() {
	m := c.ui.migrate
	c.pairDir = ""
	if m.src != nil && m.dst != nil {
		c.pairDir = copier.PairDir(c.ui.stateDir(), copier.IMAP(m.src), copier.IMAP(m.dst))
		c.pairNote.SetText(lang.X("cutover.pair", "From {{.Source}} to {{.Target}}.", map[string]any{"Source": m.src.Username, "Target": m.dst.Username}))
		if c.domain.Text == "" {
			c.domain.SetText(domainOf(m.dst.Username))
		}
		if c.server.Text == "" && !isLoopback(m.dst.Host) {
			c.server.SetText(m.dst.Host)
		}
	} else {
		c.pairNote.SetText(lang.X("cutover.nopair", "No migration was done yet: move a mailbox first, then come back to mark the steps."))
	}
	c.reload()
}

// reload reads the journal's steps.
func (c *cutoverScreen) reload() {
	c.done = map[string]time.Time{}
	if c.pairDir != "" {
		if recs, err := state.ReadJournal(filepath.Join(c.pairDir, state.JournalFile)); err == nil {
			c.done = cutover.Done(recs)
		}
	}
	c.buildSteps()
}

// buildSteps draws the checklist.
func (c *cutoverScreen) buildSteps() {
	var objs []fyne.CanvasObject
	next, _ := cutover.Next(c.done)
	for _, s := range cutover.Steps() {
		at, done := c.done[s.ID]
		var icon fyne.Resource = theme.NewDisabledResource(theme.RadioButtonIcon())
		if done {
			icon = theme.NewSuccessThemedResource(theme.ConfirmIcon())
		}
		name := heading(stepTitle(s))
		if s.ID == next.ID && !done {
			name.Importance = widget.HighImportance
		}
		text := wrapped(stepExplain(s))
		var right fyne.CanvasObject
		if done {
			right = widget.NewLabel(formatDate(at))
		} else {
			id := s.ID
			b := widget.NewButton(lang.X("cutover.mark", "Mark done"), func() { c.onMark(id) })
			if c.pairDir == "" {
				b.Disable()
			}
			c.stepMarks[id] = b
			right = container.NewVBox(b)
		}
		objs = append(objs, container.NewBorder(nil, nil, lineIcon(widget.NewIcon(icon)), right, container.NewVBox(name, text)))
	}
	c.stepsBox.Objects = objs
	c.stepsBox.Refresh()
}

// onMark records a step as done in the migration's journal.
func (c *cutoverScreen) onMark(id string) {
	if c.pairDir == "" {
		return
	}
	dir, ui := c.pairDir, c.ui
	go func() {
		d, err := state.Open(dir)
		if err == nil {
			err = cutover.Mark(d, id, "")
			if cerr := d.Close(); err == nil {
				err = cerr
			}
		}
		ui.do(func() {
			if err != nil {
				c.errView.show(failure.New(failure.Local, failure.ScopeAccount, "record the step", err))
				return
			}
			c.reload()
		})
	}()
}

// onCheckDNS runs the DNS checks of the domain.
func (c *cutoverScreen) onCheckDNS() {
	domain := strings.TrimSpace(c.domain.Text)
	if domain == "" {
		c.errView.showText(lang.X("accounts.incomplete", "Something is missing"), lang.X("cutover.missing.domain", "Type your mail domain, the part after @ in your address."))
		return
	}
	c.errView.show(nil)
	opts := dnscheck.Options{Domain: domain, NewServer: strings.TrimSpace(c.server.Text)}
	r := c.resolver
	if r == nil {
		r = dnscheck.NewResolver("")
	}
	ui := c.ui
	c.checkDNS.Disable()
	c.checking.Show()
	c.checking.Start()
	go func() {
		ctx, cancel := context.WithTimeout(ui.ctx, dnsTimeout)
		defer cancel()
		checks, err := dnscheck.Run(ctx, r, opts)
		ui.do(func() {
			c.checking.Stop()
			c.checking.Hide()
			c.checkDNS.Enable()
			if err != nil {
				c.errView.show(err)
				return
			}
			c.checks = checks
			c.showChecks()
		})
	}()
}

// showChecks draws each DNS check with a green, amber or red marker and its fix.
func (c *cutoverScreen) showChecks() {
	var objs []fyne.CanvasObject
	for _, ch := range c.checks {
		var icon fyne.Resource
		imp := widget.MediumImportance
		switch ch.Status {
		case dnscheck.OK:
			icon = theme.NewSuccessThemedResource(theme.ConfirmIcon())
		case dnscheck.Warn:
			icon, imp = theme.NewWarningThemedResource(theme.WarningIcon()), widget.WarningImportance
		case dnscheck.Fail:
			icon, imp = theme.NewErrorThemedResource(theme.ErrorIcon()), widget.DangerImportance
		default:
			icon = theme.NewDisabledResource(theme.QuestionIcon())
		}
		name := heading(ch.Name)
		name.Importance = imp
		lines := []fyne.CanvasObject{name, wrapped(ch.Summary)}
		if ch.Fix != "" {
			fix := wrapped(lang.X("cutover.fix", "To do: {{.Fix}}", map[string]any{"Fix": ch.Fix}))
			fix.TextStyle.Italic = true
			lines = append(lines, fix)
		}
		objs = append(objs, container.NewBorder(nil, nil, lineIcon(widget.NewIcon(icon)), nil, container.NewVBox(lines...)))
	}
	c.checkBox.Objects = objs
	c.checkBox.Refresh()
}

// onFinalCopy copies what is new since the last copy, through the usual
// flow: a fresh plan, then the copy screen.
func (c *cutoverScreen) onFinalCopy() {
	ui := c.ui
	if ui.plan.plan == nil || ui.plan.src == nil {
		ui.show(stepAccounts)
		return
	}
	c.finalCopy.Disable()
	ui.plan.runAgain(func(err error) {
		c.finalCopy.Enable()
		c.errView.show(err)
	})
}

// saveReportTo writes the migration report (every journal of the state
// folder) as an HTML page at path.
func (c *cutoverScreen) saveReportTo(path string) {
	c.errView.show(saveReport(c.ui.stateDir(), path, "html"))
}

// stepTitle and stepExplain are a step's words in the window's language.
func stepTitle(s cutover.Step) string {
	switch s.ID {
	case cutover.InitialCopy:
		return lang.X("cutover.step.initial", "Initial copy")
	case cutover.LowerTTL:
		return lang.X("cutover.step.ttl", "Lower the MX TTL")
	case cutover.SwitchMX:
		return lang.X("cutover.step.switch", "Switch MX")
	case cutover.MXLive:
		return lang.X("cutover.step.live", "New MX live")
	case cutover.FinalDelta:
		return lang.X("cutover.step.final", "Final copy")
	case cutover.Verify:
		return lang.X("cutover.step.verify", "Verify")
	case cutover.Devices:
		return lang.X("cutover.step.devices", "Reconfigure devices")
	case cutover.SendReceive:
		return lang.X("cutover.step.test", "Send and receive test")
	}
	return s.Title
}

func stepExplain(s cutover.Step) string {
	switch s.ID {
	case cutover.InitialCopy:
		return lang.X("cutover.explain.initial", "Copy everything while the old server still receives mail; people keep working as usual.")
	case cutover.LowerTTL:
		return lang.X("cutover.explain.ttl", "A day before the switch, set the TTL of the domain's MX records to 300 seconds, so the change spreads in minutes.")
	case cutover.SwitchMX:
		return lang.X("cutover.explain.switch", "Point the domain's MX records at the new provider (and add its SPF include and DKIM records).")
	case cutover.MXLive:
		return lang.X("cutover.explain.live", "Wait until resolvers return the new MX: from then on new mail arrives on the new server.")
	case cutover.FinalDelta:
		return lang.X("cutover.explain.final", "Copy what arrived on the old server since the initial copy: only the new messages travel.")
	case cutover.Verify:
		return lang.X("cutover.explain.verify", "Check that every message of the old mailbox is on the new one.")
	case cutover.Devices:
		return lang.X("cutover.explain.devices", "Set up phones and computers with the new server's settings.")
	case cutover.SendReceive:
		return lang.X("cutover.explain.test", "Send a message out and receive one in through the new server.")
	}
	return s.Explain
}
