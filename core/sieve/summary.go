package sieve

import (
	"fmt"
	"strconv"
	"strings"
)

// Summarize describes in plain language the vacation (RFC 5230) and
// redirect (RFC 5228 section 4.2) commands of a Sieve script, for the
// notes: automatic replies and forwards are what users miss first. It is
// a light scan, not a full parse; a script it cannot read gives fewer
// lines, never an error.
func Summarize(script string) []string {
	toks := scanTokens(script)
	var out []string
	for i := 0; i < len(toks); i++ {
		t := toks[i]
		if t.kind != sumWord || (i > 0 && !isCommandStart(toks[i-1])) {
			continue
		}
		name := strings.ToLower(t.text)
		if name != "vacation" && name != "redirect" {
			continue
		}
		var args []scanToken
		j := i + 1
		for ; j < len(toks) && !(toks[j].kind == sumPunct && toks[j].text == ";"); j++ {
			args = append(args, toks[j])
		}
		i = j
		if name == "redirect" {
			out = append(out, describeRedirect(args))
		} else {
			out = append(out, describeVacation(args))
		}
	}
	return out
}

func isCommandStart(prev scanToken) bool {
	return prev.kind == sumPunct && (prev.text == ";" || prev.text == "{" || prev.text == "}")
}

func describeRedirect(args []scanToken) string {
	var to []string
	keep := false
	for _, a := range args {
		switch {
		case a.kind == sumTag && strings.EqualFold(a.text, ":copy"):
			keep = true
		case a.kind == sumString:
			to = append(to, a.text)
		}
	}
	s := "Forwards mail"
	if len(to) > 0 {
		s += " to " + strconv.Quote(strings.Join(to, ", "))
	}
	if keep {
		return s + " and keeps a copy."
	}
	return s + " (without keeping a copy, unless the script keeps one elsewhere)."
}

func describeVacation(args []scanToken) string {
	var days, subject, from, reason string
	var addresses []string
	for k := 0; k < len(args); k++ {
		a := args[k]
		next := func() (scanToken, bool) {
			if k+1 < len(args) {
				k++
				return args[k], true
			}
			return scanToken{}, false
		}
		if a.kind == sumTag {
			switch strings.ToLower(a.text) {
			case ":days", ":seconds":
				if n, ok := next(); ok {
					days = n.text
					if strings.EqualFold(a.text, ":seconds") {
						days += " seconds"
					} else {
						days += " days"
					}
				}
			case ":subject":
				if n, ok := next(); ok {
					subject = n.text
				}
			case ":from":
				if n, ok := next(); ok {
					from = n.text
				}
			case ":addresses":
				// A string or a string list.
				if k+1 < len(args) && args[k+1].kind == sumString {
					k++
					addresses = append(addresses, args[k].text)
					break
				}
				for k+1 < len(args) && (args[k+1].kind == sumString || args[k+1].kind == sumPunct && strings.ContainsAny(args[k+1].text, "[,")) {
					k++
					if args[k].kind == sumString {
						addresses = append(addresses, args[k].text)
					}
				}
				if k+1 < len(args) && args[k+1].text == "]" {
					k++
				}
			case ":handle", ":fcc":
				next()
			}
			continue
		}
		if a.kind == sumString {
			reason = a.text
		}
	}
	var b strings.Builder
	b.WriteString("Replies automatically (vacation)")
	if subject != "" {
		fmt.Fprintf(&b, " with the subject %s", strconv.Quote(subject))
	}
	if from != "" {
		fmt.Fprintf(&b, " from %s", strconv.Quote(from))
	}
	if days != "" {
		fmt.Fprintf(&b, ", at most once every %s per sender", days)
	}
	if len(addresses) > 0 {
		fmt.Fprintf(&b, ", also for mail to %s", strings.Join(addresses, ", "))
	}
	if reason != "" {
		r := strings.TrimSpace(reason)
		if len(r) > 200 {
			r = r[:200] + "…"
		}
		fmt.Fprintf(&b, ": %s", strconv.Quote(r))
	}
	return b.String() + "."
}

type sumKind int

const (
	sumWord sumKind = iota
	sumTag
	sumString
	sumNumber
	sumPunct
)

type scanToken struct {
	kind sumKind
	text string
}

// scanTokens splits a script into words, tags, strings (quoted or
// text:), numbers and punctuation, dropping comments (RFC 5228 section 8.1).
func scanTokens(s string) []scanToken {
	var toks []scanToken
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\r' || c == '\n':
			i++
		case c == '#':
			for i < len(s) && s[i] != '\n' {
				i++
			}
		case c == '/' && i+1 < len(s) && s[i+1] == '*':
			end := strings.Index(s[i+2:], "*/")
			if end < 0 {
				return toks
			}
			i += end + 4
		case c == '"':
			var b strings.Builder
			i++
			for i < len(s) && s[i] != '"' {
				if s[i] == '\\' && i+1 < len(s) {
					i++
				}
				b.WriteByte(s[i])
				i++
			}
			i++
			toks = append(toks, scanToken{sumString, b.String()})
		case c == ':':
			j := i + 1
			for j < len(s) && isWordByte(s[j]) {
				j++
			}
			toks = append(toks, scanToken{sumTag, s[i:j]})
			i = j
		case c >= '0' && c <= '9':
			j := i
			for j < len(s) && isWordByte(s[j]) {
				j++
			}
			toks = append(toks, scanToken{sumNumber, s[i:j]})
			i = j
		case isWordByte(c):
			j := i
			for j < len(s) && isWordByte(s[j]) {
				j++
			}
			word := s[i:j]
			if strings.EqualFold(word, "text") && j < len(s) && s[j] == ':' {
				// text: ... CRLF "." CRLF, with dot-stuffing.
				nl := strings.IndexByte(s[j:], '\n')
				if nl < 0 {
					return toks
				}
				var lines []string
				k := j + nl + 1
				for k < len(s) {
					e := strings.IndexByte(s[k:], '\n')
					line := s[k:]
					if e >= 0 {
						line = s[k : k+e]
					}
					line = strings.TrimSuffix(line, "\r")
					if line == "." {
						k += len(line) + 1
						break
					}
					lines = append(lines, strings.TrimPrefix(line, "."))
					if e < 0 {
						k = len(s)
						break
					}
					k += e + 1
				}
				toks = append(toks, scanToken{sumString, strings.Join(lines, "\n")})
				i = k
				continue
			}
			toks = append(toks, scanToken{sumWord, word})
			i = j
		default:
			toks = append(toks, scanToken{sumPunct, string(c)})
			i++
		}
	}
	return toks
}

func isWordByte(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}
