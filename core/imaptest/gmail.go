package imaptest

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/emersion/go-imap/v2"
)

// Gmail's system labels, as X-GM-LABELS shows them (Gmail IMAP extensions).
const (
	LabelInbox     = `\Inbox`
	LabelSent      = `\Sent`
	LabelDraft     = `\Draft`
	LabelImportant = `\Important`
	LabelStarred   = `\Starred`
	// LabelSpam and LabelTrash put a message in [Gmail]/Spam or
	// [Gmail]/Trash only: such messages are not in All Mail.
	LabelSpam  = `\Spam`
	LabelTrash = `\Trash`
)

// Gmail's folder names (English interface).
const (
	AllMail   = "[Gmail]/All Mail"
	Drafts    = "[Gmail]/Drafts"
	Important = "[Gmail]/Important"
	SentMail  = "[Gmail]/Sent Mail"
	Spam      = "[Gmail]/Spam"
	Starred   = "[Gmail]/Starred"
	Trash     = "[Gmail]/Trash"
)

// gmailFolders are the [Gmail] folders of every Gmail account, with their
// special-use attributes (RFC 6154, RFC 8457) and the label each stands for.
var gmailFolders = [...]struct {
	name  string
	use   []imap.MailboxAttr
	label string
}{
	{AllMail, []imap.MailboxAttr{imap.MailboxAttrAll}, ""},
	{Drafts, []imap.MailboxAttr{imap.MailboxAttrDrafts}, LabelDraft},
	{Important, []imap.MailboxAttr{imap.MailboxAttrImportant}, LabelImportant},
	{SentMail, []imap.MailboxAttr{imap.MailboxAttrSent}, LabelSent},
	{Spam, []imap.MailboxAttr{imap.MailboxAttrJunk}, LabelSpam},
	{Starred, []imap.MailboxAttr{imap.MailboxAttrFlagged}, LabelStarred},
	{Trash, []imap.MailboxAttr{imap.MailboxAttrTrash}, LabelTrash},
}

// LabelFolder returns the folder in which Gmail shows a label.
func LabelFolder(label string) string {
	if strings.EqualFold(label, LabelInbox) {
		return "INBOX"
	}
	for _, f := range gmailFolders {
		if f.label != "" && strings.EqualFold(label, f.label) {
			return f.name
		}
	}
	return label
}

// gmKey names a message of a folder.
type gmKey struct {
	mailbox string
	uid     uint32
}

// GmailMessage is a message of a Gmail account.
type GmailMessage struct {
	// Raw is the message (RFC 5322, CRLF line endings).
	Raw []byte
	// Date is its INTERNALDATE.
	Date time.Time
	// Flags are its IMAP flags; \Flagged is added for LabelStarred.
	Flags []string
	// Labels are Gmail labels: the Label constants or user labels ("Work",
	// "Projects/Alpha"), whose folders are created as needed.
	Labels []string
}

// AddGmailMessage stores a message as Gmail does: once in every folder of
// its labels and, unless it is in Spam or Trash, in [Gmail]/All Mail, with
// one X-GM-MSGID for all copies. It returns the X-GM-MSGID.
func (s *Server) AddGmailMessage(user string, m GmailMessage) (uint64, error) {
	if !s.opts.Gmail {
		return 0, fmt.Errorf("imaptest: not a Gmail server")
	}
	a, err := s.user(user)
	if err != nil {
		return 0, err
	}
	flags := slices.Clone(m.Flags)
	var folders []string
	exclusive := ""
	for _, l := range m.Labels {
		if strings.EqualFold(l, LabelSpam) || strings.EqualFold(l, LabelTrash) {
			exclusive = LabelFolder(l)
		}
		if strings.EqualFold(l, LabelStarred) && !slices.Contains(flags, `\Flagged`) {
			flags = append(flags, `\Flagged`)
		}
	}
	if exclusive != "" {
		folders = []string{exclusive}
	} else {
		folders = []string{AllMail}
		for _, l := range m.Labels {
			folders = append(folders, LabelFolder(l))
		}
	}
	s.mu.Lock()
	id := s.nextGMID
	s.nextGMID++
	a.labels[id] = slices.Clone(m.Labels)
	s.mu.Unlock()
	for _, f := range folders {
		s.mu.Lock()
		_, ok := a.boxes[f]
		s.mu.Unlock()
		if !ok {
			if err := s.create(a, f, nil); err != nil {
				return 0, err
			}
		}
		uid, err := appendTo(a, f, m.Raw, flags, m.Date)
		if err != nil {
			return 0, err
		}
		s.mu.Lock()
		a.gm[gmKey{f, uid}] = id
		s.mu.Unlock()
	}
	return id, nil
}

// GmailInfo returns what Gmail would answer to UID FETCH (X-GM-MSGID
// X-GM-LABELS) for a message of a folder. It lets a test see the labels
// without speaking the protocol.
func (s *Server) GmailInfo(user, mailbox string, uid uint32) (msgID uint64, labels []string, ok bool) {
	a, err := s.user(user)
	if err != nil {
		return 0, nil, false
	}
	return s.gmailInfo(a, mailbox, uid)
}

func (s *Server) gmailInfo(a *account, mailbox string, uid uint32) (uint64, []string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	id, ok := a.gm[gmKey{mailbox, uid}]
	if !ok {
		return 0, nil, false
	}
	return id, slices.Clone(a.labels[id]), true
}
