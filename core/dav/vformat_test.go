package dav

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"

	"github.com/emersion/go-ical"

	"mailmover/core/failure"
)

func lines(s ...string) []byte { return []byte(strings.Join(s, "\r\n") + "\r\n") }

func TestParseContentLine(t *testing.T) {
	tests := []struct {
		in   string
		want contentLine
		ok   bool
	}{
		{"UID:abc", contentLine{Name: "UID", Value: "abc"}, true},
		{"item1.TEL;type=CELL:+49 1", contentLine{Name: "TEL", Params: map[string][]string{"TYPE": {"CELL"}}, Value: "+49 1"}, true},
		{`ATTENDEE;CN="Doe: John";ROLE=REQ:mailto:j@x`, contentLine{Name: "ATTENDEE", Params: map[string][]string{"CN": {"Doe: John"}, "ROLE": {"REQ"}}, Value: "mailto:j@x"}, true},
		{"DTSTART;TZID=Europe/Berlin:20240101T090000", contentLine{Name: "DTSTART", Params: map[string][]string{"TZID": {"Europe/Berlin"}}, Value: "20240101T090000"}, true},
		{"EMAIL;TYPE=INTERNET,HOME:a@b", contentLine{Name: "EMAIL", Params: map[string][]string{"TYPE": {"INTERNET", "HOME"}}, Value: "a@b"}, true},
		{"no colon here", contentLine{}, false},
	}
	for _, tc := range tests {
		got, ok := parseContentLine(tc.in)
		if ok != tc.ok || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("parseContentLine(%q) = %+v, %v; want %+v, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

func TestInspect(t *testing.T) {
	tests := []struct {
		kind Kind
		in   []byte
		want objectInfo
	}{
		{Contacts, lines("BEGIN:VCARD", "VERSION:3.0", "FN:Zo\\, ë", "UID:u1", "END:VCARD"), objectInfo{UID: "u1", Summary: "Zo, ë"}},
		{Contacts, []byte("BEGIN:VCARD\nVERSION:4.0\nUID:urn:uuid:1\nEND:VCARD\n"), objectInfo{UID: "urn:uuid:1"}},
		{Contacts, lines("BEGIN:VCARD", "VERSION:3.0", "FN:No UID", "END:VCARD"), objectInfo{Summary: "No UID"}},
		// A VALARM's own UID (RFC 9074) is not the event's.
		{Calendars, lines("BEGIN:VCALENDAR", "BEGIN:VTIMEZONE", "TZID:X", "END:VTIMEZONE", "BEGIN:VEVENT",
			"BEGIN:VALARM", "UID:alarm", "END:VALARM", "UID:ev", "SUMMARY:Meet", "END:VEVENT", "END:VCALENDAR"), objectInfo{UID: "ev", Summary: "Meet"}},
		{Calendars, lines("BEGIN:VCALENDAR", "BEGIN:VTODO", "UID:t", " ail", "END:VTODO", "END:VCALENDAR"), objectInfo{UID: "tail"}},
	}
	for _, tc := range tests {
		got, err := inspect(tc.kind, tc.in)
		if err != nil || got != tc.want {
			t.Errorf("inspect(%s, %q) = %+v, %v; want %+v", tc.kind, tc.in, got, err, tc.want)
		}
	}
	for _, bad := range [][]byte{[]byte("hello"), lines("BEGIN:VCALENDAR", "BEGIN:VEVENT", "END:VEVENT")} {
		if _, err := inspect(Calendars, bad); err == nil {
			t.Errorf("inspect(Calendars, %q) = nil error; want one", bad)
		}
	}
}

func TestSplitVCards(t *testing.T) {
	in := "\uFEFFjunk before\nBEGIN:VCARD\nVERSION:3.0\nUID:a\nNOTE:long\n  folded\nEND:VCARD\n\nbegin:vcard\r\nVERSION:4.0\r\nUID:b\r\nend:vcard\r\n"
	got := splitVCards([]byte(in))
	want := [][]byte{
		lines("BEGIN:VCARD", "VERSION:3.0", "UID:a", "NOTE:long", "  folded", "END:VCARD"),
		lines("begin:vcard", "VERSION:4.0", "UID:b", "end:vcard"),
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("splitVCards(%q) = %q; want %q", in, got, want)
	}
}

func TestSplitCalendar(t *testing.T) {
	in := lines(
		"BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//X//EN", "METHOD:PUBLISH", "X-WR-CALNAME:Work", "X-WR-TIMEZONE:Europe/Berlin",
		"BEGIN:VTIMEZONE", "TZID:Europe/Berlin", "BEGIN:STANDARD", "TZOFFSETTO:+0100", "END:STANDARD", "END:VTIMEZONE",
		"BEGIN:VTIMEZONE", "TZID:Unused", "END:VTIMEZONE",
		"BEGIN:VEVENT", "UID:r", "DTSTART;TZID=Europe/Berlin:20240101T090000", "RRULE:FREQ=DAILY", "END:VEVENT",
		"BEGIN:VTODO", "UID:t", "SUMMARY:task", "END:VTODO",
		"BEGIN:VEVENT", "UID:r", "RECURRENCE-ID;TZID=Europe/Berlin:20240102T090000", "DTSTART:20240102T100000Z", "END:VEVENT",
		"BEGIN:VEVENT", "SUMMARY:no uid", "END:VEVENT",
		"END:VCALENDAR")
	got, err := splitCalendar(in)
	if err != nil {
		t.Fatal(err)
	}
	head := []string{"BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//X//EN", "X-WR-TIMEZONE:Europe/Berlin"}
	tz := []string{"BEGIN:VTIMEZONE", "TZID:Europe/Berlin", "BEGIN:STANDARD", "TZOFFSETTO:+0100", "END:STANDARD", "END:VTIMEZONE"}
	cat := func(parts ...[]string) []byte {
		var all []string
		for _, p := range parts {
			all = append(all, p...)
		}
		return lines(all...)
	}
	want := [][]byte{
		cat(head, tz, []string{"BEGIN:VEVENT", "UID:r", "DTSTART;TZID=Europe/Berlin:20240101T090000", "RRULE:FREQ=DAILY", "END:VEVENT",
			"BEGIN:VEVENT", "UID:r", "RECURRENCE-ID;TZID=Europe/Berlin:20240102T090000", "DTSTART:20240102T100000Z", "END:VEVENT", "END:VCALENDAR"}),
		cat(head, []string{"BEGIN:VTODO", "UID:t", "SUMMARY:task", "END:VTODO", "END:VCALENDAR"}),
		cat(head, []string{"BEGIN:VEVENT", "SUMMARY:no uid", "END:VEVENT", "END:VCALENDAR"}),
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("splitCalendar =\n%s\nwant\n%s", bytes.Join(got, []byte("----\n")), bytes.Join(want, []byte("----\n")))
	}
	// Each object is a valid iCalendar stream for an independent parser.
	for _, o := range got {
		if _, err := ical.NewDecoder(bytes.NewReader(o)).Decode(); err != nil {
			t.Errorf("go-ical cannot read %q: %v", o, err)
		}
	}
}

func TestMergeCalendars(t *testing.T) {
	berlin := []string{"BEGIN:VTIMEZONE", "TZID:Europe/Berlin", "END:VTIMEZONE"}
	obj := func(body ...string) []byte {
		all := append([]string{"BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Y//EN"}, berlin...)
		all = append(all, body...)
		return lines(append(all, "END:VCALENDAR")...)
	}
	objs := [][]byte{
		obj("BEGIN:VEVENT", "UID:1", "SUMMARY:a", "END:VEVENT", "BEGIN:VEVENT", "UID:1", "RECURRENCE-ID:20240101T000000Z", "END:VEVENT"),
		[]byte("not a calendar"),
		obj("BEGIN:VTODO", "UID:2", "END:VTODO"),
	}
	name := "Büro; Team, \"A\" — with a name long enough to be folded across two lines"
	got, comps, bad := mergeCalendars(calendarHeader{Name: name, Color: "#FF0000FF"}, objs)
	if comps != 3 || !reflect.DeepEqual(bad, []int{1}) {
		t.Errorf("mergeCalendars: %d components, bad %v; want 3, [1]", comps, bad)
	}
	if n := strings.Count(string(got), "BEGIN:VTIMEZONE"); n != 1 {
		t.Errorf("merged calendar has %d VTIMEZONEs; want 1", n)
	}
	for _, l := range physicalLines(got) {
		if len(l) > 75 {
			t.Errorf("line of %d octets: %q", len(l), l)
		}
	}
	cal, err := ical.NewDecoder(bytes.NewReader(got)).Decode()
	if err != nil {
		t.Fatalf("go-ical cannot read %q: %v", got, err)
	}
	if v, err := cal.Props.Text("X-WR-CALNAME"); err != nil || v != name {
		t.Errorf("X-WR-CALNAME = %q, %v; want %q", v, err, name)
	}
	if n := len(cal.Children); n != 4 {
		t.Errorf("merged calendar has %d components; want 4", n)
	}
}

func TestFold(t *testing.T) {
	for _, s := range []string{"short", strings.Repeat("a", 75), strings.Repeat("ä", 80), strings.Repeat("x", 74) + "€" + strings.Repeat("y", 100)} {
		var b bytes.Buffer
		fold(&b, s)
		var got strings.Builder
		for i, l := range physicalLines(b.Bytes()) {
			if len(l) > 75 {
				t.Errorf("fold(%q): line %d has %d octets", s, i, len(l))
			}
			if i > 0 {
				l = l[1:]
			}
			got.WriteString(l)
		}
		if got.String() != s {
			t.Errorf("fold(%q) unfolds to %q", s, got.String())
		}
	}
}

func TestFileName(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Kontakte – Familie", "Kontakte – Familie"},
		{"a/b\\c:d*e?f\"g<h>i|j", "a_b_c_d_e_f_g_h_i_j"},
		{"  trailing dots.. ", "trailing dots"},
		{"", "collection"},
		{"CON", "collection CON"},
		{strings.Repeat("é", 80), strings.Repeat("é", 50)},
	}
	for _, tc := range tests {
		if got := fileName(tc.in); got != tc.want {
			t.Errorf("fileName(%q) = %q; want %q", tc.in, got, tc.want)
		}
	}
	used := map[string]bool{}
	var got []string
	for _, n := range []string{"Work", "work", "Work"} {
		got = append(got, uniqueFileName(n, ".ics", used))
	}
	if want := []string{"Work.ics", "work (2).ics", "Work (3).ics"}; !reflect.DeepEqual(got, want) {
		t.Errorf("uniqueFileName = %q; want %q", got, want)
	}
}

func TestSegmentFor(t *testing.T) {
	tests := []struct {
		url, name, want string
	}{
		{"https://h/dav/alice/contacts/", "", "contacts"},
		{"https://h/dav/alice/c%C3%A4l%20endar/", "Büro Kalender", "b-ro-kalender"},
		{"https://h/dav/alice/%E2%98%95/", "☕", contentHash([]byte("https://h/dav/alice/%E2%98%95/"))},
	}
	for _, tc := range tests {
		if got := segmentFor(Collection{URL: tc.url, Name: tc.name}); got != tc.want {
			t.Errorf("segmentFor(%q, %q) = %q; want %q", tc.url, tc.name, got, tc.want)
		}
	}
}

func TestObjectName(t *testing.T) {
	data := []byte("x")
	tests := []struct {
		src, uid string
		want     []string
	}{
		{"abc.vcf", "u-1", []string{"abc.vcf", "u-1.vcf", contentHash([]byte("u-1")) + ".vcf", contentHash(data) + ".vcf"}},
		{"has space.vcf", "urn:uuid:1", []string{contentHash([]byte("urn:uuid:1")) + ".vcf", contentHash(data) + ".vcf"}},
		{"", "", []string{contentHash(data) + ".vcf"}},
		{"", "x.vcf", []string{contentHash([]byte("x.vcf")) + ".vcf", contentHash(data) + ".vcf"}},
	}
	for _, tc := range tests {
		if got := objectName(Contacts, tc.src, tc.uid, data); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("objectName(%q, %q) = %q; want %q", tc.src, tc.uid, got, tc.want)
		}
	}
}

func TestSiteOf(t *testing.T) {
	tests := []struct{ in, want string }{
		{"caldav.icloud.com", "icloud.com"},
		{"p42-caldav.icloud.com", "icloud.com"},
		{"example.org", "example.org"},
		{"127.0.0.1", "127.0.0.1"},
		{"::1", "::1"},
		{"DAV.Example.ORG.", "example.org"},
		{"dav.example.co.uk", "example.co.uk"},
		{"other.co.uk", "other.co.uk"},
		{"mail.example.com.au", "example.com.au"},
	}
	for _, tc := range tests {
		if got := siteOf(tc.in); got != tc.want {
			t.Errorf("siteOf(%q) = %q; want %q", tc.in, got, tc.want)
		}
	}
}

func TestParseURL(t *testing.T) {
	tests := []struct {
		in   string
		want string
		kind failure.Kind
	}{
		{"https://dav.example.org/dav/", "https://dav.example.org/dav/", failure.Unknown},
		{"https://alice%40example.org@dav.example.org/", "https://dav.example.org/", failure.Unknown},
		{"http://127.0.0.1:5232/", "http://127.0.0.1:5232/", failure.Unknown},
		{"http://[::1]:5232/", "http://[::1]:5232/", failure.Unknown},
		{"http://dav.example.org/", "", failure.Config},
		{"https://alice:s3cret@dav.example.org/", "", failure.Config},
		{"ftp://dav.example.org/", "", failure.Config},
		{"dav.example.org", "", failure.Config},
	}
	for _, tc := range tests {
		u, err := ParseURL(tc.in)
		got := ""
		if u != nil {
			got = u.String()
		}
		if got != tc.want || failure.KindOf(err) != tc.kind {
			t.Errorf("ParseURL(%q) = %q, %v; want %q, %v", tc.in, got, err, tc.want, tc.kind)
		}
		if err != nil && strings.Contains(err.Error(), "s3cret") {
			t.Errorf("ParseURL(%q) error %q holds the password", tc.in, err)
		}
	}
}

func TestClassifyStatus(t *testing.T) {
	tests := []struct {
		code  int
		kind  failure.Kind
		scope failure.Scope
	}{
		{http.StatusUnauthorized, failure.Auth, failure.ScopeAccount},
		{http.StatusInsufficientStorage, failure.Quota, failure.ScopeAccount},
		{http.StatusRequestEntityTooLarge, failure.TooBig, failure.ScopeMessage},
		{http.StatusForbidden, failure.Refused, failure.ScopeMessage},
		{http.StatusBadRequest, failure.Refused, failure.ScopeMessage},
		{http.StatusUnsupportedMediaType, failure.Refused, failure.ScopeMessage},
		{http.StatusServiceUnavailable, failure.Throttled, failure.ScopeAccount},
		{http.StatusInternalServerError, failure.Refused, failure.ScopeMessage},
	}
	for _, tc := range tests {
		err := classifyStatus("put", &StatusError{Method: "PUT", URL: "https://h/x", Code: tc.code}, failure.ScopeMessage)
		if failure.KindOf(err) != tc.kind || failure.ScopeOf(err) != tc.scope {
			t.Errorf("classifyStatus(%d) = %v/%v; want %v/%v", tc.code, failure.KindOf(err), failure.ScopeOf(err), tc.kind, tc.scope)
		}
	}
}

func TestExcerpt(t *testing.T) {
	tests := []struct{ ct, body, want string }{
		{"text/plain", "Bad request\nmore", "Bad request"},
		{"application/xml", `<?xml version="1.0"?><D:error xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><C:no-uid-conflict/></D:error>`, "no-uid-conflict"},
		{"text/html", "<html>", ""},
	}
	for _, tc := range tests {
		if got := excerpt(tc.ct, []byte(tc.body)); got != tc.want {
			t.Errorf("excerpt(%q, %q) = %q; want %q", tc.ct, tc.body, got, tc.want)
		}
	}
}

func TestRetryAfter(t *testing.T) {
	tests := []struct {
		in   string
		want int
	}{{"", 0}, {"3", 3}, {"junk", 0}, {"100000", 60}}
	for _, tc := range tests {
		if got := int(retryAfter(tc.in).Seconds()); got != tc.want {
			t.Errorf("retryAfter(%q) = %ds; want %ds", tc.in, got, tc.want)
		}
	}
}

func TestStatusErrorHoldsNoSecret(t *testing.T) {
	u, _ := url.Parse("https://alice:pw@h/x?token=abc")
	se := &StatusError{Method: "GET", URL: redact(u), Code: 401}
	if s := se.Error(); strings.Contains(s, "pw") || strings.Contains(s, "abc") {
		t.Errorf("StatusError = %q; holds a secret", s)
	}
}

func TestForEachStopsAtFirstError(t *testing.T) {
	boom := errors.New("boom")
	var mu = make(chan struct{}, 1)
	mu <- struct{}{}
	calls := 0
	err := forEach(t.Context(), 2, 100, func(ctx context.Context, i int) error {
		<-mu
		calls++
		mu <- struct{}{}
		if i == 3 {
			return boom
		}
		return nil
	})
	if !errors.Is(err, boom) {
		t.Errorf("forEach = %v; want boom", err)
	}
	if calls >= 100 {
		t.Errorf("forEach went on after the error (%d calls)", calls)
	}
	if err := forEach(t.Context(), 4, 0, nil); err != nil {
		t.Errorf("forEach of nothing = %v", err)
	}
}
