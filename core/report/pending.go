package report

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"time"

	"mailmover/core/state"
)

// Pending is a pair of accounts whose last copy did not finish: stopped by
// the user, cut off by a problem, or killed with the computer or the app.
// Nothing of it is lost: copying the pair again resumes where it stopped.
type Pending struct {
	// Source and Target name the accounts as the journal does
	// ("USER on HOST:PORT").
	Source, Target string
	// Started is when the unfinished copy started; Ended when it stopped
	// (zero if it was killed and never said).
	Started, Ended time.Time
	// Error says why it stopped, "" if it was killed.
	Error string
	// Dir is the pair's state folder.
	Dir string
}

// FindPending returns the pairs under dir whose last copy did not finish,
// the most recent first. A dir that does not exist has none.
func FindPending(dir string) ([]Pending, error) {
	var out []Pending
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		if d.IsDir() || d.Name() != state.JournalFile {
			return nil
		}
		recs, err := state.ReadJournal(p)
		if err != nil {
			return err
		}
		if pd, ok := pending(recs); ok {
			pd.Dir = filepath.Dir(p)
			out = append(out, pd)
		}
		return nil
	})
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	slices.SortFunc(out, func(a, b Pending) int { return b.Started.Compare(a.Started) })
	return out, nil
}

// pending reads a journal's last copy.
func pending(recs []state.Record) (Pending, bool) {
	var last *state.Record
	var done *state.Record
	for i := range recs {
		switch recs[i].Event {
		case "run-start":
			last, done = &recs[i], nil
		case "run-done":
			if last != nil && recs[i].Run == last.Run {
				done = &recs[i]
			}
		}
	}
	if last == nil || (done != nil && done.Error == "") {
		return Pending{}, false
	}
	p := Pending{Source: last.Source, Target: last.Target, Started: last.Time}
	if done != nil {
		p.Ended, p.Error = done.Time, done.Error
	}
	return p, true
}
