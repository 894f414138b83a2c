package account

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/miekg/dns"

	"mailmover/core/failure"
)

// dnsServer is an in-process authoritative DNS server on 127.0.0.1 that
// answers from a fixed list of records.
type dnsServer struct {
	records []dns.RR

	mu      sync.Mutex
	queries []string // "TYPE name", in order
}

func (s *dnsServer) ServeDNS(w dns.ResponseWriter, r *dns.Msg) {
	m := new(dns.Msg)
	m.SetReply(r)
	m.Authoritative = true
	m.RecursionAvailable = true
	if len(r.Question) == 1 {
		q := r.Question[0]
		s.mu.Lock()
		s.queries = append(s.queries, dns.TypeToString[q.Qtype]+" "+q.Name)
		s.mu.Unlock()
		known := false
		for _, rr := range s.records {
			if !strings.EqualFold(rr.Header().Name, q.Name) {
				continue
			}
			known = true
			if rr.Header().Rrtype == q.Qtype {
				m.Answer = append(m.Answer, dns.Copy(rr))
			}
		}
		if !known {
			m.Rcode = dns.RcodeNameError
		}
	}
	_ = w.WriteMsg(m)
}

func (s *dnsServer) queried() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.queries)
}

// startDNS serves records on 127.0.0.1 (UDP, a random port) until the test
// ends and returns a resolver that asks only that server.
func startDNS(t *testing.T, records ...string) (*net.Resolver, *dnsServer) {
	t.Helper()
	h := &dnsServer{}
	for _, r := range records {
		rr, err := dns.NewRR(r)
		if err != nil {
			t.Fatalf("dns.NewRR(%q): %v", r, err)
		}
		h.records = append(h.records, rr)
	}
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	started := make(chan struct{})
	srv := &dns.Server{PacketConn: pc, Handler: h, NotifyStartedFunc: func() { close(started) }}
	go func() { _ = srv.ActivateAndServe() }()
	<-started
	t.Cleanup(func() { _ = srv.Shutdown() })
	addr := pc.LocalAddr().String()
	r := &net.Resolver{
		PreferGo: true,
		Dial: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "udp", addr)
		},
	}
	return r, h
}

// autoconfigServer is a local HTTPS server that serves autoconfig documents
// by path: /DOMAIN/mail/config-v1.1.xml and
// /DOMAIN/.well-known/autoconfig/mail/config-v1.1.xml.
type autoconfigServer struct {
	docs map[string]string // path → body; "" body means status 500

	mu       sync.Mutex
	requests []string // path?query
}

func (s *autoconfigServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.requests = append(s.requests, r.URL.RequestURI())
	s.mu.Unlock()
	body, ok := s.docs[r.URL.Path]
	switch {
	case !ok:
		http.NotFound(w, r)
	case body == "":
		http.Error(w, "broken", http.StatusInternalServerError)
	default:
		w.Header().Set("Content-Type", "application/xml")
		_, _ = w.Write([]byte(body))
	}
}

func (s *autoconfigServer) requested() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.requests)
}

// testDiscoverer wires a Discoverer to a local DNS server with records and a
// local HTTPS server with docs.
func testDiscoverer(t *testing.T, docs map[string]string, records ...string) (*Discoverer, *autoconfigServer, *dnsServer) {
	t.Helper()
	r, dnsSrv := startDNS(t, records...)
	ac := &autoconfigServer{docs: docs}
	srv := httptest.NewTLSServer(ac)
	t.Cleanup(srv.Close)
	d := &Discoverer{
		Resolver:   r,
		HTTPClient: srv.Client(),
		AutoconfigURLs: func(domain, email string) []string {
			return []string{
				srv.URL + "/" + domain + "/mail/config-v1.1.xml?emailaddress=" + url.QueryEscape(email),
				srv.URL + "/" + domain + "/.well-known/autoconfig/mail/config-v1.1.xml",
			}
		},
	}
	return d, ac, dnsSrv
}

func autoconfigDoc(host, port, socket, user string) string {
	return `<?xml version="1.0" encoding="UTF-8"?>
<clientConfig version="1.1"><emailProvider id="x"><domain>x</domain>
<incomingServer type="imap"><hostname>` + host + `</hostname><port>` + port + `</port><socketType>` + socket + `</socketType><authentication>password-cleartext</authentication><username>` + user + `</username></incomingServer>
</emailProvider></clientConfig>`
}

func TestDiscover(t *testing.T) {
	docs := map[string]string{
		"/auto.test/mail/config-v1.1.xml":                          autoconfigDoc("imap.%EMAILDOMAIN%", "993", "SSL", "%EMAILADDRESS%"),
		"/wk.test/mail/config-v1.1.xml":                            "",
		"/wk.test/.well-known/autoconfig/mail/config-v1.1.xml":     autoconfigDoc("mx.wk-hoster.test", "143", "STARTTLS", "%EMAILLOCALPART%"),
		"/both.test/mail/config-v1.1.xml":                          autoconfigDoc("imap.both.test", "993", "SSL", "%EMAILADDRESS%"),
		"/broken.test/mail/config-v1.1.xml":                        "<html>parked domain</html>",
		"/broken.test/.well-known/autoconfig/mail/config-v1.1.xml": "",
		"/gw-auto.test/mail/config-v1.1.xml":                       autoconfigDoc("imap.gmail.com", "993", "SSL", "%EMAILADDRESS%"),
	}
	d, ac, dnsSrv := testDiscoverer(t, docs,
		"_imaps._tcp.both.test. 60 IN SRV 0 1 993 srv.both.test.",
		"_imaps._tcp.srv.test. 60 IN SRV 10 1 993 imap-b.srv.test.",
		"_imaps._tcp.srv.test. 60 IN SRV 0 1 993 imap-a.srv.test.",
		"_imaps._tcp.srv143.test. 60 IN SRV 0 0 0 .",
		"_imap._tcp.srv143.test. 60 IN SRV 0 1 143 mail.srv143.test.",
		"_imaps._tcp.none.test. 60 IN SRV 0 0 0 .",
		"_imap._tcp.none.test. 60 IN SRV 0 0 0 .",
		"_imaps._tcp.srvgmail.test. 60 IN SRV 0 1 993 imap.gmail.com.",
		"gw.test. 60 IN MX 1 aspmx.l.google.com.",
		"gw.test. 60 IN MX 5 alt1.aspmx.l.google.com.",
		"ms.test. 60 IN MX 0 ms-test.mail.protection.outlook.com.",
		"other.test. 60 IN MX 10 mx.other-isp.test.",
		"nullmx.test. 60 IN MX 0 .",
		"mail.mailonly.test. 60 IN A 127.0.0.1",
		"imap.both-names.test. 60 IN A 127.0.0.1",
		"mail.both-names.test. 60 IN A 127.0.0.1",
	)

	tests := []struct {
		email    string
		source   string
		preset   string // ID, "" for none
		host     string
		port     int
		security Security
		username string
		auth     AuthMethod
		hint     string // part of the hint, "" for no hint
	}{
		{"alice@gmail.com", SourcePreset, "gmail", "imap.gmail.com", 993, SecurityTLS, "alice@gmail.com", AuthPassword, "app password"},
		{"Bob@Hotmail.com", SourcePreset, "microsoft", "outlook.office365.com", 993, SecurityTLS, "Bob@Hotmail.com", AuthOAuth2, "Microsoft account"},
		{"carol@icloud.com", SourcePreset, "icloud", "imap.mail.me.com", 993, SecurityTLS, "carol", AuthPassword, "app-specific"},
		{"dave@auto.test", SourceAutoconfig, "", "imap.auto.test", 993, SecurityTLS, "dave@auto.test", AuthPassword, ""},
		{"erin@wk.test", SourceWellKnown, "", "mx.wk-hoster.test", 143, SecurityStartTLS, "erin", AuthPassword, ""},
		{"frank@both.test", SourceAutoconfig, "", "imap.both.test", 993, SecurityTLS, "frank@both.test", AuthPassword, ""},
		{"grace@gw-auto.test", SourceAutoconfig, "gmail", "imap.gmail.com", 993, SecurityTLS, "grace@gw-auto.test", AuthPassword, "app password"},
		{"heidi@srv.test", SourceSRV, "", "imap-a.srv.test", 993, SecurityTLS, "heidi@srv.test", AuthPassword, "RFC 6186"},
		{"ivan@srv143.test", SourceSRV, "", "mail.srv143.test", 143, SecurityStartTLS, "ivan@srv143.test", AuthPassword, "RFC 6186"},
		{"judy@srvgmail.test", SourceSRV, "gmail", "imap.gmail.com", 993, SecurityTLS, "judy@srvgmail.test", AuthPassword, "app password"},
		{"ken@gw.test", SourceMX, "gmail", "imap.gmail.com", 993, SecurityTLS, "ken@gw.test", AuthPassword, "app password"},
		{"leo@ms.test", SourceMX, "microsoft", "outlook.office365.com", 993, SecurityTLS, "leo@ms.test", AuthOAuth2, "Microsoft account"},
		{"mia@other.test", SourceGuess, "", "imap.other.test", 993, SecurityTLS, "mia@other.test", AuthPassword, "received by mx.other-isp.test"},
		{"nick@nothing.test", SourceGuess, "", "imap.nothing.test", 993, SecurityTLS, "nick@nothing.test", AuthPassword, "This is a guess"},
		{"olga@none.test", SourceGuess, "", "imap.none.test", 993, SecurityTLS, "olga@none.test", AuthPassword, "This is a guess"},
		{"pat@nullmx.test", SourceGuess, "", "imap.nullmx.test", 993, SecurityTLS, "pat@nullmx.test", AuthPassword, "This is a guess"},
		{"quinn@broken.test", SourceGuess, "", "imap.broken.test", 993, SecurityTLS, "quinn@broken.test", AuthPassword, "This is a guess"},
		{"rob@mailonly.test", SourceGuess, "hosting", "mail.mailonly.test", 993, SecurityTLS, "rob@mailonly.test", AuthPassword, "hosting panel"},
		{"sue@both-names.test", SourceGuess, "", "imap.both-names.test", 993, SecurityTLS, "sue@both-names.test", AuthPassword, "This is a guess"},
	}
	for _, tt := range tests {
		got, err := d.Discover(t.Context(), tt.email)
		if err != nil {
			t.Errorf("Discover(%q) = %v; want nil error", tt.email, err)
			continue
		}
		a := got.Account
		want := Account{Name: tt.email, Email: tt.email, Host: tt.host, Port: tt.port, Security: tt.security, Username: tt.username, Auth: tt.auth, Provider: tt.preset}
		if got.Source != tt.source || a != want {
			t.Errorf("Discover(%q) = %s %+v; want %s %+v", tt.email, got.Source, a, tt.source, want)
		}
		gotPreset := ""
		if got.Preset != nil {
			gotPreset = got.Preset.ID
		}
		if gotPreset != tt.preset {
			t.Errorf("Discover(%q).Preset = %q; want %q", tt.email, gotPreset, tt.preset)
		}
		if tt.hint == "" && got.Hint != "" || !strings.Contains(got.Hint, tt.hint) {
			t.Errorf("Discover(%q).Hint = %q; want it to mention %q", tt.email, got.Hint, tt.hint)
		}
		if err := a.Validate(); err != nil {
			t.Errorf("Discover(%q).Account.Validate() = %v", tt.email, err)
		}
	}

	// The autoconfig request carries the address, as Thunderbird's does.
	if reqs := ac.requested(); !slices.Contains(reqs, "/auto.test/mail/config-v1.1.xml?emailaddress=dave%40auto.test") {
		t.Errorf("autoconfig requests = %q; want one for dave%%40auto.test", reqs)
	}
	// Known provider domains are answered without a single lookup.
	for _, q := range dnsSrv.queried() {
		if strings.Contains(q, "gmail.com.") && !strings.Contains(q, "srvgmail") || strings.Contains(q, "hotmail") || strings.Contains(q, "icloud") {
			t.Errorf("DNS query %q for a preset domain", q)
		}
	}
	for _, r := range ac.requested() {
		if strings.Contains(r, "gmail.com/") || strings.Contains(r, "hotmail") || strings.Contains(r, "icloud") {
			t.Errorf("HTTP request %q for a preset domain", r)
		}
	}
}

// TestDiscoverOrder checks that each step is tried only when the ones before
// it found nothing, in Thunderbird's order.
func TestDiscoverOrder(t *testing.T) {
	d, ac, dnsSrv := testDiscoverer(t, nil)
	got, err := d.Discover(t.Context(), "tom@order.test")
	if err != nil || got.Source != SourceGuess {
		t.Fatalf("Discover(%q) = %+v, %v; want a guess", "tom@order.test", got, err)
	}
	wantHTTP := []string{
		"/order.test/mail/config-v1.1.xml?emailaddress=tom%40order.test",
		"/order.test/.well-known/autoconfig/mail/config-v1.1.xml",
	}
	if reqs := ac.requested(); !slices.Equal(reqs, wantHTTP) {
		t.Errorf("autoconfig requests = %q; want %q", reqs, wantHTTP)
	}
	// The guess's host lookups ask for A and AAAA in any order; compare the
	// first queries exactly and the rest as a set.
	qs := dnsSrv.queried()
	wantFirst := []string{"SRV _imaps._tcp.order.test.", "SRV _imap._tcp.order.test.", "MX order.test."}
	if len(qs) < len(wantFirst) || !slices.Equal(qs[:len(wantFirst)], wantFirst) {
		t.Fatalf("DNS queries = %q; want them to start with %q", qs, wantFirst)
	}
	for _, q := range qs[len(wantFirst):] {
		if !strings.HasSuffix(q, " imap.order.test.") && !strings.HasSuffix(q, " mail.order.test.") {
			t.Errorf("unexpected DNS query %q", q)
		}
	}
}

func TestDiscoverBadAddress(t *testing.T) {
	d := &Discoverer{Resolver: failingResolver{t}, HTTPClient: &http.Client{Transport: failingTransport{t}}}
	for _, email := range []string{"", "alice", "@example.com", "alice@", "alice@exa mple.com", "alice@.example.com", "alice@example..com", "alice@http://x"} {
		_, err := d.Discover(t.Context(), email)
		if err == nil || failure.KindOf(err) != failure.Config {
			t.Errorf("Discover(%q) = %v; want a config error", email, err)
		}
	}
}

func TestDiscoverCancelled(t *testing.T) {
	d, _, _ := testDiscoverer(t, nil)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err := d.Discover(ctx, "uma@cancelled.test")
	if failure.KindOf(err) != failure.Cancelled || !errors.Is(err, context.Canceled) {
		t.Errorf("Discover(cancelled ctx) = %v; want a cancelled error", err)
	}
}

func TestDefaultAutoconfigURLs(t *testing.T) {
	got := DefaultAutoconfigURLs("example.com", "alice+tag@example.com")
	want := []string{
		"https://autoconfig.example.com/mail/config-v1.1.xml?emailaddress=alice%2Btag%40example.com",
		"https://example.com/.well-known/autoconfig/mail/config-v1.1.xml",
	}
	if !slices.Equal(got, want) {
		t.Errorf("DefaultAutoconfigURLs(%q, %q) = %q; want %q", "example.com", "alice+tag@example.com", got, want)
	}
}

func TestDefaultHTTPClientRefusesPlainRedirect(t *testing.T) {
	c := defaultHTTPClient()
	tests := []struct {
		to      string
		wantErr bool
	}{
		{"https://example.com/mail/config-v1.1.xml", false},
		{"http://example.com/mail/config-v1.1.xml", true},
	}
	for _, tt := range tests {
		req, err := http.NewRequest(http.MethodGet, tt.to, nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := c.CheckRedirect(req, nil); (err != nil) != tt.wantErr {
			t.Errorf("CheckRedirect(%q) = %v; want error %v", tt.to, err, tt.wantErr)
		}
	}
}

// failingResolver and failingTransport fail the test when used.
type failingResolver struct{ t *testing.T }

func (r failingResolver) LookupSRV(ctx context.Context, service, proto, name string) (string, []*net.SRV, error) {
	r.t.Errorf("unexpected SRV lookup of %s", name)
	return "", nil, errors.New("no lookups here")
}

func (r failingResolver) LookupMX(ctx context.Context, name string) ([]*net.MX, error) {
	r.t.Errorf("unexpected MX lookup of %s", name)
	return nil, errors.New("no lookups here")
}

type failingTransport struct{ t *testing.T }

func (f failingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	f.t.Errorf("unexpected request to %s", req.URL)
	return nil, errors.New("no requests here")
}

func TestDiscoverPresetMakesNoRequest(t *testing.T) {
	d := &Discoverer{Resolver: failingResolver{t}, HTTPClient: &http.Client{Transport: failingTransport{t}}}
	for _, email := range []string{"a@gmail.com", "b@outlook.com", "c@yahoo.com", "d@gmx.de", "e@web.de", "f@fastmail.com", "g@zoho.com", "h@me.com"} {
		got, err := d.Discover(t.Context(), email)
		if err != nil || got.Source != SourcePreset || got.Preset == nil {
			t.Errorf("Discover(%q) = %+v, %v; want a preset", email, got, err)
		}
	}
}
