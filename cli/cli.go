// Package cli is Mailmover's headless front end: the same core as the
// window, for scripts, batches and tests.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"sort"
	"strings"
	"syscall"

	"mailmover/core/account"
	"mailmover/core/failure"
	"mailmover/core/secret"
)

// Exit statuses (stable: scripts depend on them).
const (
	ExitOK        = 0
	ExitPartial   = 1
	ExitUsage     = 2
	ExitAuth      = 3
	ExitConn      = 4
	ExitQuota     = 5
	ExitCancelled = 130
)

// Env is what commands need from the outside world.
type Env struct {
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	Getenv         func(string) string
	// Keychain holds passwords (NewEnv opens the system one on first use);
	// KeychainErr, if set, says why it is only in memory (see KeychainError).
	Keychain    secret.Keychain
	KeychainErr error
	// Accounts is the saved account store (may be nil).
	Accounts *account.Store
	// ConfigDir is where Mailmover keeps its files (state, accounts).
	ConfigDir string
	// Terminal reports whether Stdin is a terminal that can prompt for a password.
	Terminal bool
	// ReadPassword reads a password from the terminal without echo.
	ReadPassword func() (string, error)
}

// StateDir is the default root of migration state.
func (e *Env) StateDir() string { return filepath.Join(e.ConfigDir, "state") }

// NewEnv builds the environment of a real process: OS keychain (or memory,
// with a note), account store and config dir.
func NewEnv() *Env {
	e := &Env{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr, Getenv: os.Getenv}
	dir, err := os.UserConfigDir()
	if err != nil {
		dir = os.TempDir()
	}
	e.ConfigDir = filepath.Join(dir, "Mailmover")
	if p := os.Getenv("MAILMOVER_CONFIG_DIR"); p != "" {
		e.ConfigDir = p
	}
	e.Keychain = secret.NewLazy(secret.OS)
	if st, err := account.OpenStore(filepath.Join(e.ConfigDir, "accounts.json")); err == nil {
		e.Accounts = st
	}
	e.Terminal, e.ReadPassword = terminal()
	return e
}

// KeychainError says why passwords are kept in memory only, or nil when
// the system keychain holds them. It opens the keychain if it was not yet.
func (e *Env) KeychainError() error {
	if l, ok := e.Keychain.(interface{ Err() error }); ok {
		if err := l.Err(); err != nil {
			return err
		}
	}
	return e.KeychainErr
}

type command struct {
	name, args, help string
	run              func(ctx context.Context, env *Env, args []string) int
}

func commands() []command {
	return []command{
		{"migrate", "--from URL|ACCOUNT --to URL|ACCOUNT [flags]", "copy every folder and message from one account to another, then verify", runMigrate},
		{"verify", "--from URL|ACCOUNT --to URL|ACCOUNT [flags]", "check that every message of the old account is on the new one", runVerify},
		{"account", "add|list|test|remove [flags]", "save, list, test or remove accounts (passwords go to the keychain)", runAccount},
		{"dnscheck", "DOMAIN [--new-server HOST] [flags]", "check the domain's MX, SPF, DKIM, DMARC and blocklist entries for the move", runDNSCheck},
		{"backup", "--from URL|ACCOUNT --out DIR [flags]", "back up every folder to mbox files, incrementally", runBackup},
		{"restore", "--backup DIR --to URL|ACCOUNT [--into FOLDER]", "upload a backup with its flags and dates", runRestore},
		{"import", "--thunderbird | --mbox PATH | --apple-mail PATH | --eml DIR --to URL|ACCOUNT", "bring local archives (Thunderbird, mbox, Apple Mail, .eml) to the new server", runImport},
		{"filters", "--thunderbird PROFILE_DIR | --apple-mail SyncedRules.plist [--out DIR]", "write plain-language notes of the mail client's filters and a Sieve script per account", runFilters},
		{"login", "--provider google|microsoft --email ADDRESS [--device]", "sign in with Google or Microsoft (OAuth 2.0); the sign-in is kept in the keychain", runLogin},
		{"contacts", "backup|copy|verify|import [flags]", "back up, copy or import address books (CardDAV)", runContacts},
		{"calendars", "backup|copy|verify|import [flags]", "back up, copy or import calendars and tasks (CalDAV)", runCalendars},
		{"batch", batchArgs, "migrate many mailboxes from a CSV list, in parallel, with a status per mailbox, retry and a report", runBatch},
		{"cutover", cutoverArgs, "walk through the switch-over: initial copy, MX, final delta, verify, device settings", runCutover},
		{"report", "--state DIR --out FILE.html|FILE.csv", "write the migration report from the journal", runReport},
		{"version", "", "print the version", func(ctx context.Context, env *Env, args []string) int {
			fmt.Fprintln(env.Stdout, "mailmover", Version)
			return ExitOK
		}},
	}
}

// Version is the program's version.
const Version = "0.1.0"

// Main runs the command named by args[0] and returns the exit status.
// Interrupts (Ctrl-C, SIGTERM) cancel the work cleanly.
func Main(args []string, env *Env) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return Dispatch(ctx, args, env)
}

// Dispatch runs a command with a given context.
func Dispatch(ctx context.Context, args []string, env *Env) int {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		usage(env.Stdout)
		return ExitOK
	}
	for _, c := range commands() {
		if c.name == args[0] {
			return c.run(ctx, env, args[1:])
		}
	}
	fmt.Fprintf(env.Stderr, "mailmover: unknown command %q\n\n", args[0])
	usage(env.Stderr)
	return ExitUsage
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "Mailmover moves email from one server to another and loses nothing on the way.")
	fmt.Fprintln(w, "\nUsage:\n  mailmover                 open the window\n  mailmover COMMAND [flags]  work without a window")
	fmt.Fprintln(w, "\nCommands:")
	cs := commands()
	sort.Slice(cs, func(i, j int) bool { return cs[i].name < cs[j].name })
	for _, c := range cs {
		fmt.Fprintf(w, "  %-9s %s\n", c.name, c.help)
	}
	fmt.Fprintln(w, "\nRun 'mailmover COMMAND -h' for a command's flags.")
	fmt.Fprintln(w, "\nExit status: 0 everything copied and verified; 1 finished, but some messages not copied;\n2 usage or configuration error; 3 authentication failed; 4 connection or TLS failure;\n5 target quota full; 130 cancelled.")
}

// exitCode maps an error to the documented exit status.
func exitCode(err error) int {
	if err == nil {
		return ExitOK
	}
	if errors.Is(err, context.Canceled) {
		return ExitCancelled
	}
	switch failure.KindOf(err) {
	case failure.Config, failure.Local:
		return ExitUsage
	case failure.Auth:
		return ExitAuth
	case failure.Connection, failure.TLS, failure.Throttled:
		return ExitConn
	case failure.Quota:
		return ExitQuota
	case failure.Cancelled:
		return ExitCancelled
	}
	return ExitPartial
}

// report prints an error with its advice and returns the exit status.
func report(env *Env, err error) int {
	code := exitCode(err)
	if code == ExitCancelled {
		fmt.Fprintln(env.Stderr, "mailmover: stopped. Run the same command again to resume where it stopped; nothing is copied twice.")
		return code
	}
	fmt.Fprintf(env.Stderr, "mailmover: %v\n", err)
	fmt.Fprintf(env.Stderr, "What to do: %s\n", failure.Advice(failure.KindOf(err)))
	return code
}

// multiFlag collects a repeated string flag.
type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }
