package cutover

import (
	"path/filepath"
	"slices"
	"testing"

	"mailmover/core/state"
)

// TestMarkCopy records a copy as the initial copy before the MX switch and
// as the final copy after it, with the verification only when verified.
func TestMarkCopy(t *testing.T) {
	tests := []struct {
		name     string
		before   []string
		verified bool
		want     []string
	}{
		{"first copy", nil, false, []string{InitialCopy}},
		{"first copy verified", nil, true, []string{InitialCopy, Verify}},
		{"after the switch", []string{InitialCopy, LowerTTL, SwitchMX}, true, []string{InitialCopy, LowerTTL, SwitchMX, FinalDelta, Verify}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := state.Open(t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			defer d.Close()
			for _, id := range tt.before {
				if err := Mark(d, id, ""); err != nil {
					t.Fatal(err)
				}
			}
			if err := MarkCopy(d, tt.verified, ""); err != nil {
				t.Fatalf("MarkCopy(%v) = %v", tt.verified, err)
			}
			recs, err := state.ReadJournal(filepath.Join(d.Path(), state.JournalFile))
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, r := range recs {
				if r.Event == "step" {
					got = append(got, r.Step)
				}
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("MarkCopy(%v) after %q recorded %q; want %q", tt.verified, tt.before, got, tt.want)
			}
		})
	}
}
