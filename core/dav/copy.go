package dav

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"path"
	"sort"
	"strings"
	"sync"

	"mailmover/core/failure"
)

// Options tune planning, copying, backing up and importing.
type Options struct {
	// Include, if not empty, keeps only the collections whose title or
	// path segment matches one of these path.Match patterns.
	Include []string
	// Exclude leaves out the collections whose title or path segment
	// matches one of these path.Match patterns.
	Exclude []string
	// Workers is how many objects are fetched and uploaded at once; 0
	// means 4.
	Workers int
	// Progress, if not nil, is told about the work as it goes. It is
	// called from several goroutines, one call at a time.
	Progress func(Event)
}

// workers returns the number of parallel requests.
func (o *Options) workers() int {
	if o.Workers > 0 {
		return o.Workers
	}
	return defaultWorkers
}

// included reports whether c passes the Include and Exclude patterns.
func (o *Options) included(c Collection) bool {
	match := func(pats []string) bool {
		for _, p := range pats {
			for _, s := range []string{c.Title(), c.Segment()} {
				if ok, _ := path.Match(p, s); ok {
					return true
				}
			}
		}
		return false
	}
	if len(o.Include) > 0 && !match(o.Include) {
		return false
	}
	return !match(o.Exclude)
}

// EventKind says what an Event reports.
type EventKind int

const (
	// EventObject is one more object done (copied, already there, failed,
	// or saved to a backup).
	EventObject EventKind = iota
	// EventProblem is an object that could not be copied or saved.
	EventProblem
	// EventCollectionDone is a collection finished.
	EventCollectionDone
)

// String returns the kind's stable lower-case name, used in JSON output.
func (k EventKind) String() string {
	switch k {
	case EventProblem:
		return "problem"
	case EventCollectionDone:
		return "collection-done"
	}
	return "object"
}

// Event reports progress.
type Event struct {
	Kind EventKind
	// Collection is the source collection's title.
	Collection string
	// Done and Total count the objects of all collections so far.
	Done, Total int
	// Problem is set for EventProblem.
	Problem *Problem
	// Result is set for EventCollectionDone.
	Result *CollectionResult
}

// Problem is one object that could not be copied, imported or saved.
type Problem struct {
	Collection string       `json:"collection"`
	URL        string       `json:"url,omitempty"`
	UID        string       `json:"uid,omitempty"`
	Summary    string       `json:"summary,omitempty"`
	Kind       failure.Kind `json:"kind"`
	Err        string       `json:"error"`
}

// Plan says what a copy will do: each source collection, its object
// count, and the target collection it goes to (existing or to create).
type Plan struct {
	Kind   Kind   `json:"kind"`
	Source string `json:"source"`
	Target string `json:"target"`
	// Collections are the source's collections, in order.
	Collections []PlannedCollection `json:"collections"`
	// Objects counts the objects of the included source collections.
	Objects int `json:"objects"`
}

// PlannedCollection is one source collection and where it goes.
type PlannedCollection struct {
	Source      Collection `json:"source"`
	SourceCount int        `json:"sourceCount"`
	// Target is the existing target collection, or the one to create.
	Target      Collection `json:"target"`
	TargetCount int        `json:"targetCount"`
	// Exists says whether Target exists already (its objects are merged
	// with the source's, by UID).
	Exists bool `json:"exists"`
	// Include is false for a collection the options leave out.
	Include bool `json:"include"`
}

// Included returns the collections to copy.
func (p *Plan) Included() []PlannedCollection {
	var out []PlannedCollection
	for _, c := range p.Collections {
		if c.Include {
			out = append(out, c)
		}
	}
	return out
}

// Creates counts the target collections to create.
func (p *Plan) Creates() int {
	n := 0
	for _, c := range p.Included() {
		if !c.Exists {
			n++
		}
	}
	return n
}

// MakePlan lists both sides and pairs each source collection with a
// target one: the target collection of the same display name if exactly
// one has it, else the one with the same path segment, else a new one
// (named like the source, or made unique). Nothing is written.
func MakePlan(ctx context.Context, src, dst *Account, opts Options) (*Plan, error) {
	if src.Kind != dst.Kind {
		return nil, failure.Newf(failure.Config, failure.ScopeAccount, "cannot copy %s to %s", src.Kind, dst.Kind)
	}
	scols, err := src.Collections(ctx)
	if err != nil {
		return nil, err
	}
	dcols, err := dst.Collections(ctx)
	if err != nil {
		return nil, err
	}
	plan := &Plan{Kind: src.Kind, Source: src.Name, Target: dst.Name}
	used := make(map[string]bool)
	taken := make(map[string]bool)
	for _, d := range dcols {
		taken[strings.ToLower(d.Segment())] = true
	}
	for _, s := range scols {
		pc := PlannedCollection{Source: s, Include: opts.included(s), SourceCount: -1, TargetCount: -1}
		if t, ok := matchCollection(s, dcols, used); ok {
			used[t.URL] = true
			pc.Target, pc.Exists = t, true
		} else {
			seg := segmentFor(s)
			for n := 2; taken[strings.ToLower(seg)]; n++ {
				seg = fmt.Sprintf("%s-%d", segmentFor(s), n)
			}
			taken[strings.ToLower(seg)] = true
			t := s
			t.Name = s.realName()
			u := dst.homeURL.ResolveReference(&url.URL{Path: seg + "/"})
			t.URL, t.u, t.CTag = u.String(), u, ""
			pc.Target = t
		}
		if pc.Include {
			refs, err := src.Objects(ctx, s)
			if err != nil {
				return nil, err
			}
			pc.SourceCount = len(refs)
			plan.Objects += len(refs)
			pc.TargetCount = 0
			if pc.Exists {
				trefs, err := dst.Objects(ctx, pc.Target)
				if err != nil {
					return nil, err
				}
				pc.TargetCount = len(trefs)
			}
		}
		plan.Collections = append(plan.Collections, pc)
	}
	return plan, nil
}

// matchCollection finds s's counterpart among the target's collections
// not used yet: same display name (if exactly one), else same segment.
func matchCollection(s Collection, targets []Collection, used map[string]bool) (Collection, bool) {
	if name := s.realName(); name != "" {
		var hits []Collection
		for _, t := range targets {
			if !used[t.URL] && t.realName() == name {
				hits = append(hits, t)
			}
		}
		if len(hits) == 1 {
			return hits[0], true
		}
	}
	for _, t := range targets {
		if !used[t.URL] && strings.EqualFold(t.Segment(), s.Segment()) {
			return t, true
		}
	}
	return Collection{}, false
}

// Result is what Copy or Import did.
type Result struct {
	Kind        Kind               `json:"kind"`
	Collections []CollectionResult `json:"collections"`
	// Copied counts objects uploaded, Existing those already on the
	// target (same UID), Failed those refused.
	Copied   int       `json:"copied"`
	Existing int       `json:"existing"`
	Failed   int       `json:"failed"`
	Problems []Problem `json:"problems,omitempty"`
}

// Complete reports whether every object is on the target and no
// collection stopped early.
func (r *Result) Complete() bool {
	if r == nil || r.Failed > 0 {
		return false
	}
	for _, c := range r.Collections {
		if c.Err != "" {
			return false
		}
	}
	return true
}

// CollectionResult is what happened to one collection.
type CollectionResult struct {
	Source    string `json:"source"`
	Target    string `json:"target"`
	TargetURL string `json:"targetURL"`
	Created   bool   `json:"created"`
	Copied    int    `json:"copied"`
	Existing  int    `json:"existing"`
	Failed    int    `json:"failed"`
	// Err says why the collection stopped early, "" if it did not.
	Err string `json:"error,omitempty"`
}

// progress tracks Done and Total across collections and reports events
// one at a time.
type progress struct {
	mu    sync.Mutex
	fn    func(Event)
	done  int
	total int
}

func (p *progress) emit(e Event) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if e.Kind == EventObject {
		p.done++
	}
	e.Done, e.Total = p.done, p.total
	if p.fn != nil {
		p.fn(e)
	}
}

// Copy copies every included collection of plan from src to dst: it
// creates the missing target collections, then uploads each source object
// whose UID the target collection lacks, bytes unchanged, with
// If-None-Match: * so that nothing is ever overwritten. Nothing is
// deleted on either side, and a second run adds nothing. An object the
// target refuses is recorded in Result.Problems and the copy goes on; a
// failure of one collection is recorded in its result; a failure reaching
// the whole account (login, quota, lost connection) stops the copy and is
// returned with the result so far.
func Copy(ctx context.Context, src, dst *Account, plan *Plan, opts Options) (*Result, error) {
	res := &Result{Kind: plan.Kind}
	pr := &progress{fn: opts.Progress, total: plan.Objects}
	for _, pc := range plan.Included() {
		cr, problems, err := copyCollection(ctx, src, dst, pc, opts, pr)
		res.add(cr, problems)
		if err != nil {
			if failure.ScopeOf(err) == failure.ScopeAccount || ctx.Err() != nil {
				return res, err
			}
			res.Collections[len(res.Collections)-1].Err = err.Error()
		}
		last := res.Collections[len(res.Collections)-1]
		pr.emit(Event{Kind: EventCollectionDone, Collection: pc.Source.Title(), Result: &last})
	}
	return res, nil
}

// add appends a collection's result and problems.
func (r *Result) add(cr CollectionResult, problems []Problem) {
	r.Collections = append(r.Collections, cr)
	r.Copied += cr.Copied
	r.Existing += cr.Existing
	r.Failed += cr.Failed
	r.Problems = append(r.Problems, problems...)
}

// copyCollection copies one planned collection.
func copyCollection(ctx context.Context, src, dst *Account, pc PlannedCollection, opts Options, pr *progress) (CollectionResult, []Problem, error) {
	cr := CollectionResult{Source: pc.Source.Title(), Target: pc.Target.Title(), TargetURL: pc.Target.URL}
	target, created, err := ensureCollection(ctx, dst, pc)
	if err != nil {
		return cr, nil, err
	}
	cr.Created, cr.TargetURL = created, target.URL
	ix := newIndex()
	if !created {
		if ix, err = dst.index(ctx, target); err != nil {
			return cr, nil, err
		}
	}
	refs, err := src.Objects(ctx, pc.Source)
	if err != nil {
		return cr, nil, err
	}
	up := &uploader{dst: dst, col: target, ix: ix, title: pc.Source.Title(), pr: pr}
	err = forEach(ctx, opts.workers(), len(refs), func(ctx context.Context, i int) error {
		o, err := src.Get(ctx, refs[i])
		if err != nil {
			return up.fail(err, Problem{URL: refs[i].URL})
		}
		return up.upload(ctx, o.Data, o.UID, o.Summary, lastSegment(refs[i].u), o.URL)
	})
	cr.Copied, cr.Existing, cr.Failed = up.copied, up.existing, up.failed
	return cr, up.problems, err
}

// ensureCollection returns the planned target collection, creating it if
// the plan says so. created is false if it was there already (planned
// so, or made by someone since).
func ensureCollection(ctx context.Context, dst *Account, pc PlannedCollection) (Collection, bool, error) {
	if pc.Exists {
		return pc.Target, false, nil
	}
	t := pc.Target
	c, err := dst.CreateCollection(ctx, t.Segment(), t)
	if err == nil {
		return c, true, nil
	}
	if !errors.Is(err, ErrExists) {
		return Collection{}, false, err
	}
	cols, lerr := dst.Collections(ctx)
	if lerr != nil {
		return Collection{}, false, lerr
	}
	for _, c := range cols {
		if strings.TrimSuffix(c.path(), "/") == strings.TrimSuffix(t.path(), "/") {
			return c, false, nil
		}
	}
	return Collection{}, false, err
}

// uploader puts objects into one target collection, skipping UIDs it
// has, and counts what happened.
type uploader struct {
	dst   *Account
	col   Collection
	ix    *index
	title string
	pr    *progress

	mu                       sync.Mutex
	copied, existing, failed int
	problems                 []Problem
}

// fail records a problem with one object when err reaches only that
// object, and returns nil so that the work goes on; any wider error is
// returned.
func (up *uploader) fail(err error, p Problem) error {
	if failure.ScopeOf(err) != failure.ScopeMessage {
		return err
	}
	p.Collection, p.Kind, p.Err = up.title, failure.KindOf(err), err.Error()
	up.mu.Lock()
	up.failed++
	up.problems = append(up.problems, p)
	up.mu.Unlock()
	up.pr.emit(Event{Kind: EventProblem, Collection: up.title, Problem: &p})
	up.pr.emit(Event{Kind: EventObject, Collection: up.title})
	return nil
}

// count records an object copied or found.
func (up *uploader) count(copied bool) {
	up.mu.Lock()
	if copied {
		up.copied++
	} else {
		up.existing++
	}
	up.mu.Unlock()
	up.pr.emit(Event{Kind: EventObject, Collection: up.title})
}

// objectName returns the names to try for an uploaded object, in
// order: its source name when safe, one made from its UID, one made from
// its content.
func objectName(kind Kind, srcName, uid string, data []byte) []string {
	var names []string
	if safeSegment.MatchString(srcName) {
		names = append(names, srcName)
	}
	if uid != "" {
		if safeSegment.MatchString(uid) && !strings.HasSuffix(strings.ToLower(uid), kind.Ext()) {
			names = append(names, uid+kind.Ext())
		}
		names = append(names, contentHash([]byte(uid))+kind.Ext())
	}
	return append(names, contentHash(data)+kind.Ext())
}

// upload puts one object unless its UID is on the target already. An
// object without UID is known only by its name: if that name is taken on
// the target, it counts as there already.
func (up *uploader) upload(ctx context.Context, data []byte, uid, summary, srcName, srcURL string) error {
	prob := Problem{URL: srcURL, UID: uid, Summary: summary}
	if uid != "" && up.ix.has(uid) {
		up.count(false)
		return nil
	}
	cu, err := up.col.collectionURL()
	if err != nil {
		return err
	}
	names := objectName(up.dst.Kind, srcName, uid, data)
	if uid == "" {
		names = names[:1]
	}
	for _, name := range names {
		if !up.ix.reserve(name) {
			if uid == "" {
				up.count(false)
				return nil
			}
			continue
		}
		u := cu.ResolveReference(&url.URL{Path: name})
		op := fmt.Sprintf("upload %q to %s", displayOr(summary, uid, name), up.col.Title())
		resp, err := up.dst.put(ctx, u, data, true)
		if err != nil {
			return up.fail(err, prob)
		}
		switch {
		case resp.code/100 == 2:
			up.ix.add(uid, name, u.String(), summary)
			up.count(true)
			return nil
		case resp.code == http.StatusPreconditionFailed:
			// The name is taken (If-None-Match: *): by this very object
			// from an earlier run if it has no UID, else try another.
			if uid == "" {
				up.count(false)
				return nil
			}
			// A retried PUT may have stored the object the first time.
			if o, err := up.dst.Get(ctx, ObjectRef{URL: u.String(), u: u}); err == nil && o.UID == uid {
				up.ix.add(uid, name, u.String(), summary)
				up.count(false)
				return nil
			}
		case resp.code == http.StatusConflict && strings.Contains(resp.statusError("PUT").Text, "uid-conflict"):
			// RFC 6352 section 6.3.2.1, RFC 4791 section 5.3.2.1: the
			// collection holds this UID already.
			up.count(false)
			return nil
		default:
			return up.fail(classifyStatus(op, resp.statusError("PUT"), failure.ScopeMessage), prob)
		}
	}
	return up.fail(failure.Newf(failure.Refused, failure.ScopeMessage, "upload %q to %s: every name tried is taken on the target", displayOr(summary, uid), up.col.Title()), prob)
}

// displayOr returns the first non-empty string.
func displayOr(s ...string) string {
	for _, x := range s {
		if x != "" {
			return x
		}
	}
	return ""
}

// Verification is the check after a copy: is every source UID on the
// target?
type Verification struct {
	Kind        Kind              `json:"kind"`
	Collections []CollectionCheck `json:"collections"`
	Missing     int               `json:"missing"`
	Errors      int               `json:"errors"`
}

// OK reports whether every object was found and every collection checked.
func (v *Verification) OK() bool { return v.Missing == 0 && v.Errors == 0 }

// CollectionCheck is the check of one collection.
type CollectionCheck struct {
	Source      string          `json:"source"`
	Target      string          `json:"target"`
	SourceCount int             `json:"sourceCount"`
	TargetCount int             `json:"targetCount"`
	Missing     []MissingObject `json:"missing,omitempty"`
	// WithoutUID counts source objects without UID, which cannot be
	// checked.
	WithoutUID int `json:"withoutUID,omitempty"`
	// Err says why the collection could not be checked.
	Err string `json:"error,omitempty"`
}

// MissingObject is a source object whose UID the target lacks.
type MissingObject struct {
	UID     string `json:"uid"`
	Summary string `json:"summary,omitempty"`
	URL     string `json:"url"`
}

// Verify checks that every UID of every included source collection is in
// its target collection. A target collection that does not exist counts
// all its source objects as missing.
func Verify(ctx context.Context, src, dst *Account, plan *Plan) (*Verification, error) {
	v := &Verification{Kind: plan.Kind}
	var dcols []Collection
	for _, pc := range plan.Included() {
		cc := CollectionCheck{Source: pc.Source.Title(), Target: pc.Target.Title()}
		err := func() error {
			six, err := src.index(ctx, pc.Source)
			if err != nil {
				return err
			}
			cc.SourceCount = six.objects
			cc.WithoutUID = six.objects - len(six.uids)
			if dcols == nil {
				if dcols, err = dst.Collections(ctx); err != nil {
					return err
				}
			}
			tix := newIndex()
			for _, d := range dcols {
				if strings.TrimSuffix(d.path(), "/") == strings.TrimSuffix(pc.Target.path(), "/") {
					if tix, err = dst.index(ctx, d); err != nil {
						return err
					}
					break
				}
			}
			cc.TargetCount = tix.objects
			for uid, e := range six.uids {
				if !tix.has(uid) {
					cc.Missing = append(cc.Missing, MissingObject{UID: uid, Summary: e.Summary, URL: e.URL})
				}
			}
			sortMissing(cc.Missing)
			return nil
		}()
		if err != nil {
			if failure.ScopeOf(err) == failure.ScopeAccount {
				return v, err
			}
			cc.Err = err.Error()
			v.Errors++
		}
		v.Missing += len(cc.Missing)
		v.Collections = append(v.Collections, cc)
	}
	return v, nil
}

// sortMissing orders missing objects by URL.
func sortMissing(m []MissingObject) {
	sort.Slice(m, func(i, j int) bool { return m[i].URL < m[j].URL })
}
