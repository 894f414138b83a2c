package gmail

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"mailmover/core/copier"
	"mailmover/core/dovecottest"
	"mailmover/core/imapstore"
	"mailmover/core/imaptest"
	"mailmover/core/mailtest"
	"mailmover/core/store"
)

const gmailUser = "alice@gmail.com"

// corpus is a small Gmail account: each message with its labels.
var corpus = []struct {
	id     string
	labels []string
}{
	{"inbox", []string{imaptest.LabelInbox}},
	{"inbox-work", []string{imaptest.LabelInbox, "Work"}},
	{"work", []string{"Work"}},
	{"archived", nil},
	{"archived-starred", []string{imaptest.LabelStarred}},
	{"archived-important", []string{imaptest.LabelImportant}},
	{"sent", []string{imaptest.LabelSent}},
	{"sent-to-self", []string{imaptest.LabelSent, imaptest.LabelInbox}},
	{"draft", []string{imaptest.LabelDraft}},
	{"spam", []string{imaptest.LabelSpam}},
	{"trash", []string{imaptest.LabelTrash}},
	{"alpha-important", []string{"Projects/Alpha", imaptest.LabelImportant}},
	{"inbox-starred-important", []string{imaptest.LabelInbox, imaptest.LabelStarred, imaptest.LabelImportant}},
}

func gmailServer(t *testing.T) *imaptest.Server {
	t.Helper()
	s := imaptest.Start(t, imaptest.Options{Gmail: true})
	s.AddUser(gmailUser, "app-password")
	date := time.Date(2023, 11, 5, 9, 30, 0, 0, time.UTC)
	for i, m := range corpus {
		raw := fmt.Sprintf("From: Bob <bob@example.com>\r\nTo: %s\r\nSubject: %s\r\nMessage-ID: <%s@example.com>\r\nDate: Sun, 05 Nov 2023 09:30:00 +0000\r\n\r\n%s\r\n",
			gmailUser, m.id, m.id, strings.Repeat("text ", 10+i))
		if _, err := s.AddGmailMessage(gmailUser, imaptest.GmailMessage{Raw: []byte(raw), Date: date.Add(time.Duration(i) * time.Minute), Flags: []string{`\Seen`}, Labels: m.labels}); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

func gmailConfig(s *imaptest.Server) *imapstore.Config {
	return &imapstore.Config{Host: s.Host, Port: s.Port, Security: imapstore.Plain, AllowPlain: true, Username: gmailUser, Password: "app-password", Timeout: 10 * time.Second}
}

// sideLabels reads labels through the test server's side channel, standing
// in for a connection that speaks X-GM-LABELS.
type sideLabels struct {
	copier.TargetConn
	srv   *imaptest.Server
	open  string
	calls *atomic.Int32
}

func (s *sideLabels) OpenFolder(ctx context.Context, name string, ro bool) (uint32, error) {
	s.open = name
	return s.TargetConn.OpenFolder(ctx, name, ro)
}

func (s *sideLabels) GmailLabels(ctx context.Context, uids []uint32) (map[uint32][]string, error) {
	s.calls.Add(1)
	out := map[uint32][]string{}
	for _, u := range uids {
		if _, l, ok := s.srv.GmailInfo(gmailUser, s.open, u); ok {
			out[u] = l
		}
	}
	return out, nil
}

func withLabels(e copier.Endpoint, srv *imaptest.Server, calls *atomic.Int32) copier.Endpoint {
	return copier.Endpoint{Name: e.Name, Dial: func(ctx context.Context) (copier.TargetConn, error) {
		c, err := e.Dial(ctx)
		if err != nil {
			return nil, err
		}
		return &sideLabels{TargetConn: c, srv: srv, calls: calls}, nil
	}}
}

// folderSummary lists a policy's folders as "display name (use) count".
func folderSummary(fs []store.Folder) []string {
	var out []string
	for _, f := range fs {
		if f.NoSelect {
			continue
		}
		out = append(out, fmt.Sprintf("%s (%s) %d", f.DisplayName(), f.SpecialUse, f.Messages))
	}
	slices.Sort(out)
	return out
}

func TestPolicyFolders(t *testing.T) {
	s := gmailServer(t)
	base := copier.IMAP(gmailConfig(s))
	var calls atomic.Int32
	labels := []string{
		`Archive (\Archive) 3`, `INBOX () 4`, `Projects/Alpha () 1`, `Work () 2`,
		`[Gmail]/Drafts (\Drafts) 1`, `[Gmail]/Sent Mail (\Sent) 2`, `[Gmail]/Spam (\Junk) 1`, `[Gmail]/Trash (\Trash) 1`,
	}
	tests := []struct {
		name   string
		policy Policy
		ep     copier.Endpoint
		want   []string
	}{
		{"labels by identity", Labels, base, labels},
		{"labels by X-GM-LABELS", Labels, withLabels(base, s, &calls), labels},
		{"every folder", EveryFolder, base, []string{
			`All Mail (\All) 11`, `INBOX () 4`, `Important () 3`, `Projects/Alpha () 1`, `Starred (\Flagged) 2`, `Work () 2`,
			`[Gmail]/Drafts (\Drafts) 1`, `[Gmail]/Sent Mail (\Sent) 2`, `[Gmail]/Spam (\Junk) 1`, `[Gmail]/Trash (\Trash) 1`,
		}},
		{"all mail only", AllMailOnly, base, []string{`All Mail () 11`}},
	}
	ctx := context.Background()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Source(tt.ep, tt.policy).Dial(ctx)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			fs, err := c.Folders(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if got := folderSummary(fs); fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("Folders(%v) =\n%s\nwant\n%s", tt.policy, strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
	if calls.Load() == 0 {
		t.Errorf("the Labeler was never asked for labels")
	}
}

func TestArchiveFolder(t *testing.T) {
	s := gmailServer(t)
	ctx := context.Background()
	c, err := Source(copier.IMAP(gmailConfig(s)), Labels).Dial(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	// A new connection, as a copier worker opens: Status and OpenFolder
	// work without a Folders call first.
	name := imaptest.AllMail + archiveSuffix
	f := store.Folder{Name: name}
	if err := c.Status(ctx, &f); err != nil {
		t.Fatal(err)
	}
	if f.Messages != 3 || f.HighestModSeq != 0 || f.UIDValidity == 0 {
		t.Errorf("Status(Archive) = %d messages, modseq %d, uidvalidity %d; want 3, 0, set", f.Messages, f.HighestModSeq, f.UIDValidity)
	}
	if _, err := c.OpenFolder(ctx, name, true); err != nil {
		t.Fatal(err)
	}
	infos, err := c.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var ids, uids []string
	var nums []uint32
	for _, m := range infos {
		ids = append(ids, strings.TrimSuffix(m.MessageID, "@example.com"))
		nums = append(nums, m.UID)
	}
	if want := []string{"archived", "archived-starred", "archived-important"}; fmt.Sprint(ids) != fmt.Sprint(want) {
		t.Errorf("List(Archive) = %v; want %v", ids, want)
	}
	for m, err := range c.Fetch(ctx, nums) {
		if err != nil {
			t.Fatal(err)
		}
		uids = append(uids, fmt.Sprint(m.UID))
	}
	if len(uids) != 3 {
		t.Errorf("Fetch(Archive) gave %d messages; want 3", len(uids))
	}
	// Status of another folder in between leaves the open folder alone.
	inbox := store.Folder{Name: "INBOX"}
	if _, err := c.OpenFolder(ctx, "INBOX", true); err != nil {
		t.Fatal(err)
	}
	c.(*conn).cache = nil
	if err := c.Status(ctx, &f); err != nil {
		t.Fatal(err)
	}
	if err := c.Status(ctx, &inbox); err != nil {
		t.Fatal(err)
	}
	if got, err := c.List(ctx); err != nil || len(got) != 4 {
		t.Errorf("List(INBOX) after Status(Archive) = %d messages, %v; want INBOX's 4", len(got), err)
	}
}

func TestNotGmail(t *testing.T) {
	s := imaptest.Start(t, imaptest.Options{})
	s.AddUser("bob", "pw")
	s.CreateMailbox("bob", "Sent", `\Sent`)
	ctx := context.Background()
	e := Source(copier.IMAP(&imapstore.Config{Host: s.Host, Port: s.Port, Security: imapstore.Plain, AllowPlain: true, Username: "bob", Password: "pw"}), Labels)
	c, err := e.Dial(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	fs, err := c.Folders(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got := folderSummary(fs); fmt.Sprint(got) != fmt.Sprint([]string{`INBOX () 0`, `Sent (\Sent) 0`}) {
		t.Errorf("Folders of a non-Gmail account = %v; want them unchanged", got)
	}
}

// TestMigrateToDovecot copies the Gmail account into Dovecot with each
// policy and checks that every message arrives exactly as often as the
// policy says, and that Verify agrees.
func TestMigrateToDovecot(t *testing.T) {
	s := gmailServer(t)
	policies := []Policy{Labels, EveryFolder, AllMailOnly}
	var users []dovecottest.User
	for _, p := range policies {
		users = append(users, dovecottest.User{Name: "u-" + p.String(), Password: "pw"})
	}
	d := dovecottest.Start(t, dovecottest.Options{Users: users})
	labelsByPolicy := map[string][]string{
		// Labels: once per label folder, archived mail once in Archive.
		"labels": {
			"Archive: archived archived-important archived-starred",
			"Drafts: draft",
			"INBOX: inbox inbox-starred-important inbox-work sent-to-self",
			"Junk: spam",
			"Projects/Alpha: alpha-important",
			"Sent: sent sent-to-self",
			"Trash: trash",
			"Work: inbox-work work",
		},
		// Every folder: All Mail, Important and Starred too.
		"every-folder": {
			"All Mail: alpha-important archived archived-important archived-starred draft inbox inbox-starred-important inbox-work sent sent-to-self work",
			"Drafts: draft",
			"INBOX: inbox inbox-starred-important inbox-work sent-to-self",
			"Important: alpha-important archived-important inbox-starred-important",
			"Junk: spam",
			"Projects/Alpha: alpha-important",
			"Sent: sent sent-to-self",
			"Starred: archived-starred inbox-starred-important",
			"Trash: trash",
			"Work: inbox-work work",
		},
		// All Mail only: each message of All Mail once.
		"all-mail": {
			"All Mail: alpha-important archived archived-important archived-starred draft inbox inbox-starred-important inbox-work sent sent-to-self work",
		},
	}
	for _, p := range policies {
		t.Run(p.String(), func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			src := copier.IMAP(gmailConfig(s))
			var calls atomic.Int32
			if p == Labels {
				src = withLabels(src, s, &calls)
				defer func() {
					if calls.Load() == 0 {
						t.Errorf("the Labeler was never asked for labels")
					}
				}()
			}
			src = Source(src, p)
			dstCfg := &imapstore.Config{Host: d.Host, Port: d.TLSPort, Security: imapstore.ImplicitTLS, Username: "u-" + p.String(), Password: "pw", CAPEM: d.CAPEM, Timeout: 20 * time.Second}
			dst := copier.IMAP(dstCfg)
			opts := copier.Options{StateDir: t.TempDir()}
			plan, err := copier.MakePlan(ctx, src, dst, opts)
			if err != nil {
				t.Fatalf("MakePlan: %v", err)
			}
			notes := PlanNotes(p, plan)
			if len(notes) == 0 {
				t.Errorf("PlanNotes(%v) = nothing", p)
			}
			t.Logf("plan notes:\n%s", strings.Join(notes, "\n"))
			res, err := copier.Run(ctx, src, dst, plan, opts, nil)
			if err != nil || !res.Complete() {
				t.Fatalf("Run: %v, problems %+v", err, res.Problems)
			}
			v, err := copier.Verify(ctx, src, dst, plan)
			if err != nil || !v.OK() {
				t.Fatalf("Verify: %v, %+v", err, v)
			}
			if got, want := contents(t, dstCfg), labelsByPolicy[p.String()]; fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("target after %v =\n%s\nwant\n%s", p, strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
			// Again: nothing more is copied.
			res, err = copier.Run(ctx, src, dst, plan, opts, nil)
			if err != nil || res.Progress.Copied != 0 {
				t.Errorf("second Run copied %d (%v); want 0", res.Progress.Copied, err)
			}
		})
	}
}

// contents lists, for each non-empty folder, the ids of its messages.
func contents(t *testing.T, cfg *imapstore.Config) []string {
	t.Helper()
	var out []string
	mailtest.EachFolder(t, cfg, func(_ *imapstore.Session, f store.Folder, infos []store.MessageInfo) {
		if len(infos) == 0 {
			return
		}
		var ids []string
		for _, m := range infos {
			ids = append(ids, strings.TrimSuffix(m.MessageID, "@example.com"))
		}
		slices.Sort(ids)
		out = append(out, f.Name+": "+strings.Join(ids, " "))
	})
	slices.Sort(out)
	return out
}

func TestParsePolicy(t *testing.T) {
	tests := []struct {
		in   string
		want Policy
		ok   bool
	}{
		{"", Labels, true},
		{"labels", Labels, true},
		{"Every-Folder", EveryFolder, true},
		{"all-mail", AllMailOnly, true},
		{"duplicates", Labels, false},
	}
	for _, tt := range tests {
		got, err := ParsePolicy(tt.in)
		if got != tt.want || (err == nil) != tt.ok {
			t.Errorf("ParsePolicy(%q) = %v, %v; want %v, ok=%v", tt.in, got, err, tt.want, tt.ok)
		}
		if err == nil && tt.in != "" && !strings.EqualFold(got.String(), tt.in) {
			t.Errorf("Policy(%d).String() = %q; want %q", got, got.String(), tt.in)
		}
	}
}
