package sample

import (
	"encoding/base64"
	"io"
	"math/rand/v2"
)

// Base64 layout (RFC 2045 section 6.8): 57 octets encode to one 76-character
// line, which ends with CRLF.
const (
	rawPerLine    = 57
	encPerLine    = 76 + 2
	linesPerChunk = 64
	rawChunk      = rawPerLine * linesPerChunk
	encChunk      = encPerLine * linesPerChunk
)

// base64Size returns the exact size of n octets encoded in base64 with
// 76-character lines, each ending with CRLF.
func base64Size(n int64) int64 {
	if n <= 0 {
		return 0
	}
	enc := 4 * ((n + 2) / 3)
	lines := (enc + 75) / 76
	return enc + 2*lines
}

// attachment describes the content of an attachment, generated while it is
// read: a magic prefix (so that the file type looks right), then either
// random octets or words of text.
type attachment struct {
	n     int64 // raw size in octets
	seed  [32]byte
	magic string
	text  bool
}

// encodedSize returns the number of octets the attachment takes in the message.
func (a *attachment) encodedSize() int64 { return base64Size(a.n) }

// source returns a fresh generator of the attachment's raw octets.
func (a *attachment) source() io.Reader {
	var body io.Reader
	if a.text {
		var s1, s2 uint64
		for i := range 8 {
			s1 = s1<<8 | uint64(a.seed[i])
			s2 = s2<<8 | uint64(a.seed[8+i])
		}
		body = &textSource{r: rand.New(rand.NewPCG(s1, s2))}
	} else {
		body = rand.NewChaCha8(a.seed)
	}
	if a.magic == "" {
		return body
	}
	return io.MultiReader(&stringReader{s: a.magic}, body)
}

// open returns a reader of the attachment's base64 lines.
func (a *attachment) open() io.Reader {
	return &base64Reader{src: a.source(), left: a.n}
}

// stringReader reads a string without copying it into a new buffer.
type stringReader struct{ s string }

func (r *stringReader) Read(p []byte) (int, error) {
	if r.s == "" {
		return 0, io.EOF
	}
	n := copy(p, r.s)
	r.s = r.s[n:]
	return n, nil
}

// textSource produces an endless stream of lines of words.
type textSource struct {
	r       *rand.Rand
	pending []byte
	buf     []byte
}

func (t *textSource) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		if len(t.pending) == 0 {
			t.buf = appendTextLine(t.buf[:0], t.r)
			t.pending = t.buf
		}
		k := copy(p[n:], t.pending)
		t.pending = t.pending[k:]
		n += k
	}
	return n, nil
}

// appendTextLine appends one CSV-like line of words and numbers.
func appendTextLine(b []byte, r *rand.Rand) []byte {
	fields := 3 + r.IntN(5)
	for i := range fields {
		if i > 0 {
			b = append(b, ',')
		}
		if r.IntN(3) == 0 {
			b = appendInt(b, r.IntN(100000))
		} else {
			b = append(b, words[r.IntN(len(words))]...)
		}
	}
	return append(b, '\r', '\n')
}

func appendInt(b []byte, v int) []byte {
	var tmp [20]byte
	i := len(tmp)
	for {
		i--
		tmp[i] = byte('0' + v%10)
		v /= 10
		if v == 0 {
			break
		}
	}
	return append(b, tmp[i:]...)
}

// base64Reader encodes left octets of src as base64 lines, a chunk of
// linesPerChunk lines at a time, so that its memory stays a few KB whatever
// the attachment's size.
type base64Reader struct {
	src  io.Reader
	left int64
	raw  []byte
	buf  []byte
	out  []byte // encoded octets not yet returned
	err  error
}

// fill encodes the next chunk into buf.
func (b *base64Reader) fill() error {
	if b.err != nil {
		return b.err
	}
	if b.left <= 0 {
		return io.EOF
	}
	if b.raw == nil {
		b.raw = make([]byte, rawChunk)
		b.buf = make([]byte, encChunk)
	}
	k := int(min(b.left, rawChunk))
	if _, err := io.ReadFull(b.src, b.raw[:k]); err != nil {
		b.err = err
		return err
	}
	b.left -= int64(k)
	w := 0
	for off := 0; off < k; off += rawPerLine {
		end := min(off+rawPerLine, k)
		base64.StdEncoding.Encode(b.buf[w:], b.raw[off:end])
		w += base64.StdEncoding.EncodedLen(end - off)
		b.buf[w], b.buf[w+1] = '\r', '\n'
		w += 2
	}
	b.out = b.buf[:w]
	return nil
}

func (b *base64Reader) Read(p []byte) (int, error) {
	if len(b.out) == 0 {
		if err := b.fill(); err != nil {
			return 0, err
		}
	}
	n := copy(p, b.out)
	b.out = b.out[n:]
	return n, nil
}

// WriteTo writes the remaining lines to w without an intermediate buffer,
// so that io.Copy streams the attachment chunk by chunk.
func (b *base64Reader) WriteTo(w io.Writer) (int64, error) {
	var total int64
	for {
		if len(b.out) == 0 {
			if err := b.fill(); err == io.EOF {
				return total, nil
			} else if err != nil {
				return total, err
			}
		}
		n, err := w.Write(b.out)
		total += int64(n)
		b.out = b.out[n:]
		if err != nil {
			return total, err
		}
	}
}
