// Package copier moves mail from one store to another: Plan decides what
// goes where and says it before anything is written, Run copies faithfully
// (bytes, flags, INTERNALDATE), incrementally and resumably, and Verify
// checks that every source message is on the target.
package copier

import (
	"context"
	"crypto/tls"
	"iter"

	"mailmover/core/imapstore"
	"mailmover/core/store"
)

// Conn is one worker's connection to a store. The IMAP implementation is
// *imapstore.Session; the source side is only ever opened read-only.
type Conn interface {
	Layout() (prefix string, delim rune)
	Folders(ctx context.Context) ([]store.Folder, error)
	Status(ctx context.Context, f *store.Folder) error
	// OpenFolder selects a folder (read-only for a source) and returns its UIDVALIDITY.
	OpenFolder(ctx context.Context, name string, readOnly bool) (uint32, error)
	// List summarises every message of the open folder.
	List(ctx context.Context) ([]store.MessageInfo, error)
	// Fetch streams messages of the open folder, never changing them.
	Fetch(ctx context.Context, uids []uint32) iter.Seq2[*store.Message, error]
	Close() error
}

// TargetConn is a Conn that can also be written to.
type TargetConn interface {
	Conn
	Create(ctx context.Context, name string, subscribe bool) error
	StoreFlags(ctx context.Context, uid uint32, flags []string) error
	Append(ctx context.Context, mailbox string, msgs iter.Seq2[*store.Message, error]) (store.AppendResult, error)
	CanMultiAppend() bool
	Quota(ctx context.Context) (*store.Quota, error)
	AppendLimit() int64
}

// Endpoint opens connections to one account.
type Endpoint struct {
	// Name describes the account for people and journals (never a secret).
	Name string
	// Dial opens a connection.
	Dial func(ctx context.Context) (TargetConn, error)
}

// IMAP returns the Endpoint of an IMAP account.
func IMAP(cfg *imapstore.Config) Endpoint {
	return Endpoint{
		Name: cfg.String(),
		Dial: func(ctx context.Context) (TargetConn, error) {
			return imapstore.Open(ctx, cfg)
		},
	}
}

// Info describes one side of a migration in the plan.
type Info struct {
	Name      string
	Prefix    string
	Delim     string
	Caps      []string
	TLS       string
	Quota     *store.Quota
	SizeLimit int64
	Multi     bool
}

func tlsVersion(st *tls.ConnectionState) string {
	if st == nil {
		return "none"
	}
	return tls.VersionName(st.Version)
}
