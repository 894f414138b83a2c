package cli

import (
	"bytes"
	"context"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"mailmover/core/account"
	"mailmover/core/imapstore"
	"mailmover/core/imaptest"
	"mailmover/core/oauth"
)

// watcher is a terminal that acts on what the command prints: it opens the
// first address matching re, as the user would.
type watcher struct {
	mu    sync.Mutex
	buf   bytes.Buffer
	re    *regexp.Regexp
	visit func(string) error
	err   error
	done  bool
}

func (w *watcher) Write(p []byte) (int, error) {
	w.mu.Lock()
	w.buf.Write(p)
	var addr string
	if !w.done {
		if m := w.re.FindString(w.buf.String()); m != "" {
			addr, w.done = m, true
		}
	}
	w.mu.Unlock()
	if addr != "" {
		err := w.visit(addr)
		w.mu.Lock()
		w.err = err
		w.mu.Unlock()
	}
	return len(p), nil
}

func (w *watcher) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

// oauthEnv is a test environment whose settings point at a test
// authorization server.
func oauthEnv(t *testing.T, a *imaptest.AuthServer, provider string) *Env {
	env, _, _ := testEnv(t, map[string]string{"GOOGLE_SECRET": "desktop-secret"})
	ep := a.Endpoint()
	s := oauth.Settings{provider: {ClientID: a.ClientID(), AuthURL: ep.AuthURL, TokenURL: ep.TokenURL, DeviceAuthURL: ep.DeviceAuthURL}}
	if err := oauth.SaveSettings(oauthSettingsPath(env), s); err != nil {
		t.Fatal(err)
	}
	return env
}

func TestLoginCommand(t *testing.T) {
	tests := []struct {
		name     string
		provider string
		args     []string
		opts     imaptest.AuthOptions
		addr     string // what the user opens from the output
	}{
		{"browser", "google", []string{"--no-browser", "--client-secret-env", "GOOGLE_SECRET"}, imaptest.AuthOptions{ClientSecret: "desktop-secret"}, `http://127\.0\.0\.1:\d+/authorize\?\S+`},
		{"device", "microsoft", []string{"--device"}, imaptest.AuthOptions{User: "zoe@outlook.com"}, `http://127\.0\.0\.1:\d+/device/verify\?user_code=\S+`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			const user = "zoe@outlook.com"
			a := imaptest.NewAuthServer(t, tt.opts)
			env := oauthEnv(t, a, tt.provider)
			w := &watcher{re: regexp.MustCompile(tt.addr), visit: a.Browser()}
			env.Stdout = w
			args := append([]string{"--provider", tt.provider, "--email", user}, tt.args...)
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			if code := runLogin(ctx, env, args); code != ExitOK {
				t.Fatalf("login %v = %d; stdout %q, stderr %q", args, code, w, env.Stderr)
			}
			if w.err != nil {
				t.Fatalf("visiting the sign-in address: %v", w.err)
			}
			if !strings.Contains(w.String(), "Signed in to") {
				t.Errorf("login printed %q; want it to say it signed in", w)
			}
			stored, err := env.Keychain.Get(oauth.Key(tt.provider, user))
			if err != nil {
				t.Fatalf("nothing kept in the keychain: %v", err)
			}
			if strings.Contains(w.String(), stored) || strings.Contains(w.String(), "rt-") {
				t.Errorf("login printed a token")
			}

			// A migration then signs in to an XOAUTH2 server with it.
			srv := imaptest.Start(t, imaptest.Options{ValidateToken: a.ValidateToken})
			srv.AddUser(user, "")
			acct := account.Account{Host: srv.Host, Port: srv.Port, Security: account.SecurityNone, Username: user, Auth: account.AuthOAuth2, Provider: map[string]string{"google": "gmail", "microsoft": "microsoft"}[tt.provider]}
			ts, err := oauthTokens(env, acct)
			if err != nil {
				t.Fatalf("oauthTokens: %v", err)
			}
			c, err := imapstore.Dial(ctx, &imapstore.Config{Host: srv.Host, Port: srv.Port, Security: imapstore.Plain, AllowPlain: true, Username: user, Tokens: ts, Timeout: 10 * time.Second})
			if err != nil {
				t.Fatalf("Dial with the kept sign-in: %v", err)
			}
			c.Close()
			if srv.Logins("XOAUTH2") != 1 {
				t.Errorf("XOAUTH2 sign-ins = %d; want 1", srv.Logins("XOAUTH2"))
			}
		})
	}
}

func TestLoginCommandErrors(t *testing.T) {
	a := imaptest.NewAuthServer(t, imaptest.AuthOptions{})
	tests := []struct {
		name string
		args []string
		edit func(*Env)
		want string
	}{
		{"no provider", []string{"--email", "a@b.c"}, nil, "--provider must be google or microsoft"},
		{"bad provider", []string{"--provider", "yahoo", "--email", "a@b.c"}, nil, "--provider must be google or microsoft"},
		{"no email", []string{"--provider", "google"}, nil, "--email"},
		{"no client id", []string{"--provider", "microsoft", "--email", "a@b.c"}, func(e *Env) { e.ConfigDir = t.TempDir() }, "no OAuth client ID is configured for Microsoft"},
		{"no keychain", []string{"--provider", "google", "--email", "a@b.c"}, func(e *Env) { e.KeychainErr = errKeychainTest }, "cannot be kept"},
		{"secret env unset", []string{"--provider", "google", "--email", "a@b.c", "--client-secret-env", "NOPE"}, nil, "NOPE"},
		{"google device", []string{"--provider", "google", "--email", "a@b.c", "--device"}, func(e *Env) { e.ConfigDir = t.TempDir() }, "Google does not allow"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := oauthEnv(t, a, "google")
			var errb bytes.Buffer
			env.Stderr = &errb
			if tt.edit != nil {
				tt.edit(env)
			}
			if code := runLogin(context.Background(), env, tt.args); code != ExitUsage {
				t.Errorf("login %v = %d; want %d (stderr %q)", tt.args, code, ExitUsage, errb.String())
			}
			if !strings.Contains(errb.String(), tt.want) {
				t.Errorf("login %v printed %q; want %q", tt.args, errb.String(), tt.want)
			}
		})
	}
}

func TestOAuthTokensNotSignedIn(t *testing.T) {
	env, _, _ := testEnv(t, nil)
	_, err := oauthTokens(env, account.Account{Host: "imap.gmail.com", Username: "x@gmail.com", Provider: "gmail", Auth: account.AuthOAuth2})
	if err == nil || !strings.Contains(err.Error(), "mailmover login --provider google --email x@gmail.com") {
		t.Errorf("oauthTokens(not signed in) = %v; want the login command", err)
	}
	_, err = oauthTokens(env, account.Account{Host: "imap.example.com", Username: "x", Auth: account.AuthOAuth2})
	if err == nil || !strings.Contains(err.Error(), "no sign-in service") {
		t.Errorf("oauthTokens(unknown provider) = %v; want an unknown-service error", err)
	}
}

var errKeychainTest = &keychainTestError{}

type keychainTestError struct{}

func (*keychainTestError) Error() string { return "no secret service" }
