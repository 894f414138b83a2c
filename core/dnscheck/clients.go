package dnscheck

import (
	"context"
	"fmt"
	"strings"

	"github.com/miekg/dns"
)

func (c *checker) checkAutoconfig(ctx context.Context) Check {
	ch := Check{Name: "Autoconfig"}
	name := "autoconfig." + c.domain
	a, err := lookup(ctx, c.r, name, dns.TypeA)
	if err == nil && len(a.rrs) == 0 {
		a, err = lookup(ctx, c.r, name, dns.TypeAAAA)
	}
	if err != nil {
		lookupProblem(&ch, name, err)
		return ch
	}
	if len(a.rrs) == 0 {
		ch.add(Warn, fmt.Sprintf("%s does not exist, so Thunderbird and other mail programs cannot find the settings for %s by themselves.", name, c.domain),
			fmt.Sprintf("Publish %s: a CNAME to your provider's autoconfig host if it has one, or a web server with the settings file Mailmover makes.", name))
		return ch
	}
	ch.TTL = a.ttl
	target := ""
	if len(a.cnames) > 0 {
		target = a.cnames[len(a.cnames)-1]
		ch.detail("%s is a CNAME to %s.", name, strings.Join(a.cnames, ", then "))
	}
	for _, rr := range a.rrs {
		switch v := rr.(type) {
		case *dns.A:
			ch.detail("Address: %s", v.A)
			if target == "" {
				target = v.A.String()
			}
		case *dns.AAAA:
			ch.detail("Address: %s", v.AAAA)
			if target == "" {
				target = v.AAAA.String()
			}
		}
	}
	ch.detail("The settings file itself was not fetched.")
	ch.ok(fmt.Sprintf("%s points at %s; mail programs fetch their settings from https://%s/mail/config-v1.1.xml.", name, target, name))
	return ch
}

// srvService is one RFC 6186 (and RFC 8314) service record.
type srvService struct {
	label, what string
	port        int
}

var srvServices = [...]srvService{
	{"_imaps._tcp", "IMAP", 993},
	{"_submission._tcp", "sending", 587},
	{"_submissions._tcp", "sending", 465},
}

func (c *checker) checkSRV(ctx context.Context) Check {
	ch := Check{Name: "SRV"}
	var offered [len(srvServices)]string
	var failed []string
	var old []string
	for i, s := range srvServices {
		name := s.label + "." + c.domain
		a, err := lookup(ctx, c.r, name, dns.TypeSRV)
		if err != nil {
			failed = append(failed, fmt.Sprintf("Could not look up %s: %v.", name, err))
			continue
		}
		for _, rr := range a.rrs {
			srv := rr.(*dns.SRV)
			if srv.Target == "." {
				ch.detail("%s: %s is not offered (target \".\").", name, s.what)
				continue
			}
			host := strings.TrimSuffix(srv.Target, ".")
			ch.detail("%s: %s:%d (priority %d, weight %d)", name, host, srv.Port, srv.Priority, srv.Weight)
			if offered[i] == "" {
				offered[i] = fmt.Sprintf("%s:%d", host, srv.Port)
				if ch.TTL == 0 || a.ttl < ch.TTL {
					ch.TTL = a.ttl
				}
				if c.newServer != "" && !c.isNew(ctx, host) {
					old = append(old, host)
				}
			}
		}
	}
	imap, send := offered[0], offered[1]
	if send == "" {
		send = offered[2]
	}
	for _, f := range failed {
		ch.add(Unknown, f, "Try again later, or with another DNS server.")
	}
	imapName, subName := "_imaps._tcp."+c.domain, "_submission._tcp."+c.domain
	switch {
	case len(failed) > 0:
	case imap == "" && send == "":
		ch.add(Warn, fmt.Sprintf("No SRV records (RFC 6186), so mail programs cannot find the IMAP and SMTP servers of %s by themselves.", c.domain),
			fmt.Sprintf("Add SRV records %s (port 993) and %s (port 587) pointing at your provider's IMAP and SMTP servers.", imapName, subName))
	case imap == "" && send != "":
		ch.add(Warn, "There is an SRV record for sending but none for IMAP, so mail programs can only half configure themselves.",
			fmt.Sprintf("Add an SRV record %s (port 993) pointing at your provider's IMAP server.", imapName))
	case send == "" && imap != "":
		ch.add(Warn, "There is an SRV record for IMAP but none for sending, so mail programs can only half configure themselves.",
			fmt.Sprintf("Add an SRV record %s (port 587) pointing at your provider's SMTP server.", subName))
	}
	if len(old) > 0 {
		ch.add(Warn, fmt.Sprintf("The SRV records still point at %s, not at %s.", strings.Join(old, ", "), c.newName()),
			fmt.Sprintf("Change the SRV records to point at %s's IMAP and SMTP servers.", c.newName()))
	}
	ch.ok(fmt.Sprintf("Mail programs can find IMAP at %s and sending at %s (RFC 6186).", imap, send))
	return ch
}
