package filters

import (
	"fmt"
	"strings"
	"time"
)

// Fate says what becomes of a rule on the new server.
type Fate int

const (
	// ByHand rules must be recreated by hand in the mail program.
	ByHand Fate = iota
	// OnServer rules were carried to the new server as Sieve (RFC 5228).
	OnServer
	// Partly carried rules are on the server, but some of their parts
	// must be recreated by hand.
	Partly
	// NotNeeded rules have nothing to do on the new server (for example
	// "leave on the POP3 server").
	NotNeeded
)

var fateNames = [...]string{"by-hand", "on-server", "partly", "not-needed"}

// String returns the fate's stable name, used in JSON.
func (f Fate) String() string {
	if int(f) < len(fateNames) {
		return fateNames[f]
	}
	return fmt.Sprintf("fate(%d)", int(f))
}

// MarshalText encodes the fate as its name.
func (f Fate) MarshalText() ([]byte, error) { return []byte(f.String()), nil }

// Outcome is what became of one rule.
type Outcome struct {
	Fate Fate `json:"fate"`
	// Off is set when the rule is in the script but switched off (it was
	// off in the mail program, or could not be carried safely).
	Off bool `json:"off,omitempty"`
	// LeftConditions and LeftActions index the rule's conditions and
	// actions that the server does not do.
	LeftConditions []int `json:"leftConditions,omitempty"`
	LeftActions    []int `json:"leftActions,omitempty"`
	// Notes explain the outcome in plain English.
	Notes []string `json:"notes,omitempty"`
}

// Plan is what the new server does with one account's rules.
type Plan struct {
	// Script is the name of the Sieve script holding the rules.
	Script string
	// Text is the script itself.
	Text string
	// Outcomes has one entry per rule of the account, in order.
	Outcomes []Outcome
}

// NotesOptions tune BuildNotes.
type NotesOptions struct {
	// Title heads the notes; default "Filter notes".
	Title string
	// Words maps folders to the new server's names; its Tags default to
	// the set's.
	Words Words
	// Plan says what the new server does with an account's rules (package
	// mailmover/core/sieve makes them). nil, or a nil Plan, means every
	// rule is to be recreated by hand.
	Plan func(a *Account) *Plan
	// Target names the new server in the text ("imap.example.net").
	Target string
	// Generated is the time printed on the notes; default now.
	Generated time.Time
	// ServerScripts are the Sieve scripts found on the old server, and
	// ServerSource names that server ("alice@imap.example.com").
	ServerScripts []ServerScript
	ServerSource  string
}

// ServerScript is a Sieve script (RFC 5228) kept on the old server and
// read over ManageSieve (RFC 5804 LISTSCRIPTS and GETSCRIPT): filters,
// vacation replies, redirects.
type ServerScript struct {
	Name   string `json:"name"`
	Active bool   `json:"active"`
	Text   string `json:"text"`
	// Summary says in plain language what its vacation and redirect
	// commands do.
	Summary []string `json:"summary,omitempty"`
	// Fate says what became of it on the new server ("installed as
	// \"x\", not active").
	Fate string `json:"fate,omitempty"`
}

// Notes are the filter notes: per account, every rule in plain language
// and what becomes of it, the identities and signatures, the
// auto-replies. Render them with Markdown or HTML.
type Notes struct {
	Title       string         `json:"title"`
	Client      Client         `json:"client"`
	Source      string         `json:"source"`
	Target      string         `json:"target,omitempty"`
	Generated   time.Time      `json:"generated"`
	Count       Counts         `json:"count"`
	Accounts    []AccountNotes `json:"accounts"`
	AutoReplies []AutoReply    `json:"autoReplies,omitempty"`
	Problems    []string       `json:"problems,omitempty"`
	// ServerScripts are the old server's Sieve scripts, from ServerSource.
	ServerScripts []ServerScript `json:"serverScripts,omitempty"`
	ServerSource  string         `json:"serverSource,omitempty"`
}

// Counts sums up the rules by fate.
type Counts struct {
	Rules     int `json:"rules"`
	OnServer  int `json:"onServer"`
	Partly    int `json:"partly"`
	ByHand    int `json:"byHand"`
	NotNeeded int `json:"notNeeded"`
	Disabled  int `json:"disabled"`
}

// AccountNotes are the notes of one account.
type AccountNotes struct {
	Name       string     `json:"name"`
	Server     string     `json:"server,omitempty"`
	FilterFile string     `json:"filterFile,omitempty"`
	Script     string     `json:"script,omitempty"`
	ScriptText string     `json:"scriptText,omitempty"`
	Identities []Identity `json:"identities,omitempty"`
	Rules      []RuleNote `json:"rules"`
	Problems   []string   `json:"problems,omitempty"`
}

// RuleNote is one rule in the notes.
type RuleNote struct {
	Number      int    `json:"number"`
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
	Enabled     bool   `json:"enabled"`
	// Runs says when the rule runs ("when new mail arrives and when run
	// by hand").
	Runs string `json:"runs"`
	// Sentence says what the rule does.
	Sentence string `json:"sentence"`
	Fate     Fate   `json:"fate"`
	// Verdict says in a sentence what happens to the rule.
	Verdict string `json:"verdict"`
	Off     bool   `json:"off,omitempty"`
	// Left describes the parts the server does not do.
	Left []string `json:"left,omitempty"`
	// Notes explain the verdict.
	Notes []string `json:"notes,omitempty"`
	// Steps say how to recreate the rule (or its missing part) by hand.
	Steps    []string `json:"steps,omitempty"`
	Problems []string `json:"problems,omitempty"`
}

// DefaultOutcome is a rule's fate when nothing is carried to the server:
// by hand, unless it only does what the new server needs not do.
func DefaultOutcome(r Rule) Outcome {
	if len(r.Actions) > 0 {
		pop := true
		for _, a := range r.Actions {
			switch a.Kind {
			case ActPOPLeave, ActPOPFetchBody, ActPOPDelete, ActStop:
			default:
				pop = false
			}
		}
		if pop {
			return Outcome{Fate: NotNeeded, Notes: []string{"It only tells Thunderbird what to do on a POP3 server; nothing to do on an IMAP account."}}
		}
	}
	return Outcome{Fate: ByHand}
}

// BuildNotes describes every rule of set and what becomes of it.
func BuildNotes(set *Set, opts NotesOptions) *Notes {
	n := &Notes{
		Title:     opts.Title,
		Client:    set.Client,
		Source:    set.Source,
		Target:    opts.Target,
		Generated: opts.Generated,
		Problems:  set.Problems,
	}
	if n.Title == "" {
		n.Title = "Filter notes"
	}
	if n.Generated.IsZero() {
		n.Generated = time.Now()
	}
	w := opts.Words
	if w.Tags == nil {
		w.Tags = set.Tags
	}
	for i := range set.Accounts {
		a := &set.Accounts[i]
		an := AccountNotes{
			Name:       a.Name,
			Server:     serverLabel(a),
			FilterFile: a.FilterFile,
			Identities: a.Identities,
			Problems:   a.Problems,
		}
		var plan *Plan
		if opts.Plan != nil {
			plan = opts.Plan(a)
		}
		if plan != nil {
			an.Script, an.ScriptText = plan.Script, plan.Text
		}
		for j, r := range a.Rules {
			out := DefaultOutcome(r)
			if plan != nil && j < len(plan.Outcomes) {
				out = plan.Outcomes[j]
			}
			rn := ruleNote(set.Client, r, out, an.Script, w)
			rn.Number = j + 1
			an.Rules = append(an.Rules, rn)
			n.Count.Rules++
			if !r.Enabled {
				n.Count.Disabled++
			}
			switch out.Fate {
			case OnServer:
				n.Count.OnServer++
			case Partly:
				n.Count.Partly++
			case NotNeeded:
				n.Count.NotNeeded++
			default:
				n.Count.ByHand++
			}
		}
		n.Accounts = append(n.Accounts, an)
	}
	n.AutoReplies = set.AutoReplies
	n.ServerScripts, n.ServerSource = opts.ServerScripts, opts.ServerSource
	return n
}

func serverLabel(a *Account) string {
	kind := map[string]string{"imap": "IMAP", "pop3": "POP3", "none": "local folders"}[a.Type]
	switch {
	case a.Host != "" && kind != "" && a.Type != "none":
		return a.Host + " (" + kind + ")"
	case kind != "":
		return kind
	}
	return a.Host
}

func ruleNote(client Client, r Rule, out Outcome, script string, w Words) RuleNote {
	rn := RuleNote{
		Name:        r.Name,
		Description: r.Description,
		Enabled:     r.Enabled,
		Runs:        Runs(r.When),
		Sentence:    Describe(r, w),
		Fate:        out.Fate,
		Off:         out.Off,
		Notes:       out.Notes,
		Problems:    r.Problems,
	}
	for _, i := range out.LeftConditions {
		if i >= 0 && i < len(r.Conditions) {
			rn.Left = append(rn.Left, "the condition “"+DescribeCondition(r.Conditions[i], w)+"”")
		}
	}
	for _, i := range out.LeftActions {
		if i >= 0 && i < len(r.Actions) {
			rn.Left = append(rn.Left, "the action “"+DescribeAction(r.Actions[i], w)+"”")
		}
	}
	where := "the Sieve script"
	if script != "" {
		where = "the Sieve script " + q(script)
	}
	switch out.Fate {
	case OnServer:
		rn.Verdict = "Moved to the new server: " + where + " does it."
		if out.Off {
			rn.Verdict = "Copied to " + where + ", switched off as it was."
		}
	case Partly:
		rn.Verdict = "Partly moved to the new server: " + where + " does the rest; recreate the missing part by hand."
		if out.Off {
			rn.Verdict = "Copied to " + where + " but switched off; recreate it by hand."
		}
		rn.Steps = steps(client, r, out, w)
	case NotNeeded:
		rn.Verdict = "Nothing to do on the new server."
	default:
		rn.Verdict = "To recreate by hand in your mail program."
		rn.Steps = steps(client, r, out, w)
	}
	return rn
}

// steps says how to recreate a rule, or its missing part, by hand.
func steps(client Client, r Rule, out Outcome, w Words) []string {
	conds, acts := r.Conditions, r.Actions
	name := r.Name
	var s []string
	if out.Fate == Partly && !out.Off {
		switch {
		case len(out.LeftActions) > 0 && len(out.LeftConditions) == 0:
			acts = pick(r.Actions, out.LeftActions)
			name += " (rest)"
			s = append(s, "The server already does the rest of this rule; this filter adds what it cannot do.")
		case len(out.LeftConditions) > 0 && len(out.LeftActions) == 0:
			conds = pick(r.Conditions, out.LeftConditions)
			name += " (rest)"
			s = append(s, "The server tests the other conditions; this filter covers the ones it cannot test.")
		}
	}
	switch client {
	case AppleMail:
		s = append(s, "In Mail, choose Mail › Settings › Rules and click Add Rule.")
	default:
		s = append(s, "In Thunderbird, choose Tools › Message Filters, pick the new account under “Filters for”, and click New….")
	}
	s = append(s, "Name it "+q(name)+".")
	if client != AppleMail {
		var ticks []string
		for _, m := range []struct {
			bit  When
			text string
		}{
			{NewMail, "Getting New Mail (before junk classification)"},
			{AfterJunk, "Getting New Mail (after junk classification)"},
			{Manual, "Manually Run"},
			{AfterSending, "After Sending"},
			{Archiving, "Archiving"},
			{Periodically, "Periodically"},
		} {
			if r.When&m.bit != 0 {
				ticks = append(ticks, "“"+m.text+"”")
			}
		}
		if len(ticks) > 0 {
			s = append(s, "Under “Apply filter when”, tick "+joinAnd(ticks)+".")
		}
	}
	match := r.Match
	if len(conds) != len(r.Conditions) && match == MatchAll {
		match = MatchAny
	}
	switch {
	case match == MatchEvery || len(conds) == 0:
		s = append(s, "Choose to match all messages (“Match all messages”, or the condition “Every Message”).")
	case match == MatchAny:
		s = append(s, "Choose “Match any of the following”.")
	case match == MatchMixed:
		s = append(s, "The conditions mix AND and OR, which the filter editor cannot show; split the rule into several filters.")
	default:
		s = append(s, "Choose “Match all of the following”.")
	}
	if match != MatchEvery {
		for _, c := range conds {
			s = append(s, "Add the condition: "+uiCondition(c, w)+".")
		}
	}
	for _, a := range acts {
		s = append(s, "Add the action: "+uiAction(a, w)+".")
	}
	if !r.Enabled {
		s = append(s, "Switch it off (untick “Enabled”): it was off.")
	}
	s = append(s, "Click OK.")
	return s
}

func pick[T any](all []T, idx []int) []T {
	var out []T
	for _, i := range idx {
		if i >= 0 && i < len(all) {
			out = append(out, all[i])
		}
	}
	return out
}

// Summary is a one-line count of the rules by fate.
func (c Counts) Summary() string {
	if c.Rules == 0 {
		return "No filters found."
	}
	parts := []string{plural(c.Rules, "filter", "filters")}
	if c.OnServer > 0 {
		parts = append(parts, fmt.Sprintf("%d moved to the new server", c.OnServer))
	}
	if c.Partly > 0 {
		parts = append(parts, fmt.Sprintf("%d partly moved", c.Partly))
	}
	if c.ByHand > 0 {
		parts = append(parts, fmt.Sprintf("%d to recreate by hand", c.ByHand))
	}
	if c.NotNeeded > 0 {
		parts = append(parts, fmt.Sprintf("%d not needed", c.NotNeeded))
	}
	s := parts[0]
	if len(parts) > 1 {
		s += ": " + strings.Join(parts[1:], ", ")
	}
	if c.Disabled > 0 {
		s += fmt.Sprintf(" (%d switched off)", c.Disabled)
	}
	return s + "."
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}
