package dav

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"net/url"
	"strings"
)

// XML namespaces of the properties Mailmover reads and writes.
const (
	nsDAV     = "DAV:"
	nsCalDAV  = "urn:ietf:params:xml:ns:caldav"  // RFC 4791
	nsCardDAV = "urn:ietf:params:xml:ns:carddav" // RFC 6352
	nsCS      = "http://calendarserver.org/ns/"  // getctag
	nsApple   = "http://apple.com/ns/ical/"      // calendar-color
	nsInf     = "http://inf-it.com/ns/ab/"       // addressbook-color (InfCloud, Radicale, DAVx⁵)
)

// multistatus is an RFC 4918 section 14.16 multistatus body.
type multistatus struct {
	XMLName   xml.Name     `xml:"DAV: multistatus"`
	Responses []msResponse `xml:"DAV: response"`
}

// msResponse is one resource's part of a multistatus.
type msResponse struct {
	Hrefs     []string   `xml:"DAV: href"`
	Status    string     `xml:"DAV: status"`
	Propstats []propstat `xml:"DAV: propstat"`
}

// propstat is a group of properties sharing one status.
type propstat struct {
	Prop struct {
		Props []property `xml:",any"`
	} `xml:"DAV: prop"`
	Status string `xml:"DAV: status"`
}

// property is any property: its text, its hrefs, and its child elements.
type property struct {
	XMLName  xml.Name
	Text     string    `xml:",chardata"`
	Hrefs    []string  `xml:"DAV: href"`
	Children []element `xml:",any"`
}

// element is a child element of a property, with its attributes.
type element struct {
	XMLName xml.Name
	Attrs   []xml.Attr `xml:",any,attr"`
}

// parseMultistatus decodes a multistatus body.
func parseMultistatus(data []byte) (*multistatus, error) {
	var ms multistatus
	if err := xml.Unmarshal(data, &ms); err != nil {
		return nil, fmt.Errorf("read multistatus: %w", err)
	}
	return &ms, nil
}

// statusOK reports whether an HTTP status line ("HTTP/1.1 200 OK") is a
// success; an empty line counts as success.
func statusOK(line string) bool {
	f := strings.Fields(line)
	return len(f) < 2 || strings.HasPrefix(f[1], "2")
}

// props returns r's successfully retrieved properties by namespace and
// local name.
func (r *msResponse) props() map[xml.Name]*property {
	m := make(map[xml.Name]*property)
	for i := range r.Propstats {
		ps := &r.Propstats[i]
		if !statusOK(ps.Status) {
			continue
		}
		for j := range ps.Prop.Props {
			p := &ps.Prop.Props[j]
			m[p.XMLName] = p
		}
	}
	return m
}

// href returns r's first href resolved against base.
func (r *msResponse) href(base *url.URL) (*url.URL, error) {
	if len(r.Hrefs) == 0 {
		return nil, fmt.Errorf("response without href")
	}
	return resolveHref(base, r.Hrefs[0])
}

// resolveHref resolves an href (absolute URL or path, RFC 4918 section
// 8.3) against base.
func resolveHref(base *url.URL, href string) (*url.URL, error) {
	href = strings.TrimSpace(href)
	u, err := base.Parse(href)
	if err != nil {
		return nil, fmt.Errorf("bad href %q: %w", href, err)
	}
	u.User = nil
	u.RawQuery, u.Fragment = "", ""
	return u, nil
}

// hasChild reports whether p has a child element ns:local.
func (p *property) hasChild(ns, local string) bool {
	if p == nil {
		return false
	}
	for _, c := range p.Children {
		if c.XMLName.Space == ns && c.XMLName.Local == local {
			return true
		}
	}
	return false
}

// text returns p's trimmed text, "" if p is nil.
func (p *property) text() string {
	if p == nil {
		return ""
	}
	return strings.TrimSpace(p.Text)
}

// davErrorName returns the local name of the first precondition element
// of an RFC 4918 section 16 DAV:error body, "" if there is none.
func davErrorName(body []byte) string {
	var e struct {
		XMLName  xml.Name  `xml:"DAV: error"`
		Children []element `xml:",any"`
	}
	if xml.Unmarshal(body, &e) != nil || len(e.Children) == 0 {
		return ""
	}
	return e.Children[0].XMLName.Local
}

// xmlText escapes s for XML character data.
func xmlText(s string) string {
	var b bytes.Buffer
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}

// propfindBody returns a PROPFIND body asking for props, each written as
// "prefix:local" with prefixes D (DAV:), C (CalDAV), CR (CardDAV), CS,
// I (Apple iCal) and INF (InfCloud).
func propfindBody(props ...string) []byte {
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="utf-8"?>` + "\n")
	b.WriteString(`<D:propfind xmlns:D="DAV:" xmlns:C="` + nsCalDAV + `" xmlns:CR="` + nsCardDAV + `" xmlns:CS="` + nsCS + `" xmlns:I="` + nsApple + `" xmlns:INF="` + nsInf + `"><D:prop>`)
	for _, p := range props {
		b.WriteString("<" + p + "/>")
	}
	b.WriteString("</D:prop></D:propfind>")
	return []byte(b.String())
}

// xmlName returns the XML name ns:local.
func xmlName(ns, local string) xml.Name { return xml.Name{Space: ns, Local: local} }
