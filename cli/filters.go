package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"mailmover/core/atomicfile"
	"mailmover/core/failure"
	"mailmover/core/filters"
	"mailmover/core/imapstore"
	"mailmover/core/sieve"
	"mailmover/core/sieve/managesieve"
)

// filterFiles are the notes written by the filters command.
const (
	notesMarkdown = "filter-notes.md"
	notesHTML     = "filter-notes.html"
)

// filtersAccount is one account in the filters command's summary.
type filtersAccount struct {
	Name     string `json:"name"`
	Rules    int    `json:"rules"`
	Script   string `json:"script,omitempty"`
	File     string `json:"file,omitempty"`
	OnServer int    `json:"onServer"`
	Partly   int    `json:"partly"`
	ByHand   int    `json:"byHand"`
}

func runFilters(ctx context.Context, env *Env, args []string) int {
	const usageArgs = "--thunderbird PROFILE_DIR | --apple-mail SyncedRules.plist | --sieve-from URL|ACCOUNT [--out DIR] [--to URL|ACCOUNT [--install [--activate]]] [--json]"
	var tb, apple, out, trash string
	var asJSON, install, activate bool
	var sieveFrom, to sideFlags
	var sievePort, toSievePort int
	fs := newFlagSet(env, "filters", usageArgs)
	sieveFrom.register(fs, "sieve-from", "the old account whose server-side Sieve filters (vacation, redirects) to read over ManageSieve")
	to.register(fs, "to", "the new account: its server's Sieve extensions shape the scripts, and --install puts them there")
	fs.IntVar(&sievePort, "sieve-port", defaultSievePort, "ManageSieve port (STARTTLS) of the servers")
	fs.IntVar(&toSievePort, "to-sieve-port", 0, "ManageSieve port of the new server, if it differs from --sieve-port")
	fs.BoolVar(&install, "install", false, "install the scripts on the --to server (never replacing a script of another content; not activated unless --activate)")
	fs.BoolVar(&activate, "activate", false, "with --install: make the installed filters the active script")
	fs.StringVar(&tb, "thunderbird", "", "Thunderbird profile directory (or the Thunderbird directory holding profiles.ini)")
	fs.StringVar(&apple, "apple-mail", "", "Apple Mail's SyncedRules.plist (or its MailData directory)")
	fs.StringVar(&out, "out", ".", "folder to write filter-notes.md, filter-notes.html and one .sieve script per account into")
	fs.StringVar(&trash, "trash", "Trash", "folder that \"Delete\" rules file mail into on the new server; empty to discard it instead")
	fs.BoolVar(&asJSON, "json", false, "print one JSON object summing up what was written")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return ExitOK
		}
		return ExitUsage
	}
	if fs.NArg() > 0 {
		return report(env, failure.Newf(failure.Config, failure.ScopeAccount, "unexpected argument %q: give the profile with --thunderbird or the rules file with --apple-mail", fs.Arg(0)))
	}
	if tb != "" && apple != "" || tb == "" && apple == "" && sieveFrom.ref == "" {
		return report(env, failure.Newf(failure.Config, failure.ScopeAccount, "give --thunderbird PROFILE_DIR or --apple-mail SyncedRules.plist, and/or --sieve-from URL|ACCOUNT"))
	}
	if install && to.ref == "" {
		return report(env, failure.Newf(failure.Config, failure.ScopeAccount, "--install needs --to URL|ACCOUNT: the new account to install the scripts on"))
	}
	if activate && !install {
		return report(env, failure.Newf(failure.Config, failure.ScopeAccount, "--activate goes with --install"))
	}
	if toSievePort == 0 {
		toSievePort = sievePort
	}

	// The new server first: its Sieve extensions decide what the scripts use.
	var target *managesieve.Client
	var targetLabel, targetUser string
	var exts []string
	if to.ref != "" {
		c, label, user, err := dialSieve(ctx, env, &to, toSievePort)
		if err != nil {
			return report(env, err)
		}
		defer c.Close()
		target, targetLabel, targetUser = c, label, user
		exts = c.Capabilities().Sieve
	}

	var serverScripts []filters.ServerScript
	var sourceLabel string
	if sieveFrom.ref != "" {
		var err error
		serverScripts, sourceLabel, err = readServerScripts(ctx, env, &sieveFrom, sievePort)
		if err != nil {
			return report(env, err)
		}
	}

	set := &filters.Set{}
	var err error
	if tb != "" {
		set, err = filters.ReadThunderbird(ctx, tb)
	} else if apple != "" {
		set, err = filters.ReadAppleMail(ctx, apple)
	}
	if err != nil {
		if ctx.Err() != nil {
			return report(env, failure.New(failure.Cancelled, failure.ScopeAccount, "read filters", ctx.Err()))
		}
		return report(env, failure.New(failure.Config, failure.ScopeAccount, "read filters", err))
	}

	// One Sieve script per account that has rules.
	scripts := map[string]*sieve.Script{}
	files := map[string]string{}
	used := map[string]bool{}
	var checkErrs []string
	for i := range set.Accounts {
		a := &set.Accounts[i]
		if len(a.Rules) == 0 {
			continue
		}
		name := uniqueName(scriptName(a.Name), used)
		sname := name
		if install {
			sname = "mailmover-" + name
		}
		s := sieve.Generate(a.Rules, sieve.Options{Name: sname, Account: a.Name, Trash: trash, Extensions: exts, Words: filters.Words{Tags: set.Tags}})
		if err := sieve.Check(s.Text); err != nil {
			checkErrs = append(checkErrs, fmt.Sprintf("the script for %s does not pass the syntax check: %v", a.Name, err))
		}
		scripts[a.Key] = s
		files[a.Key] = name + ".sieve"
	}

	var inst *installResult
	if install {
		var gen []*sieve.Script
		for _, a := range set.Accounts {
			if s := scripts[a.Key]; s != nil {
				gen = append(gen, s)
			}
		}
		inst, err = installScripts(ctx, target, gen, serverScripts, activate, targetUser)
		if err != nil {
			return report(env, err)
		}
	}
	if target != nil {
		_ = target.Logout(ctx)
	}

	notes := filters.BuildNotes(set, filters.NotesOptions{
		Plan: func(a *filters.Account) *filters.Plan {
			s := scripts[a.Key]
			if s == nil {
				return nil
			}
			p := s.Plan()
			if inst != nil && inst.as[s.Name] != "" {
				p.Script = inst.as[s.Name]
			}
			return p
		},
		Target:        targetLabel,
		ServerScripts: serverScripts,
		ServerSource:  sourceLabel,
	})

	var md, html bytes.Buffer
	if err := notes.WriteMarkdown(&md); err != nil {
		return report(env, failure.New(failure.Local, failure.ScopeAccount, "write filter notes", err))
	}
	if err := notes.WriteHTML(&html); err != nil {
		return report(env, failure.New(failure.Local, failure.ScopeAccount, "write filter notes", err))
	}
	var written []string
	write := func(name string, data []byte) error {
		p := filepath.Join(out, name)
		if err := atomicfile.WriteFile(p, data, 0o644); err != nil {
			return failure.New(failure.Local, failure.ScopeAccount, "write "+p, err)
		}
		written = append(written, p)
		return nil
	}
	if err := write(notesMarkdown, md.Bytes()); err != nil {
		return report(env, err)
	}
	if err := write(notesHTML, html.Bytes()); err != nil {
		return report(env, err)
	}
	var accts []filtersAccount
	for i, a := range set.Accounts {
		fa := filtersAccount{Name: a.Name, Rules: len(a.Rules)}
		for _, r := range notes.Accounts[i].Rules {
			switch r.Fate {
			case filters.OnServer:
				fa.OnServer++
			case filters.Partly:
				fa.Partly++
			case filters.ByHand:
				fa.ByHand++
			}
		}
		if s := scripts[a.Key]; s != nil {
			fa.Script = s.Name
			if err := write(files[a.Key], []byte(s.Text)); err != nil {
				return report(env, err)
			}
			fa.File = filepath.Join(out, files[a.Key])
		}
		accts = append(accts, fa)
	}

	var problems []string
	problems = append(problems, set.Problems...)
	for _, a := range set.Accounts {
		for _, p := range a.Problems {
			problems = append(problems, a.Name+": "+p)
		}
	}
	problems = append(problems, checkErrs...)
	if inst != nil {
		problems = append(problems, inst.problems...)
	}
	code := ExitOK
	if len(problems) > 0 {
		code = ExitPartial
	}

	if asJSON {
		enc := json.NewEncoder(env.Stdout)
		enc.Encode(map[string]any{
			"type": "summary", "client": set.Client, "source": set.Source, "count": notes.Count,
			"accounts": accts, "files": written, "autoReplies": set.AutoReplies,
			"serverScripts": serverScripts, "installed": installedJSON(inst),
			"problems": problems, "exit": code,
		})
		return code
	}
	w := env.Stdout
	if tb != "" || apple != "" {
		fmt.Fprintf(w, "Read the filters of %s (%s).\n", set.Client, set.Source)
		fmt.Fprintln(w, notes.Count.Summary())
	}
	if sourceLabel != "" {
		fmt.Fprintf(w, "Read %d Sieve script(s) from %s:\n", len(serverScripts), sourceLabel)
		for _, sc := range serverScripts {
			state := ""
			if sc.Active {
				state = " (active)"
			}
			fmt.Fprintf(w, "  %s%s\n", sc.Name, state)
			for _, l := range sc.Summary {
				fmt.Fprintf(w, "    %s\n", l)
			}
		}
	}
	for _, a := range accts {
		fmt.Fprintf(w, "  %s: %d filters", a.Name, a.Rules)
		if a.File != "" {
			fmt.Fprintf(w, "; %d on the server, %d partly, %d by hand; script %s", a.OnServer, a.Partly, a.ByHand, filepath.Base(a.File))
		}
		fmt.Fprintln(w)
	}
	if n := len(set.AutoReplies); n > 0 {
		fmt.Fprintf(w, "%d automatic repl%s to recreate by hand (see the notes).\n", n, map[bool]string{true: "y", false: "ies"}[n == 1])
	}
	fmt.Fprintln(w, "Wrote:")
	for _, p := range written {
		fmt.Fprintf(w, "  %s\n", p)
	}
	fmt.Fprintf(w, "Open %s and print it: it says, filter by filter, what the new server does and what to recreate by hand.\n", filepath.Join(out, notesHTML))
	switch {
	case inst != nil:
		fmt.Fprintf(w, "On %s:\n", targetLabel)
		for _, l := range inst.lines {
			fmt.Fprintf(w, "  %s\n", l)
		}
	case len(scripts) > 0:
		fmt.Fprintln(w, "The scripts are not installed: run again with --to and --install, or upload one on the new server (webmail, or a ManageSieve client) and activate it.")
	}
	for _, p := range problems {
		fmt.Fprintf(env.Stderr, "Note: %s\n", p)
	}
	return code
}

// scriptName turns an account name into a script and file name: letters,
// digits and @._- are kept, other runs become one '-'.
func scriptName(account string) string {
	var b strings.Builder
	dash := false
	for _, r := range account {
		ok := r == '@' || r == '.' || r == '_' || r == '-' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9'
		if !ok {
			if !dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			dash = true
			continue
		}
		b.WriteRune(r)
		dash = false
	}
	s := strings.Trim(b.String(), "-.")
	if s == "" {
		s = "filters"
	}
	if len(s) > 64 {
		s = s[:64]
	}
	return s
}

func uniqueName(name string, used map[string]bool) string {
	n := name
	for i := 2; used[strings.ToLower(n)]; i++ {
		n = fmt.Sprintf("%s-%d", name, i)
	}
	used[strings.ToLower(n)] = true
	return n
}

// defaultSievePort is ManageSieve's port (RFC 5804 section 1.8).
const defaultSievePort = 4190

// includeMark is the comment that marks the generated include script.
const includeMark = "# Runs the filters carried over to this server"

// dialSieve connects and signs in to the ManageSieve server of one side:
// the account's host on port, STARTTLS, trusting the account's extra
// certificates as the IMAP connection does. It returns the client, a label
// naming the account and server, and the user name.
func dialSieve(ctx context.Context, env *Env, side *sideFlags, port int) (*managesieve.Client, string, string, error) {
	cfg, err := side.config(env, false)
	if err != nil {
		return nil, "", "", err
	}
	if cfg.Password == "" {
		return nil, "", "", failure.Newf(failure.Config, failure.ScopeAccount, "--%s: signing in to ManageSieve with OAuth is not supported; give a password (or an app password) with --%s-password-env", side.which, side.which)
	}
	tlsCfg, err := (&imapstore.Config{Host: cfg.Host, CAPEM: cfg.CAPEM}).TLS()
	if err != nil {
		return nil, "", "", err
	}
	addr := net.JoinHostPort(cfg.Host, strconv.Itoa(port))
	c, err := managesieve.Dial(ctx, addr, managesieve.Options{Security: managesieve.StartTLS, TLSConfig: tlsCfg})
	if err != nil {
		return nil, "", "", err
	}
	if err := c.Authenticate(ctx, cfg.Username, cfg.Password); err != nil {
		c.Close()
		return nil, "", "", err
	}
	return c, cfg.Username + " on " + addr, cfg.Username, nil
}

// readServerScripts downloads every Sieve script of the old account
// (RFC 5804 LISTSCRIPTS, GETSCRIPT), sorted with the active one first.
func readServerScripts(ctx context.Context, env *Env, side *sideFlags, port int) ([]filters.ServerScript, string, error) {
	c, label, _, err := dialSieve(ctx, env, side, port)
	if err != nil {
		return nil, "", err
	}
	defer c.Close()
	list, err := c.ListScripts(ctx)
	if err != nil {
		return nil, "", err
	}
	sort.SliceStable(list, func(i, j int) bool {
		if list[i].Active != list[j].Active {
			return list[i].Active
		}
		return list[i].Name < list[j].Name
	})
	var out []filters.ServerScript
	for _, s := range list {
		text, err := c.GetScript(ctx, s.Name)
		if err != nil {
			return nil, "", err
		}
		text = strings.ReplaceAll(text, "\r\n", "\n")
		out = append(out, filters.ServerScript{Name: s.Name, Active: s.Active, Text: text, Summary: sieve.Summarize(text)})
	}
	_ = c.Logout(ctx)
	return out, label, nil
}

// installResult is what installScripts did.
type installResult struct {
	// as maps a generated script's name to its name on the server.
	as        map[string]string
	installed []installedScript
	active    string
	lines     []string
	problems  []string
}

// installedScript is one script put on (or found already on) the new server.
type installedScript struct {
	Name    string `json:"name"`
	From    string `json:"from"`
	Already bool   `json:"already,omitempty"`
	Active  bool   `json:"active,omitempty"`
}

func installedJSON(r *installResult) []installedScript {
	if r == nil {
		return nil
	}
	return r.installed
}

// fatalSieve says whether a ManageSieve error ends the installation (the
// connection or the sign-in is gone) rather than only the one script.
func fatalSieve(err error) bool {
	switch failure.KindOf(err) {
	case failure.Connection, failure.TLS, failure.Auth, failure.Cancelled:
		return true
	}
	return false
}

// installScripts puts the generated scripts and the old server's scripts
// on the new server (RFC 5804): CHECKSCRIPT, HAVESPACE, then PUTSCRIPT. An
// existing script is never replaced: one of the same name and content is
// kept as it is, one of other content makes the new one go under the name
// with a suffix. With activate, the scripts that should run (the generated
// ones, the old server's active one, and the new server's active one) are
// made active: through a small "mailmover" script that includes them
// (RFC 6609) when the server has "include", else the generated one for
// user alone. Script-level refusals become problems; only a lost
// connection is an error.
func installScripts(ctx context.Context, c *managesieve.Client, gen []*sieve.Script, src []filters.ServerScript, activate bool, user string) (*installResult, error) {
	r := &installResult{as: map[string]string{}}
	list, err := c.ListScripts(ctx)
	if err != nil {
		return nil, err
	}
	existing := map[string]bool{}
	var prevActive string
	for _, s := range list {
		existing[s.Name] = true
		if s.Active {
			prevActive = s.Name
		}
	}
	// put installs text under name or a free variant of it; "" when the
	// server refused it.
	put := func(name, from, text string) (string, error) {
		if _, err := c.CheckScript(ctx, text); err != nil {
			if fatalSieve(err) {
				return "", err
			}
			r.problems = append(r.problems, fmt.Sprintf("the new server refuses the script %q (%s): %v", name, from, err))
			return "", nil
		}
		final := name
		for i := 2; existing[final]; i++ {
			cur, err := c.GetScript(ctx, final)
			if err != nil {
				return "", err
			}
			if strings.ReplaceAll(cur, "\r\n", "\n") == strings.ReplaceAll(text, "\r\n", "\n") {
				r.installed = append(r.installed, installedScript{Name: final, From: from, Already: true})
				r.lines = append(r.lines, fmt.Sprintf("%s (%s) was already there, unchanged", final, from))
				return final, nil
			}
			final = fmt.Sprintf("%s-%d", name, i)
		}
		if err := c.HaveSpace(ctx, final, len(text)); err != nil {
			if fatalSieve(err) {
				return "", err
			}
			r.problems = append(r.problems, fmt.Sprintf("no room on the new server for the script %q (%s): %v", final, from, err))
			return "", nil
		}
		warn, err := c.PutScript(ctx, final, text)
		if err != nil {
			if fatalSieve(err) {
				return "", err
			}
			r.problems = append(r.problems, fmt.Sprintf("the new server refuses the script %q (%s): %v", final, from, err))
			return "", nil
		}
		existing[final] = true
		line := fmt.Sprintf("installed %s (%s)", final, from)
		if final != name {
			line += fmt.Sprintf(": a different script named %q was already there and is left as it is", name)
		}
		if warn != "" {
			line += "; the server warns: " + warn
		}
		r.lines = append(r.lines, line)
		r.installed = append(r.installed, installedScript{Name: final, From: from})
		return final, nil
	}

	var run []string // scripts that should run on new mail, in order
	primary := ""
	for _, s := range gen {
		name, err := put(s.Name, "generated from the mail program's filters", s.Text)
		if err != nil {
			return nil, err
		}
		if name == "" {
			continue
		}
		r.as[s.Name] = name
		run = append(run, name)
		if primary == "" || s.Name == "mailmover-"+scriptName(user) {
			primary = name
		}
	}
	for i := range src {
		s := &src[i]
		name, err := put(s.Name, "from the old server", s.Text)
		if err != nil {
			return nil, err
		}
		switch {
		case name == "":
			s.Fate = "Not installed on the new server: it refused the script (see the problems)."
			continue
		case name == s.Name:
			s.Fate = fmt.Sprintf("Installed on the new server as %q.", name)
		default:
			s.Fate = fmt.Sprintf("Installed on the new server as %q: a different script named %q was already there.", name, s.Name)
		}
		if s.Active {
			run = append(run, name)
		}
	}
	if prevActive != "" && !hasName(run, prevActive) {
		// Keep the new account's own active filters running, unless it is
		// the include script of an earlier run.
		text, err := c.GetScript(ctx, prevActive)
		if err != nil {
			return nil, err
		}
		if !strings.Contains(text, includeMark) {
			run = append(run, prevActive)
		} else {
			for _, n := range includedNames(text) {
				if existing[n] && !hasName(run, n) {
					run = append(run, n)
				}
			}
		}
	}
	if !activate {
		if len(r.installed) > 0 {
			r.lines = append(r.lines, "nothing activated: run again with --activate, or activate a script in webmail")
		}
		return r, nil
	}
	if len(run) == 0 {
		r.lines = append(r.lines, "nothing to activate")
		return r, nil
	}
	active := run[0]
	if len(run) > 1 {
		if c.Capabilities().HasExtension("include") {
			var b strings.Builder
			b.WriteString("require [\"include\"];\n" + includeMark + ", in order (RFC 6609).\n")
			for _, n := range run {
				fmt.Fprintf(&b, "include :personal %s;\n", sieve.Quote(n))
			}
			name, err := put("mailmover", "includes the others", b.String())
			if err != nil {
				return nil, err
			}
			if name == "" {
				return r, nil
			}
			active = name
		} else {
			if primary != "" {
				active = primary
			}
			var others []string
			for _, n := range run {
				if n != active {
					others = append(others, n)
				}
			}
			r.problems = append(r.problems, fmt.Sprintf("the new server can run one script only and has no \"include\": %s is active; %s installed but not active (merge them by hand in webmail)", active, strings.Join(others, ", ")))
		}
	}
	if active != prevActive {
		if err := c.SetActive(ctx, active); err != nil {
			if fatalSieve(err) {
				return nil, err
			}
			r.problems = append(r.problems, fmt.Sprintf("could not activate %q: %v", active, err))
			return r, nil
		}
	}
	r.active = active
	for i := range r.installed {
		r.installed[i].Active = r.installed[i].Name == active
	}
	line := fmt.Sprintf("active: %s", active)
	if prevActive != "" && prevActive != active {
		line += fmt.Sprintf(" (instead of %s, which it includes)", prevActive)
		if !hasName(run, prevActive) || !c.Capabilities().HasExtension("include") {
			line = fmt.Sprintf("active: %s (instead of %s, still installed)", active, prevActive)
		}
	}
	r.lines = append(r.lines, line)
	return r, nil
}

func hasName(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// includedNames lists the scripts an include script made by installScripts
// names, in order.
func includedNames(text string) []string {
	var names []string
	for _, line := range strings.Split(text, "\n") {
		rest, ok := strings.CutPrefix(strings.TrimSpace(line), "include :personal \"")
		if !ok {
			continue
		}
		rest, ok = strings.CutSuffix(rest, "\";")
		if !ok {
			continue
		}
		var b strings.Builder
		for i := 0; i < len(rest); i++ {
			if rest[i] == '\\' && i+1 < len(rest) {
				i++
			}
			b.WriteByte(rest[i])
		}
		names = append(names, b.String())
	}
	return names
}
