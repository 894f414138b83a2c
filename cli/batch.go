package cli

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"text/tabwriter"
	"time"

	"mailmover/core/atomicfile"
	"mailmover/core/batch"
	"mailmover/core/failure"
	"mailmover/core/imapstore"
	"mailmover/core/secret"
	"mailmover/core/store"
)

// batchArgs is the synopsis of the batch command.
const batchArgs = "--csv FILE | --resume | --retry-failed | --rerun | --status [--dir DIR] [--parallel N] [--per-server N] [--json] [--report DIR]"

// batchFlags are the batch command's flags.
type batchFlags struct {
	csv, dir, report                   string
	resume, retry, rerun, status, only bool
	parallel, perServer, connections   int
	ca, sourceCA, targetCA             string
	sourceMaster, targetMaster         string
	sourceMasterEnv, targetMasterEnv   string
	json, allowPlain                   bool
	set                                map[string]bool
}

func (b *batchFlags) register(fs *flag.FlagSet, env *Env) {
	fs.StringVar(&b.csv, "csv", "", "import account pairs from this list (- for standard input), then copy them: imapsync's host1;user1;password1;host2;user2;password2 lines, or a CSV with a header row (source_email, source_host, source_port, source_security, source_username, source_password, target_...)")
	fs.BoolVar(&b.resume, "resume", false, "carry on with the mailboxes still waiting (after a stop, a crash or a restart)")
	fs.BoolVar(&b.retry, "retry-failed", false, "put the failed mailboxes, and those that needed attention, back in line, then run")
	fs.BoolVar(&b.rerun, "rerun", false, "run every mailbox again, copying only what is new (the final delta before switching over)")
	fs.BoolVar(&b.status, "status", false, "show the batch and stop")
	fs.BoolVar(&b.only, "import-only", false, "with --csv: import the list and stop")
	fs.StringVar(&b.dir, "dir", filepath.Join(env.ConfigDir, "batch"), "the batch folder: the queue, and each mailbox's state and journal")
	fs.IntVar(&b.parallel, "parallel", 2, "how many mailboxes to copy at once")
	fs.IntVar(&b.perServer, "per-server", 0, "at most this many connections to one server at once, over all mailboxes (0: no cap); a mailbox holds one on its source and two on its target per folder copied at once")
	fs.IntVar(&b.connections, "connections", 1, "how many folders of one mailbox to copy at once")
	fs.StringVar(&b.ca, "ca", "", "PEM file of extra certificates to trust for every server")
	fs.StringVar(&b.sourceCA, "source-ca", "", "PEM file of extra certificates to trust for the source servers")
	fs.StringVar(&b.targetCA, "target-ca", "", "PEM file of extra certificates to trust for the target servers")
	fs.StringVar(&b.sourceMaster, "source-master", "", "with --csv: log in on the source as this administrator (Dovecot master user: USER*MASTER) for the rows without a source password")
	fs.StringVar(&b.targetMaster, "target-master", "", "with --csv: the same for the target")
	fs.StringVar(&b.sourceMasterEnv, "source-master-password-env", "", "name of the environment variable holding the source master password (else the keychain)")
	fs.StringVar(&b.targetMasterEnv, "target-master-password-env", "", "name of the environment variable holding the target master password (else the keychain)")
	fs.BoolVar(&b.json, "json", false, "print one JSON object per line: import, status changes, progress, then a summary")
	fs.BoolVar(&b.allowPlain, "allow-plain", false, "allow security none, to a loopback address only")
	fs.StringVar(&b.report, "report", "", "write batch-report.html and batch-report.csv into this folder (after the run, or alone)")
}

func runBatch(ctx context.Context, env *Env, args []string) int {
	var b batchFlags
	fs := newFlagSet(env, "batch", batchArgs)
	b.register(fs, env)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return ExitOK
		}
		return ExitUsage
	}
	b.set = map[string]bool{}
	fs.Visit(func(f *flag.Flag) { b.set[f.Name] = true })
	if err := b.check(fs.NArg()); err != nil {
		fmt.Fprintf(env.Stderr, "mailmover batch: %v\n", err)
		fs.Usage()
		return ExitUsage
	}
	out := &batchPrinter{env: env, json: b.json}
	kc := env.Keychain
	if kc == nil {
		kc = secret.NewMemory()
	}
	q, err := batch.Open(b.dir)
	if err != nil {
		return report(env, err)
	}
	importOK := true
	switch {
	case b.csv != "":
		if env.KeychainError() != nil && !b.json {
			fmt.Fprintf(env.Stderr, "Note: %v. The batch must run in this same session: a later --resume would need the list again.\n", env.KeychainError())
		}
		rep, err := b.importList(ctx, env, q, kc)
		if err != nil {
			return report(env, err)
		}
		out.imported(b.csv, rep)
		importOK = len(rep.Errors) == 0
	case b.retry:
		n, err := q.RetryFailed()
		if err != nil {
			return report(env, err)
		}
		out.note(fmt.Sprintf("%d mailboxes back in line.", n))
	case b.rerun:
		n, err := q.ResetAll()
		if err != nil {
			return report(env, err)
		}
		out.note(fmt.Sprintf("%d mailboxes back in line: only what is new since their last run is copied.", n))
	}
	if err := b.refreshMasters(env, q, kc); err != nil {
		return report(env, err)
	}
	st, err := b.settings(q)
	if err != nil {
		return report(env, err)
	}
	if len(q.Items()) == 0 {
		fmt.Fprintf(env.Stderr, "mailmover batch: the batch in %s is empty: import a list with --csv FILE\n", b.dir)
		return ExitUsage
	}
	run := b.csv != "" && !b.only || b.resume || b.retry || b.rerun
	var runErr error
	if run {
		opts, err := runOptions(st, kc, b.allowPlain)
		if err != nil {
			return report(env, err)
		}
		opts.OnEvent = out.event
		runErr = q.Run(ctx, opts)
	}
	items := q.Items()
	if b.report != "" {
		if err := writeBatchReport(q, b.report); err != nil {
			return report(env, err)
		}
		if !b.json {
			fmt.Fprintf(env.Stderr, "Report: %s and %s\n", filepath.Join(b.report, "batch-report.html"), filepath.Join(b.report, "batch-report.csv"))
		}
	}
	sum := batch.Summarize(items)
	code := ExitOK
	if !importOK || !b.only && !sum.AllDone() {
		code = ExitPartial
	}
	if runErr != nil {
		if errors.Is(runErr, context.Canceled) {
			code = ExitCancelled
		} else {
			code = exitCode(runErr)
		}
	}
	out.summary(b.dir, items, sum, code, runErr)
	if runErr != nil {
		if code == ExitCancelled {
			fmt.Fprintf(env.Stderr, "mailmover: stopped. Carry on with: mailmover batch --resume --dir %s (each mailbox resumes where it stopped; nothing is copied twice)\n", b.dir)
			return code
		}
		return report(env, runErr)
	}
	return code
}

// check verifies that the flags ask for one thing.
func (b *batchFlags) check(extra int) error {
	if extra > 0 {
		return errors.New("unexpected arguments: every option is a flag")
	}
	n := 0
	for _, on := range []bool{b.csv != "", b.resume, b.retry, b.rerun, b.status} {
		if on {
			n++
		}
	}
	switch {
	case n > 1:
		return errors.New("give only one of --csv, --resume, --retry-failed, --rerun and --status")
	case n == 0 && b.report == "":
		return errors.New("give --csv FILE to start a batch, or --resume, --retry-failed, --rerun, --status or --report DIR")
	case b.only && b.csv == "":
		return errors.New("--import-only goes with --csv")
	case (b.sourceMaster != "" || b.targetMaster != "") && b.csv == "":
		return errors.New("--source-master and --target-master apply when importing: give them with --csv")
	case b.parallel < 1 || b.connections < 1 || b.perServer < 0:
		return errors.New("--parallel and --connections must be at least 1, --per-server at least 0")
	}
	return nil
}

// importList reads the CSV file into the queue, passwords into the keychain.
func (b *batchFlags) importList(ctx context.Context, env *Env, q *batch.Queue, kc secret.Keychain) (batch.ImportReport, error) {
	var r io.Reader = env.Stdin
	if b.csv != "-" {
		f, err := os.Open(b.csv)
		if err != nil {
			return batch.ImportReport{}, failure.New(failure.Config, failure.ScopeAccount, "open the account list", err)
		}
		defer f.Close()
		r = f
	}
	var opts batch.ImportOptions
	for _, m := range []struct {
		user, envVar, which string
		dst                 *batch.Master
	}{
		{b.sourceMaster, b.sourceMasterEnv, "source", &opts.SourceMaster},
		{b.targetMaster, b.targetMasterEnv, "target", &opts.TargetMaster},
	} {
		if m.user == "" {
			continue
		}
		m.dst.User = m.user
		if m.envVar != "" {
			pw := env.Getenv(m.envVar)
			if pw == "" {
				return batch.ImportReport{}, failure.Newf(failure.Config, failure.ScopeAccount, "the environment variable %s named by --%s-master-password-env is empty or unset", m.envVar, m.which)
			}
			m.dst.Password = pw
		}
	}
	return q.ImportWith(ctx, r, kc, opts)
}

// refreshMasters stores master passwords given by environment variable on a
// resumed batch, for the items that log in as a master.
func (b *batchFlags) refreshMasters(env *Env, q *batch.Queue, kc secret.Keychain) error {
	if b.csv != "" {
		return nil // given to the import
	}
	for _, m := range []struct {
		envVar, which string
		w             batch.Which
	}{{b.sourceMasterEnv, "source", batch.Source}, {b.targetMasterEnv, "target", batch.Target}} {
		if m.envVar == "" {
			continue
		}
		pw := env.Getenv(m.envVar)
		if pw == "" {
			return failure.Newf(failure.Config, failure.ScopeAccount, "the environment variable %s named by --%s-master-password-env is empty or unset", m.envVar, m.which)
		}
		done := map[string]bool{}
		for _, it := range q.Items() {
			s := it.Source
			if m.w == batch.Target {
				s = it.Target
			}
			if s.Master == "" || done[s.SecretKey()] {
				continue
			}
			done[s.SecretKey()] = true
			if err := kc.Set(s.SecretKey(), pw); err != nil {
				return failure.New(failure.Local, failure.ScopeAccount, "store the master password", err)
			}
		}
	}
	return nil
}

// settings merges the flags given with the settings kept with the batch,
// and keeps the result.
func (b *batchFlags) settings(q *batch.Queue) (batch.Settings, error) {
	st := q.Settings()
	fresh := st == batch.Settings{}
	pick := func(name string) bool { return fresh || b.set[name] }
	if pick("parallel") {
		st.Parallel = b.parallel
	}
	if pick("per-server") {
		st.PerServer = b.perServer
	}
	if pick("connections") {
		st.Connections = b.connections
	}
	if b.ca != "" {
		st.SourceCAFile, st.TargetCAFile = absPath(b.ca), absPath(b.ca)
	}
	if b.sourceCA != "" {
		st.SourceCAFile = absPath(b.sourceCA)
	}
	if b.targetCA != "" {
		st.TargetCAFile = absPath(b.targetCA)
	}
	if st != q.Settings() {
		if err := q.SetSettings(st); err != nil {
			return st, err
		}
	}
	return st, nil
}

func absPath(p string) string {
	if a, err := filepath.Abs(p); err == nil {
		return a
	}
	return p
}

// runOptions turns the settings into the queue's run options.
func runOptions(st batch.Settings, kc secret.Keychain, allowPlain bool) (batch.RunOptions, error) {
	opts := batch.RunOptions{Parallel: st.Parallel, PerServer: st.PerServer, Connections: st.Connections, Keychain: kc, AllowPlain: allowPlain, ProgressInterval: time.Second}
	var err error
	if opts.SourceCAPEM, err = imapstore.LoadCAFile(st.SourceCAFile); err != nil {
		return opts, err
	}
	if opts.TargetCAPEM, err = imapstore.LoadCAFile(st.TargetCAFile); err != nil {
		return opts, err
	}
	return opts, nil
}

// writeBatchReport writes the HTML and CSV reports atomically into dir.
func writeBatchReport(q *batch.Queue, dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return failure.New(failure.Local, failure.ScopeAccount, "create the report folder", err)
	}
	for _, r := range []struct {
		name string
		fill func(w io.Writer) error
	}{
		{"batch-report.html", func(w io.Writer) error { return q.WriteReport(w, nil) }},
		{"batch-report.csv", func(w io.Writer) error { return q.WriteReport(nil, w) }},
	} {
		if err := atomicfile.Write(filepath.Join(dir, r.name), 0o600, r.fill); err != nil {
			return failure.New(failure.Local, failure.ScopeAccount, "write the report", err)
		}
	}
	return nil
}

// batchPrinter writes the batch's progress as text or JSON lines.
type batchPrinter struct {
	env  *Env
	json bool
	mu   sync.Mutex
	last map[string]time.Time // when each item's progress was last printed
}

// progressEvery spaces the progress lines of one mailbox in text mode.
const progressEvery = 10 * time.Second

func (p *batchPrinter) emit(v any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	json.NewEncoder(p.env.Stdout).Encode(v)
}

func (p *batchPrinter) note(s string) {
	if p.json {
		p.emit(map[string]any{"type": "note", "message": s})
		return
	}
	fmt.Fprintln(p.env.Stderr, s)
}

func (p *batchPrinter) imported(file string, rep batch.ImportReport) {
	if p.json {
		m := map[string]any{"type": "import", "report": rep}
		if file != "-" {
			m["deleteFile"] = file
		}
		p.emit(m)
		return
	}
	w := p.env.Stderr
	fmt.Fprintf(w, "Imported %d account pairs from %s (%d new, %d already in the batch); %d passwords stored in the keychain.\n", rep.Rows, file, rep.Added, rep.Updated, rep.Passwords)
	for _, e := range rep.Errors {
		fmt.Fprintf(w, "  not imported: %v\n", e)
	}
	if rep.NeedPassword > 0 {
		fmt.Fprintf(w, "%d pairs have no password for a side: they wait until you give it (import again with the password, or use --source-master/--target-master).\n", rep.NeedPassword)
	}
	if file != "-" {
		fmt.Fprintf(w, "Delete %s now: it holds passwords, and Mailmover keeps no copy of it and does not need it any more.\n", file)
	}
}

func (p *batchPrinter) event(e batch.Event) {
	if p.json {
		p.emit(map[string]any{"type": e.Kind.String(), "item": e.Item, "message": e.Message})
		return
	}
	if e.Kind != batch.EventStatus {
		p.mu.Lock()
		defer p.mu.Unlock()
		it := e.Item
		if e.Message != "" {
			fmt.Fprintf(p.env.Stderr, "[%s] %s: %s\n", it.ID, it.Name(), e.Message)
			return
		}
		if p.last == nil {
			p.last = map[string]time.Time{}
		}
		if time.Since(p.last[it.ID]) < progressEvery || it.Counts.Messages == 0 {
			return
		}
		p.last[it.ID] = time.Now()
		c := it.Counts
		fmt.Fprintf(p.env.Stderr, "[%s] %s: %d of %d messages, %s of %s\n", it.ID, it.Name(), c.Done, c.Messages, store.FormatBytes(c.DoneBytes), store.FormatBytes(c.Bytes))
		return
	}
	it := e.Item
	c := it.Counts
	line := it.Status.Label()
	switch it.Status {
	case batch.Done, batch.DoneWithProblems:
		line += fmt.Sprintf(": %d copied (%s), %d already there, %d on the source, %d on the target, in %s",
			c.Copied, store.FormatBytes(c.CopiedBytes), c.Existing, c.SourceMessages, c.TargetMessages, it.LastRun.Round(100*time.Millisecond))
	}
	if it.Reason != "" {
		line += ": " + it.Reason
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.last == nil {
		p.last = map[string]time.Time{}
	}
	p.last[it.ID] = time.Now()
	fmt.Fprintf(p.env.Stderr, "[%s] %s: %s\n", it.ID, it.Name(), line)
}

func (p *batchPrinter) summary(dir string, items []batch.Item, sum batch.Summary, code int, runErr error) {
	if p.json {
		p.emit(map[string]any{"type": "summary", "summary": sum, "items": items, "exit": code, "error": errString(runErr)})
		return
	}
	w := tabwriter.NewWriter(p.env.Stdout, 2, 4, 2, ' ', 0)
	fmt.Fprintln(w, "#\tFROM\tTO\tSTATUS\tON SOURCE\tON TARGET\tCOPIED\tSKIPPED\tTIME\tREASON")
	for _, it := range items {
		c := it.Counts
		src, dst := "", ""
		if c.Verified {
			src, dst = fmt.Sprint(c.SourceMessages), fmt.Sprint(c.TargetMessages)
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%d\t%d\t%s\t%s\n", it.ID, label(it.Source), label(it.Target), it.Status.Label(),
			src, dst, c.TotalCopied, c.Skipped, it.Elapsed.Round(time.Second), it.Reason)
	}
	w.Flush()
	fmt.Fprintf(p.env.Stdout, "\n%d mailboxes: %d done, %d done with problems, %d failed, %d need attention, %d waiting. %d messages copied (%s).\n",
		sum.Mailboxes, sum.Done, sum.DoneWithProblems, sum.Failed, sum.NeedsAttention, sum.Waiting+sum.Running, sum.Copied, store.FormatBytes(sum.CopiedBytes))
	if sum.Failed+sum.NeedsAttention > 0 {
		fmt.Fprintf(p.env.Stdout, "Fix what the reasons say, then: mailmover batch --retry-failed --dir %s\n", dir)
	}
}

// label names one side in the summary table.
func label(s batch.Side) string {
	if s.Email != "" {
		return s.Email
	}
	return s.Username + "@" + s.Host
}
