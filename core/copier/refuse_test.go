package copier

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"iter"
	"strings"
	"testing"

	"mailmover/core/dovecottest"
	"mailmover/core/failure"
	"mailmover/core/imapstore"
	"mailmover/core/mailtest"
	"mailmover/core/store"
)

// refusing is a target that refuses messages whose subject says so, as a
// server refuses a malformed or forbidden message.
type refusing struct{ TargetConn }

func (r refusing) Append(ctx context.Context, mailbox string, msgs iter.Seq2[*store.Message, error]) (store.AppendResult, error) {
	var held []*store.Message
	for m, err := range msgs {
		if err != nil {
			return store.AppendResult{}, err
		}
		b, err := io.ReadAll(m.Body)
		if err != nil {
			return store.AppendResult{}, err
		}
		c := *m
		c.Body = bytes.NewReader(b)
		held = append(held, &c)
		if strings.Contains(m.Subject, "refuse me") {
			return store.AppendResult{}, failure.New(failure.Refused, failure.ScopeMessage, "save message", fmt.Errorf("NO message refused"))
		}
	}
	return r.TargetConn.Append(ctx, mailbox, func(yield func(*store.Message, error) bool) {
		for _, m := range held {
			if !yield(m, nil) {
				return
			}
		}
	})
}

// refusingEach is a refusing target whose single-message APPENDs are
// pipelined (imapstore.Session.AppendEach), as a server without MULTIAPPEND
// is written to.
type refusingEach struct{ refusing }

func (r refusingEach) AppendEach(ctx context.Context, mailbox string, msgs iter.Seq2[*store.Message, error], done func(*store.Message, store.AppendResult, error) bool) error {
	return r.TargetConn.(eachAppender).AppendEach(ctx, mailbox, func(yield func(*store.Message, error) bool) {
		for m, err := range msgs {
			if err == nil && strings.Contains(m.Subject, "refuse me") {
				if !done(m, store.AppendResult{}, failure.New(failure.Refused, failure.ScopeMessage, "save message", fmt.Errorf("NO message refused"))) {
					return
				}
				continue
			}
			if !yield(m, err) || err != nil {
				return
			}
		}
	}, done)
}

// TestRefusedMessage: one message the target refuses is reported and
// skipped, the others arrive, with and without MULTIAPPEND, one APPEND after
// another or pipelined.
func TestRefusedMessage(t *testing.T) {
	t.Parallel()
	ss := dovecottest.Start(t, dovecottest.Options{})
	src := mailtest.Account(ss, "alice", "alice-pw")
	c := mailtest.Dial(t, src)
	for i := range 12 {
		subject := fmt.Sprintf("message %d", i)
		if i == 5 {
			subject = "please refuse me"
		}
		msg := fmt.Sprintf("From: a@example.com\r\nSubject: %s\r\nMessage-ID: <r%d@example.com>\r\n\r\nbody %d\r\n", subject, i, i)
		ac := c.Append("INBOX", int64(len(msg)), nil)
		ac.Write([]byte(msg))
		ac.Close()
		if _, err := ac.Wait(); err != nil {
			t.Fatal(err)
		}
	}
	c.Close()
	for _, tc := range []struct {
		fl        dovecottest.Flavour
		pipelined bool
	}{
		{dovecottest.Modern, false},
		{dovecottest.Courier, false},
		{dovecottest.Courier, true},
	} {
		fl := tc.fl
		ds := dovecottest.Start(t, dovecottest.Options{Flavour: fl})
		cfg := mailtest.Account(ds, "alice", "alice-pw")
		dst := Endpoint{Name: cfg.String(), Dial: func(ctx context.Context) (TargetConn, error) {
			s, err := imapstore.Open(ctx, cfg)
			if err != nil {
				return nil, err
			}
			if tc.pipelined {
				return refusingEach{refusing{s}}, nil
			}
			return refusing{s}, nil
		}}
		ctx := context.Background()
		plan, err := MakePlan(ctx, IMAP(src), dst, Options{Include: []string{"INBOX"}})
		if err != nil {
			t.Fatal(err)
		}
		res, err := Run(ctx, IMAP(src), dst, plan, Options{StateDir: t.TempDir(), Include: []string{"INBOX"}}, nil)
		if err != nil {
			t.Fatalf("%v: Run = %v", fl, err)
		}
		if res.Progress.Copied != 11 || len(res.Problems) != 1 || !strings.Contains(res.Problems[0].Subject, "refuse me") || res.Problems[0].Kind != failure.Refused {
			t.Errorf("%v (pipelined %v): copied %d, problems %+v; want 11 copied and the refused one reported", fl, tc.pipelined, res.Progress.Copied, res.Problems)
		}
		v, err := Verify(ctx, IMAP(src), dst, plan)
		if err != nil || v.Missing != 1 {
			t.Errorf("%v (pipelined %v): Verify = %+v, %v; want exactly the refused message missing", fl, tc.pipelined, v, err)
		}
	}
}
