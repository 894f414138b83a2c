// Package mbox is Mailmover's backup format: an mboxrd codec that gives back
// every message byte for byte, an index beside each mbox file that keeps what
// mbox cannot (UIDVALIDITY, UID, flags, INTERNALDATE, exact offsets and a
// SHA-256 of every message), a crash-safe Appender for incremental backups,
// and a backup tree whose file names are safe on Windows, macOS and Linux.
//
// # Framing
//
// Each message is written as a separator line
//
//	From MAILER-DAEMON Thu Jan  1 00:00:00 2024\n
//
// (the INTERNALDATE in UTC, in asctime form, as RFC 4155 describes), then the
// message bytes as they are, CRLF or LF, 8-bit or not, and then a framing
// newline. Escaping is mboxrd's: a line of the message that matches ^>*From
// (any number of '>', then "From ") gets one more '>' when written and loses
// one when read, which is reversible; the last line of a message is escaped
// too even if it has no line ending.
//
// # The trailing newline rule
//
// The writer ends every message so that a blank line comes before the next
// separator, which RFC 4155 readers (Thunderbird, Apple Mail, Python's
// mailbox) expect: it adds one "\n" after a message that is empty or ends
// with "\n", and "\n\n" after a message that does not end with "\n". A plain
// sequential Reader removes exactly one "\n" before each separator and at the
// end of the file. So reading without the index is exact for every message
// that is empty or ends with a newline (all mail fetched over IMAP ends with
// CRLF), and a message without a final newline comes back with one "\n"
// added. Reading through the index (Mailbox, Appender) uses the recorded
// length and is exact for every message.
//
// # Why not github.com/emersion/go-mbox
//
// github.com/emersion/go-mbox v1.0.3 escapes like mboxo: it adds '>' only to
// lines starting "From " and removes one from lines starting ">From ", so a
// line that was ">From " in the original comes back as "From " and the round
// trip is lost. Its writer also turns CRLF into LF and adds a blank line after
// every message, and its reader turns every line ending into CRLF, so neither
// the bytes nor the length of a message survive, and there is no way to learn
// where in the file a message lies. A backup must give back exactly what the
// server sent (the SHA-256 in the index proves it), so Mailmover has its own
// small mboxrd codec that never changes line endings, escapes reversibly,
// streams every message through 64 KiB buffers and reports byte offsets.
//
// # Crash safety
//
// An Appender writes and fsyncs the mbox bytes before it appends and fsyncs
// the index records that describe them, so whatever the index lists is on
// disk. When it opens a mailbox it checks the tail (length and SHA-256 of the
// last record), truncates the mbox after the last good message and drops
// index records that point past the data. A new mbox is written under a
// temporary name and renamed into place on its first commit, and the index is
// only ever replaced atomically (flag updates) or appended to, so a crash can
// never leave a zero-byte or torn file in place of a good one.
package mbox
