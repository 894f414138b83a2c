// Package sievemove carries mail filters to the new server. It turns the
// filters read by package mailmover/core/filters into one Sieve script
// (RFC 5228) per account, writes them next to the filter notes, reads the
// old server's scripts and installs everything on the new server over
// ManageSieve (RFC 5804), never deleting or replacing a script found
// there. The command line and the window both use it.
package sievemove

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"strings"

	"mailmover/core/atomicfile"
	"mailmover/core/failure"
	"mailmover/core/filters"
	"mailmover/core/sieve"
)

// DefaultPort is ManageSieve's port (RFC 5804 section 1.8).
const DefaultPort = 4190

// DefaultTrash is the folder a "Delete" rule files mail into on the new
// server, as Thunderbird moves deleted mail to the Trash.
const DefaultTrash = "Trash"

// InstallPrefix goes before the name of each script meant for a server,
// so that the scripts carried over stand apart from the server's own.
const InstallPrefix = "mailmover-"

// The files WriteFiles writes besides the scripts.
const (
	NotesMarkdown = "filter-notes.md"
	NotesHTML     = "filter-notes.html"
)

// Options tune Generate.
type Options struct {
	// Trash is the mailbox a "Delete" action files into; "" makes Delete
	// a discard (RFC 5228 section 4.5). Use DefaultTrash unless told.
	Trash string
	// Extensions are those the new server advertises (the ManageSieve
	// SIEVE capability); nil assumes the common ones.
	Extensions []string
	// Prefix goes before every script's name, not its file name: use
	// InstallPrefix for scripts to install.
	Prefix string
}

// Script is the Sieve script made for one account's rules.
type Script struct {
	// Account is the account's key in the set (filters.Account.Key).
	Account string
	// File is the name the script is saved under: the account's name
	// made safe for a file, with ".sieve".
	File string
	// Sieve is the script; Sieve.Name is its name on a server.
	Sieve *sieve.Script
}

// Carry is a set of filters with the Sieve scripts made from it.
type Carry struct {
	Set *filters.Set
	// Scripts has one entry per account with rules, in the set's order.
	Scripts []Script
	// Problems say, in plain words, which scripts fail the syntax check.
	Problems []string
}

// Generate makes one Sieve script per account of set that has rules
// (sieve.Generate) and checks its syntax (sieve.Check). Names are the
// accounts' names made safe (letters, digits and @._- kept), made unique
// regardless of case.
func Generate(set *filters.Set, opts Options) *Carry {
	c := &Carry{Set: set}
	used := map[string]bool{}
	for i := range set.Accounts {
		a := &set.Accounts[i]
		if len(a.Rules) == 0 {
			continue
		}
		name := uniqueName(scriptName(a.Name), used)
		s := sieve.Generate(a.Rules, sieve.Options{
			Name:       opts.Prefix + name,
			Account:    a.Name,
			Trash:      opts.Trash,
			Extensions: opts.Extensions,
			Words:      filters.Words{Tags: set.Tags},
		})
		if err := sieve.Check(s.Text); err != nil {
			c.Problems = append(c.Problems, fmt.Sprintf("the script for %s does not pass the syntax check: %v", a.Name, err))
		}
		c.Scripts = append(c.Scripts, Script{Account: a.Key, File: name + ".sieve", Sieve: s})
	}
	return c
}

// Script returns the script of the account with key, or nil.
func (c *Carry) Script(key string) *Script {
	for i := range c.Scripts {
		if c.Scripts[i].Account == key {
			return &c.Scripts[i]
		}
	}
	return nil
}

// Sieve returns the scripts, in order, as Install takes them.
func (c *Carry) Sieve() []*sieve.Script {
	out := make([]*sieve.Script, 0, len(c.Scripts))
	for _, s := range c.Scripts {
		out = append(out, s.Sieve)
	}
	return out
}

// Notes builds the filter notes (filters.BuildNotes) with what the scripts
// carry; opts.Plan is replaced. inst, if not nil, names each script as it
// was installed.
func (c *Carry) Notes(opts filters.NotesOptions, inst *InstallResult) *filters.Notes {
	opts.Plan = func(a *filters.Account) *filters.Plan {
		s := c.Script(a.Key)
		if s == nil {
			return nil
		}
		p := s.Sieve.Plan()
		if inst != nil && inst.As[s.Sieve.Name] != "" {
			p.Script = inst.As[s.Sieve.Name]
		}
		return p
	}
	return filters.BuildNotes(c.Set, opts)
}

// WriteFiles writes, atomically, the notes as NotesMarkdown and NotesHTML
// and every script under its File into dir, creating dir if need be. It
// returns the paths written, in that order.
func (c *Carry) WriteFiles(ctx context.Context, dir string, notes *filters.Notes) ([]string, error) {
	var md, html bytes.Buffer
	if err := notes.WriteMarkdown(&md); err != nil {
		return nil, failure.New(failure.Local, failure.ScopeAccount, "write filter notes", err)
	}
	if err := notes.WriteHTML(&html); err != nil {
		return nil, failure.New(failure.Local, failure.ScopeAccount, "write filter notes", err)
	}
	var written []string
	write := func(name string, data []byte) error {
		p := filepath.Join(dir, name)
		if err := ctx.Err(); err != nil {
			return failure.New(failure.Cancelled, failure.ScopeAccount, "write "+p, err)
		}
		if err := atomicfile.WriteFile(p, data, 0o644); err != nil {
			return failure.New(failure.Local, failure.ScopeAccount, "write "+p, err)
		}
		written = append(written, p)
		return nil
	}
	if err := write(NotesMarkdown, md.Bytes()); err != nil {
		return written, err
	}
	if err := write(NotesHTML, html.Bytes()); err != nil {
		return written, err
	}
	for _, s := range c.Scripts {
		if err := write(s.File, []byte(s.Sieve.Text)); err != nil {
			return written, err
		}
	}
	return written, nil
}

// scriptName turns an account name into a script and file name: letters,
// digits and @._- are kept, other runs become one '-'.
func scriptName(account string) string {
	var b strings.Builder
	dash := false
	for _, r := range account {
		ok := r == '@' || r == '.' || r == '_' || r == '-' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9'
		if !ok {
			if !dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			dash = true
			continue
		}
		b.WriteRune(r)
		dash = false
	}
	s := strings.Trim(b.String(), "-.")
	if s == "" {
		s = "filters"
	}
	if len(s) > 64 {
		s = s[:64]
	}
	return s
}

// uniqueName returns name, or name-2, name-3…, the first not in used
// (compared without case), and marks it used.
func uniqueName(name string, used map[string]bool) string {
	n := name
	for i := 2; used[strings.ToLower(n)]; i++ {
		n = fmt.Sprintf("%s-%d", name, i)
	}
	used[strings.ToLower(n)] = true
	return n
}
