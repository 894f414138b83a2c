package filters

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"os"
	"path/filepath"
	"strings"
)

// maxTemplateScan bounds how much of a local Templates folder is searched
// for a reply template.
const maxTemplateScan = 64 << 20

// tbAutoReplies lists the "Reply with template" actions, with the
// template's text when the profile holds a copy of the Templates folder.
func tbAutoReplies(ctx context.Context, set *Set) []AutoReply {
	var out []AutoReply
	for _, a := range set.Accounts {
		for _, r := range a.Rules {
			for _, act := range r.Actions {
				if act.Kind != ActReply {
					continue
				}
				ar := AutoReply{Account: a.Name, Rule: r.Name, Template: act.Value}
				if act.Folder != nil {
					ar.Subject = act.Folder.Query["subject"]
					if id := act.Folder.Query["messageId"]; id != "" && ctx.Err() == nil {
						if dir := folderDir(set, act.Folder); dir != "" {
							if subj, text, ok := findTemplate(dir, id); ok {
								ar.Text = text
								if ar.Subject == "" {
									ar.Subject = subj
								}
							}
						}
					}
				}
				out = append(out, ar)
			}
		}
	}
	return out
}

// folderDir maps a folder URI to its mbox file (or maildir directory) in
// the profile: the account whose host and user match, then the path with
// ".sbd" for each parent.
func folderDir(set *Set, f *Folder) string {
	for _, a := range set.Accounts {
		if a.Dir == "" {
			continue
		}
		match := false
		switch f.Scheme {
		case "imap":
			match = strings.EqualFold(a.Host, f.Host) && (f.User == "" || a.UserName == "" || strings.EqualFold(a.UserName, f.User))
		case "mailbox":
			match = strings.EqualFold(a.Host, f.Host) || (a.Type == "none" && f.Host == "Local Folders")
		}
		if !match || len(f.Path) == 0 {
			continue
		}
		p := a.Dir
		for i, seg := range f.Path {
			if i < len(f.Path)-1 {
				seg += ".sbd"
			}
			p = filepath.Join(p, seg)
		}
		return p
	}
	return ""
}

// findTemplate looks for the message with Message-ID id in an mbox file or
// a maildir folder and returns its subject and plain text.
func findTemplate(path, id string) (subject, text string, ok bool) {
	id = strings.Trim(id, "<>")
	st, err := os.Stat(path)
	if err != nil {
		return "", "", false
	}
	if st.IsDir() {
		for _, sub := range []string{"cur", "new"} {
			ents, _ := os.ReadDir(filepath.Join(path, sub))
			for _, e := range ents {
				b, err := os.ReadFile(filepath.Join(path, sub, e.Name()))
				if err == nil && bytes.Contains(b, []byte(id)) {
					if s, t, ok := templateText(b, id); ok {
						return s, t, true
					}
				}
			}
		}
		return "", "", false
	}
	f, err := os.Open(path)
	if err != nil {
		return "", "", false
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxTemplateScan))
	if err != nil {
		return "", "", false
	}
	data = bytes.ReplaceAll(data, []byte("\r\n"), []byte("\n"))
	for _, msg := range splitMbox(data) {
		if bytes.Contains(msg, []byte(id)) {
			if s, t, ok := templateText(msg, id); ok {
				return s, t, true
			}
		}
	}
	return "", "", false
}

// splitMbox cuts an mbox at its "From " separator lines.
func splitMbox(data []byte) [][]byte {
	var out [][]byte
	start := -1
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64<<10), len(data)+1)
	off := 0
	for sc.Scan() {
		line := sc.Bytes()
		if bytes.HasPrefix(line, []byte("From ")) && (off == 0 || bytes.HasSuffix(data[:off], []byte("\n\n"))) {
			if start >= 0 {
				out = append(out, data[start:off])
			}
			start = off + len(line) + 1
		}
		off += len(line) + 1
	}
	if start >= 0 && start <= len(data) {
		out = append(out, data[start:])
	}
	return out
}

// templateText parses a message and returns its subject and text if its
// Message-ID is id.
func templateText(raw []byte, id string) (string, string, bool) {
	m, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil || strings.Trim(m.Header.Get("Message-ID"), "<> ") != id {
		return "", "", false
	}
	var dec mime.WordDecoder
	subject, err := dec.DecodeHeader(m.Header.Get("Subject"))
	if err != nil {
		subject = m.Header.Get("Subject")
	}
	text := partText(m.Header.Get("Content-Type"), m.Header.Get("Content-Transfer-Encoding"), m.Body, 0)
	return subject, strings.TrimSpace(text), true
}

// partText returns the first text/plain part (or text/html, tags left in).
func partText(ctype, cte string, body io.Reader, depth int) string {
	mt, params, err := mime.ParseMediaType(ctype)
	if ctype == "" || err != nil {
		mt = "text/plain"
	}
	switch {
	case strings.HasPrefix(mt, "multipart/") && depth < 5:
		mr := multipart.NewReader(body, params["boundary"])
		html := ""
		for {
			p, err := mr.NextRawPart()
			if err != nil {
				break
			}
			t := partText(p.Header.Get("Content-Type"), p.Header.Get("Content-Transfer-Encoding"), p, depth+1)
			pt, _, _ := mime.ParseMediaType(p.Header.Get("Content-Type"))
			if pt == "text/html" {
				if html == "" {
					html = t
				}
				continue
			}
			if t != "" {
				return t
			}
		}
		return html
	case strings.HasPrefix(mt, "text/"):
		var r io.Reader = body
		switch strings.ToLower(strings.TrimSpace(cte)) {
		case "quoted-printable":
			r = quotedprintable.NewReader(body)
		case "base64":
			r = base64.NewDecoder(base64.StdEncoding, newlineStripper{body})
		}
		b, _ := io.ReadAll(io.LimitReader(r, maxSignature))
		return string(b)
	}
	return ""
}

// newlineStripper drops CR and LF so base64 decoding sees one line.
type newlineStripper struct{ r io.Reader }

// Read reads from the underlying reader, dropping line breaks.
func (n newlineStripper) Read(p []byte) (int, error) {
	for {
		k, err := n.r.Read(p)
		j := 0
		for _, c := range p[:k] {
			if c != '\r' && c != '\n' {
				p[j] = c
				j++
			}
		}
		if j > 0 || err != nil {
			return j, err
		}
	}
}
