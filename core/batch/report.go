package batch

import (
	"encoding/csv"
	"fmt"
	"html/template"
	"io"
	"strconv"
	"strings"
	"time"

	"mailmover/core/store"
)

// Summary totals the queue by status.
type Summary struct {
	Mailboxes        int `json:"mailboxes"`
	Waiting          int `json:"waiting"`
	Running          int `json:"running"`
	Done             int `json:"done"`
	DoneWithProblems int `json:"doneWithProblems"`
	Failed           int `json:"failed"`
	NeedsAttention   int `json:"needsAttention"`
	// Copied and CopiedBytes add up every run of every mailbox.
	Copied      int   `json:"copied"`
	CopiedBytes int64 `json:"copiedBytes"`
	Skipped     int   `json:"skipped"`
}

// Summarize totals items by status.
func Summarize(items []Item) Summary {
	var s Summary
	for _, it := range items {
		s.Mailboxes++
		switch it.Status {
		case Waiting:
			s.Waiting++
		case Running:
			s.Running++
		case Done:
			s.Done++
		case DoneWithProblems:
			s.DoneWithProblems++
		case Failed:
			s.Failed++
		case NeedsAttention:
			s.NeedsAttention++
		}
		s.Copied += it.Counts.TotalCopied
		s.CopiedBytes += it.Counts.TotalCopiedBytes
		s.Skipped += it.Counts.Skipped
	}
	return s
}

// AllDone reports whether every item is done (without problems).
func (s Summary) AllDone() bool { return s.Done == s.Mailboxes }

// reportColumns are the CSV report's columns.
var reportColumns = []string{
	"id", "source_email", "source_username", "source_host", "target_email", "target_username", "target_host",
	"status", "reason", "source_messages", "target_messages", "missing", "flag_differences",
	"planned_messages", "planned_bytes", "copied", "copied_bytes", "already_there", "flags_updated", "skipped",
	"total_copied", "total_copied_bytes", "runs", "started", "finished", "last_run_seconds", "total_seconds", "bytes_per_second",
}

// WriteReport writes the batch summary: a self-contained HTML page to htmlW
// and a CSV table to csvW (either may be nil). Per mailbox: the result and
// its reason, the message counts found on each side by verification, what
// was copied, the messages skipped and the durations. It holds no secret.
func (q *Queue) WriteReport(htmlW, csvW io.Writer) error {
	items := q.Items()
	if csvW != nil {
		if err := writeCSV(csvW, items); err != nil {
			return fmt.Errorf("write the CSV report: %w", err)
		}
	}
	if htmlW != nil {
		if err := writeHTML(htmlW, items, time.Now()); err != nil {
			return fmt.Errorf("write the HTML report: %w", err)
		}
	}
	return nil
}

func writeCSV(w io.Writer, items []Item) error {
	cw := csv.NewWriter(w)
	cw.Write(reportColumns)
	for _, it := range items {
		c := it.Counts
		verified := func(n int) string {
			if !c.Verified {
				return ""
			}
			return strconv.Itoa(n)
		}
		cw.Write([]string{
			it.ID, cell(it.Source.Email), cell(it.Source.Username), cell(it.Source.Host),
			cell(it.Target.Email), cell(it.Target.Username), cell(it.Target.Host),
			string(it.Status), cell(it.Reason), verified(c.SourceMessages), verified(c.TargetMessages), verified(c.Missing), verified(c.FlagDiffs),
			strconv.Itoa(c.Messages), strconv.FormatInt(c.Bytes, 10), strconv.Itoa(c.Copied), strconv.FormatInt(c.CopiedBytes, 10),
			strconv.Itoa(c.Existing), strconv.Itoa(c.FlagsUpdated), strconv.Itoa(c.Skipped),
			strconv.Itoa(c.TotalCopied), strconv.FormatInt(c.TotalCopiedBytes, 10), strconv.Itoa(it.Runs),
			stamp(it.Started), stamp(it.Finished), seconds(it.LastRun), seconds(it.Elapsed), strconv.FormatFloat(c.BytesPerSecond, 'f', 0, 64),
		})
	}
	cw.Flush()
	return cw.Error()
}

// cell keeps a spreadsheet from reading a text cell as a formula.
func cell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

func stamp(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

func seconds(d time.Duration) string { return strconv.FormatFloat(d.Seconds(), 'f', 1, 64) }

// reportPage is the HTML report: one page, inline style, no script, no
// outside resource.
var reportPage = template.Must(template.New("report").Funcs(template.FuncMap{
	"bytes": store.FormatBytes,
	"dur":   func(d time.Duration) string { return d.Round(100 * time.Millisecond).String() },
	"stamp": func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.Local().Format("2006-01-02 15:04")
	},
	"date": func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.Format("2006-01-02")
	},
	"speed": func(bps float64) string {
		if bps <= 0 {
			return ""
		}
		return store.FormatBytes(int64(bps)) + "/s"
	},
}).Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Mailmover batch report</title>
<style>
body{font:14px/1.4 system-ui,-apple-system,"Segoe UI",sans-serif;margin:2em;color:#222}
h1{font-size:1.5em;margin:0 0 .2em}
.meta{color:#666;margin-bottom:1.5em}
.totals span{display:inline-block;margin:0 1.2em .6em 0}
table{border-collapse:collapse;width:100%;margin:1em 0 2em}
th,td{border-bottom:1px solid #ddd;padding:.35em .5em;text-align:left;vertical-align:top}
th{background:#f4f4f4;font-weight:600}
td.n{text-align:right;font-variant-numeric:tabular-nums}
.st{font-weight:600;white-space:nowrap}
.done{color:#1a7f37}.done-with-problems{color:#9a6700}.failed{color:#cf222e}.needs-attention{color:#bc4c00}.waiting,.running{color:#555}
.reason{color:#444;font-size:.92em}
h2{font-size:1.15em;margin-top:2em}
@media print{body{margin:0}}
</style></head><body>
<h1>Mailmover batch report</h1>
<div class="meta">{{.When}} · {{.Sum.Mailboxes}} mailboxes</div>
<div class="totals">
<span class="st done">{{.Sum.Done}} done</span>
<span class="st done-with-problems">{{.Sum.DoneWithProblems}} done with problems</span>
<span class="st failed">{{.Sum.Failed}} failed</span>
<span class="st needs-attention">{{.Sum.NeedsAttention}} need attention</span>
<span class="st waiting">{{.Sum.Waiting}} waiting</span>
<span>{{.Sum.Copied}} messages copied ({{bytes .Sum.CopiedBytes}})</span>
</div>
<table>
<thead><tr><th>#</th><th>From</th><th>To</th><th>Result</th><th>On source</th><th>On target</th><th>Copied</th><th>Already there</th><th>Skipped</th><th>Size</th><th>Last run</th><th>Total time</th><th>Speed</th><th>Finished</th></tr></thead>
<tbody>
{{range .Items}}<tr>
<td>{{.ID}}</td>
<td>{{.Source.Username}}<br><small>{{.Source.Host}}</small></td>
<td>{{.Target.Username}}<br><small>{{.Target.Host}}</small></td>
<td><span class="st {{.Status}}">{{.Status.Label}}</span>{{if .Reason}}<div class="reason">{{.Reason}}</div>{{end}}</td>
<td class="n">{{if .Counts.Verified}}{{.Counts.SourceMessages}}{{end}}</td>
<td class="n">{{if .Counts.Verified}}{{.Counts.TargetMessages}}{{end}}</td>
<td class="n">{{.Counts.Copied}}</td>
<td class="n">{{.Counts.Existing}}</td>
<td class="n">{{.Counts.Skipped}}</td>
<td class="n">{{bytes .Counts.Bytes}}</td>
<td class="n">{{dur .LastRun}}</td>
<td class="n">{{dur .Elapsed}}</td>
<td class="n">{{speed .Counts.BytesPerSecond}}</td>
<td>{{stamp .Finished}}</td>
</tr>
{{end}}</tbody></table>
{{range .Items}}{{if .Skipped}}
<h2>{{.ID}}. {{.Name}}: not copied</h2>
<table><thead><tr><th>Folder</th><th>Date</th><th>From</th><th>Subject</th><th>Size</th><th>Why</th></tr></thead><tbody>
{{range .Skipped}}<tr><td>{{.Folder}}</td><td>{{date .Date}}</td><td>{{.From}}</td><td>{{.Subject}}</td><td class="n">{{if .Size}}{{bytes .Size}}{{end}}</td><td>{{.Reason}}</td></tr>
{{end}}</tbody></table>
{{end}}{{end}}
<p class="meta">"On source" and "On target" are the messages counted on each side in the copied folders by the verification after the copy. Each mailbox's journal, listing every message copied or skipped, is in its folder under the batch folder.</p>
</body></html>
`))

func writeHTML(w io.Writer, items []Item, now time.Time) error {
	return reportPage.Execute(w, struct {
		When  string
		Sum   Summary
		Items []Item
	}{now.Local().Format("2006-01-02 15:04 MST"), Summarize(items), items})
}
