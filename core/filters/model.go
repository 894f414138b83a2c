// Package filters reads what a mail client does to mail on its own: the
// message filters (rules) of Thunderbird (msgFilterRules.dat) and Apple Mail
// (SyncedRules.plist), and Thunderbird's identities and signatures (prefs.js).
// None of this travels with an IMAP migration. The package describes every
// rule in plain language and writes "filter notes" (Markdown and a printable
// HTML page) saying, for each rule, whether it was carried to the new server
// as Sieve (see package mailmover/core/sieve) or how to recreate it by hand.
package filters

import "strings"

// When is the bitmask of moments a Thunderbird filter runs
// (nsMsgFilterType in nsMsgFilterCore.idl).
type When uint32

// Thunderbird filter types. A filter may run at several moments; the
// common type 17 is NewMail|Manual.
const (
	NewMail        When = 0x1   // InboxRule: new mail arrives
	NewMailJS      When = 0x2   // InboxJavaScript (unused)
	News           When = 0x4   // NewsRule
	NewsJS         When = 0x8   // NewsJavaScript (unused)
	Manual         When = 0x10  // run by hand (Run Now, Run Filters on Folder)
	AfterJunk      When = 0x20  // PostPlugin: new mail, after junk classification
	AfterSending   When = 0x40  // PostOutgoing: after a message is sent
	Archiving      When = 0x80  // Archive: when a message is archived
	Periodically   When = 0x100 // Periodic: every few minutes
	whenKnownBits  When = 0x1FF
	serverWhenBits      = NewMail | AfterJunk
)

// OnNewMail reports whether the rule acts on incoming mail, the only moment a
// server-side (Sieve) filter can take over.
func (w When) OnNewMail() bool { return w&serverWhenBits != 0 }

// Moments lists the moments in plain English, in a fixed order.
func (w When) Moments() []string {
	var out []string
	add := func(bit When, s string) {
		if w&bit != 0 {
			out = append(out, s)
		}
	}
	add(NewMail, "when new mail arrives")
	add(AfterJunk, "when new mail arrives, after junk classification")
	add(News, "on new newsgroup messages")
	add(Manual, "when run by hand")
	add(AfterSending, "after sending")
	add(Archiving, "when archiving")
	add(Periodically, "periodically")
	if w&^whenKnownBits != 0 || w&(NewMailJS|NewsJS) != 0 {
		out = append(out, "at other moments")
	}
	return out
}

// Match says how a rule combines its conditions.
type Match int

const (
	// MatchAll requires every condition (Thunderbird "AND", Apple Mail
	// AllCriteriaMustBeSatisfied).
	MatchAll Match = iota
	// MatchAny requires one condition (Thunderbird "OR").
	MatchAny
	// MatchEvery matches every message (Thunderbird condition "ALL").
	MatchEvery
	// MatchMixed is a Thunderbird chain mixing AND and OR terms, evaluated
	// left to right.
	MatchMixed
)

// Field is what a condition looks at. The values are the attribute names
// Thunderbird writes (nsMsgSearchTerm.cpp), plus FieldHeader and FieldCustom.
type Field string

// Condition fields.
const (
	FieldSubject      Field = "subject"
	FieldFrom         Field = "from"
	FieldBody         Field = "body"
	FieldDate         Field = "date"
	FieldPriority     Field = "priority"
	FieldStatus       Field = "status"
	FieldTo           Field = "to"
	FieldCC           Field = "cc"
	FieldToOrCC       Field = "to or cc"
	FieldAllAddresses Field = "all addresses"
	FieldAge          Field = "age in days"
	FieldTag          Field = "tag"
	FieldSize         Field = "size"
	FieldJunkStatus   Field = "junk status"
	FieldJunkPercent  Field = "junk percent"
	FieldJunkOrigin   Field = "junk score origin"
	FieldAttachment   Field = "has attachment status"
	FieldLabel        Field = "label" // before Thunderbird 2; a tag today
	FieldAnyText      Field = "any text"
	FieldAddressBook  Field = "address book" // Apple Mail: sender in contacts
	FieldAccount      Field = "account"      // Apple Mail: the receiving account
	FieldHeader       Field = "header"       // a named header: Condition.Header
	FieldCustom       Field = "custom"       // an add-on's term: Condition.Header holds its id
	FieldOther        Field = "other"        // something else: Condition.Header describes it
)

// knownFields are the attribute names Thunderbird writes.
var knownFields = map[string]Field{
	"subject": FieldSubject, "from": FieldFrom, "body": FieldBody, "date": FieldDate,
	"priority": FieldPriority, "status": FieldStatus, "to": FieldTo, "cc": FieldCC,
	"to or cc": FieldToOrCC, "all addresses": FieldAllAddresses, "age in days": FieldAge,
	"tag": FieldTag, "size": FieldSize, "junk status": FieldJunkStatus,
	"junk percent": FieldJunkPercent, "junk score origin": FieldJunkOrigin,
	"has attachment status": FieldAttachment, "label": FieldLabel, "any text": FieldAnyText,
}

// IsAddress reports whether the field holds addresses (From, To, Cc...).
func (f Field) IsAddress() bool {
	switch f {
	case FieldFrom, FieldTo, FieldCC, FieldToOrCC, FieldAllAddresses:
		return true
	}
	return false
}

// Op is a condition's operator; the values are those Thunderbird writes.
type Op string

// Condition operators (nsMsgSearchAdapter.cpp, SearchOperatorEntryTable).
const (
	OpContains      Op = "contains"
	OpDoesntContain Op = "doesn't contain"
	OpIs            Op = "is"
	OpIsnt          Op = "isn't"
	OpIsEmpty       Op = "is empty"
	OpIsntEmpty     Op = "isn't empty"
	OpIsBefore      Op = "is before"
	OpIsAfter       Op = "is after"
	OpIsHigherThan  Op = "is higher than"
	OpIsLowerThan   Op = "is lower than"
	OpBeginsWith    Op = "begins with"
	OpEndsWith      Op = "ends with"
	OpIsInAB        Op = "is in ab"
	OpIsntInAB      Op = "isn't in ab"
	OpIsGreaterThan Op = "is greater than"
	OpIsLessThan    Op = "is less than"
	OpMatches       Op = "matches"
	OpDoesntMatch   Op = "doesn't match"
)

// knownOps are the operators Thunderbird writes.
var knownOps = map[string]Op{
	"contains": OpContains, "doesn't contain": OpDoesntContain, "is": OpIs, "isn't": OpIsnt,
	"is empty": OpIsEmpty, "isn't empty": OpIsntEmpty, "is before": OpIsBefore,
	"is after": OpIsAfter, "is higher than": OpIsHigherThan, "is lower than": OpIsLowerThan,
	"begins with": OpBeginsWith, "ends with": OpEndsWith, "is in ab": OpIsInAB,
	"isn't in ab": OpIsntInAB, "is greater than": OpIsGreaterThan, "is less than": OpIsLessThan,
	"matches": OpMatches, "doesn't match": OpDoesntMatch,
}

// Negated reports whether the operator is the negation of another one, and
// which: "doesn't contain" is not "contains".
func (o Op) Negated() (Op, bool) {
	switch o {
	case OpDoesntContain:
		return OpContains, true
	case OpIsnt:
		return OpIs, true
	case OpIsntEmpty:
		return OpIsEmpty, true
	case OpIsntInAB:
		return OpIsInAB, true
	case OpDoesntMatch:
		return OpMatches, true
	}
	return o, false
}

// Condition is one term of a rule: Field Op Value.
type Condition struct {
	Field Field `json:"field"`
	// Header is the header name for FieldHeader ("List-Id"), the add-on id
	// for FieldCustom, or the client's own name for FieldOther.
	Header string `json:"header,omitempty"`
	Op     Op     `json:"op"`
	Value  string `json:"value,omitempty"`
	// Or is set when the term joins the previous one with OR (Thunderbird
	// writes the operator before every term; the first one's is moot).
	Or bool `json:"or,omitempty"`
}

// ActionKind is what a rule does. The values are Thunderbird's action names
// (nsMsgFilter.cpp, ruleActionsTable).
type ActionKind string

// Actions.
const (
	ActMove         ActionKind = "Move to folder"
	ActCopy         ActionKind = "Copy to folder"
	ActPriority     ActionKind = "Change priority"
	ActDelete       ActionKind = "Delete"
	ActMarkRead     ActionKind = "Mark read"
	ActIgnoreThread ActionKind = "Ignore thread"
	ActIgnoreSub    ActionKind = "Ignore subthread"
	ActWatchThread  ActionKind = "Watch thread"
	ActMarkFlagged  ActionKind = "Mark flagged"
	ActReply        ActionKind = "Reply"
	ActForward      ActionKind = "Forward"
	ActStop         ActionKind = "Stop execution"
	ActPOPDelete    ActionKind = "Delete from Pop3 server"
	ActPOPLeave     ActionKind = "Leave on Pop3 server"
	ActJunkScore    ActionKind = "JunkScore"
	ActPOPFetchBody ActionKind = "Fetch body from Pop3Server"
	ActAddTag       ActionKind = "AddTag"
	ActMarkUnread   ActionKind = "Mark unread"
	ActCustom       ActionKind = "Custom"
	ActLabel        ActionKind = "Label" // before Thunderbird 2: AddTag $labelN

	// Apple Mail actions with no Thunderbird counterpart.
	ActRedirect    ActionKind = "Redirect"    // forward unchanged (Sieve redirect)
	ActAppleScript ActionKind = "AppleScript" // run an AppleScript
	ActNotify      ActionKind = "Notify"      // play a sound, bounce the icon, send a notification
	ActColor       ActionKind = "Color"       // highlight in a colour
)

// knownActions are the action names Thunderbird writes.
var knownActions = map[string]ActionKind{
	"Move to folder": ActMove, "Copy to folder": ActCopy, "Change priority": ActPriority,
	"Delete": ActDelete, "Mark read": ActMarkRead, "Ignore thread": ActIgnoreThread,
	"Ignore subthread": ActIgnoreSub, "Watch thread": ActWatchThread,
	"Mark flagged": ActMarkFlagged, "Reply": ActReply, "Forward": ActForward,
	"Stop execution": ActStop, "Delete from Pop3 server": ActPOPDelete,
	"Leave on Pop3 server": ActPOPLeave, "JunkScore": ActJunkScore,
	"Fetch body from Pop3Server": ActPOPFetchBody, "AddTag": ActAddTag,
	"Mark unread": ActMarkUnread, "Custom": ActCustom, "Label": ActLabel,
}

// Action is one thing a rule does.
type Action struct {
	Kind ActionKind `json:"kind"`
	// Value is the action's argument as written: a folder URI, an address, a
	// priority, a tag key, a junk score, a template URI.
	Value string `json:"value,omitempty"`
	// Folder is the decoded target of Move, Copy, and the template's folder
	// for Reply.
	Folder *Folder `json:"folder,omitempty"`
	// CustomID names the add-on action of a Custom action.
	CustomID string `json:"customId,omitempty"`
	// Unknown is set for an action name the reader does not know; Kind then
	// holds the name as written.
	Unknown bool `json:"unknown,omitempty"`
}

// Folder is a mail folder named by a client's URI.
type Folder struct {
	// URI is the value as written, e.g.
	// "imap://alice%40example.com@imap.example.com/INBOX/Re%C3%A7us".
	URI string `json:"uri"`
	// Scheme is "imap", "mailbox" (local folders, POP), "ews", ...
	Scheme string `json:"scheme"`
	// User and Host are the account part of the URI (percent-decoded).
	User string `json:"user,omitempty"`
	Host string `json:"host,omitempty"`
	// Path is the folder's hierarchy, decoded to UTF-8:
	// ["INBOX", "Reçus & Factures"].
	Path []string `json:"path"`
	// Query holds the decoded query of a template URI (messageId, subject).
	Query map[string]string `json:"query,omitempty"`
}

// Name is the folder's path joined with "/".
func (f *Folder) Name() string {
	if f == nil {
		return ""
	}
	return strings.Join(f.Path, "/")
}

// Rule is one filter of a mail client.
type Rule struct {
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
	Enabled     bool   `json:"enabled"`
	// When says when the rule runs. Apple Mail rules run on new mail
	// (and by hand: Message › Apply Rules).
	When       When        `json:"when"`
	Match      Match       `json:"match"`
	Conditions []Condition `json:"conditions,omitempty"`
	Actions    []Action    `json:"actions"`
	// Line is where the rule starts in its file (Thunderbird), for messages.
	Line int `json:"line,omitempty"`
	// Incomplete is set when the rule's conditions could not all be read
	// (missing or malformed): acting on what was read could touch other
	// mail, so such a rule is never carried to a server.
	Incomplete bool `json:"incomplete,omitempty"`
	// Problems are what the reader could not understand in this rule; the
	// rule is kept, and they are shown in the notes.
	Problems []string `json:"problems,omitempty"`
}

// Client names the program a rule set comes from.
type Client string

// Clients.
const (
	Thunderbird Client = "Thunderbird"
	AppleMail   Client = "Apple Mail"
)

// Account is the filters (and identities) of one account of a mail client.
type Account struct {
	// Key is a stable identifier ("server2" for Thunderbird, "apple-mail").
	Key string `json:"key"`
	// Name is what the user calls the account ("alice@example.com",
	// "Local Folders").
	Name     string `json:"name"`
	Type     string `json:"type,omitempty"` // imap, pop3, none (Local Folders)
	Host     string `json:"host,omitempty"`
	UserName string `json:"userName,omitempty"`
	// Dir is the account's directory in the profile.
	Dir string `json:"dir,omitempty"`
	// FilterFile is the file the rules were read from, "" if none.
	FilterFile string `json:"filterFile,omitempty"`
	// Logging is Thunderbird's "log filter actions" setting.
	Logging    bool       `json:"logging,omitempty"`
	Rules      []Rule     `json:"rules"`
	Identities []Identity `json:"identities,omitempty"`
	// Problems are errors that concern the whole file (malformed lines,
	// unreadable file); the good rules are still in Rules.
	Problems []string `json:"problems,omitempty"`
}

// Identity is a sender identity of an account (Thunderbird mail.identity.*).
type Identity struct {
	Key          string `json:"key"` // "id1"
	Name         string `json:"name,omitempty"`
	Email        string `json:"email,omitempty"`
	ReplyTo      string `json:"replyTo,omitempty"`
	Organization string `json:"organization,omitempty"`
	// Signature is the signature's text: the inline text, or the content of
	// SignatureFile when the identity uses a file.
	Signature string `json:"signature,omitempty"`
	// SignatureHTML says the signature is HTML.
	SignatureHTML bool `json:"signatureHtml,omitempty"`
	// SignatureFile is the file the identity takes its signature from.
	SignatureFile string `json:"signatureFile,omitempty"`
	// Problem says why the signature file could not be read.
	Problem string `json:"problem,omitempty"`
	Default bool   `json:"default,omitempty"`
}

// AutoReply is an automatic answer a rule sends (Thunderbird "Reply with
// template", Apple Mail "Reply to Message").
type AutoReply struct {
	Account string `json:"account"`
	Rule    string `json:"rule"`
	Subject string `json:"subject,omitempty"`
	// Text is the reply's text, if it could be found.
	Text string `json:"text,omitempty"`
	// Template says where the text lives (a template message's URI).
	Template string `json:"template,omitempty"`
}

// Set is everything read from one mail client.
type Set struct {
	Client Client `json:"client"`
	// Source is the profile directory or file read.
	Source   string    `json:"source"`
	Accounts []Account `json:"accounts"`
	// Tags maps a tag key ("$label1") to its name ("Important").
	Tags        map[string]string `json:"tags,omitempty"`
	AutoReplies []AutoReply       `json:"autoReplies,omitempty"`
	// Problems concern the whole source.
	Problems []string `json:"problems,omitempty"`
}

// RuleCount is the number of rules of all accounts.
func (s *Set) RuleCount() int {
	n := 0
	for _, a := range s.Accounts {
		n += len(a.Rules)
	}
	return n
}

// defaultTags are Thunderbird's built-in tags (mailnews.tags.$labelN).
var defaultTags = map[string]string{
	"$label1": "Important", "$label2": "Work", "$label3": "Personal",
	"$label4": "To Do", "$label5": "Later",
}
