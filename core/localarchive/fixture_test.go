package localarchive

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// writeFile creates path (and its parents) with content.
func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

func mkdir(t *testing.T, path string) {
	t.Helper()
	if err := os.MkdirAll(path, 0o700); err != nil {
		t.Fatal(err)
	}
}

// tbMessage is one message of a Thunderbird mbox: separator date, status
// headers, subject.
func tbMessage(sep, status, status2, keys, subject, extra string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "From - %s\n", sep)
	if status != "" {
		fmt.Fprintf(&b, "X-Mozilla-Status: %s\n", status)
	}
	if status2 != "" {
		fmt.Fprintf(&b, "X-Mozilla-Status2: %s\n", status2)
	}
	if keys != "" {
		fmt.Fprintf(&b, "X-Mozilla-Keys: %-80s\n", keys)
	}
	fmt.Fprintf(&b, "Message-ID: <%s@example.com>\n", strings.ReplaceAll(subject, " ", "-"))
	fmt.Fprintf(&b, "Date: Mon, 1 Jan 2024 12:00:00 +0100\n")
	fmt.Fprintf(&b, "From: Alice <alice@example.com>\nSubject: %s\n\n", subject)
	b.WriteString("Hello.\n" + extra + "\n")
	return b.String()
}

// thunderbirdHome builds a home directory with Thunderbird profiles (Linux
// layout) and returns it and the default profile's directory.
func thunderbirdHome(t *testing.T) (home, profile string) {
	home = t.TempDir()
	root := filepath.Join(home, ".thunderbird")
	writeFile(t, filepath.Join(root, "profiles.ini"), `[Install4F96D1932A9F858E]
Default=Profiles/ab12.default-release
Locked=1

[Profile1]
Name=old
IsRelative=1
Path=Profiles/zz99.old
Default=1

[Profile0]
Name=default-release
IsRelative=1
Path=Profiles/ab12.default-release

[Profile2]
Name=gone
IsRelative=1
Path=Profiles/gone

[General]
StartWithLastProfile=1
Version=2
`)
	mkdir(t, filepath.Join(root, "Profiles", "zz99.old"))
	profile = filepath.Join(root, "Profiles", "ab12.default-release")
	writeFile(t, filepath.Join(profile, "prefs.js"), `// Mozilla User Preferences
user_pref("mail.account.account1.server", "server1");
user_pref("mail.account.account2.server", "server2");
user_pref("mail.account.account3.server", "server3");
user_pref("mail.account.account4.server", "server4");
user_pref("mail.accountmanager.accounts", "account1,account2,account3,account4");
user_pref("mail.server.server1.directory-rel", "[ProfD]Mail/Local Folders");
user_pref("mail.server.server1.hostname", "Local Folders");
user_pref("mail.server.server1.name", "Local Folders");
user_pref("mail.server.server1.type", "none");
user_pref("mail.server.server2.directory-rel", "[ProfD]Mail/pop.example.com");
user_pref("mail.server.server2.hostname", "pop.example.com");
user_pref("mail.server.server2.name", "alice@example.com");
user_pref("mail.server.server2.storeContractID", "@mozilla.org/msgstore/maildirstore;1");
user_pref("mail.server.server2.type", "pop3");
user_pref("mail.server.server3.directory-rel", "[ProfD]ImapMail/imap.example.com");
user_pref("mail.server.server3.type", "imap");
user_pref("mail.server.server4.directory", "C:\\Users\\alice\\AppData\\Roaming\\Thunderbird\\Profiles\\ab12.default-release\\Mail\\pop.other.net");
user_pref("mail.server.server4.name", "Caf\u00e9 \"POP\"");
user_pref("mail.server.server4.type", "pop3");
`)
	local := filepath.Join(profile, "Mail", "Local Folders")
	inbox := tbMessage("Mon Jan  1 10:00:00 2024", "0001", "", "$label1 work", "read with keys",
		"From me, a line after a non-blank line stays in the body\n>From quoted (mboxrd)\n>>From twice") +
		"\n" + tbMessage("Tue Jan  2 10:00:00 2024", "0003", "00000000", "", "read replied", "") +
		"\n" + tbMessage("Wed Jan  3 10:00:00 2024", "0005", "", "", "read marked", "") +
		"\n" + tbMessage("Thu Jan  4 10:00:00 2024", "1001", "", "", "read forwarded", "") +
		"\n" + tbMessage("Fri Jan  5 10:00:00 2024", "0009", "", "", "expunged", "") +
		"\n" + tbMessage("Sat Jan  6 10:00:00 2024", "0001", "00200000", "", "imap deleted", "") +
		"\n" + tbMessage("Sun Jan  7 10:00:00 2024", "0401", "", "", "partial", "") +
		"\n" + tbMessage("Mon Jan  8 10:00:00 2024", "", "", "", "no status", "") +
		"\n" + tbMessage("garbage date", "0000", "", "", "date from header", "") + "\n"
	writeFile(t, filepath.Join(local, "Inbox"), inbox)
	writeFile(t, filepath.Join(local, "Inbox.msf"), "// <!-- <mdb:mork:z v=\"1.4\"/> -->")
	writeFile(t, filepath.Join(local, "Inbox.sbd", "Receipts"), tbMessage("Mon Jan  1 10:00:00 2024", "0001", "", "", "receipt", "")+"\n")
	writeFile(t, filepath.Join(local, "Inbox.sbd", "Receipts.msf"), "")
	writeFile(t, filepath.Join(local, "Inbox.sbd", "Receipts.sbd", "2023"), tbMessage("Mon Jan  1 10:00:00 2024", "0000", "", "", "old receipt", "")+"\n")
	writeFile(t, filepath.Join(local, "Inbox.sbd", "Receipts.sbd", "2023.msf"), "")
	writeFile(t, filepath.Join(local, "Trash"), "")
	writeFile(t, filepath.Join(local, "Trash.msf"), "")
	writeFile(t, filepath.Join(local, "Sent"), tbMessage("Mon Jan  1 10:00:00 2024", "0001", "", "", "sent without msf", "")+"\n")
	writeFile(t, filepath.Join(local, "Orphan.sbd", "Child"), tbMessage("Mon Jan  1 10:00:00 2024", "0001", "", "", "orphan child", "")+"\n")
	writeFile(t, filepath.Join(local, "Broken"), "this is not mail\nat all\n\n"+tbMessage("Mon Jan  1 10:00:00 2024", "0001", "", "", "after junk", "")+"\n")
	writeFile(t, filepath.Join(local, "Broken.msf"), "")
	writeFile(t, filepath.Join(local, "msgFilterRules.dat"), "version=\"9\"\n")
	writeFile(t, filepath.Join(local, "notes"), "not an mbox, no .msf\n")

	// A POP account with the maildir store.
	pop := filepath.Join(profile, "Mail", "pop.example.com")
	writeFile(t, filepath.Join(pop, "Inbox", "cur", "1700000001.eml"), "X-Mozilla-Status: 0001\r\nMessage-ID: <md1@example.com>\r\nDate: Tue, 2 Jan 2024 09:00:00 +0000\r\nSubject: maildir one\r\n\r\nBody\r\n")
	writeFile(t, filepath.Join(pop, "Inbox", "cur", "1700000002.eml"), "X-Mozilla-Status: 0009\r\nMessage-ID: <md2@example.com>\r\nSubject: maildir expunged\r\n\r\nBody\r\n")
	mkdir(t, filepath.Join(pop, "Inbox", "tmp"))
	writeFile(t, filepath.Join(pop, "Inbox.msf"), "")
	writeFile(t, filepath.Join(pop, "Inbox.sbd", "Sub", "cur", "1700000003.eml"), "Subject: no id\r\nDate: Wed, 3 Jan 2024 09:00:00 +0000\r\n\r\nBody\r\n")
	writeFile(t, filepath.Join(pop, "popstate.dat"), "# POP3 State File\n")

	// A POP account found from an absolute Windows path.
	writeFile(t, filepath.Join(profile, "Mail", "pop.other.net", "Inbox"), tbMessage("Mon Jan  1 10:00:00 2024", "0001", "", "", "other pop", "")+"\n")

	// An IMAP cache, never listed.
	writeFile(t, filepath.Join(profile, "ImapMail", "imap.example.com", "INBOX"), tbMessage("Mon Jan  1 10:00:00 2024", "0001", "", "", "imap cache", "")+"\n")
	return home, profile
}

// got is what a test saw of one message.
type got struct {
	Message
	body string
}

// collect reads every message of a folder, checking that Size is exact.
func collect(t *testing.T, f Folder) ([]got, []error) {
	t.Helper()
	var out []got
	var errs []error
	for m, err := range Messages(context.Background(), f) {
		if err != nil {
			errs = append(errs, err)
			continue
		}
		b, err := io.ReadAll(m.Body)
		if err != nil {
			t.Fatalf("%s: read body: %v", m.Origin, err)
		}
		if int64(len(b)) != m.Size {
			t.Errorf("%s: Size %d; body has %d bytes", m.Origin, m.Size, len(b))
		}
		out = append(out, got{Message: *m, body: string(b)})
	}
	return out, errs
}

func folderNames(fs []Folder) []string {
	var out []string
	for _, f := range fs {
		out = append(out, f.Name()+" ("+f.Format+")")
	}
	return out
}

func findFolder(t *testing.T, fs []Folder, name string) Folder {
	t.Helper()
	for _, f := range fs {
		if f.Name() == name {
			return f
		}
	}
	t.Fatalf("folder %q not found in %q", name, folderNames(fs))
	return Folder{}
}

func local(y int, m time.Month, d, h int) time.Time {
	return time.Date(y, m, d, h, 0, 0, 0, time.Local)
}

func equalStrings(a, b []string) bool {
	return slices.Equal(a, b) || len(a) == 0 && len(b) == 0
}
