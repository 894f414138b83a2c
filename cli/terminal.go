package cli

import (
	"os"

	"golang.org/x/term"
)

func terminal() (bool, func() (string, error)) {
	fd := int(os.Stdin.Fd())
	if !term.IsTerminal(fd) {
		return false, nil
	}
	return true, func() (string, error) {
		b, err := term.ReadPassword(fd)
		os.Stderr.WriteString("\n")
		return string(b), err
	}
}
