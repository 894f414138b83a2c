package copier

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"

	"mailmover/core/dovecottest"
	"mailmover/core/failure"
	"mailmover/core/imapstore"
	"mailmover/core/mailtest"
	"mailmover/core/sample"
)

// migrate plans and runs a migration, failing the test on error.
func migrate(t *testing.T, src, dst *imapstore.Config, stateDir string) (*Plan, *Result) {
	t.Helper()
	ctx := context.Background()
	se, de := IMAP(src), IMAP(dst)
	plan, err := MakePlan(ctx, se, de, Options{})
	if err != nil {
		t.Fatalf("MakePlan: %v", err)
	}
	res, err := Run(ctx, se, de, plan, Options{StateDir: stateDir}, nil)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	return plan, res
}

// mapped returns the source snapshot re-keyed by the target folder of the plan.
func mapped(t *testing.T, plan *Plan, snap map[string][]mailtest.Msg) map[string][]mailtest.Msg {
	out := map[string][]mailtest.Msg{}
	for _, f := range plan.Included() {
		out[f.Target] = append(out[f.Target], snap[f.Source.Name]...)
	}
	for k := range out {
		slices.SortFunc(out[k], func(a, b mailtest.Msg) int { return strings.Compare(a.String(), b.String()) })
	}
	return out
}

func TestMigrateDovecot(t *testing.T) {
	t.Parallel()
	corpus := sample.New(sample.Options{Seed: 7, Messages: 150, MaxAttachment: 600 << 10})
	for _, tc := range []struct{ from, to dovecottest.Flavour }{
		{dovecottest.Modern, dovecottest.Courier},
		{dovecottest.Courier, dovecottest.Modern},
	} {
		t.Run(fmt.Sprintf("%v-to-%v", tc.from, tc.to), func(t *testing.T) {
			t.Parallel()
			ss := dovecottest.Start(t, dovecottest.Options{Flavour: tc.from})
			ds := dovecottest.Start(t, dovecottest.Options{Flavour: tc.to})
			src, dst := mailtest.Account(ss, "alice", "alice-pw"), mailtest.Account(ds, "alice", "alice-pw")
			mailtest.Load(t, src, corpus)
			before := mailtest.Snapshot(t, src)
			stateDir := t.TempDir()

			plan, res := migrate(t, src, dst, stateDir)
			if !res.Complete() {
				t.Fatalf("first run not complete: %+v", res.Problems)
			}
			if res.Progress.Copied != corpus.Len() {
				t.Errorf("first run copied %d; want %d", res.Progress.Copied, corpus.Len())
			}
			after := mailtest.Snapshot(t, src)
			if fmt.Sprint(before) != fmt.Sprint(after) {
				t.Errorf("the source changed during the migration")
			}
			want := mapped(t, plan, before)
			got := mailtest.Snapshot(t, dst)
			for name, msgs := range want {
				if fmt.Sprint(got[name]) != fmt.Sprint(msgs) {
					t.Errorf("target folder %q = %d messages %v; want %d %v", name, len(got[name]), got[name], len(msgs), msgs)
				}
			}
			ctx := context.Background()
			v, err := Verify(ctx, IMAP(src), IMAP(dst), plan)
			if err != nil || !v.OK() {
				t.Fatalf("Verify = %+v, %v; want OK", v, err)
			}

			// A re-run copies nothing.
			_, res2 := migrate(t, src, dst, stateDir)
			if res2.Progress.Copied != 0 || !res2.Complete() {
				t.Errorf("re-run copied %d, problems %v; want 0, none", res2.Progress.Copied, res2.Problems)
			}
			// A re-run with lost state copies nothing either (identity matching).
			_, res3 := migrate(t, src, dst, t.TempDir())
			if res3.Progress.Copied != 0 || res3.Progress.Existing != corpus.Len() {
				t.Errorf("re-run without state copied %d, found %d; want 0, %d", res3.Progress.Copied, res3.Progress.Existing, corpus.Len())
			}

			// A flag changed on the source comes over; a new message too.
			c := mailtest.Dial(t, src)
			if _, err := c.Select("INBOX", nil).Wait(); err != nil {
				t.Fatal(err)
			}
			if err := c.Store(imap.SeqSetNum(1), &imap.StoreFlags{Op: imap.StoreFlagsAdd, Flags: []imap.Flag{imap.FlagFlagged, "$Mailmover-Test"}}, nil).Close(); err != nil {
				t.Fatal(err)
			}
			msg := "From: a@example.com\r\nSubject: late arrival\r\nMessage-ID: <late@example.com>\r\n\r\nhello\r\n"
			ac := c.Append("INBOX", int64(len(msg)), nil)
			ac.Write([]byte(msg))
			ac.Close()
			if _, err := ac.Wait(); err != nil {
				t.Fatal(err)
			}
			c.Close()
			_, res4 := migrate(t, src, dst, stateDir)
			if res4.Progress.Copied != 1 || res4.Progress.FlagsUpdated != 1 {
				t.Errorf("delta run copied %d, updated flags of %d; want 1, 1", res4.Progress.Copied, res4.Progress.FlagsUpdated)
			}
			v, err = Verify(ctx, IMAP(src), IMAP(dst), plan)
			if err != nil || !v.OK() {
				t.Fatalf("Verify after delta = %+v, %v; want OK", v, err)
			}
		})
	}
}

// TestMigrateConnectionCuts drops connections mid-transfer, several times, on
// both sides: after re-runs every message is there exactly once.
func TestMigrateConnectionCuts(t *testing.T) {
	t.Parallel()
	ss := dovecottest.Start(t, dovecottest.Options{Flavour: dovecottest.Modern})
	ds := dovecottest.Start(t, dovecottest.Options{Flavour: dovecottest.Modern})
	src, dst := mailtest.Account(ss, "alice", "alice-pw"), mailtest.Account(ds, "alice", "alice-pw")
	corpus := sample.New(sample.Options{Seed: 11, Messages: 120, MaxAttachment: 300 << 10})
	mailtest.Load(t, src, corpus)
	before := mailtest.Snapshot(t, src)
	srcFault := &mailtest.FaultDialer{Limit: 180 << 10}
	srcFault.Cuts.Store(4)
	dstFault := &mailtest.FaultDialer{Limit: 90 << 10}
	dstFault.Cuts.Store(4)
	src.Dialer, dst.Dialer = srcFault.Dial, dstFault.Dial
	stateDir := t.TempDir()
	ctx := context.Background()
	var plan *Plan
	var err error
	for i := 0; i < 6; i++ {
		plan, err = MakePlan(ctx, IMAP(src), IMAP(dst), Options{})
		if err != nil {
			continue
		}
		var res *Result
		res, err = Run(ctx, IMAP(src), IMAP(dst), plan, Options{StateDir: stateDir, Retries: 2}, nil)
		if err == nil && res.Complete() {
			break
		}
	}
	if err != nil {
		t.Fatalf("still failing after re-runs: %v", err)
	}
	src.Dialer, dst.Dialer = nil, nil
	got := mailtest.Snapshot(t, dst)
	for name, msgs := range mapped(t, plan, before) {
		if fmt.Sprint(got[name]) != fmt.Sprint(msgs) {
			t.Errorf("target folder %q = %d messages; want %d exactly once each", name, len(got[name]), len(msgs))
		}
	}
}

func TestDialErrors(t *testing.T) {
	t.Parallel()
	s := dovecottest.Start(t, dovecottest.Options{})
	ctx := context.Background()
	wrongPW := mailtest.Account(s, "alice", "not-the-password")
	untrusted := mailtest.Account(s, "alice", "alice-pw")
	untrusted.CAPEM = nil
	closed := mailtest.Account(s, "alice", "alice-pw")
	closed.Port = 1 // nothing listens there
	for _, tc := range []struct {
		name string
		cfg  *imapstore.Config
		want failure.Kind
	}{
		{"wrong password", wrongPW, failure.Auth},
		{"untrusted certificate", untrusted, failure.TLS},
		{"closed port", closed, failure.Connection},
	} {
		_, err := imapstore.Open(ctx, tc.cfg)
		if got := failure.KindOf(err); got != tc.want {
			t.Errorf("Open(%q) = %v (kind %v); want kind %v", tc.name, err, got, tc.want)
		}
		if err != nil && strings.Contains(err.Error(), tc.cfg.Password) {
			t.Errorf("Open(%q) error %q reveals the password", tc.name, err)
		}
		if tc.want == failure.TLS {
			var ce *imapstore.CertError
			if !errors.As(err, &ce) || ce.Fingerprint == "" {
				t.Errorf("Open(%q) = %v; want a *CertError with a fingerprint", tc.name, err)
			}
		}
	}
}

// TestMigrateQuotaFull stops with a quota failure, saying so in the plan first.
func TestMigrateQuotaFull(t *testing.T) {
	t.Parallel()
	ss := dovecottest.Start(t, dovecottest.Options{})
	ds := dovecottest.Start(t, dovecottest.Options{Users: []dovecottest.User{{Name: "alice", Password: "alice-pw", QuotaBytes: 300 << 10}}})
	src, dst := mailtest.Account(ss, "alice", "alice-pw"), mailtest.Account(ds, "alice", "alice-pw")
	mailtest.Load(t, src, sample.New(sample.Options{Seed: 2, Messages: 60, MaxAttachment: 200 << 10}))
	ctx := context.Background()
	plan, err := MakePlan(ctx, IMAP(src), IMAP(dst), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(strings.Join(plan.Warnings, "\n"), "free") {
		t.Errorf("plan warnings = %q; want a quota warning", plan.Warnings)
	}
	_, err = Run(ctx, IMAP(src), IMAP(dst), plan, Options{StateDir: t.TempDir()}, nil)
	if failure.KindOf(err) != failure.Quota {
		t.Errorf("Run = %v (kind %v); want a quota failure", err, failure.KindOf(err))
	}
}

// TestMigrateCancel cancels a run mid-way: it returns promptly, and the next
// run completes with every message exactly once.
func TestMigrateCancel(t *testing.T) {
	t.Parallel()
	ss := dovecottest.Start(t, dovecottest.Options{})
	ds := dovecottest.Start(t, dovecottest.Options{})
	src, dst := mailtest.Account(ss, "alice", "alice-pw"), mailtest.Account(ds, "alice", "alice-pw")
	corpus := sample.New(sample.Options{Seed: 4, Messages: 200, MaxAttachment: 300 << 10})
	mailtest.Load(t, src, corpus)
	before := mailtest.Snapshot(t, src)
	stateDir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	plan, err := MakePlan(ctx, IMAP(src), IMAP(dst), Options{})
	if err != nil {
		t.Fatal(err)
	}
	var cancelled time.Time
	res, err := Run(ctx, IMAP(src), IMAP(dst), plan, Options{StateDir: stateDir}, func(e Event) {
		if e.Kind == EventProgress && e.Progress.Copied > 20 && cancelled.IsZero() {
			cancelled = time.Now()
			cancel()
		}
	})
	took := time.Since(cancelled)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Run = %v; want context.Canceled", err)
	}
	t.Logf("stopped %v after cancel, %d copied", took, res.Progress.Copied)
	_, res2 := migrate(t, src, dst, stateDir)
	// Messages saved on the target just before the cancel, but not yet
	// recorded, are recognised by identity in the second run.
	if n := res.Progress.Copied + res2.Progress.Copied; n > corpus.Len() || res2.Progress.Copied+res2.Progress.Existing != corpus.Len() {
		t.Errorf("copied %d then %d (%d found there); want %d in all", res.Progress.Copied, res2.Progress.Copied, res2.Progress.Existing, corpus.Len())
	}
	got := mailtest.Snapshot(t, dst)
	for name, msgs := range mapped(t, plan, before) {
		if fmt.Sprint(got[name]) != fmt.Sprint(msgs) {
			t.Errorf("target folder %q = %d messages; want %d exactly once each", name, len(got[name]), len(msgs))
		}
	}
}
