// Package cutover is the guided switch-over from the old mail server to the
// new one: a checklist whose steps are recorded, with their time, in the
// migration journal (so the report shows them), and the files users need
// to reconfigure their devices.
package cutover

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"
	"time"

	"mailmover/core/state"
)

// Step is one step of the switch-over.
type Step struct {
	ID      string
	Title   string
	Explain string
}

// The steps, in order.
const (
	InitialCopy = "initial-copy"
	LowerTTL    = "lower-mx-ttl"
	SwitchMX    = "switch-mx"
	MXLive      = "mx-live"
	FinalDelta  = "final-delta"
	Verify      = "verify"
	Devices     = "reconfigure-devices"
	SendReceive = "send-receive-test"
)

// Steps returns the checklist in order.
func Steps() []Step {
	return []Step{
		{InitialCopy, "Initial copy", "Copy everything while the old server still receives mail; people keep working as usual."},
		{LowerTTL, "Lower the MX TTL", "A day before the switch, set the TTL of the domain's MX records to 300 seconds, so the change spreads in minutes."},
		{SwitchMX, "Switch MX", "Point the domain's MX records at the new provider (and add its SPF include and DKIM records)."},
		{MXLive, "New MX live", "Wait until resolvers return the new MX: from then on new mail arrives on the new server."},
		{FinalDelta, "Final copy", "Copy what arrived on the old server since the initial copy: only the new messages travel."},
		{Verify, "Verify", "Check that every message of the old mailbox is on the new one."},
		{Devices, "Reconfigure devices", "Set up phones and computers with the new server's settings (the settings sheet and autoconfig file help)."},
		{SendReceive, "Send and receive test", "Send a message out and receive one in through the new server."},
	}
}

// Find returns the step with an ID.
func Find(id string) (Step, bool) {
	for _, s := range Steps() {
		if s.ID == id {
			return s, true
		}
	}
	return Step{}, false
}

// Mark records a step as done, with a note, in the pair's journal.
func Mark(dir *state.Dir, id, note string) error {
	s, ok := Find(id)
	if !ok {
		return fmt.Errorf("no switch-over step %q: use one of %s", id, strings.Join(ids(), ", "))
	}
	if err := dir.Log(state.Record{Event: "step", Step: s.ID, Detail: s.Title, Subject: note}); err != nil {
		return err
	}
	return dir.Sync()
}

// MarkCopy records a finished copy in the pair's journal as the step it
// stands for: the final copy once the MX switch is recorded, the initial copy
// before it; and the verification step too when verified is true. A copy
// made from the window counts like one made with "cutover copy" or "delta".
func MarkCopy(dir *state.Dir, verified bool, note string) error {
	recs, err := state.ReadJournal(filepath.Join(dir.Path(), state.JournalFile))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	step := InitialCopy
	if _, switched := Done(recs)[SwitchMX]; switched {
		step = FinalDelta
	}
	if err := Mark(dir, step, note); err != nil {
		return err
	}
	if verified {
		return Mark(dir, Verify, "every message is on the new server")
	}
	return nil
}

func ids() []string {
	var out []string
	for _, s := range Steps() {
		out = append(out, s.ID)
	}
	return out
}

// Done returns when each step was last recorded in a journal.
func Done(recs []state.Record) map[string]time.Time {
	out := map[string]time.Time{}
	for _, r := range recs {
		if r.Event == "step" && r.Step != "" {
			out[r.Step] = r.Time
		}
	}
	return out
}

// Next returns the first step not yet done, or false when all are.
func Next(done map[string]time.Time) (Step, bool) {
	for _, s := range Steps() {
		if _, ok := done[s.ID]; !ok {
			return s, true
		}
	}
	return Step{}, false
}

// Server is a mail client's setting for one server.
type Server struct {
	Host     string
	Port     int
	Security string // "tls" or "starttls"
}

// Settings are what a device needs to reach the new server.
type Settings struct {
	Domain, Email, Username string
	IMAP, SMTP              Server
}

// AutoconfigXML returns the autoconfig file (Thunderbird's format, also read
// by other clients) to publish at https://autoconfig.DOMAIN/mail/config-v1.1.xml.
func AutoconfigXML(s Settings) []byte {
	socket := func(sec string) string {
		if sec == "starttls" {
			return "STARTTLS"
		}
		return "SSL"
	}
	user := "%EMAILADDRESS%"
	if s.Username != "" && s.Username != s.Email {
		user = s.Username
	}
	var b bytes.Buffer
	b.WriteString(xml.Header)
	b.WriteString("<clientConfig version=\"1.1\">\n")
	fmt.Fprintf(&b, "  <emailProvider id=\"%s\">\n    <domain>%s</domain>\n    <displayName>%s</displayName>\n", esc(s.Domain), esc(s.Domain), esc(s.Domain))
	fmt.Fprintf(&b, "    <incomingServer type=\"imap\">\n      <hostname>%s</hostname>\n      <port>%d</port>\n      <socketType>%s</socketType>\n      <authentication>password-cleartext</authentication>\n      <username>%s</username>\n    </incomingServer>\n",
		esc(s.IMAP.Host), s.IMAP.Port, socket(s.IMAP.Security), esc(user))
	if s.SMTP.Host != "" {
		fmt.Fprintf(&b, "    <outgoingServer type=\"smtp\">\n      <hostname>%s</hostname>\n      <port>%d</port>\n      <socketType>%s</socketType>\n      <authentication>password-cleartext</authentication>\n      <username>%s</username>\n    </outgoingServer>\n",
			esc(s.SMTP.Host), s.SMTP.Port, socket(s.SMTP.Security), esc(user))
	}
	b.WriteString("  </emailProvider>\n</clientConfig>\n")
	return b.Bytes()
}

func esc(s string) string {
	var b bytes.Buffer
	xml.EscapeText(&b, []byte(s))
	return b.String()
}

// Sheet returns the settings in plain words, to print for each person.
func Sheet(s Settings) string {
	sec := func(x string) string {
		if x == "starttls" {
			return "STARTTLS"
		}
		return "SSL/TLS"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Mail settings for %s\n\n", s.Email)
	fmt.Fprintf(&b, "Incoming mail (IMAP)\n  Server: %s\n  Port: %d\n  Security: %s\n  User name: %s\n\n", s.IMAP.Host, s.IMAP.Port, sec(s.IMAP.Security), s.Username)
	if s.SMTP.Host != "" {
		fmt.Fprintf(&b, "Outgoing mail (SMTP)\n  Server: %s\n  Port: %d\n  Security: %s\n  User name: %s\n  Password: the same as for incoming mail\n", s.SMTP.Host, s.SMTP.Port, sec(s.SMTP.Security), s.Username)
	}
	return b.String()
}
