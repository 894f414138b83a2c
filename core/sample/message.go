package sample

import (
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"
	"mime"
	"mime/quotedprintable"
	"net/mail"
	"strings"
	"time"
	"unicode/utf8"
)

// Message is one sample message. Its exported fields describe it; its bytes
// come from Open or Bytes.
type Message struct {
	// Index is the message's position in the corpus.
	Index int
	// Folder is an index into Corpus.Folders.
	Folder int
	// Flags are IMAP system flags and keywords (RFC 9051 section 2.3.2),
	// e.g. `\Seen`, `$Forwarded`. `\Recent` is never among them.
	Flags []string
	// InternalDate is the date to give APPEND (RFC 9051 section 2.3.3),
	// with second precision.
	InternalDate time.Time
	// MessageID is the Message-ID header field value with its angle
	// brackets, or "" when the message has none.
	MessageID string
	// Subject is the decoded Subject header field.
	Subject string

	segs []segment
	size int64
}

// segment is a piece of a message: literal octets or a generated attachment.
type segment struct {
	lit []byte
	att *attachment
}

// Size returns the exact size of the message in octets.
func (m *Message) Size() int64 { return m.size }

// Open returns a fresh reader of the message's exact bytes. Attachments are
// generated while they are read, a few KB at a time.
func (m *Message) Open() io.Reader {
	rs := make([]io.Reader, len(m.segs))
	for i, s := range m.segs {
		if s.att != nil {
			rs[i] = s.att.open()
		} else {
			rs[i] = bytes.NewReader(s.lit)
		}
	}
	return io.MultiReader(rs...)
}

// Bytes returns the whole message. It is meant for small messages in tests.
func (m *Message) Bytes() []byte {
	b := bytes.NewBuffer(make([]byte, 0, m.size))
	if _, err := b.ReadFrom(m.Open()); err != nil {
		// The readers are in-memory generators that cannot fail.
		panic(fmt.Sprintf("sample: generate message %d: %v", m.Index, err))
	}
	return b.Bytes()
}

// kind is the main feature of a message.
type kind uint8

const (
	kindPlain kind = iota
	kindAlternative
	kindSmallAttachment
	kindMediumAttachment
	kindLargeAttachment
	kindQSubject
	kindBSubject
	kind8Bit
	kindNoMessageID
	kindDupOriginal
	kindDupCopy
	kindNoDate
	kindLongLine
	kindFromLines
	kindReply
	kindLatin1
	kindFixed
)

// slots is one block of kinds. Each block of len(slots) consecutive
// messages holds every slot once, in an order drawn from the seed, so that
// every feature occurs in any corpus of a few blocks.
var slots = [...]kind{
	kindPlain, kindPlain, kindPlain, kindAlternative, kindAlternative, kindAlternative,
	kindSmallAttachment, kindMediumAttachment, kindLargeAttachment,
	kindQSubject, kindBSubject, kind8Bit, kindNoMessageID, kindDupOriginal, kindDupCopy,
	kindNoDate, kindLongLine, kindFromLines, kindReply, kindReply, kindLatin1,
}

const blockLen = len(slots)

// forcedFlags go, one per block in turn, on the message in the block's first
// slot, so that every flag occurs in any corpus of a few blocks.
var forcedFlags = [...]string{`\Flagged`, `$Forwarded`, `$label1`, `Important-Client`, `\Deleted`, `\Answered`}

// Dates of the corpus, in Unix seconds: INTERNALDATEs are spread over this
// range in index order.
const (
	firstDate = 1230768000 // 2009-01-01T00:00:00Z
	lastDate  = 1790812800 // 2026-10-01T00:00:00Z
)

// mix is the SplitMix64 finaliser: a bijection that scatters nearby inputs.
func mix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// blockPerm returns the order of the slots in block b.
func (c *Corpus) blockPerm(b int) [blockLen]uint8 {
	var p [blockLen]uint8
	for i := range p {
		p[i] = uint8(i)
	}
	r := rand.New(rand.NewPCG(c.opts.Seed, mix(^uint64(b))))
	r.Shuffle(len(p), func(i, j int) { p[i], p[j] = p[j], p[i] })
	return p
}

// kindOf returns the main feature of message i, whether it carries its
// block's forced flag, and for a duplicate the index of its original (-1 if
// it has none in the corpus).
func (c *Corpus) kindOf(i int) (k kind, forced bool, orig int) {
	if c.opts.FixedSize > 0 {
		return kindFixed, false, -1
	}
	b, pos := i/blockLen, i%blockLen
	p := c.blockPerm(b)
	k = slots[p[pos]]
	if k == kindLargeAttachment && b%2 == 1 {
		k = kindMediumAttachment
	}
	orig = -1
	if k == kindDupCopy {
		for j, s := range p {
			if slots[s] == kindDupOriginal && b*blockLen+j < c.n {
				orig = b*blockLen + j
			}
		}
	}
	return k, p[pos] == 0, orig
}

// messageID returns the Message-ID of message i, a function of the seed and
// the index only, so that duplicates and replies can refer to it.
func (c *Corpus) messageID(i int) string {
	h := mix(c.opts.Seed ^ mix(uint64(i)+0x5bd1e995))
	g := mix(h)
	switch h % 4 {
	case 0:
		return fmt.Sprintf("<%016x.%08x@mail.example.net>", h, uint32(g))
	case 1:
		return fmt.Sprintf("<CA+%013x%06x@mail.example.com>", g>>12, h&0xffffff)
	case 2:
		return fmt.Sprintf("<%d.%d.JavaMail.app@host.example.org>", g%1000000000, 1000+i)
	default:
		return fmt.Sprintf("<%08X-%04X-%04X-%012X@example.org>", uint32(h), uint16(g), uint16(g>>16), h>>16)
	}
}

// folderOf places message i: the first messages go one to each non-empty
// folder, the others by weight.
func (c *Corpus) folderOf(i int, r *rand.Rand) int {
	x := r.IntN(c.total)
	if i < len(c.nonEmpty) {
		return c.nonEmpty[i]
	}
	for f, w := range c.weights {
		if x < w {
			return f
		}
		x -= w
	}
	return c.nonEmpty[0]
}

// builder accumulates the segments of a message.
type builder struct {
	buf  bytes.Buffer
	segs []segment
	size int64
}

func (b *builder) line(s string) {
	b.buf.WriteString(s)
	b.buf.WriteString("\r\n")
}

func (b *builder) write(p []byte) { b.buf.Write(p) }

func (b *builder) flush() {
	if b.buf.Len() > 0 {
		lit := b.buf.Bytes()
		b.segs = append(b.segs, segment{lit: lit})
		b.size += int64(len(lit))
		b.buf = bytes.Buffer{}
	}
}

func (b *builder) attach(a *attachment) {
	b.flush()
	b.segs = append(b.segs, segment{att: a})
	b.size += a.encodedSize()
}

// node is a MIME entity: its header lines (folded lines contain CRLF SP),
// then either children, a literal body ending with CRLF, or an attachment.
type node struct {
	header   []string
	boundary string
	preamble bool
	children []*node
	body     []byte
	att      *attachment
}

func (b *builder) writeNode(n *node) {
	for _, h := range n.header {
		b.line(h)
	}
	b.line("")
	switch {
	case n.children != nil:
		if n.preamble {
			b.line("This is a multi-part message in MIME format.")
			b.line("")
		}
		for _, c := range n.children {
			b.line("--" + n.boundary)
			b.writeNode(c)
		}
		b.line("--" + n.boundary + "--")
	case n.att != nil:
		b.attach(n.att)
	default:
		b.write(n.body)
	}
}

// generate builds message i from the seed and i alone.
func (c *Corpus) generate(i int) *Message {
	r := rand.New(rand.NewPCG(c.opts.Seed, mix(uint64(i))))
	k, forced, orig := c.kindOf(i)
	m := &Message{Index: i, Folder: c.folderOf(i, r)}
	g := &gen{c: c, r: r, m: m, k: k}

	// Dates: spread over the years in index order, in many time zones.
	span := float64(lastDate - firstDate)
	t := firstDate + int64((float64(i)+r.Float64())/float64(c.n)*span)
	m.InternalDate = time.Unix(t, 0).In(zone(pick(r, offsets[:])))

	fromOwner := c.opts.FixedSize == 0 && (m.Folder == folderSent || m.Folder == folderDrafts)
	junk := c.opts.FixedSize == 0 && m.Folder == folderJunk
	delay := 2 + r.IntN(120)
	switch {
	case fromOwner:
		delay = r.IntN(5)
	case r.IntN(5) == 0:
		delay = r.IntN(3 * 3600)
	}
	sent := m.InternalDate.Add(-time.Duration(delay) * time.Second).In(zone(pick(r, offsets[:])))

	// Correspondents.
	nonASCII := k == kind8Bit
	var from person
	var to []person
	switch {
	case fromOwner:
		from = owner
		to = g.contacts(1+r.IntN(3), nonASCII)
	case junk:
		from = pick(r, spammers[:])
		to = []person{owner}
	default:
		from = g.contacts(1, nonASCII)[0]
		to = []person{owner}
		if r.IntN(4) == 0 {
			to = append(to, g.contacts(1+r.IntN(4), false)...)
		}
	}
	var cc []person
	if !junk && r.IntN(6) == 0 {
		cc = g.contacts(1+r.IntN(6), false)
	}

	// Subject.
	var subject string
	switch {
	case junk:
		subject = fillNumber(r, pick(r, spamSubjects[:]))
	case k == kindQSubject || k == kindBSubject || k == kind8Bit || r.IntN(8) == 0:
		subject = fillNumber(r, pick(r, utf8Subjects[:]))
	default:
		subject = fillNumber(r, pick(r, asciiSubjects[:]))
	}
	switch {
	case k == kindReply:
		subject = "Re: " + subject
	case r.IntN(20) == 0:
		subject = "Fwd: " + subject
	}

	// Message-ID, and what duplicates share with their original.
	m.MessageID = c.messageID(i)
	switch k {
	case kindNoMessageID:
		m.MessageID = ""
	case kindDupCopy:
		if orig >= 0 {
			o := c.generate(orig)
			m.MessageID = o.MessageID
			subject = o.Subject
		}
	}
	m.Subject = subject
	m.Flags = g.flags(forced, i)

	// Header.
	var b builder
	if !fromOwner {
		b.line("Return-Path: <" + from.addr + ">")
		g.received(&b)
	}
	if junk {
		b.line("X-Spam-Flag: YES")
		b.line(fmt.Sprintf("X-Spam-Status: Yes, score=%d.%d required=5.0", 6+r.IntN(20), r.IntN(10)))
	}
	if k != kindNoDate {
		b.line("Date: " + sent.Format(time.RFC1123Z))
	}
	b.line("From: " + g.address(from, nonASCII))
	b.line(g.addressList("To", to, nonASCII))
	if len(cc) > 0 {
		b.line(g.addressList("Cc", cc, false))
	}
	b.line(g.subjectField(subject))
	if m.MessageID != "" {
		b.line("Message-ID: " + m.MessageID)
	}
	var quoted []string
	if k == kindReply && i > 0 {
		parent := r.IntN(i)
		pid := c.messageID(parent)
		b.line("In-Reply-To: " + pid)
		refs := []string{}
		for range r.IntN(3) {
			refs = append(refs, c.messageID(r.IntN(parent+1)))
		}
		refs = append(refs, pid)
		b.line(fold("References: "+strings.Join(refs, " "), " "))
		quoted = g.quote(to[0], sent)
	}
	if c.opts.FixedSize == 0 && !c.Folders[m.Folder].Subscribed {
		b.line("List-Id: Example News <news.example.com>")
		b.line("List-Unsubscribe: <mailto:unsubscribe@news.example.com?subject=unsubscribe>")
	}
	if x := pick(r, mailers[:]); x != "" {
		b.line(x)
	}
	b.line("MIME-Version: 1.0")

	// Body.
	l := g.letter(to[0], signer(from), quoted)
	var top *node
	switch k {
	case kindPlain, kindNoMessageID, kindDupOriginal, kindDupCopy, kindNoDate, kindQSubject, kindBSubject, kindReply:
		if r.IntN(3) == 0 {
			top = g.alternative(l)
		} else {
			top = g.plain(l, g.style())
		}
	case kindAlternative:
		top = g.alternative(l)
	case kind8Bit:
		top = g.plainEncoded(l.lines(), "utf-8", "8bit")
	case kindLatin1:
		top = g.plain(l, styleLatin1)
	case kindLongLine:
		top = g.longLines(l)
	case kindFromLines:
		top = g.fromLines(l)
	case kindSmallAttachment:
		top = g.mixed(l, g.attachmentSizes(1+r.IntN(3), 2<<10, 48<<10))
	case kindMediumAttachment:
		top = g.mixed(l, g.attachmentSizes(1, 80<<10, 800<<10))
	case kindLargeAttachment:
		top = g.mixed(l, g.attachmentSizes(1, c.opts.MaxAttachment/2, c.opts.MaxAttachment))
	case kindFixed:
		top = g.mixed(l, []int64{1})
	}
	top.preamble = top.children != nil && r.IntN(2) == 0
	b.writeNode(top)
	b.flush()

	if k == kindFixed {
		// Grow the one attachment so that the message is about FixedSize.
		a := top.children[1].att
		b.size -= a.encodedSize()
		a.n = rawFor(c.opts.FixedSize - b.size)
		b.size += a.encodedSize()
	}
	m.segs, m.size = b.segs, b.size
	return m
}

// rawFor returns the largest raw size whose base64 encoding fits in enc
// octets, at least 1.
func rawFor(enc int64) int64 {
	n := max(enc*rawPerLine/encPerLine, 1)
	for n > 1 && base64Size(n) > enc {
		n--
	}
	for base64Size(n+1) <= enc {
		n++
	}
	return n
}

// zone returns a fixed time zone of the offset in minutes.
func zone(minutes int) *time.Location {
	return time.FixedZone("", minutes*60)
}

// gen holds what the parts of one message's generation share.
type gen struct {
	c *Corpus
	r *rand.Rand
	m *Message
	k kind
}

// contacts returns n distinct correspondents; with nonASCII the first one
// has a name outside ASCII.
func (g *gen) contacts(n int, nonASCII bool) []person {
	perm := g.r.Perm(len(contacts))
	if nonASCII {
		for i, p := range perm {
			if !isASCII(contacts[p].name) {
				perm[0], perm[i] = perm[i], perm[0]
				break
			}
		}
	}
	ps := make([]person, min(n, len(perm)))
	for i := range ps {
		ps[i] = contacts[perm[i]]
	}
	return ps
}

func isASCII(s string) bool {
	for i := range len(s) {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// address formats one mailbox (RFC 5322 section 3.4): names outside ASCII
// are raw UTF-8 (RFC 6532) when raw is set, else RFC 2047 encoded words.
func (g *gen) address(p person, raw bool) string {
	if raw && p.name != "" {
		name := p.name
		if strings.ContainsAny(name, `()<>[]:;@\,."`) {
			name = `"` + name + `"`
		}
		return name + " <" + p.addr + ">"
	}
	a := mail.Address{Name: p.name, Address: p.addr}
	return a.String()
}

// addressList formats an address list field, folded before 78 characters.
func (g *gen) addressList(field string, ps []person, raw bool) string {
	s := make([]string, len(ps))
	for i, p := range ps {
		s[i] = g.address(p, raw)
	}
	return fold(field+": "+strings.Join(s, ", "), ", ")
}

// fold folds a header field after occurrences of sep so that lines stay
// near 78 characters (RFC 5322 section 2.2.3).
func fold(field, sep string) string {
	var parts []string
	for _, p := range strings.SplitAfter(field, sep) {
		// Encoded words of one phrase may be folded between them too.
		for {
			i := strings.Index(p, "?= =?")
			if i < 0 {
				break
			}
			parts = append(parts, p[:i+3])
			p = p[i+3:]
		}
		parts = append(parts, p)
	}
	var b strings.Builder
	n := 0
	for i, p := range parts {
		if i > 0 && n+len(p) > 76 {
			// Move the separator's trailing space to the fold.
			s := b.String()
			b.Reset()
			b.WriteString(strings.TrimRight(s, " "))
			b.WriteString("\r\n ")
			n = 1
		}
		b.WriteString(p)
		n += len(p)
	}
	return b.String()
}

// subjectField encodes the Subject according to the message's kind.
func (g *gen) subjectField(s string) string {
	if isASCII(s) || g.k == kind8Bit {
		return "Subject: " + s
	}
	enc := mime.QEncoding
	if g.k == kindBSubject || (g.k != kindQSubject && g.r.IntN(2) == 0) {
		enc = mime.BEncoding
	}
	charset := pick(g.r, []string{"UTF-8", "utf-8"})
	// Keep an ASCII reply prefix outside the encoded words, as mail
	// clients do.
	prefix := ""
	for _, p := range []string{"Re: ", "Fwd: "} {
		if strings.HasPrefix(s, p) {
			prefix, s = p, s[len(p):]
		}
	}
	words := enc.Encode(charset, s)
	return "Subject: " + prefix + strings.ReplaceAll(words, "?= =?", "?=\r\n =?")
}

// received writes one or two Received fields (RFC 5321 section 4.4).
func (g *gen) received(b *builder) {
	r := g.r
	t := g.m.InternalDate
	for h := range 1 + r.IntN(2) {
		id := fmt.Sprintf("%010X", r.Uint64()>>24)
		when := t.Add(-time.Duration(h*(1+r.IntN(30))) * time.Second).Format(time.RFC1123Z)
		if h == 0 {
			b.line(fmt.Sprintf("Received: from mx%d.example.net (mx%d.example.net [192.0.2.%d])\r\n\tby mx.example.org (Postfix) with ESMTPS id %s\r\n\tfor <%s>; %s",
				1+r.IntN(4), 1+r.IntN(4), 1+r.IntN(250), id, owner.addr, when))
		} else {
			b.line(fmt.Sprintf("Received: from [198.51.100.%d] (helo=client.example.com)\r\n\tby mx%d.example.net with esmtpsa (TLS1.3) id %s;\r\n\t%s",
				1+r.IntN(250), 1+r.IntN(4), id, when))
		}
	}
}

// flags returns the message's flags and keywords, system flags first.
func (g *gen) flags(forced bool, i int) []string {
	r := g.r
	var fl []string
	add := func(f string, p float64) {
		if r.Float64() < p {
			fl = append(fl, f)
		}
	}
	switch {
	case g.c.opts.FixedSize > 0:
		add(`\Seen`, 0.5)
	case g.m.Folder == folderSent:
		fl = append(fl, `\Seen`)
	case g.m.Folder == folderDrafts:
		add(`\Seen`, 0.5)
		fl = append(fl, `\Draft`)
	case g.m.Folder == folderTrash:
		add(`\Seen`, 0.9)
		add(`\Deleted`, 0.1)
	case g.m.Folder == folderJunk:
		add(`\Seen`, 0.4)
		fl = append(fl, `$Junk`)
	case g.m.Folder == folderArchive:
		fl = append(fl, `\Seen`)
		add(`\Answered`, 0.3)
		add(`\Flagged`, 0.05)
	default:
		add(`\Seen`, 0.75)
		add(`\Answered`, 0.12)
		add(`\Flagged`, 0.08)
		add(`\Deleted`, 0.02)
		add(`$Forwarded`, 0.04)
		add(`$label1`, 0.04)
		add(`Important-Client`, 0.03)
	}
	if forced {
		f := forcedFlags[(i/blockLen)%len(forcedFlags)]
		has := false
		for _, x := range fl {
			has = has || x == f
		}
		if !has {
			fl = append(fl, f)
		}
	}
	// System flags first, in a stable order.
	var sys, kw []string
	for _, f := range fl {
		if strings.HasPrefix(f, `\`) {
			sys = append(sys, f)
		} else {
			kw = append(kw, f)
		}
	}
	return append(sys, kw...)
}

// style picks the character set of ordinary text.
func (g *gen) style() textStyle {
	if g.r.IntN(3) == 0 {
		return styleUTF8
	}
	return styleASCII
}

// letter is the text of a message, rendered as plain text or HTML.
type letter struct {
	greeting   string
	paragraphs []string
	closing    string
	signature  []string
	quoted     []string // already prefixed with "> ", after an attribution line
}

// signer returns the name that signs a letter from p.
func signer(p person) person {
	if p.name == "" {
		return person{"The Example Team", p.addr}
	}
	return p
}

func (g *gen) letter(to, from person, quoted []string) *letter {
	r := g.r
	st := g.style()
	switch g.k {
	case kind8Bit:
		st = styleUTF8
	case kindLatin1:
		st = styleLatin1
	}
	l := &letter{
		greeting: pick(r, []string{"Hi", "Hello", "Dear", "Hey"}) + " " + firstName(to) + ",",
		closing:  pick(r, []string{"Best regards,", "Thanks,", "Cheers,", "Kind regards,", "Talk soon,"}),
		quoted:   quoted,
	}
	for range 1 + r.IntN(4) {
		l.paragraphs = append(l.paragraphs, paragraph(r, st))
	}
	l.signature = []string{firstName(from)}
	if r.IntN(2) == 0 {
		l.signature = append(l.signature, "", "-- ", from.name, pick(r, []string{"Example Corp.", "Sales Department", "+1 555 0100", "https://www.example.com/"}))
	}
	return l
}

// quote returns the quoted part of a reply, with its attribution line.
func (g *gen) quote(author person, sent time.Time) []string {
	q := []string{fmt.Sprintf("On %s, %s wrote:", sent.Add(-time.Duration(1+g.r.IntN(72))*time.Hour).Format("Mon, 2 Jan 2006 at 15:04"), g.address(author, true))}
	for i := range 1 + g.r.IntN(3) {
		if i > 0 {
			q = append(q, ">")
		}
		for _, ln := range wrap(paragraph(g.r, styleASCII), 70) {
			q = append(q, "> "+ln)
		}
	}
	return q
}

// lines renders the letter as plain text lines.
func (l *letter) lines() []string {
	out := []string{l.greeting, ""}
	for _, p := range l.paragraphs {
		out = append(out, wrap(p, 72)...)
		out = append(out, "")
	}
	out = append(out, l.closing)
	out = append(out, l.signature...)
	if len(l.quoted) > 0 {
		out = append(out, "")
		out = append(out, l.quoted...)
	}
	return out
}

// html renders the letter as HTML lines.
func (l *letter) html() []string {
	esc := strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;")
	out := []string{
		"<!DOCTYPE html>",
		`<html><head><meta http-equiv="Content-Type" content="text/html; charset=utf-8"></head>`,
		`<body style="font-family: sans-serif;">`,
		"<p>" + esc.Replace(l.greeting) + "</p>",
	}
	for _, p := range l.paragraphs {
		out = append(out, wrap("<p>"+esc.Replace(p)+"</p>", 76)...)
	}
	out = append(out, "<p>"+esc.Replace(l.closing)+"<br>")
	for _, s := range l.signature {
		out = append(out, esc.Replace(s)+"<br>")
	}
	out = append(out, "</p>")
	if len(l.quoted) > 0 {
		out = append(out, "<blockquote>")
		for _, q := range l.quoted {
			out = append(out, esc.Replace(strings.TrimPrefix(strings.TrimPrefix(q, ">"), " "))+"<br>")
		}
		out = append(out, "</blockquote>")
	}
	return append(out, "</body></html>")
}

// joinLines joins lines with CRLF, ending with CRLF.
func joinLines(lines []string) []byte {
	var b bytes.Buffer
	for _, l := range lines {
		b.WriteString(l)
		b.WriteString("\r\n")
	}
	return b.Bytes()
}

// encodeText encodes text lines for a transfer encoding (RFC 2045).
func encodeText(lines []string, charset, cte string) []byte {
	raw := joinLines(lines)
	if charset == "iso-8859-1" {
		raw = toLatin1(raw)
	}
	if cte != "quoted-printable" {
		return raw
	}
	var b bytes.Buffer
	w := quotedprintable.NewWriter(&b)
	w.Write(raw)
	w.Close()
	if !bytes.HasSuffix(b.Bytes(), []byte("\r\n")) {
		b.WriteString("\r\n")
	}
	return b.Bytes()
}

// toLatin1 converts UTF-8 text whose runes are all below U+0100 to ISO-8859-1.
func toLatin1(p []byte) []byte {
	out := make([]byte, 0, len(p))
	for _, c := range string(p) {
		if c > 0xff {
			c = '?'
		}
		out = append(out, byte(c))
	}
	return out
}

// textNode returns a text part with the best encoding for its content.
func (g *gen) textNode(subtype string, lines []string, latin1 bool) *node {
	ascii := true
	for _, l := range lines {
		ascii = ascii && isASCII(l)
	}
	charset, cte := "us-ascii", "7bit"
	switch {
	case latin1:
		charset, cte = "iso-8859-1", "quoted-printable"
	case !ascii && g.r.IntN(2) == 0:
		charset, cte = "utf-8", "quoted-printable"
	case !ascii:
		charset, cte = "utf-8", "8bit"
	case subtype == "html" && g.r.IntN(2) == 0:
		charset, cte = "utf-8", "quoted-printable"
	case g.r.IntN(2) == 0:
		charset = "utf-8"
	}
	return g.leafText(subtype, lines, charset, cte)
}

func (g *gen) leafText(subtype string, lines []string, charset, cte string) *node {
	ct := "Content-Type: text/" + subtype + "; charset=" + charset
	if subtype == "plain" && cte != "quoted-printable" && g.r.IntN(4) == 0 {
		ct = "Content-Type: text/plain; charset=\"" + charset + "\"; format=fixed"
	}
	return &node{
		header: []string{ct, "Content-Transfer-Encoding: " + cte},
		body:   encodeText(lines, charset, cte),
	}
}

func (g *gen) plain(l *letter, st textStyle) *node {
	if st == styleLatin1 {
		l.paragraphs = append(l.paragraphs, paragraph(g.r, styleLatin1))
		return g.textNode("plain", l.lines(), true)
	}
	return g.textNode("plain", l.lines(), false)
}

func (g *gen) plainEncoded(lines []string, charset, cte string) *node {
	return g.leafText("plain", lines, charset, cte)
}

func (g *gen) boundary() string {
	r := g.r
	switch r.IntN(3) {
	case 0:
		return fmt.Sprintf("----=_Part_%d_%d.%d", r.IntN(100000), r.IntN(1<<30), 1000000000000+r.Int64N(900000000000))
	case 1:
		return fmt.Sprintf("Apple-Mail=_%08X-%04X-%04X-%012X", r.Uint32(), r.Uint32()&0xffff, r.Uint32()&0xffff, r.Uint64()>>16)
	default:
		return fmt.Sprintf("%016x%012x", r.Uint64(), r.Uint64()>>16)
	}
}

func (g *gen) multipart(subtype string, children ...*node) *node {
	bd := g.boundary()
	return &node{
		header:   []string{"Content-Type: multipart/" + subtype + ";\r\n\tboundary=\"" + bd + "\""},
		boundary: bd,
		children: children,
	}
}

func (g *gen) alternative(l *letter) *node {
	return g.multipart("alternative", g.textNode("plain", l.lines(), false), g.textNode("html", l.html(), false))
}

// longLines returns a text part with lines longer than 998 octets
// (RFC 5322 section 2.1.1 forbids them; servers such as Dovecot still
// accept them).
func (g *gen) longLines(l *letter) *node {
	r := g.r
	var long strings.Builder
	for long.Len() < 1000+r.IntN(3000) {
		if long.Len() > 0 {
			long.WriteByte(' ')
		}
		long.WriteString(sentence(r, styleASCII))
	}
	url := make([]byte, 0, 1500)
	url = append(url, "https://tracking.example.com/click?u="...)
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	for len(url) < 1100+r.IntN(1500) {
		url = append(url, alphabet[r.IntN(len(alphabet))])
	}
	lines := []string{l.greeting, "", long.String(), "", "Click here to read more:", string(url), ""}
	lines = append(lines, l.lines()[2:]...)
	cte := "7bit"
	if !isASCII(strings.Join(lines, "")) {
		cte = "8bit"
	}
	return g.leafText("plain", lines, "utf-8", cte)
}

// fromLines returns a text part with lines that start with "From " and
// ">From ", which mbox files must escape (mboxrd).
func (g *gen) fromLines(l *letter) *node {
	lines := []string{"From the desk of " + l.signature[0] + ":", ""}
	lines = append(lines, l.lines()...)
	lines = append(lines, "",
		"From what I remember, this was agreed last week.",
		">From an earlier message, quoted without a space.",
		">>From a message quoted twice.",
		"From: this line looks like a header but is body text.",
		"",
	)
	if isASCII(strings.Join(lines, "")) {
		return g.leafText("plain", lines, "us-ascii", "7bit")
	}
	return g.leafText("plain", lines, "utf-8", "8bit")
}

// attachmentSizes returns n sizes in [lo, hi], clamped to MaxAttachment.
func (g *gen) attachmentSizes(n int, lo, hi int64) []int64 {
	hi = min(hi, g.c.opts.MaxAttachment)
	lo = max(min(lo, hi), 1)
	s := make([]int64, n)
	for i := range s {
		s[i] = lo + g.r.Int64N(hi-lo+1)
	}
	return s
}

// mixed returns a multipart/mixed message: the letter, then attachments of
// the given raw sizes.
func (g *gen) mixed(l *letter, sizes []int64) *node {
	var text *node
	if g.r.IntN(2) == 0 {
		text = g.alternative(l)
	} else {
		text = g.plain(l, g.style())
	}
	children := []*node{text}
	for _, n := range sizes {
		children = append(children, g.attachmentNode(n))
	}
	return g.multipart("mixed", children...)
}

// attachmentNode returns a base64 attachment of n raw octets.
func (g *gen) attachmentNode(n int64) *node {
	r := g.r
	ak := pick(r, attachmentKinds[:])
	name := fillNumber(r, ak.name)
	a := &attachment{n: n, magic: ak.magic, text: ak.text}
	for i := range 4 {
		v := r.Uint64()
		for j := range 8 {
			a.seed[i*8+j] = byte(v >> (8 * j))
		}
	}
	var ct, cd string
	if isASCII(name) {
		ct = fmt.Sprintf("Content-Type: %s; name=%q", ak.ctype, name)
		cd = fmt.Sprintf("Content-Disposition: attachment; filename=%q", name)
	} else {
		// RFC 2231 for the disposition, RFC 2047 words in the name
		// parameter for older readers.
		ct = fmt.Sprintf("Content-Type: %s;\r\n\tname=\"%s\"", ak.ctype, mime.QEncoding.Encode("UTF-8", name))
		cd = "Content-Disposition: attachment;\r\n\tfilename*=UTF-8''" + percentEncode(name)
	}
	if ak.text {
		ct += "; charset=utf-8"
	}
	return &node{
		header: []string{ct, cd, "Content-Transfer-Encoding: base64"},
		att:    a,
	}
}

// percentEncode encodes s as an RFC 2231 extended value.
func percentEncode(s string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := range len(s) {
		c := s[i]
		if c < 0x80 && (c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("!#$&+-.^_`|~", c) >= 0) {
			b.WriteByte(c)
		} else {
			b.WriteByte('%')
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&15])
		}
	}
	return b.String()
}
