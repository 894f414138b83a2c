package oauth

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"mailmover/core/failure"
	"mailmover/core/imapstore"
	"mailmover/core/imaptest"
	"mailmover/core/secret"
)

var _ imapstore.TokenSource = (*TokenSource)(nil)

// testConfig returns a configuration that talks to a test authorization server.
func testConfig(a *imaptest.AuthServer, provider string) Config {
	return Config{Provider: provider, ClientID: a.ClientID(), Endpoint: a.Endpoint(), OpenURL: a.Browser()}
}

func ctxTimeout(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestLogin(t *testing.T) {
	for _, provider := range []string{Google, Microsoft} {
		t.Run(provider, func(t *testing.T) {
			opts := imaptest.AuthOptions{}
			if provider == Google {
				opts.ClientSecret = "desktop-secret"
			}
			a := imaptest.NewAuthServer(t, opts)
			cfg := testConfig(a, provider)
			cfg.ClientSecret = opts.ClientSecret
			var opened string
			browser := cfg.OpenURL
			cfg.OpenURL = func(u string) error { opened = u; return browser(u) }
			tok, err := Login(ctxTimeout(t), cfg, "carol@example.com")
			if err != nil {
				t.Fatalf("Login: %v", err)
			}
			if tok.RefreshToken == "" || tok.AccessToken == "" {
				t.Fatalf("Login gave %+v; want an access and a refresh token", tok)
			}
			if err := a.ValidateToken("carol@example.com", tok.AccessToken); err != nil {
				t.Errorf("the access token of Login is not carol's: %v", err)
			}
			u, _ := url.Parse(opened)
			q := u.Query()
			redirect, _ := url.Parse(q.Get("redirect_uri"))
			if redirect.Hostname() != "127.0.0.1" || redirect.Port() == "" || redirect.Path != "/" {
				t.Errorf("redirect_uri = %q; want http://127.0.0.1:PORT/", q.Get("redirect_uri"))
			}
			if q.Get("code_challenge_method") != "S256" || q.Get("state") == "" || q.Get("login_hint") != "carol@example.com" {
				t.Errorf("sign-in address %s lacks PKCE, state or login_hint", opened)
			}
			wantScope := map[string]string{Google: GoogleScope, Microsoft: MicrosoftIMAPScope + " " + MicrosoftOfflineScope}[provider]
			if q.Get("scope") != wantScope {
				t.Errorf("scope = %q; want %q", q.Get("scope"), wantScope)
			}
		})
	}
}

func TestLoginFailures(t *testing.T) {
	tests := []struct {
		name     string
		opts     imaptest.AuthOptions
		edit     func(*Config)
		wantKind failure.Kind
		want     string
	}{
		{"denied", imaptest.AuthOptions{Deny: true}, nil, failure.Auth, "access_denied"},
		{"wrong secret", imaptest.AuthOptions{ClientSecret: "right"}, func(c *Config) { c.ClientSecret = "wrong" }, failure.Config, "invalid_client"},
		{"no client ID", imaptest.AuthOptions{}, func(c *Config) { c.ClientID = "" }, failure.Config, "no OAuth client ID is configured for Google"},
		{"unknown provider", imaptest.AuthOptions{}, func(c *Config) { c.Provider = "yahoo" }, failure.Config, "unknown sign-in provider"},
		{"browser fails", imaptest.AuthOptions{}, func(c *Config) { c.OpenURL = func(string) error { return errors.New("no display") } }, failure.Local, "no display"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := imaptest.NewAuthServer(t, tt.opts)
			cfg := testConfig(a, Google)
			if tt.edit != nil {
				tt.edit(&cfg)
			}
			_, err := Login(ctxTimeout(t), cfg, "")
			if err == nil || failure.KindOf(err) != tt.wantKind || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Login(%s) = %v (kind %v); want a %v error mentioning %q", tt.name, err, failure.KindOf(err), tt.wantKind, tt.want)
			}
		})
	}
}

func TestLoginIgnoresStrangers(t *testing.T) {
	a := imaptest.NewAuthServer(t, imaptest.AuthOptions{})
	cfg := testConfig(a, Microsoft)
	browser := cfg.OpenURL
	cfg.OpenURL = func(u string) error {
		// Another page knocks at the loopback address first, with a wrong state.
		p, _ := url.Parse(u)
		redirect := p.Query().Get("redirect_uri")
		resp, err := http.Get(redirect + "?code=forged&state=wrong")
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest {
			return fmt.Errorf("forged callback answered %s; want 400", resp.Status)
		}
		if resp, err := http.Get(redirect + "favicon.ico"); err == nil {
			resp.Body.Close()
		}
		return browser(u)
	}
	tok, err := Login(ctxTimeout(t), cfg, "")
	if err != nil {
		t.Fatalf("Login after a forged callback: %v", err)
	}
	if err := a.ValidateToken("alice@example.com", tok.AccessToken); err != nil {
		t.Errorf("token after a forged callback: %v", err)
	}
}

func TestLoginCancelled(t *testing.T) {
	a := imaptest.NewAuthServer(t, imaptest.AuthOptions{})
	cfg := testConfig(a, Google)
	ctx, cancel := context.WithCancel(context.Background())
	cfg.OpenURL = func(string) error { cancel(); return nil } // the user never comes back
	_, err := Login(ctx, cfg, "")
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Login cancelled = %v; want context.Canceled", err)
	}
}

func TestDeviceLogin(t *testing.T) {
	a := imaptest.NewAuthServer(t, imaptest.AuthOptions{User: "dave@example.com"})
	cfg := testConfig(a, Microsoft)
	var shown DeviceCode
	tok, err := DeviceLogin(ctxTimeout(t), cfg, func(dc DeviceCode) {
		shown = dc
		if err := a.Visit(dc.VerificationURIComplete); err != nil {
			t.Errorf("visit %s: %v", dc.VerificationURIComplete, err)
		}
	})
	if err != nil {
		t.Fatalf("DeviceLogin: %v", err)
	}
	if shown.UserCode == "" || shown.VerificationURI == "" || shown.Expiry.IsZero() {
		t.Errorf("DeviceLogin showed %+v; want a code, an address and an expiry", shown)
	}
	if err := a.ValidateToken("dave@example.com", tok.AccessToken); err != nil {
		t.Errorf("device token: %v", err)
	}

	// Google refuses the Gmail scope in the device flow: say so at once.
	_, err = DeviceLogin(ctxTimeout(t), Config{Provider: Google, ClientID: "x"}, func(DeviceCode) { t.Error("show called for Google") })
	if failure.KindOf(err) != failure.Config || !strings.Contains(err.Error(), "browser") {
		t.Errorf("DeviceLogin(Google) = %v; want a config error pointing to the browser", err)
	}
}

func TestDeviceLoginDenied(t *testing.T) {
	a := imaptest.NewAuthServer(t, imaptest.AuthOptions{Deny: true})
	_, err := DeviceLogin(ctxTimeout(t), testConfig(a, Microsoft), func(dc DeviceCode) { a.Visit(dc.VerificationURIComplete) })
	if failure.KindOf(err) != failure.Auth || !strings.Contains(err.Error(), "access_denied") {
		t.Errorf("DeviceLogin denied = %v; want an auth error with access_denied", err)
	}
}

// signIn runs Login and keeps the result in kc.
func signIn(t *testing.T, a *imaptest.AuthServer, kc secret.Keychain, provider, user string) Config {
	t.Helper()
	cfg := testConfig(a, provider)
	tok, err := Login(ctxTimeout(t), cfg, user)
	if err != nil {
		t.Fatalf("Login: %v", err)
	}
	if err := Save(kc, provider, user, cfg, tok); err != nil {
		t.Fatalf("Save: %v", err)
	}
	return cfg
}

// clock is a settable time.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func TestTokenSource(t *testing.T) {
	a := imaptest.NewAuthServer(t, imaptest.AuthOptions{AccessTTL: time.Hour})
	kc := secret.NewMemory()
	const user = "erin@example.com"
	cfg := signIn(t, a, kc, Google, user)
	clk := &clock{t: time.Now()}
	// Only the endpoints and clock come from the caller; the client is the one kept.
	ts := TokenSourceFor(kc, Google, user, Config{Endpoint: a.Endpoint(), Now: clk.now})
	ctx := ctxTimeout(t)

	t1, err := ts.Token(ctx)
	if err != nil {
		t.Fatalf("Token: %v", err)
	}
	if err := a.ValidateToken(user, t1); err != nil {
		t.Fatalf("Token gave an invalid token: %v", err)
	}
	if t2, _ := ts.Token(ctx); t2 != t1 || a.Refreshes() != 1 {
		t.Errorf("second Token = new token or %d refreshes; want the cached one and 1 refresh", a.Refreshes())
	}
	clk.add(58 * time.Minute) // two minutes left: still good
	if t3, _ := ts.Token(ctx); t3 != t1 {
		t.Errorf("Token with two minutes left renewed it; want the cached one")
	}
	clk.add(90 * time.Second) // thirty seconds left: renew
	t4, err := ts.Token(ctx)
	if err != nil || t4 == t1 || a.Refreshes() != 2 {
		t.Errorf("Token with 30 s left = same token, %v, %d refreshes; want a new one", err, a.Refreshes())
	}
	t5, err := ts.Refresh(ctx)
	if err != nil || t5 == t4 || a.Refreshes() != 3 {
		t.Errorf("Refresh = same token, %v, %d refreshes; want a new one", err, a.Refreshes())
	}
	if !SignedIn(kc, Google, user) || SignedIn(kc, Microsoft, user) {
		t.Errorf("SignedIn wrong")
	}
	_ = cfg

	// Revoked: the error says to sign in again and holds no token.
	a.RevokeRefreshTokens()
	stored, _ := kc.Get(Key(Google, user))
	_, err = ts.Refresh(ctx)
	if failure.KindOf(err) != failure.Auth || !strings.Contains(err.Error(), "sign in again") {
		t.Errorf("Refresh after revocation = %v; want an auth error saying to sign in again", err)
	}
	for _, secretText := range []string{t5, stored, "rt-", "at-"} {
		if err != nil && strings.Contains(err.Error(), secretText) {
			t.Errorf("error %q contains a token", err)
		}
	}

	// Signed out.
	if err := Forget(kc, Google, user); err != nil {
		t.Fatal(err)
	}
	if err := Forget(kc, Google, user); err != nil {
		t.Errorf("Forget twice: %v", err)
	}
	_, err = ts.Token(ctx)
	if failure.KindOf(err) != failure.Auth || !strings.Contains(err.Error(), "mailmover login --provider google --email "+user) {
		t.Errorf("Token when signed out = %v; want an auth error naming the login command", err)
	}
}

func TestTokenSourceRotation(t *testing.T) {
	a := imaptest.NewAuthServer(t, imaptest.AuthOptions{RotateRefreshTokens: true})
	kc := secret.NewMemory()
	const user = "frank@example.com"
	signIn(t, a, kc, Microsoft, user)
	before, _ := kc.Get(Key(Microsoft, user))
	ts := TokenSourceFor(kc, Microsoft, user, Config{Endpoint: a.Endpoint()})
	ctx := ctxTimeout(t)
	// Many connections at once, each forcing a renewal: every renewal must use
	// the latest refresh token, or the rotated-out one would be refused.
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			if _, err := ts.Refresh(ctx); err != nil {
				t.Errorf("Refresh: %v", err)
			}
		})
	}
	wg.Wait()
	after, _ := kc.Get(Key(Microsoft, user))
	if after == before {
		t.Errorf("the rotated refresh token was not written back to the keychain")
	}
	if a.Refreshes() != 8 {
		t.Errorf("Refreshes = %d; want 8", a.Refreshes())
	}
}

func TestNoTokenInErrors(t *testing.T) {
	// The token endpoint fails with a body that would echo the request.
	srv := http.NewServeMux()
	srv.HandleFunc("POST /token", func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprintf(w, `{"error":"invalid_grant","error_description":"bad","echo":%q}`, r.PostForm.Get("refresh_token"))
	})
	hs := newHTTPServer(t, srv)
	kc := secret.NewMemory()
	kc.Set(Key(Google, "g@example.com"), `{"refresh_token":"SECRET-REFRESH","client_id":"c"}`)
	ts := TokenSourceFor(kc, Google, "g@example.com", Config{Endpoint: endpointOf(hs)})
	_, err := ts.Token(ctxTimeout(t))
	if err == nil || strings.Contains(err.Error(), "SECRET-REFRESH") {
		t.Errorf("Token error = %v; want an error without the refresh token", err)
	}
	if !strings.Contains(err.Error(), "invalid_grant: bad") {
		t.Errorf("Token error = %v; want the OAuth error code and description", err)
	}
}

func TestProviderFor(t *testing.T) {
	tests := []struct{ preset, host, want string }{
		{"gmail", "", Google},
		{"", "imap.gmail.com", Google},
		{"microsoft", "", Microsoft},
		{"", "outlook.office365.com", Microsoft},
		{"", "IMAP-MAIL.OUTLOOK.COM.", Microsoft},
		{"yahoo", "imap.mail.yahoo.com", ""},
	}
	for _, tt := range tests {
		if got := ProviderFor(tt.preset, tt.host); got != tt.want {
			t.Errorf("ProviderFor(%q, %q) = %q; want %q", tt.preset, tt.host, got, tt.want)
		}
	}
}

func TestSettings(t *testing.T) {
	path := filepath.Join(t.TempDir(), "oauth.json")
	s, err := LoadSettings(path)
	if err != nil || len(s) != 0 {
		t.Fatalf("LoadSettings(missing) = %v, %v; want empty", s, err)
	}
	s[Microsoft] = Client{ClientID: "my-app", Tenant: "consumers"}
	if err := SaveSettings(path, s); err != nil {
		t.Fatal(err)
	}
	s2, err := LoadSettings(path)
	if err != nil {
		t.Fatal(err)
	}
	cfg := s2.Config(Microsoft)
	oc, err := cfg.oauth2Config()
	if err != nil {
		t.Fatal(err)
	}
	if oc.ClientID != "my-app" || !strings.Contains(oc.Endpoint.TokenURL, "/consumers/") {
		t.Errorf("config from settings = %q %q; want my-app and the consumers tenant", oc.ClientID, oc.Endpoint.TokenURL)
	}
	gcfg := s2.Config(Google)
	if _, err := gcfg.oauth2Config(); err == nil && DefaultClientID(Google) == "" {
		t.Errorf("Google without a client ID: want an error")
	}
}

// TestSecretServiceKeepsSignIn keeps a sign-in in the real system keychain.
// It runs only with MAILMOVER_SECRET_SERVICE=1 and a Secret Service running
// (see .ci/test-keyring.sh).
func TestSecretServiceKeepsSignIn(t *testing.T) {
	if os.Getenv("MAILMOVER_SECRET_SERVICE") != "1" {
		t.Skip("set MAILMOVER_SECRET_SERVICE=1 with a Secret Service running (see .ci/test-keyring.sh)")
	}
	kc, err := secret.OS()
	if err != nil {
		t.Fatalf("secret.OS: %v", err)
	}
	a := imaptest.NewAuthServer(t, imaptest.AuthOptions{RotateRefreshTokens: true})
	user := fmt.Sprintf("keyring-%d@example.com", os.Getpid())
	t.Cleanup(func() { Forget(kc, Microsoft, user) })
	signIn(t, a, kc, Microsoft, user)
	// A new keychain value, as a later run of Mailmover would open.
	kc2, err := secret.OS()
	if err != nil {
		t.Fatal(err)
	}
	tok, err := TokenSourceFor(kc2, Microsoft, user, Config{Endpoint: a.Endpoint()}).Token(ctxTimeout(t))
	if err != nil {
		t.Fatalf("Token from the system keychain: %v", err)
	}
	if err := a.ValidateToken(user, tok); err != nil {
		t.Errorf("token: %v", err)
	}
}

func newHTTPServer(t *testing.T, h http.Handler) *httptest.Server {
	hs := httptest.NewServer(h)
	t.Cleanup(hs.Close)
	return hs
}

func endpointOf(hs *httptest.Server) oauth2.Endpoint {
	return oauth2.Endpoint{AuthURL: hs.URL + "/authorize", TokenURL: hs.URL + "/token"}
}
