package mbox

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"io"
	"runtime"
	"strings"
	"testing"
	"testing/iotest"
	"time"
)

// edgeMessages are messages that trip naive mbox codecs.
var edgeMessages = []string{
	"",
	"\n",
	"\r\n",
	"From: a@example.com\r\nSubject: crlf\r\n\r\nbody\r\n",
	"From: a@example.com\nSubject: lf\n\nbody\n",
	"Subject: from lines\n\nFrom here\n>From there\n>>From everywhere\n>>>>>From deep\n",
	"Subject: crlf from\r\n\r\nFrom here\r\n>From there\r\n",
	"Subject: no final newline\n\nlast line",
	"Subject: ends with From\n\nFrom ",
	"From the very first line\nSubject: x\n\ny\n",
	">From the very first line\n\ny\n",
	"Subject: almost\n\nFrom\nFrom:\n>From\nfrom here\n From here\n>>Fro\n",
	"Subject: ends in candidate\n\n>>Fro",
	"Subject: cr only\r\rFrom x\r",
	"Subject: blank lines\n\n\n\n\nFrom x\n\n\n",
	"Subject: 8bit \xff\xfe\x00\x01 caf\xc3\xa9\n\n\x00\x80\xff\nFrom \xff\n",
	"Subject: long\n\n" + strings.Repeat("x", 3*BufferSize+17) + "\nFrom y\n",
	"Subject: long gt\n\n" + strings.Repeat(">", 2*BufferSize+5) + "From z\n" + strings.Repeat(">", 300) + "x\n",
	strings.Repeat("From \n", 1000),
}

// sequentialWant is what a sequential read gives for raw (the trailing
// newline rule of the package documentation).
func sequentialWant(raw string) string {
	if raw != "" && !strings.HasSuffix(raw, "\n") {
		return raw + "\n"
	}
	return raw
}

func writeAll(t testing.TB, msgs []string) ([]byte, []Written) {
	t.Helper()
	var buf bytes.Buffer
	w := NewWriter(&buf)
	var ws []Written
	date := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	for i, m := range msgs {
		res, err := w.WriteMessage(context.Background(), date.Add(time.Duration(i)*time.Hour), strings.NewReader(m))
		if err != nil {
			t.Fatalf("WriteMessage(%d) = %v", i, err)
		}
		ws = append(ws, res)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes(), ws
}

func TestEscaper(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"From ", ">From "},
		{"From", "From"},
		{"a\nFrom x\n", "a\n>From x\n"},
		{">From x\n>>From y\n", ">>From x\n>>>From y\n"},
		{"x From y\n", "x From y\n"},
		{"\r\nFrom x\r\n", "\r\n>From x\r\n"},
		{">>Fro", ">>Fro"},
		{">>\n", ">>\n"},
		{"From\nFrom \n", "From\n>From \n"},
	}
	for _, tt := range tests {
		got, err := io.ReadAll(newEscaper(strings.NewReader(tt.in)))
		if err != nil || string(got) != tt.want {
			t.Errorf("escape(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
		back, err := io.ReadAll(NewUnescaper(bytes.NewReader(got)))
		if err != nil || string(back) != tt.in {
			t.Errorf("unescape(%q) = %q, %v; want %q", got, back, err, tt.in)
		}
		// Byte-at-a-time readers must give the same.
		got, _ = io.ReadAll(iotest.OneByteReader(newEscaper(iotest.OneByteReader(strings.NewReader(tt.in)))))
		if string(got) != tt.want {
			t.Errorf("escape one byte at a time (%q) = %q; want %q", tt.in, got, tt.want)
		}
	}
}

func TestRoundTrip(t *testing.T) {
	data, ws := writeAll(t, edgeMessages)

	// Sequential read.
	r := NewReader(bytes.NewReader(data))
	i := 0
	for {
		m, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("Next() after %d messages = %v", i, err)
		}
		got, err := io.ReadAll(m.Body)
		if err != nil {
			t.Fatalf("message %d: read body: %v", i, err)
		}
		if i >= len(edgeMessages) {
			t.Fatalf("read more messages than written: %q", got)
		}
		want := sequentialWant(edgeMessages[i])
		if string(got) != want {
			t.Errorf("message %d = %q; want %q", i, trunc(got), trunc([]byte(want)))
		}
		wantLen := ws[i].Length
		if want != edgeMessages[i] {
			wantLen++ // the framing newline is read as part of the message
		}
		if m.Offset != ws[i].Offset || m.Length != wantLen {
			t.Errorf("message %d at %d+%d; written at %d+%d", i, m.Offset, m.Length, ws[i].Offset, ws[i].Length)
		}
		wantDate := time.Date(2024, 1, 1, i, 0, 0, 0, time.UTC)
		if !m.Date.Equal(wantDate) {
			t.Errorf("message %d date = %v; want %v", i, m.Date, wantDate)
		}
		i++
	}
	if i != len(edgeMessages) {
		t.Errorf("read %d messages; want %d", i, len(edgeMessages))
	}

	// Read through offsets: exact in every case.
	for i, w := range ws {
		got, err := io.ReadAll(NewUnescaper(io.NewSectionReader(bytes.NewReader(data), w.Offset, w.Length)))
		if err != nil || string(got) != edgeMessages[i] {
			t.Errorf("message %d via offsets = %q, %v; want %q", i, trunc(got), err, trunc([]byte(edgeMessages[i])))
		}
		if w.RawLength != int64(len(edgeMessages[i])) || w.SHA256 != sha256.Sum256([]byte(edgeMessages[i])) {
			t.Errorf("message %d: rawLength %d, sha256 mismatch; want %d", i, w.RawLength, len(edgeMessages[i]))
		}
	}
	if last := ws[len(ws)-1]; last.End != int64(len(data)) {
		t.Errorf("End of last message = %d; want %d", last.End, len(data))
	}
}

func trunc(b []byte) string {
	if len(b) > 80 {
		return string(b[:60]) + "..." + string(b[len(b)-20:])
	}
	return string(b)
}

func TestReaderFormatErrors(t *testing.T) {
	good := "From MAILER-DAEMON Mon Jan  1 00:00:00 2024\nSubject: a\n\nbody\n\n"
	tests := []struct {
		name   string
		in     string
		bodies []string
		errAt  []int64
	}{
		{"empty", "", nil, nil},
		{"blank prefix", "\n\n" + good, []string{"Subject: a\n\nbody\n"}, nil},
		{"junk prefix", "junk\nmore\n" + good, []string{"Subject: a\n\nbody\n"}, []int64{0}},
		{"only junk", "junk", nil, []int64{0}},
		{"truncated last", good + "From x Mon Jan  1 00:00:00 2024\nSubject: b\n\ncut", []string{"Subject: a\n\nbody\n", "Subject: b\n\ncut"}, []int64{int64(len(good))}},
		{"truncated separator", good + "From x Mon", []string{"Subject: a\n\nbody\n"}, []int64{int64(len(good))}},
		{"empty at end", good + "From x\n", []string{"Subject: a\n\nbody\n", ""}, []int64{int64(len(good))}},
		{"no blank line before separator", "From a\nx\nFrom b\ny\n", []string{"x", "y"}, nil},
	}
	for _, tt := range tests {
		r := NewReader(strings.NewReader(tt.in))
		var bodies []string
		var errAt []int64
		for m, err := range r.All() {
			var fe *FormatError
			if errors.As(err, &fe) {
				errAt = append(errAt, fe.Offset)
				continue
			}
			if err != nil {
				t.Fatalf("%s: %v", tt.name, err)
			}
			b, err := io.ReadAll(m.Body)
			if errors.As(err, &fe) {
				errAt = append(errAt, fe.Offset)
			}
			bodies = append(bodies, string(b))
		}
		if strings.Join(bodies, "|") != strings.Join(tt.bodies, "|") {
			t.Errorf("%s: bodies = %q; want %q", tt.name, bodies, tt.bodies)
		}
		if len(errAt) != len(tt.errAt) || len(errAt) > 0 && errAt[0] != tt.errAt[0] {
			t.Errorf("%s: errors at %v; want %v", tt.name, errAt, tt.errAt)
		}
	}
}

// TestReaderSkipsUnreadBodies checks that Next reports the error of a
// truncated message whose body was never read.
func TestReaderSkipsUnreadBodies(t *testing.T) {
	in := "From a\nx\n\nFrom b\ncut"
	r := NewReader(strings.NewReader(in))
	var n, errs int
	for _, err := range r.All() {
		if err != nil {
			errs++
			continue
		}
		n++
	}
	if n != 2 || errs != 1 {
		t.Errorf("All(%q) = %d messages, %d errors; want 2, 1", in, n, errs)
	}
}

func TestLenientReader(t *testing.T) {
	in := "From - Mon Jan  1 10:00:00 2024\r\n" +
		"X-Mozilla-Status: 0001\r\nSubject: one\r\n\r\nbody\r\nFrom me, a line in the body\r\n>From quoted\r\n\r\n" +
		"From - Tue Jan  2 10:00:00 2024\r\n" +
		"Subject: two\r\n\r\nFrom here\r\n\r\n" +
		"From notasep\r\nno header line\r\n\r\n" +
		"From sender@example.com Wed Jan  3 10:00:00 2024\n" +
		"Subject: three\n\nlf\n"
	want := []string{
		"X-Mozilla-Status: 0001\r\nSubject: one\r\n\r\nbody\r\nFrom me, a line in the body\r\nFrom quoted\r\n",
		"Subject: two\r\n\r\nFrom here\r\n\r\nFrom notasep\r\nno header line\r\n",
		"Subject: three\n\nlf\n",
	}
	loc := time.FixedZone("X", 3600)
	r := NewLenientReader(strings.NewReader(in), loc)
	var got []string
	var dates []time.Time
	for m, err := range r.All() {
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(m.Body)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, string(b))
		dates = append(dates, m.Date)
	}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("lenient read = %q; want %q", got, want)
	}
	if len(dates) == 3 && !dates[2].Equal(time.Date(2024, 1, 3, 10, 0, 0, 0, loc)) {
		t.Errorf("date = %v; want 2024-01-03 10:00 in +01:00", dates[2])
	}
}

func TestParseSeparatorDate(t *testing.T) {
	tests := []struct {
		from string
		want time.Time
	}{
		{"MAILER-DAEMON Thu Jan  1 00:00:00 2024", time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)},
		{"- Fri Apr 11 15:36:11 2025", time.Date(2025, 4, 11, 15, 36, 11, 0, time.UTC)},
		{"a@b Fri Apr 11 15:36:11 +0200 2025", time.Date(2025, 4, 11, 13, 36, 11, 0, time.UTC)},
		{"Fri Apr 11 15:36:11 2025", time.Date(2025, 4, 11, 15, 36, 11, 0, time.UTC)},
		{"a@b garbage", time.Time{}},
		{"", time.Time{}},
	}
	for _, tt := range tests {
		if got := parseSeparatorDate(tt.from, time.UTC); !got.Equal(tt.want) {
			t.Errorf("parseSeparatorDate(%q) = %v; want %v", tt.from, got, tt.want)
		}
	}
}

func TestWriterCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	w := NewWriter(io.Discard)
	if _, err := w.WriteMessage(ctx, time.Time{}, strings.NewReader("x")); !errors.Is(err, context.Canceled) {
		t.Errorf("WriteMessage(cancelled) = %v; want context.Canceled", err)
	}
}

// TestWriterBoundedMemory writes a 40 MB message and checks it was not held
// in memory.
func TestWriterBoundedMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("short")
	}
	const size = 40 << 20
	var out countWriter
	w := NewWriter(&out)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	src := io.LimitReader(&lineSource{line: []byte("From here, a line that needs escaping\r\n")}, size)
	res, err := w.WriteMessage(context.Background(), time.Now(), src)
	runtime.ReadMemStats(&after)
	if err == nil {
		err = w.Flush()
	}
	if err != nil || res.RawLength != size {
		t.Fatalf("WriteMessage = %+v, %v", res, err)
	}
	if grew := after.TotalAlloc - before.TotalAlloc; grew > 4<<20 {
		t.Errorf("writing a 40 MB message allocated %d bytes; want bounded buffers", grew)
	}
	if want := int64(size + size/39 + len(Separator(time.Now())) + 2); out.n < want-2 || out.n > want+2 {
		t.Errorf("wrote %d bytes; want about %d", out.n, want)
	}
}

type lineSource struct {
	line []byte
	pos  int
}

func (s *lineSource) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		k := copy(p[n:], s.line[s.pos:])
		n += k
		s.pos = (s.pos + k) % len(s.line)
	}
	return n, nil
}

type countWriter struct{ n int64 }

func (c *countWriter) Write(p []byte) (int, error) { c.n += int64(len(p)); return len(p), nil }

// TestReaderIOError checks that an I/O error ends the iteration with that
// error, whether it comes inside a message or between two.
func TestReaderIOError(t *testing.T) {
	data, _ := writeAll(t, edgeMessages[:6])
	boom := errors.New("disk on fire")
	for _, cut := range []int{0, 10, 50, len(data) / 2, len(data)} {
		for _, lenient := range []bool{false, true} {
			src := io.MultiReader(bytes.NewReader(data[:cut]), iotest.ErrReader(boom))
			r := NewReader(src)
			if lenient {
				r = NewLenientReader(src, time.UTC)
			}
			var last error
			for m, err := range r.All() {
				if err != nil {
					last = err
					continue
				}
				if _, err := io.ReadAll(m.Body); err != nil {
					last = err
				}
			}
			if !errors.Is(last, boom) {
				t.Errorf("cut at %d (lenient %v): last error %v; want %v", cut, lenient, last, boom)
			}
		}
	}
}
