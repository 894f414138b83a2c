package account

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// clientConfig is the part of Thunderbird's autoconfig format (version 1.1,
// https://wiki.mozilla.org/Thunderbird:Autoconfiguration:ConfigFileFormat)
// that Mailmover reads.
type clientConfig struct {
	XMLName   xml.Name `xml:"clientConfig"`
	Providers []struct {
		ID       string           `xml:"id,attr"`
		Incoming []incomingServer `xml:"incomingServer"`
	} `xml:"emailProvider"`
}

type incomingServer struct {
	Type           string   `xml:"type,attr"`
	Hostname       string   `xml:"hostname"`
	Port           string   `xml:"port"`
	SocketType     string   `xml:"socketType"`
	Username       string   `xml:"username"`
	Authentication []string `xml:"authentication"`
}

// parseAutoconfig reads an autoconfig document and returns the account of
// its best IMAP server for email: the first with implicit TLS (socketType
// SSL), else the first with STARTTLS. Plaintext servers are ignored. The
// placeholders %EMAILADDRESS%, %EMAILLOCALPART% and %EMAILDOMAIN% are
// replaced.
func parseAutoconfig(data []byte, email string) (Account, error) {
	var cfg clientConfig
	dec := xml.NewDecoder(bytes.NewReader(data))
	dec.CharsetReader = asciiCompatible
	if err := dec.Decode(&cfg); err != nil {
		return Account{}, fmt.Errorf("read autoconfig document: %w", err)
	}
	local, domain := email, ""
	if i := strings.LastIndex(email, "@"); i >= 0 {
		local, domain = email[:i], strings.ToLower(email[i+1:])
	}
	expand := strings.NewReplacer(
		"%EMAILADDRESS%", email,
		"%EMAILLOCALPART%", local,
		"%EMAILDOMAIN%", domain,
	).Replace

	var best *incomingServer
	var bestSec Security
	for i := range cfg.Providers {
		for j := range cfg.Providers[i].Incoming {
			s := &cfg.Providers[i].Incoming[j]
			if !strings.EqualFold(strings.TrimSpace(s.Type), "imap") {
				continue
			}
			var sec Security
			switch strings.ToUpper(strings.TrimSpace(s.SocketType)) {
			case "SSL", "TLS":
				sec = SecurityTLS
			case "STARTTLS":
				sec = SecurityStartTLS
			default:
				continue
			}
			if best == nil || (bestSec != SecurityTLS && sec == SecurityTLS) {
				best, bestSec = s, sec
			}
		}
	}
	if best == nil {
		return Account{}, errors.New("the autoconfig document has no IMAP server with TLS or STARTTLS")
	}

	a := Account{
		Name:     email,
		Email:    email,
		Host:     normDomain(expand(best.Hostname)),
		Port:     bestSec.DefaultPort(),
		Security: bestSec,
		Username: strings.TrimSpace(expand(best.Username)),
		Auth:     AuthPassword,
	}
	if p := strings.TrimSpace(best.Port); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil {
			return Account{}, fmt.Errorf("autoconfig port %q is not a number", p)
		}
		a.Port = n
	}
	if a.Username == "" {
		a.Username = email
	}
	for _, m := range best.Authentication {
		m = strings.TrimSpace(m)
		if strings.EqualFold(m, "OAuth2") {
			a.Auth = AuthOAuth2
			break
		}
		if strings.HasPrefix(strings.ToLower(m), "password-") {
			break
		}
	}
	if err := a.Validate(); err != nil {
		return Account{}, fmt.Errorf("autoconfig document: %w", err)
	}
	return a, nil
}

// asciiCompatible lets documents that declare a legacy encoding through: the
// fields read are plain ASCII server names and placeholders.
func asciiCompatible(label string, input io.Reader) (io.Reader, error) {
	switch strings.ToLower(label) {
	case "us-ascii", "ascii", "iso-8859-1", "latin1", "iso-8859-15", "windows-1252", "utf8":
		return input, nil
	}
	return nil, fmt.Errorf("unsupported encoding %q", label)
}
