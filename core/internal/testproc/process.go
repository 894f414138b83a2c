package testproc

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"syscall"
	"time"
)

// stopGrace is how long Stop waits after SIGTERM before it kills.
const stopGrace = 10 * time.Second

// Process is a server started for tests.
type Process struct {
	name string
	cmd  *exec.Cmd
	done chan struct{} // closed once cmd.Wait has returned
	err  error         // cmd.Wait's result; read only after done is closed
}

// Run starts cmd, named name in errors, and watches for its exit. On Linux
// the kernel stops it if the test process dies without its cleanups.
func Run(name string, cmd *exec.Cmd) (*Process, error) {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = sysProcAttr()
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("run %s: %w", name, err)
	}
	p := &Process{name: name, cmd: cmd, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

// exitError describes a process that exited while it should be running.
// Call it only once p.done is closed.
func (p *Process) exitError() error {
	if p.err == nil {
		return errors.New(p.name + " exited before accepting connections")
	}
	return fmt.Errorf("%s exited before accepting connections: %w", p.name, p.err)
}

// WaitReady calls ready every 50 ms until it succeeds, the process exits,
// or timeout passes: a started server is not yet a server that answers.
func (p *Process) WaitReady(ctx context.Context, timeout time.Duration, ready func(ctx context.Context) error) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	for {
		select {
		case <-p.done:
			return p.exitError()
		default:
		}
		last := ready(ctx)
		if last == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s not ready after %v: %w", p.name, timeout, last)
		case <-p.done:
			return p.exitError()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// Stop terminates the process (SIGTERM, then SIGKILL after a grace period)
// and waits for it to exit. A nil Process or one that exited is left alone.
func (p *Process) Stop() {
	if p == nil {
		return
	}
	select {
	case <-p.done:
		return
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(stopGrace):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}
