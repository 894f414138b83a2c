package gui

import (
	"context"
	"fmt"
	"image/png"
	"net"
	"os"
	"path/filepath"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/driver/software"

	"mailmover/core/copier"
)

// Screenshot mode runs through the demo by itself and saves each screen.
const (
	// shotSettle is how long a screen is given to be drawn before it is captured.
	shotSettle = 1500 * time.Millisecond
	// shotRate slows the demo's new mailbox down (bytes per second), so
	// that the copy screen can be captured while it works.
	shotRate = 2_500_000
	// shotTimeout ends screenshot mode if the flow gets stuck.
	shotTimeout = 3 * time.Minute
)

// screenshotSize is the window size of the pictures: a 1280x800 screen.
var screenshotSize = fyne.NewSize(1280, 800)

// screenshots drives the window through the demo flow and captures each
// screen to a PNG file.
type screenshots struct {
	ui   *UI
	dir  string
	done map[step]bool
	// midRun is set once the copy screen was scheduled for capture.
	midRun bool
	// dialer slows the new mailbox down, so the copy can be captured.
	dialer func(ctx context.Context, network, addr string) (net.Conn, error)
}

func newScreenshots(ui *UI, dir string) *screenshots {
	s := &screenshots{ui: ui, dir: dir, done: map[step]bool{}, dialer: slowDialer(shotRate)}
	ui.win.Resize(screenshotSize)
	go func() {
		time.Sleep(shotTimeout)
		ui.do(func() {
			fyne.LogError("screenshots", fmt.Errorf("the demo flow did not finish in %s", shotTimeout))
			ui.finishClose()
		})
	}()
	return s
}

// after runs f on the UI goroutine once the screen had time to be drawn.
func (s *screenshots) after(d time.Duration, f func()) {
	go func() {
		time.Sleep(d)
		s.ui.do(f)
	}()
}

// capture saves the window as dir/name.png. The window is drawn again by
// fyne's software painter (the one its tests use): reading the OpenGL front
// buffer gives a black picture under Xvfb.
func (s *screenshots) capture(name string) {
	win := s.ui.win
	content := win.Content()
	c := software.NewCanvas()
	c.SetPadded(win.Padded())
	c.SetScale(win.Canvas().Scale())
	c.SetContent(content)
	c.Resize(win.Canvas().Size())
	img := c.Capture()
	win.SetContent(content)
	if err := os.MkdirAll(s.dir, 0o755); err != nil {
		fyne.LogError("screenshots", err)
		return
	}
	f, err := os.Create(filepath.Join(s.dir, name+".png"))
	if err != nil {
		fyne.LogError("screenshots", err)
		return
	}
	defer f.Close()
	if err := png.Encode(f, img); err != nil {
		fyne.LogError("screenshots", err)
	}
}

// begin captures the start screen, then starts the demo.
func (s *screenshots) begin() {
	s.after(shotSettle, func() {
		s.capture("start")
		s.done[stepStart] = true
		s.ui.start.onDemo()
	})
}

// shown moves the flow on when a screen appears.
func (s *screenshots) shown(st step) {
	if s.done[st] {
		return
	}
	ui := s.ui
	switch st {
	case stepAccounts:
		s.done[st] = true
		s.after(shotSettle/2, func() {
			ui.accounts.source.onTest()
			ui.accounts.target.onTest()
			s.after(2*shotSettle, func() {
				s.capture("accounts")
				ui.accounts.onReview()
			})
		})
	case stepPlan:
		s.done[st] = true
		s.until(func() bool { return ui.plan.dav == nil || ui.plan.dav.ready() }, func() {
			s.after(shotSettle, func() {
				s.capture("plan")
				ui.plan.onCopy()
			})
		})
	case stepDone:
		s.done[st] = true
		s.after(shotSettle, func() {
			s.capture("done")
			s.more()
		})
	}
}

// more captures the screens outside the migration flow, then quits: the
// switch-over after the demo's migration, a backup of the demo's old
// mailbox, that backup read as local archives, and the batch.
func (s *screenshots) more() {
	ui := s.ui
	ui.show(stepCutover)
	s.after(shotSettle, func() {
		s.capture("cutover")
		ui.report.open(stepStart)
		s.until(func() bool { return ui.report.loading.Hidden }, func() {
			s.after(shotSettle, func() {
				s.capture("report")
				s.backup()
			})
		})
	})
}

// backup captures a backup of the demo's old mailbox, that backup read as
// local archives, and the batch, then quits.
func (s *screenshots) backup() {
	ui := s.ui
	ui.show(stepBackup)
	dir := ui.demoDir
	if dir == "" {
		dir = os.TempDir()
	}
	ui.backup.dir.SetText(filepath.Join(dir, "backup"))
	ui.backup.onRun()
	s.until(func() bool { return !ui.backup.running }, func() {
		s.after(shotSettle, func() {
			s.capture("backup")
			ui.show(stepArchives)
			ui.archives.kind.SetSelectedIndex(archiveMbox)
			ui.archives.path.SetText(ui.backup.folder)
			ui.archives.onScan()
			s.until(func() bool { return !ui.archives.busy }, func() {
				s.after(shotSettle, func() {
					s.capture("archives")
					ui.show(stepBatch)
					s.after(shotSettle, func() {
						s.capture("batch")
						ui.finishClose()
					})
				})
			})
		})
	})
}

// until runs f on the UI goroutine once cond holds (checked there).
func (s *screenshots) until(cond func() bool, f func()) {
	if cond() {
		f()
		return
	}
	s.after(100*time.Millisecond, func() { s.until(cond, f) })
}

// progress captures the copy screen once it is well under way.
func (s *screenshots) progress(p copier.Progress) {
	if s.midRun || p.TotalBytes == 0 || p.DoneBytes*100 < p.TotalBytes*40 {
		return
	}
	s.midRun = true
	s.after(shotSettle/3, func() { s.capture("migrate") })
}

// slowDialer opens connections whose writes go at most rate bytes a second.
func slowDialer(rate int) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		var d net.Dialer
		c, err := d.DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		return &slowConn{Conn: c, rate: rate}, nil
	}
}

type slowConn struct {
	net.Conn
	rate int
}

func (c *slowConn) Write(b []byte) (int, error) {
	time.Sleep(time.Duration(len(b)) * time.Second / time.Duration(c.rate))
	return c.Conn.Write(b)
}
