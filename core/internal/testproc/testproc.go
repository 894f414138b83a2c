// Package testproc holds what the helpers that start real servers for tests
// (Dovecot, Radicale, Dovecot with ManageSieve) share: finding a free port
// on the loopback address, and starting again when another process took
// that port between the check and the server's start.
package testproc

import (
	"context"
	"fmt"
	"net"
	"strings"
)

// Attempts is how often Start tries a server whose port was taken.
const Attempts = 5

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func FreePort(ctx context.Context) (int, error) {
	var lc net.ListenConfig
	l, err := lc.Listen(ctx, "tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// Start calls start, which picks free ports and starts a server, up to
// Attempts times while it fails because a port was taken in between (the
// server's log, read by logs, says "in use"). On failure it returns the
// log of the last attempt with start's error.
func Start(start func() error, logs func() string) (log string, err error) {
	for attempt := 1; ; attempt++ {
		if err = start(); err == nil {
			return "", nil
		}
		log = logs()
		if attempt >= Attempts || !strings.Contains(log, "in use") {
			return log, err
		}
	}
}
