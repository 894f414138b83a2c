package filters

import (
	"fmt"
	"strings"
)

// Words is what describing a rule needs besides the rule itself.
type Words struct {
	// Folder names a source folder on the new server (the migration's
	// folder mapping); nil shows the source path joined with "/".
	Folder func(path []string) string
	// Tags maps tag keys ("$label1") to their names ("Important").
	Tags map[string]string
}

// FolderName is how a folder is shown: its name on the new server when a
// mapping is given, else its path.
func (w Words) FolderName(f *Folder) string {
	if f == nil || len(f.Path) == 0 {
		return "?"
	}
	if w.Folder != nil {
		if n := w.Folder(f.Path); n != "" {
			return n
		}
	}
	return f.Name()
}

func (w Words) tag(key string) string {
	if n, ok := w.Tags[key]; ok && n != "" {
		return n
	}
	if n, ok := defaultTags[key]; ok {
		return n
	}
	return key
}

// q quotes user text in a sentence.
func q(s string) string { return "'" + s + "'" }

// Describe says in one English sentence what a rule does, e.g. "When a new
// message arrives whose sender contains 'billing@', move it to 'Reçus &
// Factures' and mark it read."
func Describe(r Rule, w Words) string {
	var b strings.Builder
	b.WriteString(trigger(r.When))
	if r.Match != MatchEvery && len(r.Conditions) > 0 {
		b.WriteString(" ")
		b.WriteString(conditionsClause(r, w))
	}
	b.WriteString(", ")
	var acts []string
	for _, a := range r.Actions {
		acts = append(acts, DescribeAction(a, w))
	}
	if len(acts) == 0 {
		b.WriteString("do nothing")
	} else {
		b.WriteString(joinAnd(acts))
	}
	b.WriteString(".")
	return b.String()
}

// Runs says when a rule runs, e.g. "when new mail arrives and when run by hand".
func Runs(when When) string {
	m := when.Moments()
	if len(m) == 0 {
		return "never (no moment is ticked)"
	}
	return joinAnd(m)
}

func trigger(w When) string {
	switch {
	case w&NewMail != 0:
		return "When a new message arrives"
	case w&AfterJunk != 0:
		return "When a new message arrives and junk classification is done"
	case w&News != 0:
		return "When a new newsgroup message arrives"
	case w&AfterSending != 0:
		return "When you send a message"
	case w&Archiving != 0:
		return "When you archive a message"
	case w&Periodically != 0:
		return "Every few minutes, for each message in the folder"
	case w&Manual != 0:
		return "When you run it by hand on a message"
	}
	return "When it runs on a message"
}

func conditionsClause(r Rule, w Words) string {
	var b strings.Builder
	for i, c := range r.Conditions {
		if i > 0 {
			switch {
			case r.Match == MatchAny || (r.Match == MatchMixed && c.Or):
				b.WriteString(" or ")
			default:
				b.WriteString(" and ")
			}
		}
		b.WriteString(DescribeCondition(c, w))
	}
	if r.Match == MatchMixed {
		b.WriteString(" (read from left to right)")
	}
	return b.String()
}

// DescribeCondition says what one condition tests, as a relative clause:
// "whose sender contains 'billing@'", "that is larger than 100 KB".
func DescribeCondition(c Condition, w Words) string {
	v := q(c.Value)
	neg, negated := c.Op.Negated()
	switch c.Field {
	case FieldSize:
		switch c.Op {
		case OpIsGreaterThan:
			return "that is larger than " + c.Value + " KB"
		case OpIsLessThan:
			return "that is smaller than " + c.Value + " KB"
		}
		return "whose size " + opPhrase(c.Op, c.Value+" KB", c.Value)
	case FieldAge:
		unit := " days old"
		if c.Header == "DateSent" {
			unit = " days old (by date sent)"
		}
		switch c.Op {
		case OpIsGreaterThan:
			return "that is more than " + c.Value + unit
		case OpIsLessThan:
			return "that is less than " + c.Value + unit
		}
		return "whose age in days " + opPhrase(c.Op, c.Value, c.Value)
	case FieldTag:
		t := q(w.tag(c.Value))
		switch c.Op {
		case OpContains, OpIs:
			return "that is tagged " + t
		case OpDoesntContain, OpIsnt:
			return "that is not tagged " + t
		case OpIsEmpty:
			return "that has no tag"
		case OpIsntEmpty:
			return "that has a tag"
		}
		return "whose tags " + opPhrase(c.Op, t, c.Value)
	case FieldJunkStatus:
		junk := c.Value == "2" || strings.EqualFold(c.Value, "junk")
		good := c.Value == "1"
		switch {
		case c.Op == OpIsEmpty:
			return "that is not classified as junk or not junk"
		case c.Op == OpIsntEmpty:
			return "that is classified as junk or not junk"
		case junk && c.Op == OpIs, good && c.Op == OpIsnt:
			return "that is junk"
		case junk && c.Op == OpIsnt, good && c.Op == OpIs:
			return "that is not junk"
		}
		return "whose junk status " + opPhrase(c.Op, v, c.Value)
	case FieldAttachment:
		if c.Header == "AnyAttachment" {
			return "whose attachment name " + opPhrase(c.Op, v, c.Value)
		}
		if c.Header == "AttachmentType" {
			return "that has an attachment of type " + appleAttachmentType(c.Value)
		}
		yes := c.Value == "true" || c.Value == "1"
		if (c.Op == OpIs) == yes {
			return "that has an attachment"
		}
		return "that has no attachment"
	case FieldStatus:
		if c.Op == OpIs {
			return "that is " + statusWord(c.Value)
		}
		if c.Op == OpIsnt {
			return "that is not " + statusWord(c.Value)
		}
		return "whose status " + opPhrase(c.Op, v, c.Value)
	case FieldAddressBook:
		book := "your contacts"
		if c.Value != "" {
			book = "the group " + q(c.Value)
		}
		if negated && neg == OpIsInAB {
			return "whose sender is not in " + book
		}
		return "whose sender is in " + book
	case FieldAccount:
		return "received by the account " + q(accountName(c.Value))
	case FieldOther:
		if p, ok := appleOtherPhrases[c.Header]; ok {
			return p
		}
		return "whose " + q(c.Header) + " " + opPhrase(c.Op, v, c.Value)
	case FieldCustom:
		return "that matches the add-on search term " + q(c.Header) + " (" + string(c.Op) + " " + v + ")"
	}
	return "whose " + fieldNoun(c) + " " + opPhrase(c.Op, v, c.Value)
}

// appleOtherPhrases describe Apple Mail criteria without a Thunderbird
// counterpart.
var appleOtherPhrases = map[string]string{
	"AnyRecipientIncludesFullName": "that names you among its recipients",
	"NoRecipientIncludesFullName":  "that does not name you among its recipients",
	"SenderIsInAddressHistory":     "whose sender is among your previous recipients",
	"SenderIsNotInAddressHistory":  "whose sender is not among your previous recipients",
	"SenderIsMemberOfVIPSenders":   "whose sender is a VIP",
	"SenderIsVIP":                  "whose sender is a VIP",
	"IsDigitallySigned":            "that is digitally signed",
	"IsEncrypted":                  "that is encrypted",
}

func appleAttachmentType(v string) string {
	types := map[string]string{"1": "application", "2": "archive", "3": "document", "4": "executable",
		"5": "image", "6": "movie", "7": "music", "8": "PDF", "9": "presentation", "10": "text"}
	if t, ok := types[v]; ok {
		return t
	}
	return q(v)
}

// accountName turns an account URL ("imap://alice%40example.com@host/")
// into "alice@example.com@host".
func accountName(v string) string {
	if f, err := ParseFolderURI(v); err == nil && f.Host != "" {
		if f.User != "" {
			return f.User + "@" + f.Host
		}
		return f.Host
	}
	return v
}

func statusWord(v string) string {
	switch strings.ToLower(v) {
	case "replied":
		return "replied to"
	case "new", "read", "forwarded", "flagged", "redirected":
		return strings.ToLower(v)
	}
	return q(v)
}

func fieldNoun(c Condition) string {
	switch c.Field {
	case FieldSubject:
		return "subject"
	case FieldFrom:
		return "sender"
	case FieldTo:
		return "To address"
	case FieldCC:
		return "Cc address"
	case FieldToOrCC:
		return "To or Cc address"
	case FieldAllAddresses:
		return "sender or any recipient"
	case FieldBody:
		return "body"
	case FieldDate:
		return "date"
	case FieldPriority:
		return "priority"
	case FieldJunkPercent:
		return "junk score"
	case FieldJunkOrigin:
		return "junk score origin"
	case FieldAnyText:
		return "text (headers or body)"
	case FieldHeader:
		return q(c.Header) + " header"
	}
	return q(string(c.Field))
}

// opPhrase says "contains 'x'" and the like. v is the quoted (or unit-bearing)
// value, raw the value as written.
func opPhrase(op Op, v, raw string) string {
	switch op {
	case OpContains:
		return "contains " + v
	case OpDoesntContain:
		return "does not contain " + v
	case OpIs:
		return "is " + v
	case OpIsnt:
		return "is not " + v
	case OpIsEmpty:
		return "is empty"
	case OpIsntEmpty:
		return "is not empty"
	case OpIsBefore:
		return "is before " + raw
	case OpIsAfter:
		return "is after " + raw
	case OpIsHigherThan:
		return "is higher than " + raw
	case OpIsLowerThan:
		return "is lower than " + raw
	case OpBeginsWith:
		return "begins with " + v
	case OpEndsWith:
		return "ends with " + v
	case OpIsInAB:
		return "is in the address book " + q(addressBook(raw))
	case OpIsntInAB:
		return "is not in the address book " + q(addressBook(raw))
	case OpIsGreaterThan:
		return "is greater than " + v
	case OpIsLessThan:
		return "is less than " + v
	case OpMatches:
		return "matches the regular expression " + v
	case OpDoesntMatch:
		return "does not match the regular expression " + v
	}
	return string(op) + " " + v
}

// addressBook names Thunderbird's address books by their URI.
func addressBook(uri string) string {
	switch {
	case strings.HasSuffix(uri, "abook.sqlite"), strings.HasSuffix(uri, "abook.mab"):
		return "Personal Address Book"
	case strings.HasSuffix(uri, "history.sqlite"), strings.HasSuffix(uri, "history.mab"):
		return "Collected Addresses"
	case uri == "":
		return "your address book"
	}
	return uri
}

// DescribeAction says what one action does: "move it to 'Archive'".
func DescribeAction(a Action, w Words) string {
	switch a.Kind {
	case ActMove:
		return "move it to " + q(w.FolderName(a.Folder))
	case ActCopy:
		return "copy it to " + q(w.FolderName(a.Folder))
	case ActPriority:
		return "set its priority to " + a.Value
	case ActDelete:
		return "delete it"
	case ActMarkRead:
		return "mark it read"
	case ActMarkUnread:
		return "mark it unread"
	case ActMarkFlagged:
		if a.Value != "" {
			return "flag it (" + a.Value + ")"
		}
		return "mark it flagged"
	case ActIgnoreThread:
		return "ignore its thread"
	case ActIgnoreSub:
		return "ignore its subthread"
	case ActWatchThread:
		return "watch its thread"
	case ActReply:
		if a.Folder != nil && a.Folder.Query["subject"] != "" {
			return "reply with the template " + q(a.Folder.Query["subject"])
		}
		if a.Folder == nil && a.Value != "" {
			return "reply with the text " + q(clip(oneLine(a.Value), 60))
		}
		return "reply with a template"
	case ActForward:
		return "forward it to " + a.Value
	case ActRedirect:
		return "redirect it to " + a.Value
	case ActStop:
		return "stop applying further filters"
	case ActPOPDelete:
		return "delete it from the POP3 server"
	case ActPOPLeave:
		return "leave it on the POP3 server"
	case ActPOPFetchBody:
		return "download its whole body from the POP3 server"
	case ActJunkScore:
		switch a.Value {
		case "100":
			return "mark it as junk"
		case "0":
			return "mark it as not junk"
		}
		return "set its junk score to " + a.Value
	case ActAddTag:
		return "tag it " + q(w.tag(a.Value))
	case ActLabel:
		return "give it the label " + a.Value
	case ActCustom:
		s := "run the add-on action " + q(a.CustomID)
		if a.Value != "" {
			s += " with " + q(a.Value)
		}
		return s
	case ActAppleScript:
		return "run the AppleScript " + q(a.Value)
	case ActNotify:
		if a.Value != "" {
			return "notify you with the sound " + q(a.Value)
		}
		return "notify you"
	case ActColor:
		return "highlight it in colour"
	}
	return "do " + q(string(a.Kind)) + " (an action this program does not know)"
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// joinAnd joins "a", "b", "c" as "a, b and c".
func joinAnd(s []string) string {
	switch len(s) {
	case 0:
		return ""
	case 1:
		return s[0]
	}
	return strings.Join(s[:len(s)-1], ", ") + " and " + s[len(s)-1]
}

// uiCondition writes a condition as Thunderbird's filter editor shows it,
// for step-by-step instructions: "From | contains | billing@".
func uiCondition(c Condition, w Words) string {
	field := map[Field]string{
		FieldSubject: "Subject", FieldFrom: "From", FieldTo: "To", FieldCC: "Cc",
		FieldToOrCC: "To or Cc", FieldAllAddresses: "From, To, Cc, or Bcc", FieldBody: "Body",
		FieldDate: "Date", FieldPriority: "Priority", FieldStatus: "Status", FieldAge: "Age in Days",
		FieldTag: "Tags", FieldSize: "Size (KB)", FieldJunkStatus: "Junk Status",
		FieldJunkPercent: "Junk Percent", FieldJunkOrigin: "Junk Score Origin",
		FieldAttachment: "Attachment Status", FieldAnyText: "Any Text", FieldAddressBook: "From",
		FieldAccount: "Account",
	}[c.Field]
	switch c.Field {
	case FieldHeader:
		field = c.Header + " (add it with Customize…)"
	case FieldCustom:
		field = "the add-on term " + c.Header
	case FieldOther:
		field = c.Header
	}
	value := c.Value
	switch c.Field {
	case FieldTag:
		value = w.tag(c.Value)
	case FieldJunkStatus:
		if v, ok := map[string]string{"2": "Junk", "1": "Not Junk", "junk": "Junk"}[c.Value]; ok {
			value = v
		}
	case FieldAddressBook:
		value = addressBook(c.Value)
	}
	if c.Op == OpIsEmpty || c.Op == OpIsntEmpty {
		value = ""
	}
	s := field + " › " + string(c.Op)
	if value != "" {
		s += " › " + q(value)
	}
	return s
}

// uiAction writes an action as a mail program's filter editor shows it.
func uiAction(a Action, w Words) string {
	switch a.Kind {
	case ActMove:
		return "Move Message to › " + q(w.FolderName(a.Folder))
	case ActCopy:
		return "Copy Message to › " + q(w.FolderName(a.Folder))
	case ActPriority:
		return "Set Priority to › " + a.Value
	case ActDelete:
		return "Delete Message"
	case ActMarkRead:
		return "Mark As Read"
	case ActMarkUnread:
		return "Mark As Unread"
	case ActMarkFlagged:
		return "Add Star (flag)"
	case ActAddTag:
		return "Tag Message › " + q(w.tag(a.Value))
	case ActForward:
		return "Forward Message to › " + a.Value
	case ActRedirect:
		return "Redirect Message to › " + a.Value
	case ActReply:
		if a.Folder != nil && a.Folder.Query["subject"] != "" {
			return "Reply with Template › " + q(a.Folder.Query["subject"])
		}
		return "Reply with Template (pick the template again)"
	case ActStop:
		return "Stop Filter Execution"
	case ActJunkScore:
		return "Set Junk Status to › " + map[string]string{"100": "Junk", "0": "Not Junk"}[a.Value]
	case ActIgnoreThread:
		return "Ignore Thread"
	case ActIgnoreSub:
		return "Ignore Subthread"
	case ActWatchThread:
		return "Watch Thread"
	}
	return fmt.Sprintf("%s (%s)", DescribeAction(a, w), a.Kind)
}
