// Package mailtest holds helpers for tests that move mail between real
// servers: account configs for Dovecot test servers, loading sample mail,
// snapshots of whole accounts to compare, and connections that drop.
package mailtest

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2/imapclient"

	"mailmover/core/dovecottest"
	"mailmover/core/imapstore"
	"mailmover/core/sample"
	"mailmover/core/store"
)

// Account returns the config of a Dovecot user over implicit TLS.
func Account(s *dovecottest.Server, user, pw string) *imapstore.Config {
	return &imapstore.Config{Host: s.Host, Port: s.TLSPort, Security: imapstore.ImplicitTLS, Username: user, Password: pw, CAPEM: s.CAPEM, Timeout: 20 * time.Second}
}

// Load puts a corpus into an account.
func Load(t testing.TB, cfg *imapstore.Config, corpus *sample.Corpus) {
	t.Helper()
	c, err := imapclient.DialTLS(cfg.Addr(), &imapclient.Options{TLSConfig: TLSFor(t, cfg)})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Login(cfg.Username, cfg.Password).Wait(); err != nil {
		t.Fatal(err)
	}
	if err := sample.Load(context.Background(), c, corpus); err != nil {
		t.Fatal(err)
	}
}

// TLSFor returns the TLS configuration of an account.
func TLSFor(t testing.TB, cfg *imapstore.Config) *tls.Config {
	t.Helper()
	tc, err := cfg.TLS()
	if err != nil {
		t.Fatal(err)
	}
	return tc
}

// Msg is what must survive a copy: body hash, flags, INTERNALDATE.
type Msg struct {
	Hash  string
	Flags string
	Date  int64
}

func (m Msg) String() string { return fmt.Sprintf("%s %s %d", m.Hash[:12], m.Flags, m.Date) }

// EachFolder opens every selectable folder of an account read-only and calls
// fn with the session (to fetch from) and the folder's message summaries.
func EachFolder(t testing.TB, cfg *imapstore.Config, fn func(s *imapstore.Session, f store.Folder, infos []store.MessageInfo)) {
	t.Helper()
	ctx := context.Background()
	s, err := imapstore.Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	folders, err := s.Folders(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range folders {
		if f.NoSelect {
			continue
		}
		if _, err := s.OpenFolder(ctx, f.Name, true); err != nil {
			t.Fatal(err)
		}
		infos, err := s.List(ctx)
		if err != nil {
			t.Fatal(err)
		}
		fn(s, f, infos)
	}
}

// Snapshot reads every message of every folder: body hash, flags, INTERNALDATE,
// keyed by folder name, sorted.
func Snapshot(t testing.TB, cfg *imapstore.Config) map[string][]Msg {
	t.Helper()
	out := map[string][]Msg{}
	EachFolder(t, cfg, func(s *imapstore.Session, f store.Folder, infos []store.MessageInfo) {
		var uids []uint32
		for _, m := range infos {
			uids = append(uids, m.UID)
		}
		var msgs []Msg
		for m, err := range s.Fetch(context.Background(), uids) {
			if err != nil {
				t.Fatal(err)
			}
			msgs = append(msgs, HashMsg(m.Body, m.Flags, m.InternalDate))
		}
		sort.Slice(msgs, func(i, j int) bool { return msgs[i].String() < msgs[j].String() })
		out[f.Name] = msgs
	})
	return out
}

// FaultDialer dials through a proxy that cuts each of the first cuts
// connections after limit bytes from the server.
type FaultDialer struct {
	// Limit is how many bytes a cut connection reads before it drops.
	Limit int64
	// Cuts is how many connections are still to be cut.
	Cuts atomic.Int32
}

// Dial is a Config.Dialer.
func (d *FaultDialer) Dial(ctx context.Context, network, addr string) (net.Conn, error) {
	var nd net.Dialer
	c, err := nd.DialContext(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	if d.Cuts.Add(-1) < 0 {
		return c, nil
	}
	return &cutConn{Conn: c, left: d.Limit}, nil
}

// cutConn closes itself after reading left bytes: a dropped TCP connection.
type cutConn struct {
	net.Conn
	mu   sync.Mutex
	left int64
}

func (c *cutConn) Read(b []byte) (int, error) {
	c.mu.Lock()
	left := c.left
	c.mu.Unlock()
	if left <= 0 {
		c.Conn.Close()
		return 0, io.ErrUnexpectedEOF
	}
	if int64(len(b)) > left {
		b = b[:left]
	}
	n, err := c.Conn.Read(b)
	c.mu.Lock()
	c.left -= int64(n)
	c.mu.Unlock()
	return n, err
}

func (c *cutConn) Write(b []byte) (int, error) {
	c.mu.Lock()
	left := c.left
	c.mu.Unlock()
	if left <= 0 {
		c.Conn.Close()
		return 0, io.ErrUnexpectedEOF
	}
	return c.Conn.Write(b)
}

// HashMsg summarises a message read from body.
func HashMsg(body io.Reader, flags []string, date time.Time) Msg {
	h := sha256.New()
	io.Copy(h, body)
	return Msg{Hash: hex.EncodeToString(h.Sum(nil)), Flags: strings.Join(store.SyncFlags(flags), " "), Date: date.Unix()}
}

// Dial logs in to an account with go-imap's client, for tests that change
// the source behind the copier's back.
func Dial(t testing.TB, cfg *imapstore.Config) *imapclient.Client {
	t.Helper()
	c, err := imapclient.DialTLS(cfg.Addr(), &imapclient.Options{TLSConfig: TLSFor(t, cfg)})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Login(cfg.Username, cfg.Password).Wait(); err != nil {
		t.Fatal(err)
	}
	return c
}
