package localarchive

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"mailmover/core/localarchive/archivetest"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/iotest"
	"time"
)

func looseTree(t *testing.T) string {
	root := filepath.Join(t.TempDir(), "Archive")
	// mboxo (Unix mail: "From " in the body after a blank line would split,
	// so writers escaped it) and mboxrd (one more '>' on every ^>*From).
	archivetest.WriteFile(t, filepath.Join(root, "old.mbox"),
		"From alice@example.com Mon Jan  1 10:00:00 2024\n"+
			"Message-ID: <o1@example.com>\nSubject: mboxo\n\n"+
			"Escaped:\n\n>From the start of a paragraph\nFrom inside a paragraph\n\n"+
			"From bob@example.com Tue Jan  2 10:00:00 2024\n"+
			"Message-ID: <o2@example.com>\nSubject: mboxrd\n\n"+
			">>From was quoted\n>From was plain\n\n")
	archivetest.WriteFile(t, filepath.Join(root, "windows.MBX"),
		"From - Mon Jan  1 10:00:00 2024\r\nMessage-ID: <w1@example.com>\r\nSubject: crlf\r\n\r\nline\r\n\r\n"+
			"From - Tue Jan  2 10:00:00 2024\r\nMessage-ID: <w2@example.com>\r\nSubject: crlf 2\r\n\r\nline\r\n\r\n")
	archivetest.WriteFile(t, filepath.Join(root, "nested", "deep.mbox"), "From x Mon Jan  1 10:00:00 2024\nSubject: deep\n\nx\n")
	archivetest.WriteFile(t, filepath.Join(root, "Inbox"), "From - Mon Jan  1 10:00:00 2024\nX-Mozilla-Status: 0001\nSubject: exported by IETNG\n\nx\n")
	archivetest.WriteFile(t, filepath.Join(root, "Inbox.sbd", "Sub"), "From - Mon Jan  1 10:00:00 2024\nSubject: sub\n\nx\n")
	archivetest.WriteFile(t, filepath.Join(root, "notes.txt"), "From me\nSubject: not an mbox by name\n")
	archivetest.WriteFile(t, filepath.Join(root, "README"), "just text\n")
	archivetest.WriteFile(t, filepath.Join(root, "Saved.mbox", "mbox"), "From x Mon Jan  1 10:00:00 2024\nSubject: exported\n\nx\n")
	archivetest.WriteFile(t, filepath.Join(root, ".hidden.mbox"), "From x Mon Jan  1 10:00:00 2024\nSubject: hidden\n\nx\n")
	return root
}

func TestScanMbox(t *testing.T) {
	root := looseTree(t)
	fs, err := ScanMbox(context.Background(), root)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"Inbox (mbox)",
		"Inbox/Sub (mbox)",
		"Saved (mbox)",
		"nested/deep (mbox)",
		"old (mbox)",
		"windows (mbox)",
	}
	if got := folderNames(fs); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("ScanMbox() =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// A file given directly.
	one, err := ScanMbox(context.Background(), filepath.Join(root, "old.mbox"))
	if err != nil || strings.Join(folderNames(one), "|") != "old (mbox)" {
		t.Errorf("ScanMbox(file) = %q, %v", folderNames(one), err)
	}
	one, err = ScanMbox(context.Background(), filepath.Join(root, "Saved.mbox", "mbox"))
	if err != nil || strings.Join(folderNames(one), "|") != "Saved (mbox)" {
		t.Errorf("ScanMbox(exported mbox) = %q, %v", folderNames(one), err)
	}
}

func TestLooseMboxMessages(t *testing.T) {
	root := looseTree(t)
	msgs, errs := collect(t, Folder{Path: []string{"old"}, Source: filepath.Join(root, "old.mbox"), Format: FormatMbox})
	if len(errs) > 0 || len(msgs) != 2 {
		t.Fatalf("old.mbox: %d messages, %v", len(msgs), errs)
	}
	want := []string{
		"Message-ID: <o1@example.com>\r\nSubject: mboxo\r\n\r\nEscaped:\r\n\r\nFrom the start of a paragraph\r\nFrom inside a paragraph\r\n",
		"Message-ID: <o2@example.com>\r\nSubject: mboxrd\r\n\r\n>From was quoted\r\nFrom was plain\r\n",
	}
	for i := range want {
		if msgs[i].body != want[i] {
			t.Errorf("message %d = %q; want %q", i, msgs[i].body, want[i])
		}
	}
	if !msgs[1].InternalDate.Equal(local(2024, 1, 2, 10)) {
		t.Errorf("date %v; want 2024-01-02 10:00 local", msgs[1].InternalDate)
	}
	msgs, errs = collect(t, Folder{Path: []string{"windows"}, Source: filepath.Join(root, "windows.MBX"), Format: FormatMbox})
	if len(errs) > 0 || len(msgs) != 2 || msgs[1].body != "Message-ID: <w2@example.com>\r\nSubject: crlf 2\r\n\r\nline\r\n" {
		t.Errorf("windows.MBX: %+v, %v", msgs, errs)
	}
	msgs, _ = collect(t, Folder{Path: []string{"Inbox"}, Source: filepath.Join(root, "Inbox"), Format: FormatMbox})
	if len(msgs) != 1 || strings.Join(msgs[0].Flags, " ") != `\Seen` || strings.Contains(msgs[0].body, "X-Mozilla") {
		t.Errorf("IETNG export: %+v", msgs)
	}
}

func TestScanEML(t *testing.T) {
	root := filepath.Join(t.TempDir(), "Saved mail")
	archivetest.WriteFile(t, filepath.Join(root, "b.eml"), "Message-ID: <b@x>\nDate: Tue, 2 Jan 2024 10:00:00 +0200\nSubject: b\n\nbody\n")
	archivetest.WriteFile(t, filepath.Join(root, "a.eml"), "Message-ID: <a@x>\nSubject: a, no date\n\nbody")
	archivetest.WriteFile(t, filepath.Join(root, "sub", "c.EML"), "Subject: c\r\n\r\nbody\r\n")
	archivetest.WriteFile(t, filepath.Join(root, "sub", "ignored.txt"), "x")
	archivetest.Mkdir(t, filepath.Join(root, "empty"))
	mtime := time.Date(2022, 5, 5, 5, 5, 5, 0, time.UTC)
	if err := os.Chtimes(filepath.Join(root, "a.eml"), mtime, mtime); err != nil {
		t.Fatal(err)
	}
	fs, err := ScanEML(context.Background(), root)
	if err != nil {
		t.Fatal(err)
	}
	if got := folderNames(fs); strings.Join(got, "|") != "Saved mail (eml)|Saved mail/sub (eml)" {
		t.Errorf("ScanEML() = %q", got)
	}
	msgs, errs := collect(t, fs[0])
	if len(errs) > 0 || len(msgs) != 2 {
		t.Fatalf("%d messages, %v", len(msgs), errs)
	}
	if msgs[0].MessageID != "a@x" || !msgs[0].InternalDate.Equal(mtime) || msgs[0].body != "Message-ID: <a@x>\r\nSubject: a, no date\r\n\r\nbody" {
		t.Errorf("a.eml: %+v", msgs[0])
	}
	if !msgs[1].InternalDate.Equal(time.Date(2024, 1, 2, 8, 0, 0, 0, time.UTC)) || msgs[1].InternalDate.Format("-07:00") != "+02:00" {
		t.Errorf("b.eml: date %v; want the Date header with its zone", msgs[1].InternalDate)
	}
}

func TestMaildirFlags(t *testing.T) {
	tests := []struct {
		name    string
		flags   string
		skipped bool
	}{
		{"1700000000.M1P2.host", "", false},
		{"1700000000.M1P2.host:2,", "", false},
		{"1700000000.M1P2.host:2,DFPRS", `\Draft \Flagged $Forwarded \Answered \Seen`, false},
		{"1700000000.M1P2.host!2,ST", `\Seen`, true},
		{"1700000000.eml", "", false},
	}
	for _, tt := range tests {
		flags, skipped := maildirFlags(tt.name)
		if strings.Join(flags, " ") != tt.flags || (skipped != "") != tt.skipped {
			t.Errorf("maildirFlags(%q) = %q, %q; want %q, skipped %v", tt.name, flags, skipped, tt.flags, tt.skipped)
		}
	}
}

// TestCRLF checks that crlfReader and lfCounter agree with a reference on
// random inputs read in random pieces.
func TestCRLF(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	parts := []string{"\n", "\r", "\r\n", "x", "yz", "\n\n", "\r\r\n"}
	for range 3000 {
		var b strings.Builder
		for range rng.IntN(40) {
			b.WriteString(parts[rng.IntN(len(parts))])
		}
		in := b.String()
		var want strings.Builder
		for i := 0; i < len(in); i++ {
			if in[i] == '\n' && (i == 0 || in[i-1] != '\r') {
				want.WriteByte('\r')
			}
			want.WriteByte(in[i])
		}
		var c crlfReader
		c.reset(iotest.HalfReader(strings.NewReader(in)))
		got, err := io.ReadAll(iotest.OneByteReader(&c))
		if err != nil || string(got) != want.String() {
			t.Fatalf("crlf(%q) = %q, %v; want %q", in, got, err, want.String())
		}
		var n lfCounter
		for _, piece := range splitRandom(rng, in) {
			n.Write([]byte(piece))
		}
		if n.n+n.bare != int64(want.Len()) {
			t.Fatalf("lfCounter(%q) = %d + %d; want %d", in, n.n, n.bare, want.Len())
		}
	}
}

func splitRandom(rng *rand.Rand, s string) []string {
	var out []string
	for len(s) > 0 {
		k := 1 + rng.IntN(len(s))
		out = append(out, s[:k])
		s = s[k:]
	}
	return out
}

func TestReadHeader(t *testing.T) {
	in := "Received: from a\r\n\tby b\r\nX-Mozilla-Status: 0005\r\nX-Mozilla-Keys: $label2 \r\n   todo\r\nMessage-ID:\r\n <id@x> (comment)\r\nSubject: =?utf-8?q?caf=C3=A9?=\r\nFrom: =?iso-8859-1?q?J=F6rg?= <j@x>\r\n\r\nFrom body\r\n"
	h, err := readHeader(bufio.NewReader(strings.NewReader(in)))
	if err != nil {
		t.Fatal(err)
	}
	if h.messageID != "id@x" || h.subject != "café" || h.from != "Jörg <j@x>" || h.mozStatus != 5 || strings.Join(h.keywords, " ") != "$label2 todo" {
		t.Errorf("readHeader = %+v", h)
	}
	wantOut := "Received: from a\r\n\tby b\r\nMessage-ID:\r\n <id@x> (comment)\r\nSubject: =?utf-8?q?caf=C3=A9?=\r\nFrom: =?iso-8859-1?q?J=F6rg?= <j@x>\r\n\r\n"
	if string(h.out) != wantOut {
		t.Errorf("header out = %q; want %q", h.out, wantOut)
	}
	// A header without a body, without a final newline.
	h, _ = readHeader(bufio.NewReader(strings.NewReader("Subject: only")))
	if h.subject != "only" || string(h.out) != "Subject: only" {
		t.Errorf("readHeader(no body) = %+v", h)
	}
	// A huge header is cut at maxHeader, and everything is passed on.
	big := "X-Big: " + strings.Repeat("a", maxHeader+10) + "\r\n\r\nbody"
	br := bufio.NewReaderSize(strings.NewReader(big), 64<<10)
	h, _ = readHeader(br)
	rest, _ := io.ReadAll(br)
	if !bytes.Equal(append(bytes.Clone(h.out), rest...), []byte(big)) {
		t.Errorf("a huge header was not passed on whole")
	}
}
