// Package localarchive reads mail that lives only on a local disk: the Local
// Folders and POP accounts of Thunderbird profiles (mbox or maildir stores),
// Apple Mail mailboxes (.emlx files, or "Export Mailbox" folders holding a
// plain mbox), loose .mbox / .mbx files and folders of .eml files.
//
// Each format has a Scan function that lists the folders found under a root
// (ScanThunderbird, ScanAppleMail, ScanMbox, ScanEML); Messages streams the
// messages of one folder, whatever its format. Nothing is ever written: the
// archives are opened read-only.
//
// # What a Message holds
//
// Body gives the message as it should be uploaded: line endings are CRLF
// (RFC 5322 section 2.1; a bare LF is turned into CRLF, so that the size
// matches what an IMAP server reports as RFC822.SIZE), and the
// Thunderbird-only header fields X-Mozilla-Status, X-Mozilla-Status2 and
// X-Mozilla-Keys are removed once their flags are read. Size is the exact
// length of Body. Everything else is passed on byte for byte.
//
// INTERNALDATE comes from the mbox separator line ("From - Thu Jan  1
// 00:00:00 2024", read in local time, as Thunderbird writes it) or the
// date-received of an .emlx file, else from the Date header field, else from
// the file's modification time.
//
// # Thunderbird flags
//
// X-Mozilla-Status holds the low 16 bits of nsMsgMessageFlags and
// X-Mozilla-Status2 the high ones:
//
//	0x0001 Read         -> \Seen
//	0x0002 Replied      -> \Answered
//	0x0004 Marked       -> \Flagged
//	0x0008 Expunged     -> skipped: deleted, waiting for the folder to be compacted
//	0x0400 Partial      -> uploaded, with a warning: POP left the rest on the server
//	0x1000 Forwarded    -> $Forwarded
//	0x200000 IMAPDeleted -> skipped: marked deleted on an IMAP server
//
// X-Mozilla-Keys lists tags ($label1.. and user keywords), passed on as IMAP
// keywords.
//
// # Apple Mail flags
//
// An .emlx file is a line holding the byte count of the message, the message
// itself, then an XML property list whose "flags" integer holds, by bit:
//
//	0  read       -> \Seen
//	1  deleted    -> skipped
//	2  answered   -> \Answered
//	3  encrypted
//	4  flagged    -> \Flagged
//	5  recent
//	6  draft      -> \Draft
//	7  initial (not a mail)
//	8  forwarded  -> $Forwarded
//	9  redirected
//	10-15 attachment count
//	16-22 priority
//	23 signed
//	24 junk       -> $Junk
//	25 not junk   -> $NotJunk
//
// and "date-received" (seconds since 1970) gives the INTERNALDATE. A
// .partial.emlx file keeps its attachments in separate files; it is listed
// as skipped.
//
// # Broken files
//
// A damaged file never stops a folder: Messages yields an error that names
// the file and the byte offset of the broken part (a failure.Malformed of
// message scope) and goes on with the good messages around it.
package localarchive
