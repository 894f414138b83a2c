package dav

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"mailmover/core/failure"
)

// Kind is the kind of data a DAV account holds.
type Kind int

const (
	// Contacts are vCards (RFC 6350) in CardDAV address books (RFC 6352).
	Contacts Kind = iota
	// Calendars are iCalendar objects (RFC 5545: events, tasks, journal
	// entries) in CalDAV calendars (RFC 4791).
	Calendars
)

// String returns "contacts" or "calendars".
func (k Kind) String() string {
	if k == Calendars {
		return "calendars"
	}
	return "contacts"
}

// MarshalText encodes the kind as its name.
func (k Kind) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

// service returns the RFC 6764 service name: "carddav" or "caldav".
func (k Kind) service() string {
	if k == Calendars {
		return "caldav"
	}
	return "carddav"
}

// protocol returns "CardDAV" or "CalDAV", for messages.
func (k Kind) protocol() string {
	if k == Calendars {
		return "CalDAV"
	}
	return "CardDAV"
}

// Ext returns the file extension of the kind's data: ".vcf" or ".ics".
func (k Kind) Ext() string {
	if k == Calendars {
		return ".ics"
	}
	return ".vcf"
}

// MediaType returns the kind's MIME type: text/vcard (RFC 6350 section
// 10.1) or text/calendar (RFC 5545 section 8.1).
func (k Kind) MediaType() string {
	if k == Calendars {
		return "text/calendar"
	}
	return "text/vcard"
}

// Resolver looks up the DNS records of RFC 6764 section 3 (SRV) and
// section 4 (TXT "path="). *net.Resolver satisfies it.
type Resolver interface {
	LookupSRV(ctx context.Context, service, proto, name string) (string, []*net.SRV, error)
	LookupTXT(ctx context.Context, name string) ([]string, error)
}

// Config says how to reach one account's CardDAV or CalDAV service.
type Config struct {
	// URL is where to start: https://HOST[:PORT][/PATH]. With a path, it
	// is the service's context URL (or any URL below it, such as the
	// principal); with none, the service is discovered on HOST. Plain
	// http:// is accepted only for a loopback address. It must not hold a
	// password.
	URL string
	// Email, when URL is empty, is the account's address: the service is
	// discovered from its domain (presets, RFC 6764 SRV records, then
	// https://DOMAIN/.well-known/).
	Email string
	// Username and Password log in (HTTP Basic, over TLS).
	Username string
	Password string
	// CAPEM holds extra PEM certificates to trust besides the system's.
	CAPEM []byte
	// Resolver looks up SRV and TXT records; nil means net.DefaultResolver.
	Resolver Resolver
	// Transport, if not nil, replaces the HTTP transport (tests).
	Transport http.RoundTripper
	// RetryWait is the first pause before a request is tried again after
	// a connection failure or a 429/503 answer; zero means one second.
	RetryWait time.Duration
}

// Source values of Account.Source: how the service was found.
const (
	// SourceURL is a URL the user gave, with a path.
	SourceURL = "url"
	// SourcePreset is a known provider's address.
	SourcePreset = "preset"
	// SourceSRV is an RFC 6764 SRV record (with TXT path if any).
	SourceSRV = "srv"
	// SourceWellKnown is https://HOST/.well-known/carddav or caldav.
	SourceWellKnown = "well-known"
	// SourceRoot is the root of a host the user named.
	SourceRoot = "root"
	// SourceGuess is a path common server software uses (Nextcloud,
	// Baïkal, SOGo, Kolab, cPanel).
	SourceGuess = "guess"
)

// Account is a connected CardDAV or CalDAV account: the service found,
// the user's principal (RFC 5397) and home set (RFC 6352 section 7.1.1,
// RFC 4791 section 6.2.1).
type Account struct {
	// Kind says whether the account holds contacts or calendars.
	Kind Kind `json:"kind"`
	// Name is "USER@HOST" of the service, for people.
	Name string `json:"name"`
	// Context is the URL discovery settled on.
	Context string `json:"context"`
	// Source says how Context was found (SourceURL, SourcePreset, ...).
	Source string `json:"source"`
	// Principal is the current user's principal URL.
	Principal string `json:"principal"`
	// HomeSet is the URL of the collection holding the user's address
	// books or calendars.
	HomeSet string `json:"homeSet"`

	c        *client
	homeURL  *url.URL
	resolver Resolver
}

// candidate is one context URL to try.
type candidate struct {
	url    *url.URL
	source string
}

// Connect finds kind's service for cfg, logs in, and finds the current
// user's principal and home set. Discovery tries, in order: the URL given
// (with a path), a known provider, the RFC 6764 SRV record of the domain,
// https://HOST/.well-known/SERVICE, the host's root, and the paths common
// server software uses. A refused login stops at once (Auth).
func Connect(ctx context.Context, cfg Config, kind Kind) (*Account, error) {
	c, err := newClient(&cfg)
	if err != nil {
		return nil, err
	}
	a := &Account{Kind: kind, c: c, resolver: cfg.Resolver}
	if a.resolver == nil {
		a.resolver = net.DefaultResolver
	}
	cands, explicit, err := a.candidates(ctx, &cfg)
	if err != nil {
		return nil, err
	}
	var errs []error
	// unreachable holds the hosts that could not be reached: their other
	// candidates are not tried, so that a dead host costs one timeout.
	unreachable := make(map[string]bool)
	for _, cand := range cands {
		if unreachable[cand.url.Host] {
			continue
		}
		principal, ctxURL, err := a.probe(ctx, cand.url)
		if err == nil {
			a.Context, a.Source = redact(ctxURL), cand.source
			a.Principal = principal.String()
			if err := a.findHomeSet(ctx, principal); err != nil {
				return nil, err
			}
			user := cfg.Username
			if user == "" {
				user = "anonymous"
			}
			a.Name = user + "@" + a.homeURL.Host
			return a, nil
		}
		switch failure.KindOf(err) {
		case failure.Auth, failure.Cancelled:
			return nil, err
		}
		if explicit {
			return nil, err
		}
		if failure.KindOf(err) == failure.Connection || failure.KindOf(err) == failure.TLS {
			unreachable[cand.url.Host] = true
		}
		errs = append(errs, err)
	}
	return nil, notFound(kind, cands, errs)
}

// errNoService marks an address that answers, but not as a CardDAV or
// CalDAV service.
var errNoService = errors.New("no CardDAV or CalDAV service at this address")

// notFound explains that no candidate answered: a TLS failure if that is
// all there was (so that the user sees the certificate to check), a
// connection failure if nothing could be reached, otherwise Config.
func notFound(kind Kind, cands []candidate, errs []error) error {
	var tried []string
	for _, c := range cands {
		tried = append(tried, redact(c.url))
	}
	allConn := len(errs) > 0
	for _, k := range []failure.Kind{failure.TLS, failure.Throttled, failure.Config} {
		for _, e := range errs {
			if failure.KindOf(e) == k && !errors.Is(e, errNoService) {
				return e
			}
		}
	}
	for _, e := range errs {
		if failure.KindOf(e) != failure.Connection {
			allConn = false
		}
	}
	msg := fmt.Sprintf("no %s service found (tried %s): give the address of the server's %s service, such as https://dav.example.com/", kind.protocol(), strings.Join(tried, ", "), kind.protocol())
	if allConn {
		return failure.New(failure.Connection, failure.ScopeAccount, "find the "+kind.protocol()+" service", fmt.Errorf("%s: %w", msg, errs[len(errs)-1]))
	}
	return failure.New(failure.Config, failure.ScopeAccount, "find the "+kind.protocol()+" service", errors.New(msg))
}

// candidates lists the context URLs to try. explicit is set when the user
// gave a URL with a path: only that one is tried.
func (a *Account) candidates(ctx context.Context, cfg *Config) (cands []candidate, explicit bool, err error) {
	svc := a.Kind.service()
	add := func(u *url.URL, source string) {
		for _, c := range cands {
			if c.url.String() == u.String() {
				return
			}
		}
		cands = append(cands, candidate{url: u, source: source})
	}
	host := ""
	var base *url.URL
	switch {
	case cfg.URL != "":
		u, err := ParseURL(cfg.URL)
		if err != nil {
			return nil, false, err
		}
		if u.Path != "" && u.Path != "/" {
			a.c.trust(u)
			return []candidate{{url: u, source: SourceURL}}, true, nil
		}
		base, host = u, u.Hostname()
	case cfg.Email != "":
		at := strings.LastIndex(cfg.Email, "@")
		if at < 0 || at == len(cfg.Email)-1 {
			return nil, false, failure.Newf(failure.Config, failure.ScopeAccount, "%q is not an email address", cfg.Email)
		}
		host = strings.ToLower(cfg.Email[at+1:])
	default:
		return nil, false, failure.Newf(failure.Config, failure.ScopeAccount, "no %s address: give https://HOST/PATH or an email address", a.Kind.protocol())
	}
	if p, ok := PresetForDomain(host); ok {
		if u, err := url.Parse(p.URL(a.Kind)); err == nil {
			add(u, SourcePreset)
		}
	}
	if base == nil {
		for _, u := range a.lookupSRV(ctx, svc, host) {
			add(u, SourceSRV)
		}
		base = &url.URL{Scheme: "https", Host: host}
	}
	add(base.ResolveReference(&url.URL{Path: "/.well-known/" + svc}), SourceWellKnown)
	if cfg.URL != "" {
		add(base.ResolveReference(&url.URL{Path: "/"}), SourceRoot)
		for _, p := range hostPatterns {
			u := base.ResolveReference(&url.URL{Path: p.path})
			if p.port != 0 {
				u.Host = net.JoinHostPort(base.Hostname(), strconv.Itoa(p.port))
			}
			add(u, SourceGuess)
		}
	}
	for _, c := range cands {
		a.c.trust(c.url)
	}
	return cands, false, nil
}

// lookupSRV returns the context URLs of the domain's _carddavs._tcp or
// _caldavs._tcp records (RFC 6764 section 3; only the TLS variants, since
// plaintext is never used), in priority and weight order, with the path
// of the matching TXT record (section 4) or /.well-known/SERVICE. DNS
// failures just yield nothing.
func (a *Account) lookupSRV(ctx context.Context, svc, domain string) []*url.URL {
	_, srvs, err := a.resolver.LookupSRV(ctx, svc+"s", "tcp", domain)
	if err != nil || len(srvs) == 0 {
		return nil
	}
	sort.SliceStable(srvs, func(i, j int) bool {
		if srvs[i].Priority != srvs[j].Priority {
			return srvs[i].Priority < srvs[j].Priority
		}
		return srvs[i].Weight > srvs[j].Weight
	})
	path := "/.well-known/" + svc
	if txts, err := a.resolver.LookupTXT(ctx, "_"+svc+"s._tcp."+domain); err == nil {
		for _, t := range txts {
			for _, kv := range strings.Fields(t) {
				if v, ok := strings.CutPrefix(kv, "path="); ok && strings.HasPrefix(v, "/") {
					path = v
				}
			}
		}
	}
	var out []*url.URL
	for _, s := range srvs {
		target := strings.TrimSuffix(s.Target, ".")
		if target == "" {
			// RFC 2782: "." means the service is decidedly not available.
			return nil
		}
		hostport := target
		if s.Port != 443 && s.Port != 0 {
			hostport = net.JoinHostPort(target, strconv.Itoa(int(s.Port)))
		}
		out = append(out, &url.URL{Scheme: "https", Host: hostport, Path: path})
	}
	return out
}

// ParseURL parses a DAV address as the user gives it: https://HOST/PATH,
// or http:// to a loopback address. User information without a password
// is allowed and removed (the caller reads the user name from it); a
// password is refused without being repeated.
func ParseURL(s string) (*url.URL, error) {
	if hasPassword(s) {
		return nil, failure.Newf(failure.Config, failure.ScopeAccount, "the address must not contain a password: give it with --from-password-env/--to-password-env or keep it in the keychain")
	}
	u, err := url.Parse(strings.TrimSpace(s))
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, failure.New(failure.Config, failure.ScopeAccount, "read the address", fmt.Errorf("not a valid address (%w): write it as https://HOST/PATH", err))
	}
	if u.Host == "" || u.Opaque != "" {
		return nil, failure.Newf(failure.Config, failure.ScopeAccount, "%q is not a server address: write it as https://HOST/PATH", redact(u))
	}
	if err := checkScheme(u); err != nil {
		return nil, err
	}
	u.User = nil
	u.Fragment = ""
	return u, nil
}

// hasPassword reports whether the URL s carries a password ("user:pass@"),
// looking at the raw text so that no parse error can echo it.
func hasPassword(s string) bool {
	_, rest, ok := strings.Cut(s, "://")
	if !ok {
		return false
	}
	if i := strings.IndexAny(rest, "/?#"); i >= 0 {
		rest = rest[:i]
	}
	at := strings.LastIndex(rest, "@")
	return at >= 0 && strings.Contains(rest[:at], ":")
}

// probe asks u for the current user's principal (RFC 5397), logged in.
// It returns the principal and the context URL reached after redirects.
// When redirects lead to another site that then asks for a login, the
// password is sent there too: RFC 6764 section 5 lets the domain's
// .well-known address hand over to the provider's host, over https only.
func (a *Account) probe(ctx context.Context, u *url.URL) (principal, reached *url.URL, err error) {
	body := propfindBody("D:current-user-principal")
	rq := request{method: "PROPFIND", url: u, body: body, noRetry: true,
		header: http.Header{"Depth": {"0"}, "Content-Type": {"application/xml; charset=utf-8"}}}
	op := "find the " + a.Kind.protocol() + " service at " + redact(u)
	resp, err := a.c.do(ctx, rq)
	if err != nil {
		return nil, nil, err
	}
	if resp.code == http.StatusUnauthorized && !resp.authed && resp.url.Scheme == "https" {
		a.c.trust(resp.url)
		rq.url = resp.url
		if resp, err = a.c.do(ctx, rq); err != nil {
			return nil, nil, err
		}
	}
	if resp.code != http.StatusMultiStatus {
		se := resp.statusError("PROPFIND")
		switch {
		case resp.code/100 == 2:
			return nil, nil, failure.New(failure.Config, failure.ScopeAccount, op, fmt.Errorf("%w: %w: not a WebDAV server", errNoService, se))
		case resp.code == http.StatusUnauthorized, resp.code == http.StatusProxyAuthRequired,
			resp.code == http.StatusTooManyRequests, resp.code == http.StatusServiceUnavailable:
			return nil, nil, classifyStatus(op, se, failure.ScopeAccount)
		case resp.code/100 == 4:
			// Nothing to log in to here: a wrong address.
			return nil, nil, failure.New(failure.Config, failure.ScopeAccount, op, fmt.Errorf("%w: %w", errNoService, se))
		case resp.code/100 == 5:
			return nil, nil, failure.New(failure.Connection, failure.ScopeAccount, op, se)
		}
		return nil, nil, classifyStatus(op, se, failure.ScopeAccount)
	}
	ms, err := parseMultistatus(resp.body)
	if err != nil {
		return nil, nil, failure.New(failure.Malformed, failure.ScopeAccount, op, err)
	}
	for _, r := range ms.Responses {
		p := r.props()[xmlName(nsDAV, "current-user-principal")]
		if p == nil || len(p.Hrefs) == 0 {
			continue
		}
		pu, err := resolveHref(resp.url, p.Hrefs[0])
		if err != nil {
			return nil, nil, failure.New(failure.Malformed, failure.ScopeAccount, op, err)
		}
		if err := a.sameSite(resp.url, pu); err != nil {
			return nil, nil, err
		}
		return pu, resp.url, nil
	}
	return nil, nil, failure.New(failure.Auth, failure.ScopeAccount, op, errors.New("the server does not say who is logged in (no current-user-principal): check the user name and password"))
}

// sameSite refuses to follow a server's pointer to a host outside the
// sites the password may go to, or to plain http.
func (a *Account) sameSite(from, to *url.URL) error {
	if err := checkScheme(to); err != nil {
		return err
	}
	if a.c.trusts(to) {
		return nil
	}
	return failure.Newf(failure.Config, failure.ScopeAccount, "%s points to %s, another provider's server; Mailmover does not send the password there: give that address directly if it is right", redact(from), to.Host)
}

// findHomeSet reads the principal's address-book or calendar home set.
// A principal without one is taken as its own home (some small servers).
func (a *Account) findHomeSet(ctx context.Context, principal *url.URL) error {
	prop := "CR:addressbook-home-set"
	name := xmlName(nsCardDAV, "addressbook-home-set")
	if a.Kind == Calendars {
		prop, name = "C:calendar-home-set", xmlName(nsCalDAV, "calendar-home-set")
	}
	ms, reached, err := a.propfind(ctx, principal, "0", failure.ScopeAccount, prop)
	if err != nil {
		return err
	}
	home := reached
	for _, r := range ms.Responses {
		p := r.props()[name]
		if p == nil || len(p.Hrefs) == 0 {
			continue
		}
		h, err := resolveHref(reached, p.Hrefs[0])
		if err != nil {
			return failure.New(failure.Malformed, failure.ScopeAccount, "read the home set", err)
		}
		home = h
		break
	}
	if err := a.sameSite(reached, home); err != nil {
		return err
	}
	if !strings.HasSuffix(home.Path, "/") {
		home.Path += "/"
		home.RawPath = ""
	}
	a.homeURL = home
	a.HomeSet = home.String()
	return nil
}

// propfind sends a PROPFIND with depth for props to u and returns the
// multistatus and the URL that answered. Failures reach scope, except
// those that always reach the whole account (Auth, Quota, connection).
func (a *Account) propfind(ctx context.Context, u *url.URL, depth string, scope failure.Scope, props ...string) (*multistatus, *url.URL, error) {
	op := "PROPFIND " + redact(u)
	resp, err := a.c.do(ctx, request{method: "PROPFIND", url: u, body: propfindBody(props...),
		header: http.Header{"Depth": {depth}, "Content-Type": {"application/xml; charset=utf-8"}}})
	if err != nil {
		return nil, nil, err
	}
	if resp.code != http.StatusMultiStatus {
		return nil, nil, classifyStatus(op, resp.statusError("PROPFIND"), scope)
	}
	ms, err := parseMultistatus(resp.body)
	if err != nil {
		return nil, nil, failure.New(failure.Malformed, scope, op, err)
	}
	return ms, resp.url, nil
}
