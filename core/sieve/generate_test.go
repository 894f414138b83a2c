package sieve

import (
	"reflect"
	"strings"
	"testing"

	"mailmover/core/filters"
	"mailmover/core/filters/filtertest"
)

func TestQuote(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", `""`},
		{"plain", `"plain"`},
		{`a "b" c`, `"a \"b\" c"`},
		{`back\slash`, `"back\\slash"`},
		{"\\Seen", `"\\Seen"`},
		{"Reçus & Factures", `"Reçus & Factures"`},
		{"two\nlines", "\"two\nlines\""},
		{"bad\xffutf8", "\"bad\uFFFDutf8\""},
	}
	for _, tt := range tests {
		if got := Quote(tt.in); got != tt.want {
			t.Errorf("Quote(%q) = %s; want %s", tt.in, got, tt.want)
		}
	}
	if got := QuoteList([]string{"to", "cc"}); got != `["to", "cc"]` {
		t.Errorf("QuoteList = %s", got)
	}
	if got := MatchEscape(`a*b?c\d`); got != `a\*b\?c\\d` {
		t.Errorf("MatchEscape = %s", got)
	}
}

func parseFixture(t *testing.T, s string) []filters.Rule {
	t.Helper()
	ff, _ := filters.ParseFilterRules(strings.NewReader(s))
	if ff == nil || len(ff.Rules) == 0 {
		t.Fatalf("fixture has no rules")
	}
	return ff.Rules
}

func TestGenerateFixture(t *testing.T) {
	rules := parseFixture(t, filtertest.IMAPFilters)
	s := Generate(rules, Options{Name: "mailmover", Account: "alice@example.com", Trash: "Trash"})
	if err := Check(s.Text); err != nil {
		t.Fatalf("Check(generated) = %v\n%s", err, s.Text)
	}
	wantFates := []filters.Fate{
		filters.OnServer, // Factures
		filters.OnServer, // Lists
		filters.Partly,   // Security: priority left
		filters.OnServer, // Quotes and parens
		filters.Partly,   // Regex: the regex term left
		filters.ByHand,   // Old newsletters: age in an AND
		filters.OnServer, // Every message
		filters.ByHand,   // Junk & tags
		filters.ByHand,   // After sending
		filters.ByHand,   // Add-on
		filters.OnServer, // Mixed
		filters.Partly,   // Unknown action: mark read carried, switched off
		filters.ByHand,   // Address book
		filters.OnServer, // Disabled but fine
	}
	var fates []filters.Fate
	for _, o := range s.Outcomes {
		fates = append(fates, o.Fate)
	}
	if !reflect.DeepEqual(fates, wantFates) {
		t.Errorf("fates = %v; want %v", fates, wantFates)
	}
	if o := s.Outcomes[2]; !reflect.DeepEqual(o.LeftActions, []int{1}) || len(o.Notes) != 1 || !strings.Contains(o.Notes[0], "periodically") {
		t.Errorf("Security outcome = %+v; want the priority left and a note on periodic runs", o)
	}
	if o := s.Outcomes[4]; !reflect.DeepEqual(o.LeftConditions, []int{0}) {
		t.Errorf("Regex outcome = %+v; want condition 0 left", o)
	}
	if !s.Outcomes[11].Off || !s.Outcomes[13].Off || s.Outcomes[0].Off {
		t.Errorf("Off flags wrong: %+v", s.Outcomes)
	}
	if want := []string{"body", "copy", "date", "fileinto", "imap4flags", "relational"}; !reflect.DeepEqual(s.Requires, want) {
		t.Errorf("Requires = %q; want %q", s.Requires, want)
	}
	if s.Carried() != 7 {
		t.Errorf("Carried() = %d; want 7", s.Carried())
	}
	for _, want := range []string{
		`require ["body", "copy", "date", "fileinto", "imap4flags", "relational"];`,
		"# rule:[Factures]\n# When a new message arrives whose sender contains 'billing@', move it to 'INBOX/Reçus & Factures' and mark it read.\n" +
			"if header :contains \"from\" \"billing@\"\n{\n\taddflag \"\\\\Seen\";\n\tfileinto \"INBOX/Reçus & Factures\";\n\tstop;\n}\n",
		"# rule:[Lists \"dev\" \\ ops]\n",
		"if anyof (\n\theader :contains \"list-id\" \"dev.example.org\",\n\theader :matches \"subject\" \"[dev\\\\*]*\",\n\taddress :matches [\"to\", \"cc\"] \"*@lists.example.org\")\n{\n\taddflag \"$label1\";\n\tfileinto :copy \"Lists/Dev\";\n\tstop;\n}\n",
		"\tsize :over 10K,\n\tsize :under 5000K,\n\tdate :value \"gt\" \"date\" \"date\" \"2024-01-01\")",
		"# Not carried: the action “set its priority to Highest”, because Sieve cannot change a message's priority.",
		`header :contains "subject" "a) b",`,
		`not header :contains "subject" " leading space",`,
		`address :is "cc" "x@example.org",`,
		`not address :is "to" "spam@example.org",`,
		`anyof (not exists "X-Spam-Flag", header :is "X-Spam-Flag" ""),`,
		`redirect :copy "boss@example.com";`,
		"#   it would read: header :regex \"subject\" \"^\\\\[TICKET-[0-9]+\\\\]\"\nif address :is \"from\" \"tickets@example.com\"\n{\n\tfileinto \"Tickets\";\n\tstop;\n}",
		"# Not on the server: leaving out a condition would make it act on more mail.",
		"if true\n{\n\tremoveflag \"\\\\Seen\";\n}",
		"# Not on the server: it runs only after sending.",
		`if anyof (allof (header :contains "subject" "a", header :contains "subject" "b"), address :is "from" "c@example.com")`,
		"# Switched off, as it was in the mail program.\nif false # header :contains \"subject\" \"later\"\n{\n\tfileinto \"INBOX/Later\";\n\tstop;\n}",
	} {
		if !strings.Contains(s.Text, want) {
			t.Errorf("script lacks:\n%s\n--- script:\n%s", want, s.Text)
		}
	}
	if strings.Contains(s.Text, "discard") || strings.Contains(s.Text, "Highest\"") {
		t.Errorf("script holds something it should not:\n%s", s.Text)
	}
}

func TestGenerateRules(t *testing.T) {
	folder := func(p ...string) *filters.Folder { return &filters.Folder{Path: p} }
	tests := []struct {
		name string
		rule filters.Rule
		opts Options
		want string // the rule's block, after its two comment lines
		fate filters.Fate
	}{
		{"delete with discard",
			filters.Rule{Name: "d", Enabled: true, When: filters.NewMail, Conditions: []filters.Condition{{Field: filters.FieldSubject, Op: filters.OpIs, Value: `x"y`}}, Actions: []filters.Action{{Kind: filters.ActDelete}}},
			Options{},
			"if header :is \"subject\" \"x\\\"y\"\n{\n\tdiscard;\n\tstop;\n}\n", filters.OnServer},
		{"delete to trash, stop last",
			filters.Rule{Name: "d", Enabled: true, When: filters.NewMail, Match: filters.MatchEvery, Actions: []filters.Action{{Kind: filters.ActStop}, {Kind: filters.ActDelete}, {Kind: filters.ActMarkRead}}},
			Options{Trash: "Deleted Items"},
			"if true\n{\n\taddflag \"\\\\Seen\";\n\tfileinto \"Deleted Items\";\n\tstop;\n}\n", filters.OnServer},
		{"folder mapping and forward to several",
			filters.Rule{Name: "m", Enabled: true, When: filters.NewMail, Conditions: []filters.Condition{{Field: filters.FieldAllAddresses, Op: filters.OpBeginsWith, Value: "boss"}},
				Actions: []filters.Action{{Kind: filters.ActMove, Folder: folder("Archive", "2024")}, {Kind: filters.ActRedirect, Value: "a@x.org, <b@y.org>"}}},
			Options{Folder: func(p []string) string { return "INBOX." + strings.Join(p, ".") }},
			"if address :matches [\"from\", \"to\", \"cc\", \"bcc\"] \"boss*\"\n{\n\tredirect :copy \"a@x.org\";\n\tredirect :copy \"b@y.org\";\n\tfileinto \"INBOX.Archive.2024\";\n\tstop;\n}\n", filters.OnServer},
		{"unmapped folder",
			filters.Rule{Name: "u", Enabled: true, When: filters.NewMail, Conditions: []filters.Condition{{Field: filters.FieldSubject, Op: filters.OpContains, Value: "x"}},
				Actions: []filters.Action{{Kind: filters.ActMove, Folder: folder("Gone")}, {Kind: filters.ActMarkFlagged}}},
			Options{Folder: func([]string) string { return "" }},
			"if header :contains \"subject\" \"x\"\n{\n\taddflag \"\\\\Flagged\";\n}\n", filters.Partly},
		{"regex allowed by the server",
			filters.Rule{Name: "r", Enabled: true, When: filters.AfterJunk, Conditions: []filters.Condition{{Field: filters.FieldSubject, Op: filters.OpDoesntMatch, Value: `^\d+$`}},
				Actions: []filters.Action{{Kind: filters.ActAddTag, Value: "$label2"}}},
			Options{Extensions: []string{"imap4flags", "REGEX"}},
			"if not header :regex \"subject\" \"^\\\\d+$\"\n{\n\taddflag \"$label2\";\n}\n", filters.OnServer},
		{"missing extension",
			filters.Rule{Name: "x", Enabled: true, When: filters.NewMail, Conditions: []filters.Condition{{Field: filters.FieldBody, Op: filters.OpContains, Value: "x"}},
				Actions: []filters.Action{{Kind: filters.ActMove, Folder: folder("X")}}},
			Options{Extensions: []string{"fileinto"}},
			"# Not on the server: leaving out a condition would make it act on more mail.\n", filters.ByHand},
		{"is empty across headers, date is",
			filters.Rule{Name: "e", Enabled: true, When: filters.NewMail, Conditions: []filters.Condition{{Field: filters.FieldToOrCC, Op: filters.OpIsEmpty}, {Field: filters.FieldDate, Op: filters.OpIsnt, Value: "5-Mar-2024"}},
				Actions: []filters.Action{{Kind: filters.ActCopy, Folder: folder("INBOX", "x")}}},
			Options{},
			"if allof (not header :matches [\"to\", \"cc\"] \"?*\", not date :is \"date\" \"date\" \"2024-03-05\")\n{\n\tfileinto :copy \"INBOX/x\";\n}\n", filters.OnServer},
		{"bad tag and bad address",
			filters.Rule{Name: "b", Enabled: true, When: filters.NewMail, Match: filters.MatchEvery,
				Actions: []filters.Action{{Kind: filters.ActAddTag, Value: "has space"}, {Kind: filters.ActForward, Value: "nobody"}}},
			Options{},
			"# Not on the server: none of its actions can be done by a server filter.\n", filters.ByHand},
		{"incomplete",
			filters.Rule{Name: "i", Enabled: true, When: filters.NewMail, Incomplete: true, Actions: []filters.Action{{Kind: filters.ActMarkRead}}},
			Options{},
			"# Not on the server: part of its conditions could not be read.\n", filters.ByHand},
		{"stop only",
			filters.Rule{Name: "s", Enabled: true, When: filters.NewMail, Conditions: []filters.Condition{{Field: filters.FieldHeader, Header: "X-Loop", Op: filters.OpIsntEmpty}},
				Actions: []filters.Action{{Kind: filters.ActStop}}},
			Options{},
			"if not anyof (not exists \"X-Loop\", header :is \"X-Loop\" \"\")\n{\n\tstop;\n}\n", filters.OnServer},
		{"bad header name",
			filters.Rule{Name: "h", Enabled: true, When: filters.NewMail, Match: filters.MatchAny, Conditions: []filters.Condition{{Field: filters.FieldHeader, Header: "X Bad:", Op: filters.OpContains, Value: "x"}, {Field: filters.FieldSubject, Op: filters.OpContains, Value: "y", Or: true}},
				Actions: []filters.Action{{Kind: filters.ActMarkRead}}},
			Options{},
			"if header :contains \"subject\" \"y\"\n{\n\taddflag \"\\\\Seen\";\n}\n", filters.Partly},
		{"pop only",
			filters.Rule{Name: "p", Enabled: true, When: filters.NewMail, Match: filters.MatchEvery, Actions: []filters.Action{{Kind: filters.ActPOPLeave}}},
			Options{},
			"# Nothing to do on the server.\n", filters.NotNeeded},
		{"bad size",
			filters.Rule{Name: "z", Enabled: true, When: filters.NewMail, Match: filters.MatchAny, Conditions: []filters.Condition{{Field: filters.FieldSize, Op: filters.OpIsGreaterThan, Value: "big"}, {Field: filters.FieldSize, Op: filters.OpIsLessThan, Value: "7", Or: true}},
				Actions: []filters.Action{{Kind: filters.ActMarkRead}}},
			Options{},
			"if size :under 7K\n{\n\taddflag \"\\\\Seen\";\n}\n", filters.Partly},
	}
	for _, tt := range tests {
		s := Generate([]filters.Rule{tt.rule}, tt.opts)
		if err := Check(s.Text); err != nil {
			t.Errorf("%s: Check = %v\n%s", tt.name, err, s.Text)
		}
		// Skip the header, the rule marker and the sentence.
		_, block, _ := strings.Cut(s.Text, "# rule:["+tt.rule.Name+"]\n")
		_, block, _ = strings.Cut(block, "\n")
		for strings.HasPrefix(block, "# Not carried") || strings.HasPrefix(block, "#   it would") {
			_, block, _ = strings.Cut(block, "\n")
		}
		if block != tt.want || s.Outcomes[0].Fate != tt.fate {
			t.Errorf("%s: Generate block =\n%s(fate %v); want\n%s(fate %v)", tt.name, block, s.Outcomes[0].Fate, tt.want, tt.fate)
		}
	}
}

func TestGenerateApple(t *testing.T) {
	rules, _, err := filters.ParseAppleRules([]byte(filtertest.SyncedRules), map[string]bool{"11111111-AAAA-4000-8000-000000000004": false})
	if err != nil {
		t.Fatal(err)
	}
	s := Generate(rules, Options{Name: "apple"})
	if err := Check(s.Text); err != nil {
		t.Fatalf("Check = %v\n%s", err, s.Text)
	}
	var fates []filters.Fate
	for _, o := range s.Outcomes {
		fates = append(fates, o.Fate)
	}
	want := []filters.Fate{filters.OnServer, filters.Partly, filters.ByHand, filters.ByHand}
	if !reflect.DeepEqual(fates, want) {
		t.Errorf("fates = %v; want %v\n%s", fates, want, s.Text)
	}
	if !strings.Contains(s.Text, `header :matches "subject" "Facture & \"reçu\"*"`) {
		t.Errorf("script lacks the escaped BeginsWith:\n%s", s.Text)
	}
}

func TestDefaultFolder(t *testing.T) {
	tests := []struct {
		in   []string
		want string
	}{
		{nil, ""},
		{[]string{"Inbox"}, "INBOX"},
		{[]string{"inbox", "Sub"}, "INBOX/Sub"},
		{[]string{"Archive", "Reçus & Factures"}, "Archive/Reçus & Factures"},
	}
	for _, tt := range tests {
		if got := DefaultFolder(tt.in); got != tt.want {
			t.Errorf("DefaultFolder(%q) = %q; want %q", tt.in, got, tt.want)
		}
	}
}

// FuzzGenerate checks that whatever rules a filter file holds, the
// generated script passes Check.
func FuzzGenerate(f *testing.F) {
	f.Add(filtertest.IMAPFilters)
	f.Add(filtertest.LocalFilters)
	f.Add(filtertest.POPFilters)
	f.Fuzz(func(t *testing.T, s string) {
		ff, _ := filters.ParseFilterRules(strings.NewReader(s))
		if ff == nil {
			return
		}
		for _, exts := range [][]string{nil, {"regex", "fileinto", "copy", "imap4flags", "body", "date", "relational"}} {
			sc := Generate(ff.Rules, Options{Name: "f", Extensions: exts, Trash: "Trash"})
			if err := Check(sc.Text); err != nil {
				t.Fatalf("Check(Generate(%q)) = %v\n%s", s, err, sc.Text)
			}
			if len(sc.Outcomes) != len(ff.Rules) {
				t.Fatalf("%d outcomes for %d rules", len(sc.Outcomes), len(ff.Rules))
			}
		}
	})
}
