//go:build unix

package sievemove

import (
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"

	"mailmover/core/failure"
	"mailmover/core/filters"
	"mailmover/core/sieve/managesieve"
	"mailmover/core/sieve/sievetest"
)

// These tests run against a real Dovecot with Pigeonhole, started by
// package sievetest.

func TestDialDovecot(t *testing.T) {
	d := sievetest.Start(t, "alice")
	ctx := t.Context()
	good := Account{Host: "127.0.0.1", Port: d.Port, Username: "alice", Password: sievetest.Password("alice"), CAPEM: d.CAPEM}
	tests := []struct {
		name string
		edit func(a *Account)
		want failure.Kind // Unknown: signed in
	}{
		{"signed in", func(*Account) {}, failure.Unknown},
		{"wrong password", func(a *Account) { a.Password = "wrong" }, failure.Auth},
		{"no password", func(a *Account) { a.Password = "" }, failure.Config},
		{"untrusted certificate", func(a *Account) { a.CAPEM = nil }, failure.TLS},
		{"bad certificate file", func(a *Account) { a.CAPEM = []byte("not PEM") }, failure.Config},
	}
	for _, tt := range tests {
		a := good
		tt.edit(&a)
		c, err := Dial(ctx, &a)
		if got := failure.KindOf(err); err != nil && got != tt.want || err == nil && tt.want != failure.Unknown {
			t.Errorf("%s: Dial = %v; want kind %v", tt.name, err, tt.want)
		}
		if err != nil {
			if strings.Contains(err.Error(), a.Password) && a.Password != "" {
				t.Errorf("%s: the error shows the password: %v", tt.name, err)
			}
			continue
		}
		if !c.Capabilities().HasExtension("fileinto") {
			t.Errorf("%s: capabilities = %+v", tt.name, c.Capabilities())
		}
		c.Close()
	}
	if got, want := good.String(), "alice on "+d.Addr; got != want {
		t.Errorf("String() = %q; want %q", got, want)
	}
	if got := (&Account{Host: "sieve.example.com"}).Addr(); got != "sieve.example.com:4190" {
		t.Errorf("Addr() = %q; want the default port", got)
	}
}

// signIn opens a session for user on d.
func signIn(t *testing.T, d *sievetest.Server, user string) *managesieve.Client {
	t.Helper()
	c, err := Dial(t.Context(), &Account{Host: "127.0.0.1", Port: d.Port, Username: user, Password: sievetest.Password(user), CAPEM: d.CAPEM})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func TestReadScriptsDovecot(t *testing.T) {
	d := sievetest.Start(t, "alice")
	ctx := t.Context()
	c := signIn(t, d, "alice")
	for _, s := range []struct{ name, text string }{
		{"zzz", "keep;\n"},
		{"away", "require [\"vacation\"];\nvacation :days 3 :subject \"Away\" \"Back on Monday.\";\n"},
		{"roundcube", "require [\"fileinto\"];\r\nif header :contains \"subject\" \"old\" { fileinto \"Old\"; }\r\n"},
	} {
		if _, err := c.PutScript(ctx, s.name, s.text); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.SetActive(ctx, "roundcube"); err != nil {
		t.Fatal(err)
	}
	got, err := ReadScripts(ctx, c)
	if err != nil {
		t.Fatalf("ReadScripts = %v", err)
	}
	var names []string
	for _, s := range got {
		names = append(names, s.Name)
		if strings.Contains(s.Text, "\r") {
			t.Errorf("ReadScripts(%s) keeps CR: %q", s.Name, s.Text)
		}
	}
	if want := []string{"roundcube", "away", "zzz"}; !reflect.DeepEqual(names, want) {
		t.Errorf("ReadScripts names = %q; want %q (active first)", names, want)
	}
	if !got[0].Active || got[1].Active {
		t.Errorf("ReadScripts active = %v, %v; want true, false", got[0].Active, got[1].Active)
	}
	if want := `Replies automatically (vacation) with the subject "Away", at most once every 3 days per sender: "Back on Monday.".`; !slices.Contains(got[1].Summary, want) {
		t.Errorf("summary of away = %q; want %q", got[1].Summary, want)
	}
}

// TestInstallDovecot carries a Thunderbird profile's filters to bob, who
// has his own active script, then runs again.
func TestInstallDovecot(t *testing.T) {
	d := sievetest.Start(t, "bob")
	ctx := t.Context()
	c := signIn(t, d, "bob")
	mine := "require [\"fileinto\"];\nif header :contains \"subject\" \"zzz\" { fileinto \"Z\"; }\n"
	if _, err := c.PutScript(ctx, "roundcube", mine); err != nil {
		t.Fatal(err)
	}
	if err := c.SetActive(ctx, "roundcube"); err != nil {
		t.Fatal(err)
	}
	set := readProfile(t)
	carry := Generate(set, Options{Trash: DefaultTrash, Extensions: c.Capabilities().Sieve, Prefix: InstallPrefix})
	old := []filters.ServerScript{{Name: "roundcube", Active: true, Text: "require [\"fileinto\"];\nif header :contains \"subject\" \"old\" { fileinto \"Old\"; }\n"}}

	for run, wantAlready := range []bool{false, true} {
		inst, err := Install(ctx, c, carry.Sieve(), old, InstallOptions{Activate: true, User: "bob"})
		if err != nil {
			t.Fatalf("run %d: Install = %v", run, err)
		}
		if len(inst.Problems) > 0 {
			t.Errorf("run %d: problems %q", run, inst.Problems)
		}
		if inst.Activation != Activated || inst.Active != IncludeName {
			t.Errorf("run %d: activation %v, active %q; want %q", run, inst.Activation, inst.Active, IncludeName)
		}
		for _, s := range inst.Installed {
			if s.Already != wantAlready {
				t.Errorf("run %d: %s already = %v; want %v", run, s.Name, s.Already, wantAlready)
			}
		}
		list, err := c.ListScripts(ctx)
		if err != nil {
			t.Fatal(err)
		}
		sort.Slice(list, func(i, j int) bool { return list[i].Name < list[j].Name })
		want := []managesieve.Script{
			{Name: "mailmover", Active: true},
			{Name: "mailmover-Local-Folders"},
			{Name: "mailmover-alice@example.com"},
			{Name: "mailmover-alice@pop.example.net"},
			{Name: "roundcube"},
			{Name: "roundcube-2"},
		}
		if !reflect.DeepEqual(list, want) {
			t.Errorf("run %d: ListScripts = %+v; want %+v", run, list, want)
		}
	}
	if got, _ := c.GetScript(ctx, "roundcube"); strings.ReplaceAll(got, "\r\n", "\n") != mine {
		t.Errorf("bob's own script changed: %q", got)
	}
	if old[0].Fate == "" {
		t.Errorf("the old server's script has no fate")
	}
	d.Deliver(t, "bob", "From: Shop <billing@shop.example>\nTo: bob@example.com\nSubject: Facture 12\nMessage-ID: <1@t>\n\nPay.\n")
	d.Deliver(t, "bob", "From: Friend <friend@example.org>\nTo: bob@example.com\nSubject: zzz\nMessage-ID: <2@t>\n\nHi.\n")
	d.Deliver(t, "bob", "From: Friend <friend@example.org>\nTo: bob@example.com\nSubject: old photos\nMessage-ID: <3@t>\n\nHi.\n")
	mail := d.Mail(t, "bob")
	for _, w := range []string{"INBOX/Reçus & Factures|Facture 12|\\Seen", "Z|zzz|", "Old|old photos|"} {
		if !slices.Contains(mail, w) {
			t.Errorf("mail after delivery lacks %q:\n%s", w, strings.Join(mail, "\n"))
		}
	}
}
