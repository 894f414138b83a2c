package gui

import (
	"errors"
	"fmt"
	"sync"
	"testing"

	"mailmover/core/copier"
	"mailmover/core/failure"
	"mailmover/core/imapstore"
)

// TestAdvice checks that every kind of failure gets advice of its own.
func TestAdvice(t *testing.T) {
	seen := map[string]failure.Kind{}
	for k := failure.Unknown; k <= failure.Local; k++ {
		a := adviceFor(k)
		if a.Title == "" || a.Text == "" {
			t.Errorf("adviceFor(%v) = %+v; want a title and a text", k, a)
		}
		if other, ok := seen[a.Title]; ok {
			t.Errorf("adviceFor(%v) has the title of %v: %q", k, other, a.Title)
		}
		seen[a.Title] = k
	}
	tests := []struct {
		err  error
		want string
	}{
		{failure.New(failure.Auth, failure.ScopeAccount, "log in", errors.New("no")), adviceFor(failure.Auth).Title},
		{fmt.Errorf("plan: %w", failure.New(failure.Quota, failure.ScopeAccount, "", errors.New("full"))), adviceFor(failure.Quota).Title},
		{failure.New(failure.TLS, failure.ScopeAccount, "connect", &imapstore.CertError{Err: errors.New("unknown issuer")}), "The server's certificate is not trusted"},
		{&sideError{side: targetSide, err: failure.New(failure.Connection, failure.ScopeAccount, "", errors.New("reset"))}, adviceFor(failure.Connection).Title},
		{errors.New("odd"), adviceFor(failure.Unknown).Title},
	}
	for _, tt := range tests {
		if got := adviceForError(tt.err).Title; got != tt.want {
			t.Errorf("adviceForError(%v) = %q; want %q", tt.err, got, tt.want)
		}
	}
}

// TestFeed checks that the copy's events reach the window without loss
// while progress is coalesced.
func TestFeed(t *testing.T) {
	var f feed
	var wg sync.WaitGroup
	const workers, each = 4, 500
	for w := range workers {
		wg.Go(func() {
			for i := range each {
				f.onEvent(copier.Event{Kind: copier.EventProgress, Progress: copier.Progress{DoneMessages: i}})
				if i%100 == 0 {
					f.onEvent(copier.Event{Kind: copier.EventProblem, Folder: fmt.Sprint(w), Progress: copier.Progress{DoneMessages: i}})
				}
			}
		})
	}
	wg.Wait()
	p, evs, dirty := f.take()
	if !dirty || len(evs) != workers*each/100 {
		t.Errorf("take() = %d events, dirty %v; want %d, true", len(evs), dirty, workers*each/100)
	}
	if p.DoneMessages != each-1 {
		t.Errorf("progress = %d done; want the furthest, %d", p.DoneMessages, each-1)
	}
	if _, evs, dirty := f.take(); dirty || len(evs) != 0 {
		t.Errorf("second take() = %d events, dirty %v; want nothing", len(evs), dirty)
	}
}
