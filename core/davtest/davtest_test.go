package davtest

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"

	"mailmover/core/dav"
	"mailmover/core/failure"
)

// crlf turns a fixture written with "\n" into CRLF lines.
func crlf(s string) []byte {
	return []byte(strings.ReplaceAll(strings.TrimLeft(s, "\n"), "\n", "\r\n"))
}

func card(uid, fn string) []byte {
	return crlf(fmt.Sprintf(`
BEGIN:VCARD
VERSION:3.0
UID:%s
FN:%s
N:%s;;;;
EMAIL;TYPE=INTERNET:%s@example.org
END:VCARD
`, uid, fn, fn, uid))
}

func vevent(uid, summary string) []byte {
	return crlf(fmt.Sprintf(`
BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//Mailmover test//EN
BEGIN:VEVENT
UID:%s
DTSTAMP:20240101T090000Z
DTSTART:20240501T120000Z
DTEND:20240501T130000Z
SUMMARY:%s
END:VEVENT
END:VCALENDAR
`, uid, summary))
}

func vtodo(uid, summary string) []byte {
	return crlf(fmt.Sprintf(`
BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//Mailmover test//EN
BEGIN:VTODO
UID:%s
DTSTAMP:20240101T090000Z
SUMMARY:%s
STATUS:NEEDS-ACTION
END:VTODO
END:VCALENDAR
`, uid, summary))
}

// recurring is a weekly event in Berlin time with a moved occurrence in
// the same object.
var recurring = crlf(`
BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//Mailmover test//EN
` + VTimezoneBerlin + `
BEGIN:VEVENT
UID:standup@example.org
DTSTAMP:20240101T090000Z
DTSTART;TZID=Europe/Berlin:20240108T093000
DTEND;TZID=Europe/Berlin:20240108T100000
RRULE:FREQ=WEEKLY;BYDAY=MO;COUNT=10
SUMMARY:Stand-up – Größe ☕
END:VEVENT
BEGIN:VEVENT
UID:standup@example.org
DTSTAMP:20240101T090000Z
RECURRENCE-ID;TZID=Europe/Berlin:20240122T093000
DTSTART;TZID=Europe/Berlin:20240122T110000
DTEND;TZID=Europe/Berlin:20240122T113000
SUMMARY:Stand-up (moved)
END:VEVENT
END:VCALENDAR
`)

// sourceCollections are two address books and two calendars.
func sourceCollections() []Collection {
	return []Collection{
		{Kind: dav.Contacts, Segment: "contacts", Name: "Contacts", Color: "#1E88E5FF", Objects: []Object{
			{Name: "ana.vcf", Data: card("ana-1", "Ana Núñez")},
			{Name: "bjorn.vcf", Data: card("bjorn-2", "Björn Ødegård")},
			{Data: card("chloe-3", "Chloé Dubois")},
		}},
		{Kind: dav.Contacts, Segment: "family", Name: "Family", Description: "The family", Color: "#E53935FF", Objects: []Object{
			{Name: "mum.vcf", Data: card("mum-4", "Mum")},
		}},
		{Kind: dav.Calendars, Segment: "personal", Name: "Personal", Color: "#43A047FF", Components: []string{"VEVENT"}, Objects: []Object{
			{Name: "standup.ics", Data: recurring},
			{Name: "lunch.ics", Data: vevent("lunch-1", "Lunch")},
		}},
		{Kind: dav.Calendars, Segment: "tasks", Name: "Tasks", Description: "To do", Color: "#FB8C00FF", Components: []string{"VTODO"}, Objects: []Object{
			{Name: "milk.ics", Data: vtodo("milk-1", "Buy milk 🥛")},
		}},
	}
}

// targetCollections are a fresh account's default address book and
// calendar.
func targetCollections() []Collection {
	return []Collection{
		{Kind: dav.Contacts, Segment: "default", Name: "Contacts"},
		{Kind: dav.Calendars, Segment: "default", Name: "Personal", Components: []string{"VEVENT", "VTODO"}},
	}
}

func start(t *testing.T, opts Options) *Server {
	t.Helper()
	s, err := Start(context.Background(), opts)
	if err != nil {
		t.Fatalf("Start() = %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func connect(t *testing.T, cfg dav.Config, kind dav.Kind) *dav.Account {
	t.Helper()
	a, err := dav.Connect(context.Background(), cfg, kind)
	if err != nil {
		t.Fatalf("Connect(%s, %s) = %v", cfg.URL, kind, err)
	}
	return a
}

// TestConnect finds both services from the root URL and from the
// principal URLs, and lists what was seeded.
func TestConnect(t *testing.T) {
	s := start(t, Options{Username: "alex@example.org", Collections: sourceCollections()})
	ctx := context.Background()
	type want struct {
		title, color string
		comps        []string
		objects      int
	}
	tests := []struct {
		kind dav.Kind
		url  string
		want []want
	}{
		{dav.Contacts, s.URL(), []want{{"Contacts", "#1E88E5FF", nil, 3}, {"Family", "#E53935FF", nil, 1}}},
		{dav.Contacts, s.ContactsURL(), []want{{"Contacts", "#1E88E5FF", nil, 3}, {"Family", "#E53935FF", nil, 1}}},
		{dav.Calendars, s.URL(), []want{{"Personal", "#43A047FF", []string{"VEVENT"}, 2}, {"Tasks", "#FB8C00FF", []string{"VTODO"}, 1}}},
		{dav.Calendars, s.CalendarsURL(), []want{{"Personal", "#43A047FF", []string{"VEVENT"}, 2}, {"Tasks", "#FB8C00FF", []string{"VTODO"}, 1}}},
	}
	for _, tt := range tests {
		cfg := s.Config()
		cfg.URL = tt.url
		a := connect(t, cfg, tt.kind)
		cols, err := a.Collections(ctx)
		if err != nil {
			t.Fatalf("Collections(%s) = %v", tt.kind, err)
		}
		if len(cols) != len(tt.want) {
			t.Fatalf("Collections(%s) = %d collections; want %d", tt.kind, len(cols), len(tt.want))
		}
		for i, c := range cols {
			w := tt.want[i]
			if c.Title() != w.title || c.Color != w.color || !slices.Equal(c.Components, w.comps) {
				t.Errorf("Collections(%s)[%d] = %q %q %q; want %q %q %q", tt.kind, i, c.Title(), c.Color, c.Components, w.title, w.color, w.comps)
			}
			if c.CTag == "" {
				t.Errorf("Collections(%s)[%d].CTag = \"\"; want a CTag", tt.kind, i)
			}
			refs, err := a.Objects(ctx, c)
			if err != nil {
				t.Fatalf("Objects(%q) = %v", c.Title(), err)
			}
			if len(refs) != w.objects {
				t.Errorf("Objects(%q) = %d objects; want %d", c.Title(), len(refs), w.objects)
			}
			uids, n, err := a.Index(ctx, c)
			if err != nil || n != w.objects || len(uids) != w.objects {
				t.Errorf("Index(%q) = %d UIDs, %d objects, %v; want %d, %d, nil", c.Title(), len(uids), n, err, w.objects, w.objects)
			}
		}
	}
}

// TestGetUnchanged checks that GET returns the bytes seeded, not a
// re-encoding.
func TestGetUnchanged(t *testing.T) {
	s := start(t, Options{Collections: sourceCollections()})
	ctx := context.Background()
	for _, kind := range []dav.Kind{dav.Contacts, dav.Calendars} {
		a := connect(t, s.Config(), kind)
		cols, err := a.Collections(ctx)
		if err != nil {
			t.Fatalf("Collections(%s) = %v", kind, err)
		}
		seeded := make(map[string][]byte)
		for _, c := range s.Collections(kind) {
			for _, o := range c.Objects {
				seeded[c.Segment+"/"+o.Name] = o.Data
			}
		}
		for _, c := range cols {
			refs, err := a.Objects(ctx, c)
			if err != nil {
				t.Fatalf("Objects(%q) = %v", c.Title(), err)
			}
			for _, ref := range refs {
				o, err := a.Get(ctx, ref)
				if err != nil {
					t.Fatalf("Get(%s) = %v", ref.URL, err)
				}
				key := c.Segment() + "/" + ref.URL[strings.LastIndex(ref.URL, "/")+1:]
				if !bytes.Equal(o.Data, seeded[key]) {
					t.Errorf("Get(%s) = %q; want %q", ref.URL, o.Data, seeded[key])
				}
				if o.ETag == "" || o.ETag != ref.ETag {
					t.Errorf("Get(%s).ETag = %q; want the listed %q", ref.URL, o.ETag, ref.ETag)
				}
			}
		}
	}
}

// TestCopy copies between two servers: the default collections are
// merged into, the others created; a second copy adds nothing.
func TestCopy(t *testing.T) {
	src := start(t, Options{Username: "old", Collections: sourceCollections()})
	dst := start(t, Options{Username: "new", Collections: targetCollections()})
	ctx := context.Background()
	tests := []struct {
		kind    dav.Kind
		objects int
	}{
		{dav.Contacts, 4},
		{dav.Calendars, 3},
	}
	for _, tt := range tests {
		sa, da := connect(t, src.Config(), tt.kind), connect(t, dst.Config(), tt.kind)
		plan, err := dav.MakePlan(ctx, sa, da, dav.Options{})
		if err != nil {
			t.Fatalf("MakePlan(%s) = %v", tt.kind, err)
		}
		if plan.Objects != tt.objects || len(plan.Included()) != 2 || plan.Creates() != 1 {
			t.Errorf("MakePlan(%s) = %d objects, %d collections, %d to create; want %d, 2, 1", tt.kind, plan.Objects, len(plan.Included()), plan.Creates(), tt.objects)
		}
		res, err := dav.Copy(ctx, sa, da, plan, dav.Options{})
		if err != nil {
			t.Fatalf("Copy(%s) = %v", tt.kind, err)
		}
		if !res.Complete() || res.Copied != tt.objects {
			t.Errorf("Copy(%s) copied %d, complete %v, problems %v; want %d, true", tt.kind, res.Copied, res.Complete(), res.Problems, tt.objects)
		}
		v, err := dav.Verify(ctx, sa, da, plan)
		if err != nil {
			t.Fatalf("Verify(%s) = %v", tt.kind, err)
		}
		if !v.OK() {
			t.Errorf("Verify(%s) = %d missing, %d errors; want OK: %+v", tt.kind, v.Missing, v.Errors, v.Collections)
		}
		again, err := dav.Copy(ctx, sa, da, plan, dav.Options{})
		if err != nil {
			t.Fatalf("second Copy(%s) = %v", tt.kind, err)
		}
		if again.Copied != 0 || again.Existing != tt.objects {
			t.Errorf("second Copy(%s) copied %d, found %d; want 0, %d", tt.kind, again.Copied, again.Existing, tt.objects)
		}
		// The objects arrive byte for byte, the created collection with
		// its properties.
		want := make(map[string]bool)
		for _, c := range src.Collections(tt.kind) {
			for _, o := range c.Objects {
				want[string(o.Data)] = true
			}
		}
		got := 0
		for _, c := range dst.Collections(tt.kind) {
			for _, o := range c.Objects {
				if !want[string(o.Data)] {
					t.Errorf("%s: target object %s/%s differs from every source object", tt.kind, c.Segment, o.Name)
				}
				got++
			}
			if c.Segment == "family" && (c.Name != "Family" || c.Color != "#E53935FF" || c.Description != "The family") {
				t.Errorf("created address book = %q %q %q; want Family, #E53935FF, The family", c.Name, c.Color, c.Description)
			}
			if c.Segment == "tasks" && (c.Name != "Tasks" || c.Color != "#FB8C00FF" || !slices.Equal(c.Components, []string{"VTODO"})) {
				t.Errorf("created calendar = %q %q %q; want Tasks, #FB8C00FF, [VTODO]", c.Name, c.Color, c.Components)
			}
		}
		if got != tt.objects {
			t.Errorf("%s: target holds %d objects; want %d", tt.kind, got, tt.objects)
		}
	}
}

func TestWrongCredentials(t *testing.T) {
	s := start(t, Options{Collections: sourceCollections()})
	tests := []struct {
		name     string
		user     string
		password string
	}{
		{"wrong password", s.Username(), "not the password"},
		{"wrong user", "someone", s.Password()},
		{"no password", s.Username(), ""},
	}
	for _, tt := range tests {
		for _, kind := range []dav.Kind{dav.Contacts, dav.Calendars} {
			cfg := dav.Config{URL: s.URL(), Username: tt.user, Password: tt.password}
			_, err := dav.Connect(context.Background(), cfg, kind)
			if got := failure.KindOf(err); got != failure.Auth {
				t.Errorf("%s: Connect(%s) = %v (kind %v); want kind %v", tt.name, kind, err, got, failure.Auth)
			}
			if err != nil && s.Password() != "" && strings.Contains(err.Error(), s.Password()) {
				t.Errorf("%s: Connect(%s) error shows the password", tt.name, kind)
			}
		}
	}
}

// TestHTTP checks answers dav relies on, one request at a time.
func TestHTTP(t *testing.T) {
	s := start(t, Options{Username: "u", Password: "pw", Collections: sourceCollections()})
	book := s.URL() + "carddav/u/addressbooks/contacts/"
	cal := s.URL() + "caldav/u/calendars/"
	tests := []struct {
		name   string
		method string
		url    string
		header map[string]string
		body   []byte
		noAuth bool
		code   int
		text   string // in the answer's body
	}{
		{"no auth", "PROPFIND", s.URL() + ".well-known/carddav", nil, nil, true, http.StatusUnauthorized, ""},
		{"well-known carddav", "PROPFIND", s.URL() + ".well-known/carddav", nil, nil, false, http.StatusPermanentRedirect, ""},
		{"well-known caldav", "PROPFIND", s.URL() + ".well-known/caldav", nil, nil, false, http.StatusPermanentRedirect, ""},
		{"new card", "PUT", book + "new.vcf", map[string]string{"If-None-Match": "*", "Content-Type": "text/vcard"}, card("new-1", "New"), false, http.StatusCreated, ""},
		{"same name", "PUT", book + "new.vcf", map[string]string{"If-None-Match": "*", "Content-Type": "text/vcard"}, card("new-1", "New"), false, http.StatusPreconditionFailed, ""},
		{"same UID", "PUT", book + "other.vcf", map[string]string{"If-None-Match": "*", "Content-Type": "text/vcard"}, card("new-1", "New"), false, http.StatusConflict, "no-uid-conflict"},
		{"get", "GET", book + "new.vcf", nil, nil, false, http.StatusOK, "UID:new-1\r\n"},
		{"missing", "GET", book + "nothing.vcf", nil, nil, false, http.StatusNotFound, ""},
		{"no collection", "PUT", s.URL() + "carddav/u/addressbooks/none/x.vcf", map[string]string{"Content-Type": "text/vcard"}, card("x", "X"), false, http.StatusConflict, ""},
		{"task into events", "PUT", cal + "personal/t.ics", map[string]string{"Content-Type": "text/calendar"}, vtodo("t-1", "T"), false, http.StatusConflict, "supported-calendar-component"},
		{"mkcalendar", "MKCALENDAR", cal + "work/", nil, nil, false, http.StatusCreated, ""},
		{"mkcalendar again", "MKCALENDAR", cal + "work/", nil, nil, false, http.StatusMethodNotAllowed, ""},
		{"mkcol exists", "MKCOL", book, nil, nil, false, http.StatusMethodNotAllowed, ""},
		{"elsewhere", "GET", s.URL() + "elsewhere", nil, nil, false, http.StatusNotFound, ""},
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for _, tt := range tests {
		req, err := http.NewRequest(tt.method, tt.url, bytes.NewReader(tt.body))
		if err != nil {
			t.Fatal(err)
		}
		for k, v := range tt.header {
			req.Header.Set(k, v)
		}
		if !tt.noAuth {
			req.SetBasicAuth("u", "pw")
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatalf("%s: %s %s = %v", tt.name, tt.method, tt.url, err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tt.code || !strings.Contains(string(body), tt.text) {
			t.Errorf("%s: %s %s = %d %q; want %d with %q", tt.name, tt.method, tt.url, resp.StatusCode, body, tt.code, tt.text)
		}
		if tt.code == http.StatusUnauthorized && resp.Header.Get("WWW-Authenticate") == "" {
			t.Errorf("%s: 401 without WWW-Authenticate", tt.name)
		}
	}
}

func TestAddErrors(t *testing.T) {
	s := start(t, Options{Collections: sourceCollections()})
	tests := []struct {
		name string
		err  error
	}{
		{"same segment", s.Add(Collection{Kind: dav.Contacts, Segment: "contacts"})},
		{"bad segment", s.Add(Collection{Kind: dav.Contacts, Segment: "a/b"})},
		{"not a vcard", s.Put(dav.Contacts, "contacts", Object{Data: []byte("hello")})},
		{"no collection", s.Put(dav.Contacts, "none", Object{Data: card("z", "Z")})},
		{"UID taken", s.Put(dav.Contacts, "contacts", Object{Name: "again.vcf", Data: card("ana-1", "Ana")})},
	}
	for _, tt := range tests {
		if tt.err == nil {
			t.Errorf("%s: error = nil; want an error", tt.name)
		}
	}
	if err := s.Put(dav.Contacts, "contacts", Object{Name: "ana.vcf", Data: card("ana-1", "Ana Núñez García")}); err != nil {
		t.Errorf("Put(replacing ana.vcf) = %v; want nil", err)
	}
}

func TestStartCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	s, err := Start(ctx, Options{})
	if err == nil {
		s.Close()
		t.Fatal("Start(cancelled context) = nil error; want an error")
	}
}

func TestCloseTwice(t *testing.T) {
	s := start(t, Options{})
	for i := range 2 {
		if err := s.Close(); err != nil {
			t.Errorf("Close() #%d = %v", i+1, err)
		}
	}
	if _, err := dav.Connect(context.Background(), s.Config(), dav.Contacts); err == nil {
		t.Error("Connect() after Close() = nil error; want an error")
	}
}
