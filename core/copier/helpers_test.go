package copier

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

// account returns the config of a Dovecot user over implicit TLS.
func account(s *dovecottest.Server, user, pw string) *imapstore.Config {
	return &imapstore.Config{Host: s.Host, Port: s.TLSPort, Security: imapstore.ImplicitTLS, Username: user, Password: pw, CAPEM: s.CAPEM, Timeout: 20 * time.Second}
}

// load puts a corpus into an account.
func load(t testing.TB, cfg *imapstore.Config, corpus *sample.Corpus) {
	t.Helper()
	c, err := imapclient.DialTLS(cfg.Addr(), &imapclient.Options{TLSConfig: tlsFor(t, cfg)})
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

func tlsFor(t testing.TB, cfg *imapstore.Config) *tls.Config {
	t.Helper()
	tc, err := cfg.TLS()
	if err != nil {
		t.Fatal(err)
	}
	return tc
}

// snapMsg is what must survive a copy.
type snapMsg struct {
	Hash  string
	Flags string
	Date  int64
}

func (m snapMsg) String() string { return fmt.Sprintf("%s %s %d", m.Hash[:12], m.Flags, m.Date) }

// snapshot reads every message of every folder: body hash, flags, INTERNALDATE,
// keyed by folder path (joined with "/").
func snapshot(t testing.TB, cfg *imapstore.Config) map[string][]snapMsg {
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
	out := map[string][]snapMsg{}
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
		var uids []uint32
		for _, m := range infos {
			uids = append(uids, m.UID)
		}
		var msgs []snapMsg
		for m, err := range s.Fetch(ctx, uids) {
			if err != nil {
				t.Fatal(err)
			}
			h := sha256.New()
			io.Copy(h, m.Body)
			msgs = append(msgs, snapMsg{Hash: hex.EncodeToString(h.Sum(nil)), Flags: strings.Join(store.SyncFlags(m.Flags), " "), Date: m.InternalDate.Unix()})
		}
		sort.Slice(msgs, func(i, j int) bool { return msgs[i].String() < msgs[j].String() })
		out[f.Name] = msgs
	}
	return out
}

// faultDialer dials through a proxy that cuts each of the first cuts
// connections after limit bytes from the server.
type faultDialer struct {
	limit int64
	cuts  atomic.Int32
	mu    sync.Mutex
	conns int
}

func (d *faultDialer) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	var nd net.Dialer
	c, err := nd.DialContext(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	if d.cuts.Add(-1) < 0 {
		return c, nil
	}
	return &cutConn{Conn: c, left: d.limit}, nil
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
