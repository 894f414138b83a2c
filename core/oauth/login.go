package oauth

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"html"
	"net"
	"net/http"
	"os/exec"
	"runtime"
	"strconv"
	"sync"
	"time"

	"golang.org/x/oauth2"

	"mailmover/core/failure"
)

// Login signs a user in through the system browser: the authorization code
// flow with PKCE (RFC 7636, S256) and a loopback redirect URI
// http://127.0.0.1:PORT/ on a random free port (RFC 8252 sections 7.3 and
// 8.3). email, if given, preselects the account on the sign-in page. It
// waits until the browser comes back or ctx ends; give ctx a deadline. The
// token it returns holds the refresh token to keep with Save.
func Login(ctx context.Context, cfg Config, email string) (*oauth2.Token, error) {
	oc, err := cfg.oauth2Config()
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, failure.New(failure.Local, failure.ScopeAccount, "open the sign-in return address", err)
	}
	oc.RedirectURL = "http://127.0.0.1:" + strconv.Itoa(ln.Addr().(*net.TCPAddr).Port) + "/"
	verifier := oauth2.GenerateVerifier()
	state := randomState()
	opts := append([]oauth2.AuthCodeOption{oauth2.S256ChallengeOption(verifier)}, cfg.authParams(email)...)
	authURL := oc.AuthCodeURL(state, opts...)

	type result struct {
		code string
		err  error
	}
	done := make(chan result, 1)
	srv := &http.Server{
		ReadHeaderTimeout: 10 * time.Second,
		Handler:           &callback{state: state, provider: ProviderName(cfg.Provider), done: func(code string, err error) { done <- result{code, err} }},
	}
	go srv.Serve(ln)
	defer srv.Close()

	open := cfg.OpenURL
	if open == nil {
		open = OpenBrowser
	}
	if err := open(authURL); err != nil {
		return nil, failure.New(failure.Local, failure.ScopeAccount, "open the sign-in page in a browser", err)
	}
	var res result
	select {
	case res = <-done:
	case <-ctx.Done():
		return nil, fmt.Errorf("wait for the sign-in in the browser: %w", ctx.Err())
	}
	if res.err != nil {
		return nil, res.err
	}
	tok, err := oc.Exchange(cfg.context(ctx), res.code, oauth2.VerifierOption(verifier))
	if err != nil {
		return nil, classify(ctx, "finish the sign-in with "+ProviderName(cfg.Provider), err)
	}
	return checkToken(cfg.Provider, tok)
}

// checkToken makes sure a new sign-in can be kept.
func checkToken(provider string, tok *oauth2.Token) (*oauth2.Token, error) {
	if tok.RefreshToken == "" {
		return nil, failure.Newf(failure.Auth, failure.ScopeAccount,
			"%s signed you in but gave no refresh token, so Mailmover could not stay signed in: sign in again (and allow offline access if asked)", ProviderName(provider))
	}
	return tok, nil
}

func randomState() string {
	b := make([]byte, 24)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// callback is the loopback web server's handler: it takes the first
// request that carries the right state and reports its code or error.
type callback struct {
	state, provider string
	done            func(code string, err error)

	mu       sync.Mutex
	finished bool
}

func (h *callback) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/" || r.Method != http.MethodGet {
		http.NotFound(w, r)
		return
	}
	q := r.URL.Query()
	if subtle.ConstantTimeCompare([]byte(q.Get("state")), []byte(h.state)) != 1 {
		// Not the sign-in Mailmover is waiting for (an old tab, another
		// program): keep waiting for the right one.
		page(w, http.StatusBadRequest, "This sign-in link is not the one Mailmover is waiting for",
			"Go back to Mailmover and start the sign-in again.")
		return
	}
	h.mu.Lock()
	again := h.finished
	h.finished = true
	h.mu.Unlock()
	if again {
		page(w, http.StatusOK, "Already signed in", "You can close this window and go back to Mailmover.")
		return
	}
	if e := q.Get("error"); e != "" {
		msg := e
		if d := q.Get("error_description"); d != "" {
			msg += ": " + firstLine(d)
		}
		page(w, http.StatusOK, "Sign-in not completed", "Mailmover was not allowed to read your mail ("+msg+"). You can close this window.")
		kind := failure.Auth
		if e == "invalid_client" || e == "unauthorized_client" || e == "invalid_scope" || e == "invalid_request" {
			kind = failure.Config
		}
		h.done("", failure.New(kind, failure.ScopeAccount, "sign in with "+h.provider, errors.New("the sign-in page said "+msg)))
		return
	}
	code := q.Get("code")
	if code == "" {
		page(w, http.StatusBadRequest, "Sign-in not completed", "The sign-in page sent no code. Go back to Mailmover and try again.")
		h.done("", failure.Newf(failure.Auth, failure.ScopeAccount, "the sign-in page of %s came back without a code", h.provider))
		return
	}
	page(w, http.StatusOK, "You are signed in", "Mailmover can now read your mail at "+h.provider+". You can close this window and go back to Mailmover.")
	h.done(code, nil)
}

// page writes a small, self-contained HTML page.
func page(w http.ResponseWriter, status int, title, text string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	fmt.Fprintf(w, `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Mailmover: %[1]s</title>
<style>body{font-family:system-ui,sans-serif;max-width:34em;margin:4em auto;padding:0 1em;color:#222}h1{font-size:1.4em}</style>
</head><body><h1>%[1]s</h1><p>%[2]s</p></body></html>
`, html.EscapeString(title), html.EscapeString(text))
}

// OpenBrowser opens url in the system browser: xdg-open on Linux and the
// BSDs, open on macOS, the URL protocol handler on Windows. It does not
// wait for the browser.
func OpenBrowser(url string) error {
	var cmd *exec.Cmd
	switch runtime.GOOS {
	case "darwin":
		cmd = exec.Command("open", url)
	case "windows":
		cmd = exec.Command("rundll32", "url.dll,FileProtocolHandler", url)
	default:
		cmd = exec.Command("xdg-open", url)
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start the browser: %w", err)
	}
	go cmd.Wait()
	return nil
}
