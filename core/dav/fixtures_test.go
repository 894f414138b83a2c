package dav_test

import (
	"encoding/base64"
	"math/rand/v2"
	"strings"

	"mailmover/core/davtest"
)

// crlf turns a fixture written with "\n" into CRLF lines.
func crlf(s string) []byte {
	return []byte(strings.ReplaceAll(strings.TrimLeft(s, "\n"), "\n", "\r\n"))
}

// photo returns a deterministic pseudo-JPEG of n bytes, base64-encoded.
func photo(n int) (raw []byte, b64 string) {
	r := rand.New(rand.NewPCG(1, 2))
	raw = make([]byte, n)
	for i := range raw {
		raw[i] = byte(r.IntN(256))
	}
	raw[0], raw[1], raw[2] = 0xFF, 0xD8, 0xFF
	return raw, base64.StdEncoding.EncodeToString(raw)
}

// foldB64 folds a long value as vCard 3.0 writers do: 75 octets, then
// continuation lines starting with a space.
func foldB64(prefix, value string) string {
	line := prefix + value
	var b strings.Builder
	for len(line) > 75 {
		b.WriteString(line[:75] + "\n ")
		line = line[75:]
	}
	b.WriteString(line)
	return b.String()
}

// fixture is one object to seed, with its name in the collection.
type fixture struct {
	name, uid string
	data      []byte
}

// photoBytes is the photo of the first contact, to compare after a round trip.
var photoBytes, photoB64 = photo(3000)

// contactFixtures are tricky vCards: a 3.0 card with an inline photo,
// grouped properties and non-ASCII names; a 4.0 card in several scripts
// with an escaped multi-line address; a card with a long folded note.
func contactFixtures() []fixture {
	return []fixture{
		{"photo.vcf", "contact-photo-1", crlf(`
BEGIN:VCARD
VERSION:3.0
PRODID:-//Mailmover test//EN
UID:contact-photo-1
FN:Jürgen Ñúñez-Ødegård
N:Ñúñez-Ødegård;Jürgen;;Dr.;
EMAIL;TYPE=INTERNET,HOME:juergen@example.org
item1.TEL;TYPE=CELL:+49 170 1234567
item1.X-ABLABEL:mobile
` + foldB64("PHOTO;ENCODING=b;TYPE=JPEG:", photoB64) + `
END:VCARD
`)},
		{"multi-script.vcf", "urn:uuid:8e3f1a4c-61a0-4cf0-9e0a-5b9c2a3f7d11", crlf(`
BEGIN:VCARD
VERSION:4.0
UID:urn:uuid:8e3f1a4c-61a0-4cf0-9e0a-5b9c2a3f7d11
FN:山田 太郎 (Yamada Tarō) 🎌
N:山田;太郎;;;
EMAIL;TYPE=work:taro@example.jp
ADR;TYPE=home:;;1-2-3 Shibuya\nApartment 4;Tōkyō;;150-0002;Japan
NOTE:Привет\, мир; Ελληνικά
END:VCARD
`)},
		{"long-note.vcf", "contact-note-3", crlf(`
BEGIN:VCARD
VERSION:3.0
UID:contact-note-3
FN:Zoë O'Brien
N:O'Brien;Zoë;;;
ORG:Café Ünïcode Ltd.
NOTE:This note is deliberately long so that it has to be folded across sev
 eral lines\, and it has a comma and a semicolon\; too.
END:VCARD
`)},
	}
}

// eventFixtures are tricky events: a weekly meeting in Berlin time with
// an excluded date and a moved occurrence (RECURRENCE-ID override in the
// same object), an all-day event with an alarm, a New York event, and a
// UTC event.
func eventFixtures() []fixture {
	return []fixture{
		{"standup.ics", "weekly-standup@example.org", crlf(`
BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//Mailmover test//EN
CALSCALE:GREGORIAN
` + davtest.VTimezoneBerlin + `
BEGIN:VEVENT
UID:weekly-standup@example.org
DTSTAMP:20240101T090000Z
DTSTART;TZID=Europe/Berlin:20240108T093000
DTEND;TZID=Europe/Berlin:20240108T100000
RRULE:FREQ=WEEKLY;BYDAY=MO;COUNT=10
EXDATE;TZID=Europe/Berlin:20240115T093000
SUMMARY:Stand-up – Größe ☕
LOCATION:Raum "Äquator"\, 3. OG
DESCRIPTION:Agenda: what happened\, what comes next\, and what is in the w
 ay. Übersicht über alle Themen.
END:VEVENT
BEGIN:VEVENT
UID:weekly-standup@example.org
DTSTAMP:20240101T090000Z
RECURRENCE-ID;TZID=Europe/Berlin:20240122T093000
DTSTART;TZID=Europe/Berlin:20240122T110000
DTEND;TZID=Europe/Berlin:20240122T113000
SUMMARY:Stand-up (moved to 11:00)
END:VEVENT
END:VCALENDAR
`)},
		{"holiday.ics", "allday-holiday-2024", crlf(`
BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//Mailmover test//EN
BEGIN:VEVENT
UID:allday-holiday-2024
DTSTAMP:20240101T090000Z
DTSTART;VALUE=DATE:20241003
DTEND;VALUE=DATE:20241004
SUMMARY:Tag der Deutschen Einheit
TRANSP:TRANSPARENT
BEGIN:VALARM
ACTION:DISPLAY
DESCRIPTION:Feiertag
TRIGGER:-PT15H
END:VALARM
END:VEVENT
END:VCALENDAR
`)},
		{"nyc.ics", "nyc-call-7", crlf(`
BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//Mailmover test//EN
` + davtest.VTimezoneNewYork + `
BEGIN:VEVENT
UID:nyc-call-7
DTSTAMP:20240101T090000Z
DTSTART;TZID=America/New_York:20240310T013000
DURATION:PT2H
SUMMARY:Call across the DST change
ATTENDEE;CN="Renée Müller";PARTSTAT=ACCEPTED:mailto:renee@example.org
ORGANIZER;CN=Ann:mailto:ann@example.org
END:VEVENT
END:VCALENDAR
`)},
		{"utc.ics", "utc-event-8", crlf(`
BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//Mailmover test//EN
BEGIN:VEVENT
UID:utc-event-8
DTSTAMP:20240101T090000Z
DTSTART:20240501T120000Z
DTEND:20240501T130000Z
SUMMARY:Lunch (UTC)
CATEGORIES:Food,Social
END:VEVENT
END:VCALENDAR
`)},
	}
}

// taskFixtures are tasks (VTODO): one with a due date in Berlin time and
// one completed.
func taskFixtures() []fixture {
	return []fixture{
		{"task-due.ics", "task-due-1", crlf(`
BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//Mailmover test//EN
` + davtest.VTimezoneBerlin + `
BEGIN:VTODO
UID:task-due-1
DTSTAMP:20240101T090000Z
DUE;TZID=Europe/Berlin:20240201T170000
SUMMARY:Steuererklärung abgeben
PRIORITY:1
STATUS:NEEDS-ACTION
END:VTODO
END:VCALENDAR
`)},
		{"task-done.ics", "task-done-2", crlf(`
BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//Mailmover test//EN
BEGIN:VTODO
UID:task-done-2
DTSTAMP:20240101T090000Z
COMPLETED:20240105T101500Z
PERCENT-COMPLETE:100
STATUS:COMPLETED
SUMMARY:Buy milk 🥛
END:VTODO
END:VCALENDAR
`)},
	}
}

// decodeB64 decodes a base64 value, ignoring white space.
func decodeB64(s string) ([]byte, error) {
	return base64.StdEncoding.DecodeString(strings.Join(strings.Fields(s), ""))
}
