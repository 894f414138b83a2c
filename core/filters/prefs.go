package filters

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// maxPrefsFile bounds what ParsePrefs reads.
const maxPrefsFile = 64 << 20

// Prefs are the preferences of a Thunderbird profile's prefs.js (or
// user.js): each value is a string, a bool or an int64.
type Prefs map[string]any

// String returns the string value of key, "" if it is not a string.
func (p Prefs) String(key string) string {
	s, _ := p[key].(string)
	return s
}

// Bool returns the bool value of key, false if it is not a bool.
func (p Prefs) Bool(key string) bool {
	b, _ := p[key].(bool)
	return b
}

// Int returns the integer value of key, 0 if it is not an integer.
func (p Prefs) Int(key string) int64 {
	n, _ := p[key].(int64)
	return n
}

// List splits a comma-separated string value ("id1,id2").
func (p Prefs) List(key string) []string {
	var out []string
	for _, s := range strings.Split(p.String(key), ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// ParsePrefs reads prefs.js: statements user_pref("name", value); (also
// pref, sticky_pref and lock_pref), with // # and /* */ comments. Values are
// JavaScript strings (with \" \\ \n \r \t \xNN \uNNNN escapes), true, false
// or integers. Like ParseFilterRules it keeps going past a bad statement
// and reports it in a *ParseError.
func ParsePrefs(r io.Reader) (Prefs, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxPrefsFile+1))
	if err != nil {
		return nil, fmt.Errorf("read prefs: %w", err)
	}
	if len(data) > maxPrefsFile {
		return nil, fmt.Errorf("read prefs: larger than %d MB", maxPrefsFile>>20)
	}
	l := &prefLexer{s: string(data), line: 1}
	prefs := Prefs{}
	var problems []LineError
	for {
		l.skip()
		if l.pos >= len(l.s) {
			break
		}
		line := l.line
		name, value, err := l.statement()
		if err != nil {
			problems = append(problems, LineError{Line: line, Msg: err.Error()})
			l.recover()
			continue
		}
		prefs[name] = value
	}
	if len(problems) > 0 {
		return prefs, &ParseError{Problems: problems}
	}
	return prefs, nil
}

type prefLexer struct {
	s    string
	pos  int
	line int
}

// skip passes blanks and comments.
func (l *prefLexer) skip() {
	for l.pos < len(l.s) {
		c := l.s[l.pos]
		switch {
		case c == '\n':
			l.line++
			l.pos++
		case c == ' ' || c == '\t' || c == '\r' || c == '\f':
			l.pos++
		case c == '#' || strings.HasPrefix(l.s[l.pos:], "//"):
			for l.pos < len(l.s) && l.s[l.pos] != '\n' {
				l.pos++
			}
		case strings.HasPrefix(l.s[l.pos:], "/*"):
			end := strings.Index(l.s[l.pos+2:], "*/")
			if end < 0 {
				end = len(l.s) - l.pos - 2
			}
			l.line += strings.Count(l.s[l.pos:l.pos+2+end], "\n")
			l.pos += 2 + end + 2
			if l.pos > len(l.s) {
				l.pos = len(l.s)
			}
		default:
			return
		}
	}
}

// recover moves past the end of a bad statement.
func (l *prefLexer) recover() {
	for l.pos < len(l.s) {
		c := l.s[l.pos]
		l.pos++
		if c == ';' {
			return
		}
		if c == '\n' {
			l.line++
			return
		}
	}
}

func (l *prefLexer) expect(c byte) error {
	l.skip()
	if l.pos >= len(l.s) || l.s[l.pos] != c {
		return fmt.Errorf("expected %q", c)
	}
	l.pos++
	return nil
}

func (l *prefLexer) word() string {
	start := l.pos
	for l.pos < len(l.s) {
		c := l.s[l.pos]
		if !(c == '_' || c == '-' || c == '+' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			break
		}
		l.pos++
	}
	return l.s[start:l.pos]
}

func (l *prefLexer) statement() (string, any, error) {
	fn := l.word()
	switch fn {
	case "user_pref", "pref", "sticky_pref", "lock_pref":
	case "":
		return "", nil, fmt.Errorf("unexpected %q", clip(l.s[l.pos:min(l.pos+20, len(l.s))], 20))
	default:
		return "", nil, fmt.Errorf("unknown function %q", fn)
	}
	if err := l.expect('('); err != nil {
		return "", nil, err
	}
	l.skip()
	name, err := l.str()
	if err != nil {
		return "", nil, fmt.Errorf("preference name: %w", err)
	}
	if err := l.expect(','); err != nil {
		return "", nil, err
	}
	l.skip()
	var value any
	if l.pos < len(l.s) && (l.s[l.pos] == '"' || l.s[l.pos] == '\'') {
		v, err := l.str()
		if err != nil {
			return "", nil, fmt.Errorf("value of %s: %w", name, err)
		}
		value = v
	} else {
		w := l.word()
		switch w {
		case "true":
			value = true
		case "false":
			value = false
		default:
			n, err := strconv.ParseInt(w, 10, 64)
			if err != nil {
				return "", nil, fmt.Errorf("value of %s: %q is not a string, boolean or integer", name, w)
			}
			value = n
		}
	}
	// pref("name", value, sticky) and pref("name", value, locked).
	l.skip()
	if l.pos < len(l.s) && l.s[l.pos] == ',' {
		l.pos++
		l.skip()
		l.word()
	}
	if err := l.expect(')'); err != nil {
		return "", nil, err
	}
	if err := l.expect(';'); err != nil {
		return "", nil, err
	}
	return name, value, nil
}

// str reads a JavaScript string literal.
func (l *prefLexer) str() (string, error) {
	if l.pos >= len(l.s) || (l.s[l.pos] != '"' && l.s[l.pos] != '\'') {
		return "", fmt.Errorf("expected a quoted string")
	}
	q := l.s[l.pos]
	l.pos++
	var b strings.Builder
	for l.pos < len(l.s) {
		c := l.s[l.pos]
		switch {
		case c == q:
			l.pos++
			return b.String(), nil
		case c == '\n':
			return "", fmt.Errorf("string not closed on its line")
		case c == '\\' && l.pos+1 < len(l.s):
			l.pos++
			e := l.s[l.pos]
			l.pos++
			switch e {
			case 'n':
				b.WriteByte('\n')
			case 'r':
				b.WriteByte('\r')
			case 't':
				b.WriteByte('\t')
			case 'x':
				n, ok := l.hex(2)
				if !ok {
					return "", fmt.Errorf("bad \\x escape")
				}
				b.WriteRune(rune(n))
			case 'u':
				n, ok := l.hex(4)
				if !ok {
					return "", fmt.Errorf("bad \\u escape")
				}
				r := rune(n)
				if utf16.IsSurrogate(r) && strings.HasPrefix(l.s[l.pos:], `\u`) {
					save := l.pos
					l.pos += 2
					if n2, ok := l.hex(4); ok {
						r = utf16.DecodeRune(r, rune(n2))
					} else {
						l.pos = save
					}
				}
				if r == utf8.RuneError || utf16.IsSurrogate(r) {
					r = utf8.RuneError
				}
				b.WriteRune(r)
			default:
				b.WriteByte(e)
			}
		default:
			b.WriteByte(c)
			l.pos++
		}
	}
	return "", fmt.Errorf("string not closed")
}

func (l *prefLexer) hex(n int) (int, bool) {
	if l.pos+n > len(l.s) {
		return 0, false
	}
	v, err := strconv.ParseUint(l.s[l.pos:l.pos+n], 16, 32)
	if err != nil {
		return 0, false
	}
	l.pos += n
	return int(v), true
}
