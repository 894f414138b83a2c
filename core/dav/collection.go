package dav

import (
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"path"
	"regexp"
	"sort"
	"strings"

	"mailmover/core/failure"
)

// Collection is an address book (RFC 6352 section 5.2) or a calendar
// (RFC 4791 section 4.2).
type Collection struct {
	// URL locates the collection; it ends with "/".
	URL string `json:"url"`
	// Name is the display name (RFC 4918 section 15.2), "" if none.
	Name string `json:"name,omitempty"`
	// Description is the address book's or calendar's description.
	Description string `json:"description,omitempty"`
	// Color is the colour clients show, as the server keeps it (Apple's
	// calendar-color, InfCloud's addressbook-color), e.g. "#FF2968FF".
	Color string `json:"color,omitempty"`
	// Components are the component types a calendar takes (RFC 4791
	// section 5.2.3: VEVENT, VTODO, VJOURNAL); empty if unknown or for an
	// address book.
	Components []string `json:"components,omitempty"`
	// CTag changes whenever the collection changes (calendarserver.org
	// getctag), "" if the server has none.
	CTag string `json:"-"`

	u *url.URL
}

// Segment returns the last segment of the collection's path, unescaped.
func (c Collection) Segment() string {
	p := c.path()
	return path.Base(strings.TrimSuffix(p, "/"))
}

// path returns the collection's URL path.
func (c Collection) path() string {
	if c.u != nil {
		return c.u.Path
	}
	if u, err := url.Parse(c.URL); err == nil {
		return u.Path
	}
	return c.URL
}

// realName returns the display name unless it is a server's stand-in for
// a missing one (Radicale answers with the collection's path).
func (c Collection) realName() string {
	n := strings.TrimSpace(c.Name)
	if n == strings.Trim(c.path(), "/") {
		return ""
	}
	return n
}

// Title returns the display name, or the path segment when there is none.
func (c Collection) Title() string {
	if n := c.realName(); n != "" {
		return n
	}
	return c.Segment()
}

// collectionProps are the properties read for each collection.
var collectionProps = [...]string{
	"D:resourcetype", "D:displayname", "CR:addressbook-description", "C:calendar-description",
	"I:calendar-color", "INF:addressbook-color", "C:supported-calendar-component-set", "CS:getctag",
}

// Collections lists the address books or calendars in the home set,
// sorted by URL. Other collections (a calendar account's inbox and outbox,
// subscriptions) are left out.
func (a *Account) Collections(ctx context.Context) ([]Collection, error) {
	ms, reached, err := a.propfind(ctx, a.homeURL, "1", failure.ScopeAccount, collectionProps[:]...)
	if err != nil {
		return nil, err
	}
	var out []Collection
	for _, r := range ms.Responses {
		u, err := r.href(reached)
		if err != nil {
			return nil, failure.New(failure.Malformed, failure.ScopeAccount, "list "+a.Kind.String(), err)
		}
		if !a.c.trusts(u) {
			continue
		}
		if c, ok := a.collectionFrom(u, r.props()); ok {
			out = append(out, c)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].URL < out[j].URL })
	return out, nil
}

// collectionFrom builds a Collection from a PROPFIND response if it is a
// collection of the account's kind.
func (a *Account) collectionFrom(u *url.URL, props map[xml.Name]*property) (Collection, bool) {
	rt := props[xmlName(nsDAV, "resourcetype")]
	want := xmlName(nsCardDAV, "addressbook")
	desc := xmlName(nsCardDAV, "addressbook-description")
	color := xmlName(nsInf, "addressbook-color")
	if a.Kind == Calendars {
		want = xmlName(nsCalDAV, "calendar")
		desc = xmlName(nsCalDAV, "calendar-description")
		color = xmlName(nsApple, "calendar-color")
	}
	if !rt.hasChild(want.Space, want.Local) {
		return Collection{}, false
	}
	if !strings.HasSuffix(u.Path, "/") {
		u.Path += "/"
		u.RawPath = ""
	}
	c := Collection{
		URL:         u.String(),
		Name:        props[xmlName(nsDAV, "displayname")].text(),
		Description: props[desc].text(),
		Color:       props[color].text(),
		CTag:        props[xmlName(nsCS, "getctag")].text(),
		u:           u,
	}
	if a.Kind == Calendars {
		if set := props[xmlName(nsCalDAV, "supported-calendar-component-set")]; set != nil {
			for _, ch := range set.Children {
				if ch.XMLName.Space != nsCalDAV || ch.XMLName.Local != "comp" {
					continue
				}
				for _, at := range ch.Attrs {
					if at.Name.Local == "name" {
						c.Components = append(c.Components, strings.ToUpper(at.Value))
					}
				}
			}
		}
	}
	return c, true
}

// collectionURL returns c's URL, parsed.
func (c *Collection) collectionURL() (*url.URL, error) {
	if c.u != nil {
		return c.u, nil
	}
	u, err := url.Parse(c.URL)
	if err != nil {
		return nil, failure.New(failure.Config, failure.ScopeFolder, "collection "+c.URL, err)
	}
	c.u = u
	return u, nil
}

// safeSegment matches names safe as a path segment on every server:
// letters, digits and a few punctuation marks.
var safeSegment = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._@+=-]{0,119}$`)

// segmentFor returns a safe path segment for a new collection like c:
// c's own segment when safe, else one made from its title, else a digest.
func segmentFor(c Collection) string {
	if s := c.Segment(); safeSegment.MatchString(s) {
		return s
	}
	var b strings.Builder
	for _, r := range strings.ToLower(c.Title()) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			b.WriteRune(r)
		case b.Len() > 0 && !strings.HasSuffix(b.String(), "-"):
			b.WriteByte('-')
		}
	}
	s := strings.Trim(b.String(), "-")
	if safeSegment.MatchString(s) {
		return s
	}
	return contentHash([]byte(c.URL))
}

// CreateCollection creates, in the home set, an address book or calendar
// named segment with like's display name, description, colour and (for
// a calendar) component types: extended MKCOL for an address book (RFC
// 5689), MKCALENDAR for a calendar (RFC 4791 section 5.3.1). A server
// that refuses some properties is asked again with fewer. If something
// already exists at that name, the error wraps ErrExists.
func (a *Account) CreateCollection(ctx context.Context, segment string, like Collection) (Collection, error) {
	if !safeSegment.MatchString(segment) {
		return Collection{}, failure.Newf(failure.Config, failure.ScopeFolder, "%q is not a usable collection name", segment)
	}
	u := a.homeURL.ResolveReference(&url.URL{Path: segment + "/"})
	op := fmt.Sprintf("create %s %q at %s", a.kindSingular(), like.Title(), redact(u))
	var last error
	for _, body := range a.mkcolBodies(like) {
		method := "MKCOL"
		if a.Kind == Calendars {
			method = "MKCALENDAR"
		}
		h := http.Header{}
		if body != nil {
			h.Set("Content-Type", "application/xml; charset=utf-8")
		}
		resp, err := a.c.do(ctx, request{method: method, url: u, header: h, body: body})
		if err != nil {
			return Collection{}, err
		}
		if resp.code/100 == 2 {
			c := like
			c.URL, c.u, c.CTag = u.String(), u, ""
			if c.realName() == "" {
				c.Name = ""
			}
			return c, nil
		}
		se := resp.statusError(method)
		// RFC 4918 section 9.3.1: 405 when something is there already;
		// RFC 4791 section 5.3.1.1: the resource-must-be-null precondition.
		if resp.code == http.StatusMethodNotAllowed || se.Text == "resource-must-be-null" {
			return Collection{}, failure.New(failure.Refused, failure.ScopeFolder, op, fmt.Errorf("%w: %w", ErrExists, se))
		}
		switch resp.code {
		case http.StatusUnauthorized, http.StatusProxyAuthRequired, http.StatusInsufficientStorage:
			return Collection{}, classifyStatus(op, se, failure.ScopeFolder)
		}
		last = classifyStatus(op, se, failure.ScopeFolder)
	}
	return Collection{}, last
}

// ErrExists says that a collection or object already exists where
// Mailmover wanted to create one.
var ErrExists = errors.New("already exists")

// kindSingular returns "address book" or "calendar".
func (a *Account) kindSingular() string {
	if a.Kind == Calendars {
		return "calendar"
	}
	return "address book"
}

// mkcolBodies returns the request bodies to try, from all properties to
// none: the display name alone, then (for MKCALENDAR) no body at all.
func (a *Account) mkcolBodies(like Collection) [][]byte {
	name := like.realName()
	var full, named strings.Builder
	if a.Kind == Calendars {
		if name != "" {
			full.WriteString("<D:displayname>" + xmlText(name) + "</D:displayname>")
		}
		named.WriteString(full.String())
		if like.Description != "" {
			full.WriteString("<C:calendar-description>" + xmlText(like.Description) + "</C:calendar-description>")
		}
		if like.Color != "" {
			full.WriteString(`<I:calendar-color xmlns:I="` + nsApple + `">` + xmlText(like.Color) + "</I:calendar-color>")
		}
		if len(like.Components) > 0 {
			full.WriteString("<C:supported-calendar-component-set>")
			for _, c := range like.Components {
				full.WriteString(`<C:comp name="` + xmlText(c) + `"/>`)
			}
			full.WriteString("</C:supported-calendar-component-set>")
		}
		wrap := func(props string) []byte {
			return []byte(`<?xml version="1.0" encoding="utf-8"?>` + "\n" +
				`<C:mkcalendar xmlns:D="DAV:" xmlns:C="` + nsCalDAV + `"><D:set><D:prop>` + props + `</D:prop></D:set></C:mkcalendar>`)
		}
		bodies := [][]byte{wrap(full.String())}
		if named.Len() > 0 && named.String() != full.String() {
			bodies = append(bodies, wrap(named.String()))
		}
		return append(bodies, nil)
	}
	rt := "<D:resourcetype><D:collection/><CR:addressbook/></D:resourcetype>"
	full.WriteString(rt)
	named.WriteString(rt)
	if name != "" {
		full.WriteString("<D:displayname>" + xmlText(name) + "</D:displayname>")
		named.WriteString("<D:displayname>" + xmlText(name) + "</D:displayname>")
	}
	if like.Description != "" {
		full.WriteString("<CR:addressbook-description>" + xmlText(like.Description) + "</CR:addressbook-description>")
	}
	if like.Color != "" {
		full.WriteString(`<INF:addressbook-color xmlns:INF="` + nsInf + `">` + xmlText(like.Color) + "</INF:addressbook-color>")
	}
	wrap := func(props string) []byte {
		return []byte(`<?xml version="1.0" encoding="utf-8"?>` + "\n" +
			`<D:mkcol xmlns:D="DAV:" xmlns:CR="` + nsCardDAV + `"><D:set><D:prop>` + props + `</D:prop></D:set></D:mkcol>`)
	}
	bodies := [][]byte{wrap(full.String())}
	if named.String() != full.String() {
		bodies = append(bodies, wrap(named.String()))
	}
	if name != "" {
		bodies = append(bodies, wrap(rt))
	}
	return bodies
}
