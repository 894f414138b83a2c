package imapstore

import (
	"context"
	"errors"
	"strings"

	"github.com/emersion/go-imap/v2"

	"mailmover/core/store"
)

// Path splits a mailbox name into its hierarchy, without the personal
// namespace prefix (RFC 2342). INBOX, in any case, is {"INBOX"}.
func (c *Conn) Path(name string) []string {
	return SplitName(name, c.Prefix, c.Delim)
}

// SplitName splits a mailbox name into its hierarchy, without the namespace prefix.
func SplitName(name, prefix string, delim rune) []string {
	if strings.EqualFold(name, "INBOX") {
		return []string{"INBOX"}
	}
	if prefix != "" && len(name) > len(prefix) && strings.EqualFold(name[:len(prefix)], prefix) {
		name = name[len(prefix):]
	}
	if delim == 0 {
		return []string{name}
	}
	return strings.Split(name, string(delim))
}

// JoinPath builds a mailbox name from a hierarchy for this account.
func (c *Conn) JoinPath(path []string) string {
	return JoinName(path, c.Prefix, c.Delim)
}

// JoinName builds a mailbox name from a hierarchy, a namespace prefix and a
// delimiter. Path elements must not contain the delimiter.
func JoinName(path []string, prefix string, delim rune) string {
	if len(path) == 1 && strings.EqualFold(path[0], "INBOX") {
		return "INBOX"
	}
	return prefix + strings.Join(path, string(delim))
}

func (c *Conn) statusOptions() *imap.StatusOptions {
	return &imap.StatusOptions{
		NumMessages:   true,
		UIDNext:       true,
		UIDValidity:   true,
		Size:          c.Caps.Has(imap.CapStatusSize) || c.Caps.Has(imap.CapIMAP4rev2),
		HighestModSeq: c.Caps.Has(imap.CapCondStore),
	}
}

// Folders lists every folder with its special use, subscription and status
// (message count, size where the server tells it, UIDVALIDITY, UIDNEXT,
// HIGHESTMODSEQ). It uses LIST-EXTENDED and LIST-STATUS (RFC 5258, 5819)
// where offered and falls back to one STATUS per folder, pipelined.
func (c *Conn) Folders(ctx context.Context) ([]store.Folder, error) {
	defer c.guard(ctx)()
	ext := c.Caps.Has(imap.CapListExtended) || c.Caps.Has(imap.CapIMAP4rev2)
	var opts *imap.ListOptions
	if ext {
		opts = &imap.ListOptions{ReturnSubscribed: true, ReturnSpecialUse: c.Caps.Has(imap.CapSpecialUse)}
		if c.Caps.Has(imap.CapListStatus) {
			opts.ReturnStatus = c.statusOptions()
		}
	}
	list, err := c.c.List("", "*", opts).Collect()
	if err != nil {
		return nil, c.wrap(ctx, "list folders", err)
	}
	folders := make([]store.Folder, 0, len(list))
	var needStatus []int
	for _, l := range list {
		f := store.Folder{Name: l.Mailbox, Path: SplitName(l.Mailbox, c.Prefix, l.Delim), Delim: l.Delim, Messages: -1, Size: -1, Subscribed: !ext}
		if f.Delim == 0 {
			f.Delim = c.Delim
		}
		for _, a := range l.Attrs {
			switch strings.ToLower(string(a)) {
			case `\noselect`, `\nonexistent`:
				f.NoSelect = true
			case `\subscribed`:
				f.Subscribed = true
			case `\sent`, `\drafts`, `\trash`, `\junk`, `\archive`, `\all`, `\flagged`:
				f.SpecialUse = canonicalUse(string(a))
			}
		}
		if l.Status != nil {
			applyStatus(&f, l.Status)
		} else if !f.NoSelect {
			needStatus = append(needStatus, len(folders))
		}
		folders = append(folders, f)
	}
	if len(needStatus) > 0 {
		cmds := make([]interface {
			Wait() (*imap.StatusData, error)
		}, len(needStatus))
		for i, idx := range needStatus {
			cmds[i] = c.c.Status(folders[idx].Name, c.statusOptions())
		}
		for i, idx := range needStatus {
			st, err := cmds[i].Wait()
			if err != nil {
				return nil, c.wrap(ctx, "read the status of "+folders[idx].Name, err)
			}
			applyStatus(&folders[idx], st)
		}
	}
	return folders, nil
}

// Status reads one folder's counters (RFC 9051 section 6.3.11).
func (c *Conn) Status(ctx context.Context, f *store.Folder) error {
	defer c.guard(ctx)()
	st, err := c.c.Status(f.Name, c.statusOptions()).Wait()
	if err != nil {
		return c.wrap(ctx, "read the status of "+f.Name, err)
	}
	applyStatus(f, st)
	return nil
}

func applyStatus(f *store.Folder, st *imap.StatusData) {
	if st.NumMessages != nil {
		f.Messages = int(*st.NumMessages)
	}
	if st.Size != nil {
		f.Size = *st.Size
	}
	f.UIDNext = uint32(st.UIDNext)
	f.UIDValidity = st.UIDValidity
	f.HighestModSeq = st.HighestModSeq
}

func canonicalUse(a string) string {
	for _, u := range []string{store.All, store.Archive, store.Drafts, store.Flagged, store.Junk, store.Sent, store.Trash} {
		if strings.EqualFold(a, u) {
			return u
		}
	}
	return ""
}

// Create makes a folder (RFC 9051 section 6.3.4) and subscribes to it when asked.
// A folder that already exists is not an error.
func (c *Conn) Create(ctx context.Context, name string, subscribe bool) error {
	defer c.guard(ctx)()
	if err := c.c.Create(name, nil).Wait(); err != nil {
		var ie *imap.Error
		if !(errors.As(err, &ie) && (ie.Code == imap.ResponseCodeAlreadyExists || strings.Contains(strings.ToLower(ie.Text), "exists"))) {
			return c.wrap(ctx, "create folder "+name, err)
		}
	}
	if subscribe {
		if err := c.c.Subscribe(name).Wait(); err != nil {
			return c.wrap(ctx, "subscribe to folder "+name, err)
		}
	}
	return nil
}

// Quota is the storage quota of a folder's quota root (RFC 9208), in bytes.
type Quota = store.Quota

// Quota reads the storage quota that applies to INBOX, if the server has QUOTA.
func (c *Conn) Quota(ctx context.Context) (*Quota, error) {
	if !c.Caps.Has(imap.CapQuota) && !c.Caps.Has("QUOTA=RES-STORAGE") {
		return nil, nil
	}
	defer c.guard(ctx)()
	roots, err := c.c.GetQuotaRoot("INBOX").Wait()
	if err != nil {
		return nil, c.wrap(ctx, "read the quota", err)
	}
	for _, r := range roots {
		if res, ok := r.Resources[imap.QuotaResourceStorage]; ok {
			// RFC 9208: STORAGE is in units of 1024 octets.
			return &Quota{Root: r.Root, Used: res.Usage * 1024, Limit: res.Limit * 1024}, nil
		}
	}
	return nil, nil
}

// AppendLimit returns the largest message the server accepts (RFC 7889), or 0 if it does not say.
func (c *Conn) AppendLimit() int64 {
	for cp := range c.Caps {
		s := string(cp)
		if strings.HasPrefix(strings.ToUpper(s), "APPENDLIMIT=") {
			var n int64
			for _, ch := range s[len("APPENDLIMIT="):] {
				if ch < '0' || ch > '9' {
					return 0
				}
				n = n*10 + int64(ch-'0')
			}
			return n
		}
	}
	return 0
}
