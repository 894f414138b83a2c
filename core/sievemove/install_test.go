package sievemove

import (
	"context"
	"errors"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"

	"mailmover/core/failure"
	"mailmover/core/filters"
	"mailmover/core/sieve"
	"mailmover/core/sieve/managesieve"
)

// fakeSieve is a ManageSieve account in memory, with refusals on demand.
type fakeSieve struct {
	exts    []string
	scripts map[string]string
	active  string
	// refuse makes CHECKSCRIPT refuse a script holding it.
	refuse string
	// fail maps "put NAME", "space NAME" or "activate NAME" to an error.
	fail map[string]error
}

func (f *fakeSieve) Capabilities() managesieve.Capabilities {
	return managesieve.Capabilities{Sieve: f.exts}
}

func (f *fakeSieve) ListScripts(ctx context.Context) ([]managesieve.Script, error) {
	var out []managesieve.Script
	for n := range f.scripts {
		out = append(out, managesieve.Script{Name: n, Active: n == f.active})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

func (f *fakeSieve) GetScript(ctx context.Context, name string) (string, error) {
	text, ok := f.scripts[name]
	if !ok {
		return "", failure.New(failure.Refused, failure.ScopeAccount, "get", errors.New("NO (NONEXISTENT)"))
	}
	return strings.ReplaceAll(text, "\n", "\r\n"), nil
}

func (f *fakeSieve) CheckScript(ctx context.Context, script string) (string, error) {
	if f.refuse != "" && strings.Contains(script, f.refuse) {
		return "", failure.New(failure.Refused, failure.ScopeAccount, "check", errors.New("NO line 1: error"))
	}
	return "", nil
}

func (f *fakeSieve) HaveSpace(ctx context.Context, name string, size int) error {
	return f.fail["space "+name]
}

func (f *fakeSieve) PutScript(ctx context.Context, name, script string) (string, error) {
	if err := f.fail["put "+name]; err != nil {
		return "", err
	}
	f.scripts[name] = script
	return "", nil
}

func (f *fakeSieve) SetActive(ctx context.Context, name string) error {
	if err := f.fail["activate "+name]; err != nil {
		return err
	}
	f.active = name
	return nil
}

func (f *fakeSieve) names() []string {
	var out []string
	for n := range f.scripts {
		if n == f.active {
			n += "*"
		}
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

func TestInstall(t *testing.T) {
	const (
		textA = "# a\nkeep;\n"
		textB = "# b\nkeep;\n"
		mine  = "# mine\nkeep;\n"
	)
	withInclude := []string{"fileinto", "include"}
	gen := func(names ...string) []*sieve.Script {
		var out []*sieve.Script
		for _, n := range names {
			out = append(out, &sieve.Script{Name: n, Text: "# " + strings.TrimPrefix(n, InstallPrefix) + "\nkeep;\n"})
		}
		return out
	}
	refused := failure.New(failure.Refused, failure.ScopeAccount, "x", errors.New("NO"))
	quota := failure.New(failure.Quota, failure.ScopeAccount, "x", errors.New("NO (QUOTA/MAXSIZE)"))
	lost := failure.New(failure.Connection, failure.ScopeAccount, "x", errors.New("connection reset"))

	tests := []struct {
		name     string
		server   fakeSieve
		gen      []*sieve.Script
		old      []filters.ServerScript
		opts     InstallOptions
		wantErr  failure.Kind // Unknown: none
		want     *InstallResult
		wantOn   []string // scripts on the server afterwards, "*" on the active one
		problems []string // substrings, one per problem
		fates    []string
	}{{
		name:   "not activated",
		server: fakeSieve{exts: withInclude},
		gen:    gen("a", "b"),
		want: &InstallResult{As: map[string]string{"a": "a", "b": "b"}, Installed: []Installed{
			{Name: "a", Wanted: "a"}, {Name: "b", Wanted: "b"}}, Activation: NotAsked},
		wantOn: []string{"a", "b"},
	}, {
		name:   "one script activated",
		server: fakeSieve{exts: withInclude},
		gen:    gen("a"),
		opts:   InstallOptions{Activate: true},
		want: &InstallResult{As: map[string]string{"a": "a"}, Installed: []Installed{
			{Name: "a", Wanted: "a", Active: true}}, Activation: Activated, Active: "a"},
		wantOn: []string{"a*"},
	}, {
		name:   "name taken by another script, kept and included",
		server: fakeSieve{exts: withInclude, scripts: map[string]string{"a": mine}, active: "a"},
		gen:    gen("a"),
		opts:   InstallOptions{Activate: true},
		want: &InstallResult{As: map[string]string{"a": "a-2"}, Installed: []Installed{
			{Name: "a-2", Wanted: "a"}, {Name: IncludeName, From: Includer, Wanted: IncludeName, Active: true}},
			Activation: Activated, Active: IncludeName, Previous: "a", PreviousIncluded: true},
		wantOn: []string{"a", "a-2", IncludeName + "*"},
	}, {
		name:   "identical script already there",
		server: fakeSieve{exts: withInclude, scripts: map[string]string{"a": textA}},
		gen:    gen("a"),
		want: &InstallResult{As: map[string]string{"a": "a"}, Installed: []Installed{
			{Name: "a", Wanted: "a", Already: true}}},
		wantOn: []string{"a"},
	}, {
		name:   "no include: the user's own script runs",
		server: fakeSieve{exts: []string{"fileinto"}},
		gen:    gen(InstallPrefix+"other", InstallPrefix+"bob@example.com"),
		opts:   InstallOptions{Activate: true, User: "bob@example.com"},
		want: &InstallResult{As: map[string]string{InstallPrefix + "other": InstallPrefix + "other", InstallPrefix + "bob@example.com": InstallPrefix + "bob@example.com"},
			Installed: []Installed{
				{Name: InstallPrefix + "other", Wanted: InstallPrefix + "other"},
				{Name: InstallPrefix + "bob@example.com", Wanted: InstallPrefix + "bob@example.com", Active: true}},
			Activation: Activated, Active: InstallPrefix + "bob@example.com"},
		wantOn:   []string{InstallPrefix + "bob@example.com*", InstallPrefix + "other"},
		problems: []string{`has no "include": mailmover-bob@example.com is active; mailmover-other installed but not active`},
	}, {
		name:   "old server's scripts",
		server: fakeSieve{exts: withInclude, scripts: map[string]string{"roundcube": mine}},
		gen:    gen("a"),
		old:    []filters.ServerScript{{Name: "roundcube", Active: true, Text: textB}, {Name: "away", Text: textA}},
		opts:   InstallOptions{Activate: true},
		want: &InstallResult{As: map[string]string{"a": "a"}, Installed: []Installed{
			{Name: "a", Wanted: "a"}, {Name: "roundcube-2", From: OldServer, Wanted: "roundcube"},
			{Name: "away", From: OldServer, Wanted: "away"}, {Name: IncludeName, From: Includer, Wanted: IncludeName, Active: true}},
			Activation: Activated, Active: IncludeName},
		wantOn: []string{"a", "away", IncludeName + "*", "roundcube", "roundcube-2"},
		fates: []string{`Installed on the new server as "roundcube-2": a different script named "roundcube" was already there.`,
			`Installed on the new server as "away".`},
	}, {
		name:   "script refused by the check",
		server: fakeSieve{exts: withInclude, refuse: "# a"},
		gen:    gen("a"),
		old:    []filters.ServerScript{{Name: "v", Text: "# a\n"}},
		opts:   InstallOptions{Activate: true},
		want:   &InstallResult{As: map[string]string{}, Activation: NothingToActivate},
		problems: []string{`the new server refuses the script "a" (generated from the mail program's filters)`,
			`the new server refuses the script "v" (from the old server)`},
		fates: []string{"Not installed on the new server: it refused the script (see the problems)."},
	}, {
		name:     "no room",
		server:   fakeSieve{exts: withInclude, fail: map[string]error{"space b": quota}},
		gen:      gen("a", "b"),
		want:     &InstallResult{As: map[string]string{"a": "a"}, Installed: []Installed{{Name: "a", Wanted: "a"}}},
		wantOn:   []string{"a"},
		problems: []string{`no room on the new server for the script "b"`},
	}, {
		name:     "upload refused",
		server:   fakeSieve{exts: withInclude, fail: map[string]error{"put a": refused}},
		gen:      gen("a"),
		want:     &InstallResult{As: map[string]string{}},
		problems: []string{`the new server refuses the script "a"`},
	}, {
		name:   "activation refused",
		server: fakeSieve{exts: withInclude, fail: map[string]error{"activate a": refused}},
		gen:    gen("a"),
		opts:   InstallOptions{Activate: true},
		want: &InstallResult{As: map[string]string{"a": "a"}, Installed: []Installed{{Name: "a", Wanted: "a"}},
			Activation: ActivationFailed},
		wantOn:   []string{"a"},
		problems: []string{`could not activate "a"`},
	}, {
		name:   "include script refused",
		server: fakeSieve{exts: withInclude, refuse: "include :personal"},
		gen:    gen("a", "b"),
		opts:   InstallOptions{Activate: true},
		want: &InstallResult{As: map[string]string{"a": "a", "b": "b"}, Installed: []Installed{{Name: "a", Wanted: "a"}, {Name: "b", Wanted: "b"}},
			Activation: ActivationFailed},
		wantOn:   []string{"a", "b"},
		problems: []string{`the new server refuses the script "mailmover" (includes the others)`},
	}, {
		name: "second run: the earlier include script stays",
		server: fakeSieve{exts: withInclude, active: IncludeName, scripts: map[string]string{
			"a": textA, "mine": mine,
			IncludeName: "require [\"include\"];\n" + includeMark + ", in order (RFC 6609).\ninclude :personal \"a\";\ninclude :personal \"mine\";\ninclude :personal \"gone\";\n"}},
		gen:  gen("a"),
		opts: InstallOptions{Activate: true},
		want: &InstallResult{As: map[string]string{"a": "a"}, Installed: []Installed{
			{Name: "a", Wanted: "a", Already: true},
			{Name: IncludeName + "-2", From: Includer, Wanted: IncludeName, Active: true}},
			Activation: Activated, Active: IncludeName + "-2", Previous: IncludeName},
		wantOn: []string{"a", IncludeName, IncludeName + "-2*", "mine"},
	}, {
		name:    "connection lost",
		server:  fakeSieve{exts: withInclude, fail: map[string]error{"put b": lost}},
		gen:     gen("a", "b"),
		wantErr: failure.Connection,
		wantOn:  []string{"a"},
	}}
	for _, tt := range tests {
		srv := tt.server
		if srv.scripts == nil {
			srv.scripts = map[string]string{}
		}
		before := map[string]string{}
		for n, s := range srv.scripts {
			before[n] = s
		}
		old := slices.Clone(tt.old)
		got, err := Install(t.Context(), &srv, tt.gen, old, tt.opts)
		if tt.wantErr != failure.Unknown {
			if failure.KindOf(err) != tt.wantErr {
				t.Errorf("%s: Install = %v; want a %v failure", tt.name, err, tt.wantErr)
			}
		} else if err != nil {
			t.Errorf("%s: Install = %v", tt.name, err)
			continue
		} else {
			var problems []string
			problems, got.Problems = got.Problems, nil
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("%s: Install = %+v; want %+v", tt.name, got, tt.want)
			}
			if len(problems) != len(tt.problems) {
				t.Errorf("%s: problems = %q; want %d", tt.name, problems, len(tt.problems))
			}
			for i := 0; i < len(problems) && i < len(tt.problems); i++ {
				if !strings.Contains(problems[i], tt.problems[i]) {
					t.Errorf("%s: problem %d = %q; want %q in it", tt.name, i, problems[i], tt.problems[i])
				}
			}
		}
		if on := srv.names(); !slices.Equal(on, tt.wantOn) {
			t.Errorf("%s: server has %q; want %q", tt.name, on, tt.wantOn)
		}
		for n, s := range before {
			if srv.scripts[n] != s {
				t.Errorf("%s: the server's script %q was changed", tt.name, n)
			}
		}
		for i, f := range tt.fates {
			if old[i].Fate != f {
				t.Errorf("%s: Fate of %q = %q; want %q", tt.name, old[i].Name, old[i].Fate, f)
			}
		}
	}
}

func TestIncludedNames(t *testing.T) {
	tests := []struct {
		text string
		want []string
	}{
		{"require [\"include\"];\ninclude :personal \"a\";\n  include :personal \"b \\\"q\\\"\";\n", []string{"a", `b "q"`}},
		{"include :global \"a\";\ninclude :personal \"b\"\n", nil},
		{"", nil},
	}
	for _, tt := range tests {
		if got := includedNames(tt.text); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("includedNames(%q) = %q; want %q", tt.text, got, tt.want)
		}
	}
}

func TestOrigin(t *testing.T) {
	tests := []struct {
		o    Origin
		want string
	}{
		{Generated, "generated from the mail program's filters"},
		{OldServer, "from the old server"},
		{Includer, "includes the others"},
		{Origin(9), "origin(9)"},
	}
	for _, tt := range tests {
		if got, _ := tt.o.MarshalText(); string(got) != tt.want {
			t.Errorf("Origin(%d).MarshalText() = %q; want %q", int(tt.o), got, tt.want)
		}
	}
}
