package imapstore

import (
	"encoding/base64"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// mutf7 is the base64 alphabet of modified UTF-7 (RFC 3501 section 5.1.3).
var mutf7 = base64.NewEncoding("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,").WithPadding(base64.NoPadding)

// EncodeMailbox encodes a mailbox name in modified UTF-7 (RFC 3501 section
// 5.1.3), as servers without UTF8=ACCEPT expect it on the wire.
func EncodeMailbox(name string) string {
	var sb strings.Builder
	for i := 0; i < len(name); {
		ch := name[i]
		if ch >= 0x20 && ch <= 0x7e {
			sb.WriteByte(ch)
			if ch == '&' {
				sb.WriteByte('-')
			}
			i++
			continue
		}
		start := i
		for i < len(name) && (name[i] < 0x20 || name[i] > 0x7e) {
			i++
		}
		var u16 []byte
		for _, r := range name[start:i] {
			if r == utf8.RuneError {
				r = '\uFFFD'
			}
			for _, c := range utf16.Encode([]rune{r}) {
				u16 = append(u16, byte(c>>8), byte(c))
			}
		}
		sb.WriteByte('&')
		sb.WriteString(mutf7.EncodeToString(u16))
		sb.WriteByte('-')
	}
	return sb.String()
}
