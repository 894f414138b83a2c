package sieve

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"mailmover/core/filters"
	"mailmover/core/filters/filtertest"
)

func TestCheckValid(t *testing.T) {
	for _, s := range []string{
		"",
		"# only a comment\n",
		"keep;",
		"/* block\ncomment */ stop ;",
		`require "fileinto"; fileinto "a";`,
		"require [\"fileinto\", \"imap4flags\", \"copy\"];\r\nif anyof (header :contains [\"from\", \"to\"] \"x\", not exists \"y\") {\r\n\taddflag \"\\\\Seen\"; fileinto :copy \"a\\\"b\";\r\n} elsif size :over 100K { discard; } else { keep; }\r\n",
		"if true { if false { stop; } }",
		"require \"vacation\";\nvacation :days 7 :subject \"Away\" text:\nI am away.\n..dot-stuffed\n.\n;",
		"require [\"body\", \"date\", \"relational\"]; if allof (body :text :contains \"x\", date :value \"gt\" \"date\" \"date\" \"2024-01-01\") { keep; }",
		"if address :all :comparator \"i;ascii-casemap\" :is \"from\" \"a@b\" { redirect \"c@d\"; }",
		"require \"regex\"; if header :regex \"subject\" \"^a\" { stop; }",
		"if false # header :contains \"subject\" \"later\"\n{\n\tkeep;\n}",
	} {
		if err := Check(s); err != nil {
			t.Errorf("Check(%q) = %v; want nil", s, err)
		}
	}
}

func TestCheckInvalid(t *testing.T) {
	tests := []struct {
		in        string
		line, col int
	}{
		{`keep`, 1, 5},
		{`"string";`, 1, 1},
		{"if true { keep;", 1, 16},
		{"keep; }", 1, 7},
		{"if header :is \"a\" \"b\"\nkeep;", 2, 1},
		{`fileinto "x";`, 1, 1},
		{`require "imap4flags"; addflag "\\Seen"; require "fileinto";`, 1, 41},
		{`if true { require "fileinto"; }`, 1, 11},
		{`else { keep; }`, 1, 1},
		{`if true { keep; } stop; else { keep; }`, 1, 25},
		{`if { keep; }`, 1, 4},
		{`stop true;`, 1, 6},
		{`if frob "x" { keep; }`, 1, 4},
		{`frob;`, 1, 1},
		{`if header :frob "a" "b" { keep; }`, 1, 11},
		{`require "fileinto"; fileinto :copy "x";`, 1, 30},
		{`if anyof (true, ) { keep; }`, 1, 17},
		{`if anyof true { keep; }`, 1, 10},
		{`if header { keep; }`, 1, 4},
		{"if header :is \"a\" \"b { keep; }", 1, 19},
		{"/* open", 1, 1},
		{"require [\"a\" \"b\"];", 1, 14},
		{"require [];", 1, 10},
		{"if size :over 10X { keep; }", 1, 15},
		{"keep; @", 1, 7},
		{"require \"vacation\"; vacation text:\nno end\n", 1, 30},
		{"if not { keep; }", 1, 8},
		{"if true keep;", 1, 9},
	}
	for _, tt := range tests {
		err := Check(tt.in)
		var se *SyntaxError
		if !errors.As(err, &se) || se.Line != tt.line || se.Col != tt.col {
			t.Errorf("Check(%q) = %v; want an error at %d:%d", tt.in, err, tt.line, tt.col)
		}
	}
}

func FuzzCheck(f *testing.F) {
	f.Add("require [\"fileinto\"]; if header :contains \"a\" \"b\" { fileinto \"x\"; stop; }")
	f.Add("text:\n.\n")
	f.Fuzz(func(t *testing.T, s string) { _ = Check(s) })
}

// sievecScripts are the generated scripts the Dovecot test compiles.
func sievecScripts(t *testing.T) map[string]string {
	t.Helper()
	dir := t.TempDir()
	if err := filtertest.WriteThunderbirdProfile(dir); err != nil {
		t.Fatal(err)
	}
	set, err := filters.ReadThunderbird(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, a := range set.Accounts {
		out[a.Key] = Generate(a.Rules, Options{Name: a.Key, Account: a.Name, Trash: "Trash"}).Text
		out[a.Key+"-regex-discard"] = Generate(a.Rules, Options{Name: a.Key, Extensions: append([]string{"regex"}, defaultExtensions...)}).Text
	}
	apple, _, err := filters.ParseAppleRules([]byte(filtertest.SyncedRules), nil)
	if err != nil {
		t.Fatal(err)
	}
	out["apple"] = Generate(apple, Options{Name: "apple"}).Text
	return out
}

// TestSievec compiles the generated scripts with Dovecot Pigeonhole's
// sievec (Debian package dovecot-sieve). Without it the test is skipped,
// unless MAILMOVER_REQUIRE_DOVECOT=1.
func TestSievec(t *testing.T) {
	bin, err := exec.LookPath("sievec")
	if err != nil {
		if os.Getenv("MAILMOVER_REQUIRE_DOVECOT") == "1" {
			t.Fatalf("sievec not found (install the dovecot-sieve package): %v", err)
		}
		t.Skip("sievec not found: install dovecot-sieve to compile the generated scripts")
	}
	dir := t.TempDir()
	conf := filepath.Join(dir, "empty.conf")
	if err := os.WriteFile(conf, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for name, text := range sievecScripts(t) {
		if err := Check(text); err != nil {
			t.Errorf("%s: Check = %v", name, err)
		}
		src := filepath.Join(dir, name+".sieve")
		if err := os.WriteFile(src, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		out, err := exec.CommandContext(t.Context(), bin, "-c", conf, src, filepath.Join(dir, name+".svbin")).CombinedOutput()
		if err != nil {
			t.Errorf("sievec %s: %v\n%s\n--- script:\n%s", name, err, out, text)
		}
	}
	// And sievec agrees with Check on a broken script.
	bad := filepath.Join(dir, "bad.sieve")
	if err := os.WriteFile(bad, []byte("require \"fileinto\";\nif header :contains \"a\" \"b\" { fileinto \"x\" }\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.CommandContext(t.Context(), bin, "-c", conf, bad, bad+".svbin").CombinedOutput(); err == nil {
		t.Errorf("sievec accepted a broken script: %s", out)
	}
	if err := Check("require \"fileinto\";\nif header :contains \"a\" \"b\" { fileinto \"x\" }\n"); err == nil || !strings.Contains(err.Error(), "line 2") {
		t.Errorf("Check(broken) = %v; want an error on line 2", err)
	}
}
