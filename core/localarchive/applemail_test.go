package localarchive

import (
	"context"
	"mailmover/core/localarchive/archivetest"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestScanAppleMail(t *testing.T) {
	root := archivetest.AppleMailTree(t)
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
	root := archivetest.AppleMailTree(t)
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
