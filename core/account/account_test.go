package account

import (
	"strings"
	"testing"

	"mailmover/core/failure"
)

func TestAccountURL(t *testing.T) {
	tests := []struct {
		a    Account
		want string
	}{
		{Account{Host: "imap.example.com", Port: 993, Security: SecurityTLS, Username: "alice@example.com"}, "imaps://alice%40example.com@imap.example.com"},
		{Account{Host: "imap.example.com", Port: 143, Security: SecurityStartTLS, Username: "alice"}, "imap://alice@imap.example.com"},
		{Account{Host: "imap.example.com", Port: 1993, Security: SecurityTLS, Username: "alice"}, "imaps://alice@imap.example.com:1993"},
		{Account{Host: "imap.example.com", Port: 993, Security: SecurityStartTLS, Username: "alice"}, "imap://alice@imap.example.com:993"},
		{Account{Host: "imap.example.com", Port: 0, Security: SecurityTLS, Username: "alice"}, "imaps://alice@imap.example.com"},
		{Account{Host: "127.0.0.1", Port: 1143, Security: SecurityNone, Username: "bob"}, "imap://bob@127.0.0.1:1143?security=none"},
		{Account{Host: "::1", Port: 993, Security: SecurityTLS, Username: "bob"}, "imaps://bob@[::1]"},
		{Account{Host: "::1", Port: 2993, Security: SecurityTLS, Username: "bob"}, "imaps://bob@[::1]:2993"},
		{Account{Host: "h", Port: 993, Security: SecurityTLS, Username: "a b/c:d"}, "imaps://a%20b%2Fc%3Ad@h"},
	}
	for _, tt := range tests {
		if got := tt.a.URL(); got != tt.want {
			t.Errorf("%+v.URL() = %q; want %q", tt.a, got, tt.want)
		}
	}
}

func TestParseURL(t *testing.T) {
	tests := []struct {
		in   string
		want Account
	}{
		{"imaps://alice%40example.com@imap.example.com", Account{Email: "alice@example.com", Host: "imap.example.com", Port: 993, Security: SecurityTLS, Username: "alice@example.com", Auth: AuthPassword}},
		{"imaps://alice@example.com@imap.example.com", Account{Email: "alice@example.com", Host: "imap.example.com", Port: 993, Security: SecurityTLS, Username: "alice@example.com", Auth: AuthPassword}},
		{"imap://alice@imap.example.com", Account{Host: "imap.example.com", Port: 143, Security: SecurityStartTLS, Username: "alice", Auth: AuthPassword}},
		{"IMAPS://alice@imap.example.com:1993/", Account{Host: "imap.example.com", Port: 1993, Security: SecurityTLS, Username: "alice", Auth: AuthPassword}},
		{"imap://bob@127.0.0.1:1143?security=none", Account{Host: "127.0.0.1", Port: 1143, Security: SecurityNone, Username: "bob", Auth: AuthPassword}},
		{"imap://bob@[::1]:1143", Account{Host: "::1", Port: 1143, Security: SecurityStartTLS, Username: "bob", Auth: AuthPassword}},
	}
	for _, tt := range tests {
		got, err := ParseURL(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("ParseURL(%q) = %+v, %v; want %+v, nil", tt.in, got, err, tt.want)
		}
	}
}

func TestParseURLRoundTrip(t *testing.T) {
	accounts := []Account{
		{Email: "alice@example.com", Host: "imap.example.com", Port: 993, Security: SecurityTLS, Username: "alice@example.com", Auth: AuthPassword},
		{Host: "mail.example.org", Port: 143, Security: SecurityStartTLS, Username: "a+b %c", Auth: AuthPassword},
		{Host: "127.0.0.1", Port: 31143, Security: SecurityNone, Username: "test", Auth: AuthPassword},
		{Host: "::1", Port: 993, Security: SecurityTLS, Username: "v6", Auth: AuthPassword},
	}
	for _, a := range accounts {
		got, err := ParseURL(a.URL())
		if err != nil || got != a {
			t.Errorf("ParseURL(%q) = %+v, %v; want %+v, nil", a.URL(), got, err, a)
		}
	}
}

func TestParseURLErrors(t *testing.T) {
	tests := []struct {
		in   string
		want string // part of the message
	}{
		{"pop3s://alice@pop.example.com", "unsupported scheme"},
		{"https://alice@imap.example.com", "unsupported scheme"},
		{"alice@imap.example.com", "no scheme"},
		{"imaps://imap.example.com", "no user name"},
		{"imaps://@imap.example.com", "no user name"},
		{"imaps://alice@", "no server name"},
		{"imaps://alice@imap.example.com:0", "invalid port"},
		{"imaps://alice@imap.example.com:70000", "invalid port"},
		{"imaps://alice@imap.example.com/INBOX", "must not have a path"},
		{"imaps://alice@imap.example.com?security=none", "contradicts imaps"},
		{"imap://alice@imap.example.com?security=ssl3", "unknown security"},
		{"imaps://alice:hunter2-secret@imap.example.com", "--password-env"},
		{"imaps://alice%40example.com:hunter2-secret@imap.example.com:993", "keychain"},
		{"imaps://alice:hunter2-secret@imap.example.com:notaport", "--password-env"},
		{"imaps://alice:hunter2-secret@%zz", "--password-env"},
		{"imaps://alice@imap.example.com:x y", "not a valid account URL"},
	}
	for _, tt := range tests {
		_, err := ParseURL(tt.in)
		if err == nil {
			t.Errorf("ParseURL(%q) = nil error; want one mentioning %q", tt.in, tt.want)
			continue
		}
		msg := err.Error()
		if !strings.Contains(msg, tt.want) {
			t.Errorf("ParseURL(%q) = %q; want it to mention %q", tt.in, msg, tt.want)
		}
		if strings.Contains(msg, "hunter2") {
			t.Errorf("ParseURL(%q) = %q; the error repeats the password", tt.in, msg)
		}
		if msg != strings.ToLower(msg[:1])+msg[1:] {
			t.Errorf("ParseURL(%q) = %q; want a lower-case error", tt.in, msg)
		}
		if k := failure.KindOf(err); k != failure.Config {
			t.Errorf("failure.KindOf(ParseURL(%q)) = %v; want %v", tt.in, k, failure.Config)
		}
	}
}

func TestValidate(t *testing.T) {
	good := Account{Name: "Old", Email: "alice@example.com", Host: "imap.example.com", Port: 993, Security: SecurityTLS, Username: "alice@example.com", Auth: AuthPassword}
	if err := good.Validate(); err != nil {
		t.Fatalf("%+v.Validate() = %v; want nil", good, err)
	}
	tests := []struct {
		name   string
		change func(*Account)
		want   string
	}{
		{"no host", func(a *Account) { a.Host = "" }, "server name is missing"},
		{"URL as host", func(a *Account) { a.Host = "imaps://imap.example.com" }, "not a server name"},
		{"space in host", func(a *Account) { a.Host = "imap example.com" }, "not a server name"},
		{"port 0", func(a *Account) { a.Port = 0 }, "port 0 is not valid"},
		{"port too big", func(a *Account) { a.Port = 65536 }, "port 65536 is not valid"},
		{"security", func(a *Account) { a.Security = "ssl" }, "unknown security"},
		{"no user", func(a *Account) { a.Username = "" }, "user name is missing"},
		{"auth", func(a *Account) { a.Auth = "" }, "unknown login method"},
		{"email", func(a *Account) { a.Email = "alice" }, "not an email address"},
	}
	for _, tt := range tests {
		a := good
		tt.change(&a)
		err := a.Validate()
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: Validate() = %v; want an error mentioning %q", tt.name, err, tt.want)
			continue
		}
		if k := failure.KindOf(err); k != failure.Config {
			t.Errorf("%s: failure.KindOf(Validate()) = %v; want %v", tt.name, k, failure.Config)
		}
	}
	for _, a := range []Account{
		{Host: "127.0.0.1", Port: 1143, Security: SecurityNone, Username: "u", Auth: AuthPassword},
		{Host: "outlook.office365.com", Port: 993, Security: SecurityTLS, Username: "u@example.com", Auth: AuthOAuth2},
	} {
		if err := a.Validate(); err != nil {
			t.Errorf("%+v.Validate() = %v; want nil", a, err)
		}
	}
}

func TestSecretKey(t *testing.T) {
	a := Account{Host: "imap.example.com", Username: "alice@example.com"}
	if got, want := a.SecretKey(), "imap:alice@example.com@imap.example.com"; got != want {
		t.Errorf("SecretKey() = %q; want %q", got, want)
	}
}

func TestSecurityDefaultPort(t *testing.T) {
	tests := []struct {
		s    Security
		want int
	}{
		{SecurityTLS, 993},
		{SecurityStartTLS, 143},
		{SecurityNone, 143},
	}
	for _, tt := range tests {
		if got := tt.s.DefaultPort(); got != tt.want {
			t.Errorf("Security(%q).DefaultPort() = %d; want %d", tt.s, got, tt.want)
		}
	}
}
