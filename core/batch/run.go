package batch

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"mailmover/core/copier"
	"mailmover/core/failure"
	"mailmover/core/imapstore"
	"mailmover/core/secret"
	"mailmover/core/store"
)

// EventKind says what an Event reports.
type EventKind int

const (
	// EventStatus: an item changed status (started, finished, stopped).
	EventStatus EventKind = iota
	// EventProgress: a running item's counts moved (throttled), or its
	// copier reported a reconnect (Message set).
	EventProgress
)

// String returns "status" or "progress".
func (k EventKind) String() string {
	if k == EventProgress {
		return "progress"
	}
	return "status"
}

// MarshalText encodes the kind by name.
func (k EventKind) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

// Event reports a change in the queue, for a front end.
type Event struct {
	Kind EventKind `json:"event"`
	// Item is a snapshot of the item after the change.
	Item Item `json:"item"`
	// Message is a plain-language note (a reconnect), if any.
	Message string `json:"message,omitempty"`
}

// RunOptions tune Run.
type RunOptions struct {
	// Parallel is how many mailboxes are copied at once (default 2).
	Parallel int
	// PerServer caps the connections open to one server (by host name)
	// across every running mailbox; 0 means no cap. A mailbox copying
	// with C connections holds C on its source server and 2C on its
	// target (one to read, one to write, per folder being copied). A
	// mailbox that alone needs more than the cap still runs, alone on
	// that server.
	PerServer int
	// Connections is how many folders of one mailbox are copied at once (default 1).
	Connections int
	// Keychain holds the passwords (required).
	Keychain secret.Keychain
	// SourceCAPEM and TargetCAPEM are extra trusted certificates (PEM) for
	// servers with their own certificate.
	SourceCAPEM, TargetCAPEM []byte
	// AllowPlain permits security "none", to a loopback address only.
	AllowPlain bool
	// Timeout bounds dialling and each command's silence (0: the imapstore default).
	Timeout time.Duration
	// ProgressInterval spaces progress events of one item (default 250 ms).
	ProgressInterval time.Duration
	// OnEvent, if not nil, receives status changes and throttled
	// progress. It is called from the run's goroutines, never with a lock
	// held; it must not block for long.
	OnEvent func(Event)
}

func (o *RunOptions) parallel() int {
	if o.Parallel <= 0 {
		return 2
	}
	return o.Parallel
}

func (o *RunOptions) connections() int { return max(o.Connections, 1) }
func (o *RunOptions) interval() time.Duration {
	if o.ProgressInterval <= 0 {
		return 250 * time.Millisecond
	}
	return o.ProgressInterval
}

// Run copies the waiting items, Parallel at a time, until none is left
// waiting. Each item is planned, copied (resuming where an earlier run
// stopped, never duplicating) and verified, then ends done, done with
// problems, failed or needing attention, with the reason. Run returns nil
// when every item has ended that way, whatever its status; ErrPaused after
// Pause; ctx's error when ctx is cancelled (the running items then wait
// again). Only one Run may work on a batch folder at a time, across
// processes too.
func (q *Queue) Run(ctx context.Context, opts RunOptions) error {
	if opts.Keychain == nil {
		return failure.Newf(failure.Config, failure.ScopeAccount, "no keychain to read the passwords from")
	}
	q.mu.Lock()
	if q.running {
		q.mu.Unlock()
		return ErrRunning
	}
	unlock, err := lockDir(q.dir)
	if err != nil {
		q.mu.Unlock()
		return err
	}
	defer unlock()
	runCtx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	q.running, q.paused, q.cancel = true, false, cancel
	q.mu.Unlock()
	defer func() {
		q.mu.Lock()
		q.running, q.cancel = false, nil
		q.mu.Unlock()
	}()

	servers := newServers(opts.PerServer, opts.connections())
	done := make(chan *Item)
	active := 0
	for {
		var started []Item
		q.mu.Lock()
		if !q.paused && runCtx.Err() == nil {
			for _, it := range q.f.Items {
				if active >= opts.parallel() {
					break
				}
				if it.Status != Waiting || !servers.take(it) {
					continue
				}
				active++
				now := time.Now().UTC()
				it.Status, it.Reason, it.Cause, it.Kind, it.Retryable = Running, "", "", failure.Unknown, false
				it.Runs++
				it.LastStarted, it.Finished = now, time.Time{}
				if it.Started.IsZero() {
					it.Started = now
				}
				it.Counts = Counts{TotalCopied: it.Counts.TotalCopied, TotalCopiedBytes: it.Counts.TotalCopiedBytes}
				it.Skipped = nil
				started = append(started, it.clone())
			}
			if len(started) > 0 {
				q.save()
			}
		}
		q.mu.Unlock()
		for _, it := range started {
			q.emit(&opts, Event{Kind: EventStatus, Item: it})
			go func(it Item) {
				q.runItem(runCtx, it, &opts)
				done <- &it
			}(it)
		}
		if active == 0 {
			break
		}
		select {
		case it := <-done:
			servers.release(it)
			active--
		case <-q.wake:
		}
	}
	q.mu.Lock()
	paused, saveErr := q.paused, q.saveErr
	q.mu.Unlock()
	switch {
	case ctx.Err() != nil:
		return ctx.Err()
	case paused:
		return ErrPaused
	case saveErr != nil:
		return failure.New(failure.Local, failure.ScopeAccount, "save the batch queue", saveErr)
	}
	return nil
}

func (q *Queue) emit(opts *RunOptions, e Event) {
	if opts.OnEvent != nil {
		opts.OnEvent(e)
	}
}

// update changes an item under the lock, saves the queue if save is set,
// and returns a snapshot.
func (q *Queue) update(id string, save bool, f func(it *Item)) Item {
	q.mu.Lock()
	defer q.mu.Unlock()
	it := q.find(id)
	if it == nil {
		return Item{ID: id}
	}
	f(it)
	if save {
		q.save()
	}
	return it.clone()
}

// sideError remembers which side a connection failure came from.
type sideError struct {
	side Which
	err  error
}

func (e *sideError) Error() string { return e.err.Error() }
func (e *sideError) Unwrap() error { return e.err }

// endpoint returns the copier endpoint of a side, with its password.
func endpoint(s Side, w Which, opts *RunOptions) (copier.Endpoint, string, error) {
	pw, err := opts.Keychain.Get(s.SecretKey())
	if errors.Is(err, secret.ErrNotFound) || err == nil && pw == "" {
		return copier.Endpoint{}, "", &sideError{w, failure.Newf(failure.Config, failure.ScopeAccount, "password missing")}
	}
	if err != nil {
		return copier.Endpoint{}, "", &sideError{w, failure.New(failure.Local, failure.ScopeAccount, "read the password from the keychain", err)}
	}
	cfg := s.config(pw)
	cfg.AllowPlain, cfg.Timeout = opts.AllowPlain, opts.Timeout
	cfg.CAPEM = opts.SourceCAPEM
	if w == Target {
		cfg.CAPEM = opts.TargetCAPEM
	}
	e := copier.Endpoint{
		// The state folder is named after the mailbox, not the login, so
		// that switching to a master login keeps it.
		Name: s.String(),
		Dial: func(ctx context.Context) (copier.TargetConn, error) {
			c, err := imapstore.Open(ctx, cfg)
			if err != nil {
				return nil, &sideError{w, err}
			}
			return c, nil
		},
	}
	return e, pw, nil
}

// job is one run of one item.
type job struct {
	q       *Queue
	it      Item
	opts    *RunOptions
	start   time.Time
	secrets []string
	plan    *copier.Plan
}

// runItem plans, copies and verifies one item, and records how it ended.
func (q *Queue) runItem(ctx context.Context, it Item, opts *RunOptions) {
	j := &job{q: q, it: it, opts: opts, start: time.Now()}
	src, spw, err := endpoint(it.Source, Source, opts)
	if err != nil {
		j.fail(ctx, err)
		return
	}
	dst, dpw, err := endpoint(it.Target, Target, opts)
	if err != nil {
		j.fail(ctx, err)
		return
	}
	j.secrets = []string{spw, dpw}
	j.migrate(ctx, src, dst)
}

// finish records how the run ended.
func (j *job) finish(st Status, cause Cause, kind failure.Kind, retry bool, reason string) {
	snap := j.q.update(j.it.ID, true, func(x *Item) {
		x.Status, x.Cause, x.Kind, x.Retryable = st, cause, kind, retry
		x.Reason = scrub(reason, j.secrets)
		d := time.Since(j.start)
		x.LastRun = d
		x.Elapsed += d
		if st.Final() {
			x.Finished = time.Now().UTC()
		}
		if d > 0 {
			x.Counts.BytesPerSecond = float64(x.Counts.CopiedBytes) / d.Seconds()
		}
	})
	j.q.emit(j.opts, Event{Kind: EventStatus, Item: snap})
}

// fail records what stopped the run.
func (j *job) fail(ctx context.Context, err error) {
	st, cause, reason := classify(ctx, err, &j.it, j.plan)
	kind := failure.KindOf(err)
	if cause == CauseInterrupted {
		kind = failure.Cancelled
	}
	j.finish(st, cause, kind, cause == CauseConnection || cause == CauseInterrupted, reason)
}

// migrate plans, copies and verifies.
func (j *job) migrate(ctx context.Context, src, dst copier.Endpoint) {
	q, id := j.q, j.it.ID
	plan, err := copier.MakePlan(ctx, src, dst, copier.Options{})
	if err != nil {
		j.fail(ctx, err)
		return
	}
	j.plan = plan
	stateRoot := filepath.Join(q.dir, MailboxDir)
	snap := q.update(id, true, func(x *Item) {
		x.Counts.Messages, x.Counts.Bytes = plan.Messages, plan.Bytes
		x.StateDir = copier.PairDir(stateRoot, src, dst)
	})
	q.emit(j.opts, Event{Kind: EventProgress, Item: snap})

	onEvent := copier.Throttle(j.opts.interval(), func(e copier.Event) {
		switch e.Kind {
		case copier.EventProgress, copier.EventFolderDone, copier.EventReconnect:
		default:
			return
		}
		snap := q.update(id, false, func(x *Item) { x.Counts.live(e.Progress) })
		q.emit(j.opts, Event{Kind: EventProgress, Item: snap, Message: scrub(e.Message, j.secrets)})
	})
	res, runErr := copier.Run(ctx, src, dst, plan, copier.Options{StateDir: stateRoot, Connections: j.opts.connections()}, onEvent)
	if res != nil {
		q.update(id, true, func(x *Item) {
			x.Counts.live(res.Progress)
			x.Counts.TotalCopied += res.Progress.Copied
			x.Counts.TotalCopiedBytes += res.Progress.CopiedBytes
			x.Counts.Skipped = len(res.Problems)
			x.Skipped = nil
			for i, p := range res.Problems {
				if i == maxSkipped {
					break
				}
				x.Skipped = append(x.Skipped, Skipped{Folder: p.Folder, Subject: p.Subject, From: p.From, Date: p.Date, Size: p.Size, Kind: p.Kind, Reason: scrub(p.Err, j.secrets)})
			}
		})
	}
	if runErr != nil {
		j.fail(ctx, runErr)
		return
	}
	ver, err := copier.Verify(ctx, src, dst, plan)
	if err != nil {
		j.fail(ctx, err)
		return
	}
	q.update(id, false, func(x *Item) {
		c := &x.Counts
		c.Verified = true
		c.SourceMessages, c.TargetMessages, c.SourceBytes, c.TargetBytes = 0, 0, 0, 0
		for _, f := range ver.Folders {
			c.SourceMessages += f.SourceMessages
			c.TargetMessages += f.TargetMessages
			c.SourceBytes += f.SourceBytes
			c.TargetBytes += f.TargetBytes
		}
		c.Missing, c.FlagDiffs = ver.Missing, ver.FlagDiffs
	})
	if res.Complete() && ver.OK() {
		j.finish(Done, "", failure.Unknown, false, "")
		return
	}
	var parts []string
	if n := len(res.Problems); n > 0 {
		parts = append(parts, plural(n, "message or folder", "messages or folders")+" not copied")
	}
	if ver.Missing > 0 {
		parts = append(parts, plural(ver.Missing, "message", "messages")+" missing on the target")
	}
	if ver.FlagDiffs > 0 {
		parts = append(parts, plural(ver.FlagDiffs, "message", "messages")+" with other flags on the target")
	}
	if ver.Errors > 0 {
		parts = append(parts, plural(ver.Errors, "folder", "folders")+" could not be checked")
	}
	kind := failure.Unknown
	if len(res.Problems) > 0 {
		kind = res.Problems[0].Kind
	}
	j.finish(DoneWithProblems, CauseMessages, kind, false, strings.Join(parts, "; "))
}

// live copies a copier's progress into the counts.
func (c *Counts) live(p copier.Progress) {
	c.Messages, c.Bytes = p.TotalMessages, p.TotalBytes
	c.Done, c.DoneBytes = p.DoneMessages, p.DoneBytes
	c.Copied, c.CopiedBytes = p.Copied, p.CopiedBytes
	c.Existing, c.FlagsUpdated, c.Skipped = p.Existing, p.FlagsUpdated, p.Failed
	_, c.BytesPerSecond = p.Rate(time.Now())
}

// classify turns what stopped an item into its status, cause and reason:
// a refused login fails ("login refused for USER on HOST"), a full target
// needs attention, a connection lost beyond the copier's retries fails and
// may be retried, a pause or a cancel waits again.
func classify(ctx context.Context, err error, it *Item, plan *copier.Plan) (Status, Cause, string) {
	if ctx.Err() != nil || errors.Is(err, context.Canceled) || failure.KindOf(err) == failure.Cancelled {
		if errors.Is(context.Cause(ctx), ErrPaused) {
			return Waiting, CauseInterrupted, "paused: resumes where it stopped"
		}
		return Waiting, CauseInterrupted, "stopped before the end: resumes where it stopped"
	}
	w, known := Source, false
	var se *sideError
	if errors.As(err, &se) {
		w, known = se.side, true
	}
	side := func(w Which) Side {
		if w == Target {
			return it.Target
		}
		return it.Source
	}
	kind := failure.KindOf(err)
	if !known {
		// Failures of the writing connection, which the copier dials itself.
		switch {
		case kind == failure.Quota:
			w, known = Target, true
		case strings.Contains(err.Error(), it.Target.Addr()) && !strings.Contains(err.Error(), it.Source.Addr()):
			w, known = Target, true
		case strings.Contains(err.Error(), it.Source.Addr()) && !strings.Contains(err.Error(), it.Target.Addr()):
			w, known = Source, true
		}
	}
	s := side(w)
	where := s.Host
	if !known {
		where = it.Source.Host + " or " + it.Target.Host
	}
	switch kind {
	case failure.Auth:
		who := s.Username
		if s.Master != "" {
			who = s.Login() + " (master user " + s.Master + ")"
		}
		return Failed, CauseLogin, "login refused for " + who + " on " + where
	case failure.Quota:
		reason := "the target mailbox " + it.Target.Username + " on " + it.Target.Host + " is full"
		if plan != nil && plan.Target.Quota != nil && plan.Target.Quota.Limit > 0 {
			q := plan.Target.Quota
			reason += fmt.Sprintf(" (quota %s, the source holds %s)", store.FormatBytes(q.Limit), store.FormatBytes(plan.Bytes))
		}
		return NeedsAttention, CauseQuota, reason + ": raise its quota, then retry"
	case failure.Connection, failure.Throttled:
		return Failed, CauseConnection, "connection to " + where + " failed after retries: " + err.Error()
	case failure.TLS:
		return Failed, CauseTLS, "secure connection to " + where + " failed: " + err.Error()
	case failure.Config:
		if strings.HasSuffix(err.Error(), "password missing") {
			return NeedsAttention, CausePassword, "password missing for " + s.Login() + " on " + s.Host
		}
		return NeedsAttention, CauseConfig, err.Error()
	case failure.Local:
		return Failed, CauseLocal, err.Error()
	}
	return Failed, CauseOther, err.Error()
}

// scrub hides any of the secrets that might appear in a server's text.
func scrub(s string, secrets []string) string {
	for _, p := range secrets {
		if len(p) >= 4 {
			s = strings.ReplaceAll(s, p, "[hidden]")
		}
	}
	return s
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

// servers counts the connections held on each server by running items.
type servers struct {
	limit, conns int
	used         map[string]int
	held         map[string]map[string]int
}

func newServers(limit, conns int) *servers {
	return &servers{limit: limit, conns: conns, used: map[string]int{}, held: map[string]map[string]int{}}
}

// take reserves an item's connections if they fit under the cap.
func (s *servers) take(it *Item) bool {
	need := map[string]int{}
	need[strings.ToLower(it.Source.Host)] += s.conns
	need[strings.ToLower(it.Target.Host)] += 2 * s.conns
	if s.limit > 0 {
		for h, n := range need {
			n = min(n, s.limit)
			need[h] = n
			if s.used[h]+n > s.limit {
				return false
			}
		}
	}
	for h, n := range need {
		s.used[h] += n
	}
	s.held[it.ID] = need
	return true
}

func (s *servers) release(it *Item) {
	for h, n := range s.held[it.ID] {
		s.used[h] -= n
	}
	delete(s.held, it.ID)
}
