// Command mailmover moves a person's email from one server to another and
// loses nothing on the way. With no arguments it opens the window; with a
// command it works headless (see "mailmover help").
package main

import (
	"os"

	"fyne.io/fyne/v2/app"

	"mailmover/cli"
	"mailmover/gui"
)

func main() {
	env := cli.NewEnv()
	if len(os.Args) > 1 {
		os.Exit(cli.Main(os.Args[1:], env))
	}
	a := app.NewWithID("app.mailmover.Mailmover")
	gui.New(a, gui.Deps{
		StateDir: env.StateDir(), Keychain: env.Keychain, KeychainErr: env.KeychainError(), Accounts: env.Accounts,
		Demo: os.Getenv("MAILMOVER_DEMO") == "1" || env.Accounts == nil || len(env.Accounts.List()) == 0, ScreenshotDir: os.Getenv("MAILMOVER_SCREENSHOT_DIR"),
	}).ShowAndRun()
}
