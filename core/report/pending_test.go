package report

import (
	"path/filepath"
	"testing"

	"mailmover/core/state"
)

// TestFindPending finds the pairs whose last copy was stopped, failed or
// killed, and not those whose last copy finished.
func TestFindPending(t *testing.T) {
	root := t.TempDir()
	write := func(name string, recs ...state.Record) {
		d, err := state.Open(filepath.Join(root, name))
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range recs {
			if err := d.Log(r); err != nil {
				t.Fatal(err)
			}
		}
		d.Close()
	}
	start := func(run string) state.Record {
		return state.Record{Run: run, Event: "run-start", Source: "ann on old:993", Target: "ann on new:993"}
	}
	done := func(run, err string) state.Record {
		return state.Record{Run: run, Event: "run-done", Error: err}
	}
	write("finished", start("1"), done("1", ""))
	write("stopped", start("1"), done("1", "context canceled"))
	write("killed", start("1"), done("1", "context canceled"), start("2"))
	write("resumed", start("1"), done("1", "connection reset"), start("2"), done("2", ""))

	got, err := FindPending(root)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"stopped": "context canceled", "killed": ""}
	if len(got) != len(want) {
		t.Fatalf("FindPending = %+v; want the stopped and the killed pair", got)
	}
	for _, p := range got {
		name := filepath.Base(p.Dir)
		why, ok := want[name]
		if !ok || p.Error != why || p.Source != "ann on old:993" {
			t.Errorf("FindPending found %q with error %q, source %q; want error %q", name, p.Error, p.Source, why)
		}
	}

	if got, err := FindPending(filepath.Join(root, "missing")); err != nil || len(got) != 0 {
		t.Errorf("FindPending(missing folder) = %v, %v; want nothing", got, err)
	}
}
