package mbox

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// pythonReader reads an mbox with Python's mailbox module, undoes one level
// of mboxrd escaping, and prints one line per message: the SHA-256 of its
// bytes and its Message-ID.
const pythonReader = `
import hashlib, mailbox, re, sys
box = mailbox.mbox(sys.argv[1], create=False)
for key in box.iterkeys():
    raw = box.get_bytes(key, from_=False)
    raw = re.sub(rb'(?m)^>(>*From )', rb'\1', raw)
    mid = box.get_message(key).get('Message-ID', '') or ''
    print(hashlib.sha256(raw).hexdigest(), str(mid).strip() or '-')
`

// TestPythonReadsOurMbox has a second, independent reader (Python's
// mailbox.mbox) read a backup written by an Appender and checks that it sees
// the same messages, byte for byte.
func TestPythonReadsOurMbox(t *testing.T) {
	python, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 not found")
	}
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "INBOX.mbox")
	a, err := OpenAppender(ctx, path, NewHeader("INBOX", "/", []string{"INBOX"}))
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	add := func(uid int, msg []byte) {
		rec := testRecord(uid)
		rec.UID = uint32(uid + 1)
		if _, err := a.Append(ctx, rec, bytes.NewReader(msg)); err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256([]byte(sequentialWant(string(msg))))
		mid := "-"
		if i := bytes.Index(msg, []byte("Message-ID: ")); i == 0 {
			mid = strings.TrimSpace(string(msg[12 : 12+bytes.IndexByte(msg[12:], '\n')]))
		}
		want = append(want, hex.EncodeToString(sum[:])+" "+mid)
	}
	for i := range 40 {
		add(i, testMessage(i))
	}
	for i, m := range edgeMessages {
		add(1000+i, []byte(m))
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(python, "-c", pythonReader, path).Output()
	if err != nil {
		t.Fatalf("python3: %v", err)
	}
	got := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(got) != len(want) {
		t.Fatalf("python3 read %d messages; want %d", len(got), len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("message %d: python3 read %q; want %q", i, got[i], want[i])
		}
	}
}
