package mbox

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"testing/iotest"
	"time"
)

// testMessage returns message i of a deterministic set with the shapes
// backups meet: CRLF and LF, "From " lines, no final newline, large bodies.
func testMessage(i int) []byte {
	var b bytes.Buffer
	eol := "\r\n"
	if i%3 == 1 {
		eol = "\n"
	}
	fmt.Fprintf(&b, "Message-ID: <m%d@example.com>%sSubject: message %d%s%s", i, eol, i, eol, eol)
	fmt.Fprintf(&b, "From the start%s>From quoted%s", eol, eol)
	lines := 5 + i%17
	if i%10 == 9 {
		lines = 2500 // about 190 KB: several buffers
	}
	for j := range lines {
		fmt.Fprintf(&b, "line %d of message %d, padded to be a little longer than short%s", j, i, eol)
	}
	if i%5 == 4 {
		b.WriteString("no final newline")
	}
	return b.Bytes()
}

func testRecord(i int) Record {
	zone := time.FixedZone("", (i%5-2)*3600)
	return Record{
		UIDValidity:  7,
		UID:          uint32(i + 1),
		Flags:        []string{`\Seen`},
		InternalDate: time.Date(2020, 1, 1, 0, 0, 0, 0, zone).Add(time.Duration(i) * time.Hour),
		MessageID:    fmt.Sprintf("<m%d@example.com>", i),
	}
}

// checkMailbox reads the mailbox through its index and sequentially and
// compares every message with testMessage.
func checkMailbox(t *testing.T, path string, n int) {
	t.Helper()
	mb, err := OpenMailbox(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer mb.Close()
	if got := len(mb.Records()); got != n {
		t.Fatalf("%s: %d records; want %d", path, got, n)
	}
	i := 0
	for m, err := range mb.Messages(context.Background()) {
		if err != nil {
			t.Fatalf("message %d: %v", i, err)
		}
		got, err := io.ReadAll(m.Body)
		if err != nil {
			t.Fatalf("message %d (uid %d): %v", i, m.UID, err)
		}
		want := testMessage(int(m.UID) - 1)
		if !bytes.Equal(got, want) {
			t.Fatalf("message uid %d: %d bytes differ from the %d written", m.UID, len(got), len(want))
		}
		wantRec := testRecord(int(m.UID) - 1)
		if !m.InternalDate.Equal(wantRec.InternalDate) || m.InternalDate.Format(time.RFC3339) != wantRec.InternalDate.Format(time.RFC3339) {
			t.Errorf("message uid %d: internal date %v; want %v", m.UID, m.InternalDate, wantRec.InternalDate)
		}
		i++
	}
	// A second, sequential read sees the same messages.
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	j := 0
	for m, err := range NewReader(f).All() {
		if err != nil {
			t.Fatalf("sequential read of %s: %v", path, err)
		}
		got, err := io.ReadAll(m.Body)
		if err != nil {
			t.Fatal(err)
		}
		rec := mb.Records()[j]
		if want := sequentialWant(string(testMessage(int(rec.UID) - 1))); string(got) != want {
			t.Fatalf("sequential message %d differs", j)
		}
		j++
	}
	if j != n {
		t.Errorf("sequential read of %s: %d messages; want %d", path, j, n)
	}
}

func appendRange(t *testing.T, a *Appender, from, to int) {
	t.Helper()
	ctx := context.Background()
	for i := from; i < to; i++ {
		if _, err := a.Append(ctx, testRecord(i), bytes.NewReader(testMessage(i))); err != nil {
			t.Fatal(err)
		}
	}
}

func TestAppender(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "sub", "INBOX.mbox")
	h := NewHeader("INBOX", "/", []string{"INBOX"})
	a, err := OpenAppender(ctx, path, h)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); err == nil {
		t.Errorf("%s exists before the first commit", path)
	}
	appendRange(t, a, 0, 12)
	if err := a.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path + PartialSuffix); err == nil {
		t.Errorf("%s still exists after commit", path+PartialSuffix)
	}
	appendRange(t, a, 12, 15)
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	checkMailbox(t, path, 15)

	// Incremental: reopen, skip what is there, add more, change flags.
	a, err = OpenAppender(ctx, path, h)
	if err != nil {
		t.Fatal(err)
	}
	if r := a.Repaired(); r != (Repair{}) {
		t.Errorf("Repaired() = %+v on an intact mailbox", r)
	}
	if !a.Has(7, 15) || a.Has(7, 16) || a.Has(8, 1) {
		t.Errorf("Has() wrong after reopen")
	}
	if _, err := a.Append(ctx, testRecord(0), bytes.NewReader(testMessage(0))); err == nil {
		t.Errorf("Append(uid already there) succeeded")
	}
	before, _ := os.ReadFile(path)
	if !a.SetFlags(7, 3, []string{`\Seen`, `\Flagged`}) || a.SetFlags(7, 3, []string{`\Flagged`, `\Seen`}) {
		t.Errorf("SetFlags: want changed once")
	}
	if err := a.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if after, _ := os.ReadFile(path); !bytes.Equal(before, after) {
		t.Errorf("a flag change rewrote the mbox")
	}
	appendRange(t, a, 15, 20)
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	checkMailbox(t, path, 20)
	idx, torn, err := ReadIndex(context.Background(), IndexPath(path))
	if err != nil || torn {
		t.Fatalf("ReadIndex = %v, torn %v", err, torn)
	}
	if got := idx.Records[2].Flags; strings.Join(got, " ") != `\Seen \Flagged` {
		t.Errorf("flags of uid 3 = %q; want \\Seen \\Flagged", got)
	}
	if idx.Header.Name != "INBOX" || strings.Join(idx.Header.Path, "/") != "INBOX" {
		t.Errorf("header = %+v", idx.Header)
	}
}

func TestAppenderEmptyFolder(t *testing.T) {
	path := filepath.Join(t.TempDir(), "Empty.mbox")
	a, err := OpenAppender(context.Background(), path, NewHeader("Empty", "/", []string{"Empty"}))
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	checkMailbox(t, path, 0)
}

// TestAppenderBodyError checks that a message whose source fails leaves
// nothing behind.
func TestAppenderBodyError(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "INBOX.mbox")
	a, err := OpenAppender(ctx, path, NewHeader("INBOX", "/", []string{"INBOX"}))
	if err != nil {
		t.Fatal(err)
	}
	appendRange(t, a, 0, 3)
	broken := io.MultiReader(bytes.NewReader(testMessage(9)), iotest.ErrReader(errors.New("connection reset")))
	if _, err := a.Append(ctx, testRecord(3), broken); err == nil || !strings.Contains(err.Error(), "connection reset") {
		t.Errorf("Append(broken body) = %v; want the body's error", err)
	}
	appendRange(t, a, 3, 5)
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	checkMailbox(t, path, 5)
}

// TestAppenderRepair damages a mailbox the ways a crash can and checks that
// reopening keeps every recorded message and cuts the rest.
func TestAppenderRepair(t *testing.T) {
	ctx := context.Background()
	h := NewHeader("INBOX", "/", []string{"INBOX"})
	build := func(t *testing.T, n int) string {
		path := filepath.Join(t.TempDir(), "INBOX.mbox")
		a, err := OpenAppender(ctx, path, h)
		if err != nil {
			t.Fatal(err)
		}
		appendRange(t, a, 0, n)
		if err := a.Close(); err != nil {
			t.Fatal(err)
		}
		return path
	}
	appendFile := func(t *testing.T, path string, data []byte) {
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
		if err != nil {
			t.Fatal(err)
		}
		f.Write(data)
		f.Close()
	}
	tests := []struct {
		name   string
		damage func(t *testing.T, path string)
		keep   int
		check  func(r Repair) bool
	}{
		{"mbox bytes without record", func(t *testing.T, path string) {
			appendFile(t, path, []byte(Separator(time.Now())+"Subject: half a mess"))
		}, 6, func(r Repair) bool { return r.TruncatedBytes > 0 && r.DroppedRecords == 0 }},
		{"torn index line", func(t *testing.T, path string) {
			appendFile(t, path, []byte(Separator(time.Now())+"Subject: x\n\n"))
			appendFile(t, IndexPath(path), []byte(`{"uidValidity":7,"uid":99,"fla`))
		}, 6, func(r Repair) bool { return r.TornIndexLine && r.TruncatedBytes > 0 }},
		{"record past the data", func(t *testing.T, path string) {
			st, _ := os.Stat(path)
			os.Truncate(path, st.Size()-10)
		}, 5, func(r Repair) bool { return r.DroppedRecords == 1 && r.TruncatedBytes > 0 }},
		{"last message corrupted", func(t *testing.T, path string) {
			f, _ := os.OpenFile(path, os.O_RDWR, 0)
			st, _ := f.Stat()
			f.WriteAt([]byte("X"), st.Size()-5)
			f.Close()
		}, 5, func(r Repair) bool { return r.DroppedRecords == 1 && r.TruncatedBytes > 0 }},
		{"mbox gone", func(t *testing.T, path string) {
			os.Remove(path)
		}, 0, func(r Repair) bool { return r.DroppedRecords == 6 }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := build(t, 6)
			tt.damage(t, path)
			a, err := OpenAppender(ctx, path, h)
			if err != nil {
				t.Fatal(err)
			}
			if r := a.Repaired(); !tt.check(r) {
				t.Errorf("Repaired() = %+v", r)
			}
			if got := len(a.Records()); got != tt.keep {
				t.Errorf("%d records kept; want %d", got, tt.keep)
			}
			appendRange(t, a, tt.keep, 8)
			if err := a.Close(); err != nil {
				t.Fatal(err)
			}
			checkMailbox(t, path, 8)
		})
	}
}

func TestAppenderRefusesForeignMbox(t *testing.T) {
	path := filepath.Join(t.TempDir(), "INBOX.mbox")
	data := []byte("From x\nSubject: precious\n\n")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := OpenAppender(context.Background(), path, NewHeader("INBOX", "/", []string{"INBOX"})); err == nil {
		t.Errorf("OpenAppender(mbox without index) succeeded")
	}
	if got, _ := os.ReadFile(path); !bytes.Equal(got, data) {
		t.Errorf("a foreign mbox was changed")
	}
}

// TestAppenderPartialLeftover checks that a new mailbox whose first commit
// never happened starts again cleanly.
func TestAppenderPartialLeftover(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "INBOX.mbox")
	if err := os.WriteFile(path+PartialSuffix, []byte("From x\ntorn"), 0o600); err != nil {
		t.Fatal(err)
	}
	a, err := OpenAppender(ctx, path, NewHeader("INBOX", "/", []string{"INBOX"}))
	if err != nil {
		t.Fatal(err)
	}
	appendRange(t, a, 0, 2)
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	checkMailbox(t, path, 2)
}

const (
	helperEnv      = "MAILMOVER_MBOX_HELPER"
	helperMessages = 80
)

// TestHelperProcess is not a test: run by TestKillDuringBackup as a child
// process, it appends messages to the mailbox named in helperEnv,
// committing and reporting after each one, until it is killed.
func TestHelperProcess(t *testing.T) {
	path := os.Getenv(helperEnv)
	if path == "" {
		t.Skip("helper process for TestKillDuringBackup")
	}
	ctx := context.Background()
	a, err := OpenAppender(ctx, path, NewHeader("INBOX", "/", []string{"INBOX"}))
	if err != nil {
		fmt.Println("error", err)
		os.Exit(2)
	}
	fmt.Printf("repaired %+v\n", a.Repaired())
	for i := range helperMessages {
		rec := testRecord(i)
		if a.Has(rec.UIDValidity, rec.UID) {
			continue
		}
		if _, err := a.Append(ctx, rec, bytes.NewReader(testMessage(i))); err != nil {
			fmt.Println("error", err)
			os.Exit(2)
		}
		if err := a.Commit(ctx); err != nil {
			fmt.Println("error", err)
			os.Exit(2)
		}
		fmt.Println("committed", rec.UID, a.end)
	}
	a.Close()
	os.Exit(0)
}

// runHelper starts the helper on path and kills it with SIGKILL once it has
// committed at least killAfter messages and has started writing the next
// one (never, if killAfter is 0). It returns the highest UID the helper
// reported committed.
func runHelper(t *testing.T, path string, killAfter int) int {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$")
	cmd.Env = append(os.Environ(), helperEnv+"="+path)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	last := 0
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		line := sc.Text()
		if rest, ok := strings.CutPrefix(line, "committed "); ok {
			uid, end, _ := strings.Cut(rest, " ")
			last, _ = strconv.Atoi(uid)
			if killAfter > 0 && last >= killAfter {
				// Wait until the next message is partly on disk.
				committedEnd, _ := strconv.ParseInt(end, 10, 64)
				for {
					st, err := os.Stat(path)
					if err != nil || st.Size() > committedEnd {
						break
					}
					time.Sleep(time.Millisecond)
				}
				if err := cmd.Process.Kill(); err != nil {
					t.Fatal(err)
				}
				break
			}
		} else if strings.HasPrefix(line, "error") {
			t.Errorf("helper: %s", line)
		} else if strings.HasPrefix(line, "repaired") {
			t.Logf("helper: %s", line)
		}
	}
	io.Copy(io.Discard, out)
	err = cmd.Wait()
	if killAfter > 0 && err == nil {
		t.Logf("helper finished before it was killed")
	}
	return last
}

// TestKillDuringBackup kills a process that is backing up, twice, with
// SIGKILL, and checks that every message it committed is intact, that the
// next run repairs the tail, and that the finished mailbox is complete and
// byte-exact.
func TestKillDuringBackup(t *testing.T) {
	if testing.Short() {
		t.Skip("short")
	}
	path := filepath.Join(t.TempDir(), "INBOX.mbox")
	// Messages 30 and 60 are large: the kills land while they are written.
	for round, killAfter := range []int{29, 59} {
		last := runHelper(t, path, killAfter)
		a, err := OpenAppender(context.Background(), path, NewHeader("INBOX", "/", []string{"INBOX"}))
		if err != nil {
			t.Fatalf("round %d: reopen after kill: %v", round, err)
		}
		t.Logf("round %d: killed after uid %d; reopened with %d records, repair %+v", round, last, len(a.Records()), a.Repaired())
		for uid := 1; uid <= last; uid++ {
			if !a.Has(7, uint32(uid)) {
				t.Fatalf("round %d: committed uid %d lost after the kill", round, uid)
			}
		}
		n := len(a.Records())
		if err := a.Close(); err != nil {
			t.Fatal(err)
		}
		checkMailbox(t, path, n)
	}
	if last := runHelper(t, path, 0); last == 0 {
		t.Logf("nothing left to do for the last run")
	}
	checkMailbox(t, path, helperMessages)
	// The records are in UID order: nothing was written twice.
	idx, _, err := ReadIndex(context.Background(), IndexPath(path))
	if err != nil {
		t.Fatal(err)
	}
	for i, rec := range idx.Records {
		if rec.UID != uint32(i+1) {
			t.Fatalf("record %d has uid %d", i, rec.UID)
		}
		sum := sha256.Sum256(testMessage(i))
		if rec.SHA256 != hex.EncodeToString(sum[:]) {
			t.Fatalf("record %d: sha256 differs", i)
		}
	}
}
