package localarchive

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// ScanMbox lists the mbox files at root: root itself if it is a file, or
// every mbox file below it: names ending .mbox or .mbx, files named "mbox"
// (Apple Mail's "Export Mailbox" gives Name.mbox/mbox; the folder is then
// named for the directory), and files without an extension that start like
// an mbox (a "From " line, then a header line), as ImportExportTools NG
// exports them. The path of a folder is its place below root, without the
// extensions.
func ScanMbox(ctx context.Context, root string) ([]Folder, error) {
	st, err := os.Stat(root)
	if err != nil {
		return nil, localErr("open "+root, err)
	}
	if !st.IsDir() {
		name := strings.TrimSuffix(filepath.Base(root), filepath.Ext(root))
		if filepath.Base(root) == "mbox" {
			name, _ = cutFold(filepath.Base(filepath.Dir(root)), ".mbox")
		}
		return []Folder{{Path: []string{name}, Source: root, Format: FormatMbox, SpecialUse: guessSpecialUse([]string{name})}}, nil
	}
	var out []Folder
	err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if cerr := ctx.Err(); cerr != nil {
			return cerr
		}
		if strings.HasPrefix(d.Name(), ".") && p != root {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if d.IsDir() || !d.Type().IsRegular() {
			return nil
		}
		rel, _ := filepath.Rel(root, p)
		parts := strings.Split(filepath.ToSlash(rel), "/")
		for i := range parts[:len(parts)-1] {
			parts[i], _ = cutFold(parts[i], ".mbox")
			parts[i], _ = cutFold(parts[i], ".sbd")
		}
		last := parts[len(parts)-1]
		ext := strings.ToLower(filepath.Ext(last))
		switch {
		case last == "mbox" && len(parts) > 1:
			parts = parts[:len(parts)-1]
		case ext == ".mbox" || ext == ".mbx":
			parts[len(parts)-1] = last[:len(last)-len(ext)]
		case ext == "" && looksLikeMbox(p):
		default:
			return nil
		}
		if len(parts) == 1 && parts[0] == "mbox" {
			parts[0], _ = cutFold(filepath.Base(root), ".mbox")
		}
		out = append(out, Folder{Path: parts, Source: p, Format: FormatMbox, SpecialUse: guessSpecialUse(parts)})
		return nil
	})
	if err != nil {
		if cerr := ctx.Err(); cerr != nil {
			return nil, cerr
		}
		return nil, localErr("read folder "+root, err)
	}
	return out, nil
}

// looksLikeMbox reports whether the file starts with a "From " line
// followed by a header line.
func looksLikeMbox(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	buf := make([]byte, 4096)
	n, _ := io.ReadFull(f, buf)
	buf = buf[:n]
	if !strings.HasPrefix(string(buf), "From ") {
		return false
	}
	i := slices.Index(buf, '\n')
	if i < 0 {
		return false
	}
	rest := buf[i+1:]
	for j, c := range rest {
		if c == ':' {
			return j > 0
		}
		if c < 0x21 || c > 0x7e {
			return false
		}
	}
	return false
}

// ScanEML lists the directories at or below root that hold .eml files,
// one folder each, named for its place below root (root itself is named
// for its own name).
func ScanEML(ctx context.Context, root string) ([]Folder, error) {
	st, err := os.Stat(root)
	if err != nil {
		return nil, localErr("open "+root, err)
	}
	if !st.IsDir() {
		return nil, localErr("open "+root, errors.New("not a folder"))
	}
	var out []Folder
	err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if cerr := ctx.Err(); cerr != nil {
			return cerr
		}
		if !d.IsDir() {
			return nil
		}
		if strings.HasPrefix(d.Name(), ".") && p != root {
			return filepath.SkipDir
		}
		files, err := listFiles(p, func(n string) bool { return strings.EqualFold(filepath.Ext(n), ".eml") })
		if err != nil || len(files) == 0 {
			return nil
		}
		path := []string{filepath.Base(root)}
		if rel, _ := filepath.Rel(root, p); rel != "." {
			path = append(path, strings.Split(filepath.ToSlash(rel), "/")...)
		}
		out = append(out, Folder{Path: path, Source: p, Format: FormatEML})
		return nil
	})
	if err != nil {
		if cerr := ctx.Err(); cerr != nil {
			return nil, cerr
		}
		return nil, localErr("read folder "+root, err)
	}
	return out, nil
}
