// Package store holds the types every mail store shares (an IMAP account, a
// backup tree, a local archive): folders, message summaries and streamed
// messages, and the identity by which a message is recognised on another
// store. The engine that moves mail declares the interfaces it needs from
// stores next to where it uses them (package copier).
package store

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Special-use attributes (RFC 6154 section 2).
const (
	All     = `\All`
	Archive = `\Archive`
	Drafts  = `\Drafts`
	Flagged = `\Flagged`
	Junk    = `\Junk`
	Sent    = `\Sent`
	Trash   = `\Trash`
)

// Folder is one mailbox of a store.
type Folder struct {
	// Name is the store's own name for the folder (an IMAP mailbox name, decoded from modified UTF-7).
	Name string `json:"name"`
	// Path is the hierarchy without the namespace prefix, e.g. {"Projects", "Alpha"}; INBOX is {"INBOX"}.
	Path []string `json:"path"`
	// Delim is the store's hierarchy delimiter (0 for a flat store).
	Delim rune `json:"delim,omitempty"`
	// SpecialUse is one of the RFC 6154 attributes, or "".
	SpecialUse string `json:"specialUse,omitempty"`
	// Subscribed reports whether the user subscribes to it.
	Subscribed bool `json:"subscribed"`
	// NoSelect marks a folder that only holds others (RFC 9051 \Noselect).
	NoSelect bool `json:"noSelect,omitempty"`
	// Messages is the number of messages; -1 when unknown.
	Messages int `json:"messages"`
	// Size is the total size in bytes; -1 when unknown.
	Size int64 `json:"size"`
	// UIDValidity, UIDNext and HighestModSeq (RFC 7162) say whether anything changed since last time.
	UIDValidity   uint32 `json:"uidValidity,omitempty"`
	UIDNext       uint32 `json:"uidNext,omitempty"`
	HighestModSeq uint64 `json:"highestModSeq,omitempty"`
}

// DisplayName is the folder's path joined with "/", as people read it.
func (f Folder) DisplayName() string {
	return strings.Join(f.Path, "/")
}

// MessageInfo is what a store knows about a message without its body.
type MessageInfo struct {
	UID          uint32    `json:"uid"`
	Flags        []string  `json:"flags,omitempty"`
	InternalDate time.Time `json:"internalDate"`
	Size         int64     `json:"size"`
	// MessageID is the Message-ID header without angle brackets, "" if none.
	MessageID string `json:"messageId,omitempty"`
	// HeaderHash is the SHA-256 of the header block, set where MessageID is empty.
	HeaderHash string `json:"headerHash,omitempty"`
	// From, Subject and Date describe the message for people (lists of what is missing).
	From    string    `json:"from,omitempty"`
	Subject string    `json:"subject,omitempty"`
	Date    time.Time `json:"date,omitzero"`
}

// Message is a message with its bytes, streamed: Body is valid only until
// the next message is read.
type Message struct {
	MessageInfo
	// UIDValidity is the source folder's UIDVALIDITY, which with UID
	// identifies the message where it came from (RFC 9051 section 2.3.1.1).
	UIDValidity uint32
	Body        io.Reader
}

// Identity is how a message is recognised on another store whatever its UID:
// the Message-ID (or the header hash where there is none), the size and the
// INTERNALDATE to the second. Two distinct copies of one message share it, so
// identities are counted, not just tested.
func (m *MessageInfo) Identity() string {
	id := m.MessageID
	if id == "" {
		id = "#" + m.HeaderHash
	}
	return id + "|" + strconv.FormatInt(m.Size, 10) + "|" + strconv.FormatInt(m.InternalDate.Unix(), 10)
}

// HashHeader returns the hex SHA-256 of a header block, for messages without
// a Message-ID.
func HashHeader(header []byte) string {
	sum := sha256.Sum256(header)
	return hex.EncodeToString(sum[:])
}

// SyncFlags returns the flags worth copying: everything but \Recent (RFC 3501
// section 2.3.2, set by the server only), sorted and without duplicates, with
// system flags in canonical case.
func SyncFlags(flags []string) []string {
	out := make([]string, 0, len(flags))
	for _, f := range flags {
		if strings.HasPrefix(f, `\`) {
			switch strings.ToLower(f) {
			case `\recent`, `\*`:
				continue
			case `\seen`:
				f = `\Seen`
			case `\answered`:
				f = `\Answered`
			case `\flagged`:
				f = `\Flagged`
			case `\deleted`:
				f = `\Deleted`
			case `\draft`:
				f = `\Draft`
			}
		}
		out = append(out, f)
	}
	slices.SortFunc(out, func(a, b string) int { return strings.Compare(strings.ToLower(a), strings.ToLower(b)) })
	return slices.CompactFunc(out, strings.EqualFold)
}

// FlagsEqual reports whether two flag lists hold the same flags to copy.
func FlagsEqual(a, b []string) bool {
	return slices.EqualFunc(SyncFlags(a), SyncFlags(b), strings.EqualFold)
}

// ErrNothingToAppend is returned by a store's Append when the messages ran
// out before the first one: nothing was written.
var ErrNothingToAppend = errors.New("nothing to append")

// AppendResult says what became of an APPEND (RFC 9051 section 6.3.12).
type AppendResult struct {
	// UIDValidity and UIDs come from APPENDUID (RFC 4315), one UID per message in order; nil without UIDPLUS.
	UIDValidity uint32
	UIDs        []uint32
	// Count is how many messages were sent.
	Count int
	// Bytes is how many message bytes were sent.
	Bytes int64
	// Dropped lists, per message index, keywords the target cannot keep.
	Dropped map[int][]string
}

// Quota is the storage quota of a folder's quota root (RFC 9208), in bytes.
type Quota struct {
	Root        string
	Used, Limit int64
}

// FormatBytes writes a byte count for people: "3.2 MB", "840 KB", "12 bytes".
// A negative count (unknown) is "?".
func FormatBytes(n int64) string {
	switch {
	case n < 0:
		return "?"
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.0f KB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d bytes", n)
}
