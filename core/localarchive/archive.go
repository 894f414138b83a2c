package localarchive

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"mime"
	"net/mail"
	"strconv"
	"strings"
	"time"

	"mailmover/core/failure"
	"mailmover/core/mbox"
	"mailmover/core/store"
)

// Folder formats.
const (
	// FormatMbox is one mbox file (mboxo or mboxrd, LF or CRLF).
	FormatMbox = "mbox"
	// FormatMaildir is a directory with cur/ (and maybe new/), one file per message.
	FormatMaildir = "maildir"
	// FormatEMLX is an Apple Mail .mbox bundle of .emlx files.
	FormatEMLX = "emlx"
	// FormatEML is a directory of .eml files.
	FormatEML = "eml"
)

// Folder is one folder of a local archive.
type Folder struct {
	// Path is the folder's place in the archive, e.g. {"Local Folders",
	// "Inbox", "Receipts"}; it is what people read and where the folder
	// goes on the target.
	Path []string
	// Source is the file (FormatMbox) or directory the messages are read from.
	Source string
	// Format is one of the Format constants.
	Format string
	// SpecialUse is a guess from the folder's name (RFC 6154 attribute, e.g.
	// `\Sent` for Thunderbird's "Sent"), or "".
	SpecialUse string
}

// Name returns the folder's path joined with "/".
func (f Folder) Name() string { return strings.Join(f.Path, "/") }

// Message is one message of a local folder.
type Message struct {
	// MessageInfo holds the flags, INTERNALDATE, exact Size of Body,
	// Message-ID (without angle brackets; HeaderHash where there is none),
	// and From, Subject and Date for people. UID is the message's position
	// in the folder, counting from 1; it changes if the file changes.
	store.MessageInfo
	// Skipped, if not "", says why the message must not be uploaded
	// (expunged in Thunderbird, deleted in Apple Mail, ...).
	Skipped string
	// Warning, if not "", is something to tell the user about a message
	// that is uploaded anyway (a POP message Thunderbird kept only in part).
	Warning string
	// Origin says where the message is: its file, and its byte offset in an mbox.
	Origin string
	// Body reads the message (see the package documentation). It is valid
	// until the next message is yielded.
	Body io.Reader
}

// Messages returns an iterator over the messages of a folder, streamed:
// each message is read from disk while its Body is read. A broken part of a
// file is yielded as an error (naming the file and byte offset) and the
// iteration goes on; an error that stops the folder (it cannot be opened,
// the context is cancelled) is yielded last.
func Messages(ctx context.Context, folder Folder) iter.Seq2[*Message, error] {
	switch folder.Format {
	case FormatMbox:
		return mboxMessages(ctx, folder)
	case FormatMaildir:
		return maildirMessages(ctx, folder)
	case FormatEMLX:
		return emlxMessages(ctx, folder)
	case FormatEML:
		return emlMessages(ctx, folder)
	}
	return func(yield func(*Message, error) bool) {
		yield(nil, failure.Newf(failure.Config, failure.ScopeFolder, "folder %s: unknown format %q", folder.Name(), folder.Format))
	}
}

// malformed returns the error for a broken part of a file.
func malformed(file string, err error) error {
	return failure.New(failure.Malformed, failure.ScopeMessage, "read "+file, err)
}

// malformedAt returns the error for a broken part of a file at an offset.
func malformedAt(file string, off int64, format string, args ...any) error {
	return failure.New(failure.Malformed, failure.ScopeMessage, "read "+file,
		fmt.Errorf("byte offset %d: %s", off, fmt.Sprintf(format, args...)))
}

func localErr(op string, err error) error {
	return failure.New(failure.Local, failure.ScopeFolder, op, err)
}

// maxHeader is the most header bytes read to find flags and identity. A
// longer header is passed on untouched.
const maxHeader = 1 << 20

// rawMessage is one message found in a file, before its header is read.
type rawMessage struct {
	// open returns a fresh reader of the message's bytes as stored.
	open func() io.Reader
	// size and bareLF are the stored size and the number of LFs without a
	// CR before them, or size -1 if they must be counted.
	size, bareLF int64
	// date is the INTERNALDATE found outside the message, or zero.
	date time.Time
	// fallback is the date used without one and without a Date header.
	fallback time.Time
	flags    []string
	skipped  string
	warning  string
	origin   string
}

// builder turns raw messages into Messages, reusing its buffers.
type builder struct {
	br  *bufio.Reader
	crl crlfReader
	uid uint32
}

func newBuilder() *builder {
	return &builder{br: bufio.NewReaderSize(nil, mbox.BufferSize)}
}

// build reads the header of a raw message and returns the Message, whose
// Body reads the rest of it.
func (b *builder) build(raw rawMessage) (*Message, error) {
	if raw.size < 0 {
		var c lfCounter
		if _, err := io.Copy(&c, raw.open()); err != nil {
			return nil, err
		}
		raw.size, raw.bareLF = c.n, c.bare
	}
	b.crl.reset(raw.open())
	b.br.Reset(&b.crl)
	h, err := readHeader(b.br)
	if err != nil {
		return nil, err
	}
	b.uid++
	m := &Message{Origin: raw.origin, Skipped: raw.skipped, Warning: raw.warning}
	m.UID = b.uid
	m.Size = raw.size + raw.bareLF - int64(len(h.raw)-len(h.out))
	m.MessageID = h.messageID
	if m.MessageID == "" {
		m.HeaderHash = store.HashHeader(h.out)
	}
	m.From, m.Subject, m.Date = h.from, h.subject, h.date
	m.InternalDate = raw.date
	if m.InternalDate.IsZero() {
		m.InternalDate = h.date
	}
	if m.InternalDate.IsZero() {
		m.InternalDate = raw.fallback
	}
	m.Flags = append(m.Flags, raw.flags...)
	if h.hasMozilla {
		flags, skipped, warning := mozillaFlags(h.mozStatus, h.mozStatus2)
		m.Flags = append(m.Flags, flags...)
		if m.Skipped == "" {
			m.Skipped = skipped
		}
		if warning != "" {
			m.Warning = warning
		}
	}
	m.Flags = append(m.Flags, h.keywords...)
	m.Flags = store.SyncFlags(m.Flags)
	m.Body = io.MultiReader(bytes.NewReader(h.out), b.br)
	return m, nil
}

// Thunderbird message flags (nsMsgMessageFlags.idl).
const (
	mozRead        = 0x1
	mozReplied     = 0x2
	mozMarked      = 0x4
	mozExpunged    = 0x8
	mozPartial     = 0x400
	mozForwarded   = 0x1000
	mozIMAPDeleted = 0x200000
)

// mozillaFlags maps X-Mozilla-Status and X-Mozilla-Status2 to IMAP flags.
func mozillaFlags(status, status2 uint32) (flags []string, skipped, warning string) {
	f := status&0xffff | status2
	if f&mozRead != 0 {
		flags = append(flags, `\Seen`)
	}
	if f&mozReplied != 0 {
		flags = append(flags, `\Answered`)
	}
	if f&mozMarked != 0 {
		flags = append(flags, `\Flagged`)
	}
	if f&mozForwarded != 0 {
		flags = append(flags, "$Forwarded")
	}
	switch {
	case f&mozExpunged != 0:
		skipped = "deleted in Thunderbird (expunged, waiting for the folder to be compacted)"
	case f&mozIMAPDeleted != 0:
		skipped = "marked deleted on the IMAP server (Thunderbird IMAPDeleted)"
	}
	if f&mozPartial != 0 {
		warning = "Thunderbird kept only part of this POP message; the rest stayed on the POP server"
	}
	return flags, skipped, warning
}

// header is what readHeader found in a header block.
type header struct {
	raw        []byte // the header block read, blank line included
	out        []byte // raw without the X-Mozilla-* fields
	messageID  string
	from       string
	subject    string
	date       time.Time
	hasMozilla bool
	mozStatus  uint32
	mozStatus2 uint32
	keywords   []string
}

// readHeader reads the header block (up to and including the blank line)
// from br and parses the fields that matter. A header longer than
// maxHeader, or without a blank line, is read as far as it goes.
func readHeader(br *bufio.Reader) (*header, error) {
	h := &header{}
	var lines [][]byte
	for len(h.raw) < maxHeader {
		line, err := br.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			line = bytes.Clone(line) // ReadSlice's buffer is reused by the next read
		}
		for errors.Is(err, bufio.ErrBufferFull) && len(h.raw)+len(line) < maxHeader {
			var more []byte
			more, err = br.ReadSlice('\n')
			line = append(line, more...)
		}
		if len(line) > 0 {
			start := len(h.raw)
			h.raw = append(h.raw, line...)
			lines = append(lines, h.raw[start:])
		}
		if err != nil && !errors.Is(err, bufio.ErrBufferFull) {
			if errors.Is(err, io.EOF) {
				break
			}
			return nil, err
		}
		if len(bytes.TrimRight(line, "\r\n")) == 0 && len(line) > 0 && line[len(line)-1] == '\n' {
			break // the blank line
		}
	}
	// Group lines into fields (a field and its continuation lines).
	var dec mime.WordDecoder
	for i := 0; i < len(lines); {
		j := i + 1
		for j < len(lines) && len(lines[j]) > 0 && (lines[j][0] == ' ' || lines[j][0] == '\t') {
			j++
		}
		field := bytes.Join(lines[i:j], nil)
		name, value, ok := bytes.Cut(field, []byte(":"))
		keep := true
		if ok && len(bytes.TrimRight(field, "\r\n")) > 0 {
			v := strings.TrimSpace(unfold(string(value)))
			switch strings.ToLower(strings.TrimSpace(string(name))) {
			case "message-id":
				if h.messageID == "" {
					h.messageID = messageID(v)
				}
			case "from":
				if h.from == "" {
					h.from = decodeWords(&dec, v)
				}
			case "subject":
				if h.subject == "" {
					h.subject = decodeWords(&dec, v)
				}
			case "date":
				if t, err := mail.ParseDate(v); err == nil && h.date.IsZero() {
					h.date = t
				}
			case "x-mozilla-status":
				h.hasMozilla, keep = true, false
				n, _ := strconv.ParseUint(v, 16, 32)
				h.mozStatus = uint32(n)
			case "x-mozilla-status2":
				h.hasMozilla, keep = true, false
				n, _ := strconv.ParseUint(v, 16, 32)
				h.mozStatus2 = uint32(n)
			case "x-mozilla-keys":
				keep = false
				for _, k := range strings.Fields(v) {
					if validKeyword(k) {
						h.keywords = append(h.keywords, k)
					}
				}
			}
		}
		if keep || !bytes.HasSuffix(field, []byte("\n")) {
			// A field cut short by maxHeader is passed on whole.
			h.out = append(h.out, field...)
		}
		i = j
	}
	return h, nil
}

func unfold(s string) string {
	return strings.NewReplacer("\r\n", "", "\n", "").Replace(s)
}

func decodeWords(dec *mime.WordDecoder, s string) string {
	if d, err := dec.DecodeHeader(s); err == nil {
		return d
	}
	return s
}

// messageID returns the first <...> of a Message-ID field without its
// brackets, or the trimmed value.
func messageID(v string) string {
	if i := strings.IndexByte(v, '<'); i >= 0 {
		if j := strings.IndexByte(v[i:], '>'); j > 0 {
			return v[i+1 : i+j]
		}
	}
	return strings.Trim(v, "<> ")
}

// validKeyword reports whether k can be an IMAP keyword (RFC 9051 flag-keyword: an atom).
func validKeyword(k string) bool {
	if k == "" || strings.HasPrefix(k, `\`) {
		return false
	}
	for i := 0; i < len(k); i++ {
		c := k[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`(){%*"\]`, c) >= 0 {
			return false
		}
	}
	return true
}

// lfCounter counts bytes and LFs without a CR before them.
type lfCounter struct {
	n, bare int64
	lastCR  bool
}

func (c *lfCounter) Write(p []byte) (int, error) {
	for i := 0; ; {
		j := bytes.IndexByte(p[i:], '\n')
		if j < 0 {
			break
		}
		j += i
		if j == 0 && !c.lastCR || j > 0 && p[j-1] != '\r' {
			c.bare++
		}
		i = j + 1
	}
	if len(p) > 0 {
		c.lastCR = p[len(p)-1] == '\r'
		c.n += int64(len(p))
	}
	return len(p), nil
}

// crlfReader turns bare LFs into CRLF.
type crlfReader struct {
	r       io.Reader
	lastCR  bool
	pending bool // a '\n' still to emit after an inserted '\r'
	buf     []byte
	in      []byte
	err     error
}

func (c *crlfReader) reset(r io.Reader) {
	if c.buf == nil {
		c.buf = make([]byte, mbox.BufferSize)
	}
	*c = crlfReader{r: r, buf: c.buf}
}

func (c *crlfReader) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		if c.pending {
			p[n] = '\n'
			n++
			c.pending = false
			c.lastCR = false
			continue
		}
		if len(c.in) == 0 {
			if c.err != nil || n > 0 {
				break
			}
			m, err := c.r.Read(c.buf)
			c.in, c.err = c.buf[:m], err
			if m == 0 && err == nil {
				return 0, nil
			}
			continue
		}
		j := bytes.IndexByte(c.in, '\n')
		if j < 0 {
			k := copy(p[n:], c.in)
			c.lastCR = c.in[k-1] == '\r'
			c.in = c.in[k:]
			n += k
			continue
		}
		if j == 0 {
			if c.lastCR {
				p[n] = '\n'
				n++
				c.lastCR = false
			} else {
				p[n] = '\r'
				n++
				c.pending = true
			}
			c.in = c.in[1:]
			continue
		}
		k := copy(p[n:], c.in[:j])
		c.lastCR = c.in[k-1] == '\r'
		c.in = c.in[k:]
		n += k
	}
	if n == 0 && c.err != nil && len(c.in) == 0 && !c.pending {
		return 0, c.err
	}
	return n, nil
}
