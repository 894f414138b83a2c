package sample

import (
	"testing"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"mailmover/core/dovecottest"
)

// TestDovecotRoundTrip loads a corpus into a real Dovecot, in both
// flavours, and reads everything back: bytes, flags and INTERNALDATEs.
func TestDovecotRoundTrip(t *testing.T) {
	corpus := New(Options{Seed: 5, Messages: 60, MaxAttachment: 2 << 20})
	big := 0
	for m := range corpus.All() {
		if m.Size() >= 1<<20 {
			big++
		}
	}
	if big < 2 {
		t.Fatalf("corpus has %d messages of 1 MB or more; want at least 2", big)
	}

	for _, fl := range []dovecottest.Flavour{dovecottest.Modern, dovecottest.Courier} {
		t.Run(fl.String(), func(t *testing.T) {
			srv := dovecottest.Start(t, dovecottest.Options{Flavour: fl})
			c, err := imapclient.DialTLS(srv.Addr(), &imapclient.Options{TLSConfig: srv.TLSConfig()})
			if err != nil {
				t.Fatalf("DialTLS(%s): %v", srv.Addr(), err)
			}
			t.Cleanup(func() { c.Close() })
			if err := c.Login("alice", "alice-pw").Wait(); err != nil {
				t.Fatalf("login: %v", err)
			}

			if err := Load(t.Context(), c, corpus); err != nil {
				t.Fatalf("Load: %v\n%s", err, srv.Logs())
			}
			names, err := MailboxNames(t.Context(), c, corpus)
			if err != nil {
				t.Fatalf("MailboxNames: %v", err)
			}
			for i, f := range corpus.Folders {
				want := MailboxName(f, '/', "")
				if fl == dovecottest.Courier {
					want = MailboxName(f, '.', "INBOX.")
				}
				if names[i] != want {
					t.Errorf("MailboxNames()[%d] = %q; want %q", i, names[i], want)
				}
			}
			if caps := c.Caps(); caps.Has(imap.CapListExtended) || caps.Has(imap.CapIMAP4rev2) {
				checkSubscriptions(t, c, corpus, names)
			}
			verifyCorpus(t, c, corpus, names)
		})
	}
}
