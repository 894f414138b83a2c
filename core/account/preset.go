package account

import (
	"slices"
	"strings"
)

// Username forms of a Preset.
const (
	// UsernameEmail logs in with the full email address.
	UsernameEmail = "email"
	// UsernameLocalPart logs in with the part before the @.
	UsernameLocalPart = "localpart"
)

// DomainPlaceholder stands for the email address's domain in Preset.Host.
const DomainPlaceholder = "DOMAIN"

// Preset is the IMAP settings of a mail provider.
type Preset struct {
	// ID is a stable identifier, kept in Account.Provider.
	ID string
	// Name is the provider's name as users know it.
	Name string
	// Domains are the provider's own email domains (gmail.com).
	Domains []string
	// MXSuffixes are the names under which the provider's MX hosts live, for
	// domains hosted there (google.com for Google Workspace).
	MXSuffixes []string
	// Host is the IMAP server; it may contain DomainPlaceholder.
	Host string
	// Port is the IMAP port.
	Port int
	// Security is how the connection is protected.
	Security Security
	// UsernameForm is UsernameEmail or UsernameLocalPart.
	UsernameForm string
	// Hint tells in plain words what to do before Mailmover can log in
	// (create an app password, switch IMAP on); "" if nothing.
	Hint string
	// OAuth reports whether the provider offers OAuth 2.0 sign-in.
	OAuth bool
	// OAuthOnly reports whether the provider refuses passwords over IMAP, so
	// that OAuth 2.0 is the only way in.
	OAuthOnly bool
	// MaxMessageSize is the largest message the provider accepts by IMAP
	// APPEND, in bytes; 0 if unknown.
	MaxMessageSize int64
}

// HostFor returns the preset's IMAP server for an address in domain.
func (p Preset) HostFor(domain string) string {
	return strings.ReplaceAll(p.Host, DomainPlaceholder, normDomain(domain))
}

// Account returns an account for email with the preset's settings. Its Name
// is the email address; the login method is OAuth 2.0 for providers that
// accept nothing else, a password otherwise.
func (p Preset) Account(email string) Account {
	local, domain := email, ""
	if i := strings.LastIndex(email, "@"); i >= 0 {
		local, domain = email[:i], email[i+1:]
	}
	user := email
	if p.UsernameForm == UsernameLocalPart {
		user = local
	}
	auth := AuthPassword
	if p.OAuthOnly {
		auth = AuthOAuth2
	}
	return Account{
		Name:     email,
		Email:    email,
		Host:     p.HostFor(domain),
		Port:     p.Port,
		Security: p.Security,
		Username: user,
		Auth:     auth,
		Provider: p.ID,
	}
}

// Presets returns the known providers. The slice and its contents are the
// caller's to keep.
func Presets() []Preset {
	const (
		imapOffGMX   = "Switch IMAP on first: in GMX webmail open Settings → POP3 & IMAP and allow access. With two-factor authentication, use an app password."
		appPwYahoo   = "Yahoo needs an app password: Account Info → Account Security → Generate app password (two-step verification must be on). Your normal password does not work."
		imapOffZoho  = "Switch IMAP on first: Zoho Mail → Settings → Mail Accounts → IMAP Access. With two-factor authentication, use an app-specific password."
		mib          = 1 << 20
		gmailAppend  = 35651584 // APPENDLIMIT advertised by imap.gmail.com
		outlookLimit = 35 * mib // Exchange Online default message size
	)
	return []Preset{
		{
			ID: "gmail", Name: "Gmail / Google Workspace",
			Domains:    []string{"gmail.com", "googlemail.com"},
			MXSuffixes: []string{"google.com", "googlemail.com"},
			Host:       "imap.gmail.com", Port: 993, Security: SecurityTLS, UsernameForm: UsernameEmail,
			Hint:  "Sign in with Google, or use an app password: turn on 2-Step Verification, then create one under Google Account → Security → App passwords. Your normal password does not work.",
			OAuth: true, MaxMessageSize: gmailAppend,
		},
		{
			ID: "microsoft", Name: "Microsoft 365 / Outlook.com",
			Domains: []string{
				"outlook.com", "hotmail.com", "live.com", "msn.com",
				"outlook.de", "outlook.fr", "outlook.es", "outlook.it", "outlook.at",
				"hotmail.de", "hotmail.fr", "hotmail.es", "hotmail.it", "hotmail.co.uk",
				"live.de", "live.fr", "live.it", "live.nl", "live.co.uk",
			},
			MXSuffixes: []string{"outlook.com", "protection.outlook.com"},
			Host:       "outlook.office365.com", Port: 993, Security: SecurityTLS, UsernameForm: UsernameEmail,
			Hint:  "Sign in with your Microsoft account: Outlook.com and Microsoft 365 no longer accept passwords over IMAP. For a work or school account, an administrator may have to allow IMAP first.",
			OAuth: true, OAuthOnly: true, MaxMessageSize: outlookLimit,
		},
		{
			ID: "yahoo", Name: "Yahoo Mail",
			Domains: []string{
				"yahoo.com", "yahoo.co.uk", "yahoo.de", "yahoo.fr", "yahoo.es", "yahoo.it",
				"yahoo.ca", "yahoo.com.au", "yahoo.co.in", "ymail.com", "rocketmail.com",
			},
			MXSuffixes: []string{"yahoodns.net"},
			Host:       "imap.mail.yahoo.com", Port: 993, Security: SecurityTLS, UsernameForm: UsernameEmail,
			Hint: appPwYahoo,
		},
		{
			ID: "aol", Name: "AOL Mail",
			Domains: []string{"aol.com", "aim.com"},
			Host:    "imap.aol.com", Port: 993, Security: SecurityTLS, UsernameForm: UsernameEmail,
			Hint: "AOL needs an app password: Account Info → Account Security → Generate app password. Your normal password does not work.",
		},
		{
			ID: "icloud", Name: "iCloud Mail",
			Domains: []string{"icloud.com", "me.com", "mac.com"},
			Host:    "imap.mail.me.com", Port: 993, Security: SecurityTLS, UsernameForm: UsernameLocalPart,
			Hint: "iCloud needs an app-specific password: appleid.apple.com → Sign-In and Security → App-Specific Passwords (two-factor authentication must be on). If the login fails with the name before the @, try the full address.",
		},
		{
			ID: "gmx", Name: "GMX",
			Domains:    []string{"gmx.de", "gmx.net", "gmx.at", "gmx.ch"},
			MXSuffixes: []string{"gmx.net"},
			Host:       "imap.gmx.net", Port: 993, Security: SecurityTLS, UsernameForm: UsernameEmail,
			Hint: imapOffGMX,
		},
		{
			ID: "gmx-com", Name: "GMX (gmx.com)",
			Domains:    []string{"gmx.com", "gmx.us", "gmx.co.uk"},
			MXSuffixes: []string{"gmx.com"},
			Host:       "imap.gmx.com", Port: 993, Security: SecurityTLS, UsernameForm: UsernameEmail,
			Hint: imapOffGMX,
		},
		{
			ID: "webde", Name: "WEB.DE",
			Domains:    []string{"web.de"},
			MXSuffixes: []string{"web.de"},
			Host:       "imap.web.de", Port: 993, Security: SecurityTLS, UsernameForm: UsernameEmail,
			Hint: "Switch IMAP on first: in WEB.DE webmail open Settings → POP3/IMAP and allow access. With two-factor authentication, use an app password.",
		},
		{
			ID: "ionos", Name: "IONOS (Germany)",
			MXSuffixes: []string{"ionos.de", "kundenserver.de"},
			Host:       "imap.ionos.de", Port: 993, Security: SecurityTLS, UsernameForm: UsernameEmail,
		},
		{
			ID: "ionos-com", Name: "IONOS (US)",
			MXSuffixes: []string{"ionos.com"},
			Host:       "imap.ionos.com", Port: 993, Security: SecurityTLS, UsernameForm: UsernameEmail,
		},
		{
			ID: "ionos-uk", Name: "IONOS (UK)",
			MXSuffixes: []string{"ionos.co.uk"},
			Host:       "imap.ionos.co.uk", Port: 993, Security: SecurityTLS, UsernameForm: UsernameEmail,
		},
		{
			ID: "ovh", Name: "OVHcloud (MX Plan)",
			MXSuffixes: []string{"ovh.net"},
			Host:       "ssl0.ovh.net", Port: 993, Security: SecurityTLS, UsernameForm: UsernameEmail,
		},
		{
			ID: "strato", Name: "STRATO",
			MXSuffixes: []string{"rzone.de"},
			Host:       "imap.strato.de", Port: 993, Security: SecurityTLS, UsernameForm: UsernameEmail,
		},
		{
			ID: "fastmail", Name: "Fastmail",
			Domains: []string{
				"fastmail.com", "fastmail.fm", "fastmail.net", "fastmail.org",
				"fastmail.de", "fastmail.co.uk", "fastmail.us", "sent.com",
			},
			MXSuffixes: []string{"messagingengine.com"},
			Host:       "imap.fastmail.com", Port: 993, Security: SecurityTLS, UsernameForm: UsernameEmail,
			Hint: "Fastmail needs an app password: Settings → Privacy & Security → App passwords. Your normal password does not work.",
		},
		{
			ID: "zoho", Name: "Zoho Mail",
			Domains: []string{"zoho.com", "zohomail.com"},
			Host:    "imap.zoho.com", Port: 993, Security: SecurityTLS, UsernameForm: UsernameEmail,
			Hint: imapOffZoho,
		},
		{
			ID: "zoho-eu", Name: "Zoho Mail (EU)",
			Domains: []string{"zoho.eu", "zohomail.eu"},
			Host:    "imap.zoho.eu", Port: 993, Security: SecurityTLS, UsernameForm: UsernameEmail,
			Hint: imapOffZoho,
		},
		{
			ID: "zoho-business", Name: "Zoho Mail (own domain)",
			MXSuffixes: []string{"zoho.com"},
			Host:       "imappro.zoho.com", Port: 993, Security: SecurityTLS, UsernameForm: UsernameEmail,
			Hint: imapOffZoho,
		},
		{
			ID: "zoho-business-eu", Name: "Zoho Mail (own domain, EU)",
			MXSuffixes: []string{"zoho.eu"},
			Host:       "imappro.zoho.eu", Port: 993, Security: SecurityTLS, UsernameForm: UsernameEmail,
			Hint: imapOffZoho,
		},
		{
			ID: "hosting", Name: "Web hosting (Plesk, cPanel, Dovecot)",
			Host: "mail." + DomainPlaceholder, Port: 993, Security: SecurityTLS, UsernameForm: UsernameEmail,
			Hint: "Log in with the full email address and the mailbox password set in the hosting panel. If the server's certificate is refused, use the server name the panel shows (often the hosting company's own) instead of mail.your-domain.",
		},
	}
}

// PresetByID returns the preset with the given ID.
func PresetByID(id string) (Preset, bool) {
	for _, p := range Presets() {
		if p.ID == id {
			return p, true
		}
	}
	return Preset{}, false
}

// PresetForDomain returns the preset of the provider whose own email domain
// is domain (gmail.com → Gmail). Domains hosted elsewhere are found by
// PresetForMX.
func PresetForDomain(domain string) (Preset, bool) {
	domain = normDomain(domain)
	for _, p := range Presets() {
		if slices.Contains(p.Domains, domain) {
			return p, true
		}
	}
	return Preset{}, false
}

// PresetForMX returns the preset of the provider that runs the MX host
// (aspmx.l.google.com → Gmail).
func PresetForMX(host string) (Preset, bool) {
	host = normDomain(host)
	for _, p := range Presets() {
		for _, suffix := range p.MXSuffixes {
			if host == suffix || strings.HasSuffix(host, "."+suffix) {
				return p, true
			}
		}
	}
	return Preset{}, false
}

// presetForHost returns the preset whose IMAP server is host, so that a
// server found by autoconfig or SRV still gets the provider's hint.
func presetForHost(host string) (Preset, bool) {
	host = normDomain(host)
	for _, p := range Presets() {
		if !strings.Contains(p.Host, DomainPlaceholder) && p.Host == host {
			return p, true
		}
	}
	return Preset{}, false
}

// normDomain lower-cases a DNS name and drops a trailing dot.
func normDomain(s string) string {
	return strings.TrimSuffix(strings.ToLower(strings.TrimSpace(s)), ".")
}
