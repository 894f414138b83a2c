// Package report turns migration journals into the record a mailbox owner
// keeps: per account, when each step happened, counts per folder on both
// sides, what was skipped and why, the verification result and the DNS state
// at cutover; as one self-contained, printable HTML page and as CSV.
package report

import (
	"encoding/csv"
	"errors"
	"fmt"
	"html/template"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"mailmover/core/state"
	"mailmover/core/store"
)

// Step is one dated event of a migration.
type Step struct {
	Time   time.Time
	What   string
	Detail string
	Error  string
}

// Folder is one folder pair's counts.
type Folder struct {
	Source, Target                 string
	SourceMessages, TargetMessages int
	SourceBytes, TargetBytes       int64
	Copied                         int
	CopiedBytes                    int64
	Missing                        int
	Verified                       bool
	Error                          string
}

// Problem is a message or folder that did not arrive, and why.
type Problem struct {
	Time                  time.Time
	Folder, Subject, From string
	UID                   uint32
	Kind, Error           string
}

// Account is the report of one source/target pair.
type Account struct {
	Source, Target string
	Steps          []Step
	Folders        []Folder
	Problems       []Problem
	Verification   string
	VerifiedAt     time.Time
	Complete       bool
}

// Report covers every pair found under a state folder.
type Report struct {
	Generated time.Time
	Accounts  []Account
}

// ErrNoJournal is returned by Load for a folder with no migration journal:
// no migration was made with it as the state folder.
var ErrNoJournal = errors.New("no migration journal found")

// Load reads the journals under dir: dir itself if it holds a journal,
// else each folder below it that does.
func Load(dir string) (*Report, error) {
	var journals []string
	if _, err := os.Stat(filepath.Join(dir, state.JournalFile)); err == nil {
		journals = append(journals, filepath.Join(dir, state.JournalFile))
	} else {
		err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
			if err == nil && !d.IsDir() && d.Name() == state.JournalFile {
				journals = append(journals, p)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	if len(journals) == 0 {
		return nil, fmt.Errorf("%w in %s: give the --state folder used for the migration", ErrNoJournal, dir)
	}
	slices.Sort(journals)
	r := &Report{Generated: time.Now()}
	for _, j := range journals {
		recs, err := state.ReadJournal(j)
		if err != nil {
			return nil, err
		}
		r.Accounts = append(r.Accounts, build(recs))
	}
	return r, nil
}

var stepNames = map[string]string{
	"run-start":           "Copy started",
	"run-done":            "Copy finished",
	"verified":            "Verified",
	"step":                "",
	"dns":                 "DNS checked",
	"uidvalidity-changed": "Folder renumbered by the server",
}

func build(recs []state.Record) Account {
	var a Account
	folders := map[string]*Folder{}
	var order []string
	folder := func(name string) *Folder {
		f, ok := folders[name]
		if !ok {
			f = &Folder{Source: name}
			folders[name] = f
			order = append(order, name)
		}
		return f
	}
	for _, r := range recs {
		if r.Source != "" && a.Source == "" {
			a.Source, a.Target = r.Source, r.Target
		}
		switch r.Event {
		case "run-start", "run-done", "verified", "dns", "step", "uidvalidity-changed":
			what := stepNames[r.Event]
			detail := r.Detail
			if r.Event == "step" {
				what, detail = r.Detail, r.Subject
			}
			if r.Event == "run-start" {
				detail = fmt.Sprintf("%d messages, %s to consider", r.Count, store.FormatBytes(r.Bytes))
			}
			a.Steps = append(a.Steps, Step{Time: r.Time, What: what, Detail: detail, Error: r.Error})
			if r.Event == "verified" {
				a.Verification, a.VerifiedAt, a.Complete = r.Detail, r.Time, r.Count == 0
			}
		case "folder-done":
			f := folder(r.Folder)
			f.Target = r.Target
			f.Copied += r.Count
			f.CopiedBytes += r.Bytes
			if r.Error != "" {
				f.Error = r.Error
			}
		case "verify-folder":
			f := folder(r.Folder)
			f.Target = r.Target
			var sm, sb, tm, tb, miss, fl int64
			fmt.Sscanf(r.Detail, "source %d messages (%d bytes), target %d messages (%d bytes), missing %d, other flags %d", &sm, &sb, &tm, &tb, &miss, &fl)
			f.SourceMessages, f.SourceBytes, f.TargetMessages, f.TargetBytes, f.Missing = int(sm), sb, int(tm), tb, int(miss)
			f.Verified, f.Error = r.Error == "" && miss == 0 && fl == 0, r.Error
		case "failed":
			a.Problems = append(a.Problems, Problem{Time: r.Time, Folder: r.Folder, Subject: r.Subject, From: r.From, UID: r.UID, Kind: r.Kind.String(), Error: r.Error})
		}
	}
	// INBOX first, then by name, whatever order the copy took them in.
	slices.SortStableFunc(order, func(x, y string) int {
		if ix, iy := strings.EqualFold(x, "INBOX"), strings.EqualFold(y, "INBOX"); ix != iy {
			if ix {
				return -1
			}
			return 1
		}
		return strings.Compare(strings.ToLower(x), strings.ToLower(y))
	})
	for _, n := range order {
		a.Folders = append(a.Folders, *folders[n])
	}
	return a
}

var page = template.Must(template.New("report").Funcs(template.FuncMap{
	"human": store.FormatBytes,
	"when":  func(t time.Time) string { return t.Local().Format("2006-01-02 15:04:05") },
}).Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Mailmover migration report</title>
<style>
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:2em auto;max-width:60em;color:#222;padding:0 1em}
h1{font-size:1.6em}h2{font-size:1.25em;margin-top:2em;border-bottom:1px solid #ccc}
table{border-collapse:collapse;width:100%;margin:.5em 0 1.5em}th,td{text-align:left;padding:.3em .5em;border-bottom:1px solid #eee;vertical-align:top}
th{background:#f4f4f4}td.n{text-align:right;font-variant-numeric:tabular-nums}
.ok{color:#1a7f37;font-weight:600}.bad{color:#b3261e;font-weight:600}.muted{color:#666}
@media print{body{margin:0;max-width:none}h2{break-after:avoid}tr{break-inside:avoid}}
</style></head><body>
<h1>Mailmover migration report</h1>
<p class="muted">Made {{when .Generated}}. The old mailbox was only read; nothing was deleted anywhere.</p>
{{range .Accounts}}
<h2>{{.Source}} → {{.Target}}</h2>
{{if .Verification}}<p class="{{if .Complete}}ok{{else}}bad{{end}}">Verification {{when .VerifiedAt}}: {{.Verification}}</p>{{else}}<p class="bad">Not verified yet.</p>{{end}}
<h3>Steps</h3>
<table><tr><th>When</th><th>What</th><th>Details</th></tr>
{{range .Steps}}<tr><td>{{when .Time}}</td><td>{{.What}}</td><td>{{.Detail}}{{if .Error}} <span class="bad">{{.Error}}</span>{{end}}</td></tr>
{{end}}</table>
<h3>Folders</h3>
<table><tr><th>Folder</th><th>New folder</th><th>Old server</th><th>New server</th><th>Copied</th><th>Result</th></tr>
{{range .Folders}}<tr><td>{{.Source}}</td><td>{{.Target}}</td><td class="n">{{.SourceMessages}} ({{human .SourceBytes}})</td><td class="n">{{.TargetMessages}} ({{human .TargetBytes}})</td><td class="n">{{.Copied}}</td>
<td>{{if .Error}}<span class="bad">{{.Error}}</span>{{else if .Missing}}<span class="bad">{{.Missing}} missing</span>{{else if .Verified}}<span class="ok">complete</span>{{else}}<span class="muted">not verified</span>{{end}}</td></tr>
{{end}}</table>
{{if .Problems}}<h3>Not copied</h3>
<table><tr><th>When</th><th>Folder</th><th>Message</th><th>Why</th></tr>
{{range .Problems}}<tr><td>{{when .Time}}</td><td>{{.Folder}}</td><td>{{.Subject}}{{if .From}}<br><span class="muted">{{.From}}</span>{{end}}</td><td>{{.Kind}}: {{.Error}}</td></tr>
{{end}}</table>{{end}}
{{end}}
</body></html>
`))

// WriteHTML writes the report as one self-contained, printable page.
func (r *Report) WriteHTML(w io.Writer) error { return page.Execute(w, r) }

// WriteCSV writes one row per folder pair, with the account and verdict.
func (r *Report) WriteCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	cw.Write([]string{"source account", "target account", "folder", "target folder", "source messages", "target messages", "source bytes", "target bytes", "copied", "missing", "result"})
	for _, a := range r.Accounts {
		for _, f := range a.Folders {
			result := "not verified"
			switch {
			case f.Error != "":
				result = f.Error
			case f.Missing > 0:
				result = "incomplete"
			case f.Verified:
				result = "complete"
			}
			cw.Write([]string{a.Source, a.Target, defuse(f.Source), defuse(f.Target), strconv.Itoa(f.SourceMessages), strconv.Itoa(f.TargetMessages),
				strconv.FormatInt(f.SourceBytes, 10), strconv.FormatInt(f.TargetBytes, 10), strconv.Itoa(f.Copied), strconv.Itoa(f.Missing), result})
		}
	}
	cw.Flush()
	return cw.Error()
}

// defuse keeps a spreadsheet from reading a folder name as a formula.
func defuse(s string) string {
	if s != "" && (s[0] == '=' || s[0] == '+' || s[0] == '-' || s[0] == '@') {
		return "'" + s
	}
	return s
}
