package gui

import (
	"context"
	"errors"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"mailmover/core/dav"
	"mailmover/core/demo"
	"mailmover/core/failure"
	"mailmover/core/imapstore"
)

// davTimeout bounds the search for the contacts and calendar services of a
// pair of accounts: a host that does not answer must not keep the plan
// waiting for ever.
const davTimeout = 45 * time.Second

// davPart is the contacts or the calendars of a migration: both accounts'
// services, the plan, and, after the copy, what happened and the check.
type davPart struct {
	kind     dav.Kind
	src, dst *dav.Account
	plan     *dav.Plan
	// err says why this part cannot be copied (no service found, login
	// refused), and side which account it is about.
	err  error
	side side

	result   *dav.Result
	copyErr  error
	verified *dav.Verification
	verr     error
}

// ok reports whether the part can be copied.
func (p *davPart) ok() bool { return p.err == nil && p.plan != nil }

// davJob finds and plans the contacts and calendars of two accounts on a
// goroutine, while the user reads the mail plan. parts is read only after
// done is closed.
type davJob struct {
	done  chan struct{}
	parts []*davPart
	// include is the user's choice on the plan (UI goroutine only).
	include bool
}

// ready reports whether the search has ended.
func (j *davJob) ready() bool {
	select {
	case <-j.done:
		return true
	default:
		return false
	}
}

// found returns the parts that can be copied (after done).
func (j *davJob) found() []*davPart {
	var out []*davPart
	for _, p := range j.parts {
		if p.ok() {
			out = append(out, p)
		}
	}
	return out
}

// davConfigs returns how to reach the contacts and calendars of two mail
// accounts: the demo's own servers when d is the running demo, or discovery
// from each email address with the mail password. An account signed in with
// OAuth has none: its provider's address book needs an authorization of its
// own.
func davConfigs(d *demo.Demo, src, dst *imapstore.Config, srcEmail, dstEmail string) (*dav.Config, *dav.Config) {
	if d != nil {
		sc, dc := d.SourceDAV, d.TargetDAV
		return &sc, &dc
	}
	conf := func(cfg *imapstore.Config, email string) *dav.Config {
		if cfg == nil || cfg.Tokens != nil || email == "" || cfg.Password == "" {
			return nil
		}
		return &dav.Config{Email: email, Username: cfg.Username, Password: cfg.Password, CAPEM: cfg.CAPEM}
	}
	return conf(src, srcEmail), conf(dst, dstEmail)
}

// startDAV looks for both accounts' contacts and calendars and plans their
// copy, on a goroutine. Nothing is written.
func startDAV(ctx context.Context, src, dst *dav.Config) *davJob {
	j := &davJob{done: make(chan struct{}), include: true}
	go func() {
		defer close(j.done)
		ctx, cancel := context.WithTimeout(ctx, davTimeout)
		defer cancel()
		for _, kind := range []dav.Kind{dav.Contacts, dav.Calendars} {
			j.parts = append(j.parts, planDAV(ctx, kind, src, dst))
		}
	}()
	return j
}

// errNoDAV stands for an account without the information to look for its
// contacts and calendars.
var errNoDAV = errors.New("no address to look for contacts and calendars from")

// planDAV connects to one kind of service on both sides and plans the copy.
func planDAV(ctx context.Context, kind dav.Kind, src, dst *dav.Config) *davPart {
	p := &davPart{kind: kind}
	if src == nil {
		p.err, p.side = errNoDAV, sourceSide
		return p
	}
	if p.src, p.err = dav.Connect(ctx, *src, kind); p.err != nil {
		p.side = sourceSide
		return p
	}
	if dst == nil {
		p.err, p.side = errNoDAV, targetSide
		return p
	}
	if p.dst, p.err = dav.Connect(ctx, *dst, kind); p.err != nil {
		p.side = targetSide
		return p
	}
	if p.plan, p.err = dav.MakePlan(ctx, p.src, p.dst, dav.Options{}); p.err != nil {
		p.side = targetSide
	}
	return p
}

// copyDAV copies and checks every part found, on the copy's goroutine;
// onDone reports each collection finished.
func copyDAV(ctx context.Context, parts []*davPart, onDone func(kind dav.Kind, r dav.CollectionResult)) {
	for _, p := range parts {
		kind := p.kind
		opts := dav.Options{Progress: func(e dav.Event) {
			if e.Kind == dav.EventCollectionDone && e.Result != nil && onDone != nil {
				onDone(kind, *e.Result)
			}
		}}
		p.result, p.copyErr = dav.Copy(ctx, p.src, p.dst, p.plan, opts)
		if ctx.Err() != nil {
			return
		}
		p.verified, p.verr = dav.Verify(ctx, p.src, p.dst, p.plan)
	}
}

// davBackupDir is the folder of a mail backup that holds the address books
// (.vcf) and calendars (.ics), apart from the mail's mbox files.
const davBackupDir = "Contacts and calendars"

// davSaved is what a backup saved of an account's contacts and calendars.
type davSaved struct {
	contacts, addressBooks int
	items, calendars       int
	failed                 int
	// found reports whether any service was found.
	found bool
	// err is what stopped a backup that was found, if anything.
	err error
}

// backupDAV saves every address book and calendar the account has into
// dir, on the backup's goroutine. An account without such services saves
// nothing, which is not an error.
func backupDAV(ctx context.Context, cfg *dav.Config, dir string) davSaved {
	var saved davSaved
	if cfg == nil {
		return saved
	}
	ctx, cancel := context.WithTimeout(ctx, davTimeout)
	defer cancel()
	for _, kind := range []dav.Kind{dav.Contacts, dav.Calendars} {
		a, err := dav.Connect(ctx, *cfg, kind)
		if err != nil {
			continue
		}
		saved.found = true
		res, err := dav.Backup(ctx, a, dir, dav.Options{})
		if err != nil && saved.err == nil {
			saved.err = err
		}
		if res == nil {
			continue
		}
		saved.failed += res.Failed
		if kind == dav.Calendars {
			saved.items, saved.calendars = saved.items+res.Objects, saved.calendars+len(res.Files)
		} else {
			saved.contacts, saved.addressBooks = saved.contacts+res.Objects, saved.addressBooks+len(res.Files)
		}
	}
	return saved
}

// text says what was saved, in plain words, and how it went.
func (s davSaved) text() (string, widget.Importance) {
	switch {
	case !s.found:
		return lang.X("backup.dav.none", "No address book or calendar was found for this account: only the mail is in the backup."), widget.LowImportance
	case s.err != nil:
		return lang.X("backup.dav.failed", "Contacts and calendars were not all saved: {{.Why}}", map[string]any{"Why": adviceForError(s.err).Title}), widget.WarningImportance
	}
	data := map[string]any{"Contacts": davObjects(dav.Contacts, s.contacts), "Items": davObjects(dav.Calendars, s.items), "Folder": davBackupDir}
	if s.failed > 0 {
		data["Failed"] = formatCount(s.failed)
		return lang.X("backup.dav.partial", "Also saved in “{{.Folder}}”: {{.Contacts}} and {{.Items}}; {{.Failed}} could not be read.", data), widget.WarningImportance
	}
	return lang.X("backup.dav.ok", "Also saved in “{{.Folder}}”: {{.Contacts}} and {{.Items}}, as files Thunderbird, Apple Contacts and Calendar, and Outlook open.", data), widget.SuccessImportance
}

// davCollectionWord names a collection of a kind.
func davCollectionWord(kind dav.Kind) string {
	if kind == dav.Calendars {
		return lang.X("dav.calendar", "Calendar")
	}
	return lang.X("dav.addressbook", "Address book")
}

// davObjects counts a kind's objects in words.
func davObjects(kind dav.Kind, n int) string {
	if kind == dav.Calendars {
		return lang.XN("dav.items", "{{.N}} events and tasks", n, map[string]any{"N": formatCount(n)})
	}
	return lang.XN("dav.contacts", "{{.N}} contacts", n, map[string]any{"N": formatCount(n)})
}

// davKinds names a kind's data in a sentence.
func davKinds(kind dav.Kind) string {
	if kind == dav.Calendars {
		return lang.X("dav.kind.calendars", "calendars")
	}
	return lang.X("dav.kind.contacts", "contacts")
}

// davNotFound says in plain words why a part is not copied.
func davNotFound(p *davPart) string {
	data := map[string]any{"Kinds": davKinds(p.kind)}
	side := lang.X("dav.side.old", "old account")
	if p.side == targetSide {
		side = lang.X("dav.side.new", "new account")
	}
	data["Side"] = side
	switch failure.KindOf(p.err) {
	case failure.Auth:
		return lang.X("dav.refused", "No {{.Kinds}} copied: the {{.Side}} refused the mail password for them (some providers want an app password).", data)
	case failure.Cancelled:
		return lang.X("dav.timeout", "No {{.Kinds}} copied: the {{.Side}}'s service did not answer in time.", data)
	}
	return lang.X("dav.none", "No {{.Kinds}} copied: none found on the {{.Side}}.", data)
}

// davRows builds the plan's lines for contacts and calendars.
func davRows(j *davJob) []fyne.CanvasObject {
	var rows []fyne.CanvasObject
	for _, p := range j.parts {
		if !p.ok() {
			l := wrapped(davNotFound(p))
			l.Importance = widget.LowImportance
			rows = append(rows, container.NewBorder(nil, nil, lineIcon(widget.NewIcon(theme.NewDisabledResource(theme.InfoIcon()))), nil, l))
			continue
		}
		for _, c := range p.plan.Included() {
			what := lang.X("dav.plan.merge", "{{.What}} “{{.Name}}” ({{.Count}}) to “{{.Target}}”, merged into existing", map[string]any{
				"What": davCollectionWord(p.kind), "Name": c.Source.Title(), "Count": davObjects(p.kind, c.SourceCount), "Target": c.Target.Title()})
			if !c.Exists {
				what = lang.X("dav.plan.create", "{{.What}} “{{.Name}}” ({{.Count}}) to “{{.Target}}”, will be created", map[string]any{
					"What": davCollectionWord(p.kind), "Name": c.Source.Title(), "Count": davObjects(p.kind, c.SourceCount), "Target": c.Target.Title()})
			}
			l := widget.NewLabel(what)
			l.Truncation = fyne.TextTruncateEllipsis
			icon := theme.AccountIcon()
			if p.kind == dav.Calendars {
				icon = theme.HistoryIcon()
			}
			rows = append(rows, container.NewBorder(nil, nil, widget.NewIcon(icon), nil, l))
		}
	}
	return rows
}

// davCheckRows builds the result screen's lines: each collection checked,
// or why a part was not copied.
func davCheckRows(j *davJob) (rows []fyne.CanvasObject, missing int) {
	line := func(icon fyne.Resource, text string, imp widget.Importance) fyne.CanvasObject {
		l := wrapped(text)
		l.Importance = imp
		return container.NewBorder(nil, nil, lineIcon(widget.NewIcon(icon)), nil, l)
	}
	for _, p := range j.parts {
		switch {
		case !p.ok():
			rows = append(rows, line(theme.NewDisabledResource(theme.InfoIcon()), davNotFound(p), widget.LowImportance))
		case p.verified == nil:
			err := p.verr
			if err == nil {
				err = p.copyErr
			}
			text := lang.X("dav.check.none", "The {{.Kinds}} were not checked.", map[string]any{"Kinds": davKinds(p.kind)})
			if err != nil {
				text += " " + adviceForError(err).Title
			}
			rows = append(rows, line(theme.NewWarningThemedResource(theme.WarningIcon()), text, widget.WarningImportance))
			missing++
		default:
			for _, c := range p.verified.Collections {
				n := len(c.Missing)
				data := map[string]any{"What": davCollectionWord(p.kind), "Name": c.Source, "Arrived": formatCount(c.SourceCount - n), "Count": davObjects(p.kind, c.SourceCount)}
				switch {
				case c.Err != "":
					rows = append(rows, line(theme.NewErrorThemedResource(theme.ErrorIcon()),
						lang.X("dav.check.error", "{{.What}} “{{.Name}}” could not be checked: {{.Err}}", map[string]any{"What": davCollectionWord(p.kind), "Name": c.Source, "Err": c.Err}), widget.DangerImportance))
					missing++
				case n > 0:
					rows = append(rows, line(theme.NewErrorThemedResource(theme.ErrorIcon()),
						lang.X("dav.check.missing", "{{.What}} “{{.Name}}”: {{.Arrived}} of {{.Count}} on the new account. Run again to copy the rest.", data), widget.DangerImportance))
					missing += n
				default:
					rows = append(rows, line(theme.NewSuccessThemedResource(theme.ConfirmIcon()),
						lang.X("dav.check.ok", "{{.What}} “{{.Name}}”: all {{.Count}} on the new account.", data), widget.SuccessImportance))
				}
			}
		}
	}
	return rows, missing
}
