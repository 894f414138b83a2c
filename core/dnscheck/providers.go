package dnscheck

import "strings"

// provider is a mail hosting service whose DNS settings are known.
type provider struct {
	name string
	// hosts are domains that name the provider: its web, IMAP and SMTP hosts.
	hosts []string
	// mx are domains under which its MX hosts are.
	mx []string
	// spf are the include: targets it tells customers to publish, the one to
	// suggest first; any of them counts.
	spf []string
	// dkim are the DKIM selectors it uses.
	dkim []string
	// noCustomDomains is set for services that host only their own addresses.
	noCustomDomains bool
}

// providers is a read-only table of well-known mail providers.
var providers = [...]provider{
	{
		name:  "Google",
		hosts: []string{"google.com", "gmail.com", "googlemail.com"},
		mx:    []string{"google.com", "googlemail.com"},
		spf:   []string{"_spf.google.com"},
		dkim:  []string{"google"},
	},
	{
		name:  "Microsoft 365",
		hosts: []string{"outlook.com", "office365.com", "microsoft.com", "hotmail.com", "live.com"},
		mx:    []string{"protection.outlook.com", "mx.microsoft"},
		spf:   []string{"spf.protection.outlook.com"},
		// Published as CNAMEs to keys in the tenant's onmicrosoft.com domain.
		dkim: []string{"selector1", "selector2"},
	},
	{
		name:  "Fastmail",
		hosts: []string{"fastmail.com", "fastmail.fm", "messagingengine.com"},
		mx:    []string{"messagingengine.com"},
		spf:   []string{"spf.messagingengine.com"},
		dkim:  []string{"fm1", "fm2", "fm3"},
	},
	{
		// Guess: zoho.eu is the EU data centre's include; zohomail.eu is
		// accepted as well. The "zoho" selector is Zoho's suggested name,
		// but customers may choose another.
		name:  "Zoho Mail (EU)",
		hosts: []string{"zoho.eu", "zohomail.eu"},
		mx:    []string{"zoho.eu"},
		spf:   []string{"zoho.eu", "zohomail.eu", "zoho.com", "zohomail.com"},
		dkim:  []string{"zoho"},
	},
	{
		// Guess: Zoho's help pages give include:zoho.com in older and
		// include:zohomail.com in newer versions; both are accepted.
		name:  "Zoho Mail",
		hosts: []string{"zoho.com", "zohomail.com", "zoho.in", "zoho.com.au"},
		mx:    []string{"zoho.com", "zoho.in", "zoho.com.au"},
		spf:   []string{"zoho.com", "zohomail.com", "zoho.eu", "zohomail.eu"},
		dkim:  []string{"zoho"},
	},
	{
		// Guess: IONOS customers in Europe get _spf-eu.ionos.com, in
		// America _spf.perfora.net; both are accepted.
		name:  "IONOS",
		hosts: []string{"ionos.de", "ionos.co.uk", "ionos.fr", "ionos.es", "ionos.it", "ionos.at", "1und1.de", "kundenserver.de"},
		mx:    []string{"ionos.de", "ionos.co.uk", "ionos.fr", "ionos.es", "ionos.it", "kundenserver.de"},
		spf:   []string{"_spf-eu.ionos.com", "_spf.perfora.net"},
	},
	{
		name:  "IONOS (US)",
		hosts: []string{"ionos.com", "1and1.com", "perfora.net"},
		mx:    []string{"ionos.com", "perfora.net"},
		spf:   []string{"_spf.perfora.net", "_spf-eu.ionos.com"},
	},
	{
		// Guess: include:mx.ovh.com is what OVH's guides show for its
		// shared mail offers; its DKIM selectors are per customer.
		name:  "OVHcloud",
		hosts: []string{"ovh.net", "ovh.com", "ovh.ca", "ovhcloud.com"},
		mx:    []string{"ovh.net", "ovh.ca"},
		spf:   []string{"mx.ovh.com"},
	},
	{
		name:            "GMX / WEB.DE",
		hosts:           []string{"gmx.net", "gmx.de", "gmx.com", "gmx.at", "gmx.ch", "web.de"},
		noCustomDomains: true,
	},
}

// providerOf returns the provider whose host or MX names host is under, or nil.
func providerOf(host string) *provider {
	for i := range providers {
		p := &providers[i]
		if underAny(host, p.hosts) || underAny(host, p.mx) {
			return p
		}
	}
	return nil
}

// providerOfMX returns the provider that runs the MX host, or nil.
func providerOfMX(host string) *provider {
	for i := range providers {
		if underAny(host, providers[i].mx) {
			return &providers[i]
		}
	}
	return nil
}

// under reports whether host is domain or a name below it.
func under(host, domain string) bool {
	host, domain = strings.TrimSuffix(strings.ToLower(host), "."), strings.TrimSuffix(strings.ToLower(domain), ".")
	return host == domain || strings.HasSuffix(host, "."+domain)
}

func underAny(host string, domains []string) bool {
	for _, d := range domains {
		if under(host, d) {
			return true
		}
	}
	return false
}
