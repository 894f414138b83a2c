package oauth

import (
	"context"
	"errors"
	"fmt"
	"time"

	"golang.org/x/oauth2"

	"mailmover/core/failure"
)

// DeviceCode is what the user needs to finish a device sign-in on another
// device (RFC 8628 section 3.3).
type DeviceCode struct {
	// UserCode is the short code to type in.
	UserCode string
	// VerificationURI is where to type it.
	VerificationURI string
	// VerificationURIComplete, if set, is an address with the code in it.
	VerificationURIComplete string
	// Expiry is when the code stops working.
	Expiry time.Time
}

// DeviceLogin signs a user in with the device authorization flow (RFC
// 8628): show is called once with the code to enter at the provider's page,
// then DeviceLogin polls until the user has done so, refused, or ctx ends.
// Microsoft offers it for IMAP; Google does not allow the Gmail scope with
// it, so for Google it fails at once.
func DeviceLogin(ctx context.Context, cfg Config, show func(DeviceCode)) (*oauth2.Token, error) {
	if cfg.Provider == Google && cfg.Endpoint.DeviceAuthURL == "" {
		return nil, failure.Newf(failure.Config, failure.ScopeAccount,
			"Google does not allow Gmail access with a sign-in code: sign in with the browser instead (leave out --device)")
	}
	oc, err := cfg.oauth2Config()
	if err != nil {
		return nil, err
	}
	if oc.Endpoint.DeviceAuthURL == "" {
		return nil, failure.Newf(failure.Config, failure.ScopeAccount, "%s offers no sign-in with a code", ProviderName(cfg.Provider))
	}
	hctx := cfg.context(ctx)
	da, err := oc.DeviceAuth(hctx)
	if err != nil {
		return nil, classify(ctx, "start the sign-in with "+ProviderName(cfg.Provider), err)
	}
	show(DeviceCode{UserCode: da.UserCode, VerificationURI: da.VerificationURI, VerificationURIComplete: da.VerificationURIComplete, Expiry: da.Expiry})
	tok, err := oc.DeviceAccessToken(hctx, da)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil {
			return nil, failure.Newf(failure.Auth, failure.ScopeAccount, "the sign-in code expired before it was entered: start again")
		}
		return nil, classify(ctx, fmt.Sprintf("sign in to %s with the code", ProviderName(cfg.Provider)), err)
	}
	return checkToken(cfg.Provider, tok)
}
