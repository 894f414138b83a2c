package filters

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"mailmover/core/filters/filtertest"
)

func TestParseCondition(t *testing.T) {
	tests := []struct {
		in    string
		want  []Condition
		match Match
		errs  int
	}{
		{"ALL", nil, MatchEvery, 0},
		{"  ALL ", nil, MatchEvery, 0},
		{"AND (subject,contains,foo)", []Condition{{Field: FieldSubject, Op: OpContains, Value: "foo"}}, MatchAll, 0},
		{`AND (subject,contains,foo) OR ("list-id",contains,dev)`,
			[]Condition{{Field: FieldSubject, Op: OpContains, Value: "foo"}, {Field: FieldHeader, Header: "list-id", Op: OpContains, Value: "dev", Or: true}}, MatchAny, 0},
		{"OR (from,is,a@b.c) OR (to,isn't,d@e.f) OR (cc,begins with,x) OR (to or cc,ends with,@y.z)",
			[]Condition{
				{Field: FieldFrom, Op: OpIs, Value: "a@b.c", Or: true},
				{Field: FieldTo, Op: OpIsnt, Value: "d@e.f", Or: true},
				{Field: FieldCC, Op: OpBeginsWith, Value: "x", Or: true},
				{Field: FieldToOrCC, Op: OpEndsWith, Value: "@y.z", Or: true},
			}, MatchAny, 0},
		{`AND (subject,contains,"a) b")`, []Condition{{Field: FieldSubject, Op: OpContains, Value: "a) b"}}, MatchAll, 0},
		{`AND (subject,contains," lead")`, []Condition{{Field: FieldSubject, Op: OpContains, Value: " lead"}}, MatchAll, 0},
		{`AND (subject,contains,"say \"hi\")")`, []Condition{{Field: FieldSubject, Op: OpContains, Value: `say "hi")`}}, MatchAll, 0},
		{`AND ("X-Spam-Flag",is empty,)`, []Condition{{Field: FieldHeader, Header: "X-Spam-Flag", Op: OpIsEmpty}}, MatchAll, 0},
		{"AND (all addresses,doesn't contain,spam) AND (body,doesn't match,x)",
			[]Condition{{Field: FieldAllAddresses, Op: OpDoesntContain, Value: "spam"}, {Field: FieldBody, Op: OpDoesntMatch, Value: "x"}}, MatchAll, 0},
		{"AND (date,is before,01-Jan-2024) AND (age in days,is greater than,30) AND (size,is less than,100)",
			[]Condition{{Field: FieldDate, Op: OpIsBefore, Value: "01-Jan-2024"}, {Field: FieldAge, Op: OpIsGreaterThan, Value: "30"}, {Field: FieldSize, Op: OpIsLessThan, Value: "100"}}, MatchAll, 0},
		{"AND (priority,is higher than,Normal) AND (status,is,replied) AND (tag,contains,$label1) AND (junk status,isn't,2)",
			[]Condition{{Field: FieldPriority, Op: OpIsHigherThan, Value: "Normal"}, {Field: FieldStatus, Op: OpIs, Value: "replied"}, {Field: FieldTag, Op: OpContains, Value: "$label1"}, {Field: FieldJunkStatus, Op: OpIsnt, Value: "2"}}, MatchAll, 0},
		{"AND (junk percent,is less than,50) AND (junk score origin,is,plugin) AND (has attachment status,is,true)",
			[]Condition{{Field: FieldJunkPercent, Op: OpIsLessThan, Value: "50"}, {Field: FieldJunkOrigin, Op: OpIs, Value: "plugin"}, {Field: FieldAttachment, Op: OpIs, Value: "true"}}, MatchAll, 0},
		{"AND (from,is in ab,jsaddrbook://abook.sqlite) AND (from,isn't in ab,jsaddrbook://history.sqlite)",
			[]Condition{{Field: FieldFrom, Op: OpIsInAB, Value: "jsaddrbook://abook.sqlite"}, {Field: FieldFrom, Op: OpIsntInAB, Value: "jsaddrbook://history.sqlite"}}, MatchAll, 0},
		{"AND (label,is,2)", []Condition{{Field: FieldTag, Op: OpIs, Value: "$label2"}}, MatchAll, 0},
		{"AND (filtaquilla@mesquilla.com#subjectRegex,matches,^a)", []Condition{{Field: FieldCustom, Header: "filtaquilla@mesquilla.com#subjectRegex", Op: OpMatches, Value: "^a"}}, MatchAll, 0},
		{"AND (subject,contains,a) AND (subject,contains,b) OR (from,is,c)",
			[]Condition{{Field: FieldSubject, Op: OpContains, Value: "a"}, {Field: FieldSubject, Op: OpContains, Value: "b"}, {Field: FieldFrom, Op: OpIs, Value: "c", Or: true}}, MatchMixed, 0},
		// Errors keep the good terms.
		{"AND (subject,contains,a) AND (subject,frobs,b)", []Condition{{Field: FieldSubject, Op: OpContains, Value: "a"}}, MatchAll, 1},
		{"AND (subject,contains,a) AND (subject,contains,b", []Condition{{Field: FieldSubject, Op: OpContains, Value: "a"}}, MatchAll, 1},
		{"AND (subject) OR (from,is,x)", []Condition{{Field: FieldFrom, Op: OpIs, Value: "x", Or: true}}, MatchAll, 1},
		{"AND (subject,is,x) trailing", []Condition{{Field: FieldSubject, Op: OpIs, Value: "x"}}, MatchAll, 1},
		{"", nil, MatchAll, 0},
	}
	for _, tt := range tests {
		got, match, errs := ParseCondition(tt.in)
		if !reflect.DeepEqual(got, tt.want) || match != tt.match || len(errs) != tt.errs {
			t.Errorf("ParseCondition(%q) = %+v, %v, %v; want %+v, %v, %d errors", tt.in, got, match, errs, tt.want, tt.match, tt.errs)
		}
	}
}

func TestParseFilterRulesFixture(t *testing.T) {
	ff, err := ParseFilterRules(strings.NewReader(filtertest.IMAPFilters))
	var pe *ParseError
	if !errors.As(err, &pe) || len(pe.Problems) != 1 || pe.Problems[0].Line != 79 {
		t.Fatalf("ParseFilterRules(fixture) error = %v; want one problem on line 79 (the unknown action)", err)
	}
	if ff.Version != 9 || !ff.Logging {
		t.Errorf("version, logging = %d, %v; want 9, true", ff.Version, ff.Logging)
	}
	type summary struct {
		name    string
		enabled bool
		when    When
		match   Match
		conds   int
		actions []ActionKind
	}
	want := []summary{
		{"Factures", true, 17, MatchAll, 1, []ActionKind{ActMove, ActMarkRead}},
		{`Lists "dev" \ ops`, true, 17, MatchAny, 3, []ActionKind{ActCopy, ActAddTag, ActStop}},
		{"Security", true, 257, MatchAll, 4, []ActionKind{ActMarkFlagged, ActPriority, ActAddTag}},
		{"Quotes and parens", true, 17, MatchAll, 6, []ActionKind{ActForward}},
		{"Regex", true, 1, MatchAny, 2, []ActionKind{ActMove}},
		{"Old newsletters", false, 17, MatchAll, 2, []ActionKind{ActDelete}},
		{"Every message", true, AfterJunk, MatchEvery, 0, []ActionKind{ActMarkUnread}},
		{"Junk & tags", true, 17, MatchAny, 2, []ActionKind{ActJunkScore, ActIgnoreThread}},
		{"After sending", true, AfterSending, MatchAll, 1, []ActionKind{ActCopy}},
		{"Add-on", true, 17, MatchAll, 2, []ActionKind{ActCustom}},
		{"Mixed", true, 1, MatchMixed, 3, []ActionKind{ActMarkRead}},
		{"Unknown action", false, 17, MatchAll, 1, []ActionKind{"Teleport", ActMarkRead}},
		{"Address book", true, 1, MatchAll, 2, []ActionKind{ActMove}},
		{"Disabled but fine", false, 17, MatchAll, 1, []ActionKind{ActMove}},
	}
	if len(ff.Rules) != len(want) {
		t.Fatalf("ParseFilterRules(fixture) gave %d rules; want %d", len(ff.Rules), len(want))
	}
	for i, r := range ff.Rules {
		var kinds []ActionKind
		for _, a := range r.Actions {
			kinds = append(kinds, a.Kind)
		}
		got := summary{r.Name, r.Enabled, r.When, r.Match, len(r.Conditions), kinds}
		if !reflect.DeepEqual(got, want[i]) {
			t.Errorf("rule %d = %+v; want %+v", i+1, got, want[i])
		}
	}
	// Action values and folders.
	move := ff.Rules[0].Actions[0]
	if move.Folder == nil || !reflect.DeepEqual(move.Folder.Path, []string{"INBOX", "Reçus & Factures"}) || move.Folder.Host != "imap.example.com" || move.Folder.User != "alice@example.com" {
		t.Errorf("Factures move folder = %+v; want INBOX/Reçus & Factures on imap.example.com for alice@example.com", move.Folder)
	}
	if a := ff.Rules[9].Actions[0]; a.CustomID != "filtaquilla@mesquilla.com#runFile" || a.Value != "/usr/bin/true" {
		t.Errorf("custom action = %+v; want customId and value", a)
	}
	if a := ff.Rules[2].Actions[1]; a.Value != "Highest" {
		t.Errorf("priority action value = %q; want Highest", a.Value)
	}
	if got := ff.Rules[2].Description; got != "CVE mail from the scanners" {
		t.Errorf("description = %q", got)
	}
	if c := ff.Rules[4].Conditions[0]; c.Value != `^\[TICKET-[0-9]+\]` {
		t.Errorf("regex value = %q; want the file's \\\\ unescaped once", c.Value)
	}
	if !ff.Rules[11].Actions[0].Unknown || len(ff.Rules[11].Problems) == 0 {
		t.Errorf("unknown action not flagged: %+v", ff.Rules[11])
	}
}

func TestParseFilterRulesMalformed(t *testing.T) {
	ff, err := ParseFilterRules(strings.NewReader(filtertest.LocalFilters))
	var pe *ParseError
	if !errors.As(err, &pe) {
		t.Fatalf("ParseFilterRules(malformed) error = %v; want *ParseError", err)
	}
	var lines []int
	for _, p := range pe.Problems {
		lines = append(lines, p.Line)
	}
	if want := []int{9, 14, 15}; !reflect.DeepEqual(lines, want) {
		t.Errorf("problem lines = %v; want %v (%v)", lines, want, err)
	}
	if !strings.Contains(err.Error(), "line 9: ") {
		t.Errorf("error %q does not give the line", err)
	}
	if len(ff.Rules) != 3 || ff.Rules[2].Name != "Good again" || len(ff.Rules[2].Problems) != 0 || ff.Rules[2].Incomplete {
		t.Fatalf("rules = %+v; want 3, the last one clean", ff.Rules)
	}
	if !ff.Rules[1].Incomplete {
		t.Errorf("rule with a malformed condition is not Incomplete: %+v", ff.Rules[1])
	}
}

func TestParseFilterRulesShapes(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want Rule
	}{
		{"escapes and multi-line description",
			"version=\"9\"\nname=\"a \\\"b\\\" c:\\\\d\"\ndescription=\"two\nlines\"\nenabled=\"yes\"\ntype=\"1\"\naction=\"Mark read\"\ncondition=\"AND (subject,contains,\\\"x)\\\")\"\n",
			Rule{Name: `a "b" c:\d`, Description: "two\nlines", Enabled: true, When: NewMail, Match: MatchAll, Line: 2,
				Conditions: []Condition{{Field: FieldSubject, Op: OpContains, Value: "x)"}},
				Actions:    []Action{{Kind: ActMarkRead}}}},
		{"CRLF line ends, spaces around =",
			"version = \"9\"\r\nname = \"n\"\r\nenabled=\"no\"\r\ntype=\"16\"\r\naction=\"Label\"\r\nactionValue=\"3\"\r\ncondition=\"ALL\"\r\n",
			Rule{Name: "n", When: Manual, Match: MatchEvery, Line: 2, Actions: []Action{{Kind: ActAddTag, Value: "$label3"}}}},
		{"version 6 in Latin-1",
			"version=\"6\"\nname=\"Re\xe7us\"\nenabled=\"yes\"\ntype=\"17\"\naction=\"Move to folder\"\nactionValue=\"mailbox://nobody@Local%20Folders/Re%C3%A7us\"\ncondition=\"AND (subject,contains,caf\xe9)\"\n",
			Rule{Name: "Reçus", Enabled: true, When: 17, Match: MatchAll, Line: 2,
				Conditions: []Condition{{Field: FieldSubject, Op: OpContains, Value: "café"}},
				Actions: []Action{{Kind: ActMove, Value: "mailbox://nobody@Local%20Folders/Re%C3%A7us",
					Folder: &Folder{URI: "mailbox://nobody@Local%20Folders/Re%C3%A7us", Scheme: "mailbox", User: "nobody", Host: "Local Folders", Path: []string{"Reçus"}}}}}},
	}
	for _, tt := range tests {
		ff, err := ParseFilterRules(strings.NewReader(tt.in))
		if err != nil {
			t.Errorf("%s: ParseFilterRules error %v", tt.name, err)
			continue
		}
		if len(ff.Rules) != 1 || !reflect.DeepEqual(ff.Rules[0], tt.want) {
			t.Errorf("%s: ParseFilterRules(%q) = %+v; want %+v", tt.name, tt.in, ff.Rules, tt.want)
		}
	}
}

func TestParseFilterRulesErrors(t *testing.T) {
	tests := []struct {
		in    string
		rules int
		line  int
	}{
		{"name=\"a\"\ncondition=\"ALL\"\naction=\"Mark read\"\nactionValue=\"x\nname=\"b\"\n", 1, 5}, // a quote missing: the value runs on
		{"name=\"a\"\ncondition=\"ALL\"\naction=\"Mark read\"\nactionValue=\"x\n", 1, 4},
		{"version=\"x\"\nname=\"a\"\ncondition=\"ALL\"\n", 1, 1},
		{"enabled=\"yes\"\nname=\"a\"\ncondition=\"ALL\"\n", 1, 1},
		{"name=\"a\"\ntype=\"many\"\ncondition=\"ALL\"\n", 1, 2},
		{"name=\"a\"\nbogus=\"1\"\ncondition=\"ALL\"\n", 1, 2},
		{"name=\"a\"\nactionValue=\"1\"\ncondition=\"ALL\"\n", 1, 2},
		{"name=\"a\"\nenabled=yes\ncondition=\"ALL\"\n", 1, 2},
		{"name=\"a\"\n", 1, 1}, // no condition
	}
	for _, tt := range tests {
		ff, err := ParseFilterRules(strings.NewReader(tt.in))
		var pe *ParseError
		if !errors.As(err, &pe) || pe.Problems[0].Line != tt.line || len(ff.Rules) != tt.rules {
			t.Errorf("ParseFilterRules(%q) = %d rules, %v; want %d rules and a problem on line %d", tt.in, len(ff.Rules), err, tt.rules, tt.line)
		}
	}
}

func TestParseFolderURI(t *testing.T) {
	tests := []struct {
		in   string
		want Folder
	}{
		{"imap://alice%40example.com@imap.example.com/INBOX/Re%C3%A7us%20%26%20Factures",
			Folder{Scheme: "imap", User: "alice@example.com", Host: "imap.example.com", Path: []string{"INBOX", "Reçus & Factures"}}},
		{"mailbox://nobody@Local%20Folders/Archive/2024",
			Folder{Scheme: "mailbox", User: "nobody", Host: "Local Folders", Path: []string{"Archive", "2024"}}},
		{"imap://u@h/Re&AOc-us/A&-B", Folder{Scheme: "imap", User: "u", Host: "h", Path: []string{"Reçus", "A&B"}}},
		{"imap://u@h/50%", Folder{Scheme: "imap", User: "u", Host: "h", Path: []string{"50%"}}},
		{"IMAP://h/a//b/", Folder{Scheme: "imap", Host: "h", Path: []string{"a", "b"}}},
		{"mailbox://nobody@Local%20Folders/Templates?messageId=t%40x&subject=Away%20now",
			Folder{Scheme: "mailbox", User: "nobody", Host: "Local Folders", Path: []string{"Templates"}, Query: map[string]string{"messageId": "t@x", "subject": "Away now"}}},
	}
	for _, tt := range tests {
		got, err := ParseFolderURI(tt.in)
		tt.want.URI = tt.in
		if err != nil || !reflect.DeepEqual(*got, tt.want) {
			t.Errorf("ParseFolderURI(%q) = %+v, %v; want %+v", tt.in, got, err, tt.want)
		}
	}
	for _, bad := range []string{"", "Archive/2024", "://x"} {
		if _, err := ParseFolderURI(bad); err == nil {
			t.Errorf("ParseFolderURI(%q) = nil error; want an error", bad)
		}
	}
}

func FuzzParseFilterRules(f *testing.F) {
	f.Add(filtertest.IMAPFilters)
	f.Add(filtertest.LocalFilters)
	f.Add(filtertest.POPFilters)
	f.Add("name=\"\\\ncondition=\"AND (\"")
	f.Fuzz(func(t *testing.T, s string) {
		ff, err := ParseFilterRules(strings.NewReader(s))
		if ff == nil && err == nil {
			t.Fatal("nil file and nil error")
		}
		if ff != nil {
			for _, r := range ff.Rules {
				_ = Describe(r, Words{})
			}
		}
	})
}

func FuzzParseCondition(f *testing.F) {
	for _, s := range []string{"ALL", `AND (subject,contains,"a) b") OR ("x",is,\"y\")`, "OR (", "AND (a,b,c)"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		conds, _, _ := ParseCondition(s)
		for _, c := range conds {
			_ = DescribeCondition(c, Words{})
		}
	})
}
