// Package account describes the IMAP accounts Mailmover copies from and to:
// the account model and its imap:// / imaps:// URL form, a store of accounts
// in the user's configuration folder (which never holds a secret), presets
// for common providers, and autodiscovery of server settings from an email
// address in the manner of Thunderbird (autoconfig XML, RFC 6186 SRV
// records, MX records).
//
// Passwords and tokens live in the OS keychain, see package
// mailmover/core/secret; Account.SecretKey names the entry.
package account

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"

	"mailmover/core/failure"
	"mailmover/core/secret"
)

// Security is how the connection to the IMAP server is protected.
type Security string

const (
	// SecurityTLS is implicit TLS from the first byte (RFC 8314), port 993.
	SecurityTLS Security = "tls"
	// SecurityStartTLS is a plaintext connection upgraded with STARTTLS
	// (RFC 9051 section 6.2.1), port 143.
	SecurityStartTLS Security = "starttls"
	// SecurityNone is a plaintext connection. The connector allows it only
	// to the loopback address.
	SecurityNone Security = "none"
)

// DefaultPort returns the standard port for s: 993 for implicit TLS, 143
// otherwise (RFC 8314, RFC 9051).
func (s Security) DefaultPort() int {
	if s == SecurityTLS {
		return 993
	}
	return 143
}

// valid reports whether s is one of the known values.
func (s Security) valid() bool {
	return s == SecurityTLS || s == SecurityStartTLS || s == SecurityNone
}

// AuthMethod is how Mailmover logs in.
type AuthMethod string

const (
	// AuthPassword logs in with a password (or app password), by
	// AUTHENTICATE PLAIN or LOGIN.
	AuthPassword AuthMethod = "password"
	// AuthOAuth2 logs in with an OAuth 2.0 access token (SASL XOAUTH2 or
	// OAUTHBEARER, RFC 7628).
	AuthOAuth2 AuthMethod = "oauth2"
)

// Account is one IMAP account. It holds no secret: the password or token is
// kept in the OS keychain under SecretKey.
type Account struct {
	// Name is the user-chosen label, unique in a Store.
	Name string `json:"name"`
	// Email is the account's email address.
	Email string `json:"email"`
	// Host is the IMAP server's name or address.
	Host string `json:"host"`
	// Port is the IMAP server's TCP port.
	Port int `json:"port"`
	// Security is how the connection is protected.
	Security Security `json:"security"`
	// Username is the login name, often the email address.
	Username string `json:"username"`
	// Auth is the login method.
	Auth AuthMethod `json:"auth"`
	// CAFile names a PEM file of extra certificates to trust.
	CAFile string `json:"caFile,omitempty"`
	// Provider is the ID of the Preset the account was made from, if any.
	Provider string `json:"provider,omitempty"`
}

// SecretKey returns the keychain key of the account's password:
// secret.AccountKey(a.Username, a.Host).
func (a Account) SecretKey() string {
	return secret.AccountKey(a.Username, a.Host)
}

// URL returns the account as imaps://USER@HOST[:PORT] (implicit TLS) or
// imap://USER@HOST[:PORT] (STARTTLS), with USER percent-encoded
// (alice%40example.com) and the port left out when it is the default. A
// plaintext account is written imap://USER@HOST[:PORT]?security=none.
func (a Account) URL() string {
	u := url.URL{Scheme: "imap", User: url.User(a.Username)}
	if a.Security == SecurityTLS {
		u.Scheme = "imaps"
	}
	host := a.Host
	if a.Port != 0 && a.Port != a.Security.DefaultPort() {
		host = net.JoinHostPort(host, strconv.Itoa(a.Port))
	} else if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	u.Host = host
	if a.Security == SecurityNone {
		u.RawQuery = "security=none"
	}
	return u.String()
}

// urlForm is what ParseURL expects, for error messages.
const urlForm = "imaps://USER@HOST[:PORT] or imap://USER@HOST[:PORT]"

// ParseURL parses an account URL as written by Account.URL: imaps:// means
// implicit TLS (default port 993), imap:// means STARTTLS (default port 143;
// add ?security=none for plaintext to a local test server). The user name may
// be percent-encoded (alice%40example.com) or not. A password in the URL is
// refused, and never repeated in the error. The account's Auth is
// AuthPassword and its Email is the user name when that is an address.
func ParseURL(s string) (Account, error) {
	if hasPassword(s) {
		return Account{}, configErr(errors.New("the URL must not contain a password: give it with --password-env or store it in the system keychain"))
	}
	u, err := url.Parse(s)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return Account{}, configErr(fmt.Errorf("not a valid account URL (%w): write it as %s", err, urlForm))
	}
	var a Account
	switch strings.ToLower(u.Scheme) {
	case "imaps":
		a.Security = SecurityTLS
	case "imap":
		a.Security = SecurityStartTLS
	case "":
		return Account{}, configErr(fmt.Errorf("the account URL has no scheme: write it as %s", urlForm))
	default:
		return Account{}, configErr(fmt.Errorf("unsupported scheme %q: write the account as %s", u.Scheme, urlForm))
	}
	if u.Opaque != "" {
		return Account{}, configErr(fmt.Errorf("not a valid account URL: write it as %s", urlForm))
	}
	if u.User == nil || u.User.Username() == "" {
		return Account{}, configErr(fmt.Errorf("the account URL has no user name: write it as %s", urlForm))
	}
	a.Username = u.User.Username()
	a.Host = u.Hostname()
	if a.Host == "" {
		return Account{}, configErr(fmt.Errorf("the account URL has no server name: write it as %s", urlForm))
	}
	if u.Path != "" && u.Path != "/" {
		return Account{}, configErr(fmt.Errorf("the account URL must not have a path (%q): write it as %s", u.Path, urlForm))
	}
	q := u.Query()
	switch sec := q.Get("security"); sec {
	case "":
	case string(SecurityNone), string(SecurityStartTLS):
		if a.Security == SecurityTLS {
			return Account{}, configErr(fmt.Errorf("security=%s contradicts imaps://: use imap:// for it", sec))
		}
		a.Security = Security(sec)
	default:
		return Account{}, configErr(fmt.Errorf("unknown security %q in the account URL: use security=none or leave it out", sec))
	}
	a.Port = a.Security.DefaultPort()
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return Account{}, configErr(fmt.Errorf("invalid port %q in the account URL: use a number from 1 to 65535", p))
		}
		a.Port = n
	}
	a.Auth = AuthPassword
	if strings.Contains(a.Username, "@") {
		a.Email = a.Username
	}
	return a, nil
}

// hasPassword reports whether the URL s carries a password ("user:pass@").
// It looks at the raw text so that no parse error can echo the password.
func hasPassword(s string) bool {
	_, rest, ok := strings.Cut(s, "://")
	if !ok {
		return false
	}
	if i := strings.IndexAny(rest, "/?#"); i >= 0 {
		rest = rest[:i]
	}
	at := strings.LastIndex(rest, "@")
	if at < 0 {
		return false
	}
	return strings.Contains(rest[:at], ":")
}

func configErr(err error) error {
	return failure.New(failure.Config, failure.ScopeAccount, "read account URL", err)
}

// Validate reports the first problem that would stop Mailmover from
// connecting with a: a missing or malformed server name, port, security,
// user name or login method. Name is not checked; Store.Put requires it.
func (a Account) Validate() error {
	var err error
	switch {
	case a.Host == "":
		err = errors.New("the server name is missing: enter the IMAP server, for example imap.example.com")
	case strings.ContainsAny(a.Host, " /\\@?#") || strings.Contains(a.Host, "://"):
		err = fmt.Errorf("%q is not a server name: enter only the name, for example imap.example.com", a.Host)
	case a.Port < 1 || a.Port > 65535:
		err = fmt.Errorf("port %d is not valid: use 993 for TLS or 143 for STARTTLS", a.Port)
	case !a.Security.valid():
		err = fmt.Errorf("unknown security %q: use %q (port 993) or %q (port 143)", a.Security, SecurityTLS, SecurityStartTLS)
	case a.Username == "":
		err = errors.New("the user name is missing: enter the login name, often the full email address")
	case a.Auth != AuthPassword && a.Auth != AuthOAuth2:
		err = fmt.Errorf("unknown login method %q: use %q or %q", a.Auth, AuthPassword, AuthOAuth2)
	case a.Email != "" && !strings.Contains(a.Email, "@"):
		err = fmt.Errorf("%q is not an email address", a.Email)
	}
	if err != nil {
		label := a.Name
		if label == "" {
			label = a.Username
		}
		return failure.New(failure.Config, failure.ScopeAccount, fmt.Sprintf("check account %q", label), err)
	}
	return nil
}
