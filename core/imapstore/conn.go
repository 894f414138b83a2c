package imapstore

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"syscall"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/emersion/go-sasl"

	"mailmover/core/failure"
)

// Conn is one logged-in IMAP connection. It is not safe for concurrent use;
// open one Conn per worker.
type Conn struct {
	c   *imapclient.Client
	cfg *Config
	// TLS is the negotiated TLS state (nil on a plain loopback connection).
	TLS *tls.ConnectionState
	// Caps are the capabilities after login (RFC 9051 section 6.1.1).
	Caps imap.CapSet
	// Prefix and Delim describe the personal namespace (RFC 2342).
	Prefix string
	Delim  rune
	// ServerID is what the server said of itself in reply to ID (RFC 2971), if anything.
	ServerID *imap.IDData

	selected    string
	readOnly    bool
	uidValidity uint32
}

// Dial connects, secures the connection, logs in, and reads the
// capabilities and personal namespace. Cancelling ctx closes the connection.
func Dial(ctx context.Context, cfg *Config) (*Conn, error) {
	raw, greeted, state, err := dialSecure(ctx, cfg)
	if err != nil {
		return nil, err
	}
	netConn := raw
	if greeted {
		netConn = prefixedConn{Conn: raw, r: io.MultiReader(strings.NewReader("* OK TLS ready\r\n"), raw)}
	}
	c := &Conn{cfg: cfg, TLS: state}
	c.c = imapclient.New(netConn, &imapclient.Options{})
	stop := context.AfterFunc(ctx, func() { c.c.Close() })
	defer stop()
	if err := c.login(ctx); err != nil {
		c.c.Close()
		return nil, c.wrap(ctx, "log in to "+cfg.Addr(), err)
	}
	if err := c.probe(); err != nil {
		c.c.Close()
		return nil, c.wrap(ctx, "read the capabilities of "+cfg.Addr(), err)
	}
	return c, nil
}

func (c *Conn) login(ctx context.Context) error {
	if err := c.c.WaitGreeting(); err != nil {
		return err
	}
	caps := c.c.Caps()
	if caps.Has(imap.CapLoginDisabled) {
		return failure.Newf(failure.TLS, failure.ScopeAccount, "the server does not allow login on this connection")
	}
	var err error
	switch {
	case c.cfg.Tokens != nil:
		err = c.oauthLogin(ctx, caps)
	case caps.Has("AUTH=PLAIN"):
		err = c.c.Authenticate(sasl.NewPlainClient("", c.cfg.Username, c.cfg.Password))
	default:
		err = c.c.Login(c.cfg.Username, c.cfg.Password).Wait()
	}
	if err != nil {
		var ie *imap.Error
		if errors.As(err, &ie) && ie.Type == imap.StatusResponseTypeNo {
			return failure.New(failure.Auth, failure.ScopeAccount, "", fmt.Errorf("the server refused the login for %s: %s", c.cfg.Username, ie.Text))
		}
		return err
	}
	return nil
}

// oauthLogin signs in with an access token, and once more with a fresh one
// if the server refuses it (the token may have expired mid-run).
func (c *Conn) oauthLogin(ctx context.Context, caps imap.CapSet) error {
	mech := oauthMechanism(func(s string) bool { return caps.Has(imap.Cap(s)) })
	if mech == "" {
		return failure.Newf(failure.Auth, failure.ScopeAccount, "the server offers no OAuth sign-in (XOAUTH2 or OAUTHBEARER): use a password or an app password")
	}
	tok, err := c.cfg.Tokens.Token(ctx)
	if err != nil {
		return tokenErr(err)
	}
	port := 0
	if _, p, e := net.SplitHostPort(c.cfg.Addr()); e == nil {
		port, _ = strconv.Atoi(p)
	}
	err = c.c.Authenticate(oauthClient(mech, c.cfg.Username, tok, c.cfg.Host, port))
	var ie *imap.Error
	if errors.As(err, &ie) && ie.Type == imap.StatusResponseTypeNo {
		if tok, rerr := c.cfg.Tokens.Refresh(ctx); rerr == nil {
			err = c.c.Authenticate(oauthClient(mech, c.cfg.Username, tok, c.cfg.Host, port))
		}
	}
	return err
}

func (c *Conn) probe() error {
	caps, err := c.c.Capability().Wait()
	if err != nil {
		return err
	}
	c.Caps = caps
	if caps.Has(imap.CapID) {
		id, err := c.c.ID(&imap.IDData{Name: "Mailmover", Version: "1"}).Wait()
		if err == nil {
			c.ServerID = id
		}
	}
	if caps.Has(imap.CapNamespace) {
		ns, err := c.c.Namespace().Wait()
		if err != nil {
			return err
		}
		if len(ns.Personal) > 0 {
			c.Prefix = ns.Personal[0].Prefix
			c.Delim = ns.Personal[0].Delim
		}
	}
	if c.Delim == 0 {
		l, err := c.c.List("", "", nil).Collect()
		if err != nil {
			return err
		}
		if len(l) > 0 {
			c.Delim = l[0].Delim
		}
	}
	if c.Delim == 0 {
		c.Delim = '/'
	}
	return nil
}

// Close logs out and closes the connection.
func (c *Conn) Close() error {
	if c == nil || c.c == nil {
		return nil
	}
	_ = c.c.Logout().Wait()
	return c.c.Close()
}

// Closed reports whether the connection has gone.
func (c *Conn) Closed() bool {
	select {
	case <-c.c.Closed():
		return true
	default:
		return false
	}
}

// Client gives access to the underlying go-imap client, for tests.
func (c *Conn) Client() *imapclient.Client { return c.c }

// guard closes the connection when ctx is cancelled; call the result when done.
func (c *Conn) guard(ctx context.Context) func() bool {
	return context.AfterFunc(ctx, func() { c.c.Close() })
}

// wrap classifies err (from an operation described by op) for the front ends.
func (c *Conn) wrap(ctx context.Context, op string, err error) error {
	if err == nil {
		return nil
	}
	if ctx.Err() != nil {
		return fmt.Errorf("%s: %w", op, ctx.Err())
	}
	return Classify(op, err)
}

// Classify turns an IMAP or network error into a *failure.Error.
func Classify(op string, err error) error {
	var se *statusError
	if errors.As(err, &se) {
		err = se.asIMAPError()
	}
	var fe *failure.Error
	if errors.As(err, &fe) {
		if fe.Op == "" && op != "" {
			fe.Op = op
		}
		return fe
	}
	var ie *imap.Error
	if errors.As(err, &ie) {
		text := strings.ToLower(ie.Text)
		switch {
		case ie.Type == imap.StatusResponseTypeBye:
			if strings.Contains(text, "backoff") || strings.Contains(text, "throttl") {
				return failure.New(failure.Throttled, failure.ScopeAccount, op, err)
			}
			return failure.New(failure.Connection, failure.ScopeAccount, op, err)
		case ie.Code == imap.ResponseCodeAuthenticationFailed || ie.Code == imap.ResponseCodeAuthorizationFailed:
			return failure.New(failure.Auth, failure.ScopeAccount, op, err)
		case ie.Code == imap.ResponseCodeOverQuota || strings.Contains(text, "quota"):
			return failure.New(failure.Quota, failure.ScopeAccount, op, err)
		case ie.Code == imap.ResponseCodeTooBig || strings.Contains(text, "too large") || strings.Contains(text, "too big"):
			return failure.New(failure.TooBig, failure.ScopeMessage, op, err)
		case strings.Contains(text, "backoff") || strings.Contains(text, "throttl") || ie.Code == imap.ResponseCodeLimit:
			return failure.New(failure.Throttled, failure.ScopeAccount, op, err)
		case ie.Code == imap.ResponseCodeServerBug || ie.Code == imap.ResponseCodeUnavailable:
			return failure.New(failure.Connection, failure.ScopeAccount, op, err)
		}
		return failure.New(failure.Refused, failure.ScopeFolder, op, err)
	}
	if isNetErr(err) {
		return failure.New(failure.Connection, failure.ScopeAccount, op, err)
	}
	return failure.New(failure.Unknown, failure.ScopeFolder, op, err)
}

func isNetErr(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, net.ErrClosed) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) ||
		errors.Is(err, io.ErrClosedPipe) || strings.Contains(err.Error(), "connection closed") ||
		strings.Contains(err.Error(), "use of closed network connection")
}
