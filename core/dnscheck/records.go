package dnscheck

import (
	"context"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"fmt"
	"slices"
	"strings"
)

// tagList parses a tag=value list as used by DKIM (RFC 6376 section 3.2),
// DMARC, MTA-STS and TLS-RPT records. Tag names are lower-cased.
func tagList(s string) map[string]string {
	tags := map[string]string{}
	for _, part := range strings.Split(s, ";") {
		k, v, ok := strings.Cut(part, "=")
		if !ok {
			continue
		}
		k = strings.ToLower(strings.TrimSpace(k))
		if _, dup := tags[k]; !dup && k != "" {
			tags[k] = strings.TrimSpace(v)
		}
	}
	return tags
}

// withVersion returns the records whose first tag is v=version.
func withVersion(txts []string, version string) []string {
	var out []string
	for _, t := range txts {
		first, _, _ := strings.Cut(t, ";")
		k, v, ok := strings.Cut(first, "=")
		if ok && strings.EqualFold(strings.TrimSpace(k), "v") && strings.TrimSpace(v) == version {
			out = append(out, t)
		}
	}
	return out
}

func (c *checker) checkDKIM(ctx context.Context) Check {
	ch := Check{Name: "DKIM"}
	var found, failed []string
	unusable := 0
	for _, sel := range c.selectors {
		name := sel + "._domainkey." + c.domain
		txts, a, err := txtRecords(ctx, c.r, name)
		if err != nil {
			failed = append(failed, fmt.Sprintf("%s: %v", sel, err))
			continue
		}
		for _, t := range txts {
			tags := tagList(t)
			if v, ok := tags["v"]; ok && v != "DKIM1" {
				continue
			}
			p, ok := tags["p"]
			if !ok {
				continue
			}
			p = strings.Join(strings.Fields(p), "")
			via := ""
			if len(a.cnames) > 0 {
				via = ", through a CNAME to " + a.cnames[0]
			}
			if p == "" {
				ch.detail("%s: key withdrawn (empty p=)%s.", name, via)
				break
			}
			desc, problem := describeKey(tags["k"], p)
			if problem != "" {
				unusable++
				ch.add(Warn, fmt.Sprintf("The DKIM key at %s cannot be used: %s.", name, problem),
					"Publish the key again exactly as your provider gives it, as a 2048-bit RSA key.")
				break
			}
			if len(found) == 0 || a.ttl < ch.TTL {
				ch.TTL = a.ttl
			}
			found = append(found, sel)
			ch.detail("%s: %s%s.", name, desc, via)
			break
		}
	}
	for _, f := range failed {
		ch.detail("Could not look up %s.", f)
	}
	if c.prov != nil && len(c.prov.dkim) > 0 {
		if !slices.ContainsFunc(found, func(s string) bool { return slices.Contains(c.prov.dkim, s) }) {
			names := make([]string, len(c.prov.dkim))
			for i, s := range c.prov.dkim {
				names[i] = s + "._domainkey." + c.domain
			}
			ch.add(Warn, fmt.Sprintf("No DKIM key for %s yet (looked at %s), so receivers cannot verify mail it sends for you.", c.prov.name, strings.Join(names, ", ")),
				fmt.Sprintf("Turn on DKIM signing at %s and publish the records it gives you.", c.prov.name))
		}
	}
	switch {
	case len(found) == 0 && len(failed) > 0 && len(failed) == len(c.selectors):
		ch.add(Unknown, "Could not look up any DKIM key: "+failed[0]+".", "Try again later, or with another DNS server.")
	case len(found) == 0 && unusable == 0:
		ch.add(Warn, fmt.Sprintf("No DKIM key found under the usual selectors (%s), so receivers cannot verify signatures on your mail.", strings.Join(c.selectors, ", ")),
			"Turn on DKIM signing at your mail provider and publish the TXT record it gives you, adding its selector to this check if it is not one of these.")
	}
	if len(found) == 1 {
		ch.ok("DKIM key found for selector " + found[0] + ".")
	} else {
		ch.ok("DKIM keys found for selectors " + strings.Join(found, ", ") + ".")
	}
	return ch
}

// describeKey checks a DKIM public key (RFC 6376 section 3.6.1; Ed25519,
// RFC 8463) and describes it, or says what is wrong with it.
func describeKey(k, p string) (desc, problem string) {
	raw, err := base64.StdEncoding.DecodeString(p)
	if err != nil {
		if raw, err = base64.RawStdEncoding.DecodeString(p); err != nil {
			return "", "the key is not valid base64"
		}
	}
	switch strings.ToLower(k) {
	case "", "rsa":
		pub, err := x509.ParsePKIXPublicKey(raw)
		if err != nil {
			pk, err1 := x509.ParsePKCS1PublicKey(raw)
			if err1 != nil {
				return "", "the key is not an RSA public key"
			}
			pub = pk
		}
		rk, ok := pub.(*rsa.PublicKey)
		if !ok {
			return "", "the record says k=rsa but the key is not RSA"
		}
		bits := rk.N.BitLen()
		if bits < 1024 {
			return "", fmt.Sprintf("the RSA key has only %d bits and receivers ignore keys under 1024 bits (RFC 8301)", bits)
		}
		return fmt.Sprintf("RSA key, %d bits", bits), ""
	case "ed25519":
		if len(raw) != ed25519.PublicKeySize {
			return "", "the Ed25519 key is not 32 bytes long"
		}
		return "Ed25519 key (RFC 8463)", ""
	}
	return "key of type " + k, ""
}

func (c *checker) checkDMARC(ctx context.Context) Check {
	ch := Check{Name: "DMARC"}
	name := "_dmarc." + c.domain
	txts, a, err := txtRecords(ctx, c.r, name)
	if err != nil {
		lookupProblem(&ch, "the DMARC record of "+c.domain, err)
		return ch
	}
	recs := withVersion(txts, "DMARC1")
	switch len(recs) {
	case 0:
		ch.add(Warn, fmt.Sprintf("%s has no DMARC record, so receivers apply no policy to mail that fails SPF and DKIM, and you get no reports.", c.domain),
			fmt.Sprintf("Add a TXT record at %s such as \"v=DMARC1; p=none; rua=mailto:postmaster@%s\", and make the policy stricter once the reports look clean.", name, c.domain))
		return ch
	case 1:
	default:
		ch.add(Warn, fmt.Sprintf("%s has %d DMARC records, so receivers ignore them all (RFC 7489 section 6.6.3).", c.domain, len(recs)),
			fmt.Sprintf("Merge them into one TXT record at %s.", name))
		return ch
	}
	ch.TTL = a.ttl
	tags := tagList(recs[0])
	reports := "you get no reports (no rua= address)"
	if rua := tags["rua"]; rua != "" {
		reports = "reports go to " + rua
	}
	p := strings.ToLower(tags["p"])
	switch p {
	case "quarantine", "reject":
		ch.ok(fmt.Sprintf("DMARC policy p=%s; %s.", p, reports))
	case "none":
		ch.add(Warn, fmt.Sprintf("DMARC policy is p=none, monitoring only: receivers take no action on mail that fails; %s.", reports),
			"Once the reports show SPF and DKIM passing for all your mail, change p=none to p=quarantine.")
	case "":
		ch.add(Warn, "The DMARC record has no p= policy, so receivers ignore it.",
			fmt.Sprintf("Add p=none (to watch) or p=quarantine to the record at %s.", name))
	default:
		ch.add(Warn, fmt.Sprintf("The DMARC policy p=%s is not one of none, quarantine or reject, so receivers ignore the record.", tags["p"]),
			fmt.Sprintf("Set p=none, p=quarantine or p=reject in the record at %s.", name))
	}
	ch.detail("Record: %s", recs[0])
	if pct := tags["pct"]; pct != "" && pct != "100" {
		ch.detail("The policy applies to %s%% of failing mail only (pct=%s).", pct, pct)
	}
	if sp := tags["sp"]; sp != "" {
		ch.detail("Subdomains: p=%s.", sp)
	}
	return ch
}

func (c *checker) checkMTASTS(ctx context.Context) Check {
	ch := Check{Name: "MTA-STS"}
	name := "_mta-sts." + c.domain
	txts, a, err := txtRecords(ctx, c.r, name)
	if err != nil {
		lookupProblem(&ch, "the MTA-STS record of "+c.domain, err)
		return ch
	}
	recs := withVersion(txts, "STSv1")
	policy := "https://mta-sts." + c.domain + "/.well-known/mta-sts.txt"
	switch len(recs) {
	case 0:
		ch.ok("Not set up. It is optional: MTA-STS makes other servers insist on an encrypted connection when they deliver to you (RFC 8461).")
		return ch
	case 1:
	default:
		ch.add(Warn, fmt.Sprintf("%s has %d MTA-STS records, so senders ignore them all (RFC 8461 section 3.1).", c.domain, len(recs)),
			fmt.Sprintf("Keep only one TXT record at %s.", name))
		return ch
	}
	ch.TTL = a.ttl
	tags := tagList(recs[0])
	ch.detail("Record: %s", recs[0])
	ch.detail("The policy itself is at %s; it was not fetched.", policy)
	if tags["id"] == "" {
		ch.add(Warn, "The MTA-STS record has no id=, so senders ignore it.",
			fmt.Sprintf("Add id= with a new value, such as today's date and time, to the record at %s.", name))
	}
	if c.newServer != "" && !c.mxAtNew {
		ch.add(Warn, "MTA-STS is on: once the MX records change, senders that enforce the policy refuse to deliver unless it lists the new MX hosts.",
			fmt.Sprintf("Before switching MX, add %s's MX hosts to the mx: lines of %s and change the id= in %s.", c.newName(), policy, name))
	}
	ch.ok(fmt.Sprintf("MTA-STS is set up (id=%s); make sure the policy lists your current MX hosts.", tags["id"]))
	return ch
}

func (c *checker) checkTLSRPT(ctx context.Context) Check {
	ch := Check{Name: "TLS-RPT"}
	name := "_smtp._tls." + c.domain
	txts, a, err := txtRecords(ctx, c.r, name)
	if err != nil {
		lookupProblem(&ch, "the TLS-RPT record of "+c.domain, err)
		return ch
	}
	recs := withVersion(txts, "TLSRPTv1")
	switch len(recs) {
	case 0:
		ch.ok("Not set up. It is optional: TLS-RPT gets you reports when other servers cannot deliver to you securely (RFC 8460).")
		return ch
	case 1:
	default:
		ch.add(Warn, fmt.Sprintf("%s has %d TLS-RPT records, so senders ignore them all (RFC 8460 section 3).", c.domain, len(recs)),
			fmt.Sprintf("Keep only one TXT record at %s.", name))
		return ch
	}
	ch.TTL = a.ttl
	ch.detail("Record: %s", recs[0])
	rua := tagList(recs[0])["rua"]
	if rua == "" {
		ch.add(Warn, "The TLS-RPT record has no rua= address, so no reports are sent.",
			fmt.Sprintf("Add rua=mailto:ADDRESS to the record at %s.", name))
	}
	ch.ok("Reports of failed secure deliveries go to " + rua + ".")
	return ch
}
