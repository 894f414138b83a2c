package dnscheck

import (
	"context"
	"fmt"
	"net"

	"github.com/miekg/dns"
)

// blocklist is a DNS blocklist (RFC 5782).
type blocklist struct {
	zone string
	// spamhaus marks the Spamhaus zone, whose return codes are known.
	spamhaus bool
	// site is where a person can look an address up and ask for removal.
	site string
}

// blocklists are the DNS blocklists most receivers consult.
var blocklists = [...]blocklist{
	{zone: "zen.spamhaus.org", spamhaus: true, site: "https://check.spamhaus.org"},
	{zone: "bl.spamcop.net", site: "https://www.spamcop.net/bl.shtml"},
	{zone: "b.barracudacentral.org", site: "https://www.barracudacentral.org/lookups"},
	{zone: "psbl.surriel.com", site: "https://psbl.org"},
}

// spamhausCodes explains Spamhaus ZEN's listing codes (127.0.0.x).
var spamhausCodes = map[byte]string{
	2:  "SBL, a known source of spam",
	3:  "CSS, an address that recently sent spam",
	4:  "XBL, a hijacked or infected machine",
	5:  "XBL, a hijacked or infected machine",
	6:  "XBL, a hijacked or infected machine",
	7:  "XBL, a hijacked or infected machine",
	9:  "DROP, a network run by spammers",
	10: "PBL, a range its owner says should not send mail directly",
	11: "PBL, a range Spamhaus says should not send mail directly",
}

// refusedCodes explains the 127.255.255.x codes by which a list refuses a
// query; they are errors, never listings.
var refusedCodes = map[byte]string{
	252: "the query had a typing error in its access key",
	254: "the query came through a public DNS resolver such as 8.8.8.8 or 1.1.1.1, which the list does not answer",
	255: "the DNS resolver asked too many questions",
}

func (c *checker) blocklistChecks() []func(context.Context) Check {
	ip := c.newIP.To4()
	if ip == nil {
		var ch Check
		ch.Name = "Blacklist"
		switch {
		case c.newIP != nil:
			ch.add(Unknown, fmt.Sprintf("The new server has only the IPv6 address %s; only IPv4 addresses are checked on blocklists.", c.newIP), "")
		default:
			ch.add(Unknown, fmt.Sprintf("Could not find the address of %s (%v), so it was not checked on blocklists.", c.newServer, c.newIPErr),
				"Give the new server's IP address to check it on blocklists.")
		}
		return []func(context.Context) Check{func(context.Context) Check { return ch }}
	}
	var fs []func(context.Context) Check
	for _, bl := range blocklists {
		fs = append(fs, func(ctx context.Context) Check { return c.checkBlocklist(ctx, bl, ip) })
	}
	return fs
}

// checkBlocklist looks ip up on one list: the A record of the reversed
// address under the list's zone (RFC 5782 section 2.1).
func (c *checker) checkBlocklist(ctx context.Context, bl blocklist, ip net.IP) Check {
	ch := Check{Name: "Blacklist " + bl.zone}
	name := fmt.Sprintf("%d.%d.%d.%d.%s", ip[3], ip[2], ip[1], ip[0], bl.zone)
	if c.prov != nil && !c.ipGiven {
		ch.detail("%s is the address of %s; a large provider sends mail from many other addresses, which this does not check.", ip, c.newServer)
	}
	a, err := lookup(ctx, c.r, name, dns.TypeA)
	if err != nil {
		ch.add(Unknown, fmt.Sprintf("Could not ask %s about %s: %v.", bl.zone, ip, err),
			fmt.Sprintf("Try again later, or look the address up at %s.", bl.site))
		return ch
	}
	if len(a.rrs) == 0 {
		ch.ok(fmt.Sprintf("%s is not listed.", ip))
		return ch
	}
	var listed []string
	var refused, odd string
	for _, rr := range a.rrs {
		code := rr.(*dns.A).A.To4()
		switch {
		case code == nil:
		case code[0] == 127 && code[1] == 255 && code[2] == 255:
			why, ok := refusedCodes[code[3]]
			if !ok {
				why = "the list refused to answer"
			}
			refused = fmt.Sprintf("%s (answer %s)", why, code)
		case code[0] == 127 && (code[1] != 0 || code[2] != 0 || code[3] > 1):
			l := "answer " + code.String()
			if m, ok := spamhausCodes[code[3]]; ok && bl.spamhaus && code[1] == 0 && code[2] == 0 {
				l = code.String() + ": " + m
			}
			listed = append(listed, l)
		default:
			odd = code.String()
		}
	}
	switch {
	case refused != "":
		// A refusal is never a listing, whatever else the reply holds.
		ch.add(Unknown, fmt.Sprintf("%s refused to answer for %s, so it is not known whether it is on the list: %s.", bl.zone, ip, refused),
			fmt.Sprintf("Run the check again through your internet provider's DNS server, or look the address up at %s.", bl.site))
	case len(listed) > 0:
		for _, l := range listed {
			ch.detail("Listed: %s.", l)
		}
		if txts, _, err := txtRecords(ctx, c.r, name); err == nil {
			for _, t := range txts {
				ch.detail("Reason given: %s", t)
			}
		}
		ch.add(Fail, fmt.Sprintf("%s is listed on %s (%s), so many receivers reject mail from it.", ip, bl.zone, listed[0]),
			fmt.Sprintf("Have %s removed from the list (see %s), or ask your provider to, before mail is sent from it.", ip, bl.site))
	case odd != "":
		ch.add(Unknown, fmt.Sprintf("The DNS resolver answered %s, which is not a blocklist code; some internet providers answer every unknown name this way, so the result cannot be trusted.", odd),
			fmt.Sprintf("Run the check again through another DNS server, or look the address up at %s.", bl.site))
	default:
		ch.ok(fmt.Sprintf("%s is not listed.", ip))
	}
	return ch
}
