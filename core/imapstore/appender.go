package imapstore

import (
	"bufio"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"iter"
	"net"
	"strconv"
	"strings"

	"github.com/emersion/go-imap/v2"

	"mailmover/core/failure"
	"mailmover/core/store"
)

// Appender writes messages into one account over a connection of its own,
// with MULTIAPPEND (RFC 3502) where the server offers it: many messages in
// one APPEND command, so the server commits them in one transaction. go-imap's
// client sends one message per APPEND, so this small writer speaks the few
// commands it needs itself (LOGIN or AUTHENTICATE PLAIN, SELECT, APPEND,
// LOGOUT), with non-synchronizing literals (RFC 7888) where offered.
type Appender struct {
	cfg      *Config
	conn     interface{ Close() error }
	r        *bufio.Reader
	w        *bufio.Writer
	caps     map[string]bool
	tag      int
	selected string
	// permanent lists the flags the selected folder keeps; keywords beyond it
	// are kept only if it holds `\*`.
	permanent []string
}

// ErrNothingToAppend is returned by Append when the messages ran out before
// the first one: nothing was sent.
var ErrNothingToAppend = store.ErrNothingToAppend

// AppendResult says what became of an APPEND.
type AppendResult = store.AppendResult

// DialAppender connects and logs in for appending.
func DialAppender(ctx context.Context, cfg *Config) (*Appender, error) {
	raw, greeted, _, err := dialSecure(ctx, cfg)
	if err != nil {
		return nil, err
	}
	a := &Appender{cfg: cfg, conn: raw, r: bufio.NewReaderSize(raw, 16<<10), w: bufio.NewWriterSize(raw, 64<<10)}
	stop := context.AfterFunc(ctx, func() { raw.Close() })
	defer stop()
	fail := func(err error) (*Appender, error) {
		raw.Close()
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, Classify("log in to "+cfg.Addr(), err)
	}
	if !greeted {
		line, err := a.readLine()
		if err != nil {
			return fail(err)
		}
		if !strings.HasPrefix(line, "* OK") {
			return fail(fmt.Errorf("unexpected greeting %q", line))
		}
	}
	if err := a.capability(); err != nil {
		return fail(err)
	}
	var cmd string
	if cfg.Tokens != nil {
		return a.oauthLogin(ctx, fail)
	}
	if a.caps["AUTH=PLAIN"] && a.caps["SASL-IR"] {
		ir := base64.StdEncoding.EncodeToString([]byte("\x00" + cfg.Username + "\x00" + cfg.Password))
		cmd = "AUTHENTICATE PLAIN " + ir
	} else {
		cmd = "LOGIN " + quote(cfg.Username) + " " + quote(cfg.Password)
	}
	if _, err := a.simple(cmd); err != nil {
		var se *statusError
		if errors.As(err, &se) && se.typ == "NO" {
			return fail(failure.New(failure.Auth, failure.ScopeAccount, "", fmt.Errorf("the server refused the login for %s: %s", cfg.Username, se.text)))
		}
		return fail(err)
	}
	if err := a.capability(); err != nil {
		return fail(err)
	}
	return a, nil
}

// oauthLogin signs the appender in with an access token (refreshed once if refused).
func (a *Appender) oauthLogin(ctx context.Context, fail func(error) (*Appender, error)) (*Appender, error) {
	cfg := a.cfg
	mech := oauthMechanism(hasCap(a.caps))
	if mech == "" || !a.caps["SASL-IR"] {
		return fail(failure.Newf(failure.Auth, failure.ScopeAccount, "the server offers no OAuth sign-in with an initial response"))
	}
	port := 0
	if _, p, e := net.SplitHostPort(cfg.Addr()); e == nil {
		port, _ = strconv.Atoi(p)
	}
	var err error
	for i, get := range []func(context.Context) (string, error){cfg.Tokens.Token, cfg.Tokens.Refresh} {
		var tok string
		if tok, err = get(ctx); err != nil {
			return fail(tokenErr(err))
		}
		if err = a.authenticate(mech, mech+" "+oauthInitial(mech, cfg.Username, tok, cfg.Host, port)); err == nil {
			break
		}
		var se *statusError
		if !errors.As(err, &se) || se.typ != "NO" || i == 1 {
			if errors.As(err, &se) && se.typ == "NO" {
				return fail(failure.New(failure.Auth, failure.ScopeAccount, "", fmt.Errorf("the server refused the sign-in for %s: %s", cfg.Username, se.text)))
			}
			return fail(err)
		}
	}
	if err := a.capability(); err != nil {
		return fail(err)
	}
	return a, nil
}

// authenticate runs AUTHENTICATE with an initial response, answering any
// challenge (an error report in XOAUTH2) with an empty line.
func (a *Appender) authenticate(mech, args string) error {
	// XOAUTH2 ends an error exchange with an empty response, OAUTHBEARER with ^A (RFC 7628).
	answer := "\r\n"
	if mech == "OAUTHBEARER" {
		answer = "AQ==\r\n"
	}
	a.tag++
	tag := "A" + strconv.Itoa(a.tag)
	if _, err := a.w.WriteString(tag + " AUTHENTICATE " + args + "\r\n"); err != nil {
		return err
	}
	if err := a.w.Flush(); err != nil {
		return err
	}
	for {
		line, err := a.readLine()
		if err != nil {
			return err
		}
		switch {
		case strings.HasPrefix(line, "+"):
			if _, err := a.w.WriteString(answer); err != nil {
				return err
			}
			if err := a.w.Flush(); err != nil {
				return err
			}
		case strings.HasPrefix(line, tag+" "):
			return parseStatus(line[len(tag)+1:])
		}
	}
}

// MultiAppend reports whether several messages go in one command.
func (a *Appender) MultiAppend() bool { return a.caps["MULTIAPPEND"] }

// UIDPlus reports whether the server returns the new messages' UIDs.
func (a *Appender) UIDPlus() bool { return a.caps["UIDPLUS"] }

// Close logs out and closes the connection.
func (a *Appender) Close() error {
	if a == nil {
		return nil
	}
	a.tag++
	fmt.Fprintf(a.w, "A%d LOGOUT\r\n", a.tag)
	a.w.Flush()
	return a.conn.Close()
}

// Select opens the folder messages will be appended to; the server then
// saves appends with less work, and tells which flags it keeps.
func (a *Appender) Select(ctx context.Context, mailbox string) error {
	if a.selected == mailbox {
		return nil
	}
	stop := context.AfterFunc(ctx, func() { a.conn.Close() })
	defer stop()
	untagged, err := a.simple("SELECT " + quote(EncodeMailbox(mailbox)))
	if err != nil {
		a.selected = ""
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return Classify("open folder "+mailbox, err)
	}
	a.selected = mailbox
	a.permanent = nil
	for _, l := range untagged {
		if i := strings.Index(strings.ToUpper(l), "[PERMANENTFLAGS ("); i >= 0 {
			rest := l[i+len("[PERMANENTFLAGS ("):]
			if j := strings.IndexByte(rest, ')'); j >= 0 {
				a.permanent = strings.Fields(rest[:j])
			}
		}
	}
	return nil
}

// keepable splits flags into those the selected folder keeps and those it drops.
func (a *Appender) keepable(flags []string) (keep, drop []string) {
	anyKeyword := a.permanent == nil
	for _, p := range a.permanent {
		if p == `\*` {
			anyKeyword = true
		}
	}
	for _, f := range flags {
		switch {
		case !validFlag(f):
			drop = append(drop, f)
		case strings.HasPrefix(f, `\`) || anyKeyword:
			keep = append(keep, f)
		default:
			found := false
			for _, p := range a.permanent {
				if strings.EqualFold(p, f) {
					found = true
				}
			}
			if found {
				keep = append(keep, f)
			} else {
				drop = append(drop, f)
			}
		}
	}
	return keep, drop
}

// validFlag reports whether f can be sent as a flag (RFC 9051 flag-keyword is an atom).
func validFlag(f string) bool {
	if f == "" {
		return false
	}
	for i, c := range []byte(f) {
		if c <= 0x20 || c >= 0x7f || strings.IndexByte(`(){%*"]`, c) >= 0 || (c == '\\' && i > 0) {
			return false
		}
	}
	return true
}

// Append sends the messages in one APPEND command (several only if the
// server offers MULTIAPPEND; callers give one at a time otherwise), streaming
// each body from its reader. Each message's Size must be the exact number of
// bytes its Body yields. If the server refuses the command, none of its
// messages is saved (RFC 3502 section 6.3.11: the command is atomic).
func (a *Appender) Append(ctx context.Context, mailbox string, msgs iter.Seq2[*store.Message, error]) (AppendResult, error) {
	var res AppendResult
	stop := context.AfterFunc(ctx, func() { a.conn.Close() })
	defer stop()
	fail := func(err error) (AppendResult, error) {
		a.selected = ""
		a.conn.Close()
		if ctx.Err() != nil {
			return res, ctx.Err()
		}
		return res, Classify("save messages in "+mailbox, err)
	}
	next, stopPull := iter.Pull2(msgs)
	defer stopPull()
	first, firstErr, ok := next()
	if !ok {
		return res, ErrNothingToAppend
	}
	if firstErr != nil {
		return res, firstErr
	}
	a.tag++
	tag := "A" + strconv.Itoa(a.tag)
	if _, err := fmt.Fprintf(a.w, "%s APPEND %s", tag, quote(EncodeMailbox(mailbox))); err != nil {
		return fail(err)
	}
	var srcErr error
	for m, err := first, firstErr; ; m, err, ok = next() {
		if !ok {
			break
		}
		if err != nil {
			srcErr = err
			break
		}
		if res.Count > 0 && !a.MultiAppend() {
			srcErr = errors.New("imapstore: several messages in one APPEND without MULTIAPPEND")
			break
		}
		keep, drop := a.keepable(m.Flags)
		if len(drop) > 0 {
			if res.Dropped == nil {
				res.Dropped = map[int][]string{}
			}
			res.Dropped[res.Count] = drop
		}
		a.w.WriteString(" (" + strings.Join(keep, " ") + ")")
		if !m.InternalDate.IsZero() {
			a.w.WriteString(` "` + m.InternalDate.Format(timeFormat) + `"`)
		}
		if err := a.literal(tag, m.Size); err != nil {
			return fail(err)
		}
		n, err := io.CopyN(a.w, m.Body, m.Size)
		res.Bytes += n
		if err != nil {
			// The source failed mid-message: the literal cannot be completed
			// honestly, so the connection is abandoned and nothing is saved.
			a.conn.Close()
			a.selected = ""
			if ctx.Err() != nil {
				return res, ctx.Err()
			}
			return res, Classify("read message from the source", err)
		}
		res.Count++
	}
	if srcErr != nil {
		a.conn.Close()
		a.selected = ""
		if ctx.Err() != nil {
			return res, ctx.Err()
		}
		return res, srcErr
	}
	if _, err := a.w.WriteString("\r\n"); err != nil {
		return fail(err)
	}
	if err := a.w.Flush(); err != nil {
		return fail(err)
	}
	_, text, err := a.readTagged(tag)
	if err != nil {
		var se *statusError
		if errors.As(err, &se) {
			if ctx.Err() != nil {
				return res, ctx.Err()
			}
			return res, Classify("save messages in "+mailbox, se.asIMAPError())
		}
		return fail(err)
	}
	res.UIDValidity, res.UIDs = parseAppendUID(text)
	if res.UIDs != nil && len(res.UIDs) != res.Count {
		res.UIDs = nil
	}
	return res, nil
}

// appendInFlight bounds how many APPEND commands AppendEach keeps waiting
// for their answers.
const appendInFlight = 2

// AppendEach saves messages with an APPEND command each (for servers without
// MULTIAPPEND), sending each command before the answer to the one before has
// come (RFC 9051 section 5.5), so that the server finds the next message
// waiting when it has saved one. done is called with each message and its
// outcome, in order, once the server answered it: a nil error means the
// message is saved. A refused message does not stop the others; if done
// returns false no further message is sent, but the answers to those already
// sent are still read and reported. AppendEach returns an error when the
// connection or the source failed; the messages not yet answered then are
// not reported, and may or may not have been saved.
func (a *Appender) AppendEach(ctx context.Context, mailbox string, msgs iter.Seq2[*store.Message, error], done func(m *store.Message, res AppendResult, err error) bool) error {
	stop := context.AfterFunc(ctx, func() { a.conn.Close() })
	defer stop()
	fail := func(err error) error {
		a.selected = ""
		a.conn.Close()
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return Classify("save messages in "+mailbox, err)
	}
	type pending struct {
		tag string
		m   *store.Message
		res AppendResult
	}
	var queue []pending
	more := true
	// answer reads responses up to the next continuation request ("+"), if
	// want, or until the oldest command waiting is answered. It returns
	// whether a continuation came; for a command answered before its
	// continuation, it returns that answer.
	answer := func(want string) (cont bool, refusal error, err error) {
		for {
			line, err := a.readLine()
			if err != nil {
				return false, nil, err
			}
			switch {
			case strings.HasPrefix(line, "+"):
				if want != "" {
					return true, nil, nil
				}
			case strings.HasPrefix(line, "* BYE"):
				return false, nil, &statusError{typ: "BYE", text: strings.TrimSpace(line[len("* BYE"):])}
			case strings.HasPrefix(line, "*"):
			default:
				tag, rest, _ := strings.Cut(line, " ")
				if want != "" && tag == want {
					if err := parseStatus(rest); err != nil {
						return false, classifyStatus(ctx, mailbox, err), nil
					}
					return false, nil, errors.New("imapstore: APPEND answered before its message was sent")
				}
				if len(queue) == 0 || tag != queue[0].tag {
					return false, nil, fmt.Errorf("imapstore: unexpected answer %q", line)
				}
				p := queue[0]
				queue = queue[1:]
				serr := parseStatus(rest)
				if serr == nil {
					p.res.UIDValidity, p.res.UIDs = parseAppendUID(rest)
					if len(p.res.UIDs) != 1 {
						p.res.UIDs = nil
					}
				} else {
					serr = classifyStatus(ctx, mailbox, serr)
				}
				if !done(p.m, p.res, serr) {
					more = false
				}
				if want == "" {
					return false, nil, nil
				}
			}
		}
	}
	next, stopPull := iter.Pull2(msgs)
	defer stopPull()
	for more {
		m, srcErr, ok := next()
		if !ok {
			break
		}
		if srcErr != nil {
			// Nothing of this message was sent: the answers to the others
			// can still be read.
			for len(queue) > 0 {
				if _, _, err := answer(""); err != nil {
					return fail(err)
				}
			}
			return srcErr
		}
		for len(queue) >= appendInFlight {
			if _, _, err := answer(""); err != nil {
				return fail(err)
			}
		}
		if !more {
			break
		}
		a.tag++
		tag := "A" + strconv.Itoa(a.tag)
		p := pending{tag: tag, m: m, res: AppendResult{Count: 1, Bytes: m.Size}}
		keep, drop := a.keepable(m.Flags)
		if len(drop) > 0 {
			p.res.Dropped = map[int][]string{0: drop}
		}
		a.w.WriteString(tag + " APPEND " + quote(EncodeMailbox(mailbox)) + " (" + strings.Join(keep, " ") + ")")
		if !m.InternalDate.IsZero() {
			a.w.WriteString(` "` + m.InternalDate.Format(timeFormat) + `"`)
		}
		if a.caps["LITERAL+"] || (a.caps["LITERAL-"] && m.Size <= 4096) {
			if _, err := fmt.Fprintf(a.w, " {%d+}\r\n", m.Size); err != nil {
				return fail(err)
			}
		} else {
			if _, err := fmt.Fprintf(a.w, " {%d}\r\n", m.Size); err != nil {
				return fail(err)
			}
			if err := a.w.Flush(); err != nil {
				return fail(err)
			}
			cont, refusal, err := answer(tag)
			if err != nil {
				return fail(err)
			}
			if !cont {
				// Refused before its bytes were sent (too big, say).
				if !done(m, AppendResult{}, refusal) {
					more = false
				}
				continue
			}
		}
		if _, err := io.CopyN(a.w, m.Body, m.Size); err != nil {
			// The source failed mid-message: the literal cannot be completed
			// honestly, so the connection is abandoned and nothing more is
			// known of the messages waiting for their answers.
			a.conn.Close()
			a.selected = ""
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return Classify("read message from the source", err)
		}
		if _, err := a.w.WriteString("\r\n"); err != nil {
			return fail(err)
		}
		if err := a.w.Flush(); err != nil {
			return fail(err)
		}
		queue = append(queue, p)
	}
	for len(queue) > 0 {
		if _, _, err := answer(""); err != nil {
			return fail(err)
		}
	}
	return nil
}

// classifyStatus turns a server's refusal of a command into a classified error.
func classifyStatus(ctx context.Context, mailbox string, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	var se *statusError
	if errors.As(err, &se) {
		return Classify("save messages in "+mailbox, se.asIMAPError())
	}
	return Classify("save messages in "+mailbox, err)
}

// literal writes a literal's prefix, waiting for the server's go-ahead unless
// non-synchronizing literals are allowed (RFC 7888).
func (a *Appender) literal(tag string, size int64) error {
	if a.caps["LITERAL+"] || (a.caps["LITERAL-"] && size <= 4096) {
		_, err := fmt.Fprintf(a.w, " {%d+}\r\n", size)
		return err
	}
	if _, err := fmt.Fprintf(a.w, " {%d}\r\n", size); err != nil {
		return err
	}
	if err := a.w.Flush(); err != nil {
		return err
	}
	for {
		line, err := a.readLine()
		if err != nil {
			return err
		}
		if strings.HasPrefix(line, "+") {
			return nil
		}
		if strings.HasPrefix(line, tag+" ") {
			return parseStatus(line[len(tag)+1:])
		}
	}
}

func (a *Appender) capability() error {
	untagged, err := a.simple("CAPABILITY")
	if err != nil {
		return err
	}
	a.caps = map[string]bool{}
	for _, l := range untagged {
		if strings.HasPrefix(strings.ToUpper(l), "* CAPABILITY ") {
			for _, c := range strings.Fields(l[len("* CAPABILITY "):]) {
				a.caps[strings.ToUpper(c)] = true
			}
		}
	}
	return nil
}

// simple sends one command and returns the untagged lines before its OK.
func (a *Appender) simple(cmd string) ([]string, error) {
	a.tag++
	tag := "A" + strconv.Itoa(a.tag)
	if _, err := a.w.WriteString(tag + " " + cmd + "\r\n"); err != nil {
		return nil, err
	}
	if err := a.w.Flush(); err != nil {
		return nil, err
	}
	untagged, _, err := a.readTagged(tag)
	return untagged, err
}

// readTagged reads responses up to the tagged one, returning untagged lines
// and the tagged response text (after "OK ").
func (a *Appender) readTagged(tag string) ([]string, string, error) {
	var untagged []string
	for {
		line, err := a.readLine()
		if err != nil {
			return untagged, "", err
		}
		switch {
		case strings.HasPrefix(line, tag+" "):
			rest := line[len(tag)+1:]
			if err := parseStatus(rest); err != nil {
				return untagged, "", err
			}
			return untagged, rest, nil
		case strings.HasPrefix(line, "* BYE"):
			return untagged, "", &statusError{typ: "BYE", text: strings.TrimSpace(line[len("* BYE"):])}
		case strings.HasPrefix(line, "*"):
			untagged = append(untagged, line)
		}
	}
}

// readLine reads one response line, skipping over any literals in it.
func (a *Appender) readLine() (string, error) {
	var sb strings.Builder
	for {
		l, err := a.r.ReadString('\n')
		if err != nil {
			return "", err
		}
		l = strings.TrimRight(l, "\r\n")
		if sb.Len() > 1<<20 {
			return "", errors.New("response line too long")
		}
		// A literal at the end of the line: {n}
		if strings.HasSuffix(l, "}") {
			if i := strings.LastIndexByte(l, '{'); i >= 0 {
				if n, err := strconv.ParseInt(strings.TrimSuffix(l[i+1:len(l)-1], "+"), 10, 64); err == nil {
					sb.WriteString(l[:i])
					if _, err := io.CopyN(io.Discard, a.r, n); err != nil {
						return "", err
					}
					continue
				}
			}
		}
		sb.WriteString(l)
		return sb.String(), nil
	}
}

// statusError is a NO, BAD or BYE reply.
type statusError struct {
	typ, code, text string
}

func (e *statusError) Error() string { return strings.ToLower(e.typ) + ": " + e.text }

// asIMAPError converts the reply into go-imap's error type, so that Classify
// treats both connections alike.
func (e *statusError) asIMAPError() error {
	typ := imap.StatusResponseTypeNo
	switch e.typ {
	case "BAD":
		typ = imap.StatusResponseTypeBad
	case "BYE":
		typ = imap.StatusResponseTypeBye
	}
	return &imap.Error{Type: typ, Code: imap.ResponseCode(e.code), Text: e.text}
}

func parseStatus(rest string) error {
	typ, text, _ := strings.Cut(rest, " ")
	typ = strings.ToUpper(typ)
	if typ == "OK" {
		return nil
	}
	se := &statusError{typ: typ, text: text}
	if strings.HasPrefix(text, "[") {
		if j := strings.IndexByte(text, ']'); j > 0 {
			se.code, _, _ = strings.Cut(text[1:j], " ")
			se.code = strings.ToUpper(se.code)
			se.text = strings.TrimSpace(text[j+1:])
		}
	}
	return se
}

func parseAppendUID(text string) (uint32, []uint32) {
	up := strings.ToUpper(text)
	i := strings.Index(up, "[APPENDUID ")
	if i < 0 {
		return 0, nil
	}
	rest := text[i+len("[APPENDUID "):]
	j := strings.IndexByte(rest, ']')
	if j < 0 {
		return 0, nil
	}
	f := strings.Fields(rest[:j])
	if len(f) != 2 {
		return 0, nil
	}
	v, err := strconv.ParseUint(f[0], 10, 32)
	if err != nil {
		return 0, nil
	}
	var uids []uint32
	for _, part := range strings.Split(f[1], ",") {
		lo, hi, isRange := strings.Cut(part, ":")
		a, err := strconv.ParseUint(lo, 10, 32)
		if err != nil {
			return 0, nil
		}
		b := a
		if isRange {
			if b, err = strconv.ParseUint(hi, 10, 32); err != nil {
				return 0, nil
			}
		}
		if b < a {
			a, b = b, a
		}
		for u := a; u <= b; u++ {
			uids = append(uids, uint32(u))
		}
	}
	return uint32(v), uids
}

// quote makes an IMAP quoted string, or a literal-free string of it.
func quote(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}

// timeFormat is the INTERNALDATE format of APPEND (RFC 9051 date-time).
const timeFormat = "_2-Jan-2006 15:04:05 -0700"
