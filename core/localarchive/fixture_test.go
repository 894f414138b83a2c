package localarchive

import (
	"context"
	"io"
	"slices"
	"testing"
	"time"
)

// got is what a test saw of one message.
type got struct {
	Message
	body string
}

// collect reads every message of a folder, checking that Size is exact.
func collect(t *testing.T, f Folder) ([]got, []error) {
	t.Helper()
	var out []got
	var errs []error
	for m, err := range Messages(context.Background(), f) {
		if err != nil {
			errs = append(errs, err)
			continue
		}
		b, err := io.ReadAll(m.Body)
		if err != nil {
			t.Fatalf("%s: read body: %v", m.Origin, err)
		}
		if int64(len(b)) != m.Size {
			t.Errorf("%s: Size %d; body has %d bytes", m.Origin, m.Size, len(b))
		}
		out = append(out, got{Message: *m, body: string(b)})
	}
	return out, errs
}

func folderNames(fs []Folder) []string {
	var out []string
	for _, f := range fs {
		out = append(out, f.Name()+" ("+f.Format+")")
	}
	return out
}

func findFolder(t *testing.T, fs []Folder, name string) Folder {
	t.Helper()
	for _, f := range fs {
		if f.Name() == name {
			return f
		}
	}
	t.Fatalf("folder %q not found in %q", name, folderNames(fs))
	return Folder{}
}

func local(y int, m time.Month, d, h int) time.Time {
	return time.Date(y, m, d, h, 0, 0, 0, time.Local)
}

func equalStrings(a, b []string) bool {
	return slices.Equal(a, b) || len(a) == 0 && len(b) == 0
}
