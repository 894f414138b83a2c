package mbox

import (
	"bytes"
	"errors"
	"io"
	"testing"
	"time"
)

// FuzzReader feeds arbitrary bytes to both readers: they must never panic,
// must name offsets inside the input, and must find every message a
// well-formed file placed after the damage.
func FuzzReader(f *testing.F) {
	good, _ := writeAll(f, edgeMessages[:6])
	f.Add(good)
	f.Add([]byte("junk\n" + string(good)))
	f.Add([]byte("From a\nx"))
	f.Add([]byte("From "))
	f.Add([]byte(">From a\n\nFrom b\nH: v\n\nbody\n\n"))
	f.Add([]byte("From - Mon Jan  1 00:00:00 2024\r\nX-Mozilla-Status: 0001\r\n\r\nb\r\n\r\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, lenient := range []bool{false, true} {
			var r *Reader
			if lenient {
				r = NewLenientReader(bytes.NewReader(data), time.UTC)
			} else {
				r = NewReader(bytes.NewReader(data))
			}
			var lastOff int64 = -1
			for m, err := range r.All() {
				var fe *FormatError
				if errors.As(err, &fe) {
					if fe.Offset < 0 || fe.Offset > int64(len(data)) {
						t.Fatalf("error offset %d outside %d bytes: %v", fe.Offset, len(data), err)
					}
					continue
				}
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				if m.Offset <= lastOff || m.Offset > int64(len(data)) {
					t.Fatalf("message at offset %d after %d, input %d bytes", m.Offset, lastOff, len(data))
				}
				lastOff = m.Offset
				body, err := io.ReadAll(m.Body)
				if err != nil && !errors.As(err, &fe) {
					t.Fatalf("body: %v", err)
				}
				if m.Offset+m.Length > int64(len(data)) || int64(len(body)) != m.Size {
					t.Fatalf("message at %d: length %d, size %d, body %d, input %d", m.Offset, m.Length, m.Size, len(body), len(data))
				}
			}
		}

		// Damage followed by a good message: the good message survives.
		tail := "\n\nFrom MAILER-DAEMON Mon Jan  1 00:00:00 2024\nMessage-ID: <tail@x>\n\ntail body\n\n"
		r := NewReader(bytes.NewReader(append(bytes.Clone(data), tail...)))
		var last string
		for m, err := range r.All() {
			if err != nil {
				continue
			}
			b, _ := io.ReadAll(m.Body)
			last = string(b)
		}
		if want := "Message-ID: <tail@x>\n\ntail body\n"; last != want {
			t.Fatalf("after %q, last message = %q; want %q", data, last, want)
		}
	})
}

// FuzzRoundTrip writes arbitrary messages and reads them back, through the
// offsets (always exact) and sequentially (exact but for the trailing
// newline rule).
func FuzzRoundTrip(f *testing.F) {
	for _, m := range edgeMessages[:16] {
		f.Add(m, "From x\n>From y", uint8(0))
	}
	f.Fuzz(func(t *testing.T, a, b string, split uint8) {
		msgs := []string{a, b}
		if int(split) < len(a) {
			msgs = []string{a[:split], a[split:], b}
		}
		data, ws := writeAll(t, msgs)
		for i, w := range ws {
			got, err := io.ReadAll(NewUnescaper(io.NewSectionReader(bytes.NewReader(data), w.Offset, w.Length)))
			if err != nil || string(got) != msgs[i] {
				t.Fatalf("message %d via offsets = %q, %v; want %q", i, got, err, msgs[i])
			}
		}
		r := NewReader(bytes.NewReader(data))
		i := 0
		for m, err := range r.All() {
			if err != nil {
				t.Fatalf("sequential read: %v", err)
			}
			got, err := io.ReadAll(m.Body)
			if err != nil {
				t.Fatalf("sequential read: %v", err)
			}
			if i >= len(msgs) || string(got) != sequentialWant(msgs[i]) {
				t.Fatalf("sequential message %d = %q; want %q", i, got, sequentialWant(msgs[min(i, len(msgs)-1)]))
			}
			i++
		}
		if i != len(msgs) {
			t.Fatalf("sequential read: %d messages; want %d", i, len(msgs))
		}
	})
}
