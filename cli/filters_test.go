package cli

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"mailmover/core/filters/filtertest"
	"mailmover/core/sieve"
)

func TestFiltersThunderbird(t *testing.T) {
	profile := t.TempDir()
	if err := filtertest.WriteThunderbirdProfile(profile); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "notes")
	env, stdout, stderr := testEnv(t, nil)
	code := runFilters(context.Background(), env, []string{"--thunderbird", profile, "--out", out})
	// The fixture's Local Folders file has malformed lines: finished, with notes.
	if code != ExitPartial {
		t.Fatalf("runFilters = %d; want %d\nstdout:\n%s\nstderr:\n%s", code, ExitPartial, stdout, stderr)
	}
	ents, err := os.ReadDir(out)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	want := []string{"Local-Folders.sieve", "alice@example.com.sieve", "alice@pop.example.net.sieve", "filter-notes.html", "filter-notes.md"}
	if !reflect.DeepEqual(names, want) {
		t.Errorf("files written = %q; want %q", names, want)
	}
	for _, n := range names {
		b, err := os.ReadFile(filepath.Join(out, n))
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasSuffix(n, ".sieve") {
			if err := sieve.Check(string(b)); err != nil {
				t.Errorf("%s: %v", n, err)
			}
		}
	}
	md, _ := os.ReadFile(filepath.Join(out, "filter-notes.md"))
	for _, s := range []string{
		"When a new message arrives whose sender contains 'billing@', move it to 'INBOX/Reçus & Factures' and mark it read.",
		"Sieve script on the new server: `alice@example.com`",
		"Je suis absente jusqu'au 3 août.",
	} {
		if !strings.Contains(string(md), s) {
			t.Errorf("filter-notes.md lacks %q", s)
		}
	}
	sv, _ := os.ReadFile(filepath.Join(out, "alice@example.com.sieve"))
	if !strings.Contains(string(sv), "# rule:[Factures]") || !strings.Contains(string(sv), `fileinto "INBOX/Reçus & Factures";`) {
		t.Errorf("alice@example.com.sieve:\n%s", sv)
	}
	for _, s := range []string{
		"Read the filters of Thunderbird",
		"19 filters: 7 moved to the new server, 3 partly moved, 8 to recreate by hand, 1 not needed (3 switched off).",
		"  alice@example.com: 14 filters; 6 on the server, 3 partly, 5 by hand; script alice@example.com.sieve",
		"1 automatic reply to recreate by hand",
		filepath.Join(out, "filter-notes.html"),
	} {
		if !strings.Contains(stdout.String(), s) {
			t.Errorf("summary lacks %q:\n%s", s, stdout)
		}
	}
	if !strings.Contains(stderr.String(), "Note: Local Folders: line 9:") {
		t.Errorf("stderr lacks the malformed line:\n%s", stderr)
	}
}

func TestFiltersAppleMailJSON(t *testing.T) {
	path, err := filtertest.WriteAppleMail(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	env, stdout, stderr := testEnv(t, nil)
	if code := runFilters(context.Background(), env, []string{"--apple-mail", path, "--out", out, "--json", "--trash", ""}); code != ExitOK {
		t.Fatalf("runFilters = %d; want 0\n%s\n%s", code, stdout, stderr)
	}
	var sum struct {
		Type  string
		Count struct{ Rules, OnServer, Partly, ByHand int }
		Files []string
		Exit  int
	}
	if err := json.Unmarshal(stdout.Bytes(), &sum); err != nil {
		t.Fatalf("JSON %q: %v", stdout, err)
	}
	if sum.Type != "summary" || sum.Count.Rules != 4 || sum.Count.OnServer != 1 || sum.Count.Partly != 1 || sum.Count.ByHand != 2 || len(sum.Files) != 3 || sum.Exit != 0 {
		t.Errorf("summary = %+v", sum)
	}
	sv, err := os.ReadFile(filepath.Join(out, "Apple-Mail-rules.sieve"))
	if err != nil || !strings.Contains(string(sv), `fileinto "INBOX/Reçus & Factures";`) {
		t.Errorf("Apple-Mail-rules.sieve = %s, %v", sv, err)
	}
}

func TestFiltersUsage(t *testing.T) {
	dir := t.TempDir()
	for _, args := range [][]string{
		{},
		{"--thunderbird", dir, "--apple-mail", dir},
		{"--thunderbird", dir},
		{"--apple-mail", filepath.Join(dir, "missing.plist")},
		{"--thunderbird", dir, "extra"},
		{"--nonsense"},
	} {
		env, _, errb := testEnv(t, nil)
		if code := runFilters(context.Background(), env, args); code != ExitUsage {
			t.Errorf("runFilters(%q) = %d; want %d (stderr %q)", args, code, ExitUsage, errb)
		}
	}
	env, _, _ := testEnv(t, nil)
	if code := runFilters(context.Background(), env, []string{"-h"}); code != ExitOK {
		t.Errorf("runFilters(-h) = %d; want 0", code)
	}
}

func TestScriptName(t *testing.T) {
	tests := []struct{ in, want string }{
		{"alice@example.com", "alice@example.com"},
		{"Local Folders", "Local-Folders"},
		{"Reçus & Factures", "Re-us-Factures"},
		{"  ", "filters"},
		{"../../etc/passwd", "etc-passwd"},
	}
	for _, tt := range tests {
		if got := scriptName(tt.in); got != tt.want {
			t.Errorf("scriptName(%q) = %q; want %q", tt.in, got, tt.want)
		}
	}
	used := map[string]bool{}
	if a, b := uniqueName("x", used), uniqueName("X", used); a != "x" || b != "X-2" {
		t.Errorf("uniqueName = %q, %q; want x, X-2", a, b)
	}
}
