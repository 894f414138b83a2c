package imaptest

import (
	"bytes"
	"encoding/json"
	"strings"

	"github.com/emersion/go-imap/v2"
)

// Challenge is the JSON error Google sends, base64-encoded, in an XOAUTH2
// continuation request when it refuses a token; the client must answer it
// with an empty response, and the server then says NO.
const Challenge = `{"status":"400","schemes":"Bearer","scope":"https://mail.google.com/"}`

// errInvalidCredentials is Gmail's NO after a refused token.
var errInvalidCredentials = &imap.Error{Type: imap.StatusResponseTypeNo, Code: imap.ResponseCodeAuthenticationFailed, Text: "Invalid credentials (Failure)"}

// xoauth2Server is the server side of SASL XOAUTH2 (Google's
// xoauth2-protocol): the client's response is
// "user=" U ^A "auth=Bearer " T ^A ^A.
type xoauth2Server struct {
	check  func(user, token string) error
	failed bool
}

func (x *xoauth2Server) Next(resp []byte) (challenge []byte, done bool, err error) {
	if x.failed {
		// The client's answer to the error challenge: anything ends it.
		return nil, true, errInvalidCredentials
	}
	if resp == nil {
		// No initial response (no SASL-IR): ask for it.
		return []byte{}, false, nil
	}
	user, token, ok := parseXOAuth2(resp)
	if !ok {
		return nil, true, &imap.Error{Type: imap.StatusResponseTypeNo, Code: imap.ResponseCodeAuthenticationFailed, Text: "Invalid SASL argument"}
	}
	if err := x.check(user, token); err != nil {
		x.failed = true
		return []byte(Challenge), false, nil
	}
	return nil, true, nil
}

// parseXOAuth2 splits an XOAUTH2 initial response.
func parseXOAuth2(resp []byte) (user, token string, ok bool) {
	for _, kv := range bytes.Split(resp, []byte{1}) {
		k, v, found := strings.Cut(string(kv), "=")
		if !found {
			continue
		}
		switch k {
		case "user":
			user = v
		case "auth":
			if len(v) > 7 && strings.EqualFold(v[:7], "bearer ") {
				token = v[7:]
			}
		}
	}
	return user, token, user != "" && token != ""
}

// oauthBearerServer is the server side of OAUTHBEARER (RFC 7628):
// "n,a=" U "," ^A "host=" H ^A "port=" P ^A "auth=Bearer " T ^A ^A. On a
// refused token it sends the error JSON and waits for the client's ^A
// (section 3.2.3); it also takes an empty response, as some clients send.
// go-sasl's own server is not used: it indexes into an empty response.
type oauthBearerServer struct {
	check  func(user, token string) error
	failed bool
}

func (o *oauthBearerServer) Next(resp []byte) (challenge []byte, done bool, err error) {
	if o.failed {
		return nil, true, errInvalidCredentials
	}
	if resp == nil {
		return []byte{}, false, nil
	}
	user, token, ok := parseOAuthBearer(resp)
	if !ok {
		return nil, true, &imap.Error{Type: imap.StatusResponseTypeNo, Code: imap.ResponseCodeAuthenticationFailed, Text: "Invalid SASL argument"}
	}
	if err := o.check(user, token); err != nil {
		o.failed = true
		b, _ := json.Marshal(map[string]string{"status": "invalid_token", "schemes": "bearer", "scope": "https://mail.google.com/"})
		return b, false, nil
	}
	return nil, true, nil
}

// parseOAuthBearer splits an OAUTHBEARER initial response (RFC 7628 section 3.1).
func parseOAuthBearer(resp []byte) (user, token string, ok bool) {
	gs2, rest, found := bytes.Cut(resp, []byte{1})
	if !found {
		return "", "", false
	}
	parts := strings.Split(string(gs2), ",")
	if len(parts) < 2 || parts[0] != "n" && parts[0] != "y" {
		return "", "", false
	}
	if a, ok := strings.CutPrefix(parts[1], "a="); ok {
		user = a
	}
	for _, kv := range bytes.Split(rest, []byte{1}) {
		if k, v, found := strings.Cut(string(kv), "="); found && k == "auth" && len(v) > 7 && strings.EqualFold(v[:7], "bearer ") {
			token = v[7:]
		}
	}
	return user, token, user != "" && token != ""
}
