package filters

import (
	"bytes"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"
)

// maxFilterFile bounds what ParseFilterRules reads: real files are a few
// kilobytes; anything near this is not a filter file.
const maxFilterFile = 16 << 20

// FilterFile is the content of a Thunderbird msgFilterRules.dat.
type FilterFile struct {
	// Version is the file's format: 9 since Thunderbird 60; 6 and lower
	// hold text in the system's legacy charset instead of UTF-8.
	Version int
	// Logging is the "log filter actions" setting.
	Logging bool
	Rules   []Rule
}

// LineError is one problem in a file, with the line it is on (1-based).
type LineError struct {
	Line int    // 1-based
	Msg  string // what is wrong, in plain words
}

// String returns "line N: message".
func (e LineError) String() string { return fmt.Sprintf("line %d: %s", e.Line, e.Msg) }

// ParseError lists the problems found while reading a file whose good
// parts were nevertheless kept.
type ParseError struct {
	File     string // the file read, if known
	Problems []LineError
}

// Error lists the first problems, with their lines.
func (e *ParseError) Error() string {
	var b strings.Builder
	if e.File != "" {
		b.WriteString(e.File)
		b.WriteString(": ")
	}
	for i, p := range e.Problems {
		if i == 3 {
			fmt.Fprintf(&b, "; and %d more", len(e.Problems)-i)
			break
		}
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(p.String())
	}
	return b.String()
}

// ParseFilterRules reads a Thunderbird msgFilterRules.dat (nsMsgFilterList.cpp,
// versions 6 to 9): lines of attr="value", where value escapes '"' and '\'
// with a backslash. A filter starts at each name="..." and collects the
// following enabled, description, type, action, actionValue, customId and
// condition attributes.
//
// The reader never gives up on a file: a malformed line or condition is
// reported, with its line number, in the returned *ParseError and in the
// rule's Problems, and every rule that could be read is returned. An error
// that is not a *ParseError means nothing could be read.
func ParseFilterRules(r io.Reader) (*FilterFile, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxFilterFile+1))
	if err != nil {
		return nil, fmt.Errorf("read filter rules: %w", err)
	}
	if len(data) > maxFilterFile {
		return nil, fmt.Errorf("read filter rules: larger than %d MB, not a filter file", maxFilterFile>>20)
	}
	p := &tbParser{data: data, line: 1, file: &FilterFile{}}
	p.run()
	if len(p.problems) > 0 {
		return p.file, &ParseError{Problems: p.problems}
	}
	return p.file, nil
}

type tbParser struct {
	data         []byte
	pos          int
	line         int
	file         *FilterFile
	rule         *Rule // the filter being read, nil before the first name
	sawCondition bool
	problems     []LineError
}

func (p *tbParser) problem(line int, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	p.problems = append(p.problems, LineError{Line: line, Msg: msg})
	if p.rule != nil {
		p.rule.Problems = append(p.rule.Problems, fmt.Sprintf("line %d: %s", line, msg))
	}
}

func (p *tbParser) run() {
	for {
		attr, value, line, ok := p.next()
		if !ok {
			break
		}
		p.apply(attr, value, line)
	}
	p.flush()
}

func (p *tbParser) flush() {
	r := p.rule
	if r == nil {
		return
	}
	if !p.sawCondition {
		p.problem(r.Line, "filter %q has no condition", r.Name)
		r.Incomplete = true
	}
	for _, a := range r.Actions {
		if a.Unknown && r.Enabled {
			// Thunderbird marks such a filter unparseable and turns it off.
			r.Enabled = false
			r.Problems = append(r.Problems, "Thunderbird turned this filter off because of its unknown action")
			break
		}
	}
	p.file.Rules = append(p.file.Rules, *r)
	p.rule = nil
}

// next reads one attr="value" pair. Malformed lines are reported and
// skipped.
func (p *tbParser) next() (attr, value string, line int, ok bool) {
	for {
		// Skip blank space between pairs.
		for p.pos < len(p.data) && isSpace(p.data[p.pos]) {
			if p.data[p.pos] == '\n' {
				p.line++
			}
			p.pos++
		}
		if p.pos >= len(p.data) {
			return "", "", 0, false
		}
		line = p.line
		eol := bytes.IndexByte(p.data[p.pos:], '\n')
		if eol < 0 {
			eol = len(p.data) - p.pos
		}
		rest := p.data[p.pos : p.pos+eol]
		eq := bytes.IndexByte(rest, '=')
		if eq < 0 {
			p.problem(line, "expected attr=\"value\", found %q", clip(string(rest), 40))
			p.pos += eol
			continue
		}
		attr = strings.TrimSpace(string(rest[:eq]))
		i := p.pos + eq + 1
		for i < len(p.data) && (p.data[i] == ' ' || p.data[i] == '\t') {
			i++
		}
		if i >= len(p.data) || p.data[i] != '"' {
			p.problem(line, "value of %q is not in double quotes", attr)
			p.pos += eol
			continue
		}
		i++
		var b []byte
		closed := false
		for i < len(p.data) {
			c := p.data[i]
			if c == '\\' && i+1 < len(p.data) && (p.data[i+1] == '"' || p.data[i+1] == '\\') {
				b = append(b, p.data[i+1])
				i += 2
				continue
			}
			if c == '"' {
				closed = true
				i++
				break
			}
			if c == '\n' {
				p.line++
			}
			b = append(b, c)
			i++
		}
		if !closed {
			p.problem(line, "value of %q has no closing quote", attr)
			p.pos = len(p.data)
			return "", "", 0, false
		}
		p.pos = i
		// Anything after the closing quote on the same line is ignored,
		// as Thunderbird does.
		return attr, p.text(string(b), line), line, true
	}
}

// text turns a value into UTF-8. Files of version 6 and older may hold the
// system's legacy charset; Latin-1 is the best guess without knowing it.
func (p *tbParser) text(s string, line int) string {
	if utf8.ValidString(s) {
		return s
	}
	if p.file.Version > 6 {
		p.problem(line, "text is not valid UTF-8; read as Latin-1")
	}
	return latin1(s)
}

func latin1(s string) string {
	r := make([]rune, len(s))
	for i := 0; i < len(s); i++ {
		r[i] = rune(s[i])
	}
	return string(r)
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }

func clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n]) + "…"
}

func (p *tbParser) apply(attr, value string, line int) {
	switch attr {
	case "version":
		v, err := strconv.Atoi(value)
		if err != nil {
			p.problem(line, "version %q is not a number", value)
			return
		}
		if v < 1 || v > 9 {
			p.problem(line, "version %d is not one this reader knows (1 to 9); reading it anyway", v)
		}
		p.file.Version = v
		return
	case "logging":
		p.file.Logging = value == "yes"
		return
	case "name":
		p.flush()
		// Thunderbird's defaults (nsMsgFilter.cpp): new mail and manual,
		// disabled until enabled="yes".
		p.rule = &Rule{Name: value, When: NewMail | Manual, Line: line}
		p.sawCondition = false
		return
	}
	if p.rule == nil {
		p.problem(line, "%s=%q before the first filter name; ignored", attr, clip(value, 40))
		return
	}
	r := p.rule
	switch attr {
	case "enabled":
		r.Enabled = value == "yes"
	case "description":
		r.Description = value
	case "type":
		v, err := strconv.ParseUint(value, 10, 32)
		if err != nil {
			p.problem(line, "type %q is not a number", value)
			return
		}
		r.When = When(v)
	case "scriptName":
		p.problem(line, "JavaScript filter %q is not supported by Thunderbird any more", value)
	case "action":
		a := Action{Kind: ActionKind(value)}
		if k, ok := knownActions[value]; ok {
			a.Kind = k
		} else {
			a.Unknown = true
			p.problem(line, "unknown action %q (Thunderbird turns such a filter off)", value)
		}
		r.Actions = append(r.Actions, a)
	case "actionValue":
		if len(r.Actions) == 0 {
			p.problem(line, "actionValue %q without an action", clip(value, 40))
			return
		}
		a := &r.Actions[len(r.Actions)-1]
		a.Value = value
		p.decodeActionValue(a, line)
	case "customId":
		if len(r.Actions) == 0 {
			p.problem(line, "customId %q without an action", value)
			return
		}
		r.Actions[len(r.Actions)-1].CustomID = value
	case "condition":
		if p.sawCondition {
			p.problem(line, "a second condition for filter %q; both are kept", r.Name)
		}
		p.sawCondition = true
		conds, match, errs := ParseCondition(value)
		r.Conditions = append(r.Conditions, conds...)
		r.Match = match
		if len(r.Conditions) != len(conds) {
			r.Match = matchOf(r.Conditions)
		}
		for _, e := range errs {
			p.problem(line, "condition: %v", e)
		}
		if len(errs) > 0 {
			r.Incomplete = true
		}
	default:
		p.problem(line, "unknown attribute %q; ignored", attr)
	}
}

func (p *tbParser) decodeActionValue(a *Action, line int) {
	switch a.Kind {
	case ActMove, ActCopy, ActReply:
		f, err := ParseFolderURI(a.Value)
		if err != nil {
			p.problem(line, "%s: %v", a.Kind, err)
			return
		}
		a.Folder = f
	case ActLabel:
		// Thunderbird 2 turned labels 1 to 5 into the tags $label1 to $label5.
		if n, err := strconv.Atoi(a.Value); err == nil && n >= 1 && n <= 5 {
			a.Kind = ActAddTag
			a.Value = "$label" + a.Value
		}
	}
}

// ParseCondition reads a Thunderbird condition string: "ALL", or a sequence
// of terms "AND (attr,op,value)" / "OR (attr,op,value)". It follows
// nsMsgFilterList::ParseCondition: a term is OR when an "O" comes before its
// parenthesis; a ')' inside double quotes does not end it; a custom header
// is quoted ("list-id"); a value is quoted when it holds ')' or starts with
// a space or '"', and '"' inside it is written \".
//
// It returns the terms it could read, how they combine, and one error per
// term it could not read.
func ParseCondition(s string) ([]Condition, Match, []error) {
	if strings.TrimSpace(s) == "ALL" {
		return nil, MatchEvery, nil
	}
	var conds []Condition
	var errs []error
	cur := 0
	for cur < len(s) {
		open := strings.IndexByte(s[cur:], '(')
		if open < 0 {
			if rest := strings.TrimSpace(s[cur:]); rest != "" {
				errs = append(errs, fmt.Errorf("unexpected %q after the last term", clip(rest, 40)))
			}
			break
		}
		open += cur
		lead := strings.TrimSpace(s[cur:open])
		or := strings.Contains(lead, "O")
		if lead != "" && lead != "AND" && lead != "OR" {
			errs = append(errs, fmt.Errorf("expected AND or OR before a term, found %q", clip(lead, 20)))
		}
		end, inQuote := -1, false
		for i := open + 1; i < len(s); i++ {
			switch {
			case s[i] == '\\' && i+1 < len(s) && s[i+1] == '"':
				i++
			case s[i] == '"':
				inQuote = !inQuote
			case s[i] == ')' && !inQuote:
				end = i
			}
			if end >= 0 {
				break
			}
		}
		if end < 0 {
			errs = append(errs, fmt.Errorf("term %q has no closing parenthesis", clip(s[open:], 40)))
			break
		}
		c, err := parseTerm(s[open+1 : end])
		if err != nil {
			errs = append(errs, err)
		} else {
			c.Or = or
			conds = append(conds, c)
		}
		cur = end + 1
	}
	return conds, matchOf(conds), errs
}

// matchOf derives how terms combine from their operators; the first term's
// operator does not count.
func matchOf(conds []Condition) Match {
	if len(conds) < 2 {
		return MatchAll
	}
	ors := 0
	for _, c := range conds[1:] {
		if c.Or {
			ors++
		}
	}
	switch ors {
	case 0:
		return MatchAll
	case len(conds) - 1:
		return MatchAny
	}
	return MatchMixed
}

// parseTerm reads "attr,op,value".
func parseTerm(t string) (Condition, error) {
	var c Condition
	var attr string
	rest := t
	if strings.HasPrefix(t, `"`) {
		q := strings.IndexByte(t[1:], '"')
		if q < 0 {
			return c, fmt.Errorf("header name in %q has no closing quote", clip(t, 40))
		}
		attr = t[1 : q+1]
		rest = t[q+2:]
		c.Field, c.Header = FieldHeader, attr
		if !strings.HasPrefix(rest, ",") {
			return c, fmt.Errorf("expected ',' after header %q in %q", attr, clip(t, 40))
		}
		rest = rest[1:]
	} else {
		comma := strings.IndexByte(t, ',')
		if comma < 0 {
			return c, fmt.Errorf("term %q is not attribute,operator,value", clip(t, 40))
		}
		attr = strings.TrimSpace(t[:comma])
		rest = t[comma+1:]
		if f, ok := knownFields[attr]; ok {
			c.Field = f
		} else if strings.ContainsAny(attr, "#@") {
			c.Field, c.Header = FieldCustom, attr
		} else if isHeaderName(attr) {
			c.Field, c.Header = FieldHeader, attr
		} else {
			c.Field, c.Header = FieldOther, attr
		}
	}
	comma := strings.IndexByte(rest, ',')
	opText, value := rest, ""
	if comma >= 0 {
		opText, value = rest[:comma], rest[comma+1:]
	}
	opText = strings.TrimSpace(opText)
	op, ok := knownOps[opText]
	if !ok {
		return c, fmt.Errorf("unknown operator %q in %q", opText, clip(t, 40))
	}
	c.Op = op
	c.Value = termValue(value)
	if c.Field == FieldLabel {
		// Thunderbird converts label terms to tags.
		if n, err := strconv.Atoi(c.Value); err == nil && n >= 1 && n <= 5 {
			c.Field, c.Value = FieldTag, "$label"+c.Value
		}
	}
	return c, nil
}

// termValue undoes the term-level quoting of a value.
func termValue(v string) string {
	v = strings.TrimLeft(v, " \t")
	if strings.HasPrefix(v, `"`) {
		v = v[1:]
		if strings.HasSuffix(v, `"`) && !strings.HasSuffix(v, `\"`) {
			v = v[:len(v)-1]
		}
	}
	return strings.ReplaceAll(v, `\"`, `"`)
}

// isHeaderName reports whether s can be a header field name (RFC 5322
// section 2.2: printable ASCII except ':' and space).
func isHeaderName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] > '~' || s[i] == ':' {
			return false
		}
	}
	return true
}
