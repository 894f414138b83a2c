package imaptest

import (
	"bufio"
	"bytes"
	"net"
	"regexp"
	"strconv"
	"strings"
	"sync"
)

// gmListener hands the server connections that speak Gmail's extensions.
type gmListener struct {
	net.Listener
	srv *Server
}

func (l gmListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &gmConn{Conn: c, srv: l.srv, r: bufio.NewReaderSize(c, 64<<10)}, nil
}

// gmConn sits between a client and imapserver and adds what imapserver
// cannot be taught through its Session interface:
//
//   - X-GM-EXT-1 in every capability list (imapserver builds the list from
//     fixed tables);
//   - the FETCH items X-GM-MSGID, X-GM-THRID and X-GM-LABELS (imapserver
//     answers unknown items with BAD): they are taken out of the command,
//     with UID added, before imapserver reads it, and put into each FETCH
//     response of that command after its UID, which imapmemserver always
//     writes first.
//
// Literals pass through untouched in both directions.
type gmConn struct {
	net.Conn
	srv *Server
	r   *bufio.Reader

	// Read side, used by the server's goroutine only.
	pending []byte
	rawIn   int64
	inCont  bool // the next line continues a command after a literal

	mu    sync.Mutex
	sess  *session
	queue []gmCmd // commands read, oldest first, until their tagged reply

	wmu    sync.Mutex
	wline  []byte
	rawOut int64
	outCnt bool
}

// gmCmd is a command the server has read and not yet finished.
type gmCmd struct {
	tag                  string
	msgID, thrID, labels bool
}

func (c gmCmd) wantsGM() bool { return c.msgID || c.thrID || c.labels }

var (
	literalSuffix = regexp.MustCompile(`\{(\d+)\+?\}\r?\n$`)
	commandLine   = regexp.MustCompile(`^([A-Za-z0-9._-]+) ([A-Za-z]+)`)
	fetchCommand  = regexp.MustCompile(`(?i)^(\S+) (UID )?FETCH (\S+) (.*?)(\r?\n)$`)
	gmItem        = regexp.MustCompile(`(?i)\s*\bX-GM-(MSGID|THRID|LABELS)\b`)
	uidItem       = regexp.MustCompile(`(?i)(^|[\s(])UID($|[\s)])`)
	fetchReply    = regexp.MustCompile(`^\* \d+ FETCH \(UID (\d+)`)
	taggedReply   = regexp.MustCompile(`^([A-Za-z0-9._-]+) (OK|NO|BAD)\b`)
)

func (c *gmConn) setSession(s *session) {
	c.mu.Lock()
	c.sess = s
	c.mu.Unlock()
}

func (c *gmConn) Read(b []byte) (int, error) {
	if len(c.pending) > 0 {
		n := copy(b, c.pending)
		c.pending = c.pending[n:]
		return n, nil
	}
	if c.rawIn > 0 {
		if int64(len(b)) > c.rawIn {
			b = b[:c.rawIn]
		}
		n, err := c.r.Read(b)
		c.rawIn -= int64(n)
		return n, err
	}
	line, err := c.r.ReadBytes('\n')
	if len(line) == 0 {
		return 0, err
	}
	if err == nil {
		cont := c.inCont
		c.inCont = false
		if m := literalSuffix.FindSubmatch(line); m != nil {
			n, _ := strconv.ParseInt(string(m[1]), 10, 64)
			c.rawIn, c.inCont = n, true
		}
		if !cont {
			line = c.inbound(line)
		}
	}
	n := copy(b, line)
	c.pending = line[n:]
	return n, nil
}

// inbound notes a command and strips the X-GM items from a FETCH.
func (c *gmConn) inbound(line []byte) []byte {
	m := commandLine.FindSubmatch(line)
	if m == nil {
		return line // a SASL response, DONE after IDLE
	}
	cmd := gmCmd{tag: string(m[1])}
	if f := fetchCommand.FindSubmatch(line); f != nil {
		items := string(f[4])
		for _, g := range gmItem.FindAllStringSubmatch(items, -1) {
			switch strings.ToUpper(g[1]) {
			case "MSGID":
				cmd.msgID = true
			case "THRID":
				cmd.thrID = true
			case "LABELS":
				cmd.labels = true
			}
		}
		if cmd.wantsGM() {
			items = strings.TrimSpace(gmItem.ReplaceAllString(items, ""))
			items = strings.ReplaceAll(strings.ReplaceAll(items, "( ", "("), " )", ")")
			switch {
			case items == "" || items == "()":
				items = "(UID)"
			case !strings.HasPrefix(items, "("):
				items = "(UID " + items + ")"
			case !uidItem.MatchString(items):
				items = "(UID " + items[1:]
			}
			line = []byte(string(f[1]) + " " + string(f[2]) + "FETCH " + string(f[3]) + " " + items + string(f[5]))
		}
	}
	c.mu.Lock()
	c.queue = append(c.queue, cmd)
	c.mu.Unlock()
	return line
}

func (c *gmConn) Write(p []byte) (int, error) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	total := len(p)
	out := make([]byte, 0, len(p)+64)
	for len(p) > 0 {
		if c.rawOut > 0 {
			n := int(min(int64(len(p)), c.rawOut))
			out = append(out, p[:n]...)
			p = p[n:]
			c.rawOut -= int64(n)
			continue
		}
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			c.wline = append(c.wline, p...)
			break
		}
		line := append(c.wline, p[:i+1]...)
		c.wline = nil
		p = p[i+1:]
		cont := c.outCnt
		c.outCnt = false
		if !cont {
			line = c.outbound(line)
		}
		if m := literalSuffix.FindSubmatch(line); m != nil {
			n, _ := strconv.ParseInt(string(m[1]), 10, 64)
			c.rawOut, c.outCnt = n, true
		}
		out = append(out, line...)
	}
	if _, err := c.Conn.Write(out); err != nil {
		return 0, err
	}
	return total, nil
}

// outbound adds X-GM-EXT-1 to capability lists and the X-GM items to FETCH
// replies, and retires finished commands.
func (c *gmConn) outbound(line []byte) []byte {
	s := string(line)
	if strings.HasPrefix(s, "* CAPABILITY ") {
		s = strings.TrimRight(s, "\r\n") + " X-GM-EXT-1\r\n"
	} else if i := strings.Index(s, "[CAPABILITY "); i >= 0 {
		if j := strings.IndexByte(s[i:], ']'); j >= 0 {
			s = s[:i+j] + " X-GM-EXT-1" + s[i+j:]
		}
	}
	if m := fetchReply.FindStringSubmatchIndex(s); m != nil {
		c.mu.Lock()
		var cmd gmCmd
		if len(c.queue) > 0 {
			cmd = c.queue[0]
		}
		sess := c.sess
		c.mu.Unlock()
		if cmd.wantsGM() && sess != nil {
			uid, _ := strconv.ParseUint(s[m[2]:m[3]], 10, 32)
			if a := sess.account(); a != nil {
				id, labels, _ := c.srv.gmailInfo(a, sess.selectedMailbox(), uint32(uid))
				s = s[:m[1]] + gmItems(cmd, id, labels) + s[m[1]:]
			}
		}
	}
	if m := taggedReply.FindStringSubmatch(s); m != nil {
		c.mu.Lock()
		for i, q := range c.queue {
			if q.tag == m[1] {
				c.queue = c.queue[i+1:]
				break
			}
		}
		c.mu.Unlock()
	}
	return []byte(s)
}

// gmItems formats the X-GM items a command asked for.
func gmItems(cmd gmCmd, id uint64, labels []string) string {
	var b strings.Builder
	if cmd.msgID {
		b.WriteString(" X-GM-MSGID " + strconv.FormatUint(id, 10))
	}
	if cmd.thrID {
		b.WriteString(" X-GM-THRID " + strconv.FormatUint(id, 10))
	}
	if cmd.labels {
		b.WriteString(" X-GM-LABELS (")
		for i, l := range labels {
			if i > 0 {
				b.WriteByte(' ')
			}
			b.WriteString(`"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(l) + `"`)
		}
		b.WriteByte(')')
	}
	return b.String()
}
