package imapstore

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
	"time"

	"mailmover/core/failure"
)

// CertInfo describes the server's certificate for people.
type CertInfo struct {
	Subject     string    `json:"subject"`
	Issuer      string    `json:"issuer"`
	DNSNames    []string  `json:"dnsNames,omitempty"`
	NotAfter    time.Time `json:"notAfter"`
	Fingerprint string    `json:"fingerprint"`
	Trusted     bool      `json:"trusted"`
}

// Report is the result of a connection test, in plain terms and in detail.
type Report struct {
	Addr       string    `json:"addr"`
	Reachable  bool      `json:"reachable"`
	TLSVersion string    `json:"tlsVersion,omitempty"`
	Cipher     string    `json:"cipher,omitempty"`
	Cert       *CertInfo `json:"certificate,omitempty"`
	LoggedIn   bool      `json:"loggedIn"`
	Caps       []string  `json:"capabilities,omitempty"`
	Prefix     string    `json:"prefix"`
	Delim      string    `json:"delimiter,omitempty"`
	Folders    int       `json:"folders"`
	Messages   int       `json:"messages"`
	Bytes      int64     `json:"bytes"`
	Quota      *Quota    `json:"quota,omitempty"`
	SizeLimit  int64     `json:"sizeLimit,omitempty"`
	// Warnings are things that matter before a migration, in plain words.
	Warnings []string `json:"warnings,omitempty"`
	// Err is why the test failed, classified; nil when everything worked.
	Err error `json:"-"`
}

// Probe tests an account: reachability, TLS and certificate, login,
// capabilities, namespace, folders, messages and quota. It never changes
// anything on the server. It also checks what matters before a migration:
// a server still accepting TLS 1.0 or 1.1, a certificate expiring soon.
func Probe(ctx context.Context, cfg *Config) *Report {
	r := &Report{Addr: cfg.Addr()}
	s, err := Open(ctx, cfg)
	if err != nil {
		r.Err = err
		k := failure.KindOf(err)
		r.Reachable = k != failure.Connection && k != failure.Config && k != failure.Cancelled
		var ce *CertError
		if errors.As(err, &ce) {
			r.Cert = &CertInfo{Subject: ce.Subject, Issuer: ce.Issuer, NotAfter: ce.NotAfter, Fingerprint: ce.Fingerprint}
		}
		return r
	}
	defer s.Close()
	r.Reachable, r.LoggedIn = true, true
	if st := s.TLS; st != nil {
		r.TLSVersion = tls.VersionName(st.Version)
		r.Cipher = tls.CipherSuiteName(st.CipherSuite)
		if len(st.PeerCertificates) > 0 {
			leaf := st.PeerCertificates[0]
			r.Cert = certInfo(leaf, true)
			if d := time.Until(leaf.NotAfter); d < 30*24*time.Hour {
				r.Warnings = append(r.Warnings, fmt.Sprintf("the server's certificate expires on %s: ask the provider to renew it before the migration", leaf.NotAfter.Format("2006-01-02")))
			}
		}
	} else {
		r.Warnings = append(r.Warnings, "this connection is not encrypted (allowed only on this computer)")
	}
	for c := range s.Caps {
		r.Caps = append(r.Caps, string(c))
	}
	slices.Sort(r.Caps)
	r.Prefix, r.Delim = s.Prefix, string(s.Delim)
	r.SizeLimit = s.AppendLimit()
	if folders, err := s.Folders(ctx); err == nil {
		for _, f := range folders {
			if f.NoSelect {
				continue
			}
			r.Folders++
			r.Messages += max(f.Messages, 0)
			r.Bytes += max(f.Size, 0)
		}
	} else {
		r.Err = err
		return r
	}
	if q, err := s.Quota(ctx); err == nil {
		r.Quota = q
	}
	if cfg.Security != Plain && oldTLSAccepted(ctx, cfg) {
		r.Warnings = append(r.Warnings, "the server still accepts the outdated TLS 1.0/1.1: tell its administrator; Mailmover itself always uses TLS 1.2 or newer")
	}
	return r
}

func certInfo(c *x509.Certificate, trusted bool) *CertInfo {
	return &CertInfo{Subject: c.Subject.String(), Issuer: c.Issuer.String(), DNSNames: c.DNSNames, NotAfter: c.NotAfter, Fingerprint: Fingerprint(c.Raw), Trusted: trusted}
}

// oldTLSAccepted reports whether the server completes a handshake limited to
// TLS 1.0 and 1.1 (no login is attempted).
func oldTLSAccepted(ctx context.Context, cfg *Config) bool {
	dctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	dial := cfg.Dialer
	if dial == nil {
		d := &net.Dialer{}
		dial = d.DialContext
	}
	raw, err := dial(dctx, "tcp", cfg.Addr())
	if err != nil {
		return false
	}
	defer raw.Close()
	stop := context.AfterFunc(dctx, func() { raw.Close() })
	defer stop()
	if cfg.Security == StartTLS {
		if plainStartTLS(raw) != nil {
			return false
		}
	}
	tc := tls.Client(raw, &tls.Config{InsecureSkipVerify: true, MinVersion: tls.VersionTLS10, MaxVersion: tls.VersionTLS11, ServerName: cfg.Host}) //nolint:gosec // probing only, nothing is sent
	return tc.HandshakeContext(dctx) == nil
}

// Summary says in one plain sentence how the test went.
func (r *Report) Summary() string {
	switch {
	case r.Err == nil:
		return fmt.Sprintf("Connected securely (%s) and logged in: %d folders, %d messages.", r.TLSVersion, r.Folders, r.Messages)
	case !r.Reachable:
		return "Could not reach " + r.Addr + "."
	case failure.KindOf(r.Err) == failure.TLS:
		return "Reached " + r.Addr + ", but the secure connection could not be set up."
	case failure.KindOf(r.Err) == failure.Auth:
		return "Reached " + r.Addr + " securely, but the login was refused."
	}
	return "Reached " + r.Addr + ", but something went wrong: " + strings.TrimSpace(r.Err.Error())
}
