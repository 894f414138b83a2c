package localarchive

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"iter"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"mailmover/core/mbox"
)

// mboxMessages reads an mbox file leniently. Each message is read twice:
// once by the scanner, to learn its extent and exact size, and once, from
// the page cache, as its Body.
func mboxMessages(ctx context.Context, folder Folder) iter.Seq2[*Message, error] {
	return func(yield func(*Message, error) bool) {
		src := folder.Source
		f, err := os.Open(src)
		if err != nil {
			yield(nil, localErr("open "+src, err))
			return
		}
		defer f.Close()
		var mtime time.Time
		if st, err := f.Stat(); err == nil {
			mtime = st.ModTime()
		}
		r := mbox.NewLenientReader(f, time.Local)
		b := newBuilder()
		for {
			if err := ctx.Err(); err != nil {
				yield(nil, err)
				return
			}
			m, err := r.Next()
			if errors.Is(err, io.EOF) {
				return
			}
			var fe *mbox.FormatError
			if errors.As(err, &fe) {
				if !yield(nil, malformed(src, fe)) {
					return
				}
				continue
			}
			if err != nil {
				yield(nil, localErr("read "+src, err))
				return
			}
			var c lfCounter
			if _, err := io.Copy(&c, m.Body); err != nil && !errors.As(err, &fe) {
				yield(nil, localErr("read "+src, err))
				return
			}
			off, length := m.Offset, m.Length
			msg, err := b.build(rawMessage{
				open:     func() io.Reader { return mbox.NewUnescaper(io.NewSectionReader(f, off, length)) },
				size:     c.n,
				bareLF:   c.bare,
				date:     m.Date,
				fallback: mtime,
				origin:   fmt.Sprintf("%s at byte %d", src, m.SeparatorOffset),
			})
			if err != nil {
				yield(nil, localErr("read "+src, err))
				return
			}
			if !yield(msg, nil) {
				return
			}
		}
	}
}

// fileMessages yields one message per file, each parsed by parse from the
// open file, which stays open until the next message.
func fileMessages(ctx context.Context, files []string, parse func(f *os.File, st fs.FileInfo) (rawMessage, error)) iter.Seq2[*Message, error] {
	return func(yield func(*Message, error) bool) {
		b := newBuilder()
		for _, name := range files {
			if err := ctx.Err(); err != nil {
				yield(nil, err)
				return
			}
			msg, f, err := func() (*Message, *os.File, error) {
				f, err := os.Open(name)
				if err != nil {
					return nil, nil, localErr("open "+name, err)
				}
				st, err := f.Stat()
				if err != nil {
					f.Close()
					return nil, nil, localErr("open "+name, err)
				}
				raw, err := parse(f, st)
				if err != nil {
					f.Close()
					return nil, nil, err
				}
				if raw.origin == "" {
					raw.origin = name
				}
				if raw.fallback.IsZero() {
					raw.fallback = st.ModTime()
				}
				msg, err := b.build(raw)
				if err != nil {
					f.Close()
					return nil, nil, localErr("read "+name, err)
				}
				return msg, f, nil
			}()
			if err != nil {
				if !yield(nil, err) {
					return
				}
				continue
			}
			ok := yield(msg, nil)
			f.Close()
			if !ok {
				return
			}
		}
	}
}

// wholeFile is the parse function of files that hold one message each.
func wholeFile(f *os.File, st fs.FileInfo) (rawMessage, error) {
	size := st.Size()
	return rawMessage{open: func() io.Reader { return io.NewSectionReader(f, 0, size) }, size: -1}, nil
}

// listFiles returns the regular files in dir accepted by keep, sorted
// naturally (numbers by value, so 9.emlx comes before 10.emlx).
func listFiles(dir string, keep func(name string) bool) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range entries {
		if !e.Type().IsRegular() || strings.HasPrefix(e.Name(), ".") || !keep(e.Name()) {
			continue
		}
		out = append(out, e.Name())
	}
	slices.SortFunc(out, naturalCompare)
	for i, n := range out {
		out[i] = filepath.Join(dir, n)
	}
	return out, nil
}

// naturalCompare orders names by their leading number, then by name.
func naturalCompare(a, b string) int {
	na, oka := leadingNumber(a)
	nb, okb := leadingNumber(b)
	if oka && okb && na != nb {
		if na < nb {
			return -1
		}
		return 1
	}
	return strings.Compare(a, b)
}

func leadingNumber(s string) (uint64, bool) {
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	n, err := strconv.ParseUint(s[:i], 10, 64)
	return n, err == nil
}

// maildirMessages reads a maildir folder: the files of cur/ and new/.
// Flags come from the X-Mozilla headers (Thunderbird) and from the info
// part of the file name (":2,FRS", Maildir specification by D. J. Bernstein).
func maildirMessages(ctx context.Context, folder Folder) iter.Seq2[*Message, error] {
	var files []string
	var listErr error
	for _, sub := range []string{"cur", "new"} {
		names, err := listFiles(filepath.Join(folder.Source, sub), func(string) bool { return true })
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			listErr = localErr("read folder "+folder.Source, err)
		}
		files = append(files, names...)
	}
	inner := fileMessages(ctx, files, func(f *os.File, st fs.FileInfo) (rawMessage, error) {
		raw, _ := wholeFile(f, st)
		raw.flags, raw.skipped = maildirFlags(filepath.Base(f.Name()))
		return raw, nil
	})
	return func(yield func(*Message, error) bool) {
		if listErr != nil && !yield(nil, listErr) {
			return
		}
		inner(yield)
	}
}

// maildirFlags reads the flags in the info part of a maildir file name.
func maildirFlags(name string) (flags []string, skipped string) {
	i := strings.LastIndex(name, "2,")
	if i < 1 || !strings.ContainsRune(":!;", rune(name[i-1])) {
		return nil, ""
	}
	for _, c := range name[i+2:] {
		switch c {
		case 'S':
			flags = append(flags, `\Seen`)
		case 'R':
			flags = append(flags, `\Answered`)
		case 'F':
			flags = append(flags, `\Flagged`)
		case 'D':
			flags = append(flags, `\Draft`)
		case 'P':
			flags = append(flags, "$Forwarded")
		case 'T':
			skipped = "marked deleted (maildir T flag)"
		}
	}
	return flags, skipped
}

// emlMessages reads a directory of .eml files.
func emlMessages(ctx context.Context, folder Folder) iter.Seq2[*Message, error] {
	files, err := listFiles(folder.Source, func(n string) bool { return strings.EqualFold(filepath.Ext(n), ".eml") })
	if err != nil {
		return func(yield func(*Message, error) bool) {
			yield(nil, localErr("read folder "+folder.Source, err))
		}
	}
	return fileMessages(ctx, files, wholeFile)
}
