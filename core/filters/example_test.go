package filters_test

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"mailmover/core/filters"
	"mailmover/core/filters/filtertest"
	"mailmover/core/sieve"
)

var update = flag.Bool("update", false, "rewrite the example notes in testdata")

// TestExampleNotes renders the notes of the fixture profile and compares
// them with testdata/example-filter-notes.{md,html} and the Sieve script
// with testdata/example-alice.sieve: the example linked from the README.
// Run with -update after a deliberate change.
func TestExampleNotes(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("the example holds Unix paths and error texts")
	}
	dir := t.TempDir()
	if err := filtertest.WriteThunderbirdProfile(dir); err != nil {
		t.Fatal(err)
	}
	set, err := filters.ReadThunderbird(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	// Stable paths, as on a user's machine.
	const home = "/home/alice/.thunderbird/x7k2p9.default-release"
	fix := func(s string) string { return strings.Replace(s, dir, home, 1) }
	set.Source = fix(set.Source)
	for i := range set.Accounts {
		a := &set.Accounts[i]
		a.FilterFile = fix(a.FilterFile)
		for j := range a.Identities {
			a.Identities[j].SignatureFile = fix(a.Identities[j].SignatureFile)
		}
	}
	scripts := map[string]*sieve.Script{}
	for _, a := range set.Accounts {
		scripts[a.Key] = sieve.Generate(a.Rules, sieve.Options{Name: "mailmover", Account: a.Name, Trash: "Trash", Words: filters.Words{Tags: set.Tags}})
	}
	n := filters.BuildNotes(set, filters.NotesOptions{
		Plan:      func(a *filters.Account) *filters.Plan { return scripts[a.Key].Plan() },
		Target:    "mail.example.net",
		Generated: time.Date(2025, 3, 1, 9, 30, 0, 0, time.UTC),
	})
	var md, html bytes.Buffer
	if err := n.WriteMarkdown(&md); err != nil {
		t.Fatal(err)
	}
	if err := n.WriteHTML(&html); err != nil {
		t.Fatal(err)
	}
	golden := map[string][]byte{
		"example-filter-notes.md":   md.Bytes(),
		"example-filter-notes.html": html.Bytes(),
		"example-alice.sieve":       []byte(scripts["server1"].Text),
	}
	for name, got := range golden {
		p := filepath.Join("testdata", name)
		if *update {
			if err := os.MkdirAll("testdata", 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, got, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(p)
		if err != nil {
			t.Fatalf("%v (run go test -run TestExampleNotes -update)", err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s differs from the rendered notes; if the change is meant, run go test ./core/filters -run TestExampleNotes -update\n--- got:\n%s", p, firstDiff(string(got), string(want)))
		}
	}
}

func firstDiff(a, b string) string {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	for i := 0; i < len(al) && i < len(bl); i++ {
		if al[i] != bl[i] {
			return "line " + itoa(i+1) + ":\n got:  " + al[i] + "\n want: " + bl[i]
		}
	}
	return "lengths differ"
}

func itoa(n int) string {
	var b []byte
	for n >= 10 {
		b = append([]byte{byte('0' + n%10)}, b...)
		n /= 10
	}
	return string(append([]byte{byte('0' + n)}, b...))
}
