package localarchive

import (
	"bufio"
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"iter"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Apple Mail .emlx flag bits (see the package documentation).
const (
	emlxRead      = 1 << 0
	emlxDeleted   = 1 << 1
	emlxAnswered  = 1 << 2
	emlxEncrypted = 1 << 3
	emlxFlagged   = 1 << 4
	emlxRecent    = 1 << 5
	emlxDraft     = 1 << 6
	emlxInitial   = 1 << 7
	emlxForwarded = 1 << 8
	emlxJunk      = 1 << 24
	emlxNotJunk   = 1 << 25
)

// maxPlist is the most bytes of an .emlx property list read.
const maxPlist = 1 << 20

// ScanAppleMail lists the mailboxes under root: a Mail folder
// (~/Library/Mail/V10), one account's folder in it, a single Name.mbox, or a
// folder of mailboxes exported with "Export Mailbox". Every directory named
// Name.mbox is a mailbox: it holds either a plain file named "mbox"
// (exported) or .emlx files somewhere below it (Apple Mail's own store);
// Name.mbox directories inside it are its subfolders. Directories outside
// any .mbox (accounts, "Mailboxes") become the first elements of the path.
func ScanAppleMail(ctx context.Context, root string) ([]Folder, error) {
	var out []Folder
	var walk func(dir string, path []string) error
	walk = func(dir string, path []string) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		entries, err := os.ReadDir(dir)
		if err != nil {
			return localErr("read folder "+dir, err)
		}
		for _, e := range entries {
			if !e.IsDir() || strings.HasPrefix(e.Name(), ".") {
				continue
			}
			sub := filepath.Join(dir, e.Name())
			name, isBox := cutFold(e.Name(), ".mbox")
			if !isBox {
				if err := walk(sub, append(path[:len(path):len(path)], e.Name())); err != nil {
					return err
				}
				continue
			}
			p := append(path[:len(path):len(path)], name)
			if err := scanMailbox(ctx, sub, p, &out); err != nil {
				return err
			}
			if err := walk(sub, p); err != nil {
				return err
			}
		}
		return nil
	}
	st, err := os.Stat(root)
	if err != nil {
		return nil, localErr("open "+root, err)
	}
	if !st.IsDir() {
		return nil, localErr("open "+root, fmt.Errorf("not a folder"))
	}
	if name, ok := cutFold(filepath.Base(root), ".mbox"); ok {
		p := []string{name}
		if err := scanMailbox(ctx, root, p, &out); err != nil {
			return nil, err
		}
		if err := walk(root, p); err != nil {
			return nil, err
		}
		return out, nil
	}
	if err := walk(root, nil); err != nil {
		return nil, err
	}
	return out, nil
}

// cutFold removes a suffix compared without case.
func cutFold(s, suffix string) (string, bool) {
	if len(s) > len(suffix) && strings.EqualFold(s[len(s)-len(suffix):], suffix) {
		return s[:len(s)-len(suffix)], true
	}
	return s, false
}

// scanMailbox adds the mailbox in the .mbox directory dir, if it holds mail.
func scanMailbox(ctx context.Context, dir string, path []string, out *[]Folder) error {
	if st, err := os.Stat(filepath.Join(dir, "mbox")); err == nil && st.Mode().IsRegular() {
		*out = append(*out, Folder{Path: path, Source: filepath.Join(dir, "mbox"), Format: FormatMbox, SpecialUse: guessSpecialUse(path)})
		return nil
	}
	files, err := emlxFiles(ctx, dir, true)
	if err != nil {
		return err
	}
	if len(files) > 0 {
		*out = append(*out, Folder{Path: path, Source: dir, Format: FormatEMLX, SpecialUse: guessSpecialUse(path)})
	}
	return nil
}

// emlxFiles returns the .emlx files below the mailbox dir, not counting
// those of nested mailboxes, sorted; first stops at the first one found.
func emlxFiles(ctx context.Context, dir string, first bool) ([]string, error) {
	var files []string
	errFound := errors.New("found")
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if cerr := ctx.Err(); cerr != nil {
			return cerr
		}
		if d.IsDir() {
			if _, isBox := cutFold(d.Name(), ".mbox"); isBox && p != dir {
				return filepath.SkipDir
			}
			return nil
		}
		if _, ok := cutFold(d.Name(), ".emlx"); ok && d.Type().IsRegular() {
			files = append(files, p)
			if first {
				return errFound
			}
		}
		return nil
	})
	if err != nil && !errors.Is(err, errFound) {
		if cerr := ctx.Err(); cerr != nil {
			return nil, cerr
		}
		return nil, localErr("read folder "+dir, err)
	}
	sortPaths(files)
	return files, nil
}

// sortPaths sorts files by directory, then naturally by name.
func sortPaths(files []string) {
	slices.SortFunc(files, func(a, b string) int {
		if c := strings.Compare(filepath.Dir(a), filepath.Dir(b)); c != 0 {
			return c
		}
		return naturalCompare(filepath.Base(a), filepath.Base(b))
	})
}

// emlxMessages reads the .emlx files of an Apple Mail mailbox.
func emlxMessages(ctx context.Context, folder Folder) iter.Seq2[*Message, error] {
	return func(yield func(*Message, error) bool) {
		files, err := emlxFiles(ctx, folder.Source, false)
		if err != nil {
			yield(nil, err)
			return
		}
		fileMessages(ctx, files, parseEMLX)(yield)
	}
}

// parseEMLX reads the framing of an .emlx file: the byte count line, the
// message, the property list.
func parseEMLX(f *os.File, st fs.FileInfo) (rawMessage, error) {
	name := f.Name()
	br := bufio.NewReaderSize(f, 64)
	line, err := br.ReadSlice('\n')
	if err != nil {
		return rawMessage{}, malformedAt(name, 0, "no byte count line: not an .emlx file")
	}
	count, err := strconv.ParseInt(strings.TrimSpace(string(line)), 10, 64)
	if err != nil || count < 0 {
		return rawMessage{}, malformedAt(name, 0, "byte count %q is not a number: not an .emlx file", strings.TrimSpace(string(line)))
	}
	start := int64(len(line))
	if start+count > st.Size() {
		return rawMessage{}, malformedAt(name, start, "the byte count (%d) runs past the end of the file (%d bytes): the file is cut short", count, st.Size())
	}
	raw := rawMessage{
		open: func() io.Reader { return io.NewSectionReader(f, start, count) },
		size: -1,
	}
	plist := make([]byte, min(st.Size()-start-count, maxPlist))
	if _, err := f.ReadAt(plist, start+count); err != nil && !errors.Is(err, io.EOF) {
		return rawMessage{}, localErr("read "+name, err)
	}
	props, perr := parsePlist(plist)
	if perr != nil || len(props) == 0 {
		// The message is fine; only its flags are lost. Say so, go on.
		raw.warning = "the property list after the message cannot be read: its flags and date are lost"
	}
	if v, ok := props["flags"]; ok {
		if n, err := strconv.ParseFloat(v, 64); err == nil && n >= 0 && n <= math.MaxUint64 {
			raw.flags, raw.skipped = emlxFlags(uint64(n))
		}
	}
	if v, ok := props["date-received"]; ok {
		if n, err := strconv.ParseFloat(v, 64); err == nil && n > 0 {
			raw.date = time.Unix(int64(n), 0)
		} else if t, err := time.Parse(time.RFC3339, v); err == nil {
			raw.date = t
		}
	}
	if strings.HasSuffix(strings.ToLower(name), ".partial.emlx") {
		raw.skipped = "Apple Mail keeps the attachments of this message in separate files (.partial.emlx), which are not read"
	}
	return raw, nil
}

// emlxFlags maps the flags integer of an .emlx property list.
func emlxFlags(f uint64) (flags []string, skipped string) {
	for _, m := range []struct {
		bit  uint64
		flag string
	}{
		{emlxRead, `\Seen`},
		{emlxAnswered, `\Answered`},
		{emlxFlagged, `\Flagged`},
		{emlxDraft, `\Draft`},
		{emlxForwarded, "$Forwarded"},
		{emlxJunk, "$Junk"},
		{emlxNotJunk, "$NotJunk"},
	} {
		if f&m.bit != 0 {
			flags = append(flags, m.flag)
		}
	}
	if f&emlxDeleted != 0 {
		skipped = "deleted in Apple Mail"
	}
	return flags, skipped
}

// parsePlist reads the top-level dictionary of an XML property list and
// returns its scalar values as text (integers, reals, strings, dates;
// true/false as "true"/"false"). Nested containers are skipped.
func parsePlist(data []byte) (map[string]string, error) {
	dec := xml.NewDecoder(bytes.NewReader(data))
	dec.Strict = false
	out := map[string]string{}
	depth := 0 // depth of dict/array nesting
	key := ""
	inKey := false
	var text strings.Builder
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return out, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			switch t.Name.Local {
			case "dict", "array":
				depth++
				if depth > 1 {
					key = ""
				}
			case "key":
				inKey = true
			case "true", "false":
				if depth == 1 && key != "" {
					out[key] = t.Name.Local
					key = ""
				}
			}
			text.Reset()
		case xml.CharData:
			text.Write(t)
		case xml.EndElement:
			switch t.Name.Local {
			case "dict", "array":
				depth--
			case "key":
				inKey = false
				if depth == 1 {
					key = strings.TrimSpace(text.String())
				}
			case "integer", "real", "string", "date":
				if depth == 1 && key != "" && !inKey {
					out[key] = strings.TrimSpace(text.String())
					key = ""
				}
			}
		}
	}
	return out, nil
}
