package dav

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"mailmover/core/atomicfile"
	"mailmover/core/failure"
)

// BackupResult is what Backup wrote.
type BackupResult struct {
	Kind Kind `json:"kind"`
	// Dir is the folder the files are in.
	Dir   string       `json:"dir"`
	Files []BackupFile `json:"files"`
	// Objects counts the objects saved, Failed those that could not be
	// fetched or read.
	Objects  int       `json:"objects"`
	Failed   int       `json:"failed"`
	Problems []Problem `json:"problems,omitempty"`
}

// Complete reports whether every object of every collection was saved.
func (r *BackupResult) Complete() bool {
	return r != nil && r.Failed == 0
}

// BackupFile is one collection saved to one file.
type BackupFile struct {
	Collection string `json:"collection"`
	URL        string `json:"url"`
	// Path is the file written.
	Path string `json:"path"`
	// Objects counts the objects in the file; for a calendar,
	// Components counts its events, tasks and other components (an
	// event with changed occurrences is one object of several
	// components).
	Objects    int `json:"objects"`
	Components int `json:"components,omitempty"`
	Failed     int `json:"failed"`
}

// Backup saves every included address book to a .vcf file (the vCards
// one after another, each exactly as the server sent it) or every
// calendar to an .ics file (one VCALENDAR holding every event and task,
// lines unchanged, each time zone once, named with X-WR-CALNAME), in dir.
// The files are named after the collections and replaced atomically, so
// that a backup interrupted never leaves a torn file. These are the
// formats Thunderbird, Apple Contacts and Calendar, and Outlook import.
func Backup(ctx context.Context, a *Account, dir string, opts Options) (*BackupResult, error) {
	res := &BackupResult{Kind: a.Kind, Dir: dir}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return res, failure.New(failure.Local, failure.ScopeAccount, "create the backup folder", err)
	}
	cols, err := a.Collections(ctx)
	if err != nil {
		return res, err
	}
	var included []Collection
	for _, c := range cols {
		if opts.included(c) {
			included = append(included, c)
		}
	}
	refs := make([][]ObjectRef, len(included))
	pr := &progress{fn: opts.Progress}
	for i, c := range included {
		if refs[i], err = a.Objects(ctx, c); err != nil {
			return res, err
		}
		pr.total += len(refs[i])
	}
	usedNames := make(map[string]bool)
	for i, c := range included {
		bf, problems, err := backupCollection(ctx, a, c, refs[i], dir, usedNames, opts, pr)
		res.Problems = append(res.Problems, problems...)
		res.Failed += bf.Failed
		if err != nil {
			return res, err
		}
		res.Files = append(res.Files, bf)
		res.Objects += bf.Objects
		pr.emit(Event{Kind: EventCollectionDone, Collection: c.Title(),
			Result: &CollectionResult{Source: c.Title(), Target: bf.Path, TargetURL: c.URL, Copied: bf.Objects, Failed: bf.Failed}})
	}
	return res, nil
}

// backupCollection fetches one collection and writes its file.
func backupCollection(ctx context.Context, a *Account, c Collection, refs []ObjectRef, dir string, used map[string]bool, opts Options, pr *progress) (BackupFile, []Problem, error) {
	bf := BackupFile{Collection: c.Title(), URL: c.URL}
	objs := make([]*Object, len(refs))
	up := &uploader{title: c.Title(), pr: pr}
	err := forEach(ctx, opts.workers(), len(refs), func(ctx context.Context, i int) error {
		o, err := a.Get(ctx, refs[i])
		if err != nil {
			return up.fail(err, Problem{URL: refs[i].URL})
		}
		objs[i] = o
		pr.emit(Event{Kind: EventObject, Collection: c.Title()})
		return nil
	})
	bf.Failed = up.failed
	if err != nil {
		return bf, up.problems, err
	}
	var kept []*Object
	for _, o := range objs {
		if o != nil {
			kept = append(kept, o)
		}
	}
	var data []byte
	if a.Kind == Calendars {
		raw := make([][]byte, len(kept))
		for i, o := range kept {
			raw[i] = o.Data
		}
		var bad []int
		data, bf.Components, bad = mergeCalendars(calendarHeader{Name: c.Title(), Description: c.Description, Color: c.Color}, raw)
		for _, i := range bad {
			up.fail(failure.Newf(failure.Malformed, failure.ScopeMessage, "%s is not an iCalendar object", kept[i].URL), Problem{URL: kept[i].URL, UID: kept[i].UID})
		}
		bf.Objects = len(kept) - len(bad)
	} else {
		var b bytes.Buffer
		for _, o := range kept {
			if len(splitVCards(o.Data)) == 0 {
				up.fail(failure.Newf(failure.Malformed, failure.ScopeMessage, "%s is not a vCard", o.URL), Problem{URL: o.URL})
				continue
			}
			b.Write(o.Data)
			if !bytes.HasSuffix(o.Data, []byte("\n")) {
				b.WriteString("\r\n")
			}
			bf.Objects++
		}
		data = b.Bytes()
	}
	bf.Failed = up.failed
	bf.Path = filepath.Join(dir, uniqueFileName(fileName(c.Title()), a.Kind.Ext(), used))
	if err := atomicfile.WriteFile(bf.Path, data, 0o600); err != nil {
		return bf, up.problems, failure.New(failure.Local, failure.ScopeAccount, "save "+c.Title(), err)
	}
	return bf, up.problems, nil
}

// fileName turns a collection's title into a file name valid on Windows,
// macOS and Linux.
func fileName(title string) string {
	var b strings.Builder
	for _, r := range title {
		switch {
		case r < ' ' || r == 0x7f:
		case strings.ContainsRune(`<>:"/\|?*`, r):
			b.WriteRune('_')
		default:
			b.WriteRune(r)
		}
	}
	s := strings.Trim(b.String(), " .")
	if len(s) > 100 {
		cut := 100
		for cut > 0 && s[cut]&0xC0 == 0x80 {
			cut--
		}
		s = strings.TrimRight(s[:cut], " .")
	}
	switch strings.ToUpper(s) {
	case "", "CON", "PRN", "AUX", "NUL", "COM1", "COM2", "COM3", "LPT1", "LPT2", "LPT3":
		s = "collection " + s
	}
	return strings.TrimSpace(s)
}

// uniqueFileName returns base+ext, or base (2)+ext and so on, not in used
// (compared case-insensitively), and records it.
func uniqueFileName(base, ext string, used map[string]bool) string {
	name := base + ext
	for n := 2; used[strings.ToLower(name)]; n++ {
		name = fmt.Sprintf("%s (%d)%s", base, n, ext)
	}
	used[strings.ToLower(name)] = true
	return name
}
