package cli

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"mailmover/core/account"
	"mailmover/core/copier"
	"mailmover/core/failure"
	"mailmover/core/gmail"
	"mailmover/core/imapstore"
	"mailmover/core/secret"
	"mailmover/core/store"
)

// sideFlags are the flags naming one side of a migration.
type sideFlags struct {
	which       string // "from" or "to"
	ref         string
	passwordEnv string
	ca          string
}

func (s *sideFlags) register(fs *flag.FlagSet, which, help string) {
	s.which = which
	fs.StringVar(&s.ref, which, "", help+": imaps://USER@HOST[:PORT], imap://USER@HOST[:PORT] (STARTTLS), or a saved account's name")
	fs.StringVar(&s.passwordEnv, which+"-password-env", "", "name of the environment variable holding the "+which+" password")
	fs.StringVar(&s.ca, which+"-ca", "", "PEM file of extra certificates to trust for the "+which+" server")
}

// pairFlags are the flags shared by migrate and verify.
type pairFlags struct {
	from, to    sideFlags
	stateDir    string
	exclude     multiFlag
	include     multiFlag
	json        bool
	allowPlain  bool
	gmailPolicy string
}

func (p *pairFlags) register(fs *flag.FlagSet, env *Env) {
	p.from.register(fs, "from", "the old account")
	p.to.register(fs, "to", "the new account")
	fs.StringVar(&p.stateDir, "state", env.StateDir(), "folder holding the migration state and journal")
	fs.Var(&p.exclude, "exclude", "leave out folders matching this pattern (repeatable), e.g. 'Trash' or 'Archive/*'")
	fs.Var(&p.include, "include", "copy only folders matching this pattern (repeatable)")
	fs.BoolVar(&p.json, "json", false, "print one JSON object per line: progress, then a summary")
	fs.BoolVar(&p.allowPlain, "allow-plain", false, "allow imap://...?security=none without TLS, to a loopback address only")
	fs.StringVar(&p.gmailPolicy, "gmail-policy", "labels", "for a Gmail source: labels (one folder per label, unlabelled mail to Archive), every-folder (duplicates), or all-mail")
}

// config resolves one side into a connection config, with its password.
func (s *sideFlags) config(env *Env, allowPlain bool) (*imapstore.Config, error) {
	cfg, acct, err := s.configNoSecret(env, allowPlain)
	if err != nil {
		return nil, err
	}
	if acct.Auth == account.AuthOAuth2 {
		ts, err := oauthTokens(env, acct)
		if err != nil {
			return nil, err
		}
		cfg.Tokens = ts
		return cfg, nil
	}
	pw, err := s.password(env, cfg)
	if err != nil {
		return nil, err
	}
	cfg.Password = pw
	return cfg, nil
}

// configNoSecret resolves one side without looking for its secret.
func (s *sideFlags) configNoSecret(env *Env, allowPlain bool) (*imapstore.Config, account.Account, error) {
	if s.ref == "" {
		return nil, account.Account{}, failure.Newf(failure.Config, failure.ScopeAccount, "--%s is missing: give imaps://USER@HOST or a saved account's name", s.which)
	}
	var acct account.Account
	if strings.Contains(s.ref, "://") {
		a, err := account.ParseURL(s.ref)
		if err != nil {
			return nil, acct, failure.New(failure.Config, failure.ScopeAccount, "--"+s.which, err)
		}
		acct = a
	} else {
		a, ok := account.Account{}, false
		if env.Accounts != nil {
			a, ok = env.Accounts.Get(s.ref)
		}
		if !ok {
			return nil, acct, failure.Newf(failure.Config, failure.ScopeAccount, "no saved account named %q: add it with the app, or give a URL such as imaps://alice%%40example.com@imap.example.com", s.ref)
		}
		acct = a
	}
	cfg := &imapstore.Config{Host: acct.Host, Port: acct.Port, Security: imapstore.Security(acct.Security), Username: acct.Username, AllowPlain: allowPlain}
	caFile := s.ca
	if caFile == "" {
		caFile = acct.CAFile
	}
	pem, err := imapstore.LoadCAFile(caFile)
	if err != nil {
		return nil, acct, err
	}
	cfg.CAPEM = pem
	return cfg, acct, nil
}

// password finds the password: the named environment variable, else the
// keychain, else a prompt on a terminal.
func (s *sideFlags) password(env *Env, cfg *imapstore.Config) (string, error) {
	if s.passwordEnv != "" {
		pw := env.Getenv(s.passwordEnv)
		if pw == "" {
			return "", failure.Newf(failure.Config, failure.ScopeAccount, "the environment variable %s named by --%s-password-env is empty or unset", s.passwordEnv, s.which)
		}
		return pw, nil
	}
	if env.Keychain != nil {
		if pw, err := env.Keychain.Get(secret.AccountKey(cfg.Username, cfg.Host)); err == nil && pw != "" {
			return pw, nil
		}
	}
	if env.Terminal && env.ReadPassword != nil {
		fmt.Fprintf(env.Stderr, "Password for %s: ", cfg.String())
		return env.ReadPassword()
	}
	return "", failure.Newf(failure.Config, failure.ScopeAccount, "no password for %s: set --%s-password-env VAR, or save it in the keychain with the app", cfg.String(), s.which)
}

func (p *pairFlags) endpoints(env *Env) (src, dst copier.Endpoint, err error) {
	sc, err := p.from.config(env, p.allowPlain)
	if err != nil {
		return src, dst, err
	}
	dc, err := p.to.config(env, p.allowPlain)
	if err != nil {
		return src, dst, err
	}
	src = copier.IMAP(sc)
	if strings.HasSuffix(strings.ToLower(sc.Host), "gmail.com") || strings.HasSuffix(strings.ToLower(sc.Host), "googlemail.com") || p.gmailPolicy != "labels" {
		policy, err := gmail.ParsePolicy(p.gmailPolicy)
		if err != nil {
			return src, dst, failure.New(failure.Config, failure.ScopeAccount, "--gmail-policy", err)
		}
		// Accounts without [Gmail] folders pass through unchanged.
		src = gmail.Source(src, policy)
	}
	return src, copier.IMAP(dc), nil
}

func newFlagSet(env *Env, name, args string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	fs.Usage = func() {
		fmt.Fprintf(env.Stderr, "Usage: mailmover %s %s\n\nFlags:\n", name, args)
		fs.PrintDefaults()
	}
	return fs
}

func runMigrate(ctx context.Context, env *Env, args []string) int {
	var p pairFlags
	var dryRun bool
	var conns int
	fs := newFlagSet(env, "migrate", "--from URL|ACCOUNT --to URL|ACCOUNT [flags]")
	p.register(fs, env)
	fs.BoolVar(&dryRun, "dry-run", false, "show the plan and stop: nothing is written")
	fs.IntVar(&conns, "connections", 2, "how many folders to copy at once")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return ExitOK
		}
		return ExitUsage
	}
	src, dst, err := p.endpoints(env)
	if err != nil {
		return report(env, err)
	}
	opts := copier.Options{Exclude: p.exclude, Include: p.include, StateDir: p.stateDir, Connections: conns}
	out := newPrinter(env, p.json)
	out.notes = p.providerNotes(conns)
	return transfer(ctx, env, out, src, dst, opts, dryRun)
}

// providerNotes returns what the plan should say of the providers' quirks:
// Gmail's label policy on the source, upload limits of Gmail and Microsoft
// 365 on the target.
func (p *pairFlags) providerNotes(conns int) func(*copier.Plan) []string {
	return func(plan *copier.Plan) []string {
		policy, _ := gmail.ParsePolicy(p.gmailPolicy)
		notes := gmail.PlanNotes(policy, plan)
		host := strings.ToLower(plan.Target.Name)
		switch {
		case strings.Contains(host, "gmail.com"):
			notes = append(notes, gmail.TargetNotes("gmail", plan, conns)...)
		case strings.Contains(host, "outlook.com") || strings.Contains(host, "office365.com"):
			notes = append(notes, gmail.TargetNotes("microsoft", plan, conns)...)
		}
		return notes
	}
}

// transfer plans, copies and verifies: the common path of migrate, backup,
// restore and import.
func transfer(ctx context.Context, env *Env, out *printer, src, dst copier.Endpoint, opts copier.Options, dryRun bool) int {
	plan, err := copier.MakePlan(ctx, src, dst, opts)
	if err != nil {
		return report(env, err)
	}
	if out.notes != nil {
		plan.Warnings = append(plan.Warnings, out.notes(plan)...)
	}
	out.plan(plan)
	if dryRun {
		out.summary(map[string]any{"type": "summary", "dryRun": true, "plan": plan, "exit": ExitOK})
		return ExitOK
	}
	res, runErr := copier.Run(ctx, src, dst, plan, opts, copier.Throttle(time.Second/10, out.event))
	if runErr != nil && res == nil {
		return report(env, runErr)
	}
	out.result(res)
	code := exitCode(runErr)
	var ver *copier.Verification
	if runErr == nil {
		ver, err = copier.Verify(ctx, src, dst, plan)
		if err != nil {
			return report(env, err)
		}
		ver.Record(opts.StateDir, src, dst)
		out.verification(ver)
		if !res.Complete() || !ver.OK() {
			code = ExitPartial
		}
	}
	out.summary(map[string]any{"type": "summary", "result": res, "verification": ver, "exit": code, "error": errString(runErr)})
	if runErr != nil {
		return report(env, runErr)
	}
	return code
}

func runVerify(ctx context.Context, env *Env, args []string) int {
	var p pairFlags
	fs := newFlagSet(env, "verify", "--from URL|ACCOUNT --to URL|ACCOUNT [flags]")
	p.register(fs, env)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return ExitOK
		}
		return ExitUsage
	}
	src, dst, err := p.endpoints(env)
	if err != nil {
		return report(env, err)
	}
	out := newPrinter(env, p.json)
	plan, err := copier.MakePlan(ctx, src, dst, copier.Options{Exclude: p.exclude, Include: p.include})
	if err != nil {
		return report(env, err)
	}
	ver, err := copier.Verify(ctx, src, dst, plan)
	if err != nil {
		return report(env, err)
	}
	out.verification(ver)
	code := ExitOK
	if !ver.OK() {
		code = ExitPartial
	}
	out.summary(map[string]any{"type": "summary", "verification": ver, "exit": code})
	return code
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// printer writes either readable text or JSON lines.
type printer struct {
	env  *Env
	json bool
	// notes, if set, adds provider notes to a plan before it is shown.
	notes func(*copier.Plan) []string
	mu    sync.Mutex
	enc   *json.Encoder
	last  time.Time
}

func newPrinter(env *Env, asJSON bool) *printer {
	return &printer{env: env, json: asJSON, enc: json.NewEncoder(env.Stdout)}
}

func (p *printer) emit(v any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.enc.Encode(v)
}

func (p *printer) plan(plan *copier.Plan) {
	if p.json {
		p.emit(map[string]any{"type": "plan", "plan": plan})
		return
	}
	w := tabwriter.NewWriter(p.env.Stdout, 2, 4, 2, ' ', 0)
	fmt.Fprintf(w, "From %s to %s\n\n", plan.Source.Name, plan.Target.Name)
	fmt.Fprintln(w, "FOLDER\tMESSAGES\tSIZE\tTARGET\t")
	for _, f := range plan.Folders {
		what := "merge into"
		if !f.Exists {
			what = "create"
		}
		if !f.Include {
			what = "skip"
		}
		fmt.Fprintf(w, "%s\t%d\t%s\t%s %s\t\n", f.Source.DisplayName(), max(f.Source.Messages, 0), store.FormatBytes(f.Source.Size), what, f.Target)
	}
	w.Flush()
	fmt.Fprintf(p.env.Stdout, "\n%d messages, %s, in %d folders (%d to create). The old account is only read; nothing is deleted anywhere.\n",
		plan.Messages, store.FormatBytes(plan.Bytes), len(plan.Included()), plan.Creates())
	for _, wn := range plan.Warnings {
		fmt.Fprintf(p.env.Stdout, "Note: %s\n", wn)
	}
}

func (p *printer) event(e copier.Event) {
	if p.json {
		m := map[string]any{"type": e.Kind.String(), "progress": e.Progress}
		if e.Folder != "" {
			m["folder"] = e.Folder
		}
		if e.Result != nil {
			m["result"] = e.Result
		}
		if e.Problem != nil {
			m["problem"] = e.Problem
		}
		if e.Message != "" {
			m["message"] = e.Message
		}
		p.emit(m)
		return
	}
	// Events come from the copier's worker goroutines.
	p.mu.Lock()
	defer p.mu.Unlock()
	w := p.env.Stderr
	switch e.Kind {
	case copier.EventProgress:
		if time.Since(p.last) < time.Second {
			return
		}
		p.last = time.Now()
		pr := e.Progress
		mps, _ := pr.Rate(time.Now())
		eta := ""
		if d := pr.ETA(time.Now()); d > 0 {
			eta = ", about " + d.Round(time.Second).String() + " left"
		}
		fmt.Fprintf(w, "  %d of %d messages, %s of %s (%.0f messages/s%s)\n", pr.DoneMessages, pr.TotalMessages, store.FormatBytes(pr.DoneBytes), store.FormatBytes(pr.TotalBytes), mps, eta)
	case copier.EventFolderDone:
		r := e.Result
		status := "done"
		if r.Err != "" {
			status = "stopped: " + r.Err
		}
		fmt.Fprintf(w, "%s -> %s: %d copied, %d already there, %d failed (%s)\n", r.Source, r.Target, r.Copied, r.Existing, r.Failed, status)
	case copier.EventProblem:
		pr := e.Problem
		what := pr.Subject
		if what == "" && pr.UID != 0 {
			what = fmt.Sprintf("message %d", pr.UID)
		}
		fmt.Fprintf(w, "Problem in %s: %s: %s\n", pr.Folder, what, pr.Err)
	case copier.EventReconnect:
		fmt.Fprintf(w, "Connection problem: %s\n", e.Message)
	}
}

func (p *printer) result(res *copier.Result) {
	if p.json {
		return
	}
	pr := res.Progress
	fmt.Fprintf(p.env.Stdout, "\nCopied %d messages (%s); %d were already there; flags brought up to date on %d; %d not copied.\n",
		pr.Copied, store.FormatBytes(pr.CopiedBytes), pr.Existing, pr.FlagsUpdated, pr.Failed)
	if len(res.Problems) > 0 {
		fmt.Fprintln(p.env.Stdout, "Not copied:")
		for _, pb := range res.Problems {
			fmt.Fprintf(p.env.Stdout, "  %s\t%s\t%s\t%s: %s\n", pb.Folder, pb.Date.Format("2006-01-02"), pb.From, pb.Subject, pb.Err)
		}
	}
	fmt.Fprintf(p.env.Stdout, "State and journal: %s\n", res.StateDir)
}

func (p *printer) verification(v *copier.Verification) {
	if p.json {
		return
	}
	if v.OK() {
		fmt.Fprintln(p.env.Stdout, "Verified: every message of the old account is on the new one, with its flags.")
		return
	}
	fmt.Fprintf(p.env.Stdout, "Verification: %d messages missing, %d with other flags, %d folders not checked.\n", v.Missing, v.FlagDiffs, v.Errors)
	for _, f := range v.Folders {
		if f.Err != "" {
			fmt.Fprintf(p.env.Stdout, "  %s: not checked: %s\n", f.Source, f.Err)
		}
		for _, m := range f.Missing {
			fmt.Fprintf(p.env.Stdout, "  missing in %s: %s  %s  %s\n", f.Target, m.Date.Format("2006-01-02"), m.From, m.Subject)
		}
	}
}

func (p *printer) summary(v map[string]any) {
	if p.json {
		p.emit(v)
	}
}
