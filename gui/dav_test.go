package gui

import (
	"context"
	"strings"
	"testing"

	"mailmover/core/copier"
	"mailmover/core/dav"
	"mailmover/core/davtest"
	"mailmover/core/imapstore"
)

// TestDAVNotFound says in plain words why contacts or calendars are not
// copied: a refused password, an account with nothing to look from.
func TestDAVNotFound(t *testing.T) {
	ctx := context.Background()
	srv, err := davtest.Start(ctx, davtest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	good := srv.Config()
	bad := good
	bad.Password = "wrong"

	tests := []struct {
		name     string
		src, dst *dav.Config
		want     string
	}{
		{"refused on the new account", &good, &bad, "the new account refused the mail password"},
		{"nothing to look from", nil, &good, "none found on the old account"},
		{"no target", &good, nil, "none found on the new account"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := planDAV(ctx, dav.Contacts, tt.src, tt.dst)
			if p.ok() {
				t.Fatalf("planDAV(%s) succeeded; want it to fail", tt.name)
			}
			if got := davNotFound(p); !strings.Contains(got, tt.want) || strings.Contains(got, "wrong") {
				t.Errorf("davNotFound(%s) = %q; want %q in it", tt.name, got, tt.want)
			}
		})
	}
}

// TestDAVConfigs looks for contacts with the mail password, never for an
// OAuth account.
func TestDAVConfigs(t *testing.T) {
	pw := &imapstore.Config{Username: "ann", Password: "secret"}
	oauth := &imapstore.Config{Username: "bob@gmail.com", Tokens: staticTokens{}}
	s, d := davConfigs(nil, pw, oauth, "ann@example.org", "bob@gmail.com")
	if s == nil || s.Email != "ann@example.org" || s.Username != "ann" || s.Password != "secret" {
		t.Errorf("davConfigs(password account) = %+v; want discovery from the address with the mail password", s)
	}
	if d != nil {
		t.Errorf("davConfigs(OAuth account) = %+v; want none", d)
	}
}

// staticTokens is an OAuth token source that is never asked.
type staticTokens struct{}

func (staticTokens) Token(context.Context) (string, error) { return "", nil }

func (staticTokens) Refresh(context.Context) (string, error) { return "", nil }

// TestDoneDAVMissing says so in the verdict when the mail arrived but
// contacts did not.
func TestDoneDAVMissing(t *testing.T) {
	ui, _ := newTestUI(t, Deps{})
	plan := &copier.Plan{}
	ui.done.set(&imapstore.Config{}, &imapstore.Config{}, plan, &copier.Result{}, &copier.Verification{}, nil)
	j := &davJob{done: make(chan struct{}), parts: []*davPart{{
		kind: dav.Contacts, plan: &dav.Plan{},
		verified: &dav.Verification{Missing: 1, Collections: []dav.CollectionCheck{{Source: "Contacts", SourceCount: 3, Missing: []dav.MissingObject{{UID: "u1"}}}}},
	}}}
	close(j.done)
	ui.done.setDAV(j)
	d := ui.done
	if !strings.HasPrefix(d.title.Text, "The mail arrived; not all contacts") || d.davMissing != 1 {
		t.Errorf("verdict = %q, missing %d; want the contacts missing said", d.title.Text, d.davMissing)
	}
	if !containsText(labels(d.davRows), "2 of 3 contacts on the new account") {
		t.Errorf("rows = %q", labels(d.davRows))
	}
}
