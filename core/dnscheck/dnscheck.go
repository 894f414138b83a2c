// Package dnscheck checks a mail domain's DNS around a move to another
// provider: where mail goes (MX, RFC 5321 section 5.1), who may send it (SPF,
// RFC 7208), signing keys (DKIM, RFC 6376), the domain's policy (DMARC, RFC
// 7489), settings discovery for mail programs (autoconfig and RFC 6186 SRV
// records), transport security (MTA-STS, RFC 8461; TLS-RPT, RFC 8460), and
// whether the new server's address is on a DNS blocklist (RFC 5782).
//
// Each check ends in a Status with a plain-language summary and, when
// something is wrong, the fix in one sentence. Queries go through a Resolver,
// so tests and front ends choose the DNS server.
package dnscheck

import (
	"context"
	"fmt"
	"net"
	"sort"
	"strings"
	"sync"

	"github.com/miekg/dns"
	"golang.org/x/net/idna"

	"mailmover/core/failure"
)

// Status is the outcome of one check, shown green, amber or red.
type Status string

const (
	// OK means nothing needs doing (green).
	OK Status = "ok"
	// Warn means something should be done, but mail still flows (amber).
	Warn Status = "warn"
	// Fail means mail is lost, rejected or likely marked as spam (red).
	Fail Status = "fail"
	// Unknown means the check could not be made: no reply, or a refused query.
	Unknown Status = "unknown"
)

// severity orders statuses for picking a check's worst finding.
func (s Status) severity() int {
	switch s {
	case Fail:
		return 3
	case Warn:
		return 2
	case Unknown:
		return 1
	}
	return 0
}

// Check is the result of one check.
type Check struct {
	// Name is "MX", "SPF", "DKIM", "DMARC", "Autoconfig", "SRV", "MTA-STS",
	// "TLS-RPT" or "Blacklist ZONE".
	Name   string `json:"name"`
	Status Status `json:"status"`
	// Summary says in plain language what was found.
	Summary string `json:"summary"`
	// Fix says in one sentence what to do; empty when Status is OK.
	Fix string `json:"fix,omitempty"`
	// Details are the records found and lesser findings, one per line.
	Details []string `json:"details,omitempty"`
	// TTL is the time to live, in seconds, of the main record; 0 when none
	// was found or the resolver does not report it.
	TTL uint32 `json:"ttl,omitempty"`
}

// add records a finding. The worst finding becomes the check's status,
// summary and fix; the others go to Details.
func (c *Check) add(s Status, summary, fix string) {
	if c.Summary == "" || s.severity() > c.Status.severity() {
		if c.Summary != "" {
			c.Details = append(c.Details, joinSentences(c.Summary, c.Fix))
		}
		c.Status, c.Summary, c.Fix = s, summary, fix
		return
	}
	c.Details = append(c.Details, joinSentences(summary, fix))
}

// ok sets the summary of a check with no findings.
func (c *Check) ok(summary string) {
	if c.Summary == "" {
		c.Status, c.Summary = OK, summary
	}
}

func (c *Check) detail(format string, args ...any) {
	c.Details = append(c.Details, fmt.Sprintf(format, args...))
}

func joinSentences(a, b string) string {
	if b == "" {
		return a
	}
	return a + " " + b
}

// Options says what to check.
type Options struct {
	// Domain is the mail domain, the part after @ ("example.com"). A
	// Unicode name is converted to its ASCII form (RFC 5891).
	Domain string
	// NewServer is the host name of the new mail provider or server
	// ("imap.fastmail.com", "mail.example.net"); optional. With it, the
	// checks say whether MX, SPF, DKIM and SRV already point at it.
	NewServer string
	// DKIMSelectors are selectors to look for besides the usual ones.
	DKIMSelectors []string
	// NewServerIP is the new server's sending address for the SPF and
	// blocklist checks; if empty, NewServer's A record is used.
	NewServerIP string
}

// dkimSelectors are the DKIM selectors of common providers and software.
var dkimSelectors = [...]string{
	"google",                 // Google Workspace
	"selector1", "selector2", // Microsoft 365 (CNAMEs)
	"default", "dkim", "mail", // cPanel, Plesk, rspamd, self-hosted
	"k1",                // Mailchimp/Mandrill
	"fm1", "fm2", "fm3", // Fastmail
	"s1", "s2", // SendGrid and others
	"zoho", // Zoho Mail
}

// checker holds what the checks share. It is not changed once the checks
// run in parallel.
type checker struct {
	r      Resolver
	domain string
	// newServer is the new provider's host name, or "".
	newServer string
	// prov is the new provider when it is a known one.
	prov *provider
	// newSuffix is a domain whose hosts count as the new server's, or "".
	newSuffix string
	// newIPs are the new server's addresses; newIP is the one checked.
	newIPs []net.IP
	newIP  net.IP
	// newIPErr says why newIPs is empty.
	newIPErr error
	// ipGiven is set when the caller gave the new server's address.
	ipGiven   bool
	selectors []string
	// mxAtNew is set when every MX host is the new server's.
	mxAtNew bool
}

// Run checks the DNS of opts.Domain and returns one Check per item, in a
// fixed order: MX, SPF, DKIM, DMARC, Autoconfig, SRV, MTA-STS, TLS-RPT, then
// one per blocklist when a new server is given. A check that cannot be made
// has status Unknown. Run returns an error for bad options (failure.Config),
// when the DNS server does not answer at all (failure.Connection), and when
// ctx ends.
func Run(ctx context.Context, r Resolver, opts Options) ([]Check, error) {
	c := &checker{r: r}
	var err error
	if c.domain, err = normalizeDomain(opts.Domain); err != nil {
		return nil, failure.New(failure.Config, failure.ScopeAccount, "domain", err)
	}
	if opts.NewServer != "" {
		if c.newServer, err = normalizeDomain(opts.NewServer); err != nil {
			return nil, failure.New(failure.Config, failure.ScopeAccount, "new server", err)
		}
		c.prov = providerOf(c.newServer)
		c.newSuffix = newSuffix(c.newServer, c.domain)
	}
	if opts.NewServerIP != "" {
		ip := net.ParseIP(strings.TrimSpace(opts.NewServerIP))
		if ip == nil {
			return nil, failure.Newf(failure.Config, failure.ScopeAccount, "new server address %q is not an IP address", opts.NewServerIP)
		}
		c.newIPs, c.ipGiven = []net.IP{ip}, true
	}
	seen := map[string]bool{}
	for _, s := range append(append([]string(nil), dkimSelectors[:]...), opts.DKIMSelectors...) {
		s = strings.ToLower(strings.TrimSpace(s))
		if !validSelector(s) {
			return nil, failure.Newf(failure.Config, failure.ScopeAccount, "DKIM selector %q is not a valid DNS name", s)
		}
		if !seen[s] {
			seen[s] = true
			c.selectors = append(c.selectors, s)
		}
	}

	// The MX query goes first: if the server does not answer it, nothing else will.
	mx, mxErr := lookup(ctx, r, c.domain, dns.TypeMX)
	if ctx.Err() != nil {
		return nil, fmt.Errorf("check the DNS of %s: %w", c.domain, ctx.Err())
	}
	if isNoReply(mxErr) {
		return nil, failure.New(failure.Connection, failure.ScopeAccount, "ask the DNS server about "+c.domain, mxErr)
	}
	if c.newServer != "" && c.newIPs == nil {
		c.newIPs, c.newIPErr = c.addresses(ctx, c.newServer)
	}
	for _, ip := range c.newIPs {
		if ip.To4() != nil {
			c.newIP = ip
			break
		}
	}
	if c.newIP == nil && len(c.newIPs) > 0 {
		c.newIP = c.newIPs[0]
	}
	mxCheck := c.checkMX(ctx, mx, mxErr)

	checks := []func(context.Context) Check{
		c.checkSPF, c.checkDKIM, c.checkDMARC, c.checkAutoconfig, c.checkSRV, c.checkMTASTS, c.checkTLSRPT,
	}
	if c.newServer != "" || c.newIP != nil {
		checks = append(checks, c.blocklistChecks()...)
	}
	out := make([]Check, 1+len(checks))
	out[0] = mxCheck
	var wg sync.WaitGroup
	for i, f := range checks {
		wg.Go(func() { out[i+1] = f(ctx) })
	}
	wg.Wait()
	if ctx.Err() != nil {
		return nil, fmt.Errorf("check the DNS of %s: %w", c.domain, ctx.Err())
	}
	return out, nil
}

// Worst returns the most severe status among checks (Fail, then Warn, then
// Unknown), or OK.
func Worst(checks []Check) Status {
	w := OK
	for _, c := range checks {
		if c.Status.severity() > w.severity() {
			w = c.Status
		}
	}
	return w
}

// normalizeDomain lower-cases a domain, drops a trailing dot and anything up
// to an @, converts it to ASCII (RFC 5891) and checks that it is a host name
// with at least two labels.
func normalizeDomain(s string) (string, error) {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexByte(s, '@'); i >= 0 {
		s = s[i+1:]
	}
	s = strings.TrimSuffix(s, ".")
	if s == "" {
		return "", fmt.Errorf("no domain given")
	}
	a, err := idna.Lookup.ToASCII(s)
	if err != nil {
		return "", fmt.Errorf("%q is not a valid domain name: %w", s, err)
	}
	a = strings.ToLower(a)
	if n, ok := dns.IsDomainName(a); !ok || n < 2 {
		return "", fmt.Errorf("%q is not a valid domain name such as example.com", s)
	}
	return a, nil
}

// validSelector reports whether s is a DKIM selector (RFC 6376 section
// 3.1): dot-separated labels of letters, digits, hyphens and underscores.
func validSelector(s string) bool {
	for _, label := range strings.Split(s, ".") {
		if label == "" || len(label) > 63 {
			return false
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || isDigit(c) || c == '-' || c == '_') {
				return false
			}
		}
	}
	return true
}

// newSuffix returns the domain under which MX hosts count as the new
// server's: the server's parent domain ("mail.host.example" gives
// "host.example"), unless that is the user's own domain, where only the
// exact name counts.
func newSuffix(server, domain string) string {
	parent := server
	if strings.Count(server, ".") >= 2 {
		parent = server[strings.IndexByte(server, '.')+1:]
	}
	if under(domain, parent) {
		return ""
	}
	return parent
}

// addresses returns the IPv4 and IPv6 addresses of host.
func (c *checker) addresses(ctx context.Context, host string) ([]net.IP, error) {
	var ips []net.IP
	var firstErr error
	for _, t := range []uint16{dns.TypeA, dns.TypeAAAA} {
		a, err := lookup(ctx, c.r, host, t)
		if err != nil {
			if firstErr == nil {
				firstErr = err
			}
			continue
		}
		for _, rr := range a.rrs {
			switch v := rr.(type) {
			case *dns.A:
				ips = append(ips, v.A)
			case *dns.AAAA:
				ips = append(ips, v.AAAA)
			}
		}
	}
	if len(ips) == 0 && firstErr == nil {
		firstErr = fmt.Errorf("%s has no address records", host)
	}
	if len(ips) > 0 {
		firstErr = nil
	}
	return ips, firstErr
}

// isNew reports whether host is the new server's: under the known provider's
// MX or host names, the new server itself, under its parent domain, or at
// one of its addresses.
func (c *checker) isNew(ctx context.Context, host string) bool {
	host = strings.TrimSuffix(strings.ToLower(host), ".")
	if c.prov != nil {
		return underAny(host, c.prov.mx) || underAny(host, c.prov.hosts)
	}
	if host == c.newServer || (c.newSuffix != "" && under(host, c.newSuffix)) {
		return true
	}
	if len(c.newIPs) == 0 {
		return false
	}
	ips, _ := c.addresses(ctx, host)
	for _, a := range ips {
		for _, b := range c.newIPs {
			if a.Equal(b) {
				return true
			}
		}
	}
	return false
}

// newName names the new provider for messages.
func (c *checker) newName() string {
	if c.prov != nil {
		return c.prov.name
	}
	return c.newServer
}

// humanTTL writes a TTL in words: "5 minutes", "1 hour", "2 days".
func humanTTL(ttl uint32) string {
	unit := func(n uint32, s string) string {
		if n == 1 {
			return "1 " + s
		}
		return fmt.Sprintf("%d %ss", n, s)
	}
	switch {
	case ttl >= 86400 && ttl%86400 == 0:
		return unit(ttl/86400, "day")
	case ttl >= 3600 && ttl%3600 == 0:
		return unit(ttl/3600, "hour")
	case ttl >= 60 && ttl%60 == 0:
		return unit(ttl/60, "minute")
	}
	return unit(ttl, "second")
}

// lookupProblem turns a failed lookup into an Unknown finding.
func lookupProblem(c *Check, what string, err error) {
	c.add(Unknown, fmt.Sprintf("Could not look up %s: %v.", what, err), "Try again later, or with another DNS server.")
}

// mxTTLAdvice is the TTL above which switching MX takes too long.
const mxTTLAdvice = 3600

func (c *checker) checkMX(ctx context.Context, a answer, err error) Check {
	ch := Check{Name: "MX"}
	if err != nil {
		lookupProblem(&ch, "where mail for "+c.domain+" goes", err)
		return ch
	}
	if a.nx {
		ch.add(Fail, fmt.Sprintf("The domain %s does not exist in DNS.", c.domain),
			"Check the spelling; if it is right, the domain may have expired, so renew it with your registrar.")
		return ch
	}
	mxs := make([]*dns.MX, 0, len(a.rrs))
	for _, rr := range a.rrs {
		mxs = append(mxs, rr.(*dns.MX))
	}
	sort.Slice(mxs, func(i, j int) bool {
		if mxs[i].Preference != mxs[j].Preference {
			return mxs[i].Preference < mxs[j].Preference
		}
		return mxs[i].Mx < mxs[j].Mx
	})
	ch.TTL = a.ttl
	target := "the MX records your mail provider gives you"
	switch {
	case c.prov != nil:
		target = "the ones " + c.prov.name + " gives you"
	case c.newServer != "":
		target = "ones pointing at " + c.newServer
	}
	if len(mxs) == 0 {
		ch.add(Fail, fmt.Sprintf("%s has no MX records, so other servers do not know where to deliver its mail.", c.domain),
			fmt.Sprintf("Add %s.", target))
		return ch
	}
	if len(mxs) == 1 && mxs[0].Mx == "." {
		ch.add(Fail, fmt.Sprintf("%s says it accepts no mail at all (null MX, RFC 7505).", c.domain),
			fmt.Sprintf("Replace the null MX record with %s.", target))
		return ch
	}
	var hosts []string
	newCount := 0
	for _, m := range mxs {
		h := strings.TrimSuffix(m.Mx, ".")
		hosts = append(hosts, h)
		line := fmt.Sprintf("MX %d %s", m.Preference, h)
		if p := providerOfMX(h); p != nil {
			line += " (" + p.name + ")"
		}
		if c.newServer != "" && c.isNew(ctx, h) {
			newCount++
			line += ": new server"
		}
		ch.detail("%s", line)
	}
	ttl := ""
	if a.ttl > 0 {
		ttl = fmt.Sprintf(" (TTL %s)", humanTTL(a.ttl))
	}
	where := hosts[0]
	if p := providerOfMX(hosts[0]); p != nil {
		where += " (" + p.name + ")"
	}
	if len(hosts) > 1 {
		where += fmt.Sprintf(" and %d more", len(hosts)-1)
	}
	lowerTTL := a.ttl > mxTTLAdvice
	switch {
	case c.newServer == "":
		ch.ok(fmt.Sprintf("Mail for %s goes to %s%s.", c.domain, where, ttl))
		if lowerTTL {
			ch.detail("Before switching providers, lower the MX TTL to 300 seconds a day ahead, so the change takes effect within minutes.")
		}
	case newCount == len(mxs):
		c.mxAtNew = true
		ch.ok(fmt.Sprintf("Mail for %s goes to the new server, %s%s.", c.domain, where, ttl))
	case newCount > 0:
		ch.add(Warn, fmt.Sprintf("Only some MX records of %s point at %s; mail may still land at the old server%s.", c.domain, c.newName(), ttl),
			"Remove the MX records that still point at the old server.")
	case lowerTTL:
		ch.add(Warn, fmt.Sprintf("Mail for %s still goes to %s, not to %s%s; with this TTL a change takes up to %s to reach everyone.", c.domain, where, c.newName(), ttl, humanTTL(a.ttl)),
			fmt.Sprintf("A day before switching, lower the MX TTL to 300 seconds; then replace the MX records with %s.", target))
	default:
		ch.add(Warn, fmt.Sprintf("Mail for %s still goes to %s, not to %s%s.", c.domain, where, c.newName(), ttl),
			fmt.Sprintf("When the copy is done, replace the MX records with %s.", target))
	}
	if c.prov != nil && c.prov.noCustomDomains {
		ch.detail("%s does not host mail for your own domain; for %s choose a provider that does.", c.prov.name, c.domain)
	}
	return ch
}
