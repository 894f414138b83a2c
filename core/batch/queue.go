// Package batch migrates many mailboxes at once, as consultants and office
// administrators do: account pairs are imported from a CSV list (imapsync's
// batch format or a file with a header row), their passwords go straight
// into the keychain, and a persistent queue copies N mailboxes in parallel
// with a cap on connections per server, can be paused and resumed, retries
// only what failed, re-runs everything to copy what is new, and reports on
// every mailbox in HTML and CSV.
//
// The queue is a JSON file in the batch folder, rewritten atomically after
// every status change; each mailbox's copier state and journal live in a
// folder of their own below it (see copier.PairDir). Neither ever holds a
// password.
package batch

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"mailmover/core/atomicfile"
	"mailmover/core/failure"
	"mailmover/core/secret"
)

// QueueFile is the queue's file name in the batch folder.
const QueueFile = "queue.json"

// MailboxDir is the folder, below the batch folder, holding each pair's
// copier state and journal.
const MailboxDir = "mailboxes"

// queueVersion is the version of the queue file format.
const queueVersion = 1

// ErrPaused is returned by Run when Pause stopped it.
var ErrPaused = errors.New("the batch was paused")

// ErrRunning is returned by Run when the queue is already running.
var ErrRunning = errors.New("the batch is already running")

// Settings are the options a front end chose for a batch, kept with the
// queue so that a resumed batch runs as it was started. They hold no secret.
type Settings struct {
	// Parallel is how many mailboxes are copied at once.
	Parallel int `json:"parallel,omitempty"`
	// PerServer caps the connections to one server (0: no cap).
	PerServer int `json:"perServer,omitempty"`
	// Connections is how many folders of one mailbox are copied at once.
	Connections int `json:"connections,omitempty"`
	// SourceCAFile and TargetCAFile are PEM files of extra certificates to trust.
	SourceCAFile string `json:"sourceCaFile,omitempty"`
	TargetCAFile string `json:"targetCaFile,omitempty"`
}

// file is the JSON layout of the queue file. It has no field for a secret.
type file struct {
	Version  int       `json:"version"`
	NextID   int       `json:"nextId"`
	Settings Settings  `json:"settings"`
	Updated  time.Time `json:"updated"`
	Items    []*Item   `json:"items"`
}

// Queue is a persistent list of mailbox pairs to migrate. It is safe for
// concurrent use: a front end may read Items, Import more pairs or Pause
// while Run works.
type Queue struct {
	dir string

	mu      sync.Mutex
	f       file
	running bool
	paused  bool
	cancel  context.CancelCauseFunc
	wake    chan struct{}
	saveErr error
}

// Open reads the queue kept in dir, creating the folder if needed. Items
// that were running when the process ended (a crash, a kill, a power cut)
// are waiting again: their copy resumes where it stopped. While another
// process runs the batch, its items are shown as they are; Run then refuses
// to start.
func Open(dir string) (*Queue, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, failure.New(failure.Local, failure.ScopeAccount, "create the batch folder", err)
	}
	q := &Queue{dir: dir, f: file{Version: queueVersion}, wake: make(chan struct{}, 1)}
	b, err := os.ReadFile(filepath.Join(dir, QueueFile))
	if errors.Is(err, os.ErrNotExist) {
		return q, nil
	}
	if err != nil {
		return nil, failure.New(failure.Local, failure.ScopeAccount, "read the batch queue", err)
	}
	if len(bytes.TrimSpace(b)) > 0 {
		if err := json.Unmarshal(b, &q.f); err != nil {
			return nil, failure.New(failure.Malformed, failure.ScopeAccount, "read the batch queue",
				fmt.Errorf("%s is damaged (%w): import the list again into a new folder", filepath.Join(dir, QueueFile), err))
		}
		if q.f.Version > queueVersion {
			return nil, failure.Newf(failure.Config, failure.ScopeAccount, "%s was written by a newer Mailmover (format %d): update Mailmover", filepath.Join(dir, QueueFile), q.f.Version)
		}
	}
	q.f.Version = queueVersion
	unlock, err := lockDir(dir)
	if err != nil {
		// Another process is running the batch: its items really run.
		return q, nil
	}
	unlock()
	for _, it := range q.f.Items {
		if it.Status == Running || it.Status == "" {
			it.Status = Waiting
			it.Cause, it.Kind, it.Retryable = CauseInterrupted, failure.Cancelled, true
			it.Reason = "interrupted: resumes where it stopped"
		}
	}
	return q, nil
}

// Dir returns the batch folder.
func (q *Queue) Dir() string { return q.dir }

// Items returns a snapshot of every item, in queue order.
func (q *Queue) Items() []Item {
	q.mu.Lock()
	defer q.mu.Unlock()
	out := make([]Item, len(q.f.Items))
	for i, it := range q.f.Items {
		out[i] = it.clone()
	}
	return out
}

// Item returns a snapshot of the item with the given ID.
func (q *Queue) Item(id string) (Item, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if it := q.find(id); it != nil {
		return it.clone(), true
	}
	return Item{}, false
}

// Settings returns the settings kept with the queue.
func (q *Queue) Settings() Settings {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.f.Settings
}

// SetSettings keeps s with the queue.
func (q *Queue) SetSettings(s Settings) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.f.Settings = s
	return q.save()
}

// Running reports whether Run is working on the queue in this process.
func (q *Queue) Running() bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.running
}

// Pause stops the queue: no new mailbox is started, and the running ones
// are cancelled cleanly and wait again (their copy resumes where it stopped
// on the next Run). Run then returns ErrPaused. Pausing a queue that is not
// running does nothing.
func (q *Queue) Pause() {
	q.mu.Lock()
	defer q.mu.Unlock()
	if !q.running {
		return
	}
	q.paused = true
	if q.cancel != nil {
		q.cancel(ErrPaused)
	}
}

// RetryFailed puts every failed item, and every item that needed attention,
// back to waiting, and returns how many. Run copies them next, resuming
// where each stopped.
func (q *Queue) RetryFailed() (int, error) {
	return q.reset(func(s Status) bool { return s == Failed || s == NeedsAttention })
}

// ResetAll puts every item that is not running back to waiting, and returns
// how many: the next Run copies only what is new since the last one and
// brings changed flags over (the cutover's final delta).
func (q *Queue) ResetAll() (int, error) {
	return q.reset(func(s Status) bool { return s != Running && s != Waiting })
}

func (q *Queue) reset(match func(Status) bool) (int, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	n := 0
	for _, it := range q.f.Items {
		if match(it.Status) {
			it.Status, it.Reason, it.Cause, it.Kind, it.Retryable = Waiting, "", "", failure.Unknown, false
			n++
		}
	}
	if n == 0 {
		return 0, nil
	}
	q.poke()
	return n, q.save()
}

// Remove takes items that are not running out of the queue. Their
// passwords stay in the keychain and their copier state on disk.
func (q *Queue) Remove(ids ...string) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	drop := map[string]bool{}
	for _, id := range ids {
		it := q.find(id)
		if it == nil {
			return failure.Newf(failure.Config, failure.ScopeAccount, "no mailbox %q in the batch", id)
		}
		if it.Status == Running {
			return failure.Newf(failure.Config, failure.ScopeAccount, "%s is being copied: pause the batch first", it.Name())
		}
		drop[id] = true
	}
	kept := q.f.Items[:0]
	for _, it := range q.f.Items {
		if !drop[it.ID] {
			kept = append(kept, it)
		}
	}
	q.f.Items = kept
	return q.save()
}

// SetPassword stores the password of one side of an item in kc and, if the
// item was waiting for it, puts it back to waiting. The password is never
// written to the queue.
func (q *Queue) SetPassword(id string, w Which, password string, kc secret.Keychain) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	it := q.find(id)
	if it == nil {
		return failure.Newf(failure.Config, failure.ScopeAccount, "no mailbox %q in the batch", id)
	}
	side := it.Source
	if w == Target {
		side = it.Target
	}
	if password == "" {
		return failure.Newf(failure.Config, failure.ScopeAccount, "empty password for %s", side)
	}
	if err := kc.Set(side.SecretKey(), password); err != nil {
		return failure.New(failure.Local, failure.ScopeAccount, "store the password", err)
	}
	if it.Status == NeedsAttention && (it.Cause == CausePassword || it.Cause == CauseLogin) || it.Status == Failed && it.Cause == CauseLogin {
		it.Status, it.Reason, it.Cause, it.Kind, it.Retryable = Waiting, "", "", failure.Unknown, false
		q.poke()
	}
	return q.save()
}

// ImportOptions tune Import.
type ImportOptions struct {
	// SourceMaster and TargetMaster, if User is set, log in on that side
	// as an administrator for every row that has no password for it
	// (Dovecot master users: login USER*MASTER with the master's
	// password). A Password given here is stored in the keychain under
	// secret.AccountKey(User, host) for every host of that side.
	SourceMaster, TargetMaster Master
}

// Master is an administrator login that may act for any user of a server.
type Master struct {
	User     string
	Password string
}

// ImportReport says what an import did. It holds no secret.
type ImportReport struct {
	// Rows is the number of usable rows read.
	Rows int `json:"rows"`
	// Added and Updated count new pairs and pairs already in the queue.
	Added   int `json:"added"`
	Updated int `json:"updated"`
	// Passwords counts the passwords stored in the keychain.
	Passwords int `json:"passwords"`
	// NeedPassword counts pairs marked needing attention for a missing password.
	NeedPassword int `json:"needPassword"`
	// Errors lists the rows that could not be imported.
	Errors []RowError `json:"errors,omitempty"`
}

// Import reads account pairs from a CSV list (see the package doc and
// ImportWith) into the queue. Passwords go straight into kc; the queue
// never holds them, and the list itself is not kept: tell the user to
// delete it.
func (q *Queue) Import(ctx context.Context, r io.Reader, kc secret.Keychain) (ImportReport, error) {
	return q.ImportWith(ctx, r, kc, ImportOptions{})
}

// ImportWith is Import with options. Two forms are read:
//
//   - imapsync's batch file, host1;user1;password1;host2;user2;password2 per
//     line (further fields ignored; a host may carry :port, 143 meaning
//     STARTTLS, anything else implicit TLS);
//   - a CSV list whose first line names the columns: source_email,
//     source_host, source_port, source_security, source_username,
//     source_password and the same with target_ (also src_/dst_, old_/new_,
//     from_/to_, or host1/user1/password1 ... host2; comma, semicolon or tab
//     separated, quoted as in RFC 4180).
//
// Blank lines and lines starting with '#' are skipped. A pair already in
// the queue (same user, host and port on both sides) is updated, keeping
// its status. A row without a password for a side, and no master login for
// it, is marked needing attention. Unusable rows are listed in the report
// and the others imported.
func (q *Queue) ImportWith(ctx context.Context, r io.Reader, kc secret.Keychain, opts ImportOptions) (ImportReport, error) {
	var rep ImportReport
	rows, errs, err := parseCSV(r)
	if err != nil {
		return rep, err
	}
	rep.Errors = errs
	rep.Rows = len(rows)
	if kc == nil {
		return rep, failure.Newf(failure.Config, failure.ScopeAccount, "no keychain to keep the passwords in")
	}
	masterStored := map[string]bool{}
	type pending struct {
		it      Item
		missing []Side
	}
	var items []pending
	for _, rw := range rows {
		if err := ctx.Err(); err != nil {
			return rep, err
		}
		p := pending{it: Item{Line: rw.line, Source: rw.src, Target: rw.dst}}
		for _, s := range []struct {
			side   *Side
			pw     string
			has    bool
			master Master
		}{
			{&p.it.Source, rw.srcPW, rw.srcHasPW, opts.SourceMaster},
			{&p.it.Target, rw.dstPW, rw.dstHasPW, opts.TargetMaster},
		} {
			switch {
			case s.has:
				if err := kc.Set(s.side.SecretKey(), s.pw); err != nil {
					return rep, failure.New(failure.Local, failure.ScopeAccount, "store a password in the keychain", err)
				}
				rep.Passwords++
			case s.master.User != "":
				s.side.Master = s.master.User
				if s.master.Password != "" && !masterStored[s.side.SecretKey()] {
					if err := kc.Set(s.side.SecretKey(), s.master.Password); err != nil {
						return rep, failure.New(failure.Local, failure.ScopeAccount, "store a password in the keychain", err)
					}
					masterStored[s.side.SecretKey()] = true
					rep.Passwords++
				}
			default:
				if _, err := kc.Get(s.side.SecretKey()); err != nil {
					p.missing = append(p.missing, *s.side)
				}
			}
		}
		items = append(items, p)
	}

	q.mu.Lock()
	defer q.mu.Unlock()
	byKey := map[string]*Item{}
	for _, it := range q.f.Items {
		byKey[it.key()] = it
	}
	for _, p := range items {
		it := byKey[p.it.key()]
		if it == nil {
			q.f.NextID++
			n := p.it
			n.ID = strconv.Itoa(q.f.NextID)
			n.Status = Waiting
			it = &n
			q.f.Items = append(q.f.Items, it)
			byKey[it.key()] = it
			rep.Added++
		} else {
			rep.Updated++
			if it.Status == Running {
				continue // its settings change on the next run
			}
			it.Line, it.Source, it.Target = p.it.Line, p.it.Source, p.it.Target
			if it.Cause == CausePassword || it.Cause == CauseLogin {
				it.Status, it.Reason, it.Cause, it.Kind, it.Retryable = Waiting, "", "", failure.Unknown, false
			}
		}
		if len(p.missing) > 0 {
			rep.NeedPassword++
			it.Status, it.Cause, it.Kind, it.Retryable = NeedsAttention, CausePassword, failure.Config, false
			it.Reason = missingReason(p.missing)
		}
	}
	q.poke()
	return rep, q.save()
}

func missingReason(missing []Side) string {
	s := "password missing for " + missing[0].Username + " on " + missing[0].Host
	if len(missing) > 1 {
		s += " and for " + missing[1].Username + " on " + missing[1].Host
	}
	return s
}

// find returns the item with the given ID. Call with q.mu held.
func (q *Queue) find(id string) *Item {
	for _, it := range q.f.Items {
		if it.ID == id {
			return it
		}
	}
	return nil
}

// poke wakes a running scheduler to look for new work. Call with q.mu held.
func (q *Queue) poke() {
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

// save writes the queue atomically. Call with q.mu held.
func (q *Queue) save() error {
	q.f.Updated = time.Now().UTC()
	b, err := json.MarshalIndent(&q.f, "", "  ")
	if err != nil {
		return err
	}
	if err := atomicfile.WriteFile(filepath.Join(q.dir, QueueFile), append(b, '\n'), 0o600); err != nil {
		q.saveErr = err
		return failure.New(failure.Local, failure.ScopeAccount, "save the batch queue", err)
	}
	q.saveErr = nil
	return nil
}
