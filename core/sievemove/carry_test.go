package sievemove

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"mailmover/core/failure"
	"mailmover/core/filters"
	"mailmover/core/filters/filtertest"
	"mailmover/core/sieve"
)

func TestScriptName(t *testing.T) {
	tests := []struct{ in, want string }{
		{"alice@example.com", "alice@example.com"},
		{"Local Folders", "Local-Folders"},
		{"Reçus & Factures", "Re-us-Factures"},
		{"  ", "filters"},
		{"", "filters"},
		{"../../etc/passwd", "etc-passwd"},
		{".hidden", "hidden"},
		{strings.Repeat("a", 70), strings.Repeat("a", 64)},
	}
	for _, tt := range tests {
		if got := scriptName(tt.in); got != tt.want {
			t.Errorf("scriptName(%q) = %q; want %q", tt.in, got, tt.want)
		}
	}
}

func TestUniqueName(t *testing.T) {
	used := map[string]bool{}
	tests := []struct{ in, want string }{
		{"x", "x"},
		{"X", "X-2"},
		{"x", "x-3"},
		{"y", "y"},
	}
	for _, tt := range tests {
		if got := uniqueName(tt.in, used); got != tt.want {
			t.Errorf("uniqueName(%q) = %q; want %q", tt.in, got, tt.want)
		}
	}
}

func readProfile(t *testing.T) *filters.Set {
	t.Helper()
	profile := t.TempDir()
	if err := filtertest.WriteThunderbirdProfile(profile); err != nil {
		t.Fatal(err)
	}
	set, err := filters.ReadThunderbird(t.Context(), profile)
	if err != nil {
		t.Fatal(err)
	}
	return set
}

func TestGenerate(t *testing.T) {
	set := readProfile(t)
	tests := []struct {
		name      string
		opts      Options
		wantNames []string
		wantText  string
	}{
		{"files", Options{Trash: DefaultTrash},
			[]string{"alice@example.com", "alice@pop.example.net", "Local-Folders"}, `fileinto "INBOX/Reçus & Factures";`},
		{"to install", Options{Trash: DefaultTrash, Prefix: InstallPrefix},
			[]string{"mailmover-alice@example.com", "mailmover-alice@pop.example.net", "mailmover-Local-Folders"}, "# rule:[Factures]"},
		{"no imap4flags", Options{Trash: DefaultTrash, Extensions: []string{"fileinto"}},
			[]string{"alice@example.com", "alice@pop.example.net", "Local-Folders"}, `require ["fileinto"];`},
	}
	for _, tt := range tests {
		c := Generate(set, tt.opts)
		var names, files []string
		for _, s := range c.Scripts {
			names = append(names, s.Sieve.Name)
			files = append(files, s.File)
			if err := sieve.Check(s.Sieve.Text); err != nil {
				t.Errorf("%s: Check(%s) = %v", tt.name, s.File, err)
			}
		}
		if !reflect.DeepEqual(names, tt.wantNames) {
			t.Errorf("%s: Generate names = %q; want %q", tt.name, names, tt.wantNames)
		}
		wantFiles := []string{"alice@example.com.sieve", "alice@pop.example.net.sieve", "Local-Folders.sieve"}
		if !reflect.DeepEqual(files, wantFiles) {
			t.Errorf("%s: Generate files = %q; want %q", tt.name, files, wantFiles)
		}
		if len(c.Problems) != 0 {
			t.Errorf("%s: Generate problems = %q; want none", tt.name, c.Problems)
		}
		first := c.Script(set.Accounts[0].Key)
		if first == nil || !strings.Contains(first.Sieve.Text, tt.wantText) {
			t.Errorf("%s: script of %s lacks %q", tt.name, set.Accounts[0].Name, tt.wantText)
		}
		if got := c.Sieve(); len(got) != len(c.Scripts) || got[0] != c.Scripts[0].Sieve {
			t.Errorf("%s: Sieve() = %d scripts; want %d in order", tt.name, len(got), len(c.Scripts))
		}
	}
	if s := Generate(set, Options{}).Script("no such account"); s != nil {
		t.Errorf("Script(unknown) = %+v; want nil", s)
	}
}

func TestGenerateSameNames(t *testing.T) {
	rule := filters.Rule{Name: "r", Enabled: true, When: filters.NewMail,
		Conditions: []filters.Condition{{Field: filters.FieldSubject, Op: filters.OpContains, Value: "x"}},
		Actions:    []filters.Action{{Kind: filters.ActDelete}}}
	set := &filters.Set{Accounts: []filters.Account{
		{Key: "a", Name: "Work", Rules: []filters.Rule{rule}},
		{Key: "b", Name: "work"},
		{Key: "c", Name: "WORK", Rules: []filters.Rule{rule}},
		{Key: "d", Name: "Wörk", Rules: []filters.Rule{rule}},
	}}
	c := Generate(set, Options{})
	var files []string
	for _, s := range c.Scripts {
		files = append(files, s.Account+":"+s.File)
	}
	want := []string{"a:Work.sieve", "c:WORK-2.sieve", "d:W-rk.sieve"}
	if !reflect.DeepEqual(files, want) {
		t.Errorf("Generate files = %q; want %q", files, want)
	}
}

func TestNotes(t *testing.T) {
	set := readProfile(t)
	c := Generate(set, Options{Trash: DefaultTrash, Prefix: InstallPrefix})
	tests := []struct {
		name string
		inst *InstallResult
		want string
	}{
		{"not installed", nil, "Sieve script on the new server: `mailmover-alice@example.com`"},
		{"installed under another name", &InstallResult{As: map[string]string{"mailmover-alice@example.com": "mailmover-alice@example.com-2"}},
			"Sieve script on the new server: `mailmover-alice@example.com-2`"},
	}
	for _, tt := range tests {
		notes := c.Notes(filters.NotesOptions{Target: "bob on 127.0.0.1:4190"}, tt.inst)
		var md strings.Builder
		if err := notes.WriteMarkdown(&md); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(md.String(), tt.want) {
			t.Errorf("%s: notes lack %q", tt.name, tt.want)
		}
		if notes.Count.OnServer == 0 {
			t.Errorf("%s: notes count no rule on the server: %+v", tt.name, notes.Count)
		}
	}
	// Without scripts every rule is to be recreated by hand.
	bare := (&Carry{Set: set}).Notes(filters.NotesOptions{}, nil)
	if bare.Count.OnServer != 0 || bare.Count.ByHand == 0 {
		t.Errorf("notes without scripts count %+v; want all by hand", bare.Count)
	}
}

func TestWriteFiles(t *testing.T) {
	set := readProfile(t)
	c := Generate(set, Options{Trash: DefaultTrash})
	notes := c.Notes(filters.NotesOptions{}, nil)
	dir := filepath.Join(t.TempDir(), "new", "folder")
	written, err := c.WriteFiles(t.Context(), dir, notes)
	if err != nil {
		t.Fatalf("WriteFiles = %v", err)
	}
	var names []string
	for _, p := range written {
		if filepath.Dir(p) != dir {
			t.Errorf("WriteFiles wrote %s outside %s", p, dir)
		}
		names = append(names, filepath.Base(p))
	}
	want := []string{NotesMarkdown, NotesHTML, "alice@example.com.sieve", "alice@pop.example.net.sieve", "Local-Folders.sieve"}
	if !reflect.DeepEqual(names, want) {
		t.Errorf("WriteFiles = %q; want %q", names, want)
	}
	got, err := os.ReadFile(filepath.Join(dir, "alice@example.com.sieve"))
	if err != nil || string(got) != c.Scripts[0].Sieve.Text {
		t.Errorf("alice@example.com.sieve = %v; want the script", err)
	}

	// A file where the folder should be: a local failure, named.
	blocked := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(blocked, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := c.WriteFiles(t.Context(), blocked, notes); failure.KindOf(err) != failure.Local || !strings.Contains(err.Error(), NotesMarkdown) {
		t.Errorf("WriteFiles(%q) = %v; want a local failure naming the file", blocked, err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := c.WriteFiles(ctx, t.TempDir(), notes); failure.KindOf(err) != failure.Cancelled || !errors.Is(err, context.Canceled) {
		t.Errorf("WriteFiles(cancelled) = %v; want cancelled", err)
	}
}
