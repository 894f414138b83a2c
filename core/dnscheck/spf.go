package dnscheck

import (
	"context"
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"

	"github.com/miekg/dns"
)

const (
	// maxSPFLookups is how many DNS-querying terms (include, a, mx, ptr,
	// exists, redirect) one SPF evaluation may use (RFC 7208 section 4.6.4).
	maxSPFLookups = 10
	// maxSPFVoids is how many of those lookups may find nothing (RFC 7208
	// section 4.6.4).
	maxSPFVoids = 2
	// maxSPFMXHosts is how many MX hosts an mx mechanism may look at (RFC
	// 7208 section 4.6.4).
	maxSPFMXHosts = 10
	// spfWalkCap stops the walk of a runaway record: the count is then a
	// lower bound, and already far over the limit.
	spfWalkCap = 40
	// spfMaxDepth bounds nested include: and redirect=; the lookup limit
	// is reached long before in any record that works.
	spfMaxDepth = 30
)

// Results of evaluating a record for one address: a qualifier ('+', '-',
// '~', '?') when a mechanism matched, or one of these.
const (
	spfNoMatch byte = 0
	spfUnsure  byte = '!'
)

// spfRecords picks the SPF records among a name's TXT records: those whose
// version is exactly "v=spf1" (RFC 7208 section 4.5).
func spfRecords(txts []string) []string {
	var out []string
	for _, t := range txts {
		if len(t) >= 6 && strings.EqualFold(t[:6], "v=spf1") && (len(t) == 6 || t[6] == ' ') {
			out = append(out, t)
		}
	}
	return out
}

// spfProblem is a finding of the SPF walk, with its fix.
type spfProblem struct{ summary, fix string }

// spfWalker follows an SPF record through its include: and redirect= terms,
// counting DNS lookups as RFC 7208 section 4.6.4 does, and evaluates it for
// one address when ip is set.
type spfWalker struct {
	ctx context.Context
	r   Resolver
	// ip is the address evaluated, or nil.
	ip net.IP
	// lookups counts the DNS-querying terms of the whole tree.
	lookups int
	capped  bool
	// voids counts lookups that found nothing.
	voids int
	// targets are the include: and redirect= targets met, lower-case.
	targets []string
	// errs are permanent errors: receivers treat the record as broken.
	errs []spfProblem
	// notes are lesser problems.
	notes []spfProblem
	// unknown are lookups that got no answer.
	unknown []string
}

func (w *spfWalker) count() bool {
	w.lookups++
	if w.lookups > spfWalkCap {
		w.capped = true
		return false
	}
	return true
}

func (w *spfWalker) permerror(summary, fix string) {
	w.errs = append(w.errs, spfProblem{summary, fix})
}

// eval walks the SPF record of domain. res is the qualifier of the first
// mechanism matching w.ip, spfNoMatch, or spfUnsure when that cannot be
// told (macros, failed lookups); all is the qualifier of the record's all
// mechanism, after redirect=, or 0 when there is none.
func (w *spfWalker) eval(domain, record string, chain []string) (res, all byte) {
	chain = append(chain[:len(chain):len(chain)], strings.ToLower(domain))
	decide := func(q byte, matched, sure bool) {
		if w.ip == nil || res != spfNoMatch {
			return
		}
		if !sure {
			res = spfUnsure
		} else if matched {
			res = q
		}
	}
	var redirect string
	hasAll := false
	for _, term := range strings.Fields(record)[1:] {
		if name, value, ok := spfModifier(term); ok {
			if name == "redirect" {
				if redirect != "" {
					w.permerror(fmt.Sprintf("The SPF record of %s has two redirect= modifiers, which is an error (RFC 7208 section 6).", domain), "Keep only one redirect=.")
				}
				redirect = value
			}
			continue // exp= and unknown modifiers do not count (RFC 7208 section 6)
		}
		q := byte('+')
		if strings.IndexByte("+-~?", term[0]) >= 0 {
			q, term = term[0], term[1:]
		}
		mech, target, cidr := splitMechanism(term)
		switch mech {
		case "all":
			hasAll, all = true, q
			decide(q, true, true)
		case "ip4", "ip6":
			n, err := parseIPNet(mech, target)
			if err != nil {
				w.permerror(fmt.Sprintf("The SPF term %q of %s is broken: %v.", term, domain, err), "Correct the address in the SPF record.")
				continue
			}
			decide(q, w.ip != nil && n.Contains(w.ip), true)
		case "a", "mx":
			if !w.count() {
				continue
			}
			host := target
			if host == "" {
				host = domain
			}
			v4, v6, ok := parseDualCIDR(cidr)
			if !ok {
				w.permerror(fmt.Sprintf("The SPF term %q of %s has a broken prefix length.", term, domain), "Correct the /length in the SPF record.")
				continue
			}
			if hasMacro(host) {
				decide(q, false, false)
				continue
			}
			matched, sure := w.hostMatch(host, mech == "mx", v4, v6)
			decide(q, matched, sure)
		case "ptr":
			if !w.count() {
				continue
			}
			w.notes = append(w.notes, spfProblem{"The SPF record uses ptr, which RFC 7208 section 5.5 says not to use: it is slow and some receivers ignore it.", "Replace ptr with a: or ip4: terms."})
			decide(q, false, false)
		case "exists":
			if !w.count() {
				continue
			}
			if target == "" || hasMacro(target) {
				decide(q, false, false)
				continue
			}
			a, err := lookup(w.ctx, w.r, target, dns.TypeA)
			if err != nil {
				w.unknown = append(w.unknown, fmt.Sprintf("Could not look up %s: %v.", target, err))
				decide(q, false, false)
				continue
			}
			if len(a.rrs) == 0 {
				w.voids++
			}
			decide(q, len(a.rrs) > 0, true)
		case "include":
			if !w.count() {
				continue
			}
			if target == "" {
				w.permerror(fmt.Sprintf("The SPF record of %s has an include without a domain.", domain), "Write include:DOMAIN, or remove the term.")
				continue
			}
			if hasMacro(target) {
				decide(q, false, false)
				continue
			}
			r, _, ok := w.follow(target, chain)
			decide(q, ok && r == '+', ok && r != spfUnsure)
		default:
			w.permerror(fmt.Sprintf("%q in the SPF record of %s is not an SPF term, so receivers treat the record as an error (RFC 7208 section 5).", term, domain), "Correct or remove it.")
		}
	}
	if redirect != "" && !hasAll && w.count() {
		if hasMacro(redirect) {
			decide(0, false, false)
			return res, all
		}
		r, a, ok := w.follow(redirect, chain)
		if ok {
			all = a
		}
		if res == spfNoMatch && w.ip != nil {
			res = r
			if !ok {
				res = spfUnsure
			}
		}
	}
	return res, all
}

// follow evaluates the SPF record of an include: or redirect= target.
func (w *spfWalker) follow(target string, chain []string) (res, all byte, ok bool) {
	t := strings.ToLower(strings.TrimSuffix(target, "."))
	w.targets = append(w.targets, t)
	if slices.Contains(chain, t) {
		w.permerror(fmt.Sprintf("The SPF record of %s refers back to itself, a loop receivers treat as an error.", t), "Remove the include: or redirect= that closes the loop.")
		return 0, 0, false
	}
	if len(chain) >= spfMaxDepth {
		w.permerror(fmt.Sprintf("The SPF records are nested more than %d deep at %s.", spfMaxDepth, t), "Flatten the SPF record.")
		return 0, 0, false
	}
	rec, ok := w.fetch(t)
	if !ok {
		return 0, 0, false
	}
	res, all = w.eval(t, rec, chain)
	return res, all, true
}

// fetch returns the one SPF record of name.
func (w *spfWalker) fetch(name string) (string, bool) {
	txts, _, err := txtRecords(w.ctx, w.r, name)
	if err != nil {
		w.unknown = append(w.unknown, fmt.Sprintf("Could not look up the SPF record of %s: %v.", name, err))
		return "", false
	}
	recs := spfRecords(txts)
	switch len(recs) {
	case 1:
		return recs[0], true
	case 0:
		if len(txts) == 0 {
			w.voids++
		}
		w.permerror(fmt.Sprintf("%s, which the SPF record refers to, has no SPF record, so receivers treat the whole record as an error.", name),
			fmt.Sprintf("Remove the reference to %s from the SPF record, or correct its name.", name))
	default:
		w.permerror(fmt.Sprintf("%s, which the SPF record refers to, has %d SPF records, so receivers treat the whole record as an error.", name, len(recs)),
			fmt.Sprintf("Ask whoever runs %s to publish a single SPF record, or stop referring to it.", name))
	}
	return "", false
}

// hostMatch looks up host's addresses (for mx, those of its MX hosts) and
// reports whether w.ip is among them, compared on v4 or v6 leading bits.
// sure is false when a lookup failed.
func (w *spfWalker) hostMatch(host string, isMX bool, v4, v6 int) (matched, sure bool) {
	hosts := []string{host}
	if isMX {
		a, err := lookup(w.ctx, w.r, host, dns.TypeMX)
		if err != nil {
			w.unknown = append(w.unknown, fmt.Sprintf("Could not look up the MX records of %s: %v.", host, err))
			return false, false
		}
		if len(a.rrs) == 0 {
			w.voids++
			return false, true
		}
		hosts = hosts[:0]
		for _, rr := range a.rrs {
			if h := rr.(*dns.MX).Mx; h != "." {
				hosts = append(hosts, h)
			}
		}
		if len(hosts) > maxSPFMXHosts {
			w.permerror(fmt.Sprintf("mx:%s in the SPF record has more than %d MX hosts, which is an error (RFC 7208 section 4.6.4).", host, maxSPFMXHosts), "Replace the mx term with ip4: ranges.")
			hosts = hosts[:maxSPFMXHosts]
		}
		if w.ip == nil {
			return false, true
		}
	}
	qtype := dns.TypeA
	if w.ip != nil && w.ip.To4() == nil {
		qtype = dns.TypeAAAA
	}
	sure = true
	for _, h := range hosts {
		a, err := lookup(w.ctx, w.r, h, qtype)
		if err != nil {
			w.unknown = append(w.unknown, fmt.Sprintf("Could not look up the address of %s: %v.", strings.TrimSuffix(h, "."), err))
			sure = false
			continue
		}
		if !isMX && len(a.rrs) == 0 {
			w.voids++
		}
		if w.ip == nil {
			continue
		}
		for _, rr := range a.rrs {
			var addr net.IP
			switch v := rr.(type) {
			case *dns.A:
				addr = v.A
			case *dns.AAAA:
				addr = v.AAAA
			}
			if ipInPrefix(w.ip, addr, v4, v6) {
				return true, true
			}
		}
	}
	return false, sure
}

// spfModifier splits a modifier term "name=value" (RFC 7208 section 4.6.1).
func spfModifier(term string) (name, value string, ok bool) {
	i := strings.IndexByte(term, '=')
	if i <= 0 {
		return "", "", false
	}
	name = term[:i]
	for j := 0; j < len(name); j++ {
		c := name[j]
		alpha := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
		if !alpha && (j == 0 || !isDigit(c) && c != '-' && c != '_' && c != '.') {
			return "", "", false
		}
	}
	return strings.ToLower(name), term[i+1:], true
}

// splitMechanism splits "mech:target/cidr" into its parts; for ip4 and ip6
// the prefix length stays in target.
func splitMechanism(term string) (mech, target, cidr string) {
	i := strings.IndexAny(term, ":/")
	if i < 0 {
		return strings.ToLower(term), "", ""
	}
	mech = strings.ToLower(term[:i])
	if term[i] == '/' {
		return mech, "", term[i:]
	}
	target = term[i+1:]
	if mech == "a" || mech == "mx" {
		if j := strings.IndexByte(target, '/'); j >= 0 {
			target, cidr = target[:j], target[j:]
		}
	}
	return mech, target, cidr
}

// parseIPNet parses the argument of ip4: or ip6:.
func parseIPNet(mech, s string) (*net.IPNet, error) {
	if s == "" {
		return nil, fmt.Errorf("no address")
	}
	if !strings.Contains(s, "/") {
		if mech == "ip4" {
			s += "/32"
		} else {
			s += "/128"
		}
	}
	ip, n, err := net.ParseCIDR(s)
	if err != nil {
		return nil, fmt.Errorf("not an address range")
	}
	if (ip.To4() != nil) != (mech == "ip4") {
		if mech == "ip4" {
			return nil, fmt.Errorf("not an IPv4 address")
		}
		return nil, fmt.Errorf("not an IPv6 address")
	}
	return n, nil
}

// parseDualCIDR parses the "/24", "//64" or "/24//64" after a or mx (RFC
// 7208 section 5.6).
func parseDualCIDR(s string) (v4, v6 int, ok bool) {
	v4, v6 = 32, 128
	if s == "" {
		return v4, v6, true
	}
	p4, p6 := "", ""
	if rest, ok := strings.CutPrefix(s, "//"); ok {
		p6 = rest
	} else if rest, ok := strings.CutPrefix(s, "/"); ok {
		p4, p6, _ = strings.Cut(rest, "//")
	} else {
		return 0, 0, false
	}
	var err error
	if p4 != "" {
		if v4, err = strconv.Atoi(p4); err != nil || v4 < 0 || v4 > 32 {
			return 0, 0, false
		}
	}
	if p6 != "" {
		if v6, err = strconv.Atoi(p6); err != nil || v6 < 0 || v6 > 128 {
			return 0, 0, false
		}
	}
	return v4, v6, true
}

// ipInPrefix reports whether ip and addr share their first v4 (IPv4) or v6
// (IPv6) bits.
func ipInPrefix(ip, addr net.IP, v4, v6 int) bool {
	if ip4 := ip.To4(); ip4 != nil {
		a4 := addr.To4()
		if a4 == nil {
			return false
		}
		m := net.CIDRMask(v4, 32)
		return ip4.Mask(m).Equal(a4.Mask(m))
	}
	if addr == nil || addr.To4() != nil {
		return false
	}
	m := net.CIDRMask(v6, 128)
	return ip.Mask(m).Equal(addr.Mask(m))
}

// hasMacro reports whether a domain-spec holds a macro (RFC 7208 section 7),
// which needs the sender's address to expand.
func hasMacro(s string) bool { return strings.Contains(s, "%{") }

// spfSuggestion is the term that would let the new server send, or "".
func (c *checker) spfSuggestion() string {
	switch {
	case c.prov != nil && len(c.prov.spf) > 0:
		return "include:" + c.prov.spf[0]
	case c.prov != nil:
		return ""
	case c.newIP != nil && c.newIP.To4() != nil:
		return "ip4:" + c.newIP.String()
	case c.newIP != nil:
		return "ip6:" + c.newIP.String()
	case c.newServer != "":
		return "a:" + c.newServer
	}
	return ""
}

func (c *checker) checkSPF(ctx context.Context) Check {
	ch := Check{Name: "SPF"}
	txts, a, err := txtRecords(ctx, c.r, c.domain)
	if err != nil {
		lookupProblem(&ch, "the SPF record of "+c.domain, err)
		return ch
	}
	recs := spfRecords(txts)
	suggest := c.spfSuggestion()
	switch len(recs) {
	case 0:
		fix := "Add a TXT record starting with v=spf1 that lists the servers sending your mail and ends with ~all."
		if suggest != "" {
			fix = fmt.Sprintf("Add a TXT record \"v=spf1 %s ~all\" so receivers know which servers may send mail for %s.", suggest, c.domain)
		}
		ch.add(Fail, fmt.Sprintf("%s has no SPF record, so receivers cannot tell which servers may send its mail and may mark it as spam.", c.domain), fix)
		return ch
	case 1:
	default:
		ch.add(Fail, fmt.Sprintf("%s has %d SPF records; receivers treat that as an error (RFC 7208 section 3.2) and may reject its mail.", c.domain, len(recs)),
			"Merge them into one TXT record starting with v=spf1.")
		for _, r := range recs {
			ch.detail("Record: %s", r)
		}
		ch.TTL = a.ttl
		return ch
	}
	ch.TTL = a.ttl
	rec := recs[0]
	w := &spfWalker{ctx: ctx, r: c.r}
	if c.prov == nil {
		w.ip = c.newIP
	}
	res, all := w.eval(c.domain, rec, nil)

	lookups := strconv.Itoa(w.lookups)
	if w.capped {
		lookups = "more than " + strconv.Itoa(spfWalkCap)
	}
	if w.lookups > maxSPFLookups {
		ch.add(Fail, fmt.Sprintf("The SPF record needs %s DNS lookups; receivers stop at %d (RFC 7208 section 4.6.4) and treat it as an error, so mail may go to spam.", lookups, maxSPFLookups),
			"Remove includes you no longer use, or replace them with ip4:/ip6: ranges, to get down to 10 lookups.")
	}
	for _, p := range w.errs {
		ch.add(Fail, p.summary, p.fix)
	}
	if w.voids > maxSPFVoids {
		ch.add(Fail, fmt.Sprintf("%d lookups of the SPF record find nothing; more than %d is an error (RFC 7208 section 4.6.4).", w.voids, maxSPFVoids),
			"Remove the a:, mx: and include: terms naming hosts that do not exist.")
	}
	if all == '+' {
		ch.add(Fail, fmt.Sprintf("The SPF record ends with +all, which lets any server in the world send mail as %s.", c.domain),
			"Change +all to ~all (or -all) at the end of the SPF record.")
	}
	including := ""
	switch {
	case c.prov != nil && c.prov.noCustomDomains:
		ch.detail("%s does not host mail for your own domain, so it has no SPF include.", c.prov.name)
	case c.prov != nil:
		found := ""
		for _, t := range w.targets {
			if slices.Contains(c.prov.spf, t) {
				found = t
				break
			}
		}
		if found == "" {
			ch.add(Fail, fmt.Sprintf("The SPF record does not include %s (%s), so mail sent through it may be marked as spam.", c.prov.name, suggest),
				fmt.Sprintf("Add %s to your SPF record so mail sent through the new provider is not marked as spam.", suggest))
		} else {
			including = fmt.Sprintf(" and includes %s", c.prov.name)
		}
	case w.ip != nil:
		switch res {
		case '+':
			including = fmt.Sprintf(" and allows the new server (%s)", w.ip)
		case spfUnsure:
			ch.detail("Could not tell whether the record allows the new server (%s): it uses macros or a lookup failed.", w.ip)
		default:
			ch.add(Warn, fmt.Sprintf("The SPF record does not allow the new server's address %s to send mail for %s.", w.ip, c.domain),
				fmt.Sprintf("If the new server sends your mail, add %s to your SPF record so its mail is not marked as spam.", suggest))
		}
	}
	switch all {
	case '?':
		ch.add(Warn, "The SPF record ends with ?all, which tells receivers nothing about other servers.",
			"End the SPF record with ~all (or -all once you are sure it lists every server that sends your mail).")
	case 0:
		ch.add(Warn, "The SPF record has no all at the end, so receivers treat mail from unlisted servers as neutral.",
			"End the SPF record with ~all (or -all once you are sure it lists every server that sends your mail).")
	}
	for _, p := range w.notes {
		ch.add(Warn, p.summary, p.fix)
	}
	for _, u := range w.unknown {
		ch.add(Unknown, u, "Try again later, or with another DNS server.")
	}
	ch.detail("Record: %s", rec)
	ch.detail("DNS lookups: %s of %d allowed.", lookups, maxSPFLookups)
	if len(w.targets) > 0 {
		ch.detail("Includes: %s", strings.Join(w.targets, ", "))
	}
	ch.ok(fmt.Sprintf("One SPF record; it uses %s of the %d DNS lookups allowed%s.", lookups, maxSPFLookups, including))
	return ch
}
