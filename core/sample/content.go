package sample

import (
	"math/rand/v2"
	"strings"
	"unicode"
	"unicode/utf8"
)

// The tables below are read-only: they are never mutated.

// words are the vocabulary of generated text.
var words = [...]string{
	"the", "project", "meeting", "budget", "report", "schedule", "team", "client",
	"invoice", "review", "draft", "deadline", "update", "server", "release", "plan",
	"we", "should", "could", "will", "have", "need", "to", "discuss", "next", "week",
	"before", "after", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday",
	"please", "find", "attached", "the", "latest", "version", "of", "document",
	"thanks", "for", "your", "help", "with", "this", "issue", "and", "a", "quick",
	"question", "about", "numbers", "in", "quarter", "figures", "look", "good",
	"but", "I", "am", "not", "sure", "if", "legal", "has", "signed", "off", "on",
	"contract", "yet", "let", "me", "know", "when", "you", "are", "available",
	"call", "tomorrow", "morning", "afternoon", "office", "travel", "hotel",
	"booking", "confirmed", "payment", "received", "account", "migration", "backup",
	"mailbox", "folder", "archive", "photos", "holiday", "weekend", "dinner",
	"lunch", "coffee", "agenda", "minutes", "notes", "slides", "presentation",
	"feedback", "customer", "support", "ticket", "closed", "opened", "priority",
	"urgent", "FYI", "as", "discussed", "earlier", "today", "all", "best",
	"regards", "cheers", "again", "soon", "it", "is", "was", "be", "that", "there",
}

// utf8Words are mixed into UTF-8 text.
var utf8Words = [...]string{
	"café", "réunion", "déjà", "naïve", "Grüße", "Straße", "Übersicht", "mañana",
	"año", "señor", "façade", "crème", "brûlée", "smörgåsbord", "Ångström", "Zürich",
	"garçon", "résumé", "niño", "Łódź", "Kraków", "€", "£", "—", "“quoted”",
	"会議", "ありがとう", "日本語", "Привет", "спасибо", "Ελλάδα", "😀", "🎉", "✓",
}

// latin1Words are representable in ISO-8859-1.
var latin1Words = [...]string{
	"café", "réunion", "déjà", "naïve", "Grüße", "Straße", "Übersicht", "mañana",
	"año", "señor", "façade", "crème", "brûlée", "smörgåsbord", "Zürich", "garçon",
	"résumé", "niño", "£", "°C", "½", "©", "«", "»",
}

// person is a correspondent.
type person struct {
	name, addr string
}

// owner is the account the sample mailbox belongs to.
var owner = person{"Alice Example", "alice@example.org"}

// contacts write to and receive mail from the owner; all domains are
// reserved for documentation (RFC 2606).
var contacts = [...]person{
	{"Bob Smith", "bob.smith@example.com"},
	{"Carol Jones", "carol@example.net"},
	{"Dave Miller", "dave.miller@example.com"},
	{"Erin O'Brien", "erin.obrien@example.net"},
	{"Frank Li", "frank.li@example.com"},
	{"Grace Hopper", "grace@example.edu"},
	{"Heidi Klum", "heidi@example.org"},
	{"", "noreply@example.com"},
	{"José García", "jose.garcia@example.net"},
	{"Zoë Müller", "zoe.mueller@example.de"},
	{"Björn Ångström", "bjorn@example.se"},
	{"François Dupont", "francois.dupont@example.fr"},
	{"田中 太郎", "tanaka@example.jp"},
	{"Łukasz Żółć", "lukasz@example.pl"},
	{"Ольга Иванова", "olga@example.ru"},
}

// spammers send what lands in Junk.
var spammers = [...]person{
	{"Prize Department", "winner@spam.example"},
	{"Pharmacy Online", "deals@spam.example"},
	{"Bank Security", "security-alert@phish.example"},
}

// asciiSubjects are subject templates; # becomes a number.
var asciiSubjects = [...]string{
	"Quarterly report",
	"Meeting notes for Monday",
	"Invoice #",
	"Lunch on Friday?",
	"Project Alpha status update",
	"Your order # has shipped",
	"Budget review",
	"Holiday photos",
	"Server maintenance window tonight",
	"Welcome to the team",
	"Contract draft v#",
	"Question about the migration",
	"Minutes of the board meeting",
	"Ticket # closed",
	"Slides for tomorrow",
}

// utf8Subjects need RFC 2047 encoding, or RFC 6532 raw UTF-8.
var utf8Subjects = [...]string{
	"Réunion de lundi",
	"Reçu de paiement n° #",
	"Grüße aus München",
	"Café ☕ demain ?",
	"会議の議事録 (#)",
	"Счёт на оплату №#",
	"Ärger mit der Übersetzung",
	"¿Quedamos el jueves?",
	"Ελληνικά: δοκιμή #",
	"Party time 🎉🚀",
	"Crème brûlée recipe — à essayer",
	"日本語のテスト件名です。長い件名をエンコードする必要があります",
}

// spamSubjects land in Junk.
var spamSubjects = [...]string{
	"You have WON a prize!!!",
	"Cheap meds, no prescription",
	"Urgent: verify your account #",
	"Re: your invoice is overdue",
}

// offsets are the UTC offsets, in minutes, of INTERNALDATEs and Date headers.
var offsets = [...]int{
	-8 * 60, -7 * 60, -5 * 60, -3 * 60, -150, 0, 0, 60, 2 * 60, 3 * 60,
	5*60 + 30, 8 * 60, 9 * 60, 10 * 60, 12*60 + 45,
}

// attachmentKinds are file types of attachments.
var attachmentKinds = [...]struct {
	name, ctype, magic string
	text               bool
}{
	{"report-#.pdf", "application/pdf", "%PDF-1.5\n%\xe2\xe3\xcf\xd3\n", false},
	{"IMG_#.jpg", "image/jpeg", "\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01", false},
	{"diagram.png", "image/png", "\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", false},
	{"archive-#.zip", "application/zip", "PK\x03\x04\x14\x00\x00\x00\x08\x00", false},
	{"data-#.csv", "text/csv", "", true},
	{"notes.txt", "text/plain", "", true},
	{"Überweisung März #.pdf", "application/pdf", "%PDF-1.7\n", false},
	{"presentation.pptx", "application/vnd.openxmlformats-officedocument.presentationml.presentation", "PK\x03\x04", false},
	{"請求書.pdf", "application/pdf", "%PDF-1.4\n", false},
}

// mailers are User-Agent or X-Mailer header fields.
var mailers = [...]string{
	"User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:115.0) Gecko/20100101 Thunderbird/115.3.1",
	"X-Mailer: Apple Mail (2.3731.700.6)",
	"X-Mailer: Microsoft Outlook 16.0",
	"User-Agent: Roundcube Webmail/1.6.5",
	"X-Mailer: iPhone Mail (21A360)",
	"",
	"",
}

// pick returns a random element of s.
func pick[T any](r *rand.Rand, s []T) T { return s[r.IntN(len(s))] }

// fillNumber replaces every # in s with a random number.
func fillNumber(r *rand.Rand, s string) string {
	if !strings.Contains(s, "#") {
		return s
	}
	var b strings.Builder
	for _, c := range s {
		if c == '#' {
			b.Write(appendInt(nil, 100+r.IntN(99900)))
		} else {
			b.WriteRune(c)
		}
	}
	return b.String()
}

// textStyle says which characters generated text uses.
type textStyle int

const (
	styleASCII textStyle = iota
	styleUTF8
	styleLatin1
)

// sentence returns one sentence of random words.
func sentence(r *rand.Rand, style textStyle) string {
	n := 4 + r.IntN(12)
	var b strings.Builder
	for i := range n {
		if i > 0 {
			b.WriteByte(' ')
		}
		w := words[r.IntN(len(words))]
		switch {
		case style == styleUTF8 && r.IntN(6) == 0:
			w = utf8Words[r.IntN(len(utf8Words))]
		case style == styleLatin1 && r.IntN(5) == 0:
			w = latin1Words[r.IntN(len(latin1Words))]
		}
		if i == 0 {
			r0, size := utf8.DecodeRuneInString(w)
			w = string(unicode.ToUpper(r0)) + w[size:]
		}
		b.WriteString(w)
	}
	b.WriteString(pick(r, []string{".", ".", ".", "?", "!"}))
	return b.String()
}

// paragraph returns a few sentences on one line.
func paragraph(r *rand.Rand, style textStyle) string {
	n := 1 + r.IntN(5)
	s := make([]string, n)
	for i := range s {
		s[i] = sentence(r, style)
	}
	return strings.Join(s, " ")
}

// wrap breaks text into lines of at most width characters at spaces.
func wrap(text string, width int) []string {
	var lines []string
	var cur strings.Builder
	n := 0
	for _, w := range strings.Fields(text) {
		l := len([]rune(w))
		if n > 0 && n+1+l > width {
			lines = append(lines, cur.String())
			cur.Reset()
			n = 0
		}
		if n > 0 {
			cur.WriteByte(' ')
			n++
		}
		cur.WriteString(w)
		n += l
	}
	if n > 0 {
		lines = append(lines, cur.String())
	}
	return lines
}

// firstName returns the first word of a person's name, or a fallback.
func firstName(p person) string {
	if p.name == "" {
		return "there"
	}
	f, _, _ := strings.Cut(p.name, " ")
	return f
}
