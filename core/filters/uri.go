package filters

import (
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"unicode/utf16"
)

// ParseFolderURI decodes a folder URI as Thunderbird and Apple Mail write
// them: "imap://alice%40example.com@imap.example.com/INBOX/Re%C3%A7us%20%26%20Factures",
// "mailbox://nobody@Local%20Folders/Archive", or a template's
// "…/Templates?messageId=…&subject=…". Each path segment is percent-decoded
// to UTF-8; an IMAP segment holding a raw '&' is modified UTF-7 (RFC 3501
// section 5.1.3), as older Thunderbird versions wrote.
func ParseFolderURI(s string) (*Folder, error) {
	f := &Folder{URI: s}
	scheme, rest, ok := strings.Cut(s, "://")
	if !ok || scheme == "" {
		return nil, fmt.Errorf("folder %q is not a URI", clip(s, 60))
	}
	f.Scheme = strings.ToLower(scheme)
	rest, query, hasQuery := strings.Cut(rest, "?")
	authority, path, _ := strings.Cut(rest, "/")
	if i := strings.LastIndexByte(authority, '@'); i >= 0 {
		f.User = unescape(authority[:i])
		f.Host = unescape(authority[i+1:])
	} else {
		f.Host = unescape(authority)
	}
	for _, seg := range strings.Split(path, "/") {
		if seg == "" {
			continue
		}
		name := unescape(seg)
		if f.Scheme == "imap" && strings.Contains(seg, "&") {
			if d, err := decodeMUTF7(name); err == nil {
				name = d
			}
		}
		f.Path = append(f.Path, name)
	}
	if hasQuery {
		f.Query = map[string]string{}
		for _, kv := range strings.Split(query, "&") {
			k, v, _ := strings.Cut(kv, "=")
			if k != "" {
				f.Query[unescape(k)] = unescape(v)
			}
		}
	}
	return f, nil
}

// unescape percent-decodes s, leaving malformed escapes as they are.
func unescape(s string) string {
	if d, err := url.PathUnescape(s); err == nil {
		return d
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && i+2 < len(s) && ishex(s[i+1]) && ishex(s[i+2]) {
			b.WriteByte(unhex(s[i+1])<<4 | unhex(s[i+2]))
			i += 2
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func ishex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c >= 'a':
		return c - 'a' + 10
	case c >= 'A':
		return c - 'A' + 10
	}
	return c - '0'
}

// mutf7 is the base64 alphabet of modified UTF-7, with ',' for '/'.
var mutf7 = base64.NewEncoding("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,").WithPadding(base64.NoPadding)

// decodeMUTF7 decodes an IMAP mailbox name in modified UTF-7.
func decodeMUTF7(s string) (string, error) {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '&' {
			b.WriteByte(s[i])
			continue
		}
		end := strings.IndexByte(s[i:], '-')
		if end < 0 {
			return "", errors.New("unterminated modified UTF-7")
		}
		enc := s[i+1 : i+end]
		i += end
		if enc == "" {
			b.WriteByte('&')
			continue
		}
		raw, err := mutf7.DecodeString(enc)
		if err != nil || len(raw)%2 != 0 {
			return "", errors.New("bad modified UTF-7")
		}
		u := make([]uint16, len(raw)/2)
		for j := range u {
			u[j] = uint16(raw[2*j])<<8 | uint16(raw[2*j+1])
		}
		b.WriteString(string(utf16.Decode(u)))
	}
	return b.String(), nil
}
