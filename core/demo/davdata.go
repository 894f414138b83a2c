package demo

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"strings"

	"mailmover/core/dav"
	"mailmover/core/davtest"
)

// SourceAddressBooks returns the display names of the old account's
// address books. The new account has one address book from the start,
// named like the first, so that the plan shows one address book merged
// into and one created.
func SourceAddressBooks() []string { return []string{"Contacts", "Family"} }

// SourceCalendars returns the display names of the old account's
// calendars: events, and tasks (VTODO). The new account has one calendar
// from the start, named like the first.
func SourceCalendars() []string { return []string{"Personal", "Tasks"} }

// person is a generated contact.
type person struct {
	given, family string
	// handle is the ASCII local part of the e-mail address.
	handle string
}

// givenNames and familyNames make up the demo's contacts: names from
// many languages, most of them beyond ASCII.
var givenNames = [...]struct{ name, ascii string }{
	{"Zoë", "zoe"}, {"Jürgen", "juergen"}, {"Ana", "ana"}, {"Łukasz", "lukasz"},
	{"Søren", "soren"}, {"Chloé", "chloe"}, {"Björn", "bjorn"}, {"Aoife", "aoife"},
	{"Ngọc", "ngoc"}, {"Dženana", "dzenana"}, {"Íñigo", "inigo"}, {"Mårten", "marten"},
	{"Şebnem", "sebnem"}, {"Renée", "renee"}, {"Tomáš", "tomas"}, {"Hana", "hana"},
	{"Ólafur", "olafur"}, {"Małgorzata", "malgorzata"}, {"João", "joao"}, {"Émile", "emile"},
	{"Yusuf", "yusuf"}, {"Ingrid", "ingrid"}, {"Kalinda", "kalinda"}, {"Αθηνά", "athina"},
	{"Дмитрий", "dmitry"},
}

var familyNames = [...]struct{ name, ascii string }{
	{"Müller", "mueller"}, {"Núñez", "nunez"}, {"Dvořák", "dvorak"}, {"Østergaard", "ostergaard"},
	{"Kowalski", "kowalski"}, {"Nakamura", "nakamura"}, {"O'Brien", "obrien"}, {"Çelik", "celik"},
	{"Papadopoulou", "papadopoulou"}, {"Lefèvre", "lefevre"}, {"Nguyễn", "nguyen"},
}

// organisations are the employers some contacts have.
var organisations = [...]string{"Café Ünïcode GmbH", "Fjord & Sons", "Łódź Logistics", "Tōkyō Tea Co.", ""}

// contactsFixture returns the "Contacts" address book: 25 contacts in
// vCard 3.0 and 4.0, the first with a small photo.
func contactsFixture() davtest.Collection {
	c := davtest.Collection{Kind: dav.Contacts, Segment: "contacts", Name: "Contacts", Description: "Everyone", Color: "#1E88E5FF"}
	for i, g := range givenNames {
		f := familyNames[(i*7)%len(familyNames)]
		p := person{given: g.name, family: f.name, handle: g.ascii + "." + f.ascii}
		var extra []string
		if org := organisations[i%len(organisations)]; org != "" {
			extra = append(extra, "ORG:"+escape(org))
		}
		if i%3 == 0 {
			extra = append(extra, fmt.Sprintf("TEL;TYPE=CELL:+49 170 555 %04d", 100+i))
		}
		if i%4 == 1 {
			extra = append(extra, fmt.Sprintf("BDAY:19%02d%02d%02d", 60+i, 1+i%12, 1+(i*3)%28))
		}
		if i == 0 {
			extra = append(extra, fold("PHOTO;ENCODING=b;TYPE=PNG:"+base64.StdEncoding.EncodeToString(avatar())))
		}
		version := "3.0"
		if i%5 == 4 {
			version = "4.0"
		}
		uid := fmt.Sprintf("demo-contact-%02d@old-provider.example", i+1)
		c.Objects = append(c.Objects, davtest.Object{Name: fmt.Sprintf("contact-%02d.vcf", i+1), Data: vcard(version, uid, p, extra...)})
	}
	return c
}

// familyFixture returns the "Family" address book.
func familyFixture() davtest.Collection {
	c := davtest.Collection{Kind: dav.Contacts, Segment: "family", Name: "Family", Description: "Close family", Color: "#E53935FF"}
	members := []struct {
		p     person
		extra []string
	}{
		{person{"Mamá", "García", "mama.garcia"}, []string{"TEL;TYPE=HOME:+34 91 555 0101", `ADR;TYPE=HOME:;;Calle Mayor 12\, 3º;Madrid;;28013;España`}},
		{person{"Opa", "Schröder", "opa.schroeder"}, []string{"BDAY:1942-05-17", "NOTE:Likes long walks\\, strong coffee and Skat."}},
		{person{"Léa", "García", "lea.garcia"}, []string{"TEL;TYPE=CELL:+33 6 55 55 01 02"}},
		{person{"Kenji", "García-Sato", "kenji"}, []string{"NICKNAME:Ken", "BDAY:2012-11-03"}},
	}
	for i, m := range members {
		uid := fmt.Sprintf("demo-family-%d@old-provider.example", i+1)
		c.Objects = append(c.Objects, davtest.Object{Name: fmt.Sprintf("family-%d.vcf", i+1), Data: vcard("3.0", uid, m.p, m.extra...)})
	}
	return c
}

// vcard returns a vCard (RFC 6350, or RFC 2426 for 3.0) with CRLF lines.
func vcard(version, uid string, p person, extra ...string) []byte {
	lines := []string{
		"BEGIN:VCARD",
		"VERSION:" + version,
		"PRODID:-//Mailmover//Demo//EN",
		"UID:" + uid,
		"FN:" + escape(p.given+" "+p.family),
		"N:" + escape(p.family) + ";" + escape(p.given) + ";;;",
	}
	if version == "4.0" {
		lines = append(lines, "EMAIL;TYPE=home:"+p.handle+"@example.com")
	} else {
		lines = append(lines, "EMAIL;TYPE=INTERNET,HOME:"+p.handle+"@example.com")
	}
	lines = append(lines, extra...)
	lines = append(lines, "END:VCARD")
	return []byte(strings.Join(lines, "\r\n") + "\r\n")
}

// escape escapes a text value (RFC 6350 section 3.4).
func escape(s string) string {
	return strings.NewReplacer(`\`, `\\`, ",", `\,`, ";", `\;`, "\n", `\n`).Replace(s)
}

// fold folds an ASCII content line at 75 octets (RFC 6350 section 3.2).
func fold(line string) string {
	var b strings.Builder
	for len(line) > 75 {
		b.WriteString(line[:75] + "\r\n ")
		line = line[75:]
	}
	b.WriteString(line)
	return b.String()
}

// avatar returns a small PNG: a round blue badge on white.
func avatar() []byte {
	const n = 24
	img := image.NewNRGBA(image.Rect(0, 0, n, n))
	for y := range n {
		for x := range n {
			dx, dy := x-n/2, y-n/2
			c := color.NRGBA{0xFF, 0xFF, 0xFF, 0xFF}
			if dx*dx+dy*dy <= (n/2-1)*(n/2-1) {
				c = color.NRGBA{0x1E, 0x88, 0xE5, 0xFF}
			}
			img.SetNRGBA(x, y, c)
		}
	}
	var b bytes.Buffer
	// Encoding an in-memory image cannot fail.
	_ = png.Encode(&b, img)
	return b.Bytes()
}

// calendar wraps components in a VCALENDAR with CRLF lines.
func calendar(body string) []byte {
	s := "BEGIN:VCALENDAR\nVERSION:2.0\nPRODID:-//Mailmover//Demo//EN\nCALSCALE:GREGORIAN\n" + strings.TrimSpace(body) + "\nEND:VCALENDAR\n"
	return []byte(strings.ReplaceAll(s, "\n", "\r\n"))
}

// personalFixture returns the "Personal" calendar: a weekly meeting in
// Berlin time with one date left out and one moved (an exception in the
// same object), an all-day event, a yearly birthday, an event in Tokyo
// time, one with an alarm, and a few lunches in UTC.
func personalFixture() davtest.Collection {
	c := davtest.Collection{Kind: dav.Calendars, Segment: "personal", Name: "Personal", Description: "Appointments and plans", Color: "#43A047FF", Components: []string{"VEVENT"}}
	add := func(name, body string) {
		c.Objects = append(c.Objects, davtest.Object{Name: name, Data: calendar(body)})
	}
	add("standup.ics", davtest.VTimezoneBerlin+`
BEGIN:VEVENT
UID:demo-standup@old-provider.example
DTSTAMP:20250101T090000Z
DTSTART;TZID=Europe/Berlin:20250106T093000
DTEND;TZID=Europe/Berlin:20250106T100000
RRULE:FREQ=WEEKLY;BYDAY=MO;COUNT=12
EXDATE;TZID=Europe/Berlin:20250113T093000
SUMMARY:Team stand-up ☕
LOCATION:Raum „Äquator“\, 3. OG
DESCRIPTION:What happened\, what comes next\, and what is in the way.
END:VEVENT
BEGIN:VEVENT
UID:demo-standup@old-provider.example
DTSTAMP:20250101T090000Z
RECURRENCE-ID;TZID=Europe/Berlin:20250120T093000
DTSTART;TZID=Europe/Berlin:20250120T110000
DTEND;TZID=Europe/Berlin:20250120T113000
SUMMARY:Team stand-up (moved to 11:00)
END:VEVENT`)
	add("summer-party.ics", `
BEGIN:VEVENT
UID:demo-summer-party@old-provider.example
DTSTAMP:20250101T090000Z
DTSTART;VALUE=DATE:20250705
DTEND;VALUE=DATE:20250706
SUMMARY:Sommerfest im Garten 🌻
TRANSP:TRANSPARENT
END:VEVENT`)
	add("birthday-opa.ics", `
BEGIN:VEVENT
UID:demo-birthday-opa@old-provider.example
DTSTAMP:20250101T090000Z
DTSTART;VALUE=DATE:20250517
DTEND;VALUE=DATE:20250518
RRULE:FREQ=YEARLY
SUMMARY:Opa's birthday 🎂
END:VEVENT`)
	add("tokyo-call.ics", davtest.VTimezoneTokyo+`
BEGIN:VEVENT
UID:demo-tokyo-call@old-provider.example
DTSTAMP:20250101T090000Z
DTSTART;TZID=Asia/Tokyo:20250212T170000
DTEND;TZID=Asia/Tokyo:20250212T180000
SUMMARY:Call with the Tōkyō office
ORGANIZER;CN=Hana Nakamura:mailto:hana.nakamura@example.com
ATTENDEE;CN="Renée Lefèvre";PARTSTAT=ACCEPTED:mailto:renee.lefevre@example.com
END:VEVENT`)
	add("dentist.ics", `
BEGIN:VEVENT
UID:demo-dentist@old-provider.example
DTSTAMP:20250101T090000Z
DTSTART:20250303T081500Z
DTEND:20250303T090000Z
SUMMARY:Dentist
LOCATION:Zahnarztpraxis Dr. Öztürk
BEGIN:VALARM
ACTION:DISPLAY
DESCRIPTION:Dentist in one hour
TRIGGER:-PT1H
END:VALARM
END:VEVENT`)
	for i, g := range givenNames[:5] {
		add(fmt.Sprintf("lunch-%d.ics", i+1), fmt.Sprintf(`
BEGIN:VEVENT
UID:demo-lunch-%d@old-provider.example
DTSTAMP:20250101T090000Z
DTSTART:202504%02dT113000Z
DTEND:202504%02dT123000Z
SUMMARY:Lunch with %s
CATEGORIES:Food,Friends
END:VEVENT`, i+1, 7+i, 7+i, g.name))
	}
	return c
}

// tasksFixture returns the "Tasks" calendar: tasks (VTODO), one due in
// Berlin time, one done, one open without a date.
func tasksFixture() davtest.Collection {
	c := davtest.Collection{Kind: dav.Calendars, Segment: "tasks", Name: "Tasks", Description: "Things to do", Color: "#FB8C00FF", Components: []string{"VTODO"}}
	add := func(name, body string) {
		c.Objects = append(c.Objects, davtest.Object{Name: name, Data: calendar(body)})
	}
	add("tax-return.ics", davtest.VTimezoneBerlin+`
BEGIN:VTODO
UID:demo-task-tax@old-provider.example
DTSTAMP:20250101T090000Z
DUE;TZID=Europe/Berlin:20250731T170000
SUMMARY:Steuererklärung abgeben
PRIORITY:1
STATUS:NEEDS-ACTION
END:VTODO`)
	add("milk.ics", `
BEGIN:VTODO
UID:demo-task-milk@old-provider.example
DTSTAMP:20250101T090000Z
COMPLETED:20250105T101500Z
PERCENT-COMPLETE:100
STATUS:COMPLETED
SUMMARY:Buy milk 🥛
END:VTODO`)
	add("photos.ics", `
BEGIN:VTODO
UID:demo-task-photos@old-provider.example
DTSTAMP:20250101T090000Z
SUMMARY:Sort the holiday photos
STATUS:IN-PROCESS
PERCENT-COMPLETE:40
END:VTODO`)
	return c
}

// sourceDAV returns the old account's address books and calendars.
func sourceDAV() []davtest.Collection {
	return []davtest.Collection{contactsFixture(), familyFixture(), personalFixture(), tasksFixture()}
}

// targetDAV returns the new account's collections: an empty default
// address book and calendar, as a freshly opened account has, named like
// the old account's first ones.
func targetDAV() []davtest.Collection {
	return []davtest.Collection{
		{Kind: dav.Contacts, Segment: "default", Name: SourceAddressBooks()[0]},
		{Kind: dav.Calendars, Segment: "default", Name: SourceCalendars()[0], Components: []string{"VEVENT", "VTODO"}},
	}
}
