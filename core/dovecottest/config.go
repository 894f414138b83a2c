package dovecottest

import (
	"fmt"
	"strings"
)

// specialUse lists the folders every test server creates and subscribes
// (Dovecot "auto = subscribe"), with the RFC 6154 attribute the Modern
// flavour advertises for each.
var specialUse = [...]struct{ Name, Attr string }{
	{"Drafts", `\Drafts`},
	{"Sent", `\Sent`},
	{"Trash", `\Trash`},
	{"Junk", `\Junk`},
	{"Archive", `\Archive`},
}

// courierCapability is what a Courier-IMAP-like server announces after
// login: no SPECIAL-USE (RFC 6154), CONDSTORE (RFC 7162), MOVE (RFC 6851)
// or MULTIAPPEND (RFC 3502).
const courierCapability = "IMAP4rev1 UIDPLUS CHILDREN NAMESPACE QUOTA IDLE"

// maxUserIPConnections is high so that parallel tests never hit Dovecot's
// per-user, per-address connection limit.
const maxUserIPConnections = 100

// config holds everything needed to render a dovecot.conf for Dovecot 2.3.
type config struct {
	Flavour      Flavour
	TLSPort      int
	StartTLSPort int

	BaseDir  string // unix sockets and the master pid file
	StateDir string
	LogPath  string
	CertFile string
	KeyFile  string
	UsersDir string // one passwd-file per user, named as the user
	MailRoot string // one Maildir per user below it

	// FirstValidUID and FirstValidGID are lowered to the mail owner so
	// that Dovecot accepts a system account (uid < 500) as mail owner.
	FirstValidUID int
	FirstValidGID int

	// NonRoot is set when the master runs as an ordinary user: every
	// service then runs as that user and nothing chroots.
	NonRoot   bool
	UserName  string
	GroupName string
}

// quote makes s a double-quoted Dovecot configuration value.
func quote(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`)
	return `"` + r.Replace(s) + `"`
}

// render returns the configuration file text.
func (c *config) render() string {
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }

	p("# Throwaway Dovecot 2.3 server for integration tests (mailmover/core/dovecottest).")
	p("base_dir = %s", quote(c.BaseDir))
	p("state_dir = %s", quote(c.StateDir))
	p("protocols = imap")
	p("listen = 127.0.0.1")
	p("shutdown_clients = yes")
	p("log_path = %s", quote(c.LogPath))
	p("info_log_path = %s", quote(c.LogPath))
	p("debug_log_path = %s", quote(c.LogPath))
	p("auth_verbose = yes")
	p("auth_mechanisms = plain login")
	// Answer a wrong password at once instead of after 2 s.
	p("auth_failure_delay = 0")
	p("disable_plaintext_auth = yes")
	p("ssl = required")
	p("ssl_cert = <%s", c.CertFile)
	p("ssl_key = <%s", c.KeyFile)
	p("ssl_min_protocol = TLSv1.2")
	p("first_valid_uid = %d", c.FirstValidUID)
	p("first_valid_gid = %d", c.FirstValidGID)
	if c.NonRoot {
		p("default_internal_user = %s", quote(c.UserName))
		p("default_internal_group = %s", quote(c.GroupName))
		p("default_login_user = %s", quote(c.UserName))
	}

	// Modern keeps folders as directories (LAYOUT=fs) so that "/" is the
	// separator and "." may appear in a name; Courier keeps Maildir++ with
	// its "." separator, as Courier-IMAP does.
	switch c.Flavour {
	case Courier:
		p("mail_location = %s", quote("maildir:"+c.MailRoot+"/%u"))
	default:
		p("mail_location = %s", quote("maildir:"+c.MailRoot+"/%u:LAYOUT=fs"))
	}
	p("mail_plugins = $mail_plugins quota")

	p("passdb {")
	p("  driver = passwd-file")
	p("  args = scheme=PLAIN username_format=%%u %s/%%u", c.UsersDir)
	p("}")
	p("userdb {")
	p("  driver = passwd-file")
	p("  args = username_format=%%u %s/%%u", c.UsersDir)
	p("}")

	p("namespace inbox {")
	p("  inbox = yes")
	switch c.Flavour {
	case Courier:
		p("  separator = .")
		p("  prefix = INBOX.")
	default:
		p("  separator = /")
		p("  prefix =")
	}
	for _, f := range specialUse {
		p("  mailbox %s {", f.Name)
		p("    auto = subscribe")
		if c.Flavour != Courier {
			p("    special_use = %s", f.Attr)
		}
		p("  }")
	}
	p("}")

	// The "count" backend works with any mailbox layout; quota_grace = 0
	// makes the limit exact, so a test can predict where APPEND fails.
	p("plugin {")
	p("  quota = count:User quota")
	p("  quota_vsizes = yes")
	p("  quota_grace = 0")
	p("}")

	p("protocol imap {")
	p("  mail_plugins = $mail_plugins imap_quota")
	p("  mail_max_userip_connections = %d", maxUserIPConnections)
	if c.Flavour == Courier {
		p("  imap_capability = %s", courierCapability)
	}
	p("}")

	p("service imap-login {")
	p("  inet_listener imap {")
	p("    address = 127.0.0.1")
	p("    port = %d", c.StartTLSPort)
	p("  }")
	p("  inet_listener imaps {")
	p("    address = 127.0.0.1")
	p("    port = %d", c.TLSPort)
	p("    ssl = yes")
	p("  }")
	if c.NonRoot {
		p("  chroot =")
	}
	p("}")
	// Without its anvil socket, the auth process disables the "auth
	// penalty", which would otherwise delay every login from 127.0.0.1
	// by up to 15 s after a test's deliberate wrong password.
	p("service anvil {")
	p("  unix_listener anvil-auth-penalty {")
	p("    mode = 0")
	p("  }")
	if c.NonRoot {
		p("  chroot =")
	}
	p("}")
	if c.NonRoot {
		p("service auth-worker {")
		p("  user = $default_internal_user")
		p("}")
	}
	return b.String()
}
