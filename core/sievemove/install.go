package sievemove

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"mailmover/core/failure"
	"mailmover/core/filters"
	"mailmover/core/sieve"
	"mailmover/core/sieve/managesieve"
)

// IncludeName is the name of the script Install writes to run several
// scripts at once (RFC 6609 include).
const IncludeName = "mailmover"

// includeMark is the comment that marks the include script.
const includeMark = "# Runs the filters carried over to this server"

// Reader is what ReadScripts needs of a ManageSieve session; a
// *managesieve.Client is one.
type Reader interface {
	ListScripts(ctx context.Context) ([]managesieve.Script, error)
	GetScript(ctx context.Context, name string) (string, error)
}

// Server is what Install needs of a ManageSieve session (RFC 5804); a
// *managesieve.Client is one.
type Server interface {
	Reader
	Capabilities() managesieve.Capabilities
	CheckScript(ctx context.Context, script string) (warnings string, err error)
	HaveSpace(ctx context.Context, name string, size int) error
	PutScript(ctx context.Context, name, script string) (warnings string, err error)
	SetActive(ctx context.Context, name string) error
}

// Origin says where an installed script comes from.
type Origin int

const (
	// Generated scripts were made from the mail program's filters.
	Generated Origin = iota
	// OldServer scripts were found on the old server.
	OldServer
	// Includer is the script Install writes to run the others.
	Includer
)

var originText = [...]string{"generated from the mail program's filters", "from the old server", "includes the others"}

// String says where the script comes from, in plain words.
func (o Origin) String() string {
	if int(o) < len(originText) {
		return originText[o]
	}
	return fmt.Sprintf("origin(%d)", int(o))
}

// MarshalText encodes the origin as its plain words.
func (o Origin) MarshalText() ([]byte, error) { return []byte(o.String()), nil }

// Installed is one script put on (or found already on) the new server.
type Installed struct {
	// Name is the script's name on the server.
	Name string `json:"name"`
	// From says where the script comes from.
	From Origin `json:"from"`
	// Already says an identical script was there: nothing was uploaded.
	Already bool `json:"already,omitempty"`
	// Active says the script is the active one after Install.
	Active bool `json:"active,omitempty"`
	// Wanted is the name asked for; Name differs when another script of
	// other content had it.
	Wanted string `json:"-"`
	// Warnings are the server's warnings on upload (RFC 5804 section 2.6).
	Warnings string `json:"-"`
}

// Activation says what Install did about the active script.
type Activation int

const (
	// NotAsked: activation was not asked for; nothing was activated.
	NotAsked Activation = iota
	// NothingToActivate: no script was installed that should run.
	NothingToActivate
	// ActivationFailed: the server refused the include script or the
	// activation; InstallResult.Problems says why.
	ActivationFailed
	// Activated: InstallResult.Active is the active script.
	Activated
)

// InstallResult is what Install did.
type InstallResult struct {
	// As maps a generated script's name to its name on the server.
	As map[string]string
	// Installed lists the scripts uploaded or found, in order.
	Installed []Installed
	// Activation says whether Active was set.
	Activation Activation
	// Active is the active script when Activation is Activated.
	Active string
	// Previous is the script that was active before Install, "" if none.
	Previous string
	// PreviousIncluded says Active runs Previous through include: when
	// false and Previous differs from Active, Previous is still there
	// but no longer runs.
	PreviousIncluded bool
	// Problems are the scripts the server refused, in plain words.
	Problems []string
}

// InstallOptions tune Install.
type InstallOptions struct {
	// Activate makes the scripts that should run the active ones.
	Activate bool
	// User is the new account's user name: when the server cannot run
	// several scripts, the generated script of the account of that name
	// is the one made active.
	User string
}

// fatal says whether a ManageSieve error ends the installation (the
// connection or the sign-in is gone) rather than only the one script.
func fatal(err error) bool {
	switch failure.KindOf(err) {
	case failure.Connection, failure.TLS, failure.Auth, failure.Cancelled:
		return true
	}
	return false
}

// sameText compares scripts regardless of line ends.
func sameText(a, b string) bool {
	return strings.ReplaceAll(a, "\r\n", "\n") == strings.ReplaceAll(b, "\r\n", "\n")
}

// Install puts the generated scripts gen and the old server's scripts old
// on the new server (RFC 5804): CHECKSCRIPT, HAVESPACE, then PUTSCRIPT. An
// existing script is never replaced nor deleted: one of the same name and
// content is kept as it is, one of other content makes the new one go
// under the name with a suffix ("-2"). Install sets each old script's
// Fate. With opts.Activate, the scripts that should run (the generated
// ones, the old server's active one, and the new server's active one) are
// made active: through a small IncludeName script that includes them
// (RFC 6609) when the server has "include", else the generated one for
// opts.User alone. Script-level refusals become Problems; only a lost
// connection or sign-in is an error.
func Install(ctx context.Context, srv Server, gen []*sieve.Script, old []filters.ServerScript, opts InstallOptions) (*InstallResult, error) {
	r := &InstallResult{As: map[string]string{}}
	list, err := srv.ListScripts(ctx)
	if err != nil {
		return nil, err
	}
	existing := map[string]bool{}
	for _, s := range list {
		existing[s.Name] = true
		if s.Active {
			r.Previous = s.Name
		}
	}
	// put installs text under name or a free variant of it; "" when the
	// server refused it.
	put := func(name string, from Origin, text string) (string, error) {
		if _, err := srv.CheckScript(ctx, text); err != nil {
			if fatal(err) {
				return "", err
			}
			r.Problems = append(r.Problems, fmt.Sprintf("the new server refuses the script %q (%s): %v", name, from, err))
			return "", nil
		}
		final := name
		for i := 2; existing[final]; i++ {
			cur, err := srv.GetScript(ctx, final)
			if err != nil {
				return "", err
			}
			if sameText(cur, text) {
				r.Installed = append(r.Installed, Installed{Name: final, From: from, Already: true, Wanted: name})
				return final, nil
			}
			final = fmt.Sprintf("%s-%d", name, i)
		}
		if err := srv.HaveSpace(ctx, final, len(text)); err != nil {
			if fatal(err) {
				return "", err
			}
			r.Problems = append(r.Problems, fmt.Sprintf("no room on the new server for the script %q (%s): %v", final, from, err))
			return "", nil
		}
		warn, err := srv.PutScript(ctx, final, text)
		if err != nil {
			if fatal(err) {
				return "", err
			}
			r.Problems = append(r.Problems, fmt.Sprintf("the new server refuses the script %q (%s): %v", final, from, err))
			return "", nil
		}
		existing[final] = true
		r.Installed = append(r.Installed, Installed{Name: final, From: from, Wanted: name, Warnings: warn})
		return final, nil
	}

	var run []string // scripts that should run on new mail, in order
	primary := ""
	for _, s := range gen {
		name, err := put(s.Name, Generated, s.Text)
		if err != nil {
			return nil, err
		}
		if name == "" {
			continue
		}
		r.As[s.Name] = name
		run = append(run, name)
		if primary == "" || s.Name == InstallPrefix+scriptName(opts.User) {
			primary = name
		}
	}
	for i := range old {
		s := &old[i]
		name, err := put(s.Name, OldServer, s.Text)
		if err != nil {
			return nil, err
		}
		switch {
		case name == "":
			s.Fate = "Not installed on the new server: it refused the script (see the problems)."
			continue
		case name == s.Name:
			s.Fate = fmt.Sprintf("Installed on the new server as %q.", name)
		default:
			s.Fate = fmt.Sprintf("Installed on the new server as %q: a different script named %q was already there.", name, s.Name)
		}
		if s.Active {
			run = append(run, name)
		}
	}
	if prev := r.Previous; prev != "" && !slices.Contains(run, prev) {
		// Keep the new account's own active filters running, unless it is
		// the include script of an earlier run.
		text, err := srv.GetScript(ctx, prev)
		if err != nil {
			return nil, err
		}
		if !strings.Contains(text, includeMark) {
			run = append(run, prev)
		} else {
			for _, n := range includedNames(text) {
				if existing[n] && !slices.Contains(run, n) {
					run = append(run, n)
				}
			}
		}
	}
	if !opts.Activate {
		return r, nil
	}
	if len(run) == 0 {
		r.Activation = NothingToActivate
		return r, nil
	}
	include := srv.Capabilities().HasExtension("include")
	active := run[0]
	if len(run) > 1 {
		if include {
			var b strings.Builder
			b.WriteString("require [\"include\"];\n" + includeMark + ", in order (RFC 6609).\n")
			for _, n := range run {
				fmt.Fprintf(&b, "include :personal %s;\n", sieve.Quote(n))
			}
			name, err := put(IncludeName, Includer, b.String())
			if err != nil {
				return nil, err
			}
			if name == "" {
				r.Activation = ActivationFailed
				return r, nil
			}
			active = name
		} else {
			if primary != "" {
				active = primary
			}
			var others []string
			for _, n := range run {
				if n != active {
					others = append(others, n)
				}
			}
			r.Problems = append(r.Problems, fmt.Sprintf("the new server can run one script only and has no \"include\": %s is active; %s installed but not active (merge them by hand in webmail)", active, strings.Join(others, ", ")))
		}
	}
	if active != r.Previous {
		if err := srv.SetActive(ctx, active); err != nil {
			if fatal(err) {
				return nil, err
			}
			r.Problems = append(r.Problems, fmt.Sprintf("could not activate %q: %v", active, err))
			r.Activation = ActivationFailed
			return r, nil
		}
	}
	r.Activation = Activated
	r.Active = active
	r.PreviousIncluded = r.Previous != "" && r.Previous != active && include && slices.Contains(run, r.Previous)
	for i := range r.Installed {
		r.Installed[i].Active = r.Installed[i].Name == active
	}
	return r, nil
}

// includedNames lists the scripts an include script made by Install
// names, in order.
func includedNames(text string) []string {
	var names []string
	for _, line := range strings.Split(text, "\n") {
		rest, ok := strings.CutPrefix(strings.TrimSpace(line), "include :personal \"")
		if !ok {
			continue
		}
		rest, ok = strings.CutSuffix(rest, "\";")
		if !ok {
			continue
		}
		var b strings.Builder
		for i := 0; i < len(rest); i++ {
			if rest[i] == '\\' && i+1 < len(rest) {
				i++
			}
			b.WriteByte(rest[i])
		}
		names = append(names, b.String())
	}
	return names
}
