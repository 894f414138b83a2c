package cli

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"strings"
	"text/tabwriter"

	"mailmover/core/dnscheck"
	"mailmover/core/failure"
)

const dnscheckArgs = "DOMAIN [--new-server HOST] [--new-server-ip IP] [--dkim-selector S]... [--resolver HOST:PORT] [--json] [--verbose]"

// runDNSCheck checks a mail domain's DNS: MX, SPF, DKIM, DMARC, records for
// mail programs, MTA-STS, TLS-RPT, and the new server on blocklists. It exits
// with ExitOK when no check fails, ExitPartial when one does.
func runDNSCheck(ctx context.Context, env *Env, args []string) int {
	var opts dnscheck.Options
	var selectors multiFlag
	var resolver string
	var asJSON, verbose bool
	fs := newFlagSet(env, "dnscheck", dnscheckArgs)
	fs.StringVar(&opts.NewServer, "new-server", "", "host name of the new mail provider or server, e.g. imap.fastmail.com or mail.example.net")
	fs.StringVar(&opts.NewServerIP, "new-server-ip", "", "IP address the new server sends mail from (default: the new server's address)")
	fs.Var(&selectors, "dkim-selector", "DKIM selector to look for besides the usual ones (repeatable)")
	fs.StringVar(&resolver, "resolver", "", "DNS server to ask, HOST:PORT (default: the system's)")
	fs.BoolVar(&asJSON, "json", false, "print one JSON object per check, then a summary")
	fs.BoolVar(&verbose, "verbose", false, "also print the records found")

	// Flags may come before or after the domain.
	var domains []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return ExitOK
			}
			return ExitUsage
		}
		if fs.NArg() == 0 {
			break
		}
		domains = append(domains, fs.Arg(0))
		args = fs.Args()[1:]
	}
	if len(domains) != 1 {
		fmt.Fprintf(env.Stderr, "mailmover dnscheck: give exactly one domain, such as example.com\n")
		fs.Usage()
		return ExitUsage
	}
	opts.Domain = domains[0]
	opts.DKIMSelectors = selectors

	checks, err := dnscheck.Run(ctx, dnscheck.NewResolver(resolver), opts)
	if err != nil {
		switch failure.KindOf(err) {
		case failure.Config:
			fmt.Fprintf(env.Stderr, "mailmover dnscheck: %v\n", err)
			fs.Usage()
			return ExitUsage
		case failure.Connection:
			fmt.Fprintf(env.Stderr, "mailmover: %v\n", err)
			fmt.Fprintln(env.Stderr, "What to do: check your network connection, or name a DNS server that answers with --resolver HOST:PORT.")
			return exitCode(err)
		}
		return report(env, err)
	}
	code := ExitOK
	if dnscheck.Worst(checks) == dnscheck.Fail {
		code = ExitPartial
	}
	if asJSON {
		enc := json.NewEncoder(env.Stdout)
		for _, c := range checks {
			enc.Encode(struct {
				Type string `json:"type"`
				dnscheck.Check
			}{"check", c})
		}
		enc.Encode(map[string]any{"type": "summary", "domain": opts.Domain, "worst": dnscheck.Worst(checks), "exit": code})
		return code
	}
	printChecks(env, opts, checks, verbose)
	return code
}

// statusLabel is how a status reads in the table.
func statusLabel(s dnscheck.Status) string {
	switch s {
	case dnscheck.OK:
		return "[ok]"
	case dnscheck.Warn:
		return "[warn]"
	case dnscheck.Fail:
		return "[FAIL]"
	}
	return "[?]"
}

func printChecks(env *Env, opts dnscheck.Options, checks []dnscheck.Check, verbose bool) {
	head := "DNS of " + opts.Domain
	if opts.NewServer != "" {
		head += ", moving to " + opts.NewServer
	}
	fmt.Fprintf(env.Stdout, "%s\n\n", head)
	w := tabwriter.NewWriter(env.Stdout, 2, 4, 2, ' ', 0)
	counts := map[dnscheck.Status]int{}
	for _, c := range checks {
		counts[c.Status]++
		fmt.Fprintf(w, "%s\t%s\t%s\n", statusLabel(c.Status), c.Name, c.Summary)
		if c.Fix != "" {
			fmt.Fprintf(w, "\t\tFix: %s\n", c.Fix)
		}
		if verbose {
			for _, d := range c.Details {
				fmt.Fprintf(w, "\t\t  %s\n", d)
			}
		}
	}
	w.Flush()
	var parts []string
	for _, s := range []struct {
		status dnscheck.Status
		words  string
	}{{dnscheck.OK, "ok"}, {dnscheck.Warn, "to look at"}, {dnscheck.Fail, "failing"}, {dnscheck.Unknown, "not known"}} {
		if n := counts[s.status]; n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, s.words))
		}
	}
	fmt.Fprintf(env.Stdout, "\n%s.\n", strings.Join(parts, ", "))
}
