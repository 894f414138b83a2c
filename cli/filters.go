package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"path/filepath"
	"strings"

	"mailmover/core/atomicfile"
	"mailmover/core/failure"
	"mailmover/core/filters"
	"mailmover/core/sieve"
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
	const usageArgs = "--thunderbird PROFILE_DIR | --apple-mail SyncedRules.plist [--out DIR] [--json]"
	var tb, apple, out, trash string
	var asJSON bool
	fs := newFlagSet(env, "filters", usageArgs)
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
	if (tb == "") == (apple == "") {
		return report(env, failure.Newf(failure.Config, failure.ScopeAccount, "give either --thunderbird PROFILE_DIR or --apple-mail SyncedRules.plist"))
	}

	var set *filters.Set
	var err error
	if tb != "" {
		set, err = filters.ReadThunderbird(ctx, tb)
	} else {
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
		s := sieve.Generate(a.Rules, sieve.Options{Name: name, Account: a.Name, Trash: trash, Words: filters.Words{Tags: set.Tags}})
		if err := sieve.Check(s.Text); err != nil {
			checkErrs = append(checkErrs, fmt.Sprintf("the script for %s does not pass the syntax check: %v", a.Name, err))
		}
		scripts[a.Key] = s
		files[a.Key] = name + ".sieve"
	}
	notes := filters.BuildNotes(set, filters.NotesOptions{
		Plan: func(a *filters.Account) *filters.Plan { return scripts[a.Key].Plan() },
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
	code := ExitOK
	if len(problems) > 0 {
		code = ExitPartial
	}

	if asJSON {
		enc := json.NewEncoder(env.Stdout)
		enc.Encode(map[string]any{
			"type": "summary", "client": set.Client, "source": set.Source, "count": notes.Count,
			"accounts": accts, "files": written, "autoReplies": set.AutoReplies,
			"problems": problems, "exit": code,
		})
		return code
	}
	w := env.Stdout
	fmt.Fprintf(w, "Read the filters of %s (%s).\n", set.Client, set.Source)
	fmt.Fprintln(w, notes.Count.Summary())
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
	fmt.Fprintln(w, "The scripts are not installed: upload one on the new server (webmail, or a ManageSieve client) and activate it.")
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
