package gui

import (
	"bytes"
	"encoding/json"
	"flag"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"fyne.io/fyne/v2/lang"
)

var update = flag.Bool("update", false, "rewrite translations/en.json from the strings in the code")

// message is one string of the window, as written in the code.
type message struct {
	fallback string
	plural   bool
	where    string
}

// codeMessages collects every lang.X and lang.XN call with a literal key.
func codeMessages(t *testing.T) map[string]message {
	t.Helper()
	fset := token.NewFileSet()
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]message{}
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok {
				return true
			}
			sel, ok := call.Fun.(*ast.SelectorExpr)
			if !ok {
				return true
			}
			if id, ok := sel.X.(*ast.Ident); !ok || id.Name != "lang" {
				return true
			}
			if sel.Sel.Name == "L" || sel.Sel.Name == "N" {
				t.Errorf("%s: use lang.X or lang.XN with a key", fset.Position(call.Pos()))
				return true
			}
			if sel.Sel.Name != "X" && sel.Sel.Name != "XN" || len(call.Args) < 2 {
				return true
			}
			k, ok1 := call.Args[0].(*ast.BasicLit)
			v, ok2 := call.Args[1].(*ast.BasicLit)
			if !ok1 || !ok2 {
				return true // a computed key (provider hints) falls back to the core's text
			}
			key, _ := strconv.Unquote(k.Value)
			fb, _ := strconv.Unquote(v.Value)
			m := message{fallback: fb, plural: sel.Sel.Name == "XN", where: fset.Position(call.Pos()).String()}
			if old, ok := out[key]; ok && (old.fallback != m.fallback || old.plural != m.plural) {
				t.Errorf("key %q has two texts: %q at %s and %q at %s", key, old.fallback, old.where, m.fallback, m.where)
			}
			out[key] = m
			return true
		})
	}
	return out
}

func readTranslations(t *testing.T, name string) map[string]any {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("translations", name))
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]any{}
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return m
}

var templateVar = regexp.MustCompile(`\{\{\s*\.(\w+)\s*\}\}`)

func vars(s string) []string {
	var out []string
	for _, m := range templateVar.FindAllStringSubmatch(s, -1) {
		out = append(out, m[1])
	}
	sort.Strings(out)
	return slices.Compact(out)
}

// forms returns the texts of a translation entry: the string, or the plural forms.
func forms(v any) map[string]string {
	switch v := v.(type) {
	case string:
		return map[string]string{"other": v}
	case map[string]any:
		out := map[string]string{}
		for k, f := range v {
			if s, ok := f.(string); ok {
				out[strings.ToLower(k)] = s
			}
		}
		return out
	}
	return nil
}

// TestTranslations checks that en.json holds exactly the code's strings and
// that fr.json translates every one of them with the same placeholders.
func TestTranslations(t *testing.T) {
	code := codeMessages(t)
	if *update {
		writeEnglish(t, code)
	}
	en := readTranslations(t, "en.json")
	fr := readTranslations(t, "fr.json")
	for key, m := range code {
		e := forms(en[key])
		if e == nil {
			t.Errorf("en.json lacks %q (%s)", key, m.where)
			continue
		}
		if e["other"] != m.fallback {
			t.Errorf("en.json %q = %q; the code says %q (run go test -run TestTranslations -update)", key, e["other"], m.fallback)
		}
		if m.plural && e["one"] == "" {
			t.Errorf("en.json %q has no singular (\"one\")", key)
		}
		f := forms(fr[key])
		if f == nil {
			t.Errorf("fr.json lacks %q: %q", key, m.fallback)
			continue
		}
		if m.plural && (f["one"] == "" || f["other"] == "") {
			t.Errorf("fr.json %q needs \"one\" and \"other\"", key)
		}
		want := vars(m.fallback)
		for form, s := range f {
			if got := vars(s); !slices.Equal(got, want) && !(m.plural && form == "one" && len(got) < len(want)) {
				t.Errorf("fr.json %q (%s) uses %v; want %v", key, form, got, want)
			}
		}
	}
	for _, tr := range []struct {
		name string
		m    map[string]any
	}{{"en.json", en}, {"fr.json", fr}} {
		for key := range tr.m {
			if _, ok := code[key]; !ok && !strings.HasPrefix(key, "preset.") {
				t.Errorf("%s has %q, which the code does not use", tr.name, key)
			}
		}
	}
}

// writeEnglish rewrites en.json from the code, keeping the singular forms
// written by hand.
func writeEnglish(t *testing.T, code map[string]message) {
	t.Helper()
	old := readTranslations(t, "en.json")
	out := map[string]any{}
	for key, m := range code {
		if !m.plural {
			out[key] = m.fallback
			continue
		}
		one := forms(old[key])["one"]
		if one == "" {
			one = m.fallback
		}
		out[key] = map[string]string{"one": one, "other": m.fallback}
	}
	for key, v := range old {
		if strings.HasPrefix(key, "preset.") {
			out[key] = v
		}
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(out); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join("translations", "en.json"), buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestEnglish checks a few strings as the window shows them.
func TestEnglish(t *testing.T) {
	tests := []struct {
		got, want string
	}{
		{formatMessages(1), "1 message"},
		{formatMessages(4812), "4,812 messages"},
		{formatFolders(1), "1 folder"},
		{formatBytes(1288490189), "1.2 GB"},
		{formatBytes(14_900_000), "14.2 MB"},
		{formatBytes(2048), "2 KB"},
		{formatBytes(1), "1 byte"},
		{formatBytes(-1), "unknown"},
		{formatDuration(8_400_000_000), "8 s"},
		{formatDuration(192_000_000_000), "3 min 12 s"},
		{formatDuration(3_900_000_000_000), "1 h 05 min"},
		{formatCount(1234567), "1,234,567"},
		{lang.X("plan.copy", "Copy {{.Messages}} ({{.Size}})", map[string]any{"Messages": formatMessages(4812), "Size": formatBytes(1288490189)}), "Copy 4,812 messages (1.2 GB)"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("got %q; want %q", tt.got, tt.want)
		}
	}
}
