//go:build unix

package managesieve_test

import (
	"crypto/tls"
	"reflect"
	"sort"
	"strings"
	"testing"

	"mailmover/core/failure"
	"mailmover/core/filters"
	"mailmover/core/filters/filtertest"
	"mailmover/core/sieve"
	"mailmover/core/sieve/managesieve"
	"mailmover/core/sieve/sievetest"
)

// This file runs the client against a real Dovecot with Pigeonhole,
// started by package sievetest.

func TestDovecotManageSieve(t *testing.T) {
	d := sievetest.Start(t)
	ctx := t.Context()
	c, err := managesieve.Dial(ctx, d.Addr, managesieve.Options{TLSConfig: &tls.Config{RootCAs: d.Pool}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	caps := c.Capabilities()
	if !strings.Contains(caps.Implementation, "Pigeonhole") || !caps.HasExtension("fileinto") || !caps.HasSASL("PLAIN") || caps.StartTLS {
		t.Errorf("capabilities after STARTTLS = %+v", caps)
	}
	err = c.Authenticate(ctx, "alice", "wrong")
	if failure.KindOf(err) != failure.Auth {
		t.Fatalf("Authenticate(wrong) = %v; want an auth failure", err)
	}
	if err := c.Authenticate(ctx, "alice", "alice-pw"); err != nil {
		t.Fatalf("Authenticate: %v", err)
	}

	// A script already on the "old" server, as webmail leaves it.
	old := "require [\"fileinto\"];\r\n# rule:[Old]\r\nif header :contains \"subject\" \"old\" { fileinto \"Old\"; }\r\n"
	if _, err := c.PutScript(ctx, "roundcube", old); err != nil {
		t.Fatal(err)
	}
	if err := c.SetActive(ctx, "roundcube"); err != nil {
		t.Fatal(err)
	}
	list, err := c.ListScripts(ctx)
	if err != nil || !reflect.DeepEqual(list, []managesieve.Script{{Name: "roundcube", Active: true}}) {
		t.Fatalf("ListScripts = %+v, %v", list, err)
	}
	if got, err := c.GetScript(ctx, "roundcube"); err != nil || got != old {
		t.Errorf("GetScript = %q, %v; want %q", got, err, old)
	}

	// Scripts generated from the Thunderbird fixture, for the extensions
	// the server announces.
	rules, _ := filters.ParseFilterRules(strings.NewReader(filtertest.IMAPFilters))
	script := sieve.Generate(rules.Rules, sieve.Options{Name: "mailmover", Extensions: caps.Sieve, Trash: "Trash"})
	if err := sieve.Check(script.Text); err != nil {
		t.Fatalf("Check(generated) = %v", err)
	}
	if _, err := c.CheckScript(ctx, script.Text); err != nil {
		t.Fatalf("CHECKSCRIPT(generated) = %v\n%s", err, script.Text)
	}
	_, err = c.CheckScript(ctx, "require \"fileinto\";\nif true { fileinto \"x\" }\n")
	if failure.KindOf(err) != failure.Refused || !strings.Contains(err.Error(), "line 2") {
		t.Errorf("CHECKSCRIPT(broken) = %v; want refused with the line", err)
	}
	if err := c.HaveSpace(ctx, "mailmover", len(script.Text)); err != nil {
		t.Errorf("HaveSpace = %v", err)
	}
	if _, err := c.PutScript(ctx, "mailmover", script.Text); err != nil {
		t.Fatal(err)
	}
	if got, err := c.GetScript(ctx, "mailmover"); err != nil || strings.ReplaceAll(got, "\r\n", "\n") != script.Text {
		t.Errorf("GetScript(mailmover) differs from what was put: %v", err)
	}
	list, _ = c.ListScripts(ctx)
	sort.Slice(list, func(i, j int) bool { return list[i].Name < list[j].Name })
	if want := []managesieve.Script{{Name: "mailmover"}, {Name: "roundcube", Active: true}}; !reflect.DeepEqual(list, want) {
		t.Errorf("after PUTSCRIPT, ListScripts = %+v; want %+v (not activated)", list, want)
	}
	if err := c.SetActive(ctx, "mailmover"); err != nil {
		t.Fatal(err)
	}
	if err := c.Logout(ctx); err != nil {
		t.Errorf("Logout = %v", err)
	}

	// Mail delivered now is filed as the Thunderbird rules said.
	d.Deliver(t, "alice", "From: Shop <billing@shop.example>\nTo: alice@example.com\nSubject: Facture 12\nMessage-ID: <1@t>\n\nPay.\n")
	d.Deliver(t, "alice", "From: Desk <desk@example.com>\nTo: alice@example.com\nSubject: [TICKET-42] help\nMessage-ID: <2@t>\n\nHelp.\n")
	d.Deliver(t, "alice", "From: Dev <dev@example.org>\nTo: alice@example.com\nList-Id: <dev.example.org>\nSubject: release\nMessage-ID: <3@t>\n\nRelease.\n")
	d.Deliver(t, "alice", "From: Friend <friend@example.org>\nTo: alice@example.com\nSubject: hello\nMessage-ID: <4@t>\n\nHi.\n")
	d.Deliver(t, "alice", "From: Someone <someone@example.org>\nTo: alice@example.com\nSubject: later please\nMessage-ID: <5@t>\n\nThe disabled rule must not move this.\n")
	want := []string{
		"INBOX/Reçus & Factures|Facture 12|\\Seen",
		"INBOX|hello|",
		"INBOX|later please|",
		"INBOX|release|$label1",
		"Lists/Dev|release|$label1",
		"Tickets|[TICKET-42] help|",
	}
	if got := d.Mail(t, "alice"); !reflect.DeepEqual(got, want) {
		t.Errorf("mail after delivery =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
