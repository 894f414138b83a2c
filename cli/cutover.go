package cli

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"mailmover/core/copier"
	"mailmover/core/cutover"
	"mailmover/core/dnscheck"
	"mailmover/core/failure"
	migreport "mailmover/core/report"
	"mailmover/core/state"
)

const cutoverArgs = "status|copy|delta|mark STEP|dns|devices --from URL|ACCOUNT --to URL|ACCOUNT [flags]"

func runCutover(ctx context.Context, env *Env, args []string) int {
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		fmt.Fprintf(env.Stderr, "Usage: mailmover cutover %s\n", cutoverArgs)
		return ExitUsage
	}
	action, args := args[0], args[1:]
	var step string
	if action == "mark" {
		if len(args) == 0 || strings.HasPrefix(args[0], "-") {
			fmt.Fprintln(env.Stderr, "Usage: mailmover cutover mark STEP [--note TEXT] --from ... --to ...")
			return ExitUsage
		}
		step, args = args[0], args[1:]
	}
	var p pairFlags
	var note, domain, newServer, resolver, out, smtpHost, smtpSec string
	var smtpPort int
	fs := newFlagSet(env, "cutover "+action, cutoverArgs)
	p.register(fs, env)
	fs.StringVar(&note, "note", "", "a note recorded with the step")
	fs.StringVar(&domain, "domain", "", "the mail domain (dns, devices)")
	fs.StringVar(&newServer, "new-server", "", "the new provider's mail host (dns)")
	fs.StringVar(&resolver, "resolver", "", "DNS server HOST:PORT to ask (default: the system's)")
	fs.StringVar(&out, "out", ".", "folder for the device files (devices)")
	fs.StringVar(&smtpHost, "smtp-host", "", "outgoing server for the settings sheet (devices)")
	fs.IntVar(&smtpPort, "smtp-port", 465, "outgoing server port (devices)")
	fs.StringVar(&smtpSec, "smtp-security", "tls", "outgoing server security: tls or starttls (devices)")
	if code := parse(fs, args); code >= 0 {
		return code
	}
	srcCfg, _, err := p.from.configNoSecret(env, p.allowPlain)
	if err != nil {
		return report(env, err)
	}
	dstCfg, _, err := p.to.configNoSecret(env, p.allowPlain)
	if err != nil {
		return report(env, err)
	}
	pair := copier.PairDir(p.stateDir, copier.Endpoint{Name: srcCfg.String()}, copier.Endpoint{Name: dstCfg.String()})
	open := func() (*state.Dir, bool) {
		d, err := state.Open(pair)
		if err != nil {
			report(env, err)
			return nil, false
		}
		return d, true
	}
	switch action {
	case "status":
		recs, _ := state.ReadJournal(filepath.Join(pair, state.JournalFile))
		done := cutover.Done(recs)
		for _, s := range cutover.Steps() {
			mark := "[ ]"
			when := ""
			if t, ok := done[s.ID]; ok {
				mark, when = "[x]", " ("+t.Local().Format("2006-01-02 15:04")+")"
			}
			fmt.Fprintf(env.Stdout, "%s %-22s %s%s\n", mark, s.ID, s.Title, when)
		}
		if next, ok := cutover.Next(done); ok {
			fmt.Fprintf(env.Stdout, "\nNext: %s. %s\n", next.Title, next.Explain)
		} else {
			fmt.Fprintln(env.Stdout, "\nEvery step is done.")
		}
		return ExitOK
	case "mark":
		d, ok := open()
		if !ok {
			return ExitUsage
		}
		defer d.Close()
		if err := cutover.Mark(d, step, note); err != nil {
			return report(env, failure.New(failure.Config, failure.ScopeAccount, "", err))
		}
		fmt.Fprintf(env.Stdout, "Recorded: %s.\n", step)
		return ExitOK
	case "copy", "delta":
		src, dst, err := p.endpoints(env)
		if err != nil {
			return report(env, err)
		}
		code := transfer(ctx, env, newPrinter(env, p.json), src, dst, copier.Options{Exclude: p.exclude, Include: p.include, StateDir: p.stateDir}, false)
		if code != ExitOK && code != ExitPartial {
			return code
		}
		d, ok := open()
		if !ok {
			return ExitUsage
		}
		defer d.Close()
		if action == "copy" {
			cutover.Mark(d, cutover.InitialCopy, note)
		} else {
			cutover.Mark(d, cutover.FinalDelta, note)
		}
		if code == ExitOK {
			cutover.Mark(d, cutover.Verify, "every message is on the new server")
		}
		return code
	case "dns":
		if domain == "" {
			return report(env, failure.Newf(failure.Config, failure.ScopeAccount, "--domain is missing"))
		}
		checks, err := dnscheck.Run(ctx, dnscheck.NewResolver(resolver), dnscheck.Options{Domain: domain, NewServer: newServer})
		if err != nil {
			return report(env, err)
		}
		d, ok := open()
		if !ok {
			return ExitUsage
		}
		defer d.Close()
		var lines []string
		for _, c := range checks {
			lines = append(lines, fmt.Sprintf("%s %s: %s", c.Status, c.Name, c.Summary))
			fmt.Fprintf(env.Stdout, "%-7s %-10s %s\n", c.Status, c.Name, c.Summary)
		}
		d.Log(state.Record{Event: "dns", Detail: strings.Join(lines, "; ")})
		d.Sync()
		return ExitOK
	case "devices":
		email := srcCfg.Username
		if domain == "" {
			if i := strings.LastIndexByte(email, '@'); i >= 0 {
				domain = email[i+1:]
			}
		}
		sec := "tls"
		if dstCfg.Security == "starttls" {
			sec = "starttls"
		}
		_, port, _ := strings.Cut(dstCfg.Addr(), ":")
		var imapPort int
		fmt.Sscan(port, &imapPort)
		set := cutover.Settings{Domain: domain, Email: email, Username: dstCfg.Username,
			IMAP: cutover.Server{Host: dstCfg.Host, Port: imapPort, Security: sec}, SMTP: cutover.Server{Host: smtpHost, Port: smtpPort, Security: smtpSec}}
		if err := os.MkdirAll(out, 0o755); err != nil {
			return report(env, failure.New(failure.Local, failure.ScopeAccount, "create "+out, err))
		}
		xmlPath, sheetPath := filepath.Join(out, "config-v1.1.xml"), filepath.Join(out, "mail-settings.txt")
		if err := os.WriteFile(xmlPath, cutover.AutoconfigXML(set), 0o644); err != nil {
			return report(env, failure.New(failure.Local, failure.ScopeAccount, "write "+xmlPath, err))
		}
		if err := os.WriteFile(sheetPath, []byte(cutover.Sheet(set)), 0o644); err != nil {
			return report(env, failure.New(failure.Local, failure.ScopeAccount, "write "+sheetPath, err))
		}
		fmt.Fprintf(env.Stdout, "Wrote %s (publish it at https://autoconfig.%s/mail/config-v1.1.xml) and %s.\n", xmlPath, domain, sheetPath)
		return ExitOK
	}
	fmt.Fprintf(env.Stderr, "mailmover cutover: unknown action %q\n", action)
	return ExitUsage
}

func runReport(ctx context.Context, env *Env, args []string) int {
	var stateDir, out string
	fs := newFlagSet(env, "report", "--state DIR --out FILE.html|FILE.csv")
	fs.StringVar(&stateDir, "state", env.StateDir(), "the state folder of the migrations (or of one pair)")
	fs.StringVar(&out, "out", "", "the report file: .html (one printable page) or .csv")
	if code := parse(fs, args); code >= 0 {
		return code
	}
	if out == "" {
		return report(env, failure.Newf(failure.Config, failure.ScopeAccount, "--out is missing: name the report file (.html or .csv)"))
	}
	r, err := migreport.Load(stateDir)
	if err != nil {
		return report(env, failure.New(failure.Config, failure.ScopeAccount, "", err))
	}
	f, err := os.Create(out)
	if err != nil {
		return report(env, failure.New(failure.Local, failure.ScopeAccount, "create "+out, err))
	}
	if strings.EqualFold(filepath.Ext(out), ".csv") {
		err = r.WriteCSV(f)
	} else {
		err = r.WriteHTML(f)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return report(env, failure.New(failure.Local, failure.ScopeAccount, "write "+out, err))
	}
	fmt.Fprintf(env.Stdout, "Wrote the report of %d account(s) to %s (made %s).\n", len(r.Accounts), out, time.Now().Format("2006-01-02 15:04"))
	return ExitOK
}
