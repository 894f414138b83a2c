package cli

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"path/filepath"

	"mailmover/core/failure"
	"mailmover/core/filters"
	"mailmover/core/sieve/managesieve"
	"mailmover/core/sievemove"
)

// notesHTML is the notes file the filters command points the user to.
const notesHTML = sievemove.NotesHTML

// defaultSievePort is ManageSieve's port (RFC 5804 section 1.8).
const defaultSievePort = sievemove.DefaultPort

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
	fs.StringVar(&trash, "trash", sievemove.DefaultTrash, "folder that \"Delete\" rules file mail into on the new server; empty to discard it instead")
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
		c, a, err := dialSieve(ctx, env, &to, toSievePort)
		if err != nil {
			return report(env, err)
		}
		defer c.Close()
		target, targetLabel, targetUser = c, a.String(), a.Username
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
	gopts := sievemove.Options{Trash: trash, Extensions: exts}
	if install {
		gopts.Prefix = sievemove.InstallPrefix
	}
	carry := sievemove.Generate(set, gopts)

	var inst *sievemove.InstallResult
	if install {
		inst, err = sievemove.Install(ctx, target, carry.Sieve(), serverScripts, sievemove.InstallOptions{Activate: activate, User: targetUser})
		if err != nil {
			return report(env, err)
		}
	}
	if target != nil {
		_ = target.Logout(ctx)
	}

	notes := carry.Notes(filters.NotesOptions{
		Target:        targetLabel,
		ServerScripts: serverScripts,
		ServerSource:  sourceLabel,
	}, inst)
	written, err := carry.WriteFiles(ctx, out, notes)
	if err != nil {
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
		if s := carry.Script(a.Key); s != nil {
			fa.Script = s.Sieve.Name
			fa.File = filepath.Join(out, s.File)
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
	problems = append(problems, carry.Problems...)
	if inst != nil {
		problems = append(problems, inst.Problems...)
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
		for _, l := range installLines(inst) {
			fmt.Fprintf(w, "  %s\n", l)
		}
	case len(carry.Scripts) > 0:
		fmt.Fprintln(w, "The scripts are not installed: run again with --to and --install, or upload one on the new server (webmail, or a ManageSieve client) and activate it.")
	}
	for _, p := range problems {
		fmt.Fprintf(env.Stderr, "Note: %s\n", p)
	}
	return code
}

// dialSieve connects and signs in to the ManageSieve server of one side:
// the account's host on port, STARTTLS, trusting the account's extra
// certificates as the IMAP connection does. It returns the client and the
// account (whose String names it and the server).
func dialSieve(ctx context.Context, env *Env, side *sideFlags, port int) (*managesieve.Client, *sievemove.Account, error) {
	cfg, err := side.config(env, false)
	if err != nil {
		return nil, nil, err
	}
	if cfg.Password == "" {
		return nil, nil, failure.Newf(failure.Config, failure.ScopeAccount, "--%s: signing in to ManageSieve with OAuth is not supported; give a password (or an app password) with --%s-password-env", side.which, side.which)
	}
	a := &sievemove.Account{Host: cfg.Host, Port: port, Username: cfg.Username, Password: cfg.Password, CAPEM: cfg.CAPEM}
	c, err := sievemove.Dial(ctx, a)
	if err != nil {
		return nil, nil, err
	}
	return c, a, nil
}

// readServerScripts downloads every Sieve script of the old account,
// sorted with the active one first, and names the account and server.
func readServerScripts(ctx context.Context, env *Env, side *sideFlags, port int) ([]filters.ServerScript, string, error) {
	c, a, err := dialSieve(ctx, env, side, port)
	if err != nil {
		return nil, "", err
	}
	defer c.Close()
	out, err := sievemove.ReadScripts(ctx, c)
	if err != nil {
		return nil, "", err
	}
	_ = c.Logout(ctx)
	return out, a.String(), nil
}

// installLines says, a line per script, what the installation did.
func installLines(r *sievemove.InstallResult) []string {
	var lines []string
	for _, s := range r.Installed {
		if s.Already {
			lines = append(lines, fmt.Sprintf("%s (%s) was already there, unchanged", s.Name, s.From))
			continue
		}
		line := fmt.Sprintf("installed %s (%s)", s.Name, s.From)
		if s.Name != s.Wanted {
			line += fmt.Sprintf(": a different script named %q was already there and is left as it is", s.Wanted)
		}
		if s.Warnings != "" {
			line += "; the server warns: " + s.Warnings
		}
		lines = append(lines, line)
	}
	switch r.Activation {
	case sievemove.NotAsked:
		if len(r.Installed) > 0 {
			lines = append(lines, "nothing activated: run again with --activate, or activate a script in webmail")
		}
	case sievemove.NothingToActivate:
		lines = append(lines, "nothing to activate")
	case sievemove.Activated:
		line := fmt.Sprintf("active: %s", r.Active)
		if r.Previous != "" && r.Previous != r.Active {
			if r.PreviousIncluded {
				line += fmt.Sprintf(" (instead of %s, which it includes)", r.Previous)
			} else {
				line += fmt.Sprintf(" (instead of %s, still installed)", r.Previous)
			}
		}
		lines = append(lines, line)
	}
	return lines
}

// installedJSON is the installed scripts for the JSON summary.
func installedJSON(r *sievemove.InstallResult) []sievemove.Installed {
	if r == nil {
		return nil
	}
	return r.Installed
}
