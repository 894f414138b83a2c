package mbox

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"iter"
	"os"

	"mailmover/core/failure"
)

// Mailbox reads a backed-up mbox through its index: every message comes back
// exactly, with the flags and INTERNALDATE the index records, and its bytes
// are checked against the SHA-256 as they are read.
type Mailbox struct {
	path string
	f    *os.File
	size int64
	idx  *Index
}

// OpenMailbox opens the mbox file at path and reads its index
// (IndexPath(path)). A last index line cut short by a crash is ignored.
func OpenMailbox(ctx context.Context, path string) (*Mailbox, error) {
	idx, _, err := ReadIndex(ctx, IndexPath(path))
	if cerr := ctx.Err(); cerr != nil {
		return nil, cerr
	}
	if err != nil {
		return nil, failure.New(failure.Malformed, failure.ScopeFolder, "open backup "+path, err)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, failure.New(failure.Local, failure.ScopeFolder, "open backup", err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, failure.New(failure.Local, failure.ScopeFolder, "open backup", err)
	}
	return &Mailbox{path: path, f: f, size: st.Size(), idx: idx}, nil
}

// Header returns the folder the mailbox holds.
func (m *Mailbox) Header() Header { return m.idx.Header }

// Records returns the index records, in file order. The slice must not be
// modified.
func (m *Mailbox) Records() []Record { return m.idx.Records }

// Close closes the mbox file.
func (m *Mailbox) Close() error { return m.f.Close() }

// Open returns a reader of the original bytes of the message rec describes.
// At its end the reader checks the length and SHA-256 against rec and
// returns a failure.Malformed error instead of io.EOF if they differ.
func (m *Mailbox) Open(rec Record) (io.Reader, error) {
	if rec.Offset < 0 || rec.Length < 0 || rec.Offset+rec.Length > m.size {
		return nil, failure.Newf(failure.Malformed, failure.ScopeMessage,
			"backup %s: message uid %d at byte offset %d: past the end of the file (%d bytes)", m.path, rec.UID, rec.Offset, m.size)
	}
	want, err := hex.DecodeString(rec.SHA256)
	if err != nil {
		return nil, failure.Newf(failure.Malformed, failure.ScopeMessage, "backup %s: message uid %d: bad sha256 in index", m.path, rec.UID)
	}
	return &verifyReader{
		r:    NewUnescaper(io.NewSectionReader(m.f, rec.Offset, rec.Length)),
		h:    sha256.New(),
		want: want,
		rec:  rec,
		path: m.path,
	}, nil
}

// StoredMessage is a message of a Mailbox: its index record and its bytes.
type StoredMessage struct {
	Record
	// Body reads the original message bytes, checked against the record.
	// It is valid until the next message is yielded.
	Body io.Reader
}

// Messages returns an iterator over the messages in file order. A message
// that cannot be opened is yielded as an error and the iteration goes on.
func (m *Mailbox) Messages(ctx context.Context) iter.Seq2[*StoredMessage, error] {
	return func(yield func(*StoredMessage, error) bool) {
		for _, rec := range m.idx.Records {
			if err := ctx.Err(); err != nil {
				yield(nil, err)
				return
			}
			body, err := m.Open(rec)
			if err != nil {
				if !yield(nil, err) {
					return
				}
				continue
			}
			if !yield(&StoredMessage{Record: rec, Body: body}, nil) {
				return
			}
		}
	}
}

// verifyReader checks the bytes it passes against a record.
type verifyReader struct {
	r    io.Reader
	h    hash.Hash
	n    int64
	want []byte
	rec  Record
	path string
	err  error
}

func (v *verifyReader) Read(p []byte) (int, error) {
	if v.err != nil {
		return 0, v.err
	}
	n, err := v.r.Read(p)
	v.h.Write(p[:n])
	v.n += int64(n)
	if errors.Is(err, io.EOF) {
		if v.n != v.rec.RawLength || string(v.h.Sum(nil)) != string(v.want) {
			v.err = failure.Newf(failure.Malformed, failure.ScopeMessage,
				"backup %s: message uid %d at byte offset %d: bytes differ from the index (%d bytes read, %d recorded, or SHA-256 mismatch)",
				v.path, v.rec.UID, v.rec.Offset, v.n, v.rec.RawLength)
			return n, v.err
		}
		v.err = io.EOF
	} else if err != nil {
		v.err = fmt.Errorf("read backup %s: %w", v.path, err)
		return n, v.err
	}
	return n, err
}
