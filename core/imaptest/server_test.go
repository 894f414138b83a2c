package imaptest

import (
	"bufio"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"regexp"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"mailmover/core/imapstore"
)

// raw is a line-level IMAP client for checking exact server replies.
type raw struct {
	t   *testing.T
	c   net.Conn
	r   *bufio.Reader
	tag int
}

func dialRaw(t *testing.T, s *Server) *raw {
	t.Helper()
	c, err := net.Dial("tcp", s.Addr())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(20 * time.Second))
	r := &raw{t: t, c: c, r: bufio.NewReader(c)}
	if g := r.line(); !strings.HasPrefix(g, "* OK") {
		t.Fatalf("greeting = %q; want * OK", g)
	}
	return r
}

func (r *raw) line() string {
	r.t.Helper()
	l, err := r.r.ReadString('\n')
	if err != nil {
		r.t.Fatalf("read: %v", err)
	}
	return strings.TrimRight(l, "\r\n")
}

func (r *raw) send(s string) {
	r.t.Helper()
	if _, err := r.c.Write([]byte(s + "\r\n")); err != nil {
		r.t.Fatalf("write: %v", err)
	}
}

// cmd sends a tagged command and returns the untagged lines and the tagged one.
func (r *raw) cmd(s string) (untagged []string, tagged string) {
	r.t.Helper()
	r.tag++
	tag := fmt.Sprintf("T%d", r.tag)
	r.send(tag + " " + s)
	for {
		l := r.line()
		if strings.HasPrefix(l, tag+" ") {
			return untagged, strings.TrimPrefix(l, tag+" ")
		}
		untagged = append(untagged, l)
	}
}

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

func message(id, subject string) []byte {
	return []byte("From: Bob <bob@example.com>\r\nTo: alice@example.com\r\nSubject: " + subject +
		"\r\nMessage-ID: <" + id + ">\r\nDate: Mon, 02 Jan 2006 15:04:05 +0000\r\n\r\nHello " + subject + "\r\n")
}

// tokens is a fixed set of valid tokens per user.
func tokens(valid map[string]string) func(user, token string) error {
	return func(user, token string) error {
		if valid[token] != user {
			return errors.New("invalid token")
		}
		return nil
	}
}

func TestSASL(t *testing.T) {
	s := Start(t, Options{ValidateToken: tokens(map[string]string{"good": "alice@example.com"})})
	s.AddUser("alice@example.com", "")
	s.AddUser("bob", "bob-pw")
	challenge := "+ " + b64(Challenge)
	tests := []struct {
		name      string
		auth      string
		challenge string // expected continuation, "" if none
		answer    string // sent after the continuation
		want      string // prefix of the tagged reply
	}{
		{"xoauth2 good", "XOAUTH2 " + b64("user=alice@example.com\x01auth=Bearer good\x01\x01"), "", "", "OK"},
		{"xoauth2 bad token", "XOAUTH2 " + b64("user=alice@example.com\x01auth=Bearer stale\x01\x01"), challenge, "", "NO [AUTHENTICATIONFAILED]"},
		{"xoauth2 other user", "XOAUTH2 " + b64("user=bob\x01auth=Bearer good\x01\x01"), challenge, "", "NO [AUTHENTICATIONFAILED]"},
		{"xoauth2 garbage", "XOAUTH2 " + b64("nonsense"), "", "", "NO"},
		{"oauthbearer good", "OAUTHBEARER " + b64("n,a=alice@example.com,\x01host=127.0.0.1\x01port=143\x01auth=Bearer good\x01\x01"), "", "", "OK"},
		{"oauthbearer bad, kvsep answer", "OAUTHBEARER " + b64("n,a=alice@example.com,\x01auth=Bearer stale\x01\x01"), "+ ", b64("\x01"), "NO [AUTHENTICATIONFAILED]"},
		{"oauthbearer bad, empty answer", "OAUTHBEARER " + b64("n,a=alice@example.com,\x01auth=Bearer stale\x01\x01"), "+ ", "", "NO [AUTHENTICATIONFAILED]"},
		{"plain password", "PLAIN " + b64("\x00bob\x00bob-pw"), "", "", "OK"},
		{"plain for a token-only user", "PLAIN " + b64("\x00alice@example.com\x00\x00"), "", "", "NO"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := dialRaw(t, s)
			r.tag++
			tag := fmt.Sprintf("T%d", r.tag)
			r.send(tag + " AUTHENTICATE " + tt.auth)
			l := r.line()
			if tt.challenge != "" {
				if !strings.HasPrefix(l, tt.challenge) {
					t.Fatalf("AUTHENTICATE %s: continuation = %q; want %q", tt.name, l, tt.challenge)
				}
				r.send(tt.answer)
				l = r.line()
			}
			if !strings.HasPrefix(l, tag+" "+tt.want) {
				t.Errorf("AUTHENTICATE %s = %q; want %q", tt.name, l, tag+" "+tt.want)
			}
		})
	}
	if n := s.Logins("XOAUTH2"); n != 1 {
		t.Errorf("Logins(XOAUTH2) = %d; want 1", n)
	}
}

func TestCapabilities(t *testing.T) {
	for _, tc := range []struct {
		opts Options
		want []string
		not  []string
	}{
		{Options{}, []string{"AUTH=PLAIN", "SASL-IR"}, []string{"AUTH=XOAUTH2", "X-GM-EXT-1"}},
		{Options{ValidateToken: tokens(nil)}, []string{"AUTH=XOAUTH2", "AUTH=OAUTHBEARER"}, []string{"X-GM-EXT-1"}},
		{Options{ValidateToken: tokens(nil), Gmail: true}, []string{"AUTH=XOAUTH2", "X-GM-EXT-1"}, nil},
	} {
		s := Start(t, tc.opts)
		r := dialRaw(t, s)
		untagged, _ := r.cmd("CAPABILITY")
		caps := strings.Fields(strings.Join(untagged, " "))
		for _, w := range tc.want {
			if !slices.Contains(caps, w) {
				t.Errorf("CAPABILITY (gmail=%v) = %v; want %s", tc.opts.Gmail, caps, w)
			}
		}
		for _, n := range tc.not {
			if slices.Contains(caps, n) {
				t.Errorf("CAPABILITY (gmail=%v) = %v; want no %s", tc.opts.Gmail, caps, n)
			}
		}
	}
}

// staticTokens is an imapstore.TokenSource with a fixed token.
type staticTokens string

func (s staticTokens) Token(context.Context) (string, error)   { return string(s), nil }
func (s staticTokens) Refresh(context.Context) (string, error) { return string(s), nil }

func TestExpiredSessionGetsBye(t *testing.T) {
	valid := map[string]string{"t1": "alice@example.com"}
	var expired atomic.Bool
	s := Start(t, Options{ValidateToken: func(user, token string) error {
		if expired.Load() {
			return errors.New("expired")
		}
		return tokens(valid)(user, token)
	}})
	s.AddUser("alice@example.com", "")
	ctx := context.Background()
	cfg := &imapstore.Config{Host: s.Host, Port: s.Port, Security: imapstore.Plain, AllowPlain: true, Username: "alice@example.com", Tokens: staticTokens("t1"), Timeout: 10 * time.Second}
	c, err := imapstore.Dial(ctx, cfg)
	if err != nil {
		t.Fatalf("Dial with a good token: %v", err)
	}
	defer c.Close()
	if _, err := c.Examine(ctx, "INBOX"); err != nil {
		t.Fatalf("Examine: %v", err)
	}
	expired.Store(true)
	err = c.Noop(ctx)
	if err == nil {
		err = c.Noop(ctx)
	}
	if err == nil {
		t.Fatalf("Noop after the token expired: err = nil; want the session ended")
	}
	<-c.Client().Closed()
	if _, err := imapstore.Dial(ctx, cfg); err == nil {
		t.Errorf("Dial with an expired token: err = nil; want a refusal")
	}
}

func TestKick(t *testing.T) {
	s := Start(t, Options{})
	s.AddUser("bob", "bob-pw")
	c, err := imapclient.DialInsecure(s.Addr(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Login("bob", "bob-pw").Wait(); err != nil {
		t.Fatal(err)
	}
	if n := s.Kick("bob", "Session invalidated - AccessTokenExpired"); n != 1 {
		t.Errorf("Kick = %d; want 1", n)
	}
	<-c.Closed()
	if n := s.Kick("bob", "again"); n != 0 {
		t.Errorf("Kick after the session ended = %d; want 0", n)
	}
}

func TestListAndCreate(t *testing.T) {
	s := Start(t, Options{})
	s.AddUser("bob", "bob-pw")
	if err := s.CreateMailbox("bob", "Sent", `\Sent`); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateMailbox("bob", "Projects/Alpha"); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	sess, err := imapstore.Open(ctx, &imapstore.Config{Host: s.Host, Port: s.Port, Security: imapstore.Plain, AllowPlain: true, Username: "bob", Password: "bob-pw"})
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()
	if err := sess.Create(ctx, "Archive", true); err != nil {
		t.Fatal(err)
	}
	fs, err := sess.Folders(ctx)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, f := range fs {
		got[f.Name] = fmt.Sprintf("use=%s noselect=%v sub=%v n=%d", f.SpecialUse, f.NoSelect, f.Subscribed, f.Messages)
	}
	want := map[string]string{
		"INBOX":          "use= noselect=false sub=true n=0",
		"Sent":           `use=\Sent noselect=false sub=true n=0`,
		"Projects":       "use= noselect=true sub=false n=-1",
		"Projects/Alpha": "use= noselect=false sub=true n=0",
		"Archive":        "use= noselect=false sub=true n=0",
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("Folders() = %v; want %v", got, want)
	}
}

func TestGmail(t *testing.T) {
	s := Start(t, Options{Gmail: true})
	s.AddUser("alice@gmail.com", "pw")
	day := time.Date(2024, 3, 1, 10, 0, 0, 0, time.UTC)
	msgs := []GmailMessage{
		{Raw: message("1@x", "inbox and work"), Date: day, Labels: []string{LabelInbox, "Work"}},
		{Raw: message("2@x", "archived"), Date: day, Flags: []string{`\Seen`}},
		{Raw: message("3@x", "starred"), Date: day, Labels: []string{LabelStarred, LabelImportant}},
		{Raw: message("4@x", "spam"), Date: day, Labels: []string{LabelSpam}},
	}
	var ids []uint64
	for _, m := range msgs {
		id, err := s.AddGmailMessage("alice@gmail.com", m)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	counts := map[string]int{"INBOX": 1, AllMail: 3, "Work": 1, Starred: 1, Important: 1, Spam: 1, Trash: 0}
	for box, want := range counts {
		if n, err := s.Count("alice@gmail.com", box); err != nil || n != want {
			t.Errorf("Count(%q) = %d, %v; want %d", box, n, err, want)
		}
	}
	if id, labels, ok := s.GmailInfo("alice@gmail.com", "Work", 1); !ok || id != ids[0] || fmt.Sprint(labels) != fmt.Sprint([]string{LabelInbox, "Work"}) {
		t.Errorf("GmailInfo(Work, 1) = %d, %v, %v; want %d, [\\Inbox Work], true", id, labels, ok, ids[0])
	}

	r := dialRaw(t, s)
	if _, tagged := r.cmd("LOGIN alice@gmail.com pw"); !strings.HasPrefix(tagged, "OK") {
		t.Fatalf("LOGIN = %q", tagged)
	}
	untagged, _ := r.cmd(`LIST "" "*"`)
	list := strings.Join(untagged, "\n")
	for _, want := range []string{`(\All \Subscribed) "/" "[Gmail]/All Mail"`, `(\Important \Subscribed) "/" "[Gmail]/Important"`,
		`(\Flagged \Subscribed) "/" "[Gmail]/Starred"`, `(\Noselect) "/" "[Gmail]"`, `"/" "Work"`} {
		if !strings.Contains(list, want) {
			t.Errorf("LIST = %s; want a line with %s", list, want)
		}
	}
	if _, tagged := r.cmd(`EXAMINE "[Gmail]/All Mail"`); !strings.HasPrefix(tagged, "OK") {
		t.Fatalf("EXAMINE = %q", tagged)
	}
	untagged, tagged := r.cmd("UID FETCH 1:* (FLAGS X-GM-MSGID X-GM-LABELS)")
	if !strings.HasPrefix(tagged, "OK") {
		t.Fatalf("UID FETCH X-GM-LABELS = %q", tagged)
	}
	want := []string{
		fmt.Sprintf(`* 1 FETCH (UID 1 X-GM-MSGID %d X-GM-LABELS ("\\Inbox" "Work") FLAGS ())`, ids[0]),
		fmt.Sprintf(`* 2 FETCH (UID 2 X-GM-MSGID %d X-GM-LABELS () FLAGS (\seen))`, ids[1]),
		fmt.Sprintf(`* 3 FETCH (UID 3 X-GM-MSGID %d X-GM-LABELS ("\\Starred" "\\Important") FLAGS (\flagged))`, ids[2]),
	}
	if fmt.Sprint(untagged) != fmt.Sprint(want) {
		t.Errorf("UID FETCH 1:* (FLAGS X-GM-MSGID X-GM-LABELS) =\n%s\nwant\n%s", strings.Join(untagged, "\n"), strings.Join(want, "\n"))
	}
	// A plain FETCH is left alone, literal and all.
	untagged, _ = r.cmd("FETCH 2 (BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
	if len(untagged) != 4 || !regexp.MustCompile(`^\* 2 FETCH \(.*\{\d+\}$`).MatchString(untagged[0]) || untagged[1] != "Subject: archived" {
		t.Errorf("FETCH BODY.PEEK[HEADER.FIELDS] = %q", untagged)
	}

	// go-imap's client, which knows nothing of X-GM-EXT-1, still works.
	ctx := context.Background()
	sess, err := imapstore.Open(ctx, &imapstore.Config{Host: s.Host, Port: s.Port, Security: imapstore.Plain, AllowPlain: true, Username: "alice@gmail.com", Password: "pw"})
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()
	if !sess.Caps.Has(imap.Cap("X-GM-EXT-1")) {
		t.Errorf("caps after login = %v; want X-GM-EXT-1", sess.Caps)
	}
	if _, err := sess.OpenFolder(ctx, AllMail, true); err != nil {
		t.Fatal(err)
	}
	infos, err := sess.List(ctx)
	if err != nil || len(infos) != 3 || infos[1].MessageID != "2@x" {
		t.Errorf("List(All Mail) = %+v, %v; want 3 messages", infos, err)
	}
}

func TestMechanisms(t *testing.T) {
	s := Start(t, Options{Mechanisms: []string{"OAUTHBEARER"}, ValidateToken: tokens(map[string]string{"good": "a@example.com"})})
	s.AddUser("a@example.com", "")
	ctx := context.Background()
	cfg := &imapstore.Config{Host: s.Host, Port: s.Port, Security: imapstore.Plain, AllowPlain: true, Username: "a@example.com", Tokens: staticTokens("good"), Timeout: 10 * time.Second}
	c, err := imapstore.Dial(ctx, cfg)
	if err != nil {
		t.Fatalf("Dial over OAUTHBEARER: %v", err)
	}
	c.Close()
	a, err := imapstore.DialAppender(ctx, cfg)
	if err != nil {
		t.Fatalf("DialAppender over OAUTHBEARER: %v", err)
	}
	a.Close()
	if n := s.Logins("OAUTHBEARER"); n != 2 {
		t.Errorf("Logins(OAUTHBEARER) = %d; want 2", n)
	}
	r := dialRaw(t, s)
	if _, tagged := r.cmd("AUTHENTICATE XOAUTH2 " + b64("user=a@example.com\x01auth=Bearer good\x01\x01")); !strings.HasPrefix(tagged, "NO") {
		t.Errorf("AUTHENTICATE XOAUTH2 when not offered = %q; want NO", tagged)
	}
}
