package imapstore

import (
	"context"
	"testing"
	"time"

	"mailmover/core/dovecottest"
	"mailmover/core/failure"
)

func TestProbeDovecot(t *testing.T) {
	t.Parallel()
	s := dovecottest.Start(t, dovecottest.Options{})
	good := &Config{Host: s.Host, Port: s.TLSPort, Security: ImplicitTLS, Username: "alice", Password: "alice-pw", CAPEM: s.CAPEM, Timeout: 10 * time.Second}
	starttls := *good
	starttls.Port, starttls.Security = s.StartTLSPort, StartTLS
	untrusted := *good
	untrusted.CAPEM = nil
	wrong := *good
	wrong.Password = "nope"
	closed := *good
	closed.Port = 1
	for _, tc := range []struct {
		name     string
		cfg      *Config
		kind     failure.Kind
		loggedIn bool
		reach    bool
	}{
		{"trusted", good, failure.Unknown, true, true},
		{"starttls", &starttls, failure.Unknown, true, true},
		{"untrusted", &untrusted, failure.TLS, false, true},
		{"wrong password", &wrong, failure.Auth, false, true},
		{"closed port", &closed, failure.Connection, false, false},
	} {
		r := Probe(context.Background(), tc.cfg)
		if r.LoggedIn != tc.loggedIn || r.Reachable != tc.reach || (r.Err != nil) != (tc.kind != failure.Unknown) || (r.Err != nil && failure.KindOf(r.Err) != tc.kind) {
			t.Errorf("Probe(%q) = logged in %v, reachable %v, err %v; want %v, %v, kind %v", tc.name, r.LoggedIn, r.Reachable, r.Err, tc.loggedIn, tc.reach, tc.kind)
		}
		if tc.name == "untrusted" && (r.Cert == nil || r.Cert.Fingerprint == "") {
			t.Errorf("Probe(%q) gives no certificate fingerprint", tc.name)
		}
		if tc.loggedIn && (r.TLSVersion == "" || len(r.Caps) == 0 || r.Folders == 0 || r.Cert == nil || !r.Cert.Trusted) {
			t.Errorf("Probe(%q) = %+v; want TLS version, capabilities, folders and a trusted certificate", tc.name, r)
		}
		t.Logf("%s: %s", tc.name, r.Summary())
	}
}

func TestEncodeMailbox(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"INBOX", "INBOX"},
		{"Reçus & Factures", "Re&AOc-us &- Factures"},
		{"日本語", "&ZeVnLIqe-"},
		{"~peter/mail/台北/日本語", "~peter/mail/&U,BTFw-/&ZeVnLIqe-"},
	} {
		if got := EncodeMailbox(tc.in); got != tc.want {
			t.Errorf("EncodeMailbox(%q) = %q; want %q", tc.in, got, tc.want)
		}
	}
}

func TestParseAppendUID(t *testing.T) {
	for _, tc := range []struct {
		in   string
		v    uint32
		uids []uint32
	}{
		{"OK [APPENDUID 38505 3955] APPEND completed", 38505, []uint32{3955}},
		{"OK [APPENDUID 1 4:6,9] done", 1, []uint32{4, 5, 6, 9}},
		{"OK done", 0, nil},
	} {
		v, uids := parseAppendUID(tc.in)
		if v != tc.v || len(uids) != len(tc.uids) {
			t.Errorf("parseAppendUID(%q) = %d %v; want %d %v", tc.in, v, uids, tc.v, tc.uids)
			continue
		}
		for i := range uids {
			if uids[i] != tc.uids[i] {
				t.Errorf("parseAppendUID(%q) = %v; want %v", tc.in, uids, tc.uids)
			}
		}
	}
}
