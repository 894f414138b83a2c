package sievemove

import (
	"context"
	"crypto/tls"
	"net"
	"sort"
	"strconv"
	"strings"

	"mailmover/core/failure"
	"mailmover/core/filters"
	"mailmover/core/imapstore"
	"mailmover/core/sieve"
	"mailmover/core/sieve/managesieve"
)

// Account says how to reach and sign in to a ManageSieve server: usually
// the mail account's host and user name, on DefaultPort.
type Account struct {
	Host string
	// Port is the ManageSieve port; 0 means DefaultPort.
	Port     int
	Username string
	Password string
	// CAPEM holds extra trusted certificates (PEM), as for the IMAP
	// connection.
	CAPEM []byte
	// TLSConfig, if set, is the base TLS configuration (tests).
	TLSConfig *tls.Config
}

// Addr returns host:port with the default port filled in.
func (a *Account) Addr() string {
	port := a.Port
	if port == 0 {
		port = DefaultPort
	}
	return net.JoinHostPort(a.Host, strconv.Itoa(port))
}

// String names the account and the server, without the password:
// "alice@example.com on sieve.example.com:4190".
func (a *Account) String() string { return a.Username + " on " + a.Addr() }

// Dial connects to the account's ManageSieve server with STARTTLS (RFC
// 5804 section 2.2), trusting the system's certificates and a.CAPEM, and
// signs in with the password. Close the client when done.
func Dial(ctx context.Context, a *Account) (*managesieve.Client, error) {
	if a.Password == "" {
		return nil, failure.Newf(failure.Config, failure.ScopeAccount, "no password to sign in to the ManageSieve server of %s", a.Username)
	}
	tlsCfg, err := (&imapstore.Config{Host: a.Host, CAPEM: a.CAPEM, TLSConfig: a.TLSConfig}).TLS()
	if err != nil {
		return nil, err
	}
	c, err := managesieve.Dial(ctx, a.Addr(), managesieve.Options{Security: managesieve.StartTLS, TLSConfig: tlsCfg})
	if err != nil {
		return nil, err
	}
	if err := c.Authenticate(ctx, a.Username, a.Password); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

// ReadScripts downloads every Sieve script of an account (RFC 5804
// LISTSCRIPTS, GETSCRIPT), the active one first, then by name, with LF
// line ends and a plain-words summary of what each does (sieve.Summarize).
func ReadScripts(ctx context.Context, c Reader) ([]filters.ServerScript, error) {
	list, err := c.ListScripts(ctx)
	if err != nil {
		return nil, err
	}
	sort.SliceStable(list, func(i, j int) bool {
		if list[i].Active != list[j].Active {
			return list[i].Active
		}
		return list[i].Name < list[j].Name
	})
	var out []filters.ServerScript
	for _, s := range list {
		text, err := c.GetScript(ctx, s.Name)
		if err != nil {
			return nil, err
		}
		text = strings.ReplaceAll(text, "\r\n", "\n")
		out = append(out, filters.ServerScript{Name: s.Name, Active: s.Active, Text: text, Summary: sieve.Summarize(text)})
	}
	return out, nil
}
