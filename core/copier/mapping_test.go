package copier

import (
	"strings"
	"testing"

	"mailmover/core/store"
)

func folder(name string, delim rune, prefix string, use string) store.Folder {
	p := strings.TrimPrefix(name, prefix)
	path := strings.Split(p, string(delim))
	if strings.EqualFold(name, "INBOX") {
		path = []string{"INBOX"}
	}
	return store.Folder{Name: name, Path: path, Delim: delim, SpecialUse: use, Messages: 1, Size: 1}
}

func TestMapFolders(t *testing.T) {
	modern := Layout{Delim: '/'}
	courier := Layout{Prefix: "INBOX.", Delim: '.'}
	courierTarget := []store.Folder{folder("INBOX", '.', "INBOX.", ""), folder("INBOX.Sent", '.', "INBOX.", ""), folder("INBOX.Trash", '.', "INBOX.", "")}
	modernTarget := []store.Folder{folder("INBOX", '/', "", ""), folder("Sent Items", '/', "", store.Sent), folder("Deleted Items", '/', "", store.Trash)}
	for _, tc := range []struct {
		name   string
		src    store.Folder
		dst    []store.Folder
		layout Layout
		want   string
		exists bool
	}{
		{"inbox", folder("INBOX", '/', "", ""), courierTarget, courier, "INBOX", true},
		{"nested to courier", folder("Projects/Alpha", '/', "", ""), courierTarget, courier, "INBOX.Projects.Alpha", false},
		{"inbox child to courier", folder("INBOX/Receipts", '/', "", ""), courierTarget, courier, "INBOX.Receipts", false},
		{"dot in name to courier", folder("v1.2 Release", '/', "", ""), courierTarget, courier, "INBOX.v1_2 Release", false},
		{"courier to modern", folder("INBOX.Projects.Alpha", '.', "INBOX.", ""), modernTarget, modern, "Projects/Alpha", false},
		{"slash in name to modern", folder("INBOX.A/B", '.', "INBOX.", ""), modernTarget, modern, "A_B", false},
		{"sent by special use", folder("Sent", '/', "", store.Sent), courierTarget, courier, "INBOX.Sent", true},
		{"sent by name to special use", folder("INBOX.Sent", '.', "INBOX.", ""), modernTarget, modern, "Sent Items", true},
		{"german sent", folder("Gesendete Objekte", '/', "", ""), modernTarget, modern, "Sent Items", true},
		{"french trash", folder("Corbeille", '/', "", ""), modernTarget, modern, "Deleted Items", true},
		{"junk created", folder("Junk", '/', "", store.Junk), modernTarget, modern, "Junk", false},
		{"accents kept", folder("Reçus & Factures", '/', "", ""), courierTarget, courier, "INBOX.Reçus & Factures", false},
	} {
		got := mapFolders([]store.Folder{tc.src}, tc.dst, tc.layout, &Options{})
		if len(got) != 1 || got[0].Target != tc.want || got[0].Exists != tc.exists {
			t.Errorf("mapFolders(%q) = %+v; want target %q, exists %v", tc.name, got, tc.want, tc.exists)
		}
	}
}

func TestMapFoldersOneToOne(t *testing.T) {
	src := []store.Folder{folder("A_B", '/', "", ""), folder("A.B", '/', "", ""), {Name: "Parent", Path: []string{"Parent"}, NoSelect: true}}
	got := mapFolders(src, nil, Layout{Delim: '.'}, &Options{})
	if len(got) != 2 {
		t.Fatalf("mapFolders = %d folders; want 2 (no \\Noselect parent)", len(got))
	}
	if got[0].Target == got[1].Target {
		t.Errorf("mapFolders merged %q and %q into %q", got[0].Source.Name, got[1].Source.Name, got[0].Target)
	}
	if got[1].Note == "" || got[1].Why != WhyCollision {
		t.Errorf("mapFolders renamed %q with note %q, why %v; want a note and WhyCollision", got[1].Source.Name, got[1].Note, got[1].Why)
	}
}

// TestMapFoldersWhy says why each folder is renamed or left out.
func TestMapFoldersWhy(t *testing.T) {
	src := []store.Folder{folder("INBOX", '/', "", ""), folder("v1.2", '/', "", ""), folder("Old", '/', "", ""), folder("Trash", '/', "", "")}
	got := mapFolders(src, nil, Layout{Delim: '.'}, &Options{Exclude: []string{"Trash"}, Rename: map[string]string{"Old": "Archive.Old"}})
	want := map[string]Why{"INBOX": WhyNone, "v1.2": WhyDelimiter, "Old": WhyRenamed, "Trash": WhyExcluded}
	for _, f := range got {
		if f.Why != want[f.Source.Name] {
			t.Errorf("mapFolders(%q).Why = %v; want %v", f.Source.Name, f.Why, want[f.Source.Name])
		}
	}
}

func TestMapFoldersExclude(t *testing.T) {
	src := []store.Folder{folder("INBOX", '/', "", ""), folder("Trash", '/', "", store.Trash), folder("Archive/2019", '/', "", ""), folder("Archive/2020", '/', "", "")}
	got := mapFolders(src, nil, Layout{Delim: '/'}, &Options{Exclude: []string{"Trash", "Archive/2019"}})
	var included []string
	for _, f := range got {
		if f.Include {
			included = append(included, f.Source.Name)
		}
	}
	if strings.Join(included, ",") != "INBOX,Archive/2020" {
		t.Errorf("included = %v; want INBOX, Archive/2020", included)
	}
}
