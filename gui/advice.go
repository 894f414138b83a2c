package gui

import (
	"errors"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"mailmover/core/failure"
	"mailmover/core/imapstore"
)

// advice is what the window tells about a failure: a short title saying
// what happened and one or two sentences saying what to do next. Every
// failure.Kind is turned into advice here and nowhere else (the window's
// counterpart of failure.Advice).
type advice struct {
	Title string
	Text  string
}

// adviceFor returns the advice for a failure kind.
func adviceFor(k failure.Kind) advice {
	switch k {
	case failure.Config:
		return advice{
			lang.X("advice.config.title", "Check the settings"),
			lang.X("advice.config", "Check the account settings (server name, port, user name) and try again."),
		}
	case failure.Auth:
		return advice{
			lang.X("advice.auth.title", "The server refused the user name or password"),
			lang.X("advice.auth", "Check them and try again. Many providers (Gmail, Yahoo, iCloud, Outlook) need an app password for other programs, or IMAP switched on in their web settings."),
		}
	case failure.TLS:
		return advice{
			lang.X("advice.tls.title", "The secure connection could not be set up"),
			lang.X("advice.tls", "Check the server name, the port and the security setting (TLS is usually port 993, STARTTLS port 143). If the server has its own certificate, compare its fingerprint with what your provider publishes before you trust it."),
		}
	case failure.Connection:
		return advice{
			lang.X("advice.connection.title", "The server could not be reached"),
			lang.X("advice.connection", "Check the server name, the port and your network, then try again. Nothing is lost: copying resumes where it stopped."),
		}
	case failure.Quota:
		return advice{
			lang.X("advice.quota.title", "The new mailbox is full"),
			lang.X("advice.quota", "Free space or raise its quota with your provider, or leave some folders out, then run again: copying resumes where it stopped."),
		}
	case failure.Refused:
		return advice{
			lang.X("advice.refused.title", "The new server refused something"),
			lang.X("advice.refused", "It is listed below with the server's reason; everything else was copied."),
		}
	case failure.TooBig:
		return advice{
			lang.X("advice.toobig.title", "A message is too large for the new server"),
			lang.X("advice.toobig", "Save it from your old mailbox by hand (for example as a file), or ask the new provider to raise the limit."),
		}
	case failure.Throttled:
		return advice{
			lang.X("advice.throttled.title", "The server asked to slow down"),
			lang.X("advice.throttled", "Mailmover waits and goes on by itself. If it stops, run again later: copying resumes where it stopped."),
		}
	case failure.Malformed:
		return advice{
			lang.X("advice.malformed.title", "Something could not be read"),
			lang.X("advice.malformed", "It is listed below; everything else was copied."),
		}
	case failure.Cancelled:
		return advice{
			lang.X("advice.cancelled.title", "Stopped"),
			lang.X("advice.cancelled", "Run again to resume where it stopped; nothing is copied twice."),
		}
	case failure.Local:
		return advice{
			lang.X("advice.local.title", "Something failed on this computer"),
			lang.X("advice.local", "The disk may be full or a folder not writable. Free space, then run again."),
		}
	}
	return advice{
		lang.X("advice.unknown.title", "Something unexpected went wrong"),
		lang.X("advice.unknown", "Try again. If it happens again, keep the details below and report them."),
	}
}

// adviceForError returns the advice for err, by its kind.
func adviceForError(err error) advice {
	var ce *imapstore.CertError
	if errors.As(err, &ce) {
		return advice{
			lang.X("advice.cert.title", "The server's certificate is not trusted"),
			lang.X("advice.cert", "Its identity could not be checked. Compare its fingerprint with what your provider publishes; trust it only if they match."),
		}
	}
	return adviceFor(failure.KindOf(err))
}

// errorView shows a failure: what happened, what to do, and the raw error on
// demand.
type errorView struct {
	icon    *widget.Icon
	title   *widget.Label
	text    *widget.Label
	details *widget.Button
	raw     string
	win     fyne.Window
	box     *fyne.Container
}

func newErrorView(win fyne.Window) *errorView {
	v := &errorView{win: win}
	v.icon = widget.NewIcon(theme.ErrorIcon())
	v.title = widget.NewLabel("")
	v.title.TextStyle.Bold = true
	v.title.Wrapping = fyne.TextWrapWord
	v.title.Importance = widget.DangerImportance
	v.text = widget.NewLabel("")
	v.text.Wrapping = fyne.TextWrapWord
	v.details = widget.NewButton(lang.X("common.details", "Show details"), v.onDetails)
	v.details.Importance = widget.LowImportance
	v.box = container.NewBorder(nil, nil, lineIcon(v.icon), nil,
		container.NewVBox(v.title, v.text, container.NewHBox(v.details)))
	v.box.Hide()
	return v
}

// show displays err with its advice; nil hides the view.
func (v *errorView) show(err error) {
	if err == nil {
		v.box.Hide()
		v.raw = ""
		return
	}
	a := adviceForError(err)
	v.title.SetText(a.Title)
	v.text.SetText(a.Text)
	v.raw = err.Error()
	v.details.Show()
	v.box.Show()
}

// showText displays a problem the window found itself (a missing field).
func (v *errorView) showText(title, text string) {
	v.title.SetText(title)
	v.text.SetText(text)
	v.raw = ""
	v.details.Hide()
	v.box.Show()
}

func (v *errorView) onDetails() {
	showDetails(v.win, lang.X("common.details.title", "Details"), v.raw)
}

// showDetails opens a dialog with selectable technical text.
func showDetails(win fyne.Window, title, text string) {
	l := widget.NewLabel(text)
	l.Wrapping = fyne.TextWrapWord
	l.Selectable = true
	l.TextStyle.Monospace = true
	scroll := container.NewVScroll(l)
	scroll.SetMinSize(fyne.NewSize(620, 260))
	d := newDialog(title, scroll, win)
	d.SetButtons([]fyne.CanvasObject{widget.NewButton(lang.X("common.close", "Close"), d.Hide)})
	d.Show()
}
