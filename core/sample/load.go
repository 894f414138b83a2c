package sample

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"mailmover/core/failure"
)

// MailboxName returns the server name Load uses for a folder: its path
// joined with the server's hierarchy delimiter (RFC 9051 section 5.1) under
// the personal namespace prefix (RFC 2342). INBOX stays INBOX, without the
// prefix. A delimiter inside a path element would split it in two, so it is
// replaced with "_" ("-" if the delimiter is "_"). A zero delimiter (a flat
// server) joins with "/".
//
// Load reuses an existing special-use folder (RFC 6154) of another name when
// the server has one; MailboxNames reports the names Load really uses.
func MailboxName(f Folder, delim rune, prefix string) string {
	if delim == 0 {
		delim = '/'
	}
	d := string(delim)
	sub := "_"
	if delim == '_' {
		sub = "-"
	}
	parts := make([]string, len(f.Path))
	for i, p := range f.Path {
		parts[i] = strings.ReplaceAll(p, d, sub)
	}
	if len(parts) > 0 && strings.EqualFold(parts[0], "INBOX") {
		parts[0] = "INBOX"
		return strings.Join(parts, d)
	}
	return prefix + strings.Join(parts, d)
}

// serverInfo is what Load learns about the server before writing.
type serverInfo struct {
	delim    rune
	prefix   string
	caps     imap.CapSet
	existing map[string]bool
	// special maps a lower-case special-use attribute to the existing
	// mailboxes that carry it, sorted.
	special map[string][]string
}

// probe finds the hierarchy delimiter and personal prefix (NAMESPACE, RFC
// 2342, else LIST "" "") and the existing mailboxes with their special-use
// attributes (LIST RETURN (SPECIAL-USE), RFC 6154 section 5.1, where
// supported).
func probe(c *imapclient.Client) (*serverInfo, error) {
	s := &serverInfo{caps: c.Caps(), existing: map[string]bool{}, special: map[string][]string{}}
	haveNS := false
	if s.caps.Has(imap.CapNamespace) || s.caps.Has(imap.CapIMAP4rev2) {
		ns, err := c.Namespace().Wait()
		if err != nil {
			var ie *imap.Error
			if !errors.As(err, &ie) {
				return nil, failure.New(failure.Connection, failure.ScopeAccount, "read namespace", err)
			}
		} else if len(ns.Personal) > 0 {
			s.delim, s.prefix = ns.Personal[0].Delim, ns.Personal[0].Prefix
			haveNS = true
		}
	}
	if !haveNS {
		l, err := c.List("", "", nil).Collect()
		if err != nil {
			return nil, classify(err, failure.ScopeAccount, "read hierarchy delimiter")
		}
		if len(l) > 0 {
			s.delim = l[0].Delim
		}
	}
	var opts *imap.ListOptions
	if s.caps.Has(imap.CapSpecialUse) && (s.caps.Has(imap.CapListExtended) || s.caps.Has(imap.CapIMAP4rev2)) {
		opts = &imap.ListOptions{ReturnSpecialUse: true}
	}
	list, err := c.List("", "*", opts).Collect()
	if err != nil {
		return nil, classify(err, failure.ScopeAccount, "list folders")
	}
	for _, d := range list {
		s.existing[d.Mailbox] = true
		for _, a := range d.Attrs {
			if isSpecialUse(a) {
				k := strings.ToLower(string(a))
				s.special[k] = append(s.special[k], d.Mailbox)
			}
		}
	}
	for _, names := range s.special {
		sort.Strings(names)
	}
	return s, nil
}

func isSpecialUse(a imap.MailboxAttr) bool {
	switch strings.ToLower(string(a)) {
	case `\all`, `\archive`, `\drafts`, `\flagged`, `\junk`, `\sent`, `\trash`:
		return true
	}
	return false
}

// resolve returns the server name of every folder: an existing mailbox
// with the folder's special-use attribute, else one with the folder's name
// (compared without case for special-use folders), else the name from
// MailboxName.
func (s *serverInfo) resolve(folders []Folder) []string {
	names := make([]string, len(folders))
	for i, f := range folders {
		name := MailboxName(f, s.delim, s.prefix)
		names[i] = name
		if f.SpecialUse == "" || s.existing[name] && s.has(name, f.SpecialUse) {
			continue
		}
		if l := s.special[strings.ToLower(f.SpecialUse)]; len(l) > 0 {
			names[i] = l[0]
			continue
		}
		if s.existing[name] {
			continue
		}
		var same []string
		for e := range s.existing {
			if strings.EqualFold(e, name) {
				same = append(same, e)
			}
		}
		if len(same) > 0 {
			sort.Strings(same)
			names[i] = same[0]
		}
	}
	return names
}

// has reports whether mailbox name carries the special-use attribute.
func (s *serverInfo) has(name, attr string) bool {
	for _, n := range s.special[strings.ToLower(attr)] {
		if n == name {
			return true
		}
	}
	return false
}

// MailboxNames returns the server name of every folder of the corpus (in
// the order of corpus.Folders), as Load resolves them: special-use folders
// that exist on the server are reused, the others are named by
// MailboxName. The client must be logged in.
func MailboxNames(ctx context.Context, c *imapclient.Client, corpus *Corpus) ([]string, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	stop := context.AfterFunc(ctx, func() { c.Close() })
	defer stop()
	s, err := probe(c)
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	if err != nil {
		return nil, err
	}
	return s.resolve(corpus.Folders), nil
}

// Load creates every folder (with subscriptions as given; unsubscribed ones
// are unsubscribed) and APPENDs every message with its flags and
// INTERNALDATE (RFC 9051 section 6.3.12), streaming each one.
//
// The client must be logged in. Folder names are built from Path with the
// server's hierarchy delimiter and personal namespace prefix (NAMESPACE if
// the server has it, else LIST "" ""); INBOX stays INBOX; special-use folders
// that already exist on the server (LIST RETURN (SPECIAL-USE), or by name)
// are reused rather than created. Folders that exist are not created again.
//
// go-imap has no context: when ctx is cancelled Load closes the client and
// returns ctx.Err().
func Load(ctx context.Context, c *imapclient.Client, corpus *Corpus) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	stop := context.AfterFunc(ctx, func() { c.Close() })
	defer stop()
	err := load(ctx, c, corpus)
	if ctx.Err() != nil {
		// The AfterFunc may still be running: close here too, so the client
		// is closed when Load returns.
		c.Close()
		return ctx.Err()
	}
	return err
}

func load(ctx context.Context, c *imapclient.Client, corpus *Corpus) error {
	s, err := probe(c)
	if err != nil {
		return err
	}
	names := s.resolve(corpus.Folders)
	for i, f := range corpus.Folders {
		if err := s.create(c, f, names[i]); err != nil {
			return err
		}
	}
	for m := range corpus.All() {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if err := appendMessage(c, names[m.Folder], m); err != nil {
			return err
		}
	}
	return nil
}

// create creates a folder unless it exists, then sets its subscription.
func (s *serverInfo) create(c *imapclient.Client, f Folder, name string) error {
	if !s.existing[name] {
		var err error
		if f.SpecialUse != "" && s.caps.Has(imap.CapCreateSpecialUse) {
			// RFC 6154 section 3; fall back to a plain CREATE if refused.
			err = c.Create(name, &imap.CreateOptions{SpecialUse: []imap.MailboxAttr{imap.MailboxAttr(f.SpecialUse)}}).Wait()
			if err != nil && !alreadyExists(err) && isNo(err) {
				err = c.Create(name, nil).Wait()
			}
		} else {
			err = c.Create(name, nil).Wait()
		}
		if err != nil && !alreadyExists(err) {
			return classify(err, failure.ScopeFolder, fmt.Sprintf("create folder %q", name))
		}
		s.existing[name] = true
	}
	if f.Subscribed {
		if err := c.Subscribe(name).Wait(); err != nil {
			return classify(err, failure.ScopeFolder, fmt.Sprintf("subscribe to folder %q", name))
		}
		return nil
	}
	// A NO here means it was not subscribed, which is what is wanted.
	if err := c.Unsubscribe(name).Wait(); err != nil && !isNo(err) {
		return classify(err, failure.ScopeFolder, fmt.Sprintf("unsubscribe from folder %q", name))
	}
	return nil
}

// appendMessage streams one message into an APPEND.
func appendMessage(c *imapclient.Client, name string, m *Message) error {
	flags := make([]imap.Flag, 0, len(m.Flags))
	for _, f := range m.Flags {
		if !strings.EqualFold(f, `\Recent`) {
			flags = append(flags, imap.Flag(f))
		}
	}
	cmd := c.Append(name, m.Size(), &imap.AppendOptions{Flags: flags, Time: m.InternalDate})
	_, copyErr := io.Copy(cmd, m.Open())
	closeErr := cmd.Close()
	_, err := cmd.Wait()
	// The server's answer explains a failed write best.
	if err == nil {
		err = errors.Join(copyErr, closeErr)
	}
	if err != nil {
		return classify(err, failure.ScopeMessage, fmt.Sprintf("append message %d to folder %q", m.Index, name))
	}
	return nil
}

func imapError(err error) *imap.Error {
	var ie *imap.Error
	if errors.As(err, &ie) {
		return ie
	}
	return nil
}

func isNo(err error) bool {
	ie := imapError(err)
	return ie != nil && ie.Type == imap.StatusResponseTypeNo
}

func alreadyExists(err error) bool {
	ie := imapError(err)
	return ie != nil && ie.Code == imap.ResponseCodeAlreadyExists
}

// classify turns an error from the server or the connection into a
// failure.Error: a NO or BAD reaches the given scope, anything else is a
// lost connection.
func classify(err error, scope failure.Scope, op string) error {
	ie := imapError(err)
	if ie == nil {
		return failure.New(failure.Connection, failure.ScopeAccount, op, err)
	}
	switch ie.Code {
	case imap.ResponseCodeOverQuota:
		return failure.New(failure.Quota, failure.ScopeAccount, op, err)
	case imap.ResponseCodeTooBig:
		return failure.New(failure.TooBig, scope, op, err)
	}
	return failure.New(failure.Refused, scope, op, err)
}
