package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"mailmover/core/account"
	"mailmover/core/failure"
	"mailmover/core/imapstore"
	"mailmover/core/oauth"
)

// loginTimeout bounds how long login waits for the user in the browser.
const loginTimeout = 10 * time.Minute

// oauthSettingsPath is the file of the user's OAuth settings (client IDs,
// tenant): no secret is in it.
func oauthSettingsPath(env *Env) string { return filepath.Join(env.ConfigDir, "oauth.json") }

// runLogin signs in to Google or Microsoft with OAuth 2.0 and keeps the
// sign-in (the refresh token) in the system keychain:
//
//	mailmover login --provider google|microsoft --email ADDRESS [--device] [--client-id ID]
func runLogin(ctx context.Context, env *Env, args []string) int {
	const usage = "--provider google|microsoft --email ADDRESS [--device] [--client-id ID]"
	fs := newFlagSet(env, "login", usage)
	var provider, email, clientID, secretEnv, tenant string
	var device, noBrowser bool
	fs.StringVar(&provider, "provider", "", "google (Gmail, Google Workspace) or microsoft (Outlook.com, Microsoft 365)")
	fs.StringVar(&email, "email", "", "the address to sign in as")
	fs.BoolVar(&device, "device", false, "sign in by entering a code on any device instead of in a browser here (Microsoft only)")
	fs.StringVar(&clientID, "client-id", "", "client ID of the application you registered with the provider (remembered)")
	fs.StringVar(&secretEnv, "client-secret-env", "", "environment variable holding your application's client secret (Google desktop apps)")
	fs.StringVar(&tenant, "tenant", "", "Microsoft tenant: common (default), consumers, organizations or a tenant ID (remembered)")
	fs.BoolVar(&noBrowser, "no-browser", false, "print the sign-in address instead of opening the browser")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return ExitOK
		}
		return ExitUsage
	}
	if p := oauth.ProviderFor(provider, ""); p != "" {
		provider = p
	} else {
		return report(env, failure.Newf(failure.Config, failure.ScopeAccount, "--provider must be google or microsoft, not %q", provider))
	}
	if !strings.Contains(email, "@") {
		return report(env, failure.Newf(failure.Config, failure.ScopeAccount, "--email must be the address to sign in as"))
	}
	if env.Keychain == nil || env.KeychainError() != nil {
		return report(env, failure.New(failure.Local, failure.ScopeAccount, "",
			fmt.Errorf("the sign-in cannot be kept: %w", keychainProblem(env))))
	}
	path := oauthSettingsPath(env)
	settings, err := oauth.LoadSettings(path)
	if err != nil {
		return report(env, err)
	}
	cfg := settings.Config(provider)
	remember := settings[provider]
	if clientID != "" {
		cfg.ClientID, remember.ClientID = clientID, clientID
	}
	if tenant != "" {
		cfg.Tenant, remember.Tenant = tenant, tenant
	}
	if secretEnv != "" {
		if cfg.ClientSecret = env.Getenv(secretEnv); cfg.ClientSecret == "" {
			return report(env, failure.Newf(failure.Config, failure.ScopeAccount, "the environment variable %s named by --client-secret-env is empty or unset", secretEnv))
		}
	}
	name := oauth.ProviderName(provider)
	cfg.OpenURL = func(u string) error {
		fmt.Fprintf(env.Stdout, "Sign in to %s in your browser. If no browser opens, open this address yourself:\n\n  %s\n\nWaiting for the sign-in (press Ctrl-C to give up)...\n", name, u)
		if noBrowser {
			return nil
		}
		if err := oauth.OpenBrowser(u); err != nil {
			fmt.Fprintf(env.Stderr, "Could not open a browser (%v): open the address above yourself.\n", err)
		}
		return nil
	}
	lctx, cancel := context.WithTimeout(ctx, loginTimeout)
	defer cancel()
	var tok *oauth2.Token
	if device {
		tok, err = oauth.DeviceLogin(lctx, cfg, func(dc oauth.DeviceCode) {
			fmt.Fprintf(env.Stdout, "To sign in to %s, open %s on any device and enter the code %s", name, dc.VerificationURI, dc.UserCode)
			if !dc.Expiry.IsZero() {
				fmt.Fprintf(env.Stdout, " before %s", dc.Expiry.Local().Format("15:04"))
			}
			fmt.Fprintln(env.Stdout, ".")
			if dc.VerificationURIComplete != "" {
				fmt.Fprintf(env.Stdout, "Or open %s\n", dc.VerificationURIComplete)
			}
			fmt.Fprintln(env.Stdout, "Waiting for the sign-in (press Ctrl-C to give up)...")
		})
	} else {
		tok, err = oauth.Login(lctx, cfg, email)
	}
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil {
			err = failure.Newf(failure.Auth, failure.ScopeAccount, "the sign-in was not finished within %s: run the command again", loginTimeout)
		}
		return report(env, err)
	}
	if err := oauth.Save(env.Keychain, provider, email, cfg, tok); err != nil {
		return report(env, err)
	}
	if remember != settings[provider] {
		settings[provider] = remember
		if err := oauth.SaveSettings(path, settings); err != nil {
			fmt.Fprintf(env.Stderr, "mailmover: signed in, but %v\n", err)
		}
	}
	fmt.Fprintf(env.Stdout, "Signed in to %s as %s. The sign-in is kept in the system keychain and renewed by Mailmover as needed.\n", name, email)
	return ExitOK
}

func keychainProblem(env *Env) error {
	if env.KeychainError() != nil {
		return env.KeychainError()
	}
	return errors.New("no keychain")
}

// oauthTokens returns the token source of an account that signs in with
// OAuth 2.0 (account.AuthOAuth2), for imapstore.Config.Tokens. It fails if
// the provider is unknown or the account is not signed in.
func oauthTokens(env *Env, acct account.Account) (imapstore.TokenSource, error) {
	provider := oauth.ProviderFor(acct.Provider, acct.Host)
	if provider == "" {
		return nil, failure.Newf(failure.Config, failure.ScopeAccount,
			"%s is set to sign in with OAuth 2.0, but Mailmover knows no sign-in service for %s: use a password or an app password", acct.Username, acct.Host)
	}
	if env.Keychain == nil || !oauth.SignedIn(env.Keychain, provider, acct.Username) {
		return nil, failure.Newf(failure.Auth, failure.ScopeAccount,
			"not signed in to %s as %s: run mailmover login --provider %s --email %s", oauth.ProviderName(provider), acct.Username, provider, acct.Username)
	}
	settings, err := oauth.LoadSettings(oauthSettingsPath(env))
	if err != nil {
		return nil, err
	}
	return oauth.TokenSourceFor(env.Keychain, provider, acct.Username, settings.Config(provider)), nil
}
