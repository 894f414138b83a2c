package imapstore

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"mailmover/core/failure"
	"mailmover/core/store"
)

// appendServer answers APPEND commands on one connection the way a server
// without MULTIAPPEND does: a message whose size is 13 is refused before its
// bytes ("too big"), one that says "refuse me" after them; the others are
// saved with consecutive UIDs. It records the commands' flags and bodies.
func appendServer(t *testing.T, c net.Conn, literalPlus bool) <-chan []string {
	got := make(chan []string, 1)
	go func() {
		defer c.Close()
		r := bufio.NewReader(c)
		var saved []string
		uid := 100
		defer func() { got <- saved }()
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				return
			}
			line = strings.TrimRight(line, "\r\n")
			tag, rest, _ := strings.Cut(line, " ")
			if !strings.HasPrefix(rest, "APPEND ") {
				fmt.Fprintf(c, "%s BAD unexpected\r\n", tag)
				continue
			}
			i := strings.LastIndexByte(rest, '{')
			n, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimSuffix(rest[i+1:], "}"), "+"))
			if !literalPlus {
				if n == 13 {
					fmt.Fprintf(c, "%s NO [TOOBIG] Mail too big\r\n", tag)
					continue
				}
				fmt.Fprintf(c, "+ OK\r\n")
			}
			body := make([]byte, n+2)
			if _, err := io.ReadFull(r, body); err != nil {
				return
			}
			switch {
			case strings.Contains(string(body), "refuse me"):
				fmt.Fprintf(c, "* 3 EXISTS\r\n%s NO Message refused\r\n", tag)
			case n == 13:
				fmt.Fprintf(c, "%s NO [TOOBIG] Mail too big\r\n", tag)
			default:
				uid++
				saved = append(saved, rest[:i]+string(body[:n]))
				fmt.Fprintf(c, "* %d EXISTS\r\n%s OK [APPENDUID 7 %d] Append completed.\r\n", uid-100, tag, uid)
			}
		}
	}()
	return got
}

// dialAppendServer connects an Appender to an appendServer over 127.0.0.1.
func dialAppendServer(t *testing.T, literalPlus bool) (*Appender, <-chan []string) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	client, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	server, err := l.Accept()
	if err != nil {
		t.Fatal(err)
	}
	caps := map[string]bool{"IMAP4REV1": true}
	if literalPlus {
		caps["LITERAL+"] = true
	}
	a := &Appender{conn: client, r: bufio.NewReader(client), w: bufio.NewWriter(client), caps: caps, selected: "INBOX"}
	return a, appendServer(t, server, literalPlus)
}

func TestAppendEach(t *testing.T) {
	date := time.Date(2024, 3, 1, 10, 0, 0, 0, time.UTC)
	bodies := []string{"Subject: one\r\n\r\n1\r\n", "Subject: refuse me\r\n\r\n", "Subject: 13\r\n", "Subject: four\r\n\r\n4\r\n", "Subject: five\r\n\r\n5\r\n"}
	type outcome struct {
		uid  uint32
		tuid uint32
		kind failure.Kind
	}
	for _, tc := range []struct {
		name        string
		literalPlus bool
		stopAfter   int // done returns false after this many answers; 0: never
		want        []outcome
		wantSaved   int
	}{
		{"synchronizing literals", false, 0, []outcome{{1, 101, 0}, {2, 0, failure.Refused}, {3, 0, failure.TooBig}, {4, 102, 0}, {5, 103, 0}}, 3},
		{"LITERAL+", true, 0, []outcome{{1, 101, 0}, {2, 0, failure.Refused}, {3, 0, failure.TooBig}, {4, 102, 0}, {5, 103, 0}}, 3},
		{"stopped", false, 2, []outcome{{1, 101, 0}, {2, 0, failure.Refused}, {3, 0, failure.TooBig}}, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, saved := dialAppendServer(t, tc.literalPlus)
			msgs := func(yield func(*store.Message, error) bool) {
				for i, b := range bodies {
					m := &store.Message{Body: strings.NewReader(b)}
					m.UID, m.Size, m.Flags, m.InternalDate = uint32(i+1), int64(len(b)), []string{`\Seen`}, date
					if !yield(m, nil) {
						return
					}
				}
			}
			var got []outcome
			err := a.AppendEach(context.Background(), "INBOX", msgs, func(m *store.Message, res AppendResult, err error) bool {
				o := outcome{uid: m.UID}
				if len(res.UIDs) == 1 {
					o.tuid = res.UIDs[0]
				}
				if err != nil {
					o.kind = failure.KindOf(err)
				}
				got = append(got, o)
				return tc.stopAfter == 0 || len(got) < tc.stopAfter
			})
			a.conn.Close()
			if err != nil {
				t.Fatalf("AppendEach(%q) = %v; want nil", tc.name, err)
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Errorf("AppendEach(%q) outcomes = %v; want %v", tc.name, got, tc.want)
			}
			s := <-saved
			if len(s) != tc.wantSaved {
				t.Fatalf("AppendEach(%q) saved %d messages; want %d", tc.name, len(s), tc.wantSaved)
			}
			if want := `APPEND "INBOX" (\Seen) " 1-Mar-2024 10:00:00 +0000" ` + bodies[0]; s[0] != want {
				t.Errorf("AppendEach(%q) first command = %q; want %q", tc.name, s[0], want)
			}
		})
	}
}
