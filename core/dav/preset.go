package dav

import (
	"net/url"
	"strings"
)

// Preset is what Mailmover knows of one provider's CardDAV and CalDAV
// services.
type Preset struct {
	// ID is a short stable identifier ("icloud").
	ID string
	// Name is the provider's name for people.
	Name string
	// Domains are the email domains the provider serves.
	Domains []string
	// CardDAV and CalDAV are the services' context URLs (RFC 6764 section
	// 1): where discovery of the principal starts.
	CardDAV, CalDAV string
	// Guess is set when the addresses come from no documentation the
	// provider publishes and may be wrong; discovery then goes on to the
	// other methods when they fail.
	Guess bool
	// Hint tells the user what the provider needs, "" if nothing special.
	Hint string
}

// URL returns the preset's context URL for kind.
func (p Preset) URL(kind Kind) string {
	if kind == Calendars {
		return p.CalDAV
	}
	return p.CardDAV
}

// presets is the table of known providers. Each entry says how sure it is.
var presets = [...]Preset{
	// Documented by Apple (support.apple.com, "iCloud Contacts/Calendar
	// via CardDAV/CalDAV"); principals live on pNN-contacts / pNN-caldav
	// hosts the server names in its answers.
	{ID: "icloud", Name: "iCloud", Domains: []string{"icloud.com", "me.com", "mac.com"},
		CardDAV: "https://contacts.icloud.com/", CalDAV: "https://caldav.icloud.com/",
		Hint: "iCloud needs an app-specific password (appleid.apple.com, Sign-In and Security)."},
	// Documented by Fastmail ("Server names and ports"); both answer
	// /.well-known/carddav and /.well-known/caldav.
	{ID: "fastmail", Name: "Fastmail", Domains: []string{"fastmail.com", "fastmail.fm", "messagingengine.com"},
		CardDAV: "https://carddav.fastmail.com/", CalDAV: "https://caldav.fastmail.com/",
		Hint: "Fastmail needs an app password with CalDAV/CardDAV access (Settings, Privacy & Security)."},
	// Guess: host names as commonly given for GMX; not confirmed here.
	{ID: "gmx", Name: "GMX", Domains: []string{"gmx.net", "gmx.de", "gmx.at", "gmx.ch", "gmx.com"},
		CardDAV: "https://carddav.gmx.net/", CalDAV: "https://caldav.gmx.net/", Guess: true},
	// Guess: the same scheme for WEB.DE (same company as GMX); not confirmed here.
	{ID: "webde", Name: "WEB.DE", Domains: []string{"web.de"},
		CardDAV: "https://carddav.web.de/", CalDAV: "https://caldav.web.de/", Guess: true},
	// The host dav.mailbox.org is documented by mailbox.org; the paths
	// /carddav/ and /caldav/ are a guess (its servers also answer the
	// .well-known addresses, which discovery tries next).
	{ID: "mailboxorg", Name: "mailbox.org", Domains: []string{"mailbox.org"},
		CardDAV: "https://dav.mailbox.org/carddav/", CalDAV: "https://dav.mailbox.org/caldav/", Guess: true},
}

// Presets returns the known providers.
func Presets() []Preset {
	out := make([]Preset, len(presets))
	copy(out, presets[:])
	return out
}

// PresetForDomain returns the provider serving the email domain, or one
// of whose service hosts domain is.
func PresetForDomain(domain string) (Preset, bool) {
	domain = strings.ToLower(strings.TrimSuffix(domain, "."))
	for _, p := range presets {
		for _, d := range p.Domains {
			if d == domain {
				return p, true
			}
		}
		for _, s := range []string{p.CardDAV, p.CalDAV} {
			if u, err := url.Parse(s); err == nil && strings.EqualFold(u.Hostname(), domain) {
				return p, true
			}
		}
	}
	return Preset{}, false
}

// hostPatterns are paths where common server software keeps its DAV
// service, tried on a host the user named when the host's own discovery
// finds nothing.
var hostPatterns = [...]struct {
	path string
	// port, if not 0, replaces the host's port.
	port  int
	guess bool
}{
	// Nextcloud and ownCloud: documented (docs.nextcloud.com, "Contacts
	// and calendar"), at the web root or below /nextcloud/ or /owncloud/.
	{path: "/remote.php/dav/"},
	{path: "/nextcloud/remote.php/dav/", guess: true},
	{path: "/owncloud/remote.php/dav/", guess: true},
	// Baïkal (sabre/dav): documented as /dav.php/.
	{path: "/dav.php/"},
	// SOGo: /SOGo/dav/ (documented by SOGo's installation guide).
	{path: "/SOGo/dav/"},
	// Plesk's "Premium Email" (Kolab) serves DAV through iRony at
	// /iRony/: a guess from Kolab's defaults.
	{path: "/iRony/", guess: true},
	// cPanel-style hosting runs its own DAV server (cpdavd) on port 2080
	// with TLS: a guess from cPanel's defaults.
	{path: "/", port: 2080, guess: true},
}
