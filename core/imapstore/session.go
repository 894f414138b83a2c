package imapstore

import (
	"context"
	"iter"

	"mailmover/core/store"
)

// Session is one worker's view of an account: a go-imap connection for
// reading and housekeeping, and, on a target, an Appender opened on first use.
type Session struct {
	*Conn
	app *Appender
}

// Open dials a Session.
func Open(ctx context.Context, cfg *Config) (*Session, error) {
	c, err := Dial(ctx, cfg)
	if err != nil {
		return nil, err
	}
	return &Session{Conn: c}, nil
}

// Layout returns the personal namespace prefix and hierarchy delimiter.
func (s *Session) Layout() (prefix string, delim rune) { return s.Prefix, s.Delim }

// Open examines a folder (read-only) and returns its UIDVALIDITY.
func (s *Session) OpenFolder(ctx context.Context, name string, readOnly bool) (uint32, error) {
	d, err := s.open(ctx, name, readOnly)
	if err != nil {
		return 0, err
	}
	return d.UIDValidity, nil
}

// CanMultiAppend reports whether the server takes several messages per APPEND.
func (s *Session) CanMultiAppend() bool { return s.Caps.Has("MULTIAPPEND") }

// Append saves messages in a folder through the session's Appender.
func (s *Session) Append(ctx context.Context, mailbox string, msgs iter.Seq2[*store.Message, error]) (AppendResult, error) {
	if err := s.appender(ctx, mailbox); err != nil {
		return AppendResult{}, err
	}
	res, err := s.app.Append(ctx, mailbox, msgs)
	if err != nil && s.app.selected == "" {
		// The appender's connection is gone; open a new one next time.
		s.app.Close()
		s.app = nil
	}
	return res, err
}

// AppendEach saves messages with an APPEND each, pipelined, through the
// session's Appender (see Appender.AppendEach).
func (s *Session) AppendEach(ctx context.Context, mailbox string, msgs iter.Seq2[*store.Message, error], done func(m *store.Message, res AppendResult, err error) bool) error {
	if err := s.appender(ctx, mailbox); err != nil {
		return err
	}
	err := s.app.AppendEach(ctx, mailbox, msgs, done)
	if err != nil && s.app.selected == "" {
		s.app.Close()
		s.app = nil
	}
	return err
}

// OpenAppender opens the session's Appender now rather than at the first
// Append, so that its set-up can overlap other work on the session's main
// connection. It must not run at the same time as Append, AppendEach or
// Close; if it fails, the next Append tries again.
func (s *Session) OpenAppender(ctx context.Context) error {
	if s.app != nil {
		return nil
	}
	a, err := DialAppender(ctx, s.cfg)
	if err != nil {
		return err
	}
	s.app = a
	return nil
}

// appender opens the session's Appender if needed and selects mailbox in it.
func (s *Session) appender(ctx context.Context, mailbox string) error {
	if s.app == nil {
		a, err := DialAppender(ctx, s.cfg)
		if err != nil {
			return err
		}
		s.app = a
	}
	if err := s.app.Select(ctx, mailbox); err != nil {
		s.app.Close()
		s.app = nil
		return err
	}
	return nil
}

// Close closes both connections.
func (s *Session) Close() error {
	if s.app != nil {
		s.app.Close()
	}
	return s.Conn.Close()
}
