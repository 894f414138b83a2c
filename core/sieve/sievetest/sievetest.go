// Package sievetest starts a throwaway Dovecot with Pigeonhole (Debian
// packages dovecot-core, dovecot-sieve, dovecot-managesieved) for tests:
// a ManageSieve server on a free 127.0.0.1 port with its own
// configuration, and delivery through dovecot-lda and the users' active
// Sieve scripts (RFC 5228, RFC 5804). Without those packages the tests
// that use it are skipped, unless MAILMOVER_REQUIRE_DOVECOT=1.
package sievetest

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"mailmover/core/internal/testproc"
	"mailmover/core/sieve/managesieve"
)

const (
	dovecotBin = "/usr/sbin/dovecot"
	ldaBin     = "/usr/lib/dovecot/dovecot-lda"
	msBin      = "/usr/lib/dovecot/managesieve"
)

// Server is a running Dovecot with ManageSieve and dovecot-lda.
type Server struct {
	// Dir holds the configuration, logs and the users' homes.
	Dir string
	// Conf is the dovecot.conf path, for dovecot-lda and doveadm.
	Conf string
	// Addr is the ManageSieve listener, "127.0.0.1:PORT" (STARTTLS).
	Addr string
	// Port is Addr's port.
	Port int
	// Pool trusts the server's self-signed certificate; CAPEM is the same
	// certificate as PEM.
	Pool  *x509.CertPool
	CAPEM []byte
}

// Require skips the test (or fails it when MAILMOVER_REQUIRE_DOVECOT=1)
// unless Dovecot, dovecot-lda and the ManageSieve server are installed.
func Require(t testing.TB) {
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

// Start runs a ManageSieve server with the given users (default "alice"),
// each with the password Password(user), whose mail dovecot-lda delivers
// through their active Sieve script. The server stops when the test ends.
func Start(t testing.TB, users ...string) *Server {
	t.Helper()
	Require(t)
	if len(users) == 0 {
		users = []string{"alice"}
	}
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
	dirs := []string{home}
	for _, u := range users {
		dirs = append(dirs, filepath.Join(home, u))
	}
	for _, d := range dirs {
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
	var passwd strings.Builder
	for _, u := range users {
		fmt.Fprintf(&passwd, "%s:{PLAIN}%s:%d:%d::%s::\n", u, Password(u), uid, gid, filepath.Join(home, u))
	}
	if err := os.WriteFile(filepath.Join(dir, "users"), []byte(passwd.String()), 0o644); err != nil {
		t.Fatal(err)
	}

	var d *Server
	logs, err := testproc.Start(func() error {
		port, err := testproc.FreePort(t.Context())
		if err != nil {
			return err
		}
		d = &Server{Dir: dir, Conf: filepath.Join(dir, "dovecot.conf"), Addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), Port: port, Pool: pool, CAPEM: cert.cert}
		conf := dovecotConf(dir, port, uid, gid, nonRoot, self, group)
		if err := os.WriteFile(d.Conf, []byte(conf), 0o644); err != nil {
			return err
		}
		return d.start(t)
	}, func() string {
		log, _ := os.ReadFile(filepath.Join(dir, "log"))
		stderr, _ := os.ReadFile(filepath.Join(dir, "stderr"))
		return string(log) + string(stderr)
	})
	if err != nil {
		t.Fatalf("dovecot did not start: %v\n--- dovecot log ---\n%s", err, logs)
	}
	return d
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

func (d *Server) start(t testing.TB) error {
	out, err := os.Create(filepath.Join(d.Dir, "stderr"))
	if err != nil {
		return err
	}
	defer out.Close()
	cmd := exec.Command(dovecotBin, "-c", d.Conf, "-F")
	cmd.Stdout, cmd.Stderr = out, out
	setpgid(cmd)
	if err := cmd.Start(); err != nil {
		return err
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	stop := func() {
		terminate(cmd)
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
		c, err := managesieve.Dial(ctx, d.Addr, managesieve.Options{TLSConfig: &tls.Config{RootCAs: d.Pool}})
		cancel()
		if err == nil {
			c.Close()
			t.Cleanup(stop)
			return nil
		}
		select {
		case <-done:
			logs, _ := os.ReadFile(filepath.Join(d.Dir, "stderr"))
			return fmt.Errorf("dovecot exited: %s", logs)
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			stop()
			logs, _ := os.ReadFile(filepath.Join(d.Dir, "log"))
			return fmt.Errorf("no greeting: %v\n%s", err, logs)
		}
	}
}

// Password is the password Start gives user.
func Password(user string) string { return user + "-pw" }

// TLSConfig trusts the server's certificate.
func (d *Server) TLSConfig() *tls.Config { return &tls.Config{RootCAs: d.Pool} }

// Deliver hands a message (LF line ends) to dovecot-lda for user, from
// sender@example.net, as the MTA would.
func (d *Server) Deliver(t testing.TB, user, msg string) {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), ldaBin, "-c", d.Conf, "-d", user, "-f", "sender@example.net")
	cmd.Stdin = strings.NewReader(strings.ReplaceAll(msg, "\n", "\r\n"))
	if out, err := cmd.CombinedOutput(); err != nil {
		logs, _ := os.ReadFile(filepath.Join(d.Dir, "log"))
		t.Fatalf("dovecot-lda: %v\n%s\n%s", err, out, logs)
	}
}

// Mail lists user's messages as "mailbox|subject|flags" (flags sorted,
// without \Recent), sorted.
func (d *Server) Mail(t testing.TB, user string) []string {
	t.Helper()
	out, err := exec.CommandContext(t.Context(), "doveadm", "-c", d.Conf, "-f", "tab", "fetch", "-u", user, "mailbox hdr.subject flags", "ALL").CombinedOutput()
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

type pemPair struct{ cert, key []byte }

// testCertPEM makes a self-signed certificate for 127.0.0.1, as PEM, and a
// pool trusting it.
func testCertPEM(t testing.TB) (pemPair, *x509.CertPool) {
	t.Helper()
	certPEM, keyPEM, err := testproc.SelfSigned(time.Now())
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(certPEM)
	return pemPair{cert: certPEM, key: keyPEM}, pool
}
