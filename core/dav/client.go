package dav

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"mailmover/core/failure"
)

const (
	// maxBody bounds one response body read into memory (a vCard with a
	// large photo, or a multistatus listing a big collection).
	maxBody = 256 << 20
	// maxRedirects bounds how many redirects one request follows.
	maxRedirects = 10
	// maxAttempts is how often a request is tried when the connection
	// fails or the server asks us to wait (429, 503).
	maxAttempts = 3
	// maxRetryAfter caps a server's Retry-After.
	maxRetryAfter = time.Minute
	// defaultRetryWait is the first pause between attempts.
	defaultRetryWait = time.Second
)

// StatusError is an HTTP answer other than success (RFC 9110 section 15).
// Its message holds the method, the URL without user information, the
// status and a short excerpt of the server's explanation: never a secret.
type StatusError struct {
	Method string
	URL    string
	Code   int
	// Text is the start of the server's explanation, or the name of the
	// DAV precondition that failed (RFC 4918 section 16), if any.
	Text string
}

func (e *StatusError) Error() string {
	s := fmt.Sprintf("%s %s: %d %s", e.Method, e.URL, e.Code, http.StatusText(e.Code))
	if e.Text != "" {
		s += ": " + e.Text
	}
	return s
}

// client sends authenticated WebDAV requests for one account.
type client struct {
	http      *http.Client
	username  string
	password  string
	retryWait time.Duration

	mu sync.Mutex
	// trusted holds the sites (see siteOf) that may receive the password.
	trusted map[string]bool
}

// newClient builds the HTTP client of cfg: certificate verification always
// on, with cfg.CAPEM trusted besides the system's roots; redirects are
// followed by client.do itself.
func newClient(cfg *Config) (*client, error) {
	tr := cfg.Transport
	if tr == nil {
		tcfg := &tls.Config{MinVersion: tls.VersionTLS12}
		if len(cfg.CAPEM) > 0 {
			pool, err := x509.SystemCertPool()
			if err != nil || pool == nil {
				pool = x509.NewCertPool()
			}
			if !pool.AppendCertsFromPEM(cfg.CAPEM) {
				return nil, failure.Newf(failure.Config, failure.ScopeAccount, "the extra certificates hold no PEM certificate")
			}
			tcfg.RootCAs = pool
		}
		tr = &http.Transport{
			Proxy:                 http.ProxyFromEnvironment,
			DialContext:           (&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
			TLSClientConfig:       tcfg,
			TLSHandshakeTimeout:   30 * time.Second,
			ResponseHeaderTimeout: 5 * time.Minute,
			IdleConnTimeout:       90 * time.Second,
			MaxIdleConnsPerHost:   8,
			ForceAttemptHTTP2:     true,
		}
	}
	wait := cfg.RetryWait
	if wait <= 0 {
		wait = defaultRetryWait
	}
	return &client{
		http: &http.Client{
			Transport: tr,
			CheckRedirect: func(*http.Request, []*http.Request) error {
				return http.ErrUseLastResponse
			},
		},
		username:  cfg.Username,
		password:  cfg.Password,
		retryWait: wait,
		trusted:   make(map[string]bool),
	}, nil
}

// trust lets u's site receive the password.
func (c *client) trust(u *url.URL) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.trusted[siteOf(u.Hostname())] = true
}

// trusts reports whether u's site may receive the password.
func (c *client) trusts(u *url.URL) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.trusted[siteOf(u.Hostname())]
}

// siteOf returns the part of a host name that decides whether two hosts
// belong to the same provider: an IP address or a one- or two-label name
// as it is, otherwise the name without its first label, so that
// caldav.icloud.com and p42-caldav.icloud.com share the site icloud.com.
func siteOf(host string) string {
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	if net.ParseIP(host) != nil {
		return host
	}
	labels := strings.Split(host, ".")
	keep := 2
	// Country domains sold below a second level (example.co.uk,
	// example.com.au): keep three labels.
	if n := len(labels); n >= 3 && len(labels[n-1]) == 2 {
		switch labels[n-2] {
		case "co", "com", "net", "org", "ac", "gov", "edu", "ne", "or", "gv", "ltd", "plc":
			keep = 3
		}
	}
	if len(labels) <= keep {
		return host
	}
	return strings.Join(labels[len(labels)-keep:], ".")
}

// isLoopback reports whether host is a loopback address or "localhost".
func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// checkScheme refuses anything but https, except plain http to a loopback
// address (a local test server).
func checkScheme(u *url.URL) error {
	switch strings.ToLower(u.Scheme) {
	case "https":
		return nil
	case "http":
		if isLoopback(u.Hostname()) {
			return nil
		}
		return failure.Newf(failure.Config, failure.ScopeAccount, "%s is not encrypted: use https:// (plain http is allowed only to this computer)", redact(u))
	}
	return failure.Newf(failure.Config, failure.ScopeAccount, "unsupported address %s: use https://HOST/PATH", redact(u))
}

// redact returns u without user information, query or fragment, for
// messages.
func redact(u *url.URL) string {
	if u == nil {
		return ""
	}
	v := url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path, RawPath: u.RawPath}
	return v.String()
}

// request is one WebDAV request.
type request struct {
	method string
	url    *url.URL
	header http.Header
	body   []byte
	// noRetry sends the request once (discovery probes).
	noRetry bool
}

// response is a complete answer, body read.
type response struct {
	code   int
	header http.Header
	body   []byte
	// url is where the answer came from, after redirects.
	url *url.URL
	// authed says whether the password was sent to url.
	authed bool
}

// statusError describes r as a StatusError for a request with method.
func (r *response) statusError(method string) *StatusError {
	return &StatusError{Method: method, URL: redact(r.url), Code: r.code, Text: excerpt(r.header.Get("Content-Type"), r.body)}
}

// excerpt returns a short, printable summary of an error body: the DAV
// precondition element's name for an XML body, else the first line of a
// text body.
func excerpt(contentType string, body []byte) string {
	ct := strings.ToLower(contentType)
	if strings.Contains(ct, "xml") {
		if name := davErrorName(body); name != "" {
			return name
		}
		return ""
	}
	if !strings.HasPrefix(ct, "text/plain") {
		return ""
	}
	s := strings.TrimSpace(string(body))
	if i := strings.IndexAny(s, "\r\n"); i >= 0 {
		s = s[:i]
	}
	s = strings.Map(func(r rune) rune {
		if r < ' ' || r == 0x7f {
			return -1
		}
		return r
	}, s)
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}

// do sends rq, following redirects (https only, or plain http to a
// loopback address) and retrying connection failures and 429/502/503/504
// answers a few times. The password goes only to trusted sites. Any status
// is returned; errors are transport failures, classified.
func (c *client) do(ctx context.Context, rq request) (*response, error) {
	attempts := maxAttempts
	if rq.noRetry {
		attempts = 1
	}
	var lastErr error
	for attempt := 1; ; attempt++ {
		resp, err := c.once(ctx, rq)
		var wait time.Duration
		switch {
		case err != nil:
			if ctx.Err() != nil || failure.KindOf(err) != failure.Connection {
				return nil, err
			}
			lastErr = err
		case resp.code == http.StatusTooManyRequests || resp.code == http.StatusServiceUnavailable ||
			resp.code == http.StatusBadGateway || resp.code == http.StatusGatewayTimeout:
			if attempt >= attempts {
				return resp, nil
			}
			wait = retryAfter(resp.header.Get("Retry-After"))
		default:
			return resp, nil
		}
		if attempt >= attempts {
			return nil, lastErr
		}
		if wait == 0 {
			wait = c.retryWait << (attempt - 1)
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, failure.New(failure.Cancelled, failure.ScopeAccount, rq.method+" "+redact(rq.url), ctx.Err())
		case <-t.C:
		}
	}
}

// retryAfter parses a Retry-After header (RFC 9110 section 10.2.3) in
// seconds or as a date, capped; 0 if absent or unreadable.
func retryAfter(v string) time.Duration {
	if v == "" {
		return 0
	}
	var d time.Duration
	if n, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && n >= 0 {
		d = time.Duration(n) * time.Second
	} else if t, err := http.ParseTime(v); err == nil {
		d = time.Until(t)
	}
	if d < 0 {
		return 0
	}
	return min(d, maxRetryAfter)
}

// once sends rq once, following redirects.
func (c *client) once(ctx context.Context, rq request) (*response, error) {
	u := rq.url
	method := rq.method
	body := rq.body
	for hop := 0; ; hop++ {
		if err := checkScheme(u); err != nil {
			return nil, err
		}
		op := method + " " + redact(u)
		req, err := http.NewRequestWithContext(ctx, method, u.String(), bytes.NewReader(body))
		if err != nil {
			return nil, failure.New(failure.Config, failure.ScopeAccount, op, err)
		}
		req.URL.User = nil
		for k, vs := range rq.header {
			req.Header[k] = vs
		}
		if req.Header.Get("User-Agent") == "" {
			req.Header.Set("User-Agent", "Mailmover")
		}
		authed := false
		if c.username != "" && c.trusts(u) {
			req.SetBasicAuth(c.username, c.password)
			authed = true
		}
		hr, err := c.http.Do(req)
		if err != nil {
			return nil, classifyTransport(ctx, op, err)
		}
		data, err := io.ReadAll(io.LimitReader(hr.Body, maxBody+1))
		hr.Body.Close()
		if err != nil {
			return nil, classifyTransport(ctx, op, err)
		}
		if len(data) > maxBody {
			return nil, failure.Newf(failure.Malformed, failure.ScopeFolder, "%s: the answer is larger than %d MB", op, maxBody>>20)
		}
		switch hr.StatusCode {
		case http.StatusMovedPermanently, http.StatusFound, http.StatusSeeOther, http.StatusTemporaryRedirect, http.StatusPermanentRedirect:
			loc := hr.Header.Get("Location")
			if loc == "" || hop >= maxRedirects {
				break
			}
			next, err := u.Parse(loc)
			if err != nil {
				return nil, failure.New(failure.Connection, failure.ScopeAccount, op, fmt.Errorf("bad redirect: %w", err))
			}
			next.User = nil
			// 303 turns into GET; 301 and 302 keep a WebDAV method, as
			// WebDAV clients do, since servers use them for .well-known.
			if hr.StatusCode == http.StatusSeeOther && method != http.MethodHead {
				method, body = http.MethodGet, nil
			}
			u = next
			continue
		}
		return &response{code: hr.StatusCode, header: hr.Header, body: data, url: u, authed: authed}, nil
	}
}

// classifyTransport classes an error of the HTTP transport: TLS,
// cancellation, or a connection failure.
func classifyTransport(ctx context.Context, op string, err error) error {
	if errors.Is(ctx.Err(), context.Canceled) {
		return failure.New(failure.Cancelled, failure.ScopeAccount, op, context.Canceled)
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	if tlsErr := classifyTLS(op, err); tlsErr != nil {
		return tlsErr
	}
	return failure.New(failure.Connection, failure.ScopeAccount, op, err)
}

// CertError is a server certificate that could not be verified. It tells
// the user what to compare before trusting the certificate.
type CertError struct {
	Subject, Issuer string
	// Fingerprint is the SHA-256 fingerprint of the certificate, as
	// colon-separated upper-case hex.
	Fingerprint string
	Err         error
}

func (e *CertError) Error() string {
	return fmt.Sprintf("the server's certificate is not trusted (%v); subject %q, issued by %q, SHA-256 fingerprint %s: compare it with what the server's owner publishes, then trust it with --from-ca/--to-ca",
		e.Err, e.Subject, e.Issuer, e.Fingerprint)
}

func (e *CertError) Unwrap() error { return e.Err }

// classifyTLS returns a TLS failure for err, or nil if err is not about TLS.
func classifyTLS(op string, err error) error {
	var cv *tls.CertificateVerificationError
	if errors.As(err, &cv) {
		ce := &CertError{Err: cv.Err}
		if len(cv.UnverifiedCertificates) > 0 {
			leaf := cv.UnverifiedCertificates[0]
			sum := sha256.Sum256(leaf.Raw)
			h := strings.ToUpper(hex.EncodeToString(sum[:]))
			var fp []string
			for i := 0; i < len(h); i += 2 {
				fp = append(fp, h[i:i+2])
			}
			ce.Subject, ce.Issuer, ce.Fingerprint = leaf.Subject.String(), leaf.Issuer.String(), strings.Join(fp, ":")
		}
		var ua x509.UnknownAuthorityError
		var hn x509.HostnameError
		var ci x509.CertificateInvalidError
		switch {
		case errors.As(cv.Err, &ua):
			ce.Err = errors.New("unknown or self-signed issuer")
		case errors.As(cv.Err, &hn):
			ce.Err = errors.New("it is for another server name")
		case errors.As(cv.Err, &ci) && ci.Reason == x509.Expired:
			ce.Err = errors.New("expired or not yet valid")
		}
		return failure.New(failure.TLS, failure.ScopeAccount, op, ce)
	}
	var rh tls.RecordHeaderError
	if errors.As(err, &rh) || strings.Contains(err.Error(), "server gave HTTP response to HTTPS client") {
		return failure.New(failure.TLS, failure.ScopeAccount, op, fmt.Errorf("the server did not answer with TLS: %w (is this an https port?)", err))
	}
	var ae tls.AlertError
	var ua x509.UnknownAuthorityError
	var hn x509.HostnameError
	var ci x509.CertificateInvalidError
	if errors.As(err, &ae) || errors.As(err, &ua) || errors.As(err, &hn) || errors.As(err, &ci) {
		return failure.New(failure.TLS, failure.ScopeAccount, op, err)
	}
	if strings.Contains(err.Error(), "tls: ") && !errors.Is(err, syscall.ECONNRESET) && !errors.Is(err, io.EOF) {
		return failure.New(failure.TLS, failure.ScopeAccount, op, err)
	}
	return nil
}

// classifyStatus classes an unsuccessful answer to an operation whose
// failure reaches scope: 401/407 is Auth and 507 Quota (the whole
// account), 413 TooBig, 429 and 503 Throttled, anything else Refused.
func classifyStatus(op string, se *StatusError, scope failure.Scope) error {
	switch se.Code {
	case http.StatusUnauthorized, http.StatusProxyAuthRequired:
		return failure.New(failure.Auth, failure.ScopeAccount, op, se)
	case http.StatusInsufficientStorage:
		return failure.New(failure.Quota, failure.ScopeAccount, op, se)
	case http.StatusRequestEntityTooLarge:
		return failure.New(failure.TooBig, scope, op, se)
	case http.StatusTooManyRequests, http.StatusServiceUnavailable:
		return failure.New(failure.Throttled, failure.ScopeAccount, op, se)
	}
	return failure.New(failure.Refused, scope, op, se)
}
