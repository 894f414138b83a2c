package batch

import (
	"fmt"
	"strings"
	"testing"

	"mailmover/core/account"
)

// rowString summarises a parsed row, passwords included, for comparison.
func rowString(r row) string {
	side := func(s Side, pw string, has bool) string {
		p := "-"
		if has {
			p = pw
		}
		return fmt.Sprintf("%s|%s|%s:%d|%s|%s", s.Email, s.Username, s.Host, s.Port, s.Security, p)
	}
	return fmt.Sprintf("%d %s > %s", r.line, side(r.src, r.srcPW, r.srcHasPW), side(r.dst, r.dstPW, r.dstHasPW))
}

func TestParseCSV(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   string
		want []string
		errs []int // lines reported as errors
	}{
		{
			name: "imapsync",
			in:   "imap.old.example;alice;pw1;imap.new.example;alice@new.example;pw2\n",
			want: []string{"1 |alice|imap.old.example:993|tls|pw1 > alice@new.example|alice@new.example|imap.new.example:993|tls|pw2"},
		},
		{
			name: "imapsync with extra fields, ports, comments, blank lines and CRLF",
			in: "# source;user;password;target;user;password\r\n\r\n" +
				"old.example:143;bob;pb;new.example:1993;bob;x;extra;fields\r\n" +
				"   \r\n" +
				"old.example;carol;c-pw;new.example;carol;c-pw2;\r\n",
			want: []string{
				"3 |bob|old.example:143|starttls|pb > |bob|new.example:1993|tls|x",
				"5 |carol|old.example:993|tls|c-pw > |carol|new.example:993|tls|c-pw2",
			},
		},
		{
			name: "imapsync quoted password with separator and quote",
			in:   `old.example;dave;"p;w""1";new.example;dave;"a b"` + "\n",
			want: []string{`1 |dave|old.example:993|tls|p;w"1 > |dave|new.example:993|tls|a b`},
		},
		{
			name: "imapsync missing passwords",
			in:   "old.example;erin;;new.example;erin;\nold.example;frank;f1;new.example;frank\n",
			want: []string{
				"1 |erin|old.example:993|tls|- > |erin|new.example:993|tls|-",
				"2 |frank|old.example:993|tls|f1 > |frank|new.example:993|tls|-",
			},
		},
		{
			name: "imapsync short and bad rows",
			in:   "old.example;a;b\nold.example:99999;u;p;new.example;u;p\nold.example;u;p;new.example;u;p\n",
			want: []string{"3 |u|old.example:993|tls|p > |u|new.example:993|tls|p"},
			errs: []int{1, 2},
		},
		{
			name: "header, comma separated",
			in: "source_email,source_host,source_port,source_security,source_username,source_password,target_email,target_host,target_port,target_security,target_username,target_password\n" +
				"alice@old.example,imap.old.example,993,tls,alice,s3cret,alice@new.example,imap.new.example,143,starttls,alice@new.example,\"with,comma\"\n",
			want: []string{"2 alice@old.example|alice|imap.old.example:993|tls|s3cret > alice@new.example|alice@new.example|imap.new.example:143|starttls|with,comma"},
		},
		{
			name: "header, other spellings, semicolons, BOM, username from email",
			in: "\ufeffOld Email;Old Server;Old Password;New Email;New Server;New Pass;Notes\n" +
				"# a comment\n" +
				"a@old.example;old.example:143;pw a;a@new.example;new.example;;call first\n",
			want: []string{"3 a@old.example|a@old.example|old.example:143|starttls|pw a > a@new.example|a@new.example|new.example:993|tls|-"},
		},
		{
			name: "header, imapsync column names, tabs",
			in:   "host1\tuser1\tpassword1\thost2\tuser2\tpassword2\nh1\tu1\tp1\th2\tu2\tp2\n",
			want: []string{"2 |u1|h1:993|tls|p1 > |u2|h2:993|tls|p2"},
		},
		{
			name: "header, missing host and bad security",
			in: "src_user,src_host,src_security,dst_user,dst_host\n" +
				"a,,tls,b,new.example\n" +
				"a,old.example,weird,b,new.example\n" +
				"a,old.example,none,b,new.example\n",
			want: []string{"4 |a|old.example:143|none|- > |b|new.example:993|tls|-"},
			errs: []int{2, 3},
		},
		{
			name: "unclosed quote",
			in:   "old.example;u;\"p;new.example;u;p\nold.example;v;p;new.example;v;p\n",
			errs: []int{1},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rows, errs, err := parseCSV(strings.NewReader(tc.in))
			if err != nil {
				t.Fatalf("parseCSV(%q) = %v", tc.in, err)
			}
			var got []string
			for _, r := range rows {
				got = append(got, rowString(r))
			}
			want := tc.want
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("parseCSV(%q) rows = %q; want %q", tc.in, got, want)
			}
			var lines []int
			for _, e := range errs {
				lines = append(lines, e.Line)
			}
			if fmt.Sprint(lines) != fmt.Sprint(tc.errs) {
				t.Errorf("parseCSV(%q) error lines = %v (%v); want %v", tc.in, lines, errs, tc.errs)
			}
			for _, e := range errs {
				for _, pw := range []string{"p;new", "pw1", "s3cret"} {
					if strings.Contains(e.Error(), pw) {
						t.Errorf("error %q repeats the row's content", e)
					}
				}
			}
		})
	}
}

func TestColumn(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"source_email", "source.email"},
		{"Source Host", "source.host"},
		{"SOURCE-PORT", "source.port"},
		{"source_security", "source.security"},
		{"src_username", "source.username"},
		{"source.password", "source.password"},
		{"target_email", "target.email"},
		{"Destination Server", "target.host"},
		{"dst_pass", "target.password"},
		{"new_login", "target.username"},
		{"host1", "source.host"},
		{"password_2", "target.password"},
		{"user2", "target.username"},
		{"notes", ""},
		{"source", ""},
		{"", ""},
	} {
		if got := column(tc.in); got != tc.want {
			t.Errorf("column(%q) = %q; want %q", tc.in, got, tc.want)
		}
	}
}

func TestParseSecurity(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want account.Security
		ok   bool
	}{
		{"TLS", account.SecurityTLS, true},
		{"ssl", account.SecurityTLS, true},
		{"imaps", account.SecurityTLS, true},
		{"STARTTLS", account.SecurityStartTLS, true},
		{"none", account.SecurityNone, true},
		{"maybe", "", false},
	} {
		got, err := parseSecurity(tc.in)
		if got != tc.want || (err == nil) != tc.ok {
			t.Errorf("parseSecurity(%q) = %q, %v; want %q, ok %v", tc.in, got, err, tc.want, tc.ok)
		}
	}
}
