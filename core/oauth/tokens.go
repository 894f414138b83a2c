package oauth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"golang.org/x/oauth2"

	"mailmover/core/failure"
	"mailmover/core/secret"
)

// Key returns the keychain key of a sign-in: "oauth:" + provider + ":" +
// username. It holds no secret.
func Key(provider, username string) string {
	return "oauth:" + provider + ":" + username
}

// earlyRefresh is how long before its expiry an access token is renewed.
const earlyRefresh = time.Minute

// stored is what the keychain holds for a sign-in: the refresh token and
// the client it was issued to (a refresh token works only with its client).
type stored struct {
	RefreshToken string `json:"refresh_token"`
	ClientID     string `json:"client_id,omitempty"`
	ClientSecret string `json:"client_secret,omitempty"`
	Tenant       string `json:"tenant,omitempty"`
}

// Save keeps the refresh token of a sign-in in the keychain, with the
// client of cfg.
func Save(kc secret.Keychain, provider, username string, cfg Config, tok *oauth2.Token) error {
	if tok == nil || tok.RefreshToken == "" {
		return failure.Newf(failure.Auth, failure.ScopeAccount, "no refresh token to keep for %s", username)
	}
	cfg.Provider = provider
	return save(kc, Key(provider, username), stored{RefreshToken: tok.RefreshToken, ClientID: cfg.clientID(), ClientSecret: cfg.clientSecret(), Tenant: cfg.Tenant})
}

func save(kc secret.Keychain, key string, st stored) error {
	b, err := json.Marshal(st)
	if err != nil {
		return err
	}
	if err := kc.Set(key, string(b)); err != nil {
		return failure.New(failure.Local, failure.ScopeAccount, "keep the sign-in", err)
	}
	return nil
}

func load(kc secret.Keychain, key string) (stored, error) {
	v, err := kc.Get(key)
	if err != nil {
		return stored{}, err
	}
	var st stored
	if !strings.HasPrefix(v, "{") {
		// A bare refresh token.
		return stored{RefreshToken: v}, nil
	}
	if err := json.Unmarshal([]byte(v), &st); err != nil || st.RefreshToken == "" {
		return stored{}, errors.New("the keychain entry is damaged")
	}
	return st, nil
}

// SignedIn reports whether the keychain holds a sign-in for the account.
func SignedIn(kc secret.Keychain, provider, username string) bool {
	_, err := load(kc, Key(provider, username))
	return err == nil
}

// Forget removes a sign-in from the keychain (the provider still lists the
// app until the user removes it there). A missing sign-in is not an error.
func Forget(kc secret.Keychain, provider, username string) error {
	if err := kc.Delete(Key(provider, username)); err != nil && !errors.Is(err, secret.ErrNotFound) {
		return failure.New(failure.Local, failure.ScopeAccount, "remove the sign-in", err)
	}
	return nil
}

// TokenSource gives access tokens of one account for imapstore.Config.Tokens.
// It keeps the current access token in memory only, renews it a minute
// before it expires and whenever Refresh is called (after the server
// refused it), and writes a new refresh token back to the keychain when the
// provider rotates it. It is safe for concurrent use by the copier's
// connections.
type TokenSource struct {
	kc       secret.Keychain
	key      string
	username string
	cfg      Config

	mu  sync.Mutex
	tok *oauth2.Token
}

// TokenSourceFor returns the token source of a signed-in account. The
// client the refresh token was issued to, kept with it, takes precedence
// over cfg's; cfg gives endpoints, HTTP client and clock. Nothing is read
// before the first token is asked for.
func TokenSourceFor(kc secret.Keychain, provider, username string, cfg Config) *TokenSource {
	cfg.Provider = provider
	return &TokenSource{kc: kc, key: Key(provider, username), username: username, cfg: cfg}
}

// Token returns a valid access token, renewing it if it expires within a minute.
func (s *TokenSource) Token(ctx context.Context) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.tok != nil && s.tok.AccessToken != "" && (s.tok.Expiry.IsZero() || s.cfg.now().Before(s.tok.Expiry.Add(-earlyRefresh))) {
		return s.tok.AccessToken, nil
	}
	return s.refresh(ctx)
}

// Refresh renews the access token at once and returns the new one.
func (s *TokenSource) Refresh(ctx context.Context) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.refresh(ctx)
}

// Expiry returns when the current access token expires (zero if none is held).
func (s *TokenSource) Expiry() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.tok == nil {
		return time.Time{}
	}
	return s.tok.Expiry
}

// refresh runs the refresh token grant (RFC 6749 section 6); s.mu is held.
func (s *TokenSource) refresh(ctx context.Context) (string, error) {
	s.tok = nil
	name := ProviderName(s.cfg.Provider)
	st, err := load(s.kc, s.key)
	if errors.Is(err, secret.ErrNotFound) {
		return "", failure.Newf(failure.Auth, failure.ScopeAccount,
			"not signed in to %s as %s: sign in first (mailmover login --provider %s --email %s)", name, s.username, s.cfg.Provider, s.username)
	}
	if err != nil {
		return "", failure.New(failure.Local, failure.ScopeAccount, "read the sign-in of "+s.username+" from the keychain", err)
	}
	cfg := s.cfg
	if st.ClientID != "" {
		cfg.ClientID, cfg.ClientSecret = st.ClientID, st.ClientSecret
	}
	if st.Tenant != "" {
		cfg.Tenant = st.Tenant
	}
	oc, err := cfg.oauth2Config()
	if err != nil {
		return "", err
	}
	tok, err := oc.TokenSource(cfg.context(ctx), &oauth2.Token{RefreshToken: st.RefreshToken}).Token()
	if err != nil {
		err = classify(ctx, fmt.Sprintf("renew the sign-in of %s at %s", s.username, name), err)
		if failure.KindOf(err) == failure.Auth {
			err = failure.New(failure.Auth, failure.ScopeAccount, "",
				fmt.Errorf("%w; sign in again (mailmover login --provider %s --email %s)", err, s.cfg.Provider, s.username))
		}
		return "", err
	}
	if tok.AccessToken == "" {
		return "", failure.Newf(failure.Auth, failure.ScopeAccount, "%s gave no access token for %s", name, s.username)
	}
	if tok.RefreshToken != "" && tok.RefreshToken != st.RefreshToken {
		// The provider rotated the refresh token: the old one may stop working.
		st.RefreshToken = tok.RefreshToken
		if err := save(s.kc, s.key, st); err != nil {
			return "", err
		}
	}
	s.tok = tok
	return tok.AccessToken, nil
}
