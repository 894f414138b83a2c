// Package sieve turns mail-client filters (package mailmover/core/filters)
// into a Sieve script (RFC 5228) that the new server runs on delivery, and
// checks the syntax of Sieve scripts. Package managesieve, below it,
// installs scripts (RFC 5804).
//
// What Sieve can do is carried: header, address, size, body (RFC 5173) and
// date (RFC 5260) tests; fileinto, :copy (RFC 3894), the IMAP flags of RFC
// 5232, redirect, discard and stop. What it cannot (age, tags, address
// book, junk status, reply templates, priority changes, thread actions,
// rules that run only by hand or after sending) is written as comments and
// reported in each rule's filters.Outcome, so that the filter notes can
// say what to recreate by hand.
package sieve

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"mailmover/core/filters"
)

// Extensions assumed when Options.Extensions is nil: what Dovecot
// Pigeonhole, Cyrus and Stalwart enable by default. "regex" is not among
// them: it is a draft that servers may leave out.
var defaultExtensions = []string{
	"body", "copy", "date", "envelope", "fileinto", "imap4flags", "mailbox",
	"reject", "relational", "vacation", "variables",
}

// Options tune Generate.
type Options struct {
	// Name is the script's name (for ManageSieve and the comments).
	Name string
	// Account names the account the rules came from, for the comments.
	Account string
	// Folder maps a source folder path to the target mailbox name, in
	// UTF-8 with the target's hierarchy delimiter (the migration's folder
	// mapping). nil joins the path with "/", writing a first "Inbox" as
	// "INBOX"; an empty result means the folder has no counterpart.
	Folder func(path []string) string
	// Extensions are those the target server advertises (the ManageSieve
	// SIEVE capability). A rule part needing another extension is not
	// carried. nil assumes the common ones (not "regex").
	Extensions []string
	// Trash is the mailbox a "Delete" action files into, as Thunderbird
	// moves deleted mail to the Trash. "" makes Delete a discard
	// (RFC 5228 section 4.5), which cannot be undone.
	Trash string
	// Words supplies tag names for the comments.
	Words filters.Words
}

// Script is a generated Sieve script.
type Script struct {
	Name string
	// Text is the script, UTF-8 with LF line ends.
	Text string
	// Requires lists the extensions the script requires.
	Requires []string
	// Outcomes has one entry per rule given to Generate.
	Outcomes []filters.Outcome
}

// Plan is the script as the filter notes want it.
func (s *Script) Plan() *filters.Plan {
	if s == nil {
		return nil
	}
	return &filters.Plan{Script: s.Name, Text: s.Text, Outcomes: s.Outcomes}
}

// Carried counts the rules that are (at least partly) in the script and
// switched on.
func (s *Script) Carried() int {
	n := 0
	for _, o := range s.Outcomes {
		if (o.Fate == filters.OnServer || o.Fate == filters.Partly) && !o.Off {
			n++
		}
	}
	return n
}

// DefaultFolder is the folder mapping used when Options.Folder is nil.
func DefaultFolder(path []string) string {
	if len(path) == 0 {
		return ""
	}
	p := append([]string(nil), path...)
	if strings.EqualFold(p[0], "INBOX") {
		p[0] = "INBOX"
	}
	return strings.Join(p, "/")
}

type generator struct {
	opts     Options
	has      map[string]bool
	requires map[string]bool
	words    filters.Words
}

// Generate writes one Sieve script for rules, in their order. Every rule
// gets a "# rule:[Name]" comment (the convention of Roundcube's managesieve
// plugin, so that webmail shows the names). A rule switched off in the mail
// program is written switched off ("if false # test"). The result's
// Outcomes say, rule by rule, what was carried and what was not.
func Generate(rules []filters.Rule, opts Options) *Script {
	g := &generator{opts: opts, has: map[string]bool{}, requires: map[string]bool{}}
	exts := opts.Extensions
	if exts == nil {
		exts = defaultExtensions
	}
	for _, e := range exts {
		g.has[strings.ToLower(e)] = true
	}
	if g.opts.Folder == nil {
		g.opts.Folder = DefaultFolder
	}
	g.words = opts.Words
	g.words.Folder = g.opts.Folder

	var body strings.Builder
	outcomes := make([]filters.Outcome, len(rules))
	for i, r := range rules {
		outcomes[i] = g.rule(&body, r)
	}

	var b strings.Builder
	src := "mail program"
	if opts.Account != "" {
		src = opts.Account
	}
	fmt.Fprintf(&b, "# Sieve filters carried over by Mailmover from the filters of %s.\n", comment(src))
	b.WriteString("# Rules Sieve cannot do are listed as comments and in the filter notes.\n")
	req := make([]string, 0, len(g.requires))
	for e := range g.requires {
		req = append(req, e)
	}
	sort.Strings(req)
	if len(req) > 0 {
		fmt.Fprintf(&b, "require %s;\n", quoteAll(req))
	}
	b.WriteString(body.String())
	return &Script{Name: opts.Name, Text: b.String(), Requires: req, Outcomes: outcomes}
}

func quoteAll(ss []string) string {
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = Quote(s)
	}
	return "[" + strings.Join(q, ", ") + "]"
}

// part is one translated condition or action.
type part struct {
	sieve  string   // the Sieve text; "" if none
	exts   []string // extensions it needs
	reason string   // why it is not carried; "" if it is
	drop   bool     // not needed on the server: neither carried nor left
}

func (g *generator) need(p part) part {
	if p.reason != "" || p.drop {
		return p
	}
	var missing []string
	for _, e := range p.exts {
		if !g.has[e] {
			missing = append(missing, e)
		}
	}
	if len(missing) > 0 {
		p.reason = "it needs the Sieve extension " + strings.Join(missing, ", ") + ", which the new server does not offer"
	}
	return p
}

func (g *generator) use(p part) {
	for _, e := range p.exts {
		g.requires[e] = true
	}
}

// rule writes one rule and says what became of it.
func (g *generator) rule(b *strings.Builder, r filters.Rule) filters.Outcome {
	out := filters.Outcome{}
	fmt.Fprintf(b, "\n# rule:[%s]\n", comment(strings.ReplaceAll(r.Name, "]", ")")))
	fmt.Fprintf(b, "# %s\n", comment(filters.Describe(r, g.words)))

	if r.Incomplete {
		out.Fate = filters.ByHand
		out.Notes = append(out.Notes, "Part of its conditions could not be read; carrying the rest could act on other mail.")
		b.WriteString("# Not on the server: part of its conditions could not be read.\n")
		return out
	}
	if !r.When.OnNewMail() {
		out.Fate = filters.ByHand
		out.Notes = append(out.Notes, "It runs only "+filters.Runs(r.When)+"; a server filter acts on new mail only.")
		fmt.Fprintf(b, "# Not on the server: it runs only %s.\n", comment(filters.Runs(r.When)))
		return out
	}
	if extra := (r.When &^ (filters.NewMail | filters.AfterJunk | filters.Manual)).Moments(); len(extra) > 0 {
		out.Notes = append(out.Notes, "The server runs it on new mail only; running it "+strings.Join(extra, " and ")+" stays with the mail program.")
	}

	// Conditions.
	var tests []part
	var testIdx []int
	for i, c := range r.Conditions {
		p := g.need(g.condition(c))
		if p.reason != "" {
			out.LeftConditions = append(out.LeftConditions, i)
			fmt.Fprintf(b, "# Not carried: the condition “%s”, because %s.\n", comment(filters.DescribeCondition(c, g.words)), comment(p.reason))
			if p.sieve != "" {
				fmt.Fprintf(b, "#   it would read: %s\n", comment(p.sieve))
			}
			continue
		}
		tests = append(tests, p)
		testIdx = append(testIdx, i)
	}

	// Actions, in the order Thunderbird applies them
	// (nsMsgFilter::GetSortedActionList): the others, then copies, then
	// move or delete, then stop.
	type act struct {
		p     part
		i     int
		order int
	}
	var acts []act
	stop := false
	for i, a := range r.Actions {
		p := g.need(g.action(a))
		switch {
		case p.drop:
			out.Notes = append(out.Notes, "“"+filters.DescribeAction(a, g.words)+"” is not needed on the new server.")
			continue
		case p.reason != "":
			out.LeftActions = append(out.LeftActions, i)
			fmt.Fprintf(b, "# Not carried: the action “%s”, because %s.\n", comment(filters.DescribeAction(a, g.words)), comment(p.reason))
			continue
		}
		order := 0
		switch a.Kind {
		case filters.ActCopy:
			order = 1
		case filters.ActMove, filters.ActDelete:
			order = 2
			stop = true
		case filters.ActStop:
			stop = true
			continue
		}
		acts = append(acts, act{p: p, i: i, order: order})
	}
	sort.SliceStable(acts, func(i, j int) bool { return acts[i].order < acts[j].order })

	if len(acts) == 0 && !stop {
		out.LeftActions, out.LeftConditions = nil, nil
		if !hasLeft(r, g) {
			out.Fate = filters.NotNeeded
			b.WriteString("# Nothing to do on the server.\n")
			return out
		}
		out.Fate = filters.ByHand
		out.Notes = append(out.Notes, "None of its actions can be done by a server filter.")
		b.WriteString("# Not on the server: none of its actions can be done by a server filter.\n")
		return out
	}

	var test string
	switch {
	case r.Match == filters.MatchEvery || len(r.Conditions) == 0:
		test = "true"
	case len(out.LeftConditions) > 0 && (r.Match != filters.MatchAny || len(tests) == 0):
		// Leaving out a term of an AND would widen the rule: keep it off
		// the server entirely.
		out.Fate = filters.ByHand
		out.Notes = append(out.Notes, "Not all of its conditions can be tested on the server, and leaving one out would make it act on more mail.")
		b.WriteString("# Not on the server: leaving out a condition would make it act on more mail.\n")
		out.LeftActions, out.LeftConditions = nil, nil
		return out
	case r.Match == filters.MatchMixed:
		test = mixed(r.Conditions, testIdx, tests)
	case r.Match == filters.MatchAny:
		test = combine("anyof", sieveOf(tests))
	default:
		test = combine("allof", sieveOf(tests))
	}
	for _, t := range tests {
		g.use(t)
	}
	for _, a := range acts {
		g.use(a.p)
	}

	out.Fate = filters.OnServer
	if len(out.LeftActions) > 0 || len(out.LeftConditions) > 0 {
		out.Fate = filters.Partly
	}
	if r.Enabled {
		fmt.Fprintf(b, "if %s\n{\n", test)
	} else {
		out.Off = true
		fmt.Fprintf(b, "# Switched off, as it was in the mail program.\nif false # %s\n{\n", comment(test))
	}
	for _, a := range acts {
		fmt.Fprintf(b, "\t%s;\n", a.p.sieve)
	}
	if stop {
		b.WriteString("\tstop;\n")
	}
	b.WriteString("}\n")
	return out
}

// hasLeft reports whether some action of r must be done by hand.
func hasLeft(r filters.Rule, g *generator) bool {
	for _, a := range r.Actions {
		if p := g.need(g.action(a)); p.reason != "" {
			return true
		}
	}
	return false
}

func sieveOf(ps []part) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.sieve
	}
	return out
}

// combine joins tests with anyof or allof; one test stands alone.
func combine(op string, tests []string) string {
	if len(tests) == 1 {
		return tests[0]
	}
	one := op + " (" + strings.Join(tests, ", ") + ")"
	if len(one) <= 100 && !strings.Contains(one, "\n") {
		return one
	}
	return op + " (\n\t" + strings.Join(tests, ",\n\t") + ")"
}

// mixed evaluates a Thunderbird chain that mixes AND and OR from left to
// right, as nsMsgSearchBoolExpression does: ((a AND b) OR c).
func mixed(conds []filters.Condition, idx []int, tests []part) string {
	cur := []string{tests[0].sieve}
	op := ""
	for k := 1; k < len(tests); k++ {
		next := "allof"
		if conds[idx[k]].Or {
			next = "anyof"
		}
		if op == "" || op == next {
			cur = append(cur, tests[k].sieve)
			op = next
			continue
		}
		cur = []string{op + " (" + strings.Join(cur, ", ") + ")", tests[k].sieve}
		op = next
	}
	if len(cur) == 1 {
		return cur[0]
	}
	return op + " (" + strings.Join(cur, ", ") + ")"
}

// headerNames are the headers a field looks at.
func headerNames(c filters.Condition) []string {
	switch c.Field {
	case filters.FieldSubject:
		return []string{"subject"}
	case filters.FieldFrom:
		return []string{"from"}
	case filters.FieldTo:
		return []string{"to"}
	case filters.FieldCC:
		return []string{"cc"}
	case filters.FieldToOrCC:
		return []string{"to", "cc"}
	case filters.FieldAllAddresses:
		return []string{"from", "to", "cc", "bcc"}
	case filters.FieldHeader:
		return []string{c.Header}
	}
	return nil
}

// unmappable says why a field cannot be tested by Sieve.
var unmappable = map[filters.Field]string{
	filters.FieldAge:         "a message's age means nothing at the moment it arrives",
	filters.FieldStatus:      "read, replied and flagged states are set later, in the mail program",
	filters.FieldTag:         "tags are set in the mail program",
	filters.FieldJunkStatus:  "junk classification is done by the mail program",
	filters.FieldJunkPercent: "junk classification is done by the mail program",
	filters.FieldJunkOrigin:  "junk classification is done by the mail program",
	filters.FieldAttachment:  "Sieve cannot reliably tell whether a message has attachments",
	filters.FieldAddressBook: "the server cannot see your address book",
	filters.FieldPriority:    "programs write the priority in different headers",
	filters.FieldAccount:     "the server files each account's mail separately",
	filters.FieldAnyText:     "Sieve cannot search every header and the body at once",
	filters.FieldCustom:      "it is an add-on's own test",
	filters.FieldOther:       "Sieve has no such test",
	filters.FieldLabel:       "labels are set in the mail program",
}

// condition translates one condition.
func (g *generator) condition(c filters.Condition) part {
	base, neg := c.Op.Negated()
	p := g.positive(c, base)
	if neg && p.sieve != "" {
		p.sieve = "not " + p.sieve
	}
	return p
}

func (g *generator) positive(c filters.Condition, op filters.Op) part {
	if why, ok := unmappable[c.Field]; ok {
		return part{reason: why}
	}
	if op == filters.OpIsInAB {
		return part{reason: "the server cannot see your address book"}
	}
	switch c.Field {
	case filters.FieldSize:
		n, err := strconv.ParseUint(strings.TrimSpace(c.Value), 10, 32)
		if err != nil {
			return part{reason: "the size " + strconv.Quote(c.Value) + " is not a number of kilobytes"}
		}
		switch op {
		case filters.OpIsGreaterThan:
			return part{sieve: fmt.Sprintf("size :over %dK", n)}
		case filters.OpIsLessThan:
			return part{sieve: fmt.Sprintf("size :under %dK", n)}
		}
		return part{reason: "Sieve compares sizes only as larger or smaller"}
	case filters.FieldDate:
		d, err := parseTBDate(c.Value)
		if err != nil {
			return part{reason: "the date " + strconv.Quote(c.Value) + " could not be read"}
		}
		day := Quote(d.Format("2006-01-02"))
		switch op {
		case filters.OpIs:
			return part{sieve: `date :is "date" "date" ` + day, exts: []string{"date"}}
		case filters.OpIsBefore:
			return part{sieve: `date :value "lt" "date" "date" ` + day, exts: []string{"date", "relational"}}
		case filters.OpIsAfter:
			return part{sieve: `date :value "gt" "date" "date" ` + day, exts: []string{"date", "relational"}}
		}
		return part{reason: "Sieve has no such date comparison"}
	case filters.FieldBody:
		v := Quote(c.Value)
		switch op {
		case filters.OpContains:
			return part{sieve: "body :text :contains " + v, exts: []string{"body"}}
		case filters.OpIs:
			return part{sieve: "body :text :is " + v, exts: []string{"body"}}
		case filters.OpMatches:
			return part{sieve: "body :text :regex " + v, exts: []string{"body", "regex"}}
		}
		return part{reason: "Sieve has no such body test"}
	}
	hs := headerNames(c)
	if len(hs) == 0 {
		return part{reason: "Sieve has no such test"}
	}
	if !headerNameOK(hs[0]) {
		return part{reason: "the header name " + strconv.Quote(hs[0]) + " is not valid"}
	}
	names := QuoteList(hs)
	// Addresses: Thunderbird's "contains" looks at names and addresses
	// alike, as a header test does; "is", "begins with" and "ends with"
	// compare whole addresses, as an address test does.
	kind := "header"
	if c.Field.IsAddress() {
		kind = "address"
	}
	switch op {
	case filters.OpContains:
		return part{sieve: "header :contains " + names + " " + Quote(c.Value)}
	case filters.OpIs:
		return part{sieve: kind + " :is " + names + " " + Quote(c.Value)}
	case filters.OpBeginsWith:
		return part{sieve: kind + " :matches " + names + " " + Quote(MatchEscape(c.Value)+"*")}
	case filters.OpEndsWith:
		return part{sieve: kind + " :matches " + names + " " + Quote("*"+MatchEscape(c.Value))}
	case filters.OpIsEmpty:
		if len(hs) == 1 {
			return part{sieve: "anyof (not exists " + names + ", header :is " + names + ` "")`}
		}
		return part{sieve: "not header :matches " + names + ` "?*"`}
	case filters.OpMatches:
		return part{sieve: "header :regex " + names + " " + Quote(c.Value), exts: []string{"regex"}}
	}
	return part{reason: "Sieve has no such comparison for text"}
}

// parseTBDate reads Thunderbird's condition dates ("01-Jan-2024").
func parseTBDate(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	for _, layout := range []string{"02-Jan-2006", "2-Jan-2006", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("bad date %q", s)
}

// headerNameOK reports whether s is a valid header field name (RFC 5322
// section 3.6.8: printable ASCII except ':').
func headerNameOK(s string) bool {
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

// keywordOK reports whether s can be an IMAP keyword (RFC 9051 atom, no
// '\').
func keywordOK(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`(){%*"\]`, c) >= 0 {
			return false
		}
	}
	return true
}

// action translates one action.
func (g *generator) action(a filters.Action) part {
	switch a.Kind {
	case filters.ActMove, filters.ActCopy:
		if a.Folder == nil || len(a.Folder.Path) == 0 {
			return part{reason: "its folder could not be read"}
		}
		name := g.opts.Folder(a.Folder.Path)
		if name == "" {
			return part{reason: "the folder " + strconv.Quote(a.Folder.Name()) + " has no counterpart on the new server"}
		}
		if a.Kind == filters.ActCopy {
			return part{sieve: "fileinto :copy " + Quote(name), exts: []string{"fileinto", "copy"}}
		}
		return part{sieve: "fileinto " + Quote(name), exts: []string{"fileinto"}}
	case filters.ActDelete:
		if g.opts.Trash != "" {
			return part{sieve: "fileinto " + Quote(g.opts.Trash), exts: []string{"fileinto"}}
		}
		return part{sieve: "discard"}
	case filters.ActMarkRead:
		return part{sieve: `addflag "\\Seen"`, exts: []string{"imap4flags"}}
	case filters.ActMarkUnread:
		return part{sieve: `removeflag "\\Seen"`, exts: []string{"imap4flags"}}
	case filters.ActMarkFlagged:
		return part{sieve: `addflag "\\Flagged"`, exts: []string{"imap4flags"}}
	case filters.ActAddTag:
		if !keywordOK(a.Value) {
			return part{reason: "the tag " + strconv.Quote(a.Value) + " is not a valid IMAP keyword"}
		}
		return part{sieve: "addflag " + Quote(a.Value), exts: []string{"imap4flags"}}
	case filters.ActForward, filters.ActRedirect:
		var addrs []string
		for _, s := range strings.FieldsFunc(a.Value, func(r rune) bool { return r == ',' || r == ';' || r == ' ' }) {
			s = strings.Trim(s, "<>")
			if !strings.Contains(s, "@") {
				return part{reason: "the address " + strconv.Quote(s) + " is not an email address"}
			}
			addrs = append(addrs, s)
		}
		if len(addrs) == 0 {
			return part{reason: "it names no address"}
		}
		var lines []string
		for _, s := range addrs {
			lines = append(lines, "redirect :copy "+Quote(s))
		}
		return part{sieve: strings.Join(lines, ";\n\t"), exts: []string{"copy"}}
	case filters.ActStop:
		return part{sieve: "stop"}
	case filters.ActPOPDelete, filters.ActPOPLeave, filters.ActPOPFetchBody:
		return part{drop: true}
	case filters.ActPriority:
		return part{reason: "Sieve cannot change a message's priority"}
	case filters.ActReply:
		return part{reason: "a reply with a template cannot be sent by a server filter (a vacation reply is not the same: it answers each sender only once in a while)"}
	case filters.ActJunkScore:
		return part{reason: "junk marks are kept by the mail program"}
	case filters.ActIgnoreThread, filters.ActIgnoreSub, filters.ActWatchThread:
		return part{reason: "threads are followed by the mail program"}
	case filters.ActCustom:
		return part{reason: "it is an add-on's own action"}
	case filters.ActAppleScript:
		return part{reason: "AppleScripts run on your Mac only"}
	case filters.ActNotify:
		return part{reason: "notifications come from the mail program"}
	case filters.ActColor:
		return part{reason: "colours are shown by the mail program"}
	}
	return part{reason: "it is an action Mailmover does not know"}
}
