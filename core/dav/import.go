package dav

import (
	"context"
	"fmt"
	"net/url"
	"strings"

	"mailmover/core/failure"
)

// SplitFile splits the contents of a .vcf file into its vCards, or of an
// .ics file into calendar objects as CalDAV stores them (the components
// sharing a UID together, with the time zones they use), lines unchanged.
func SplitFile(kind Kind, data []byte) ([][]byte, error) {
	if kind == Calendars {
		objs, err := splitCalendar(data)
		if err != nil {
			return nil, failure.New(failure.Malformed, failure.ScopeAccount, "read the calendar file", err)
		}
		return objs, nil
	}
	cards := splitVCards(data)
	if len(cards) == 0 {
		return nil, failure.New(failure.Malformed, failure.ScopeAccount, "read the contacts file", errNoObject)
	}
	return cards, nil
}

// DescribeFile returns what an .ics file says of its calendar
// (X-WR-CALNAME, X-WR-CALDESC, X-APPLE-CALENDAR-COLOR), to name the
// collection it is imported into. A .vcf file says nothing.
func DescribeFile(kind Kind, data []byte) Collection {
	var c Collection
	if kind != Calendars {
		return c
	}
	cal, err := parseCalendar(data)
	if err != nil {
		return c
	}
	for _, p := range cal.Props {
		v := unescapeText(p.Value)
		switch p.Name {
		case "X-WR-CALNAME", "NAME":
			if c.Name == "" {
				c.Name = v
			}
		case "X-WR-CALDESC", "DESCRIPTION":
			if c.Description == "" {
				c.Description = v
			}
		case "X-APPLE-CALENDAR-COLOR":
			c.Color = v
		}
	}
	return c
}

// FindOrCreate returns the collection whose title is title, creating it
// (with like's description, colour and component types) if there is
// none. created says whether it was made.
func (a *Account) FindOrCreate(ctx context.Context, title string, like Collection) (c Collection, created bool, err error) {
	cols, err := a.Collections(ctx)
	if err != nil {
		return Collection{}, false, err
	}
	for _, c := range cols {
		if c.Title() == title || strings.EqualFold(c.Segment(), title) {
			return c, false, nil
		}
	}
	like.Name = title
	like.URL, like.u = "", nil
	taken := make(map[string]bool)
	for _, c := range cols {
		taken[strings.ToLower(c.Segment())] = true
	}
	seg := segmentFor(Collection{Name: title, URL: "/" + url.PathEscape(title) + "/"})
	base := seg
	for n := 2; taken[strings.ToLower(seg)]; n++ {
		seg = fmt.Sprintf("%s-%d", base, n)
	}
	c, err = a.CreateCollection(ctx, seg, like)
	if err != nil {
		return Collection{}, false, err
	}
	return c, true, nil
}

// Import uploads the objects of a .vcf or .ics file (see SplitFile) into
// col, each unchanged, skipping those whose UID col has already; nothing
// is overwritten or deleted, and a second import adds nothing. Objects
// the server refuses are recorded in the result's problems.
func Import(ctx context.Context, dst *Account, col Collection, data []byte, opts Options) (*Result, error) {
	objs, err := SplitFile(dst.Kind, data)
	if err != nil {
		return nil, err
	}
	ix, err := dst.index(ctx, col)
	if err != nil {
		return nil, err
	}
	pr := &progress{fn: opts.Progress, total: len(objs)}
	up := &uploader{dst: dst, col: col, ix: ix, title: col.Title(), pr: pr}
	err = forEach(ctx, opts.workers(), len(objs), func(ctx context.Context, i int) error {
		info, ierr := inspect(dst.Kind, objs[i])
		if ierr != nil {
			return up.fail(failure.New(failure.Malformed, failure.ScopeMessage, fmt.Sprintf("object %d of the file", i+1), ierr), Problem{})
		}
		return up.upload(ctx, objs[i], info.UID, info.Summary, "", "")
	})
	res := &Result{Kind: dst.Kind}
	cr := CollectionResult{Source: "file", Target: col.Title(), TargetURL: col.URL, Copied: up.copied, Existing: up.existing, Failed: up.failed}
	res.add(cr, up.problems)
	if err != nil {
		return res, err
	}
	pr.emit(Event{Kind: EventCollectionDone, Collection: col.Title(), Result: &cr})
	return res, nil
}
