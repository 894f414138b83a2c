package localarchive

import (
	"context"
	"errors"
	"mailmover/core/localarchive/archivetest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"mailmover/core/failure"
)

func TestThunderbirdRoots(t *testing.T) {
	tests := []struct {
		places Places
		want   []string
	}{
		{Places{GOOS: "windows", Home: "/h", AppData: "/h/AD"}, []string{"/h/AD/Thunderbird"}},
		{Places{GOOS: "windows", Home: "/h"}, []string{"/h/AppData/Roaming/Thunderbird"}},
		{Places{GOOS: "darwin", Home: "/h"}, []string{"/h/Library/Thunderbird"}},
		{Places{GOOS: "linux", Home: "/h"}, []string{"/h/.thunderbird", "/h/.var/app/org.mozilla.Thunderbird/.thunderbird", "/h/snap/thunderbird/common/.thunderbird"}},
	}
	for _, tt := range tests {
		got := tt.places.ThunderbirdRoots()
		for i := range got {
			got[i] = filepath.ToSlash(got[i])
		}
		if strings.Join(got, "|") != strings.Join(tt.want, "|") {
			t.Errorf("ThunderbirdRoots(%+v) = %q; want %q", tt.places, got, tt.want)
		}
	}
}

func TestThunderbirdProfiles(t *testing.T) {
	home, profile := archivetest.ThunderbirdHome(t)
	// A Flatpak install with an absolute path.
	flatpak := filepath.Join(home, ".var", "app", "org.mozilla.Thunderbird", ".thunderbird")
	abs := filepath.Join(home, "elsewhere", "p1")
	archivetest.Mkdir(t, abs)
	archivetest.WriteFile(t, filepath.Join(flatpak, "profiles.ini"), "[Profile0]\nName=flat\nIsRelative=0\nPath="+abs+"\nDefault=1\n")

	ps, err := ThunderbirdProfiles(context.Background(), Places{GOOS: "linux", Home: home})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range ps {
		d := " "
		if p.Default {
			d = "*"
		}
		got = append(got, d+p.Name+"="+p.Dir)
	}
	want := []string{
		"*default-release=" + profile, // the [Install] default wins over Default=1
		"*flat=" + abs,
		" old=" + filepath.Join(home, ".thunderbird", "Profiles", "zz99.old"),
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("ThunderbirdProfiles() =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// Nothing installed: no profiles, no error.
	if ps, err := ThunderbirdProfiles(context.Background(), Places{GOOS: "darwin", Home: home}); err != nil || len(ps) != 0 {
		t.Errorf("ThunderbirdProfiles(no install) = %v, %v; want none", ps, err)
	}
}

func TestScanThunderbird(t *testing.T) {
	_, profile := archivetest.ThunderbirdHome(t)
	fs, err := ScanThunderbird(context.Background(), profile)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"Local Folders/Broken (mbox)",
		"Local Folders/Inbox (mbox)",
		"Local Folders/Inbox/Receipts (mbox)",
		"Local Folders/Inbox/Receipts/2023 (mbox)",
		"Local Folders/Sent (mbox)",
		"Local Folders/Trash (mbox)",
		"Local Folders/Orphan/Child (mbox)",
		"alice@example.com/Inbox (maildir)",
		"alice@example.com/Inbox/Sub (maildir)",
		`Café "POP"/Inbox (mbox)`,
	}
	if got := folderNames(fs); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("ScanThunderbird() =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if f := findFolder(t, fs, "Local Folders/Sent"); f.SpecialUse != `\Sent` {
		t.Errorf("Sent: special use %q; want \\Sent", f.SpecialUse)
	}
}

func TestThunderbirdMessages(t *testing.T) {
	_, profile := archivetest.ThunderbirdHome(t)
	fs, err := ScanThunderbird(context.Background(), profile)
	if err != nil {
		t.Fatal(err)
	}
	msgs, errs := collect(t, findFolder(t, fs, "Local Folders/Inbox"))
	if len(errs) > 0 {
		t.Fatalf("errors: %v", errs)
	}
	want := []struct {
		subject string
		flags   string
		skipped bool
		warning bool
		date    time.Time
	}{
		{"read with keys", `$label1 \Seen work`, false, false, local(2024, 1, 1, 10)},
		{"read replied", `\Answered \Seen`, false, false, local(2024, 1, 2, 10)},
		{"read marked", `\Flagged \Seen`, false, false, local(2024, 1, 3, 10)},
		{"read forwarded", `$Forwarded \Seen`, false, false, local(2024, 1, 4, 10)},
		{"expunged", `\Seen`, true, false, local(2024, 1, 5, 10)},
		{"imap deleted", `\Seen`, true, false, local(2024, 1, 6, 10)},
		{"partial", `\Seen`, false, true, local(2024, 1, 7, 10)},
		{"no status", ``, false, false, local(2024, 1, 8, 10)},
		{"date from header", ``, false, false, time.Date(2024, 1, 1, 11, 0, 0, 0, time.UTC)},
	}
	if len(msgs) != len(want) {
		t.Fatalf("read %d messages; want %d", len(msgs), len(want))
	}
	for i, w := range want {
		m := msgs[i]
		if m.Subject != w.subject {
			t.Errorf("message %d: subject %q; want %q", i, m.Subject, w.subject)
		}
		if got := strings.Join(m.Flags, " "); got != w.flags {
			t.Errorf("%s: flags %q; want %q", w.subject, got, w.flags)
		}
		if (m.Skipped != "") != w.skipped || (m.Warning != "") != w.warning {
			t.Errorf("%s: skipped %q, warning %q; want skipped %v, warning %v", w.subject, m.Skipped, m.Warning, w.skipped, w.warning)
		}
		if !m.InternalDate.Equal(w.date) {
			t.Errorf("%s: internal date %v; want %v", w.subject, m.InternalDate, w.date)
		}
		if m.MessageID != strings.ReplaceAll(w.subject, " ", "-")+"@example.com" {
			t.Errorf("%s: message-id %q", w.subject, m.MessageID)
		}
		if strings.Contains(m.body, "X-Mozilla") {
			t.Errorf("%s: X-Mozilla headers left in the body", w.subject)
		}
		if strings.Contains(strings.ReplaceAll(m.body, "\r\n", ""), "\n") {
			t.Errorf("%s: bare LF left in the body: %q", w.subject, m.body)
		}
		if m.UID != uint32(i+1) {
			t.Errorf("%s: uid %d; want %d", w.subject, m.UID, i+1)
		}
	}
	first := msgs[0].body
	for _, line := range []string{
		"\r\nFrom me, a line after a non-blank line stays in the body\r\n",
		"\r\nFrom quoted (mboxrd)\r\n",
		"\r\n>From twice\r\n",
	} {
		if !strings.Contains(first, line) {
			t.Errorf("first message lacks %q:\n%s", line, first)
		}
	}
	if !strings.HasPrefix(first, "Message-ID: <read-with-keys@example.com>\r\n") {
		t.Errorf("first message starts %q", first[:min(60, len(first))])
	}

	// The maildir account.
	msgs, errs = collect(t, findFolder(t, fs, "alice@example.com/Inbox"))
	if len(errs) > 0 || len(msgs) != 2 {
		t.Fatalf("maildir Inbox: %d messages, errors %v; want 2", len(msgs), errs)
	}
	if strings.Join(msgs[0].Flags, " ") != `\Seen` || msgs[0].Skipped != "" || msgs[1].Skipped == "" {
		t.Errorf("maildir flags: %q skipped %q / %q", msgs[0].Flags, msgs[0].Skipped, msgs[1].Skipped)
	}
	if want := time.Date(2024, 1, 2, 9, 0, 0, 0, time.UTC); !msgs[0].InternalDate.Equal(want) {
		t.Errorf("maildir date %v; want %v", msgs[0].InternalDate, want)
	}
	msgs, _ = collect(t, findFolder(t, fs, "alice@example.com/Inbox/Sub"))
	if len(msgs) != 1 || msgs[0].MessageID != "" || msgs[0].HeaderHash == "" {
		t.Errorf("maildir Sub: %+v; want one message with a header hash", msgs)
	}

	// Empty folder.
	if msgs, errs := collect(t, findFolder(t, fs, "Local Folders/Trash")); len(msgs) != 0 || len(errs) != 0 {
		t.Errorf("Trash: %d messages, %v; want none", len(msgs), errs)
	}
}

// TestThunderbirdBrokenMbox checks that junk in an mbox is reported with the
// file and offset, and the good message after it is read.
func TestThunderbirdBrokenMbox(t *testing.T) {
	_, profile := archivetest.ThunderbirdHome(t)
	fs, err := ScanThunderbird(context.Background(), profile)
	if err != nil {
		t.Fatal(err)
	}
	f := findFolder(t, fs, "Local Folders/Broken")
	msgs, errs := collect(t, f)
	if len(msgs) != 1 || msgs[0].Subject != "after junk" {
		t.Errorf("Broken: %d messages; want the one after the junk", len(msgs))
	}
	if len(errs) != 1 {
		t.Fatalf("Broken: errors %v; want one", errs)
	}
	msg := errs[0].Error()
	if !strings.Contains(msg, f.Source) || !strings.Contains(msg, "byte offset 0") {
		t.Errorf("error %q does not name the file and the offset", msg)
	}
	if failure.KindOf(errs[0]) != failure.Malformed || failure.ScopeOf(errs[0]) != failure.ScopeMessage {
		t.Errorf("error kind %v scope %v; want malformed, message", failure.KindOf(errs[0]), failure.ScopeOf(errs[0]))
	}
}

func TestScanThunderbirdWithoutPrefs(t *testing.T) {
	dir := t.TempDir()
	archivetest.WriteFile(t, filepath.Join(dir, "Mail", "Local Folders", "Inbox"), archivetest.TBMessage("Mon Jan  1 10:00:00 2024", "0001", "", "", "x", "")+"\n")
	archivetest.WriteFile(t, filepath.Join(dir, "Mail", "Local Folders", "Inbox.msf"), "")
	fs, err := ScanThunderbird(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	if got := folderNames(fs); strings.Join(got, "|") != "Local Folders/Inbox (mbox)" {
		t.Errorf("ScanThunderbird(no prefs.js) = %q", got)
	}
	if _, err := ScanThunderbird(context.Background(), filepath.Join(dir, "missing")); err == nil {
		t.Errorf("ScanThunderbird(missing) succeeded")
	}
}

func TestParsePrefs(t *testing.T) {
	in := `# comment
user_pref("a", "x\"y\\z");
user_pref("b", 42);
user_pref( "c" , true );
user_pref("d", "caf\u00e9 \ud83d\ude00");
user_pref("e", 'single');
user_pref("broken", "no end);
user_pref("f", "ok");
`
	got := parsePrefs([]byte(in))
	want := map[string]string{"a": `x"y\z`, "b": "42", "c": "true", "d": "café 😀", "e": "single", "f": "ok"}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("parsePrefs: %s = %q; want %q", k, got[k], v)
		}
	}
}

func TestMozillaFlags(t *testing.T) {
	tests := []struct {
		status, status2 uint32
		flags           string
		skipped         bool
	}{
		{0x0, 0, "", false},
		{0x1, 0, `\Seen`, false},
		{0x2, 0, `\Answered`, false},
		{0x4, 0, `\Flagged`, false},
		{0x1000, 0, `$Forwarded`, false},
		{0x8, 0, "", true},
		{0x1, 0x200000, `\Seen`, true},
		{0x10001, 0, `\Seen`, false}, // X-Mozilla-Status holds only 16 bits
	}
	for _, tt := range tests {
		flags, skipped, _ := mozillaFlags(tt.status, tt.status2)
		if strings.Join(flags, " ") != tt.flags || (skipped != "") != tt.skipped {
			t.Errorf("mozillaFlags(%#x, %#x) = %q, %q; want %q, skipped %v", tt.status, tt.status2, flags, skipped, tt.flags, tt.skipped)
		}
	}
}

func TestMessagesCancelled(t *testing.T) {
	_, profile := archivetest.ThunderbirdHome(t)
	fs, _ := ScanThunderbird(context.Background(), profile)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for _, err := range Messages(ctx, findFolder(t, fs, "Local Folders/Inbox")) {
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Messages(cancelled) = %v; want context.Canceled", err)
		}
	}
}
