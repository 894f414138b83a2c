package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"mailmover/core/account"
	"mailmover/core/dav"
	"mailmover/core/failure"
	"mailmover/core/imapstore"
	"mailmover/core/secret"
)

// runContacts runs "mailmover contacts backup|copy|verify|import".
func runContacts(ctx context.Context, env *Env, args []string) int {
	return runDAV(ctx, env, dav.Contacts, args)
}

// runCalendars runs "mailmover calendars backup|copy|verify|import".
func runCalendars(ctx context.Context, env *Env, args []string) int {
	return runDAV(ctx, env, dav.Calendars, args)
}

// davWords are the words a DAV command uses for its kind of data.
type davWords struct {
	objects    string // "contacts"
	collection string // "address book"
}

func wordsFor(kind dav.Kind) davWords {
	if kind == dav.Calendars {
		return davWords{objects: "events and tasks", collection: "calendar"}
	}
	return davWords{objects: "contacts", collection: "address book"}
}

// plural returns the collection word for n.
func (w davWords) plural(n int) string {
	if n == 1 {
		return w.collection
	}
	return w.collection + "s"
}

func davUsage(env *Env, kind dav.Kind) {
	k := kind.String()
	proto := "CardDAV"
	if kind == dav.Calendars {
		proto = "CalDAV"
	}
	fmt.Fprintf(env.Stderr, `Usage:
  mailmover %[1]s backup --from URL --out DIR [flags]      save every %[2]s to a %[3]s file
  mailmover %[1]s copy --from URL --to URL [flags]         copy every %[2]s to another account, then verify
  mailmover %[1]s verify --from URL --to URL [flags]       check that every item of the old account is on the new one
  mailmover %[1]s import --file FILE --to URL [flags]      upload a %[3]s file into a %[2]s

URL is https://HOST/PATH of the %[4]s service (or just https://HOST to discover it),
an email address (discovered from its domain), or a saved account's name.
Give the user with --from-user/--to-user or as https://USER@HOST/PATH.
Run 'mailmover %[1]s ACTION -h' for an action's flags.
`, k, wordsFor(kind).collection, kind.Ext(), proto)
}

// runDAV dispatches a contacts or calendars action.
func runDAV(ctx context.Context, env *Env, kind dav.Kind, args []string) int {
	if len(args) == 0 {
		davUsage(env, kind)
		return ExitUsage
	}
	switch args[0] {
	case "-h", "--help", "help":
		davUsage(env, kind)
		return ExitOK
	case "backup":
		return davBackup(ctx, env, kind, args[1:])
	case "copy":
		return davCopy(ctx, env, kind, args[1:], false)
	case "verify":
		return davCopy(ctx, env, kind, args[1:], true)
	case "import":
		return davImport(ctx, env, kind, args[1:])
	}
	fmt.Fprintf(env.Stderr, "mailmover %s: unknown action %q: use backup, copy, verify or import\n", kind, args[0])
	return ExitUsage
}

// davSide are the flags naming one DAV account.
type davSide struct {
	which       string // "from" or "to"
	ref         string
	user        string
	passwordEnv string
	ca          string
}

func (s *davSide) register(fs *flag.FlagSet, which, help string) {
	s.which = which
	fs.StringVar(&s.ref, which, "", help+": https://[USER@]HOST[/PATH], an email address, or a saved account's name")
	fs.StringVar(&s.user, which+"-user", "", "user name for the "+which+" server (default: from the URL, the email address or the saved account)")
	fs.StringVar(&s.passwordEnv, which+"-password-env", "", "name of the environment variable holding the "+which+" password")
	fs.StringVar(&s.ca, which+"-ca", "", "PEM file of extra certificates to trust for the "+which+" server")
}

// config resolves the side into a connection configuration, password
// included.
func (s *davSide) config(env *Env) (dav.Config, error) {
	var cfg dav.Config
	if s.ref == "" {
		return cfg, failure.Newf(failure.Config, failure.ScopeAccount, "--%s is missing: give https://HOST/PATH, an email address or a saved account's name", s.which)
	}
	user := s.user
	host := ""
	var keys []string
	caFile := s.ca
	switch {
	case strings.Contains(s.ref, "://"):
		u, err := dav.ParseURL(s.ref)
		if err != nil {
			return cfg, failure.New(failure.Config, failure.ScopeAccount, "--"+s.which, err)
		}
		if user == "" {
			if raw, err := url.Parse(s.ref); err == nil && raw.User != nil {
				user = raw.User.Username()
			}
		}
		cfg.URL, host = u.String(), u.Hostname()
	case strings.Contains(s.ref, "@"):
		cfg.Email = s.ref
		host = s.ref[strings.LastIndex(s.ref, "@")+1:]
		if user == "" {
			user = s.ref
		}
	default:
		a, ok := account.Account{}, false
		if env.Accounts != nil {
			a, ok = env.Accounts.Get(s.ref)
		}
		if !ok {
			return cfg, failure.Newf(failure.Config, failure.ScopeAccount, "no saved account named %q: give https://HOST/PATH or an email address", s.ref)
		}
		cfg.Email = a.Email
		if cfg.Email == "" && strings.Contains(a.Username, "@") {
			cfg.Email = a.Username
		}
		if cfg.Email == "" {
			return cfg, failure.Newf(failure.Config, failure.ScopeAccount, "the saved account %q has no email address to find its %s service from: give https://HOST/PATH", s.ref, "DAV")
		}
		if user == "" {
			user = a.Username
		}
		keys = append(keys, a.SecretKey())
		host = a.Host
		if caFile == "" {
			caFile = a.CAFile
		}
	}
	if user == "" {
		return cfg, failure.Newf(failure.Config, failure.ScopeAccount, "no user name for --%s: give --%s-user or write https://USER@HOST/PATH", s.which, s.which)
	}
	cfg.Username = user
	pem, err := imapstore.LoadCAFile(caFile)
	if err != nil {
		return cfg, err
	}
	cfg.CAPEM = pem
	keys = append(keys, secret.AccountKey(user, host))
	if env.Accounts != nil {
		// The mail account of the same user often has the same password.
		for _, a := range env.Accounts.List() {
			if a.Username == user || (a.Email != "" && a.Email == cfg.Email) {
				keys = append(keys, a.SecretKey())
			}
		}
	}
	pw, err := s.password(env, user, host, keys)
	if err != nil {
		return cfg, err
	}
	cfg.Password = pw
	return cfg, nil
}

// password finds the password: the named environment variable, else the
// keychain, else a prompt on a terminal.
func (s *davSide) password(env *Env, user, host string, keys []string) (string, error) {
	if s.passwordEnv != "" {
		pw := env.Getenv(s.passwordEnv)
		if pw == "" {
			return "", failure.Newf(failure.Config, failure.ScopeAccount, "the environment variable %s named by --%s-password-env is empty or unset", s.passwordEnv, s.which)
		}
		return pw, nil
	}
	if env.Keychain != nil {
		for _, k := range keys {
			if pw, err := env.Keychain.Get(k); err == nil && pw != "" {
				return pw, nil
			}
		}
	}
	if env.Terminal && env.ReadPassword != nil {
		fmt.Fprintf(env.Stderr, "Password for %s at %s: ", user, host)
		return env.ReadPassword()
	}
	return "", failure.Newf(failure.Config, failure.ScopeAccount, "no password for %s at %s: set --%s-password-env VAR, or save it in the keychain with the app", user, host, s.which)
}

// connect resolves the side and connects.
func (s *davSide) connect(ctx context.Context, env *Env, kind dav.Kind) (*dav.Account, error) {
	cfg, err := s.config(env)
	if err != nil {
		return nil, err
	}
	return dav.Connect(ctx, cfg, kind)
}

// davFilters are the collection filters shared by the actions.
type davFilters struct {
	include, exclude multiFlag
	json             bool
}

func (f *davFilters) register(fs *flag.FlagSet, kind dav.Kind) {
	w := wordsFor(kind)
	fs.Var(&f.include, "include", "work only on "+w.collection+"s whose name matches this pattern (repeatable)")
	fs.Var(&f.exclude, "exclude", "leave out "+w.collection+"s whose name matches this pattern (repeatable)")
	fs.BoolVar(&f.json, "json", false, "print one JSON object per line: plan, problems, then a summary")
}

// parseFlags parses args, returning an exit status if the command must stop.
func parseFlags(fs *flag.FlagSet, args []string) (int, bool) {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return ExitOK, false
		}
		return ExitUsage, false
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(fs.Output(), "unexpected argument %q\n", fs.Arg(0))
		return ExitUsage, false
	}
	return 0, true
}

// davEvents returns a progress callback that prints problems and finished
// collections: JSON lines, or text on standard error. backup words the
// text for saving to files.
func davEvents(out *printer, words davWords, backup bool) func(dav.Event) {
	return func(e dav.Event) {
		switch e.Kind {
		case dav.EventProblem:
			if out.json {
				out.emit(map[string]any{"type": "problem", "problem": e.Problem})
				return
			}
			p := e.Problem
			fmt.Fprintf(out.env.Stderr, "Problem in %s: %s: %s\n", p.Collection, displayName(p.Summary, p.UID, p.URL), p.Err)
		case dav.EventCollectionDone:
			if out.json {
				out.emit(map[string]any{"type": "collection-done", "result": e.Result, "done": e.Done, "total": e.Total})
				return
			}
			r := e.Result
			if backup {
				fmt.Fprintf(out.env.Stderr, "%s: %d %s saved to %s, %d failed (%d of %d)\n", r.Source, r.Copied, words.objects, r.Target, r.Failed, e.Done, e.Total)
				return
			}
			fmt.Fprintf(out.env.Stderr, "%s -> %s: %d done, %d already there, %d failed (%d of %d %s)\n", r.Source, r.Target, r.Copied, r.Existing, r.Failed, e.Done, e.Total, words.objects)
		}
	}
}

// displayName returns the first non-empty string.
func displayName(s ...string) string {
	for _, x := range s {
		if x != "" {
			return x
		}
	}
	return "(unnamed)"
}

func davBackup(ctx context.Context, env *Env, kind dav.Kind, args []string) int {
	var from davSide
	var f davFilters
	var out string
	w := wordsFor(kind)
	fs := newFlagSet(env, kind.String()+" backup", "--from URL --out DIR [flags]")
	from.register(fs, "from", "the account to back up")
	f.register(fs, kind)
	fs.StringVar(&out, "out", "", "folder to write the "+kind.Ext()+" files to (one per "+w.collection+")")
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	if out == "" {
		return report(env, failure.Newf(failure.Config, failure.ScopeAccount, "--out is missing: give the folder to write the backup to"))
	}
	src, err := from.connect(ctx, env, kind)
	if err != nil {
		return report(env, err)
	}
	p := newPrinter(env, f.json)
	res, err := dav.Backup(ctx, src, out, dav.Options{Include: f.include, Exclude: f.exclude, Progress: davEvents(p, w, true)})
	if err != nil && (res == nil || len(res.Files) == 0) {
		return report(env, err)
	}
	code := exitCode(err)
	if err == nil && !res.Complete() {
		code = ExitPartial
	}
	if f.json {
		p.summary(map[string]any{"type": "summary", "account": src, "backup": res, "exit": code, "error": errString(err)})
	} else {
		tw := tabwriter.NewWriter(env.Stdout, 2, 4, 2, ' ', 0)
		fmt.Fprintf(tw, "%s\t%s\tFILE\t\n", strings.ToUpper(w.collection), strings.ToUpper(w.objects))
		for _, bf := range res.Files {
			fmt.Fprintf(tw, "%s\t%d\t%s\t\n", bf.Collection, bf.Objects, bf.Path)
		}
		tw.Flush()
		fmt.Fprintf(env.Stdout, "\nSaved %d %s from %d %s of %s to %s.\n", res.Objects, w.objects, len(res.Files), w.plural(len(res.Files)), src.Name, res.Dir)
		printProblems(env, res.Problems)
	}
	if err != nil {
		return report(env, err)
	}
	return code
}

// printProblems lists objects not copied or saved.
func printProblems(env *Env, problems []dav.Problem) {
	if len(problems) == 0 {
		return
	}
	fmt.Fprintln(env.Stdout, "Not done:")
	for _, p := range problems {
		fmt.Fprintf(env.Stdout, "  %s\t%s\t%s\n", p.Collection, displayName(p.Summary, p.UID, p.URL), p.Err)
	}
}

func davCopy(ctx context.Context, env *Env, kind dav.Kind, args []string, verifyOnly bool) int {
	var from, to davSide
	var f davFilters
	var dryRun bool
	w := wordsFor(kind)
	name := kind.String() + " copy"
	if verifyOnly {
		name = kind.String() + " verify"
	}
	fs := newFlagSet(env, name, "--from URL --to URL [flags]")
	from.register(fs, "from", "the old account")
	to.register(fs, "to", "the new account")
	f.register(fs, kind)
	if !verifyOnly {
		fs.BoolVar(&dryRun, "dry-run", false, "show the plan and stop: nothing is written")
	}
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	if to.ref == "" {
		return report(env, failure.Newf(failure.Config, failure.ScopeAccount, "--to is missing: give the new account's address"))
	}
	src, err := from.connect(ctx, env, kind)
	if err != nil {
		return report(env, err)
	}
	dst, err := to.connect(ctx, env, kind)
	if err != nil {
		return report(env, err)
	}
	p := newPrinter(env, f.json)
	opts := dav.Options{Include: f.include, Exclude: f.exclude, Progress: davEvents(p, w, false)}
	plan, err := dav.MakePlan(ctx, src, dst, opts)
	if err != nil {
		return report(env, err)
	}
	if !verifyOnly {
		printDAVPlan(p, plan, w)
	}
	if dryRun {
		p.summary(map[string]any{"type": "summary", "dryRun": true, "plan": plan, "exit": ExitOK})
		return ExitOK
	}
	var res *dav.Result
	code := ExitOK
	if !verifyOnly {
		var runErr error
		res, runErr = dav.Copy(ctx, src, dst, plan, opts)
		if runErr != nil {
			if f.json {
				p.summary(map[string]any{"type": "summary", "result": res, "exit": exitCode(runErr), "error": runErr.Error()})
			} else if res != nil {
				printDAVResult(env, res, w)
			}
			return report(env, runErr)
		}
		if !f.json {
			printDAVResult(env, res, w)
		}
		if !res.Complete() {
			code = ExitPartial
		}
	}
	ver, err := dav.Verify(ctx, src, dst, plan)
	if err != nil {
		return report(env, err)
	}
	if !ver.OK() {
		code = ExitPartial
	}
	if f.json {
		p.summary(map[string]any{"type": "summary", "result": res, "verification": ver, "exit": code})
	} else {
		printDAVVerification(env, ver, w)
	}
	return code
}

func printDAVPlan(p *printer, plan *dav.Plan, w davWords) {
	if p.json {
		p.emit(map[string]any{"type": "plan", "plan": plan})
		return
	}
	env := p.env
	tw := tabwriter.NewWriter(env.Stdout, 2, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "From %s to %s\n\n", plan.Source, plan.Target)
	fmt.Fprintf(tw, "%s\t%s\tTARGET\t\n", strings.ToUpper(w.collection), strings.ToUpper(w.objects))
	for _, c := range plan.Collections {
		what := fmt.Sprintf("merge into %q (%d there)", c.Target.Title(), c.TargetCount)
		if !c.Exists {
			what = fmt.Sprintf("create %q", c.Target.Title())
		}
		count := fmt.Sprint(c.SourceCount)
		if !c.Include {
			what, count = "skip", "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t\n", c.Source.Title(), count, what)
	}
	tw.Flush()
	n := len(plan.Included())
	fmt.Fprintf(env.Stdout, "\n%d %s in %d %s (%d to create). The old account is only read; nothing is deleted anywhere.\n",
		plan.Objects, w.objects, n, w.plural(n), plan.Creates())
}

func printDAVResult(env *Env, res *dav.Result, w davWords) {
	fmt.Fprintf(env.Stdout, "\nCopied %d %s; %d were already there; %d not copied.\n", res.Copied, w.objects, res.Existing, res.Failed)
	for _, c := range res.Collections {
		if c.Err != "" {
			fmt.Fprintf(env.Stdout, "  %s: stopped: %s\n", c.Source, c.Err)
		}
	}
	printProblems(env, res.Problems)
}

func printDAVVerification(env *Env, v *dav.Verification, w davWords) {
	if v.OK() {
		fmt.Fprintf(env.Stdout, "Verified: every one of the old account's %s is on the new one.\n", w.objects)
		return
	}
	fmt.Fprintf(env.Stdout, "Verification: %d missing, %d %s not checked.\n", v.Missing, v.Errors, w.plural(v.Errors))
	for _, c := range v.Collections {
		if c.Err != "" {
			fmt.Fprintf(env.Stdout, "  %s: not checked: %s\n", c.Source, c.Err)
		}
		for _, m := range c.Missing {
			fmt.Fprintf(env.Stdout, "  missing in %s: %s\n", c.Target, displayName(m.Summary, m.UID))
		}
	}
}

func davImport(ctx context.Context, env *Env, kind dav.Kind, args []string) int {
	var to davSide
	var f davFilters
	var file, into string
	w := wordsFor(kind)
	fs := newFlagSet(env, kind.String()+" import", "--file FILE --to URL [--into NAME] [flags]")
	to.register(fs, "to", "the account to import into")
	fs.StringVar(&file, "file", "", "the "+kind.Ext()+" file to import")
	fs.StringVar(&into, "into", "", "the "+w.collection+" to import into, created if missing (default: the name in the file, or the file's name)")
	fs.BoolVar(&f.json, "json", false, "print one JSON object per line: problems, then a summary")
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	if file == "" {
		return report(env, failure.Newf(failure.Config, failure.ScopeAccount, "--file is missing: give the %s file to import", kind.Ext()))
	}
	data, err := os.ReadFile(file)
	if err != nil {
		return report(env, failure.New(failure.Config, failure.ScopeAccount, "read "+file, err))
	}
	meta := dav.DescribeFile(kind, data)
	if into == "" {
		into = meta.Name
	}
	if into == "" {
		into = strings.TrimSuffix(filepath.Base(file), filepath.Ext(file))
	}
	if _, err := dav.SplitFile(kind, data); err != nil {
		return report(env, failure.New(failure.Config, failure.ScopeAccount, file, err))
	}
	dst, err := to.connect(ctx, env, kind)
	if err != nil {
		return report(env, err)
	}
	col, created, err := dst.FindOrCreate(ctx, into, meta)
	if err != nil {
		return report(env, err)
	}
	p := newPrinter(env, f.json)
	res, err := dav.Import(ctx, dst, col, data, dav.Options{Progress: davEvents(p, w, false)})
	if err != nil && res == nil {
		return report(env, err)
	}
	code := exitCode(err)
	if err == nil && !res.Complete() {
		code = ExitPartial
	}
	if f.json {
		p.summary(map[string]any{"type": "summary", "collection": col, "created": created, "result": res, "exit": code, "error": errString(err)})
	} else {
		verb := "into"
		if created {
			verb = "into the new " + w.collection
		}
		fmt.Fprintf(env.Stdout, "Imported %d %s %s %q; %d were already there; %d not imported.\n", res.Copied, w.objects, verb, col.Title(), res.Existing, res.Failed)
		printProblems(env, res.Problems)
	}
	if err != nil {
		return report(env, err)
	}
	return code
}
