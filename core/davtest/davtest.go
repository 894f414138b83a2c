// Package davtest runs a CardDAV (RFC 6352) and CalDAV (RFC 4791) server
// held in memory on 127.0.0.1, for Mailmover's built-in demo and for
// tests of mailmover/core/dav.
//
// The protocol work is done by go-webdav's carddav and caldav handlers.
// A thin handler in front of them adds what they lack or what Mailmover
// relies on:
//
//   - HTTP Basic authentication (RFC 7617) of one user, with a random
//     password unless one is given: anything else is answered 401;
//   - one URL for both services: /.well-known/carddav and
//     /.well-known/caldav (RFC 6764 section 5) lead to the user's
//     principal below /carddav/ or /caldav/;
//   - objects are stored and served (GET) byte for byte as they were
//     uploaded, where go-webdav would re-encode them; REPORT answers
//     still carry go-webdav's re-encoding of the data;
//   - MKCALENDAR (RFC 4791 section 5.3.1) and extended MKCOL (RFC 5689)
//     keep the display name, description, colour and component types
//     given;
//   - PROPFIND answers the colour of address books (InfCloud's
//     addressbook-color) and calendars (Apple's calendar-color) and the
//     collection's CTag (calendarserver.org getctag);
//   - an addressbook-query REPORT with an empty filter returns every
//     object (RFC 6352 section 10.5).
//
// Paths: the principal is /carddav/USER/ or /caldav/USER/, the home set
// /carddav/USER/addressbooks/ or /caldav/USER/calendars/, and a
// collection a segment below it.
package davtest

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/emersion/go-vcard"
	"github.com/emersion/go-webdav/caldav"
	"github.com/emersion/go-webdav/carddav"

	"mailmover/core/dav"
	"mailmover/core/failure"
)

// DefaultUsername is the user name when Options.Username is empty.
const DefaultUsername = "user"

// maxObject bounds one uploaded object or request body.
const maxObject = 16 << 20

// Options configure a server. The zero value is a server without
// collections, user DefaultUsername, random password.
type Options struct {
	// Username is the one user's name: letters, digits and . _ @ + = -
	// (it is a path segment). Empty means DefaultUsername.
	Username string
	// Password is the user's password; empty means a random one.
	Password string
	// Collections are created, with their objects, before the server
	// accepts connections.
	Collections []Collection
}

// Collection describes an address book or a calendar to create.
type Collection struct {
	// Kind says whether it is an address book or a calendar.
	Kind dav.Kind
	// Segment is the last segment of its path: letters, digits and
	// . _ @ + = - ("contacts", "personal").
	Segment string
	// Name is the display name (RFC 4918 section 15.2), "" for none.
	Name string
	// Description is the addressbook-description (RFC 6352 section
	// 6.2.1) or calendar-description (RFC 4791 section 5.2.1).
	Description string
	// Color is the colour clients show, e.g. "#2E7D32FF".
	Color string
	// Components are the component types a calendar takes (RFC 4791
	// section 5.2.3), e.g. VEVENT, VTODO; empty means VEVENT, VTODO and
	// VJOURNAL. Unused for address books.
	Components []string
	// Objects are the vCards or iCalendar objects it holds.
	Objects []Object
}

// Object is one vCard (RFC 6350) or iCalendar object (RFC 5545), kept
// byte for byte.
type Object struct {
	// Name is the last segment of the object's path ("anna.vcf"); empty
	// means one made from the UID.
	Name string
	// Data is the vCard or the VCALENDAR.
	Data []byte
}

// Server is a running CardDAV and CalDAV server. Its methods are safe
// for concurrent use.
type Server struct {
	url      string
	username string
	password string

	store *store
	card  http.Handler
	cal   http.Handler

	srv     *http.Server
	serving sync.WaitGroup
	active  tracker
	once    sync.Once
}

// Start starts a server on a random 127.0.0.1 port, with
// opts.Collections in it. ctx bounds the start only; the server runs
// until Close.
func Start(ctx context.Context, opts Options) (*Server, error) {
	user := opts.Username
	if user == "" {
		user = DefaultUsername
	}
	if !safeSegment.MatchString(user) {
		return nil, failure.Newf(failure.Config, failure.ScopeAccount, "%q is not a usable user name for the test server", user)
	}
	pass := opts.Password
	if pass == "" {
		b := make([]byte, 12)
		if _, err := rand.Read(b); err != nil {
			return nil, failure.New(failure.Local, failure.ScopeAccount, "make a password", err)
		}
		pass = hex.EncodeToString(b)
	}
	s := &Server{username: user, password: pass, store: newStore()}
	s.active.init()
	s.card = &carddav.Handler{Backend: &cardBackend{backend{s: s, kind: dav.Contacts}}, Prefix: "/carddav"}
	s.cal = &caldav.Handler{Backend: &calBackend{backend{s: s, kind: dav.Calendars}}, Prefix: "/caldav"}
	for _, c := range opts.Collections {
		if err := s.Add(c); err != nil {
			return nil, err
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, failure.New(failure.Cancelled, failure.ScopeAccount, "start the DAV server", err)
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", "127.0.0.1:0")
	if err != nil {
		return nil, failure.New(failure.Local, failure.ScopeAccount, "start the DAV server", err)
	}
	s.url = "http://" + ln.Addr().String() + "/"
	s.srv = &http.Server{
		Handler:           s,
		ReadHeaderTimeout: time.Minute,
		ErrorLog:          log.New(io.Discard, "", 0),
	}
	s.serving.Go(func() { _ = s.srv.Serve(ln) })
	return s, nil
}

// URL returns the server's root, "http://127.0.0.1:PORT/": discovery
// (dav.Connect) finds both services from it.
func (s *Server) URL() string { return s.url }

// ContactsURL returns the CardDAV principal's URL, a context URL that
// needs no discovery.
func (s *Server) ContactsURL() string {
	return strings.TrimSuffix(s.url, "/") + s.principalPath(dav.Contacts)
}

// CalendarsURL returns the CalDAV principal's URL, a context URL that
// needs no discovery.
func (s *Server) CalendarsURL() string {
	return strings.TrimSuffix(s.url, "/") + s.principalPath(dav.Calendars)
}

// Username returns the user's name.
func (s *Server) Username() string { return s.username }

// Password returns the user's password.
func (s *Server) Password() string { return s.password }

// Config returns how dav.Connect reaches the server, for either kind.
func (s *Server) Config() dav.Config {
	return dav.Config{URL: s.url, Username: s.username, Password: s.password}
}

// Close stops the server, waits for the requests under way, and forgets
// everything it held. It is safe to call more than once.
func (s *Server) Close() error {
	s.once.Do(func() {
		if s.srv != nil {
			_ = s.srv.Close()
		}
		s.serving.Wait()
		s.active.closeAndWait()
	})
	return nil
}

// Add creates a collection with its objects. It fails if a collection of
// that kind and segment exists or if an object is refused.
func (s *Server) Add(c Collection) error {
	if err := s.store.create(c); err != nil {
		return fmt.Errorf("add %s %q: %w", c.Kind, c.Segment, err)
	}
	for _, o := range c.Objects {
		if err := s.Put(c.Kind, c.Segment, o); err != nil {
			return err
		}
	}
	return nil
}

// Put stores an object in the collection of kind named segment,
// replacing one of the same name. It is refused if the data is not a
// vCard or calendar object resource (RFC 4791 section 4.1), if another
// object of the collection has its UID, or if the calendar does not take
// its component type.
func (s *Server) Put(kind dav.Kind, segment string, o Object) error {
	card, cal, err := parse(kind, o.Data)
	if err != nil {
		return fmt.Errorf("put %q into %s: %w", o.Name, segment, err)
	}
	name := o.Name
	if name == "" {
		uid := ""
		if card != nil {
			uid = card.Value(vcard.FieldUID)
		} else if _, u, err := caldav.ValidateCalendarObject(cal); err == nil {
			uid = u
		}
		name = objectName(kind, uid, o.Data)
	}
	if _, _, err := s.store.put(kind, segment, name, o.Data, card, cal, conditions{}); err != nil {
		return fmt.Errorf("put %q into %s: %w", name, segment, err)
	}
	return nil
}

// Collections returns the collections of kind with their objects, sorted
// by segment and name.
func (s *Server) Collections(kind dav.Kind) []Collection {
	var out []Collection
	for _, c := range s.store.list(kind) {
		c.Components = slices.Clone(c.Components)
		objs, err := s.store.objects(kind, c.Segment)
		if err != nil {
			// Removed since it was listed.
			continue
		}
		for _, o := range objs {
			c.Objects = append(c.Objects, Object{Name: o.name, Data: bytes.Clone(o.data)})
		}
		out = append(out, c)
	}
	return out
}

// principalPath returns the user's principal path of kind.
func (s *Server) principalPath(kind dav.Kind) string {
	if kind == dav.Calendars {
		return "/caldav/" + s.username + "/"
	}
	return "/carddav/" + s.username + "/"
}

// homePath returns the path of kind's home set.
func (s *Server) homePath(kind dav.Kind) string {
	if kind == dav.Calendars {
		return s.principalPath(kind) + "calendars/"
	}
	return s.principalPath(kind) + "addressbooks/"
}

// collectionPath returns the path of a collection.
func (s *Server) collectionPath(kind dav.Kind, seg string) string {
	return s.homePath(kind) + seg + "/"
}

// locate splits a path below kind's home set into a collection segment
// and an object name ("" for the collection itself).
func (s *Server) locate(kind dav.Kind, p string) (seg, name string, ok bool) {
	rest, found := strings.CutPrefix(p, s.homePath(kind))
	if !found || rest == "" {
		return "", "", false
	}
	seg, name, _ = strings.Cut(rest, "/")
	if !safeSegment.MatchString(seg) || strings.Contains(name, "/") {
		return "", "", false
	}
	return seg, name, true
}

// tracker counts the requests under way, so that Close can wait for
// them.
type tracker struct {
	mu     sync.Mutex
	idle   *sync.Cond
	n      int
	closed bool
}

func (t *tracker) init() { t.idle = sync.NewCond(&t.mu) }

// enter records a request; false once the server is closed.
func (t *tracker) enter() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return false
	}
	t.n++
	return true
}

// leave records the end of a request.
func (t *tracker) leave() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.n--
	if t.n == 0 {
		t.idle.Broadcast()
	}
}

// closeAndWait refuses new requests and waits for those under way.
func (t *tracker) closeAndWait() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.closed = true
	for t.n > 0 {
		t.idle.Wait()
	}
}

// authorized checks the request's Basic credentials in constant time.
func (s *Server) authorized(r *http.Request) bool {
	user, pass, ok := r.BasicAuth()
	if !ok {
		return false
	}
	u := subtle.ConstantTimeCompare([]byte(user), []byte(s.username))
	p := subtle.ConstantTimeCompare([]byte(pass), []byte(s.password))
	return u&p == 1
}

// errTooLarge is a request body over maxObject.
var errTooLarge = errors.New("request body too large")

// readBody reads a request body of at most maxObject bytes.
func readBody(r *http.Request) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r.Body, maxObject+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxObject {
		return nil, errTooLarge
	}
	return data, nil
}
