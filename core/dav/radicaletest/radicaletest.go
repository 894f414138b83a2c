// Package radicaletest starts a real, throwaway Radicale 3 CardDAV and
// CalDAV server (RFC 6352, RFC 4791) on 127.0.0.1 for integration tests.
//
// Each server lives in its own temporary directory (configuration, a plain
// htpasswd file, the collection storage, logs), listens on a free high port
// over plain HTTP, and is stopped and removed when the test ends. Rights
// are "owner_only": each user sees only the collections below /USER/.
//
// Radicale must be installed (Debian: the radicale package; see
// .ci/deps-radicale.sh). Without it Start skips the test, unless the
// environment variable MAILMOVER_REQUIRE_DOVECOT is "1" (the project's
// "require real servers" switch), in which case the test fails.
package radicaletest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"mailmover/core/internal/testproc"
)

// User is an account on the test server.
type User struct {
	Name     string
	Password string
}

// Options configures Start.
type Options struct {
	// Users are the accounts to create; if empty, "alice" with password
	// "alice-pw" and "bob" with password "bob-pw".
	Users []User
}

// Server is a running Radicale started by Start.
type Server struct {
	// URL is the server's root, "http://127.0.0.1:PORT/".
	URL string
	// Host is the address the server listens on: "127.0.0.1".
	Host string
	// Port is the TCP port.
	Port int
	// Dir is the temporary directory holding configuration, storage and logs.
	Dir string

	users   []User
	logFile string
	proc    *testproc.Process
}

// requireEnv, when "1", turns a missing Radicale into a test failure.
const requireEnv = "MAILMOVER_REQUIRE_DOVECOT"

// startTimeout bounds how long Start waits for the server to answer.
const startTimeout = 30 * time.Second

// validName is the set of user names accepted: safe in an htpasswd file
// and as Radicale's principal path component.
var validName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._@-]*$`)

// Available reports whether Radicale can be run here: nil if so,
// otherwise an error saying what is missing.
func Available() error {
	_, err := python()
	return err
}

// python finds a Python 3 interpreter that can import radicale: the
// system's /usr/bin/python3 first (where the Debian package installs it),
// then python3 on PATH.
func python() (string, error) {
	var candidates []string
	for _, p := range []string{"/usr/bin/python3", "/usr/local/bin/python3"} {
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() {
			candidates = append(candidates, p)
		}
	}
	if p, err := exec.LookPath("python3"); err == nil {
		candidates = append(candidates, p)
	}
	if len(candidates) == 0 {
		return "", errors.New("radicaletest: python3 not found (install radicale, see .ci/deps-radicale.sh)")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var last error
	for _, p := range candidates {
		out, err := exec.CommandContext(ctx, p, "-c", "import radicale, sys; sys.stdout.write(radicale.VERSION)").Output()
		if err != nil {
			last = err
			continue
		}
		if v := string(out); !strings.HasPrefix(v, "3.") {
			last = fmt.Errorf("radicale version %q, want 3.x", v)
			continue
		}
		return p, nil
	}
	return "", fmt.Errorf("radicaletest: no python3 can import radicale 3 (install radicale, see .ci/deps-radicale.sh): %w", last)
}

// Start starts a Radicale server for the test and registers its shutdown
// and removal with tb.Cleanup. It skips the test if Radicale cannot run
// here, or fails it if MAILMOVER_REQUIRE_DOVECOT=1.
func Start(tb testing.TB, opts Options) *Server {
	tb.Helper()
	py, err := python()
	if err != nil {
		if os.Getenv(requireEnv) == "1" {
			tb.Fatalf("%v (%s=1)", err, requireEnv)
		}
		tb.Skipf("skipping: %v (set %s=1 to fail instead)", err, requireEnv)
	}
	users := opts.Users
	if len(users) == 0 {
		users = []User{{Name: "alice", Password: "alice-pw"}, {Name: "bob", Password: "bob-pw"}}
	}
	seen := make(map[string]bool)
	for _, u := range users {
		if !validName.MatchString(u.Name) {
			tb.Fatalf("radicaletest: invalid user name %q", u.Name)
		}
		if u.Password == "" || strings.ContainsFunc(u.Password, func(r rune) bool { return r == ':' || r < ' ' || r == 0x7f }) {
			tb.Fatalf("radicaletest: user %q: password must be non-empty, without ':' or control characters", u.Name)
		}
		if seen[u.Name] {
			tb.Fatalf("radicaletest: user %q given twice", u.Name)
		}
		seen[u.Name] = true
	}
	dir, err := os.MkdirTemp("", "mm-radicale-")
	if err != nil {
		tb.Fatalf("radicaletest: %v", err)
	}
	tb.Cleanup(func() {
		if err := os.RemoveAll(dir); err != nil {
			tb.Errorf("radicaletest: remove %s: %v", dir, err)
		}
	})
	s := &Server{Host: "127.0.0.1", Dir: dir, users: append([]User(nil), users...), logFile: filepath.Join(dir, "radicale.log")}
	if err := s.prepare(); err != nil {
		tb.Fatal(err)
	}
	ctx := tb.Context()
	if logs, err := testproc.Start(func() error { return s.start(ctx, py) }, s.Logs); err != nil {
		tb.Fatalf("radicaletest: start radicale: %v\n--- radicale log ---\n%s", err, logs)
	}
	tb.Cleanup(s.stop)
	return s
}

// prepare writes the htpasswd file and creates the storage folder.
func (s *Server) prepare() error {
	var b strings.Builder
	for _, u := range s.users {
		fmt.Fprintf(&b, "%s:%s\n", u.Name, u.Password)
	}
	if err := os.WriteFile(filepath.Join(s.Dir, "users"), []byte(b.String()), 0o600); err != nil {
		return fmt.Errorf("radicaletest: write htpasswd: %w", err)
	}
	if err := os.Mkdir(filepath.Join(s.Dir, "collections"), 0o700); err != nil {
		return fmt.Errorf("radicaletest: %w", err)
	}
	return nil
}

// config renders Radicale's configuration for port.
func (s *Server) config(port int) string {
	return fmt.Sprintf(`# Throwaway Radicale for integration tests (mailmover/core/dav/radicaletest).
[server]
hosts = 127.0.0.1:%d
max_connections = 20

[auth]
type = htpasswd
htpasswd_filename = %s
htpasswd_encryption = plain
# Answer a wrong password at once instead of after about a second.
delay = 0

[rights]
type = owner_only

[storage]
filesystem_folder = %s

[web]
type = none

[logging]
level = warning
mask_passwords = True
`, port, filepath.Join(s.Dir, "users"), filepath.Join(s.Dir, "collections"))
}

// start picks a port, writes the configuration and runs Radicale until it
// answers HTTP. On failure the process is stopped.
func (s *Server) start(ctx context.Context, py string) error {
	port, err := testproc.FreePort(ctx)
	if err != nil {
		return err
	}
	conf := filepath.Join(s.Dir, "config")
	if err := os.WriteFile(conf, []byte(s.config(port)), 0o600); err != nil {
		return fmt.Errorf("write configuration: %w", err)
	}
	logf, err := os.Create(s.logFile)
	if err != nil {
		return fmt.Errorf("create log: %w", err)
	}
	defer logf.Close()
	cmd := exec.Command(py, "-m", "radicale", "--config", conf)
	cmd.Dir = s.Dir
	cmd.Stdout = logf
	cmd.Stderr = logf
	// Keep the user's own Radicale configuration out of the way.
	cmd.Env = append(os.Environ(), "RADICALE_CONFIG="+conf, "HOME="+s.Dir)
	p, err := testproc.Run("radicale", cmd)
	if err != nil {
		return err
	}
	s.proc = p
	s.Port = port
	s.URL = "http://" + net.JoinHostPort(s.Host, strconv.Itoa(port)) + "/"
	if err := s.waitReady(ctx); err != nil {
		s.stop()
		return err
	}
	return nil
}

// waitReady polls the port until Radicale answers an HTTP request.
func (s *Server) waitReady(ctx context.Context) error {
	client := &http.Client{Timeout: 2 * time.Second}
	return s.proc.WaitReady(ctx, startTimeout, func(ctx context.Context) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodOptions, s.URL, nil)
		if err != nil {
			return err
		}
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		resp.Body.Close()
		return nil
	})
}

// stop terminates Radicale (SIGTERM, then SIGKILL after a grace period)
// and waits for it to exit.
func (s *Server) stop() { s.proc.Stop() }

// Logs returns Radicale's log output, for failure messages.
func (s *Server) Logs() string {
	data, err := os.ReadFile(s.logFile)
	if err != nil {
		return fmt.Sprintf("(%v)", err)
	}
	return string(data)
}

// PrincipalURL returns the URL of user's principal collection, which is
// also the home of their address books and calendars: URL + "USER/".
func (s *Server) PrincipalURL(user string) string {
	return s.URL + user + "/"
}

// password returns user's password.
func (s *Server) password(user string) (string, bool) {
	for _, u := range s.users {
		if u.Name == user {
			return u.Password, true
		}
	}
	return "", false
}

// Do sends one request as user (Basic authentication) to path below the
// server's root and returns the status and the body. It is independent of
// Mailmover's own client, for setting up and checking test data.
func (s *Server) Do(tb testing.TB, user, method, path string, header http.Header, body []byte) (int, []byte) {
	tb.Helper()
	pw, ok := s.password(user)
	if !ok {
		tb.Fatalf("radicaletest: no user %q", user)
	}
	req, err := http.NewRequestWithContext(tb.Context(), method, s.URL+strings.TrimPrefix(path, "/"), bytes.NewReader(body))
	if err != nil {
		tb.Fatalf("radicaletest: %v", err)
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	req.SetBasicAuth(user, pw)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatalf("radicaletest: %s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		tb.Fatalf("radicaletest: %s %s: %v", method, path, err)
	}
	return resp.StatusCode, data
}

// must runs Do and fails the test unless the status is 2xx.
func (s *Server) must(tb testing.TB, user, method, path string, header http.Header, body []byte) []byte {
	tb.Helper()
	code, data := s.Do(tb, user, method, path, header, body)
	if code/100 != 2 {
		tb.Fatalf("radicaletest: %s %s as %s: status %d: %s\n--- radicale log ---\n%s", method, path, user, code, data, s.Logs())
	}
	return data
}

// xmlEscape escapes s for XML character data.
func xmlEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;").Replace(s)
}

// MakeAddressBook creates the address book USER/name/ with a display name
// and, if color is not empty, an InfCloud/Radicale colour
// ({http://inf-it.com/ns/ab/}addressbook-color), by extended MKCOL
// (RFC 5689).
func (s *Server) MakeAddressBook(tb testing.TB, user, name, displayName, color string) {
	tb.Helper()
	extra := ""
	if color != "" {
		extra = `<INF:addressbook-color xmlns:INF="http://inf-it.com/ns/ab/">` + xmlEscape(color) + `</INF:addressbook-color>`
	}
	body := `<?xml version="1.0" encoding="utf-8"?>
<D:mkcol xmlns:D="DAV:" xmlns:CR="urn:ietf:params:xml:ns:carddav">
 <D:set><D:prop>
  <D:resourcetype><D:collection/><CR:addressbook/></D:resourcetype>
  <D:displayname>` + xmlEscape(displayName) + `</D:displayname>` + extra + `
 </D:prop></D:set>
</D:mkcol>`
	s.must(tb, user, "MKCOL", user+"/"+name+"/", http.Header{"Content-Type": {"application/xml; charset=utf-8"}}, []byte(body))
}

// MakeCalendar creates the calendar USER/name/ (MKCALENDAR, RFC 4791
// section 5.3.1) with a display name, an Apple colour
// ({http://apple.com/ns/ical/}calendar-color) if color is not empty, and
// the given component types (VEVENT, VTODO; all if none).
func (s *Server) MakeCalendar(tb testing.TB, user, name, displayName, color string, components ...string) {
	tb.Helper()
	var extra strings.Builder
	if color != "" {
		extra.WriteString(`<I:calendar-color xmlns:I="http://apple.com/ns/ical/">` + xmlEscape(color) + `</I:calendar-color>`)
	}
	if len(components) > 0 {
		extra.WriteString(`<C:supported-calendar-component-set>`)
		for _, c := range components {
			extra.WriteString(`<C:comp name="` + xmlEscape(c) + `"/>`)
		}
		extra.WriteString(`</C:supported-calendar-component-set>`)
	}
	body := `<?xml version="1.0" encoding="utf-8"?>
<C:mkcalendar xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">
 <D:set><D:prop>
  <D:displayname>` + xmlEscape(displayName) + `</D:displayname>` + extra.String() + `
 </D:prop></D:set>
</C:mkcalendar>`
	s.must(tb, user, "MKCALENDAR", user+"/"+name+"/", http.Header{"Content-Type": {"application/xml; charset=utf-8"}}, []byte(body))
}

// Put stores one object (a vCard or an iCalendar object) at path below
// the root, creating it (If-None-Match: *).
func (s *Server) Put(tb testing.TB, user, path, contentType string, body []byte) {
	tb.Helper()
	s.must(tb, user, http.MethodPut, path, http.Header{"Content-Type": {contentType}, "If-None-Match": {"*"}}, body)
}

// Get returns the stored bytes of the object at path below the root.
func (s *Server) Get(tb testing.TB, user, path string) []byte {
	tb.Helper()
	return s.must(tb, user, http.MethodGet, path, nil, nil)
}

// List returns the hrefs of the objects in the collection at path (a
// PROPFIND with Depth: 1, RFC 4918 section 9.1), sorted, without the
// collection itself.
func (s *Server) List(tb testing.TB, user, path string) []string {
	tb.Helper()
	body := []byte(`<?xml version="1.0" encoding="utf-8"?><D:propfind xmlns:D="DAV:"><D:prop><D:getetag/></D:prop></D:propfind>`)
	data := s.must(tb, user, "PROPFIND", path, http.Header{"Depth": {"1"}, "Content-Type": {"application/xml; charset=utf-8"}}, body)
	return parseHrefs(data, "/"+strings.Trim(path, "/")+"/")
}
