// Package dnstest runs a small authoritative DNS server on 127.0.0.1 for
// tests, in the manner of net/http/httptest: records are given in zone-file
// syntax (RFC 1035 section 5) and answered over UDP and TCP.
package dnstest

import (
	"context"
	"net"
	"strings"
	"testing"

	"github.com/miekg/dns"
)

// Zone is what the test server answers.
type Zone struct {
	// Records are resource records in zone-file syntax, one per string, for
	// example "example.com. 3600 IN MX 10 mx.example.com.".
	Records []string
	// ServFail lists names answered with SERVFAIL (RFC 1035 section 4.1.1),
	// whatever the query type.
	ServFail []string
}

// Serve starts a DNS server for z on 127.0.0.1 and returns its address
// ("127.0.0.1:PORT"). The server stops when the test ends. Names are matched
// without regard to case; a CNAME is followed inside the zone, as a
// recursive resolver would; a name with no records of its own and none below
// it gets NXDOMAIN.
func Serve(t testing.TB, z Zone) string {
	t.Helper()
	h := &handler{records: map[string][]dns.RR{}, names: map[string]bool{}, servfail: map[string]bool{}}
	for _, s := range z.Records {
		rr, err := dns.NewRR(s)
		if err != nil || rr == nil {
			t.Fatalf("dnstest: bad record %q: %v", s, err)
		}
		name := strings.ToLower(rr.Header().Name)
		h.records[name] = append(h.records[name], rr)
		// Every name above a record exists (RFC 8020: no NXDOMAIN for empty non-terminals).
		for n := name; n != "." && n != ""; n = n[strings.IndexByte(n, '.')+1:] {
			h.names[n] = true
		}
	}
	for _, n := range z.ServFail {
		h.servfail[strings.ToLower(dns.Fqdn(n))] = true
	}

	var udp net.PacketConn
	var tcp net.Listener
	for attempt := 0; ; attempt++ {
		pc, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatalf("dnstest: listen: %v", err)
		}
		l, err := net.Listen("tcp", pc.LocalAddr().String())
		if err == nil {
			udp, tcp = pc, l
			break
		}
		pc.Close()
		if attempt == 20 {
			t.Fatalf("dnstest: listen on TCP: %v", err)
		}
	}
	for _, srv := range []*dns.Server{{PacketConn: udp, Handler: h}, {Listener: tcp, Handler: h}} {
		started := make(chan struct{})
		srv.NotifyStartedFunc = func() { close(started) }
		done := make(chan error, 1)
		go func() { done <- srv.ActivateAndServe() }()
		select {
		case <-started:
		case err := <-done:
			t.Fatalf("dnstest: serve: %v", err)
		}
		t.Cleanup(func() {
			srv.ShutdownContext(context.Background())
			<-done
		})
	}
	return udp.LocalAddr().String()
}

type handler struct {
	records  map[string][]dns.RR
	names    map[string]bool
	servfail map[string]bool
}

func (h *handler) ServeDNS(w dns.ResponseWriter, req *dns.Msg) {
	m := new(dns.Msg)
	m.SetReply(req)
	m.Authoritative = true
	m.RecursionAvailable = true
	if len(req.Question) != 1 {
		m.Rcode = dns.RcodeFormatError
		w.WriteMsg(m)
		return
	}
	q := req.Question[0]
	name := strings.ToLower(q.Name)
	for hops := 0; hops < 8; hops++ {
		if h.servfail[name] {
			m.Answer = nil
			m.Rcode = dns.RcodeServerFailure
			break
		}
		var cname *dns.CNAME
		found := false
		for _, rr := range h.records[name] {
			if rr.Header().Rrtype == q.Qtype || q.Qtype == dns.TypeANY {
				m.Answer = append(m.Answer, dns.Copy(rr))
				found = true
			}
			if c, ok := rr.(*dns.CNAME); ok {
				cname = c
			}
		}
		if !h.names[name] {
			// RFC 6604: the code is that of the last name in a CNAME chain.
			m.Rcode = dns.RcodeNameError
			break
		}
		if found || cname == nil {
			break
		}
		m.Answer = append(m.Answer, dns.Copy(cname))
		name = strings.ToLower(cname.Target)
	}
	if size := udpSize(w, req); size > 0 {
		m.Truncate(size)
	}
	w.WriteMsg(m)
}

// udpSize is the largest reply the client accepts over UDP, or 0 over TCP.
func udpSize(w dns.ResponseWriter, req *dns.Msg) int {
	if _, ok := w.RemoteAddr().(*net.TCPAddr); ok {
		return 0
	}
	if o := req.IsEdns0(); o != nil {
		return int(o.UDPSize())
	}
	return dns.MinMsgSize
}
