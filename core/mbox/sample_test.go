package mbox

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"mailmover/core/sample"
)

// backupCorpus writes every message of c into a backup tree at root, one
// mbox per folder, and returns the entries by folder index.
func backupCorpus(tb testing.TB, root string, c *sample.Corpus) []Entry {
	tb.Helper()
	ctx := context.Background()
	tree, err := OpenTree(ctx, root)
	if err != nil {
		tb.Fatal(err)
	}
	entries := make([]Entry, len(c.Folders))
	apps := make([]*Appender, len(c.Folders))
	for i, f := range c.Folders {
		e, err := tree.Add(ctx, strings.Join(f.Path, "/"), "/", f.Path)
		if err != nil {
			tb.Fatal(err)
		}
		h := e.Header()
		h.SpecialUse, h.Subscribed, h.UIDValidity = f.SpecialUse, f.Subscribed, 1
		a, err := OpenAppender(ctx, tree.FilePath(e), h)
		if err != nil {
			tb.Fatal(err)
		}
		entries[i], apps[i] = e, a
	}
	for m := range c.All() {
		rec := Record{UIDValidity: 1, UID: uint32(m.Index + 1), Flags: m.Flags, InternalDate: m.InternalDate, MessageID: m.MessageID}
		if _, err := apps[m.Folder].Append(ctx, rec, m.Open()); err != nil {
			tb.Fatal(err)
		}
	}
	for _, a := range apps {
		if err := a.Close(); err != nil {
			tb.Fatal(err)
		}
	}
	return entries
}

// TestSampleCorpusRoundTrip backs up the whole default sample corpus and
// reads it back, through the index and sequentially: every message must be
// byte-exact, with its flags and INTERNALDATE (zone offset included).
func TestSampleCorpusRoundTrip(t *testing.T) {
	c := sample.New(sample.Options{Seed: 1})
	root := t.TempDir()
	entries := backupCorpus(t, root, c)

	seen := 0
	for fi, e := range entries {
		path := filepath.Join(root, filepath.FromSlash(e.File))
		mb, err := OpenMailbox(context.Background(), path)
		if err != nil {
			t.Fatal(err)
		}
		if h := mb.Header(); !slices.Equal(h.Path, c.Folders[fi].Path) || h.SpecialUse != c.Folders[fi].SpecialUse {
			t.Errorf("%s: header %+v; want folder %+v", e.File, h, c.Folders[fi])
		}
		for sm, err := range mb.Messages(context.Background()) {
			if err != nil {
				t.Fatal(err)
			}
			// Body checks the bytes read back against the SHA-256 the
			// Appender computed from the sample's bytes as it wrote them.
			m := c.Message(int(sm.UID) - 1)
			n, err := io.Copy(io.Discard, sm.Body)
			if err != nil {
				t.Fatalf("%s uid %d: %v", e.File, sm.UID, err)
			}
			if sm.UID%10 == 0 {
				// An independent check of the recorded digest.
				h := sha256.New()
				io.Copy(h, m.Open())
				if hex.EncodeToString(h.Sum(nil)) != sm.SHA256 {
					t.Errorf("%s uid %d: recorded sha256 is not the sample's", e.File, sm.UID)
				}
			}
			if n != m.Size() || sm.RawLength != m.Size() {
				t.Errorf("%s uid %d: %d bytes read back (%d recorded); want %d", e.File, sm.UID, n, sm.RawLength, m.Size())
			}
			if !slices.Equal(sm.Flags, m.Flags) && !(len(sm.Flags) == 0 && len(m.Flags) == 0) {
				t.Errorf("%s uid %d: flags %q; want %q", e.File, sm.UID, sm.Flags, m.Flags)
			}
			if !sm.InternalDate.Equal(m.InternalDate) || sm.InternalDate.Format("-07:00") != m.InternalDate.Format("-07:00") {
				t.Errorf("%s uid %d: internal date %v; want %v", e.File, sm.UID, sm.InternalDate, m.InternalDate)
			}
			if sm.MessageID != m.MessageID {
				t.Errorf("%s uid %d: message-id %q; want %q", e.File, sm.UID, sm.MessageID, m.MessageID)
			}
			seen++
		}
		recs := mb.Records()
		mb.Close()

		// Sequentially, without the index: every sample message ends with
		// CRLF, so this is exact too.
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		i := 0
		for m, err := range NewReader(f).All() {
			if err != nil {
				t.Fatalf("%s: %v", e.File, err)
			}
			h := sha256.New()
			io.Copy(h, m.Body)
			if i >= len(recs) || hex.EncodeToString(h.Sum(nil)) != recs[i].SHA256 {
				t.Errorf("%s: sequential message %d differs from the index", e.File, i)
			}
			i++
		}
		f.Close()
		if i != len(recs) {
			t.Errorf("%s: sequential read found %d messages; index has %d", e.File, i, len(recs))
		}
	}
	if seen != c.Len() {
		t.Errorf("read back %d messages; want %d", seen, c.Len())
	}
}

// BenchmarkBackup reports the throughput of backing up the 5,000-message
// sample corpus into a tree (generation included), next to the disk's plain
// write speed measured the same way (64 KiB writes, fsync at the end).
func BenchmarkBackup(b *testing.B) {
	c := sample.New(sample.Options{Seed: 1, Messages: 5000})
	total := c.TotalBytes()
	b.Run("corpus-generate", func(b *testing.B) {
		b.SetBytes(total)
		for b.Loop() {
			for m := range c.All() {
				io.Copy(io.Discard, m.Open())
			}
		}
	})
	b.Run("mbox-backup", func(b *testing.B) {
		b.SetBytes(total)
		for b.Loop() {
			root := b.TempDir()
			backupCorpus(b, root, c)
			os.RemoveAll(root)
		}
	})
	b.Run("plain-write", func(b *testing.B) {
		b.SetBytes(total)
		buf := make([]byte, BufferSize)
		for i := range buf {
			buf[i] = byte('a' + i%26)
		}
		for b.Loop() {
			path := filepath.Join(b.TempDir(), "plain")
			f, err := os.Create(path)
			if err != nil {
				b.Fatal(err)
			}
			for left := total; left > 0; left -= int64(len(buf)) {
				if _, err := f.Write(buf[:min(left, int64(len(buf)))]); err != nil {
					b.Fatal(err)
				}
			}
			f.Sync()
			f.Close()
			os.Remove(path)
		}
	})
}
