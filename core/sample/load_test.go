package sample

import (
	"bytes"
	"context"
	"errors"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/emersion/go-imap/v2/imapserver"
	"github.com/emersion/go-imap/v2/imapserver/imapmemserver"

	"mailmover/core/failure"
)

func TestMailboxName(t *testing.T) {
	tests := []struct {
		path   []string
		delim  rune
		prefix string
		want   string
	}{
		{[]string{"INBOX"}, '/', "", "INBOX"},
		{[]string{"INBOX"}, '.', "INBOX.", "INBOX"},
		{[]string{"inbox"}, '.', "INBOX.", "INBOX"},
		{[]string{"INBOX", "Sub"}, '.', "INBOX.", "INBOX.Sub"},
		{[]string{"Sent"}, '/', "", "Sent"},
		{[]string{"Sent"}, '.', "INBOX.", "INBOX.Sent"},
		{[]string{"Projects", "Beta", "2024"}, '/', "", "Projects/Beta/2024"},
		{[]string{"Projects", "Beta", "2024"}, '.', "INBOX.", "INBOX.Projects.Beta.2024"},
		{[]string{"v1.2 Release"}, '/', "", "v1.2 Release"},
		{[]string{"v1.2 Release"}, '.', "INBOX.", "INBOX.v1_2 Release"},
		{[]string{"a/b"}, '/', "", "a_b"},
		{[]string{"x_y", "z"}, '_', "", "x-y_z"},
		{[]string{"Reçus & Factures"}, '/', "", "Reçus & Factures"},
		{[]string{"Projects", "Alpha"}, 0, "", "Projects/Alpha"},
	}
	for _, tt := range tests {
		f := Folder{Path: tt.path}
		if got := MailboxName(f, tt.delim, tt.prefix); got != tt.want {
			t.Errorf("MailboxName(%q, %q, %q) = %q; want %q", tt.path, tt.delim, tt.prefix, got, tt.want)
		}
	}
}

func TestResolve(t *testing.T) {
	folders := []Folder{
		{Path: []string{"INBOX"}},
		{Path: []string{"Sent"}, SpecialUse: `\Sent`},
		{Path: []string{"Junk"}, SpecialUse: `\Junk`},
		{Path: []string{"Trash"}, SpecialUse: `\Trash`},
		{Path: []string{"Archive"}, SpecialUse: `\Archive`},
		{Path: []string{"Projects", "Alpha"}},
	}
	tests := []struct {
		name     string
		delim    rune
		prefix   string
		existing map[string][]string // mailbox -> attributes
		want     []string
	}{
		{"empty server", '/', "", nil,
			[]string{"INBOX", "Sent", "Junk", "Trash", "Archive", "Projects/Alpha"}},
		{"special-use of other names", '/', "", map[string][]string{
			"INBOX": nil, "Sent Messages": {`\Sent`}, "Spam": {`\Junk`}, "Trash": {`\Trash`}, "Deleted Items": {`\Trash`},
		}, []string{"INBOX", "Sent Messages", "Spam", "Trash", "Archive", "Projects/Alpha"}},
		{"by name without special-use", '.', "INBOX.", map[string][]string{
			"INBOX": nil, "INBOX.Sent": nil, "INBOX.junk": nil,
		}, []string{"INBOX", "INBOX.Sent", "INBOX.junk", "INBOX.Trash", "INBOX.Archive", "INBOX.Projects.Alpha"}},
		{"attribute on two", '/', "", map[string][]string{
			"Archive": {`\Archive`}, "Archives": {`\Archive`},
		}, []string{"INBOX", "Sent", "Junk", "Trash", "Archive", "Projects/Alpha"}},
	}
	for _, tt := range tests {
		s := &serverInfo{delim: tt.delim, prefix: tt.prefix, existing: map[string]bool{}, special: map[string][]string{}}
		names := make([]string, 0, len(tt.existing))
		for name := range tt.existing {
			names = append(names, name)
		}
		slices.Sort(names)
		for _, name := range names {
			s.existing[name] = true
			for _, a := range tt.existing[name] {
				k := strings.ToLower(a)
				s.special[k] = append(s.special[k], name)
			}
		}
		if got := s.resolve(folders); !slices.Equal(got, tt.want) {
			t.Errorf("%s: resolve() = %q; want %q", tt.name, got, tt.want)
		}
	}
}

// memServer serves an in-memory IMAP server on 127.0.0.1 with user
// "alice", password "pw", and the given mailboxes already there.
func memServer(t *testing.T, caps imap.CapSet, mailboxes ...string) string {
	t.Helper()
	mem := imapmemserver.New()
	u := imapmemserver.NewUser("alice", "pw")
	for _, name := range mailboxes {
		if err := u.Create(name, nil); err != nil {
			t.Fatal(err)
		}
	}
	mem.AddUser(u)
	srv := imapserver.New(&imapserver.Options{
		NewSession: func(*imapserver.Conn) (imapserver.Session, *imapserver.GreetingData, error) {
			return mem.NewSession(), nil, nil
		},
		Caps:         caps,
		InsecureAuth: true,
		Logger:       discardLogger{},
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Go(func() { srv.Serve(ln) })
	t.Cleanup(func() {
		srv.Close()
		wg.Wait()
	})
	return ln.Addr().String()
}

type discardLogger struct{}

func (discardLogger) Printf(string, ...any) {}

// login connects to addr as alice; conn, if not nil, wraps the connection.
func login(t *testing.T, addr string, wrap func(net.Conn) net.Conn) *imapclient.Client {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	if wrap != nil {
		conn = wrap(conn)
	}
	c := imapclient.New(conn, nil)
	t.Cleanup(func() { c.Close() })
	if err := c.Login("alice", "pw").Wait(); err != nil {
		t.Fatalf("login: %v", err)
	}
	return c
}

var (
	capsRev2 = imap.CapSet{imap.CapIMAP4rev1: {}, imap.CapIMAP4rev2: {}, imap.CapSpecialUse: {}, imap.CapCreateSpecialUse: {}, imap.CapLiteralPlus: {}}
	capsRev1 = imap.CapSet{imap.CapIMAP4rev1: {}}
)

func TestLoadMemServer(t *testing.T) {
	tests := []struct {
		name     string
		caps     imap.CapSet
		existing []string
	}{
		{"IMAP4rev2 with NAMESPACE", capsRev2, []string{"INBOX"}},
		{"IMAP4rev1 without NAMESPACE", capsRev1, []string{"INBOX", "Sent", "Trash"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			corpus := New(Options{Seed: 9, Messages: 60, MaxAttachment: 128 << 10})
			addr := memServer(t, tt.caps, tt.existing...)
			c := login(t, addr, nil)
			if err := Load(t.Context(), c, corpus); err != nil {
				t.Fatalf("Load: %v", err)
			}
			names, err := MailboxNames(t.Context(), c, corpus)
			if err != nil {
				t.Fatalf("MailboxNames: %v", err)
			}
			for i, f := range corpus.Folders {
				if want := MailboxName(f, '/', ""); names[i] != want {
					t.Errorf("MailboxNames()[%d] = %q; want %q", i, names[i], want)
				}
			}
			if tt.caps.Has(imap.CapIMAP4rev2) {
				checkSubscriptions(t, c, corpus, names)
			}
			verifyCorpus(t, c, corpus, names)
		})
	}
}

// checkSubscriptions compares LIST (SUBSCRIBED) with the corpus.
func checkSubscriptions(t *testing.T, c *imapclient.Client, corpus *Corpus, names []string) {
	t.Helper()
	list, err := c.List("", "*", &imap.ListOptions{SelectSubscribed: true}).Collect()
	if err != nil {
		t.Fatalf("LIST (SUBSCRIBED): %v", err)
	}
	subscribed := map[string]bool{}
	for _, d := range list {
		subscribed[d.Mailbox] = true
	}
	for i, f := range corpus.Folders {
		if subscribed[names[i]] != f.Subscribed {
			t.Errorf("folder %q subscribed = %v; want %v", names[i], subscribed[names[i]], f.Subscribed)
		}
	}
}

// verifyCorpus reads every folder back and compares bytes, flags (without
// \Recent, case-insensitively) and INTERNALDATE (to the second) with the
// corpus, message by message in APPEND order.
func verifyCorpus(t *testing.T, c *imapclient.Client, corpus *Corpus, names []string) {
	t.Helper()
	byFolder := make([][]int, len(corpus.Folders))
	for i := range corpus.Len() {
		m := corpus.Message(i)
		byFolder[m.Folder] = append(byFolder[m.Folder], i)
	}
	for fi, name := range names {
		sel, err := c.Select(name, &imap.SelectOptions{ReadOnly: true}).Wait()
		if err != nil {
			t.Fatalf("SELECT %q: %v", name, err)
		}
		if int(sel.NumMessages) != len(byFolder[fi]) {
			t.Errorf("folder %q has %d messages; want %d", name, sel.NumMessages, len(byFolder[fi]))
			continue
		}
		if sel.NumMessages == 0 {
			continue
		}
		section := &imap.FetchItemBodySection{Peek: true}
		for seq, idx := range byFolder[fi] {
			var ns imap.SeqSet
			ns.AddNum(uint32(seq + 1))
			bufs, err := c.Fetch(ns, &imap.FetchOptions{
				Flags: true, InternalDate: true, RFC822Size: true, BodySection: []*imap.FetchItemBodySection{section},
			}).Collect()
			if err != nil || len(bufs) != 1 {
				t.Fatalf("FETCH %q %d: %d results, %v", name, seq+1, len(bufs), err)
			}
			got, want := bufs[0], corpus.Message(idx)
			if body := got.FindBodySection(section); !bytes.Equal(body, want.Bytes()) {
				t.Errorf("folder %q message %d (index %d): BODY[] differs (%d bytes; want %d)", name, seq+1, idx, len(body), want.Size())
			}
			if got.RFC822Size != want.Size() {
				t.Errorf("folder %q message %d: RFC822.SIZE = %d; want %d", name, seq+1, got.RFC822Size, want.Size())
			}
			if !got.InternalDate.Truncate(0).Equal(want.InternalDate) {
				t.Errorf("folder %q message %d: INTERNALDATE = %v; want %v", name, seq+1, got.InternalDate, want.InternalDate)
			}
			var flags []string
			for _, f := range got.Flags {
				if strings.EqualFold(string(f), `\Recent`) {
					continue
				}
				flags = append(flags, strings.ToLower(string(f)))
			}
			var wantFlags []string
			for _, f := range want.Flags {
				wantFlags = append(wantFlags, strings.ToLower(f))
			}
			slices.Sort(flags)
			slices.Sort(wantFlags)
			if !slices.Equal(flags, wantFlags) {
				t.Errorf("folder %q message %d: FLAGS = %v; want %v", name, seq+1, got.Flags, want.Flags)
			}
		}
	}
}

// cancelConn cancels a context once more than limit bytes were written.
type cancelConn struct {
	net.Conn
	mu      sync.Mutex
	written int
	limit   int
	cancel  context.CancelFunc
}

func (c *cancelConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	c.written += len(p)
	if c.written > c.limit {
		c.cancel()
	}
	c.mu.Unlock()
	return c.Conn.Write(p)
}

func TestLoadCancelled(t *testing.T) {
	corpus := New(Options{Seed: 9, Messages: 40, MaxAttachment: 256 << 10})
	addr := memServer(t, capsRev2, "INBOX")

	t.Run("before", func(t *testing.T) {
		c := login(t, addr, nil)
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		if err := Load(ctx, c, corpus); !errors.Is(err, context.Canceled) {
			t.Errorf("Load(cancelled) = %v; want %v", err, context.Canceled)
		}
	})
	t.Run("during", func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		c := login(t, addr, func(conn net.Conn) net.Conn {
			return &cancelConn{Conn: conn, limit: 100 << 10, cancel: cancel}
		})
		if err := Load(ctx, c, corpus); !errors.Is(err, context.Canceled) {
			t.Errorf("Load(cancelled during APPEND) = %v; want %v", err, context.Canceled)
		}
		select {
		case <-c.Closed():
		default:
			t.Errorf("client still open after a cancelled Load")
		}
	})
}

func TestAppendRefused(t *testing.T) {
	corpus := New(Options{Seed: 9, Messages: 3, MaxAttachment: 1 << 10})
	addr := memServer(t, capsRev2, "INBOX")
	c := login(t, addr, nil)
	err := appendMessage(c, "No Such Folder", corpus.Message(0))
	if k, s := failure.KindOf(err), failure.ScopeOf(err); k != failure.Refused || s != failure.ScopeMessage {
		t.Errorf("appendMessage(missing folder) = %v (%v, %v); want %v, %v", err, k, s, failure.Refused, failure.ScopeMessage)
	}
	if err != nil && !strings.Contains(err.Error(), `"No Such Folder"`) {
		t.Errorf("appendMessage(missing folder) = %q; want the folder named", err)
	}
}
