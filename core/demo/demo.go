// Package demo runs Mailmover's built-in demo: two IMAP servers held in
// memory on 127.0.0.1, an "old" one filled with generated sample mail
// (package mailmover/core/sample) and an empty "new" one, so that a newcomer
// can try a whole migration without an account, a network or any risk.
// Each account also has a CardDAV (RFC 6352) and CalDAV (RFC 4791) server
// (package mailmover/core/davtest): the old one with address books and
// calendars, the new one with an empty default address book and calendar.
//
// The servers are go-imap's imapserver with its in-memory backend
// (imapmemserver). They speak IMAP4rev1 (RFC 3501) with NAMESPACE (RFC 2342),
// UIDPLUS (RFC 4315), LIST-EXTENDED (RFC 5258), LIST-STATUS (RFC 5819),
// STATUS=SIZE (RFC 8438) and LITERAL+ (RFC 7888), in plain text: they listen
// on the loopback address only, and the passwords are random and live only as
// long as the Demo.
package demo

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"sync"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/emersion/go-imap/v2/imapserver"
	"github.com/emersion/go-imap/v2/imapserver/imapmemserver"

	"mailmover/core/dav"
	"mailmover/core/davtest"
	"mailmover/core/failure"
	"mailmover/core/imapstore"
	"mailmover/core/sample"
)

// Demo account addresses. They are in the .example domain (RFC 2606), which
// can never belong to anyone.
const (
	// SourceEmail is the address of the old mailbox, filled with sample mail.
	SourceEmail = "alex@old-provider.example"
	// TargetEmail is the address of the new, empty mailbox.
	TargetEmail = "alex@new-provider.example"
)

// Default corpus of the demo.
const (
	// DefaultSeed selects the sample corpus.
	DefaultSeed = 1
	// DefaultMessages is the number of sample messages in the old mailbox.
	DefaultMessages = 300
	// DefaultMaxAttachment keeps the largest attachment at 1 MiB, so the demo
	// is quick and light on memory.
	DefaultMaxAttachment = 1 << 20
)

// TargetFolders returns the special-use folders (RFC 6154) the new mailbox
// has from the start besides INBOX, as a freshly opened account at most
// providers does, so that the plan shows folders both merged into and
// created.
func TargetFolders() []string {
	return []string{"Sent", "Drafts", "Trash", "Junk", "Archive"}
}

// Options choose the sample mail of a demo. The zero value is the default
// demo.
type Options struct {
	// Seed selects the corpus (default DefaultSeed).
	Seed uint64
	// Messages is the number of messages (default DefaultMessages).
	Messages int
	// MaxAttachment is the largest attachment in bytes (default DefaultMaxAttachment).
	MaxAttachment int64
}

// Demo is a running demo: an IMAP server and a CardDAV/CalDAV server for
// each of the two accounts.
type Demo struct {
	// Source and Target say how to reach the old and the new mailbox:
	// 127.0.0.1, no TLS (Security imapstore.Plain with AllowPlain set).
	Source, Target *imapstore.Config
	// Messages and Bytes are what was loaded into the old mailbox.
	Messages int
	Bytes    int64

	// SourceDAV and TargetDAV say how to reach the old and the new
	// account's contacts and calendars: one server each on 127.0.0.1,
	// plain http, found from its root URL by dav.Connect for both
	// dav.Contacts and dav.Calendars. The old account holds the address
	// books SourceAddressBooks and the calendars SourceCalendars; the new
	// one an empty address book and calendar named like the first of
	// each.
	SourceDAV, TargetDAV dav.Config
	// Contacts counts the vCards of the old account's address books, and
	// Events the objects of its calendars (events and tasks alike).
	Contacts, Events int

	servers    []*imapserver.Server
	davServers []*davtest.Server
	wg         sync.WaitGroup
	once       sync.Once
}

// Start starts the default demo: two IMAP and two DAV servers on random
// 127.0.0.1 ports, the old mailbox filled with DefaultMessages sample
// messages, the old contacts and calendars with a fixed set of address
// books and calendars. ctx bounds the start only; the servers run until
// Close.
func Start(ctx context.Context) (*Demo, error) {
	return StartWith(ctx, Options{})
}

// StartWith is Start with chosen sample mail.
func StartWith(ctx context.Context, opts Options) (*Demo, error) {
	if opts.Seed == 0 {
		opts.Seed = DefaultSeed
	}
	if opts.Messages <= 0 {
		opts.Messages = DefaultMessages
	}
	if opts.MaxAttachment <= 0 {
		opts.MaxAttachment = DefaultMaxAttachment
	}
	d := &Demo{}
	src, err := d.serve(SourceEmail)
	if err != nil {
		d.Close()
		return nil, err
	}
	dst, err := d.serve(TargetEmail, TargetFolders()...)
	if err != nil {
		d.Close()
		return nil, err
	}
	d.Source, d.Target = src, dst
	if err := d.serveDAV(ctx); err != nil {
		d.Close()
		return nil, err
	}
	corpus := sample.New(sample.Options{Seed: opts.Seed, Messages: opts.Messages, MaxAttachment: opts.MaxAttachment})
	if err := fill(ctx, src, corpus); err != nil {
		d.Close()
		return nil, err
	}
	d.Messages = corpus.Len()
	d.Bytes = corpus.TotalBytes()
	return d, nil
}

// caps returns the capabilities the demo servers offer: what imapmemserver
// implements, and nothing it does not (no SPECIAL-USE attributes, no QUOTA,
// no MULTIAPPEND, no CONDSTORE).
func caps() imap.CapSet {
	return imap.CapSet{
		imap.CapIMAP4rev1:    {},
		imap.CapNamespace:    {},
		imap.CapUIDPlus:      {},
		imap.CapListExtended: {},
		imap.CapListStatus:   {},
		imap.CapStatusSize:   {},
		imap.CapLiteralPlus:  {},
	}
}

// serve starts one server with one user, whose mailbox holds INBOX and the
// named folders, and returns how to reach it.
func (d *Demo) serve(email string, folders ...string) (*imapstore.Config, error) {
	password, err := randomPassword()
	if err != nil {
		return nil, err
	}
	mem := imapmemserver.New()
	u := imapmemserver.NewUser(email, password)
	for _, name := range append([]string{"INBOX"}, folders...) {
		if err := u.Create(name, nil); err != nil {
			return nil, fmt.Errorf("create demo folder %s: %w", name, err)
		}
		if err := u.Subscribe(name); err != nil {
			return nil, fmt.Errorf("subscribe demo folder %s: %w", name, err)
		}
	}
	mem.AddUser(u)
	srv := imapserver.New(&imapserver.Options{
		NewSession: func(*imapserver.Conn) (imapserver.Session, *imapserver.GreetingData, error) {
			return mem.NewSession(), nil, nil
		},
		Caps: caps(),
		// Plain-text login is safe here: the server listens on 127.0.0.1 only.
		InsecureAuth: true,
		Logger:       discard{},
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, failure.New(failure.Local, failure.ScopeAccount, "start the demo server", err)
	}
	d.servers = append(d.servers, srv)
	d.wg.Go(func() { srv.Serve(ln) })
	port := ln.Addr().(*net.TCPAddr).Port
	return &imapstore.Config{
		Host:       "127.0.0.1",
		Port:       port,
		Security:   imapstore.Plain,
		Username:   email,
		Password:   password,
		AllowPlain: true,
	}, nil
}

// serveDAV starts the CardDAV and CalDAV servers of both accounts.
func (d *Demo) serveDAV(ctx context.Context) error {
	src, err := davtest.Start(ctx, davtest.Options{Username: SourceEmail, Collections: sourceDAV()})
	if err != nil {
		return fmt.Errorf("start the demo contacts and calendars: %w", err)
	}
	d.davServers = append(d.davServers, src)
	dst, err := davtest.Start(ctx, davtest.Options{Username: TargetEmail, Collections: targetDAV()})
	if err != nil {
		return fmt.Errorf("start the demo contacts and calendars: %w", err)
	}
	d.davServers = append(d.davServers, dst)
	d.SourceDAV, d.TargetDAV = src.Config(), dst.Config()
	for _, c := range src.Collections(dav.Contacts) {
		d.Contacts += len(c.Objects)
	}
	for _, c := range src.Collections(dav.Calendars) {
		d.Events += len(c.Objects)
	}
	return nil
}

// fill loads the corpus into the account cfg.
func fill(ctx context.Context, cfg *imapstore.Config, corpus *sample.Corpus) error {
	var dialer net.Dialer
	conn, err := dialer.DialContext(ctx, "tcp", cfg.Addr())
	if err != nil {
		return failure.New(failure.Connection, failure.ScopeAccount, "connect to the demo server", err)
	}
	c := imapclient.New(conn, nil)
	defer c.Close()
	stop := context.AfterFunc(ctx, func() { c.Close() })
	defer stop()
	if err := c.Login(cfg.Username, cfg.Password).Wait(); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return failure.New(failure.Auth, failure.ScopeAccount, "log in to the demo server", err)
	}
	if err := sample.Load(ctx, c, corpus); err != nil {
		return fmt.Errorf("load the demo mail: %w", err)
	}
	// The mail is in; a failed goodbye does not matter.
	_ = c.Logout().Wait()
	return nil
}

// Close stops all servers and forgets their mail, contacts and
// calendars. It is safe to call more than once.
func (d *Demo) Close() error {
	d.once.Do(func() {
		for _, s := range d.servers {
			s.Close()
		}
		for _, s := range d.davServers {
			s.Close()
		}
		d.wg.Wait()
	})
	return nil
}

func randomPassword() (string, error) {
	b := make([]byte, 12)
	if _, err := rand.Read(b); err != nil {
		return "", failure.New(failure.Local, failure.ScopeAccount, "make a demo password", err)
	}
	return hex.EncodeToString(b), nil
}

// discard is an imapserver.Logger that drops everything: a client leaving
// the demo abruptly is not worth a line on the terminal.
type discard struct{}

func (discard) Printf(string, ...any) {}
