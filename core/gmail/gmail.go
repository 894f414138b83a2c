// Package gmail decides how a Gmail account is read when it is the source of
// a migration, and what the plan should say when Gmail or Microsoft 365 is
// the target.
//
// Gmail has labels, not folders. Over IMAP every label is a folder, a
// message with three labels sits in three folders, and every message (but
// those in Spam and Trash) sits once more in [Gmail]/All Mail; [Gmail]/
// Important and [Gmail]/Starred are labels too (Gmail IMAP extensions,
// developers.google.com/workspace/gmail/imap/imap-extensions). Copied
// naively, a mailbox comes out several times over. Source wraps the source
// endpoint of a copier so that the copier sees the folders of a Policy and
// needs no Gmail knowledge of its own.
package gmail

import (
	"context"
	"fmt"
	"iter"
	"slices"
	"strings"

	"mailmover/core/copier"
	"mailmover/core/store"
)

// Policy is how a Gmail account's labels become folders.
type Policy int

const (
	// Labels, the default, copies each label folder (INBOX, the user's
	// labels, and Sent Mail, Drafts, Spam and Trash, which the copier maps to
	// the target's own folders by special use), leaves out All Mail,
	// Important and Starred (a starred message keeps its star as \Flagged),
	// and adds a folder "Archive" (special use \Archive) holding the
	// messages of All Mail that carry no label but Important and Starred:
	// the archived mail, which would otherwise be lost. A message with two
	// labels lands in both folders, once in each; no message lands both in a
	// label folder and in Archive.
	Labels Policy = iota
	// EveryFolder copies every Gmail folder as it is, All Mail, Important
	// and Starred included (as "All Mail", "Important" and "Starred", without
	// the [Gmail] parent): one folder per label with duplicates, so every
	// message appears once in All Mail and once more per label.
	EveryFolder
	// AllMailOnly copies only All Mail, into a folder "All Mail": every
	// message once, but the labels, the inbox and Sent are not kept apart;
	// Spam and Trash, which are not part of All Mail, are not copied.
	AllMailOnly
)

var policyNames = [...]string{"labels", "every-folder", "all-mail"}

// String returns the policy's name as ParsePolicy reads it.
func (p Policy) String() string {
	if int(p) < len(policyNames) {
		return policyNames[p]
	}
	return fmt.Sprintf("policy(%d)", int(p))
}

// ParsePolicy reads a policy name: "labels" (or ""), "every-folder",
// "all-mail".
func ParsePolicy(s string) (Policy, error) {
	if s == "" {
		return Labels, nil
	}
	for i, n := range policyNames {
		if strings.EqualFold(s, n) {
			return Policy(i), nil
		}
	}
	return Labels, fmt.Errorf("unknown Gmail policy %q: use %s", s, strings.Join(policyNames[:], ", "))
}

// Label names of Gmail's system labels in X-GM-LABELS.
const (
	labelImportant = `\Important`
	labelStarred   = `\Starred`
)

// archiveSuffix makes the name of the virtual Archive folder from the name
// of All Mail. Users cannot create labels under [Gmail], so it cannot clash.
const archiveSuffix = "#unlabelled"

// IsArchive reports whether a source folder name is the virtual Archive of
// the Labels policy: "[Gmail]/All Mail#unlabelled" or its translation.
func IsArchive(name string) bool {
	return strings.HasPrefix(name, "[") && strings.Contains(name, "]/") && strings.HasSuffix(name, archiveSuffix)
}

// Labeler is a source connection that reads Gmail labels: X-GM-LABELS of
// messages of the open folder, by UID (Gmail IMAP extensions, X-GM-EXT-1).
// Where the connection offers it, the Archive folder is made from labels;
// otherwise from identity: a message of All Mail whose Message-ID, size and
// date are found in no label folder.
type Labeler interface {
	GmailLabels(ctx context.Context, uids []uint32) (map[uint32][]string, error)
}

// Source returns the endpoint e seen through a policy. An account that has
// no [Gmail] folders is passed through unchanged.
func Source(e copier.Endpoint, p Policy) copier.Endpoint {
	return copier.Endpoint{
		Name: e.Name,
		Dial: func(ctx context.Context) (copier.TargetConn, error) {
			c, err := e.Dial(ctx)
			if err != nil {
				return nil, err
			}
			return Wrap(c, p), nil
		},
	}
}

// Wrap returns a connection that shows c's folders as the policy says.
func Wrap(c copier.TargetConn, p Policy) copier.TargetConn {
	return &conn{TargetConn: c, policy: p}
}

// layout is where Gmail's own folders are in an account.
type layout struct {
	allMail   store.Folder
	system    []string // the parent of the system folders: {"[Gmail]"} or {"[Google Mail]"}
	important string   // names of Important and Starred, "" if absent
	starred   string
}

// detect finds the Gmail folders, or returns nil for another server.
// Important is recognised by its attribute (RFC 8457) where the connection
// reports it, else as the one system folder without a known special use:
// its name is translated with the user's language.
func detect(fs []store.Folder) *layout {
	var l layout
	found := false
	for _, f := range fs {
		if f.SpecialUse == store.All && !f.NoSelect && len(f.Path) == 2 && strings.HasPrefix(f.Path[0], "[") && strings.HasSuffix(f.Path[0], "]") {
			l.allMail, l.system, found = f, f.Path[:1], true
		}
	}
	if !found {
		return nil
	}
	for _, f := range fs {
		if f.NoSelect || !l.isSystem(f) {
			continue
		}
		switch f.SpecialUse {
		case store.Flagged:
			l.starred = f.Name
		case `\Important`, "":
			l.important = f.Name
		}
	}
	return &l
}

// isSystem reports whether f is a child of the [Gmail] parent.
func (l *layout) isSystem(f store.Folder) bool {
	return len(f.Path) == 2 && f.Path[0] == l.system[0]
}

// conn is a source connection seen through a policy.
type conn struct {
	copier.TargetConn
	policy Policy

	virtual bool   // the open folder is the virtual Archive
	opened  string // the real folder the caller has open ("" if none)
	openRO  bool
	cache   *archive
}

// CapList passes the wrapped connection's capabilities on to the plan.
func (c *conn) CapList() []string {
	if cl, ok := c.TargetConn.(interface{ CapList() []string }); ok {
		return cl.CapList()
	}
	return nil
}

// Folders lists the folders of the policy.
func (c *conn) Folders(ctx context.Context) ([]store.Folder, error) {
	fs, err := c.TargetConn.Folders(ctx)
	if err != nil {
		return nil, err
	}
	lay := detect(fs)
	if lay == nil {
		return fs, nil
	}
	var out []store.Folder
	for _, f := range fs {
		if f.NoSelect && len(f.Path) == 1 && f.Path[0] == lay.system[0] {
			continue // [Gmail] itself
		}
		hidden := f.Name == lay.allMail.Name || f.Name == lay.important || f.Name == lay.starred
		switch c.policy {
		case Labels:
			if !hidden {
				out = append(out, f)
			}
		case EveryFolder:
			if hidden {
				f.Path = slices.Clone(f.Path[1:])
			}
			out = append(out, f)
		case AllMailOnly:
			if f.Name == lay.allMail.Name {
				f.Path = []string{f.Path[1]}
				f.SpecialUse = ""
				out = append(out, f)
			}
		}
	}
	if c.policy == Labels {
		a, err := c.archive(ctx, fs)
		if err != nil {
			return nil, err
		}
		out = append(out, a.folder)
	}
	return out, nil
}

// Status reads a folder's counters; those of Archive are computed.
func (c *conn) Status(ctx context.Context, f *store.Folder) error {
	if !IsArchive(f.Name) {
		return c.TargetConn.Status(ctx, f)
	}
	a, err := c.archive(ctx, nil)
	if err != nil {
		return err
	}
	f.Messages, f.Size = a.folder.Messages, a.folder.Size
	f.UIDValidity, f.UIDNext, f.HighestModSeq = a.folder.UIDValidity, a.folder.UIDNext, 0
	return nil
}

// OpenFolder opens a folder read-only; Archive opens All Mail.
func (c *conn) OpenFolder(ctx context.Context, name string, readOnly bool) (uint32, error) {
	c.virtual = IsArchive(name)
	if c.virtual {
		name, readOnly = strings.TrimSuffix(name, archiveSuffix), true
	}
	c.opened, c.openRO = "", false
	uv, err := c.TargetConn.OpenFolder(ctx, name, readOnly)
	if err == nil {
		c.opened, c.openRO = name, readOnly
	}
	return uv, err
}

// List summarises the open folder; for Archive, the unlabelled messages of
// All Mail.
func (c *conn) List(ctx context.Context) ([]store.MessageInfo, error) {
	if !c.virtual {
		return c.TargetConn.List(ctx)
	}
	a, err := c.archive(ctx, nil)
	if err != nil {
		return nil, err
	}
	return slices.Clone(a.infos), nil
}

// Fetch streams messages of the open folder (All Mail for Archive).
func (c *conn) Fetch(ctx context.Context, uids []uint32) iter.Seq2[*store.Message, error] {
	return c.TargetConn.Fetch(ctx, uids)
}

// archive is the content of the virtual Archive folder.
type archive struct {
	key    string // the status of the folders it was worked out from
	folder store.Folder
	infos  []store.MessageInfo
}

// stateKey sums up what the Archive depends on: every label is a folder,
// so any label added or removed changes the status of one of them.
func stateKey(fs []store.Folder) string {
	var b strings.Builder
	for _, f := range fs {
		fmt.Fprintf(&b, "%s|%d|%d|%d|%d\n", f.Name, f.UIDValidity, f.UIDNext, f.Messages, f.HighestModSeq)
	}
	return b.String()
}

// labelFolders are the folders whose messages are not archived mail: all
// but All Mail, Important, Starred, and Spam and Trash (not in All Mail).
func (l *layout) labelFolders(fs []store.Folder) []store.Folder {
	var out []store.Folder
	for _, f := range fs {
		if f.NoSelect || f.Name == l.allMail.Name || f.Name == l.important || f.Name == l.starred || f.SpecialUse == store.Junk || f.SpecialUse == store.Trash {
			continue
		}
		out = append(out, f)
	}
	return out
}

// archive works out (or reuses) the content of Archive. fs, if not nil, is
// a fresh folder list. Working it out opens other folders; the folder the
// caller had open is opened again afterwards.
func (c *conn) archive(ctx context.Context, fs []store.Folder) (*archive, error) {
	a, err := c.computeArchive(ctx, fs)
	if err != nil {
		c.opened = ""
		return nil, err
	}
	return a, nil
}

func (c *conn) computeArchive(ctx context.Context, fs []store.Folder) (*archive, error) {
	if fs == nil {
		var err error
		if fs, err = c.TargetConn.Folders(ctx); err != nil {
			return nil, err
		}
	}
	lay := detect(fs)
	if lay == nil {
		return nil, fmt.Errorf("the Gmail folder All Mail is gone from the account")
	}
	key := stateKey(fs)
	if c.cache != nil && c.cache.key == key {
		return c.cache, nil
	}
	a := &archive{key: key}
	var keep func(infos []store.MessageInfo) ([]store.MessageInfo, error)
	if lb, ok := c.TargetConn.(Labeler); ok {
		keep = func(infos []store.MessageInfo) ([]store.MessageInfo, error) {
			uids := make([]uint32, len(infos))
			for i, m := range infos {
				uids[i] = m.UID
			}
			labels, err := lb.GmailLabels(ctx, uids)
			if err != nil {
				return nil, err
			}
			var out []store.MessageInfo
			for _, m := range infos {
				if unlabelled(labels[m.UID]) {
					out = append(out, m)
				}
			}
			return out, nil
		}
	} else {
		// How many copies of each identity one label folder holds at most:
		// a message with two labels is in two folders but is one message.
		seen := map[string]int{}
		for _, f := range lay.labelFolders(fs) {
			if f.Messages == 0 {
				continue
			}
			if _, err := c.TargetConn.OpenFolder(ctx, f.Name, true); err != nil {
				return nil, err
			}
			infos, err := c.TargetConn.List(ctx)
			if err != nil {
				return nil, err
			}
			here := map[string]int{}
			for _, m := range infos {
				here[m.Identity()]++
			}
			for id, n := range here {
				seen[id] = max(seen[id], n)
			}
		}
		keep = func(infos []store.MessageInfo) ([]store.MessageInfo, error) {
			var out []store.MessageInfo
			for _, m := range infos {
				if id := m.Identity(); seen[id] > 0 {
					seen[id]--
					continue
				}
				out = append(out, m)
			}
			return out, nil
		}
	}
	uv, err := c.TargetConn.OpenFolder(ctx, lay.allMail.Name, true)
	if err != nil {
		return nil, err
	}
	all, err := c.TargetConn.List(ctx)
	if err != nil {
		return nil, err
	}
	if a.infos, err = keep(all); err != nil {
		return nil, err
	}
	var size int64
	for _, m := range a.infos {
		size += m.Size
	}
	am := lay.allMail
	a.folder = store.Folder{
		Name: am.Name + archiveSuffix, Path: []string{"Archive"}, Delim: am.Delim, SpecialUse: store.Archive, Subscribed: true,
		Messages: len(a.infos), Size: size, UIDValidity: uv, UIDNext: am.UIDNext,
	}
	if c.opened != "" && c.opened != lay.allMail.Name {
		if _, err := c.TargetConn.OpenFolder(ctx, c.opened, c.openRO); err != nil {
			return nil, err
		}
	}
	c.cache = a
	return a, nil
}

// unlabelled reports whether a message of All Mail carries no label that
// the Labels policy copies as a folder.
func unlabelled(labels []string) bool {
	for _, l := range labels {
		if !strings.EqualFold(l, labelImportant) && !strings.EqualFold(l, labelStarred) {
			return false
		}
	}
	return true
}
