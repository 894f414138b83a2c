package localarchive

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// emlx returns an .emlx file holding msg with the given flags and
// date-received.
func emlx(msg string, flags int64, received int64) string {
	return fmt.Sprintf("%d\n%s", len(msg), msg) + `<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0">
<dict>
	<key>conversation-id</key>
	<integer>4242</integer>
	<key>date-last-viewed</key>
	<integer>1700000999</integer>
	<key>date-received</key>
	<integer>` + fmt.Sprint(received) + `</integer>
	<key>flags</key>
	<integer>` + fmt.Sprint(flags) + `</integer>
	<key>remote-id</key>
	<string>17</string>
	<key>nested</key>
	<dict><key>flags</key><integer>0</integer></dict>
</dict>
</plist>
`
}

func appleMailTree(t *testing.T) string {
	root := filepath.Join(t.TempDir(), "V10")
	acct := filepath.Join(root, "1F2E3D4C-ACCOUNT")
	msgs := filepath.Join(acct, "INBOX.mbox", "A1B2C3", "Data", "3", "Messages")
	m := func(id, subject string) string {
		return "Message-ID: <" + id + "@example.com>\nDate: Mon, 1 Jan 2024 12:00:00 +0000\nSubject: " + subject + "\n\nBody of " + subject + "\nFrom here, not a separator\n"
	}
	writeFile(t, filepath.Join(msgs, "9.emlx"), emlx(m("a9", "read"), 1, 1704103200))
	writeFile(t, filepath.Join(msgs, "10.emlx"), emlx(m("a10", "answered flagged"), 1|4|16, 1704106800))
	writeFile(t, filepath.Join(msgs, "11.emlx"), emlx(m("a11", "deleted"), 1|2, 1704110400))
	writeFile(t, filepath.Join(msgs, "12.emlx"), emlx(m("a12", "draft forwarded junk"), 64|256|1<<24|3<<10, 1704114000))
	writeFile(t, filepath.Join(msgs, "13.partial.emlx"), emlx(m("a13", "partial"), 1, 1704117600))
	writeFile(t, filepath.Join(msgs, "14.emlx"), "12x\nnot a count")
	writeFile(t, filepath.Join(msgs, "15.emlx"), "5000\nMessage-ID: <cut@example.com>\n\ncut short")
	writeFile(t, filepath.Join(msgs, "16.emlx"), fmt.Sprintf("%d\n%s", len(m("a16", "no plist")), m("a16", "no plist")))
	writeFile(t, filepath.Join(acct, "INBOX.mbox", "Info.plist"), "<plist/>")
	sub := filepath.Join(acct, "INBOX.mbox", "Projects.mbox", "D4E5", "Data", "Messages")
	writeFile(t, filepath.Join(sub, "20.emlx"), emlx(m("a20", "in a subfolder"), 0, 1704200000))
	// A mailbox that only holds others.
	writeFile(t, filepath.Join(acct, "Archive.mbox", "2023.mbox", "X", "Data", "Messages", "30.emlx"), emlx(m("a30", "archived"), 1, 1704300000))
	// An "Export Mailbox" folder.
	exp := filepath.Join(root, "Mailboxes", "Exported.mbox")
	writeFile(t, filepath.Join(exp, "mbox"), "From sender@example.com Mon Jan  1 10:00:00 2024\nMessage-ID: <e1@example.com>\nSubject: exported\n\nhi\n\n")
	writeFile(t, filepath.Join(exp, "table_of_contents"), "\x00\x01binary")
	return root
}

func TestScanAppleMail(t *testing.T) {
	root := appleMailTree(t)
	fs, err := ScanAppleMail(context.Background(), root)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"1F2E3D4C-ACCOUNT/Archive/2023 (emlx)",
		"1F2E3D4C-ACCOUNT/INBOX (emlx)",
		"1F2E3D4C-ACCOUNT/INBOX/Projects (emlx)",
		"Mailboxes/Exported (mbox)",
	}
	if got := folderNames(fs); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("ScanAppleMail() =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// A single bundle as the root.
	one, err := ScanAppleMail(context.Background(), filepath.Join(root, "Mailboxes", "Exported.mbox"))
	if err != nil || strings.Join(folderNames(one), "|") != "Exported (mbox)" {
		t.Errorf("ScanAppleMail(bundle) = %q, %v", folderNames(one), err)
	}
}

func TestAppleMailMessages(t *testing.T) {
	root := appleMailTree(t)
	fs, err := ScanAppleMail(context.Background(), root)
	if err != nil {
		t.Fatal(err)
	}
	msgs, errs := collect(t, findFolder(t, fs, "1F2E3D4C-ACCOUNT/INBOX"))
	want := []struct {
		subject string
		flags   string
		skipped bool
		date    time.Time
	}{
		{"read", `\Seen`, false, time.Unix(1704103200, 0)},
		{"answered flagged", `\Answered \Flagged \Seen`, false, time.Unix(1704106800, 0)},
		{"deleted", `\Seen`, true, time.Unix(1704110400, 0)},
		{"draft forwarded junk", `$Forwarded $Junk \Draft`, false, time.Unix(1704114000, 0)},
		{"partial", `\Seen`, true, time.Unix(1704117600, 0)},
		{"no plist", ``, false, time.Date(2024, 1, 1, 12, 0, 0, 0, time.UTC)},
	}
	if len(msgs) != len(want) {
		t.Fatalf("INBOX: %d messages; want %d", len(msgs), len(want))
	}
	for i, w := range want {
		m := msgs[i]
		if m.Subject != w.subject || strings.Join(m.Flags, " ") != w.flags || (m.Skipped != "") != w.skipped || !m.InternalDate.Equal(w.date) {
			t.Errorf("message %d = %q flags %q skipped %q date %v; want %q %q %v %v", i, m.Subject, m.Flags, m.Skipped, m.InternalDate, w.subject, w.flags, w.skipped, w.date)
		}
		if strings.Contains(m.body, "<plist") || !strings.HasSuffix(m.body, "From here, not a separator\r\n") {
			t.Errorf("%s: body %q", w.subject, m.body)
		}
	}
	if msgs[5].Warning == "" {
		t.Errorf("an .emlx without a property list gives no warning")
	}
	// The two broken files are reported, with their names and offsets.
	if len(errs) != 2 {
		t.Fatalf("errors %v; want 2", errs)
	}
	for i, name := range []string{"14.emlx", "15.emlx"} {
		if msg := errs[i].Error(); !strings.Contains(msg, name) || !strings.Contains(msg, "byte offset") {
			t.Errorf("error %q does not name %s and an offset", msg, name)
		}
	}

	msgs, errs = collect(t, findFolder(t, fs, "Mailboxes/Exported"))
	if len(msgs) != 1 || len(errs) != 0 || msgs[0].body != "Message-ID: <e1@example.com>\r\nSubject: exported\r\n\r\nhi\r\n" {
		t.Errorf("Exported: %d messages %v, %+v", len(msgs), errs, msgs)
	}
}

func TestParsePlist(t *testing.T) {
	got, err := parsePlist([]byte(`<plist><dict><key>flags</key><integer>8590195713</integer><key>a</key><array><integer>1</integer></array><key>date-received</key><real>1.5e9</real><key>t</key><true/></dict></plist>`))
	if err != nil {
		t.Fatal(err)
	}
	if got["flags"] != "8590195713" || got["date-received"] != "1.5e9" || got["t"] != "true" || got["a"] != "" {
		t.Errorf("parsePlist = %v", got)
	}
	if _, err := parsePlist([]byte("<plist><dict><key>x</key")); err == nil {
		t.Errorf("parsePlist(broken) succeeded")
	}
}

func TestEMLXFlags(t *testing.T) {
	tests := []struct {
		bits    uint64
		flags   string
		skipped bool
	}{
		{0, "", false},
		{1 << 0, `\Seen`, false},
		{1 << 1, "", true},
		{1 << 2, `\Answered`, false},
		{1 << 3, "", false},
		{1 << 4, `\Flagged`, false},
		{1 << 5, "", false},
		{1 << 6, `\Draft`, false},
		{1 << 8, `$Forwarded`, false},
		{1 << 24, `$Junk`, false},
		{1 << 25, `$NotJunk`, false},
		{5 << 10, "", false}, // attachment count
	}
	for _, tt := range tests {
		flags, skipped := emlxFlags(tt.bits)
		if strings.Join(flags, " ") != tt.flags || (skipped != "") != tt.skipped {
			t.Errorf("emlxFlags(%#x) = %q, %q; want %q, skipped %v", tt.bits, flags, skipped, tt.flags, tt.skipped)
		}
	}
}
