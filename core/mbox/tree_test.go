package mbox

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestSafeName(t *testing.T) {
	long := strings.Repeat("é", 80) // 160 bytes
	tests := []struct {
		name  string
		taken []string
		want  string
	}{
		{"INBOX", nil, "INBOX"},
		{"Sent Items", nil, "Sent Items"},
		{"Entwürfe", nil, "Entwürfe"},
		{"a/b", nil, "a_b"},
		{`a<b>c:d"e/f\g|h?i*j`, nil, "a_b_c_d_e_f_g_h_i_j"},
		{"tab\there\x00\x7f", nil, "tab_here__"},
		{"", nil, "_"},
		{".", nil, "_"},
		{"..", nil, "__"},
		{".hidden", nil, "_hidden"},
		{"trailing.", nil, "trailing_"},
		{"trailing. .", nil, "trailing___"},
		{"trailing ", nil, "trailing_"},
		{"CON", nil, "CON_"},
		{"con", nil, "con_"},
		{"Nul.txt", nil, "Nul_.txt"},
		{"COM1", nil, "COM1_"},
		{"LPT9", nil, "LPT9_"},
		{"COM10", nil, "COM10"},
		{"CONSOLE", nil, "CONSOLE"},
		{"AUX .x", nil, "AUX_ .x"},
		{"bad\xffutf8", nil, "bad_utf8"},
		{"Inbox", []string{"inbox"}, "Inbox~2"},
		{"Inbox", []string{"inbox", "INBOX~2"}, "Inbox~3"},
		{long, nil, strings.Repeat("é", 45) + "~" + "HASH"},
		{strings.Repeat("a", 100), nil, strings.Repeat("a", 100)},
		{strings.Repeat("a", 101), nil, strings.Repeat("a", 91) + "~HASH"},
	}
	for _, tt := range tests {
		taken := func(s string) bool {
			return slices.ContainsFunc(tt.taken, func(u string) bool { return FoldName(u) == FoldName(s) })
		}
		got := SafeName(tt.name, taken)
		want := tt.want
		if i := strings.Index(want, "HASH"); i >= 0 {
			if len(got) != i+8 {
				t.Errorf("SafeName(%q) = %q; want %q with an 8-digit hash", tt.name, got, want)
				continue
			}
			want = want[:i] + got[i:]
		}
		if got != want {
			t.Errorf("SafeName(%q) = %q; want %q", tt.name, got, want)
		}
		if len(got) > MaxNameBytes || !utf8.ValidString(got) {
			t.Errorf("SafeName(%q) = %q: %d bytes or invalid UTF-8", tt.name, got, len(got))
		}
	}
}

func TestSafeNameLongCollision(t *testing.T) {
	name := strings.Repeat("x", 200)
	first := SafeName(name, nil)
	second := SafeName(name, func(s string) bool { return s == first })
	if second == first || len(second) > MaxNameBytes || !strings.HasSuffix(second, "~2") {
		t.Errorf("SafeName(long, taken) = %q; want a different name ending ~2 within %d bytes", second, MaxNameBytes)
	}
}

func TestTree(t *testing.T) {
	ctx := context.Background()
	root := t.TempDir()
	tree, err := OpenTree(ctx, root)
	if err != nil {
		t.Fatal(err)
	}
	folders := []struct {
		name string
		path []string
		want string
	}{
		{"INBOX", []string{"INBOX"}, "INBOX.mbox"},
		{"INBOX/Archive", []string{"INBOX", "Archive"}, "INBOX/Archive.mbox"},
		{"inbox", []string{"inbox"}, "inbox~2.mbox"},
		{"x", []string{"x"}, "x.mbox"},
		{"x.mbox", []string{"x.mbox"}, "x.mbox~2.mbox"},
		{"x.mbox/child", []string{"x.mbox", "child"}, "x.mbox~2/child.mbox"},
		{"CON", []string{"CON"}, "CON_.mbox"},
		{"a:b/c?d", []string{"a:b", "c?d"}, "a_b/c_d.mbox"},
		{"mapping.json", []string{"mapping.json"}, "mapping.json~2.mbox"}, // its subfolder directory would clash with the manifest
		{"Projects/Alpha", []string{"Projects", "Alpha"}, "Projects/Alpha.mbox"},
		{"Projects", []string{"Projects"}, "Projects.mbox"},
	}
	for _, f := range folders {
		e, err := tree.Add(ctx, f.name, "/", f.path)
		if err != nil {
			t.Fatal(err)
		}
		if e.File != f.want {
			t.Errorf("Add(%q) = %q; want %q", f.path, e.File, f.want)
		}
	}
	// A file on disk that the tree does not know is never taken over.
	if err := os.WriteFile(filepath.Join(root, "Stray.mbox"), []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	if e, _ := tree.Add(ctx, "Stray", "/", []string{"Stray"}); e.File != "Stray~2.mbox" {
		t.Errorf("Add(Stray) = %q; want Stray~2.mbox", e.File)
	}

	// Reopened, the tree gives the same names.
	again, err := OpenTree(ctx, root)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := again.Entries(), tree.Entries(); !slices.EqualFunc(got, want, entryEqual) {
		t.Errorf("reopened tree = %v; want %v", got, want)
	}
	for _, f := range folders {
		e, err := again.Add(ctx, f.name, "/", f.path)
		if err != nil || e.File != f.want {
			t.Errorf("reopened Add(%q) = %q, %v; want %q", f.path, e.File, err, f.want)
		}
	}
}

func entryEqual(a, b Entry) bool {
	return a.File == b.File && a.Name == b.Name && a.Delimiter == b.Delimiter && slices.Equal(a.Path, b.Path)
}

// TestTreeRecover checks that a tree whose manifest was lost finds its
// folders again from the index headers.
func TestTreeRecover(t *testing.T) {
	ctx := context.Background()
	root := t.TempDir()
	tree, err := OpenTree(ctx, root)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range [][]string{{"INBOX"}, {"INBOX", "Sub"}, {"inbox"}} {
		e, err := tree.Add(ctx, strings.Join(p, "."), ".", p)
		if err != nil {
			t.Fatal(err)
		}
		a, err := OpenAppender(ctx, tree.FilePath(e), e.Header())
		if err != nil {
			t.Fatal(err)
		}
		if _, err := a.Append(ctx, Record{UID: 1}, strings.NewReader("Subject: x\r\n\r\ny\r\n")); err != nil {
			t.Fatal(err)
		}
		if err := a.Close(); err != nil {
			t.Fatal(err)
		}
	}
	want := tree.Entries()
	if err := os.Remove(filepath.Join(root, MappingFile)); err != nil {
		t.Fatal(err)
	}
	again, err := OpenTree(ctx, root)
	if err != nil {
		t.Fatal(err)
	}
	if got := again.Entries(); !slices.EqualFunc(got, want, entryEqual) {
		t.Errorf("recovered tree = %v; want %v", got, want)
	}
}
