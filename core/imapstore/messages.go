package imapstore

import (
	"context"
	"io"
	"iter"
	"strings"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"mailmover/core/store"
)

// Examine opens a folder read-only (RFC 9051 section 6.3.3): nothing done
// through this connection can change it, not even \Seen.
func (c *Conn) Examine(ctx context.Context, name string) (*imap.SelectData, error) {
	return c.open(ctx, name, true)
}

// Select opens a folder read-write (RFC 9051 section 6.3.2); used on targets only.
func (c *Conn) Select(ctx context.Context, name string) (*imap.SelectData, error) {
	return c.open(ctx, name, false)
}

func (c *Conn) open(ctx context.Context, name string, readOnly bool) (*imap.SelectData, error) {
	defer c.guard(ctx)()
	verb := "open"
	if readOnly {
		verb = "open (read-only)"
	}
	data, err := c.c.Select(name, &imap.SelectOptions{ReadOnly: readOnly}).Wait()
	if err != nil {
		c.selected = ""
		return nil, c.wrap(ctx, verb+" folder "+name, err)
	}
	c.selected, c.readOnly, c.uidValidity = name, readOnly, data.UIDValidity
	return data, nil
}

var headerOnly = &imap.FetchItemBodySection{Specifier: imap.PartSpecifierHeader, Peek: true}

// List returns a summary of every message of the selected folder: UID,
// flags, INTERNALDATE, size and envelope; for messages without a Message-ID,
// the hash of their header block. Bodies are not read.
func (c *Conn) List(ctx context.Context) ([]store.MessageInfo, error) {
	return c.ListUIDs(ctx, imap.UIDSet{imap.UIDRange{Start: 1, Stop: 0}})
}

// ListUIDs is List restricted to a UID set.
func (c *Conn) ListUIDs(ctx context.Context, uids imap.UIDSet) ([]store.MessageInfo, error) {
	defer c.guard(ctx)()
	if mb := c.c.Mailbox(); mb != nil && mb.NumMessages == 0 {
		return nil, nil
	}
	cmd := c.c.Fetch(uids, &imap.FetchOptions{UID: true, Flags: true, InternalDate: true, RFC822Size: true, Envelope: true})
	var out []store.MessageInfo
	var noID []int
	for {
		m := cmd.Next()
		if m == nil {
			break
		}
		buf, err := m.Collect()
		if err != nil {
			cmd.Close()
			return nil, c.wrap(ctx, "read message list of "+c.selected, err)
		}
		info := infoFromBuffer(buf)
		if info.MessageID == "" {
			noID = append(noID, len(out))
		}
		out = append(out, info)
	}
	if err := cmd.Close(); err != nil {
		return nil, c.wrap(ctx, "read message list of "+c.selected, err)
	}
	if len(noID) > 0 {
		var set imap.UIDSet
		byUID := make(map[uint32]int, len(noID))
		for _, i := range noID {
			set.AddNum(imap.UID(out[i].UID))
			byUID[out[i].UID] = i
		}
		hc := c.c.Fetch(set, &imap.FetchOptions{UID: true, BodySection: []*imap.FetchItemBodySection{headerOnly}})
		for {
			m := hc.Next()
			if m == nil {
				break
			}
			buf, err := m.Collect()
			if err != nil {
				hc.Close()
				return nil, c.wrap(ctx, "read message headers of "+c.selected, err)
			}
			if i, ok := byUID[uint32(buf.UID)]; ok {
				out[i].HeaderHash = store.HashHeader(buf.FindBodySection(headerOnly))
			}
		}
		if err := hc.Close(); err != nil {
			return nil, c.wrap(ctx, "read message headers of "+c.selected, err)
		}
	}
	return out, nil
}

func infoFromBuffer(buf *imapclient.FetchMessageBuffer) store.MessageInfo {
	info := store.MessageInfo{
		UID:          uint32(buf.UID),
		InternalDate: buf.InternalDate,
		Size:         buf.RFC822Size,
	}
	for _, f := range buf.Flags {
		info.Flags = append(info.Flags, string(f))
	}
	info.Flags = store.SyncFlags(info.Flags)
	if env := buf.Envelope; env != nil {
		info.MessageID = strings.Trim(env.MessageID, "<>")
		info.Subject = env.Subject
		info.Date = env.Date
		if len(env.From) > 0 {
			a := env.From[0]
			info.From = a.Addr()
			if a.Name != "" {
				info.From = a.Name + " <" + a.Addr() + ">"
			}
		}
	}
	return info
}

// Fetch streams the messages with the given UIDs from the selected folder,
// with BODY.PEEK[] so that \Seen is never set (RFC 9051 section 6.4.5). Each
// message's Body must be read or abandoned before the next is asked for.
// infos gives what List said of each UID; the server's order is kept.
func (c *Conn) Fetch(ctx context.Context, uids []uint32) iter.Seq2[*store.Message, error] {
	return func(yield func(*store.Message, error) bool) {
		if len(uids) == 0 {
			return
		}
		msgs, done := c.StartFetch(ctx, uids)
		defer done()
		for m, err := range msgs {
			if !yield(m, err) {
				return
			}
		}
	}
}

// StartFetch sends the UID FETCH of Fetch at once, so that the server starts
// sending while the caller finishes other work (RFC 9051 section 5.5 allows
// commands in flight), and returns the messages as Fetch yields them. done
// must be called when the caller is finished with msgs, whether it ranged
// over them or not: it reads and discards whatever is left, so that the
// connection can carry the next command. Cancelling ctx before done closes
// the connection. msgs may be ranged over once.
func (c *Conn) StartFetch(ctx context.Context, uids []uint32) (msgs iter.Seq2[*store.Message, error], done func()) {
	if len(uids) == 0 {
		return func(func(*store.Message, error) bool) {}, func() {}
	}
	unguard := c.guard(ctx)
	var set imap.UIDSet
	for _, u := range uids {
		set.AddNum(imap.UID(u))
	}
	body := &imap.FetchItemBodySection{Peek: true}
	cmd := c.c.Fetch(set, &imap.FetchOptions{UID: true, Flags: true, InternalDate: true, RFC822Size: true, BodySection: []*imap.FetchItemBodySection{body}})
	closed := false
	finish := func() error {
		if closed {
			return nil
		}
		closed = true
		err := cmd.Close()
		unguard()
		return err
	}
	msgs = func(yield func(*store.Message, error) bool) {
		if closed {
			return
		}
		for {
			m := cmd.Next()
			if m == nil {
				break
			}
			msg := &store.Message{UIDValidity: c.uidValidity}
			var lit imap.LiteralReader
			for {
				item := m.Next()
				if item == nil {
					break
				}
				switch it := item.(type) {
				case imapclient.FetchItemDataUID:
					msg.UID = uint32(it.UID)
				case imapclient.FetchItemDataFlags:
					for _, f := range it.Flags {
						msg.Flags = append(msg.Flags, string(f))
					}
					msg.Flags = store.SyncFlags(msg.Flags)
				case imapclient.FetchItemDataInternalDate:
					msg.InternalDate = it.Time
				case imapclient.FetchItemDataRFC822Size:
					msg.Size = it.Size
				case imapclient.FetchItemDataBodySection:
					lit = it.Literal
				}
				if lit != nil {
					// The body is the last item we need; items after it are
					// read by the next call to m.Next, after the body.
					break
				}
			}
			if lit == nil {
				continue
			}
			// The literal's size is what will be written to the target.
			msg.Size = lit.Size()
			msg.Body = lit
			if !yield(msg, nil) {
				return
			}
			// Drain what the consumer left, and any items after the body.
			io.Copy(io.Discard, lit)
			for m.Next() != nil {
			}
		}
		if err := finish(); err != nil {
			yield(nil, c.wrap(ctx, "read messages of "+c.selected, err))
		}
	}
	return msgs, func() { finish() }
}

// StoreFlags replaces a message's flags (UID STORE FLAGS.SILENT, RFC 9051
// section 6.4.6) in the selected folder; used on targets only.
func (c *Conn) StoreFlags(ctx context.Context, uid uint32, flags []string) error {
	if c.readOnly {
		return nil
	}
	defer c.guard(ctx)()
	fl := make([]imap.Flag, len(flags))
	for i, f := range flags {
		fl[i] = imap.Flag(f)
	}
	var set imap.UIDSet
	set.AddNum(imap.UID(uid))
	if err := c.c.Store(set, &imap.StoreFlags{Op: imap.StoreFlagsSet, Silent: true, Flags: fl}, nil).Close(); err != nil {
		return c.wrap(ctx, "set flags in "+c.selected, err)
	}
	return nil
}

// Noop asks the server for news and checks the connection is alive.
func (c *Conn) Noop(ctx context.Context) error {
	defer c.guard(ctx)()
	return c.wrap(ctx, "check the connection", c.c.Noop().Wait())
}
