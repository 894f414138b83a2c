package localarchive

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Places says where a user's application data lives, so that profiles can
// be found on any system (and in tests, in a temporary directory).
type Places struct {
	// GOOS is "windows", "darwin" or another system; "" means runtime.GOOS.
	GOOS string
	// Home is the user's home directory.
	Home string
	// AppData is %APPDATA% on Windows; "" means Home\AppData\Roaming.
	AppData string
}

// DefaultPlaces returns the places of the current user on this system.
func DefaultPlaces() (Places, error) {
	home, err := os.UserHomeDir()
	if err != nil {
		return Places{}, localErr("find the home folder", err)
	}
	return Places{GOOS: runtime.GOOS, Home: home, AppData: os.Getenv("APPDATA")}, nil
}

// ThunderbirdRoots returns the directories that may hold Thunderbird's
// profiles.ini: %APPDATA%\Thunderbird on Windows, ~/Library/Thunderbird on
// macOS; ~/.thunderbird, the Flatpak (~/.var/app/org.mozilla.Thunderbird/
// .thunderbird) and Snap (~/snap/thunderbird/common/.thunderbird) places
// elsewhere.
func (p Places) ThunderbirdRoots() []string {
	goos := p.GOOS
	if goos == "" {
		goos = runtime.GOOS
	}
	switch goos {
	case "windows":
		appData := p.AppData
		if appData == "" {
			appData = filepath.Join(p.Home, "AppData", "Roaming")
		}
		return []string{filepath.Join(appData, "Thunderbird")}
	case "darwin":
		return []string{filepath.Join(p.Home, "Library", "Thunderbird")}
	}
	return []string{
		filepath.Join(p.Home, ".thunderbird"),
		filepath.Join(p.Home, ".var", "app", "org.mozilla.Thunderbird", ".thunderbird"),
		filepath.Join(p.Home, "snap", "thunderbird", "common", ".thunderbird"),
	}
}

// Profile is a Thunderbird profile found through profiles.ini.
type Profile struct {
	// Name is the profile's name ("default-release").
	Name string
	// Dir is the profile directory.
	Dir string
	// Default marks the profile Thunderbird opens: the Default of an
	// [Install...] section, else the profile with Default=1.
	Default bool
	// Root is the directory holding profiles.ini.
	Root string
}

// ThunderbirdProfiles returns the profiles listed in the profiles.ini files
// of places, those whose directory exists, defaults first.
func ThunderbirdProfiles(ctx context.Context, places Places) ([]Profile, error) {
	var out []Profile
	for _, root := range places.ThunderbirdRoots() {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		ps, err := readProfilesINI(root)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, ps...)
	}
	slices.SortStableFunc(out, func(a, b Profile) int {
		switch {
		case a.Default && !b.Default:
			return -1
		case b.Default && !a.Default:
			return 1
		}
		return 0
	})
	return out, nil
}

// readProfilesINI reads root/profiles.ini.
func readProfilesINI(root string) ([]Profile, error) {
	data, err := os.ReadFile(filepath.Join(root, "profiles.ini"))
	if err != nil {
		return nil, err
	}
	sections := parseINI(data)
	var installDefaults []string
	var out []Profile
	for _, s := range sections {
		switch {
		case strings.HasPrefix(s.name, "Install"):
			if d := s.values["Default"]; d != "" {
				installDefaults = append(installDefaults, d)
			}
		case strings.HasPrefix(s.name, "Profile"):
			path := s.values["Path"]
			if path == "" {
				continue
			}
			dir := path
			if s.values["IsRelative"] != "0" {
				dir = filepath.Join(root, filepath.FromSlash(path))
			}
			if st, err := os.Stat(dir); err != nil || !st.IsDir() {
				continue
			}
			out = append(out, Profile{Name: s.values["Name"], Dir: dir, Default: s.values["Default"] == "1", Root: root})
		}
	}
	if len(installDefaults) > 0 {
		for i := range out {
			out[i].Default = false
			for _, d := range installDefaults {
				if sameProfilePath(root, d, out[i].Dir) {
					out[i].Default = true
				}
			}
		}
	}
	return out, nil
}

func sameProfilePath(root, iniPath, dir string) bool {
	p := iniPath
	if !filepath.IsAbs(filepath.FromSlash(p)) {
		p = filepath.Join(root, filepath.FromSlash(p))
	}
	return filepath.Clean(p) == filepath.Clean(dir)
}

type iniSection struct {
	name   string
	values map[string]string
}

// parseINI parses the INI dialect of profiles.ini.
func parseINI(data []byte) []iniSection {
	var out []iniSection
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "" || line[0] == ';' || line[0] == '#':
		case line[0] == '[' && strings.HasSuffix(line, "]"):
			out = append(out, iniSection{name: line[1 : len(line)-1], values: map[string]string{}})
		case len(out) > 0:
			if k, v, ok := strings.Cut(line, "="); ok {
				out[len(out)-1].values[strings.TrimSpace(k)] = strings.TrimSpace(v)
			}
		}
	}
	return out
}

// ScanThunderbird lists the Local Folders and POP account folders of the
// Thunderbird profile in profileDir, from the accounts in prefs.js
// (mail.server.serverN.directory-rel, .type, .name, .hostname), or, without
// them, from the folders under Mail/. IMAP accounts are left out: their
// folders are only a cache of the server. Folders are mbox files (Name,
// with Name.msf beside it) or maildir directories (Name/cur); subfolders are
// in Name.sbd. The path of a folder starts with its account's name.
//
// Thunderbird stores a folder whose name it cannot use on disk under a hash
// (NS_MsgHashIfNecessary); such folders appear under that name.
func ScanThunderbird(ctx context.Context, profileDir string) ([]Folder, error) {
	if st, err := os.Stat(profileDir); err != nil || !st.IsDir() {
		if err == nil {
			err = errors.New("not a folder")
		}
		return nil, localErr("open Thunderbird profile "+profileDir, err)
	}
	accounts, err := thunderbirdAccounts(profileDir)
	if err != nil {
		return nil, err
	}
	var out []Folder
	seen := map[string]bool{}
	for _, a := range accounts {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		key := filepath.Clean(a.dir)
		if seen[key] {
			continue
		}
		seen[key] = true
		if err := walkThunderbird(ctx, a.dir, []string{a.name}, &out); err != nil {
			return nil, err
		}
	}
	return out, nil
}

type tbAccount struct {
	name string
	dir  string
}

// thunderbirdAccounts returns the local and POP accounts of a profile.
func thunderbirdAccounts(profileDir string) ([]tbAccount, error) {
	prefs, err := readPrefs(filepath.Join(profileDir, "prefs.js"))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, localErr("read Thunderbird settings", err)
	}
	// Servers in the order of the account manager, then any others.
	var ids []string
	for _, acc := range splitList(prefs["mail.accountmanager.accounts"]) {
		if s := prefs["mail.account."+acc+".server"]; s != "" && !slices.Contains(ids, s) {
			ids = append(ids, s)
		}
	}
	var rest []string
	for k := range prefs {
		if id, ok := strings.CutPrefix(k, "mail.server."); ok {
			if id, _, ok = strings.Cut(id, "."); ok && !slices.Contains(ids, id) && !slices.Contains(rest, id) {
				rest = append(rest, id)
			}
		}
	}
	slices.SortFunc(rest, naturalCompareID)
	ids = append(ids, rest...)

	var out []tbAccount
	for _, id := range ids {
		p := "mail.server." + id + "."
		switch prefs[p+"type"] {
		case "none", "pop3", "movemail":
		default:
			continue
		}
		dir := resolveDir(profileDir, prefs[p+"directory-rel"], prefs[p+"directory"])
		if dir == "" {
			if host := prefs[p+"hostname"]; host != "" {
				dir = filepath.Join(profileDir, "Mail", host)
			}
		}
		if st, err := os.Stat(dir); dir == "" || err != nil || !st.IsDir() {
			continue
		}
		name := prefs[p+"name"]
		if name == "" {
			name = filepath.Base(dir)
		}
		out = append(out, tbAccount{name: name, dir: dir})
	}
	if len(out) == 0 {
		// No usable settings: every folder under Mail/ is an account.
		entries, _ := os.ReadDir(filepath.Join(profileDir, "Mail"))
		for _, e := range entries {
			if e.IsDir() && !strings.HasPrefix(e.Name(), ".") {
				out = append(out, tbAccount{name: e.Name(), dir: filepath.Join(profileDir, "Mail", e.Name())})
			}
		}
	}
	return out, nil
}

func naturalCompareID(a, b string) int {
	na, _ := strconv.Atoi(strings.TrimLeft(a, "abcdefghijklmnopqrstuvwxyz"))
	nb, _ := strconv.Atoi(strings.TrimLeft(b, "abcdefghijklmnopqrstuvwxyz"))
	if na != nb {
		return na - nb
	}
	return strings.Compare(a, b)
}

func splitList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

// resolveDir turns a server's directory-rel ("[ProfD]Mail/Local Folders")
// or, failing that, its absolute directory into a path in this profile. An
// absolute directory from another machine is mapped to the same place
// under this profile (from its "Mail" component on).
func resolveDir(profileDir, rel, abs string) string {
	if rest, ok := strings.CutPrefix(rel, "[ProfD]"); ok {
		return filepath.Join(profileDir, filepath.FromSlash(rest))
	}
	if abs == "" {
		return ""
	}
	if st, err := os.Stat(abs); err == nil && st.IsDir() {
		return abs
	}
	parts := strings.FieldsFunc(abs, func(r rune) bool { return r == '/' || r == '\\' })
	for i := len(parts) - 1; i >= 0; i-- {
		if parts[i] == "Mail" {
			return filepath.Join(append([]string{profileDir}, parts[i:]...)...)
		}
	}
	return ""
}

// skipExts are extensions of files in Thunderbird's mail folders that are
// never folders.
var skipExts = []string{
	".msf", ".dat", ".html", ".htm", ".json", ".js", ".sqlite", ".sqlite-wal", ".sqlite-shm",
	".log", ".tmp", ".bak", ".mozlz4", ".rdf", ".xml", ".ini", ".lock", ".txt", ".png", ".jpg",
}

// walkThunderbird adds the folders of one account directory (or .sbd).
func walkThunderbird(ctx context.Context, dir string, path []string, out *[]Folder) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return localErr("read folder "+dir, err)
	}
	have := map[string]fs.DirEntry{}
	for _, e := range entries {
		have[e.Name()] = e
	}
	done := map[string]bool{} // folders whose .sbd was handled
	for _, e := range entries {
		n := e.Name()
		if strings.HasPrefix(n, ".") {
			continue
		}
		full := filepath.Join(dir, n)
		var f Folder
		switch {
		case e.IsDir() && strings.HasSuffix(n, ".sbd"):
			continue
		case e.IsDir():
			if st, err := os.Stat(filepath.Join(full, "cur")); err != nil || !st.IsDir() {
				continue
			}
			f = Folder{Source: full, Format: FormatMaildir}
		case e.Type().IsRegular():
			if slices.Contains(skipExts, strings.ToLower(filepath.Ext(n))) {
				continue
			}
			if _, ok := have[n+".msf"]; !ok && !startsWithFrom(full) {
				continue
			}
			f = Folder{Source: full, Format: FormatMbox}
		default:
			continue
		}
		f.Path = append(path[:len(path):len(path)], n)
		if len(path) == 1 {
			f.SpecialUse = guessSpecialUse(f.Path[1:])
		}
		*out = append(*out, f)
		done[n] = true
		if sbd, ok := have[n+".sbd"]; ok && sbd.IsDir() {
			if err := walkThunderbird(ctx, filepath.Join(dir, n+".sbd"), f.Path, out); err != nil {
				return err
			}
		}
	}
	// .sbd directories whose folder file is missing still hold folders.
	for _, e := range entries {
		n := e.Name()
		base, ok := strings.CutSuffix(n, ".sbd")
		if !ok || !e.IsDir() || done[base] || base == "" {
			continue
		}
		if err := walkThunderbird(ctx, filepath.Join(dir, n), append(path[:len(path):len(path)], base), out); err != nil {
			return err
		}
	}
	return nil
}

// startsWithFrom reports whether the file at path starts like an mbox.
func startsWithFrom(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	var b [5]byte
	n, _ := io.ReadFull(f, b[:])
	return string(b[:n]) == "From "
}

// guessSpecialUse returns the RFC 6154 attribute that Thunderbird's and
// Apple Mail's standard folder names stand for.
func guessSpecialUse(path []string) string {
	if len(path) != 1 {
		return ""
	}
	switch strings.ToLower(path[0]) {
	case "sent", "sent messages", "sent items":
		return `\Sent`
	case "drafts":
		return `\Drafts`
	case "trash", "deleted messages", "deleted items":
		return `\Trash`
	case "junk", "spam":
		return `\Junk`
	case "archives", "archive":
		return `\Archive`
	}
	return ""
}

// readPrefs reads the user_pref("name", value); lines of a prefs.js file.
// String values are unescaped; numbers and booleans are kept as written.
func readPrefs(path string) (map[string]string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return map[string]string{}, err
	}
	return parsePrefs(data), nil
}

func parsePrefs(data []byte) map[string]string {
	out := map[string]string{}
	s := string(data)
	for {
		i := strings.Index(s, "user_pref(")
		if i < 0 {
			return out
		}
		s = s[i+len("user_pref("):]
		name, rest, ok := jsString(strings.TrimLeft(s, " \t"))
		if !ok {
			continue
		}
		rest = strings.TrimLeft(rest, " \t")
		if !strings.HasPrefix(rest, ",") {
			continue
		}
		rest = strings.TrimLeft(rest[1:], " \t\r\n")
		var value string
		if v, r, ok := jsString(rest); ok {
			value, rest = v, r
		} else {
			j := strings.IndexByte(rest, ')')
			if j < 0 {
				continue
			}
			value, rest = strings.TrimSpace(rest[:j]), rest[j:]
		}
		if strings.HasPrefix(strings.TrimLeft(rest, " \t"), ")") {
			out[name] = value
		}
		s = rest
	}
}

// jsString parses a JavaScript string literal at the start of s.
func jsString(s string) (value, rest string, ok bool) {
	if s == "" || s[0] != '"' && s[0] != '\'' {
		return "", s, false
	}
	quote := s[0]
	var b strings.Builder
	for i := 1; i < len(s); i++ {
		c := s[i]
		switch {
		case c == quote:
			return b.String(), s[i+1:], true
		case c == '\n':
			return "", s, false
		case c == '\\' && i+1 < len(s):
			i++
			switch e := s[i]; e {
			case 'n':
				b.WriteByte('\n')
			case 't':
				b.WriteByte('\t')
			case 'r':
				b.WriteByte('\r')
			case 'u':
				if i+4 < len(s) {
					if n, err := strconv.ParseUint(s[i+1:i+5], 16, 16); err == nil {
						r := rune(n)
						// A surrogate pair encodes one character.
						if r >= 0xd800 && r < 0xdc00 && i+10 < len(s) && s[i+5] == '\\' && s[i+6] == 'u' {
							if lo, err := strconv.ParseUint(s[i+7:i+11], 16, 16); err == nil && lo >= 0xdc00 && lo < 0xe000 {
								r = 0x10000 + (r-0xd800)<<10 + rune(lo-0xdc00)
								i += 6
							}
						}
						if !utf8.ValidRune(r) {
							r = utf8.RuneError
						}
						b.WriteRune(r)
						i += 4
						continue
					}
				}
				b.WriteByte(e)
			case 'x':
				if i+2 < len(s) {
					if n, err := strconv.ParseUint(s[i+1:i+3], 16, 8); err == nil {
						b.WriteRune(rune(n))
						i += 2
						continue
					}
				}
				b.WriteByte(e)
			default:
				b.WriteByte(e)
			}
		default:
			b.WriteByte(c)
		}
	}
	return "", s, false
}

// String describes a profile for people.
func (p Profile) String() string {
	if p.Default {
		return fmt.Sprintf("%s (default) in %s", p.Name, p.Dir)
	}
	return fmt.Sprintf("%s in %s", p.Name, p.Dir)
}
