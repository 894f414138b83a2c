package copier

import (
	"fmt"
	"path"
	"strings"

	"mailmover/core/store"
)

// wellKnown lists folder names, in common languages and server styles, that
// mean a special use where the server does not say so (RFC 6154).
var wellKnown = map[string][]string{
	store.Sent:    {"sent", "sent items", "sent mail", "sent messages", "gesendet", "gesendete objekte", "gesendete elemente", "éléments envoyés", "envoyés", "messages envoyés", "enviados", "elementos enviados", "posta inviata", "inviati", "verzonden", "verzonden items", "skickat", "wysłane"},
	store.Drafts:  {"drafts", "draft", "entwürfe", "brouillons", "borradores", "bozze", "concepten", "utkast", "kopie robocze"},
	store.Trash:   {"trash", "deleted items", "deleted messages", "bin", "gelöschte objekte", "gelöschte elemente", "papierkorb", "éléments supprimés", "corbeille", "papelera", "elementos eliminados", "cestino", "prullenbak", "verwijderde items", "papperskorg", "kosz"},
	store.Junk:    {"junk", "spam", "junk email", "junk e-mail", "junk mail", "bulk mail", "junk-e-mail", "courrier indésirable", "indésirables", "correo no deseado", "posta indesiderata", "ongewenste e-mail", "skräppost", "spam-ordner"},
	store.Archive: {"archive", "archives", "archiv", "archivo", "archivio", "archief", "arkiv", "archiwum"},
}

// useByName guesses a folder's special use from its name, for servers
// without SPECIAL-USE. Only top-level folders (or directly under INBOX) count.
func useByName(p []string) string {
	if len(p) == 0 {
		return ""
	}
	name := p[len(p)-1]
	if len(p) > 2 || (len(p) == 2 && !strings.EqualFold(p[0], "INBOX")) {
		return ""
	}
	n := strings.ToLower(name)
	for use, names := range wellKnown {
		for _, w := range names {
			if n == w {
				return use
			}
		}
	}
	return ""
}

// specialUse returns the folder's special use, declared or guessed.
func specialUse(f store.Folder) string {
	if f.SpecialUse != "" {
		return f.SpecialUse
	}
	return useByName(f.Path)
}

// defaultNames are the names given to special-use folders created on a target.
var defaultNames = map[string]string{
	store.Sent: "Sent", store.Drafts: "Drafts", store.Trash: "Trash", store.Junk: "Junk", store.Archive: "Archive",
}

// Layout is how a store names folders: personal namespace prefix and delimiter.
type Layout struct {
	Prefix string
	Delim  rune
}

// Join builds a mailbox name from a path.
func (l Layout) Join(p []string) string {
	if len(p) == 1 && strings.EqualFold(p[0], "INBOX") {
		return "INBOX"
	}
	return l.Prefix + strings.Join(p, string(l.Delim))
}

// substitute replaces, inside one path element, a delimiter the target cannot
// hold in a name. It is visible on purpose: the plan shows the change.
func substitute(elem string, delim rune) string {
	if delim == 0 {
		return elem
	}
	sub := "_"
	if delim == '_' {
		sub = "-"
	}
	return strings.ReplaceAll(elem, string(delim), sub)
}

// mapFolders decides the target folder of every source folder. The mapping is
// one-to-one: a collision gets a visible suffix and a note, never a silent merge.
func mapFolders(src []store.Folder, dst []store.Folder, tl Layout, opts *Options) []FolderPlan {
	byUse := map[string]store.Folder{}
	existing := map[string]store.Folder{}
	for _, f := range dst {
		existing[strings.ToLower(f.Name)] = f
		if u := specialUse(f); u != "" && !f.NoSelect {
			if _, ok := byUse[u]; !ok || f.SpecialUse != "" {
				byUse[u] = f
			}
		}
	}
	taken := map[string]string{} // lower-case target name -> source display name
	var plans []FolderPlan
	for _, sf := range src {
		fp := FolderPlan{Source: sf, Include: true}
		if sf.NoSelect {
			// A \Noselect parent holds no mail; its children create it as needed.
			continue
		}
		disp := sf.DisplayName()
		if matchAny(opts.Exclude, disp) || (len(opts.Include) > 0 && !matchAny(opts.Include, disp)) {
			fp.Include = false
			fp.Note, fp.Why = "excluded", WhyExcluded
		}
		use := specialUse(sf)
		fp.SpecialUse = use
		var tp []string
		switch {
		case opts.KeepPaths || len(opts.Into) > 0:
			tp = append(append([]string(nil), opts.Into...), sf.Path...)
		case len(sf.Path) == 1 && strings.EqualFold(sf.Path[0], "INBOX"):
			tp = []string{"INBOX"}
		case use != "" && use != store.All && use != store.Flagged:
			if t, ok := byUse[use]; ok && taken[strings.ToLower(t.Name)] == "" {
				fp.Target = t.Name
				fp.TargetPath = t.Path
			} else {
				tp = []string{defaultNames[use]}
			}
		default:
			tp = append([]string(nil), sf.Path...)
			// "INBOX/Receipts" on a server with prefix "INBOX." is "INBOX.Receipts",
			// not "INBOX.INBOX.Receipts".
			if len(tp) > 1 && strings.EqualFold(tp[0], "INBOX") && strings.EqualFold(strings.TrimRight(tl.Prefix, string(tl.Delim)), "INBOX") {
				tp = tp[1:]
			}
		}
		if fp.Target == "" {
			changed := false
			for i, e := range tp {
				s := substitute(e, tl.Delim)
				if s != e {
					changed = true
				}
				tp[i] = s
			}
			if changed {
				fp.Note = fmt.Sprintf("renamed: %q cannot hold %q in a folder name on the new server", disp, string(tl.Delim))
				fp.Why = WhyDelimiter
			}
			fp.TargetPath = tp
			fp.Target = tl.Join(tp)
		}
		if over, ok := opts.Rename[sf.Name]; ok && over != "" {
			fp.Target = over
			fp.TargetPath = strings.Split(strings.TrimPrefix(over, tl.Prefix), string(tl.Delim))
			fp.Note, fp.Why = "renamed by you", WhyRenamed
		}
		base := fp.Target
		for n := 2; taken[strings.ToLower(fp.Target)] != ""; n++ {
			fp.Target = fmt.Sprintf("%s (%d)", base, n)
			fp.TargetPath = append(append([]string(nil), fp.TargetPath[:len(fp.TargetPath)-1]...), fmt.Sprintf("%s (%d)", fp.TargetPath[len(fp.TargetPath)-1], n))
			fp.Note = fmt.Sprintf("renamed: %q would land in the same folder as %q", disp, taken[strings.ToLower(base)])
			fp.Why = WhyCollision
		}
		taken[strings.ToLower(fp.Target)] = disp
		if t, ok := existing[strings.ToLower(fp.Target)]; ok {
			fp.Exists = true
			fp.TargetFolder = t
		}
		plans = append(plans, fp)
	}
	return plans
}

// matchAny reports whether name matches one of the shell patterns
// (path.Match, "*" not crossing "/"), or a pattern equals a parent of it.
func matchAny(patterns []string, name string) bool {
	for _, p := range patterns {
		if ok, _ := path.Match(p, name); ok {
			return true
		}
		if strings.HasPrefix(name, strings.TrimSuffix(p, "/")+"/") && !strings.ContainsAny(p, "*?[") {
			return true
		}
		if strings.HasSuffix(p, "/**") && (name == strings.TrimSuffix(p, "/**") || strings.HasPrefix(name, strings.TrimSuffix(p, "**"))) {
			return true
		}
	}
	return false
}
