package account

import (
	"strings"
	"testing"
)

func TestPresetsWellFormed(t *testing.T) {
	ids := map[string]bool{}
	domains := map[string]string{}
	suffixes := map[string]string{}
	for _, p := range Presets() {
		if p.ID == "" || p.Name == "" {
			t.Errorf("preset %+v has no ID or name", p)
		}
		if ids[p.ID] {
			t.Errorf("preset ID %q is used twice", p.ID)
		}
		ids[p.ID] = true
		if p.UsernameForm != UsernameEmail && p.UsernameForm != UsernameLocalPart {
			t.Errorf("preset %q: UsernameForm = %q; want %q or %q", p.ID, p.UsernameForm, UsernameEmail, UsernameLocalPart)
		}
		if p.Security != SecurityTLS && p.Security != SecurityStartTLS {
			t.Errorf("preset %q: Security = %q; want TLS or STARTTLS", p.ID, p.Security)
		}
		if p.OAuthOnly && !p.OAuth {
			t.Errorf("preset %q: OAuthOnly without OAuth", p.ID)
		}
		for _, d := range p.Domains {
			if other, ok := domains[d]; ok {
				t.Errorf("domain %q is in presets %q and %q", d, other, p.ID)
			}
			domains[d] = p.ID
		}
		for _, s := range p.MXSuffixes {
			if other, ok := suffixes[s]; ok {
				t.Errorf("MX suffix %q is in presets %q and %q", s, other, p.ID)
			}
			suffixes[s] = p.ID
		}
		a := p.Account("someone@example.com")
		if err := a.Validate(); err != nil {
			t.Errorf("preset %q: Account(...).Validate() = %v", p.ID, err)
		}
	}
	for _, id := range []string{
		"gmail", "microsoft", "yahoo", "icloud", "gmx", "webde", "ionos", "ovh",
		"strato", "fastmail", "zoho", "hosting",
	} {
		if !ids[id] {
			t.Errorf("no preset %q", id)
		}
	}
}

func TestPresetsReturnsCopies(t *testing.T) {
	p := Presets()
	p[0].Host = "changed"
	p[0].Domains[0] = "changed"
	if q := Presets(); q[0].Host == "changed" || q[0].Domains[0] == "changed" {
		t.Error("changing the result of Presets() changed the table")
	}
}

func TestPresetForDomain(t *testing.T) {
	tests := []struct {
		domain string
		want   string // preset ID, "" for none
	}{
		{"gmail.com", "gmail"},
		{"GoogleMail.com.", "gmail"},
		{"outlook.com", "microsoft"},
		{"hotmail.de", "microsoft"},
		{"yahoo.co.uk", "yahoo"},
		{"icloud.com", "icloud"},
		{"me.com", "icloud"},
		{"gmx.de", "gmx"},
		{"gmx.com", "gmx-com"},
		{"web.de", "webde"},
		{"fastmail.com", "fastmail"},
		{"zoho.eu", "zoho-eu"},
		{"example.com", ""},
		{"mail.gmail.com", ""},
	}
	for _, tt := range tests {
		p, ok := PresetForDomain(tt.domain)
		if got := p.ID; got != tt.want || ok != (tt.want != "") {
			t.Errorf("PresetForDomain(%q) = %q, %v; want %q", tt.domain, got, ok, tt.want)
		}
	}
}

func TestPresetForMX(t *testing.T) {
	tests := []struct {
		host string
		want string
	}{
		{"aspmx.l.google.com.", "gmail"},
		{"ALT1.ASPMX.L.GOOGLE.COM", "gmail"},
		{"gmail-smtp-in.l.google.com", "gmail"},
		{"example-com.mail.protection.outlook.com.", "microsoft"},
		{"outlook-com.olc.protection.outlook.com", "microsoft"},
		{"mx00.ionos.de", "ionos"},
		{"mx01.kundenserver.de", "ionos"},
		{"mx1.mail.ovh.net", "ovh"},
		{"smtpin.rzone.de", "strato"},
		{"in1-smtp.messagingengine.com", "fastmail"},
		{"mx.zoho.eu", "zoho-business-eu"},
		{"mx.zoho.com", "zoho-business"},
		{"mta5.am0.yahoodns.net", "yahoo"},
		{"mx.example.com", ""},
		{"notgoogle.com", ""},
		{"google.com.evil.example", ""},
	}
	for _, tt := range tests {
		p, ok := PresetForMX(tt.host)
		if got := p.ID; got != tt.want || ok != (tt.want != "") {
			t.Errorf("PresetForMX(%q) = %q, %v; want %q", tt.host, got, ok, tt.want)
		}
	}
}

func TestPresetAccount(t *testing.T) {
	tests := []struct {
		id, email string
		want      Account
	}{
		{"gmail", "alice@gmail.com", Account{Name: "alice@gmail.com", Email: "alice@gmail.com", Host: "imap.gmail.com", Port: 993, Security: SecurityTLS, Username: "alice@gmail.com", Auth: AuthPassword, Provider: "gmail"}},
		{"icloud", "bob@icloud.com", Account{Name: "bob@icloud.com", Email: "bob@icloud.com", Host: "imap.mail.me.com", Port: 993, Security: SecurityTLS, Username: "bob", Auth: AuthPassword, Provider: "icloud"}},
		{"microsoft", "carol@outlook.com", Account{Name: "carol@outlook.com", Email: "carol@outlook.com", Host: "outlook.office365.com", Port: 993, Security: SecurityTLS, Username: "carol@outlook.com", Auth: AuthOAuth2, Provider: "microsoft"}},
		{"hosting", "dave@Example.ORG", Account{Name: "dave@Example.ORG", Email: "dave@Example.ORG", Host: "mail.example.org", Port: 993, Security: SecurityTLS, Username: "dave@Example.ORG", Auth: AuthPassword, Provider: "hosting"}},
	}
	for _, tt := range tests {
		p, ok := PresetByID(tt.id)
		if !ok {
			t.Fatalf("PresetByID(%q) found nothing", tt.id)
		}
		if got := p.Account(tt.email); got != tt.want {
			t.Errorf("PresetByID(%q).Account(%q) = %+v; want %+v", tt.id, tt.email, got, tt.want)
		}
	}
}

func TestPresetHints(t *testing.T) {
	// Providers that need an app password or IMAP switched on say so.
	tests := []struct {
		id, want string
	}{
		{"gmail", "app password"},
		{"yahoo", "app password"},
		{"icloud", "app-specific password"},
		{"gmx", "IMAP on"},
		{"webde", "IMAP on"},
		{"zoho", "IMAP on"},
		{"fastmail", "app password"},
		{"microsoft", "Microsoft account"},
	}
	for _, tt := range tests {
		p, _ := PresetByID(tt.id)
		if !strings.Contains(p.Hint, tt.want) {
			t.Errorf("PresetByID(%q).Hint = %q; want it to mention %q", tt.id, p.Hint, tt.want)
		}
	}
}
