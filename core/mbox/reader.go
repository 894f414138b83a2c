package mbox

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"iter"
	"strings"
	"time"
)

// FormatError reports input that is not a well-formed mbox, at a byte offset
// of the file. The messages before and after it are still read.
type FormatError struct {
	// Offset is the byte offset of the broken part.
	Offset int64
	// Reason says what is wrong, in plain words.
	Reason string
}

func (e *FormatError) Error() string {
	return fmt.Sprintf("mbox: byte offset %d: %s", e.Offset, e.Reason)
}

// maxSeparator is how much of a separator line is kept; the rest is skipped.
const maxSeparator = 1024

// lookahead is how far the lenient reader looks past a "From " line for the
// header line that confirms a separator.
const lookahead = 4096

// Message is one message found by a Reader.
type Message struct {
	// From is the separator line without "From " and its line ending.
	From string
	// Date is the date of the separator line (the INTERNALDATE for
	// Mailmover's backups), zero if it cannot be parsed.
	Date time.Time
	// SeparatorOffset is the offset of the separator line.
	SeparatorOffset int64
	// Offset is the offset of the first message byte, after the separator line.
	Offset int64
	// Length is the number of escaped (on-disk) message bytes, set once
	// Body has returned io.EOF or an error, or the next message was read.
	Length int64
	// Size is the number of message bytes Body returned, set once Body has
	// returned io.EOF.
	Size int64
	// Body reads the message bytes, unescaped. It is valid until the next
	// call to Next. At the end of a message cut short by the end of the
	// file it returns a *FormatError instead of io.EOF.
	Body io.Reader
}

// Reader reads messages from an mbox stream, one at a time, with bounded
// memory.
//
// The strict reader (NewReader) reads Mailmover's own mboxrd files: every
// line starting "From " is a separator, and exactly one "\n" before each
// separator and at the end of the file is framing (see the package
// documentation). The lenient reader (NewLenientReader) reads mbox files
// written by other programs, mboxo or mboxrd, with LF or CRLF line endings:
// a separator is a "From " line at the start of the file or after a blank
// line that is followed by a header line, and the blank line before it is
// framing.
type Reader struct {
	br      *bufio.Reader
	off     int64 // offset of the next byte of br
	lenient bool
	loc     *time.Location

	started bool
	err     error // sticky: io.EOF or an I/O error
	cur     *Message
	content content
	unesc   *escaper
	body    bodyReader
}

// NewReader returns a strict reader of Mailmover's mboxrd format.
func NewReader(r io.Reader) *Reader {
	return newReader(r, false, time.UTC)
}

// NewLenientReader returns a reader of mbox files written by other
// programs. Separator dates without a zone are read in loc (Thunderbird
// writes local time); nil means time.Local.
func NewLenientReader(r io.Reader, loc *time.Location) *Reader {
	if loc == nil {
		loc = time.Local
	}
	return newReader(r, true, loc)
}

func newReader(r io.Reader, lenient bool, loc *time.Location) *Reader {
	rd := &Reader{br: bufio.NewReaderSize(r, BufferSize), lenient: lenient, loc: loc}
	rd.content.r = rd
	rd.unesc = newUnescaper(&rd.content)
	rd.body.r = rd
	return rd
}

// Offset returns the offset in the stream of the next byte to read.
func (r *Reader) Offset() int64 { return r.off }

// Next returns the next message, io.EOF after the last one, or an error.
// A *FormatError (bytes that belong to no message, a message cut short at
// the end of the file) is returned once; calling Next again goes on with the
// next good message. Other errors are I/O errors and stop the reader.
func (r *Reader) Next() (*Message, error) {
	if r.cur != nil {
		if !r.content.done {
			if _, err := io.Copy(io.Discard, &r.content); err != nil {
				var fe *FormatError
				if !errors.As(err, &fe) {
					r.err = err
				}
			}
		}
		r.cur = nil
		if fe := r.content.fmtErr; fe != nil && !r.content.reported {
			r.content.reported = true
			return nil, fe
		}
	}
	if r.err != nil {
		return nil, r.err
	}
	if !r.started {
		r.started = true
		if err := r.skipJunk(); err != nil {
			return nil, err
		}
	}
	if _, err := r.br.Peek(1); err != nil {
		if errors.Is(err, io.EOF) {
			r.err = io.EOF
		} else {
			r.err = fmt.Errorf("read mbox: %w", err)
		}
		return nil, r.err
	}
	// Here the stream is at a separator line.
	sepOff := r.off
	line, err := r.readLine(maxSeparator)
	if err != nil && !errors.Is(err, io.EOF) {
		r.err = fmt.Errorf("read mbox: %w", err)
		return nil, r.err
	}
	if errors.Is(err, io.EOF) && !bytes.HasSuffix(line, []byte("\n")) {
		r.err = io.EOF
		return nil, &FormatError{Offset: sepOff, Reason: "file ends inside a separator line"}
	}
	from := strings.TrimRight(strings.TrimPrefix(string(line), fromPrefix), "\r\n")
	m := &Message{
		From:            from,
		Date:            parseSeparatorDate(from, r.loc),
		SeparatorOffset: sepOff,
		Offset:          r.off,
	}
	r.cur = m
	r.content.start(m)
	r.unesc.reset(&r.content)
	m.Body = &r.body
	return m, nil
}

// All returns an iterator over the messages. Format errors are yielded with
// a nil message and the iteration goes on; an I/O error ends it.
func (r *Reader) All() iter.Seq2[*Message, error] {
	return func(yield func(*Message, error) bool) {
		for {
			m, err := r.Next()
			if errors.Is(err, io.EOF) {
				return
			}
			var fe *FormatError
			if err != nil && !errors.As(err, &fe) {
				yield(nil, err)
				return
			}
			if !yield(m, err) {
				return
			}
		}
	}
}

// readLine consumes one line and returns at most max bytes of it (the line
// ending included when it fits).
func (r *Reader) readLine(max int) ([]byte, error) {
	var out []byte
	for {
		chunk, err := r.br.ReadSlice('\n')
		r.off += int64(len(chunk))
		if room := max - len(out); room > 0 {
			out = append(out, chunk[:min(room, len(chunk))]...)
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		if err == nil && !bytes.HasSuffix(out, []byte("\n")) {
			out = append(out, '\n') // cut short: still a whole line
		}
		return out, err
	}
}

// skipJunk skips bytes before the first separator line. Blank lines there
// are ignored; anything else is a format error.
func (r *Reader) skipJunk() error {
	start := r.off
	blank := true
	for {
		sep, eof, err := r.atSeparator(true, true)
		if err != nil {
			r.err = err
			return err
		}
		if sep || eof {
			break
		}
		line, err := r.readLine(lookahead)
		if len(bytes.TrimSpace(line)) > 0 {
			blank = false
		}
		if err != nil && !errors.Is(err, io.EOF) {
			r.err = fmt.Errorf("read mbox: %w", err)
			return r.err
		}
	}
	if blank || r.off == start {
		return nil
	}
	return &FormatError{Offset: start, Reason: fmt.Sprintf("%d bytes before the first \"From \" separator line belong to no message", r.off-start)}
}

// atSeparator reports whether the stream, at the beginning of a line, is at
// a separator line, or at the end of the input. prevBlank says whether the
// line before was blank (or this is the start); junk relaxes the lenient
// rule while looking for the first separator.
func (r *Reader) atSeparator(prevBlank, junk bool) (sep, eof bool, err error) {
	if !r.lenient {
		d, err := r.br.Peek(len(fromPrefix))
		if len(d) == 0 && errors.Is(err, io.EOF) {
			return false, true, nil
		}
		if err != nil && !errors.Is(err, io.EOF) {
			return false, false, fmt.Errorf("read mbox: %w", err)
		}
		return string(d) == fromPrefix, false, nil
	}
	if !prevBlank && !junk {
		d, err := r.br.Peek(1)
		if len(d) == 0 && errors.Is(err, io.EOF) {
			return false, true, nil
		}
		if err != nil && !errors.Is(err, io.EOF) {
			return false, false, fmt.Errorf("read mbox: %w", err)
		}
		return false, false, nil
	}
	d, err := r.br.Peek(lookahead)
	if err != nil && !errors.Is(err, io.EOF) {
		return false, false, fmt.Errorf("read mbox: %w", err)
	}
	if len(d) == 0 {
		return false, true, nil
	}
	if !bytes.HasPrefix(d, []byte(fromPrefix)) {
		return false, false, nil
	}
	i := bytes.IndexByte(d, '\n')
	if i < 0 {
		return false, false, nil
	}
	return looksLikeHeader(d[i+1:]), false, nil
}

// looksLikeHeader reports whether b starts with a header field name and a
// colon (RFC 5322 section 2.2: printable US-ASCII except colon).
func looksLikeHeader(b []byte) bool {
	for i, c := range b {
		if c == ':' {
			return i > 0
		}
		if c < 0x21 || c > 0x7e {
			return false
		}
	}
	return false
}

// separatorLayouts are the dates seen on separator lines, after runs of
// spaces are collapsed.
var separatorLayouts = []string{
	"Mon Jan 2 15:04:05 2006",
	"Mon Jan 2 15:04:05 MST 2006",
	"Mon Jan 2 15:04:05 -0700 2006",
	"Mon Jan 2 15:04 2006",
	"Mon, 2 Jan 2006 15:04:05 -0700",
	"Mon Jan 2 15:04:05 2006 -0700",
}

// parseSeparatorDate parses the date after the envelope sender of a
// separator line, in loc when it has no zone.
func parseSeparatorDate(from string, loc *time.Location) time.Time {
	f := strings.Fields(from)
	for skip := 1; skip >= 0; skip-- {
		if len(f) <= skip {
			continue
		}
		s := strings.Join(f[skip:], " ")
		for _, layout := range separatorLayouts {
			if t, err := time.ParseInLocation(layout, s, loc); err == nil {
				return t
			}
		}
	}
	return time.Time{}
}

// content reads the escaped bytes of the current message, up to the next
// separator, keeping back the framing newline.
type content struct {
	r         *Reader
	msg       *Message
	bol       bool
	prevBlank bool
	held      []byte // line ending kept back: framing if a separator follows
	heldBuf   [2]byte
	done      bool
	err       error // io.EOF or the error that ended the message
	fmtErr    *FormatError
	reported  bool
}

func (c *content) start(m *Message) {
	*c = content{r: c.r, msg: m, bol: true}
}

func (c *content) hold(s string) {
	c.held = c.heldBuf[:copy(c.heldBuf[:], s)]
}

// end finishes the message at the current offset; eof says the input ended.
func (c *content) end(eof bool) {
	r := c.r
	c.done = true
	c.err = io.EOF
	if eof && !r.lenient && len(c.held) == 0 {
		c.fmtErr = &FormatError{Offset: c.msg.SeparatorOffset, Reason: fmt.Sprintf("the file ends (at byte %d) inside this message, without its final newline: the message may be cut short", r.off)}
		c.err = c.fmtErr
	}
	c.msg.Length = r.off - int64(len(c.held)) - c.msg.Offset
	c.held = nil
}

func (c *content) fail(err error) (int, error) {
	c.done = true
	c.err = err
	c.r.err = c.err
	c.msg.Length = c.r.off - c.msg.Offset
	return 0, c.err
}

func (c *content) Read(p []byte) (int, error) {
	if c.done {
		return 0, c.err
	}
	r := c.r
	n := 0
	for n < len(p) {
		if c.bol {
			sep, eof, err := r.atSeparator(c.prevBlank, false)
			if err != nil {
				if n > 0 {
					return n, nil
				}
				return c.fail(err)
			}
			if sep || eof {
				c.end(eof)
				if n > 0 {
					return n, nil
				}
				return 0, c.err
			}
			k := copy(p[n:], c.held)
			n += k
			c.held = c.held[k:]
			if len(c.held) > 0 {
				return n, nil
			}
			c.held = nil
			c.bol = false
			if r.lenient {
				d, _ := r.br.Peek(2)
				blank := ""
				switch {
				case len(d) >= 1 && d[0] == '\n':
					blank = "\n"
				case len(d) == 2 && d[0] == '\r' && d[1] == '\n':
					blank = "\r\n"
				}
				if blank != "" {
					r.br.Discard(len(blank))
					r.off += int64(len(blank))
					c.hold(blank)
					c.bol = true
					c.prevBlank = true
					continue
				}
				c.prevBlank = false
			}
			continue
		}
		// Inside a line: copy up to and including its end.
		if r.br.Buffered() == 0 {
			if _, err := r.br.Peek(1); err != nil {
				if errors.Is(err, io.EOF) {
					c.end(true)
					if n > 0 {
						return n, nil
					}
					return 0, c.err
				}
				if n > 0 {
					return n, nil
				}
				return c.fail(fmt.Errorf("read mbox: %w", err))
			}
		}
		d, _ := r.br.Peek(r.br.Buffered())
		j := bytes.IndexByte(d, '\n')
		take := d
		keep := 0 // bytes consumed but kept back
		if j >= 0 {
			take = d[:j+1]
			if !r.lenient {
				take = d[:j]
				keep = 1
			}
		}
		k := copy(p[n:], take)
		n += k
		consumed := k
		if k == len(take) && j >= 0 {
			consumed += keep
			c.bol = true
			if keep == 1 {
				c.hold("\n")
			}
		}
		r.br.Discard(consumed)
		r.off += int64(consumed)
	}
	return n, nil
}

// bodyReader is Message.Body: the unescaped content, counted.
type bodyReader struct {
	r *Reader
}

func (b *bodyReader) Read(p []byte) (int, error) {
	r := b.r
	if r.cur == nil {
		return 0, io.EOF
	}
	n, err := r.unesc.Read(p)
	r.cur.Size += int64(n)
	var fe *FormatError
	if errors.As(err, &fe) {
		r.content.reported = true
	}
	return n, err
}
