package davtest

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/emersion/go-ical"
	"github.com/emersion/go-vcard"
	"github.com/emersion/go-webdav"
	"github.com/emersion/go-webdav/caldav"
	"github.com/emersion/go-webdav/carddav"

	"mailmover/core/dav"
)

// rawKey is the context key under which the handler passes the bytes of
// a PUT body to the backend, so that objects are stored as sent rather
// than as go-webdav's parser re-encodes them.
type rawKey struct{}

// rawBody returns the PUT body the handler saved in ctx.
func rawBody(ctx context.Context) ([]byte, bool) {
	b, ok := ctx.Value(rawKey{}).([]byte)
	return b, ok
}

// httpError turns a store error into an error go-webdav answers with the
// matching status and, for a failed precondition of RFC 6352 or RFC 4791,
// the DAV:error body naming it.
func httpError(kind dav.Kind, err error) error {
	switch {
	case errors.Is(err, errUIDConflict):
		if kind == dav.Contacts {
			return carddav.NewPreconditionError(carddav.PreconditionNoUIDConflict)
		}
		return caldav.NewPreconditionError(caldav.PreconditionNoUIDConflict)
	case errors.Is(err, errComponent):
		return caldav.NewPreconditionError(caldav.PreconditionSupportedCalendarComponent)
	case errors.Is(err, errInvalid):
		if kind == dav.Contacts {
			return carddav.NewPreconditionError(carddav.PreconditionValidAddressData)
		}
		return caldav.NewPreconditionError(caldav.PreconditionValidCalendarObjectResource)
	case errors.Is(err, errNotFound):
		return webdav.NewHTTPError(http.StatusNotFound, err)
	case errors.Is(err, errNoCollection):
		return webdav.NewHTTPError(http.StatusConflict, err)
	case errors.Is(err, errPrecondition):
		return webdav.NewHTTPError(http.StatusPreconditionFailed, err)
	case errors.Is(err, errCollectionExists):
		return webdav.NewHTTPError(http.StatusMethodNotAllowed, err)
	}
	return err
}

// backend is what the CardDAV and CalDAV backends share: the store and
// the paths of one kind.
type backend struct {
	s    *Server
	kind dav.Kind
}

// locate returns the collection segment and object name of path; name
// is "" for a collection.
func (b *backend) locate(path string) (seg, name string, err error) {
	seg, name, ok := b.s.locate(b.kind, path)
	if !ok {
		return "", "", webdav.NewHTTPError(http.StatusNotFound, errNotFound)
	}
	return seg, name, nil
}

// CurrentUserPrincipal returns the principal's path (RFC 5397).
func (b *backend) CurrentUserPrincipal(context.Context) (string, error) {
	return b.s.principalPath(b.kind), nil
}

// objects lists a collection's objects.
func (b *backend) objects(path string) ([]*object, string, error) {
	seg, name, err := b.locate(path)
	if err != nil {
		return nil, "", err
	}
	if name != "" {
		return nil, "", webdav.NewHTTPError(http.StatusNotFound, errNoCollection)
	}
	objs, err := b.s.store.objects(b.kind, seg)
	if err != nil {
		return nil, "", webdav.NewHTTPError(http.StatusNotFound, err)
	}
	return objs, b.s.collectionPath(b.kind, seg), nil
}

// object returns one object.
func (b *backend) object(path string) (*object, string, error) {
	seg, name, err := b.locate(path)
	if err != nil {
		return nil, "", err
	}
	if name == "" {
		return nil, "", webdav.NewHTTPError(http.StatusNotFound, errNotFound)
	}
	o, err := b.s.store.get(b.kind, seg, name)
	if err != nil {
		return nil, "", webdav.NewHTTPError(http.StatusNotFound, err)
	}
	return o, b.s.collectionPath(b.kind, seg) + name, nil
}

// put stores a PUT body, as the handler saved it.
func (b *backend) put(ctx context.Context, path string, card vcard.Card, cal *ical.Calendar, match, noneMatch webdav.ConditionalMatch) (*object, string, error) {
	seg, name, err := b.locate(path)
	if err != nil {
		return nil, "", webdav.NewHTTPError(http.StatusConflict, errNoCollection)
	}
	if name == "" {
		return nil, "", webdav.NewHTTPError(http.StatusMethodNotAllowed, errors.New("cannot PUT to a collection"))
	}
	data, ok := rawBody(ctx)
	if !ok {
		return nil, "", webdav.NewHTTPError(http.StatusInternalServerError, errors.New("request body lost"))
	}
	o, _, err := b.s.store.put(b.kind, seg, name, data, card, cal, conditions{ifMatch: string(match), ifNoneMatch: string(noneMatch)})
	if err != nil {
		return nil, "", httpError(b.kind, err)
	}
	return o, b.s.collectionPath(b.kind, seg) + name, nil
}

// remove deletes a collection or an object.
func (b *backend) remove(path string) error {
	seg, name, err := b.locate(path)
	if err != nil {
		return err
	}
	if name == "" {
		err = b.s.store.remove(b.kind, seg)
	} else {
		err = b.s.store.delete(b.kind, seg, name)
	}
	if err != nil {
		return webdav.NewHTTPError(http.StatusNotFound, err)
	}
	return nil
}

// cardBackend is the carddav.Backend of a Server.
type cardBackend struct{ backend }

var _ carddav.Backend = (*cardBackend)(nil)

func (b *cardBackend) AddressBookHomeSetPath(context.Context) (string, error) {
	return b.s.homePath(dav.Contacts), nil
}

func (b *cardBackend) addressBook(c Collection) carddav.AddressBook {
	return carddav.AddressBook{
		Path:        b.s.collectionPath(dav.Contacts, c.Segment),
		Name:        c.Name,
		Description: c.Description,
		SupportedAddressData: []carddav.AddressDataType{
			{ContentType: vcard.MIMEType, Version: "3.0"},
			{ContentType: vcard.MIMEType, Version: "4.0"},
		},
	}
}

func (b *cardBackend) ListAddressBooks(context.Context) ([]carddav.AddressBook, error) {
	var out []carddav.AddressBook
	for _, c := range b.s.store.list(dav.Contacts) {
		out = append(out, b.addressBook(c))
	}
	return out, nil
}

func (b *cardBackend) GetAddressBook(_ context.Context, path string) (*carddav.AddressBook, error) {
	seg, name, err := b.locate(path)
	if err != nil {
		return nil, err
	}
	c, _, ok := b.s.store.collection(dav.Contacts, seg)
	if !ok || name != "" {
		return nil, webdav.NewHTTPError(http.StatusNotFound, errNoCollection)
	}
	ab := b.addressBook(c)
	return &ab, nil
}

func (b *cardBackend) CreateAddressBook(_ context.Context, ab *carddav.AddressBook) error {
	seg, name, err := b.locate(ab.Path)
	if err != nil || name != "" {
		return webdav.NewHTTPError(http.StatusForbidden, errors.New("address books are created in the home set"))
	}
	err = b.s.store.create(Collection{Kind: dav.Contacts, Segment: seg, Name: ab.Name, Description: ab.Description})
	return httpError(dav.Contacts, err)
}

func (b *cardBackend) DeleteAddressBook(_ context.Context, path string) error {
	return b.remove(path)
}

func (b *cardBackend) addressObject(path string, o *object) carddav.AddressObject {
	return carddav.AddressObject{Path: path, ModTime: o.mod, ContentLength: int64(len(o.data)), ETag: o.etag, Card: o.card}
}

func (b *cardBackend) GetAddressObject(_ context.Context, path string, _ *carddav.AddressDataRequest) (*carddav.AddressObject, error) {
	o, p, err := b.object(path)
	if err != nil {
		return nil, err
	}
	ao := b.addressObject(p, o)
	return &ao, nil
}

func (b *cardBackend) ListAddressObjects(_ context.Context, path string, _ *carddav.AddressDataRequest) ([]carddav.AddressObject, error) {
	objs, cp, err := b.objects(path)
	if err != nil {
		return nil, err
	}
	out := make([]carddav.AddressObject, 0, len(objs))
	for _, o := range objs {
		out = append(out, b.addressObject(cp+o.name, o))
	}
	return out, nil
}

// QueryAddressObjects answers an addressbook-query REPORT (RFC 6352
// section 8.6). An empty filter matches every object (section 10.5);
// go-webdav's carddav.Filter would match none.
func (b *cardBackend) QueryAddressObjects(ctx context.Context, path string, q *carddav.AddressBookQuery) ([]carddav.AddressObject, error) {
	all, err := b.ListAddressObjects(ctx, path, nil)
	if err != nil {
		return nil, err
	}
	if len(q.PropFilters) == 0 {
		if q.Limit > 0 && q.Limit < len(all) {
			all = all[:q.Limit]
		}
		return all, nil
	}
	return carddav.Filter(q, all)
}

func (b *cardBackend) PutAddressObject(ctx context.Context, path string, card vcard.Card, opts *carddav.PutAddressObjectOptions) (*carddav.AddressObject, error) {
	o, p, err := b.put(ctx, path, card, nil, opts.IfMatch, opts.IfNoneMatch)
	if err != nil {
		return nil, err
	}
	ao := b.addressObject(p, o)
	return &ao, nil
}

func (b *cardBackend) DeleteAddressObject(_ context.Context, path string) error {
	return b.remove(path)
}

// calBackend is the caldav.Backend of a Server.
type calBackend struct{ backend }

var _ caldav.Backend = (*calBackend)(nil)

func (b *calBackend) CalendarHomeSetPath(context.Context) (string, error) {
	return b.s.homePath(dav.Calendars), nil
}

func (b *calBackend) calendar(c Collection) caldav.Calendar {
	comps := c.Components
	if len(comps) == 0 {
		comps = []string{ical.CompEvent, ical.CompToDo, ical.CompJournal}
	}
	return caldav.Calendar{
		Path:                  b.s.collectionPath(dav.Calendars, c.Segment),
		Name:                  c.Name,
		Description:           c.Description,
		SupportedComponentSet: comps,
	}
}

func (b *calBackend) CreateCalendar(_ context.Context, cal *caldav.Calendar) error {
	seg, name, err := b.locate(cal.Path)
	if err != nil || name != "" {
		return webdav.NewHTTPError(http.StatusForbidden, errors.New("calendars are created in the home set"))
	}
	err = b.s.store.create(Collection{Kind: dav.Calendars, Segment: seg, Name: cal.Name, Description: cal.Description, Components: cal.SupportedComponentSet})
	return httpError(dav.Calendars, err)
}

func (b *calBackend) ListCalendars(context.Context) ([]caldav.Calendar, error) {
	var out []caldav.Calendar
	for _, c := range b.s.store.list(dav.Calendars) {
		out = append(out, b.calendar(c))
	}
	return out, nil
}

func (b *calBackend) GetCalendar(_ context.Context, path string) (*caldav.Calendar, error) {
	seg, name, err := b.locate(path)
	if err != nil {
		return nil, err
	}
	c, _, ok := b.s.store.collection(dav.Calendars, seg)
	if !ok || name != "" {
		return nil, webdav.NewHTTPError(http.StatusNotFound, errNoCollection)
	}
	cal := b.calendar(c)
	return &cal, nil
}

func (b *calBackend) calendarObject(path string, o *object) caldav.CalendarObject {
	return caldav.CalendarObject{Path: path, ModTime: o.mod, ContentLength: int64(len(o.data)), ETag: o.etag, Data: o.cal}
}

func (b *calBackend) GetCalendarObject(_ context.Context, path string, _ *caldav.CalendarCompRequest) (*caldav.CalendarObject, error) {
	o, p, err := b.object(path)
	if err != nil {
		return nil, err
	}
	co := b.calendarObject(p, o)
	return &co, nil
}

func (b *calBackend) ListCalendarObjects(_ context.Context, path string, _ *caldav.CalendarCompRequest) ([]caldav.CalendarObject, error) {
	objs, cp, err := b.objects(path)
	if err != nil {
		return nil, err
	}
	out := make([]caldav.CalendarObject, 0, len(objs))
	for _, o := range objs {
		out = append(out, b.calendarObject(cp+o.name, o))
	}
	return out, nil
}

// QueryCalendarObjects answers a calendar-query REPORT (RFC 4791 section
// 7.8) with caldav.Filter.
func (b *calBackend) QueryCalendarObjects(ctx context.Context, path string, q *caldav.CalendarQuery) ([]caldav.CalendarObject, error) {
	all, err := b.ListCalendarObjects(ctx, path, nil)
	if err != nil {
		return nil, err
	}
	if q == nil || strings.TrimSpace(q.CompFilter.Name) == "" {
		return all, nil
	}
	return caldav.Filter(q, all)
}

func (b *calBackend) PutCalendarObject(ctx context.Context, path string, cal *ical.Calendar, opts *caldav.PutCalendarObjectOptions) (*caldav.CalendarObject, error) {
	o, p, err := b.put(ctx, path, nil, cal, opts.IfMatch, opts.IfNoneMatch)
	if err != nil {
		return nil, err
	}
	co := b.calendarObject(p, o)
	return &co, nil
}

func (b *calBackend) DeleteCalendarObject(_ context.Context, path string) error {
	return b.remove(path)
}
