package oauth

import (
	"encoding/json"
	"errors"
	"io/fs"
	"os"

	"golang.org/x/oauth2"

	"mailmover/core/atomicfile"
	"mailmover/core/failure"
)

// Client is the user's setting for one provider: which registered
// application to sign in with, and where. It holds no secret (a client
// secret, where one is needed, goes to the keychain with the sign-in).
type Client struct {
	// ClientID is the application's client ID; "" means the build-time default.
	ClientID string `json:"clientId,omitempty"`
	// Tenant is the Microsoft tenant ("common", "consumers", "organizations" or an ID).
	Tenant string `json:"tenant,omitempty"`
	// AuthURL, TokenURL and DeviceAuthURL replace the provider's endpoints,
	// for a self-hosted or test authorization server.
	AuthURL       string `json:"authUrl,omitempty"`
	TokenURL      string `json:"tokenUrl,omitempty"`
	DeviceAuthURL string `json:"deviceAuthUrl,omitempty"`
}

// Settings are the user's OAuth settings, per provider (Google, Microsoft),
// kept in a JSON file in the configuration folder.
type Settings map[string]Client

// LoadSettings reads the settings file; a missing file gives empty settings.
func LoadSettings(path string) (Settings, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return Settings{}, nil
	}
	if err != nil {
		return nil, failure.New(failure.Local, failure.ScopeAccount, "read the sign-in settings", err)
	}
	s := Settings{}
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, failure.New(failure.Config, failure.ScopeAccount, "read the sign-in settings in "+path, err)
	}
	return s, nil
}

// SaveSettings writes the settings file atomically.
func SaveSettings(path string, s Settings) error {
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	if err := atomicfile.WriteFile(path, append(b, '\n'), 0o600); err != nil {
		return failure.New(failure.Local, failure.ScopeAccount, "save the sign-in settings", err)
	}
	return nil
}

// Config returns the configuration of a provider from the settings.
func (s Settings) Config(provider string) Config {
	c := s[provider]
	return Config{
		Provider: provider,
		ClientID: c.ClientID,
		Tenant:   c.Tenant,
		Endpoint: oauth2.Endpoint{AuthURL: c.AuthURL, TokenURL: c.TokenURL, DeviceAuthURL: c.DeviceAuthURL},
	}
}
