package cli

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"mailmover/core/dav/radicaletest"
)

// jsonLines decodes one JSON object per line.
func jsonLines(t *testing.T, b *bytes.Buffer) []map[string]any {
	t.Helper()
	var out []map[string]any
	sc := bufio.NewScanner(bytes.NewReader(b.Bytes()))
	sc.Buffer(nil, 1<<24)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("not JSON: %q: %v", sc.Text(), err)
		}
		out = append(out, m)
	}
	return out
}

// summaryOf returns the last JSON line, which must be the summary.
func summaryOf(t *testing.T, b *bytes.Buffer) map[string]any {
	t.Helper()
	lines := jsonLines(t, b)
	if len(lines) == 0 || lines[len(lines)-1]["type"] != "summary" {
		t.Fatalf("no summary in %q", b)
	}
	return lines[len(lines)-1]
}

func TestDAVCommandsRadicale(t *testing.T) {
	t.Parallel()
	s := radicaletest.Start(t, radicaletest.Options{})
	s.MakeAddressBook(t, "alice", "friends", "Freunde", "#00FF00FF")
	for i, name := range []string{"Ängelika", "Björn", "Çelik"} {
		card := "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:friend-" + string(rune('a'+i)) + "\r\nFN:" + name + "\r\nN:;" + name + ";;;\r\nEND:VCARD\r\n"
		s.Put(t, "alice", "alice/friends/"+string(rune('a'+i))+".vcf", "text/vcard", []byte(card))
	}
	s.MakeCalendar(t, "alice", "home", "Zuhause", "", "VEVENT", "VTODO")
	s.Put(t, "alice", "alice/home/ev.ics", "text/calendar", []byte("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\nBEGIN:VEVENT\r\nUID:ev-1\r\nDTSTAMP:20240101T000000Z\r\nDTSTART;VALUE=DATE:20240601\r\nSUMMARY:Sommerfest\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"))
	s.Put(t, "alice", "alice/home/todo.ics", "text/calendar", []byte("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\nBEGIN:VTODO\r\nUID:todo-1\r\nDTSTAMP:20240101T000000Z\r\nSUMMARY:Einkaufen\r\nEND:VTODO\r\nEND:VCALENDAR\r\n"))
	vars := map[string]string{"ALICE_PW": "alice-pw", "BOB_PW": "bob-pw"}
	from := strings.Replace(s.URL, "http://", "http://alice@", 1)
	ctx := t.Context()

	// Backup, as text.
	dir := t.TempDir()
	env, out, errb := testEnv(t, vars)
	if code := runContacts(ctx, env, []string{"backup", "--from", from, "--from-password-env", "ALICE_PW", "--out", dir}); code != ExitOK {
		t.Fatalf("contacts backup = %d; stderr %q", code, errb)
	}
	if !strings.Contains(out.String(), "Saved 3 contacts from 1 address book") {
		t.Errorf("backup output = %q", out)
	}
	data, err := os.ReadFile(filepath.Join(dir, "Freunde.vcf"))
	if err != nil || strings.Count(string(data), "BEGIN:VCARD") != 3 {
		t.Errorf("Freunde.vcf = %q, %v; want 3 cards", data, err)
	}

	// Calendar backup, as JSON.
	env, out, errb = testEnv(t, vars)
	if code := runCalendars(ctx, env, []string{"backup", "--from", s.URL, "--from-user", "alice", "--from-password-env", "ALICE_PW", "--out", dir, "--json"}); code != ExitOK {
		t.Fatalf("calendars backup = %d; stderr %q", code, errb)
	}
	sum := summaryOf(t, out)
	if b := sum["backup"].(map[string]any); b["objects"] != 2.0 {
		t.Errorf("backup summary = %v; want 2 objects", b)
	}

	// Copy (dry run, then for real, then again), as JSON.
	copyArgs := []string{"copy", "--from", from, "--from-password-env", "ALICE_PW", "--to", s.URL, "--to-user", "bob", "--to-password-env", "BOB_PW", "--json"}
	env, out, errb = testEnv(t, vars)
	if code := runContacts(ctx, env, append(copyArgs, "--dry-run")); code != ExitOK {
		t.Fatalf("contacts copy --dry-run = %d; stderr %q", code, errb)
	}
	if code, _ := s.Do(t, "bob", "PROPFIND", "bob/friends/", nil, nil); code != 404 {
		t.Errorf("dry run created bob/friends/ (PROPFIND = %d)", code)
	}
	for run, wantCopied := range []float64{3, 0} {
		env, out, errb = testEnv(t, vars)
		if code := runContacts(ctx, env, copyArgs); code != ExitOK {
			t.Fatalf("contacts copy run %d = %d; stderr %q", run+1, code, errb)
		}
		lines := jsonLines(t, out)
		if lines[0]["type"] != "plan" {
			t.Errorf("first line = %v; want the plan", lines[0])
		}
		sum := summaryOf(t, out)
		res := sum["result"].(map[string]any)
		ver := sum["verification"].(map[string]any)
		if res["copied"] != wantCopied || res["existing"] != 3-wantCopied || ver["missing"] != 0.0 {
			t.Errorf("copy run %d summary = %v; want %v copied and verified", run+1, sum, wantCopied)
		}
	}

	// Copy calendars as text, then verify.
	env, out, errb = testEnv(t, vars)
	textArgs := []string{"copy", "--from", from, "--from-password-env", "ALICE_PW", "--to", s.URL, "--to-user", "bob", "--to-password-env", "BOB_PW"}
	if code := runCalendars(ctx, env, textArgs); code != ExitOK {
		t.Fatalf("calendars copy = %d; stderr %q", code, errb)
	}
	for _, want := range []string{`create "Zuhause"`, "Copied 2 events and tasks", "Verified"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("calendars copy output lacks %q:\n%s", want, out)
		}
	}
	env, out, errb = testEnv(t, vars)
	textArgs[0] = "verify"
	if code := runCalendars(ctx, env, textArgs); code != ExitOK || !strings.Contains(out.String(), "Verified") {
		t.Errorf("calendars verify = %d, %q; stderr %q", code, out, errb)
	}

	// Import the calendar backup into a new calendar, twice.
	for run, want := range []string{"Imported 2 events and tasks into the new calendar \"Restored\"", "Imported 0 events and tasks into \"Restored\"; 2 were already there"} {
		env, out, errb = testEnv(t, vars)
		if code := runCalendars(ctx, env, []string{"import", "--file", filepath.Join(dir, "Zuhause.ics"), "--into", "Restored", "--to", from, "--to-password-env", "ALICE_PW"}); code != ExitOK {
			t.Fatalf("calendars import run %d = %d; stderr %q", run+1, code, errb)
		}
		if !strings.Contains(out.String(), want) {
			t.Errorf("import run %d output = %q; want %q", run+1, out, want)
		}
	}

	// A wrong password is an authentication failure (exit 3), and is
	// never printed.
	env, _, errb = testEnv(t, map[string]string{"PW": "wrong-secret"})
	if code := runContacts(ctx, env, []string{"backup", "--from", from, "--from-password-env", "PW", "--out", dir}); code != ExitAuth {
		t.Errorf("backup with a wrong password = %d; want %d (stderr %q)", code, ExitAuth, errb)
	}
	if strings.Contains(errb.String(), "wrong-secret") {
		t.Errorf("stderr holds the password: %q", errb)
	}
}

func TestDAVUsage(t *testing.T) {
	tests := []struct {
		args []string
		want int
	}{
		{nil, ExitUsage},
		{[]string{"-h"}, ExitOK},
		{[]string{"frobnicate"}, ExitUsage},
		{[]string{"backup", "-h"}, ExitOK},
		{[]string{"backup", "--out", "x"}, ExitUsage},
		{[]string{"backup", "--from", "https://dav.example.org/", "--out", "x"}, ExitUsage},
		{[]string{"backup", "--from", "https://a:hunter2@dav.example.org/", "--from-password-env", "PW", "--out", "x"}, ExitUsage},
		{[]string{"backup", "--from", "http://alice@dav.example.org/", "--from-password-env", "PW", "--out", "x"}, ExitUsage},
		{[]string{"backup", "--from", "no-such-account", "--from-password-env", "PW", "--out", "x"}, ExitUsage},
		{[]string{"backup", "--from", "https://alice@dav.example.org/", "--from-password-env", "UNSET", "--out", "x"}, ExitUsage},
		{[]string{"copy", "--from", "https://alice@dav.example.org/", "--from-password-env", "PW"}, ExitUsage},
		{[]string{"import", "--to", "https://alice@dav.example.org/", "--to-password-env", "PW"}, ExitUsage},
		{[]string{"import", "--to", "https://alice@dav.example.org/", "--to-password-env", "PW", "--file", "/nonexistent.ics"}, ExitUsage},
		{[]string{"backup", "--from", "https://alice@dav.example.org/", "extra"}, ExitUsage},
	}
	for _, tc := range tests {
		env, _, errb := testEnv(t, map[string]string{"PW": "pw"})
		if code := runContacts(t.Context(), env, tc.args); code != tc.want {
			t.Errorf("runContacts(%q) = %d; want %d (stderr %q)", tc.args, code, tc.want, errb)
		}
		if strings.Contains(errb.String(), "hunter2") {
			t.Errorf("runContacts(%q) printed the password: %q", tc.args, errb)
		}
	}
	env, _, _ := testEnv(t, nil)
	if code := runCalendars(t.Context(), env, []string{"import", "--file", writeTemp(t, "junk"), "--to", "https://a@dav.example.org/", "--to-password-env", "X"}); code != ExitUsage {
		t.Errorf("import of a file that is no calendar = %d; want %d", code, ExitUsage)
	}
}

// writeTemp writes s to a temporary file and returns its path.
func writeTemp(t *testing.T, s string) string {
	p := filepath.Join(t.TempDir(), "f.ics")
	if err := os.WriteFile(p, []byte(s), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}
