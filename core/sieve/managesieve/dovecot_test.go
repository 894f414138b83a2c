//go:build unix

package managesieve_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"mailmover/core/failure"
	"mailmover/core/filters"
	"mailmover/core/filters/filtertest"
	"mailmover/core/sieve"
	"mailmover/core/sieve/managesieve"
)

// This file runs the client against a real Dovecot with Pigeonhole
// (Debian packages dovecot-core, dovecot-sieve, dovecot-managesieved),
// started with its own throwaway configuration on a free 127.0.0.1 port.
// Without those packages the test is skipped, unless
// MAILMOVER_REQUIRE_DOVECOT=1.

const (
	dovecotBin = "/usr/sbin/dovecot"
	ldaBin     = "/usr/lib/dovecot/dovecot-lda"
	msBin      = "/usr/lib/dovecot/managesieve"
)

type dovecot struct {
	dir, conf, addr string
	pool            *x509.CertPool
}

func requireDovecot(t *testing.T) {
	t.Helper()
	for _, p := range []string{dovecotBin, ldaBin, msBin} {
		if _, err := os.Stat(p); err != nil {
			if os.Getenv("MAILMOVER_REQUIRE_DOVECOT") == "1" {
				t.Fatalf("%s missing: install dovecot-core, dovecot-sieve and dovecot-managesieved", p)
			}
			t.Skipf("%s missing: install dovecot-core, dovecot-sieve and dovecot-managesieved to run this test", p)
		}
	}
}

// startDovecot runs a ManageSieve server with one user, alice (password
// "alice-pw"), whose mail is delivered by dovecot-lda through her active
// Sieve script.
func startDovecot(t *testing.T) *dovecot {
	requireDovecot(t)
	root := os.TempDir()
	if len(root) > 40 {
		root = "/tmp" // unix socket paths are short
	}
	dir, err := os.MkdirTemp(root, "mm-ms-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })

	// Mail owner: the dovecot user when running as root, else ourselves.
	uid, gid := os.Getuid(), os.Getgid()
	nonRoot := uid != 0
	var self, group string
	if nonRoot {
		u, err := user.Current()
		if err != nil {
			t.Fatal(err)
		}
		g, err := user.LookupGroupId(u.Gid)
		if err != nil {
			t.Fatal(err)
		}
		self, group = u.Username, g.Name
	} else {
		u, err := user.Lookup("dovecot")
		if err != nil {
			t.Fatal(err)
		}
		uid, _ = strconv.Atoi(u.Uid)
		gid, _ = strconv.Atoi(u.Gid)
		if err := os.Chmod(dir, 0o711); err != nil {
			t.Fatal(err)
		}
	}
	for _, d := range []string{"run", "state"} {
		if err := os.Mkdir(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	home := filepath.Join(dir, "home")
	for _, d := range []string{home, filepath.Join(home, "alice")} {
		if err := os.Mkdir(d, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.Chown(d, uid, gid); err != nil && !nonRoot {
			t.Fatal(err)
		}
	}
	cert, pool := testCertPEM(t)
	if err := os.WriteFile(filepath.Join(dir, "cert.pem"), cert.cert, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "key.pem"), cert.key, 0o600); err != nil {
		t.Fatal(err)
	}
	users := fmt.Sprintf("alice:{PLAIN}alice-pw:%d:%d::%s::\n", uid, gid, filepath.Join(home, "alice"))
	if err := os.WriteFile(filepath.Join(dir, "users"), []byte(users), 0o644); err != nil {
		t.Fatal(err)
	}

	var last error
	for attempt := 0; attempt < 3; attempt++ {
		port, err := freePort()
		if err != nil {
			t.Fatal(err)
		}
		d := &dovecot{dir: dir, conf: filepath.Join(dir, "dovecot.conf"), addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), pool: pool}
		conf := dovecotConf(dir, port, uid, gid, nonRoot, self, group)
		if err := os.WriteFile(d.conf, []byte(conf), 0o644); err != nil {
			t.Fatal(err)
		}
		if last = d.start(t); last == nil {
			return d
		}
	}
	t.Fatalf("dovecot did not start: %v", last)
	return nil
}

func dovecotConf(dir string, port, uid, gid int, nonRoot bool, self, group string) string {
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	p("base_dir = %s/run", dir)
	p("state_dir = %s/state", dir)
	p("protocols = sieve")
	p("listen = 127.0.0.1")
	p("shutdown_clients = yes")
	p("log_path = %s/log", dir)
	p("info_log_path = %s/log", dir)
	p("auth_mechanisms = plain")
	p("auth_failure_delay = 0")
	p("disable_plaintext_auth = yes")
	p("ssl = required")
	p("ssl_cert = <%s/cert.pem", dir)
	p("ssl_key = <%s/key.pem", dir)
	p("first_valid_uid = %d", uid)
	p("first_valid_gid = %d", gid)
	if nonRoot {
		p("default_internal_user = %s", self)
		p("default_internal_group = %s", group)
		p("default_login_user = %s", self)
	}
	p("mail_location = maildir:~/Maildir:LAYOUT=fs")
	p("lda_mailbox_autocreate = yes")
	p("passdb {\n  driver = passwd-file\n  args = scheme=PLAIN username_format=%%u %s/users\n}", dir)
	p("userdb {\n  driver = passwd-file\n  args = username_format=%%u %s/users\n}", dir)
	p("namespace inbox {\n  inbox = yes\n  separator = /\n  prefix =\n}")
	p("service managesieve-login {\n  inet_listener sieve {\n    address = 127.0.0.1\n    port = %d\n  }", port)
	if nonRoot {
		p("  chroot =")
	}
	p("}")
	p("service anvil {\n  unix_listener anvil-auth-penalty {\n    mode = 0\n  }")
	if nonRoot {
		p("  chroot =")
	}
	p("}")
	if nonRoot {
		p("service auth-worker {\n  user = $default_internal_user\n}")
	}
	p("plugin {\n  sieve = file:~/sieve;active=~/.dovecot.sieve\n}")
	p("protocol lda {\n  mail_plugins = $mail_plugins sieve\n}")
	return b.String()
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func (d *dovecot) start(t *testing.T) error {
	out, err := os.Create(filepath.Join(d.dir, "stderr"))
	if err != nil {
		return err
	}
	defer out.Close()
	cmd := exec.Command(dovecotBin, "-c", d.conf, "-F")
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return err
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	stop := func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
	}
	// Wait for the greeting: the login process may start after the pid file.
	deadline := time.Now().Add(15 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		c, err := managesieve.Dial(ctx, d.addr, managesieve.Options{TLSConfig: &tls.Config{RootCAs: d.pool}})
		cancel()
		if err == nil {
			c.Close()
			t.Cleanup(stop)
			return nil
		}
		select {
		case <-done:
			logs, _ := os.ReadFile(filepath.Join(d.dir, "stderr"))
			return fmt.Errorf("dovecot exited: %s", logs)
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			stop()
			logs, _ := os.ReadFile(filepath.Join(d.dir, "log"))
			return fmt.Errorf("no greeting: %v\n%s", err, logs)
		}
	}
}

// deliver hands a message to dovecot-lda for alice.
func (d *dovecot) deliver(t *testing.T, msg string) {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), ldaBin, "-c", d.conf, "-d", "alice", "-f", "sender@example.net")
	cmd.Stdin = strings.NewReader(strings.ReplaceAll(msg, "\n", "\r\n"))
	if out, err := cmd.CombinedOutput(); err != nil {
		logs, _ := os.ReadFile(filepath.Join(d.dir, "log"))
		t.Fatalf("dovecot-lda: %v\n%s\n%s", err, out, logs)
	}
}

// mail lists alice's messages as "mailbox|subject|flags", sorted.
func (d *dovecot) mail(t *testing.T) []string {
	t.Helper()
	out, err := exec.CommandContext(t.Context(), "doveadm", "-c", d.conf, "-f", "tab", "fetch", "-u", "alice", "mailbox hdr.subject flags", "ALL").CombinedOutput()
	if err != nil {
		t.Fatalf("doveadm fetch: %v\n%s", err, out)
	}
	var rows []string
	for i, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if i == 0 || line == "" {
			continue // header
		}
		f := strings.Split(line, "\t")
		if len(f) < 3 {
			t.Fatalf("doveadm fetch line %q", line)
		}
		var flags []string
		for _, fl := range strings.Fields(f[2]) {
			if fl != `\Recent` {
				flags = append(flags, fl)
			}
		}
		sort.Strings(flags)
		rows = append(rows, f[0]+"|"+strings.TrimSpace(f[1])+"|"+strings.Join(flags, " "))
	}
	sort.Strings(rows)
	return rows
}

func TestDovecotManageSieve(t *testing.T) {
	d := startDovecot(t)
	ctx := t.Context()
	c, err := managesieve.Dial(ctx, d.addr, managesieve.Options{TLSConfig: &tls.Config{RootCAs: d.pool}})
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
	d.deliver(t, "From: Shop <billing@shop.example>\nTo: alice@example.com\nSubject: Facture 12\nMessage-ID: <1@t>\n\nPay.\n")
	d.deliver(t, "From: Desk <desk@example.com>\nTo: alice@example.com\nSubject: [TICKET-42] help\nMessage-ID: <2@t>\n\nHelp.\n")
	d.deliver(t, "From: Dev <dev@example.org>\nTo: alice@example.com\nList-Id: <dev.example.org>\nSubject: release\nMessage-ID: <3@t>\n\nRelease.\n")
	d.deliver(t, "From: Friend <friend@example.org>\nTo: alice@example.com\nSubject: hello\nMessage-ID: <4@t>\n\nHi.\n")
	d.deliver(t, "From: Someone <someone@example.org>\nTo: alice@example.com\nSubject: later please\nMessage-ID: <5@t>\n\nThe disabled rule must not move this.\n")
	want := []string{
		"INBOX/Reçus & Factures|Facture 12|\\Seen",
		"INBOX|hello|",
		"INBOX|later please|",
		"INBOX|release|$label1",
		"Lists/Dev|release|$label1",
		"Tickets|[TICKET-42] help|",
	}
	if got := d.mail(t); !reflect.DeepEqual(got, want) {
		t.Errorf("mail after delivery =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

type pemPair struct{ cert, key []byte }

// testCertPEM makes a self-signed certificate for 127.0.0.1, as PEM.
func testCertPEM(t *testing.T) (pemPair, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(2),
		Subject:               pkix.Name{CommonName: "127.0.0.1"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		IPAddresses:           []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	pool.AppendCertsFromPEM(certPEM)
	return pemPair{cert: certPEM, key: pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder})}, pool
}
