package managesieve

import (
	"context"
	"crypto/tls"
	"errors"
	"reflect"
	"strings"
	"testing"

	"mailmover/core/failure"
)

func wantKind(t *testing.T, what string, err error, kind failure.Kind) {
	t.Helper()
	if err == nil || failure.KindOf(err) != kind {
		t.Errorf("%s = %v (kind %v); want kind %v", what, err, failure.KindOf(err), kind)
	}
}

func TestClientStartTLS(t *testing.T) {
	cert, pool := testCert(t)
	s := newFakeServer(t, cert)
	s.serve()
	ctx := context.Background()
	c, err := Dial(ctx, s.addr(), Options{TLSConfig: &tls.Config{RootCAs: pool}})
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	defer c.Close()
	caps := c.Capabilities()
	want := Capabilities{Implementation: "Fake Sieve 1.0", SASL: []string{"PLAIN", "LOGIN"}, Sieve: []string{"fileinto", "imap4flags", "copy", "body"},
		MaxRedirects: 4, Notify: []string{"mailto"}, Version: "1.0", Other: map[string]string{"X-ODD": ""}}
	if !reflect.DeepEqual(caps, want) {
		t.Errorf("capabilities after STARTTLS = %+v; want %+v", caps, want)
	}
	if !caps.HasExtension("FILEINTO") || caps.HasExtension("regex") || !caps.HasSASL("plain") {
		t.Errorf("HasExtension/HasSASL wrong for %+v", caps)
	}

	err = c.Authenticate(ctx, "alice", "wrong password")
	wantKind(t, "Authenticate(wrong)", err, failure.Auth)
	if err != nil && strings.Contains(err.Error(), "wrong password") {
		t.Errorf("error %q holds the password", err)
	}
	if err := c.Authenticate(ctx, "alice", "s3cret pw"); err != nil {
		t.Fatalf("Authenticate: %v", err)
	}

	list, err := c.ListScripts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	wantList := []Script{{Name: "Réunions \"2024\""}, {Name: "roundcube", Active: true}}
	if !reflect.DeepEqual(list, wantList) {
		t.Errorf("ListScripts = %+v; want %+v", list, wantList)
	}

	script := "require [\"fileinto\"];\r\n# rule:[Reçus \"&\" \\]\r\nif header :contains \"from\" \"billing@\" { fileinto \"Reçus & Factures\"; }\r\n"
	if _, err := c.PutScript(ctx, "mailmover", script); err != nil {
		t.Fatalf("PutScript: %v", err)
	}
	got, err := c.GetScript(ctx, "mailmover")
	if err != nil || got != script {
		t.Errorf("GetScript = %q, %v; want %q", got, err, script)
	}
	if got, err := c.GetScript(ctx, "Réunions \"2024\""); err != nil || got != "stop;\n" {
		t.Errorf("GetScript(quoted name) = %q, %v", got, err)
	}
	_, err = c.GetScript(ctx, "missing")
	wantKind(t, "GetScript(missing)", err, failure.Refused)
	var pe *Error
	if !errors.As(err, &pe) || pe.Code != "NONEXISTENT" || pe.Status != "NO" {
		t.Errorf("GetScript(missing) error = %#v; want NO (NONEXISTENT)", err)
	}

	_, err = c.CheckScript(ctx, "if true { keep }")
	wantKind(t, "CheckScript(bad)", err, failure.Refused)
	if err == nil || !strings.Contains(err.Error(), "line 1") {
		t.Errorf("CheckScript(bad) = %v; want the server's message", err)
	}
	if w, err := c.CheckScript(ctx, "keep; # warn\n"); err != nil || w != "line 1: a warning" {
		t.Errorf("CheckScript(warning) = %q, %v", w, err)
	}
	_, err = c.PutScript(ctx, "big", strings.Repeat("#", 1<<17)+"\nkeep;")
	wantKind(t, "PutScript(too big)", err, failure.Quota)
	wantKind(t, "HaveSpace(too big)", c.HaveSpace(ctx, "big", 1<<20), failure.Quota)
	if err := c.HaveSpace(ctx, "small", 100); err != nil {
		t.Errorf("HaveSpace(small) = %v", err)
	}

	if err := c.SetActive(ctx, "mailmover"); err != nil {
		t.Fatal(err)
	}
	wantKind(t, "SetActive(missing)", c.SetActive(ctx, "missing"), failure.Refused)
	wantKind(t, "DeleteScript(active)", c.DeleteScript(ctx, "mailmover"), failure.Refused)
	if err := c.DeleteScript(ctx, "roundcube"); err != nil {
		t.Fatal(err)
	}
	list, _ = c.ListScripts(ctx)
	if want := []Script{{Name: "Réunions \"2024\""}, {Name: "mailmover", Active: true}}; !reflect.DeepEqual(list, want) {
		t.Errorf("ListScripts after changes = %+v; want %+v", list, want)
	}
	if caps, err := c.Capability(ctx); err != nil || caps.Implementation != "Fake Sieve 1.0" {
		t.Errorf("Capability = %+v, %v", caps, err)
	}
	if err := c.Noop(ctx); err != nil {
		t.Errorf("Noop = %v", err)
	}
	if err := c.Logout(ctx); err != nil {
		t.Errorf("Logout = %v", err)
	}
	wantKind(t, "Noop after Logout", c.Noop(ctx), failure.Connection)
}

func TestClientImplicitTLSAndInsecure(t *testing.T) {
	cert, pool := testCert(t)
	s := newFakeServer(t, cert)
	s.implicit = true
	s.serve()
	ctx := context.Background()
	c, err := Dial(ctx, s.addr(), Options{Security: ImplicitTLS, TLSConfig: &tls.Config{RootCAs: pool}})
	if err != nil {
		t.Fatalf("Dial(ImplicitTLS): %v", err)
	}
	if err := c.Authenticate(ctx, "alice", "s3cret pw"); err != nil {
		t.Errorf("Authenticate over TLS: %v", err)
	}
	c.Close()

	// Untrusted certificate.
	_, err = Dial(ctx, s.addr(), Options{Security: ImplicitTLS})
	wantKind(t, "Dial(untrusted)", err, failure.TLS)

	plain := newFakeServer(t, cert)
	plain.noTLS = true
	plain.serve()
	_, err = Dial(ctx, plain.addr(), Options{TLSConfig: &tls.Config{RootCAs: pool}})
	wantKind(t, "Dial(StartTLS not offered)", err, failure.TLS)
	c, err = Dial(ctx, plain.addr(), Options{Security: Insecure})
	if err != nil {
		t.Fatalf("Dial(Insecure, loopback): %v", err)
	}
	if err := c.Authenticate(ctx, "alice", "s3cret pw"); err != nil {
		t.Errorf("Authenticate without TLS on loopback: %v", err)
	}
	c.Close()

	// No connection is even attempted for these.
	_, err = Dial(ctx, "192.0.2.1:4190", Options{Security: Insecure})
	wantKind(t, "Dial(Insecure, not loopback)", err, failure.Config)
}

func TestClientCancel(t *testing.T) {
	cert, pool := testCert(t)
	s := newFakeServer(t, cert)
	s.hang, s.got = make(chan struct{}), make(chan struct{}, 1)
	defer close(s.hang)
	s.serve()
	c, err := Dial(context.Background(), s.addr(), Options{TLSConfig: &tls.Config{RootCAs: pool}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		<-s.got
		cancel()
	}()
	err = c.Noop(ctx)
	wantKind(t, "Noop(cancelled)", err, failure.Cancelled)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Noop(cancelled) = %v; want context.Canceled inside", err)
	}
	wantKind(t, "ListScripts after cancel", func() error { _, err := c.ListScripts(context.Background()); return err }(), failure.Connection)

	done, cancel2 := context.WithCancel(context.Background())
	cancel2()
	_, err = Dial(done, s.addr(), Options{})
	wantKind(t, "Dial(cancelled)", err, failure.Cancelled)
}

func TestClientBye(t *testing.T) {
	cert, pool := testCert(t)
	s := newFakeServer(t, cert)
	s.serve()
	ctx := context.Background()
	c, err := Dial(ctx, s.addr(), Options{TLSConfig: &tls.Config{RootCAs: pool}})
	if err != nil {
		t.Fatal(err)
	}
	s.mu.Lock()
	s.bye = true
	s.mu.Unlock()
	err = c.Authenticate(ctx, "alice", "s3cret pw")
	wantKind(t, "Authenticate(BYE)", err, failure.Connection)
	var pe *Error
	if !errors.As(err, &pe) || pe.Status != "BYE" || pe.Text != "Disconnected for inactivity." {
		t.Errorf("BYE error = %#v", err)
	}
	wantKind(t, "Noop after BYE", c.Noop(ctx), failure.Connection)
}

func TestQuote(t *testing.T) {
	tests := []struct{ in, want string }{
		{"plain", `"plain"`},
		{`a "b" \c`, `"a \"b\" \\c"`},
		{"two\r\nlines", "{10+}\r\ntwo\r\nlines"},
	}
	for _, tt := range tests {
		if got := quote(tt.in); got != tt.want {
			t.Errorf("quote(%q) = %q; want %q", tt.in, got, tt.want)
		}
	}
}
