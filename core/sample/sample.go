// Package sample generates deterministic sample mail: a tree of folders and
// realistic RFC 5322 messages with flags and INTERNALDATEs, for tests,
// benchmarks and the built-in demo.
//
// A seed and options always give the same bytes. Message i is generated on
// its own from the corpus seed and its index (math/rand/v2 PCG), so any
// message can be regenerated lazily and nothing holds the whole corpus:
// large attachments are produced in chunks while they are read, and every
// size is known exactly without building the message.
//
// The corpus covers what a migration meets in the wild: plain text,
// multipart/alternative and multipart/mixed messages with attachments from a
// few KB to several MB (base64, RFC 2045), RFC 2047 encoded subjects, raw
// UTF-8 headers (RFC 6532), missing and duplicate Message-IDs, missing Date
// headers, body lines longer than the 998 octets of RFC 5322 section 2.1.1,
// body lines starting with "From " and ">From ", special-use folders
// (RFC 6154), nested folders, folder names that need modified UTF-7
// (RFC 3501 section 5.1.3), system flags and keywords, and INTERNALDATEs
// spread over 2009..2026 in many time zones. Every line ends with CRLF.
package sample

import (
	"fmt"
	"iter"
)

// Default option values.
const (
	// DefaultMessages is the number of messages when Options.Messages is 0.
	DefaultMessages = 200
	// DefaultMaxAttachment is the largest attachment when Options.MaxAttachment is 0.
	DefaultMaxAttachment = 3 << 20
)

// Options select a corpus. The zero value (apart from the seed) gives the
// default corpus of 200 messages.
type Options struct {
	// Seed selects the corpus: the same seed and options give the same bytes.
	Seed uint64
	// Messages is the total number of messages across folders (default 200).
	Messages int
	// MaxAttachment bounds the size in bytes of attachments, before base64
	// (default 3 MiB); 0 means the default.
	MaxAttachment int64
	// FixedSize, if > 0, makes every message approximately this size, in a
	// single folder "Big" (for memory tests with folders of large messages).
	FixedSize int64
}

// Folder is a folder of the corpus.
type Folder struct {
	// Path is the folder's hierarchy, independent of any server's
	// delimiter, e.g. {"Projects", "Alpha"}; INBOX is {"INBOX"}.
	Path []string
	// SpecialUse is "" or one of `\Sent` `\Drafts` `\Trash` `\Junk`
	// `\Archive` (RFC 6154 section 2).
	SpecialUse string
	// Subscribed says whether the folder is subscribed (RFC 3501 section 6.3.6).
	Subscribed bool
}

// Corpus is a deterministic set of folders and messages. It holds only its
// options and folder list: messages are generated on demand. A Corpus is
// safe for concurrent use.
type Corpus struct {
	// Folders is the folder tree, parents before their children.
	Folders []Folder

	opts     Options
	n        int
	nonEmpty []int // folders that receive messages, in order
	weights  []int // per folder, for random placement
	total    int   // sum of weights
}

// folderSpec is one entry of the standard folder table.
type folderSpec struct {
	path       []string
	specialUse string
	subscribed bool
	weight     int // relative share of messages; 0 keeps the folder empty
}

// standardFolders is the folder tree of every corpus without FixedSize.
var standardFolders = [...]folderSpec{
	{[]string{"INBOX"}, "", true, 34},
	{[]string{"Sent"}, `\Sent`, true, 12},
	{[]string{"Drafts"}, `\Drafts`, true, 3},
	{[]string{"Trash"}, `\Trash`, true, 6},
	{[]string{"Junk"}, `\Junk`, true, 5},
	{[]string{"Archive"}, `\Archive`, true, 10},
	{[]string{"Projects"}, "", true, 2},
	{[]string{"Projects", "Alpha"}, "", true, 5},
	{[]string{"Projects", "Beta"}, "", true, 3},
	{[]string{"Projects", "Beta", "2024"}, "", true, 4},
	{[]string{"Old Invoices"}, "", true, 4},
	{[]string{"Reçus & Factures"}, "", true, 3},
	{[]string{"日本語"}, "", true, 3},
	{[]string{"v1.2 Release"}, "", true, 3},
	{[]string{"Empty"}, "", true, 0},
	{[]string{"Old Newsletters"}, "", false, 3},
}

// Folder indexes into standardFolders with a meaning of their own.
const (
	folderInbox = iota
	folderSent
	folderDrafts
	folderTrash
	folderJunk
	folderArchive
)

// New returns the corpus selected by opts.
func New(opts Options) *Corpus {
	if opts.Messages <= 0 {
		opts.Messages = DefaultMessages
	}
	if opts.MaxAttachment <= 0 {
		opts.MaxAttachment = DefaultMaxAttachment
	}
	c := &Corpus{opts: opts, n: opts.Messages}
	if opts.FixedSize > 0 {
		c.Folders = []Folder{{Path: []string{"Big"}, Subscribed: true}}
		c.nonEmpty = []int{0}
		c.weights = []int{1}
		c.total = 1
		return c
	}
	for i, s := range standardFolders {
		c.Folders = append(c.Folders, Folder{
			Path:       append([]string(nil), s.path...),
			SpecialUse: s.specialUse,
			Subscribed: s.subscribed,
		})
		c.weights = append(c.weights, s.weight)
		c.total += s.weight
		if s.weight > 0 {
			c.nonEmpty = append(c.nonEmpty, i)
		}
	}
	return c
}

// Options returns the options of the corpus, with defaults filled in.
func (c *Corpus) Options() Options { return c.opts }

// Len returns the number of messages.
func (c *Corpus) Len() int { return c.n }

// Message returns message i, generating it. It panics if i is out of range.
func (c *Corpus) Message(i int) *Message {
	if i < 0 || i >= c.n {
		panic(fmt.Sprintf("sample: message index %d out of range [0, %d)", i, c.n))
	}
	return c.generate(i)
}

// All yields every message in index order, generating each one when it is
// reached.
func (c *Corpus) All() iter.Seq[*Message] {
	return func(yield func(*Message) bool) {
		for i := range c.n {
			if !yield(c.generate(i)) {
				return
			}
		}
	}
}

// TotalBytes returns the sum of the sizes of all messages. It generates
// every message's small parts but no attachment data.
func (c *Corpus) TotalBytes() int64 {
	var n int64
	for i := range c.n {
		n += c.generate(i).Size()
	}
	return n
}
