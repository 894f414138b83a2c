package filters

import (
	"bytes"
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"strings"
)

// WriteMarkdown writes the notes as Markdown (CommonMark). User text is
// escaped; signatures and scripts are fenced code blocks.
func (n *Notes) WriteMarkdown(w io.Writer) error {
	var b bytes.Buffer
	p := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	p("# %s\n\n", mdEscape(n.Title))
	p("From %s (%s)", mdEscape(string(n.Client)), mdCode(n.Source))
	if n.Target != "" {
		p(" to %s", mdEscape(n.Target))
	}
	p(", %s.\n\n", n.Generated.Format("2 January 2006 15:04"))
	p("%s\n\n", mdEscape(n.Count.Summary()))
	p("Filters that run when new mail arrives are moved to the new server as Sieve where they can be; " +
		"the others, and the parts Sieve cannot do, are listed below with the steps to recreate them in your mail program.\n\n")
	for _, pr := range n.Problems {
		p("> **Note:** %s\n\n", mdEscape(pr))
	}
	for _, a := range n.Accounts {
		p("## %s\n\n", mdEscape(a.Name))
		if a.Server != "" {
			p("Server: %s  \n", mdEscape(a.Server))
		}
		if a.FilterFile != "" {
			p("Filters read from %s  \n", mdCode(a.FilterFile))
		}
		if a.Script != "" {
			p("Sieve script on the new server: %s  \n", mdCode(a.Script))
		}
		p("\n")
		for _, pr := range a.Problems {
			p("> **Could not read everything:** %s\n\n", mdEscape(pr))
		}
		if len(a.Identities) > 0 {
			p("### Identities and signatures\n\n")
			for _, id := range a.Identities {
				p("- **%s**", mdEscape(identityLabel(id)))
				if id.Default {
					p(" (default)")
				}
				if id.ReplyTo != "" {
					p(", replies to %s", mdEscape(id.ReplyTo))
				}
				if id.Organization != "" {
					p(", %s", mdEscape(id.Organization))
				}
				p("\n")
				if id.SignatureFile != "" {
					p("\n  Signature file: %s\n", mdCode(id.SignatureFile))
				}
				if id.Problem != "" {
					p("\n  %s\n", mdEscape(id.Problem))
				}
				if id.Signature != "" {
					kind := "text"
					if id.SignatureHTML {
						kind = "html"
					}
					p("\n%s\n", indent(mdFence(id.Signature, kind), "  "))
				}
			}
			p("\n")
		}
		p("### Filters\n\n")
		if len(a.Rules) == 0 {
			p("No filters.\n\n")
		}
		for _, r := range a.Rules {
			state := "on"
			if !r.Enabled {
				state = "off"
			}
			p("#### %d. %s (%s)\n\n", r.Number, mdEscape(r.Name), state)
			p("%s\n\n", mdEscape(r.Sentence))
			if r.Description != "" {
				p("Description: %s\n\n", mdEscape(r.Description))
			}
			p("- Runs: %s\n", mdEscape(r.Runs))
			p("- On the new server: **%s**\n", mdEscape(r.Verdict))
			for _, l := range r.Left {
				p("- Not done by the server: %s\n", mdEscape(l))
			}
			for _, nt := range r.Notes {
				p("- %s\n", mdEscape(nt))
			}
			for _, pr := range r.Problems {
				p("- Problem: %s\n", mdEscape(pr))
			}
			p("\n")
			if len(r.Steps) > 0 {
				p("To recreate:\n\n")
				for i, s := range r.Steps {
					p("%d. %s\n", i+1, mdEscape(s))
				}
				p("\n")
			}
		}
		if a.ScriptText != "" {
			p("### Sieve script %s\n\n%s\n\n", mdCode(a.Script), mdFence(a.ScriptText, "sieve"))
		}
	}
	if len(n.ServerScripts) > 0 || n.ServerSource != "" {
		p("## Server filters on the old server\n\n")
		if n.ServerSource != "" {
			p("Read from %s over ManageSieve.\n\n", mdEscape(n.ServerSource))
		}
		if len(n.ServerScripts) == 0 {
			p("No scripts.\n\n")
		}
		for _, sc := range n.ServerScripts {
			state := "not active"
			if sc.Active {
				state = "active: it runs on new mail"
			}
			p("### Script %s (%s)\n\n", mdCode(sc.Name), state)
			for _, l := range sc.Summary {
				p("- %s\n", mdEscape(l))
			}
			if sc.Fate != "" {
				p("- %s\n", mdEscape(sc.Fate))
			}
			if len(sc.Summary) > 0 || sc.Fate != "" {
				p("\n")
			}
			p("%s\n\n", mdFence(sc.Text, "sieve"))
		}
	}
	if len(n.AutoReplies) > 0 {
		p("## Automatic replies\n\n")
		for _, ar := range n.AutoReplies {
			p("- Filter **%s** (%s)", mdEscape(ar.Rule), mdEscape(ar.Account))
			if ar.Subject != "" {
				p(" replies with %s", mdEscape(q(ar.Subject)))
			}
			p("\n")
			if ar.Template != "" {
				p("\n  Template: %s\n", mdCode(ar.Template))
			}
			if ar.Text != "" {
				p("\n%s\n", indent(mdFence(ar.Text, "text"), "  "))
			} else {
				p("\n  The text is in the template message; open it in the mail program to copy it.\n")
			}
		}
		p("\n")
	}
	_, err := w.Write(b.Bytes())
	return err
}

func identityLabel(id Identity) string {
	switch {
	case id.Name != "" && id.Email != "":
		return id.Name + " <" + id.Email + ">"
	case id.Email != "":
		return id.Email
	case id.Name != "":
		return id.Name
	}
	return id.Key
}

// mdEscape escapes CommonMark's special characters in one line of text.
func mdEscape(s string) string {
	s = strings.Join(strings.Fields(strings.ReplaceAll(s, "\r", " ")), " ")
	var b strings.Builder
	for i, r := range s {
		esc := strings.ContainsRune("\\`*_[]<>|~#", r)
		if r == '&' && i+1 < len(s) && (s[i+1] == '#' || s[i+1] >= 'a' && s[i+1] <= 'z' || s[i+1] >= 'A' && s[i+1] <= 'Z') {
			esc = true // not an entity
		}
		if esc {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// mdCode writes s as inline code, with a fence longer than any backtick
// run inside.
func mdCode(s string) string {
	s = strings.ReplaceAll(strings.ReplaceAll(s, "\r", " "), "\n", " ")
	fence := strings.Repeat("`", longestRun(s, '`')+1)
	pad := ""
	if strings.HasPrefix(s, "`") || strings.HasSuffix(s, "`") {
		pad = " "
	}
	return fence + pad + s + pad + fence
}

// mdFence writes s as a fenced code block.
func mdFence(s, info string) string {
	s = strings.TrimRight(strings.ReplaceAll(s, "\r\n", "\n"), "\n")
	fence := strings.Repeat("`", max(3, longestRun(s, '`')+1))
	return fence + info + "\n" + s + "\n" + fence
}

func longestRun(s string, c byte) int {
	best, cur := 0, 0
	for i := 0; i < len(s); i++ {
		if s[i] == c {
			cur++
			best = max(best, cur)
		} else {
			cur = 0
		}
	}
	return best
}

func indent(s, pre string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		if l != "" {
			lines[i] = pre + l
		}
	}
	return strings.Join(lines, "\n")
}

//go:embed notes.html.tmpl
var notesHTML string

// notesTemplate is parsed once per call: templates hold state, and the
// package keeps none.
func notesTemplate() (*template.Template, error) {
	return template.New("notes").Funcs(template.FuncMap{
		"identity": identityLabel,
		"fate":     func(f Fate) string { return f.String() },
		"date":     func(n *Notes) string { return n.Generated.Format("2 January 2006 15:04") },
	}).Parse(notesHTML)
}

// WriteHTML writes the notes as one self-contained HTML page (inline CSS,
// no scripts, no external resources), readable on screen and in print.
// html/template escapes all user text.
func (n *Notes) WriteHTML(w io.Writer) error {
	t, err := notesTemplate()
	if err != nil {
		return fmt.Errorf("filter notes template: %w", err)
	}
	var b bytes.Buffer
	if err := t.Execute(&b, n); err != nil {
		return fmt.Errorf("write filter notes: %w", err)
	}
	_, err = w.Write(b.Bytes())
	return err
}
