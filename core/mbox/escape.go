package mbox

import (
	"bytes"
	"io"
)

// BufferSize is the size of the buffers the codec streams through.
const BufferSize = 64 << 10

const fromPrefix = "From "

// escaper adds (delta +1) or removes (delta -1) one '>' on every line that
// matches ^>*From (mboxrd). It streams: a run of '>' of any length at the
// start of a line is counted, never buffered.
type escaper struct {
	src   io.Reader
	delta int
	buf   []byte
	in    []byte // unprocessed input, a window of buf
	err   error  // error from src, returned once the input is used up

	bol  bool  // at the beginning of a line
	cand bool  // matching a line start against ^>*From
	gt   int64 // '>' seen in the candidate
	from int   // bytes of "From " matched in the candidate

	outGT   int64  // '>' still to emit
	outFrom string // bytes of "From " to emit after them
}

// newEscaper returns a reader of src with mboxrd escaping added.
func newEscaper(src io.Reader) *escaper {
	return &escaper{src: src, delta: 1, buf: make([]byte, BufferSize), bol: true}
}

// NewUnescaper returns a reader of the escaped message bytes src with one
// level of mboxrd escaping removed: every line matching ^>+From loses one
// '>'. Lines starting "From " without '>' are passed through.
func NewUnescaper(src io.Reader) io.Reader {
	return newUnescaper(src)
}

func newUnescaper(src io.Reader) *escaper {
	return &escaper{src: src, delta: -1, buf: make([]byte, BufferSize), bol: true}
}

// reset makes e read a new message from src, keeping its buffer.
func (e *escaper) reset(src io.Reader) {
	*e = escaper{src: src, delta: e.delta, buf: e.buf, bol: true}
}

var gtRun = bytes.Repeat([]byte{'>'}, 256)

func (e *escaper) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		if e.outGT > 0 {
			k := int(min(e.outGT, int64(len(p)-n), int64(len(gtRun))))
			copy(p[n:], gtRun[:k])
			n += k
			e.outGT -= int64(k)
			continue
		}
		if e.outFrom != "" {
			k := copy(p[n:], e.outFrom)
			e.outFrom = e.outFrom[k:]
			n += k
			continue
		}
		if len(e.in) == 0 {
			if e.err != nil {
				if e.cand {
					// The input ended inside a candidate: it did not match.
					e.flushCandidate()
					continue
				}
				if n > 0 {
					return n, nil
				}
				return 0, e.err
			}
			if n > 0 {
				return n, nil
			}
			m, err := e.src.Read(e.buf)
			e.in = e.buf[:m]
			e.err = err
			if m == 0 && err == nil {
				return 0, nil
			}
			continue
		}
		c := e.in[0]
		if e.cand {
			switch {
			case e.from == 0 && c == '>':
				e.gt++
				e.in = e.in[1:]
			case c == fromPrefix[e.from]:
				e.from++
				e.in = e.in[1:]
				if e.from == len(fromPrefix) {
					e.cand = false
					e.outGT = e.gt + int64(e.delta)
					if e.outGT < 0 {
						e.outGT = 0 // "From " without '>' is left alone when unescaping
					}
					e.outFrom = fromPrefix
				}
			default:
				e.flushCandidate()
			}
			continue
		}
		if e.bol {
			e.bol = false
			e.cand = true
			e.gt, e.from = 0, 0
			continue
		}
		j := bytes.IndexByte(e.in, '\n')
		if j < 0 {
			k := copy(p[n:], e.in)
			e.in = e.in[k:]
			n += k
			continue
		}
		k := copy(p[n:], e.in[:j+1])
		e.in = e.in[k:]
		n += k
		if k == j+1 {
			e.bol = true
		}
	}
	return n, nil
}

// flushCandidate emits a line start that turned out not to match.
func (e *escaper) flushCandidate() {
	e.cand = false
	e.outGT = e.gt
	e.outFrom = fromPrefix[:e.from]
}
