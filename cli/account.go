package cli

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"text/tabwriter"

	"mailmover/core/account"
	"mailmover/core/failure"
	"mailmover/core/imapstore"
	"mailmover/core/secret"
	"mailmover/core/store"
)

func runAccount(ctx context.Context, env *Env, args []string) int {
	if len(args) == 0 {
		fmt.Fprintln(env.Stderr, "Usage: mailmover account add|list|test|remove [flags]")
		return ExitUsage
	}
	if env.Accounts == nil {
		return report(env, failure.Newf(failure.Local, failure.ScopeAccount, "the account list in %s cannot be opened", env.ConfigDir))
	}
	switch args[0] {
	case "add":
		return accountAdd(ctx, env, args[1:])
	case "list":
		return accountList(env, args[1:])
	case "test":
		return accountTest(ctx, env, args[1:])
	case "remove":
		return accountRemove(env, args[1:])
	}
	fmt.Fprintf(env.Stderr, "mailmover account: unknown action %q: use add, list, test or remove\n", args[0])
	return ExitUsage
}

func accountAdd(ctx context.Context, env *Env, args []string) int {
	fs := newFlagSet(env, "account add", "--name NAME --email ADDRESS [--host HOST --port N --security tls|starttls --username USER] [--password-env VAR] [--ca PEM]")
	var a account.Account
	var sec, pwEnv string
	var noTest bool
	fs.StringVar(&a.Name, "name", "", "a name for the account (default: the email address)")
	fs.StringVar(&a.Email, "email", "", "the account's email address")
	fs.StringVar(&a.Host, "host", "", "IMAP server (default: found from the email address)")
	fs.IntVar(&a.Port, "port", 0, "IMAP port (default: 993 for tls, 143 for starttls)")
	fs.StringVar(&sec, "security", "", "tls (implicit, port 993) or starttls (port 143)")
	fs.StringVar(&a.Username, "username", "", "login name (default: the email address)")
	fs.StringVar(&a.CAFile, "ca", "", "PEM file of extra certificates to trust")
	fs.StringVar(&pwEnv, "password-env", "", "environment variable holding the password (default: ask on the terminal)")
	fs.BoolVar(&noTest, "no-test", false, "save without testing the connection")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return ExitOK
		}
		return ExitUsage
	}
	if a.Host == "" {
		if a.Email == "" {
			return report(env, failure.Newf(failure.Config, failure.ScopeAccount, "give --email (the server is then found for you) or --host"))
		}
		d := &account.Discoverer{}
		disc, err := d.Discover(ctx, a.Email)
		if err != nil {
			return report(env, failure.New(failure.Config, failure.ScopeAccount, "find the server for "+a.Email, err))
		}
		found := disc.Account
		fmt.Fprintf(env.Stdout, "Found %s:%d (%s) by %s.\n", found.Host, found.Port, found.Security, disc.Source)
		if disc.Hint != "" {
			fmt.Fprintln(env.Stdout, "Hint:", disc.Hint)
		}
		a.Host, a.Provider = found.Host, found.Provider
		if a.Port == 0 {
			a.Port = found.Port
		}
		if sec == "" {
			sec = string(found.Security)
		}
		if a.Username == "" {
			a.Username = found.Username
		}
	}
	if sec == "" {
		sec = string(account.SecurityTLS)
	}
	a.Security = account.Security(sec)
	if a.Username == "" {
		a.Username = a.Email
	}
	if a.Name == "" {
		a.Name = a.Email
		if a.Name == "" {
			a.Name = a.Username + "@" + a.Host
		}
	}
	if a.Port == 0 {
		a.Port = a.Security.DefaultPort()
	}
	if a.Auth == "" {
		a.Auth = account.AuthPassword
	}
	if err := a.Validate(); err != nil {
		return report(env, failure.New(failure.Config, failure.ScopeAccount, "", err))
	}
	side := sideFlags{which: "account", passwordEnv: pwEnv}
	cfg := &imapstore.Config{Host: a.Host, Port: a.Port, Security: imapstore.Security(a.Security), Username: a.Username}
	pw, err := side.password(env, cfg)
	if err != nil {
		return report(env, err)
	}
	cfg.Password = pw
	if cfg.CAPEM, err = imapstore.LoadCAFile(a.CAFile); err != nil {
		return report(env, err)
	}
	if !noTest {
		r := imapstore.Probe(ctx, cfg)
		fmt.Fprintln(env.Stdout, r.Summary())
		if r.Err != nil {
			return report(env, r.Err)
		}
	}
	if err := env.Keychain.Set(a.SecretKey(), pw); err != nil {
		return report(env, failure.New(failure.Local, failure.ScopeAccount, "save the password in the keychain", err))
	}
	if env.KeychainError() != nil {
		fmt.Fprintf(env.Stderr, "Note: %v\n", env.KeychainError())
	}
	if err := env.Accounts.Put(a); err != nil {
		return report(env, err)
	}
	fmt.Fprintf(env.Stdout, "Saved account %q (%s). The password is in the keychain, not in any file.\n", a.Name, a.URL())
	return ExitOK
}

func accountList(env *Env, args []string) int {
	fs := newFlagSet(env, "account list", "[--json]")
	asJSON := fs.Bool("json", false, "print JSON")
	if err := fs.Parse(args); err != nil {
		return ExitUsage
	}
	list := env.Accounts.List()
	if *asJSON {
		json.NewEncoder(env.Stdout).Encode(list)
		return ExitOK
	}
	if len(list) == 0 {
		fmt.Fprintln(env.Stdout, "No saved accounts. Add one with: mailmover account add --email you@example.com")
		return ExitOK
	}
	w := tabwriter.NewWriter(env.Stdout, 2, 4, 2, ' ', 0)
	fmt.Fprintln(w, "NAME\tURL\tPROVIDER\t")
	for _, a := range list {
		fmt.Fprintf(w, "%s\t%s\t%s\t\n", a.Name, a.URL(), a.Provider)
	}
	w.Flush()
	return ExitOK
}

func accountTest(ctx context.Context, env *Env, args []string) int {
	fs := newFlagSet(env, "account test", "NAME|URL [--password-env VAR] [--ca PEM] [--json]")
	var side sideFlags
	fs.StringVar(&side.passwordEnv, "password-env", "", "environment variable holding the password")
	fs.StringVar(&side.ca, "ca", "", "PEM file of extra certificates to trust")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	allowPlain := fs.Bool("allow-plain", false, "allow a connection without TLS to a loopback address")
	ref, rest := "", args
	if len(args) > 0 && args[0] != "" && args[0][0] != '-' {
		ref, rest = args[0], args[1:]
	}
	if err := fs.Parse(rest); err != nil {
		return ExitUsage
	}
	if ref == "" && fs.NArg() > 0 {
		ref = fs.Arg(0)
	}
	side.which, side.ref = "account", ref
	cfg, err := side.config(env, *allowPlain)
	if err != nil {
		return report(env, err)
	}
	r := imapstore.Probe(ctx, cfg)
	if *asJSON {
		out := struct {
			*imapstore.Report
			Summary string `json:"summary"`
			Error   string `json:"error,omitempty"`
			Kind    string `json:"kind,omitempty"`
		}{Report: r, Summary: r.Summary()}
		if r.Err != nil {
			out.Error, out.Kind = r.Err.Error(), failure.KindOf(r.Err).String()
		}
		json.NewEncoder(env.Stdout).Encode(out)
	} else {
		printReport(env, r)
	}
	if r.Err != nil {
		return report(env, r.Err)
	}
	return ExitOK
}

func printReport(env *Env, r *imapstore.Report) {
	w := env.Stdout
	fmt.Fprintln(w, r.Summary())
	if r.Cert != nil {
		trust := "trusted"
		if !r.Cert.Trusted {
			trust = "NOT trusted"
		}
		fmt.Fprintf(w, "  Certificate: %s, issued by %s, valid until %s, %s\n  SHA-256 fingerprint: %s\n", r.Cert.Subject, r.Cert.Issuer, r.Cert.NotAfter.Format("2006-01-02"), trust, r.Cert.Fingerprint)
	}
	if r.LoggedIn {
		fmt.Fprintf(w, "  TLS: %s %s\n  Folders: %d, messages: %d (%s)\n  Namespace prefix %q, delimiter %q\n", r.TLSVersion, r.Cipher, r.Folders, r.Messages, store.FormatBytes(r.Bytes), r.Prefix, r.Delim)
		if r.Quota != nil && r.Quota.Limit > 0 {
			fmt.Fprintf(w, "  Quota: %s used of %s (%s free)\n", store.FormatBytes(r.Quota.Used), store.FormatBytes(r.Quota.Limit), store.FormatBytes(r.Quota.Limit-r.Quota.Used))
		}
		fmt.Fprintf(w, "  Capabilities: %v\n", r.Caps)
	}
	for _, wn := range r.Warnings {
		fmt.Fprintln(w, "  Warning:", wn)
	}
}

func accountRemove(env *Env, args []string) int {
	if len(args) != 1 {
		fmt.Fprintln(env.Stderr, "Usage: mailmover account remove NAME")
		return ExitUsage
	}
	a, ok := env.Accounts.Get(args[0])
	if !ok {
		return report(env, failure.Newf(failure.Config, failure.ScopeAccount, "no saved account named %q (see mailmover account list)", args[0]))
	}
	if err := env.Keychain.Delete(a.SecretKey()); err != nil && !errors.Is(err, secret.ErrNotFound) {
		fmt.Fprintf(env.Stderr, "Note: could not remove the password from the keychain: %v\n", err)
	}
	if err := env.Accounts.Remove(a.Name); err != nil {
		return report(env, err)
	}
	fmt.Fprintf(env.Stdout, "Removed account %q and its password. Nothing on the server was touched.\n", a.Name)
	return ExitOK
}
