package dav

import (
	"context"
	"net/http"
	"net/url"
	"path"
	"sort"
	"strings"
	"sync"

	"mailmover/core/failure"
)

// ObjectRef is an object listed in a collection: where it is and its
// ETag (RFC 9110 section 8.8.3).
type ObjectRef struct {
	URL  string `json:"url"`
	ETag string `json:"etag,omitempty"`

	u *url.URL
}

// Object is one vCard or iCalendar object, with the bytes exactly as the
// server sent them.
type Object struct {
	URL  string
	ETag string
	// UID is the object's UID, "" if it has none or cannot be read.
	UID string
	// Summary is the contact's name or the event's title, for reports.
	Summary string
	Data    []byte
}

// Objects lists the objects of col (PROPFIND, Depth: 1), sorted by URL.
func (a *Account) Objects(ctx context.Context, col Collection) ([]ObjectRef, error) {
	cu, err := col.collectionURL()
	if err != nil {
		return nil, err
	}
	ms, reached, err := a.propfind(ctx, cu, "1", failure.ScopeFolder, "D:resourcetype", "D:getetag", "D:getcontenttype")
	if err != nil {
		return nil, err
	}
	self := strings.TrimSuffix(reached.Path, "/")
	var out []ObjectRef
	for _, r := range ms.Responses {
		if !statusOK(r.Status) {
			continue
		}
		u, err := r.href(reached)
		if err != nil {
			return nil, failure.New(failure.Malformed, failure.ScopeFolder, "list "+col.Title(), err)
		}
		if strings.TrimSuffix(u.Path, "/") == self || !a.c.trusts(u) {
			continue
		}
		props := r.props()
		if rt := props[xmlName(nsDAV, "resourcetype")]; rt.hasChild(nsDAV, "collection") {
			continue
		}
		out = append(out, ObjectRef{URL: u.String(), ETag: props[xmlName(nsDAV, "getetag")].text(), u: u})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].URL < out[j].URL })
	return out, nil
}

// Get fetches one object (GET), its bytes unchanged. A failure that
// concerns only this object reaches message scope.
func (a *Account) Get(ctx context.Context, ref ObjectRef) (*Object, error) {
	u := ref.u
	if u == nil {
		var err error
		if u, err = url.Parse(ref.URL); err != nil {
			return nil, failure.New(failure.Malformed, failure.ScopeMessage, "read "+ref.URL, err)
		}
	}
	resp, err := a.c.do(ctx, request{method: http.MethodGet, url: u})
	if err != nil {
		return nil, err
	}
	if resp.code != http.StatusOK {
		return nil, classifyStatus("read "+redact(u), resp.statusError("GET"), failure.ScopeMessage)
	}
	o := &Object{URL: ref.URL, ETag: strings.TrimPrefix(resp.header.Get("ETag"), "W/"), Data: resp.body}
	if o.ETag == "" {
		o.ETag = ref.ETag
	}
	if info, err := inspect(a.Kind, o.Data); err == nil {
		o.UID, o.Summary = info.UID, info.Summary
	}
	return o, nil
}

// put uploads data to u unchanged. With create, it sends If-None-Match: *
// (RFC 9110 section 13.1.2) so that nothing is ever overwritten. The
// answer is returned whatever its status.
func (a *Account) put(ctx context.Context, u *url.URL, data []byte, create bool) (*response, error) {
	h := http.Header{"Content-Type": {a.Kind.MediaType() + "; charset=utf-8"}}
	if create {
		h.Set("If-None-Match", "*")
	}
	return a.c.do(ctx, request{method: http.MethodPut, url: u, header: h, body: data})
}

// entry is what an index knows of one object.
type entry struct {
	URL     string
	Summary string
}

// index is what a collection holds, by UID and by name.
type index struct {
	mu sync.Mutex
	// uids maps each UID to its object.
	uids map[string]entry
	// names holds the lower-case last path segments in use.
	names map[string]bool
	// objects counts the objects, with or without UID.
	objects int
}

// has reports whether uid is in the index.
func (ix *index) has(uid string) bool {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	_, ok := ix.uids[uid]
	return ok
}

// add records an object.
func (ix *index) add(uid, name, u, summary string) {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	if uid != "" {
		ix.uids[uid] = entry{URL: u, Summary: summary}
	}
	ix.names[strings.ToLower(name)] = true
	ix.objects++
}

// reserve claims name (case-insensitively); false if it is taken.
func (ix *index) reserve(name string) bool {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	k := strings.ToLower(name)
	if ix.names[k] {
		return false
	}
	ix.names[k] = true
	return true
}

// newIndex returns an empty index.
func newIndex() *index {
	return &index{uids: make(map[string]entry), names: make(map[string]bool)}
}

// Index reads every object of col and returns its UIDs, each with the
// object's URL, and how many objects there are. It asks with one REPORT
// (addressbook-query, RFC 6352 section 8.6; calendar-query, RFC 4791
// section 7.8), and falls back to fetching each object if the server
// refuses the REPORT.
func (a *Account) Index(ctx context.Context, col Collection) (uids map[string]string, objects int, err error) {
	ix, err := a.index(ctx, col)
	if err != nil {
		return nil, 0, err
	}
	uids = make(map[string]string, len(ix.uids))
	for k, v := range ix.uids {
		uids[k] = v.URL
	}
	return uids, ix.objects, nil
}

// index builds the index of col.
func (a *Account) index(ctx context.Context, col Collection) (*index, error) {
	ix, err := a.indexByReport(ctx, col)
	if err == nil || failure.ScopeOf(err) == failure.ScopeAccount {
		return ix, err
	}
	refs, err := a.Objects(ctx, col)
	if err != nil {
		return nil, err
	}
	ix = newIndex()
	err = forEach(ctx, defaultWorkers, len(refs), func(ctx context.Context, i int) error {
		o, err := a.Get(ctx, refs[i])
		if err != nil {
			if failure.ScopeOf(err) == failure.ScopeMessage {
				ix.add("", lastSegment(refs[i].u), refs[i].URL, "")
				return nil
			}
			return err
		}
		ix.add(o.UID, lastSegment(refs[i].u), o.URL, o.Summary)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return ix, nil
}

// indexByReport builds the index from one query REPORT.
func (a *Account) indexByReport(ctx context.Context, col Collection) (*index, error) {
	cu, err := col.collectionURL()
	if err != nil {
		return nil, err
	}
	body := `<?xml version="1.0" encoding="utf-8"?>` + "\n" +
		`<CR:addressbook-query xmlns:D="DAV:" xmlns:CR="` + nsCardDAV + `"><D:prop><D:getetag/><CR:address-data/></D:prop><CR:filter/></CR:addressbook-query>`
	dataName := xmlName(nsCardDAV, "address-data")
	if a.Kind == Calendars {
		body = `<?xml version="1.0" encoding="utf-8"?>` + "\n" +
			`<C:calendar-query xmlns:D="DAV:" xmlns:C="` + nsCalDAV + `"><D:prop><D:getetag/><C:calendar-data/></D:prop><C:filter><C:comp-filter name="VCALENDAR"/></C:filter></C:calendar-query>`
		dataName = xmlName(nsCalDAV, "calendar-data")
	}
	op := "REPORT " + redact(cu)
	resp, err := a.c.do(ctx, request{method: "REPORT", url: cu, body: []byte(body),
		header: http.Header{"Depth": {"1"}, "Content-Type": {"application/xml; charset=utf-8"}}})
	if err != nil {
		return nil, err
	}
	if resp.code != http.StatusMultiStatus {
		return nil, classifyStatus(op, resp.statusError("REPORT"), failure.ScopeFolder)
	}
	ms, err := parseMultistatus(resp.body)
	if err != nil {
		return nil, failure.New(failure.Malformed, failure.ScopeFolder, op, err)
	}
	ix := newIndex()
	self := strings.TrimSuffix(resp.url.Path, "/")
	var missing []ObjectRef
	for _, r := range ms.Responses {
		u, err := r.href(resp.url)
		if err != nil {
			return nil, failure.New(failure.Malformed, failure.ScopeFolder, op, err)
		}
		if strings.TrimSuffix(u.Path, "/") == self || !statusOK(r.Status) {
			continue
		}
		data := r.props()[dataName].text()
		if data == "" {
			missing = append(missing, ObjectRef{URL: u.String(), u: u})
			continue
		}
		info, _ := inspect(a.Kind, []byte(data))
		ix.add(info.UID, lastSegment(u), u.String(), info.Summary)
	}
	for _, ref := range missing {
		o, err := a.Get(ctx, ref)
		if err != nil {
			if failure.ScopeOf(err) == failure.ScopeMessage {
				ix.add("", lastSegment(ref.u), ref.URL, "")
				continue
			}
			return nil, err
		}
		ix.add(o.UID, lastSegment(ref.u), o.URL, o.Summary)
	}
	return ix, nil
}

// lastSegment returns the unescaped last segment of u's path.
func lastSegment(u *url.URL) string {
	if u == nil {
		return ""
	}
	return path.Base(strings.TrimSuffix(u.Path, "/"))
}

// defaultWorkers is how many requests run at once by default.
const defaultWorkers = 4

// forEach calls fn for 0..n-1 with up to workers calls at once. The first
// error stops the others (their context is cancelled) and is returned.
func forEach(ctx context.Context, workers, n int, fn func(ctx context.Context, i int) error) error {
	if workers < 1 {
		workers = 1
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	jobs := make(chan int)
	var (
		wg    sync.WaitGroup
		once  sync.Once
		first error
	)
	for w := 0; w < min(workers, n); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				if ctx.Err() != nil {
					continue
				}
				if err := fn(ctx, i); err != nil {
					once.Do(func() { first = err; cancel() })
				}
			}
		}()
	}
feed:
	for i := 0; i < n; i++ {
		select {
		case jobs <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(jobs)
	wg.Wait()
	if first != nil {
		return first
	}
	if err := ctx.Err(); err != nil && n > 0 {
		return failure.New(failure.Cancelled, failure.ScopeAccount, "stopped", context.Canceled)
	}
	return nil
}
