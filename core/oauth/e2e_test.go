package oauth

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"mailmover/core/copier"
	"mailmover/core/imapstore"
	"mailmover/core/imaptest"
	"mailmover/core/secret"
)

func testMessage(folder string, i int) []byte {
	return []byte(fmt.Sprintf("From: Bob <bob@example.com>\r\nTo: alice@example.com\r\nSubject: %s %d\r\nMessage-ID: <%s.%d@example.com>\r\nDate: Mon, 02 Jan 2006 15:04:05 +0000\r\n\r\n%s\r\n",
		folder, i, strings.ReplaceAll(folder, "/", "."), i, strings.Repeat("line of text\r\n", 1+i%7)))
}

// TestMigrateWithExpiringToken signs in through the browser flow, keeps the
// refresh token in a keychain, and migrates an account that accepts only
// XOAUTH2. Midway the access tokens expire: the server ends the sessions
// with BYE at their next command, the copier reconnects, the failed
// sign-in is refused with Google's JSON challenge, the token source renews
// the token, and the copy goes on. Every message arrives exactly once.
func TestMigrateWithExpiringToken(t *testing.T) {
	const user = "alice@example.com"
	auth := imaptest.NewAuthServer(t, imaptest.AuthOptions{ClientSecret: "desktop-secret"})
	src := imaptest.Start(t, imaptest.Options{ValidateToken: auth.ValidateToken})
	src.AddUser(user, "")
	dst := imaptest.Start(t, imaptest.Options{})
	dst.AddUser("bob", "bob-pw")

	folders := map[string]int{"INBOX": 25, "Work": 18, "Work/Reports": 7, "Sent": 12}
	if err := src.CreateMailbox(user, "Sent", `\Sent`); err != nil {
		t.Fatal(err)
	}
	if err := dst.CreateMailbox("bob", "Sent Items", `\Sent`); err != nil {
		t.Fatal(err)
	}
	date := time.Date(2024, 5, 1, 8, 0, 0, 0, time.UTC)
	for f, n := range folders {
		if f != "INBOX" && f != "Sent" {
			if err := src.CreateMailbox(user, f); err != nil {
				t.Fatal(err)
			}
		}
		for i := range n {
			flags := []string{`\Seen`}
			if i%5 == 0 {
				flags = append(flags, `\Flagged`)
			}
			if _, err := src.Append(user, f, testMessage(f, i), flags, date.Add(time.Duration(i)*time.Hour)); err != nil {
				t.Fatal(err)
			}
		}
	}

	// Sign in as the user would, and keep the sign-in.
	kc := secret.NewMemory()
	cfg := Config{Provider: Google, ClientID: auth.ClientID(), ClientSecret: "desktop-secret", Endpoint: auth.Endpoint(), OpenURL: auth.Browser()}
	tok, err := Login(ctxTimeout(t), cfg, user)
	if err != nil {
		t.Fatalf("Login: %v", err)
	}
	if err := Save(kc, Google, user, cfg, tok); err != nil {
		t.Fatal(err)
	}

	// A later run: only the keychain and the settings are known.
	ts := TokenSourceFor(kc, Google, user, Config{Endpoint: auth.Endpoint()})
	srcCfg := &imapstore.Config{Host: src.Host, Port: src.Port, Security: imapstore.Plain, AllowPlain: true, Username: user, Tokens: ts, Timeout: 10 * time.Second}
	dstCfg := &imapstore.Config{Host: dst.Host, Port: dst.Port, Security: imapstore.Plain, AllowPlain: true, Username: "bob", Password: "bob-pw", Timeout: 10 * time.Second}
	se, de := copier.IMAP(srcCfg), copier.IMAP(dstCfg)
	ctx := ctxTimeout(t)
	opts := copier.Options{StateDir: t.TempDir(), Connections: 2}
	plan, err := copier.MakePlan(ctx, se, de, opts)
	if err != nil {
		t.Fatalf("MakePlan: %v", err)
	}
	total := 0
	for _, n := range folders {
		total += n
	}
	if plan.Messages != total {
		t.Fatalf("plan has %d messages; want %d", plan.Messages, total)
	}

	refreshesBefore := auth.Refreshes()
	var once sync.Once
	expired := 0
	res, err := copier.Run(ctx, se, de, plan, opts, func(e copier.Event) {
		if e.Kind == copier.EventProgress && e.Progress.Copied >= 10 {
			once.Do(func() { expired = auth.ExpireAccessTokens() })
		}
	})
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if expired == 0 {
		t.Fatalf("the tokens were never expired during the run")
	}
	if !res.Complete() || res.Progress.Copied != total {
		t.Fatalf("Run copied %d of %d, problems %+v", res.Progress.Copied, total, res.Problems)
	}
	if res.Progress.Reconnects == 0 {
		t.Errorf("Run made no reconnection; the expiry was not noticed")
	}
	if auth.Refreshes() <= refreshesBefore {
		t.Errorf("no token was renewed after the expiry")
	}
	t.Logf("reconnects %d, refreshes %d, XOAUTH2 sign-ins %d, refused %d", res.Progress.Reconnects, auth.Refreshes()-refreshesBefore, src.Logins("XOAUTH2"), src.Refused("XOAUTH2"))
	if src.Refused("XOAUTH2") == 0 {
		t.Errorf("no expired token was refused at sign-in; want Google's challenge then a renewal")
	}
	if src.Logins("XOAUTH2") < 3 {
		t.Errorf("XOAUTH2 sign-ins = %d; want the first ones and those after the expiry", src.Logins("XOAUTH2"))
	}

	v, err := copier.Verify(ctx, se, de, plan)
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if !v.OK() {
		t.Errorf("Verify: %d missing, %d flag differences, %d errors: %+v", v.Missing, v.FlagDiffs, v.Errors, v.Folders)
	}
	want := map[string]int{"INBOX": 25, "Work": 18, "Work/Reports": 7, "Sent Items": 12}
	for f, n := range want {
		if got, err := dst.Count("bob", f); err != nil || got != n {
			t.Errorf("target %s has %d messages (%v); want %d, each once", f, got, err, n)
		}
	}
}
