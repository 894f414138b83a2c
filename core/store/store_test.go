package store

import (
	"strings"
	"testing"
	"time"
)

func TestSyncFlags(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{`\Seen \Recent`, `\Seen`},
		{`\seen \FLAGGED $Forwarded \Seen`, `$Forwarded \Flagged \Seen`},
		{``, ``},
		{`\* Important-Client \Deleted \Draft \Answered`, `\Answered \Deleted \Draft Important-Client`},
	} {
		got := strings.Join(SyncFlags(strings.Fields(tc.in)), " ")
		if got != tc.want {
			t.Errorf("SyncFlags(%q) = %q; want %q", tc.in, got, tc.want)
		}
	}
}

func TestIdentity(t *testing.T) {
	d := time.Date(2020, 1, 2, 3, 4, 5, 0, time.FixedZone("", 3600))
	a := MessageInfo{MessageID: "x@y", Size: 10, InternalDate: d}
	b := MessageInfo{MessageID: "x@y", Size: 10, InternalDate: d.UTC()}
	c := MessageInfo{MessageID: "x@y", Size: 11, InternalDate: d}
	n := MessageInfo{HeaderHash: HashHeader([]byte("Subject: a\r\n\r\n")), Size: 10, InternalDate: d}
	if a.Identity() != b.Identity() {
		t.Errorf("Identity(%q) = %q and %q; want the same instant to match", "x@y", a.Identity(), b.Identity())
	}
	if a.Identity() == c.Identity() {
		t.Errorf("Identity(%q) ignores the size", "x@y")
	}
	if !strings.HasPrefix(n.Identity(), "#") || n.Identity() == a.Identity() {
		t.Errorf("Identity(no Message-ID) = %q; want the header hash", n.Identity())
	}
}
