package filters

import (
	"bytes"
	"context"
	"encoding/xml"
	"io"
	"strings"
	"testing"
	"time"

	"mailmover/core/filters/filtertest"
)

func lastSegment(path []string) string { return path[len(path)-1] }

func TestDescribe(t *testing.T) {
	factures := &Folder{Path: []string{"INBOX", "Reçus & Factures"}}
	tests := []struct {
		rule  Rule
		words Words
		want  string
	}{
		{Rule{When: NewMail | Manual, Conditions: []Condition{{Field: FieldFrom, Op: OpContains, Value: "billing@"}},
			Actions: []Action{{Kind: ActMove, Folder: factures}, {Kind: ActMarkRead}}},
			Words{Folder: lastSegment},
			"When a new message arrives whose sender contains 'billing@', move it to 'Reçus & Factures' and mark it read."},
		{Rule{When: NewMail, Conditions: []Condition{{Field: FieldFrom, Op: OpContains, Value: "billing@"}},
			Actions: []Action{{Kind: ActMove, Folder: factures}}},
			Words{},
			"When a new message arrives whose sender contains 'billing@', move it to 'INBOX/Reçus & Factures'."},
		{Rule{When: NewMail, Match: MatchAny, Conditions: []Condition{
			{Field: FieldHeader, Header: "List-Id", Op: OpContains, Value: "dev"},
			{Field: FieldSubject, Op: OpBeginsWith, Value: "[dev]", Or: true},
			{Field: FieldSize, Op: OpIsGreaterThan, Value: "100", Or: true}},
			Actions: []Action{{Kind: ActCopy, Folder: &Folder{Path: []string{"Lists"}}}, {Kind: ActAddTag, Value: "$label1"}, {Kind: ActStop}}},
			Words{},
			"When a new message arrives whose 'List-Id' header contains 'dev' or whose subject begins with '[dev]' or that is larger than 100 KB, copy it to 'Lists', tag it 'Important' and stop applying further filters."},
		{Rule{When: Manual, Match: MatchEvery, Actions: []Action{{Kind: ActDelete}}}, Words{},
			"When you run it by hand on a message, delete it."},
		{Rule{When: AfterSending, Conditions: []Condition{{Field: FieldTo, Op: OpEndsWith, Value: "@client.example"}},
			Actions: []Action{{Kind: ActCopy, Folder: &Folder{Path: []string{"Sent", "Clients"}}}}}, Words{},
			"When you send a message whose To address ends with '@client.example', copy it to 'Sent/Clients'."},
		{Rule{When: Periodically, Conditions: []Condition{{Field: FieldAge, Op: OpIsGreaterThan, Value: "30"}, {Field: FieldStatus, Op: OpIs, Value: "read"}},
			Actions: []Action{{Kind: ActMove, Folder: &Folder{Path: []string{"Archive"}}}}}, Words{},
			"Every few minutes, for each message in the folder that is more than 30 days old and that is read, move it to 'Archive'."},
		{Rule{When: AfterJunk, Conditions: []Condition{{Field: FieldJunkStatus, Op: OpIs, Value: "2"}},
			Actions: []Action{{Kind: ActJunkScore, Value: "100"}, {Kind: ActForward, Value: "spam@example.org"}}}, Words{},
			"When a new message arrives and junk classification is done that is junk, mark it as junk and forward it to spam@example.org."},
		{Rule{When: NewMail, Match: MatchMixed, Conditions: []Condition{{Field: FieldSubject, Op: OpContains, Value: "a"}, {Field: FieldSubject, Op: OpContains, Value: "b"}, {Field: FieldFrom, Op: OpIs, Value: "c", Or: true}}}, Words{},
			"When a new message arrives whose subject contains 'a' and whose subject contains 'b' or whose sender is 'c' (read from left to right), do nothing."},
		{Rule{When: NewMail, Actions: []Action{{Kind: ActReply, Folder: &Folder{Query: map[string]string{"subject": "Away"}}}, {Kind: ActPriority, Value: "Highest"}, {Kind: "Teleport", Unknown: true}}}, Words{},
			"When a new message arrives, reply with the template 'Away', set its priority to Highest and do 'Teleport' (an action this program does not know)."},
	}
	for _, tt := range tests {
		if got := Describe(tt.rule, tt.words); got != tt.want {
			t.Errorf("Describe(%+v) = %q; want %q", tt.rule, got, tt.want)
		}
	}
}

func TestDescribeCondition(t *testing.T) {
	w := Words{Tags: map[string]string{"projet_x": "Projet Été"}}
	tests := []struct {
		c    Condition
		want string
	}{
		{Condition{Field: FieldSubject, Op: OpDoesntContain, Value: "x"}, "whose subject does not contain 'x'"},
		{Condition{Field: FieldFrom, Op: OpIs, Value: "a@b"}, "whose sender is 'a@b'"},
		{Condition{Field: FieldTo, Op: OpIsnt, Value: "a@b"}, "whose To address is not 'a@b'"},
		{Condition{Field: FieldCC, Op: OpBeginsWith, Value: "x"}, "whose Cc address begins with 'x'"},
		{Condition{Field: FieldToOrCC, Op: OpEndsWith, Value: "@y"}, "whose To or Cc address ends with '@y'"},
		{Condition{Field: FieldAllAddresses, Op: OpContains, Value: "z"}, "whose sender or any recipient contains 'z'"},
		{Condition{Field: FieldBody, Op: OpMatches, Value: "^a"}, "whose body matches the regular expression '^a'"},
		{Condition{Field: FieldBody, Op: OpDoesntMatch, Value: "^a"}, "whose body does not match the regular expression '^a'"},
		{Condition{Field: FieldDate, Op: OpIsBefore, Value: "01-Jan-2024"}, "whose date is before 01-Jan-2024"},
		{Condition{Field: FieldDate, Op: OpIsAfter, Value: "01-Jan-2024"}, "whose date is after 01-Jan-2024"},
		{Condition{Field: FieldPriority, Op: OpIsLowerThan, Value: "Normal"}, "whose priority is lower than Normal"},
		{Condition{Field: FieldStatus, Op: OpIsnt, Value: "replied"}, "that is not replied to"},
		{Condition{Field: FieldAge, Op: OpIsLessThan, Value: "2"}, "that is less than 2 days old"},
		{Condition{Field: FieldAge, Op: OpIs, Value: "2"}, "whose age in days is 2"},
		{Condition{Field: FieldTag, Op: OpContains, Value: "projet_x"}, "that is tagged 'Projet Été'"},
		{Condition{Field: FieldTag, Op: OpIsnt, Value: "$label2"}, "that is not tagged 'Work'"},
		{Condition{Field: FieldTag, Op: OpIsEmpty}, "that has no tag"},
		{Condition{Field: FieldSize, Op: OpIsLessThan, Value: "5"}, "that is smaller than 5 KB"},
		{Condition{Field: FieldSize, Op: OpIs, Value: "5"}, "whose size is 5 KB"},
		{Condition{Field: FieldJunkStatus, Op: OpIsnt, Value: "2"}, "that is not junk"},
		{Condition{Field: FieldJunkStatus, Op: OpIsEmpty}, "that is not classified as junk or not junk"},
		{Condition{Field: FieldJunkPercent, Op: OpIsGreaterThan, Value: "90"}, "whose junk score is greater than '90'"},
		{Condition{Field: FieldJunkOrigin, Op: OpIs, Value: "plugin"}, "whose junk score origin is 'plugin'"},
		{Condition{Field: FieldAttachment, Op: OpIs, Value: "true"}, "that has an attachment"},
		{Condition{Field: FieldAttachment, Op: OpIsnt, Value: "true"}, "that has no attachment"},
		{Condition{Field: FieldFrom, Op: OpIsInAB, Value: "jsaddrbook://abook.sqlite"}, "whose sender is in the address book 'Personal Address Book'"},
		{Condition{Field: FieldFrom, Op: OpIsntInAB, Value: "jsaddrbook://history.sqlite"}, "whose sender is not in the address book 'Collected Addresses'"},
		{Condition{Field: FieldHeader, Header: "X-Spam", Op: OpIsEmpty}, "whose 'X-Spam' header is empty"},
		{Condition{Field: FieldHeader, Header: "X-Spam", Op: OpIsntEmpty}, "whose 'X-Spam' header is not empty"},
		{Condition{Field: FieldCustom, Header: "fq#x", Op: OpMatches, Value: "y"}, "that matches the add-on search term 'fq#x' (matches 'y')"},
		{Condition{Field: FieldAddressBook, Op: OpIsntInAB}, "whose sender is not in your contacts"},
		{Condition{Field: FieldAddressBook, Op: OpIsInAB, Value: "Family"}, "whose sender is in the group 'Family'"},
		{Condition{Field: FieldAccount, Op: OpContains, Value: "imap://alice%40example.com@imap.example.com/"}, "received by the account 'alice@example.com@imap.example.com'"},
		{Condition{Field: FieldOther, Header: "IsEncrypted"}, "that is encrypted"},
		{Condition{Field: FieldAnyText, Op: OpContains, Value: "q"}, "whose text (headers or body) contains 'q'"},
	}
	for _, tt := range tests {
		if got := DescribeCondition(tt.c, w); got != tt.want {
			t.Errorf("DescribeCondition(%+v) = %q; want %q", tt.c, got, tt.want)
		}
	}
}

func TestDescribeAction(t *testing.T) {
	tests := []struct {
		a    Action
		want string
	}{
		{Action{Kind: ActMarkUnread}, "mark it unread"},
		{Action{Kind: ActMarkFlagged}, "mark it flagged"},
		{Action{Kind: ActMarkFlagged, Value: "red"}, "flag it (red)"},
		{Action{Kind: ActIgnoreThread}, "ignore its thread"},
		{Action{Kind: ActIgnoreSub}, "ignore its subthread"},
		{Action{Kind: ActWatchThread}, "watch its thread"},
		{Action{Kind: ActPOPDelete}, "delete it from the POP3 server"},
		{Action{Kind: ActPOPLeave}, "leave it on the POP3 server"},
		{Action{Kind: ActPOPFetchBody}, "download its whole body from the POP3 server"},
		{Action{Kind: ActJunkScore, Value: "0"}, "mark it as not junk"},
		{Action{Kind: ActJunkScore, Value: "50"}, "set its junk score to 50"},
		{Action{Kind: ActCustom, CustomID: "x#y"}, "run the add-on action 'x#y'"},
		{Action{Kind: ActRedirect, Value: "a@b"}, "redirect it to a@b"},
		{Action{Kind: ActReply, Value: "Away\nuntil Monday"}, "reply with the text 'Away until Monday'"},
		{Action{Kind: ActAppleScript, Value: "x.scpt"}, "run the AppleScript 'x.scpt'"},
		{Action{Kind: ActNotify}, "notify you"},
		{Action{Kind: ActMove}, "move it to '?'"},
	}
	for _, tt := range tests {
		if got := DescribeAction(tt.a, Words{}); got != tt.want {
			t.Errorf("DescribeAction(%+v) = %q; want %q", tt.a, got, tt.want)
		}
	}
}

func TestNotes(t *testing.T) {
	dir := writeProfile(t)
	set, err := ReadThunderbird(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	// A plan carrying the first rule of the IMAP account, partly the
	// third; no plan for the others.
	plan := func(a *Account) *Plan {
		if a.Key != "server1" {
			return nil
		}
		out := make([]Outcome, len(a.Rules))
		out[0] = Outcome{Fate: OnServer}
		out[2] = Outcome{Fate: Partly, LeftActions: []int{1}}
		out[5] = Outcome{Fate: OnServer, Off: true}
		return &Plan{Script: "mailmover", Text: "require \"fileinto\";\n# <script>\n", Outcomes: out}
	}
	n := BuildNotes(set, NotesOptions{Plan: plan, Words: Words{Folder: lastSegment}, Target: "mail.new.example", Generated: time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)})
	wantCount := Counts{Rules: 19, OnServer: 2, Partly: 1, ByHand: 15, NotNeeded: 1, Disabled: 3}
	if n.Count != wantCount {
		t.Errorf("counts = %+v; want %+v", n.Count, wantCount)
	}
	r := n.Accounts[0].Rules[0]
	if r.Sentence != "When a new message arrives whose sender contains 'billing@', move it to 'Reçus & Factures' and mark it read." ||
		r.Verdict != "Moved to the new server: the Sieve script 'mailmover' does it." || len(r.Steps) != 0 {
		t.Errorf("rule 1 note = %+v", r)
	}
	r = n.Accounts[0].Rules[2]
	if r.Fate != Partly || len(r.Left) != 1 || !strings.Contains(r.Left[0], "set its priority to Highest") ||
		!strings.Contains(strings.Join(r.Steps, "\n"), "Add the action: Set Priority to › Highest.") ||
		strings.Contains(strings.Join(r.Steps, "\n"), "Add Star") {
		t.Errorf("rule 3 note = %+v; want only the priority left, with steps for it", r)
	}
	if r := n.Accounts[0].Rules[5]; !strings.Contains(r.Verdict, "switched off") {
		t.Errorf("rule 6 verdict = %q", r.Verdict)
	}
	r = n.Accounts[2].Rules[0]
	if r.Fate != ByHand || !strings.Contains(strings.Join(r.Steps, "\n"), "tick “Manually Run”") {
		t.Errorf("manual rule note = %+v", r)
	}
	if r := n.Accounts[1].Rules[0]; r.Fate != NotNeeded {
		t.Errorf("POP-only rule fate = %v; want not-needed", r.Fate)
	}

	var md bytes.Buffer
	if err := n.WriteMarkdown(&md); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"# Filter notes",
		"19 filters: 2 moved to the new server, 1 partly moved, 15 to recreate by hand, 1 not needed (3 switched off).",
		"#### 2. Lists \"dev\" \\\\ ops (on)",
		"'Reçus & Factures'",
		"Alice Émile \\<alice@example.com\\>",
		"```text\n  Alice \"Al\" Émile\n  Example & Co \\ Sales <b>\n  ```",
		"```sieve\nrequire \"fileinto\";\n# <script>\n```",
		"Je suis absente jusqu'au 3 août.",
		"1 March 2025",
	} {
		if !strings.Contains(md.String(), want) {
			t.Errorf("Markdown lacks %q", want)
		}
	}

	var h bytes.Buffer
	if err := n.WriteHTML(&h); err != nil {
		t.Fatal(err)
	}
	html := h.String()
	for _, want := range []string{
		"<!DOCTYPE html>", "<style>", "@media print",
		"When a new message arrives whose sender contains &#39;billing@&#39;, move it to &#39;Reçus &amp; Factures&#39; and mark it read.",
		"Example &amp; Co \\ Sales &lt;b&gt;",
		"# &lt;script&gt;",
		`class="badge b-on-server"`, `class="badge b-partly"`, `class="badge b-by-hand"`,
		"Je suis absente jusqu&#39;au 3 août.",
	} {
		if !strings.Contains(html, want) {
			t.Errorf("HTML lacks %q", want)
		}
	}
	for _, bad := range []string{"<script", "<b>", "http://", "https://", "<link", "<img"} {
		if strings.Contains(html, bad) {
			t.Errorf("HTML holds %q: not self-contained or not escaped", bad)
		}
	}
	// Well-formed enough for an XML reader (the void elements aside).
	d := xml.NewDecoder(strings.NewReader(strings.NewReplacer("<br>", "<br/>", "<!DOCTYPE html>", "").Replace(html)))
	d.Strict = false
	d.AutoClose = []string{"meta"}
	for {
		if _, err := d.Token(); err != nil {
			if err != io.EOF {
				t.Errorf("HTML is not well formed: %v", err)
			}
			break
		}
	}
}

func TestNotesWithoutPlan(t *testing.T) {
	dir := t.TempDir()
	path, err := filtertest.WriteAppleMail(dir)
	if err != nil {
		t.Fatal(err)
	}
	set, err := ReadAppleMail(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	n := BuildNotes(set, NotesOptions{})
	if n.Count.ByHand != 4 || n.Title != "Filter notes" || n.Generated.IsZero() {
		t.Errorf("notes = %+v", n)
	}
	steps := strings.Join(n.Accounts[0].Rules[0].Steps, "\n")
	if !strings.Contains(steps, "Mail › Settings › Rules") || strings.Contains(steps, "Apply filter when") {
		t.Errorf("Apple Mail steps = %q", steps)
	}
	if got := (Counts{}).Summary(); got != "No filters found." {
		t.Errorf("Summary() = %q", got)
	}
}

func TestMarkdownEscaping(t *testing.T) {
	tests := []struct{ in, want string }{
		{"a *b* _c_ [d](e) <f> `g` #h |i| ~j~", "a \\*b\\* \\_c\\_ \\[d\\](e) \\<f\\> \\`g\\` \\#h \\|i\\| \\~j\\~"},
		{"Reçus & Factures", "Reçus & Factures"},
		{"&amp; &#39;", "\\&amp; \\&\\#39;"},
		{"two\nlines", "two lines"},
	}
	for _, tt := range tests {
		if got := mdEscape(tt.in); got != tt.want {
			t.Errorf("mdEscape(%q) = %q; want %q", tt.in, got, tt.want)
		}
	}
	if got := mdCode("a ` b"); got != "``a ` b``" {
		t.Errorf("mdCode = %q", got)
	}
	if got := mdFence("x\n```\ny", "text"); got != "````text\nx\n```\ny\n````" {
		t.Errorf("mdFence = %q", got)
	}
}
