// Package managesieve is a small ManageSieve client (RFC 5804): it lists,
// downloads, checks, uploads and activates the Sieve scripts of a mail
// account, over STARTTLS (the default, port 4190) or TLS, with
// AUTHENTICATE PLAIN.
//
// A Client runs one command at a time. Every command takes a context;
// cancelling it closes the connection, after which the Client is unusable.
package managesieve

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"

	"mailmover/core/failure"
)

// DefaultPort is ManageSieve's port (RFC 5804 section 1.8).
const DefaultPort = "4190"

// maxLiteral bounds a literal string sent by the server (a script).
const maxLiteral = 16 << 20

// maxLine bounds one response line outside literals.
const maxLine = 64 << 10

// Security says how the connection is protected.
type Security int

const (
	// StartTLS connects in clear and upgrades with STARTTLS (RFC 5804
	// section 2.2) before anything else is sent. It is the default.
	StartTLS Security = iota
	// ImplicitTLS speaks TLS from the first byte.
	ImplicitTLS
	// Insecure never uses TLS. It is refused unless the server is on a
	// loopback address (tests).
	Insecure
)

// Options tune Dial.
type Options struct {
	Security Security
	// TLSConfig is used for STARTTLS and ImplicitTLS; its ServerName
	// defaults to the host of addr.
	TLSConfig *tls.Config
}

// Capabilities are what the server announces (RFC 5804 section 1.7).
type Capabilities struct {
	Implementation string `json:"implementation,omitempty"`
	// SASL lists the authentication mechanisms, upper case.
	SASL []string `json:"sasl,omitempty"`
	// Sieve lists the Sieve extensions the server supports, lower case.
	Sieve        []string `json:"sieve,omitempty"`
	StartTLS     bool     `json:"startTLS,omitempty"`
	MaxRedirects int      `json:"maxRedirects,omitempty"`
	Notify       []string `json:"notify,omitempty"`
	Language     string   `json:"language,omitempty"`
	Owner        string   `json:"owner,omitempty"`
	Version      string   `json:"version,omitempty"`
	// Other holds capabilities this client does not interpret.
	Other map[string]string `json:"other,omitempty"`
}

// HasExtension reports whether the server supports a Sieve extension.
func (c Capabilities) HasExtension(ext string) bool {
	for _, e := range c.Sieve {
		if strings.EqualFold(e, ext) {
			return true
		}
	}
	return false
}

// HasSASL reports whether the server offers an authentication mechanism.
func (c Capabilities) HasSASL(mech string) bool {
	for _, m := range c.SASL {
		if strings.EqualFold(m, mech) {
			return true
		}
	}
	return false
}

// Script is one script of the account.
type Script struct {
	Name   string `json:"name"`
	Active bool   `json:"active"`
}

// Error is a NO or BYE response (RFC 5804 section 1.3).
type Error struct {
	// Status is "NO" or "BYE".
	Status string
	// Code is the response code, e.g. "QUOTA/MAXSIZE", "NONEXISTENT",
	// "AUTH-TOO-WEAK", "TRYLATER"; "" if none.
	Code string
	// Text is the server's human-readable message.
	Text string
}

// Error describes the answer, e.g. `server said NO [QUOTA/MAXSIZE]: Script is too large.`
func (e *Error) Error() string {
	s := "server said " + e.Status
	if e.Code != "" {
		s += " [" + e.Code + "]"
	}
	if e.Text != "" {
		s += ": " + e.Text
	}
	return s
}

// Client is a ManageSieve connection.
type Client struct {
	mu       sync.Mutex
	conn     net.Conn
	r        *bufio.Reader
	w        *bufio.Writer
	host     string
	secure   bool
	caps     Capabilities
	broken   error
	loopback bool
}

// Dial connects to addr ("host:port"; port 4190 when missing), reads the
// greeting and, unless opts.Security says otherwise, upgrades with
// STARTTLS.
func Dial(ctx context.Context, addr string, opts Options) (*Client, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		host, port = strings.Trim(addr, "[]"), DefaultPort
		addr = net.JoinHostPort(host, port)
	}
	op := "connect to ManageSieve server " + addr
	loop := isLoopback(host)
	if opts.Security == Insecure && !loop {
		return nil, failure.New(failure.Config, failure.ScopeAccount, op, errors.New("a connection without TLS is allowed to a loopback address only"))
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, classify(ctx, op, err)
	}
	c := &Client{conn: conn, host: host, loopback: loop}
	c.setConn(conn)
	fail := func(err error) (*Client, error) {
		conn.Close()
		return nil, err
	}
	tlsCfg := tlsConfig(opts.TLSConfig, host)
	if opts.Security == ImplicitTLS {
		tc := tls.Client(conn, tlsCfg)
		if err := tc.HandshakeContext(ctx); err != nil {
			return fail(classifyTLS(ctx, op, err))
		}
		c.setConn(tc)
		c.secure = true
	}
	if err := c.run(ctx, op, func() error {
		caps, err := c.readCapabilities()
		c.caps = caps
		return err
	}); err != nil {
		return fail(err)
	}
	if opts.Security == StartTLS {
		if !c.caps.StartTLS {
			return fail(failure.New(failure.TLS, failure.ScopeAccount, op, errors.New("the server does not offer STARTTLS")))
		}
		if err := c.starttls(ctx, tlsCfg); err != nil {
			return fail(err)
		}
	}
	return c, nil
}

func tlsConfig(cfg *tls.Config, host string) *tls.Config {
	if cfg == nil {
		cfg = &tls.Config{}
	} else {
		cfg = cfg.Clone()
	}
	if cfg.ServerName == "" {
		cfg.ServerName = host
	}
	if cfg.MinVersion == 0 {
		cfg.MinVersion = tls.VersionTLS12
	}
	return cfg
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func (c *Client) setConn(conn net.Conn) {
	c.conn = conn
	c.r = bufio.NewReaderSize(conn, 16<<10)
	c.w = bufio.NewWriter(conn)
}

// starttls upgrades the connection (RFC 5804 section 2.2); the server then
// announces its capabilities again.
func (c *Client) starttls(ctx context.Context, cfg *tls.Config) error {
	op := "STARTTLS with " + c.host
	if err := c.run(ctx, op, func() error {
		if err := c.send("STARTTLS"); err != nil {
			return err
		}
		_, err := c.response()
		return err
	}); err != nil {
		return err
	}
	tc := tls.Client(c.conn, cfg)
	if err := tc.HandshakeContext(ctx); err != nil {
		return classifyTLS(ctx, op, err)
	}
	c.setConn(tc)
	c.secure = true
	return c.run(ctx, op, func() error {
		caps, err := c.readCapabilities()
		c.caps = caps
		return err
	})
}

// Capabilities returns the capabilities last announced by the server.
func (c *Client) Capabilities() Capabilities {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.caps
}

// Capability asks the server for its capabilities again (CAPABILITY).
func (c *Client) Capability(ctx context.Context) (Capabilities, error) {
	err := c.run(ctx, "CAPABILITY", func() error {
		if err := c.send("CAPABILITY"); err != nil {
			return err
		}
		caps, err := c.readCapabilities()
		if err == nil {
			c.caps = caps
		}
		return err
	})
	return c.Capabilities(), err
}

// Authenticate logs in with SASL PLAIN (RFC 4616), sending the
// credentials as the initial response. The password is never written to
// an error. It is refused on a connection without TLS unless the server is
// on a loopback address.
func (c *Client) Authenticate(ctx context.Context, user, password string) error {
	op := "log in to " + c.host + " as " + user
	c.mu.Lock()
	secure, loop, caps := c.secure, c.loopback, c.caps
	c.mu.Unlock()
	if !secure && !loop {
		return failure.New(failure.TLS, failure.ScopeAccount, op, errors.New("refusing to send a password without TLS"))
	}
	if len(caps.SASL) > 0 && !caps.HasSASL("PLAIN") {
		return failure.New(failure.Auth, failure.ScopeAccount, op, fmt.Errorf("the server offers %s, not PLAIN", strings.Join(caps.SASL, ", ")))
	}
	ir := base64.StdEncoding.EncodeToString([]byte("\x00" + user + "\x00" + password))
	err := c.run(ctx, op, func() error {
		if err := c.send(`AUTHENTICATE "PLAIN" ` + quote(ir)); err != nil {
			return err
		}
		_, err := c.response()
		return err
	})
	var pe *Error
	if errors.As(err, &pe) && pe.Status == "NO" {
		kind := failure.Auth
		switch {
		case strings.HasPrefix(pe.Code, "TRYLATER"):
			kind = failure.Throttled
		case pe.Code == "ENCRYPT-NEEDED", pe.Code == "AUTH-TOO-WEAK":
			kind = failure.TLS
		}
		return failure.New(kind, failure.ScopeAccount, op, pe)
	}
	return err
}

// ListScripts lists the account's scripts (LISTSCRIPTS).
func (c *Client) ListScripts(ctx context.Context) ([]Script, error) {
	var out []Script
	err := c.run(ctx, "list Sieve scripts", func() error {
		if err := c.send("LISTSCRIPTS"); err != nil {
			return err
		}
		lines, err := c.response()
		for _, l := range lines {
			if len(l) == 0 || !l[0].str {
				continue
			}
			s := Script{Name: l[0].text}
			if len(l) > 1 && strings.EqualFold(l[1].text, "ACTIVE") {
				s.Active = true
			}
			out = append(out, s)
		}
		return err
	})
	return out, err
}

// GetScript downloads a script (GETSCRIPT).
func (c *Client) GetScript(ctx context.Context, name string) (string, error) {
	var script string
	err := c.run(ctx, "download Sieve script "+strconv.Quote(name), func() error {
		if err := c.send("GETSCRIPT " + quote(name)); err != nil {
			return err
		}
		lines, err := c.response()
		if err != nil {
			return err
		}
		if len(lines) == 0 || len(lines[0]) == 0 || !lines[0][0].str {
			return errors.New("no script in the answer")
		}
		script = lines[0][0].text
		return nil
	})
	return script, err
}

// CheckScript asks the server whether a script is valid (CHECKSCRIPT, RFC
// 5804 section 2.12) without storing it. A NO answer is returned as an
// error holding the server's message; warnings are returned on success.
func (c *Client) CheckScript(ctx context.Context, script string) (warnings string, err error) {
	err = c.run(ctx, "check a Sieve script", func() error {
		if err := c.sendLiteral("CHECKSCRIPT ", script); err != nil {
			return err
		}
		warnings, err = c.okText()
		return err
	})
	return warnings, err
}

// PutScript uploads a script (PUTSCRIPT), replacing one of the same name.
// It does not activate it.
func (c *Client) PutScript(ctx context.Context, name, script string) (warnings string, err error) {
	err = c.run(ctx, "upload Sieve script "+strconv.Quote(name), func() error {
		if err := c.sendLiteral("PUTSCRIPT "+quote(name)+" ", script); err != nil {
			return err
		}
		warnings, err = c.okText()
		return err
	})
	return warnings, err
}

// HaveSpace asks whether a script of size bytes may be stored (HAVESPACE).
func (c *Client) HaveSpace(ctx context.Context, name string, size int) error {
	return c.run(ctx, "ask for space for Sieve script "+strconv.Quote(name), func() error {
		if err := c.send("HAVESPACE " + quote(name) + " " + strconv.Itoa(size)); err != nil {
			return err
		}
		_, err := c.response()
		return err
	})
}

// SetActive makes a script the active one (SETACTIVE); "" deactivates all.
func (c *Client) SetActive(ctx context.Context, name string) error {
	return c.run(ctx, "activate Sieve script "+strconv.Quote(name), func() error {
		if err := c.send("SETACTIVE " + quote(name)); err != nil {
			return err
		}
		_, err := c.response()
		return err
	})
}

// DeleteScript deletes a script (DELETESCRIPT); the active one cannot be.
func (c *Client) DeleteScript(ctx context.Context, name string) error {
	return c.run(ctx, "delete Sieve script "+strconv.Quote(name), func() error {
		if err := c.send("DELETESCRIPT " + quote(name)); err != nil {
			return err
		}
		_, err := c.response()
		return err
	})
}

// Noop checks that the connection is alive (NOOP).
func (c *Client) Noop(ctx context.Context) error {
	return c.run(ctx, "NOOP", func() error {
		if err := c.send("NOOP"); err != nil {
			return err
		}
		_, err := c.response()
		return err
	})
}

// Logout ends the session (LOGOUT) and closes the connection.
func (c *Client) Logout(ctx context.Context) error {
	err := c.run(ctx, "log out", func() error {
		if err := c.send("LOGOUT"); err != nil {
			return err
		}
		_, err := c.response()
		var pe *Error
		if errors.As(err, &pe) && pe.Status == "BYE" {
			return nil
		}
		return err
	})
	c.Close()
	return err
}

// Close closes the connection without logging out.
func (c *Client) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.broken == nil {
		c.broken = net.ErrClosed
	}
	return c.conn.Close()
}

// run performs one exchange under the lock. Cancelling ctx closes the
// connection; its deadline becomes the connection's.
func (c *Client) run(ctx context.Context, op string, f func() error) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.broken != nil {
		return failure.New(failure.Connection, failure.ScopeAccount, op, fmt.Errorf("connection unusable: %w", c.broken))
	}
	if err := ctx.Err(); err != nil {
		return failure.New(failure.Cancelled, failure.ScopeAccount, op, err)
	}
	conn := c.conn
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	dl, _ := ctx.Deadline()
	_ = conn.SetDeadline(dl)
	err := f()
	if err == nil {
		return nil
	}
	var pe *Error
	if errors.As(err, &pe) {
		if pe.Status == "BYE" {
			c.broken = err
			conn.Close()
			return failure.New(failure.Connection, failure.ScopeAccount, op, err)
		}
		kind := failure.Refused
		switch {
		case strings.HasPrefix(pe.Code, "QUOTA"):
			kind = failure.Quota
		case strings.HasPrefix(pe.Code, "TRYLATER"):
			kind = failure.Throttled
		case pe.Code == "ENCRYPT-NEEDED":
			kind = failure.TLS
		}
		return failure.New(kind, failure.ScopeAccount, op, err)
	}
	// Anything else leaves the stream in an unknown state.
	c.broken = err
	conn.Close()
	return classify(ctx, op, err)
}

func classify(ctx context.Context, op string, err error) error {
	if ctx.Err() != nil {
		return failure.New(failure.Cancelled, failure.ScopeAccount, op, ctx.Err())
	}
	var fe *failure.Error
	if errors.As(err, &fe) {
		return err
	}
	var pe *protocolError
	if errors.As(err, &pe) {
		return failure.New(failure.Malformed, failure.ScopeAccount, op, err)
	}
	return failure.New(failure.Connection, failure.ScopeAccount, op, err)
}

func classifyTLS(ctx context.Context, op string, err error) error {
	if ctx.Err() != nil {
		return failure.New(failure.Cancelled, failure.ScopeAccount, op, ctx.Err())
	}
	var ne net.Error
	if errors.As(err, &ne) || errors.Is(err, io.EOF) {
		return failure.New(failure.Connection, failure.ScopeAccount, op, err)
	}
	return failure.New(failure.TLS, failure.ScopeAccount, op, err)
}

// protocolError is an answer this client cannot read.
type protocolError struct{ msg string }

// Error describes what could not be read.
func (e *protocolError) Error() string { return "unreadable answer from the server: " + e.msg }

// quote writes a quoted string (RFC 5804 section 4); text with CR, LF or
// NUL, or very long text, goes as a literal instead.
func quote(s string) string {
	if strings.ContainsAny(s, "\r\n\x00") || len(s) > 1024 {
		return "{" + strconv.Itoa(len(s)) + "+}\r\n" + s
	}
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}

func (c *Client) send(line string) error {
	if _, err := c.w.WriteString(line + "\r\n"); err != nil {
		return err
	}
	return c.w.Flush()
}

// sendLiteral sends prefix then data as a non-synchronizing literal
// {n+} (RFC 5804 section 4).
func (c *Client) sendLiteral(prefix, data string) error {
	if _, err := fmt.Fprintf(c.w, "%s{%d+}\r\n", prefix, len(data)); err != nil {
		return err
	}
	if _, err := c.w.WriteString(data); err != nil {
		return err
	}
	return c.send("")
}

// token is a word of a response line.
type token struct {
	text string
	str  bool // a quoted string or literal, as opposed to an atom
}

// response reads data lines up to OK, NO or BYE; NO and BYE become *Error.
func (c *Client) response() ([][]token, error) {
	lines, _, _, err := c.responseText()
	return lines, err
}

// responseText is response, with the code and text of the OK.
func (c *Client) responseText() ([][]token, string, string, error) {
	var lines [][]token
	for {
		toks, code, err := c.readLine()
		if err != nil {
			return lines, "", "", err
		}
		if len(toks) > 0 && !toks[0].str {
			switch st := strings.ToUpper(toks[0].text); st {
			case "OK", "NO", "BYE":
				text := ""
				for _, t := range toks[1:] {
					if t.str {
						text = t.text
					}
				}
				if st == "OK" {
					return lines, code, text, nil
				}
				return lines, "", "", &Error{Status: st, Code: code, Text: text}
			}
		}
		lines = append(lines, toks)
	}
}

// okText returns the warnings of an OK (WARNINGS) answer to PUTSCRIPT or
// CHECKSCRIPT (RFC 5804 section 1.3), "" for a plain OK.
func (c *Client) okText() (string, error) {
	_, code, text, err := c.responseText()
	if code != "WARNINGS" {
		text = ""
	}
	return text, err
}

// readCapabilities reads capability lines up to OK (greeting, CAPABILITY,
// after STARTTLS).
func (c *Client) readCapabilities() (Capabilities, error) {
	lines, err := c.response()
	if err != nil {
		return Capabilities{}, err
	}
	var caps Capabilities
	for _, l := range lines {
		if len(l) == 0 {
			continue
		}
		name := strings.ToUpper(l[0].text)
		val := ""
		if len(l) > 1 {
			val = l[1].text
		}
		switch name {
		case "IMPLEMENTATION":
			caps.Implementation = val
		case "SASL":
			caps.SASL = strings.Fields(strings.ToUpper(val))
		case "SIEVE":
			caps.Sieve = strings.Fields(strings.ToLower(val))
		case "STARTTLS":
			caps.StartTLS = true
		case "MAXREDIRECTS":
			caps.MaxRedirects, _ = strconv.Atoi(val)
		case "NOTIFY":
			caps.Notify = strings.Fields(strings.ToLower(val))
		case "LANGUAGE":
			caps.Language = val
		case "OWNER":
			caps.Owner = val
		case "VERSION":
			caps.Version = val
		default:
			if caps.Other == nil {
				caps.Other = map[string]string{}
			}
			caps.Other[name] = val
		}
	}
	return caps, nil
}

// readLine reads one response line: atoms, quoted strings, literals and a
// parenthesised response code (returned joined, e.g. "QUOTA/MAXSIZE" or
// `TAG x`).
func (c *Client) readLine() ([]token, string, error) {
	var toks []token
	code := ""
	n := 0
	for {
		b, err := c.r.ReadByte()
		if err != nil {
			return nil, "", err
		}
		if n++; n > maxLine {
			return nil, "", &protocolError{"line too long"}
		}
		switch {
		case b == ' ':
		case b == '\r':
		case b == '\n':
			return toks, code, nil
		case b == '"':
			s, err := c.readQuoted()
			if err != nil {
				return nil, "", err
			}
			toks = append(toks, token{text: s, str: true})
		case b == '{':
			s, err := c.readLiteral()
			if err != nil {
				return nil, "", err
			}
			toks = append(toks, token{text: s, str: true})
		case b == '(':
			var parts []string
			for {
				b, err := c.r.ReadByte()
				if err != nil {
					return nil, "", err
				}
				if b == ')' {
					break
				}
				switch b {
				case ' ':
				case '"':
					s, err := c.readQuoted()
					if err != nil {
						return nil, "", err
					}
					parts = append(parts, s)
				case '\r', '\n':
					return nil, "", &protocolError{"unclosed response code"}
				default:
					c.r.UnreadByte()
					parts = append(parts, c.readAtom())
				}
			}
			code = strings.ToUpper(strings.Join(parts, " "))
		default:
			c.r.UnreadByte()
			toks = append(toks, token{text: c.readAtom()})
		}
	}
}

func (c *Client) readAtom() string {
	var b strings.Builder
	for b.Len() < maxLine {
		ch, err := c.r.ReadByte()
		if err != nil {
			break
		}
		if ch == ' ' || ch == '\r' || ch == '\n' || ch == '(' || ch == ')' || ch == '"' {
			c.r.UnreadByte()
			break
		}
		b.WriteByte(ch)
	}
	return b.String()
}

func (c *Client) readQuoted() (string, error) {
	var b strings.Builder
	for {
		ch, err := c.r.ReadByte()
		if err != nil {
			return "", err
		}
		switch ch {
		case '"':
			return b.String(), nil
		case '\\':
			ch, err = c.r.ReadByte()
			if err != nil {
				return "", err
			}
		case '\r', '\n':
			return "", &protocolError{"line break in a quoted string"}
		}
		if b.Len() > maxLine {
			return "", &protocolError{"quoted string too long"}
		}
		b.WriteByte(ch)
	}
}

// readLiteral reads "n}" or "n+}", CRLF, then n octets.
func (c *Client) readLiteral() (string, error) {
	var digits strings.Builder
	for {
		ch, err := c.r.ReadByte()
		if err != nil {
			return "", err
		}
		if ch == '}' {
			break
		}
		if ch == '+' {
			continue
		}
		if ch < '0' || ch > '9' || digits.Len() > 9 {
			return "", &protocolError{"bad literal length"}
		}
		digits.WriteByte(ch)
	}
	n, err := strconv.Atoi(digits.String())
	if err != nil || n > maxLiteral {
		return "", &protocolError{"literal too long or bad: " + digits.String()}
	}
	if b, err := c.r.ReadByte(); err != nil || (b != '\r' && b != '\n') {
		return "", &protocolError{"no line break after a literal's length"}
	} else if b == '\r' {
		if b, err := c.r.ReadByte(); err != nil || b != '\n' {
			return "", &protocolError{"no line break after a literal's length"}
		}
	}
	buf := make([]byte, n)
	if _, err := io.ReadFull(c.r, buf); err != nil {
		return "", err
	}
	return string(buf), nil
}
