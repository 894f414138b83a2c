// Package imaptest runs in-process IMAP servers on 127.0.0.1 for tests,
// built on go-imap's imapserver and its in-memory backend imapmemserver.
//
// A Server accepts passwords (AUTHENTICATE PLAIN, LOGIN) and OAuth 2.0
// access tokens (SASL XOAUTH2 as Google and Microsoft speak it, and
// OAUTHBEARER, RFC 7628) that it checks through a callback. A refused token
// gets Google's answer: a base64 JSON challenge, then NO once the client has
// answered it with an empty response. A session whose token has expired is
// ended with BYE at its next command, as Microsoft 365 does, and Kick ends a
// user's sessions at once.
//
// With Options.Gmail the server imitates Gmail (see gmail.go): the
// X-GM-EXT-1 capability, the [Gmail] folders with their special-use
// attributes, labels as folders, every message also in [Gmail]/All Mail,
// and the X-GM-MSGID, X-GM-THRID and X-GM-LABELS FETCH items.
//
// AUTHENTICATE needs no trick: imapserver asks a session that implements
// imapserver.SessionSASL for its mechanisms (AuthenticateMechanisms, shown
// as AUTH= capabilities) and for a go-sasl server per exchange
// (Authenticate). Two Gmail features are beyond the Session interface,
// though: imapserver builds the CAPABILITY list from fixed tables (an extra
// capability in Options.Caps is ignored) and refuses unknown FETCH items with
// BAD. So the Gmail imitation wraps each connection (gmconn.go), rewriting
// the protocol stream on its way in and out.
package imaptest

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"
	"github.com/emersion/go-imap/v2/imapserver/imapmemserver"
)

// delim is the hierarchy delimiter of imapmemserver.
const delim = '/'

// Options configures Start.
type Options struct {
	// ValidateToken checks an OAuth 2.0 access token that user presents with
	// XOAUTH2 or OAUTHBEARER: nil means valid. It is asked again before each
	// command of a session signed in with a token, and the session is ended
	// (BYE) once it says no. If ValidateToken is nil the server offers no
	// OAuth mechanism.
	ValidateToken func(user, token string) error
	// Mechanisms, if set, are the SASL mechanisms offered (AUTH=), among
	// PLAIN, XOAUTH2 and OAUTHBEARER; by default all three, or only PLAIN
	// without ValidateToken.
	Mechanisms []string
	// Gmail makes the server imitate Gmail.
	Gmail bool
}

// Server is a running test server.
type Server struct {
	// Host is "127.0.0.1"; Port is the server's port.
	Host string
	Port int

	opts Options
	srv  *imapserver.Server
	ln   net.Listener

	mu       sync.Mutex
	users    map[string]*account
	sessions map[*session]struct{}
	logins   map[string]int // mechanism -> successful sign-ins
	refused  map[string]int // mechanism -> refused tokens
	nextGMID uint64
}

// account is one user: its imapmemserver user and what imapmemserver does
// not keep for us (folder names, special use, subscriptions, Gmail data).
type account struct {
	name     string
	password string
	mem      *imapmemserver.User

	// guarded by Server.mu
	boxes map[string]*box
	// gm maps a message of a folder to its Gmail message ID.
	gm map[gmKey]uint64
	// labels maps a Gmail message ID to its labels.
	labels map[uint64][]string
}

type box struct {
	use        []imap.MailboxAttr
	subscribed bool
}

// Start serves on 127.0.0.1, on a free port, until the test ends.
func Start(tb testing.TB, opts Options) *Server {
	tb.Helper()
	s, err := Listen(opts)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}

// Listen starts a server on 127.0.0.1, on a free port; Close stops it.
func Listen(opts Options) (*Server, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("imaptest: listen: %w", err)
	}
	s := &Server{
		Host:     "127.0.0.1",
		Port:     ln.Addr().(*net.TCPAddr).Port,
		opts:     opts,
		ln:       ln,
		users:    map[string]*account{},
		sessions: map[*session]struct{}{},
		logins:   map[string]int{},
		refused:  map[string]int{},
		nextGMID: 1_600_000_000_000_000_000,
	}
	s.srv = imapserver.New(&imapserver.Options{
		NewSession: s.newSession,
		Caps: imap.CapSet{
			imap.CapIMAP4rev1:    {},
			imap.CapNamespace:    {},
			imap.CapUIDPlus:      {},
			imap.CapListExtended: {},
			imap.CapListStatus:   {},
			imap.CapMove:         {},
			imap.CapStatusSize:   {},
			imap.CapSpecialUse:   {},
			imap.CapLiteralPlus:  {},
		},
		Logger:       discard{},
		InsecureAuth: true,
	})
	var l net.Listener = ln
	if opts.Gmail {
		l = gmListener{Listener: ln, srv: s}
	}
	go s.srv.Serve(l)
	return s, nil
}

// Close stops the server and ends every session.
func (s *Server) Close() error {
	return s.srv.Close()
}

// Addr returns "127.0.0.1:port".
func (s *Server) Addr() string { return net.JoinHostPort(s.Host, strconv.Itoa(s.Port)) }

type discard struct{}

func (discard) Printf(string, ...any) {}

// AddUser adds an account with an INBOX (and, on a Gmail server, the
// [Gmail] folders). An empty password allows only OAuth sign-in.
func (s *Server) AddUser(name, password string) {
	// imapmemserver checks passwords itself; an OAuth-only user gets one
	// nobody can send.
	pw := password
	if pw == "" {
		pw = "\x00"
	}
	a := &account{name: name, password: password, mem: imapmemserver.NewUser(name, pw),
		boxes: map[string]*box{}, gm: map[gmKey]uint64{}, labels: map[uint64][]string{}}
	s.mu.Lock()
	s.users[name] = a
	s.mu.Unlock()
	s.mustCreate(a, "INBOX")
	if s.opts.Gmail {
		for _, f := range gmailFolders {
			s.mustCreate(a, f.name, f.use...)
		}
	}
}

func (s *Server) mustCreate(a *account, name string, use ...imap.MailboxAttr) {
	if err := s.create(a, name, use); err != nil {
		panic(fmt.Sprintf("imaptest: create %q: %v", name, err))
	}
}

func (s *Server) user(name string) (*account, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.users[name]
	if a == nil {
		return nil, fmt.Errorf("imaptest: no user %q", name)
	}
	return a, nil
}

// CreateMailbox creates a folder with the given special-use attributes
// (RFC 6154), e.g. `\Sent`, subscribed.
func (s *Server) CreateMailbox(user, name string, specialUse ...string) error {
	a, err := s.user(user)
	if err != nil {
		return err
	}
	use := make([]imap.MailboxAttr, len(specialUse))
	for i, u := range specialUse {
		use[i] = imap.MailboxAttr(u)
	}
	return s.create(a, name, use)
}

func (s *Server) create(a *account, name string, use []imap.MailboxAttr) error {
	if err := a.mem.Create(name, nil); err != nil {
		return err
	}
	s.mu.Lock()
	a.boxes[name] = &box{use: use, subscribed: true}
	s.mu.Unlock()
	return a.mem.Subscribe(name)
}

// Append adds a message to a folder and returns its UID.
func (s *Server) Append(user, mailbox string, msg []byte, flags []string, date time.Time) (uint32, error) {
	a, err := s.user(user)
	if err != nil {
		return 0, err
	}
	return appendTo(a, mailbox, msg, flags, date)
}

func appendTo(a *account, mailbox string, msg []byte, flags []string, date time.Time) (uint32, error) {
	fl := make([]imap.Flag, len(flags))
	for i, f := range flags {
		fl[i] = imap.Flag(f)
	}
	d, err := a.mem.Append(mailbox, bytes.NewReader(msg), &imap.AppendOptions{Flags: fl, Time: date})
	if err != nil {
		return 0, err
	}
	return uint32(d.UID), nil
}

// Count returns the number of messages in a folder.
func (s *Server) Count(user, mailbox string) (int, error) {
	a, err := s.user(user)
	if err != nil {
		return 0, err
	}
	st, err := a.mem.Status(mailbox, &imap.StatusOptions{NumMessages: true})
	if err != nil {
		return 0, err
	}
	return int(*st.NumMessages), nil
}

// Mailboxes returns the user's folder names, sorted.
func (s *Server) Mailboxes(user string) ([]string, error) {
	a, err := s.user(user)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var names []string
	for n := range a.boxes {
		names = append(names, n)
	}
	slices.Sort(names)
	return names, nil
}

// Kick ends every session of user at once with BYE, as a provider does when
// it revokes a sign-in, and returns how many there were.
func (s *Server) Kick(user, reason string) int {
	s.mu.Lock()
	var victims []*session
	for ss := range s.sessions {
		if ss.account() != nil && ss.account().name == user {
			victims = append(victims, ss)
		}
	}
	s.mu.Unlock()
	for _, ss := range victims {
		ss.bye(reason)
	}
	return len(victims)
}

// Logins returns how many sign-ins succeeded with a mechanism: "XOAUTH2",
// "OAUTHBEARER", "PLAIN" or "LOGIN".
func (s *Server) Logins(mech string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.logins[mech]
}

// Refused returns how many tokens a mechanism refused ("XOAUTH2", "OAUTHBEARER").
func (s *Server) Refused(mech string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.refused[mech]
}

// Sessions returns how many connections are open.
func (s *Server) Sessions() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.sessions)
}

// errExpired is what a command of a session whose token expired gets,
// after the BYE.
var errExpired = &imap.Error{Type: imap.StatusResponseTypeNo, Code: imap.ResponseCodeExpired, Text: "Session invalidated - AccessTokenExpired"}

// validate asks the callback about a token.
func (s *Server) validate(user, token string) error {
	if s.opts.ValidateToken == nil {
		return errors.New("no token accepted")
	}
	return s.opts.ValidateToken(user, token)
}

// signedIn records a successful sign-in.
func (s *Server) signedIn(mech string) {
	s.mu.Lock()
	s.logins[mech]++
	s.mu.Unlock()
}

// names returns the folder names of a, sorted.
func (s *Server) names(a *account) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	names := make([]string, 0, len(a.boxes))
	for n := range a.boxes {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// listData builds the LIST reply for one folder.
func (s *Server) listData(a *account, name string, options *imap.ListOptions) (*imap.ListData, bool) {
	s.mu.Lock()
	b := a.boxes[name]
	var use []imap.MailboxAttr
	sub := false
	if b != nil {
		use, sub = slices.Clone(b.use), b.subscribed
	}
	s.mu.Unlock()
	if b == nil {
		return nil, false
	}
	if options.SelectSubscribed && !sub {
		return nil, false
	}
	if options.SelectSpecialUse && len(use) == 0 {
		return nil, false
	}
	d := &imap.ListData{Mailbox: name, Delim: delim, Attrs: use}
	if sub {
		d.Attrs = append(d.Attrs, imap.MailboxAttrSubscribed)
	}
	if options.ReturnStatus != nil {
		st, err := a.mem.Status(name, options.ReturnStatus)
		if err == nil {
			d.Status = st
		}
	}
	return d, true
}

// parents returns the \Noselect parents implied by folder names that do not
// exist themselves ("[Gmail]" of "[Gmail]/All Mail").
func parents(names []string) []string {
	have := map[string]bool{}
	for _, n := range names {
		have[n] = true
	}
	var out []string
	for _, n := range names {
		for i := strings.IndexRune(n, delim); i >= 0; {
			p := n[:i]
			if !have[p] {
				have[p] = true
				out = append(out, p)
			}
			j := strings.IndexRune(n[i+1:], delim)
			if j < 0 {
				break
			}
			i += 1 + j
		}
	}
	return out
}
