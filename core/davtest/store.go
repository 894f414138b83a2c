package davtest

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/emersion/go-ical"
	"github.com/emersion/go-vcard"
	"github.com/emersion/go-webdav/caldav"

	"mailmover/core/dav"
)

// Errors of the store. The handler turns them into HTTP answers.
var (
	// errNoCollection: the collection does not exist (PUT answers 409,
	// RFC 4918 section 9.7.1).
	errNoCollection = errors.New("no such address book or calendar")
	// errNotFound: no object at that name (404).
	errNotFound = errors.New("no such object")
	// errCollectionExists: something is there already (MKCOL answers
	// 405, RFC 4918 section 9.3.1).
	errCollectionExists = errors.New("a collection exists at this name")
	// errPrecondition: If-None-Match or If-Match failed (412, RFC 9110
	// section 13.1).
	errPrecondition = errors.New("precondition failed")
	// errUIDConflict: another object of the collection has the UID (RFC
	// 6352 section 6.3.2.1, RFC 4791 section 5.3.2.1).
	errUIDConflict = errors.New("another object of the collection has this UID")
	// errComponent: the calendar does not take this component type (RFC
	// 4791 section 5.3.2.1, supported-calendar-component).
	errComponent = errors.New("the calendar does not take this component type")
	// errInvalid: the data is not a valid vCard or calendar object
	// resource.
	errInvalid = errors.New("invalid object")
)

// safeSegment matches the collection and object names the server
// accepts: letters, digits and a few punctuation marks.
var safeSegment = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._@+=-]{0,119}$`)

// collection is one address book or calendar in memory.
type collection struct {
	info    Collection // Objects is always nil here
	objects map[string]*object
	// version counts changes; it is the collection's CTag.
	version int
}

// object is one stored vCard or calendar object. It is never changed
// once stored: a PUT replaces it.
type object struct {
	name string
	data []byte
	etag string
	uid  string
	mod  time.Time
	card vcard.Card
	cal  *ical.Calendar
}

// store holds the collections of one user, by kind and segment.
type store struct {
	mu   sync.Mutex
	cols map[dav.Kind]map[string]*collection
}

func newStore() *store {
	return &store{cols: map[dav.Kind]map[string]*collection{
		dav.Contacts:  {},
		dav.Calendars: {},
	}}
}

// create adds an empty collection described by c.
func (st *store) create(c Collection) error {
	if c.Kind != dav.Contacts && c.Kind != dav.Calendars {
		return fmt.Errorf("unknown kind %d", c.Kind)
	}
	if !safeSegment.MatchString(c.Segment) {
		return fmt.Errorf("%q is not a usable collection name", c.Segment)
	}
	info := c
	info.Objects = nil
	info.Components = slices.Clone(c.Components)
	for i, comp := range info.Components {
		info.Components[i] = strings.ToUpper(comp)
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	cols := st.cols[c.Kind]
	for seg := range cols {
		if strings.EqualFold(seg, c.Segment) {
			return fmt.Errorf("create %s: %w", c.Segment, errCollectionExists)
		}
	}
	cols[c.Segment] = &collection{info: info, objects: make(map[string]*object)}
	return nil
}

// remove deletes a collection and its objects.
func (st *store) remove(kind dav.Kind, seg string) error {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.cols[kind][seg] == nil {
		return errNoCollection
	}
	delete(st.cols[kind], seg)
	return nil
}

// collection returns a copy of a collection's description and its CTag.
func (st *store) collection(kind dav.Kind, seg string) (Collection, int, bool) {
	st.mu.Lock()
	defer st.mu.Unlock()
	c := st.cols[kind][seg]
	if c == nil {
		return Collection{}, 0, false
	}
	return c.info, c.version, true
}

// list returns the descriptions of kind's collections, sorted by segment.
func (st *store) list(kind dav.Kind) []Collection {
	st.mu.Lock()
	defer st.mu.Unlock()
	var out []Collection
	for _, c := range st.cols[kind] {
		out = append(out, c.info)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Segment < out[j].Segment })
	return out
}

// objects returns a collection's objects, sorted by name.
func (st *store) objects(kind dav.Kind, seg string) ([]*object, error) {
	st.mu.Lock()
	defer st.mu.Unlock()
	c := st.cols[kind][seg]
	if c == nil {
		return nil, errNoCollection
	}
	out := make([]*object, 0, len(c.objects))
	for _, o := range c.objects {
		out = append(out, o)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out, nil
}

// get returns one object.
func (st *store) get(kind dav.Kind, seg, name string) (*object, error) {
	st.mu.Lock()
	defer st.mu.Unlock()
	c := st.cols[kind][seg]
	if c == nil {
		return nil, errNoCollection
	}
	o := c.objects[name]
	if o == nil {
		return nil, errNotFound
	}
	return o, nil
}

// conditions are the conditional headers of a PUT (RFC 9110 section
// 13.1): "*" or a quoted ETag, "" when absent.
type conditions struct {
	ifMatch, ifNoneMatch string
}

// put stores data as seg/name, parsed already as card or cal (one of
// them nil), after checking the conditions, the UID and the calendar's
// component types. created reports whether the name was free.
func (st *store) put(kind dav.Kind, seg, name string, data []byte, card vcard.Card, cal *ical.Calendar, cond conditions) (o *object, created bool, err error) {
	if !safeSegment.MatchString(name) {
		return nil, false, fmt.Errorf("%w: %q is not a usable object name", errInvalid, name)
	}
	o = &object{name: name, data: bytes.Clone(data), card: card, cal: cal, mod: time.Now().UTC()}
	sum := sha256.Sum256(data)
	o.etag = hex.EncodeToString(sum[:16])
	compType := ""
	switch kind {
	case dav.Contacts:
		if card == nil {
			return nil, false, fmt.Errorf("%w: no vCard", errInvalid)
		}
		o.uid = card.Value(vcard.FieldUID)
	default:
		if cal == nil {
			return nil, false, fmt.Errorf("%w: no calendar", errInvalid)
		}
		compType, o.uid, err = caldav.ValidateCalendarObject(cal)
		if err != nil {
			return nil, false, fmt.Errorf("%w: %w", errInvalid, err)
		}
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	c := st.cols[kind][seg]
	if c == nil {
		return nil, false, errNoCollection
	}
	if comps := c.info.Components; kind == dav.Calendars && len(comps) > 0 && compType != "" && !slices.Contains(comps, compType) {
		return nil, false, fmt.Errorf("%w: %s", errComponent, compType)
	}
	old := c.objects[name]
	if !matches(cond, old) {
		return nil, false, errPrecondition
	}
	if o.uid != "" {
		for _, other := range c.objects {
			if other.uid == o.uid && other.name != name {
				return nil, false, errUIDConflict
			}
		}
	}
	c.objects[name] = o
	c.version++
	return o, old == nil, nil
}

// matches checks If-Match and If-None-Match against the current object
// (nil if there is none).
func matches(cond conditions, cur *object) bool {
	if v := strings.TrimSpace(cond.ifNoneMatch); v != "" {
		if v == "*" && cur != nil {
			return false
		}
		if cur != nil && etagListed(v, cur.etag) {
			return false
		}
	}
	if v := strings.TrimSpace(cond.ifMatch); v != "" {
		if cur == nil {
			return false
		}
		if v != "*" && !etagListed(v, cur.etag) {
			return false
		}
	}
	return true
}

// etagListed reports whether a list of entity tags (RFC 9110 section
// 8.8.3, weak or strong) holds etag.
func etagListed(list, etag string) bool {
	for _, t := range strings.Split(list, ",") {
		t = strings.TrimPrefix(strings.TrimSpace(t), "W/")
		if strings.Trim(t, `"`) == etag {
			return true
		}
	}
	return false
}

// delete removes one object.
func (st *store) delete(kind dav.Kind, seg, name string) error {
	st.mu.Lock()
	defer st.mu.Unlock()
	c := st.cols[kind][seg]
	if c == nil {
		return errNoCollection
	}
	if c.objects[name] == nil {
		return errNotFound
	}
	delete(c.objects, name)
	c.version++
	return nil
}

// parse reads data as a vCard (RFC 6350) or an iCalendar object (RFC
// 5545).
func parse(kind dav.Kind, data []byte) (vcard.Card, *ical.Calendar, error) {
	if kind == dav.Contacts {
		card, err := vcard.NewDecoder(bytes.NewReader(data)).Decode()
		if err != nil {
			return nil, nil, fmt.Errorf("%w: %w", errInvalid, err)
		}
		return card, nil, nil
	}
	cal, err := ical.NewDecoder(bytes.NewReader(data)).Decode()
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %w", errInvalid, err)
	}
	return nil, cal, nil
}

// objectName returns a name for an object that has none: its UID if that
// is a safe name, else a digest of the UID or, without UID, of the data.
func objectName(kind dav.Kind, uid string, data []byte) string {
	if uid != "" && safeSegment.MatchString(uid+kind.Ext()) {
		return uid + kind.Ext()
	}
	src := data
	if uid != "" {
		src = []byte(uid)
	}
	sum := sha256.Sum256(src)
	return hex.EncodeToString(sum[:12]) + kind.Ext()
}
