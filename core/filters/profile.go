package filters

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// FilterFileName is the name of Thunderbird's filter file in each account
// directory.
const FilterFileName = "msgFilterRules.dat"

// maxSignature bounds a signature file read into the notes.
const maxSignature = 256 << 10

// ResolveThunderbirdProfile returns the profile directory dir names: dir
// itself when it holds prefs.js, else the default profile of the
// Thunderbird directory holding profiles.ini (the [Install…] section's
// Default wins over the [Profile…] marked Default=1, as in Thunderbird).
func ResolveThunderbirdProfile(dir string) (string, error) {
	if fileExists(filepath.Join(dir, "prefs.js")) {
		return dir, nil
	}
	ini := filepath.Join(dir, "profiles.ini")
	f, err := os.Open(ini)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return "", fmt.Errorf("%s holds neither prefs.js (a profile) nor profiles.ini (a Thunderbird directory)", dir)
		}
		return "", fmt.Errorf("read %s: %w", ini, err)
	}
	defer f.Close()
	type section struct {
		name, path, def string
		relative        bool
	}
	var secs []section
	var cur *section
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if strings.HasPrefix(line, "[") && strings.HasSuffix(line, "]") {
			secs = append(secs, section{name: line[1 : len(line)-1], relative: true})
			cur = &secs[len(secs)-1]
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok || cur == nil {
			continue
		}
		switch k {
		case "Path":
			cur.path = v
		case "IsRelative":
			cur.relative = v != "0"
		case "Default":
			cur.def = v
		}
	}
	if err := sc.Err(); err != nil {
		return "", fmt.Errorf("read %s: %w", ini, err)
	}
	pick := ""
	for _, s := range secs {
		if strings.HasPrefix(s.name, "Install") && s.def != "" {
			pick = filepath.Join(dir, filepath.FromSlash(s.def))
			if filepath.IsAbs(s.def) {
				pick = s.def
			}
			break
		}
	}
	if pick == "" {
		for _, s := range secs {
			if strings.HasPrefix(s.name, "Profile") && s.path != "" && (s.def == "1" || pick == "") {
				p := filepath.FromSlash(s.path)
				if s.relative {
					p = filepath.Join(dir, p)
				}
				pick = p
				if s.def == "1" {
					break
				}
			}
		}
	}
	if pick == "" {
		return "", fmt.Errorf("%s names no profile", ini)
	}
	if !fileExists(filepath.Join(pick, "prefs.js")) {
		return "", fmt.Errorf("default profile %s has no prefs.js", pick)
	}
	return pick, nil
}

// ReadThunderbird reads a Thunderbird profile: prefs.js for the accounts,
// identities, signatures and tag names, then every mail account's
// msgFilterRules.dat. dir may also be a Thunderbird directory holding
// profiles.ini (see ResolveThunderbirdProfile). Without prefs.js, the
// profile's Mail and ImapMail directories are searched for filter files.
//
// Problems that concern one file are recorded in the Set and its
// Accounts; the error is non-nil only when the profile cannot be read at
// all.
func ReadThunderbird(ctx context.Context, dir string) (*Set, error) {
	profile, err := ResolveThunderbirdProfile(dir)
	if err != nil {
		return nil, err
	}
	set := &Set{Client: Thunderbird, Source: profile, Tags: map[string]string{}}
	for k, v := range defaultTags {
		set.Tags[k] = v
	}
	prefs, err := readPrefsFile(filepath.Join(profile, "prefs.js"))
	var pe *ParseError
	switch {
	case errors.As(err, &pe):
		set.Problems = append(set.Problems, "prefs.js: "+pe.Error())
	case err != nil:
		return nil, err
	}
	for k, v := range prefs {
		if key, ok := strings.CutPrefix(k, "mailnews.tags."); ok {
			if key, ok = strings.CutSuffix(key, ".tag"); ok {
				if s, ok := v.(string); ok {
					set.Tags[key] = s
				}
			}
		}
	}
	accounts := tbAccounts(profile, prefs)
	if len(accounts) == 0 {
		accounts = scanAccounts(profile)
	}
	for i := range accounts {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		a := &accounts[i]
		if a.Dir == "" {
			continue
		}
		path := filepath.Join(a.Dir, FilterFileName)
		f, err := os.Open(path)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			a.Problems = append(a.Problems, fmt.Sprintf("%s: %v", path, err))
			continue
		}
		ff, err := ParseFilterRules(f)
		f.Close()
		a.FilterFile = path
		if errors.As(err, &pe) {
			pe.File = path
			for _, p := range pe.Problems {
				a.Problems = append(a.Problems, p.String())
			}
		} else if err != nil {
			a.Problems = append(a.Problems, err.Error())
			continue
		}
		a.Logging = ff.Logging
		a.Rules = ff.Rules
	}
	set.Accounts = accounts
	set.AutoReplies = tbAutoReplies(ctx, set)
	return set, nil
}

func readPrefsFile(path string) (Prefs, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return Prefs{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	defer f.Close()
	return ParsePrefs(f)
}

// tbAccounts lists the mail accounts of prefs.js in the user's order:
// mail.accountmanager.accounts, then Local Folders.
func tbAccounts(profile string, p Prefs) []Account {
	var out []Account
	seen := map[string]bool{}
	defAcct := p.String("mail.accountmanager.defaultaccount")
	addServer := func(server string, idKeys []string, isDefault bool) {
		if server == "" || seen[server] {
			return
		}
		seen[server] = true
		pre := "mail.server." + server + "."
		typ := p.String(pre + "type")
		switch typ {
		case "nntp", "rss", "im":
			return
		}
		a := Account{
			Key:      server,
			Type:     typ,
			Host:     p.String(pre + "hostname"),
			UserName: p.String(pre + "userName"),
			Name:     p.String(pre + "name"),
		}
		if a.Name == "" {
			a.Name = a.UserName
			if a.Host != "" {
				a.Name += "@" + a.Host
			}
		}
		if a.Name == "" {
			a.Name = server
		}
		a.Dir = serverDir(profile, p, pre, typ, a.Host)
		for i, id := range idKeys {
			a.Identities = append(a.Identities, tbIdentity(profile, p, id, isDefault && i == 0))
		}
		out = append(out, a)
	}
	for _, acct := range p.List("mail.accountmanager.accounts") {
		pre := "mail.account." + acct + "."
		addServer(p.String(pre+"server"), p.List(pre+"identities"), acct == defAcct)
	}
	addServer(p.String("mail.accountmanager.localfoldersserver"), nil, false)
	return out
}

// serverDir finds an account's directory: directory-rel ("[ProfD]ImapMail/host"),
// else directory (absolute, perhaps from another computer), else the usual
// place for its type.
func serverDir(profile string, p Prefs, pre, typ, host string) string {
	var tries []string
	if rel := p.String(pre + "directory-rel"); rel != "" {
		if r, ok := strings.CutPrefix(rel, "[ProfD]"); ok {
			tries = append(tries, filepath.Join(profile, filepath.FromSlash(r)))
		}
	}
	if abs := p.String(pre + "directory"); abs != "" {
		tries = append(tries, abs)
		// A profile copied from another computer: keep the last two
		// components (ImapMail/host).
		parts := strings.FieldsFunc(abs, func(r rune) bool { return r == '/' || r == '\\' })
		if n := len(parts); n >= 2 {
			tries = append(tries, filepath.Join(profile, parts[n-2], parts[n-1]))
		}
	}
	switch typ {
	case "imap":
		tries = append(tries, filepath.Join(profile, "ImapMail", host))
	case "none":
		tries = append(tries, filepath.Join(profile, "Mail", "Local Folders"))
	default:
		if host != "" {
			tries = append(tries, filepath.Join(profile, "Mail", host))
		}
	}
	for _, t := range tries {
		if st, err := os.Stat(t); err == nil && st.IsDir() {
			return t
		}
	}
	if len(tries) > 0 {
		return tries[0]
	}
	return ""
}

// scanAccounts finds filter files when prefs.js names no account.
func scanAccounts(profile string) []Account {
	var out []Account
	for _, top := range []string{"ImapMail", "Mail"} {
		ents, err := os.ReadDir(filepath.Join(profile, top))
		if err != nil {
			continue
		}
		for _, e := range ents {
			dir := filepath.Join(profile, top, e.Name())
			if !e.IsDir() || !fileExists(filepath.Join(dir, FilterFileName)) {
				continue
			}
			typ := "pop3"
			switch {
			case top == "ImapMail":
				typ = "imap"
			case e.Name() == "Local Folders":
				typ = "none"
			}
			out = append(out, Account{Key: top + "/" + e.Name(), Name: e.Name(), Type: typ, Host: e.Name(), Dir: dir})
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Type == "imap" && out[j].Type != "imap" })
	return out
}

// tbIdentity reads mail.identity.<id>.*.
func tbIdentity(profile string, p Prefs, id string, isDefault bool) Identity {
	pre := "mail.identity." + id + "."
	ident := Identity{
		Key:           id,
		Name:          p.String(pre + "fullName"),
		Email:         p.String(pre + "useremail"),
		ReplyTo:       p.String(pre + "reply_to"),
		Organization:  p.String(pre + "organization"),
		Signature:     p.String(pre + "htmlSigText"),
		SignatureHTML: p.Bool(pre + "htmlSigFormat"),
		Default:       isDefault,
	}
	if !p.Bool(pre + "attach_signature") {
		return ident
	}
	// Thunderbird uses the file instead of the inline text.
	ident.Signature, ident.SignatureHTML = "", false
	file := p.String(pre + "sig_file")
	if rel, ok := strings.CutPrefix(p.String(pre+"sig_file-rel"), "[ProfD]"); ok {
		if cand := filepath.Join(profile, filepath.FromSlash(rel)); fileExists(cand) || file == "" {
			file = cand
		}
	}
	if file == "" {
		return ident
	}
	ident.SignatureFile = file
	f, err := os.Open(file)
	if err != nil {
		ident.Problem = fmt.Sprintf("the signature file %s could not be read: %v", file, errors.Unwrap(err))
		return ident
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxSignature))
	if err != nil {
		ident.Problem = fmt.Sprintf("the signature file %s could not be read: %v", file, err)
		return ident
	}
	ident.Signature = string(b)
	ext := strings.ToLower(filepath.Ext(file))
	ident.SignatureHTML = ext == ".html" || ext == ".htm"
	return ident
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}
