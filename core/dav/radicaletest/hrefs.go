package radicaletest

import (
	"encoding/xml"
	"net/url"
	"sort"
	"strings"
)

// multistatus is the part of an RFC 4918 multistatus body List reads.
type multistatus struct {
	Responses []struct {
		Href string `xml:"DAV: href"`
	} `xml:"DAV: response"`
}

// parseHrefs returns the sorted, unescaped paths of data's responses,
// leaving out self (the collection itself).
func parseHrefs(data []byte, self string) []string {
	var ms multistatus
	if err := xml.Unmarshal(data, &ms); err != nil {
		return nil
	}
	var out []string
	for _, r := range ms.Responses {
		p := strings.TrimSpace(r.Href)
		if u, err := url.Parse(p); err == nil {
			p = u.Path
		}
		if strings.TrimSuffix(p, "/") == strings.TrimSuffix(self, "/") {
			continue
		}
		out = append(out, p)
	}
	sort.Strings(out)
	return out
}
