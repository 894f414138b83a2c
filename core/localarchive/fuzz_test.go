package localarchive

import (
	"context"
	"io"
	"mailmover/core/localarchive/archivetest"
	"os"
	"path/filepath"
	"testing"
)

// FuzzMboxMessages reads arbitrary bytes as a local mbox: no panic, and
// every message's Size is the exact length of its Body.
func FuzzMboxMessages(f *testing.F) {
	f.Add([]byte(archivetest.TBMessage("Mon Jan  1 10:00:00 2024", "0001", "", "$label1", "s", ">From x") + "\n"))
	f.Add([]byte("junk\n\nFrom - x\nA: b\n\nc\n\nFrom - y\nX-Mozilla-Status: zz\nB: c\n"))
	f.Add([]byte("From a\r\nH: v\r\n\r\n\r\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(t.TempDir(), "mbox")
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		for m, err := range Messages(context.Background(), Folder{Source: path, Format: FormatMbox}) {
			if err != nil {
				continue
			}
			b, err := io.ReadAll(m.Body)
			if err != nil {
				t.Fatal(err)
			}
			if int64(len(b)) != m.Size {
				t.Fatalf("Size %d; body %d bytes %q", m.Size, len(b), b)
			}
		}
	})
}
