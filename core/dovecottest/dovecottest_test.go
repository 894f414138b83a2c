package dovecottest_test

import (
	"bytes"
	"crypto/tls"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"mailmover/core/dovecottest"
)

// quotaBytes is the quota of the test user "bob": four 1 KiB units
// (RFC 9208 STORAGE), room for two quotaMsgSize messages but not three.
const (
	quotaBytes   = 4096
	quotaMsgSize = 1500
)

// flavourCase says what a client must see on a server of one flavour.
type flavourCase struct {
	flavour  dovecottest.Flavour
	prefix   string
	delim    rune
	have     []imap.Cap
	lack     []imap.Cap
	folders  map[string]imap.MailboxAttr // listed folder, and its special-use attribute ("" for none)
	folder   string                      // created by the round trip
	onDisk   []string                    // path of folder below the Maildir
	inboxDir string                      // folder's Maildir, relative to the user's Maildir
}

var flavourCases = []flavourCase{
	{
		flavour: dovecottest.Modern,
		prefix:  "",
		delim:   '/',
		have: []imap.Cap{
			imap.CapSpecialUse, imap.CapMultiAppend, imap.CapCondStore, imap.CapQResync,
			imap.CapMove, imap.CapUIDPlus, imap.CapQuota, imap.CapLiteralPlus,
			imap.CapNamespace, imap.CapIdle, imap.CapChildren,
		},
		folders: map[string]imap.MailboxAttr{
			"INBOX":   "",
			"Drafts":  imap.MailboxAttrDrafts,
			"Sent":    imap.MailboxAttrSent,
			"Trash":   imap.MailboxAttrTrash,
			"Junk":    imap.MailboxAttrJunk,
			"Archive": imap.MailboxAttrArchive,
		},
		// A "." inside a name is an ordinary character with LAYOUT=fs.
		folder: "Projects/v1.2 notes",
		onDisk: []string{"Projects", "v1.2 notes"},
	},
	{
		flavour: dovecottest.Courier,
		prefix:  "INBOX.",
		delim:   '.',
		have: []imap.Cap{
			imap.CapIMAP4rev1, imap.CapUIDPlus, imap.CapChildren, imap.CapNamespace,
			imap.CapQuota, imap.CapIdle,
		},
		lack: []imap.Cap{
			imap.CapSpecialUse, imap.CapCondStore, imap.CapQResync, imap.CapMove,
			imap.CapMultiAppend, imap.CapLiteralPlus,
		},
		folders: map[string]imap.MailboxAttr{
			"INBOX":         "",
			"INBOX.Drafts":  "",
			"INBOX.Sent":    "",
			"INBOX.Trash":   "",
			"INBOX.Junk":    "",
			"INBOX.Archive": "",
		},
		folder: "INBOX.Projects.Notes",
		onDisk: []string{".Projects.Notes"},
	},
}

// specialUseAttrs are the RFC 6154 attributes.
var specialUseAttrs = []imap.MailboxAttr{
	imap.MailboxAttrAll, imap.MailboxAttrArchive, imap.MailboxAttrDrafts, imap.MailboxAttrFlagged,
	imap.MailboxAttrJunk, imap.MailboxAttrSent, imap.MailboxAttrTrash,
}

func TestServer(t *testing.T) {
	for _, tc := range flavourCases {
		t.Run(tc.flavour.String(), func(t *testing.T) {
			t.Parallel()
			s := dovecottest.Start(t, dovecottest.Options{
				Flavour: tc.flavour,
				Users: []dovecottest.User{
					{Name: "alice", Password: "alice-pw"},
					{Name: "bob", Password: "bob-pw", QuotaBytes: quotaBytes},
				},
			})
			defer func() {
				if t.Failed() {
					t.Logf("dovecot log:\n%s", s.Logs())
				}
			}()
			if s.Flavour != tc.flavour {
				t.Errorf("Server.Flavour = %v; want %v", s.Flavour, tc.flavour)
			}
			if s.Host != "127.0.0.1" {
				t.Errorf("Server.Host = %q; want %q", s.Host, "127.0.0.1")
			}

			t.Run("ImplicitTLS", func(t *testing.T) {
				c := dialTLS(t, s)
				login(t, c, "alice", "alice-pw")
				checkCaps(t, c, tc)
			})
			t.Run("StartTLS", func(t *testing.T) {
				c, err := imapclient.DialStartTLS(s.StartTLSAddr(), &imapclient.Options{TLSConfig: s.TLSConfig()})
				if err != nil {
					t.Fatalf("DialStartTLS(%q) = %v; want nil", s.StartTLSAddr(), err)
				}
				t.Cleanup(func() { c.Close() })
				login(t, c, "alice", "alice-pw")
				checkCaps(t, c, tc)
			})
			t.Run("PlainOffersStartTLS", func(t *testing.T) {
				c, err := imapclient.DialInsecure(s.StartTLSAddr(), nil)
				if err != nil {
					t.Fatalf("DialInsecure(%q) = %v; want nil", s.StartTLSAddr(), err)
				}
				defer c.Close()
				caps, err := c.Capability().Wait()
				if err != nil {
					t.Fatalf("CAPABILITY = %v; want nil", err)
				}
				if !caps.Has(imap.CapStartTLS) {
					t.Errorf("plain port CAPABILITY = %v; want STARTTLS", caps)
				}
			})
			t.Run("Namespace", func(t *testing.T) {
				c := dialTLS(t, s)
				login(t, c, "alice", "alice-pw")
				ns, err := c.Namespace().Wait()
				if err != nil {
					t.Fatalf("NAMESPACE = %v; want nil", err)
				}
				want := []imap.NamespaceDescriptor{{Prefix: tc.prefix, Delim: tc.delim}}
				if !slices.Equal(ns.Personal, want) {
					t.Errorf("NAMESPACE personal = %+v; want %+v", ns.Personal, want)
				}
			})
			t.Run("ListSpecialUse", func(t *testing.T) {
				c := dialTLS(t, s)
				login(t, c, "alice", "alice-pw")
				list, err := c.List("", "*", nil).Collect()
				if err != nil {
					t.Fatalf("LIST = %v; want nil", err)
				}
				got := make(map[string]*imap.ListData)
				for _, l := range list {
					got[l.Mailbox] = l
				}
				for name, attr := range tc.folders {
					l, ok := got[name]
					if !ok {
						t.Errorf("LIST lacks %q; got %v", name, mailboxNames(list))
						continue
					}
					if l.Delim != tc.delim {
						t.Errorf("LIST %q delimiter = %q; want %q", name, l.Delim, tc.delim)
					}
					for _, a := range specialUseAttrs {
						if has := slices.Contains(l.Attrs, a); has != (a == attr) {
							t.Errorf("LIST %q attributes = %v; want special use %q", name, l.Attrs, attr)
							break
						}
					}
				}
				// Dovecot answers LIST (SUBSCRIBED) (RFC 5258) even where it
				// does not announce LIST-EXTENDED, as in the Courier flavour.
				subscribed, err := c.List("", "*", &imap.ListOptions{SelectSubscribed: true}).Collect()
				if err != nil {
					t.Fatalf("LIST (SUBSCRIBED) = %v; want nil", err)
				}
				for name := range tc.folders {
					if name != "INBOX" && !slices.Contains(mailboxNames(subscribed), name) {
						t.Errorf("LIST (SUBSCRIBED) = %v; want %q", mailboxNames(subscribed), name)
					}
				}
			})
			t.Run("RoundTrip", func(t *testing.T) {
				c := dialTLS(t, s)
				login(t, c, "alice", "alice-pw")
				if err := c.Create(tc.folder, nil).Wait(); err != nil {
					t.Fatalf("CREATE %q = %v; want nil", tc.folder, err)
				}
				list, err := c.List("", "*", nil).Collect()
				if err != nil {
					t.Fatalf("LIST = %v; want nil", err)
				}
				if !slices.Contains(mailboxNames(list), tc.folder) {
					t.Errorf("LIST = %v; want %q", mailboxNames(list), tc.folder)
				}
				dir := filepath.Join(append([]string{s.MailDir("alice")}, tc.onDisk...)...)
				if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
					t.Errorf("os.Stat(%q) = %v; want a directory for %q", dir, err, tc.folder)
				}

				msg := message("round trip", 300)
				data, err := appendMessage(c, tc.folder, msg, []imap.Flag{imap.FlagFlagged})
				if err != nil {
					t.Fatalf("APPEND %q = %v; want nil", tc.folder, err)
				}
				if data.UID == 0 {
					t.Errorf("APPEND %q APPENDUID = 0; want a UID (UIDPLUS)", tc.folder)
				}
				if _, err := c.Select(tc.folder, nil).Wait(); err != nil {
					t.Fatalf("SELECT %q = %v; want nil", tc.folder, err)
				}
				section := &imap.FetchItemBodySection{Peek: true}
				msgs, err := c.Fetch(imap.UIDSetNum(data.UID), &imap.FetchOptions{
					UID:         true,
					Flags:       true,
					BodySection: []*imap.FetchItemBodySection{section},
				}).Collect()
				if err != nil {
					t.Fatalf("UID FETCH %v = %v; want nil", data.UID, err)
				}
				if len(msgs) != 1 {
					t.Fatalf("UID FETCH %v returned %d messages; want 1", data.UID, len(msgs))
				}
				if got := msgs[0].FindBodySection(section); !bytes.Equal(got, msg) {
					t.Errorf("UID FETCH %v BODY[] = %q; want %q", data.UID, got, msg)
				}
				if !slices.Contains(msgs[0].Flags, imap.FlagFlagged) {
					t.Errorf("UID FETCH %v FLAGS = %v; want \\Flagged", data.UID, msgs[0].Flags)
				}
			})
			t.Run("Quota", func(t *testing.T) {
				c := dialTLS(t, s)
				login(t, c, "bob", "bob-pw")
				roots, err := c.GetQuotaRoot("INBOX").Wait()
				if err != nil {
					t.Fatalf("GETQUOTAROOT INBOX = %v; want nil", err)
				}
				var limit int64
				for _, r := range roots {
					if res, ok := r.Resources[imap.QuotaResourceStorage]; ok {
						limit = res.Limit
					}
				}
				if limit != quotaBytes/1024 {
					t.Errorf("GETQUOTAROOT INBOX STORAGE limit = %d; want %d (roots %+v)", limit, quotaBytes/1024, roots)
				}
				for i := 1; i <= 3; i++ {
					_, err := appendMessage(c, "INBOX", message(fmt.Sprintf("quota %d", i), quotaMsgSize), nil)
					if i < 3 {
						if err != nil {
							t.Fatalf("APPEND #%d = %v; want nil", i, err)
						}
						continue
					}
					var imapErr *imap.Error
					if !errors.As(err, &imapErr) || imapErr.Code != imap.ResponseCodeOverQuota {
						t.Errorf("APPEND #%d = %v; want NO [OVERQUOTA]", i, err)
					}
				}
			})
			t.Run("WrongPassword", func(t *testing.T) {
				c := dialTLS(t, s)
				err := c.Login("alice", "not-the-password").Wait()
				var imapErr *imap.Error
				if !errors.As(err, &imapErr) || imapErr.Code != imap.ResponseCodeAuthenticationFailed {
					t.Errorf("LOGIN with a wrong password = %v; want NO [AUTHENTICATIONFAILED]", err)
				}
			})
			t.Run("UntrustedCertificate", func(t *testing.T) {
				var certErr *tls.CertificateVerificationError
				c, err := imapclient.DialTLS(s.Addr(), nil)
				if err == nil {
					c.Close()
				}
				if !errors.As(err, &certErr) {
					t.Errorf("DialTLS(%q) with default roots = %v; want a certificate verification error", s.Addr(), err)
				}
				c, err = imapclient.DialStartTLS(s.StartTLSAddr(), nil)
				if err == nil {
					c.Close()
				}
				if !errors.As(err, &certErr) {
					t.Errorf("DialStartTLS(%q) with default roots = %v; want a certificate verification error", s.StartTLSAddr(), err)
				}
			})
			t.Run("AddUser", func(t *testing.T) {
				s.AddUser(t, dovecottest.User{Name: "carol", Password: "carol-pw"})
				c := dialTLS(t, s)
				login(t, c, "carol", "carol-pw")
				if _, err := appendMessage(c, "INBOX", message("for carol", 200), nil); err != nil {
					t.Fatalf("APPEND INBOX = %v; want nil", err)
				}
				var files []string
				for _, sub := range []string{"new", "cur"} {
					entries, err := os.ReadDir(filepath.Join(s.MailDir("carol"), sub))
					if err != nil {
						t.Fatalf("os.ReadDir = %v; want nil", err)
					}
					for _, e := range entries {
						files = append(files, e.Name())
					}
				}
				if len(files) != 1 {
					t.Errorf("messages in %s = %q; want 1", s.MailDir("carol"), files)
				}
			})
			t.Run("Logs", func(t *testing.T) {
				if logs := s.Logs(); !strings.Contains(logs, "Login: user=<alice>") {
					t.Errorf("Logs() = %q; want a login of alice", logs)
				}
			})
		})
	}
}

func TestAvailable(t *testing.T) {
	err := dovecottest.Available()
	if os.Getenv("MAILMOVER_REQUIRE_DOVECOT") == "1" && err != nil {
		t.Fatalf("Available() = %v; want nil", err)
	}
	if err != nil {
		t.Skipf("Available() = %v", err)
	}
}

func TestDefaultUser(t *testing.T) {
	t.Parallel()
	s := dovecottest.Start(t, dovecottest.Options{})
	c := dialTLS(t, s)
	login(t, c, "alice", "alice-pw")
	if err := c.Noop().Wait(); err != nil {
		t.Errorf("NOOP = %v; want nil", err)
	}
}

// dialTLS connects over implicit TLS and closes the client at the end of the test.
func dialTLS(t *testing.T, s *dovecottest.Server) *imapclient.Client {
	t.Helper()
	c, err := imapclient.DialTLS(s.Addr(), &imapclient.Options{TLSConfig: s.TLSConfig()})
	if err != nil {
		t.Fatalf("DialTLS(%q) = %v; want nil", s.Addr(), err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// login logs in or fails the test.
func login(t *testing.T, c *imapclient.Client, user, password string) {
	t.Helper()
	if err := c.Login(user, password).Wait(); err != nil {
		t.Fatalf("LOGIN %q = %v; want nil", user, err)
	}
}

// checkCaps checks the capabilities announced after login.
func checkCaps(t *testing.T, c *imapclient.Client, tc flavourCase) {
	t.Helper()
	caps, err := c.Capability().Wait()
	if err != nil {
		t.Fatalf("CAPABILITY = %v; want nil", err)
	}
	for _, cp := range tc.have {
		if !caps.Has(cp) {
			t.Errorf("CAPABILITY = %v; want %s", caps, cp)
		}
	}
	for _, cp := range tc.lack {
		if caps.Has(cp) {
			t.Errorf("CAPABILITY = %v; want no %s", caps, cp)
		}
	}
}

// appendMessage appends msg and returns the server's APPENDUID data.
func appendMessage(c *imapclient.Client, mailbox string, msg []byte, flags []imap.Flag) (*imap.AppendData, error) {
	cmd := c.Append(mailbox, int64(len(msg)), &imap.AppendOptions{Flags: flags})
	_, werr := cmd.Write(msg)
	cerr := cmd.Close()
	data, err := cmd.Wait()
	if err != nil {
		return nil, err
	}
	if err := errors.Join(werr, cerr); err != nil {
		return nil, err
	}
	return data, nil
}

// message returns an RFC 5322 message of exactly size bytes.
func message(subject string, size int) []byte {
	head := "From: Alice <alice@example.org>\r\n" +
		"To: Bob <bob@example.org>\r\n" +
		"Subject: " + subject + "\r\n" +
		"Date: Mon, 02 Jan 2006 15:04:05 +0000\r\n" +
		"Message-ID: <" + strings.ReplaceAll(subject, " ", ".") + "@example.org>\r\n" +
		"\r\n"
	var b strings.Builder
	b.WriteString(head)
	rest := size - len(head) // at least 2 for the final CRLF
	for ; rest > 72; rest -= 72 {
		b.WriteString(strings.Repeat("x", 70) + "\r\n")
	}
	b.WriteString(strings.Repeat("x", rest-2) + "\r\n")
	return []byte(b.String())
}

// mailboxNames returns the names in a LIST response.
func mailboxNames(list []*imap.ListData) []string {
	var names []string
	for _, l := range list {
		names = append(names, l.Mailbox)
	}
	return names
}
