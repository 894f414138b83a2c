// Package oauth signs Mailmover in to Google and Microsoft with OAuth 2.0
// (RFC 6749) and keeps the account signed in.
//
// Login runs the authorization code flow with PKCE (RFC 7636) for a native
// app (RFC 8252): it opens the provider's sign-in page in the system
// browser, which comes back to a one-shot web server on
// http://127.0.0.1:PORT/ (a random free port). DeviceLogin runs the device
// authorization flow (RFC 8628) instead: the user types a short code on
// another device; Microsoft allows it for IMAP, Google does not for Gmail.
//
// Only the refresh token is kept, in the system keychain (package
// mailmover/core/secret), under Key(provider, username), together with the
// client it belongs to. TokenSourceFor turns it into access tokens for
// imapstore.Config.Tokens: cached in memory, renewed a minute before they
// expire and whenever the server refuses one. No token ever appears in an
// error, a log or a file.
//
// # Client IDs
//
// A provider only talks to registered applications. Mailmover ships with no
// client ID of its own in source: the builder sets defaults at link time,
//
//	go build -ldflags "-X mailmover/core/oauth.googleClientID=ID \
//	  -X mailmover/core/oauth.googleClientSecret=SECRET \
//	  -X mailmover/core/oauth.microsoftClientID=ID"
//
// and a user can give their own (Settings, or mailmover login --client-id).
// Never copy another application's client ID.
//
// To register one with Google: Google Cloud console → APIs & Services →
// Credentials → Create credentials → OAuth client ID → Application type
// "Desktop app"; add the scope https://mail.google.com/ on the OAuth
// consent screen (a restricted scope: a public app needs Google's
// verification; for yourself, add your address as a test user). Google
// issues a "client secret" for desktop apps that is not treated as
// confidential, but its token endpoint still wants it.
//
// To register one with Microsoft: Microsoft Entra admin center → App
// registrations → New registration; supported account types "Accounts in
// any organizational directory and personal Microsoft accounts"; add the
// platform "Mobile and desktop applications" with the redirect URI
// http://127.0.0.1 (if the portal refuses it, add it in the app's manifest;
// Microsoft ignores the port of a loopback redirect URI);
// under API permissions add Office 365 Exchange Online (or Microsoft Graph)
// → IMAP.AccessAsUser.All and offline_access; under Authentication allow
// public client flows for the device code flow. No secret is needed.
package oauth

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/endpoints"

	"mailmover/core/failure"
)

// Providers.
const (
	// Google is Gmail and Google Workspace.
	Google = "google"
	// Microsoft is Outlook.com and Microsoft 365 (Exchange Online).
	Microsoft = "microsoft"
)

// Scopes asked for: full IMAP access, and for Microsoft a refresh token
// (offline_access).
const (
	GoogleScope           = "https://mail.google.com/"
	MicrosoftIMAPScope    = "https://outlook.office.com/IMAP.AccessAsUser.All"
	MicrosoftOfflineScope = "offline_access"
)

// Build-time defaults, set with -ldflags "-X mailmover/core/oauth.NAME=VALUE".
// They are empty in source: unless the builder registered an application,
// no client ID is configured.
var (
	googleClientID     string
	googleClientSecret string
	microsoftClientID  string
)

// DefaultClientID returns the client ID built into this program for a
// provider, "" if none.
func DefaultClientID(provider string) string {
	switch provider {
	case Google:
		return googleClientID
	case Microsoft:
		return microsoftClientID
	}
	return ""
}

// Config says how to talk to a provider. The zero values of the optional
// fields mean the provider's defaults.
type Config struct {
	// Provider is Google or Microsoft.
	Provider string
	// ClientID is the registered application; "" means the build-time default.
	ClientID string
	// ClientSecret is the application's secret, for Google's desktop apps;
	// "" means the build-time default (Microsoft needs none).
	ClientSecret string
	// Tenant is the Microsoft tenant: "common" (default), "consumers",
	// "organizations" or a tenant ID.
	Tenant string
	// Endpoint replaces the provider's endpoints (a self-hosted or test server).
	Endpoint oauth2.Endpoint
	// Scopes replace the provider's scopes.
	Scopes []string
	// HTTPClient makes the requests to the provider; nil means a client with
	// a 30-second timeout.
	HTTPClient *http.Client
	// OpenURL shows the sign-in page to the user; nil means the system
	// browser (OpenBrowser).
	OpenURL func(url string) error
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
}

// ProviderName returns the provider's name for people.
func ProviderName(provider string) string {
	switch provider {
	case Google:
		return "Google"
	case Microsoft:
		return "Microsoft"
	}
	return provider
}

// ProviderFor returns the OAuth provider of an account from its preset ID
// (account.Preset.ID: "gmail", "microsoft") or, failing that, its IMAP
// server name; "" if neither is known.
func ProviderFor(preset, host string) string {
	switch strings.ToLower(preset) {
	case "gmail", Google:
		return Google
	case Microsoft, "outlook", "office365":
		return Microsoft
	}
	switch h := strings.ToLower(strings.TrimSuffix(host, ".")); {
	case h == "imap.gmail.com" || h == "imap.googlemail.com":
		return Google
	case h == "outlook.office365.com" || h == "outlook.office.com" || h == "imap-mail.outlook.com" || strings.HasSuffix(h, ".outlook.com"):
		return Microsoft
	}
	return ""
}

func (c *Config) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

func (c *Config) clientID() string {
	if c.ClientID != "" {
		return c.ClientID
	}
	return DefaultClientID(c.Provider)
}

func (c *Config) clientSecret() string {
	if c.ClientSecret != "" || c.ClientID != "" {
		// A user's own client comes with its own secret, or none.
		return c.ClientSecret
	}
	if c.Provider == Google {
		return googleClientSecret
	}
	return ""
}

func (c *Config) tenant() string {
	if c.Tenant == "" {
		return "common"
	}
	return c.Tenant
}

// oauth2Config builds the golang.org/x/oauth2 configuration.
func (c *Config) oauth2Config() (*oauth2.Config, error) {
	if c.Provider != Google && c.Provider != Microsoft {
		return nil, failure.Newf(failure.Config, failure.ScopeAccount, "unknown sign-in provider %q: use %q or %q", c.Provider, Google, Microsoft)
	}
	id := c.clientID()
	if id == "" {
		return nil, failure.Newf(failure.Config, failure.ScopeAccount,
			"no OAuth client ID is configured for %s in this build of Mailmover: register an application with %s (see the README) and give its client ID with --client-id or in the settings",
			ProviderName(c.Provider), ProviderName(c.Provider))
	}
	oc := &oauth2.Config{ClientID: id, ClientSecret: c.clientSecret(), Endpoint: c.Endpoint, Scopes: c.Scopes}
	switch c.Provider {
	case Google:
		if oc.Endpoint.TokenURL == "" {
			oc.Endpoint = endpoints.Google
		}
		if oc.Scopes == nil {
			oc.Scopes = []string{GoogleScope}
		}
	case Microsoft:
		if oc.Endpoint.TokenURL == "" {
			oc.Endpoint = endpoints.AzureAD(c.tenant())
		}
		if oc.Scopes == nil {
			oc.Scopes = []string{MicrosoftIMAPScope, MicrosoftOfflineScope}
		}
	}
	// Both providers take the client in the form, and a public client has
	// no secret to put in a Basic header.
	oc.Endpoint.AuthStyle = oauth2.AuthStyleInParams
	return oc, nil
}

// authParams are the extra parameters of the sign-in page.
func (c *Config) authParams(email string) []oauth2.AuthCodeOption {
	var opts []oauth2.AuthCodeOption
	if email != "" {
		opts = append(opts, oauth2.SetAuthURLParam("login_hint", email))
	}
	switch c.Provider {
	case Google:
		// A refresh token is issued only for offline access, and again on a
		// second sign-in only if consent is asked again.
		opts = append(opts, oauth2.AccessTypeOffline, oauth2.SetAuthURLParam("prompt", "consent"))
	case Microsoft:
		opts = append(opts, oauth2.SetAuthURLParam("prompt", "select_account"))
	}
	return opts
}

// context puts the HTTP client where golang.org/x/oauth2 looks for it.
func (c *Config) context(ctx context.Context) context.Context {
	hc := c.HTTPClient
	if hc == nil {
		hc = &http.Client{Timeout: 30 * time.Second}
	}
	return context.WithValue(ctx, oauth2.HTTPClient, hc)
}

// classify turns an error of the provider's endpoints into a failure, with
// only the OAuth error code and description from the reply (RFC 6749
// section 5.2): the raw reply body is never repeated.
func classify(ctx context.Context, op string, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("%s: %w", op, ctx.Err())
	}
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		msg := re.ErrorCode
		if msg == "" && re.Response != nil {
			msg = re.Response.Status
		}
		if re.ErrorDescription != "" {
			msg += ": " + firstLine(re.ErrorDescription)
		}
		kind := failure.Auth
		switch {
		case re.ErrorCode == "invalid_client" || re.ErrorCode == "unauthorized_client" || re.ErrorCode == "invalid_scope":
			kind = failure.Config
			msg += " (is the client ID right, and registered for this kind of sign-in?)"
		case re.ErrorCode == "slow_down" || re.Response != nil && re.Response.StatusCode == http.StatusTooManyRequests:
			kind = failure.Throttled
		case re.ErrorCode == "" && re.Response != nil && re.Response.StatusCode >= 500:
			kind = failure.Connection
		}
		return failure.New(kind, failure.ScopeAccount, op, errors.New("the sign-in service said "+msg))
	}
	var ne net.Error
	var ue *url.Error
	if errors.As(err, &ne) || errors.As(err, &ue) {
		return failure.New(failure.Connection, failure.ScopeAccount, op, err)
	}
	var fe *failure.Error
	if errors.As(err, &fe) {
		return err
	}
	return failure.New(failure.Auth, failure.ScopeAccount, op, err)
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	s = strings.TrimSpace(s)
	if len(s) > 300 {
		s = s[:300] + "…"
	}
	return s
}
