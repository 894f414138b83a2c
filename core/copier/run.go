package copier

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"iter"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"sync"
	"time"

	"mailmover/core/failure"
	"mailmover/core/state"
	"mailmover/core/store"
)

// EventKind says what an Event reports.
type EventKind int

const (
	// EventStart: totals are known, nothing is written yet.
	EventStart EventKind = iota
	// EventFolderStart: a folder is being compared and copied.
	EventFolderStart
	// EventProgress: messages were copied or found already there.
	EventProgress
	// EventFolderDone: a folder is finished (Folder and FolderResult set).
	EventFolderDone
	// EventProblem: something was not copied (Problem set).
	EventProblem
	// EventReconnect: a connection was lost or throttled; retrying after a pause.
	EventReconnect
	// EventDone: the run is over.
	EventDone
)

var eventNames = [...]string{"start", "folder-start", "progress", "folder-done", "problem", "reconnect", "done"}

func (k EventKind) String() string { return eventNames[k] }

// MarshalText encodes the kind by name.
func (k EventKind) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

// Progress is a snapshot of a run's counters.
type Progress struct {
	TotalMessages int   `json:"totalMessages"`
	TotalBytes    int64 `json:"totalBytes"`
	// DoneMessages counts messages dealt with: copied, already there, or failed.
	DoneMessages int       `json:"doneMessages"`
	DoneBytes    int64     `json:"doneBytes"`
	Copied       int       `json:"copied"`
	CopiedBytes  int64     `json:"copiedBytes"`
	Existing     int       `json:"existing"`
	FlagsUpdated int       `json:"flagsUpdated"`
	Failed       int       `json:"failed"`
	Folders      int       `json:"folders"`
	FoldersDone  int       `json:"foldersDone"`
	Reconnects   int       `json:"reconnects"`
	Started      time.Time `json:"started"`
}

// Rate returns copied bytes and messages per second since the start.
func (p Progress) Rate(now time.Time) (msgPerSec, bytesPerSec float64) {
	d := now.Sub(p.Started).Seconds()
	if d <= 0 {
		return 0, 0
	}
	return float64(p.Copied) / d, float64(p.CopiedBytes) / d
}

// ETA estimates the time left from the bytes still to go, or 0 if unknown.
func (p Progress) ETA(now time.Time) time.Duration {
	_, bps := p.Rate(now)
	left := p.TotalBytes - p.DoneBytes
	if bps <= 0 || left <= 0 || now.Sub(p.Started) < 2*time.Second {
		return 0
	}
	return time.Duration(float64(left) / bps * float64(time.Second))
}

// Problem is something that did not arrive, and why.
type Problem struct {
	Folder  string        `json:"folder"`
	UID     uint32        `json:"uid,omitempty"`
	Subject string        `json:"subject,omitempty"`
	From    string        `json:"from,omitempty"`
	Date    time.Time     `json:"date,omitzero"`
	Size    int64         `json:"size,omitempty"`
	Kind    failure.Kind  `json:"kind"`
	Scope   failure.Scope `json:"scope"`
	Err     string        `json:"error"`
}

// FolderResult is what happened to one folder.
type FolderResult struct {
	Source       string `json:"source"`
	Target       string `json:"target"`
	Messages     int    `json:"messages"`
	Copied       int    `json:"copied"`
	Existing     int    `json:"existing"`
	FlagsUpdated int    `json:"flagsUpdated"`
	Failed       int    `json:"failed"`
	Bytes        int64  `json:"bytes"`
	Unchanged    bool   `json:"unchanged,omitempty"`
	Err          string `json:"error,omitempty"`
}

// Event is a report from a running migration, for a front end.
type Event struct {
	Kind     EventKind     `json:"event"`
	Folder   string        `json:"folder,omitempty"`
	Progress Progress      `json:"progress"`
	Result   *FolderResult `json:"result,omitempty"`
	Problem  *Problem      `json:"problem,omitempty"`
	// Message is a plain-language note (reconnects).
	Message string `json:"message,omitempty"`
	// Messages, in an EventProgress, counts the messages of Folder this
	// event dealt with (copied, found already there, or failed), so that
	// a front end can keep a count per folder.
	Messages int `json:"messages,omitempty"`
}

// Result is the outcome of a run.
type Result struct {
	Folders  []FolderResult `json:"folders"`
	Problems []Problem      `json:"problems"`
	Progress Progress       `json:"progress"`
	// Err is what stopped the run early, if anything.
	Err error `json:"-"`
	// StateDir is where the state and journal of this pair live.
	StateDir string `json:"stateDir"`
}

// Complete reports whether everything was copied.
func (r *Result) Complete() bool {
	return r.Err == nil && len(r.Problems) == 0
}

// PairDir returns the state directory of a source/target pair under root.
func PairDir(root string, src, dst Endpoint) string {
	return filepath.Join(root, state.PairName(src.Name, dst.Name))
}

// run holds one migration's shared state.
type run struct {
	src, dst Endpoint
	opts     Options
	st       *state.Dir
	id       string
	emit     func(Event)

	mu       sync.Mutex
	progress Progress
	result   Result
	// targets and sources hold every folder's status, read once at the start.
	targets map[string]store.Folder
	sources map[string]store.Folder
	// spare holds connections opened by prepare, for the first worker.
	spare []connPair
	saver *saver
}

// connPair is a worker's source and target connection.
type connPair struct{ sc, tc TargetConn }

func (r *run) event(e Event) {
	r.mu.Lock()
	e.Progress = r.progress
	r.mu.Unlock()
	if r.emit != nil {
		r.emit(e)
	}
}

// add updates the counters and reports progress in a folder.
func (r *run) add(folder string, f func(p *Progress)) {
	r.mu.Lock()
	before := r.progress.DoneMessages
	f(&r.progress)
	n := r.progress.DoneMessages - before
	r.mu.Unlock()
	r.event(Event{Kind: EventProgress, Folder: folder, Messages: n})
}

func (r *run) problem(p Problem) {
	r.mu.Lock()
	r.result.Problems = append(r.result.Problems, p)
	r.mu.Unlock()
	r.st.Log(state.Record{Run: r.id, Event: "failed", Folder: p.Folder, UID: p.UID, Subject: p.Subject, From: p.From, Kind: p.Kind, Error: p.Err})
	r.event(Event{Kind: EventProblem, Folder: p.Folder, Problem: &p})
}

// Run copies every included folder of the plan. It never changes the source
// and never deletes on the target. It is safe to cancel at any moment and to
// run again: what was copied is recorded after each batch, and messages
// already on the target are recognised by identity, so nothing is duplicated.
// onEvent, if not nil, is called from worker goroutines.
func Run(ctx context.Context, src, dst Endpoint, plan *Plan, opts Options, onEvent func(Event)) (*Result, error) {
	if opts.StateDir == "" {
		return nil, failure.Newf(failure.Config, failure.ScopeAccount, "no state folder given")
	}
	dir := PairDir(opts.StateDir, src, dst)
	st, err := state.Open(dir)
	if err != nil {
		return nil, err
	}
	defer st.Close()
	r := &run{src: src, dst: dst, opts: opts, st: st, emit: onEvent, id: time.Now().UTC().Format("20060102T150405.000Z"), saver: newSaver(st)}
	r.result.StateDir = dir
	folders := plan.Included()
	r.progress = Progress{TotalMessages: plan.Messages, TotalBytes: plan.Bytes, Folders: len(folders), Started: time.Now()}
	st.Log(state.Record{Run: r.id, Event: "run-start", Source: src.Name, Target: dst.Name, Count: plan.Messages, Bytes: plan.Bytes})
	r.event(Event{Kind: EventStart})

	runErr := r.prepare(ctx, folders)
	if runErr == nil {
		runErr = r.copyAll(ctx, folders)
	}
	r.closeSpare()
	if err := r.saver.flush(); err != nil && runErr == nil {
		runErr = err
	}
	if runErr == nil && ctx.Err() != nil {
		runErr = ctx.Err()
	}
	r.mu.Lock()
	r.result.Progress = r.progress
	r.result.Err = runErr
	res := r.result
	r.mu.Unlock()
	rec := state.Record{Run: r.id, Event: "run-done", Count: res.Progress.Copied, Bytes: res.Progress.CopiedBytes,
		Detail: fmt.Sprintf("copied %d, already there %d, flags updated %d, failed %d", res.Progress.Copied, res.Progress.Existing, res.Progress.FlagsUpdated, res.Progress.Failed)}
	if runErr != nil {
		rec.Kind, rec.Error = failure.KindOf(runErr), runErr.Error()
	}
	st.Log(rec)
	st.Sync()
	r.event(Event{Kind: EventDone})
	return &res, runErr
}

// prepare creates the target folders, mirroring subscriptions, and reads
// both sides' folder status once for the whole run. The source and the
// target are dealt with at the same time, and the two connections are kept
// for the first worker.
func (r *run) prepare(ctx context.Context, folders []FolderPlan) error {
	type listed struct {
		c       TargetConn
		folders []store.Folder
		err     error
	}
	srcDone := make(chan listed, 1)
	go func() {
		// One listing of the source's status lets unchanged folders be
		// passed over without a connection of their own.
		sc, err := r.dialRetry(ctx, r.src)
		if err != nil {
			srcDone <- listed{err: err}
			return
		}
		sf, err := sc.Folders(ctx)
		srcDone <- listed{sc, sf, err}
	}()
	tc, err := r.prepareTarget(ctx, folders)
	sl := <-srcDone
	if err == nil {
		err = sl.err
	}
	if err != nil {
		closeAll(tc, sl.c)
		return err
	}
	r.sources = map[string]store.Folder{}
	for _, f := range sl.folders {
		r.sources[f.Name] = f
	}
	r.spare = append(r.spare, connPair{sl.c, tc})
	return nil
}

// prepareTarget connects to the target, creates the missing folders and
// reads the target's folder status.
func (r *run) prepareTarget(ctx context.Context, folders []FolderPlan) (TargetConn, error) {
	tc, err := r.dialRetry(ctx, r.dst)
	if err != nil {
		return nil, err
	}
	for _, f := range folders {
		if f.Exists {
			continue
		}
		if err := tc.Create(ctx, f.Target, f.Source.Subscribed); err != nil {
			if failure.ScopeOf(err) == failure.ScopeAccount || ctx.Err() != nil {
				return tc, err
			}
			r.problem(Problem{Folder: f.Source.DisplayName(), Kind: failure.KindOf(err), Scope: failure.ScopeFolder,
				Err: fmt.Sprintf("could not create folder %q on the new server: %v", f.Target, err)})
			continue
		}
		r.st.Log(state.Record{Run: r.id, Event: "folder-created", Folder: f.Source.DisplayName(), Target: f.Target})
	}
	tf, err := tc.Folders(ctx)
	if err != nil {
		return tc, err
	}
	r.targets = map[string]store.Folder{}
	for _, f := range tf {
		r.targets[f.Name] = f
	}
	return tc, nil
}

// closeAll closes connections at the same time (each waits for its LOGOUT).
func closeAll(cs ...TargetConn) {
	var wg sync.WaitGroup
	for _, c := range cs {
		if c != nil {
			wg.Go(func() { c.Close() })
		}
	}
	wg.Wait()
}

// takeSpare hands prepare's connections to a worker, if still there.
func (r *run) takeSpare() (connPair, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.spare) == 0 {
		return connPair{}, false
	}
	p := r.spare[0]
	r.spare = r.spare[1:]
	return p, true
}

// closeSpare closes the connections no worker took.
func (r *run) closeSpare() {
	r.mu.Lock()
	spare := r.spare
	r.spare = nil
	r.mu.Unlock()
	var cs []TargetConn
	for _, p := range spare {
		cs = append(cs, p.sc, p.tc)
	}
	closeAll(cs...)
}

// unchanged reports whether a folder pair needs nothing: the last run
// completed it and neither side changed since (same UIDVALIDITY, UIDNEXT and
// message count, and on the source the same HIGHESTMODSEQ, RFC 7162, so no
// flag changed either). Without CONDSTORE the source is always compared.
func unchanged(fs *state.Folder, fp FolderPlan, src, tgt store.Folder) bool {
	return fs.Complete && fs.Target == fp.Target && src.HighestModSeq != 0 && src.UIDValidity == fs.SourceUIDValidity &&
		src.UIDNext == fs.SourceUIDNext && src.Messages == fs.SourceMessages && src.HighestModSeq == fs.SourceModSeq &&
		tgt.UIDValidity == fs.TargetUIDValidity && tgt.UIDValidity != 0
}

// passOver counts an unchanged folder as done.
func (r *run) passOver(name string, src store.Folder, res *FolderResult) {
	res.Unchanged, res.Messages, res.Existing = true, src.Messages, src.Messages
	r.add(name, func(p *Progress) {
		p.Existing += src.Messages
		p.DoneMessages += src.Messages
		p.DoneBytes += max(src.Size, 0)
	})
}

// largestFirst orders the folders by size, largest first (stable for equal
// sizes): the last folders to start are small ones, so that no connection
// sits idle while another is still on a big folder.
func (r *run) largestFirst(folders []FolderPlan) []FolderPlan {
	size := func(f FolderPlan) int64 {
		if s, ok := r.sources[f.Source.Name]; ok {
			return s.Size
		}
		return f.Source.Size
	}
	out := slices.Clone(folders)
	slices.SortStableFunc(out, func(a, b FolderPlan) int { return cmp.Compare(size(b), size(a)) })
	return out
}

func (r *run) copyAll(ctx context.Context, folders []FolderPlan) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	jobs := make(chan FolderPlan)
	var wg sync.WaitGroup
	n := min(r.opts.connections(), max(len(folders), 1))
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w := &worker{r: r}
			defer w.close()
			for f := range jobs {
				if ctx.Err() != nil {
					continue
				}
				if err := w.folder(ctx, f); err != nil {
					cancel(err)
				}
			}
		}()
	}
	for _, f := range r.largestFirst(folders) {
		if _, ok := r.targets[f.Target]; !ok && !f.Exists {
			continue // could not be created; already reported
		}
		select {
		case jobs <- f:
		case <-ctx.Done():
		}
	}
	close(jobs)
	wg.Wait()
	if err := context.Cause(ctx); err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	return ctx.Err()
}

// dialRetry dials an endpoint, retrying lost connections with backoff.
func (r *run) dialRetry(ctx context.Context, e Endpoint) (TargetConn, error) {
	var err error
	for attempt := 0; attempt <= r.opts.retries(); attempt++ {
		var c TargetConn
		c, err = e.Dial(ctx)
		if err == nil {
			return c, nil
		}
		if !retryable(err) || ctx.Err() != nil {
			return nil, err
		}
		if werr := r.pause(ctx, attempt, err, ""); werr != nil {
			return nil, werr
		}
	}
	return nil, err
}

func retryable(err error) bool {
	k := failure.KindOf(err)
	return k == failure.Connection || k == failure.Throttled
}

var backoffHint = regexp.MustCompile(`(?i)backoff time:?\s*(\d+)`)

// pause waits before a retry: exponential backoff from 1 s to 30 s, or what
// the server suggested ("Suggested Backoff Time: N milliseconds").
func (r *run) pause(ctx context.Context, attempt int, err error, folder string) error {
	d := time.Second << min(attempt, 5)
	if d > 30*time.Second {
		d = 30 * time.Second
	}
	if m := backoffHint.FindStringSubmatch(err.Error()); m != nil {
		if ms, e := strconv.Atoi(m[1]); e == nil && ms > 0 {
			d = time.Duration(ms) * time.Millisecond
		}
	}
	r.mu.Lock()
	r.progress.Reconnects++
	r.mu.Unlock()
	msg := fmt.Sprintf("%v; trying again in %s", err, d.Round(time.Second))
	r.st.Log(state.Record{Run: r.id, Event: "reconnect", Folder: folder, Kind: failure.KindOf(err), Error: err.Error(), Detail: d.String()})
	r.event(Event{Kind: EventReconnect, Folder: folder, Message: msg})
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// worker copies folders over its own pair of connections.
type worker struct {
	r      *run
	sc, tc TargetConn
	// saved is when the folder state was last handed to the saver, unsaved
	// how many copies it does not record yet.
	saved   time.Time
	unsaved int
	// opening, if not nil, is closed when the target's appending connection,
	// opened in the background, is ready (or failed).
	opening chan struct{}
}

// appenderOpener is a target whose appending connection can be opened ahead
// of the first append (imapstore.Session).
type appenderOpener interface {
	OpenAppender(ctx context.Context) error
}

// openAppender starts opening the target's appending connection in the
// background, while the source is listed.
func (w *worker) openAppender(ctx context.Context) {
	o, ok := w.tc.(appenderOpener)
	if !ok || w.opening != nil {
		return
	}
	done := make(chan struct{})
	w.opening = done
	go func() {
		defer close(done)
		o.OpenAppender(ctx) // on failure, the first append tries again and reports
	}()
}

// appenderReady waits for openAppender to finish.
func (w *worker) appenderReady() {
	if w.opening != nil {
		<-w.opening
	}
}

// The folder state is handed to the background saver at most this often
// during a folder (and always at its end): a copy recorded a little late is
// still recognised on the target by its identity after a crash.
const (
	saveEvery    = time.Second
	saveMessages = 500
)

// saveSoon queues the folder state for saving if enough time or messages
// have passed.
func (w *worker) saveSoon(fs *state.Folder, n int) error {
	w.unsaved += n
	if time.Since(w.saved) < saveEvery && w.unsaved < saveMessages {
		return nil
	}
	w.saved, w.unsaved = time.Now(), 0
	return w.r.saver.put(fs)
}

func (w *worker) close() {
	w.appenderReady()
	closeAll(w.sc, w.tc)
	w.sc, w.tc, w.opening = nil, nil, nil
}

// connect gives the worker its connections: prepare's if still unused, else
// new ones, both sides dialled at the same time.
func (w *worker) connect(ctx context.Context) error {
	r := w.r
	if w.sc == nil && w.tc == nil {
		if p, ok := r.takeSpare(); ok {
			w.sc, w.tc = p.sc, p.tc
			return nil
		}
	}
	var wg sync.WaitGroup
	var serr, terr error
	if w.sc == nil {
		wg.Go(func() { w.sc, serr = r.dialRetry(ctx, r.src) })
	}
	if w.tc == nil {
		wg.Go(func() { w.tc, terr = r.dialRetry(ctx, r.dst) })
	}
	wg.Wait()
	if serr != nil {
		return serr
	}
	return terr
}

// folder copies one folder, reconnecting and resuming after lost connections.
// It returns an error only for failures that stop the whole run.
func (w *worker) folder(ctx context.Context, fp FolderPlan) error {
	r := w.r
	name := fp.Source.DisplayName()
	r.event(Event{Kind: EventFolderStart, Folder: name})
	r.st.Log(state.Record{Run: r.id, Event: "folder-start", Folder: name, Target: fp.Target})
	var res FolderResult
	var err error
	if src, ok := r.sources[fp.Source.Name]; ok && r.isUnchanged(fp, src) {
		r.passOver(name, src, &res)
	} else {
		err = w.attempts(ctx, fp, &res)
	}
	res.Source, res.Target = name, fp.Target
	if err != nil && ctx.Err() == nil {
		res.Err = err.Error()
		if failure.ScopeOf(err) != failure.ScopeAccount || failure.KindOf(err) == failure.Refused {
			r.problem(Problem{Folder: name, Kind: failure.KindOf(err), Scope: failure.ScopeFolder, Err: err.Error()})
			err = nil
		}
	}
	r.mu.Lock()
	r.progress.FoldersDone++
	r.result.Folders = append(r.result.Folders, res)
	r.mu.Unlock()
	r.st.Log(state.Record{Run: r.id, Event: "folder-done", Folder: name, Target: fp.Target, Count: res.Copied, Bytes: res.Bytes,
		Detail: fmt.Sprintf("copied %d, already there %d, flags updated %d, failed %d", res.Copied, res.Existing, res.FlagsUpdated, res.Failed), Error: res.Err})
	r.event(Event{Kind: EventFolderDone, Folder: name, Result: &res})
	if ctx.Err() != nil {
		return nil
	}
	return err
}

// isUnchanged reports, from the status read at the start, whether a folder
// pair needs nothing, so no connection is opened for it.
func (r *run) isUnchanged(fp FolderPlan, src store.Folder) bool {
	fs, err := r.st.Load(fp.Source.Name)
	return err == nil && unchanged(fs, fp, src, r.targets[fp.Target])
}

// attempts syncs a folder, reconnecting and resuming after lost connections.
func (w *worker) attempts(ctx context.Context, fp FolderPlan, res *FolderResult) error {
	r := w.r
	var err error
	for attempt := 0; ; attempt++ {
		if err = w.connect(ctx); err != nil {
			return err
		}
		err = w.sync(ctx, fp, res)
		if err == nil || !retryable(err) || ctx.Err() != nil || attempt >= r.opts.retries() {
			return err
		}
		w.close()
		if perr := r.pause(ctx, attempt, err, fp.Source.DisplayName()); perr != nil {
			return perr
		}
	}
}

// sync brings one folder up to date. res accumulates across retries.
func (w *worker) sync(ctx context.Context, fp FolderPlan, res *FolderResult) error {
	r := w.r
	name := fp.Source.DisplayName()
	// A state still being saved (from an attempt before a lost connection)
	// is on disk first.
	if err := r.saver.flushFolder(fp.Source.Name); err != nil {
		return err
	}
	fs, err := r.st.Load(fp.Source.Name)
	if err != nil {
		return err
	}
	if fs.Target != fp.Target {
		// Mapped elsewhere than last time: what is on the new target folder is
		// recognised by identity.
		fs.Copied = map[uint32]state.Entry{}
		fs.Complete = false
		fs.Target = fp.Target
	}
	src := fp.Source
	if err := w.sc.Status(ctx, &src); err != nil {
		return err
	}
	tgt := r.targets[fp.Target]
	if unchanged(fs, fp, src, tgt) {
		r.passOver(name, src, res)
		return nil
	}
	if src.Messages > len(fs.Copied) {
		// Messages are likely to be copied: the target's appending
		// connection opens while the source is listed.
		w.openAppender(ctx)
	}
	uv, err := w.sc.OpenFolder(ctx, src.Name, true)
	if err != nil {
		return err
	}
	infos, err := w.sc.List(ctx)
	if err != nil {
		return err
	}
	res.Messages = len(infos)
	if uv != fs.SourceUIDValidity {
		if fs.SourceUIDValidity != 0 {
			r.st.Log(state.Record{Run: r.id, Event: "uidvalidity-changed", Folder: name, Detail: "source"})
		}
		fs.Copied = map[uint32]state.Entry{}
		fs.SourceUIDValidity = uv
	}
	tuv, err := w.tc.OpenFolder(ctx, fp.Target, false)
	if err != nil {
		return err
	}
	if tuv != fs.TargetUIDValidity {
		if fs.TargetUIDValidity != 0 {
			r.st.Log(state.Record{Run: r.id, Event: "uidvalidity-changed", Folder: name, Detail: "target"})
		}
		fs.Copied = map[uint32]state.Entry{}
		fs.TargetUIDValidity = tuv
	}
	// Forget source messages that are gone (nothing is deleted on the target).
	present := make(map[uint32]bool, len(infos))
	for _, m := range infos {
		present[m.UID] = true
	}
	for u := range fs.Copied {
		if !present[u] {
			delete(fs.Copied, u)
		}
	}
	var missing []store.MessageInfo
	for _, m := range infos {
		if _, ok := fs.Copied[m.UID]; !ok {
			missing = append(missing, m)
		}
	}
	var toCopy []store.MessageInfo
	existing := 0
	var existingBytes int64
	if len(missing) > 0 {
		tinfos, err := w.tc.List(ctx)
		if err != nil {
			return err
		}
		mapped := make(map[uint32]bool, len(fs.Copied))
		for _, e := range fs.Copied {
			mapped[e.T] = true
		}
		byID := map[string][]store.MessageInfo{}
		for _, t := range tinfos {
			if !mapped[t.UID] {
				byID[t.Identity()] = append(byID[t.Identity()], t)
			}
		}
		for _, m := range missing {
			id := m.Identity()
			if l := byID[id]; len(l) > 0 {
				t := l[0]
				byID[id] = l[1:]
				fs.Copied[m.UID] = state.Entry{T: t.UID, F: state.FlagHash(t.Flags)}
				existing++
				existingBytes += m.Size
				continue
			}
			toCopy = append(toCopy, m)
		}
	}
	// Bring changed flags over.
	flagged := 0
	for _, m := range infos {
		e, ok := fs.Copied[m.UID]
		if !ok || e.T == 0 || e.F == state.FlagHash(m.Flags) {
			continue
		}
		if err := w.tc.StoreFlags(ctx, e.T, m.Flags); err != nil {
			if retryable(err) || ctx.Err() != nil {
				return err
			}
			r.problem(Problem{Folder: name, UID: m.UID, Subject: m.Subject, From: m.From, Date: m.Date, Kind: failure.KindOf(err), Scope: failure.ScopeMessage,
				Err: fmt.Sprintf("could not set flags %v: %v", m.Flags, err)})
			continue
		}
		e.F = state.FlagHash(m.Flags)
		fs.Copied[m.UID] = e
		flagged++
	}
	alreadyDone := len(infos) - len(toCopy) - existing
	var alreadyBytes int64
	for _, m := range infos {
		if _, ok := fs.Copied[m.UID]; ok {
			alreadyBytes += m.Size
		}
	}
	alreadyBytes -= existingBytes
	res.Existing += existing + alreadyDone
	res.FlagsUpdated += flagged
	r.add(name, func(p *Progress) {
		p.Existing += existing + alreadyDone
		p.FlagsUpdated += flagged
		p.DoneMessages += existing + alreadyDone
		p.DoneBytes += existingBytes + alreadyBytes
	})
	fs.Complete = false
	if err := r.saver.put(fs); err != nil {
		return err
	}
	failed, err := w.copyMessages(ctx, fp, fs, toCopy, res)
	if err != nil {
		return err
	}
	fs.Complete = failed == 0
	fs.SourceUIDNext, fs.SourceMessages, fs.SourceModSeq = src.UIDNext, src.Messages, src.HighestModSeq
	if err := w.tc.Status(ctx, &tgt); err == nil {
		fs.TargetUIDNext = tgt.UIDNext
	}
	return r.saver.put(fs)
}

// copyMessages appends messages in batches (MULTIAPPEND where offered),
// saving the state after each batch. A refused batch is retried one message
// at a time, so one bad message costs only itself. The next batch's FETCH is
// sent as soon as the current batch has been read, so that the source sends
// it while the target saves the current one.
func (w *worker) copyMessages(ctx context.Context, fp FolderPlan, fs *state.Folder, msgs []store.MessageInfo, res *FolderResult) (failed int, err error) {
	r := w.r
	name := fp.Source.DisplayName()
	limit := w.tc.AppendLimit()
	maxN := r.opts.batchMessages()
	slices.SortFunc(msgs, func(a, b store.MessageInfo) int { return int(a.UID) - int(b.UID) })
	fail := func(m store.MessageInfo, err error) {
		failed++
		res.Failed++
		r.add(name, func(p *Progress) { p.Failed++; p.DoneMessages++; p.DoneBytes += m.Size })
		r.problem(Problem{Folder: name, UID: m.UID, Subject: m.Subject, From: m.From, Date: m.Date, Size: m.Size,
			Kind: failure.KindOf(err), Scope: failure.ScopeMessage, Err: err.Error()})
	}
	// cut returns the end of the batch starting at i.
	cut := func(i int) int {
		j := i + 1
		size := msgs[i].Size
		for j < len(msgs) && j-i < maxN && size+msgs[j].Size <= r.opts.batchBytes() && (limit == 0 || msgs[j].Size <= limit) {
			size += msgs[j].Size
			j++
		}
		return j
	}
	tooBig := func(m store.MessageInfo) bool { return limit > 0 && m.Size > limit }
	// ahead is the FETCH of the batch starting at aheadAt, already sent.
	var ahead *fetch
	aheadAt := -1
	defer func() {
		if ahead != nil {
			ahead.done()
		}
	}()
	for i := 0; i < len(msgs); {
		if ctx.Err() != nil {
			return failed, ctx.Err()
		}
		if tooBig(msgs[i]) {
			fail(msgs[i], failure.Newf(failure.TooBig, failure.ScopeMessage, "the message is %s, larger than the %s the new server accepts", store.FormatBytes(msgs[i].Size), store.FormatBytes(limit)))
			i++
			continue
		}
		j := cut(i)
		batch := msgs[i:j]
		cur := ahead
		if aheadAt != i || cur == nil {
			if cur != nil {
				cur.done()
			}
			cur = w.startFetch(ctx, batch)
		}
		ahead, aheadAt = nil, -1
		// Once this batch is read, the next one is asked for.
		next := func() {
			k := j
			for k < len(msgs) && tooBig(msgs[k]) {
				k++
			}
			if k < len(msgs) && ctx.Err() == nil {
				ahead, aheadAt = w.startFetch(ctx, msgs[k:cut(k)]), k
			}
		}
		err := w.appendBatch(ctx, fp, fs, batch, cur, next, res, fail)
		switch {
		case err == nil:
		case stops(ctx, err) || failure.ScopeOf(err) == failure.ScopeAccount && failure.KindOf(err) != failure.Refused && failure.KindOf(err) != failure.TooBig:
			if ctx.Err() != nil {
				return failed, ctx.Err()
			}
			return failed, err
		default:
			// One message spoiled a MULTIAPPEND (the command is atomic): the
			// batch goes again one message at a time, from the messages not
			// yet recorded.
			if ahead != nil {
				ahead.done()
				ahead, aheadAt = nil, -1
			}
			var rest []store.MessageInfo
			for _, m := range batch {
				if _, ok := fs.Copied[m.UID]; !ok {
					rest = append(rest, m)
				}
			}
			for _, m := range rest {
				if err := w.appendOne(ctx, fp, fs, m, res, fail); err != nil {
					return failed, err
				}
			}
		}
		i = j
	}
	return failed, nil
}

// fetch is a FETCH of one batch from the source, perhaps already sent.
type fetch struct {
	msgs iter.Seq2[*store.Message, error]
	// done ends the command, reading what is left of it.
	done func()
}

// fetchStarter is a source that can send a FETCH before its messages are
// read (imapstore.Conn).
type fetchStarter interface {
	StartFetch(ctx context.Context, uids []uint32) (iter.Seq2[*store.Message, error], func())
}

// startFetch asks the source for a batch: at once where the source allows
// it, else when the batch is read.
func (w *worker) startFetch(ctx context.Context, batch []store.MessageInfo) *fetch {
	uids := make([]uint32, len(batch))
	for i, m := range batch {
		uids[i] = m.UID
	}
	if fsr, ok := w.sc.(fetchStarter); ok {
		msgs, done := fsr.StartFetch(ctx, uids)
		return &fetch{msgs: msgs, done: done}
	}
	return &fetch{msgs: w.sc.Fetch(ctx, uids), done: func() {}}
}

// appendOne appends a single message with its own APPEND.
func (w *worker) appendOne(ctx context.Context, fp FolderPlan, fs *state.Folder, m store.MessageInfo, res *FolderResult, refused func(store.MessageInfo, error)) error {
	batch := []store.MessageInfo{m}
	err := w.appendBatch(ctx, fp, fs, batch, w.startFetch(ctx, batch), nil, res, refused)
	if err != nil && !stops(ctx, err) {
		refused(m, err)
		return nil
	}
	return err
}

// stops reports whether an append failure ends the folder (or the run)
// rather than just the message.
func stops(ctx context.Context, err error) bool {
	k := failure.KindOf(err)
	return ctx.Err() != nil || retryable(err) || k == failure.Quota || k == failure.Auth
}

// eachAppender is a target that pipelines single-message APPENDs
// (imapstore.Session), for servers without MULTIAPPEND.
type eachAppender interface {
	AppendEach(ctx context.Context, mailbox string, msgs iter.Seq2[*store.Message, error], done func(m *store.Message, res store.AppendResult, err error) bool) error
}

// appendBatch streams one batch from the source (src, one FETCH) into the
// target: one APPEND for the whole batch where the target offers
// MULTIAPPEND, else one APPEND per message from the same stream (pipelined
// where the target allows), where a refused message is reported through
// refused and the others go on. It records what the target confirmed, and
// only that. read, if not nil, is called once the last message of the batch
// has been read from the source, before the target's answer.
func (w *worker) appendBatch(ctx context.Context, fp FolderPlan, fs *state.Folder, batch []store.MessageInfo, src *fetch, read func(), res *FolderResult, refused func(store.MessageInfo, error)) (err error) {
	r := w.r
	name := fp.Source.DisplayName()
	infos := make(map[uint32]store.MessageInfo, len(batch))
	for _, m := range batch {
		infos[m.UID] = m
	}
	defer src.done()
	w.appenderReady()
	// msgs is the batch as the source sends it, with what the listing knew.
	pulled := 0
	var srcErr error
	msgs := func(yield func(*store.Message, error) bool) {
		for m, err := range src.msgs {
			if err != nil {
				srcErr = err
				yield(nil, err)
				return
			}
			if info, ok := infos[m.UID]; ok && m.MessageID == "" {
				// What the listing knew (Message-ID, sender, subject) travels
				// with the bytes, for stores that record it.
				m.MessageID, m.HeaderHash, m.From, m.Subject, m.Date = info.MessageID, info.HeaderHash, info.From, info.Subject, info.Date
			}
			if !yield(m, nil) {
				return
			}
			if pulled++; pulled == len(batch) && read != nil {
				read()
				read = nil
			}
		}
	}
	// confirmed records a message the target saved.
	var first, last uint32
	count := 0
	var bytes int64
	confirmed := func(uid uint32, flags []string, size int64, tuid uint32, dropped []string) {
		fs.Copied[uid] = state.Entry{T: tuid, F: state.FlagHash(flags)}
		if count == 0 {
			first = uid
		}
		last = uid
		count++
		bytes += size
		if len(dropped) > 0 {
			r.st.Log(state.Record{Run: r.id, Event: "keywords-dropped", Folder: name, UID: uid, Detail: fmt.Sprint(dropped)})
		}
	}
	defer func() {
		if count == 0 {
			return
		}
		if serr := w.saveSoon(fs, count); serr != nil && err == nil {
			err = serr
		}
		res.Copied += count
		res.Bytes += bytes
		r.st.Log(state.Record{Run: r.id, Event: "copied", Folder: name, Count: count, Bytes: bytes,
			Detail: fmt.Sprintf("source UIDs %d-%d", first, last)})
		r.add(name, func(p *Progress) {
			p.Copied += count
			p.CopiedBytes += bytes
			p.DoneMessages += count
			p.DoneBytes += bytes
		})
	}()

	multi := w.tc.CanMultiAppend()
	if ea, ok := w.tc.(eachAppender); ok && !multi {
		var stopErr error
		err := ea.AppendEach(ctx, fp.Target, msgs, func(m *store.Message, ar store.AppendResult, err error) bool {
			if err != nil {
				if stops(ctx, err) {
					stopErr = err
					return false
				}
				refused(infos[m.UID], err)
				return true
			}
			var tuid uint32
			if len(ar.UIDs) == 1 {
				tuid = ar.UIDs[0]
			}
			confirmed(m.UID, m.Flags, m.Size, tuid, ar.Dropped[0])
			return true
		})
		switch {
		case srcErr != nil && err != nil:
			// The source failed mid-batch: its connection is suspect too.
			return srcErr
		case err != nil:
			return err
		}
		return stopErr
	}

	per := 1
	if multi {
		per = len(batch)
	}
	next, stop := iter.Pull2(msgs)
	defer stop()
	type sentMsg struct {
		uid   uint32
		flags []string
		size  int64
	}
	for {
		var sent []sentMsg
		command := func(yield func(*store.Message, error) bool) {
			for range per {
				m, err, ok := next()
				if !ok {
					return
				}
				if err != nil {
					yield(nil, err)
					return
				}
				sent = append(sent, sentMsg{m.UID, m.Flags, m.Size})
				if !yield(m, nil) {
					return
				}
			}
		}
		ar, err := w.tc.Append(ctx, fp.Target, command)
		if srcErr != nil && err != nil {
			// The source failed mid-batch: its connection is suspect too.
			err = srcErr
		}
		if errors.Is(err, store.ErrNothingToAppend) {
			return nil // the stream is over
		}
		if err != nil {
			if per == 1 && len(sent) == 1 && refused != nil && !stops(ctx, err) {
				refused(infos[sent[0].uid], err)
				continue
			}
			return err
		}
		for i, m := range sent {
			var tuid uint32
			if ar.UIDs != nil {
				tuid = ar.UIDs[i]
			}
			confirmed(m.uid, m.flags, m.size, tuid, ar.Dropped[i])
		}
	}
}
