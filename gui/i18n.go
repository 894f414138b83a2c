package gui

import (
	"embed"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/lang"
)

// translations holds the window's strings: en.json (the reference, equal to
// the fallbacks written in the code) and fr.json.
//
//go:embed translations/*.json
var translations embed.FS

// init adds the window's translations to Fyne's lang package, which keeps
// them for the whole process; doing it here, before any goroutine runs,
// keeps it free of races.
func init() {
	if err := lang.AddTranslationsFS(translations, "translations"); err != nil {
		fyne.LogError("load translations", err)
	}
}
