package copier

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"mailmover/core/store"
)

// Options tune a migration.
type Options struct {
	// Exclude and Include filter source folders by display name ("Projects/*", "Trash").
	Exclude, Include []string
	// Rename maps a source folder name to the target name the user chose.
	Rename map[string]string
	// KeepPaths keeps every folder's path as it is (no special-use or INBOX
	// mapping), as a backup does.
	KeepPaths bool
	// Into puts every folder under this path on the target, keeping paths
	// (restores and imports: {"Local Archives"}).
	Into []string
	// Connections is how many folders are copied at once (default 2).
	Connections int
	// BatchMessages and BatchBytes bound one MULTIAPPEND (default 50 and 8 MiB).
	BatchMessages int
	BatchBytes    int64
	// StateDir holds the sync state and journal (required for Run).
	StateDir string
	// Retries is how many times a folder is retried after a lost connection (default 8).
	Retries int
}

func (o *Options) connections() int {
	if o.Connections <= 0 {
		return 2
	}
	return o.Connections
}

func (o *Options) batchMessages() int {
	if o.BatchMessages <= 0 {
		return 50
	}
	return o.BatchMessages
}

func (o *Options) batchBytes() int64 {
	if o.BatchBytes <= 0 {
		return 8 << 20
	}
	return o.BatchBytes
}

func (o *Options) retries() int {
	if o.Retries <= 0 {
		return 8
	}
	return o.Retries
}

// FolderPlan is what happens to one source folder.
type FolderPlan struct {
	Source store.Folder
	// Target is the target mailbox name; TargetPath its hierarchy.
	Target     string
	TargetPath []string
	// SpecialUse is the folder's use, declared or guessed from its name.
	SpecialUse string
	// Exists reports whether the target folder is already there (merged into), else it is created.
	Exists       bool
	TargetFolder store.Folder
	// Include is false for folders the user left out.
	Include bool
	// Note explains a renamed or excluded folder, in words; Why says which
	// of those it is, for a front end to word it its own way.
	Note string
	Why  Why `json:"why,omitempty"`
}

// Why says why a folder is left out or goes to a target of another name.
type Why int

const (
	// WhyNone: the folder keeps its name and is copied.
	WhyNone Why = iota
	// WhyExcluded: Options.Include or Options.Exclude leave it out.
	WhyExcluded
	// WhyDelimiter: the name holds the target's hierarchy delimiter, which
	// is replaced by a visible substitute.
	WhyDelimiter
	// WhyRenamed: Options.Rename gives the target's name.
	WhyRenamed
	// WhyCollision: the name would land in the same target folder as
	// another source folder's, so a number is added: nothing is merged
	// silently.
	WhyCollision
)

var whyNames = [...]string{"", "excluded", "delimiter", "renamed", "collision"}

// MarshalText writes the reason by name ("" for WhyNone).
func (w Why) MarshalText() ([]byte, error) { return []byte(whyNames[w]), nil }

// Plan is what a migration will do, computed before anything is written.
type Plan struct {
	Source, Target Info
	Folders        []FolderPlan
	// Messages and Bytes total the included source folders.
	Messages int
	Bytes    int64
	// Warnings are things the user should know before starting.
	Warnings []string
}

// Included returns the folders that will be copied.
func (p *Plan) Included() []FolderPlan {
	var out []FolderPlan
	for _, f := range p.Folders {
		if f.Include {
			out = append(out, f)
		}
	}
	return out
}

// Creates counts the target folders that will be created.
func (p *Plan) Creates() int {
	n := 0
	for _, f := range p.Included() {
		if !f.Exists {
			n++
		}
	}
	return n
}

// MakePlan connects to both sides, reads their folders and decides the mapping.
// Both sides are dialled at the same time.
func MakePlan(ctx context.Context, src, dst Endpoint, opts Options) (*Plan, error) {
	var tc TargetConn
	var terr error
	dialled := make(chan struct{})
	go func() {
		defer close(dialled)
		tc, terr = dst.Dial(ctx)
	}()
	sc, err := src.Dial(ctx)
	<-dialled
	switch {
	case err != nil:
		if terr == nil {
			tc.Close()
		}
		return nil, err
	case terr != nil:
		sc.Close()
		return nil, terr
	}
	defer closeAll(sc, tc)
	return planWith(ctx, src, dst, sc, tc, opts)
}

func planWith(ctx context.Context, src, dst Endpoint, sc Conn, tc TargetConn, opts Options) (*Plan, error) {
	sf, err := sc.Folders(ctx)
	if err != nil {
		return nil, err
	}
	tf, err := tc.Folders(ctx)
	if err != nil {
		return nil, err
	}
	sortFolders(sf)
	p := &Plan{Source: info(src.Name, sc), Target: info(dst.Name, tc)}
	if q, err := tc.Quota(ctx); err == nil {
		p.Target.Quota = q
	}
	p.Target.SizeLimit = tc.AppendLimit()
	p.Target.Multi = tc.CanMultiAppend()
	prefix, delim := tc.Layout()
	p.Folders = mapFolders(sf, tf, Layout{Prefix: prefix, Delim: delim}, &opts)
	for i := range p.Folders {
		f := &p.Folders[i]
		if f.Source.Size < 0 && f.Include && f.Source.Messages > 0 {
			// The server does not tell folder sizes: add them up.
			if _, err := sc.OpenFolder(ctx, f.Source.Name, true); err != nil {
				return nil, err
			}
			infos, err := sc.List(ctx)
			if err != nil {
				return nil, err
			}
			var n int64
			for _, m := range infos {
				n += m.Size
			}
			f.Source.Size = n
		}
		if f.Include {
			p.Messages += max(f.Source.Messages, 0)
			p.Bytes += max(f.Source.Size, 0)
		}
		if f.Note != "" && f.Note != "excluded" {
			p.Warnings = append(p.Warnings, fmt.Sprintf("%s: %s", f.Source.DisplayName(), f.Note))
		}
	}
	if q := p.Target.Quota; q != nil && q.Limit > 0 && q.Limit-q.Used < p.Bytes {
		p.Warnings = append(p.Warnings, fmt.Sprintf("the new mailbox has %s free but the old one holds %s: raise the quota or leave folders out", store.FormatBytes(q.Limit-q.Used), store.FormatBytes(p.Bytes)))
	}
	return p, nil
}

func info(name string, c Conn) Info {
	prefix, delim := c.Layout()
	in := Info{Name: name, Prefix: prefix, Delim: string(delim)}
	if s, ok := c.(interface{ CapList() []string }); ok {
		in.Caps = s.CapList()
	}
	return in
}

// sortFolders puts INBOX first, then special-use folders, then the rest by path.
func sortFolders(fs []store.Folder) {
	rank := func(f store.Folder) int {
		if len(f.Path) == 1 && strings.EqualFold(f.Path[0], "INBOX") {
			return 0
		}
		if specialUse(f) != "" {
			return 1
		}
		return 2
	}
	slices.SortStableFunc(fs, func(a, b store.Folder) int {
		if ra, rb := rank(a), rank(b); ra != rb {
			return ra - rb
		}
		return strings.Compare(a.Name, b.Name)
	})
}
