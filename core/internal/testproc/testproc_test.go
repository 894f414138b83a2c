package testproc

import (
	"context"
	"errors"
	"net"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestFreePort(t *testing.T) {
	port, err := FreePort(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		t.Fatalf("FreePort() = %d, which cannot be listened on: %v", port, err)
	}
	l.Close()
}

// TestStart tries again only while the log says a port was in use.
func TestStart(t *testing.T) {
	failed := errors.New("failed")
	tests := []struct {
		name      string
		fails     int
		log       string
		wantCalls int
		wantErr   bool
	}{
		{"first time", 0, "", 1, false},
		{"port taken twice", 2, "Address already in use", 3, false},
		{"port always taken", 100, "Address already in use", Attempts, true},
		{"other failure", 100, "bad configuration", 1, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			calls := 0
			log, err := Start(func() error {
				calls++
				if calls <= tt.fails {
					return failed
				}
				return nil
			}, func() string { return tt.log })
			if calls != tt.wantCalls || (err != nil) != tt.wantErr {
				t.Errorf("Start(%s) called start %d times, err %v; want %d, error %v", tt.name, calls, err, tt.wantCalls, tt.wantErr)
			}
			if tt.wantErr && log != tt.log {
				t.Errorf("Start(%s) log = %q; want %q", tt.name, log, tt.log)
			}
		})
	}
}

// TestProcess waits for a server that never answers until it exits, and
// stops one that runs.
func TestProcess(t *testing.T) {
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh")
	}
	p, err := Run("exiting", exec.Command(sh, "-c", "exit 3"))
	if err != nil {
		t.Fatal(err)
	}
	never := func(context.Context) error { return errors.New("not yet") }
	if err := p.WaitReady(t.Context(), time.Minute, never); err == nil || !strings.Contains(err.Error(), "exiting exited") {
		t.Errorf("WaitReady(exiting process) = %v; want it to say the process exited", err)
	}

	p, err = Run("sleeping", exec.Command(sh, "-c", "sleep 60"))
	if err != nil {
		t.Fatal(err)
	}
	ready := func(context.Context) error { return nil }
	if err := p.WaitReady(t.Context(), time.Minute, ready); err != nil {
		t.Errorf("WaitReady(ready) = %v; want nil", err)
	}
	p.Stop()
	select {
	case <-p.done:
	default:
		t.Error("Stop returned before the process exited")
	}
	p.Stop() // a second Stop is harmless
}
