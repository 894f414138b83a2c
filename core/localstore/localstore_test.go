package localstore

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/emersion/go-imap/v2"

	"mailmover/core/copier"
	"mailmover/core/dovecottest"
	"mailmover/core/imapstore"
	"mailmover/core/localarchive"
	"mailmover/core/localarchive/archivetest"
	"mailmover/core/mailtest"
	"mailmover/core/mbox"
	"mailmover/core/sample"
)

func run(t *testing.T, src, dst copier.Endpoint, opts copier.Options) (*copier.Plan, *copier.Result) {
	t.Helper()
	ctx := context.Background()
	plan, err := copier.MakePlan(ctx, src, dst, opts)
	if err != nil {
		t.Fatalf("MakePlan: %v", err)
	}
	res, err := copier.Run(ctx, src, dst, plan, opts, nil)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	v, err := copier.Verify(ctx, src, dst, plan)
	if err != nil || !v.OK() {
		t.Fatalf("Verify = %+v, %v; want OK", v, err)
	}
	return plan, res
}

// backupSnapshot reads every message of a backup tree like mailtest.Snapshot
// does for an account, keyed by the folder path joined with "/".
func backupSnapshot(t *testing.T, root string) map[string][]mailtest.Msg {
	t.Helper()
	ctx := context.Background()
	tree, err := mbox.OpenTree(ctx, root)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]mailtest.Msg{}
	for _, e := range tree.Entries() {
		box, err := mbox.OpenMailbox(ctx, tree.FilePath(e))
		if os.IsNotExist(err) {
			out[strings.Join(e.Path, "/")] = nil
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		var msgs []mailtest.Msg
		for m, err := range box.Messages(ctx) {
			if err != nil {
				t.Fatal(err)
			}
			msgs = append(msgs, mailtest.HashMsg(m.Body, m.Flags, m.InternalDate))
		}
		box.Close()
		slices.SortFunc(msgs, func(a, b mailtest.Msg) int { return strings.Compare(a.String(), b.String()) })
		out[strings.Join(e.Path, "/")] = msgs
	}
	return out
}

// byPath re-keys an account snapshot by folder path.
func byPath(snap map[string][]mailtest.Msg, prefix string, delim string) map[string][]mailtest.Msg {
	out := map[string][]mailtest.Msg{}
	for name, msgs := range snap {
		p := strings.TrimPrefix(name, prefix)
		if name == "INBOX" {
			p = "INBOX"
		}
		out[strings.ReplaceAll(p, delim, "/")] = msgs
	}
	return out
}

func TestBackupAndRestoreDovecot(t *testing.T) {
	t.Parallel()
	ss := dovecottest.Start(t, dovecottest.Options{Flavour: dovecottest.Modern})
	ds := dovecottest.Start(t, dovecottest.Options{Flavour: dovecottest.Courier})
	src := mailtest.Account(ss, "alice", "alice-pw")
	corpus := sample.New(sample.Options{Seed: 21, Messages: 120, MaxAttachment: 300 << 10})
	mailtest.Load(t, src, corpus)
	before := mailtest.Snapshot(t, src)
	root := filepath.Join(t.TempDir(), "backup")
	state := t.TempDir()
	backup := BackupEndpoint(root)

	_, res := run(t, copier.IMAP(src), backup, copier.Options{StateDir: state, KeepPaths: true})
	if res.Progress.Copied != corpus.Len() {
		t.Errorf("backup copied %d; want %d", res.Progress.Copied, corpus.Len())
	}
	got := backupSnapshot(t, root)
	for p, msgs := range byPath(before, "", "/") {
		if fmt.Sprint(got[p]) != fmt.Sprint(msgs) {
			t.Errorf("backup of %q = %v; want %v", p, got[p], msgs)
		}
	}

	// Incremental: one new message and one changed flag.
	c := mailtest.Dial(t, src)
	if _, err := c.Select("INBOX", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	if err := c.Store(imap.SeqSetNum(1), &imap.StoreFlags{Op: imap.StoreFlagsAdd, Flags: []imap.Flag{imap.FlagAnswered}}, nil).Close(); err != nil {
		t.Fatal(err)
	}
	msg := "From: a@example.com\r\nSubject: new\r\n\r\nno message-id here\r\n"
	ac := c.Append("INBOX", int64(len(msg)), nil)
	ac.Write([]byte(msg))
	ac.Close()
	if _, err := ac.Wait(); err != nil {
		t.Fatal(err)
	}
	c.Close()
	before = mailtest.Snapshot(t, src)
	_, res = run(t, copier.IMAP(src), backup, copier.Options{StateDir: state, KeepPaths: true})
	if res.Progress.Copied != 1 || res.Progress.FlagsUpdated != 1 {
		t.Errorf("incremental backup copied %d, updated %d; want 1, 1", res.Progress.Copied, res.Progress.FlagsUpdated)
	}
	got = backupSnapshot(t, root)
	if fmt.Sprint(got["INBOX"]) != fmt.Sprint(before["INBOX"]) {
		t.Errorf("incremental backup of INBOX differs from the account")
	}

	// Restore into a Courier-style account: same bytes, flags and dates.
	dst := mailtest.Account(ds, "alice", "alice-pw")
	_, res = run(t, backup, copier.IMAP(dst), copier.Options{StateDir: state})
	if res.Progress.Copied != corpus.Len()+1 {
		t.Errorf("restore copied %d; want %d", res.Progress.Copied, corpus.Len()+1)
	}
	restored := byPath(mailtest.Snapshot(t, dst), "INBOX.", ".")
	total := 0
	for _, msgs := range restored {
		total += len(msgs)
	}
	if total != corpus.Len()+1 {
		t.Errorf("restored %d messages; want %d", total, corpus.Len()+1)
	}
	if fmt.Sprint(restored["INBOX"]) != fmt.Sprint(before["INBOX"]) {
		t.Errorf("restored INBOX differs from the original")
	}
	// A second restore adds nothing.
	_, res = run(t, backup, copier.IMAP(dst), copier.Options{StateDir: state})
	if res.Progress.Copied != 0 {
		t.Errorf("second restore copied %d; want 0", res.Progress.Copied)
	}
}

func TestImportMboxDovecot(t *testing.T) {
	t.Parallel()
	ds := dovecottest.Start(t, dovecottest.Options{})
	dst := mailtest.Account(ds, "alice", "alice-pw")
	dir := t.TempDir()
	mb := "From - Thu Jan  1 00:00:00 2015\n" +
		"From: a@example.com\nSubject: one\nMessage-ID: <one@example.com>\nDate: Thu, 01 Jan 2015 10:00:00 +0100\nX-Mozilla-Status: 0001\n\nfirst\n>From the archive\n\n" +
		"From - Fri Jan  2 00:00:00 2015\n" +
		"From: b@example.com\nSubject: two\nDate: Fri, 02 Jan 2015 10:00:00 +0100\nX-Mozilla-Status: 0005\n\nsecond, no Message-ID\n\n" +
		"From - Sat Jan  3 00:00:00 2015\n" +
		"From: c@example.com\nSubject: gone\nMessage-ID: <gone@example.com>\nX-Mozilla-Status: 0009\n\nexpunged in Thunderbird\n"
	if err := os.WriteFile(filepath.Join(dir, "Old mail.mbox"), []byte(mb), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	folders, err := localarchive.ScanMbox(ctx, dir)
	if err != nil || len(folders) != 1 {
		t.Fatalf("ScanMbox = %v, %v; want one folder", folders, err)
	}
	src := ArchiveEndpoint("local mbox", NewArchive(folders))
	state := t.TempDir()
	plan, res := run(t, src, copier.IMAP(dst), copier.Options{StateDir: state, Into: []string{"Local Archives"}})
	if res.Progress.Copied != 2 {
		t.Errorf("import copied %d; want 2 (the expunged one left out)", res.Progress.Copied)
	}
	if got := plan.Folders[0].Target; !strings.HasPrefix(got, "Local Archives/") {
		t.Errorf("import target = %q; want under Local Archives/", got)
	}
	s, err := imapstore.Open(ctx, dst)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.OpenFolder(ctx, plan.Folders[0].Target, true); err != nil {
		t.Fatal(err)
	}
	infos, err := s.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var flags []string
	for _, m := range infos {
		flags = append(flags, fmt.Sprint(m.Flags))
	}
	if fmt.Sprint(flags) != "[[\\Seen] [\\Flagged \\Seen]]" {
		t.Errorf("imported flags = %v; want [\\Seen] and [\\Flagged \\Seen]", flags)
	}
	// Importing again (new state) adds nothing: the messages are recognised.
	_, res = run(t, src, copier.IMAP(dst), copier.Options{StateDir: t.TempDir(), Into: []string{"Local Archives"}})
	if res.Progress.Copied != 0 {
		t.Errorf("re-import copied %d; want 0", res.Progress.Copied)
	}
}

// TestImportThunderbirdAndAppleMailDovecot finds, inventories and uploads a
// Thunderbird profile and an Apple Mail folder to real Dovecot, with their
// flags and dates; importing again adds nothing.
func TestImportThunderbirdAndAppleMailDovecot(t *testing.T) {
	t.Parallel()
	ds := dovecottest.Start(t, dovecottest.Options{Flavour: dovecottest.Courier})
	dst := mailtest.Account(ds, "alice", "alice-pw")
	ctx := context.Background()
	home, profile := archivetest.ThunderbirdHome(t)
	places := localarchive.Places{GOOS: "linux", Home: home}
	profiles, err := localarchive.ThunderbirdProfiles(ctx, places)
	if err != nil || len(profiles) == 0 {
		t.Fatalf("ThunderbirdProfiles = %v, %v; want the fixture's profiles", profiles, err)
	}
	tb, err := localarchive.ScanThunderbird(ctx, profile)
	if err != nil {
		t.Fatal(err)
	}
	apple, err := localarchive.ScanAppleMail(ctx, archivetest.AppleMailTree(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		folders []localarchive.Folder
		into    string
	}{
		{"thunderbird", tb, "Thunderbird"},
		{"apple mail", apple, "Apple Mail"},
	} {
		a := NewArchive(tc.folders)
		src := ArchiveEndpoint(tc.name, a)
		opts := copier.Options{StateDir: t.TempDir(), Into: []string{"Local Archives", tc.into}}
		// Inventory first: nothing is on the target yet.
		plan, err := copier.MakePlan(ctx, src, copier.IMAP(dst), opts)
		if err != nil {
			t.Fatal(err)
		}
		if plan.Messages == 0 {
			t.Fatalf("%s: the plan finds no messages", tc.name)
		}
		_, res := run(t, src, copier.IMAP(dst), opts)
		if res.Progress.Copied != plan.Messages {
			t.Errorf("%s: copied %d; want %d", tc.name, res.Progress.Copied, plan.Messages)
		}
		// Flags and dates arrived as read from the archive.
		s, err := imapstore.Open(ctx, dst)
		if err != nil {
			t.Fatal(err)
		}
		for _, fp := range plan.Included() {
			if fp.Source.Messages == 0 {
				continue
			}
			if _, err := a.OpenFolder(ctx, fp.Source.Name, true); err != nil {
				t.Fatal(err)
			}
			want, err := a.List(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := s.OpenFolder(ctx, fp.Target, true); err != nil {
				t.Fatal(err)
			}
			got, err := s.List(ctx)
			if err != nil {
				t.Fatal(err)
			}
			byID := map[string]string{}
			for _, m := range got {
				byID[m.Identity()] = fmt.Sprint(m.Flags)
			}
			for _, m := range want {
				if f, ok := byID[m.Identity()]; !ok || f != fmt.Sprint(m.Flags) {
					t.Errorf("%s: %q in %q = flags %q (found %v); want %v with its date", tc.name, m.Subject, fp.Target, f, ok, m.Flags)
				}
			}
		}
		s.Close()
		// Importing again, even with a fresh state, adds nothing.
		opts.StateDir = t.TempDir()
		_, res = run(t, src, copier.IMAP(dst), opts)
		if res.Progress.Copied != 0 {
			t.Errorf("%s: re-import copied %d; want 0", tc.name, res.Progress.Copied)
		}
	}
}
