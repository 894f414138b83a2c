package sieve

import (
	"fmt"
	"strings"
)

// SyntaxError is a problem found by Check, at a line and column (1-based).
type SyntaxError struct {
	Line, Col int
	Msg       string
}

// Error returns the problem with its position.
func (e *SyntaxError) Error() string {
	return fmt.Sprintf("sieve line %d, column %d: %s", e.Line, e.Col, e.Msg)
}

// Check parses a Sieve script (RFC 5228 section 8) and checks what a
// parser can: tokens, strings and comments, balanced blocks and lists,
// semicolons, the if/elsif/else chain, tests where tests belong, require
// before anything else, and that each command, test and tag of a known
// extension is covered by a require. It knows the base language and the
// extensions fileinto, reject, envelope, imap4flags, copy, body, relational,
// date, regex, vacation, variables and mailbox; other identifiers are
// errors. The server's CHECKSCRIPT remains the real judge.
func Check(script string) error {
	toks, err := lex(script)
	if err != nil {
		return err
	}
	p := &checker{toks: toks, required: map[string]bool{}}
	return p.commands(0, true)
}

type tokKind int

const (
	tEOF tokKind = iota
	tIdent
	tTag
	tNumber
	tString
	tPunct
)

type token struct {
	kind      tokKind
	text      string // identifier, tag (without ':'), number, string content, punctuation
	line, col int
}

// lex splits a script into tokens (RFC 5228 section 8.1).
func lex(s string) ([]token, error) {
	var toks []token
	line, col := 1, 1
	i := 0
	adv := func(n int) {
		for k := 0; k < n && i < len(s); k++ {
			if s[i] == '\n' {
				line++
				col = 1
			} else {
				col++
			}
			i++
		}
	}
	errAt := func(l, c int, format string, args ...any) error {
		return &SyntaxError{Line: l, Col: c, Msg: fmt.Sprintf(format, args...)}
	}
	for i < len(s) {
		c := s[i]
		l0, c0 := line, col
		switch {
		case c == ' ' || c == '\t' || c == '\r' || c == '\n':
			adv(1)
		case c == '#':
			for i < len(s) && s[i] != '\n' {
				adv(1)
			}
		case c == '/' && i+1 < len(s) && s[i+1] == '*':
			end := strings.Index(s[i+2:], "*/")
			if end < 0 {
				return nil, errAt(l0, c0, "comment /* is not closed")
			}
			adv(end + 4)
		case strings.IndexByte(";,()[]{}", c) >= 0:
			toks = append(toks, token{tPunct, string(c), l0, c0})
			adv(1)
		case c == '"':
			adv(1)
			var b strings.Builder
			closed := false
			for i < len(s) {
				if s[i] == '\\' && i+1 < len(s) {
					b.WriteByte(s[i+1])
					adv(2)
					continue
				}
				if s[i] == '"' {
					adv(1)
					closed = true
					break
				}
				b.WriteByte(s[i])
				adv(1)
			}
			if !closed {
				return nil, errAt(l0, c0, "string is not closed")
			}
			toks = append(toks, token{tString, b.String(), l0, c0})
		case c >= '0' && c <= '9':
			j := i
			for j < len(s) && s[j] >= '0' && s[j] <= '9' {
				j++
			}
			if j < len(s) && strings.IndexByte("KMGkmg", s[j]) >= 0 {
				j++
			}
			if j < len(s) && isIdentChar(s[j]) {
				return nil, errAt(l0, c0, "bad number %q", s[i:j+1])
			}
			toks = append(toks, token{tNumber, s[i:j], l0, c0})
			adv(j - i)
		case c == ':':
			j := i + 1
			if j >= len(s) || !isIdentStart(s[j]) {
				return nil, errAt(l0, c0, "':' must start a tag")
			}
			for j < len(s) && isIdentChar(s[j]) {
				j++
			}
			toks = append(toks, token{tTag, strings.ToLower(s[i+1 : j]), l0, c0})
			adv(j - i)
		case isIdentStart(c):
			j := i
			for j < len(s) && isIdentChar(s[j]) {
				j++
			}
			word := strings.ToLower(s[i:j])
			if word == "text" && j < len(s) && s[j] == ':' {
				// Multi-line string: text: to a line holding only ".".
				adv(j - i + 1)
				for i < len(s) && (s[i] == ' ' || s[i] == '\t') {
					adv(1)
				}
				if i < len(s) && s[i] == '#' {
					for i < len(s) && s[i] != '\n' {
						adv(1)
					}
				}
				if i < len(s) && s[i] == '\r' {
					adv(1)
				}
				if i >= len(s) || s[i] != '\n' {
					return nil, errAt(l0, c0, "text: must end its line")
				}
				adv(1)
				var b strings.Builder
				closed := false
				for i < len(s) {
					end := strings.IndexByte(s[i:], '\n')
					if end < 0 {
						break
					}
					ln := strings.TrimSuffix(s[i:i+end], "\r")
					adv(end + 1)
					if ln == "." {
						closed = true
						break
					}
					b.WriteString(strings.TrimPrefix(ln, ".") + "\n")
				}
				if !closed {
					return nil, errAt(l0, c0, "text: is not ended by a line holding only '.'")
				}
				toks = append(toks, token{tString, b.String(), l0, c0})
				continue
			}
			toks = append(toks, token{tIdent, word, l0, c0})
			adv(j - i)
		default:
			return nil, errAt(l0, c0, "unexpected character %q", c)
		}
	}
	toks = append(toks, token{tEOF, "", line, col})
	return toks, nil
}

func isIdentStart(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

func isIdentChar(c byte) bool { return isIdentStart(c) || c >= '0' && c <= '9' }

// commandSpec describes a known command.
type commandSpec struct {
	ext   string // extension it needs, "" for the base language
	test  bool   // takes a test
	block bool   // takes a block
}

var commandSpecs = map[string]commandSpec{
	"require": {}, "if": {test: true, block: true}, "elsif": {test: true, block: true},
	"else": {block: true}, "stop": {}, "keep": {}, "discard": {}, "redirect": {},
	"fileinto": {ext: "fileinto"}, "reject": {ext: "reject"}, "ereject": {ext: "ereject"},
	"setflag": {ext: "imap4flags"}, "addflag": {ext: "imap4flags"}, "removeflag": {ext: "imap4flags"},
	"vacation": {ext: "vacation"}, "set": {ext: "variables"},
}

// testSpecs maps known tests to the extension they need; "" is base.
var testSpecs = map[string]string{
	"address": "", "allof": "", "anyof": "", "exists": "", "false": "", "header": "",
	"not": "", "size": "", "true": "", "envelope": "envelope", "body": "body",
	"date": "date", "currentdate": "date", "hasflag": "imap4flags", "string": "variables",
	"mailboxexists": "mailbox",
}

// tagExts maps tags to the extension they need; tags not listed are base
// (:is :contains :matches :all :localpart :domain :comparator :over :under).
var tagExts = map[string]string{
	"copy": "copy", "regex": "regex", "value": "relational", "count": "relational",
	"create": "mailbox", "flags": "imap4flags", "raw": "body", "content": "body", "text": "body",
	"zone": "date", "originalzone": "date", "days": "vacation", "subject": "vacation",
	"from": "vacation", "addresses": "vacation", "mime": "vacation", "handle": "vacation",
	"seconds": "vacation", "lower": "variables", "upper": "variables", "lowerfirst": "variables",
	"upperfirst": "variables", "quotewildcard": "variables", "length": "variables",
}

var baseTags = map[string]bool{
	"is": true, "contains": true, "matches": true, "all": true, "localpart": true,
	"domain": true, "comparator": true, "over": true, "under": true,
}

type checker struct {
	toks     []token
	pos      int
	required map[string]bool
	seenCmd  bool
}

func (p *checker) peek() token { return p.toks[p.pos] }

func (p *checker) next() token {
	t := p.toks[p.pos]
	if t.kind != tEOF {
		p.pos++
	}
	return t
}

func (p *checker) errAt(t token, format string, args ...any) error {
	return &SyntaxError{Line: t.line, Col: t.col, Msg: fmt.Sprintf(format, args...)}
}

func (p *checker) isPunct(s string) bool {
	t := p.peek()
	return t.kind == tPunct && t.text == s
}

// commands reads commands up to '}' (inside a block) or the end.
func (p *checker) commands(depth int, top bool) error {
	prev := ""
	for {
		t := p.peek()
		if t.kind == tEOF {
			if !top {
				return p.errAt(t, "block is not closed: '}' missing")
			}
			return nil
		}
		if t.kind == tPunct && t.text == "}" {
			if top {
				return p.errAt(t, "'}' without a block to close")
			}
			return nil
		}
		if t.kind != tIdent {
			return p.errAt(t, "expected a command, found %s", describe(t))
		}
		if (t.text == "elsif" || t.text == "else") && prev != "if" && prev != "elsif" {
			return p.errAt(t, "%s without if", t.text)
		}
		if err := p.command(depth, top); err != nil {
			return err
		}
		prev = t.text
	}
}

func (p *checker) command(depth int, top bool) error {
	name := p.next()
	spec, known := commandSpecs[name.text]
	if !known {
		return p.errAt(name, "unknown command %q", name.text)
	}
	if name.text == "require" {
		if !top || p.seenCmd {
			return p.errAt(name, "require must come before any other command")
		}
		list, err := p.stringList()
		if err != nil {
			return err
		}
		for _, e := range list {
			p.required[strings.ToLower(e)] = true
		}
		return p.semicolon(name)
	}
	p.seenCmd = true
	if spec.ext != "" && !p.required[spec.ext] {
		return p.errAt(name, "%s needs require %q", name.text, spec.ext)
	}
	if err := p.arguments(); err != nil {
		return err
	}
	if spec.test {
		if p.isPunct("{") || p.isPunct(";") {
			return p.errAt(p.peek(), "%s needs a test", name.text)
		}
		if err := p.test(depth); err != nil {
			return err
		}
	} else if p.peek().kind == tIdent || p.isPunct("(") {
		return p.errAt(p.peek(), "%s takes no test", name.text)
	}
	if spec.block {
		open := p.next()
		if open.kind != tPunct || open.text != "{" {
			return p.errAt(open, "%s needs a block { … }, found %s", name.text, describe(open))
		}
		if depth > 64 {
			return p.errAt(open, "blocks nested too deep")
		}
		if err := p.commands(depth+1, false); err != nil {
			return err
		}
		p.next() // '}'
		return nil
	}
	return p.semicolon(name)
}

func (p *checker) semicolon(after token) error {
	t := p.next()
	if t.kind != tPunct || t.text != ";" {
		return p.errAt(t, "expected ';' after %s, found %s", after.text, describe(t))
	}
	return nil
}

// arguments reads tags, numbers and string lists.
func (p *checker) arguments() error {
	for {
		t := p.peek()
		switch {
		case t.kind == tTag:
			p.next()
			if ext, ok := tagExts[t.text]; ok {
				if !p.required[ext] {
					return p.errAt(t, ":%s needs require %q", t.text, ext)
				}
			} else if !baseTags[t.text] {
				return p.errAt(t, "unknown tag :%s", t.text)
			}
		case t.kind == tNumber, t.kind == tString:
			p.next()
		case t.kind == tPunct && t.text == "[":
			if _, err := p.stringList(); err != nil {
				return err
			}
		default:
			return nil
		}
	}
}

func (p *checker) stringList() ([]string, error) {
	t := p.next()
	if t.kind == tString {
		return []string{t.text}, nil
	}
	if t.kind != tPunct || t.text != "[" {
		return nil, p.errAt(t, "expected a string or a string list, found %s", describe(t))
	}
	var out []string
	for {
		s := p.next()
		if s.kind != tString {
			return nil, p.errAt(s, "expected a string in the list, found %s", describe(s))
		}
		out = append(out, s.text)
		sep := p.next()
		if sep.kind == tPunct && sep.text == "]" {
			return out, nil
		}
		if sep.kind != tPunct || sep.text != "," {
			return nil, p.errAt(sep, "expected ',' or ']' in the list, found %s", describe(sep))
		}
	}
}

func (p *checker) test(depth int) error {
	if depth > 64 {
		return p.errAt(p.peek(), "tests nested too deep")
	}
	t := p.next()
	if t.kind != tIdent {
		return p.errAt(t, "expected a test, found %s", describe(t))
	}
	ext, known := testSpecs[t.text]
	if !known {
		return p.errAt(t, "unknown test %q", t.text)
	}
	if ext != "" && !p.required[ext] {
		return p.errAt(t, "%s needs require %q", t.text, ext)
	}
	switch t.text {
	case "not":
		return p.test(depth + 1)
	case "allof", "anyof":
		open := p.next()
		if open.kind != tPunct || open.text != "(" {
			return p.errAt(open, "%s needs a list of tests in ( ), found %s", t.text, describe(open))
		}
		for {
			if err := p.test(depth + 1); err != nil {
				return err
			}
			sep := p.next()
			if sep.kind == tPunct && sep.text == ")" {
				return nil
			}
			if sep.kind != tPunct || sep.text != "," {
				return p.errAt(sep, "expected ',' or ')' in %s, found %s", t.text, describe(sep))
			}
		}
	}
	if err := p.arguments(); err != nil {
		return err
	}
	switch t.text {
	case "true", "false":
		return nil
	}
	// Every other known test takes at least one string or number.
	prev := p.toks[p.pos-1]
	if prev.kind != tString && prev.kind != tNumber && !(prev.kind == tPunct && prev.text == "]") {
		return p.errAt(prev, "%s needs its arguments", t.text)
	}
	return nil
}

func describe(t token) string {
	switch t.kind {
	case tEOF:
		return "the end of the script"
	case tIdent:
		return fmt.Sprintf("%q", t.text)
	case tTag:
		return ":" + t.text
	case tNumber:
		return "the number " + t.text
	case tString:
		return "a string"
	}
	return fmt.Sprintf("'%s'", t.text)
}
