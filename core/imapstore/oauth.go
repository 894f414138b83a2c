package imapstore

import (
	"context"
	"encoding/base64"
	"strings"

	"github.com/emersion/go-sasl"

	"mailmover/core/failure"
)

// TokenSource gives OAuth 2.0 access tokens for an account (RFC 6749). Token
// returns a valid token, refreshing it before expiry; Refresh forces a new
// one, after the server refused the current one.
type TokenSource interface {
	Token(ctx context.Context) (string, error)
	Refresh(ctx context.Context) (string, error)
}

// xoauth2 is the SASL XOAUTH2 mechanism of Google and Microsoft: an initial
// response "user=U^Aauth=Bearer T^A^A"; on failure the server sends a base64
// JSON challenge that must be answered with an empty response before it says NO.
type xoauth2 struct{ user, token string }

// NewXOAuth2Client returns a SASL client for XOAUTH2.
func NewXOAuth2Client(user, token string) sasl.Client { return &xoauth2{user: user, token: token} }

// XOAuth2Response is the XOAUTH2 initial response for a user and token.
func XOAuth2Response(user, token string) []byte {
	return []byte("user=" + user + "\x01auth=Bearer " + token + "\x01\x01")
}

func (x *xoauth2) Start() (string, []byte, error) {
	return "XOAUTH2", XOAuth2Response(x.user, x.token), nil
}

func (x *xoauth2) Next(challenge []byte) ([]byte, error) {
	// The challenge is the server's error in JSON; an empty answer ends the exchange.
	return []byte{}, nil
}

// oauthMechanism picks the SASL mechanism for a token from the server's capabilities.
func oauthMechanism(has func(string) bool) string {
	switch {
	case has("AUTH=XOAUTH2"):
		return "XOAUTH2"
	case has("AUTH=OAUTHBEARER"):
		return "OAUTHBEARER"
	}
	return ""
}

// oauthClient returns the SASL client of a mechanism.
func oauthClient(mech, user, token, host string, port int) sasl.Client {
	if mech == "OAUTHBEARER" {
		return oauthBearer{sasl.NewOAuthBearerClient(&sasl.OAuthBearerOptions{Username: user, Token: token, Host: host, Port: port})}
	}
	return NewXOAuth2Client(user, token)
}

// oauthBearer answers the server's error challenge with ^A, as RFC 7628
// section 3.2.3 asks, so the server ends the exchange with NO and the token
// can be refreshed (go-sasl's client returns an error instead).
type oauthBearer struct{ sasl.Client }

func (o oauthBearer) Next(challenge []byte) ([]byte, error) { return []byte{1}, nil }

// tokenErr classifies a failure to get a token: the token source's own kind
// (a token endpoint briefly unreachable is a connection problem, retried),
// else an authentication failure.
func tokenErr(err error) error {
	if failure.KindOf(err) != failure.Unknown {
		return err
	}
	return failure.New(failure.Auth, failure.ScopeAccount, "get an access token", err)
}

// oauthInitial returns the base64 initial response of a mechanism, for the Appender.
func oauthInitial(mech, user, token, host string, port int) string {
	_, ir, _ := oauthClient(mech, user, token, host, port).Start()
	return base64.StdEncoding.EncodeToString(ir)
}

func hasCap(caps map[string]bool) func(string) bool {
	return func(c string) bool { return caps[strings.ToUpper(c)] }
}
