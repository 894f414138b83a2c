package filters

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// maxPlistFile bounds what ReadAppleMail reads.
const maxPlistFile = 32 << 20

// ReadAppleMail reads Apple Mail's rules from SyncedRules.plist (found in
// ~/Library/Mail/V<N>/MailData/). When RulesActiveState.plist sits next to
// it, it says which rules are switched on; UnsyncedRules.plist, if
// present, is read too. path may also be the MailData directory.
//
// Apple does not document these files. The keys read are those seen in
// files written by Mail (see ParseAppleRules); unknown keys are ignored and
// unknown criteria are kept and reported.
func ReadAppleMail(ctx context.Context, path string) (*Set, error) {
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		path = filepath.Join(path, "SyncedRules.plist")
	}
	data, err := readLimited(path)
	if err != nil {
		return nil, err
	}
	set := &Set{Client: AppleMail, Source: path}
	dir := filepath.Dir(path)
	var active map[string]bool
	if b, err := readLimited(filepath.Join(dir, "RulesActiveState.plist")); err == nil {
		active, err = parseActiveState(b)
		if err != nil {
			set.Problems = append(set.Problems, "RulesActiveState.plist: "+err.Error())
		}
	} else if errors.Is(err, fs.ErrNotExist) {
		set.Problems = append(set.Problems, "RulesActiveState.plist was not found next to "+filepath.Base(path)+": rules are shown as switched on unless the file says otherwise")
	}
	acct := Account{Key: "apple-mail", Name: "Apple Mail rules", FilterFile: path}
	rules, problems, err := ParseAppleRules(data, active)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	acct.Rules, acct.Problems = rules, problems
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if b, err := readLimited(filepath.Join(dir, "UnsyncedRules.plist")); err == nil && filepath.Base(path) != "UnsyncedRules.plist" {
		rules, problems, err := ParseAppleRules(b, active)
		if err != nil {
			acct.Problems = append(acct.Problems, "UnsyncedRules.plist: "+err.Error())
		}
		acct.Rules = append(acct.Rules, rules...)
		acct.Problems = append(acct.Problems, problems...)
	}
	set.Accounts = []Account{acct}
	for _, r := range acct.Rules {
		for _, a := range r.Actions {
			if a.Kind == ActReply {
				set.AutoReplies = append(set.AutoReplies, AutoReply{Account: acct.Name, Rule: r.Name, Text: a.Value})
			}
		}
	}
	return set, nil
}

func readLimited(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if st.Size() > maxPlistFile {
		return nil, fmt.Errorf("%s: larger than %d MB, not a rules file", path, maxPlistFile>>20)
	}
	return os.ReadFile(path)
}

// parseActiveState reads RulesActiveState.plist: a dict from RuleId to a
// boolean.
func parseActiveState(data []byte) (map[string]bool, error) {
	v, err := parsePlist(data)
	if err != nil {
		return nil, err
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, errors.New("not a dictionary")
	}
	out := map[string]bool{}
	for k, v := range m {
		out[k] = plistBool(v)
	}
	return out, nil
}

// plistBool reads a boolean that Mail may write as <true/>, as
// <string>YES</string> (older versions) or as an integer.
func plistBool(v any) bool {
	switch t := v.(type) {
	case bool:
		return t
	case string:
		switch strings.ToLower(strings.TrimSpace(t)) {
		case "yes", "true", "1":
			return true
		}
	case int64:
		return t != 0
	}
	return false
}

func plistString(v any) string {
	switch t := v.(type) {
	case string:
		return t
	case int64:
		return strconv.FormatInt(t, 10)
	case float64:
		return strconv.FormatFloat(t, 'f', -1, 64)
	}
	return ""
}

func plistInt(v any) (int64, bool) {
	switch t := v.(type) {
	case int64:
		return t, true
	case string:
		n, err := strconv.ParseInt(strings.TrimSpace(t), 10, 64)
		return n, err == nil
	}
	return 0, false
}

// plistStrings reads an array of strings, or one string.
func plistStrings(v any) []string {
	switch t := v.(type) {
	case string:
		if t != "" {
			return []string{t}
		}
	case []any:
		var out []string
		for _, e := range t {
			if s := plistString(e); s != "" {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

// appleHeaders maps Apple Mail criterion headers to fields. Keys seen in
// files written by Mail; those marked "guess" are inferred from Mail's
// rule editor.
var appleHeaders = map[string]Field{
	"From":                         FieldFrom,
	"To":                           FieldTo,
	"Cc":                           FieldCC,
	"Subject":                      FieldSubject,
	"Body":                         FieldBody,
	"AnyRecipient":                 FieldToOrCC,
	"Account":                      FieldAccount,
	"SenderIsInAddressBook":        FieldAddressBook,
	"SenderIsNotInAddressBook":     FieldAddressBook,
	"SenderIsMemberOfGroup":        FieldAddressBook,
	"SenderIsNotMemberOfGroup":     FieldAddressBook,
	"IsJunkMail":                   FieldJunkStatus,
	"DateSent":                     FieldAge,
	"DateReceived":                 FieldAge,
	"PriorityIsHigh":               FieldPriority,
	"PriorityIsNormal":             FieldPriority,
	"PriorityIsLow":                FieldPriority,
	"AttachmentType":               FieldAttachment,
	"AnyAttachment":                FieldAttachment,
	"AnyRecipientIncludesFullName": FieldOther,
	"NoRecipientIncludesFullName":  FieldOther,
	"SenderIsInAddressHistory":     FieldOther, // guess
	"SenderIsNotInAddressHistory":  FieldOther,
	"SenderIsMemberOfVIPSenders":   FieldOther,
	"SenderIsVIP":                  FieldOther, // guess
	"IsDigitallySigned":            FieldOther,
	"IsEncrypted":                  FieldOther,
	"FullName":                     FieldOther, // guess
}

// appleQualifiers maps criterion qualifiers to operators.
var appleQualifiers = map[string]Op{
	"Contains":       OpContains,
	"DoesNotContain": OpDoesntContain,
	"BeginsWith":     OpBeginsWith,
	"EndsWith":       OpEndsWith,
	"IsEqualTo":      OpIs,
	"Equals":         OpIs,
	"IsNotEqualTo":   OpIsnt,
	"IsLessThan":     OpIsLessThan,
	"IsGreaterThan":  OpIsGreaterThan,
}

// ParseAppleRules decodes the rules of a SyncedRules.plist (XML or binary):
// an array of dicts with RuleName, RuleId, AllCriteriaMustBeSatisfied,
// Criteria (Header, Qualifier, Expression) and the actions
// ShouldTransferMessage + MailboxURL, ShouldCopyMessage + CopyToMailboxURL,
// MarkRead, MarkFlagged (+ FlagColor), Deletes, StopEvaluatingRules,
// AutoResponseType (1 forward, 2 reply, 3 redirect) with ForwardRecipients,
// RedirectRecipients and ResponseMessage, AppleScript, NotifyUser,
// SendNotification, SoundName, HighlightTextUsingColor + Color.
//
// A rule is on when active[RuleId] is, else when its own "Active" key is
// (a guess: Mail keeps the state in RulesActiveState.plist), else on.
// Problems in single rules are returned as strings; the error is non-nil
// only when the file is not a property list of rules.
func ParseAppleRules(data []byte, active map[string]bool) ([]Rule, []string, error) {
	v, err := parsePlist(data)
	if err != nil {
		return nil, nil, err
	}
	list, ok := v.([]any)
	if !ok {
		return nil, nil, errors.New("not a list of rules")
	}
	var rules []Rule
	var problems []string
	for i, e := range list {
		d, ok := e.(map[string]any)
		if !ok {
			problems = append(problems, fmt.Sprintf("rule %d is not a dictionary; skipped", i+1))
			continue
		}
		r := appleRule(d, active)
		if r.Name == "" {
			r.Name = fmt.Sprintf("Rule %d", i+1)
		}
		for _, p := range r.Problems {
			problems = append(problems, fmt.Sprintf("rule %q: %s", r.Name, p))
		}
		rules = append(rules, r)
	}
	return rules, problems, nil
}

func appleRule(d map[string]any, active map[string]bool) Rule {
	r := Rule{
		Name:    plistString(d["RuleName"]),
		When:    NewMail | Manual,
		Enabled: true,
	}
	id := plistString(d["RuleId"])
	if v, ok := d["Active"]; ok {
		r.Enabled = plistBool(v)
	}
	if on, ok := active[id]; ok && id != "" {
		r.Enabled = on
	}
	all := plistBool(d["AllCriteriaMustBeSatisfied"])
	crit, _ := d["Criteria"].([]any)
	every := false
	if len(crit) == 0 {
		r.Incomplete = true
		r.Problems = append(r.Problems, "no criteria")
	}
	for _, c := range crit {
		cd, ok := c.(map[string]any)
		if !ok {
			r.Incomplete = true
			r.Problems = append(r.Problems, "a criterion is not a dictionary")
			continue
		}
		cond, isEvery, problems := appleCriterion(cd)
		r.Problems = append(r.Problems, problems...)
		if isEvery {
			every = true
			continue
		}
		cond.Or = !all
		r.Conditions = append(r.Conditions, cond)
	}
	switch {
	case every && (len(r.Conditions) == 0 || !all):
		r.Match, r.Conditions = MatchEvery, nil
	case all || len(r.Conditions) < 2:
		r.Match = MatchAll
	default:
		r.Match = MatchAny
	}
	if len(r.Conditions) > 0 {
		r.Conditions[0].Or = false
	}
	r.Actions = appleActions(d, &r)
	return r
}

// appleCriterion decodes one criterion. isEvery marks "Every Message".
func appleCriterion(c map[string]any) (cond Condition, isEvery bool, problems []string) {
	h := plistString(c["Header"])
	expr := plistString(c["Expression"])
	qual := plistString(c["Qualifier"])
	if h == "AnyMessage" {
		return cond, true, nil
	}
	op, ok := appleQualifiers[qual]
	if !ok {
		op = OpContains
		if qual != "" {
			problems = append(problems, fmt.Sprintf("unknown qualifier %q, read as Contains", qual))
		}
	}
	cond.Op, cond.Value = op, expr
	f, known := appleHeaders[h]
	switch {
	case known:
		cond.Field = f
	case isHeaderName(h):
		// Mail's "Edit Header List…" adds criteria named by the header.
		cond.Field, cond.Header = FieldHeader, h
		return cond, false, problems
	default:
		cond.Field, cond.Header = FieldOther, h
		return cond, false, append(problems, fmt.Sprintf("unknown criterion %q", h))
	}
	switch h {
	case "SenderIsInAddressBook":
		cond.Op, cond.Value = OpIsInAB, ""
	case "SenderIsNotInAddressBook":
		cond.Op, cond.Value = OpIsntInAB, ""
	case "SenderIsMemberOfGroup":
		cond.Op = OpIsInAB
		if g := plistString(c["GroupName"]); g != "" {
			cond.Value = g
		}
	case "SenderIsNotMemberOfGroup":
		cond.Op = OpIsntInAB
		if g := plistString(c["GroupName"]); g != "" {
			cond.Value = g
		}
	case "IsJunkMail":
		cond.Op, cond.Value = OpIs, "junk"
	case "PriorityIsHigh", "PriorityIsNormal", "PriorityIsLow":
		cond.Op, cond.Value = OpIs, strings.TrimPrefix(h, "PriorityIs")
	case "DateSent", "DateReceived":
		// Relative dates in days (DateIsRelative, DateUnitType 0).
		cond.Header = h
	case "AnyRecipientIncludesFullName", "NoRecipientIncludesFullName", "SenderIsInAddressHistory",
		"SenderIsNotInAddressHistory", "SenderIsMemberOfVIPSenders", "SenderIsVIP", "IsDigitallySigned",
		"IsEncrypted", "FullName", "AnyAttachment", "AttachmentType":
		cond.Header = h
	}
	return cond, false, problems
}

// appleActions lists a rule's actions in the order Mail shows them.
func appleActions(d map[string]any, r *Rule) []Action {
	var out []Action
	if plistBool(d["MarkRead"]) {
		out = append(out, Action{Kind: ActMarkRead})
	}
	if plistBool(d["MarkFlagged"]) {
		a := Action{Kind: ActMarkFlagged}
		if n, ok := plistInt(d["FlagColor"]); ok {
			a.Value = appleFlagColor(n)
		}
		out = append(out, a)
	}
	if _, ok := d["Color"]; ok && d["HighlightTextUsingColor"] != nil {
		out = append(out, Action{Kind: ActColor, Value: plistString(d["Color"])})
	}
	if plistBool(d["ShouldCopyMessage"]) {
		out = append(out, appleFolderAction(ActCopy, plistString(d["CopyToMailboxURL"]), r))
	}
	if plistBool(d["ShouldTransferMessage"]) {
		out = append(out, appleFolderAction(ActMove, plistString(d["MailboxURL"]), r))
	}
	resp := plistString(d["ResponseMessage"])
	if n, ok := plistInt(d["AutoResponseType"]); ok && n != 0 {
		switch n {
		case 1:
			to := append(plistStrings(d["ForwardRecipients"]), plistStrings(d["ForwardRecipient"])...)
			out = append(out, Action{Kind: ActForward, Value: strings.Join(to, ", ")})
		case 2:
			out = append(out, Action{Kind: ActReply, Value: resp})
		case 3:
			out = append(out, Action{Kind: ActRedirect, Value: strings.Join(plistStrings(d["RedirectRecipients"]), ", ")})
		default:
			out = append(out, Action{Kind: ActionKind(fmt.Sprintf("AutoResponseType %d", n)), Unknown: true})
			r.Problems = append(r.Problems, fmt.Sprintf("unknown AutoResponseType %d", n))
		}
	}
	if plistBool(d["Deletes"]) {
		out = append(out, Action{Kind: ActDelete})
	}
	if s := plistString(d["AppleScript"]); s != "" {
		out = append(out, Action{Kind: ActAppleScript, Value: s})
	}
	if plistBool(d["NotifyUser"]) || plistBool(d["SendNotification"]) || plistString(d["SoundName"]) != "" {
		out = append(out, Action{Kind: ActNotify, Value: plistString(d["SoundName"])})
	}
	if plistBool(d["StopEvaluatingRules"]) {
		out = append(out, Action{Kind: ActStop})
	}
	return out
}

func appleFolderAction(kind ActionKind, url string, r *Rule) Action {
	a := Action{Kind: kind, Value: url}
	if url == "" {
		r.Problems = append(r.Problems, fmt.Sprintf("%s without a mailbox", kind))
		return a
	}
	f, err := ParseFolderURI(url)
	if err != nil {
		// A bare path ("Archive/2024").
		f = &Folder{URI: url, Path: strings.FieldsFunc(url, func(r rune) bool { return r == '/' })}
	}
	// Mailboxes "On My Mac" are directories named "Name.mbox".
	if i := indexOf(f.Path, "Mailboxes"); i >= 0 {
		f.Path = f.Path[i+1:]
	}
	for i, s := range f.Path {
		f.Path[i] = strings.TrimSuffix(s, ".mbox")
	}
	a.Folder = f
	return a
}

func indexOf(s []string, v string) int {
	for i, e := range s {
		if e == v {
			return i
		}
	}
	return -1
}

// appleFlagColor names Mail's flag colours (FlagColor 0 to 6).
func appleFlagColor(n int64) string {
	colors := [...]string{"red", "orange", "yellow", "green", "blue", "purple", "grey"}
	if n >= 0 && int(n) < len(colors) {
		return colors[n]
	}
	return ""
}
