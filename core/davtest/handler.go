package davtest

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"mailmover/core/dav"
)

// XML namespaces of the properties the handler reads and adds.
const (
	nsDAV     = "DAV:"
	nsCalDAV  = "urn:ietf:params:xml:ns:caldav"
	nsCardDAV = "urn:ietf:params:xml:ns:carddav"
	nsCS      = "http://calendarserver.org/ns/"
	nsApple   = "http://apple.com/ns/ical/"
	nsInf     = "http://inf-it.com/ns/ab/"
)

// ServeHTTP authenticates the request and hands it to the CardDAV or
// CalDAV side by its path.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !s.active.enter() {
		http.Error(w, "the server is shutting down", http.StatusServiceUnavailable)
		return
	}
	defer s.active.leave()
	if !s.authorized(r) {
		w.Header().Set("WWW-Authenticate", `Basic realm="Mailmover DAV", charset="UTF-8"`)
		http.Error(w, "wrong user name or password", http.StatusUnauthorized)
		return
	}
	switch p := r.URL.Path; {
	case p == "/.well-known/carddav":
		s.card.ServeHTTP(w, r)
	case p == "/.well-known/caldav":
		s.cal.ServeHTTP(w, r)
	case strings.HasPrefix(p, "/carddav/"):
		s.serveKind(dav.Contacts, s.card, w, r)
	case strings.HasPrefix(p, "/caldav/"):
		s.serveKind(dav.Calendars, s.cal, w, r)
	default:
		http.NotFound(w, r)
	}
}

// serveKind serves a request below /carddav/ or /caldav/: GET, PUT,
// MKCOL, MKCALENDAR and PROPFIND pass through the handler's own code,
// the rest goes to go-webdav's h directly.
func (s *Server) serveKind(kind dav.Kind, h http.Handler, w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		if s.serveObject(kind, w, r) {
			return
		}
	case http.MethodPut:
		data, err := readBody(r)
		if err != nil {
			bodyError(w, err)
			return
		}
		r = r.WithContext(context.WithValue(r.Context(), rawKey{}, data))
		r.Body = readCloser{bytes.NewReader(data)}
		r.ContentLength = int64(len(data))
	case "MKCOL", "MKCALENDAR":
		s.mkcol(kind, w, r)
		return
	case "PROPFIND":
		s.propfind(kind, h, w, r)
		return
	}
	h.ServeHTTP(w, r)
}

// readCloser is a bytes.Reader with a no-op Close.
type readCloser struct{ *bytes.Reader }

func (readCloser) Close() error { return nil }

// bodyError answers a request whose body could not be read.
func bodyError(w http.ResponseWriter, err error) {
	if errors.Is(err, errTooLarge) {
		http.Error(w, err.Error(), http.StatusRequestEntityTooLarge)
		return
	}
	http.Error(w, "cannot read the request body", http.StatusBadRequest)
}

// serveObject answers GET or HEAD of an object with its bytes as stored.
// It returns false if the path is not an object, for go-webdav to answer.
func (s *Server) serveObject(kind dav.Kind, w http.ResponseWriter, r *http.Request) bool {
	seg, name, ok := s.locate(kind, r.URL.Path)
	if !ok || name == "" {
		return false
	}
	o, err := s.store.get(kind, seg, name)
	if err != nil {
		http.NotFound(w, r)
		return true
	}
	h := w.Header()
	h.Set("Content-Type", kind.MediaType()+"; charset=utf-8")
	h.Set("Content-Length", strconv.Itoa(len(o.data)))
	h.Set("ETag", `"`+o.etag+`"`)
	h.Set("Last-Modified", o.mod.Format(http.TimeFormat))
	if inm := r.Header.Get("If-None-Match"); inm != "" && etagListed(inm, o.etag) {
		w.WriteHeader(http.StatusNotModified)
		return true
	}
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodGet {
		_, _ = w.Write(o.data)
	}
	return true
}

// mkcolRequest is the body of an extended MKCOL (RFC 5689 section 5.1,
// DAV:mkcol) or a MKCALENDAR (RFC 4791 section 5.3.1, CALDAV:mkcalendar).
type mkcolRequest struct {
	XMLName xml.Name
	Set     []struct {
		Prop mkcolProps `xml:"DAV: prop"`
	} `xml:"DAV: set"`
}

// mkcolProps are the properties a new collection may be given.
type mkcolProps struct {
	ResourceType *struct {
		Types []struct {
			XMLName xml.Name
		} `xml:",any"`
	} `xml:"DAV: resourcetype"`
	DisplayName  *string `xml:"DAV: displayname"`
	BookDesc     *string `xml:"urn:ietf:params:xml:ns:carddav addressbook-description"`
	CalDesc      *string `xml:"urn:ietf:params:xml:ns:caldav calendar-description"`
	BookColor    *string `xml:"http://inf-it.com/ns/ab/ addressbook-color"`
	CalColor     *string `xml:"http://apple.com/ns/ical/ calendar-color"`
	ComponentSet *struct {
		Comps []struct {
			Name string `xml:"name,attr"`
		} `xml:"urn:ietf:params:xml:ns:caldav comp"`
	} `xml:"urn:ietf:params:xml:ns:caldav supported-calendar-component-set"`
}

// has reports whether the resourcetype lists ns:local.
func (p *mkcolProps) has(ns, local string) bool {
	if p.ResourceType == nil {
		return false
	}
	for _, t := range p.ResourceType.Types {
		if t.XMLName.Space == ns && t.XMLName.Local == local {
			return true
		}
	}
	return false
}

// mkcol creates an address book (MKCOL, RFC 6352 section 6.3.1 with RFC
// 5689) or a calendar (MKCALENDAR, or MKCOL with the calendar resource
// type) directly below the home set, with the properties given.
func (s *Server) mkcol(kind dav.Kind, w http.ResponseWriter, r *http.Request) {
	seg, name, ok := s.locate(kind, r.URL.Path)
	if !ok || name != "" {
		davError(w, http.StatusForbidden, nsDAV, "resource-must-be-null", "collections are created directly in the home set")
		return
	}
	if r.Method == "MKCALENDAR" && kind != dav.Calendars {
		davError(w, http.StatusForbidden, nsCalDAV, "calendar-collection-location-ok", "calendars live below /caldav/")
		return
	}
	body, err := readBody(r)
	if err != nil {
		bodyError(w, err)
		return
	}
	c := Collection{Kind: kind, Segment: seg}
	if len(bytes.TrimSpace(body)) > 0 {
		var req mkcolRequest
		if err := xml.Unmarshal(body, &req); err != nil {
			http.Error(w, "cannot read the request body: "+err.Error(), http.StatusBadRequest)
			return
		}
		wantRoot := xml.Name{Space: nsDAV, Local: "mkcol"}
		if r.Method == "MKCALENDAR" {
			wantRoot = xml.Name{Space: nsCalDAV, Local: "mkcalendar"}
		}
		if req.XMLName != wantRoot {
			http.Error(w, "unexpected request body <"+req.XMLName.Local+">", http.StatusBadRequest)
			return
		}
		for _, set := range req.Set {
			p := set.Prop
			if p.ResourceType != nil {
				want, wantNS := "addressbook", nsCardDAV
				if kind == dav.Calendars {
					want, wantNS = "calendar", nsCalDAV
				}
				if !p.has(nsDAV, "collection") || !p.has(wantNS, want) {
					davError(w, http.StatusForbidden, nsDAV, "valid-resourcetype", "only "+want+" collections can be made here")
					return
				}
			}
			if p.DisplayName != nil {
				c.Name = strings.TrimSpace(*p.DisplayName)
			}
			for _, d := range []*string{p.BookDesc, p.CalDesc} {
				if d != nil {
					c.Description = strings.TrimSpace(*d)
				}
			}
			for _, col := range []*string{p.BookColor, p.CalColor} {
				if col != nil {
					c.Color = strings.TrimSpace(*col)
				}
			}
			if p.ComponentSet != nil {
				c.Components = nil
				for _, comp := range p.ComponentSet.Comps {
					c.Components = append(c.Components, strings.ToUpper(comp.Name))
				}
			}
		}
	} else if r.Method == "MKCOL" && kind == dav.Calendars {
		davError(w, http.StatusForbidden, nsDAV, "valid-resourcetype", "use MKCALENDAR to make a calendar")
		return
	}
	if err := s.store.create(c); err != nil {
		if errors.Is(err, errCollectionExists) {
			http.Error(w, err.Error(), http.StatusMethodNotAllowed)
			return
		}
		http.Error(w, err.Error(), http.StatusForbidden)
		return
	}
	w.Header().Set("Location", s.collectionPath(kind, seg))
	w.WriteHeader(http.StatusCreated)
}

// davError answers with an RFC 4918 section 16 DAV:error body naming the
// failed precondition ns:name.
func davError(w http.ResponseWriter, code int, ns, name, text string) {
	w.Header().Set("Content-Type", `application/xml; charset="utf-8"`)
	w.WriteHeader(code)
	var b bytes.Buffer
	b.WriteString(xml.Header)
	b.WriteString(`<D:error xmlns:D="DAV:"><X:` + name + ` xmlns:X="` + ns + `"/><D:responsedescription>`)
	_ = xml.EscapeText(&b, []byte(text))
	b.WriteString("</D:responsedescription></D:error>")
	_, _ = w.Write(b.Bytes())
}

// recorder keeps a response in memory.
type recorder struct {
	header http.Header
	code   int
	body   bytes.Buffer
}

func (rec *recorder) Header() http.Header { return rec.header }

func (rec *recorder) WriteHeader(code int) {
	if rec.code == 0 {
		rec.code = code
	}
}

func (rec *recorder) Write(b []byte) (int, error) {
	if rec.code == 0 {
		rec.code = http.StatusOK
	}
	return rec.body.Write(b)
}

// propfind lets go-webdav answer a PROPFIND, then fills in the
// properties it reported as not found that the server knows: the colour
// and the CTag of collections.
func (s *Server) propfind(kind dav.Kind, h http.Handler, w http.ResponseWriter, r *http.Request) {
	rec := &recorder{header: make(http.Header)}
	h.ServeHTTP(rec, r)
	body := rec.body.Bytes()
	if rec.code == http.StatusMultiStatus {
		if patched, ok := s.addProps(kind, body); ok {
			body = patched
		}
	}
	for k, v := range rec.header {
		w.Header()[k] = v
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	if rec.code == 0 {
		rec.code = http.StatusOK
	}
	w.WriteHeader(rec.code)
	if r.Method != http.MethodHead {
		_, _ = w.Write(body)
	}
}

// msDoc is a multistatus body (RFC 4918 section 14.16), kept close
// enough to re-encode it.
type msDoc struct {
	XMLName   xml.Name     `xml:"DAV: multistatus"`
	Responses []msResponse `xml:"DAV: response"`
	Desc      string       `xml:"DAV: responsedescription,omitempty"`
}

type msResponse struct {
	Hrefs     []string     `xml:"DAV: href"`
	Status    string       `xml:"DAV: status,omitempty"`
	Propstats []msPropstat `xml:"DAV: propstat"`
	Error     *rawElement  `xml:"DAV: error,omitempty"`
	Desc      string       `xml:"DAV: responsedescription,omitempty"`
}

type msPropstat struct {
	Prop   msProp      `xml:"DAV: prop"`
	Status string      `xml:"DAV: status"`
	Error  *rawElement `xml:"DAV: error,omitempty"`
	Desc   string      `xml:"DAV: responsedescription,omitempty"`
}

type msProp struct {
	Props []rawElement `xml:",any"`
}

// rawElement is an element kept as it was: go-webdav declares the
// namespace of every element on the element itself, so its inner XML
// stands on its own.
type rawElement struct {
	XMLName xml.Name
	Attrs   []xml.Attr `xml:",any,attr"`
	Inner   string     `xml:",innerxml"`
}

// clean drops the namespace declarations the decoder reports as
// attributes; the encoder writes its own.
func (e *rawElement) clean() {
	var keep []xml.Attr
	for _, a := range e.Attrs {
		if a.Name.Space == "xmlns" || a.Name.Local == "xmlns" {
			continue
		}
		keep = append(keep, a)
	}
	e.Attrs = keep
}

// collectionProps returns the properties the server adds for the
// collection at path p: its colour and CTag; nil if p is no collection.
func (s *Server) collectionProps(kind dav.Kind, p string) map[xml.Name]string {
	seg, name, ok := s.locate(kind, p)
	if !ok || name != "" {
		return nil
	}
	c, version, ok := s.store.collection(kind, seg)
	if !ok {
		return nil
	}
	props := map[xml.Name]string{
		{Space: nsCS, Local: "getctag"}: strconv.Itoa(version),
	}
	if c.Color != "" {
		color := xml.Name{Space: nsInf, Local: "addressbook-color"}
		if kind == dav.Calendars {
			color = xml.Name{Space: nsApple, Local: "calendar-color"}
		}
		props[color] = c.Color
	}
	return props
}

// addProps fills in, in a multistatus go-webdav wrote, the collection
// properties it answered 404 for. ok is false if nothing changed.
func (s *Server) addProps(kind dav.Kind, body []byte) (out []byte, ok bool) {
	var doc msDoc
	if err := xml.Unmarshal(body, &doc); err != nil {
		return nil, false
	}
	changed := false
	for i := range doc.Responses {
		resp := &doc.Responses[i]
		if len(resp.Hrefs) == 0 {
			continue
		}
		u, err := url.Parse(resp.Hrefs[0])
		if err != nil {
			continue
		}
		known := s.collectionProps(kind, u.Path)
		if known == nil {
			continue
		}
		var found []rawElement
		var stats []msPropstat
		for _, ps := range resp.Propstats {
			if !strings.Contains(ps.Status, " 404 ") {
				stats = append(stats, ps)
				continue
			}
			var rest []rawElement
			for _, p := range ps.Prop.Props {
				if v, ok := known[p.XMLName]; ok {
					var b bytes.Buffer
					_ = xml.EscapeText(&b, []byte(v))
					found = append(found, rawElement{XMLName: p.XMLName, Inner: b.String()})
					continue
				}
				rest = append(rest, p)
			}
			if len(rest) > 0 {
				ps.Prop.Props = rest
				stats = append(stats, ps)
			}
		}
		if len(found) == 0 {
			continue
		}
		stats = append(stats, msPropstat{Prop: msProp{Props: found}, Status: "HTTP/1.1 200 OK"})
		resp.Propstats = stats
		changed = true
	}
	if !changed {
		return nil, false
	}
	for i := range doc.Responses {
		resp := &doc.Responses[i]
		if resp.Error != nil {
			resp.Error.clean()
		}
		for j := range resp.Propstats {
			ps := &resp.Propstats[j]
			if ps.Error != nil {
				ps.Error.clean()
			}
			for k := range ps.Prop.Props {
				ps.Prop.Props[k].clean()
			}
		}
	}
	var b bytes.Buffer
	b.WriteString(xml.Header)
	if err := xml.NewEncoder(&b).Encode(&doc); err != nil {
		return nil, false
	}
	return b.Bytes(), true
}
