package sieve

import "strings"

// Quote writes s as a Sieve quoted string (RFC 5228 section 2.4.2): '"'
// and '\' are escaped with a backslash; everything else, line breaks
// included, stands for itself. Invalid UTF-8 is replaced, since scripts
// are UTF-8.
func Quote(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	var b strings.Builder
	b.Grow(len(s) + 2)
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		if s[i] == '"' || s[i] == '\\' {
			b.WriteByte('\\')
		}
		b.WriteByte(s[i])
	}
	b.WriteByte('"')
	return b.String()
}

// QuoteList writes a string list: one string as itself, more as
// ["a", "b"].
func QuoteList(ss []string) string {
	if len(ss) == 1 {
		return Quote(ss[0])
	}
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = Quote(s)
	}
	return "[" + strings.Join(q, ", ") + "]"
}

// MatchEscape escapes the wildcards of a :matches pattern (RFC 5228
// section 2.7.1): '*', '?' and '\' get a backslash, so that the text
// matches itself.
func MatchEscape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '*', '?', '\\':
			b.WriteByte('\\')
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// comment makes s safe on one '#' comment line.
func comment(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	return strings.Join(strings.Fields(s), " ")
}
