// Package localstore presents local mail as stores the copier can use: a
// backup tree of mbox files (read and written) and local archives such as
// Thunderbird profiles, Apple Mail folders and loose mbox files (read only).
// So backups, restores and imports are migrations like any other: planned,
// incremental, resumable and verified by the same engine.
package localstore

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"io/fs"
	"iter"
	"strings"

	"mailmover/core/failure"
	"mailmover/core/mbox"
	"mailmover/core/store"
)

// sep joins path elements in the folder names of local stores. Mail folder
// names never hold it, so paths survive exactly, whatever delimiter the
// server they came from used.
const sep = '\x00'

func joinPath(p []string) string  { return strings.Join(p, string(sep)) }
func splitName(n string) []string { return strings.Split(n, string(sep)) }

// localUIDValidity is the UIDVALIDITY of local folders: their UIDs are
// positions, which never change for a backup (it only grows).
const localUIDValidity = 1

// Backup is a backup tree (package mbox) seen as a mail store. UIDs are
// positions in the mbox, counting from 1.
type Backup struct {
	tree *mbox.Tree

	name     string // open folder
	entry    mbox.Entry
	app      *mbox.Appender // open read-write
	box      *mbox.Mailbox  // open read-only
	readOnly bool
}

// OpenBackup opens (creating it) the backup tree at root.
func OpenBackup(ctx context.Context, root string) (*Backup, error) {
	t, err := mbox.OpenTree(ctx, root)
	if err != nil {
		return nil, err
	}
	return &Backup{tree: t}, nil
}

// Root is the backup's directory.
func (b *Backup) Root() string { return b.tree.Root() }

// Layout: local folder names are paths joined with a separator no mail
// folder name holds.
func (b *Backup) Layout() (string, rune) { return "", sep }

// Folders lists the backed-up folders with their message counts and sizes.
func (b *Backup) Folders(ctx context.Context) ([]store.Folder, error) {
	var out []store.Folder
	for _, e := range b.tree.Entries() {
		f, err := b.folder(ctx, e)
		if err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	return out, nil
}

func (b *Backup) folder(ctx context.Context, e mbox.Entry) (store.Folder, error) {
	f := store.Folder{Name: joinPath(e.Path), Path: e.Path, Delim: sep, Subscribed: true, UIDValidity: localUIDValidity, Messages: 0, Size: 0, UIDNext: 1}
	idx, _, err := mbox.ReadIndex(ctx, mbox.IndexPath(b.tree.FilePath(e)))
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return f, nil
	case err != nil:
		return f, err
	}
	f.SpecialUse, f.Subscribed = idx.Header.SpecialUse, idx.Header.Subscribed || idx.Header.SpecialUse != ""
	f.Messages = len(idx.Records)
	for _, r := range idx.Records {
		f.Size += r.RawLength
	}
	f.UIDNext = uint32(f.Messages + 1)
	return f, nil
}

// Status reads one folder's counters.
func (b *Backup) Status(ctx context.Context, f *store.Folder) error {
	e, ok := b.tree.Lookup(splitName(f.Name))
	if !ok {
		return failure.Newf(failure.Refused, failure.ScopeFolder, "the backup has no folder %q", strings.Join(splitName(f.Name), "/"))
	}
	nf, err := b.folder(ctx, e)
	if err != nil {
		return err
	}
	f.Messages, f.Size, f.UIDValidity, f.UIDNext = nf.Messages, nf.Size, nf.UIDValidity, nf.UIDNext
	return nil
}

// Create adds a folder to the backup (its mbox appears with its first message).
func (b *Backup) Create(ctx context.Context, name string, subscribe bool) error {
	p := splitName(name)
	_, err := b.tree.Add(ctx, strings.Join(p, "/"), "/", p)
	return err
}

// OpenFolder opens a folder for reading, or for appending.
func (b *Backup) OpenFolder(ctx context.Context, name string, readOnly bool) (uint32, error) {
	if b.name == name && b.readOnly == readOnly && (b.app != nil || b.box != nil) {
		return localUIDValidity, nil
	}
	if err := b.closeFolder(); err != nil {
		return 0, err
	}
	p := splitName(name)
	e, ok := b.tree.Lookup(p)
	if !ok {
		return 0, failure.Newf(failure.Refused, failure.ScopeFolder, "the backup has no folder %q", strings.Join(p, "/"))
	}
	path := b.tree.FilePath(e)
	if readOnly {
		box, err := mbox.OpenMailbox(ctx, path)
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return 0, err
		}
		b.box = box
	} else {
		app, err := mbox.OpenAppender(ctx, path, e.Header())
		if err != nil {
			return 0, err
		}
		b.app = app
	}
	b.name, b.entry, b.readOnly = name, e, readOnly
	return localUIDValidity, nil
}

func (b *Backup) closeFolder() error {
	var err error
	if b.app != nil {
		err = b.app.Close()
		b.app = nil
	}
	if b.box != nil {
		b.box.Close()
		b.box = nil
	}
	b.name = ""
	return err
}

func (b *Backup) records() []mbox.Record {
	switch {
	case b.app != nil:
		return b.app.Records()
	case b.box != nil:
		return b.box.Records()
	}
	return nil
}

// reader opens a committed message for reading.
func (b *Backup) reader(ctx context.Context, rec mbox.Record) (io.Reader, func(), error) {
	if b.box != nil {
		r, err := b.box.Open(rec)
		return r, func() {}, err
	}
	box, err := mbox.OpenMailbox(ctx, b.tree.FilePath(b.entry))
	if err != nil {
		return nil, nil, err
	}
	r, err := box.Open(rec)
	return r, func() { box.Close() }, err
}

// List summarises the messages of the open folder.
func (b *Backup) List(ctx context.Context) ([]store.MessageInfo, error) {
	recs := b.records()
	out := make([]store.MessageInfo, len(recs))
	for i, r := range recs {
		out[i] = store.MessageInfo{UID: uint32(i + 1), Flags: store.SyncFlags(r.Flags), InternalDate: r.InternalDate, Size: r.RawLength, MessageID: strings.Trim(r.MessageID, "<>")}
		if out[i].MessageID == "" {
			h, err := b.headerHash(ctx, r)
			if err != nil {
				return nil, err
			}
			out[i].HeaderHash = h
		}
	}
	return out, nil
}

func (b *Backup) headerHash(ctx context.Context, r mbox.Record) (string, error) {
	rd, done, err := b.reader(ctx, r)
	if err != nil {
		return "", err
	}
	defer done()
	h, err := readHeader(rd)
	if err != nil {
		return "", failure.New(failure.Malformed, failure.ScopeMessage, "read a backed-up message", err)
	}
	return store.HashHeader(h), nil
}

// readHeader returns a message's header block, up to and including the
// blank line, as IMAP's BODY[HEADER] does.
func readHeader(r io.Reader) ([]byte, error) {
	br := bufio.NewReader(r)
	var buf bytes.Buffer
	for {
		line, err := br.ReadSlice('\n')
		buf.Write(line)
		if len(bytes.TrimRight(line, "\r\n")) == 0 && (len(line) > 0 || err != nil) {
			return buf.Bytes(), nil
		}
		if err == io.EOF {
			return buf.Bytes(), nil
		}
		if err != nil && !errors.Is(err, bufio.ErrBufferFull) {
			return nil, err
		}
	}
}

// Fetch streams messages of the open folder, each checked against its
// recorded length and SHA-256.
func (b *Backup) Fetch(ctx context.Context, uids []uint32) iter.Seq2[*store.Message, error] {
	return func(yield func(*store.Message, error) bool) {
		recs := b.records()
		for _, u := range uids {
			if ctx.Err() != nil {
				yield(nil, ctx.Err())
				return
			}
			if u == 0 || int(u) > len(recs) {
				continue
			}
			r := recs[u-1]
			rd, done, err := b.reader(ctx, r)
			if err != nil {
				if !yield(nil, err) {
					return
				}
				continue
			}
			m := &store.Message{MessageInfo: store.MessageInfo{UID: u, Flags: store.SyncFlags(r.Flags), InternalDate: r.InternalDate, Size: r.RawLength, MessageID: r.MessageID}, UIDValidity: localUIDValidity, Body: rd}
			ok := yield(m, nil)
			done()
			if !ok {
				return
			}
		}
	}
}

// Append writes messages to the open folder's mbox and commits them before
// returning, so what the copier records as copied is on disk.
func (b *Backup) Append(ctx context.Context, mailbox string, msgs iter.Seq2[*store.Message, error]) (store.AppendResult, error) {
	var res store.AppendResult
	if _, err := b.OpenFolder(ctx, mailbox, false); err != nil {
		return res, err
	}
	res.UIDValidity = localUIDValidity
	for m, err := range msgs {
		if err != nil {
			return store.AppendResult{}, err
		}
		rec := mbox.Record{UIDValidity: m.UIDValidity, UID: m.UID, Flags: m.Flags, InternalDate: m.InternalDate, MessageID: m.MessageID}
		if rec.UIDValidity == 0 {
			rec.UIDValidity = localUIDValidity
		}
		w, err := b.app.Append(ctx, rec, m.Body)
		if err != nil {
			return store.AppendResult{}, err
		}
		res.Count++
		res.Bytes += w.RawLength
		res.UIDs = append(res.UIDs, uint32(len(b.app.Records())))
	}
	if res.Count == 0 {
		return res, store.ErrNothingToAppend
	}
	if err := b.app.Commit(ctx); err != nil {
		return store.AppendResult{}, err
	}
	return res, nil
}

// StoreFlags replaces a backed-up message's flags (in the index only).
func (b *Backup) StoreFlags(ctx context.Context, uid uint32, flags []string) error {
	if b.app == nil {
		return nil
	}
	recs := b.app.Records()
	if uid == 0 || int(uid) > len(recs) {
		return nil
	}
	r := recs[uid-1]
	if b.app.SetFlags(r.UIDValidity, r.UID, flags) {
		return b.app.Commit(ctx)
	}
	return nil
}

// CanMultiAppend: a backup takes batches.
func (b *Backup) CanMultiAppend() bool { return true }

// Quota: a backup has none (the disk's free space is checked by the front end).
func (b *Backup) Quota(ctx context.Context) (*store.Quota, error) { return nil, nil }

// AppendLimit: a backup takes messages of any size.
func (b *Backup) AppendLimit() int64 { return 0 }

// Close closes the open folder and saves the manifest.
func (b *Backup) Close() error {
	err := b.closeFolder()
	if serr := b.tree.Save(context.Background()); err == nil {
		err = serr
	}
	return err
}
