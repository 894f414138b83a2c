package state

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSaveLoad(t *testing.T) {
	d, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	f, err := d.Load("INBOX")
	if err != nil || len(f.Copied) != 0 {
		t.Fatalf("Load(%q) of a new folder = %+v, %v; want empty", "INBOX", f, err)
	}
	f.Target, f.SourceUIDValidity, f.Complete = "INBOX", 7, true
	f.Copied[3] = Entry{T: 30, F: FlagHash([]string{`\Seen`})}
	if err := d.Save(f); err != nil {
		t.Fatal(err)
	}
	g, err := d.Load("INBOX")
	if err != nil || g.Copied[3].T != 30 || g.SourceUIDValidity != 7 || !g.Complete {
		t.Errorf("Load(%q) = %+v, %v; want what was saved", "INBOX", g, err)
	}
	// A damaged file is not fatal: the folder starts afresh (identity
	// matching on the target avoids duplicates).
	os.WriteFile(d.folderFile("INBOX"), []byte("{torn"), 0o600)
	g, err = d.Load("INBOX")
	if err != nil || len(g.Copied) != 0 {
		t.Errorf("Load(damaged) = %+v, %v; want an empty state", g, err)
	}
	leftovers, _ := filepath.Glob(filepath.Join(d.Path(), "folders", ".*tmp*"))
	if len(leftovers) != 0 {
		t.Errorf("temporary files left behind: %v", leftovers)
	}
}

func TestFlagHash(t *testing.T) {
	if FlagHash([]string{`\Seen`, `$A`}) != FlagHash([]string{`$a`, `\seen`, `\Recent`}) {
		t.Errorf("FlagHash depends on order, case or \\Recent")
	}
	if FlagHash([]string{`\Seen`}) == FlagHash(nil) {
		t.Errorf("FlagHash(\\Seen) = FlagHash(none)")
	}
}

func TestJournal(t *testing.T) {
	d, _ := Open(t.TempDir())
	d.Log(Record{Event: "copied", Folder: "INBOX", Count: 2})
	d.Log(Record{Event: "failed", Folder: "INBOX", UID: 9, Error: "refused"})
	d.Close()
	recs, err := ReadJournal(filepath.Join(d.Path(), JournalFile))
	if err != nil || len(recs) != 2 || recs[1].UID != 9 {
		t.Errorf("ReadJournal = %+v, %v; want the two records", recs, err)
	}
	if n := PairName("alice on imap.example.com:993", strings.Repeat("x", 200)); len(n) > 100 || strings.ContainsAny(n, " :/") {
		t.Errorf("PairName = %q; want a short, file-safe name", n)
	}
}
