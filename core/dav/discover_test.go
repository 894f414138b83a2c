package dav_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"mailmover/core/dav"
	"mailmover/core/failure"
)

// fakeDAV answers just enough of WebDAV for discovery: a principal and a
// home set, behind HTTP Basic authentication.
type fakeDAV struct {
	user, password string
	// principal is the href answered for current-user-principal.
	principal string
	// home is the href answered for the home sets.
	home string
	// redirects maps a path to a Location.
	redirects map[string]string

	mu sync.Mutex
	// log records "METHOD PATH auth|noauth" per request.
	log []string
}

func (f *fakeDAV) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	user, pw, ok := r.BasicAuth()
	f.mu.Lock()
	auth := "noauth"
	if ok {
		auth = "auth"
	}
	f.log = append(f.log, r.Method+" "+r.URL.Path+" "+auth)
	f.mu.Unlock()
	if loc, ok := f.redirects[r.URL.Path]; ok {
		http.Redirect(w, r, loc, http.StatusMovedPermanently)
		return
	}
	if !ok || user != f.user || pw != f.password {
		w.Header().Set("WWW-Authenticate", `Basic realm="test"`)
		http.Error(w, "log in", http.StatusUnauthorized)
		return
	}
	if r.Method != "PROPFIND" || !strings.HasPrefix(r.URL.Path, "/dav/") {
		http.NotFound(w, r)
		return
	}
	body, _ := io.ReadAll(r.Body)
	var prop string
	switch {
	case strings.Contains(string(body), "current-user-principal"):
		prop = `<D:current-user-principal><D:href>` + f.principal + `</D:href></D:current-user-principal>`
	case strings.Contains(string(body), "addressbook-home-set"):
		prop = `<CR:addressbook-home-set><D:href>` + f.home + `</D:href></CR:addressbook-home-set>`
	case strings.Contains(string(body), "calendar-home-set"):
		prop = `<C:calendar-home-set><D:href>` + f.home + `</D:href></C:calendar-home-set>`
	}
	w.Header().Set("Content-Type", "application/xml; charset=utf-8")
	w.WriteHeader(http.StatusMultiStatus)
	fmt.Fprintf(w, `<?xml version="1.0"?><D:multistatus xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav" xmlns:CR="urn:ietf:params:xml:ns:carddav"><D:response><D:href>%s</D:href><D:propstat><D:prop>%s</D:prop><D:status>HTTP/1.1 200 OK</D:status></D:propstat></D:response></D:multistatus>`, r.URL.Path, prop)
}

func (f *fakeDAV) requests() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.log...)
}

// fakeResolver answers SRV and TXT lookups from tables.
type fakeResolver struct {
	srv map[string][]*net.SRV
	txt map[string][]string
}

func (r *fakeResolver) LookupSRV(ctx context.Context, service, proto, name string) (string, []*net.SRV, error) {
	key := "_" + service + "._" + proto + "." + name
	if s, ok := r.srv[key]; ok {
		return key, s, nil
	}
	return "", nil, &net.DNSError{Err: "no such host", Name: key, IsNotFound: true}
}

func (r *fakeResolver) LookupTXT(ctx context.Context, name string) ([]string, error) {
	if t, ok := r.txt[name]; ok {
		return t, nil
	}
	return nil, &net.DNSError{Err: "no such host", Name: name, IsNotFound: true}
}

// transportTo returns a transport trusting httptest's certificate that
// connects every host name in routes to the given 127.0.0.1 address.
func transportTo(ts *httptest.Server, routes map[string]string) http.RoundTripper {
	tr := ts.Client().Transport.(*http.Transport).Clone()
	tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		if to, ok := routes[addr]; ok {
			addr = to
		}
		var d net.Dialer
		return d.DialContext(ctx, network, addr)
	}
	return tr
}

func TestConnectSRV(t *testing.T) {
	f := &fakeDAV{user: "alice@example.test", password: "pw", principal: "/dav/principals/alice/", home: "/dav/addressbooks/alice/"}
	ts := httptest.NewTLSServer(f)
	defer ts.Close()
	_, port, _ := net.SplitHostPort(ts.Listener.Addr().String())
	var p uint16
	fmt.Sscan(port, &p)
	res := &fakeResolver{
		srv: map[string][]*net.SRV{"_carddavs._tcp.example.test": {{Target: "127.0.0.1.", Port: p, Priority: 10}}},
		txt: map[string][]string{"_carddavs._tcp.example.test": {"path=/dav/"}},
	}
	a, err := dav.Connect(t.Context(), dav.Config{Email: "alice@example.test", Username: "alice@example.test", Password: "pw",
		Resolver: res, Transport: ts.Client().Transport}, dav.Contacts)
	if err != nil {
		t.Fatalf("Connect = %v", err)
	}
	base := "https://127.0.0.1:" + port
	if a.Source != dav.SourceSRV || a.Context != base+"/dav/" || a.Principal != base+"/dav/principals/alice/" || a.HomeSet != base+"/dav/addressbooks/alice/" {
		t.Errorf("Connect = %+v; want SRV context %s/dav/ with principal and home set", a, base)
	}
	if a.Name != "alice@example.test@127.0.0.1:"+port {
		t.Errorf("Name = %q", a.Name)
	}
}

func TestConnectWellKnownHandover(t *testing.T) {
	// The user's host redirects .well-known/caldav to the provider's
	// host (RFC 6764 section 5), which asks for a login there.
	provider := &fakeDAV{user: "alice", password: "pw", principal: "/dav/p/alice/", home: "/dav/cal/alice/"}
	ps := httptest.NewTLSServer(provider)
	defer ps.Close()
	_, pport, _ := net.SplitHostPort(ps.Listener.Addr().String())
	own := &fakeDAV{redirects: map[string]string{"/.well-known/caldav": "https://example.com:" + pport + "/dav/"}}
	os := httptest.NewTLSServer(own)
	defer os.Close()
	tr := transportTo(os, map[string]string{"example.com:" + pport: ps.Listener.Addr().String()})

	a, err := dav.Connect(t.Context(), dav.Config{URL: os.URL, Username: "alice", Password: "pw", Transport: tr}, dav.Calendars)
	if err != nil {
		t.Fatalf("Connect = %v", err)
	}
	if a.Source != dav.SourceWellKnown || a.HomeSet != "https://example.com:"+pport+"/dav/cal/alice/" {
		t.Errorf("Connect = %+v; want the provider's home set via .well-known", a)
	}
	got := provider.requests()
	if len(got) < 2 || got[0] != "PROPFIND /dav/ noauth" || got[1] != "PROPFIND /dav/ auth" {
		t.Errorf("provider saw %q; want a first request without the password, then one with it", got)
	}
}

func TestConnectRefusesOtherSitePrincipal(t *testing.T) {
	f := &fakeDAV{user: "alice", password: "pw", principal: "https://elsewhere.example.net/p/alice/", home: "/x/"}
	ts := httptest.NewTLSServer(f)
	defer ts.Close()
	_, err := dav.Connect(t.Context(), dav.Config{URL: ts.URL + "/dav/", Username: "alice", Password: "pw", Transport: ts.Client().Transport}, dav.Contacts)
	if failure.KindOf(err) != failure.Config || !strings.Contains(fmt.Sprint(err), "elsewhere.example.net") {
		t.Errorf("Connect = %v; want a Config error naming the other host", err)
	}
}

func TestConnectFailures(t *testing.T) {
	dav404 := httptest.NewUnstartedServer(http.NotFoundHandler())
	dav404.Config.ErrorLog = log.New(io.Discard, "", 0) // the handshake the client refuses
	dav404.StartTLS()
	defer dav404.Close()
	web := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "<html>hello</html>") }))
	defer web.Close()
	plain := httptest.NewServer(http.NotFoundHandler())
	defer plain.Close()
	busy := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "0")
		http.Error(w, "later", http.StatusServiceUnavailable)
	}))
	defer busy.Close()
	tests := []struct {
		name string
		cfg  dav.Config
		kind failure.Kind
		text string
	}{
		{"untrusted certificate", dav.Config{URL: dav404.URL + "/dav/"}, failure.TLS, "fingerprint"},
		{"not TLS", dav.Config{URL: "https://" + plain.Listener.Addr().String() + "/dav/"}, failure.TLS, "did not answer with TLS"},
		{"not WebDAV", dav.Config{URL: web.URL + "/dav/", Transport: web.Client().Transport}, failure.Config, "not a WebDAV server"},
		{"nothing anywhere", dav.Config{URL: dav404.URL, Transport: dav404.Client().Transport}, failure.Config, "no CardDAV service found"},
		{"busy", dav.Config{URL: busy.URL + "/dav/", Transport: busy.Client().Transport, RetryWait: 1}, failure.Throttled, "503"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.cfg.Username, tc.cfg.Password = "alice", "s3cret-pw"
			_, err := dav.Connect(t.Context(), tc.cfg, dav.Contacts)
			if failure.KindOf(err) != tc.kind || !strings.Contains(fmt.Sprint(err), tc.text) {
				t.Errorf("Connect(%s) = %v (%v); want %v mentioning %q", tc.cfg.URL, err, failure.KindOf(err), tc.kind, tc.text)
			}
			if strings.Contains(fmt.Sprint(err), "s3cret") {
				t.Errorf("error %q holds the password", err)
			}
		})
	}
}

func TestRetriesThenSucceeds(t *testing.T) {
	f := &fakeDAV{user: "alice", password: "pw", principal: "/dav/p/", home: "/dav/h/"}
	var n atomic.Int32
	ts := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) == 2 {
			w.Header().Set("Retry-After", "0")
			http.Error(w, "slow down", http.StatusTooManyRequests)
			return
		}
		f.ServeHTTP(w, r)
	}))
	defer ts.Close()
	a, err := dav.Connect(t.Context(), dav.Config{URL: ts.URL + "/dav/", Username: "alice", Password: "pw", Transport: ts.Client().Transport, RetryWait: 1}, dav.Contacts)
	if err != nil || a.HomeSet != ts.URL+"/dav/h/" {
		t.Errorf("Connect = %v, %v; want success after one 429", a, err)
	}
}

func TestConnectCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err := dav.Connect(ctx, dav.Config{URL: "http://127.0.0.1:1/dav/", Username: "a", Password: "b"}, dav.Contacts)
	if failure.KindOf(err) != failure.Cancelled || !errors.Is(err, context.Canceled) {
		t.Errorf("Connect(cancelled) = %v; want Cancelled", err)
	}
}

func TestPresets(t *testing.T) {
	tests := []struct {
		domain, id string
		ok         bool
	}{
		{"icloud.com", "icloud", true},
		{"ME.COM", "icloud", true},
		{"caldav.icloud.com", "icloud", true},
		{"fastmail.com", "fastmail", true},
		{"gmx.de", "gmx", true},
		{"web.de", "webde", true},
		{"mailbox.org", "mailboxorg", true},
		{"example.org", "", false},
	}
	for _, tc := range tests {
		p, ok := dav.PresetForDomain(tc.domain)
		if ok != tc.ok || p.ID != tc.id {
			t.Errorf("PresetForDomain(%q) = %q, %v; want %q, %v", tc.domain, p.ID, ok, tc.id, tc.ok)
		}
	}
	for _, p := range dav.Presets() {
		for _, k := range []dav.Kind{dav.Contacts, dav.Calendars} {
			if u, err := url.Parse(p.URL(k)); err != nil || u.Scheme != "https" || u.Host == "" {
				t.Errorf("preset %s %s URL %q is not https", p.ID, k, p.URL(k))
			}
		}
	}
}
