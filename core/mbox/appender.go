package mbox

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"

	"mailmover/core/atomicfile"
	"mailmover/core/failure"
)

// PartialSuffix is appended to the name of a new mbox until its first commit.
const PartialSuffix = ".partial"

// Automatic commit thresholds: an Appender commits by itself after this many
// messages or bytes, so a crash never costs more than that much work.
const (
	autoCommitMessages = 500
	autoCommitBytes    = 32 << 20
)

// Repair says what OpenAppender found wrong at the tail of a mailbox and
// mended. The zero value means the mailbox was intact.
type Repair struct {
	// TruncatedBytes is how many bytes after the last recorded message were cut.
	TruncatedBytes int64
	// DroppedRecords is how many index records pointed past good data and were dropped.
	DroppedRecords int
	// TornIndexLine reports an index line cut short by a crash, dropped.
	TornIndexLine bool
}

// Appender adds messages to an mbox and its index, safely against crashes:
//
//   - message bytes are written and fsynced before the index records that
//     describe them are appended and fsynced, so whatever the index lists is
//     on disk;
//   - OpenAppender checks the tail and cuts what no record describes, so a
//     kill at any moment costs at most the messages not yet committed;
//   - a new mbox is written as NAME.partial and renamed into place on the
//     first commit, and the index is only appended to or replaced
//     atomically, so no torn or empty file ever replaces a good one;
//   - flag changes rewrite the index atomically and never touch the mbox.
//
// An Appender is not safe for concurrent use, and only one Appender (in one
// process) may write a mailbox at a time.
type Appender struct {
	path    string
	idxPath string
	dir     string

	f           *os.File // nil until the first message of a new mbox
	partial     bool     // f is path+PartialSuffix, not yet renamed
	w           *Writer
	end         int64 // end of the data written, committed or not
	indexExists bool
	dirty       bool // the index must be rewritten, not appended to

	idx          Index
	committed    int // records already in the index file
	pendingBytes int64
	byUID        map[[2]uint32]int
	repair       Repair
	err          error // sticky: the appender is unusable
}

// OpenAppender opens the mbox at path and its index for appending, creating
// them if needed, and repairs the tail left by a crash (see Repaired). h
// describes the folder; it replaces the stored header if it differs.
//
// An mbox that exists without an index is refused: Mailmover did not write
// it, or its index was lost, and it is left untouched.
func OpenAppender(ctx context.Context, path string, h Header) (*Appender, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	a := &Appender{path: path, idxPath: IndexPath(path), dir: filepath.Dir(path), byUID: map[[2]uint32]int{}}
	if err := os.MkdirAll(a.dir, 0o700); err != nil {
		return nil, a.localErr("create folder", err)
	}
	if err := os.Remove(path + PartialSuffix); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, a.localErr("remove unfinished mbox", err)
	}
	h.Format, h.Version = IndexFormat, IndexVersion
	idx, torn, err := ReadIndex(ctx, a.idxPath)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		st, serr := os.Stat(path)
		if serr == nil && st.Size() > 0 {
			return nil, failure.Newf(failure.Local, failure.ScopeFolder,
				"mbox %s exists without its index %s: not a Mailmover backup, or its index was lost; move it away to back up this folder again", path, filepath.Base(a.idxPath))
		}
		a.idx.Header = h
		return a, nil
	case ctx.Err() != nil:
		return nil, ctx.Err()
	case err != nil:
		return nil, failure.New(failure.Malformed, failure.ScopeFolder, "open backup "+path, err)
	}
	a.indexExists = true
	a.idx = *idx
	a.repair.TornIndexLine = torn
	if !headerEqual(a.idx.Header, h) {
		a.idx.Header = h
		a.dirty = true
	}
	if err := a.openExisting(ctx); err != nil {
		return nil, err
	}
	for i, rec := range a.idx.Records {
		a.byUID[[2]uint32{rec.UIDValidity, rec.UID}] = i
	}
	a.committed = len(a.idx.Records)
	if torn || a.repair.DroppedRecords > 0 {
		// Rewrite now, so that later appends never follow a torn line.
		if err := a.rewriteIndex(); err != nil {
			return nil, err
		}
	}
	return a, nil
}

// openExisting opens the mbox of an existing index and repairs its tail.
func (a *Appender) openExisting(ctx context.Context) error {
	f, err := os.OpenFile(a.path, os.O_RDWR, 0)
	if errors.Is(err, fs.ErrNotExist) {
		// The data is gone (or was never renamed into place): nothing the
		// index lists can be read.
		a.repair.DroppedRecords = len(a.idx.Records)
		a.idx.Records = nil
		return nil
	}
	if err != nil {
		return a.localErr("open backup", err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return a.localErr("open backup", err)
	}
	good, end, err := checkTail(ctx, f, st.Size(), a.idx.Records)
	if err != nil {
		f.Close()
		return err
	}
	a.repair.DroppedRecords = len(a.idx.Records) - good
	a.idx.Records = a.idx.Records[:good]
	if st.Size() > end {
		a.repair.TruncatedBytes = st.Size() - end
		if err := f.Truncate(end); err != nil {
			f.Close()
			return a.localErr("repair backup", err)
		}
		if err := f.Sync(); err != nil {
			f.Close()
			return a.localErr("repair backup", err)
		}
	}
	if _, err := f.Seek(end, io.SeekStart); err != nil {
		f.Close()
		return a.localErr("open backup", err)
	}
	a.f = f
	a.end = end
	a.w = NewWriterAt(f, end)
	return nil
}

// checkTail returns how many leading records describe data that is in the
// file, and where the last of them ends. Every record must lie inside the
// file, after the one before; the last one must also have its separator
// line, its bytes (length and SHA-256) and its framing newline intact, or it
// is dropped and the one before is checked.
func checkTail(ctx context.Context, f io.ReaderAt, size int64, recs []Record) (int, int64, error) {
	good := 0
	var prevEnd int64
	for _, rec := range recs {
		if rec.Offset < prevEnd || rec.Offset+rec.Length+1 > size {
			break
		}
		prevEnd = rec.Offset + rec.Length + 1
		good++
	}
	for ; good > 0; good-- {
		if err := ctx.Err(); err != nil {
			return 0, 0, err
		}
		end, ok, err := checkRecord(f, size, recs[good-1])
		if err != nil {
			return 0, 0, err
		}
		if ok {
			return good, end, nil
		}
	}
	return 0, 0, nil
}

// checkRecord reports whether the message rec describes is intact, and
// where its framing ends.
func checkRecord(f io.ReaderAt, size int64, rec Record) (end int64, ok bool, err error) {
	sep := Separator(rec.InternalDate)
	if rec.Offset < int64(len(sep)) {
		return 0, false, nil
	}
	got := make([]byte, len(sep))
	if _, err := f.ReadAt(got, rec.Offset-int64(len(sep))); err != nil {
		return 0, false, ioErr(err)
	}
	if string(got) != sep {
		return 0, false, nil
	}
	var last [1]byte
	if rec.Length > 0 {
		if _, err := f.ReadAt(last[:], rec.Offset+rec.Length-1); err != nil {
			return 0, false, ioErr(err)
		}
	}
	t := trailerLen(rec.Length, last[0])
	end = rec.Offset + rec.Length + t
	if end > size {
		return 0, false, nil
	}
	trailer := make([]byte, t)
	if _, err := f.ReadAt(trailer, rec.Offset+rec.Length); err != nil {
		return 0, false, ioErr(err)
	}
	if !bytes.Equal(trailer, []byte("\n\n")[:t]) {
		return 0, false, nil
	}
	h := sha256.New()
	n, err := io.Copy(h, NewUnescaper(io.NewSectionReader(f, rec.Offset, rec.Length)))
	if err != nil {
		return 0, false, ioErr(err)
	}
	if n != rec.RawLength || hex.EncodeToString(h.Sum(nil)) != rec.SHA256 {
		return 0, false, nil
	}
	return end, true, nil
}

func ioErr(err error) error {
	return failure.New(failure.Local, failure.ScopeFolder, "check backup", err)
}

func headerEqual(a, b Header) bool {
	return a.Format == b.Format && a.Version == b.Version && a.Name == b.Name && a.Delimiter == b.Delimiter &&
		slices.Equal(a.Path, b.Path) && a.File == b.File && a.SpecialUse == b.SpecialUse &&
		a.Subscribed == b.Subscribed && a.UIDValidity == b.UIDValidity
}

func (a *Appender) localErr(op string, err error) error {
	return failure.New(failure.Local, failure.ScopeFolder, op+" "+a.path, err)
}

// Repaired reports what OpenAppender mended.
func (a *Appender) Repaired() Repair { return a.repair }

// Header returns the folder header.
func (a *Appender) Header() Header { return a.idx.Header }

// SetHeader replaces the folder header (a renamed folder, a new
// UIDVALIDITY); the index is rewritten atomically at the next commit.
func (a *Appender) SetHeader(h Header) {
	h.Format, h.Version = IndexFormat, IndexVersion
	if !headerEqual(a.idx.Header, h) {
		a.idx.Header = h
		a.dirty = true
	}
}

// Records returns the records of the messages appended so far, committed or
// not, in file order. The slice must not be modified.
func (a *Appender) Records() []Record { return a.idx.Records }

// Has reports whether the message with this UIDVALIDITY and UID is already
// in the mailbox.
func (a *Appender) Has(uidValidity, uid uint32) bool {
	_, ok := a.byUID[[2]uint32{uidValidity, uid}]
	return ok
}

// SetFlags replaces the flags of a message already in the mailbox and
// reports whether they changed. The index is rewritten atomically at the
// next commit; the mbox is never rewritten.
func (a *Appender) SetFlags(uidValidity, uid uint32, flags []string) bool {
	i, ok := a.byUID[[2]uint32{uidValidity, uid}]
	if !ok {
		return false
	}
	rec := &a.idx.Records[i]
	if sameFlags(rec.Flags, flags) {
		return false
	}
	rec.Flags = slices.Clone(flags)
	if rec.Flags == nil {
		rec.Flags = []string{}
	}
	a.dirty = true
	return true
}

func sameFlags(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

// Append writes one message read from body, streamed, and returns its
// record. rec gives UIDValidity, UID, Flags, InternalDate and MessageID; the
// position and digest are filled in. The message is durable after the next
// Commit (Append commits by itself every few hundred messages or tens of
// megabytes). If body fails, nothing of the message is kept.
func (a *Appender) Append(ctx context.Context, rec Record, body io.Reader) (Record, error) {
	if a.err != nil {
		return Record{}, a.err
	}
	if rec.UID != 0 && a.Has(rec.UIDValidity, rec.UID) {
		return Record{}, failure.Newf(failure.Refused, failure.ScopeMessage, "backup %s: uid %d (uidvalidity %d) is already there", a.path, rec.UID, rec.UIDValidity)
	}
	if a.f == nil {
		f, err := os.OpenFile(a.path+PartialSuffix, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o600)
		if err != nil {
			return Record{}, a.localErr("create backup", err)
		}
		a.f, a.partial, a.end = f, true, 0
		a.w = NewWriterAt(f, 0)
	}
	start := a.end
	w, err := a.w.WriteMessage(ctx, rec.InternalDate, body)
	if err != nil {
		if rerr := a.rollback(start); rerr != nil {
			return Record{}, rerr
		}
		return Record{}, err
	}
	rec.setWritten(w)
	if rec.Flags == nil {
		rec.Flags = []string{}
	} else {
		rec.Flags = slices.Clone(rec.Flags)
	}
	a.idx.Records = append(a.idx.Records, rec)
	a.byUID[[2]uint32{rec.UIDValidity, rec.UID}] = len(a.idx.Records) - 1
	a.end = w.End
	a.pendingBytes += w.End - start
	if len(a.idx.Records)-a.committed >= autoCommitMessages || a.pendingBytes >= autoCommitBytes {
		if err := a.Commit(ctx); err != nil {
			return Record{}, err
		}
	}
	return rec, nil
}

// rollback cuts a failed message off the end of the mbox.
func (a *Appender) rollback(start int64) error {
	a.w.reset(a.f, start)
	if err := a.f.Truncate(start); err != nil {
		a.err = a.localErr("undo a failed message in", err)
		return a.err
	}
	if _, err := a.f.Seek(start, io.SeekStart); err != nil {
		a.err = a.localErr("undo a failed message in", err)
		return a.err
	}
	a.end = start
	return nil
}

// Commit makes every appended message and every flag change durable: the
// mbox is flushed and fsynced first, then the index is appended to (or,
// after flag or header changes, rewritten atomically) and fsynced.
func (a *Appender) Commit(ctx context.Context) error {
	if a.err != nil {
		return a.err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if a.f != nil {
		if err := a.w.Flush(); err != nil {
			a.err = a.localErr("write backup", err)
			return a.err
		}
		if err := a.f.Sync(); err != nil {
			a.err = a.localErr("write backup", err)
			return a.err
		}
	}
	if a.partial {
		if !a.indexExists {
			// An index holding only the header, so that the mbox never
			// exists without one.
			if err := a.writeIndex(0); err != nil {
				return err
			}
		}
		// Windows cannot rename an open file: close it, rename, reopen.
		if err := a.f.Close(); err != nil {
			a.err = a.localErr("write backup", err)
			return a.err
		}
		a.f = nil
		if err := os.Rename(a.path+PartialSuffix, a.path); err != nil {
			a.err = a.localErr("write backup", err)
			return a.err
		}
		if err := atomicfile.SyncDir(a.dir); err != nil {
			a.err = a.localErr("write backup", err)
			return a.err
		}
		f, err := os.OpenFile(a.path, os.O_RDWR, 0)
		if err == nil {
			_, err = f.Seek(a.end, io.SeekStart)
		}
		if err != nil {
			a.err = a.localErr("write backup", err)
			return a.err
		}
		a.f = f
		a.w.reset(f, a.end)
		a.partial = false
	}
	switch {
	case a.dirty || !a.indexExists:
		if err := a.rewriteIndex(); err != nil {
			return err
		}
	case a.committed < len(a.idx.Records):
		if err := a.appendIndex(); err != nil {
			return err
		}
	}
	a.pendingBytes = 0
	return nil
}

// writeIndex atomically replaces the index with the header and the first n records.
func (a *Appender) writeIndex(n int) error {
	idx := Index{Header: a.idx.Header, Records: a.idx.Records[:n]}
	err := atomicfile.Write(a.idxPath, 0o600, func(w io.Writer) error { return writeIndex(w, &idx) })
	if err != nil {
		a.err = a.localErr("write index of", err)
		return a.err
	}
	a.indexExists = true
	return nil
}

func (a *Appender) rewriteIndex() error {
	if err := a.writeIndex(len(a.idx.Records)); err != nil {
		return err
	}
	a.committed = len(a.idx.Records)
	a.dirty = false
	return nil
}

func (a *Appender) appendIndex() error {
	lines, err := encodeRecords(a.idx.Records[a.committed:])
	if err != nil {
		return a.localErr("write index of", err)
	}
	f, err := os.OpenFile(a.idxPath, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		a.err = a.localErr("write index of", err)
		return a.err
	}
	_, err = f.Write(lines)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		// The index may now end with a torn line: reopening repairs it.
		a.err = a.localErr("write index of", err)
		return a.err
	}
	a.committed = len(a.idx.Records)
	return nil
}

// Close commits and closes the mailbox. A new mailbox that received no
// message is created empty, with its index.
func (a *Appender) Close() error {
	err := a.Commit(context.Background())
	if err == nil && a.f == nil {
		if _, serr := os.Stat(a.path); errors.Is(serr, fs.ErrNotExist) {
			if werr := atomicfile.WriteFile(a.path, nil, 0o600); werr != nil {
				err = a.localErr("create backup", werr)
			}
		}
	}
	if a.f != nil {
		if cerr := a.f.Close(); err == nil && cerr != nil {
			err = a.localErr("close backup", cerr)
		}
		a.f = nil
	}
	if a.err == nil {
		a.err = fmt.Errorf("backup %s: appender closed", a.path)
	}
	return err
}
