package sample

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"fmt"
	"io"
	"net/mail"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	_ "github.com/emersion/go-message/charset"
	gomail "github.com/emersion/go-message/mail"
)

// testOpts is a corpus small enough for every test, with attachments up to
// 1 MiB.
var testOpts = Options{Seed: 42, Messages: 80, MaxAttachment: 1 << 20}

func digest(m *Message) [32]byte {
	h := sha256.New()
	io.Copy(h, m.Open())
	var d [32]byte
	h.Sum(d[:0])
	return d
}

func TestDeterministic(t *testing.T) {
	opts := Options{Seed: 42, Messages: 80, MaxAttachment: 256 << 10}
	a, b := New(opts), New(opts)
	if !slices.EqualFunc(a.Folders, b.Folders, func(x, y Folder) bool {
		return slices.Equal(x.Path, y.Path) && x.SpecialUse == y.SpecialUse && x.Subscribed == y.Subscribed
	}) {
		t.Fatalf("New(%+v) folders differ between calls", opts)
	}
	// Generate b backwards: message i depends on nothing but the seed and i.
	digests := make([][32]byte, a.Len())
	for i := b.Len() - 1; i >= 0; i-- {
		ma, mb := a.Message(i), b.Message(i)
		if ma.Size() != mb.Size() {
			t.Errorf("Message(%d).Size() = %d, then %d", i, ma.Size(), mb.Size())
		}
		digests[i] = digest(ma)
		if digests[i] != digest(mb) {
			t.Errorf("Message(%d) bytes differ between two corpora of the same seed", i)
		}
		if ma.MessageID != mb.MessageID || ma.Subject != mb.Subject || !ma.InternalDate.Equal(mb.InternalDate) ||
			ma.Folder != mb.Folder || !slices.Equal(ma.Flags, mb.Flags) {
			t.Errorf("Message(%d) = %+v, then %+v", i, ma, mb)
		}
	}
	// A fresh reader gives the same bytes again, read in odd-sized pieces.
	for m := range a.All() {
		var got bytes.Buffer
		r := m.Open()
		buf := make([]byte, 997)
		for {
			n, err := r.Read(buf)
			got.Write(buf[:n])
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("Message(%d).Open().Read: %v", m.Index, err)
			}
		}
		if sha256.Sum256(got.Bytes()) != digests[m.Index] {
			t.Errorf("Message(%d): Read in pieces and io.Copy differ", m.Index)
		}
	}

	other := New(Options{Seed: opts.Seed + 1, Messages: opts.Messages, MaxAttachment: opts.MaxAttachment})
	same := 0
	for i := range a.Len() {
		if digests[i] == digest(other.Message(i)) {
			same++
		}
	}
	if same > 0 {
		t.Errorf("seeds %d and %d give %d identical messages; want 0", opts.Seed, opts.Seed+1, same)
	}
}

func TestSizeExact(t *testing.T) {
	// Three blocks of the default options: attachments of several MB.
	c := New(Options{Seed: 1, Messages: 3 * blockLen})
	var total int64
	largest := int64(0)
	for m := range c.All() {
		b := m.Bytes()
		if int64(len(b)) != m.Size() {
			t.Errorf("Message(%d).Size() = %d; want len(Bytes()) = %d", m.Index, m.Size(), len(b))
		}
		total += m.Size()
		largest = max(largest, m.Size())
	}
	if got := c.TotalBytes(); got != total {
		t.Errorf("TotalBytes() = %d; want %d", got, total)
	}
	if largest < 2<<20 {
		t.Errorf("largest message is %d bytes; want several MB", largest)
	}
}

func TestBase64Size(t *testing.T) {
	for n := int64(0); n < 2000; n++ {
		a := &attachment{n: n, seed: [32]byte{byte(n)}}
		got, err := io.ReadAll(a.open())
		if err != nil {
			t.Fatal(err)
		}
		if int64(len(got)) != base64Size(n) {
			t.Fatalf("base64Size(%d) = %d; want %d", n, base64Size(n), len(got))
		}
		if e := base64Size(n); n > 0 && (rawFor(e) < n || base64Size(rawFor(e)) != e) {
			t.Errorf("rawFor(%d) = %d; want the largest size encoding to %d octets", e, rawFor(e), e)
		}
	}
}

// parsed is what a test learns from one message's bytes.
type parsed struct {
	header       gomail.Header
	rawHeader    []byte
	topType      string
	attachments  []int64 // decoded sizes
	textBodies   [][]byte
	hasHTML      bool
	maxLine      int
	bareNewlines int
}

// skeleton returns the message without its attachments' content: what
// feature tests look at, without generating megabytes.
func skeleton(m *Message) []byte {
	var b []byte
	for _, s := range m.segs {
		b = append(b, s.lit...)
	}
	return b
}

// parse reads a message the way a mail client would.
func parse(t *testing.T, m *Message, b []byte) *parsed {
	t.Helper()
	p := &parsed{}
	end := bytes.Index(b, []byte("\r\n\r\n"))
	if end < 0 {
		t.Fatalf("Message(%d) has no end of header", m.Index)
	}
	p.rawHeader = b[:end+2]
	for i, c := range b {
		if c == '\n' && (i == 0 || b[i-1] != '\r') || c == '\r' && (i+1 == len(b) || b[i+1] != '\n') {
			p.bareNewlines++
		}
	}
	for line := range bytes.SplitSeq(b, []byte("\r\n")) {
		p.maxLine = max(p.maxLine, len(line))
	}
	if _, err := mail.ReadMessage(bytes.NewReader(b)); err != nil {
		t.Errorf("net/mail.ReadMessage(Message(%d)): %v", m.Index, err)
	}
	mr, err := gomail.CreateReader(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("mail.CreateReader(Message(%d)): %v", m.Index, err)
	}
	p.header = mr.Header
	p.topType, _, _ = mr.Header.ContentType()
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("Message(%d).NextPart: %v", m.Index, err)
		}
		body, err := io.ReadAll(part.Body)
		if err != nil {
			t.Fatalf("Message(%d): read part: %v", m.Index, err)
		}
		switch h := part.Header.(type) {
		case *gomail.AttachmentHeader:
			if _, err := h.Filename(); err != nil {
				t.Errorf("Message(%d): attachment filename: %v", m.Index, err)
			}
			p.attachments = append(p.attachments, int64(len(body)))
		case *gomail.InlineHeader:
			ct, _, _ := h.ContentType()
			if ct == "text/html" {
				p.hasHTML = true
			} else {
				p.textBodies = append(p.textBodies, body)
			}
		}
	}
	return p
}

func TestParse(t *testing.T) {
	c := New(testOpts)
	for m := range c.All() {
		p := parse(t, m, m.Bytes())
		if p.bareNewlines > 0 {
			t.Errorf("Message(%d) has %d bare CR or LF; want CRLF only", m.Index, p.bareNewlines)
		}
		subject, err := p.header.Subject()
		if err != nil || subject != m.Subject {
			t.Errorf("Message(%d) Subject = %q, %v; want %q", m.Index, subject, err, m.Subject)
		}
		id := p.header.Get("Message-ID")
		if id != m.MessageID {
			t.Errorf("Message(%d) Message-ID = %q; want %q", m.Index, id, m.MessageID)
		}
		if p.header.Has("Date") {
			d, err := p.header.Date()
			if err != nil {
				t.Errorf("Message(%d) Date: %v", m.Index, err)
			} else if diff := m.InternalDate.Sub(d); diff < 0 || diff > 4*time.Hour {
				t.Errorf("Message(%d) Date = %v; want shortly before INTERNALDATE %v", m.Index, d, m.InternalDate)
			}
		}
		if _, err := p.header.AddressList("From"); err != nil {
			t.Errorf("Message(%d) From: %v", m.Index, err)
		}
		if _, err := p.header.AddressList("To"); err != nil {
			t.Errorf("Message(%d) To: %v", m.Index, err)
		}
		var want []int64
		for _, s := range m.segs {
			if s.att != nil {
				want = append(want, s.att.n)
			}
		}
		if !slices.Equal(p.attachments, want) {
			t.Errorf("Message(%d) attachments decode to %v bytes; want %v", m.Index, p.attachments, want)
		}
		if m.InternalDate.Nanosecond() != 0 {
			t.Errorf("Message(%d) InternalDate = %v; want whole seconds", m.Index, m.InternalDate)
		}
		for _, f := range m.Flags {
			if strings.EqualFold(f, `\Recent`) {
				t.Errorf("Message(%d) Flags = %v; want no \\Recent", m.Index, m.Flags)
			}
		}
	}
}

func TestFeatures(t *testing.T) {
	for _, seed := range []uint64{1, 2} {
		t.Run(fmt.Sprint(seed), func(t *testing.T) { testFeatures(t, seed) })
	}
}

func testFeatures(t *testing.T, seed uint64) {
	c := New(Options{Seed: seed})
	if c.Len() != DefaultMessages {
		t.Fatalf("Len() = %d; want %d", c.Len(), DefaultMessages)
	}
	seen := map[string]bool{}
	ids := map[string][32]byte{}
	folderUsed := make([]int, len(c.Folders))
	offsets := map[int]bool{}
	minYear, maxYear := 9999, 0
	for m := range c.All() {
		b := skeleton(m)
		p := parse(t, m, b)
		folderUsed[m.Folder]++
		f := c.Folders[m.Folder]
		switch p.topType {
		case "text/plain":
			seen["plain text"] = true
		case "multipart/alternative":
			seen["multipart/alternative"] = true
		case "multipart/mixed":
			seen["multipart/mixed"] = true
		}
		if p.hasHTML {
			seen["html"] = true
		}
		for _, s := range m.segs {
			if s.att == nil {
				continue
			}
			n := s.att.n
			if n <= 16<<10 {
				seen["attachment of a few KB"] = true
			}
			if n >= 1<<20 {
				seen["attachment of several MB"] = true
			}
		}
		subj := strings.ToLower(p.header.Get("Subject"))
		if strings.Contains(subj, "=?utf-8?q?") {
			seen["Q-encoded subject"] = true
		}
		if strings.Contains(subj, "=?utf-8?b?") {
			seen["B-encoded subject"] = true
		}
		if !isASCII(string(p.rawHeader)) {
			seen["8-bit header"] = true
		}
		if !p.header.Has("Message-ID") {
			seen["missing Message-ID"] = true
		} else if d, ok := ids[m.MessageID]; ok {
			if d != sha256.Sum256(b) {
				seen["duplicate Message-ID, different body"] = true
			}
		} else {
			ids[m.MessageID] = sha256.Sum256(b)
		}
		if !p.header.Has("Date") {
			seen["missing Date"] = true
		}
		if p.header.Has("In-Reply-To") {
			seen["reply"] = true
		}
		for _, body := range p.textBodies {
			sc := bufio.NewScanner(bytes.NewReader(body))
			sc.Buffer(nil, 1<<20)
			for sc.Scan() {
				line := sc.Text()
				if len(line) > 998 {
					seen["line over 998 octets"] = true
				}
				if strings.HasPrefix(line, "From ") {
					seen["From line"] = true
				}
				if strings.HasPrefix(line, ">From ") {
					seen[">From line"] = true
				}
			}
		}
		for _, fl := range m.Flags {
			seen["flag "+fl] = true
		}
		if f.SpecialUse == `\Drafts` && !slices.Contains(m.Flags, `\Draft`) {
			t.Errorf("Message(%d) in Drafts has flags %v; want \\Draft", m.Index, m.Flags)
		}
		if f.SpecialUse == `\Junk` && !slices.Contains(m.Flags, `$Junk`) {
			t.Errorf("Message(%d) in Junk has flags %v; want $Junk", m.Index, m.Flags)
		}
		_, off := m.InternalDate.Zone()
		offsets[off] = true
		minYear = min(minYear, m.InternalDate.Year())
		maxYear = max(maxYear, m.InternalDate.Year())
	}

	for i, f := range c.Folders {
		name := strings.Join(f.Path, "/")
		seen["special-use "+f.SpecialUse] = true
		switch {
		case len(f.Path) == 2:
			seen["nested folder"] = true
		case len(f.Path) == 3:
			seen["folder nested twice"] = true
		}
		if strings.Contains(name, " ") {
			seen["folder name with a space"] = true
		}
		if strings.Contains(name, "&") {
			seen["folder name with &"] = true
		}
		if strings.Contains(name, "ç") {
			seen["folder name with an accent"] = true
		}
		if strings.Contains(name, "日本語") {
			seen["CJK folder name"] = true
		}
		if strings.Contains(name, ".") {
			seen["folder name with a dot"] = true
		}
		if name == "INBOX" {
			seen["INBOX"] = true
		}
		if !f.Subscribed {
			seen["unsubscribed folder"] = true
		}
		if folderUsed[i] == 0 {
			seen["empty folder"] = true
		}
	}

	want := []string{
		"plain text", "multipart/alternative", "multipart/mixed", "html",
		"attachment of a few KB", "attachment of several MB",
		"Q-encoded subject", "B-encoded subject", "8-bit header",
		"missing Message-ID", "duplicate Message-ID, different body", "missing Date", "reply",
		"line over 998 octets", "From line", ">From line",
		`flag \Seen`, `flag \Answered`, `flag \Flagged`, `flag \Draft`, `flag \Deleted`,
		"flag $Forwarded", "flag $Junk", "flag $label1", "flag Important-Client",
		`special-use \Sent`, `special-use \Drafts`, `special-use \Trash`, `special-use \Junk`, `special-use \Archive`,
		"INBOX", "nested folder", "folder nested twice", "folder name with a space", "folder name with &",
		"folder name with an accent", "CJK folder name", "folder name with a dot",
		"empty folder", "unsubscribed folder",
	}
	for _, w := range want {
		if !seen[w] {
			t.Errorf("default corpus has no %s", w)
		}
	}
	if minYear > 2009 || maxYear < 2026 {
		t.Errorf("INTERNALDATE years span %d..%d; want 2009..2026", minYear, maxYear)
	}
	if len(offsets) < 5 {
		t.Errorf("INTERNALDATEs use %d time zones; want at least 5", len(offsets))
	}
}

func TestFixedSize(t *testing.T) {
	const size = 40 << 20
	c := New(Options{Seed: 3, Messages: 2, FixedSize: size})
	if len(c.Folders) != 1 || !slices.Equal(c.Folders[0].Path, []string{"Big"}) {
		t.Fatalf("New(FixedSize).Folders = %v; want one folder Big", c.Folders)
	}
	m := c.Message(1)
	if d := m.Size() - size; d < -size/100 || d > size/100 {
		t.Errorf("Message(1).Size() = %d; want about %d", m.Size(), size)
	}

	r := m.Open()
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	n, err := io.Copy(io.Discard, r)
	runtime.ReadMemStats(&after)
	if err != nil || n != m.Size() {
		t.Fatalf("io.Copy(io.Discard, Open()) = %d, %v; want %d, nil", n, err, m.Size())
	}
	// Loose: the stream must not hold the message, only a few chunks.
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 4<<20 {
		t.Errorf("streaming a %d-byte message allocated %d bytes; want far less", n, alloc)
	}
}

func TestMessageOutOfRange(t *testing.T) {
	c := New(Options{Seed: 1, Messages: 3})
	for _, i := range []int{-1, 3} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("Message(%d) did not panic", i)
				}
			}()
			c.Message(i)
		}()
	}
}

func TestAllStops(t *testing.T) {
	c := New(Options{Seed: 1, Messages: 10})
	n := 0
	for range c.All() {
		n++
		if n == 3 {
			break
		}
	}
	if n != 3 {
		t.Errorf("All() yielded %d after break; want 3", n)
	}
}

func BenchmarkGenerate(b *testing.B) {
	c := New(Options{Seed: 1, Messages: 200, MaxAttachment: 64 << 10})
	b.ReportAllocs()
	var n int64
	for i := 0; b.Loop(); i++ {
		m := c.Message(i % c.Len())
		k, _ := io.Copy(io.Discard, m.Open())
		n += k
	}
	b.SetBytes(n / int64(b.N))
}

func BenchmarkStreamLarge(b *testing.B) {
	c := New(Options{Seed: 1, Messages: 1, FixedSize: 8 << 20})
	m := c.Message(0)
	b.SetBytes(m.Size())
	b.ReportAllocs()
	for b.Loop() {
		if _, err := io.Copy(io.Discard, m.Open()); err != nil {
			b.Fatal(err)
		}
	}
}
