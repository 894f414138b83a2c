package cli

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"mailmover/core/dnscheck/dnstest"
)

func dnsZone() dnstest.Zone {
	return dnstest.Zone{Records: []string{
		"mx1.newhost.test. 300 IN A 192.0.2.10",
		"mail.newhost.test. 300 IN A 192.0.2.10",
		"good.test. 300 IN MX 10 mx1.newhost.test.",
		`good.test. 300 IN TXT "v=spf1 ip4:192.0.2.0/24 -all"`,
		`_dmarc.good.test. 300 IN TXT "v=DMARC1; p=reject; rua=mailto:dmarc@good.test"`,
		"bad.test. 86400 IN MX 10 mx.oldhost.test.",
		`bad.test. 300 IN TXT "v=spf1 -all"`,
		`bad.test. 300 IN TXT "v=spf1 mx -all"`,
		"66.2.0.192.bl.spamcop.net. 300 IN A 127.0.0.2",
	}}
}

func TestDNSCheckCommand(t *testing.T) {
	addr := dnstest.Serve(t, dnsZone())
	for _, tc := range []struct {
		args []string
		code int
		// out are words the output must hold.
		out []string
	}{
		{[]string{"good.test", "--resolver", addr}, ExitOK, []string{"[ok]", "MX", "mx1.newhost.test", "[warn]", "DKIM", "Fix:"}},
		{[]string{"--resolver", addr, "good.test", "--new-server", "mail.newhost.test", "--verbose"}, ExitOK, []string{"moving to mail.newhost.test", "Blacklist zen.spamhaus.org", "Record: v=spf1"}},
		{[]string{"bad.test", "--resolver", addr, "--new-server", "mail.newhost.test"}, ExitPartial, []string{"[FAIL]", "SPF", "300 seconds"}},
		{[]string{"good.test", "--resolver", addr, "--new-server-ip", "192.0.2.66"}, ExitPartial, []string{"[FAIL]", "Blacklist bl.spamcop.net"}},
		{[]string{"good.test", "--resolver", addr, "--dkim-selector", "custom", "--dkim-selector", "other"}, ExitOK, []string{"custom, other"}},
	} {
		env, out, errb := testEnv(t, nil)
		if code := runDNSCheck(context.Background(), env, tc.args); code != tc.code {
			t.Errorf("dnscheck %q = %d; want %d\nstdout:\n%s\nstderr:\n%s", tc.args, code, tc.code, out, errb)
		}
		for _, w := range tc.out {
			if !strings.Contains(out.String(), w) {
				t.Errorf("dnscheck %q printed:\n%s\nwant it to hold %q", tc.args, out, w)
			}
		}
	}
}

func TestDNSCheckJSON(t *testing.T) {
	addr := dnstest.Serve(t, dnsZone())
	env, out, errb := testEnv(t, nil)
	if code := runDNSCheck(context.Background(), env, []string{"--json", "--resolver", addr, "bad.test"}); code != ExitPartial {
		t.Fatalf("dnscheck --json bad.test = %d; want %d (stderr %s)", code, ExitPartial, errb)
	}
	var checks, summaries int
	for _, line := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		var v struct {
			Type, Name, Status, Summary, Fix string
			Exit                             int
		}
		if err := json.Unmarshal([]byte(line), &v); err != nil {
			t.Fatalf("dnscheck --json printed %q: %v", line, err)
		}
		switch v.Type {
		case "check":
			checks++
			if v.Name == "" || v.Status == "" || v.Summary == "" {
				t.Errorf("dnscheck --json check %q lacks a field", line)
			}
			if v.Name == "SPF" && v.Status != "fail" {
				t.Errorf("dnscheck --json SPF = %q; want fail", v.Status)
			}
		case "summary":
			summaries++
			if v.Exit != ExitPartial {
				t.Errorf("dnscheck --json summary exit = %d; want %d", v.Exit, ExitPartial)
			}
		}
	}
	if checks != 8 || summaries != 1 {
		t.Errorf("dnscheck --json printed %d checks and %d summaries; want 8 and 1:\n%s", checks, summaries, out)
	}
}

func TestDNSCheckUsage(t *testing.T) {
	for _, args := range [][]string{
		{},
		{"a.test", "b.test"},
		{"--no-such-flag", "a.test"},
		{"not a domain"},
		{"good.test", "--new-server-ip", "nonsense"},
	} {
		env, _, errb := testEnv(t, nil)
		if code := runDNSCheck(context.Background(), env, args); code != ExitUsage {
			t.Errorf("dnscheck %q = %d; want %d (stderr %q)", args, code, ExitUsage, errb)
		}
	}
	env, _, _ := testEnv(t, nil)
	if code := runDNSCheck(context.Background(), env, []string{"-h"}); code != ExitOK {
		t.Errorf("dnscheck -h = %d; want %d", code, ExitOK)
	}
}
