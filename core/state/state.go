// Package state keeps what a migration knows between runs: per folder pair,
// which source message (by UIDVALIDITY and UID) went to which target UID, and
// a journal of what happened. Everything is written atomically (write, fsync,
// rename), so a crash at any moment leaves the last good state, and the
// journal is append-only JSON lines. Nothing here ever holds a secret.
package state

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"time"

	"mailmover/core/atomicfile"
	"mailmover/core/failure"
	"mailmover/core/store"
)

// Entry is one copied message: its target UID (0 if the target did not say)
// and a hash of the source flags last brought over.
type Entry struct {
	T uint32 `json:"t"`
	F uint32 `json:"f"`
}

// Folder is the sync state of one folder pair.
type Folder struct {
	Source string `json:"source"`
	Target string `json:"target"`
	// SourceUIDValidity and TargetUIDValidity key the UIDs below (RFC 9051 section 2.3.1.1).
	SourceUIDValidity uint32 `json:"sourceUidValidity"`
	TargetUIDValidity uint32 `json:"targetUidValidity"`
	// SourceUIDNext, SourceMessages and SourceModSeq are the source's status
	// when the folder was last completed; unchanged, they mean nothing to do.
	SourceUIDNext  uint32 `json:"sourceUidNext"`
	SourceMessages int    `json:"sourceMessages"`
	SourceModSeq   uint64 `json:"sourceModSeq"`
	TargetUIDNext  uint32 `json:"targetUidNext"`
	// Complete is set when the last run finished the folder without problems.
	Complete bool `json:"complete"`
	// Copied maps source UIDs to what is known of their copy.
	Copied map[uint32]Entry `json:"copied"`
	// Updated is when this state was saved.
	Updated time.Time `json:"updated"`
}

// FlagHash summarises a flag list, to notice changes cheaply.
func FlagHash(flags []string) uint32 {
	h := fnv.New32a()
	for _, f := range store.SyncFlags(flags) {
		h.Write([]byte(strings.ToLower(f)))
		h.Write([]byte{0})
	}
	return h.Sum32()
}

// Dir is the state directory of one source/target pair.
type Dir struct {
	path string
	mu   sync.Mutex
	j    *os.File
}

var unsafe = regexp.MustCompile(`[^A-Za-z0-9._@-]+`)

// PairName is a readable, file-safe name for a source/target pair.
func PairName(source, target string) string {
	s := unsafe.ReplaceAllString(source+"--"+target, "_")
	if len(s) > 100 {
		sum := sha256.Sum256([]byte(source + "\x00" + target))
		s = s[:80] + "-" + hex.EncodeToString(sum[:6])
	}
	return s
}

// Open opens (creating it) the state directory at path.
func Open(path string) (*Dir, error) {
	if err := os.MkdirAll(filepath.Join(path, "folders"), 0o700); err != nil {
		return nil, failure.New(failure.Local, failure.ScopeAccount, "create the state folder", err)
	}
	return &Dir{path: path}, nil
}

// Path is the directory's location.
func (d *Dir) Path() string { return d.path }

func (d *Dir) folderFile(source string) string {
	sum := sha256.Sum256([]byte(source))
	return filepath.Join(d.path, "folders", hex.EncodeToString(sum[:12])+".json")
}

// Load returns the state of the folder pair whose source is named source; a
// folder never seen gets an empty state.
func (d *Dir) Load(source string) (*Folder, error) {
	b, err := os.ReadFile(d.folderFile(source))
	if errors.Is(err, os.ErrNotExist) {
		return &Folder{Source: source, Copied: map[uint32]Entry{}}, nil
	}
	if err != nil {
		return nil, failure.New(failure.Local, failure.ScopeFolder, "read the state of "+source, err)
	}
	var f Folder
	if err := json.Unmarshal(b, &f); err != nil || f.Source != source {
		// A damaged state is not fatal: identity matching on the target
		// recognises what is already there, so nothing is duplicated.
		return &Folder{Source: source, Copied: map[uint32]Entry{}}, nil
	}
	if f.Copied == nil {
		f.Copied = map[uint32]Entry{}
	}
	return &f, nil
}

// Save writes a folder pair's state atomically.
func (d *Dir) Save(f *Folder) error {
	f.Updated = time.Now().UTC()
	b, err := json.Marshal(f)
	if err != nil {
		return err
	}
	if err := atomicfile.WriteFile(d.folderFile(f.Source), b, 0o600); err != nil {
		return failure.New(failure.Local, failure.ScopeAccount, "save the migration state", err)
	}
	return nil
}

// Record is one line of the journal.
type Record struct {
	Time    time.Time    `json:"time"`
	Run     string       `json:"run,omitempty"`
	Event   string       `json:"event"`
	Step    string       `json:"step,omitempty"`
	Source  string       `json:"source,omitempty"`
	Target  string       `json:"target,omitempty"`
	Folder  string       `json:"folder,omitempty"`
	UID     uint32       `json:"uid,omitempty"`
	Subject string       `json:"subject,omitempty"`
	From    string       `json:"from,omitempty"`
	Kind    failure.Kind `json:"kind,omitzero"`
	Error   string       `json:"error,omitempty"`
	Count   int          `json:"count,omitempty"`
	Bytes   int64        `json:"bytes,omitempty"`
	Detail  string       `json:"detail,omitempty"`
}

// JournalFile is the journal's file name in the state directory.
const JournalFile = "journal.jsonl"

// Log appends a record to the journal (JSON lines). Errors writing the
// journal do not stop a migration; they are returned for the caller to show.
func (d *Dir) Log(r Record) error {
	if r.Time.IsZero() {
		r.Time = time.Now().UTC()
	}
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.j == nil {
		f, err := os.OpenFile(filepath.Join(d.path, JournalFile), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
		if err != nil {
			return fmt.Errorf("open the journal: %w", err)
		}
		d.j = f
	}
	_, err = d.j.Write(append(b, '\n'))
	return err
}

// Sync flushes the journal to disk.
func (d *Dir) Sync() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.j == nil {
		return nil
	}
	return d.j.Sync()
}

// Close closes the journal.
func (d *Dir) Close() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.j == nil {
		return nil
	}
	err := d.j.Close()
	d.j = nil
	return err
}

// ReadJournal reads every record of a journal file.
func ReadJournal(path string) ([]Record, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var out []Record
	for _, line := range strings.Split(string(b), "\n") {
		if strings.TrimSpace(line) == "" {
			continue
		}
		var r Record
		if json.Unmarshal([]byte(line), &r) == nil {
			out = append(out, r)
		}
	}
	return out, nil
}
