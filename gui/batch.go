package gui

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"mailmover/core/atomicfile"
	"mailmover/core/batch"
	"mailmover/core/failure"
)

// batchColumns are the widths of the queue table's columns.
var batchColumns = []float32{330, 150, 200, 380}

// batchScreen migrates several mailboxes from a list: it imports the list
// into a queue, runs it and shows every mailbox's state as it changes.
type batchScreen struct {
	ui *UI

	dir     *widget.Entry
	choose  *widget.Button
	warn    *widget.Label
	summary *widget.Label
	table   *widget.Table
	start   *widget.Button
	pause   *widget.Button
	retry   *widget.Button
	rerun   *widget.Button
	save    *widget.Button
	busy    *widget.Activity
	errView *errorView

	queue   *batch.Queue
	items   []batch.Item
	running bool
	cancel  context.CancelFunc
	// runErr is how the last run ended.
	runErr error

	content fyne.CanvasObject
}

func newBatchScreen(ui *UI) *batchScreen {
	b := &batchScreen{ui: ui}
	b.dir = widget.NewEntry()
	b.dir.SetText(filepath.Join(filepath.Dir(filepath.Clean(ui.deps.StateDir)), "batch"))
	b.choose = widget.NewButtonWithIcon(lang.X("batch.import", "Import a list…"), theme.FileIcon(), func() {
		chooseFile(ui.win, []string{".csv", ".txt"}, b.importFile)
	})
	b.choose.Importance = widget.HighImportance
	b.warn = wrapped(lang.X("batch.warn", "The list holds passwords: they are now in the keychain, so delete the list file."))
	b.warn.Importance = widget.WarningImportance
	b.warn.Hide()
	b.summary = wrapped("")
	b.table = widget.NewTableWithHeaders(
		func() (int, int) { return len(b.items), len(batchColumns) },
		func() fyne.CanvasObject {
			l := widget.NewLabel("")
			l.Truncation = fyne.TextTruncateEllipsis
			return l
		},
		b.updateCell)
	b.table.ShowHeaderColumn = false
	b.table.CreateHeader = func() fyne.CanvasObject {
		return widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	}
	b.table.UpdateHeader = func(id widget.TableCellID, o fyne.CanvasObject) {
		names := []string{lang.X("batch.col.mailbox", "Mailbox"), lang.X("batch.col.status", "Status"),
			lang.X("batch.col.counts", "Messages"), lang.X("batch.col.reason", "Why")}
		if id.Col >= 0 && id.Col < len(names) {
			o.(*widget.Label).SetText(names[id.Col])
		}
	}
	for i, w := range batchColumns {
		b.table.SetColumnWidth(i, w)
	}
	b.start = widget.NewButtonWithIcon(lang.X("batch.start", "Start"), theme.MediaPlayIcon(), b.onStart)
	b.start.Importance = widget.HighImportance
	b.pause = widget.NewButtonWithIcon(lang.X("batch.pause", "Pause"), theme.MediaPauseIcon(), b.onPause)
	b.retry = widget.NewButtonWithIcon(lang.X("batch.retry", "Retry failed"), theme.ViewRefreshIcon(), b.onRetry)
	b.rerun = widget.NewButtonWithIcon(lang.X("batch.rerun", "Re-run all"), theme.MediaReplayIcon(), b.onRerun)
	b.save = widget.NewButtonWithIcon(lang.X("batch.save", "Save report…"), theme.DocumentSaveIcon(), func() {
		chooseFolder(ui.win, b.saveReport)
	})
	b.busy = widget.NewActivity()
	b.busy.Hide()
	b.errView = newErrorView(ui.win)

	form := container.NewBorder(nil, nil, widget.NewLabel(lang.X("batch.dir", "Batch folder")), b.choose, b.dir)
	help := wrapped(lang.X("batch.help", "A list (CSV) with one pair of accounts per line: source_email, source_host, source_username, source_password and the same with target_. Mailboxes are copied two at a time; pause and resume whenever you like."))
	top := container.NewVBox(help, form, b.warn, container.NewHBox(b.busy, b.summary), b.errView.box)
	title := widget.NewLabel(lang.X("batch.title", "Migrate several mailboxes"))
	sub := widget.NewLabel(lang.X("batch.subtitle", "Move a whole team or family in one go."))
	back := widget.NewButtonWithIcon(lang.X("common.back", "Back"), theme.NavigateBackIcon(), func() { ui.show(stepStart) })
	b.content = page(title, sub, container.NewBorder(top, nil, nil, nil, b.table),
		[]fyne.CanvasObject{back, b.save},
		[]fyne.CanvasObject{b.retry, b.rerun, b.pause, b.start})
	b.setRunning(false)
	return b
}

func (b *batchScreen) updateCell(id widget.TableCellID, o fyne.CanvasObject) {
	l := o.(*widget.Label)
	if id.Row >= len(b.items) {
		return
	}
	it := b.items[id.Row]
	switch id.Col {
	case 0:
		setText(l, it.Name())
		setImportance(l, widget.MediumImportance)
	case 1:
		setText(l, statusText(it.Status))
		switch it.Status {
		case batch.Done:
			setImportance(l, widget.SuccessImportance)
		case batch.Running:
			setImportance(l, widget.HighImportance)
		case batch.Failed, batch.NeedsAttention:
			setImportance(l, widget.DangerImportance)
		case batch.DoneWithProblems:
			setImportance(l, widget.WarningImportance)
		default:
			setImportance(l, widget.MediumImportance)
		}
	case 2:
		c := it.Counts
		setText(l, lang.X("migrate.msgs", "{{.Done}} of {{.Total}}", map[string]any{"Done": formatCount(c.Done), "Total": formatMessages(c.Messages)}))
	case 3:
		setText(l, it.Reason)
	}
}

// statusText is a status in words.
func statusText(s batch.Status) string {
	switch s {
	case batch.Waiting:
		return lang.X("batch.status.waiting", "waiting")
	case batch.Running:
		return lang.X("batch.status.running", "copying…")
	case batch.Done:
		return lang.X("batch.status.done", "done")
	case batch.DoneWithProblems:
		return lang.X("batch.status.problems", "done with problems")
	case batch.Failed:
		return lang.X("batch.status.failed", "failed")
	case batch.NeedsAttention:
		return lang.X("batch.status.attention", "needs attention")
	}
	return s.Label()
}

func (b *batchScreen) setRunning(running bool) {
	b.running = running
	has := b.queue != nil && len(b.items) > 0
	enable := func(w *widget.Button, on bool) {
		if on {
			w.Enable()
		} else {
			w.Disable()
		}
	}
	enable(b.start, !running && has)
	enable(b.pause, running)
	enable(b.retry, !running && has)
	enable(b.rerun, !running && has)
	enable(b.save, has)
	enable(b.choose, !running)
	if running {
		b.busy.Show()
		b.busy.Start()
	} else {
		b.busy.Stop()
		b.busy.Hide()
	}
	b.showSummary()
}

func (b *batchScreen) showSummary() {
	if b.queue == nil {
		b.summary.SetText(lang.X("batch.empty", "No list imported yet."))
		return
	}
	s := batch.Summarize(b.items)
	b.summary.SetText(lang.X("batch.summary", "{{.Done}} of {{.Total}} mailboxes done, {{.Failed}} need a look.", map[string]any{
		"Done": formatCount(s.Done), "Total": formatCount(s.Mailboxes), "Failed": formatCount(s.Mailboxes - s.Done - s.Waiting - s.Running)}))
}

// openQueue opens the queue of dir, or returns cur if it is that one.
func openQueue(cur *batch.Queue, dir string) (*batch.Queue, error) {
	if cur != nil && cur.Dir() == dir {
		return cur, nil
	}
	return batch.Open(dir)
}

// importFile imports a CSV list into the queue on a goroutine.
func (b *batchScreen) importFile(path string) {
	if b.running {
		return
	}
	b.errView.show(nil)
	ui := b.ui
	b.choose.Disable()
	dir, cur := filepath.Clean(strings.TrimSpace(b.dir.Text)), b.queue
	go func() {
		q, err := openQueue(cur, dir)
		var rep batch.ImportReport
		if err == nil {
			var data []byte
			data, err = os.ReadFile(path)
			if err != nil {
				err = failure.New(failure.Local, failure.ScopeAccount, "read the account list", err)
			} else {
				rep, err = q.Import(ui.ctx, bytes.NewReader(data), ui.keychain)
			}
		}
		ui.do(func() {
			b.choose.Enable()
			if err != nil {
				b.errView.show(err)
				return
			}
			b.queue = q
			b.items = q.Items()
			b.warn.Show()
			if len(rep.Errors) > 0 {
				var lines []string
				for _, e := range rep.Errors {
					lines = append(lines, e.Error())
				}
				b.errView.showText(lang.X("batch.rowerrors", "Some lines could not be read"), strings.Join(lines, "\n"))
			}
			b.table.Refresh()
			b.setRunning(false)
		})
	}()
}

// onStart runs the queue until every mailbox has ended, or a pause.
func (b *batchScreen) onStart() {
	if b.running || b.queue == nil {
		return
	}
	q := b.queue
	ui := b.ui
	ctx, cancel := context.WithCancel(ui.ctx)
	b.cancel = cancel
	b.runErr = nil
	b.errView.show(nil)
	b.setRunning(true)
	var mu sync.Mutex
	latest := map[string]batch.Item{}
	flush := func() {
		mu.Lock()
		got := latest
		latest = map[string]batch.Item{}
		mu.Unlock()
		if len(got) == 0 {
			return
		}
		for i, it := range b.items {
			if n, ok := got[it.ID]; ok {
				b.items[i] = n
			}
		}
		b.table.Refresh()
		b.showSummary()
	}
	opts := batch.RunOptions{
		Keychain:   ui.keychain,
		AllowPlain: true, // only ever to a loopback address
		OnEvent: func(e batch.Event) {
			mu.Lock()
			latest[e.Item.ID] = e.Item
			mu.Unlock()
		},
	}
	go func() {
		defer cancel()
		stop := pumpUI(ui, flush)
		err := q.Run(ctx, opts)
		stop()
		ui.do(func() {
			flush()
			b.cancel = nil
			if ui.closing {
				b.running = false
				ui.workEnded()
				return
			}
			b.runErr = err
			b.items = q.Items()
			b.table.Refresh()
			b.setRunning(false)
			if err != nil && !errors.Is(err, batch.ErrPaused) && !isCancel(err) {
				b.errView.show(err)
			}
		})
	}()
}

// onStop stops the batch at once (closing the window): the mailboxes being
// copied resume where they stopped when the batch runs again.
func (b *batchScreen) onStop() {
	if b.cancel != nil {
		b.cancel()
	}
}

func (b *batchScreen) onPause() {
	if b.queue != nil && b.running {
		b.pause.Disable()
		b.queue.Pause()
	}
}

// onRetry puts the failed mailboxes back in the queue and runs it.
func (b *batchScreen) onRetry() {
	if b.queue == nil || b.running {
		return
	}
	if _, err := b.queue.RetryFailed(); err != nil {
		b.errView.show(err)
		return
	}
	b.items = b.queue.Items()
	b.table.Refresh()
	b.onStart()
}

// onRerun runs every mailbox again: only what is new is copied.
func (b *batchScreen) onRerun() {
	if b.queue == nil || b.running {
		return
	}
	if _, err := b.queue.ResetAll(); err != nil {
		b.errView.show(err)
		return
	}
	b.items = b.queue.Items()
	b.table.Refresh()
	b.onStart()
}

// saveReport writes the batch report as HTML and CSV in dir.
func (b *batchScreen) saveReport(dir string) {
	if b.queue == nil {
		return
	}
	var html, csv bytes.Buffer
	err := b.queue.WriteReport(&html, &csv)
	if err == nil {
		err = atomicfile.WriteFile(filepath.Join(dir, "batch-report.html"), html.Bytes(), 0o644)
	}
	if err == nil {
		err = atomicfile.WriteFile(filepath.Join(dir, "batch-report.csv"), csv.Bytes(), 0o644)
	}
	if err != nil {
		b.errView.show(failure.New(failure.Local, failure.ScopeAccount, "save the batch report", err))
	}
}
