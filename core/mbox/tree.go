package mbox

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"mailmover/core/atomicfile"
	"mailmover/core/failure"
)

// MaxNameBytes is the longest file name SafeName returns, in bytes, before
// the ".mbox.idx" suffix. It keeps deep trees under Windows' 260-character
// path limit in common cases, and far below the 255-byte limit of every
// file system.
const MaxNameBytes = 100

// MboxSuffix is the extension of mbox files in a backup tree.
const MboxSuffix = ".mbox"

// MappingFile is the name of the manifest at the root of a backup tree.
const MappingFile = "mapping.json"

// reservedNames are device names Windows refuses as file names, with or
// without an extension (Naming Files, Paths, and Namespaces, Microsoft Learn).
var reservedNames = []string{
	"CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$", "CLOCK$",
	"COM0", "COM1", "COM2", "COM3", "COM4", "COM5", "COM6", "COM7", "COM8", "COM9", "COM¹", "COM²", "COM³",
	"LPT0", "LPT1", "LPT2", "LPT3", "LPT4", "LPT5", "LPT6", "LPT7", "LPT8", "LPT9", "LPT¹", "LPT²", "LPT³",
}

// SafeName returns a file name for a folder name that is valid on Windows,
// macOS and Linux and not taken in its directory:
//
//   - the characters < > : " / \ | ? * and control characters are replaced
//     by '_', and so are invalid UTF-8 bytes;
//   - a leading '.' (hidden files, "." and "..") and trailing dots and spaces
//     (which Windows drops) are replaced by '_';
//   - Windows device names (CON, PRN, AUX, NUL, COM1..9, LPT1..9 and a few
//     more), alone or before an extension, get a '_' appended;
//   - a name longer than MaxNameBytes is cut at a character boundary and
//     ends with "~" and 8 hex digits of the SHA-256 of the original name;
//   - while taken reports the name as used (taken should compare as
//     case-insensitive file systems do, see FoldName), "~2", "~3"... is
//     appended.
//
// A nil taken means no name is taken.
func SafeName(name string, taken func(string) bool) string {
	s := cleanName(name)
	if len(s) > MaxNameBytes {
		sum := sha256.Sum256([]byte(name))
		s = withSuffix(s, "~"+hex.EncodeToString(sum[:4]))
	}
	if taken == nil || !taken(s) {
		return s
	}
	for i := 2; ; i++ {
		c := withSuffix(s, "~"+strconv.Itoa(i))
		if !taken(c) {
			return c
		}
	}
}

// cleanName replaces what no file system accepts.
func cleanName(name string) string {
	var b strings.Builder
	for i, r := range name {
		switch {
		case r == utf8.RuneError:
			if _, size := utf8.DecodeRuneInString(name[i:]); size == 1 {
				r = '_'
			}
		case r < 0x20 || r == 0x7f || strings.ContainsRune(`<>:"/\|?*`, r):
			r = '_'
		}
		b.WriteRune(r)
	}
	s := b.String()
	if s == "" {
		return "_"
	}
	if s[0] == '.' {
		s = "_" + s[1:]
	}
	if t := strings.TrimRight(s, ". "); len(t) < len(s) {
		s = t + strings.Repeat("_", len(s)-len(t))
	}
	stem, _, _ := strings.Cut(s, ".")
	stem = strings.TrimRight(stem, " ")
	for _, r := range reservedNames {
		if strings.EqualFold(stem, r) {
			s = s[:len(stem)] + "_" + s[len(stem):]
			break
		}
	}
	return s
}

// withSuffix appends suffix to s, cutting s at a character boundary so that
// the result fits in MaxNameBytes, and keeps the result safe.
func withSuffix(s, suffix string) string {
	limit := MaxNameBytes - len(suffix)
	if len(s) > limit {
		cut := limit
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut]
	}
	s = strings.TrimRight(s, ". ")
	return cleanName(s + suffix)
}

// FoldName returns the key under which case-insensitive,
// normalization-insensitive file systems (NTFS, APFS, HFS+) compare names.
func FoldName(name string) string {
	return strings.ToLower(norm.NFC.String(name))
}

// Entry maps one folder to its mbox file in a backup tree.
type Entry struct {
	// File is the mbox file's path relative to the root, with "/" separators.
	File string `json:"file"`
	// Name is the folder's real name on the server.
	Name string `json:"name"`
	// Delimiter is the server's hierarchy delimiter, "" for a flat store.
	Delimiter string `json:"delimiter,omitempty"`
	// Path is the folder's hierarchy, independent of any delimiter.
	Path []string `json:"path"`
}

// mapping is the content of MappingFile.
type mapping struct {
	Format  string  `json:"format"`
	Version int     `json:"version"`
	Folders []Entry `json:"folders"`
}

const mappingFormat = "mailmover-backup-tree"

// Tree is a backup: a directory that mirrors a folder hierarchy, one mbox
// file (and its index) per folder, with a manifest (MappingFile) from file
// paths back to real folder names. A folder {"INBOX", "Archive"} is stored
// as INBOX/Archive.mbox; its subfolders go in the directory INBOX/Archive/.
// Names are made safe with SafeName; once given, a file name never changes,
// so incremental backups find their files again. A Tree is safe for
// concurrent use.
type Tree struct {
	root string

	mu      sync.Mutex
	entries []Entry
	nodes   map[string]string          // path key -> safe base name
	used    map[string]map[string]bool // directory (slash path) -> folded names used there
}

// OpenTree opens the backup tree at root, creating the directory if needed.
// Without a manifest, the folders are found again from the headers of the
// index files.
func OpenTree(ctx context.Context, root string) (*Tree, error) {
	if err := os.MkdirAll(root, 0o700); err != nil {
		return nil, failure.New(failure.Local, failure.ScopeAccount, "create backup folder", err)
	}
	t := &Tree{root: root, nodes: map[string]string{}, used: map[string]map[string]bool{}}
	t.use("", MappingFile)
	data, err := os.ReadFile(filepath.Join(root, MappingFile))
	switch {
	case err == nil:
		var m mapping
		if err := json.Unmarshal(data, &m); err != nil {
			return nil, failure.New(failure.Malformed, failure.ScopeAccount, "read "+filepath.Join(root, MappingFile), err)
		}
		if m.Format != mappingFormat {
			return nil, failure.Newf(failure.Malformed, failure.ScopeAccount, "read %s: format %q is not %q", filepath.Join(root, MappingFile), m.Format, mappingFormat)
		}
		for _, e := range m.Folders {
			if err := t.addEntry(e); err != nil {
				return nil, failure.New(failure.Malformed, failure.ScopeAccount, "read "+filepath.Join(root, MappingFile), err)
			}
		}
	case errors.Is(err, fs.ErrNotExist):
		if err := t.recover(ctx); err != nil {
			return nil, err
		}
	default:
		return nil, failure.New(failure.Local, failure.ScopeAccount, "read backup manifest", err)
	}
	return t, nil
}

// recover rebuilds the entries from the index headers under the root.
func (t *Tree) recover(ctx context.Context) error {
	err := filepath.WalkDir(t.root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if cerr := ctx.Err(); cerr != nil {
			return cerr
		}
		if d.IsDir() || !strings.HasSuffix(p, MboxSuffix+IndexSuffix) {
			return nil
		}
		idx, _, rerr := ReadIndex(ctx, p)
		if rerr != nil {
			return nil // not ours, or damaged: its mbox stays where it is
		}
		rel, _ := filepath.Rel(t.root, strings.TrimSuffix(p, IndexSuffix))
		e := Entry{File: filepath.ToSlash(rel), Name: idx.Header.Name, Delimiter: idx.Header.Delimiter, Path: idx.Header.Path}
		if len(e.Path) > 0 {
			_ = t.addEntry(e) // a conflicting entry keeps its files, unmapped
		}
		return nil
	})
	if err != nil {
		return failure.New(failure.Local, failure.ScopeAccount, "read backup folder", err)
	}
	return nil
}

func pathKey(p []string) string { return strings.Join(p, "\x00") }

func (t *Tree) use(dir, name string) {
	m := t.used[dir]
	if m == nil {
		m = map[string]bool{}
		t.used[dir] = m
	}
	m[FoldName(name)] = true
}

// useBase reserves every name derived from a base name in dir.
func (t *Tree) useBase(dir, base string) {
	for _, n := range derivedNames(base) {
		t.use(dir, n)
	}
}

func derivedNames(base string) []string {
	mb := base + MboxSuffix
	return []string{base, mb, mb + IndexSuffix, mb + PartialSuffix}
}

// addEntry records an existing entry, checking that it agrees with the
// others on the names of shared parent directories.
func (t *Tree) addEntry(e Entry) error {
	parts := strings.Split(e.File, "/")
	if len(e.Path) == 0 || len(parts) != len(e.Path) || !strings.HasSuffix(e.File, MboxSuffix) {
		return fmt.Errorf("entry %q does not match folder %q", e.File, e.Path)
	}
	parts[len(parts)-1] = strings.TrimSuffix(parts[len(parts)-1], MboxSuffix)
	for _, p := range parts {
		if p == "" || p == "." || p == ".." {
			return fmt.Errorf("entry %q: bad file name", e.File)
		}
	}
	for i := range parts {
		key := pathKey(e.Path[:i+1])
		if base, ok := t.nodes[key]; ok {
			if base != parts[i] {
				return fmt.Errorf("entry %q: folder %q is already stored as %q", e.File, e.Path[:i+1], base)
			}
			continue
		}
		t.nodes[key] = parts[i]
		t.useBase(path.Join(parts[:i]...), parts[i])
	}
	for _, old := range t.entries {
		if pathKey(old.Path) == pathKey(e.Path) {
			return nil
		}
	}
	e.Path = slices.Clone(e.Path)
	t.entries = append(t.entries, e)
	return nil
}

// Root returns the tree's root directory.
func (t *Tree) Root() string { return t.root }

// Entries returns the folders of the tree, sorted by file.
func (t *Tree) Entries() []Entry {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := slices.Clone(t.entries)
	slices.SortFunc(out, func(a, b Entry) int { return strings.Compare(a.File, b.File) })
	return out
}

// Lookup returns the entry of the folder with this path.
func (t *Tree) Lookup(folderPath []string) (Entry, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, e := range t.entries {
		if slices.Equal(e.Path, folderPath) {
			return e, true
		}
	}
	return Entry{}, false
}

// FilePath returns the mbox file of an entry as a local path.
func (t *Tree) FilePath(e Entry) string {
	return filepath.Join(t.root, filepath.FromSlash(e.File))
}

// Add returns the entry of a folder, giving it a file name if it has none
// yet, and saves the manifest when it changed. A name is never reused for
// another folder, and never taken over from a file already on disk.
func (t *Tree) Add(ctx context.Context, name, delimiter string, folderPath []string) (Entry, error) {
	if len(folderPath) == 0 {
		return Entry{}, failure.Newf(failure.Config, failure.ScopeFolder, "folder %q has an empty path", name)
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	for i, e := range t.entries {
		if slices.Equal(e.Path, folderPath) {
			if e.Name == name && e.Delimiter == delimiter {
				return e, nil
			}
			t.entries[i].Name, t.entries[i].Delimiter = name, delimiter
			return t.entries[i], t.save(ctx)
		}
	}
	parts := make([]string, len(folderPath))
	for i := range folderPath {
		key := pathKey(folderPath[:i+1])
		if base, ok := t.nodes[key]; ok {
			parts[i] = base
			continue
		}
		dir := path.Join(parts[:i]...)
		base := SafeName(folderPath[i], func(s string) bool { return t.taken(dir, s) })
		t.nodes[key] = base
		t.useBase(dir, base)
		parts[i] = base
	}
	e := Entry{
		File:      strings.Join(parts, "/") + MboxSuffix,
		Name:      name,
		Delimiter: delimiter,
		Path:      slices.Clone(folderPath),
	}
	t.entries = append(t.entries, e)
	return e, t.save(ctx)
}

// taken reports whether base, or a name derived from it, is used in dir by
// the tree or by a file on disk.
func (t *Tree) taken(dir, base string) bool {
	used := t.used[dir]
	for _, n := range derivedNames(base) {
		if used[FoldName(n)] {
			return true
		}
		if _, err := os.Lstat(filepath.Join(t.root, filepath.FromSlash(dir), n)); err == nil {
			return true
		}
	}
	return false
}

// Save writes the manifest atomically.
func (t *Tree) Save(ctx context.Context) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.save(ctx)
}

func (t *Tree) save(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m := mapping{Format: mappingFormat, Version: 1, Folders: slices.Clone(t.entries)}
	slices.SortFunc(m.Folders, func(a, b Entry) int { return strings.Compare(a.File, b.File) })
	data, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return failure.New(failure.Local, failure.ScopeAccount, "write backup manifest", err)
	}
	if err := atomicfile.WriteFile(filepath.Join(t.root, MappingFile), append(data, '\n'), 0o600); err != nil {
		return failure.New(failure.Local, failure.ScopeAccount, "write backup manifest", err)
	}
	return nil
}

// Header returns the index header for an entry.
func (e Entry) Header() Header {
	h := NewHeader(e.Name, e.Delimiter, slices.Clone(e.Path))
	h.File = e.File
	return h
}
