package mbox

import (
	"bytes"
	"context"
	"io"
	"strings"
	"testing"

	gombox "github.com/emersion/go-mbox"

	"mailmover/core/sample"
)

// TestGoMboxReadsOurFiles reads a backup written by our codec with
// github.com/emersion/go-mbox, an independent mbox reader: it finds every
// message, and for messages without escaped "From " lines (which it cannot
// undo beyond one level) the same bytes.
func TestGoMboxReadsOurFiles(t *testing.T) {
	corpus := sample.New(sample.Options{Seed: 9, Messages: 60, MaxAttachment: 64 << 10})
	var file bytes.Buffer
	w := NewWriter(&file)
	var want [][]byte
	for m := range corpus.All() {
		b := m.Bytes()
		want = append(want, b)
		if _, err := w.WriteMessage(context.Background(), m.InternalDate, bytes.NewReader(b)); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	r := gombox.NewReader(&file)
	for i := 0; ; i++ {
		mr, err := r.NextMessage()
		if err == io.EOF {
			if i != len(want) {
				t.Fatalf("go-mbox read %d messages; want %d", i, len(want))
			}
			return
		}
		if err != nil {
			t.Fatalf("go-mbox NextMessage %d: %v", i, err)
		}
		got, err := io.ReadAll(mr)
		if err != nil {
			t.Fatal(err)
		}
		if i >= len(want) {
			t.Fatalf("go-mbox read more than %d messages", len(want))
		}
		if strings.Contains(string(want[i]), "\nFrom ") || strings.Contains(string(want[i]), "\n>From ") {
			continue
		}
		// go-mbox returns CRLF lines and may add a final line break.
		if g, w := bytes.TrimRight(got, "\r\n"), bytes.TrimRight(want[i], "\r\n"); !bytes.Equal(g, w) {
			t.Errorf("go-mbox message %d = %d bytes; want %d", i, len(g), len(w))
		}
	}
}
