package batch

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"

	"mailmover/core/account"
	"mailmover/core/failure"
)

// maxCSV bounds the size of an imported list (far more than 100 000 pairs).
const maxCSV = 32 << 20

// row is one parsed account pair, with the passwords given for it. It lives
// only in memory during an import.
type row struct {
	line               int
	src, dst           Side
	srcPW, dstPW       string
	srcHasPW, dstHasPW bool
}

// RowError is a line of the list that could not be imported. It never
// repeats the line's content, which may hold a password.
type RowError struct {
	Line int    `json:"line"`
	Err  string `json:"error"`
}

func (e RowError) Error() string { return fmt.Sprintf("line %d: %s", e.Line, e.Err) }

// parseCSV reads account pairs in either of two forms:
//
//   - imapsync's batch file: host1;user1;password1;host2;user2;password2
//     per line, further fields ignored, hosts optionally with :port
//     (implicit TLS on 993 unless the port is 143, which means STARTTLS);
//   - a CSV file whose first line names the columns (source_email,
//     source_host, source_port, source_security, source_username,
//     source_password, and target_... alike; a few other spellings are
//     accepted, see column), separated by commas, semicolons or tabs.
//
// Fields may be quoted as in RFC 4180. Blank lines and lines starting with
// '#' are skipped. A row that cannot be used is reported in errs and the
// others are kept.
func parseCSV(r io.Reader) (rows []row, errs []RowError, err error) {
	data, err := io.ReadAll(io.LimitReader(r, maxCSV+1))
	if err != nil {
		return nil, nil, failure.New(failure.Local, failure.ScopeAccount, "read the account list", err)
	}
	if len(data) > maxCSV {
		return nil, nil, failure.Newf(failure.Config, failure.ScopeAccount, "the account list is larger than %d MB: split it", maxCSV>>20)
	}
	data = bytes.TrimPrefix(data, []byte("\ufeff"))
	cr := csv.NewReader(bytes.NewReader(data))
	cr.Comma = sniffComma(data)
	cr.Comment = '#'
	cr.LazyQuotes = true
	cr.FieldsPerRecord = -1
	var header map[string]int
	first := true
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				// The ParseError's text holds no field content.
				errs = append(errs, RowError{Line: pe.StartLine, Err: pe.Err.Error()})
				if errors.Is(pe.Err, csv.ErrQuote) {
					break // an unterminated quote swallowed the rest
				}
				continue
			}
			return nil, nil, failure.New(failure.Local, failure.ScopeAccount, "read the account list", err)
		}
		line, _ := cr.FieldPos(0)
		if blank(rec) {
			continue
		}
		if spansLines(rec) {
			errs = append(errs, RowError{Line: line, Err: "a quoted field runs over several lines: a quote is not closed, and the lines after it could not be read"})
			continue
		}
		if first {
			first = false
			if h := headerOf(rec); h != nil {
				header = h
				continue
			}
		}
		var rw row
		var rerr error
		if header != nil {
			rw, rerr = headerRow(rec, header)
		} else {
			rw, rerr = imapsyncRow(rec)
		}
		if rerr == nil {
			rerr = rw.separateKeys()
		}
		if rerr != nil {
			errs = append(errs, RowError{Line: line, Err: rerr.Error()})
			continue
		}
		rw.line = line
		rows = append(rows, rw)
	}
	return rows, errs, nil
}

// separateKeys refuses a pair whose two sides are one account, and files
// the passwords by port when both sides have the same user on the same host.
func (rw *row) separateKeys() error {
	if !strings.EqualFold(rw.src.Username, rw.dst.Username) || !strings.EqualFold(rw.src.Host, rw.dst.Host) {
		return nil
	}
	if rw.src.Port == rw.dst.Port {
		return errors.New("the source and the target are the same account")
	}
	rw.src.PortKey, rw.dst.PortKey = true, true
	return nil
}

// sniffComma picks the separator of the first line that is neither blank
// nor a comment: the most frequent of ';', ',' and tab outside quotes
// (';' on a tie, as in imapsync's files).
func sniffComma(data []byte) rune {
	for _, line := range strings.Split(string(data), "\n") {
		t := strings.TrimSpace(line)
		if t == "" || strings.HasPrefix(t, "#") {
			continue
		}
		counts := map[rune]int{}
		quoted := false
		for _, c := range line {
			switch {
			case c == '"':
				quoted = !quoted
			case !quoted && (c == ';' || c == ',' || c == '\t'):
				counts[c]++
			}
		}
		best := ';'
		for _, c := range []rune{',', '\t'} {
			if counts[c] > counts[best] {
				best = c
			}
		}
		return best
	}
	return ';'
}

func blank(rec []string) bool {
	for _, f := range rec {
		if strings.TrimSpace(f) != "" {
			return strings.HasPrefix(strings.TrimSpace(rec[0]), "#")
		}
	}
	return true
}

func spansLines(rec []string) bool {
	for _, f := range rec {
		if strings.ContainsAny(f, "\r\n") {
			return true
		}
	}
	return false
}

// Column fields.
const (
	colEmail    = "email"
	colHost     = "host"
	colPort     = "port"
	colSecurity = "security"
	colUsername = "username"
	colPassword = "password"
)

// sidePrefixes and fieldNames are the accepted spellings of header columns,
// after lower-casing and turning spaces, dashes and dots into underscores:
// a side prefix and a field ("source_host", "dst_user", "new_password"),
// or a field and the side's number as imapsync writes them ("host1", "user2").
var sidePrefixes = map[string]Which{
	"source": Source, "src": Source, "from": Source, "old": Source, "origin": Source,
	"target": Target, "dst": Target, "dest": Target, "destination": Target, "to": Target, "new": Target,
}

var fieldNames = map[string]string{
	"email": colEmail, "e_mail": colEmail, "mail": colEmail, "address": colEmail, "email_address": colEmail,
	"host": colHost, "hostname": colHost, "server": colHost, "imap_host": colHost, "imap_server": colHost, "imap": colHost,
	"port": colPort, "imap_port": colPort,
	"security": colSecurity, "ssl": colSecurity, "tls": colSecurity, "encryption": colSecurity,
	"username": colUsername, "user": colUsername, "user_name": colUsername, "login": colUsername, "login_name": colUsername,
	"password": colPassword, "pass": colPassword, "passwd": colPassword, "pw": colPassword, "pwd": colPassword,
}

// column maps a header cell to "source.host" and the like, or "".
func column(cell string) string {
	n := strings.ToLower(strings.TrimSpace(cell))
	n = strings.NewReplacer(" ", "_", "-", "_", ".", "_").Replace(n)
	if n == "" {
		return ""
	}
	if d := n[len(n)-1]; d == '1' || d == '2' {
		f := strings.TrimSuffix(n[:len(n)-1], "_")
		if c, ok := fieldNames[f]; ok {
			w := Source
			if d == '2' {
				w = Target
			}
			return w.String() + "." + c
		}
	}
	for p, w := range sidePrefixes {
		if rest, ok := strings.CutPrefix(n, p+"_"); ok {
			if c, ok := fieldNames[rest]; ok {
				return w.String() + "." + c
			}
		}
	}
	return ""
}

// headerOf returns the column positions if rec is a header row: at least
// two known columns, among them a host for each side.
func headerOf(rec []string) map[string]int {
	h := map[string]int{}
	for i, cell := range rec {
		if c := column(cell); c != "" {
			if _, dup := h[c]; !dup {
				h[c] = i
			}
		}
	}
	_, sh := h["source.host"]
	_, th := h["target.host"]
	_, se := h["source.email"]
	_, te := h["target.email"]
	if (sh || se) && (th || te) {
		return h
	}
	return nil
}

func headerRow(rec []string, h map[string]int) (row, error) {
	get := func(w Which, field string) (string, bool) {
		i, ok := h[w.String()+"."+field]
		if !ok || i >= len(rec) {
			return "", false
		}
		if field == colPassword {
			return rec[i], rec[i] != ""
		}
		v := strings.TrimSpace(rec[i])
		return v, v != ""
	}
	var rw row
	for _, w := range []Which{Source, Target} {
		var s Side
		s.Email, _ = get(w, colEmail)
		s.Host, _ = get(w, colHost)
		s.Username, _ = get(w, colUsername)
		if s.Username == "" {
			s.Username = s.Email
		}
		if s.Host == "" {
			return row{}, fmt.Errorf("the %s server (host) is missing", w)
		}
		if h, p, err := net.SplitHostPort(s.Host); err == nil {
			s.Host = h
			if _, given := get(w, colPort); !given {
				n, err := strconv.Atoi(p)
				if err != nil {
					return row{}, fmt.Errorf("the %s port %q is not a number", w, p)
				}
				s.Port = n
			}
		}
		port, _ := get(w, colPort)
		sec, _ := get(w, colSecurity)
		if err := s.setTransport(port, sec); err != nil {
			return row{}, fmt.Errorf("%s: %w", w, err)
		}
		if err := s.validate(w); err != nil {
			return row{}, err
		}
		pw, has := get(w, colPassword)
		if w == Source {
			rw.src, rw.srcPW, rw.srcHasPW = s, pw, has
		} else {
			rw.dst, rw.dstPW, rw.dstHasPW = s, pw, has
		}
	}
	return rw, nil
}

// imapsyncRow reads host1;user1;password1;host2;user2;password2[;...].
func imapsyncRow(rec []string) (row, error) {
	if len(rec) < 5 {
		return row{}, fmt.Errorf("%d fields; want host1;user1;password1;host2;user2;password2 (or a header line naming the columns)", len(rec))
	}
	var rw row
	for _, w := range []Which{Source, Target} {
		f := rec[3*int(w):]
		var s Side
		s.Host = strings.TrimSpace(f[0])
		s.Username = strings.TrimSpace(f[1])
		port := ""
		if h, p, err := net.SplitHostPort(s.Host); err == nil {
			s.Host, port = h, p
		}
		if err := s.setTransport(port, ""); err != nil {
			return row{}, fmt.Errorf("%s: %w", w, err)
		}
		if strings.Contains(s.Username, "@") {
			s.Email = s.Username
		}
		if err := s.validate(w); err != nil {
			return row{}, err
		}
		pw := ""
		if len(f) > 2 {
			pw = f[2]
		}
		if w == Source {
			rw.src, rw.srcPW, rw.srcHasPW = s, pw, pw != ""
		} else {
			rw.dst, rw.dstPW, rw.dstHasPW = s, pw, pw != ""
		}
	}
	return rw, nil
}

// setTransport fills Port and Security from the text of a port and a
// security column. With neither: implicit TLS on 993. A port alone: 143
// means STARTTLS, any other implicit TLS.
func (s *Side) setTransport(port, sec string) error {
	if sec != "" {
		v, err := parseSecurity(sec)
		if err != nil {
			return err
		}
		s.Security = v
	}
	if port != "" {
		n, err := strconv.Atoi(port)
		if err != nil || n < 1 || n > 65535 {
			return fmt.Errorf("port %q is not valid: use 993 for TLS or 143 for STARTTLS", port)
		}
		s.Port = n
	}
	if s.Security == "" {
		s.Security = account.SecurityTLS
		if s.Port == 143 {
			s.Security = account.SecurityStartTLS
		}
	}
	if s.Port == 0 {
		s.Port = s.Security.DefaultPort()
	}
	return nil
}

// parseSecurity reads the usual ways of writing the connection security.
func parseSecurity(v string) (account.Security, error) {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "tls", "ssl", "ssl/tls", "imaps", "implicit", "implicit_tls", "implicit-tls", "yes", "true", "on", "1":
		return account.SecurityTLS, nil
	case "starttls", "start_tls", "start-tls", "tls-starttls":
		return account.SecurityStartTLS, nil
	case "none", "plain", "no", "false", "off", "0", "cleartext":
		return account.SecurityNone, nil
	}
	return "", fmt.Errorf("unknown security %q: use tls (port 993), starttls (port 143) or none", v)
}

// validate checks a side as an account would be checked, naming the side.
func (s *Side) validate(w Which) error {
	if s.Username == "" {
		return fmt.Errorf("the %s user name (or email) is missing", w)
	}
	if err := s.Account().Validate(); err != nil {
		var fe *failure.Error
		if errors.As(err, &fe) && fe.Err != nil {
			err = fe.Err
		}
		return fmt.Errorf("%s: %w", w, err)
	}
	return nil
}
