package dav_test

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/emersion/go-ical"
	"github.com/emersion/go-vcard"

	"mailmover/core/dav"
	"mailmover/core/dav/radicaletest"
	"mailmover/core/failure"
)

// What Radicale 3.1 rewrites. Radicale parses every object it is given
// with Python's vobject and stores vobject's serialisation, so the bytes
// it hands back differ from the bytes it was given:
//
//   - properties are reordered (VERSION, PRODID and UID first, the rest
//     sorted by name), and so are the sub-components of a VTIMEZONE;
//   - property and parameter names are upper-cased ("type=CELL" becomes
//     "TYPE=CELL", "X-ABLabel" becomes "X-ABLABEL");
//   - lines are folded anew: text values at 75 octets, while a base64
//     PHOTO is written on one line;
//   - parameter values lose quotes they do not need
//     (CN="Renée Müller" becomes CN=Renée Müller);
//   - a semicolon left unescaped in a single text value is escaped
//     ("NOTE:a; b" becomes "NOTE:a\; b", as RFC 6350 section 3.4 asks);
//   - a zero DURATION next to a DTEND is dropped, and EXDATE/RDATE values
//     are converted to the value type of DTSTART (quirk fixes; the test
//     data avoids them).
//
// Serialising vobject's own output again changes nothing, so an object
// copied from one Radicale to another comes back byte for byte. The tests
// check both: target bytes equal source bytes exactly, and the seeded
// objects equal the stored ones after normalise (which undoes only the
// rewrites listed above).

// normalise unfolds content lines, upper-cases property and parameter
// names, and sorts the lines of each component and the components
// themselves, recursively.
func normalise(data []byte) string {
	lines := strings.Split(strings.ReplaceAll(string(data), "\r\n", "\n"), "\n")
	var unfolded []string
	for _, l := range lines {
		if l == "" {
			continue
		}
		if (l[0] == ' ' || l[0] == '\t') && len(unfolded) > 0 {
			unfolded[len(unfolded)-1] += l[1:]
			continue
		}
		unfolded = append(unfolded, l)
	}
	var parse func(i int) (string, int)
	parse = func(i int) (string, int) {
		// unfolded[i] is a BEGIN line.
		begin := strings.ToUpper(unfolded[i])
		var props, children []string
		i++
		for i < len(unfolded) {
			l := unfolded[i]
			up := strings.ToUpper(l)
			switch {
			case strings.HasPrefix(up, "BEGIN:"):
				c, next := parse(i)
				children = append(children, c)
				i = next
				continue
			case strings.HasPrefix(up, "END:"):
				sort.Strings(props)
				sort.Strings(children)
				return begin + "\n" + strings.Join(props, "\n") + "\n" + strings.Join(children, "\n") + "\n" + up, i + 1
			}
			props = append(props, normaliseLine(l))
			i++
		}
		return begin, i
	}
	var out []string
	for i := 0; i < len(unfolded); {
		if strings.HasPrefix(strings.ToUpper(unfolded[i]), "BEGIN:") {
			c, next := parse(i)
			out = append(out, c)
			i = next
			continue
		}
		i++
	}
	return strings.Join(out, "\n")
}

// textProps are single-text properties in which Radicale escapes a bare
// semicolon.
var textProps = map[string]bool{"NOTE": true, "FN": true, "SUMMARY": true, "DESCRIPTION": true, "LOCATION": true, "COMMENT": true}

// normaliseLine upper-cases a content line's name and parameter names,
// unquotes parameter values, and unescapes semicolons in single text
// values.
func normaliseLine(l string) string {
	colon := -1
	inQuote := false
	for i := 0; i < len(l); i++ {
		if l[i] == '"' {
			inQuote = !inQuote
		}
		if l[i] == ':' && !inQuote {
			colon = i
			break
		}
	}
	if colon < 0 {
		return l
	}
	parts := strings.Split(l[:colon], ";")
	parts[0] = strings.ToUpper(parts[0])
	for i := 1; i < len(parts); i++ {
		k, v, _ := strings.Cut(parts[i], "=")
		parts[i] = strings.ToUpper(k) + "=" + strings.Trim(v, `"`)
	}
	value := l[colon:]
	if textProps[parts[0]] {
		value = strings.ReplaceAll(value, `\;`, ";")
	}
	return strings.Join(parts, ";") + value
}

// seedAlice fills alice's account: an address book with a colour, a
// calendar of events with a colour, and a calendar of tasks.
func seedAlice(t *testing.T, s *radicaletest.Server) {
	s.MakeAddressBook(t, "alice", "contacts", "Kontakte – Familie", "#FF2968FF")
	for _, f := range contactFixtures() {
		s.Put(t, "alice", "alice/contacts/"+f.name, "text/vcard", f.data)
	}
	s.MakeAddressBook(t, "alice", "empty", "Leer", "")
	s.MakeCalendar(t, "alice", "work", "Arbeit ☕", "#1BADF8FF", "VEVENT", "VTODO")
	for _, f := range eventFixtures() {
		s.Put(t, "alice", "alice/work/"+f.name, "text/calendar", f.data)
	}
	s.MakeCalendar(t, "alice", "tasks", "Aufgaben", "", "VTODO")
	for _, f := range taskFixtures() {
		s.Put(t, "alice", "alice/tasks/"+f.name, "text/calendar", f.data)
	}
}

// connect logs in as user.
func connect(t *testing.T, s *radicaletest.Server, user, pw string, kind dav.Kind) *dav.Account {
	t.Helper()
	a, err := dav.Connect(t.Context(), dav.Config{URL: s.URL, Username: user, Password: pw}, kind)
	if err != nil {
		t.Fatalf("Connect(%s, %s) = %v\n%s", user, kind, err, s.Logs())
	}
	return a
}

// snapshot returns every object of a user's collection, by UID (read by
// go-vcard or go-ical, not by the code under test), and by href.
func snapshot(t *testing.T, s *radicaletest.Server, user, col string, kind dav.Kind) (byUID map[string][]byte, hrefs []string) {
	t.Helper()
	byUID = make(map[string][]byte)
	hrefs = s.List(t, user, user+"/"+col+"/")
	for _, h := range hrefs {
		data := s.Get(t, user, h)
		uid := independentUID(t, kind, data)
		if _, dup := byUID[uid]; dup {
			t.Errorf("%s: UID %q twice", h, uid)
		}
		byUID[uid] = data
	}
	return byUID, hrefs
}

// independentUID reads an object's UID with go-vcard or go-ical.
func independentUID(t *testing.T, kind dav.Kind, data []byte) string {
	t.Helper()
	if kind == dav.Contacts {
		card, err := vcard.NewDecoder(bytes.NewReader(data)).Decode()
		if err != nil {
			t.Fatalf("go-vcard cannot read %q: %v", data, err)
		}
		return card.Value(vcard.FieldUID)
	}
	cal, err := ical.NewDecoder(bytes.NewReader(data)).Decode()
	if err != nil {
		t.Fatalf("go-ical cannot read %q: %v", data, err)
	}
	for _, c := range cal.Children {
		if c.Name != ical.CompTimezone {
			if p := c.Props.Get(ical.PropUID); p != nil {
				return p.Value
			}
		}
	}
	t.Fatalf("no UID in %q", data)
	return ""
}

// collectionProps reads a collection's display name and colour with a
// PROPFIND of its own.
func collectionProps(t *testing.T, s *radicaletest.Server, user, path string) (name, color string, comps []string) {
	t.Helper()
	body := []byte(`<?xml version="1.0"?><D:propfind xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav" xmlns:I="http://apple.com/ns/ical/" xmlns:INF="http://inf-it.com/ns/ab/"><D:prop><D:displayname/><I:calendar-color/><INF:addressbook-color/><C:supported-calendar-component-set/></D:prop></D:propfind>`)
	code, data := s.Do(t, user, "PROPFIND", path, http.Header{"Depth": {"0"}}, body)
	if code != http.StatusMultiStatus {
		t.Fatalf("PROPFIND %s = %d", path, code)
	}
	var ms struct {
		Props []struct {
			Status string `xml:"status"`
			Name   string `xml:"prop>displayname"`
			Cal    string `xml:"http://apple.com/ns/ical/ prop>calendar-color"`
			Book   string `xml:"http://inf-it.com/ns/ab/ prop>addressbook-color"`
			Comps  []struct {
				Name string `xml:"name,attr"`
			} `xml:"prop>supported-calendar-component-set>comp"`
		} `xml:"response>propstat"`
	}
	if err := xml.Unmarshal(data, &ms); err != nil {
		t.Fatal(err)
	}
	for _, p := range ms.Props {
		if !strings.Contains(p.Status, "200") {
			continue
		}
		name, color = p.Name, p.Cal+p.Book
		for _, c := range p.Comps {
			comps = append(comps, c.Name)
		}
	}
	return name, color, comps
}

// fixtureMap returns fixtures by UID.
func fixtureMap(fs ...[]fixture) map[string][]byte {
	m := make(map[string][]byte)
	for _, l := range fs {
		for _, f := range l {
			m[f.uid] = f.data
		}
	}
	return m
}

func TestCopyRadicale(t *testing.T) {
	t.Parallel()
	s := radicaletest.Start(t, radicaletest.Options{})
	seedAlice(t, s)
	// Bob has an address book of the same name holding one of alice's
	// contacts and one of his own: the copy merges into it.
	s.MakeAddressBook(t, "bob", "family", "Kontakte – Familie", "")
	bobOwn := crlf("\nBEGIN:VCARD\nVERSION:3.0\nUID:bob-own-1\nFN:Bob's Friend\nN:Friend;Bob's;;;\nEND:VCARD\n")
	// His own contact has the name alice's photo contact has: hers must
	// go in under another name.
	s.Put(t, "bob", "bob/family/photo.vcf", "text/vcard", bobOwn)
	shared := contactFixtures()[2]
	s.Put(t, "bob", "bob/family/"+shared.name, "text/vcard", shared.data)
	// An address book without a display name: Radicale shows its path
	// instead, which must not become the copy's name.
	s.MakeAddressBook(t, "alice", "nameless", "", "")
	s.Put(t, "alice", "alice/nameless/x.vcf", "text/vcard", crlf("\nBEGIN:VCARD\nVERSION:3.0\nUID:nameless-1\nFN:X\nEND:VCARD\n"))

	type pair struct{ src, dst string }
	cases := []struct {
		kind  dav.Kind
		pairs []pair
		seed  map[string][]byte
		// created are the target collections the copy makes, with the
		// display name, colour and components they must have.
		created []struct{ path, name, color string }
	}{
		{dav.Contacts, []pair{{"contacts", "family"}, {"empty", "empty"}, {"nameless", "nameless"}}, fixtureMap(contactFixtures()),
			[]struct{ path, name, color string }{{"bob/empty/", "Leer", ""}, {"bob/nameless/", "bob/nameless", ""}}},
		{dav.Calendars, []pair{{"work", "work"}, {"tasks", "tasks"}}, fixtureMap(eventFixtures(), taskFixtures()),
			[]struct{ path, name, color string }{{"bob/work/", "Arbeit ☕", "#1BADF8FF"}, {"bob/tasks/", "Aufgaben", ""}}},
	}
	for _, tc := range cases {
		t.Run(tc.kind.String(), func(t *testing.T) {
			ctx := t.Context()
			src := connect(t, s, "alice", "alice-pw", tc.kind)
			dst := connect(t, s, "bob", "bob-pw", tc.kind)
			if src.Principal != s.PrincipalURL("alice") || src.HomeSet != s.PrincipalURL("alice") {
				t.Errorf("principal, home = %s, %s; want %s", src.Principal, src.HomeSet, s.PrincipalURL("alice"))
			}
			if src.Source != dav.SourceWellKnown {
				t.Errorf("Source = %q; want %q (Radicale redirects .well-known to /)", src.Source, dav.SourceWellKnown)
			}
			before := make(map[string]map[string][]byte)
			for _, p := range tc.pairs {
				before[p.src], _ = snapshot(t, s, "alice", p.src, tc.kind)
			}

			plan, err := dav.MakePlan(ctx, src, dst, dav.Options{})
			if err != nil {
				t.Fatalf("MakePlan = %v", err)
			}
			want := 0
			for _, p := range tc.pairs {
				want += len(before[p.src])
			}
			if plan.Objects != want || len(plan.Collections) != len(tc.pairs) {
				t.Fatalf("plan = %d objects in %d collections; want %d in %d: %+v", plan.Objects, len(plan.Collections), want, len(tc.pairs), plan)
			}
			for _, pc := range plan.Collections {
				var wantDst string
				for _, p := range tc.pairs {
					if p.src == pc.Source.Segment() {
						wantDst = p.dst
					}
				}
				if pc.Target.Segment() != wantDst || pc.SourceCount != len(before[pc.Source.Segment()]) {
					t.Errorf("plan pairs %s (%d objects) with %s; want %s", pc.Source.Segment(), pc.SourceCount, pc.Target.Segment(), wantDst)
				}
				if pc.Target.Segment() == "family" && (!pc.Exists || pc.TargetCount != 2) {
					t.Errorf("plan for family: exists %v, %d objects; want existing, 2", pc.Exists, pc.TargetCount)
				}
			}

			res, err := dav.Copy(ctx, src, dst, plan, dav.Options{Workers: 3})
			if err != nil {
				t.Fatalf("Copy = %v", err)
			}
			wantExisting := 0
			if tc.kind == dav.Contacts {
				wantExisting = 1 // the shared contact
			}
			if res.Copied != want-wantExisting || res.Existing != wantExisting || res.Failed != 0 || !res.Complete() {
				t.Errorf("Copy: copied %d, existing %d, failed %d; want %d, %d, 0: %+v", res.Copied, res.Existing, res.Failed, want-wantExisting, wantExisting, res)
			}

			// The copy is exact: same bytes under the same UID.
			targets := make(map[string]map[string][]byte)
			targetHrefs := make(map[string][]string)
			for _, p := range tc.pairs {
				got, hrefs := snapshot(t, s, "bob", p.dst, tc.kind)
				targets[p.dst], targetHrefs[p.dst] = got, hrefs
				for uid, data := range before[p.src] {
					if !bytes.Equal(got[uid], data) {
						t.Errorf("%s/%s: UID %q on the target =\n%q\nwant the source's bytes\n%q", p.dst, tc.kind, uid, got[uid], data)
					}
					if seed, ok := tc.seed[uid]; ok && normalise(seed) != normalise(got[uid]) {
						t.Errorf("UID %q: normalised target differs from the seeded object:\n%s\n---\n%s", uid, normalise(got[uid]), normalise(seed))
					}
				}
			}
			if tc.kind == dav.Contacts {
				if _, ok := targets["family"]["bob-own-1"]; !ok || len(targets["family"]) != 4 {
					t.Errorf("bob's family book = %v; want his own contact kept and alice's 3 merged", slices.Sorted(maps.Keys(targets["family"])))
				}
			}
			for _, c := range tc.created {
				name, color, _ := collectionProps(t, s, "bob", c.path)
				if name != c.name || color != c.color {
					t.Errorf("created %s: name %q, colour %q; want %q, %q", c.path, name, color, c.name, c.color)
				}
			}
			if tc.kind == dav.Calendars {
				if _, _, comps := collectionProps(t, s, "bob", "bob/tasks/"); !slices.Equal(comps, []string{"VTODO"}) {
					t.Errorf("bob/tasks components = %v; want [VTODO]", comps)
				}
			}

			ver, err := dav.Verify(ctx, src, dst, plan)
			if err != nil || !ver.OK() {
				t.Fatalf("Verify = %+v, %v; want OK", ver, err)
			}

			// A second run adds nothing and changes nothing.
			plan2, err := dav.MakePlan(ctx, src, dst, dav.Options{})
			if err != nil {
				t.Fatalf("MakePlan again = %v", err)
			}
			if plan2.Creates() != 0 {
				t.Errorf("second plan creates %d collections; want 0", plan2.Creates())
			}
			res2, err := dav.Copy(ctx, src, dst, plan2, dav.Options{})
			if err != nil || res2.Copied != 0 || res2.Existing != want || res2.Failed != 0 {
				t.Errorf("second Copy = copied %d, existing %d, failed %d, %v; want 0, %d, 0", res2.Copied, res2.Existing, res2.Failed, err, want)
			}
			for _, p := range tc.pairs {
				got, hrefs := snapshot(t, s, "bob", p.dst, tc.kind)
				if !slices.Equal(hrefs, targetHrefs[p.dst]) || !maps.EqualFunc(got, targets[p.dst], bytes.Equal) {
					t.Errorf("%s changed on the second run: %v; was %v", p.dst, hrefs, targetHrefs[p.dst])
				}
				// Nothing was changed on the source either.
				again, _ := snapshot(t, s, "alice", p.src, tc.kind)
				if !maps.EqualFunc(again, before[p.src], bytes.Equal) {
					t.Errorf("source %s changed", p.src)
				}
			}
		})
	}
}

func TestBackupRadicale(t *testing.T) {
	t.Parallel()
	s := radicaletest.Start(t, radicaletest.Options{})
	seedAlice(t, s)
	dir := t.TempDir()
	ctx := t.Context()

	a := connect(t, s, "alice", "alice-pw", dav.Contacts)
	res, err := dav.Backup(ctx, a, dir, dav.Options{})
	if err != nil || !res.Complete() || res.Objects != 3 || len(res.Files) != 2 {
		t.Fatalf("Backup(contacts) = %+v, %v; want 3 objects in 2 files", res, err)
	}
	vcf := filepath.Join(dir, "Kontakte – Familie.vcf")
	data, err := os.ReadFile(vcf)
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(data), "BEGIN:VCARD\r\n"); n != 3 {
		t.Errorf("%s has %d BEGIN:VCARD lines; want 3", vcf, n)
	}
	dec := vcard.NewDecoder(bytes.NewReader(data))
	uids := map[string]bool{}
	for {
		card, err := dec.Decode()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("go-vcard reading %s: %v", vcf, err)
		}
		uids[card.Value(vcard.FieldUID)] = true
		if card.Value(vcard.FieldUID) == "contact-photo-1" {
			if fn := card.PreferredValue(vcard.FieldFormattedName); fn != "Jürgen Ñúñez-Ødegård" {
				t.Errorf("FN = %q; want Jürgen Ñúñez-Ødegård", fn)
			}
			p := card.Get(vcard.FieldPhoto)
			if p == nil {
				t.Fatal("photo lost")
			}
			got, err := decodeB64(p.Value)
			if err != nil || !bytes.Equal(got, photoBytes) {
				t.Errorf("photo = %d bytes, %v; want the %d bytes seeded", len(got), err, len(photoBytes))
			}
		}
	}
	if want := fixtureMap(contactFixtures()); len(uids) != len(want) {
		t.Errorf("backup UIDs = %v; want %v", slices.Sorted(maps.Keys(uids)), slices.Sorted(maps.Keys(want)))
	}
	if fi, err := os.Stat(filepath.Join(dir, "Leer.vcf")); err != nil || fi.Size() != 0 {
		t.Errorf("empty address book file: %v, %v; want an empty file", fi, err)
	}

	c := connect(t, s, "alice", "alice-pw", dav.Calendars)
	res, err = dav.Backup(ctx, c, dir, dav.Options{})
	if err != nil || !res.Complete() || res.Objects != 6 || len(res.Files) != 2 {
		t.Fatalf("Backup(calendars) = %+v, %v; want 6 objects in 2 files", res, err)
	}
	for _, f := range []struct {
		file            string
		name            string
		fixtures        []fixture
		events, todos   int
		timezones       []string
		overrideOf      string
		overrideSummary string
	}{
		{"Arbeit ☕.ics", "Arbeit ☕", eventFixtures(), 5, 0, []string{"America/New_York", "Europe/Berlin"}, "weekly-standup@example.org", "Stand-up (moved to 11:00)"},
		{"Aufgaben.ics", "Aufgaben", taskFixtures(), 0, 2, []string{"Europe/Berlin"}, "", ""},
	} {
		path := filepath.Join(dir, f.file)
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if n := strings.Count(string(data), "BEGIN:VEVENT\r\n"); n != f.events {
			t.Errorf("%s: %d BEGIN:VEVENT lines; want %d", f.file, n, f.events)
		}
		if n := strings.Count(string(data), "BEGIN:VTODO\r\n"); n != f.todos {
			t.Errorf("%s: %d BEGIN:VTODO lines; want %d", f.file, n, f.todos)
		}
		if n := strings.Count(string(data), "BEGIN:VCALENDAR"); n != 1 {
			t.Errorf("%s: %d VCALENDARs; want 1", f.file, n)
		}
		dec := ical.NewDecoder(bytes.NewReader(data))
		cal, err := dec.Decode()
		if err != nil {
			t.Fatalf("go-ical reading %s: %v", f.file, err)
		}
		if _, err := dec.Decode(); !errors.Is(err, io.EOF) {
			t.Errorf("%s: more than one VCALENDAR (%v)", f.file, err)
		}
		if p := cal.Props.Get("X-WR-CALNAME"); p == nil || p.Value != f.name {
			t.Errorf("%s: X-WR-CALNAME = %v; want %q", f.file, p, f.name)
		}
		uids := map[string]bool{}
		var tzs []string
		for _, comp := range cal.Children {
			switch comp.Name {
			case ical.CompTimezone:
				tzs = append(tzs, comp.Props.Get(ical.PropTimezoneID).Value)
			default:
				uid := comp.Props.Get(ical.PropUID).Value
				uids[uid] = true
				if uid == f.overrideOf && comp.Props.Get(ical.PropRecurrenceID) != nil {
					if s, _ := comp.Props.Text(ical.PropSummary); s != f.overrideSummary {
						t.Errorf("override summary = %q; want %q", s, f.overrideSummary)
					}
				}
			}
		}
		sort.Strings(tzs)
		if !slices.Equal(tzs, f.timezones) {
			t.Errorf("%s: time zones %v; want %v, each once", f.file, tzs, f.timezones)
		}
		if want := fixtureMap(f.fixtures); !maps.Equal(uids, boolKeys(want)) {
			t.Errorf("%s: UIDs %v; want %v", f.file, slices.Sorted(maps.Keys(uids)), slices.Sorted(maps.Keys(want)))
		}
	}

	// The backup can be imported again, into another account, and a
	// second import adds nothing.
	for _, tc := range []struct {
		kind dav.Kind
		file string
		want int
	}{
		{dav.Contacts, "Kontakte – Familie.vcf", 3},
		{dav.Calendars, "Arbeit ☕.ics", 4},
	} {
		b := connect(t, s, "bob", "bob-pw", tc.kind)
		data, err := os.ReadFile(filepath.Join(dir, tc.file))
		if err != nil {
			t.Fatal(err)
		}
		meta := dav.DescribeFile(tc.kind, data)
		col, created, err := b.FindOrCreate(ctx, "Imported "+tc.kind.String(), meta)
		if err != nil || !created {
			t.Fatalf("FindOrCreate = %v, %v, %v", col, created, err)
		}
		for run := 1; run <= 2; run++ {
			res, err := dav.Import(ctx, b, col, data, dav.Options{})
			wantCopied, wantExisting := tc.want, 0
			if run == 2 {
				wantCopied, wantExisting = 0, tc.want
			}
			if err != nil || res.Copied != wantCopied || res.Existing != wantExisting || res.Failed != 0 {
				t.Errorf("Import %s run %d = %+v, %v; want %d copied, %d existing", tc.file, run, res, err, wantCopied, wantExisting)
			}
		}
		uids, n, err := b.Index(ctx, col)
		if err != nil || n != tc.want || len(uids) != tc.want {
			t.Errorf("after import: %d objects, %d UIDs, %v; want %d", n, len(uids), err, tc.want)
		}
		again, _, err := b.FindOrCreate(ctx, "Imported "+tc.kind.String(), meta)
		if err != nil || again.URL != col.URL {
			t.Errorf("FindOrCreate again = %v, %v; want %s", again.URL, err, col.URL)
		}
	}
}

// boolKeys returns the keys of m as a set.
func boolKeys(m map[string][]byte) map[string]bool {
	out := make(map[string]bool)
	for k := range m {
		out[k] = true
	}
	return out
}

// faultyProxy forwards to the Radicale server, except the requests for
// which fault returns a status other than 0: those get that status.
func faultyProxy(t *testing.T, s *radicaletest.Server, fault func(r *http.Request) int) *httptest.Server {
	target, _ := url.Parse(s.URL)
	rp := httputil.NewSingleHostReverseProxy(target)
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if code := fault(r); code != 0 {
			http.Error(w, "refused by the test", code)
			return
		}
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(ts.Close)
	return ts
}

// refusePut returns a fault refusing PUTs whose path ends with a suffix.
func refusePut(status int, suffixes ...string) func(r *http.Request) int {
	return func(r *http.Request) int {
		if r.Method == http.MethodPut {
			for _, suffix := range suffixes {
				if strings.HasSuffix(r.URL.Path, suffix) {
					return status
				}
			}
		}
		return 0
	}
}

func TestRadicaleFailures(t *testing.T) {
	t.Parallel()
	s := radicaletest.Start(t, radicaletest.Options{})
	checkConnectErrors(t, s)
	seedAlice(t, s)
	ctx := t.Context()
	src := connect(t, s, "alice", "alice-pw", dav.Contacts)

	// One contact refused (403): recorded, the others copied, and the
	// verification names it.
	p := faultyProxy(t, s, refusePut(http.StatusForbidden, "/multi-script.vcf"))
	dst, err := dav.Connect(ctx, dav.Config{URL: p.URL + "/", Username: "bob", Password: "bob-pw"}, dav.Contacts)
	if err != nil {
		t.Fatal(err)
	}
	plan, err := dav.MakePlan(ctx, src, dst, dav.Options{Include: []string{"contacts"}})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(plan.Included()); n != 1 || plan.Objects != 3 {
		t.Fatalf("plan includes %d collections, %d objects; want 1, 3", n, plan.Objects)
	}
	var events []dav.Event
	var mu sync.Mutex
	res, err := dav.Copy(ctx, src, dst, plan, dav.Options{Progress: func(e dav.Event) { mu.Lock(); events = append(events, e); mu.Unlock() }})
	if err != nil {
		t.Fatalf("Copy = %v", err)
	}
	if res.Copied != 2 || res.Failed != 1 || res.Complete() || len(res.Problems) != 1 {
		t.Fatalf("Copy = %+v; want 2 copied, 1 failed", res)
	}
	pb := res.Problems[0]
	if pb.Kind != failure.Refused || pb.UID != "urn:uuid:8e3f1a4c-61a0-4cf0-9e0a-5b9c2a3f7d11" || !strings.Contains(pb.Summary, "山田") {
		t.Errorf("problem = %+v; want the refused contact, by UID and name", pb)
	}
	if last := events[len(events)-1]; last.Kind != dav.EventCollectionDone || last.Done != 3 || last.Total != 3 {
		t.Errorf("last event = %+v; want collection done, 3 of 3", last)
	}
	ver, err := dav.Verify(ctx, src, dst, plan)
	if err != nil || ver.OK() || ver.Missing != 1 || ver.Collections[0].Missing[0].UID != pb.UID {
		t.Errorf("Verify = %+v, %v; want the refused contact missing", ver, err)
	}

	// A full target (507) stops the copy at once.
	full := faultyProxy(t, s, refusePut(http.StatusInsufficientStorage, ".vcf", ".ics"))
	dst2, err := dav.Connect(ctx, dav.Config{URL: full.URL + "/", Username: "bob", Password: "bob-pw"}, dav.Contacts)
	if err != nil {
		t.Fatal(err)
	}
	plan2, err := dav.MakePlan(ctx, src, dst2, dav.Options{})
	if err != nil {
		t.Fatal(err)
	}
	res2, err := dav.Copy(ctx, src, dst2, plan2, dav.Options{})
	if failure.KindOf(err) != failure.Quota || failure.ScopeOf(err) != failure.ScopeAccount || res2 == nil {
		t.Errorf("Copy to a full target = %+v, %v; want a Quota error", res2, err)
	}

	// A target that refuses to create one calendar, and knows no query
	// REPORT: the other calendar is copied, the refused one reported,
	// and the verification fetches objects one by one.
	csrc := connect(t, s, "alice", "alice-pw", dav.Calendars)
	odd := faultyProxy(t, s, func(r *http.Request) int {
		switch {
		case r.Method == "MKCALENDAR" && strings.Contains(r.URL.Path, "/tasks"):
			return http.StatusForbidden
		case r.Method == "REPORT":
			return http.StatusNotImplemented
		}
		return 0
	})
	cdst, err := dav.Connect(ctx, dav.Config{URL: odd.URL + "/", Username: "bob", Password: "bob-pw"}, dav.Calendars)
	if err != nil {
		t.Fatal(err)
	}
	cplan, err := dav.MakePlan(ctx, csrc, cdst, dav.Options{})
	if err != nil {
		t.Fatal(err)
	}
	cres, err := dav.Copy(ctx, csrc, cdst, cplan, dav.Options{})
	if err != nil || cres.Complete() || cres.Copied != 4 {
		t.Fatalf("Copy with a refused calendar = %+v, %v; want 4 copied, incomplete", cres, err)
	}
	for _, c := range cres.Collections {
		if stopped := c.Err != ""; stopped != (c.Source == "Aufgaben") {
			t.Errorf("collection %s: error %q", c.Source, c.Err)
		}
	}
	cver, err := dav.Verify(ctx, csrc, cdst, cplan)
	if err != nil || cver.Missing != 2 || cver.Errors != 0 {
		t.Errorf("Verify = %+v, %v; want the 2 tasks missing", cver, err)
	}
	again, err := dav.Copy(ctx, csrc, cdst, cplan, dav.Options{})
	if err != nil || again.Existing != 4 || again.Copied != 0 {
		t.Errorf("second Copy without REPORT = %+v, %v; want 4 already there", again, err)
	}
}

// checkConnectErrors checks how failed logins and unreachable servers
// are classified.
func checkConnectErrors(t *testing.T, s *radicaletest.Server) {
	ctx := t.Context()
	tests := []struct {
		name string
		cfg  dav.Config
		want failure.Kind
	}{
		{"wrong password", dav.Config{URL: s.URL, Username: "alice", Password: "nope"}, failure.Auth},
		{"wrong password, principal URL", dav.Config{URL: s.PrincipalURL("alice"), Username: "alice", Password: "nope"}, failure.Auth},
		{"unknown user", dav.Config{URL: s.URL, Username: "mallory", Password: "x"}, failure.Auth},
		{"closed port", dav.Config{URL: "http://127.0.0.1:1/dav/", Username: "alice", Password: "alice-pw", RetryWait: 1}, failure.Connection},
		{"plain http elsewhere", dav.Config{URL: "http://dav.example.com/", Username: "alice", Password: "alice-pw"}, failure.Config},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := dav.Connect(ctx, tc.cfg, dav.Contacts)
			if got := failure.KindOf(err); got != tc.want {
				t.Errorf("Connect(%q) = %v (%v); want %v", tc.cfg.URL, got, err, tc.want)
			}
			if err != nil && strings.Contains(err.Error(), tc.cfg.Password) && tc.cfg.Password != "" {
				t.Errorf("error %q holds the password", err)
			}
		})
	}
}
