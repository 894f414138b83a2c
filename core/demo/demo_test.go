package demo

import (
	"context"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"mailmover/core/copier"
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
