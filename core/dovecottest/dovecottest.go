// Package dovecottest starts a real, throwaway Dovecot 2.3 IMAP server on
// 127.0.0.1 for integration tests.
//
// Each server lives in its own temporary directory (configuration, a
// self-signed certificate, one passwd-file and one Maildir per user, logs), listens
// on two free high ports (implicit TLS, RFC 8314, and plain with STARTTLS,
// RFC 9051 section 6.2.1) and is stopped and removed when the test ends.
// Several servers can run at once.
//
// Two flavours imitate the servers a migration meets: Modern (a current
// Dovecot with "/" as separator and the usual extensions) and Courier (a
// Courier-IMAP-like server: "INBOX." prefix, "." separator, few extensions).
//
// Dovecot must be installed (Debian: dovecot-core and dovecot-imapd; see
// .ci/deps-dovecot.sh). Without it Start skips the test, unless the
// environment variable MAILMOVER_REQUIRE_DOVECOT is "1", in which case the
// test fails. Running as root, Dovecot's helpers run as the package's users
// dovecot and dovenull and the mail belongs to the dovecot user; running as
// an ordinary user, everything runs as that user, without chroot.
package dovecottest

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"mailmover/core/internal/testproc"
)

// Flavour selects which kind of IMAP server the test server imitates.
type Flavour int

const (
	// Modern is a current Dovecot: hierarchy separator "/", no namespace
	// prefix (RFC 2342), and its full capability list: SPECIAL-USE
	// (RFC 6154), CONDSTORE and QRESYNC (RFC 7162), MOVE (RFC 6851),
	// MULTIAPPEND (RFC 3502), UIDPLUS (RFC 4315), QUOTA (RFC 9208),
	// LITERAL+ (RFC 7888) and more.
	Modern Flavour = iota
	// Courier imitates Courier-IMAP: namespace prefix "INBOX.", separator
	// ".", and only IMAP4rev1 UIDPLUS CHILDREN NAMESPACE QUOTA IDLE after
	// login (no SPECIAL-USE, CONDSTORE, MOVE or MULTIAPPEND).
	Courier
)

// String returns the flavour's lower-case name.
func (f Flavour) String() string {
	switch f {
	case Modern:
		return "modern"
	case Courier:
		return "courier"
	}
	return "flavour(" + strconv.Itoa(int(f)) + ")"
}

// User is a mail account on the test server.
type User struct {
	Name     string
	Password string
	// QuotaBytes is the storage quota (RFC 9208 STORAGE, in bytes); 0 means unlimited.
	QuotaBytes int64
}

// Options configures Start.
type Options struct {
	Flavour Flavour
	// Users are the accounts to create; if empty, one user "alice" with
	// password "alice-pw".
	Users []User
}

// Server is a running Dovecot started by Start.
type Server struct {
	// Host is the address the server listens on: "127.0.0.1".
	Host string
	// TLSPort is the implicit-TLS port (RFC 8314).
	TLSPort int
	// StartTLSPort is the plain port, offering STARTTLS. Dovecot counts
	// a connection whose two ends share an address as secure, so over
	// 127.0.0.1 it accepts LOGIN even before STARTTLS and does not
	// announce LOGINDISABLED: a client that must refuse plaintext has to
	// enforce that itself.
	StartTLSPort int
	// CAFile is a PEM file holding the server's self-signed certificate,
	// the one a client must trust.
	CAFile string
	// CAPEM is the content of CAFile.
	CAPEM []byte
	// Dir is the temporary directory holding configuration, mail and logs.
	Dir string
	// Flavour is the flavour the server was started with.
	Flavour Flavour

	logFile    string
	stderrFile string
	usersDir   string // one passwd-file per user
	owner      owner

	mu    sync.Mutex // guards users
	users []User

	proc *testproc.Process
}

// owner is the system account that owns the mail and runs the mail processes.
type owner struct {
	uid, gid        int
	chown           bool   // the files must be given to uid:gid (running as root)
	nonRoot         bool   // the master itself runs as this account
	user, groupName string // names, for a non-root master
}

// requireEnv, when "1", turns a missing Dovecot into a test failure.
const requireEnv = "MAILMOVER_REQUIRE_DOVECOT"

// startTimeout bounds how long Start waits for the server to greet.
const startTimeout = 15 * time.Second

// maxSocketDir is the longest directory under which Dovecot's unix sockets
// (base_dir) still fit in sockaddr_un's 108 bytes with room for their names.
const maxSocketDir = 60

// validName is the set of user names accepted: safe in a passwd-file, as a
// file name, and within Dovecot's default auth_username_chars.
var validName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._@-]*$`)

// Available reports whether a Dovecot 2.3 server can be run here: nil if
// so, otherwise an error saying what is missing.
func Available() error {
	bin, err := dovecotBinary()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, bin, "--version").Output()
	if err != nil {
		return fmt.Errorf("dovecottest: %s --version: %w", bin, err)
	}
	version := strings.TrimSpace(string(out))
	if !strings.HasPrefix(version, "2.3.") {
		return fmt.Errorf("dovecottest: %s is version %q; the test configuration needs Dovecot 2.3", bin, version)
	}
	prefix := filepath.Dir(filepath.Dir(bin))
	found := false
	for _, d := range []string{"lib/dovecot", "libexec/dovecot", "lib64/dovecot"} {
		if isExecutable(filepath.Join(prefix, d, "imap")) && isExecutable(filepath.Join(prefix, d, "imap-login")) {
			found = true
			break
		}
	}
	if !found {
		return fmt.Errorf("dovecottest: dovecot IMAP server not found next to %s (install dovecot-imapd, see .ci/deps-dovecot.sh)", bin)
	}
	if os.Geteuid() == 0 {
		for _, name := range []string{"dovecot", "dovenull"} {
			if _, err := user.Lookup(name); err != nil {
				return fmt.Errorf("dovecottest: running as root needs system user %q (created by the dovecot-core package): %w", name, err)
			}
		}
	}
	return nil
}

// dovecotBinary finds the dovecot master binary.
func dovecotBinary() (string, error) {
	if p, err := exec.LookPath("dovecot"); err == nil {
		return p, nil
	}
	for _, p := range []string{"/usr/sbin/dovecot", "/usr/local/sbin/dovecot"} {
		if isExecutable(p) {
			return p, nil
		}
	}
	return "", errors.New("dovecottest: dovecot not installed (install dovecot-core and dovecot-imapd, see .ci/deps-dovecot.sh)")
}

// isExecutable reports whether path is a regular file someone may execute.
func isExecutable(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().IsRegular() && fi.Mode().Perm()&0o111 != 0
}

// Start starts a Dovecot server for the test and registers its shutdown
// and removal with tb.Cleanup. It skips the test if Dovecot cannot run
// here, or fails it if MAILMOVER_REQUIRE_DOVECOT=1.
func Start(tb testing.TB, opts Options) *Server {
	tb.Helper()
	if err := Available(); err != nil {
		if os.Getenv(requireEnv) == "1" {
			tb.Fatalf("%v (%s=1)", err, requireEnv)
		}
		tb.Skipf("skipping: %v (set %s=1 to fail instead)", err, requireEnv)
	}
	bin, err := dovecotBinary()
	if err != nil {
		tb.Fatal(err)
	}
	users := opts.Users
	if len(users) == 0 {
		users = []User{{Name: "alice", Password: "alice-pw"}}
	}
	seen := make(map[string]bool)
	for _, u := range users {
		if err := u.validate(); err != nil {
			tb.Fatal(err)
		}
		if seen[u.Name] {
			tb.Fatalf("dovecottest: user %q given twice", u.Name)
		}
		seen[u.Name] = true
	}

	own, err := mailOwner()
	if err != nil {
		tb.Fatal(err)
	}
	dir, err := makeDir()
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if err := os.RemoveAll(dir); err != nil {
			tb.Errorf("dovecottest: remove %s: %v", dir, err)
		}
	})

	s := &Server{
		Host:       "127.0.0.1",
		Dir:        dir,
		Flavour:    opts.Flavour,
		CAFile:     filepath.Join(dir, "cert.pem"),
		logFile:    filepath.Join(dir, "dovecot.log"),
		stderrFile: filepath.Join(dir, "dovecot.stderr"),
		usersDir:   filepath.Join(dir, "users"),
		owner:      own,
		users:      append([]User(nil), users...),
	}
	if err := s.prepare(); err != nil {
		tb.Fatal(err)
	}

	ctx := tb.Context()
	if logs, err := testproc.Start(func() error { return s.start(ctx, bin) }, s.Logs); err != nil {
		tb.Fatalf("dovecottest: start dovecot: %v\n--- dovecot log ---\n%s", err, logs)
	}
	tb.Cleanup(s.stop)
	return s
}

// validate checks that u can be written to a passwd-file.
func (u User) validate() error {
	if !validName.MatchString(u.Name) {
		return fmt.Errorf("dovecottest: invalid user name %q", u.Name)
	}
	if u.Password == "" || strings.ContainsFunc(u.Password, func(r rune) bool { return r == ':' || r < ' ' || r == 0x7f }) {
		return fmt.Errorf("dovecottest: user %q: password must be non-empty, without ':' or control characters", u.Name)
	}
	if u.QuotaBytes < 0 {
		return fmt.Errorf("dovecottest: user %q: negative quota %d", u.Name, u.QuotaBytes)
	}
	return nil
}

// mailOwner chooses the account that owns the mail: the dovecot system
// user when running as root (mail processes should not run as root), the
// current user otherwise.
func mailOwner() (owner, error) {
	if os.Geteuid() == 0 {
		u, err := user.Lookup("dovecot")
		if err != nil {
			return owner{}, fmt.Errorf("dovecottest: look up user dovecot: %w", err)
		}
		uid, err1 := strconv.Atoi(u.Uid)
		gid, err2 := strconv.Atoi(u.Gid)
		if err := errors.Join(err1, err2); err != nil {
			return owner{}, fmt.Errorf("dovecottest: user dovecot: %w", err)
		}
		return owner{uid: uid, gid: gid, chown: true}, nil
	}
	u, err := user.Current()
	if err != nil {
		return owner{}, fmt.Errorf("dovecottest: current user: %w", err)
	}
	g, err := user.LookupGroupId(u.Gid)
	if err != nil {
		return owner{}, fmt.Errorf("dovecottest: group of current user: %w", err)
	}
	uid, err1 := strconv.Atoi(u.Uid)
	gid, err2 := strconv.Atoi(u.Gid)
	if err := errors.Join(err1, err2); err != nil {
		return owner{}, fmt.Errorf("dovecottest: current user: %w", err)
	}
	return owner{uid: uid, gid: gid, nonRoot: true, user: u.Username, groupName: g.Name}, nil
}

// makeDir creates the server's directory, short enough for unix socket
// paths and free of characters Dovecot's settings cannot carry.
func makeDir() (string, error) {
	root := os.TempDir()
	if len(root) > maxSocketDir-len("/mm-dc-0123456789/run") || strings.ContainsAny(root, ": \t\"\\%$") {
		root = "/tmp"
	}
	dir, err := os.MkdirTemp(root, "mm-dc-")
	if err != nil {
		return "", fmt.Errorf("dovecottest: create directory: %w", err)
	}
	return dir, nil
}

// prepare writes the certificate, the users' passwd-files and their mail
// directories.
func (s *Server) prepare() error {
	if s.owner.chown {
		// Dovecot's unprivileged processes must reach the passwd-files
		// and the mail below the directory.
		if err := os.Chmod(s.Dir, 0o711); err != nil {
			return fmt.Errorf("dovecottest: %w", err)
		}
	}
	certPEM, keyPEM, err := testproc.SelfSigned(time.Now())
	if err != nil {
		return fmt.Errorf("dovecottest: %w", err)
	}
	s.CAPEM = certPEM
	if err := os.WriteFile(s.CAFile, certPEM, 0o644); err != nil {
		return fmt.Errorf("dovecottest: %w", err)
	}
	if err := os.WriteFile(filepath.Join(s.Dir, "key.pem"), keyPEM, 0o600); err != nil {
		return fmt.Errorf("dovecottest: %w", err)
	}
	for _, d := range []string{"run", "state", "users"} {
		if err := os.Mkdir(filepath.Join(s.Dir, d), 0o755); err != nil {
			return fmt.Errorf("dovecottest: %w", err)
		}
	}
	for _, d := range []string{"mail", "home"} {
		if err := s.mkdirOwned(filepath.Join(s.Dir, d)); err != nil {
			return err
		}
	}
	for _, u := range s.users {
		if err := s.makeMailbox(u.Name); err != nil {
			return err
		}
		if err := s.writeUser(u); err != nil {
			return err
		}
	}
	return nil
}

// mkdirOwned creates dir, owned by the mail owner.
func (s *Server) mkdirOwned(dir string) error {
	if err := os.Mkdir(dir, 0o700); err != nil && !errors.Is(err, os.ErrExist) {
		return fmt.Errorf("dovecottest: %w", err)
	}
	if s.owner.chown {
		if err := os.Chown(dir, s.owner.uid, s.owner.gid); err != nil {
			return fmt.Errorf("dovecottest: %w", err)
		}
	}
	return nil
}

// makeMailbox creates the user's home and empty Maildir (cur, new, tmp),
// so that a test may drop messages into it before the first login.
func (s *Server) makeMailbox(name string) error {
	dirs := []string{
		filepath.Join(s.Dir, "home", name),
		s.MailDir(name),
		filepath.Join(s.MailDir(name), "cur"),
		filepath.Join(s.MailDir(name), "new"),
		filepath.Join(s.MailDir(name), "tmp"),
	}
	for _, d := range dirs {
		if err := s.mkdirOwned(d); err != nil {
			return err
		}
	}
	return nil
}

// writeUser writes the user's passwd-file, in one rename so that Dovecot
// never reads half of it.
func (s *Server) writeUser(u User) error {
	// user:password:uid:gid:gecos:home:shell:extra_fields
	line := fmt.Sprintf("%s:{PLAIN}%s:%d:%d::%s::", u.Name, u.Password, s.owner.uid, s.owner.gid, filepath.Join(s.Dir, "home", u.Name))
	if u.QuotaBytes > 0 {
		line += fmt.Sprintf("userdb_quota_rule=*:bytes=%d", u.QuotaBytes)
	}
	path := filepath.Join(s.usersDir, u.Name)
	tmp := filepath.Join(s.usersDir, ".tmp-"+u.Name)
	// The file is world-readable so that Dovecot's auth process (user
	// dovecot when running as root) can read it; it holds only a
	// throwaway test account's password, in a directory that others
	// cannot list.
	if err := os.WriteFile(tmp, []byte(line+"\n"), 0o644); err != nil {
		return fmt.Errorf("dovecottest: write passwd-file: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("dovecottest: write passwd-file: %w", err)
	}
	return nil
}

// start picks ports, writes the configuration and runs dovecot until it
// greets on the TLS port. On failure the process is stopped.
func (s *Server) start(ctx context.Context, bin string) error {
	tlsPort, err := testproc.FreePort(ctx)
	if err != nil {
		return err
	}
	plainPort, err := testproc.FreePort(ctx)
	if err != nil {
		return err
	}
	if plainPort == tlsPort {
		return errors.New("port in use: same free port twice")
	}
	s.TLSPort, s.StartTLSPort = tlsPort, plainPort

	cfg := config{
		Flavour:       s.Flavour,
		TLSPort:       tlsPort,
		StartTLSPort:  plainPort,
		BaseDir:       filepath.Join(s.Dir, "run"),
		StateDir:      filepath.Join(s.Dir, "state"),
		LogPath:       s.logFile,
		CertFile:      s.CAFile,
		KeyFile:       filepath.Join(s.Dir, "key.pem"),
		UsersDir:      s.usersDir,
		MailRoot:      filepath.Join(s.Dir, "mail"),
		FirstValidUID: s.owner.uid,
		FirstValidGID: s.owner.gid,
		NonRoot:       s.owner.nonRoot,
		UserName:      s.owner.user,
		GroupName:     s.owner.groupName,
	}
	conf := filepath.Join(s.Dir, "dovecot.conf")
	if err := os.WriteFile(conf, []byte(cfg.render()), 0o644); err != nil {
		return fmt.Errorf("write configuration: %w", err)
	}
	// Start each attempt with empty logs, so that an old port clash is
	// not mistaken for a new one.
	if err := os.WriteFile(s.logFile, nil, 0o644); err != nil {
		return fmt.Errorf("create log: %w", err)
	}
	stderr, err := os.Create(s.stderrFile)
	if err != nil {
		return fmt.Errorf("create log: %w", err)
	}
	defer stderr.Close()

	cmd := exec.Command(bin, "-c", conf, "-F")
	cmd.Dir = s.Dir
	cmd.Stdout = stderr
	cmd.Stderr = stderr
	p, err := testproc.Run("dovecot", cmd)
	if err != nil {
		return err
	}
	s.proc = p
	// Dovecot's pid file appears before its login process accepts
	// connections, so only a TLS handshake and the "* OK" greeting (RFC 9051
	// section 7.1.1) prove the server is ready.
	if err := p.WaitReady(ctx, startTimeout, func(ctx context.Context) error {
		return greet(ctx, s.Addr(), s.TLSConfig())
	}); err != nil {
		s.stop()
		return err
	}
	return nil
}

// greet connects over TLS and reads the server greeting.
func greet(ctx context.Context, addr string, cfg *tls.Config) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	d := tls.Dialer{Config: cfg}
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return err
	}
	defer conn.Close()
	if deadline, ok := ctx.Deadline(); ok {
		if err := conn.SetDeadline(deadline); err != nil {
			return err
		}
	}
	line, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil {
		return fmt.Errorf("read greeting: %w", err)
	}
	if !strings.HasPrefix(line, "* OK") {
		return fmt.Errorf("unexpected greeting %q", strings.TrimSpace(line))
	}
	return nil
}

// stop terminates dovecot (SIGTERM, then SIGKILL after a grace period)
// and waits for it to exit.
func (s *Server) stop() { s.proc.Stop() }

// TLSConfig returns a TLS configuration that trusts only the server's
// certificate, for server name 127.0.0.1.
func (s *Server) TLSConfig() *tls.Config {
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(s.CAPEM)
	return &tls.Config{
		RootCAs:    pool,
		ServerName: s.Host,
		MinVersion: tls.VersionTLS12,
	}
}

// Addr returns the implicit-TLS address, "127.0.0.1:port".
func (s *Server) Addr() string {
	return net.JoinHostPort(s.Host, strconv.Itoa(s.TLSPort))
}

// StartTLSAddr returns the plain (STARTTLS) address, "127.0.0.1:port".
func (s *Server) StartTLSAddr() string {
	return net.JoinHostPort(s.Host, strconv.Itoa(s.StartTLSPort))
}

// AddUser adds an account to the running server; the user can log in at
// once. (Each user has a passwd-file of their own, which Dovecot opens at the
// user's first login. Had a login for that name been tried before AddUser,
// Dovecot would notice the new file only a second after that attempt.)
func (s *Server) AddUser(tb testing.TB, u User) {
	tb.Helper()
	if err := u.validate(); err != nil {
		tb.Fatal(err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, old := range s.users {
		if old.Name == u.Name {
			tb.Fatalf("dovecottest: user %q already exists", u.Name)
		}
	}
	if err := s.makeMailbox(u.Name); err != nil {
		tb.Fatal(err)
	}
	if err := s.writeUser(u); err != nil {
		tb.Fatal(err)
	}
	s.users = append(s.users, u)
}

// MailDir returns the path of the user's Maildir (its INBOX). In the
// Modern flavour other folders are subdirectories named as the folder
// (LAYOUT=fs); in the Courier flavour they are Maildir++ ".Name" folders.
func (s *Server) MailDir(user string) string {
	return filepath.Join(s.Dir, "mail", user)
}

// Logs returns Dovecot's log and its standard error output, for failure
// messages.
func (s *Server) Logs() string {
	var b strings.Builder
	for _, f := range []string{s.stderrFile, s.logFile} {
		data, err := os.ReadFile(f)
		if err != nil {
			if !errors.Is(err, os.ErrNotExist) {
				fmt.Fprintf(&b, "(%v)\n", err)
			}
			continue
		}
		b.Write(data)
	}
	return b.String()
}
