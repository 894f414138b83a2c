package dnscheck

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"

	"mailmover/core/dnscheck/dnstest"
	"mailmover/core/failure"
)

// rsaKey is a 2048-bit RSA public key (SubjectPublicKeyInfo, base64), split
// in two strings as a TXT record over 255 bytes must be.
const rsaKey = `"MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAsJaiF61IcdeXnIcPQlyQ+aMOLdkQPt0Nx8//aQ7e9E+9qzwzipn7voQCKbNIXYAzzp5JrC0hOnYSk1GFcg6JxuO2FlAQ1MDD0039WsCNrqtuSdmwreaarqUYIw+r1ENkWaDq9w2c9/+0RSTX+8YyEyQNkPISEM4wyGfwY0nchZHnEWqItHuTbTsH7AHo1oQka95Gy73WdAZ5PFuXoNyaOEJqB1qyS2KB0tVgmWSVqCmc1Dtjk8d9XN868oI0NU3GdK" ` +
	`"/5QZeA7BlfCVEPTrGJux4J9bko4ixsT/4jW6EXW1EwqCe3N3E9QNxLMsXpYJ7zhI2aozVRIpSE3J75asonHQIDAQAB"`

// weakKey is a 512-bit RSA public key, which receivers ignore (RFC 8301).
const weakKey = "MFwwDQYJKoZIhvcNAQEBBQADSwAwSAJBAM9Ns7rYHGnUcVPucCXyawoyzFaSAw9yPdNnhxz5VkEhkNF7xIJQN87qOmuaa5kDmwMmEWwOj+PmsDZLaaA+9vMCAwEAAQ=="

// testZone holds several domains, one per situation.
func testZone() dnstest.Zone {
	recs := []string{
		// The new server and its provider.
		"mail.newhost.test. 300 IN A 192.0.2.10",
		"mx1.newhost.test. 300 IN A 192.0.2.10",
		"mx2.newhost.test. 300 IN A 192.0.2.11",
		"imap.newhost.test. 300 IN A 192.0.2.10",
		"smtp.newhost.test. 300 IN A 192.0.2.10",
		"autoconfig.newhost.test. 300 IN A 192.0.2.20",
		`spf.newhost.test. 300 IN TXT "v=spf1 ip4:192.0.2.0/24 -all"`,
		"mx.oldhost.test. 300 IN A 198.51.100.5",
		`spf.oldhost.test. 300 IN TXT "v=spf1 ip4:198.51.100.0/24 -all"`,

		// good.test: everything set up for the new server.
		"good.test. 300 IN MX 10 mx1.newhost.test.",
		"good.test. 300 IN MX 20 mx2.newhost.test.",
		`good.test. 300 IN TXT "google-site-verification=abc"`,
		`good.test. 300 IN TXT "v=spf1 include:spf.newhost.test " "-all"`,
		"default._domainkey.good.test. 300 IN TXT \"v=DKIM1; k=rsa; p=\" " + rsaKey,
		`_dmarc.good.test. 300 IN TXT "v=DMARC1; p=reject; rua=mailto:dmarc@good.test"`,
		"autoconfig.good.test. 300 IN CNAME autoconfig.newhost.test.",
		"_imaps._tcp.good.test. 300 IN SRV 0 1 993 imap.newhost.test.",
		"_submission._tcp.good.test. 300 IN SRV 0 1 587 smtp.newhost.test.",
		`_mta-sts.good.test. 300 IN TXT "v=STSv1; id=20240101T000000"`,
		`_smtp._tls.good.test. 300 IN TXT "v=TLSRPTv1; rua=mailto:tls@good.test"`,

		// oldmx.test: mail still goes to the old host, with a long TTL.
		"oldmx.test. 86400 IN MX 10 mx.oldhost.test.",
		`oldmx.test. 300 IN TXT "v=spf1 include:spf.oldhost.test -all"`,
		`_mta-sts.oldmx.test. 300 IN TXT "v=STSv1; id=1"`,
		// shortmx.test: the same with a short TTL.
		"shortmx.test. 600 IN MX 10 mx.oldhost.test.",

		// twospf.test: two SPF records.
		"twospf.test. 300 IN MX 10 mx1.newhost.test.",
		`twospf.test. 300 IN TXT "v=spf1 include:spf.newhost.test -all"`,
		`twospf.test. 300 IN TXT "v=spf1 include:spf.oldhost.test -all"`,

		// nodkim.test: no DKIM key, DMARC monitoring only.
		"nodkim.test. 300 IN MX 10 mx1.newhost.test.",
		`nodkim.test. 300 IN TXT "v=spf1 mx -all"`,
		`_dmarc.nodkim.test. 300 IN TXT "v=DMARC1; p=none; rua=mailto:reports@nodkim.test"`,

		// weak.test: a DKIM key too short to be used, SPF with +all.
		"weak.test. 300 IN MX 10 mx1.newhost.test.",
		`weak.test. 300 IN TXT "v=spf1 +all"`,
		`mail._domainkey.weak.test. 300 IN TXT "v=DKIM1; p=` + weakKey + `"`,
		`_dmarc.weak.test. 300 IN TXT "v=DMARC1; p=quarantine"`,

		// neutral.test: SPF ending in ?all; noall.test: without all.
		"neutral.test. 300 IN MX 10 mx1.newhost.test.",
		`neutral.test. 300 IN TXT "v=spf1 a:mail.newhost.test ?all"`,
		"noall.test. 300 IN MX 10 mx1.newhost.test.",
		`noall.test. 300 IN TXT "v=spf1 ip4:192.0.2.10"`,
		// nospf.test: no SPF record at all.
		"nospf.test. 300 IN MX 10 mx1.newhost.test.",
		// brokeninclude.test: includes a name without an SPF record.
		"brokeninclude.test. 300 IN MX 10 mx1.newhost.test.",
		`brokeninclude.test. 300 IN TXT "v=spf1 include:nothing.newhost.test -all"`,
		// loop.test: an include loop.
		"loop.test. 300 IN MX 10 mx1.newhost.test.",
		`loop.test. 300 IN TXT "v=spf1 include:a.loop.test -all"`,
		`a.loop.test. 300 IN TXT "v=spf1 include:loop.test -all"`,

		// google.test: moving to Google; ms.test: on Microsoft 365.
		"google.test. 3600 IN MX 1 aspmx.l.google.com.",
		`google.test. 300 IN TXT "v=spf1 include:_spf.google.com ~all"`,
		"google._domainkey.google.test. 300 IN TXT \"v=DKIM1; k=rsa; p=\" " + rsaKey,
		`_spf.google.com. 300 IN TXT "v=spf1 include:_netblocks.google.com ~all"`,
		`_netblocks.google.com. 300 IN TXT "v=spf1 ip4:35.190.247.0/24 ~all"`,
		"imap.gmail.com. 300 IN A 142.250.0.108",
		"ms.test. 3600 IN MX 0 ms-test.mail.protection.outlook.com.",
		`ms.test. 300 IN TXT "v=spf1 include:spf.protection.outlook.com -all"`,
		"selector1._domainkey.ms.test. 300 IN CNAME selector1-ms-test._domainkey.mstest.onmicrosoft.com.",
		`selector1-ms-test._domainkey.mstest.onmicrosoft.com. 300 IN TXT "v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo="`,
		`spf.protection.outlook.com. 300 IN TXT "v=spf1 ip4:40.92.0.0/15 -all"`,
		"outlook.office365.com. 300 IN A 52.97.0.1",

		// servfail.test: the DMARC lookup fails.
		"servfail.test. 300 IN MX 10 mx1.newhost.test.",

		// Blocklists: 192.0.2.66 is listed on SpamCop; for 192.0.2.77 and
		// 192.0.2.78 Spamhaus refuses to answer; 192.0.2.88 gets an answer
		// that is not a list code.
		"66.2.0.192.bl.spamcop.net. 300 IN A 127.0.0.2",
		`66.2.0.192.bl.spamcop.net. 300 IN TXT "Blocked - see https://www.spamcop.net/bl.shtml?192.0.2.66"`,
		"66.2.0.192.zen.spamhaus.org. 300 IN A 127.0.0.3",
		"77.2.0.192.zen.spamhaus.org. 300 IN A 127.255.255.254",
		"78.2.0.192.zen.spamhaus.org. 300 IN A 127.255.255.255",
		"88.2.0.192.b.barracudacentral.org. 300 IN A 203.0.113.1",
	}
	// deep.test needs 11 lookups through a chain of includes; ten.test
	// exactly 10.
	recs = append(recs, "deep.test. 300 IN MX 10 mx1.newhost.test.", "ten.test. 300 IN MX 10 mx1.newhost.test.",
		`deep.test. 300 IN TXT "v=spf1 include:c1.chain.test -all"`,
		`ten.test. 300 IN TXT "v=spf1 include:c2.chain.test -all"`)
	for i := 1; i <= 10; i++ {
		recs = append(recs, fmt.Sprintf(`c%d.chain.test. 300 IN TXT "v=spf1 include:c%d.chain.test ~all"`, i, i+1))
	}
	recs = append(recs, `c11.chain.test. 300 IN TXT "v=spf1 ip4:192.0.2.0/24 ~all"`)
	// big.test has more TXT than fits in a UDP reply, so the SPF record
	// comes over TCP.
	recs = append(recs, "big.test. 300 IN MX 10 mx1.newhost.test.", `big.test. 300 IN TXT "v=spf1 ip4:192.0.2.0/24 -all"`)
	for i := range 12 {
		recs = append(recs, fmt.Sprintf(`big.test. 300 IN TXT "verification-%d=%s"`, i, strings.Repeat("x", 200)))
	}
	return dnstest.Zone{Records: recs, ServFail: []string{"_dmarc.servfail.test"}}
}

func byName(checks []Check) map[string]Check {
	m := map[string]Check{}
	for _, c := range checks {
		m[c.Name] = c
	}
	return m
}

func TestRun(t *testing.T) {
	addr := dnstest.Serve(t, testZone())
	r := NewResolver(addr)
	const newServer = "mail.newhost.test"
	tests := []struct {
		name string
		opts Options
		// want are the expected statuses of some checks.
		want map[string]Status
		// contains are words expected in a check's summary or fix.
		contains map[string]string
		// excludes are words that must not be in a check's summary.
		excludes map[string]string
	}{{
		name: "correct set-up",
		opts: Options{Domain: "good.test", NewServer: newServer},
		want: map[string]Status{"MX": OK, "SPF": OK, "DKIM": OK, "DMARC": OK, "Autoconfig": OK, "SRV": OK, "MTA-STS": OK, "TLS-RPT": OK,
			"Blacklist zen.spamhaus.org": OK, "Blacklist bl.spamcop.net": OK, "Blacklist b.barracudacentral.org": OK, "Blacklist psbl.surriel.com": OK},
		contains: map[string]string{"MX": "new server", "SPF": "allows the new server", "DMARC": "mailto:dmarc@good.test", "DKIM": "default", "TLS-RPT": "mailto:tls@good.test"},
	}, {
		name:     "correct set-up, no new server",
		opts:     Options{Domain: "GOOD.test."},
		want:     map[string]Status{"MX": OK, "SPF": OK, "DKIM": OK, "DMARC": OK, "SRV": OK},
		contains: map[string]string{"MX": "mx1.newhost.test"},
	}, {
		name:     "MX still at the old host, long TTL",
		opts:     Options{Domain: "oldmx.test", NewServer: newServer},
		want:     map[string]Status{"MX": Warn, "SPF": Warn, "MTA-STS": Warn, "DKIM": Warn, "DMARC": Warn, "Autoconfig": Warn, "SRV": Warn, "TLS-RPT": OK},
		contains: map[string]string{"MX": "300 seconds", "SPF": "ip4:192.0.2.10", "MTA-STS": "mx:"},
	}, {
		name:     "MX still at the old host, short TTL",
		opts:     Options{Domain: "shortmx.test", NewServer: newServer},
		want:     map[string]Status{"MX": Warn, "SPF": Fail},
		contains: map[string]string{"MX": "When the copy is done", "SPF": "no SPF record"},
		excludes: map[string]string{"MX": "300 seconds"},
	}, {
		name:     "two SPF records",
		opts:     Options{Domain: "twospf.test"},
		want:     map[string]Status{"SPF": Fail},
		contains: map[string]string{"SPF": "Merge them"},
	}, {
		name:     "SPF over 10 lookups",
		opts:     Options{Domain: "deep.test"},
		want:     map[string]Status{"SPF": Fail},
		contains: map[string]string{"SPF": "11 DNS lookups"},
	}, {
		name:     "SPF at exactly 10 lookups",
		opts:     Options{Domain: "ten.test"},
		want:     map[string]Status{"SPF": OK},
		contains: map[string]string{"SPF": "10 of the 10"},
	}, {
		name:     "SPF includes a name without SPF",
		opts:     Options{Domain: "brokeninclude.test"},
		want:     map[string]Status{"SPF": Fail},
		contains: map[string]string{"SPF": "nothing.newhost.test"},
	}, {
		name:     "SPF include loop",
		opts:     Options{Domain: "loop.test"},
		want:     map[string]Status{"SPF": Fail},
		contains: map[string]string{"SPF": "loop"},
	}, {
		name:     "missing DKIM, DMARC p=none",
		opts:     Options{Domain: "nodkim.test", NewServer: newServer},
		want:     map[string]Status{"DKIM": Warn, "DMARC": Warn, "SPF": OK, "MX": OK},
		contains: map[string]string{"DKIM": "No DKIM key", "DMARC": "p=none"},
	}, {
		name:     "weak DKIM key, +all",
		opts:     Options{Domain: "weak.test"},
		want:     map[string]Status{"DKIM": Warn, "SPF": Fail, "DMARC": OK},
		contains: map[string]string{"DKIM": "512 bits", "SPF": "+all", "DMARC": "no reports"},
	}, {
		name:     "SPF ?all",
		opts:     Options{Domain: "neutral.test", NewServer: newServer},
		want:     map[string]Status{"SPF": Warn},
		contains: map[string]string{"SPF": "?all"},
	}, {
		name:     "SPF without all",
		opts:     Options{Domain: "noall.test"},
		want:     map[string]Status{"SPF": Warn},
		contains: map[string]string{"SPF": "no all"},
	}, {
		name:     "user-given DKIM selector",
		opts:     Options{Domain: "weak.test", DKIMSelectors: []string{"Mail", "extra"}},
		want:     map[string]Status{"DKIM": Warn},
		contains: map[string]string{"DKIM": "mail._domainkey.weak.test"},
	}, {
		name:     "moving to Google, SPF lacks its include",
		opts:     Options{Domain: "ms.test", NewServer: "imap.gmail.com"},
		want:     map[string]Status{"MX": Warn, "SPF": Fail, "DKIM": Warn},
		contains: map[string]string{"SPF": "include:_spf.google.com", "DKIM": "Google", "MX": "Microsoft 365"},
	}, {
		name:     "on Google",
		opts:     Options{Domain: "google.test", NewServer: "imap.gmail.com"},
		want:     map[string]Status{"MX": OK, "SPF": OK, "DKIM": OK},
		contains: map[string]string{"SPF": "includes Google", "MX": "(TTL 1 hour)"},
	}, {
		name:     "on Microsoft 365, DKIM through a CNAME",
		opts:     Options{Domain: "ms.test", NewServer: "outlook.office365.com"},
		want:     map[string]Status{"MX": OK, "SPF": OK, "DKIM": OK},
		contains: map[string]string{"DKIM": "selector1"},
	}, {
		name:     "a listed IP",
		opts:     Options{Domain: "good.test", NewServer: newServer, NewServerIP: "192.0.2.66"},
		want:     map[string]Status{"Blacklist bl.spamcop.net": Fail, "Blacklist zen.spamhaus.org": Fail, "Blacklist psbl.surriel.com": OK},
		contains: map[string]string{"Blacklist bl.spamcop.net": "is listed", "Blacklist zen.spamhaus.org": "CSS"},
	}, {
		name:     "a refused DNSBL query",
		opts:     Options{Domain: "good.test", NewServerIP: "192.0.2.77"},
		want:     map[string]Status{"Blacklist zen.spamhaus.org": Unknown, "Blacklist bl.spamcop.net": OK},
		contains: map[string]string{"Blacklist zen.spamhaus.org": "public DNS resolver"},
		excludes: map[string]string{"Blacklist zen.spamhaus.org": "is listed"},
	}, {
		name:     "a DNSBL rate limit",
		opts:     Options{Domain: "good.test", NewServerIP: "192.0.2.78"},
		want:     map[string]Status{"Blacklist zen.spamhaus.org": Unknown},
		contains: map[string]string{"Blacklist zen.spamhaus.org": "too many"},
		excludes: map[string]string{"Blacklist zen.spamhaus.org": "is listed"},
	}, {
		name:     "a hijacked DNSBL answer",
		opts:     Options{Domain: "good.test", NewServerIP: "192.0.2.88"},
		want:     map[string]Status{"Blacklist b.barracudacentral.org": Unknown},
		contains: map[string]string{"Blacklist b.barracudacentral.org": "203.0.113.1"},
	}, {
		name:     "IPv6 only",
		opts:     Options{Domain: "good.test", NewServerIP: "2001:db8::1"},
		want:     map[string]Status{"Blacklist": Unknown},
		contains: map[string]string{"Blacklist": "IPv4"},
	}, {
		name:     "new server without address",
		opts:     Options{Domain: "good.test", NewServer: "nowhere.newhost.test"},
		want:     map[string]Status{"Blacklist": Unknown, "MX": OK},
		contains: map[string]string{"Blacklist": "nowhere.newhost.test"},
	}, {
		name:     "TXT too large for UDP",
		opts:     Options{Domain: "big.test", NewServer: newServer},
		want:     map[string]Status{"SPF": OK},
		contains: map[string]string{"SPF": "allows the new server"},
	}, {
		name: "SERVFAIL",
		opts: Options{Domain: "servfail.test"},
		want: map[string]Status{"DMARC": Unknown, "MX": OK},
	}, {
		name:     "domain does not exist",
		opts:     Options{Domain: "missing.test"},
		want:     map[string]Status{"MX": Fail},
		contains: map[string]string{"MX": "does not exist"},
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			checks, err := Run(context.Background(), r, tc.opts)
			if err != nil {
				t.Fatalf("Run(%+v) = %v", tc.opts, err)
			}
			got := byName(checks)
			for name, want := range tc.want {
				c, ok := got[name]
				if !ok {
					t.Errorf("Run(%q): no %s check", tc.opts.Domain, name)
					continue
				}
				if c.Status != want {
					t.Errorf("Run(%q) %s = %v (%s %s %q); want %v", tc.opts.Domain, name, c.Status, c.Summary, c.Fix, c.Details, want)
				}
				if c.Status == OK && c.Fix != "" {
					t.Errorf("Run(%q) %s is ok but has a fix %q", tc.opts.Domain, name, c.Fix)
				}
				if c.Status != OK && c.Status != Unknown && c.Fix == "" {
					t.Errorf("Run(%q) %s = %v without a fix", tc.opts.Domain, name, c.Status)
				}
			}
			for name, word := range tc.contains {
				c := got[name]
				if !strings.Contains(c.Summary+" "+c.Fix+" "+strings.Join(c.Details, " "), word) {
					t.Errorf("Run(%q) %s = %q / %q / %q; want it to mention %q", tc.opts.Domain, name, c.Summary, c.Fix, c.Details, word)
				}
			}
			for name, word := range tc.excludes {
				if c := got[name]; strings.Contains(c.Summary, word) {
					t.Errorf("Run(%q) %s = %q; want no %q", tc.opts.Domain, name, c.Summary, word)
				}
			}
		})
	}
}

func TestRunOrder(t *testing.T) {
	addr := dnstest.Serve(t, testZone())
	checks, err := Run(context.Background(), NewResolver(addr), Options{Domain: "good.test", NewServer: "mail.newhost.test"})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, c := range checks {
		names = append(names, c.Name)
	}
	want := "MX SPF DKIM DMARC Autoconfig SRV MTA-STS TLS-RPT Blacklist zen.spamhaus.org Blacklist bl.spamcop.net Blacklist b.barracudacentral.org Blacklist psbl.surriel.com"
	if got := strings.Join(names, " "); got != want {
		t.Errorf("Run order = %q; want %q", got, want)
	}
	if c := checks[0]; c.TTL != 300 {
		t.Errorf("MX TTL = %d; want 300", c.TTL)
	}
	if w := Worst(checks); w != OK {
		t.Errorf("Worst = %v; want ok", w)
	}
}

// TestSystemResolver runs the checks through package net, as on systems
// without /etc/resolv.conf.
func TestSystemResolver(t *testing.T) {
	addr := dnstest.Serve(t, testZone())
	nr := &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, network, addr)
	}}
	checks, err := Run(context.Background(), netResolver{r: nr}, Options{Domain: "good.test", NewServer: "mail.newhost.test"})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range checks {
		if c.Status != OK {
			t.Errorf("Run(good.test) via package net: %s = %v (%s); want ok", c.Name, c.Status, c.Summary)
		}
	}
	checks, err = Run(context.Background(), netResolver{r: nr}, Options{Domain: "good.test", NewServerIP: "192.0.2.66"})
	if err != nil {
		t.Fatal(err)
	}
	if c := byName(checks)["Blacklist bl.spamcop.net"]; c.Status != Fail {
		t.Errorf("Run via package net: listed IP = %v (%s); want fail", c.Status, c.Summary)
	}
}

func TestRunErrors(t *testing.T) {
	addr := dnstest.Serve(t, testZone())
	r := NewResolver(addr)
	for _, opts := range []Options{
		{Domain: ""},
		{Domain: "localhost"},
		{Domain: "exa mple.com"},
		{Domain: "good.test", NewServer: "bad host"},
		{Domain: "good.test", NewServerIP: "not-an-ip"},
		{Domain: "good.test", DKIMSelectors: []string{"has space"}},
	} {
		if _, err := Run(context.Background(), r, opts); failure.KindOf(err) != failure.Config {
			t.Errorf("Run(%+v) = %v; want a config error", opts, err)
		}
	}

	// A port where nothing answers.
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := pc.LocalAddr().String()
	pc.Close()
	if _, err := Run(context.Background(), NewResolver(dead), Options{Domain: "good.test"}); failure.KindOf(err) != failure.Connection {
		t.Errorf("Run with no DNS server = %v; want a connection error", err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Run(ctx, r, Options{Domain: "good.test"}); !errors.Is(err, context.Canceled) {
		t.Errorf("Run(cancelled) = %v; want context.Canceled", err)
	}
}

func TestNormalizeDomain(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"Example.COM.", "example.com"},
		{" alice@example.com ", "example.com"},
		{"bücher.example", "xn--bcher-kva.example"},
		{"com", ""},
		{"a..b", ""},
	} {
		got, err := normalizeDomain(tc.in)
		if (err != nil) != (tc.want == "") || got != tc.want {
			t.Errorf("normalizeDomain(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}

func TestSPFTerms(t *testing.T) {
	for _, tc := range []struct {
		term, mech, target, cidr string
	}{
		{"all", "all", "", ""},
		{"MX", "mx", "", ""},
		{"a/24", "a", "", "/24"},
		{"a:mail.example.com/24//64", "a", "mail.example.com", "/24//64"},
		{"mx://64", "mx", "", "//64"},
		{"ip4:192.0.2.0/24", "ip4", "192.0.2.0/24", ""},
		{"ip6:2001:db8::/32", "ip6", "2001:db8::/32", ""},
		{"include:_spf.google.com", "include", "_spf.google.com", ""},
	} {
		mech, target, cidr := splitMechanism(tc.term)
		if mech != tc.mech || target != tc.target || cidr != tc.cidr {
			t.Errorf("splitMechanism(%q) = %q, %q, %q; want %q, %q, %q", tc.term, mech, target, cidr, tc.mech, tc.target, tc.cidr)
		}
	}
	for _, tc := range []struct {
		term, name, value string
		ok                bool
	}{
		{"redirect=_spf.example.com", "redirect", "_spf.example.com", true},
		{"EXP=explain.example.com", "exp", "explain.example.com", true},
		{"include:x=y", "", "", false},
		{"=x", "", "", false},
		{"-all", "", "", false},
	} {
		name, value, ok := spfModifier(tc.term)
		if name != tc.name || value != tc.value || ok != tc.ok {
			t.Errorf("spfModifier(%q) = %q, %q, %v; want %q, %q, %v", tc.term, name, value, ok, tc.name, tc.value, tc.ok)
		}
	}
	for _, tc := range []struct {
		cidr   string
		v4, v6 int
		ok     bool
	}{
		{"", 32, 128, true},
		{"/24", 24, 128, true},
		{"//64", 32, 64, true},
		{"/24//64", 24, 64, true},
		{"/33", 0, 0, false},
		{"24", 0, 0, false},
	} {
		v4, v6, ok := parseDualCIDR(tc.cidr)
		if v4 != tc.v4 || v6 != tc.v6 || ok != tc.ok {
			t.Errorf("parseDualCIDR(%q) = %d, %d, %v; want %d, %d, %v", tc.cidr, v4, v6, ok, tc.v4, tc.v6, tc.ok)
		}
	}
}

func TestTXTEscapes(t *testing.T) {
	for _, s := range []string{`plain`, `quote " and \ backslash`, "tab\tand é"} {
		if got := unescapeTXT(escapeTXT(s)); got != s {
			t.Errorf("unescapeTXT(escapeTXT(%q)) = %q; want %q", s, got, s)
		}
	}
	if got := unescapeTXT(`a\059b`); got != "a;b" {
		t.Errorf("unescapeTXT(%q) = %q; want %q", `a\059b`, got, "a;b")
	}
}

func TestHumanTTL(t *testing.T) {
	for _, tc := range []struct {
		ttl  uint32
		want string
	}{{300, "5 minutes"}, {3600, "1 hour"}, {86400, "1 day"}, {90, "90 seconds"}, {7200, "2 hours"}} {
		if got := humanTTL(tc.ttl); got != tc.want {
			t.Errorf("humanTTL(%d) = %q; want %q", tc.ttl, got, tc.want)
		}
	}
}

func TestNewResolverPort(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"127.0.0.1", "127.0.0.1:53"},
		{"127.0.0.1:5353", "127.0.0.1:5353"},
		{"::1", "[::1]:53"},
		{"[::1]:5353", "[::1]:5353"},
	} {
		c, ok := NewResolver(tc.in).(*client)
		if !ok || len(c.servers) != 1 || c.servers[0] != tc.want {
			t.Errorf("NewResolver(%q) = %+v; want server %q", tc.in, c, tc.want)
		}
	}
}
