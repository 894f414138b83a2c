package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"mailmover/core/cutover"
	"mailmover/core/dovecottest"
	"mailmover/core/mailtest"
	"mailmover/core/sample"
)

// TestCutoverWalkthrough walks the switch-over on two real Dovecot servers:
// initial copy, mail arriving on the old server, the final delta bringing
// exactly those messages, verification, device files and the report.
func TestCutoverWalkthrough(t *testing.T) {
	t.Parallel()
	old := dovecottest.Start(t, dovecottest.Options{Flavour: dovecottest.Modern})
	nw := dovecottest.Start(t, dovecottest.Options{Flavour: dovecottest.Courier})
	src := mailtest.Account(old, "alice", "alice-pw")
	mailtest.Load(t, src, sample.New(sample.Options{Seed: 12, Messages: 40, MaxAttachment: 50 << 10}))
	stateDir := t.TempDir()
	pair := []string{"--from", fmt.Sprintf("imaps://alice@127.0.0.1:%d", old.TLSPort), "--to", fmt.Sprintf("imaps://alice@127.0.0.1:%d", nw.TLSPort),
		"--from-password-env", "PW", "--to-password-env", "PW", "--from-ca", caFile(t, old), "--to-ca", caFile(t, nw), "--state", stateDir}
	vars := map[string]string{"PW": "alice-pw"}
	run := func(want int, args ...string) string {
		t.Helper()
		env, out, errb := testEnv(t, vars)
		if code := Dispatch(context.Background(), args, env); code != want {
			t.Fatalf("Dispatch(%q) = %d; want %d\n%s\n%s", args[:2], code, want, out, errb)
		}
		return out.String()
	}
	run(ExitOK, append([]string{"cutover", "copy"}, pair...)...)
	run(ExitOK, append([]string{"cutover", "mark", cutover.LowerTTL, "--note", "TTL 300"}, pair...)...)
	run(ExitOK, append([]string{"cutover", "mark", cutover.SwitchMX}, pair...)...)
	run(ExitOK, append([]string{"cutover", "mark", cutover.MXLive}, pair...)...)

	// Mail keeps arriving on the old server until the MX change spreads.
	c := mailtest.Dial(t, src)
	for i := range 3 {
		msg := fmt.Sprintf("From: late@example.com\r\nSubject: arrived during the switch %d\r\nMessage-ID: <late-%d@example.com>\r\n\r\nhello\r\n", i, i)
		ac := c.Append("INBOX", int64(len(msg)), nil)
		ac.Write([]byte(msg))
		ac.Close()
		if _, err := ac.Wait(); err != nil {
			t.Fatal(err)
		}
	}
	c.Close()
	out := run(ExitOK, append([]string{"cutover", "delta", "--json"}, pair...)...)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	var sum struct {
		Result struct {
			Progress struct{ Copied int } `json:"progress"`
		} `json:"result"`
	}
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &sum); err != nil || sum.Result.Progress.Copied != 3 {
		t.Errorf("final delta copied %d (%v); want exactly the 3 new messages", sum.Result.Progress.Copied, err)
	}
	devices := t.TempDir()
	run(ExitOK, append([]string{"cutover", "devices", "--out", devices, "--domain", "example.com", "--smtp-host", "smtp.example.com"}, pair...)...)
	if b, err := os.ReadFile(filepath.Join(devices, "config-v1.1.xml")); err != nil || !strings.Contains(string(b), "<hostname>127.0.0.1</hostname>") {
		t.Errorf("autoconfig file = %q, %v", b, err)
	}
	run(ExitOK, append([]string{"cutover", "mark", cutover.Devices}, pair...)...)
	status := run(ExitOK, append([]string{"cutover", "status"}, pair...)...)
	for _, id := range []string{cutover.InitialCopy, cutover.LowerTTL, cutover.SwitchMX, cutover.MXLive, cutover.FinalDelta, cutover.Verify, cutover.Devices} {
		if !strings.Contains(status, "[x] "+id) {
			t.Errorf("status does not show %q done:\n%s", id, status)
		}
	}
	if !strings.Contains(status, "Next: Send and receive test") {
		t.Errorf("status does not name the next step:\n%s", status)
	}
	html := filepath.Join(t.TempDir(), "report.html")
	run(ExitOK, "report", "--state", stateDir, "--out", html)
	b, err := os.ReadFile(html)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"Initial copy", "Lower the MX TTL", "Switch MX", "Final copy", "Verify", "complete", "INBOX", "TTL 300"} {
		if !strings.Contains(string(b), s) {
			t.Errorf("report lacks %q", s)
		}
	}
	csvPath := filepath.Join(t.TempDir(), "report.csv")
	run(ExitOK, "report", "--state", stateDir, "--out", csvPath)
	if b, _ := os.ReadFile(csvPath); !strings.Contains(string(b), "INBOX") {
		t.Errorf("CSV report lacks INBOX:\n%s", b)
	}
}
