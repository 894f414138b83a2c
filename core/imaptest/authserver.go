package imaptest

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/oauth2"
)

// AuthOptions configures an AuthServer.
type AuthOptions struct {
	// ClientID is the only client the server knows; default "mailmover-test".
	ClientID string
	// ClientSecret, if set, must be sent by the client (as Google wants,
	// even from desktop apps); empty makes a public client (Microsoft).
	ClientSecret string
	// User is who signs in when the request does not say (login_hint);
	// default "alice@example.com".
	User string
	// AccessTTL is the lifetime of access tokens; default one hour.
	AccessTTL time.Duration
	// RotateRefreshTokens issues a new refresh token on each refresh and
	// voids the old one, as Microsoft does.
	RotateRefreshTokens bool
	// Deny makes the user refuse consent at the sign-in page.
	Deny bool
}

// AuthServer is an OAuth 2.0 authorization server (RFC 6749) for tests,
// served by httptest on 127.0.0.1: the authorization endpoint with PKCE
// (RFC 7636, S256 only) that redirects straight back to a loopback
// redirect URI (RFC 8252 section 7.3), the token endpoint (authorization
// code, refresh token and device code grants) and the device authorization
// endpoint (RFC 8628). Its ValidateToken fits Options.ValidateToken.
type AuthServer struct {
	// URL is the server's base URL, http://127.0.0.1:PORT.
	URL string

	opts AuthOptions
	hs   *httptest.Server

	mu        sync.Mutex
	codes     map[string]*authCode
	access    map[string]*accessToken
	refresh   map[string]string // refresh token -> user
	devices   map[string]*deviceGrant
	userCodes map[string]string // user code -> device code
	refreshes int
	issued    int
}

type authCode struct {
	redirect, challenge, user string
}

type accessToken struct {
	user   string
	expiry time.Time
}

type deviceGrant struct {
	userCode string
	approved bool
	denied   bool
	user     string
}

// NewAuthServer starts an authorization server that stops when the test ends.
func NewAuthServer(tb testing.TB, opts AuthOptions) *AuthServer {
	tb.Helper()
	if opts.ClientID == "" {
		opts.ClientID = "mailmover-test"
	}
	if opts.User == "" {
		opts.User = "alice@example.com"
	}
	if opts.AccessTTL <= 0 {
		opts.AccessTTL = time.Hour
	}
	a := &AuthServer{opts: opts, codes: map[string]*authCode{}, access: map[string]*accessToken{},
		refresh: map[string]string{}, devices: map[string]*deviceGrant{}, userCodes: map[string]string{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /authorize", a.authorize)
	mux.HandleFunc("POST /token", a.token)
	mux.HandleFunc("POST /device", a.device)
	mux.HandleFunc("GET /device/verify", a.verify)
	a.hs = httptest.NewServer(mux)
	tb.Cleanup(a.hs.Close)
	a.URL = a.hs.URL
	return a
}

// Endpoint returns the server's endpoints for golang.org/x/oauth2.
func (a *AuthServer) Endpoint() oauth2.Endpoint {
	return oauth2.Endpoint{
		AuthURL:       a.URL + "/authorize",
		TokenURL:      a.URL + "/token",
		DeviceAuthURL: a.URL + "/device",
		AuthStyle:     oauth2.AuthStyleInParams,
	}
}

// ClientID returns the client the server knows.
func (a *AuthServer) ClientID() string { return a.opts.ClientID }

// ValidateToken says whether token is a live access token of user.
func (a *AuthServer) ValidateToken(user, token string) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	t := a.access[token]
	switch {
	case t == nil:
		return errors.New("unknown access token")
	case !time.Now().Before(t.expiry):
		return errors.New("access token expired")
	case !strings.EqualFold(t.user, user):
		return errors.New("access token of another user")
	}
	return nil
}

// ExpireAccessTokens makes every access token issued so far expire now, as
// if its hour were up, and returns how many there were.
func (a *AuthServer) ExpireAccessTokens() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	past := time.Now().Add(-time.Second)
	for _, t := range a.access {
		t.expiry = past
	}
	return len(a.access)
}

// RevokeRefreshTokens voids every refresh token, as a password change does.
func (a *AuthServer) RevokeRefreshTokens() {
	a.mu.Lock()
	defer a.mu.Unlock()
	clear(a.refresh)
}

// Refreshes returns how many refresh-token grants succeeded.
func (a *AuthServer) Refreshes() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.refreshes
}

// Issued returns how many access tokens were issued.
func (a *AuthServer) Issued() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.issued
}

// Browser returns a stand-in for the system browser, to give as OpenURL:
// it visits the sign-in address and follows the redirect back to the
// loopback address, refusing any host but 127.0.0.1.
func (a *AuthServer) Browser() func(string) error {
	client := &http.Client{
		Timeout: 30 * time.Second,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if !loopback(req.URL) {
				return fmt.Errorf("test browser: refusing to visit %s", req.URL.Host)
			}
			return nil
		},
	}
	return func(addr string) error {
		u, err := url.Parse(addr)
		if err != nil {
			return err
		}
		if !loopback(u) {
			return fmt.Errorf("test browser: refusing to visit %s", u.Host)
		}
		resp, err := client.Get(addr)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("test browser: %s answered %s", resp.Request.URL.Host, resp.Status)
		}
		return nil
	}
}

// Visit opens a device-flow verification address as the user would,
// approving the sign-in.
func (a *AuthServer) Visit(addr string) error { return a.Browser()(addr) }

func loopback(u *url.URL) bool {
	ip := net.ParseIP(u.Hostname())
	return u.Scheme == "http" && ip != nil && ip.IsLoopback()
}

func random(prefix string) string {
	b := make([]byte, 16)
	rand.Read(b)
	return prefix + hex.EncodeToString(b)
}

func (a *AuthServer) authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if q.Get("client_id") != a.opts.ClientID {
		http.Error(w, "unknown client", http.StatusBadRequest)
		return
	}
	redirect, err := url.Parse(q.Get("redirect_uri"))
	if err != nil || !loopback(redirect) {
		http.Error(w, "redirect_uri must be a loopback address", http.StatusBadRequest)
		return
	}
	back := func(v url.Values) {
		v.Set("state", q.Get("state"))
		u := *redirect
		u.RawQuery = v.Encode()
		http.Redirect(w, r, u.String(), http.StatusFound)
	}
	switch {
	case q.Get("response_type") != "code":
		back(url.Values{"error": {"unsupported_response_type"}})
		return
	case q.Get("code_challenge_method") != "S256" || q.Get("code_challenge") == "":
		back(url.Values{"error": {"invalid_request"}, "error_description": {"PKCE with S256 is required"}})
		return
	case q.Get("scope") == "":
		back(url.Values{"error": {"invalid_scope"}})
		return
	case a.opts.Deny:
		back(url.Values{"error": {"access_denied"}, "error_description": {"The user did not consent"}})
		return
	}
	user := q.Get("login_hint")
	if user == "" {
		user = a.opts.User
	}
	code := random("code-")
	a.mu.Lock()
	a.codes[code] = &authCode{redirect: redirect.String(), challenge: q.Get("code_challenge"), user: user}
	a.mu.Unlock()
	back(url.Values{"code": {code}})
}

func tokenError(w http.ResponseWriter, status int, code, desc string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]string{"error": code, "error_description": desc})
}

func (a *AuthServer) clientOK(r *http.Request) bool {
	id, secret, ok := r.BasicAuth()
	if !ok {
		id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	}
	if id != a.opts.ClientID {
		return false
	}
	return a.opts.ClientSecret == "" || subtle.ConstantTimeCompare([]byte(secret), []byte(a.opts.ClientSecret)) == 1
}

func (a *AuthServer) token(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		tokenError(w, http.StatusBadRequest, "invalid_request", "bad form")
		return
	}
	if !a.clientOK(r) {
		tokenError(w, http.StatusUnauthorized, "invalid_client", "unknown client or wrong secret")
		return
	}
	f := r.PostForm
	a.mu.Lock()
	defer a.mu.Unlock()
	switch f.Get("grant_type") {
	case "authorization_code":
		c := a.codes[f.Get("code")]
		delete(a.codes, f.Get("code"))
		if c == nil {
			tokenError(w, http.StatusBadRequest, "invalid_grant", "unknown or used code")
			return
		}
		if f.Get("redirect_uri") != c.redirect {
			tokenError(w, http.StatusBadRequest, "invalid_grant", "redirect_uri differs")
			return
		}
		sum := sha256.Sum256([]byte(f.Get("code_verifier")))
		if base64.RawURLEncoding.EncodeToString(sum[:]) != c.challenge {
			tokenError(w, http.StatusBadRequest, "invalid_grant", "PKCE verification failed")
			return
		}
		a.issue(w, c.user, random("rt-"))
	case "refresh_token":
		rt := f.Get("refresh_token")
		user, ok := a.refresh[rt]
		if !ok {
			tokenError(w, http.StatusBadRequest, "invalid_grant", "Token has been expired or revoked.")
			return
		}
		a.refreshes++
		next := ""
		if a.opts.RotateRefreshTokens {
			delete(a.refresh, rt)
			next = random("rt-")
		}
		a.issue(w, user, next)
	case "urn:ietf:params:oauth:grant-type:device_code":
		d := a.devices[f.Get("device_code")]
		switch {
		case d == nil:
			tokenError(w, http.StatusBadRequest, "expired_token", "unknown device code")
		case d.denied:
			tokenError(w, http.StatusBadRequest, "access_denied", "The user did not consent")
		case !d.approved:
			tokenError(w, http.StatusBadRequest, "authorization_pending", "waiting for the user")
		default:
			delete(a.devices, f.Get("device_code"))
			delete(a.userCodes, d.userCode)
			a.issue(w, d.user, random("rt-"))
		}
	default:
		tokenError(w, http.StatusBadRequest, "unsupported_grant_type", f.Get("grant_type"))
	}
}

// issue answers with a new access token (and refresh token, if rt is set).
// a.mu is held.
func (a *AuthServer) issue(w http.ResponseWriter, user, rt string) {
	at := random("at-")
	a.access[at] = &accessToken{user: user, expiry: time.Now().Add(a.opts.AccessTTL)}
	a.issued++
	resp := map[string]any{"access_token": at, "token_type": "Bearer", "expires_in": int(a.opts.AccessTTL / time.Second)}
	if rt != "" {
		a.refresh[rt] = user
		resp["refresh_token"] = rt
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(resp)
}

func (a *AuthServer) device(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil || !a.clientOK(r) {
		tokenError(w, http.StatusUnauthorized, "invalid_client", "unknown client")
		return
	}
	dc := random("dc-")
	uc := strings.ToUpper(random("")[:8])
	uc = uc[:4] + "-" + uc[4:]
	a.mu.Lock()
	a.devices[dc] = &deviceGrant{userCode: uc}
	a.userCodes[uc] = dc
	a.mu.Unlock()
	verify := a.URL + "/device/verify"
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{
		"device_code": dc, "user_code": uc, "verification_uri": verify,
		"verification_uri_complete": verify + "?user_code=" + url.QueryEscape(uc),
		"expires_in":                300, "interval": 1,
	})
}

func (a *AuthServer) verify(w http.ResponseWriter, r *http.Request) {
	uc := r.URL.Query().Get("user_code")
	user := r.URL.Query().Get("user")
	if user == "" {
		user = a.opts.User
	}
	a.mu.Lock()
	d := a.devices[a.userCodes[uc]]
	if d != nil {
		d.approved, d.denied, d.user = !a.opts.Deny, a.opts.Deny, user
	}
	a.mu.Unlock()
	if d == nil {
		http.Error(w, "unknown code", http.StatusBadRequest)
		return
	}
	fmt.Fprintf(w, "<p>Signed in as %s.</p>", html.EscapeString(user))
}
