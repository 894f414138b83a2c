package cli

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"mailmover/core/filters/filtertest"
	"mailmover/core/sieve"
	"mailmover/core/sieve/managesieve"
	"mailmover/core/sieve/sievetest"
)

func TestFiltersThunderbird(t *testing.T) {
	profile := t.TempDir()
	if err := filtertest.WriteThunderbirdProfile(profile); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "notes")
	env, stdout, stderr := testEnv(t, nil)
	code := runFilters(context.Background(), env, []string{"--thunderbird", profile, "--out", out})
	// The fixture's Local Folders file has malformed lines: finished, with notes.
	if code != ExitPartial {
		t.Fatalf("runFilters = %d; want %d\nstdout:\n%s\nstderr:\n%s", code, ExitPartial, stdout, stderr)
	}
	ents, err := os.ReadDir(out)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	want := []string{"Local-Folders.sieve", "alice@example.com.sieve", "alice@pop.example.net.sieve", "filter-notes.html", "filter-notes.md"}
	if !reflect.DeepEqual(names, want) {
		t.Errorf("files written = %q; want %q", names, want)
	}
	for _, n := range names {
		b, err := os.ReadFile(filepath.Join(out, n))
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasSuffix(n, ".sieve") {
			if err := sieve.Check(string(b)); err != nil {
				t.Errorf("%s: %v", n, err)
			}
		}
	}
	md, _ := os.ReadFile(filepath.Join(out, "filter-notes.md"))
	for _, s := range []string{
		"When a new message arrives whose sender contains 'billing@', move it to 'INBOX/Reçus & Factures' and mark it read.",
		"Sieve script on the new server: `alice@example.com`",
		"Je suis absente jusqu'au 3 août.",
	} {
		if !strings.Contains(string(md), s) {
			t.Errorf("filter-notes.md lacks %q", s)
		}
	}
	sv, _ := os.ReadFile(filepath.Join(out, "alice@example.com.sieve"))
	if !strings.Contains(string(sv), "# rule:[Factures]") || !strings.Contains(string(sv), `fileinto "INBOX/Reçus & Factures";`) {
		t.Errorf("alice@example.com.sieve:\n%s", sv)
	}
	for _, s := range []string{
		"Read the filters of Thunderbird",
		"19 filters: 7 moved to the new server, 3 partly moved, 8 to recreate by hand, 1 not needed (3 switched off).",
		"  alice@example.com: 14 filters; 6 on the server, 3 partly, 5 by hand; script alice@example.com.sieve",
		"1 automatic reply to recreate by hand",
		filepath.Join(out, "filter-notes.html"),
	} {
		if !strings.Contains(stdout.String(), s) {
			t.Errorf("summary lacks %q:\n%s", s, stdout)
		}
	}
	if !strings.Contains(stderr.String(), "Note: Local Folders: line 9:") {
		t.Errorf("stderr lacks the malformed line:\n%s", stderr)
	}
}

func TestFiltersAppleMailJSON(t *testing.T) {
	path, err := filtertest.WriteAppleMail(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	env, stdout, stderr := testEnv(t, nil)
	if code := runFilters(context.Background(), env, []string{"--apple-mail", path, "--out", out, "--json", "--trash", ""}); code != ExitOK {
		t.Fatalf("runFilters = %d; want 0\n%s\n%s", code, stdout, stderr)
	}
	var sum struct {
		Type  string
		Count struct{ Rules, OnServer, Partly, ByHand int }
		Files []string
		Exit  int
	}
	if err := json.Unmarshal(stdout.Bytes(), &sum); err != nil {
		t.Fatalf("JSON %q: %v", stdout, err)
	}
	if sum.Type != "summary" || sum.Count.Rules != 4 || sum.Count.OnServer != 1 || sum.Count.Partly != 1 || sum.Count.ByHand != 2 || len(sum.Files) != 3 || sum.Exit != 0 {
		t.Errorf("summary = %+v", sum)
	}
	sv, err := os.ReadFile(filepath.Join(out, "Apple-Mail-rules.sieve"))
	if err != nil || !strings.Contains(string(sv), `fileinto "INBOX/Reçus & Factures";`) {
		t.Errorf("Apple-Mail-rules.sieve = %s, %v", sv, err)
	}
}

func TestFiltersUsage(t *testing.T) {
	dir := t.TempDir()
	for _, args := range [][]string{
		{},
		{"--thunderbird", dir, "--apple-mail", dir},
		{"--thunderbird", dir},
		{"--apple-mail", filepath.Join(dir, "missing.plist")},
		{"--thunderbird", dir, "extra"},
		{"--nonsense"},
	} {
		env, _, errb := testEnv(t, nil)
		if code := runFilters(context.Background(), env, args); code != ExitUsage {
			t.Errorf("runFilters(%q) = %d; want %d (stderr %q)", args, code, ExitUsage, errb)
		}
	}
	env, _, _ := testEnv(t, nil)
	if code := runFilters(context.Background(), env, []string{"-h"}); code != ExitOK {
		t.Errorf("runFilters(-h) = %d; want 0", code)
	}
}

// TestFiltersSieveInstall runs the whole filters command against a real
// Dovecot with Pigeonhole: alice is the old account, bob the new one.
func TestFiltersSieveInstall(t *testing.T) {
	d := sievetest.Start(t, "alice", "bob")
	ctx := t.Context()
	sign := func(user string) *managesieve.Client {
		t.Helper()
		c, err := managesieve.Dial(ctx, d.Addr, managesieve.Options{TLSConfig: d.TLSConfig()})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		if err := c.Authenticate(ctx, user, sievetest.Password(user)); err != nil {
			t.Fatal(err)
		}
		return c
	}
	put := func(c *managesieve.Client, name, text string, active bool) {
		t.Helper()
		if _, err := c.PutScript(ctx, name, text); err != nil {
			t.Fatal(err)
		}
		if active {
			if err := c.SetActive(ctx, name); err != nil {
				t.Fatal(err)
			}
		}
	}
	old := "require [\"fileinto\"];\n# rule:[Old]\nif header :contains \"subject\" \"old\" { fileinto \"Old\"; }\n"
	away := "require [\"vacation\", \"copy\"];\nif false { redirect :copy \"alice@elsewhere.example\"; }\nvacation :days 3 :subject \"Away\" \"Back on Monday.\";\n"
	src := sign("alice")
	put(src, "roundcube", old, true)
	put(src, "out-of-office", away, false)
	src.Logout(ctx)
	// The new account already has a script of the same name, other content.
	mine := "require [\"fileinto\"];\nif header :contains \"subject\" \"zzz\" { fileinto \"Z\"; }\n"
	dst := sign("bob")
	put(dst, "roundcube", mine, true)
	dst.Logout(ctx)

	profile := t.TempDir()
	if err := filtertest.WriteThunderbirdProfile(profile); err != nil {
		t.Fatal(err)
	}
	ca := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(ca, d.CAPEM, 0o644); err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	env, stdout, stderr := testEnv(t, map[string]string{"OLD_PW": sievetest.Password("alice"), "NEW_PW": sievetest.Password("bob")})
	args := []string{
		"--thunderbird", profile, "--out", out,
		"--sieve-from", "imap://alice@127.0.0.1", "--sieve-from-password-env", "OLD_PW", "--sieve-from-ca", ca,
		"--to", "imap://bob@127.0.0.1", "--to-password-env", "NEW_PW", "--to-ca", ca,
		"--sieve-port", strconv.Itoa(d.Port), "--install", "--activate",
	}
	// Partial: the fixture's Local Folders file has malformed lines.
	if code := runFilters(ctx, env, args); code != ExitPartial {
		t.Fatalf("runFilters = %d; want %d\nstdout:\n%s\nstderr:\n%s", code, ExitPartial, stdout, stderr)
	}
	for _, pw := range []string{"alice-pw", "bob-pw"} {
		if strings.Contains(stdout.String()+stderr.String(), pw) {
			t.Errorf("the output shows a password")
		}
	}

	// The notes carry the old server's scripts.
	md, _ := os.ReadFile(filepath.Join(out, "filter-notes.md"))
	html, _ := os.ReadFile(filepath.Join(out, "filter-notes.html"))
	for _, want := range []string{
		"## Server filters on the old server",
		"### Script `roundcube` (active: it runs on new mail)",
		"### Script `out-of-office` (not active)",
		`if header :contains "subject" "old" { fileinto "Old"; }`,
		`Replies automatically (vacation) with the subject "Away", at most once every 3 days per sender: "Back on Monday.".`,
		`Forwards mail to "alice@elsewhere.example" and keeps a copy.`,
		`Installed on the new server as "roundcube-2": a different script named "roundcube" was already there.`,
		"Sieve script on the new server: `mailmover-alice@example.com`",
	} {
		if !strings.Contains(string(md), want) {
			t.Errorf("filter-notes.md lacks %q", want)
		}
	}
	if !strings.Contains(string(html), "Server filters on the old server") || !strings.Contains(string(html), "out-of-office") {
		t.Errorf("filter-notes.html lacks the server scripts")
	}

	// The new server has everything, nothing replaced, the include script active.
	dst = sign("bob")
	list, err := dst.ListScripts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	sort.Slice(list, func(i, j int) bool { return list[i].Name < list[j].Name })
	want := []managesieve.Script{
		{Name: "mailmover", Active: true},
		{Name: "mailmover-Local-Folders"},
		{Name: "mailmover-alice@example.com"},
		{Name: "mailmover-alice@pop.example.net"},
		{Name: "out-of-office"},
		{Name: "roundcube"},
		{Name: "roundcube-2"},
	}
	if !reflect.DeepEqual(list, want) {
		t.Errorf("ListScripts = %+v; want %+v\nstdout:\n%s\nstderr:\n%s", list, want, stdout, stderr)
	}
	get := func(name string) string {
		t.Helper()
		text, err := dst.GetScript(ctx, name)
		if err != nil {
			t.Fatalf("GetScript(%q) = %v", name, err)
		}
		return strings.ReplaceAll(text, "\r\n", "\n")
	}
	if got := get("roundcube"); got != mine {
		t.Errorf("the new account's own script changed:\n%s", got)
	}
	if got := get("roundcube-2"); got != old {
		t.Errorf("roundcube-2 = %q; want %q", got, old)
	}
	gen, _ := os.ReadFile(filepath.Join(out, "alice@example.com.sieve"))
	if got := get("mailmover-alice@example.com"); got != string(gen) {
		t.Errorf("installed script differs from the written one")
	}
	inc := get("mailmover")
	for _, n := range []string{"mailmover-alice@example.com", "roundcube-2", "roundcube"} {
		if !strings.Contains(inc, "include :personal \""+n+"\";") {
			t.Errorf("the active script does not include %s:\n%s", n, inc)
		}
	}
	if strings.Contains(inc, "out-of-office") {
		t.Errorf("the active script includes the inactive vacation script:\n%s", inc)
	}
	dst.Logout(ctx)

	// Running again changes nothing: the same scripts are found, not doubled.
	env2, stdout2, stderr2 := testEnv(t, map[string]string{"OLD_PW": sievetest.Password("alice"), "NEW_PW": sievetest.Password("bob")})
	if code := runFilters(ctx, env2, args); code != ExitPartial {
		t.Fatalf("second runFilters = %d\n%s\n%s", code, stdout2, stderr2)
	}
	dst = sign("bob")
	if again, _ := dst.ListScripts(ctx); len(again) != len(want) {
		t.Errorf("after a second run, ListScripts = %+v", again)
	}
	dst.Logout(ctx)

	// Mail delivered to the new account is filed as the filters said.
	d.Deliver(t, "bob", "From: Shop <billing@shop.example>\nTo: bob@example.com\nSubject: Facture 12\nMessage-ID: <1@t>\n\nPay.\n")
	d.Deliver(t, "bob", "From: Friend <friend@example.org>\nTo: bob@example.com\nSubject: old photos\nMessage-ID: <2@t>\n\nHi.\n")
	d.Deliver(t, "bob", "From: Friend <friend@example.org>\nTo: bob@example.com\nSubject: zzz\nMessage-ID: <3@t>\n\nHi.\n")
	d.Deliver(t, "bob", "From: Friend <friend@example.org>\nTo: bob@example.com\nSubject: hello\nMessage-ID: <4@t>\n\nHi.\n")
	mail := d.Mail(t, "bob")
	for _, w := range []string{
		"INBOX/Reçus & Factures|Facture 12|\\Seen",
		"Old|old photos|",
		"Z|zzz|",
		"INBOX|hello|",
	} {
		if !slices.Contains(mail, w) {
			t.Errorf("mail after delivery lacks %q:\n%s", w, strings.Join(mail, "\n"))
		}
	}
}
