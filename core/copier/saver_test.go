package copier

import (
	"testing"

	"mailmover/core/state"
)

// TestSaver: the newest snapshot of each folder reaches the disk, and what
// the worker changes after handing a snapshot over is not in it.
func TestSaver(t *testing.T) {
	st, err := state.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	s := newSaver(st)
	a := &state.Folder{Source: "INBOX", Copied: map[uint32]state.Entry{}}
	b := &state.Folder{Source: "Sent", Copied: map[uint32]state.Entry{}}
	for uid := uint32(1); uid <= 50; uid++ {
		a.Copied[uid] = state.Entry{T: uid + 100}
		if err := s.put(a); err != nil {
			t.Fatalf("put(INBOX) = %v; want nil", err)
		}
		if uid%10 == 0 {
			b.Copied[uid] = state.Entry{T: uid}
			if err := s.put(b); err != nil {
				t.Fatalf("put(Sent) = %v; want nil", err)
			}
		}
	}
	if err := s.flushFolder("Sent"); err != nil {
		t.Fatalf("flushFolder(%q) = %v; want nil", "Sent", err)
	}
	a.Copied[51] = state.Entry{T: 151} // after the last put: not saved
	if err := s.flush(); err != nil {
		t.Fatalf("flush() = %v; want nil", err)
	}
	for _, tc := range []struct {
		source string
		want   int
	}{
		{"INBOX", 50},
		{"Sent", 5},
	} {
		got, err := st.Load(tc.source)
		if err != nil || len(got.Copied) != tc.want {
			t.Errorf("Load(%q) = %d copied, %v; want %d", tc.source, len(got.Copied), err, tc.want)
		}
	}
}
