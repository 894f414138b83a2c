// Package archivetest builds local mail archives on disk for tests: a
// Thunderbird home with profiles, Local Folders, POP and maildir accounts,
// and an Apple Mail folder of .emlx files.
package archivetest

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// WriteFile creates path (and its parents) with content.
func WriteFile(t testing.TB, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

// Mkdir creates a directory and its parents.
func Mkdir(t testing.TB, path string) {
	t.Helper()
	if err := os.MkdirAll(path, 0o700); err != nil {
		t.Fatal(err)
	}
}

// TBMessage is one message of a Thunderbird mbox: separator date, status
// headers, subject.
func TBMessage(sep, status, status2, keys, subject, extra string) string {
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

// ThunderbirdHome builds a home directory with Thunderbird profiles (Linux
// layout) and returns it and the default profile's directory.
func ThunderbirdHome(t testing.TB) (home, profile string) {
	home = t.TempDir()
	root := filepath.Join(home, ".thunderbird")
	WriteFile(t, filepath.Join(root, "profiles.ini"), `[Install4F96D1932A9F858E]
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
	Mkdir(t, filepath.Join(root, "Profiles", "zz99.old"))
	profile = filepath.Join(root, "Profiles", "ab12.default-release")
	WriteFile(t, filepath.Join(profile, "prefs.js"), `// Mozilla User Preferences
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
	inbox := TBMessage("Mon Jan  1 10:00:00 2024", "0001", "", "$label1 work", "read with keys",
		"From me, a line after a non-blank line stays in the body\n>From quoted (mboxrd)\n>>From twice") +
		"\n" + TBMessage("Tue Jan  2 10:00:00 2024", "0003", "00000000", "", "read replied", "") +
		"\n" + TBMessage("Wed Jan  3 10:00:00 2024", "0005", "", "", "read marked", "") +
		"\n" + TBMessage("Thu Jan  4 10:00:00 2024", "1001", "", "", "read forwarded", "") +
		"\n" + TBMessage("Fri Jan  5 10:00:00 2024", "0009", "", "", "expunged", "") +
		"\n" + TBMessage("Sat Jan  6 10:00:00 2024", "0001", "00200000", "", "imap deleted", "") +
		"\n" + TBMessage("Sun Jan  7 10:00:00 2024", "0401", "", "", "partial", "") +
		"\n" + TBMessage("Mon Jan  8 10:00:00 2024", "", "", "", "no status", "") +
		"\n" + TBMessage("garbage date", "0000", "", "", "date from header", "") + "\n"
	WriteFile(t, filepath.Join(local, "Inbox"), inbox)
	WriteFile(t, filepath.Join(local, "Inbox.msf"), "// <!-- <mdb:mork:z v=\"1.4\"/> -->")
	WriteFile(t, filepath.Join(local, "Inbox.sbd", "Receipts"), TBMessage("Mon Jan  1 10:00:00 2024", "0001", "", "", "receipt", "")+"\n")
	WriteFile(t, filepath.Join(local, "Inbox.sbd", "Receipts.msf"), "")
	WriteFile(t, filepath.Join(local, "Inbox.sbd", "Receipts.sbd", "2023"), TBMessage("Mon Jan  1 10:00:00 2024", "0000", "", "", "old receipt", "")+"\n")
	WriteFile(t, filepath.Join(local, "Inbox.sbd", "Receipts.sbd", "2023.msf"), "")
	WriteFile(t, filepath.Join(local, "Trash"), "")
	WriteFile(t, filepath.Join(local, "Trash.msf"), "")
	WriteFile(t, filepath.Join(local, "Sent"), TBMessage("Mon Jan  1 10:00:00 2024", "0001", "", "", "sent without msf", "")+"\n")
	WriteFile(t, filepath.Join(local, "Orphan.sbd", "Child"), TBMessage("Mon Jan  1 10:00:00 2024", "0001", "", "", "orphan child", "")+"\n")
	WriteFile(t, filepath.Join(local, "Broken"), "this is not mail\nat all\n\n"+TBMessage("Mon Jan  1 10:00:00 2024", "0001", "", "", "after junk", "")+"\n")
	WriteFile(t, filepath.Join(local, "Broken.msf"), "")
	WriteFile(t, filepath.Join(local, "msgFilterRules.dat"), "version=\"9\"\n")
	WriteFile(t, filepath.Join(local, "notes"), "not an mbox, no .msf\n")

	// A POP account with the maildir store.
	pop := filepath.Join(profile, "Mail", "pop.example.com")
	WriteFile(t, filepath.Join(pop, "Inbox", "cur", "1700000001.eml"), "X-Mozilla-Status: 0001\r\nMessage-ID: <md1@example.com>\r\nDate: Tue, 2 Jan 2024 09:00:00 +0000\r\nSubject: maildir one\r\n\r\nBody\r\n")
	WriteFile(t, filepath.Join(pop, "Inbox", "cur", "1700000002.eml"), "X-Mozilla-Status: 0009\r\nMessage-ID: <md2@example.com>\r\nSubject: maildir expunged\r\n\r\nBody\r\n")
	Mkdir(t, filepath.Join(pop, "Inbox", "tmp"))
	WriteFile(t, filepath.Join(pop, "Inbox.msf"), "")
	WriteFile(t, filepath.Join(pop, "Inbox.sbd", "Sub", "cur", "1700000003.eml"), "Subject: no id\r\nDate: Wed, 3 Jan 2024 09:00:00 +0000\r\n\r\nBody\r\n")
	WriteFile(t, filepath.Join(pop, "popstate.dat"), "# POP3 State File\n")

	// A POP account found from an absolute Windows path.
	WriteFile(t, filepath.Join(profile, "Mail", "pop.other.net", "Inbox"), TBMessage("Mon Jan  1 10:00:00 2024", "0001", "", "", "other pop", "")+"\n")

	// An IMAP cache, never listed.
	WriteFile(t, filepath.Join(profile, "ImapMail", "imap.example.com", "INBOX"), TBMessage("Mon Jan  1 10:00:00 2024", "0001", "", "", "imap cache", "")+"\n")
	return home, profile
}

// EMLX returns an .emlx file holding msg with the given flags and
// date-received.
func EMLX(msg string, flags int64, received int64) string {
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

// AppleMailTree builds an Apple Mail folder (V10 layout: .mbox bundles of
// .emlx files, with flags, partial and broken files, an "Export Mailbox"
// folder) and returns its root.
func AppleMailTree(t testing.TB) string {
	root := filepath.Join(t.TempDir(), "V10")
	acct := filepath.Join(root, "1F2E3D4C-ACCOUNT")
	msgs := filepath.Join(acct, "INBOX.mbox", "A1B2C3", "Data", "3", "Messages")
	m := func(id, subject string) string {
		return "Message-ID: <" + id + "@example.com>\nDate: Mon, 1 Jan 2024 12:00:00 +0000\nSubject: " + subject + "\n\nBody of " + subject + "\nFrom here, not a separator\n"
	}
	WriteFile(t, filepath.Join(msgs, "9.emlx"), EMLX(m("a9", "read"), 1, 1704103200))
	WriteFile(t, filepath.Join(msgs, "10.emlx"), EMLX(m("a10", "answered flagged"), 1|4|16, 1704106800))
	WriteFile(t, filepath.Join(msgs, "11.emlx"), EMLX(m("a11", "deleted"), 1|2, 1704110400))
	WriteFile(t, filepath.Join(msgs, "12.emlx"), EMLX(m("a12", "draft forwarded junk"), 64|256|1<<24|3<<10, 1704114000))
	WriteFile(t, filepath.Join(msgs, "13.partial.emlx"), EMLX(m("a13", "partial"), 1, 1704117600))
	WriteFile(t, filepath.Join(msgs, "14.emlx"), "12x\nnot a count")
	WriteFile(t, filepath.Join(msgs, "15.emlx"), "5000\nMessage-ID: <cut@example.com>\n\ncut short")
	WriteFile(t, filepath.Join(msgs, "16.emlx"), fmt.Sprintf("%d\n%s", len(m("a16", "no plist")), m("a16", "no plist")))
	WriteFile(t, filepath.Join(acct, "INBOX.mbox", "Info.plist"), "<plist/>")
	sub := filepath.Join(acct, "INBOX.mbox", "Projects.mbox", "D4E5", "Data", "Messages")
	WriteFile(t, filepath.Join(sub, "20.emlx"), EMLX(m("a20", "in a subfolder"), 0, 1704200000))
	// A mailbox that only holds others.
	WriteFile(t, filepath.Join(acct, "Archive.mbox", "2023.mbox", "X", "Data", "Messages", "30.emlx"), EMLX(m("a30", "archived"), 1, 1704300000))
	// An "Export Mailbox" folder.
	exp := filepath.Join(root, "Mailboxes", "Exported.mbox")
	WriteFile(t, filepath.Join(exp, "mbox"), "From sender@example.com Mon Jan  1 10:00:00 2024\nMessage-ID: <e1@example.com>\nSubject: exported\n\nhi\n\n")
	WriteFile(t, filepath.Join(exp, "table_of_contents"), "\x00\x01binary")
	return root
}
