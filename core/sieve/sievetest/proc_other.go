//go:build !unix

package sievetest

import "os/exec"

func setpgid(*exec.Cmd) {}

func terminate(cmd *exec.Cmd) { _ = cmd.Process.Kill() }
