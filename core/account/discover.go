package account

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"mailmover/core/failure"
)

// Sources of a Discovery.
const (
	// SourcePreset is a provider's own domain (gmail.com).
	SourcePreset = "preset"
	// SourceAutoconfig is the autoconfig XML at https://autoconfig.DOMAIN/.
	SourceAutoconfig = "autoconfig"
	// SourceWellKnown is the autoconfig XML at https://DOMAIN/.well-known/.
	SourceWellKnown = "well-known"
	// SourceSRV is an RFC 6186 SRV record.
	SourceSRV = "srv"
	// SourceMX is a known provider recognised by the domain's MX host.
	SourceMX = "mx"
	// SourceGuess is a guessed server name nothing confirmed.
	SourceGuess = "guess"
)

const (
	// httpTimeout bounds one autoconfig request.
	httpTimeout = 15 * time.Second
	// maxAutoconfigSize bounds the autoconfig document read.
	maxAutoconfigSize = 1 << 20
)

// Resolver looks up the DNS records autodiscovery needs. *net.Resolver
// satisfies it. If it also has LookupHost (as *net.Resolver does), the final
// guess prefers a server name that exists.
type Resolver interface {
	LookupSRV(ctx context.Context, service, proto, name string) (string, []*net.SRV, error)
	LookupMX(ctx context.Context, name string) ([]*net.MX, error)
}

// hostResolver is the optional part of a Resolver used by the final guess.
type hostResolver interface {
	LookupHost(ctx context.Context, host string) ([]string, error)
}

// Discoverer finds the IMAP settings of an email address, in Thunderbird's
// order: a known provider's domain, autoconfig XML published by the domain,
// RFC 6186 SRV records, the MX host, and finally a guess.
type Discoverer struct {
	// Resolver looks up DNS records; nil means net.DefaultResolver.
	Resolver Resolver
	// HTTPClient fetches autoconfig documents; nil means a client that
	// times out and follows only https redirects.
	HTTPClient *http.Client
	// AutoconfigURLs, if non-nil, replaces the URL templates (tests point
	// them at a local server). The default, in Thunderbird's order, is
	// https://autoconfig.DOMAIN/mail/config-v1.1.xml?emailaddress=EMAIL then
	// https://DOMAIN/.well-known/autoconfig/mail/config-v1.1.xml. A URL whose
	// path holds "/.well-known/" is reported as SourceWellKnown.
	AutoconfigURLs func(domain, email string) []string
}

// Discovery is what Discover found.
type Discovery struct {
	// Account holds the proposed settings; its Name and Email are the
	// address.
	Account Account
	// Source says where the settings come from: SourcePreset,
	// SourceAutoconfig, SourceWellKnown, SourceSRV, SourceMX or SourceGuess.
	Source string
	// Preset is the provider recognised, or nil.
	Preset *Preset
	// Hint tells the user in plain words what to do or check next, "" if
	// nothing.
	Hint string
}

// DefaultAutoconfigURLs returns the autoconfig URLs Thunderbird tries on the
// domain itself, in its order.
func DefaultAutoconfigURLs(domain, email string) []string {
	return []string{
		"https://autoconfig." + domain + "/mail/config-v1.1.xml?emailaddress=" + url.QueryEscape(email),
		"https://" + domain + "/.well-known/autoconfig/mail/config-v1.1.xml",
	}
}

// Discover proposes IMAP settings for email. It never connects to the IMAP
// server: the caller tests the proposal. When nothing is published for the
// domain it returns a guess (imap.DOMAIN on port 993) with Source
// SourceGuess and a hint saying so. It fails only for an address it cannot
// read or when ctx ends.
func (d *Discoverer) Discover(ctx context.Context, email string) (Discovery, error) {
	email = strings.TrimSpace(email)
	op := fmt.Sprintf("find the settings for %s", email)
	_, domain, err := splitEmail(email)
	if err != nil {
		return Discovery{}, failure.New(failure.Config, failure.ScopeAccount, op, err)
	}
	if p, ok := PresetForDomain(domain); ok {
		return fromPreset(p, email, SourcePreset), nil
	}
	cancelled := func() (Discovery, error) {
		return Discovery{}, failure.New(failure.Cancelled, failure.ScopeAccount, op, ctx.Err())
	}

	urls := DefaultAutoconfigURLs
	if d.AutoconfigURLs != nil {
		urls = d.AutoconfigURLs
	}
	for _, u := range urls(domain, email) {
		a, err := d.fetchAutoconfig(ctx, u, email)
		if ctx.Err() != nil {
			return cancelled()
		}
		if err != nil {
			continue
		}
		src := SourceAutoconfig
		if strings.Contains(u, "/.well-known/") {
			src = SourceWellKnown
		}
		return withHostPreset(Discovery{Account: a, Source: src}), nil
	}

	r := d.Resolver
	if r == nil {
		r = net.DefaultResolver
	}
	if disc, ok := discoverSRV(ctx, r, email, domain); ok {
		return disc, nil
	}
	if ctx.Err() != nil {
		return cancelled()
	}

	mxs, _ := r.LookupMX(ctx, domain)
	if ctx.Err() != nil {
		return cancelled()
	}
	var mxHost string
	for _, mx := range mxs {
		host := normDomain(mx.Host)
		if host == "" {
			continue // RFC 7505 null MX: the domain takes no mail
		}
		if p, ok := PresetForMX(host); ok {
			return fromPreset(p, email, SourceMX), nil
		}
		if mxHost == "" {
			mxHost = host
		}
	}

	disc := d.guess(ctx, r, email, domain, mxHost)
	if ctx.Err() != nil {
		return cancelled()
	}
	return disc, nil
}

// splitEmail checks that email looks like an address and returns its parts,
// the domain lower-cased.
func splitEmail(email string) (local, domain string, err error) {
	i := strings.LastIndex(email, "@")
	if i <= 0 || i == len(email)-1 {
		return "", "", fmt.Errorf("%q is not an email address: write it as name@example.com", email)
	}
	local, domain = email[:i], normDomain(email[i+1:])
	if domain == "" || strings.ContainsAny(domain, " \t/\\:?#[]@%") || strings.HasPrefix(domain, ".") || strings.Contains(domain, "..") {
		return "", "", fmt.Errorf("%q is not an email address: the part after @ must be a domain such as example.com", email)
	}
	return local, domain, nil
}

func fromPreset(p Preset, email, source string) Discovery {
	return Discovery{Account: p.Account(email), Source: source, Preset: &p, Hint: p.Hint}
}

// withHostPreset attaches the preset whose server disc found, for its hint.
func withHostPreset(disc Discovery) Discovery {
	if p, ok := presetForHost(disc.Account.Host); ok {
		disc.Preset = &p
		disc.Account.Provider = p.ID
		disc.Hint = p.Hint
	}
	return disc
}

// fetchAutoconfig reads the autoconfig document at u and returns the
// account it describes.
func (d *Discoverer) fetchAutoconfig(ctx context.Context, u, email string) (Account, error) {
	ctx, cancel := context.WithTimeout(ctx, httpTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return Account{}, err
	}
	req.Header.Set("Accept", "application/xml, text/xml")
	c := d.HTTPClient
	if c == nil {
		c = defaultHTTPClient()
	}
	resp, err := c.Do(req)
	if err != nil {
		return Account{}, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return Account{}, fmt.Errorf("get %s: %s", u, resp.Status)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxAutoconfigSize))
	if err != nil {
		return Account{}, fmt.Errorf("get %s: %w", u, err)
	}
	return parseAutoconfig(data, email)
}

// defaultHTTPClient fetches autoconfig documents with a timeout, following
// redirects only to https.
func defaultHTTPClient() *http.Client {
	return &http.Client{
		Timeout: httpTimeout,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if req.URL.Scheme != "https" {
				return errors.New("autoconfig redirect to a non-https address refused")
			}
			if len(via) >= 5 {
				return errors.New("too many autoconfig redirects")
			}
			return nil
		},
	}
}

// discoverSRV looks up the RFC 6186 SRV records _imaps._tcp then
// _imap._tcp. A target of "." means the service is not offered.
func discoverSRV(ctx context.Context, r Resolver, email, domain string) (Discovery, bool) {
	services := []struct {
		name string
		sec  Security
	}{
		{"imaps", SecurityTLS},
		{"imap", SecurityStartTLS},
	}
	for _, svc := range services {
		// net.Resolver returns the valid records along with an error when
		// some targets are malformed, so records are used even with err.
		_, addrs, _ := r.LookupSRV(ctx, svc.name, "tcp", domain)
		if ctx.Err() != nil {
			return Discovery{}, false
		}
		for _, srv := range addrs {
			target := normDomain(srv.Target)
			if target == "" || srv.Port == 0 {
				continue
			}
			a := Account{
				Name:     email,
				Email:    email,
				Host:     target,
				Port:     int(srv.Port),
				Security: svc.sec,
				Username: email,
				Auth:     AuthPassword,
			}
			if a.Validate() != nil {
				continue
			}
			disc := withHostPreset(Discovery{Account: a, Source: SourceSRV})
			if disc.Hint == "" {
				disc.Hint = "Found in the domain's DNS records (RFC 6186). The user name is assumed to be the full email address; change it if your provider says otherwise."
			}
			return disc, true
		}
	}
	return Discovery{}, false
}

// guess proposes imap.DOMAIN, or mail.DOMAIN when only that name exists, on
// port 993 with implicit TLS. mxHost, if not empty, is the domain's MX host,
// named in the hint.
func (d *Discoverer) guess(ctx context.Context, r Resolver, email, domain, mxHost string) Discovery {
	host := "imap." + domain
	var preset *Preset
	if hr, ok := r.(hostResolver); ok {
		for _, candidate := range []string{"imap." + domain, "mail." + domain} {
			if addrs, err := hr.LookupHost(ctx, candidate); err == nil && len(addrs) > 0 {
				host = candidate
				break
			}
			if ctx.Err() != nil {
				break
			}
		}
	}
	if host == "mail."+domain {
		if p, ok := PresetByID("hosting"); ok {
			preset = &p
		}
	}
	hint := fmt.Sprintf("This is a guess: %s publishes no mail settings, so Mailmover proposes %s on port 993 with TLS. Check the server name with your provider before you start.", domain, host)
	if mxHost != "" {
		hint += fmt.Sprintf(" Mail for %s is received by %s; if that is your hosting company's server, its name may be the right one.", domain, mxHost)
	}
	a := Account{
		Name:     email,
		Email:    email,
		Host:     host,
		Port:     993,
		Security: SecurityTLS,
		Username: email,
		Auth:     AuthPassword,
	}
	if preset != nil {
		a.Provider = preset.ID
		hint += " " + preset.Hint
	}
	return Discovery{Account: a, Source: SourceGuess, Preset: preset, Hint: hint}
}
