package account

import (
	"strings"
	"testing"
)

func TestParseAutoconfig(t *testing.T) {
	const email = "alice@example.com"
	server := func(socket, port, user string, auth ...string) string {
		s := `<incomingServer type="imap"><hostname>imap.%EMAILDOMAIN%</hostname>`
		if port != "" {
			s += "<port>" + port + "</port>"
		}
		s += "<socketType>" + socket + "</socketType>"
		for _, a := range auth {
			s += "<authentication>" + a + "</authentication>"
		}
		return s + "<username>" + user + "</username></incomingServer>"
	}
	doc := func(servers ...string) string {
		return `<?xml version="1.0" encoding="UTF-8"?>
<clientConfig version="1.1"><emailProvider id="example.com"><domain>example.com</domain>` +
			strings.Join(servers, "\n") +
			`<outgoingServer type="smtp"><hostname>smtp.example.com</hostname><port>587</port><socketType>STARTTLS</socketType></outgoingServer>
</emailProvider></clientConfig>`
	}
	base := Account{Name: email, Email: email, Host: "imap.example.com", Port: 993, Security: SecurityTLS, Username: email, Auth: AuthPassword}
	with := func(f func(*Account)) Account {
		a := base
		f(&a)
		return a
	}
	tests := []struct {
		name string
		doc  string
		want Account
	}{
		{"ionos sample", `<clientConfig version="1.1"><emailProvider id="ionos.com"><domain>ionos.com</domain>
 <incomingServer type="imap"><hostname>imap.ionos.com</hostname><port>993</port>
  <socketType>SSL</socketType><authentication>password-cleartext</authentication>
  <username>%EMAILADDRESS%</username></incomingServer>
</emailProvider></clientConfig>`, with(func(a *Account) { a.Host = "imap.ionos.com" })},
		{"ssl", doc(server("SSL", "993", "%EMAILADDRESS%", "password-cleartext")), base},
		{"starttls", doc(server("STARTTLS", "143", "%EMAILADDRESS%")), with(func(a *Account) { a.Port, a.Security = 143, SecurityStartTLS })},
		{"starttls default port", doc(server("STARTTLS", "", "%EMAILADDRESS%")), with(func(a *Account) { a.Port, a.Security = 143, SecurityStartTLS })},
		{"ssl preferred", doc(server("STARTTLS", "143", "%EMAILADDRESS%"), server("SSL", "993", "%EMAILADDRESS%")), base},
		{"plain skipped", doc(server("plain", "143", "%EMAILADDRESS%"), server("STARTTLS", "143", "%EMAILADDRESS%")), with(func(a *Account) { a.Port, a.Security = 143, SecurityStartTLS })},
		{"local part", doc(server("SSL", "993", "%EMAILLOCALPART%")), with(func(a *Account) { a.Username = "alice" })},
		{"fixed user", doc(server("SSL", "993", " mailbox-17 ")), with(func(a *Account) { a.Username = "mailbox-17" })},
		{"empty user", doc(server("SSL", "993", "")), base},
		{"odd port", doc(server("SSL", " 10993 ", "%EMAILADDRESS%")), with(func(a *Account) { a.Port = 10993 })},
		{"oauth first", doc(server("SSL", "993", "%EMAILADDRESS%", "OAuth2", "password-cleartext")), with(func(a *Account) { a.Auth = AuthOAuth2 })},
		{"password first", doc(server("SSL", "993", "%EMAILADDRESS%", "password-cleartext", "OAuth2")), base},
		{"latin1", `<?xml version="1.0" encoding="ISO-8859-1"?>` + strings.TrimPrefix(doc(server("SSL", "993", "%EMAILADDRESS%")), `<?xml version="1.0" encoding="UTF-8"?>`), base},
		{"pop3 before imap", doc(`<incomingServer type="pop3"><hostname>pop.example.com</hostname><port>995</port><socketType>SSL</socketType></incomingServer>`, server("SSL", "993", "%EMAILADDRESS%")), base},
	}
	for _, tt := range tests {
		got, err := parseAutoconfig([]byte(tt.doc), email)
		if err != nil || got != tt.want {
			t.Errorf("%s: parseAutoconfig(...) = %+v, %v; want %+v, nil", tt.name, got, err, tt.want)
		}
	}
}

func TestParseAutoconfigErrors(t *testing.T) {
	tests := []struct {
		name, doc string
	}{
		{"not xml", "<html><body>Not found</body>"},
		{"html", "<!DOCTYPE html><html><head></head><body></body></html>"},
		{"empty", ""},
		{"no imap", `<clientConfig><emailProvider><incomingServer type="pop3"><hostname>pop.example.com</hostname><port>995</port><socketType>SSL</socketType></incomingServer></emailProvider></clientConfig>`},
		{"plain only", `<clientConfig><emailProvider><incomingServer type="imap"><hostname>imap.example.com</hostname><port>143</port><socketType>plain</socketType></incomingServer></emailProvider></clientConfig>`},
		{"bad port", `<clientConfig><emailProvider><incomingServer type="imap"><hostname>imap.example.com</hostname><port>ninety</port><socketType>SSL</socketType></incomingServer></emailProvider></clientConfig>`},
		{"no host", `<clientConfig><emailProvider><incomingServer type="imap"><port>993</port><socketType>SSL</socketType></incomingServer></emailProvider></clientConfig>`},
		{"bad host", `<clientConfig><emailProvider><incomingServer type="imap"><hostname>imap example com</hostname><port>993</port><socketType>SSL</socketType></incomingServer></emailProvider></clientConfig>`},
		{"unknown charset", `<?xml version="1.0" encoding="KOI8-R"?><clientConfig/>`},
	}
	for _, tt := range tests {
		if got, err := parseAutoconfig([]byte(tt.doc), "alice@example.com"); err == nil {
			t.Errorf("%s: parseAutoconfig(%q) = %+v, nil; want an error", tt.name, tt.doc, got)
		}
	}
}
