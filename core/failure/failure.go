// Package failure classes what can go wrong during a migration, by kind (what
// happened) and by scope (how far it reaches: one message, one folder, the
// whole account), in the manner of mbsync's driver errors and imapsync's
// failure taxonomy. Front ends turn each Kind into advice.
package failure

import (
	"context"
	"errors"
	"fmt"
)

// Kind says what went wrong, so that a front end can tell the user what to do.
type Kind int

const (
	// Unknown is an error that fits no other kind.
	Unknown Kind = iota
	// Config is a usage or configuration mistake (a bad URL, a missing flag).
	Config
	// Auth is a login refused by the server (RFC 9051 section 7.1: NO [AUTHENTICATIONFAILED]).
	Auth
	// TLS is a failed TLS handshake or an untrusted certificate.
	TLS
	// Connection is a network failure: refused, reset, timed out, or a server BYE.
	Connection
	// Quota is a full target mailbox (RFC 9208: NO [OVERQUOTA]).
	Quota
	// Refused is one message or folder the server would not take (NO on APPEND or CREATE).
	Refused
	// TooBig is a message larger than the target accepts (RFC 7889 APPENDLIMIT, or [TOOBIG]).
	TooBig
	// Throttled is the server asking us to slow down.
	Throttled
	// Malformed is input we cannot read: a broken mbox, an unparsable message.
	Malformed
	// Cancelled is work stopped by the user.
	Cancelled
	// Local is a failure of the local machine: disk full, permission denied.
	Local
)

var kindNames = [...]string{"unknown", "config", "auth", "tls", "connection", "quota", "refused", "too-big", "throttled", "malformed", "cancelled", "local"}

// String returns the kind's stable lower-case name, used in journals and JSON.
func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("kind(%d)", int(k))
}

// MarshalText encodes the kind as its name.
func (k Kind) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

// UnmarshalText decodes a kind name.
func (k *Kind) UnmarshalText(b []byte) error {
	for i, n := range kindNames {
		if n == string(b) {
			*k = Kind(i)
			return nil
		}
	}
	*k = Unknown
	return nil
}

// Scope says how far a failure reaches.
type Scope int

const (
	// ScopeMessage affects one message: record it, skip it, go on.
	ScopeMessage Scope = iota
	// ScopeFolder affects one folder: the others can still be copied.
	ScopeFolder
	// ScopeAccount stops the whole run (authentication, quota, lost connection after retries).
	ScopeAccount
)

var scopeNames = [...]string{"message", "folder", "account"}

// String returns the scope's lower-case name.
func (s Scope) String() string {
	if int(s) < len(scopeNames) {
		return scopeNames[s]
	}
	return fmt.Sprintf("scope(%d)", int(s))
}

// MarshalText encodes the scope as its name.
func (s Scope) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// Error is a classified failure. Its message never holds a secret.
type Error struct {
	Kind  Kind
	Scope Scope
	// Op is what was being done, in plain words ("log in to imap.example.com").
	Op string
	// Err is the underlying error.
	Err error
}

func (e *Error) Error() string {
	if e.Op == "" {
		return e.Err.Error()
	}
	if e.Err == nil {
		return e.Op
	}
	return e.Op + ": " + e.Err.Error()
}

func (e *Error) Unwrap() error { return e.Err }

// New returns a classified error.
func New(kind Kind, scope Scope, op string, err error) *Error {
	return &Error{Kind: kind, Scope: scope, Op: op, Err: err}
}

// Newf returns a classified error with a formatted message.
func Newf(kind Kind, scope Scope, format string, args ...any) *Error {
	return &Error{Kind: kind, Scope: scope, Err: fmt.Errorf(format, args...)}
}

// KindOf returns the kind of err: the outermost *Error's kind, Cancelled for a
// cancelled context, Unknown otherwise.
func KindOf(err error) Kind {
	var fe *Error
	if errors.As(err, &fe) {
		return fe.Kind
	}
	if errors.Is(err, context.Canceled) {
		return Cancelled
	}
	return Unknown
}

// ScopeOf returns how far err reaches; unclassified errors reach the account.
func ScopeOf(err error) Scope {
	var fe *Error
	if errors.As(err, &fe) {
		return fe.Scope
	}
	return ScopeAccount
}

// Advice returns one or two plain sentences saying what the user can do about
// a failure of this kind. Front ends may translate it.
func Advice(k Kind) string {
	switch k {
	case Config:
		return "Check the account settings (server name, port, user name) and try again."
	case Auth:
		return "The server refused the user name or password. Check them; many providers (Gmail, Yahoo, iCloud) need an app password, or IMAP switched on in their web settings."
	case TLS:
		return "The secure connection could not be set up. Check the server name and port; if the server uses its own certificate, compare its fingerprint with what your provider publishes and trust it explicitly."
	case Connection:
		return "The server could not be reached or dropped the connection. Check the server name, port and your network, then run again: nothing is lost and the copy resumes where it stopped."
	case Quota:
		return "The new mailbox is full. Free space or raise its quota, then run again: copying resumes where it stopped."
	case Refused:
		return "The server refused this item. It is listed in the report; the rest was copied."
	case TooBig:
		return "The message is larger than the new server accepts. Save it from your old mailbox by hand, or ask the provider to raise the limit."
	case Throttled:
		return "The server asked us to slow down. Mailmover waits and goes on by itself; for large mailboxes, run again later if it stops."
	case Malformed:
		return "The file or message could not be read. It is listed in the report; the rest was copied."
	case Cancelled:
		return "Stopped. Run again to resume where it stopped; nothing is copied twice."
	case Local:
		return "Something on this computer failed (disk full, no permission). Free space or choose another folder, then run again."
	}
	return "Something unexpected went wrong. Run again; if it happens again, keep the journal and report it."
}
