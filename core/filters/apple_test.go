package filters

import (
	"bytes"
	"context"
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"
	"unicode/utf16"

	"mailmover/core/filters/filtertest"
)

func TestParseXMLPlist(t *testing.T) {
	in := `<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0"><dict>
<key>s</key><string>a &amp; b &lt;c&gt; é</string>
<key>empty</key><string/>
<key>i</key><integer>-7</integer>
<key>r</key><real>1.5</real>
<key>t</key><true/><key>f</key><false/>
<key>d</key><date>2024-01-02T03:04:05Z</date>
<key>b</key><data>aGVs
bG8=</data>
<key>a</key><array><string>x</string><array/><dict/></array>
</dict></plist>`
	got, err := parseXMLPlist([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"s": "a & b <c> é", "empty": "", "i": int64(-7), "r": 1.5, "t": true, "f": false,
		"d": time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC), "b": []byte("hello"),
		"a": []any{"x", []any{}, map[string]any{}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("parseXMLPlist = %#v; want %#v", got, want)
	}
	for _, bad := range []string{
		"", "<notplist/>", "<plist><dict><key>a</key></dict></plist>", "<plist><dict><string>x</string></dict></plist>",
		"<plist><integer>x</integer></plist>", "<plist><array><string>x</array></plist>", "<plist><frob/></plist>",
		"<plist><data>!!</data></plist>", "<plist>" + strings.Repeat("<array>", 100) + strings.Repeat("</array>", 100) + "</plist>",
	} {
		if _, err := parseXMLPlist([]byte(bad)); err == nil {
			t.Errorf("parseXMLPlist(%q) = nil error", bad)
		}
	}
}

// encodeBinaryPlist writes v in the bplist00 format, for tests.
func encodeBinaryPlist(v any) []byte {
	var objs [][]byte
	var add func(v any) int
	marker := func(kind byte, n int) []byte {
		if n < 15 {
			return []byte{kind<<4 | byte(n)}
		}
		b := []byte{kind<<4 | 0xF, 0x13}
		return binary.BigEndian.AppendUint64(b, uint64(n))
	}
	add = func(v any) int {
		idx := len(objs)
		objs = append(objs, nil)
		var b []byte
		switch t := v.(type) {
		case bool:
			b = []byte{0x08}
			if t {
				b = []byte{0x09}
			}
		case int64:
			b = binary.BigEndian.AppendUint64([]byte{0x13}, uint64(t))
		case float64:
			b = binary.BigEndian.AppendUint64([]byte{0x23}, math.Float64bits(t))
		case string:
			ascii := true
			for _, r := range t {
				if r > 0x7f {
					ascii = false
				}
			}
			if ascii {
				b = append(marker(0x5, len(t)), t...)
			} else {
				u := utf16.Encode([]rune(t))
				b = marker(0x6, len(u))
				for _, c := range u {
					b = binary.BigEndian.AppendUint16(b, c)
				}
			}
		case []any:
			refs := make([]int, len(t))
			for i, e := range t {
				refs[i] = add(e)
			}
			b = marker(0xA, len(t))
			for _, r := range refs {
				b = binary.BigEndian.AppendUint16(b, uint16(r))
			}
		case map[string]any:
			keys := make([]string, 0, len(t))
			for k := range t {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			var krefs, vrefs []int
			for _, k := range keys {
				krefs = append(krefs, add(k))
				vrefs = append(vrefs, add(t[k]))
			}
			b = marker(0xD, len(t))
			for _, r := range append(krefs, vrefs...) {
				b = binary.BigEndian.AppendUint16(b, uint16(r))
			}
		default:
			panic("encodeBinaryPlist: unsupported type")
		}
		objs[idx] = b
		return idx
	}
	add(v)
	out := []byte("bplist00")
	offsets := make([]int, len(objs))
	for i, o := range objs {
		offsets[i] = len(out)
		out = append(out, o...)
	}
	table := len(out)
	for _, o := range offsets {
		out = binary.BigEndian.AppendUint32(out, uint32(o))
	}
	tr := make([]byte, 32)
	tr[6], tr[7] = 4, 2
	binary.BigEndian.PutUint64(tr[8:], uint64(len(objs)))
	binary.BigEndian.PutUint64(tr[16:], 0)
	binary.BigEndian.PutUint64(tr[24:], uint64(table))
	return append(out, tr...)
}

func TestBinaryPlistMatchesXML(t *testing.T) {
	x, err := parseXMLPlist([]byte(filtertest.SyncedRules))
	if err != nil {
		t.Fatal(err)
	}
	b := encodeBinaryPlist(x)
	got, err := parsePlist(b)
	if err != nil {
		t.Fatalf("parsePlist(binary) error %v", err)
	}
	if !reflect.DeepEqual(got, x) {
		t.Errorf("binary plist = %#v; want %#v", got, x)
	}
	long := map[string]any{"k": strings.Repeat("é", 40), "n": int64(-1), "f": 2.25, "l": []any{strings.Repeat("a", 20)}}
	if got, err := parsePlist(encodeBinaryPlist(long)); err != nil || !reflect.DeepEqual(got, long) {
		t.Errorf("parsePlist(binary long) = %#v, %v; want %#v", got, err, long)
	}
	// Truncations and a cyclic reference fail cleanly.
	for n := 8; n < len(b); n += 7 {
		_, _ = parsePlist(b[:n])
	}
	cyc := encodeBinaryPlist([]any{[]any{"x"}})
	cyc[bytes.Index(cyc, []byte{0xA1, 0, 1})+2] = 0 // the inner array now points at the outer one
	if _, err := parsePlist(cyc); err == nil {
		t.Error("parsePlist(cyclic) = nil error")
	}
}

func TestParseAppleRules(t *testing.T) {
	active := map[string]bool{"11111111-AAAA-4000-8000-000000000004": false}
	rules, problems, err := ParseAppleRules([]byte(filtertest.SyncedRules), active)
	if err != nil || len(problems) != 0 {
		t.Fatalf("ParseAppleRules = %v, %q", err, problems)
	}
	inbox := &Folder{URI: "imap://alice%40example.com@imap.example.com/INBOX/Re%C3%A7us%20%26%20Factures", Scheme: "imap",
		User: "alice@example.com", Host: "imap.example.com", Path: []string{"INBOX", "Reçus & Factures"}}
	dev := &Folder{URI: "imap://alice%40example.com@imap.example.com/Lists/Dev", Scheme: "imap",
		User: "alice@example.com", Host: "imap.example.com", Path: []string{"Lists", "Dev"}}
	want := []Rule{
		{Name: "Factures", Enabled: true, When: NewMail | Manual, Match: MatchAll,
			Conditions: []Condition{{Field: FieldFrom, Op: OpContains, Value: "billing@"}, {Field: FieldSubject, Op: OpBeginsWith, Value: `Facture & "reçu"`}},
			Actions:    []Action{{Kind: ActMarkRead}, {Kind: ActMove, Value: inbox.URI, Folder: inbox}, {Kind: ActStop}}},
		{Name: "Lists", Enabled: true, When: NewMail | Manual, Match: MatchAny,
			Conditions: []Condition{{Field: FieldHeader, Header: "List-Id", Op: OpContains, Value: "dev.example.org"},
				{Field: FieldToOrCC, Op: OpEndsWith, Value: "@lists.example.org", Or: true}, {Field: FieldAddressBook, Op: OpIsInAB, Or: true}},
			Actions: []Action{{Kind: ActMarkFlagged, Value: "green"}, {Kind: ActCopy, Value: dev.URI, Folder: dev}}},
		{Name: "Away", Enabled: true, When: NewMail | Manual, Match: MatchEvery,
			Actions: []Action{{Kind: ActReply, Value: "I am away until Monday.\nFor invoices: billing@example.com"}}},
		{Name: "Switched off", Enabled: false, When: NewMail | Manual, Match: MatchAll,
			Conditions: []Condition{{Field: FieldSubject, Op: OpDoesntContain, Value: "urgent"}, {Field: FieldOther, Header: "IsEncrypted", Op: OpContains}},
			Actions:    []Action{{Kind: ActForward, Value: "boss@example.com, deputy@example.com"}, {Kind: ActDelete}, {Kind: ActAppleScript, Value: "Notify.scpt"}}},
	}
	if !reflect.DeepEqual(rules, want) {
		t.Errorf("ParseAppleRules =\n%+v\nwant\n%+v", rules, want)
	}
	if _, _, err := ParseAppleRules([]byte(filtertest.ActiveState), nil); err == nil {
		t.Error("ParseAppleRules(dict) = nil error; want 'not a list of rules'")
	}
	rules, problems, err = ParseAppleRules([]byte(`<plist><array><string>x</string><dict><key>RuleName</key><string>r</string>
<key>Criteria</key><array><dict><key>Header</key><string>Some Thing</string><key>Qualifier</key><string>Sounds</string></dict></array>
<key>AutoResponseType</key><integer>9</integer></dict></array></plist>`), nil)
	if err != nil || len(rules) != 1 || len(problems) != 4 {
		t.Errorf("ParseAppleRules(odd) = %+v, %q, %v; want 1 rule and 4 problems", rules, problems, err)
	}
	rules, _, _ = ParseAppleRules([]byte(`<plist><array><dict><key>RuleName</key><string>none</string><key>MarkRead</key><true/></dict>
<dict><key>RuleName</key><string>odd</string><key>Criteria</key><array><string>x</string></array></dict></array></plist>`), nil)
	if len(rules) != 2 || !rules[0].Incomplete || !rules[1].Incomplete {
		t.Errorf("rules without readable criteria = %+v; want both Incomplete", rules)
	}
}

func TestReadAppleMail(t *testing.T) {
	dir := t.TempDir()
	path, err := filtertest.WriteAppleMail(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, arg := range []string{path, dir} {
		set, err := ReadAppleMail(context.Background(), arg)
		if err != nil {
			t.Fatalf("ReadAppleMail(%q): %v", arg, err)
		}
		if set.Client != AppleMail || len(set.Accounts) != 1 || len(set.Accounts[0].Rules) != 4 || len(set.Problems) != 0 {
			t.Fatalf("ReadAppleMail(%q) = %+v", arg, set)
		}
		if set.Accounts[0].Rules[3].Enabled {
			t.Errorf("rule 4 is enabled; RulesActiveState.plist switches it off")
		}
		if len(set.AutoReplies) != 1 || !strings.HasPrefix(set.AutoReplies[0].Text, "I am away") {
			t.Errorf("auto-replies = %+v", set.AutoReplies)
		}
	}
	if err := os.Remove(filepath.Join(dir, "RulesActiveState.plist")); err != nil {
		t.Fatal(err)
	}
	set, err := ReadAppleMail(context.Background(), path)
	if err != nil || len(set.Problems) != 1 || !set.Accounts[0].Rules[3].Enabled {
		t.Errorf("ReadAppleMail without active state = %+v, %v; want a note and every rule on", set, err)
	}
	if err := os.WriteFile(path, []byte("<plist><array>"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadAppleMail(context.Background(), path); err == nil || !strings.Contains(err.Error(), "SyncedRules.plist") {
		t.Errorf("ReadAppleMail(broken) = %v; want an error naming the file", err)
	}
}

func FuzzParsePlist(f *testing.F) {
	f.Add([]byte(filtertest.SyncedRules))
	x, _ := parseXMLPlist([]byte(filtertest.SyncedRules))
	f.Add(encodeBinaryPlist(x))
	f.Fuzz(func(t *testing.T, b []byte) {
		_, _ = parsePlist(b)
		_, _, _ = ParseAppleRules(b, nil)
	})
}
