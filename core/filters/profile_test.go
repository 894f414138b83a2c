package filters

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"mailmover/core/filters/filtertest"
)

func TestParsePrefs(t *testing.T) {
	in := `// comment
# another
/* block
   comment */
user_pref("a.string", "x \"q\" \\ y\nz");
user_pref("a.single", 'it\'s');
user_pref("a.unicode", "\u00C9t\u00E9 \uD83D\uDE00 \x41");
user_pref("a.int", -42);
user_pref("a.true", true);
pref("a.false", false, sticky);
sticky_pref("a.raw", "Reçus & Factures");
user_pref("bad.value", nonsense);
user_pref("after.bad", 1);
user_pref("unclosed", "abc);
garbage here
user_pref("last", "ok");
`
	p, err := ParsePrefs(strings.NewReader(in))
	want := Prefs{
		"a.string": "x \"q\" \\ y\nz", "a.single": "it's", "a.unicode": "Été 😀 A",
		"a.int": int64(-42), "a.true": true, "a.false": false, "a.raw": "Reçus & Factures",
		"after.bad": int64(1), "last": "ok",
	}
	if !reflect.DeepEqual(p, want) {
		t.Errorf("ParsePrefs = %#v; want %#v", p, want)
	}
	var pe *ParseError
	if !errors.As(err, &pe) {
		t.Fatalf("ParsePrefs error = %v; want *ParseError", err)
	}
	var lines []int
	for _, pr := range pe.Problems {
		lines = append(lines, pr.Line)
	}
	if want := []int{12, 14, 15}; !reflect.DeepEqual(lines, want) {
		t.Errorf("ParsePrefs problem lines = %v; want %v (%v)", lines, want, err)
	}
	if got := (Prefs{"l": " a, b,,c "}).List("l"); !reflect.DeepEqual(got, []string{"a", "b", "c"}) {
		t.Errorf("List = %q; want [a b c]", got)
	}
}

func writeProfile(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if err := filtertest.WriteThunderbirdProfile(dir); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestReadThunderbird(t *testing.T) {
	dir := writeProfile(t)
	set, err := ReadThunderbird(context.Background(), dir)
	if err != nil {
		t.Fatalf("ReadThunderbird: %v", err)
	}
	if set.Client != Thunderbird || set.Source != dir {
		t.Errorf("client, source = %q, %q", set.Client, set.Source)
	}
	type acct struct {
		key, name, typ string
		rules          int
		dir            string
	}
	var got []acct
	for _, a := range set.Accounts {
		got = append(got, acct{a.Key, a.Name, a.Type, len(a.Rules), a.Dir})
	}
	want := []acct{
		{"server1", "alice@example.com", "imap", 14, filepath.Join(dir, "ImapMail", "imap.example.com")},
		{"server2", "alice@pop.example.net", "pop3", 2, filepath.Join(dir, "Mail", "pop.example.net")},
		{"server3", "Local Folders", "none", 3, filepath.Join(dir, "Mail", "Local Folders")},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("accounts = %+v; want %+v", got, want)
	}
	ids := set.Accounts[0].Identities
	if len(ids) != 2 {
		t.Fatalf("identities of account 1 = %+v; want 2", ids)
	}
	if id := ids[0]; id.Name != "Alice Émile" || id.Email != "alice@example.com" || !id.Default ||
		id.Signature != "Alice \"Al\" Émile\nExample & Co \\ Sales <b>" || id.SignatureHTML || id.Organization != "Example & Co" {
		t.Errorf("identity id1 = %+v", id)
	}
	if id := ids[1]; id.Signature != filtertest.BillingSignature || !id.SignatureHTML || id.SignatureFile != filepath.Join(dir, "signatures", "billing.html") || id.Default {
		t.Errorf("identity id2 (signature file) = %+v", id)
	}
	if id := set.Accounts[1].Identities[0]; id.ReplyTo != "alice@example.com" || id.Problem == "" || id.Signature != "" {
		t.Errorf("identity id3 (missing signature file) = %+v; want a problem", id)
	}
	if set.Tags["projet_x"] != "Projet Été" || set.Tags["$label4"] != "To Do" {
		t.Errorf("tags = %v", set.Tags)
	}
	if p := set.Accounts[2].Problems; len(p) != 3 || !strings.HasPrefix(p[0], "line 9:") {
		t.Errorf("Local Folders problems = %q; want 3, the first on line 9", p)
	}
	if len(set.AutoReplies) != 1 {
		t.Fatalf("auto-replies = %+v; want 1", set.AutoReplies)
	}
	ar := set.AutoReplies[0]
	if ar.Rule != "Away" || ar.Account != "alice@pop.example.net" || ar.Subject != "Absent cette semaine" ||
		ar.Text != "Je suis absente jusqu'au 3 août.\nPour les factures : billing@example.com" {
		t.Errorf("auto-reply = %+v", ar)
	}
}

func TestReadThunderbirdWithoutPrefs(t *testing.T) {
	dir := writeProfile(t)
	if err := os.WriteFile(filepath.Join(dir, "prefs.js"), []byte("// empty\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	set, err := ReadThunderbird(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, a := range set.Accounts {
		names = append(names, a.Name+":"+a.Type)
	}
	want := []string{"imap.example.com:imap", "Local Folders:none", "pop.example.net:pop3"}
	if !reflect.DeepEqual(names, want) {
		t.Errorf("accounts found by scanning = %q; want %q", names, want)
	}
}

func TestResolveThunderbirdProfile(t *testing.T) {
	root := t.TempDir()
	for _, p := range []string{"Profiles/a.default", "Profiles/b.default-release", "elsewhere"} {
		if err := os.MkdirAll(filepath.Join(root, p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(root, p, "prefs.js"), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		ini, want string
	}{
		{"[Profile0]\nName=default\nIsRelative=1\nPath=Profiles/a.default\n[Profile1]\nName=r\nIsRelative=1\nPath=Profiles/b.default-release\nDefault=1\n",
			filepath.Join(root, "Profiles", "b.default-release")},
		{"[Install4F96D1932A9F858E]\nDefault=Profiles/a.default\n[Profile1]\nIsRelative=1\nPath=Profiles/b.default-release\nDefault=1\n",
			filepath.Join(root, "Profiles", "a.default")},
		{"[Profile0]\nIsRelative=0\nPath=" + filepath.Join(root, "elsewhere") + "\n", filepath.Join(root, "elsewhere")},
		{"[General]\nStartWithLastProfile=1\n", ""},
	}
	for _, tt := range tests {
		if err := os.WriteFile(filepath.Join(root, "profiles.ini"), []byte(tt.ini), 0o644); err != nil {
			t.Fatal(err)
		}
		got, err := ResolveThunderbirdProfile(root)
		if got != tt.want || (err != nil) != (tt.want == "") {
			t.Errorf("ResolveThunderbirdProfile(%q) = %q, %v; want %q", tt.ini, got, err, tt.want)
		}
	}
	if got, err := ResolveThunderbirdProfile(filepath.Join(root, "elsewhere")); err != nil || got != filepath.Join(root, "elsewhere") {
		t.Errorf("ResolveThunderbirdProfile(profile) = %q, %v", got, err)
	}
	if _, err := ResolveThunderbirdProfile(t.TempDir()); err == nil {
		t.Error("ResolveThunderbirdProfile(empty dir) = nil error")
	}
}

func TestReadThunderbirdCancelled(t *testing.T) {
	dir := writeProfile(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := ReadThunderbird(ctx, dir); !errors.Is(err, context.Canceled) {
		t.Errorf("ReadThunderbird(cancelled) = %v; want context.Canceled", err)
	}
}
