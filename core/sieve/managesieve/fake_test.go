package managesieve

import (
	"bufio"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"fmt"
	"io"
	"net"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"mailmover/core/internal/testproc"
	"mailmover/core/sieve"
)

// testCert makes a self-signed certificate for 127.0.0.1, and a pool
// trusting it.
func testCert(t *testing.T) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	certPEM, keyPEM, err := testproc.SelfSigned(time.Now())
	if err != nil {
		t.Fatal(err)
	}
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(certPEM)
	return cert, pool
}

// fakeServer is an in-process ManageSieve server, enough to exercise the
// client: one user, scripts in memory, sieve.Check as the script checker.
type fakeServer struct {
	t        *testing.T
	ln       net.Listener
	cert     tls.Certificate
	implicit bool // TLS from the first byte
	noTLS    bool // no STARTTLS offered
	user, pw string
	maxSize  int

	mu      sync.Mutex
	scripts map[string]string
	active  string
	// hang makes the server read NOOP and never answer; got is signalled
	// when it has read it.
	hang chan struct{}
	got  chan struct{}
	bye  bool // answer the next command with BYE
}

func newFakeServer(t *testing.T, cert tls.Certificate) *fakeServer {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &fakeServer{t: t, ln: ln, cert: cert, user: "alice", pw: "s3cret pw", maxSize: 1 << 16,
		scripts: map[string]string{"roundcube": "# rule:[x]\nkeep;\n", "Réunions \"2024\"": "stop;\n"}, active: "roundcube"}
	t.Cleanup(func() { ln.Close() })
	return s
}

func (s *fakeServer) addr() string { return s.ln.Addr().String() }

func (s *fakeServer) serve() {
	go func() {
		for {
			c, err := s.ln.Accept()
			if err != nil {
				return
			}
			go s.handle(c)
		}
	}()
}

func (s *fakeServer) caps(w *bufio.Writer, secure bool) {
	fmt.Fprint(w, "\"IMPLEMENTATION\" \"Fake Sieve 1.0\"\r\n")
	fmt.Fprint(w, "\"SASL\" \"PLAIN LOGIN\"\r\n")
	fmt.Fprint(w, "\"SIEVE\" \"fileinto imap4flags copy body\"\r\n")
	if !secure && !s.noTLS && !s.implicit {
		fmt.Fprint(w, "\"STARTTLS\"\r\n")
	}
	fmt.Fprint(w, "\"MAXREDIRECTS\" \"4\"\r\n\"NOTIFY\" \"mailto\"\r\n\"VERSION\" \"1.0\"\r\n\"X-ODD\"\r\n")
	fmt.Fprint(w, "OK \"Ready.\"\r\n")
	w.Flush()
}

// args reads the rest of a command line: atoms, quoted strings, literals.
func readArgs(r *bufio.Reader, line string) ([]string, error) {
	var out []string
	for {
		line = strings.TrimLeft(line, " ")
		switch {
		case line == "":
			return out, nil
		case line[0] == '"':
			var b strings.Builder
			i := 1
			for ; i < len(line) && line[i] != '"'; i++ {
				if line[i] == '\\' {
					i++
				}
				b.WriteByte(line[i])
			}
			out = append(out, b.String())
			line = line[i+1:]
		case line[0] == '{':
			end := strings.Index(line, "+}")
			if end < 0 || end+2 != len(line) {
				return nil, fmt.Errorf("bad literal %q", line)
			}
			n, err := strconv.Atoi(line[1:end])
			if err != nil {
				return nil, err
			}
			buf := make([]byte, n)
			if _, err := io.ReadFull(r, buf); err != nil {
				return nil, err
			}
			out = append(out, string(buf))
			rest, err := r.ReadString('\n')
			if err != nil {
				return nil, err
			}
			line = strings.TrimRight(rest, "\r\n")
		default:
			i := strings.IndexByte(line, ' ')
			if i < 0 {
				i = len(line)
			}
			out = append(out, line[:i])
			line = line[i:]
		}
	}
}

func lit(s string) string { return "{" + strconv.Itoa(len(s)) + "}\r\n" + s }

func (s *fakeServer) handle(conn net.Conn) {
	defer conn.Close()
	secure := false
	if s.implicit {
		tc := tls.Server(conn, &tls.Config{Certificates: []tls.Certificate{s.cert}})
		if err := tc.Handshake(); err != nil {
			return
		}
		conn, secure = tc, true
	}
	r, w := bufio.NewReader(conn), bufio.NewWriter(conn)
	s.caps(w, secure)
	authed := false
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		line = strings.TrimRight(line, "\r\n")
		cmd, rest, _ := strings.Cut(line, " ")
		args, err := readArgs(r, rest)
		if err != nil {
			fmt.Fprintf(w, "NO \"%v\"\r\n", err)
			w.Flush()
			continue
		}
		s.mu.Lock()
		bye, hang := s.bye, s.hang
		s.mu.Unlock()
		if bye {
			fmt.Fprint(w, "BYE \"Disconnected for inactivity.\"\r\n")
			w.Flush()
			return
		}
		switch strings.ToUpper(cmd) {
		case "STARTTLS":
			fmt.Fprint(w, "OK \"Begin TLS negotiation now.\"\r\n")
			w.Flush()
			tc := tls.Server(conn, &tls.Config{Certificates: []tls.Certificate{s.cert}})
			if err := tc.Handshake(); err != nil {
				return
			}
			conn, secure = tc, true
			r, w = bufio.NewReader(conn), bufio.NewWriter(conn)
			s.caps(w, true)
			continue
		case "CAPABILITY":
			s.caps(w, secure)
			continue
		case "AUTHENTICATE":
			raw, _ := base64.StdEncoding.DecodeString(args[1])
			if len(args) == 2 && strings.EqualFold(args[0], "PLAIN") && string(raw) == "\x00"+s.user+"\x00"+s.pw {
				authed = true
				fmt.Fprint(w, "OK \"Logged in.\"\r\n")
			} else {
				fmt.Fprint(w, "NO \"Authentication failed.\"\r\n")
			}
		case "LOGOUT":
			fmt.Fprint(w, "OK \"Logout completed.\"\r\n")
			w.Flush()
			return
		case "NOOP":
			if hang != nil {
				s.got <- struct{}{}
				<-hang
				return
			}
			fmt.Fprint(w, "OK \"NOOP completed.\"\r\n")
		default:
			if !authed {
				fmt.Fprint(w, "NO \"Log in first.\"\r\n")
				break
			}
			s.command(w, strings.ToUpper(cmd), args)
		}
		w.Flush()
	}
}

func (s *fakeServer) command(w *bufio.Writer, cmd string, args []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch cmd {
	case "LISTSCRIPTS":
		names := make([]string, 0, len(s.scripts))
		for n := range s.scripts {
			names = append(names, n)
		}
		sort.Strings(names)
		for i, n := range names {
			name := quoteServer(n)
			if i%2 == 1 {
				name = lit(n)
			}
			if n == s.active {
				name += " ACTIVE"
			}
			fmt.Fprintf(w, "%s\r\n", name)
		}
		fmt.Fprint(w, "OK \"Listscripts completed.\"\r\n")
	case "GETSCRIPT":
		sc, ok := s.scripts[args[0]]
		if !ok {
			fmt.Fprint(w, "NO (NONEXISTENT) \"Script does not exist.\"\r\n")
			return
		}
		fmt.Fprintf(w, "%s\r\nOK \"Getscript completed.\"\r\n", lit(sc))
	case "PUTSCRIPT", "CHECKSCRIPT":
		script := args[len(args)-1]
		if len(script) > s.maxSize {
			fmt.Fprint(w, "NO (QUOTA/MAXSIZE) \"Script is too large.\"\r\n")
			return
		}
		if err := sieve.Check(script); err != nil {
			fmt.Fprintf(w, "NO %s\r\n", lit(err.Error()))
			return
		}
		if cmd == "PUTSCRIPT" {
			s.scripts[args[0]] = script
		}
		if strings.Contains(script, "# warn") {
			fmt.Fprint(w, "OK (WARNINGS) \"line 1: a warning\"\r\n")
			return
		}
		fmt.Fprint(w, "OK\r\n")
	case "HAVESPACE":
		n, _ := strconv.Atoi(args[1])
		if n > s.maxSize {
			fmt.Fprint(w, "NO (QUOTA/MAXSIZE) \"Script is too large.\"\r\n")
			return
		}
		fmt.Fprint(w, "OK\r\n")
	case "SETACTIVE":
		if _, ok := s.scripts[args[0]]; !ok && args[0] != "" {
			fmt.Fprint(w, "NO (NONEXISTENT) \"Script does not exist.\"\r\n")
			return
		}
		s.active = args[0]
		fmt.Fprint(w, "OK\r\n")
	case "DELETESCRIPT":
		if args[0] == s.active {
			fmt.Fprint(w, "NO (ACTIVE) \"Script is active.\"\r\n")
			return
		}
		delete(s.scripts, args[0])
		fmt.Fprint(w, "OK\r\n")
	default:
		fmt.Fprintf(w, "NO \"Unknown command %s\"\r\n", cmd)
	}
}

func quoteServer(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}
