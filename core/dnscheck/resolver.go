package dnscheck

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/miekg/dns"
)

// Resolver sends DNS queries. Run takes one so that tests and front ends can
// choose the server; NewResolver makes one over github.com/miekg/dns.
type Resolver interface {
	// Lookup asks for the records of type qtype (dns.TypeMX, dns.TypeTXT, ...)
	// at name and returns the whole reply, TTLs included. The reply's Rcode
	// tells a name that does not exist (NXDOMAIN, RFC 1035 section 4.1.1) from
	// one without records of that type. An error means no usable reply came.
	Lookup(ctx context.Context, name string, qtype uint16) (*dns.Msg, error)
}

const (
	// queryTimeout bounds one query to one server.
	queryTimeout = 3 * time.Second
	// queryAttempts is how many times each server is tried.
	queryAttempts = 2
	// ednsSize is the UDP reply size offered (EDNS0, RFC 6891), the value
	// recommended by DNS Flag Day 2020.
	ednsSize = 1232
)

// NewResolver returns a Resolver that asks server ("HOST:PORT"; port 53 when
// left out), retrying over TCP when a reply is truncated (RFC 7766). With
// server "" it asks the name servers of /etc/resolv.conf, or, where there is
// no such file (Windows), the system resolver through package net, which does
// not report TTLs (they read as 0).
func NewResolver(server string) Resolver {
	var servers []string
	if server != "" {
		if _, _, err := net.SplitHostPort(server); err != nil {
			server = net.JoinHostPort(strings.Trim(server, "[]"), "53")
		}
		servers = []string{server}
	} else if conf, err := dns.ClientConfigFromFile("/etc/resolv.conf"); err == nil {
		for _, s := range conf.Servers {
			servers = append(servers, net.JoinHostPort(s, conf.Port))
		}
	}
	if len(servers) == 0 {
		return netResolver{r: net.DefaultResolver}
	}
	return &client{servers: servers}
}

// client is a stub resolver over github.com/miekg/dns.
type client struct {
	servers []string
}

func (c *client) Lookup(ctx context.Context, name string, qtype uint16) (*dns.Msg, error) {
	var last *dns.Msg
	var lastErr error
	for range queryAttempts {
		for _, s := range c.servers {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			in, err := exchange(ctx, name, qtype, s)
			if err != nil {
				lastErr = err
				continue
			}
			// Like the C library's resolver, try the next server when one fails.
			if in.Rcode == dns.RcodeServerFailure || in.Rcode == dns.RcodeRefused {
				last = in
				continue
			}
			return in, nil
		}
		if last != nil {
			return last, nil
		}
	}
	return nil, fmt.Errorf("no answer from the DNS server about %s: %w", strings.TrimSuffix(name, "."), lastErr)
}

func exchange(ctx context.Context, name string, qtype uint16, server string) (*dns.Msg, error) {
	q := new(dns.Msg)
	q.SetQuestion(dns.Fqdn(name), qtype)
	q.SetEdns0(ednsSize, false)
	udp := &dns.Client{Net: "udp", Timeout: queryTimeout, UDPSize: ednsSize}
	in, _, err := udp.ExchangeContext(ctx, q, server)
	if err == nil && in.Truncated {
		tcp := &dns.Client{Net: "tcp", Timeout: queryTimeout}
		in, _, err = tcp.ExchangeContext(ctx, q, server)
	}
	if err != nil {
		return nil, err
	}
	return in, nil
}

// netResolver answers through package net, for systems without
// /etc/resolv.conf. It knows A, AAAA, MX, TXT, SRV and CNAME, and no TTLs.
type netResolver struct {
	r *net.Resolver
}

func (n netResolver) Lookup(ctx context.Context, name string, qtype uint16) (*dns.Msg, error) {
	fqdn := dns.Fqdn(name)
	host := strings.TrimSuffix(fqdn, ".")
	m := new(dns.Msg)
	m.SetQuestion(fqdn, qtype)
	m.Response = true
	hdr := dns.RR_Header{Name: fqdn, Rrtype: qtype, Class: dns.ClassINET}
	var err error
	switch qtype {
	case dns.TypeA, dns.TypeAAAA:
		network := "ip4"
		if qtype == dns.TypeAAAA {
			network = "ip6"
		}
		var ips []net.IP
		ips, err = n.r.LookupIP(ctx, network, host)
		for _, ip := range ips {
			if qtype == dns.TypeA {
				m.Answer = append(m.Answer, &dns.A{Hdr: hdr, A: ip.To4()})
			} else {
				m.Answer = append(m.Answer, &dns.AAAA{Hdr: hdr, AAAA: ip})
			}
		}
	case dns.TypeMX:
		var mxs []*net.MX
		mxs, err = n.r.LookupMX(ctx, host)
		for _, mx := range mxs {
			m.Answer = append(m.Answer, &dns.MX{Hdr: hdr, Preference: mx.Pref, Mx: dns.Fqdn(mx.Host)})
		}
	case dns.TypeTXT:
		var txts []string
		txts, err = n.r.LookupTXT(ctx, host)
		for _, t := range txts {
			m.Answer = append(m.Answer, &dns.TXT{Hdr: hdr, Txt: []string{escapeTXT(t)}})
		}
	case dns.TypeSRV:
		var srvs []*net.SRV
		_, srvs, err = n.r.LookupSRV(ctx, "", "", host)
		for _, s := range srvs {
			m.Answer = append(m.Answer, &dns.SRV{Hdr: hdr, Priority: s.Priority, Weight: s.Weight, Port: s.Port, Target: dns.Fqdn(s.Target)})
		}
	case dns.TypeCNAME:
		var target string
		target, err = n.r.LookupCNAME(ctx, host)
		if err == nil && !strings.EqualFold(dns.Fqdn(target), fqdn) {
			m.Answer = append(m.Answer, &dns.CNAME{Hdr: hdr, Target: dns.Fqdn(target)})
		}
	default:
		return nil, fmt.Errorf("the system resolver cannot look up %s records", dns.TypeToString[qtype])
	}
	if err != nil {
		var de *net.DNSError
		if errors.As(err, &de) && de.IsNotFound {
			// Package net does not tell NXDOMAIN from an empty answer.
			m.Answer = nil
			m.Rcode = dns.RcodeNameError
			return m, nil
		}
		return nil, err
	}
	return m, nil
}

// rcodeError is a reply that says the server failed (SERVFAIL, REFUSED...).
type rcodeError struct {
	name  string
	rcode int
}

func (e *rcodeError) Error() string {
	return fmt.Sprintf("the DNS server answered %s for %s", dns.RcodeToString[e.rcode], strings.TrimSuffix(e.name, "."))
}

// answer is the part of a reply the checks use.
type answer struct {
	// rrs are the records of the asked type at the end of any CNAME chain.
	rrs []dns.RR
	// cnames is the CNAME chain followed, in order.
	cnames []string
	// nx is set when the name does not exist.
	nx bool
	// ttl is the smallest TTL of rrs.
	ttl uint32
}

// lookup sends one query and sorts out the reply. A reply with an error
// code other than NXDOMAIN is an *rcodeError.
func lookup(ctx context.Context, r Resolver, name string, qtype uint16) (answer, error) {
	var a answer
	m, err := r.Lookup(ctx, name, qtype)
	if err != nil {
		return a, err
	}
	switch m.Rcode {
	case dns.RcodeSuccess:
	case dns.RcodeNameError:
		a.nx = true
	default:
		return a, &rcodeError{name: name, rcode: m.Rcode}
	}
	owner := strings.ToLower(dns.Fqdn(name))
	for range 8 {
		next := ""
		for _, rr := range m.Answer {
			if c, ok := rr.(*dns.CNAME); ok && strings.EqualFold(c.Hdr.Name, owner) && qtype != dns.TypeCNAME {
				next = strings.ToLower(c.Target)
				break
			}
		}
		if next == "" {
			break
		}
		a.cnames = append(a.cnames, strings.TrimSuffix(next, "."))
		owner = next
	}
	for _, rr := range m.Answer {
		h := rr.Header()
		if h.Rrtype != qtype || !strings.EqualFold(h.Name, owner) {
			continue
		}
		if len(a.rrs) == 0 || h.Ttl < a.ttl {
			a.ttl = h.Ttl
		}
		a.rrs = append(a.rrs, rr)
	}
	if len(a.rrs) > 0 {
		a.nx = false
	}
	return a, nil
}

// txtRecords looks up the TXT records at name, each record's strings joined
// (RFC 7208 section 3.3) and unescaped.
func txtRecords(ctx context.Context, r Resolver, name string) ([]string, answer, error) {
	a, err := lookup(ctx, r, name, dns.TypeTXT)
	if err != nil {
		return nil, a, err
	}
	var out []string
	for _, rr := range a.rrs {
		var b strings.Builder
		for _, s := range rr.(*dns.TXT).Txt {
			b.WriteString(unescapeTXT(s))
		}
		out = append(out, b.String())
	}
	return out, a, nil
}

// unescapeTXT undoes the presentation-format escapes (\" \\ \DDD) that
// github.com/miekg/dns puts in TXT strings.
func unescapeTXT(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' || i+1 == len(s) {
			b.WriteByte(c)
			continue
		}
		if i+3 < len(s) && isDigit(s[i+1]) && isDigit(s[i+2]) && isDigit(s[i+3]) {
			n := int(s[i+1]-'0')*100 + int(s[i+2]-'0')*10 + int(s[i+3]-'0')
			if n < 256 {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i+1])
		i++
	}
	return b.String()
}

// escapeTXT is the inverse of unescapeTXT, for TXT strings from package net.
func escapeTXT(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"' || c == '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c < ' ' || c > '~':
			fmt.Fprintf(&b, "\\%03d", c)
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// isNoReply reports whether err means the DNS server could not be asked at
// all, as opposed to a reply saying it failed.
func isNoReply(err error) bool {
	var re *rcodeError
	return err != nil && !errors.As(err, &re)
}
