package gmail

import (
	"strings"
	"testing"

	"mailmover/core/copier"
	"mailmover/core/store"
)

func TestUploadDays(t *testing.T) {
	const mb = 1 << 20
	tests := []struct {
		bytes int64
		want  int
	}{
		{0, 0},
		{1, 1},
		{500 * mb, 1},
		{500*mb + 1, 2},
		{10 << 30, 21},
	}
	for _, tt := range tests {
		if got := UploadDays(tt.bytes); got != tt.want {
			t.Errorf("UploadDays(%d) = %d; want %d", tt.bytes, got, tt.want)
		}
	}
}

func TestTargetNotes(t *testing.T) {
	const mb = 1 << 20
	tests := []struct {
		name     string
		provider string
		bytes    int64
		limit    int64
		folders  int
		want     []string
		not      []string
	}{
		{"gmail large", "gmail", 3 << 30, 0, 2, []string{"becomes a label", "about 7 days", "run the same command again"}, nil},
		{"gmail small", "google", 20 * mb, 0, 2, []string{"fit in one day"}, []string{"days"}},
		{"microsoft", "microsoft", 2 << 30, 0, 4, []string{"larger than 35.0 MB", "at most 2 folders at once (not 4)", "slow down"}, nil},
		{"microsoft announced limit", "microsoft", 2 << 30, 25 * mb, 2, []string{"larger than 25.0 MB"}, []string{"folders at once"}},
		{"microsoft small", "microsoft", 10 * mb, 0, 1, []string{"slow down"}, []string{"larger than"}},
		{"other", "yahoo", 3 << 30, 0, 8, nil, []string{"Gmail", "Microsoft"}},
	}
	for _, tt := range tests {
		plan := &copier.Plan{Bytes: tt.bytes, Target: copier.Info{SizeLimit: tt.limit}}
		got := strings.Join(TargetNotes(tt.provider, plan, tt.folders), "\n")
		for _, w := range tt.want {
			if !strings.Contains(got, w) {
				t.Errorf("TargetNotes(%s) = %q; want it to say %q", tt.name, got, w)
			}
		}
		for _, n := range tt.not {
			if strings.Contains(got, n) {
				t.Errorf("TargetNotes(%s) = %q; want no %q", tt.name, got, n)
			}
		}
	}
}

func TestPlanNotesNotGmail(t *testing.T) {
	plan := &copier.Plan{Folders: []copier.FolderPlan{{Source: store.Folder{Name: "INBOX", Path: []string{"INBOX"}}, Include: true}}}
	got := PlanNotes(Labels, plan)
	if len(got) != 1 || !strings.Contains(got[0], "ordinary account") {
		t.Errorf("PlanNotes(non-Gmail plan) = %q; want one note saying it is copied as an ordinary account", got)
	}
}

func TestIsArchive(t *testing.T) {
	tests := []struct {
		name string
		want bool
	}{
		{"[Gmail]/All Mail#unlabelled", true},
		{"[Google Mail]/Alle Nachrichten#unlabelled", true},
		{"[Gmail]/All Mail", false},
		{"Notes#unlabelled", false},
		{"Archive", false},
	}
	for _, tt := range tests {
		if got := IsArchive(tt.name); got != tt.want {
			t.Errorf("IsArchive(%q) = %v; want %v", tt.name, got, tt.want)
		}
	}
}
