package mbox

import (
	"bufio"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"hash"
	"io"
	"time"
)

// SeparatorSender is the envelope sender written on every separator line.
const SeparatorSender = "MAILER-DAEMON"

// asctime is the date layout of separator lines (C asctime, RFC 4155).
const asctime = "Mon Jan _2 15:04:05 2006"

// Written describes a message as the Writer stored it.
type Written struct {
	// Offset is where the message bytes start in the file, after the separator line.
	Offset int64
	// Length is the number of escaped (on-disk) message bytes, without the framing newline.
	Length int64
	// RawLength is the number of original message bytes.
	RawLength int64
	// SHA256 is the digest of the original message bytes.
	SHA256 [sha256.Size]byte
	// End is the offset just after the framing newline(s): where the next separator goes.
	End int64
}

// Writer writes messages in mboxrd format (see the package documentation
// for the framing). It streams each message through 64 KiB buffers.
type Writer struct {
	bw  *bufio.Writer
	off int64 // offset of the next byte written, counting buffered bytes
	esc *escaper
	cnt rawCounter
	buf []byte
}

// NewWriter returns a Writer that writes to w, whose first byte is at offset 0.
func NewWriter(w io.Writer) *Writer {
	return NewWriterAt(w, 0)
}

// NewWriterAt returns a Writer that writes to w, whose next byte is at offset
// off in the file (for appending).
func NewWriterAt(w io.Writer, off int64) *Writer {
	return &Writer{
		bw:  bufio.NewWriterSize(w, BufferSize),
		off: off,
		esc: newEscaper(nil),
		cnt: rawCounter{h: sha256.New()},
		buf: make([]byte, BufferSize),
	}
}

// Offset returns the offset of the next byte the Writer will write.
func (w *Writer) Offset() int64 { return w.off }

// Flush writes buffered data to the underlying writer.
func (w *Writer) Flush() error {
	if err := w.bw.Flush(); err != nil {
		return fmt.Errorf("write mbox: %w", err)
	}
	return nil
}

// reset drops buffered data and makes w write to dst at offset off (after a
// failed message, once the caller has cut the file back).
func (w *Writer) reset(dst io.Writer, off int64) {
	w.bw.Reset(dst)
	w.off = off
}

// Separator returns the separator line for a message with this INTERNALDATE.
// A zero date is written as the Unix epoch.
func Separator(date time.Time) string {
	if date.IsZero() {
		date = time.Unix(0, 0)
	}
	return "From " + SeparatorSender + " " + date.UTC().Format(asctime) + "\n"
}

// WriteMessage writes one message read from r, with the INTERNALDATE date on
// its separator line. The message is streamed, never held in memory. If it
// fails, part of the message may have been written: callers that must not
// keep a torn message cut the file back (the Appender does).
func (w *Writer) WriteMessage(ctx context.Context, date time.Time, r io.Reader) (Written, error) {
	sep := Separator(date)
	if _, err := w.bw.WriteString(sep); err != nil {
		return Written{}, fmt.Errorf("write mbox: %w", err)
	}
	w.off += int64(len(sep))
	res := Written{Offset: w.off}

	w.cnt.reset(r)
	w.esc.reset(&w.cnt)
	for {
		if err := ctx.Err(); err != nil {
			return Written{}, err
		}
		n, err := w.esc.Read(w.buf)
		if n > 0 {
			if _, werr := w.bw.Write(w.buf[:n]); werr != nil {
				return Written{}, fmt.Errorf("write mbox: %w", werr)
			}
			w.off += int64(n)
			res.Length += int64(n)
		}
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return Written{}, fmt.Errorf("read message: %w", err)
		}
	}
	res.RawLength = w.cnt.n
	copy(res.SHA256[:], w.cnt.h.Sum(nil))
	trailer := "\n"
	if w.cnt.n > 0 && w.cnt.last != '\n' {
		trailer = "\n\n"
	}
	if _, err := w.bw.WriteString(trailer); err != nil {
		return Written{}, fmt.Errorf("write mbox: %w", err)
	}
	w.off += int64(len(trailer))
	res.End = w.off
	return res, nil
}

// trailerLen returns the number of framing bytes after a message whose
// escaped length is length and whose last byte is last.
func trailerLen(length int64, last byte) int64 {
	if length == 0 || last == '\n' {
		return 1
	}
	return 2
}

// rawCounter counts and hashes the original message bytes as they are read.
type rawCounter struct {
	r    io.Reader
	h    hash.Hash
	n    int64
	last byte
}

func (c *rawCounter) reset(r io.Reader) {
	c.r = r
	c.h.Reset()
	c.n = 0
	c.last = 0
}

func (c *rawCounter) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	if n > 0 {
		c.h.Write(p[:n])
		c.n += int64(n)
		c.last = p[n-1]
	}
	return n, err
}
