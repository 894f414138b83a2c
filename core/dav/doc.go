// Package dav backs up and moves contacts and calendars over CardDAV
// (RFC 6352) and CalDAV (RFC 4791), the way the rest of Mailmover moves
// mail: plan first, copy without deleting anything, verify after.
//
// Connect finds an account's service (a URL the user gives, a known
// provider, RFC 6764 SRV records and .well-known addresses, or the paths
// common server software uses), then the user's principal (RFC 5397) and
// home set. Collections lists the address books or calendars; Backup
// saves each to a .vcf or .ics file; MakePlan, Copy and Verify copy them
// to another account; Import uploads a .vcf or .ics file.
//
// Objects travel unchanged: each vCard or iCalendar object is fetched
// with GET and uploaded with PUT byte for byte (a REPORT would hand the
// data through XML, which turns CR LF into LF), with If-None-Match: * so
// that nothing is overwritten. A copy is idempotent: an object whose UID
// the target collection holds already is skipped.
//
// The password is sent with HTTP Basic authentication, only over TLS
// (plain http is accepted only to a loopback address), and only to the
// hosts discovery started from or hosts of the same provider. Errors are
// classified with mailmover/core/failure: 401 is Auth, a certificate or
// handshake failure TLS, a network failure Connection, 507 Quota, and an
// object the server refuses is Refused at message scope, recorded while
// the rest goes on.
package dav
