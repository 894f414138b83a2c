package gui

import (
	"context"
	"reflect"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"mailmover/core/account"
	"mailmover/core/demo"
	"mailmover/core/secret"
)

// uiQueue stands in for the UI goroutine: the window's goroutines post
// callbacks (instead of fyne.Do, which the test driver runs at once on the
// calling goroutine), and the test goroutine runs them, so that widgets are
// only ever touched from one goroutine, as in the real app.
type uiQueue struct {
	mu    sync.Mutex
	fs    []func()
	wake  chan struct{}
	posts int
	// onPost, if set, is called for every post (on the posting goroutine).
	onPost func()
	// slowest is the longest a callback ran (test goroutine only).
	slowest time.Duration
	// slowestName names the function of the slowest callback.
	slowestName string
}

func newQueue() *uiQueue { return &uiQueue{wake: make(chan struct{}, 1)} }

func (q *uiQueue) post(f func()) {
	q.mu.Lock()
	q.fs = append(q.fs, f)
	q.posts++
	hook := q.onPost
	q.mu.Unlock()
	if hook != nil {
		hook()
	}
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

// runPending runs the callbacks posted so far, in order.
func (q *uiQueue) runPending() {
	for {
		q.mu.Lock()
		fs := q.fs
		q.fs = nil
		q.mu.Unlock()
		if len(fs) == 0 {
			return
		}
		for _, f := range fs {
			at := time.Now()
			f()
			if d := time.Since(at); d > q.slowest {
				q.slowest = d
				q.slowestName = runtime.FuncForPC(reflect.ValueOf(f).Pointer()).Name()
			}
		}
	}
}

func (q *uiQueue) postCount() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.posts
}

// pumpTimeout bounds how long a test waits for the window (a stuck flow,
// not a speed requirement).
const pumpTimeout = 90 * time.Second

// pumpUntil runs posted callbacks until cond holds.
func (q *uiQueue) pumpUntil(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(pumpTimeout)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		q.runPending()
		if cond() {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("waited %s for %s", pumpTimeout, what)
		}
		select {
		case <-q.wake:
		case <-tick.C:
		}
	}
}

// testDemo is a small demo, quick to load and copy.
func testDemo(ctx context.Context) (*demo.Demo, error) {
	return demo.StartWith(ctx, demo.Options{Messages: 60, MaxAttachment: 32 << 10})
}

// fakeDiscover answers discovery without any network.
func fakeDiscover(ctx context.Context, email string) (account.Discovery, error) {
	if p, ok := account.PresetByID("gmail"); ok && strings.HasSuffix(email, "@gmail.com") {
		return account.Discovery{Account: p.Account(email), Source: account.SourcePreset, Preset: &p, Hint: p.Hint}, nil
	}
	domain := domainOf(email)
	return account.Discovery{
		Account: account.Account{Name: email, Email: email, Host: "imap." + domain, Port: 993, Security: account.SecurityTLS, Username: email, Auth: account.AuthPassword},
		Source:  account.SourceGuess,
	}, nil
}

// newTestUI builds the window on the test driver, with a queue for the UI
// goroutine, discovery without network and a small demo.
func newTestUI(t testing.TB, deps Deps) (*UI, *uiQueue) {
	t.Helper()
	a := test.NewTempApp(t)
	q := newQueue()
	if deps.Keychain == nil {
		deps.Keychain = secret.NewMemory()
	}
	if deps.StateDir == "" {
		deps.StateDir = t.TempDir()
	}
	ui := newUI(a, deps, q.post)
	ui.discover = fakeDiscover
	ui.startDemo = testDemo
	ui.win.Resize(minimumSize)
	t.Cleanup(func() {
		ui.cancel()
		if ui.migrate.running {
			q.pumpUntil(t, "the copy to stop", func() bool { return !ui.migrate.running })
		}
		ui.leaveDemoServers()
	})
	return ui, q
}

// startDemo taps "Try the demo" and waits for the accounts screen.
func startDemo(t testing.TB, ui *UI, q *uiQueue) {
	t.Helper()
	test.Tap(ui.start.tryDemo)
	q.pumpUntil(t, "the demo to start", func() bool { return ui.step == stepAccounts && ui.demo != nil })
}

// reviewPlan taps "Review the plan" and waits for the plan screen.
func reviewPlan(t testing.TB, ui *UI, q *uiQueue) {
	t.Helper()
	test.Tap(ui.accounts.review)
	q.pumpUntil(t, "the plan", func() bool {
		return ui.step == stepPlan || ui.accounts.errView.box.Visible() ||
			ui.accounts.source.problem.box.Visible() || ui.accounts.target.problem.box.Visible()
	})
	if ui.step != stepPlan {
		t.Fatalf("no plan: %q %q / source %q / target %q", ui.accounts.errView.title.Text, ui.accounts.errView.raw,
			ui.accounts.source.problem.raw, ui.accounts.target.problem.raw)
	}
}

// visible reports whether o and all its parents in the window are shown.
func visible(c fyne.Canvas, o fyne.CanvasObject) bool {
	if !o.Visible() {
		return false
	}
	found := false
	for _, obj := range test.LaidOutObjects(c.Content()) {
		if obj == o {
			found = true
			break
		}
	}
	return found
}

// labels returns the text of every label laid out in o.
func labels(o fyne.CanvasObject) []string {
	var out []string
	for _, obj := range test.LaidOutObjects(o) {
		if l, ok := obj.(*widget.Label); ok && l.Visible() {
			out = append(out, l.Text)
		}
	}
	return out
}

func containsText(texts []string, sub string) bool {
	for _, s := range texts {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}
