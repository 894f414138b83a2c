// Package imapstore is one IMAP account seen as a mail store: connect and
// probe it, list its folders, read messages from it (read-only: EXAMINE and
// BODY.PEEK, RFC 9051 sections 6.3.3 and 6.4.5) and write messages to it
// (APPEND and MULTIAPPEND, RFC 3502).
package imapstore

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	"mailmover/core/failure"
)

// Security is how the connection is protected.
type Security string

const (
	// ImplicitTLS starts TLS at once (port 993, RFC 8314).
	ImplicitTLS Security = "tls"
	// StartTLS upgrades a plain connection (port 143, RFC 9051 section 6.2.1); refusing to go on without it.
	StartTLS Security = "starttls"
	// Plain is no TLS at all, allowed only to a loopback address.
	Plain Security = "none"
)

// Config says how to reach and log in to an account. Password is held in
// memory only and never appears in an error or a log.
type Config struct {
	Host     string
	Port     int
	Security Security
	Username string
	Password string
	// Tokens, if set, signs in with OAuth 2.0 (XOAUTH2 or OAUTHBEARER) instead of the password.
	Tokens TokenSource
	// CAPEM holds extra trusted certificates (PEM), for servers with their own certificate.
	CAPEM []byte
	// TLSConfig, if set, is used as the base TLS configuration (tests).
	TLSConfig *tls.Config
	// AllowPlain permits Security Plain (only to a loopback address).
	AllowPlain bool
	// Timeout bounds dialling and each command's silence; 0 means 60 s.
	Timeout time.Duration
	// Dialer, if set, opens the TCP connection (tests use it for fault injection).
	Dialer func(ctx context.Context, network, addr string) (net.Conn, error)
}

// Addr returns host:port with the default port filled in.
func (c *Config) Addr() string {
	port := c.Port
	if port == 0 {
		if c.Security == ImplicitTLS {
			port = 993
		} else {
			port = 143
		}
	}
	return net.JoinHostPort(c.Host, strconv.Itoa(port))
}

// String describes the account without its secret.
func (c *Config) String() string {
	return c.Username + " on " + c.Addr()
}

func (c *Config) timeout() time.Duration {
	if c.Timeout <= 0 {
		return 60 * time.Second
	}
	return c.Timeout
}

// LoadCAFile reads extra trusted certificates from a PEM file.
func LoadCAFile(path string) ([]byte, error) {
	if path == "" {
		return nil, nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, failure.New(failure.Config, failure.ScopeAccount, "read certificate file", err)
	}
	if !x509.NewCertPool().AppendCertsFromPEM(b) {
		return nil, failure.Newf(failure.Config, failure.ScopeAccount, "%s holds no PEM certificate", path)
	}
	return b, nil
}

// TLS returns the TLS configuration used for this account: certificate
// verification always on, plus the extra trusted certificates.
func (c *Config) TLS() (*tls.Config, error) { return c.tlsConfig() }

func (c *Config) tlsConfig() (*tls.Config, error) {
	var cfg *tls.Config
	if c.TLSConfig != nil {
		cfg = c.TLSConfig.Clone()
	} else {
		cfg = &tls.Config{}
	}
	if cfg.ServerName == "" {
		cfg.ServerName = c.Host
	}
	cfg.MinVersion = tls.VersionTLS12
	if len(c.CAPEM) > 0 {
		pool := cfg.RootCAs
		if pool == nil {
			sys, err := x509.SystemCertPool()
			if err != nil || sys == nil {
				sys = x509.NewCertPool()
			}
			pool = sys
		} else {
			pool = pool.Clone()
		}
		if !pool.AppendCertsFromPEM(c.CAPEM) {
			return nil, failure.Newf(failure.Config, failure.ScopeAccount, "the extra certificate file holds no PEM certificate")
		}
		cfg.RootCAs = pool
	}
	return cfg, nil
}

// isLoopback reports whether host names this machine.
func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// dialSecure opens a TCP connection and secures it as the configuration asks.
// It returns the connection ready for the IMAP greeting (already read for
// STARTTLS, hence greeted=true) and the TLS state, if any.
func dialSecure(ctx context.Context, cfg *Config) (conn net.Conn, greeted bool, state *tls.ConnectionState, err error) {
	op := "connect to " + cfg.Addr()
	if cfg.Host == "" {
		return nil, false, nil, failure.Newf(failure.Config, failure.ScopeAccount, "no server name given")
	}
	if cfg.Security == Plain && (!cfg.AllowPlain || !isLoopback(cfg.Host)) {
		return nil, false, nil, failure.Newf(failure.Config, failure.ScopeAccount,
			"refusing to send a password to %s without encryption: use imaps:// (TLS) or imap:// (STARTTLS)", cfg.Addr())
	}
	dctx, cancel := context.WithTimeout(ctx, cfg.timeout())
	defer cancel()
	dial := cfg.Dialer
	if dial == nil {
		d := &net.Dialer{}
		dial = d.DialContext
	}
	raw, err := dial(dctx, "tcp", cfg.Addr())
	if err != nil {
		if ctx.Err() != nil {
			return nil, false, nil, ctx.Err()
		}
		return nil, false, nil, failure.New(failure.Connection, failure.ScopeAccount, op, err)
	}
	if cfg.Security == Plain {
		return raw, false, nil, nil
	}
	tcfg, err := cfg.tlsConfig()
	if err != nil {
		raw.Close()
		return nil, false, nil, err
	}
	stop := context.AfterFunc(dctx, func() { raw.Close() })
	defer stop()
	if cfg.Security == StartTLS {
		if err := plainStartTLS(raw); err != nil {
			raw.Close()
			if ctx.Err() != nil {
				return nil, false, nil, ctx.Err()
			}
			return nil, false, nil, failure.New(failure.TLS, failure.ScopeAccount, op, err)
		}
		greeted = true
	}
	tc := tls.Client(raw, tcfg)
	if err := tc.HandshakeContext(dctx); err != nil {
		raw.Close()
		if ctx.Err() != nil {
			return nil, false, nil, ctx.Err()
		}
		return nil, false, nil, classifyTLS(op, err)
	}
	st := tc.ConnectionState()
	return tc, greeted, &st, nil
}

// plainStartTLS reads the greeting and asks for STARTTLS on a plain connection
// (RFC 9051 section 6.2.1). It reads byte by byte so that nothing of the TLS
// handshake is swallowed by a buffer.
func plainStartTLS(conn net.Conn) error {
	readLine := func() (string, error) {
		var sb strings.Builder
		b := make([]byte, 1)
		for sb.Len() < 8192 {
			if _, err := conn.Read(b); err != nil {
				return "", err
			}
			if b[0] == '\n' {
				return strings.TrimRight(sb.String(), "\r"), nil
			}
			sb.WriteByte(b[0])
		}
		return "", errors.New("line too long from server")
	}
	greeting, err := readLine()
	if err != nil {
		return fmt.Errorf("read greeting: %w", err)
	}
	if !strings.HasPrefix(greeting, "* OK") && !strings.HasPrefix(greeting, "* PREAUTH") {
		return fmt.Errorf("unexpected greeting %q", greeting)
	}
	if _, err := conn.Write([]byte("S0 STARTTLS\r\n")); err != nil {
		return err
	}
	for {
		line, err := readLine()
		if err != nil {
			return fmt.Errorf("starttls: %w", err)
		}
		if strings.HasPrefix(line, "S0 ") {
			if strings.HasPrefix(line, "S0 OK") {
				return nil
			}
			return fmt.Errorf("the server does not offer STARTTLS (%s); try imaps:// on port 993", strings.TrimPrefix(line, "S0 "))
		}
	}
}

// CertError is an untrusted or invalid server certificate. It carries what the
// user needs to decide whether to trust it.
type CertError struct {
	Subject     string
	Issuer      string
	NotAfter    time.Time
	Fingerprint string // SHA-256, hex with colons
	PEM         []byte // the leaf certificate, to store if the user trusts it
	Err         error
}

func (e *CertError) Error() string {
	return fmt.Sprintf("the server's certificate is not trusted (%v); subject %q, issued by %q, SHA-256 fingerprint %s: compare it with what the server's owner publishes, then trust it with --from-ca/--to-ca or in the app",
		e.Err, e.Subject, e.Issuer, e.Fingerprint)
}

func (e *CertError) Unwrap() error { return e.Err }

// Fingerprint returns the SHA-256 fingerprint of a DER certificate, as
// colon-separated upper-case hex.
func Fingerprint(der []byte) string {
	sum := sha256.Sum256(der)
	h := strings.ToUpper(hex.EncodeToString(sum[:]))
	var sb strings.Builder
	for i := 0; i < len(h); i += 2 {
		if i > 0 {
			sb.WriteByte(':')
		}
		sb.WriteString(h[i : i+2])
	}
	return sb.String()
}

func classifyTLS(op string, err error) error {
	var cv *tls.CertificateVerificationError
	if errors.As(err, &cv) && len(cv.UnverifiedCertificates) > 0 {
		leaf := cv.UnverifiedCertificates[0]
		inner := cv.Err
		var ua x509.UnknownAuthorityError
		var hn x509.HostnameError
		var ci x509.CertificateInvalidError
		switch {
		case errors.As(inner, &ua):
			inner = errors.New("unknown or self-signed issuer")
		case errors.As(inner, &hn):
			inner = fmt.Errorf("it is for %s, not for this server name", strings.Join(append(hn.Certificate.DNSNames, ipStrings(hn.Certificate.IPAddresses)...), ", "))
		case errors.As(inner, &ci) && ci.Reason == x509.Expired:
			inner = fmt.Errorf("expired or not yet valid (valid until %s)", leaf.NotAfter.Format("2006-01-02"))
		}
		ce := &CertError{
			Subject:     leaf.Subject.String(),
			Issuer:      leaf.Issuer.String(),
			NotAfter:    leaf.NotAfter,
			Fingerprint: Fingerprint(leaf.Raw),
			PEM:         pemEncode(leaf.Raw),
			Err:         inner,
		}
		return failure.New(failure.TLS, failure.ScopeAccount, op, ce)
	}
	var rh tls.RecordHeaderError
	if errors.As(err, &rh) {
		return failure.New(failure.TLS, failure.ScopeAccount, op,
			fmt.Errorf("the server did not answer with TLS: %w (is this the right port? 993 is for imaps://, 143 for imap:// with STARTTLS)", err))
	}
	return failure.New(failure.TLS, failure.ScopeAccount, op, err)
}

func ipStrings(ips []net.IP) []string {
	var s []string
	for _, ip := range ips {
		s = append(s, ip.String())
	}
	return s
}

func pemEncode(der []byte) []byte {
	var sb strings.Builder
	sb.WriteString("-----BEGIN CERTIFICATE-----\n")
	enc := base64.StdEncoding.EncodeToString(der)
	for len(enc) > 64 {
		sb.WriteString(enc[:64] + "\n")
		enc = enc[64:]
	}
	sb.WriteString(enc + "\n-----END CERTIFICATE-----\n")
	return []byte(sb.String())
}

// prefixedConn is a net.Conn whose first reads come from r (a synthetic
// greeting after our own STARTTLS, which go-imap's client expects).
type prefixedConn struct {
	net.Conn
	r io.Reader
}

func (c prefixedConn) Read(b []byte) (int, error) { return c.r.Read(b) }
