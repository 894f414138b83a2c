package demo

import (
	"context"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"mailmover/core/copier"
	"mailmover/core/dav"
	"mailmover/core/failure"
	"mailmover/core/imapstore"
)

func start(t *testing.T, opts Options) *Demo {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	d, err := StartWith(ctx, opts)
	if err != nil {
		t.Fatalf("StartWith(%+v) = %v", opts, err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

// TestOpen checks that Mailmover's own client can log in to both demo
// servers and finds what it needs there.
func TestOpen(t *testing.T) {
	d := start(t, Options{Messages: 40})
	ctx := context.Background()
	tests := []struct {
		name string
		cfg  *imapstore.Config
		min  int // folders at least
	}{
		{"source", d.Source, 10},
		{"target", d.Target, 1 + len(TargetFolders())},
	}
	for _, tt := range tests {
		s, err := imapstore.Open(ctx, tt.cfg)
		if err != nil {
			t.Fatalf("%s: Open() = %v", tt.name, err)
		}
		if s.TLS != nil {
			t.Errorf("%s: TLS = %v; want nil on the loopback demo", tt.name, s.TLS)
		}
		if s.Delim != '/' {
			t.Errorf("%s: Delim = %q; want '/'", tt.name, s.Delim)
		}
		folders, err := s.Folders(ctx)
		if err != nil {
			t.Fatalf("%s: Folders() = %v", tt.name, err)
		}
		if len(folders) < tt.min {
			t.Errorf("%s: %d folders; want at least %d", tt.name, len(folders), tt.min)
		}
		n := 0
		for _, f := range folders {
			if f.Messages < 0 || f.Size < 0 {
				t.Errorf("%s: folder %q has unknown counts (%d, %d): LIST-STATUS with STATUS=SIZE expected", tt.name, f.Name, f.Messages, f.Size)
			}
			n += max(f.Messages, 0)
		}
		if tt.name == "source" && n != d.Messages {
			t.Errorf("source holds %d messages; want %d", n, d.Messages)
		}
		if tt.name == "target" {
			if n != 0 {
				t.Errorf("target holds %d messages; want 0", n)
			}
			var names []string
			for _, f := range folders {
				names = append(names, f.Name)
			}
			for _, want := range append([]string{"INBOX"}, TargetFolders()...) {
				if !slices.Contains(names, want) {
					t.Errorf("target folders %q lack %q", names, want)
				}
			}
		}
		s.Close()
	}
}

func TestWrongPassword(t *testing.T) {
	d := start(t, Options{Messages: 1})
	cfg := *d.Source
	cfg.Password = "not the password"
	_, err := imapstore.Open(context.Background(), &cfg)
	if got := failure.KindOf(err); got != failure.Auth {
		t.Errorf("Open(wrong password) = %v (kind %v); want kind %v", err, got, failure.Auth)
	}
}

// TestMigrate runs the whole demo flow: plan, copy, verify, and a second
// run that finds everything already there.
func TestMigrate(t *testing.T) {
	d := start(t, Options{Messages: 120, MaxAttachment: 64 << 10})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	src, dst := copier.IMAP(d.Source), copier.IMAP(d.Target)
	plan, err := copier.MakePlan(ctx, src, dst, copier.Options{})
	if err != nil {
		t.Fatalf("MakePlan() = %v", err)
	}
	if plan.Messages != d.Messages || plan.Bytes != d.Bytes {
		t.Errorf("plan totals = %d messages, %d bytes; want %d, %d", plan.Messages, plan.Bytes, d.Messages, d.Bytes)
	}
	merged := 0
	for _, f := range plan.Included() {
		if f.Exists {
			merged++
		}
	}
	if want := 1 + len(TargetFolders()); merged != want {
		t.Errorf("%d folders merged into existing ones; want %d (INBOX and the special-use folders)", merged, want)
	}
	opts := copier.Options{StateDir: t.TempDir()}
	var events atomic.Int64 // onEvent is called from worker goroutines
	res, err := copier.Run(ctx, src, dst, plan, opts, func(copier.Event) { events.Add(1) })
	if err != nil {
		t.Fatalf("Run() = %v", err)
	}
	if !res.Complete() || res.Progress.Copied != d.Messages {
		t.Errorf("Run() copied %d of %d, problems %v", res.Progress.Copied, d.Messages, res.Problems)
	}
	if events.Load() == 0 {
		t.Error("Run() sent no events")
	}
	v, err := copier.Verify(ctx, src, dst, plan)
	if err != nil {
		t.Fatalf("Verify() = %v", err)
	}
	if !v.OK() {
		t.Errorf("Verify() = %d missing, %d flag differences, %d errors; want OK", v.Missing, v.FlagDiffs, v.Errors)
	}
	res, err = copier.Run(ctx, src, dst, plan, opts, nil)
	if err != nil {
		t.Fatalf("second Run() = %v", err)
	}
	if res.Progress.Copied != 0 || res.Progress.Existing != d.Messages {
		t.Errorf("second Run() copied %d, found %d already there; want 0, %d", res.Progress.Copied, res.Progress.Existing, d.Messages)
	}
}

func TestStartCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	d, err := Start(ctx)
	if err == nil {
		d.Close()
		t.Fatal("Start(cancelled context) = nil error; want an error")
	}
}

func TestCloseTwice(t *testing.T) {
	d := start(t, Options{Messages: 1})
	if err := d.Close(); err != nil {
		t.Errorf("Close() = %v", err)
	}
	if err := d.Close(); err != nil {
		t.Errorf("second Close() = %v", err)
	}
}

// TestDAVOpen checks that Mailmover's DAV client finds both services of
// both demo accounts and what the demo announces there.
func TestDAVOpen(t *testing.T) {
	d := start(t, Options{Messages: 1})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	tests := []struct {
		name    string
		cfg     dav.Config
		kind    dav.Kind
		titles  []string
		objects int
	}{
		{"source contacts", d.SourceDAV, dav.Contacts, SourceAddressBooks(), d.Contacts},
		{"source calendars", d.SourceDAV, dav.Calendars, SourceCalendars(), d.Events},
		{"target contacts", d.TargetDAV, dav.Contacts, SourceAddressBooks()[:1], 0},
		{"target calendars", d.TargetDAV, dav.Calendars, SourceCalendars()[:1], 0},
	}
	for _, tt := range tests {
		a, err := dav.Connect(ctx, tt.cfg, tt.kind)
		if err != nil {
			t.Fatalf("%s: Connect() = %v", tt.name, err)
		}
		cols, err := a.Collections(ctx)
		if err != nil {
			t.Fatalf("%s: Collections() = %v", tt.name, err)
		}
		var titles []string
		n := 0
		for _, c := range cols {
			titles = append(titles, c.Title())
			refs, err := a.Objects(ctx, c)
			if err != nil {
				t.Fatalf("%s: Objects(%q) = %v", tt.name, c.Title(), err)
			}
			n += len(refs)
		}
		slices.Sort(titles)
		if !slices.Equal(titles, tt.titles) {
			t.Errorf("%s: Collections() = %q; want %q", tt.name, titles, tt.titles)
		}
		if n != tt.objects {
			t.Errorf("%s: %d objects; want %d", tt.name, n, tt.objects)
		}
	}
	if d.Contacts < 25 || d.Events < 10 {
		t.Errorf("demo holds %d contacts and %d calendar objects; want at least 25 and 10", d.Contacts, d.Events)
	}
}

func TestDAVWrongPassword(t *testing.T) {
	d := start(t, Options{Messages: 1})
	for _, kind := range []dav.Kind{dav.Contacts, dav.Calendars} {
		cfg := d.SourceDAV
		cfg.Password = "not the password"
		_, err := dav.Connect(context.Background(), cfg, kind)
		if got := failure.KindOf(err); got != failure.Auth {
			t.Errorf("Connect(%s, wrong password) = %v (kind %v); want kind %v", kind, err, got, failure.Auth)
		}
	}
}

// TestDAVMigrate copies the demo's contacts and calendars: one collection
// of each kind merged into the new account's default, one created; all
// verified; a second run copies nothing.
func TestDAVMigrate(t *testing.T) {
	d := start(t, Options{Messages: 1})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	tests := []struct {
		kind    dav.Kind
		objects int
		cols    int
	}{
		{dav.Contacts, d.Contacts, len(SourceAddressBooks())},
		{dav.Calendars, d.Events, len(SourceCalendars())},
	}
	for _, tt := range tests {
		src, err := dav.Connect(ctx, d.SourceDAV, tt.kind)
		if err != nil {
			t.Fatalf("Connect(source, %s) = %v", tt.kind, err)
		}
		dst, err := dav.Connect(ctx, d.TargetDAV, tt.kind)
		if err != nil {
			t.Fatalf("Connect(target, %s) = %v", tt.kind, err)
		}
		plan, err := dav.MakePlan(ctx, src, dst, dav.Options{})
		if err != nil {
			t.Fatalf("MakePlan(%s) = %v", tt.kind, err)
		}
		if plan.Objects != tt.objects || len(plan.Included()) != tt.cols || plan.Creates() != tt.cols-1 {
			t.Errorf("MakePlan(%s) = %d objects, %d collections, %d to create; want %d, %d, %d",
				tt.kind, plan.Objects, len(plan.Included()), plan.Creates(), tt.objects, tt.cols, tt.cols-1)
		}
		var events atomic.Int64
		res, err := dav.Copy(ctx, src, dst, plan, dav.Options{Progress: func(dav.Event) { events.Add(1) }})
		if err != nil {
			t.Fatalf("Copy(%s) = %v", tt.kind, err)
		}
		if !res.Complete() || res.Copied != tt.objects {
			t.Errorf("Copy(%s) copied %d of %d, problems %v", tt.kind, res.Copied, tt.objects, res.Problems)
		}
		if events.Load() == 0 {
			t.Errorf("Copy(%s) sent no events", tt.kind)
		}
		v, err := dav.Verify(ctx, src, dst, plan)
		if err != nil {
			t.Fatalf("Verify(%s) = %v", tt.kind, err)
		}
		if !v.OK() {
			t.Errorf("Verify(%s) = %d missing, %d errors; want OK: %+v", tt.kind, v.Missing, v.Errors, v.Collections)
		}
		res, err = dav.Copy(ctx, src, dst, plan, dav.Options{})
		if err != nil {
			t.Fatalf("second Copy(%s) = %v", tt.kind, err)
		}
		if res.Copied != 0 || res.Existing != tt.objects {
			t.Errorf("second Copy(%s) copied %d, found %d already there; want 0, %d", tt.kind, res.Copied, res.Existing, tt.objects)
		}
	}
}

// BenchmarkServeDAV measures starting and stopping the demo's two DAV
// servers with their contacts and calendars.
func BenchmarkServeDAV(b *testing.B) {
	ctx := context.Background()
	for b.Loop() {
		d := &Demo{}
		if err := d.serveDAV(ctx); err != nil {
			b.Fatalf("serveDAV() = %v", err)
		}
		d.Close()
	}
}
