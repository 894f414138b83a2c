package dovecottest

import (
	"strings"
	"testing"
)

func TestUserValidate(t *testing.T) {
	tests := []struct {
		user User
		ok   bool
	}{
		{User{Name: "alice", Password: "alice-pw"}, true},
		{User{Name: "bob@example.org", Password: "p w", QuotaBytes: 1024}, true},
		{User{Name: "", Password: "x"}, false},
		{User{Name: ".hidden", Password: "x"}, false},
		{User{Name: "a/b", Password: "x"}, false},
		{User{Name: "a:b", Password: "x"}, false},
		{User{Name: "a+b", Password: "x"}, false},
		{User{Name: "alice", Password: ""}, false},
		{User{Name: "alice", Password: "a:b"}, false},
		{User{Name: "alice", Password: "a\nb"}, false},
		{User{Name: "alice", Password: "x", QuotaBytes: -1}, false},
	}
	for _, tt := range tests {
		err := tt.user.validate()
		if (err == nil) != tt.ok {
			t.Errorf("User{Name: %q, QuotaBytes: %d}.validate() = %v; want ok=%v", tt.user.Name, tt.user.QuotaBytes, err, tt.ok)
		}
		if err != nil && tt.user.Password != "" && strings.Contains(err.Error(), tt.user.Password) {
			t.Errorf("User{Name: %q}.validate() = %v; want no password in the error", tt.user.Name, err)
		}
	}
}

func TestFlavourString(t *testing.T) {
	tests := []struct {
		f    Flavour
		want string
	}{
		{Modern, "modern"},
		{Courier, "courier"},
		{Flavour(7), "flavour(7)"},
	}
	for _, tt := range tests {
		if got := tt.f.String(); got != tt.want {
			t.Errorf("Flavour(%d).String() = %q; want %q", int(tt.f), got, tt.want)
		}
	}
}

func TestConfigRender(t *testing.T) {
	tests := []struct {
		flavour Flavour
		nonRoot bool
		want    []string
		notWant []string
	}{
		{Modern, false,
			[]string{"separator = /", ":LAYOUT=fs\"", `special_use = \Sent`, "port = 1993", "port = 1143", "protocols = imap"},
			[]string{"imap_capability", "prefix = INBOX.", "chroot =", "default_internal_user"}},
		{Courier, false,
			[]string{"separator = .", "prefix = INBOX.", "imap_capability = " + courierCapability, "mailbox Sent {"},
			[]string{"special_use", "LAYOUT=fs"}},
		{Modern, true,
			[]string{`default_internal_user = "u"`, `default_internal_group = "g"`, `default_login_user = "u"`, "chroot ="},
			nil},
	}
	for _, tt := range tests {
		c := config{Flavour: tt.flavour, TLSPort: 1993, StartTLSPort: 1143, MailRoot: "/m", NonRoot: tt.nonRoot, UserName: "u", GroupName: "g"}
		got := c.render()
		for _, w := range tt.want {
			if !strings.Contains(got, w) {
				t.Errorf("config{Flavour: %v, NonRoot: %v}.render() lacks %q:\n%s", tt.flavour, tt.nonRoot, w, got)
			}
		}
		for _, w := range tt.notWant {
			if strings.Contains(got, w) {
				t.Errorf("config{Flavour: %v, NonRoot: %v}.render() contains %q:\n%s", tt.flavour, tt.nonRoot, w, got)
			}
		}
	}
}
