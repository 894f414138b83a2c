package localstore

import (
	"context"
	"hash/fnv"
	"iter"
	"slices"
	"strings"
	"sync"

	"mailmover/core/failure"
	"mailmover/core/localarchive"
	"mailmover/core/store"
)

// Archive is mail found on local disks (Thunderbird, Apple Mail, mbox and
// .eml files) seen as a read-only store. UIDs are positions in each folder.
// Messages that must not be uploaded (expunged, deleted) are left out, and
// unreadable parts of files are collected in Problems.
type Archive struct {
	*archive
	open *localarchive.Folder
}

// archive is what the connections to one archive share.
type archive struct {
	folders []localarchive.Folder

	mu       sync.Mutex
	problems []error
	counted  map[string]store.Folder
}

// NewArchive returns the store of the given local folders.
func NewArchive(folders []localarchive.Folder) *Archive {
	return &Archive{archive: &archive{folders: folders, counted: map[string]store.Folder{}}}
}

// conn returns another connection to the same archive.
func (a *Archive) conn() *Archive { return &Archive{archive: a.archive} }

// Problems returns the unreadable parts found so far (each names its file and offset).
func (a *archive) Problems() []error {
	a.mu.Lock()
	defer a.mu.Unlock()
	return slices.Clone(a.problems)
}

func (a *archive) problem(err error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, p := range a.problems {
		if p.Error() == err.Error() {
			return
		}
	}
	a.problems = append(a.problems, err)
}

// Layout: see Backup.Layout.
func (a *Archive) Layout() (string, rune) { return "", sep }

// Folders lists the local folders, counting their messages (which reads them once).
func (a *Archive) Folders(ctx context.Context) ([]store.Folder, error) {
	var out []store.Folder
	for i := range a.folders {
		f := store.Folder{Name: joinPath(a.folders[i].Path), Path: a.folders[i].Path, Delim: sep, SpecialUse: a.folders[i].SpecialUse, Subscribed: true}
		if err := a.Status(ctx, &f); err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	return out, nil
}

func (a *archive) find(name string) (*localarchive.Folder, error) {
	for i := range a.folders {
		if joinPath(a.folders[i].Path) == name {
			return &a.folders[i], nil
		}
	}
	return nil, failure.Newf(failure.Refused, failure.ScopeFolder, "no local folder %q", strings.Join(splitName(name), "/"))
}

func uidValidity(f *localarchive.Folder) uint32 {
	h := fnv.New32a()
	h.Write([]byte(f.Format + "\x00" + f.Source))
	return h.Sum32() | 1
}

// Status counts a folder's messages and bytes.
func (a *Archive) Status(ctx context.Context, f *store.Folder) error {
	a.mu.Lock()
	c, ok := a.counted[f.Name]
	a.mu.Unlock()
	if !ok {
		lf, err := a.find(f.Name)
		if err != nil {
			return err
		}
		infos, err := a.list(ctx, lf)
		if err != nil {
			return err
		}
		c = store.Folder{Messages: len(infos), UIDValidity: uidValidity(lf)}
		for _, m := range infos {
			c.Size += m.Size
			c.UIDNext = max(c.UIDNext, m.UID+1)
		}
		a.mu.Lock()
		a.counted[f.Name] = c
		a.mu.Unlock()
	}
	f.Messages, f.Size, f.UIDValidity, f.UIDNext = c.Messages, c.Size, c.UIDValidity, c.UIDNext
	return nil
}

// OpenFolder opens a local folder; local archives are read-only.
func (a *Archive) OpenFolder(ctx context.Context, name string, readOnly bool) (uint32, error) {
	if !readOnly {
		return 0, failure.Newf(failure.Config, failure.ScopeFolder, "local archives are only read")
	}
	lf, err := a.find(name)
	if err != nil {
		return 0, err
	}
	a.open = lf
	return uidValidity(lf), nil
}

// List summarises the open folder's messages.
func (a *Archive) List(ctx context.Context) ([]store.MessageInfo, error) {
	if a.open == nil {
		return nil, failure.Newf(failure.Config, failure.ScopeFolder, "no folder open")
	}
	return a.list(ctx, a.open)
}

func (a *archive) list(ctx context.Context, lf *localarchive.Folder) ([]store.MessageInfo, error) {
	var out []store.MessageInfo
	for m, err := range localarchive.Messages(ctx, *lf) {
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			if failure.ScopeOf(err) == failure.ScopeMessage {
				a.problem(err)
				continue
			}
			return nil, err
		}
		if m.Skipped != "" {
			continue
		}
		out = append(out, m.MessageInfo)
	}
	return out, nil
}

// Fetch streams the messages with the given UIDs from the open folder.
func (a *Archive) Fetch(ctx context.Context, uids []uint32) iter.Seq2[*store.Message, error] {
	return func(yield func(*store.Message, error) bool) {
		if a.open == nil {
			return
		}
		want := make(map[uint32]bool, len(uids))
		for _, u := range uids {
			want[u] = true
		}
		uv := uidValidity(a.open)
		for m, err := range localarchive.Messages(ctx, *a.open) {
			if err != nil {
				if ctx.Err() != nil {
					yield(nil, ctx.Err())
					return
				}
				continue
			}
			if !want[m.UID] || m.Skipped != "" {
				continue
			}
			delete(want, m.UID)
			if !yield(&store.Message{MessageInfo: m.MessageInfo, UIDValidity: uv, Body: m.Body}, nil) {
				return
			}
			if len(want) == 0 {
				return
			}
		}
	}
}

func readOnlyErr() error {
	return failure.Newf(failure.Config, failure.ScopeFolder, "local archives are only read, never written")
}

// Create is refused: local archives are only read.
func (a *Archive) Create(ctx context.Context, name string, subscribe bool) error {
	return readOnlyErr()
}

// StoreFlags is refused: local archives are only read.
func (a *Archive) StoreFlags(ctx context.Context, uid uint32, flags []string) error {
	return readOnlyErr()
}

// Append is refused: local archives are only read.
func (a *Archive) Append(ctx context.Context, mailbox string, msgs iter.Seq2[*store.Message, error]) (store.AppendResult, error) {
	return store.AppendResult{}, readOnlyErr()
}

// CanMultiAppend is false: nothing is appended here.
func (a *Archive) CanMultiAppend() bool { return false }

// Quota: none.
func (a *Archive) Quota(ctx context.Context) (*store.Quota, error) { return nil, nil }

// AppendLimit: none.
func (a *Archive) AppendLimit() int64 { return 0 }

// Close does nothing: files are opened per read.
func (a *Archive) Close() error { return nil }
