package imaptest

import (
	"strings"
	"sync"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"
	"github.com/emersion/go-imap/v2/imapserver/imapmemserver"
	"github.com/emersion/go-sasl"
)

// session is one connection. Until sign-in it has no user; afterwards it
// delegates to an imapmemserver.UserSession, checking first that its access
// token (if it signed in with one) is still good.
type session struct {
	srv  *Server
	conn *imapserver.Conn

	mu       sync.Mutex
	acct     *account
	token    string // "" after a password sign-in
	us       *imapmemserver.UserSession
	selected string
}

var (
	_ imapserver.SessionIMAP4rev2 = (*session)(nil)
	_ imapserver.SessionSASL      = (*session)(nil)
)

func (s *Server) newSession(c *imapserver.Conn) (imapserver.Session, *imapserver.GreetingData, error) {
	ss := &session{srv: s, conn: c}
	if gc, ok := c.NetConn().(*gmConn); ok {
		gc.setSession(ss)
	}
	s.mu.Lock()
	s.sessions[ss] = struct{}{}
	s.mu.Unlock()
	return ss, nil, nil
}

func (ss *session) account() *account {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	return ss.acct
}

func (ss *session) selectedMailbox() string {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	return ss.selected
}

// bye ends the session: an untagged BYE, then the connection closes.
func (ss *session) bye(reason string) {
	ss.srv.mu.Lock()
	delete(ss.srv.sessions, ss)
	ss.srv.mu.Unlock()
	ss.conn.Bye(reason)
}

// signIn attaches the session to a user.
func (ss *session) signIn(a *account, token, mech string) {
	ss.mu.Lock()
	ss.acct, ss.token = a, token
	ss.us = imapmemserver.NewUserSession(a.mem)
	ss.mu.Unlock()
	ss.srv.signedIn(mech)
}

// alive checks the session's token before a command. An expired token ends
// the session with BYE, as Microsoft 365 does ("Session invalidated -
// AccessTokenExpired").
func (ss *session) alive() error {
	ss.mu.Lock()
	a, tok := ss.acct, ss.token
	ss.mu.Unlock()
	if tok == "" || a == nil {
		return nil
	}
	if err := ss.srv.validate(a.name, tok); err != nil {
		ss.bye(errExpired.Text)
		return errExpired
	}
	return nil
}

func (ss *session) Close() error {
	ss.srv.mu.Lock()
	delete(ss.srv.sessions, ss)
	ss.srv.mu.Unlock()
	ss.mu.Lock()
	us := ss.us
	ss.mu.Unlock()
	if us != nil {
		return us.Close()
	}
	return nil
}

// Login is the LOGIN command (RFC 9051 section 6.2.3).
func (ss *session) Login(username, password string) error {
	a, err := ss.srv.user(username)
	if err != nil || a.password == "" || a.mem.Login(username, password) != nil {
		return imapserver.ErrAuthFailed
	}
	ss.signIn(a, "", "LOGIN")
	return nil
}

// AuthenticateMechanisms lists the AUTH= capabilities.
func (ss *session) AuthenticateMechanisms() []string {
	switch {
	case ss.srv.opts.Mechanisms != nil:
		return ss.srv.opts.Mechanisms
	case ss.srv.opts.ValidateToken == nil:
		return []string{"PLAIN"}
	}
	return []string{"PLAIN", "XOAUTH2", "OAUTHBEARER"}
}

// offers reports whether a mechanism is offered.
func (ss *session) offers(mech string) bool {
	for _, m := range ss.AuthenticateMechanisms() {
		if strings.EqualFold(m, mech) {
			return true
		}
	}
	return false
}

// Authenticate returns the SASL server of a mechanism (RFC 9051 section 6.2.2).
func (ss *session) Authenticate(mech string) (sasl.Server, error) {
	if !ss.offers(mech) {
		return nil, &imap.Error{Type: imap.StatusResponseTypeNo, Text: "SASL mechanism not supported"}
	}
	switch strings.ToUpper(mech) {
	case "PLAIN":
		return sasl.NewPlainServer(func(identity, username, password string) error {
			if identity != "" && identity != username {
				return imapserver.ErrAuthFailed
			}
			a, err := ss.srv.user(username)
			if err != nil || a.password == "" || a.mem.Login(username, password) != nil {
				return imapserver.ErrAuthFailed
			}
			ss.signIn(a, "", "PLAIN")
			return nil
		}), nil
	case "XOAUTH2", "OAUTHBEARER":
		if ss.srv.opts.ValidateToken == nil {
			break
		}
		check := func(user, token string) error {
			a, err := ss.srv.user(user)
			if err != nil {
				return err
			}
			if err := ss.srv.validate(user, token); err != nil {
				ss.srv.mu.Lock()
				ss.srv.refused[strings.ToUpper(mech)]++
				ss.srv.mu.Unlock()
				return err
			}
			ss.signIn(a, token, strings.ToUpper(mech))
			return nil
		}
		if strings.ToUpper(mech) == "XOAUTH2" {
			return &xoauth2Server{check: check}, nil
		}
		return &oauthBearerServer{check: check}, nil
	}
	return nil, &imap.Error{Type: imap.StatusResponseTypeNo, Text: "SASL mechanism not supported"}
}

func (ss *session) user() (*imapmemserver.UserSession, *account) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	return ss.us, ss.acct
}

func (ss *session) Select(mailbox string, options *imap.SelectOptions) (*imap.SelectData, error) {
	if err := ss.alive(); err != nil {
		return nil, err
	}
	us, _ := ss.user()
	d, err := us.Select(mailbox, options)
	ss.mu.Lock()
	if err == nil {
		ss.selected = mailbox
	} else {
		ss.selected = ""
	}
	ss.mu.Unlock()
	return d, err
}

func (ss *session) Unselect() error {
	if err := ss.alive(); err != nil {
		return err
	}
	us, _ := ss.user()
	ss.mu.Lock()
	ss.selected = ""
	ss.mu.Unlock()
	return us.Unselect()
}

func (ss *session) Create(mailbox string, options *imap.CreateOptions) error {
	if err := ss.alive(); err != nil {
		return err
	}
	_, a := ss.user()
	var use []imap.MailboxAttr
	if options != nil {
		use = options.SpecialUse
	}
	mailbox = strings.TrimRight(mailbox, string(delim))
	if err := a.mem.Create(mailbox, options); err != nil {
		return err
	}
	ss.srv.mu.Lock()
	a.boxes[mailbox] = &box{use: use}
	ss.srv.mu.Unlock()
	return nil
}

func (ss *session) Delete(mailbox string) error {
	if err := ss.alive(); err != nil {
		return err
	}
	_, a := ss.user()
	if err := a.mem.Delete(mailbox); err != nil {
		return err
	}
	ss.srv.mu.Lock()
	delete(a.boxes, mailbox)
	ss.srv.mu.Unlock()
	return nil
}

func (ss *session) Rename(mailbox, newName string, options *imap.RenameOptions) error {
	if err := ss.alive(); err != nil {
		return err
	}
	_, a := ss.user()
	newName = strings.TrimRight(newName, string(delim))
	if err := a.mem.Rename(mailbox, newName, options); err != nil {
		return err
	}
	ss.srv.mu.Lock()
	a.boxes[newName] = a.boxes[mailbox]
	delete(a.boxes, mailbox)
	ss.srv.mu.Unlock()
	return nil
}

func (ss *session) Subscribe(mailbox string) error   { return ss.subscribe(mailbox, true) }
func (ss *session) Unsubscribe(mailbox string) error { return ss.subscribe(mailbox, false) }

func (ss *session) subscribe(mailbox string, on bool) error {
	if err := ss.alive(); err != nil {
		return err
	}
	_, a := ss.user()
	ss.srv.mu.Lock()
	b := a.boxes[mailbox]
	if b != nil {
		b.subscribed = on
	}
	ss.srv.mu.Unlock()
	if b == nil {
		return &imap.Error{Type: imap.StatusResponseTypeNo, Code: imap.ResponseCodeNonExistent, Text: "No such mailbox"}
	}
	return nil
}

// List answers LIST and LSUB with special-use attributes (RFC 6154), always
// sent as Gmail does, and LIST-STATUS (RFC 5819).
func (ss *session) List(w *imapserver.ListWriter, ref string, patterns []string, options *imap.ListOptions) error {
	if err := ss.alive(); err != nil {
		return err
	}
	_, a := ss.user()
	if len(patterns) == 0 || (len(patterns) == 1 && patterns[0] == "") {
		return w.WriteList(&imap.ListData{Attrs: []imap.MailboxAttr{imap.MailboxAttrNoSelect}, Delim: delim})
	}
	names := ss.srv.names(a)
	match := func(name string) bool {
		for _, p := range patterns {
			if imapserver.MatchList(name, delim, ref, p) {
				return true
			}
		}
		return false
	}
	var out []*imap.ListData
	for _, p := range parents(names) {
		if match(p) && !options.SelectSubscribed && !options.SelectSpecialUse {
			out = append(out, &imap.ListData{Mailbox: p, Delim: delim, Attrs: []imap.MailboxAttr{imap.MailboxAttrNoSelect}})
		}
	}
	for _, n := range names {
		if !match(n) {
			continue
		}
		if d, ok := ss.srv.listData(a, n, options); ok {
			out = append(out, d)
		}
	}
	for _, d := range out {
		if err := w.WriteList(d); err != nil {
			return err
		}
	}
	return nil
}

func (ss *session) Status(mailbox string, options *imap.StatusOptions) (*imap.StatusData, error) {
	if err := ss.alive(); err != nil {
		return nil, err
	}
	_, a := ss.user()
	return a.mem.Status(mailbox, options)
}

func (ss *session) Append(mailbox string, r imap.LiteralReader, options *imap.AppendOptions) (*imap.AppendData, error) {
	if err := ss.alive(); err != nil {
		return nil, err
	}
	_, a := ss.user()
	return a.mem.Append(mailbox, r, options)
}

func (ss *session) Poll(w *imapserver.UpdateWriter, allowExpunge bool) error {
	// Poll follows every command, NOOP included: a good place to notice an
	// expired token.
	if err := ss.alive(); err != nil {
		return err
	}
	us, _ := ss.user()
	if us == nil {
		return nil
	}
	return us.Poll(w, allowExpunge)
}

func (ss *session) Idle(w *imapserver.UpdateWriter, stop <-chan struct{}) error {
	if err := ss.alive(); err != nil {
		return err
	}
	us, _ := ss.user()
	return us.Idle(w, stop)
}

func (ss *session) Expunge(w *imapserver.ExpungeWriter, uids *imap.UIDSet) error {
	if err := ss.alive(); err != nil {
		return err
	}
	us, _ := ss.user()
	return us.Expunge(w, uids)
}

func (ss *session) Search(kind imapserver.NumKind, criteria *imap.SearchCriteria, options *imap.SearchOptions) (*imap.SearchData, error) {
	if err := ss.alive(); err != nil {
		return nil, err
	}
	us, _ := ss.user()
	return us.Search(kind, criteria, options)
}

func (ss *session) Fetch(w *imapserver.FetchWriter, numSet imap.NumSet, options *imap.FetchOptions) error {
	if err := ss.alive(); err != nil {
		return err
	}
	us, _ := ss.user()
	return us.Fetch(w, numSet, options)
}

func (ss *session) Store(w *imapserver.FetchWriter, numSet imap.NumSet, flags *imap.StoreFlags, options *imap.StoreOptions) error {
	if err := ss.alive(); err != nil {
		return err
	}
	us, _ := ss.user()
	return us.Store(w, numSet, flags, options)
}

func (ss *session) Copy(numSet imap.NumSet, dest string) (*imap.CopyData, error) {
	if err := ss.alive(); err != nil {
		return nil, err
	}
	us, _ := ss.user()
	return us.Copy(numSet, dest)
}

func (ss *session) Move(w *imapserver.MoveWriter, numSet imap.NumSet, dest string) error {
	if err := ss.alive(); err != nil {
		return err
	}
	us, _ := ss.user()
	return us.Move(w, numSet, dest)
}

func (ss *session) Namespace() (*imap.NamespaceData, error) {
	if err := ss.alive(); err != nil {
		return nil, err
	}
	return &imap.NamespaceData{Personal: []imap.NamespaceDescriptor{{Delim: delim}}}, nil
}
