package dav

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strings"
)

// This file reads just enough of vCard (RFC 6350) and iCalendar (RFC 5545)
// to find UIDs and split or merge objects, always copying the original
// lines byte for byte: only line ends are written as CRLF.

// physicalLines splits data into lines without their CR LF or LF ends.
// A final empty line is dropped.
func physicalLines(data []byte) []string {
	s := string(data)
	s = strings.TrimPrefix(s, "\uFEFF")
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = strings.TrimSuffix(l, "\r")
	}
	if n := len(lines); n > 0 && lines[n-1] == "" {
		lines = lines[:n-1]
	}
	return lines
}

// isContinuation reports whether a physical line continues the previous
// one (RFC 5545 section 3.1, RFC 6350 section 3.2: folded lines start
// with a space or a tab).
func isContinuation(line string) bool {
	return line != "" && (line[0] == ' ' || line[0] == '\t')
}

// contentLine is a parsed content line: NAME;PARAM=VALUE:VALUE.
type contentLine struct {
	// Name is the property name in upper case, without a vCard group.
	Name string
	// Params maps upper-case parameter names to their values, unquoted.
	Params map[string][]string
	// Value is the raw value after the first colon outside quotes.
	Value string
}

// parseContentLine parses an unfolded content line; ok is false if it
// has no colon.
func parseContentLine(line string) (cl contentLine, ok bool) {
	inQuote := false
	colon := -1
	for i := 0; i < len(line); i++ {
		switch line[i] {
		case '"':
			inQuote = !inQuote
		case ':':
			if !inQuote {
				colon = i
			}
		}
		if colon >= 0 {
			break
		}
	}
	if colon < 0 {
		return contentLine{}, false
	}
	head, value := line[:colon], line[colon+1:]
	parts := splitOutsideQuotes(head, ';')
	name := parts[0]
	if dot := strings.LastIndexByte(name, '.'); dot >= 0 {
		name = name[dot+1:]
	}
	cl = contentLine{Name: strings.ToUpper(strings.TrimSpace(name)), Value: value}
	for _, p := range parts[1:] {
		k, v, _ := strings.Cut(p, "=")
		k = strings.ToUpper(strings.TrimSpace(k))
		if cl.Params == nil {
			cl.Params = make(map[string][]string)
		}
		for _, one := range splitOutsideQuotes(v, ',') {
			cl.Params[k] = append(cl.Params[k], strings.Trim(one, `"`))
		}
	}
	return cl, true
}

// splitOutsideQuotes splits s at sep where sep is not inside double quotes.
func splitOutsideQuotes(s string, sep byte) []string {
	var out []string
	inQuote := false
	start := 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '"':
			inQuote = !inQuote
		case sep:
			if !inQuote {
				out = append(out, s[start:i])
				start = i + 1
			}
		}
	}
	return append(out, s[start:])
}

// property is a content line with the physical lines it came from.
type rawProp struct {
	raw []string
	contentLine
	ok bool
}

// unfold groups physical lines into properties (a line and its
// continuations).
func unfold(lines []string) []rawProp {
	var out []rawProp
	for _, l := range lines {
		if isContinuation(l) && len(out) > 0 {
			last := &out[len(out)-1]
			last.raw = append(last.raw, l)
			continue
		}
		out = append(out, rawProp{raw: []string{l}})
	}
	for i := range out {
		var b strings.Builder
		for j, l := range out[i].raw {
			if j > 0 {
				l = l[1:]
			}
			b.WriteString(l)
		}
		out[i].contentLine, out[i].ok = parseContentLine(b.String())
	}
	return out
}

// isBegin reports whether p is BEGIN:name (name in upper case).
func (p *rawProp) isBegin(name string) bool {
	return p.ok && p.Name == "BEGIN" && strings.EqualFold(strings.TrimSpace(p.Value), name)
}

// beginName returns the component p begins, in upper case, or "".
func (p *rawProp) beginName() string {
	if p.ok && p.Name == "BEGIN" {
		return strings.ToUpper(strings.TrimSpace(p.Value))
	}
	return ""
}

// endName returns the component p ends, in upper case, or "".
func (p *rawProp) endName() string {
	if p.ok && p.Name == "END" {
		return strings.ToUpper(strings.TrimSpace(p.Value))
	}
	return ""
}

// errNoObject is returned for data holding no vCard or no VCALENDAR.
var errNoObject = errors.New("no BEGIN:VCARD or BEGIN:VCALENDAR found")

// component is one top-level component of a VCALENDAR (an event, a task,
// a time zone...) with its original lines.
type component struct {
	// Name is the component name in upper case (VEVENT, VTIMEZONE).
	Name string
	// UID is the component's own UID, "" if it has none.
	UID string
	// TZID is a VTIMEZONE's TZID.
	TZID string
	// Summary is an event's or task's SUMMARY, for reports.
	Summary string
	// Refs are the TZIDs the component's properties use.
	Refs []string
	raw  []string
}

// calendar is an iCalendar stream read into its parts.
type calendar struct {
	// Props are the VCALENDAR-level properties, in order.
	Props []rawProp
	// Comps are the top-level components of every VCALENDAR, in order.
	Comps []component
}

// parseCalendar reads every VCALENDAR in data.
func parseCalendar(data []byte) (*calendar, error) {
	props := unfold(physicalLines(data))
	cal := &calendar{}
	found := false
	depth := 0
	var cur *component
	for i := range props {
		p := &props[i]
		if b := p.beginName(); b != "" {
			depth++
			switch {
			case depth == 1:
				if b != "VCALENDAR" {
					return nil, errors.New("BEGIN:" + b + " outside a VCALENDAR")
				}
				found = true
				continue
			case depth == 2:
				cal.Comps = append(cal.Comps, component{Name: b})
				cur = &cal.Comps[len(cal.Comps)-1]
			}
		}
		if depth >= 2 && cur != nil {
			cur.raw = append(cur.raw, p.raw...)
			if depth == 2 && p.ok {
				switch p.Name {
				case "UID":
					if cur.UID == "" {
						cur.UID = strings.TrimSpace(p.Value)
					}
				case "TZID":
					cur.TZID = strings.TrimSpace(p.Value)
				case "SUMMARY":
					cur.Summary = unescapeText(p.Value)
				}
			}
			if p.ok && cur.Name != "VTIMEZONE" {
				for _, tz := range p.Params["TZID"] {
					if !contains(cur.Refs, tz) {
						cur.Refs = append(cur.Refs, tz)
					}
				}
			}
		} else if depth == 1 && p.ok && p.endName() == "" {
			cal.Props = append(cal.Props, *p)
		}
		if e := p.endName(); e != "" {
			if depth == 2 {
				cur = nil
			}
			depth--
			if depth < 0 {
				return nil, errors.New("END:" + e + " without BEGIN")
			}
		}
	}
	if !found {
		return nil, errNoObject
	}
	if depth != 0 {
		return nil, errors.New("VCALENDAR not closed by END:VCALENDAR")
	}
	return cal, nil
}

// contains reports whether list holds s.
func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// unescapeText undoes RFC 5545 section 3.3.11 / RFC 6350 section 3.4 text
// escaping, for showing a name to people.
func unescapeText(s string) string {
	return strings.NewReplacer(`\n`, " ", `\N`, " ", `\,`, ",", `\;`, ";", `\\`, `\`).Replace(strings.TrimSpace(s))
}

// escapeText applies RFC 5545 section 3.3.11 text escaping.
func escapeText(s string) string {
	return strings.NewReplacer(`\`, `\\`, ";", `\;`, ",", `\,`, "\r\n", `\n`, "\n", `\n`, "\r", `\n`).Replace(s)
}

// fold writes one content line folded at 75 octets (RFC 5545 section
// 3.1), never inside a UTF-8 sequence, with CRLF.
func fold(b *bytes.Buffer, line string) {
	const limit = 75
	first := true
	for len(line) > 0 {
		max := limit
		if !first {
			max = limit - 1
			b.WriteByte(' ')
		}
		if len(line) <= max {
			b.WriteString(line)
			break
		}
		cut := max
		for cut > 0 && line[cut]&0xC0 == 0x80 {
			cut--
		}
		b.WriteString(line[:cut])
		b.WriteString("\r\n")
		line = line[cut:]
		first = false
	}
	b.WriteString("\r\n")
}

// objectInfo is what Mailmover needs to know of a stored object.
type objectInfo struct {
	// UID identifies the object (RFC 6350 section 6.7.6, RFC 5545
	// section 3.8.4.7); "" if it has none.
	UID string
	// Summary is the contact's FN or the event's SUMMARY, for reports.
	Summary string
}

// inspect finds the UID and a summary of a vCard or iCalendar object.
func inspect(kind Kind, data []byte) (objectInfo, error) {
	if kind == Calendars {
		cal, err := parseCalendar(data)
		if err != nil {
			return objectInfo{}, err
		}
		var info objectInfo
		for _, c := range cal.Comps {
			if c.Name == "VTIMEZONE" {
				continue
			}
			if info.UID == "" {
				info.UID = c.UID
			}
			if info.Summary == "" {
				info.Summary = c.Summary
			}
		}
		return info, nil
	}
	cards := splitVCards(data)
	if len(cards) == 0 {
		return objectInfo{}, errNoObject
	}
	var info objectInfo
	depth := 0
	for _, p := range unfold(physicalLines(cards[0])) {
		if p.beginName() != "" {
			depth++
			continue
		}
		if p.endName() != "" {
			depth--
			continue
		}
		if depth != 1 || !p.ok {
			continue
		}
		switch p.Name {
		case "UID":
			if info.UID == "" {
				info.UID = strings.TrimSpace(p.Value)
			}
		case "FN":
			if info.Summary == "" {
				info.Summary = unescapeText(p.Value)
			}
		}
	}
	return info, nil
}

// splitVCards splits a .vcf stream into its vCards, each with its
// original lines and CRLF line ends. Text outside BEGIN:VCARD ...
// END:VCARD is ignored.
func splitVCards(data []byte) [][]byte {
	var out [][]byte
	var cur bytes.Buffer
	depth := 0
	for _, p := range unfold(physicalLines(data)) {
		if depth == 0 && !p.isBegin("VCARD") {
			continue
		}
		if p.isBegin("VCARD") {
			depth++
		}
		for _, l := range p.raw {
			cur.WriteString(l)
			cur.WriteString("\r\n")
		}
		if p.endName() == "VCARD" {
			depth--
			if depth == 0 {
				out = append(out, bytes.Clone(cur.Bytes()))
				cur.Reset()
			}
		}
	}
	return out
}

// calendarMeta are the VCALENDAR-level properties that describe a whole
// calendar rather than one object (RFC 7986 and the de-facto X-WR-*).
var calendarMeta = [...]string{"METHOD", "X-WR-CALNAME", "X-WR-CALDESC", "X-APPLE-CALENDAR-COLOR", "NAME", "COLOR", "REFRESH-INTERVAL", "SOURCE"}

// isCalendarMeta reports whether a VCALENDAR property describes the
// calendar as a whole (and so does not belong in one stored object).
func isCalendarMeta(name string) bool {
	for _, m := range calendarMeta {
		if m == name {
			return true
		}
	}
	return false
}

// splitCalendar splits an iCalendar stream into calendar objects as
// CalDAV stores them (RFC 4791 section 4.1): all components sharing a UID
// (a recurring event and its RECURRENCE-ID overrides) in one object, with
// the VTIMEZONEs they use. Each object keeps the stream's VCALENDAR
// properties, except those describing the whole calendar (METHOD,
// X-WR-CALNAME...); components keep their original lines. Components
// without a UID become an object each.
func splitCalendar(data []byte) ([][]byte, error) {
	cal, err := parseCalendar(data)
	if err != nil {
		return nil, err
	}
	tz := make(map[string]*component)
	for i := range cal.Comps {
		c := &cal.Comps[i]
		if c.Name == "VTIMEZONE" && c.TZID != "" {
			if _, dup := tz[c.TZID]; !dup {
				tz[c.TZID] = c
			}
		}
	}
	var groups [][]*component
	byUID := make(map[string]int)
	for i := range cal.Comps {
		c := &cal.Comps[i]
		if c.Name == "VTIMEZONE" {
			continue
		}
		if c.UID != "" {
			if g, ok := byUID[c.UID]; ok {
				groups[g] = append(groups[g], c)
				continue
			}
			byUID[c.UID] = len(groups)
		}
		groups = append(groups, []*component{c})
	}
	var out [][]byte
	for _, g := range groups {
		var b bytes.Buffer
		b.WriteString("BEGIN:VCALENDAR\r\n")
		hasVersion := false
		for _, p := range cal.Props {
			if p.Name == "VERSION" {
				if hasVersion {
					continue
				}
				hasVersion = true
			}
			if isCalendarMeta(p.Name) || (p.Name == "PRODID" && containsProp(b.Bytes(), "PRODID")) || (p.Name == "CALSCALE" && containsProp(b.Bytes(), "CALSCALE")) {
				continue
			}
			writeRaw(&b, p.raw)
		}
		if !hasVersion {
			b.WriteString("VERSION:2.0\r\n")
		}
		var refs []string
		for _, c := range g {
			for _, r := range c.Refs {
				if !contains(refs, r) {
					refs = append(refs, r)
				}
			}
		}
		for _, r := range refs {
			if c, ok := tz[r]; ok {
				writeRaw(&b, c.raw)
			}
		}
		for _, c := range g {
			writeRaw(&b, c.raw)
		}
		b.WriteString("END:VCALENDAR\r\n")
		out = append(out, b.Bytes())
	}
	return out, nil
}

// containsProp reports whether the already written VCALENDAR header b
// has a line starting with name and a colon.
func containsProp(b []byte, name string) bool {
	for _, l := range physicalLines(b) {
		if strings.HasPrefix(strings.ToUpper(l), name+":") || strings.HasPrefix(strings.ToUpper(l), name+";") {
			return true
		}
	}
	return false
}

// writeRaw writes lines with CRLF ends.
func writeRaw(b *bytes.Buffer, lines []string) {
	for _, l := range lines {
		b.WriteString(l)
		b.WriteString("\r\n")
	}
}

// calendarHeader describes the VCALENDAR a backup file opens with.
type calendarHeader struct {
	Name, Description, Color string
}

// mergeCalendars writes objects as one VCALENDAR (for a backup file):
// every component of every object, original lines kept, each VTIMEZONE
// once (the first seen for a TZID), and X-WR-CALNAME / X-WR-CALDESC /
// X-APPLE-CALENDAR-COLOR naming the calendar for importers. bad lists the
// indexes of objects that could not be read; they are left out.
func mergeCalendars(h calendarHeader, objects [][]byte) (out []byte, components int, bad []int) {
	var tzs, comps bytes.Buffer
	seenTZ := make(map[string]bool)
	calscale := ""
	for i, data := range objects {
		cal, err := parseCalendar(data)
		if err != nil {
			bad = append(bad, i)
			continue
		}
		for _, p := range cal.Props {
			if p.Name == "CALSCALE" && calscale == "" {
				calscale = strings.TrimSpace(p.Value)
			}
		}
		for _, c := range cal.Comps {
			if c.Name == "VTIMEZONE" {
				if seenTZ[c.TZID] {
					continue
				}
				seenTZ[c.TZID] = true
				writeRaw(&tzs, c.raw)
				continue
			}
			writeRaw(&comps, c.raw)
			components++
		}
	}
	var b bytes.Buffer
	b.WriteString("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Mailmover//Calendar backup//EN\r\n")
	if calscale != "" && !strings.EqualFold(calscale, "GREGORIAN") {
		fold(&b, "CALSCALE:"+calscale)
	}
	if h.Name != "" {
		fold(&b, "X-WR-CALNAME:"+escapeText(h.Name))
	}
	if h.Description != "" {
		fold(&b, "X-WR-CALDESC:"+escapeText(h.Description))
	}
	if h.Color != "" {
		fold(&b, "X-APPLE-CALENDAR-COLOR:"+escapeText(h.Color))
	}
	b.Write(tzs.Bytes())
	b.Write(comps.Bytes())
	b.WriteString("END:VCALENDAR\r\n")
	return b.Bytes(), components, bad
}

// contentHash returns a short hex digest of data, for naming objects that
// have no usable UID.
func contentHash(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:16])
}
