package copier

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"net"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"mailmover/core/imapstore"
	"mailmover/core/store"
)

// floorBatch is how many messages the MULTIAPPEND floor sends per APPEND
// command (RFC 3502).
const floorBatch = 50

// floorResult is what one bare transfer took.
type floorResult struct {
	// Wall is the elapsed time.
	Wall     time.Duration
	Messages int
	Bytes    int64
	// Commands counts FETCH or APPEND commands.
	Commands int
}

// heldMessage is a message fetched into memory.
type heldMessage struct {
	info store.MessageInfo
	data []byte
}

// heldCorpus is every message of a plan's folders, in memory, by source
// folder name, in UID order.
type heldCorpus map[string][]heldMessage

// fetchAll reads every message of the plan's folders into memory over one
// connection: per folder, EXAMINE, the message list, and one UID FETCH
// BODY.PEEK[] of all of them. The connection is opened before the clock
// starts.
func fetchAll(ctx context.Context, src *imapstore.Config, plan *Plan) (heldCorpus, floorResult, error) {
	var r floorResult
	s, err := imapstore.Open(ctx, src)
	if err != nil {
		return nil, r, err
	}
	defer s.Close()
	held := heldCorpus{}
	start := time.Now()
	for _, f := range plan.Included() {
		if f.Source.Messages == 0 {
			continue
		}
		if _, err := s.OpenFolder(ctx, f.Source.Name, true); err != nil {
			return nil, r, err
		}
		infos, err := s.List(ctx)
		if err != nil {
			return nil, r, err
		}
		uids := make([]uint32, len(infos))
		for i, m := range infos {
			uids[i] = m.UID
		}
		slices.Sort(uids)
		r.Commands++
		var msgs []heldMessage
		for m, err := range s.Fetch(ctx, uids) {
			if err != nil {
				return nil, r, err
			}
			data := make([]byte, m.Size)
			if _, err := io.ReadFull(m.Body, data); err != nil {
				return nil, r, err
			}
			msgs = append(msgs, heldMessage{info: m.MessageInfo, data: data})
			r.Messages++
			r.Bytes += m.Size
		}
		slices.SortFunc(msgs, func(a, b heldMessage) int { return int(a.info.UID) - int(b.info.UID) })
		held[f.Source.Name] = msgs
	}
	r.Wall = time.Since(start)
	return held, r, nil
}

// floorAppend appends the held messages of every included folder of plan to
// dst with the bare protocol and nothing else: SELECT the target folder, then
// APPEND perCommand messages per command (MULTIAPPEND when more than one),
// waiting for each command's reply. conns connections share the folders in
// plan order, as the copier's workers do. Connections are opened and target
// folders created before the clock starts; no state is kept.
func floorAppend(ctx context.Context, dst *imapstore.Config, plan *Plan, held heldCorpus, conns, perCommand int) (floorResult, error) {
	folders := plan.Included()
	if err := createTargets(ctx, dst, folders); err != nil {
		return floorResult{}, err
	}

	apps := make([]*imapstore.Appender, conns)
	defer func() {
		for _, a := range apps {
			a.Close()
		}
	}()
	for i := range apps {
		var err error
		if apps[i], err = imapstore.DialAppender(ctx, dst); err != nil {
			return floorResult{}, err
		}
		if perCommand > 1 && !apps[i].MultiAppend() {
			return floorResult{}, fmt.Errorf("floor: %s does not offer MULTIAPPEND", dst)
		}
	}

	var mu sync.Mutex
	var total floorResult
	var firstErr error
	jobs := make(chan FolderPlan)
	var wg sync.WaitGroup
	start := time.Now()
	for _, a := range apps {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for f := range jobs {
				msgs := held[f.Source.Name]
				if len(msgs) == 0 {
					continue
				}
				var r floorResult
				err := a.Select(ctx, f.Target)
				for i := 0; err == nil && i < len(msgs); i += perCommand {
					var res imapstore.AppendResult
					res, err = a.Append(ctx, f.Target, heldSeq(msgs[i:min(i+perCommand, len(msgs))]))
					r.Messages += res.Count
					r.Bytes += res.Bytes
					r.Commands++
				}
				mu.Lock()
				total.Messages += r.Messages
				total.Bytes += r.Bytes
				total.Commands += r.Commands
				if err != nil && firstErr == nil {
					firstErr = fmt.Errorf("floor: folder %q: %w", f.Target, err)
				}
				mu.Unlock()
			}
		}()
	}
	for _, f := range folders {
		jobs <- f
	}
	close(jobs)
	wg.Wait()
	total.Wall = time.Since(start)
	return total, firstErr
}

// heldSeq yields messages held in memory, each with a fresh reader.
func heldSeq(held []heldMessage) iter.Seq2[*store.Message, error] {
	return func(yield func(*store.Message, error) bool) {
		for _, h := range held {
			m := &store.Message{MessageInfo: h.info, Body: bytes.NewReader(h.data)}
			m.Size = int64(len(h.data))
			if !yield(m, nil) {
				return
			}
		}
	}
}

// commandCounter counts the IMAP commands clients send over plain
// connections it dials, by verb ("STATUS", "UID FETCH"). Only verbs are
// kept: never arguments, so no password is held.
type commandCounter struct {
	mu     sync.Mutex
	counts map[string]int
}

func newCommandCounter() *commandCounter {
	return &commandCounter{counts: map[string]int{}}
}

// dial is an imapstore.Config Dialer.
func (cc *commandCounter) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	var d net.Dialer
	c, err := d.DialContext(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	return &countingConn{Conn: c, cc: cc}, nil
}

// total returns the number of commands counted.
func (cc *commandCounter) total() int {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	n := 0
	for _, v := range cc.counts {
		n += v
	}
	return n
}

// count returns how often verb was sent.
func (cc *commandCounter) count(verb string) int {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	return cc.counts[verb]
}

// String lists the verbs by count, most frequent first.
func (cc *commandCounter) String() string {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	verbs := make([]string, 0, len(cc.counts))
	for v := range cc.counts {
		verbs = append(verbs, v)
	}
	sort.Slice(verbs, func(i, j int) bool {
		if cc.counts[verbs[i]] != cc.counts[verbs[j]] {
			return cc.counts[verbs[i]] > cc.counts[verbs[j]]
		}
		return verbs[i] < verbs[j]
	})
	parts := make([]string, len(verbs))
	for i, v := range verbs {
		parts[i] = fmt.Sprintf("%s %d", v, cc.counts[v])
	}
	return strings.Join(parts, ", ")
}

// countingConn splits what the client writes into lines and counts those
// that look like a command: a tag, then an upper-case verb.
type countingConn struct {
	net.Conn
	cc      *commandCounter
	partial []byte
}

func (c *countingConn) Write(b []byte) (int, error) {
	c.partial = append(c.partial, b...)
	for {
		i := bytes.IndexByte(c.partial, '\n')
		if i < 0 {
			break
		}
		c.note(c.partial[:i])
		c.partial = c.partial[i+1:]
	}
	if len(c.partial) > 64<<10 {
		c.partial = nil // a literal; commands are never this long
	}
	return c.Conn.Write(b)
}

func (c *countingConn) note(line []byte) {
	sc := bufio.NewScanner(bytes.NewReader(line))
	sc.Split(bufio.ScanWords)
	var f []string
	for len(f) < 3 && sc.Scan() {
		f = append(f, sc.Text())
	}
	if len(f) < 2 || !isVerb(f[1]) {
		return
	}
	verb := strings.ToUpper(f[1])
	if verb == "UID" && len(f) > 2 {
		verb += " " + strings.ToUpper(f[2])
	}
	c.cc.mu.Lock()
	c.cc.counts[verb]++
	c.cc.mu.Unlock()
}

func isVerb(s string) bool {
	if len(s) < 2 {
		return false
	}
	for _, r := range s {
		if (r < 'A' || r > 'Z') && (r < 'a' || r > 'z') {
			return false
		}
	}
	return true
}

// pipeAppend copies the plan's folders from src to dst the way a bare
// copier would, with no state and no checks: per batch of floorBatch
// messages, one UID FETCH BODY.PEEK[] on the source, and APPENDs of
// perCommand messages each on the target. Without readAhead the fetched
// bytes stream straight into the APPEND; with it, a goroutine per
// connection fetches the next batch into memory while the current one is
// appended. conns pairs of connections share the folders in plan order.
// Target folders are created before the clock starts.
func pipeAppend(ctx context.Context, src, dst *imapstore.Config, plan *Plan, conns, perCommand int, readAhead bool) (floorResult, error) {
	folders := plan.Included()
	if err := createTargets(ctx, dst, folders); err != nil {
		return floorResult{}, err
	}

	var mu sync.Mutex
	var total floorResult
	var firstErr error
	jobs := make(chan FolderPlan)
	var wg sync.WaitGroup
	start := time.Now()
	for range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, err := imapstore.Open(ctx, src)
			if err == nil {
				defer s.Close()
			}
			var a *imapstore.Appender
			if err == nil {
				a, err = imapstore.DialAppender(ctx, dst)
				defer a.Close()
			}
			for f := range jobs {
				var r floorResult
				if err == nil && f.Source.Messages != 0 {
					r, err = pipeFolder(ctx, s, a, f, perCommand, readAhead)
				}
				mu.Lock()
				total.Messages += r.Messages
				total.Bytes += r.Bytes
				total.Commands += r.Commands
				if err != nil && firstErr == nil {
					firstErr = fmt.Errorf("pipe: folder %q: %w", f.Source.Name, err)
				}
				mu.Unlock()
			}
		}()
	}
	for _, f := range folders {
		jobs <- f
	}
	close(jobs)
	wg.Wait()
	total.Wall = time.Since(start)
	return total, firstErr
}

// pipeFolder copies one folder for pipeAppend.
func pipeFolder(ctx context.Context, s *imapstore.Session, a *imapstore.Appender, f FolderPlan, perCommand int, readAhead bool) (floorResult, error) {
	var r floorResult
	if _, err := s.OpenFolder(ctx, f.Source.Name, true); err != nil {
		return r, err
	}
	infos, err := s.List(ctx)
	if err != nil {
		return r, err
	}
	uids := make([]uint32, len(infos))
	for i, m := range infos {
		uids[i] = m.UID
	}
	slices.Sort(uids)
	if err := a.Select(ctx, f.Target); err != nil {
		return r, err
	}
	appendAll := func(msgs iter.Seq2[*store.Message, error]) error {
		next, stop := iter.Pull2(msgs)
		defer stop()
		for {
			m, err, ok := next()
			if !ok {
				return nil
			}
			if err != nil {
				return err
			}
			// One command: this message and up to perCommand-1 more.
			n := 0
			var fetchErr error
			res, err := a.Append(ctx, f.Target, func(yield func(*store.Message, error) bool) {
				for {
					if !yield(m, nil) {
						return
					}
					if n++; n == perCommand {
						return
					}
					var ok bool
					if m, fetchErr, ok = next(); !ok || fetchErr != nil {
						return
					}
				}
			})
			r.Messages += res.Count
			r.Bytes += res.Bytes
			r.Commands++
			if err := errors.Join(fetchErr, err); err != nil {
				return err
			}
		}
	}
	if !readAhead {
		for i := 0; i < len(uids); i += floorBatch {
			if err := appendAll(s.Fetch(ctx, uids[i:min(i+floorBatch, len(uids))])); err != nil {
				return r, err
			}
		}
		return r, nil
	}
	type batch struct {
		msgs []heldMessage
		err  error
	}
	batches := make(chan batch, 1)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		defer close(batches)
		for i := 0; i < len(uids); i += floorBatch {
			var b batch
			for m, err := range s.Fetch(ctx, uids[i:min(i+floorBatch, len(uids))]) {
				if err != nil {
					b.err = err
					break
				}
				data := make([]byte, m.Size)
				if _, err := io.ReadFull(m.Body, data); err != nil {
					b.err = err
					break
				}
				b.msgs = append(b.msgs, heldMessage{info: m.MessageInfo, data: data})
			}
			select {
			case batches <- b:
			case <-ctx.Done():
				return
			}
			if b.err != nil {
				return
			}
		}
	}()
	for b := range batches {
		if b.err != nil {
			return r, b.err
		}
		if err := appendAll(heldSeq(b.msgs)); err != nil {
			return r, err
		}
	}
	return r, nil
}

// discardConn is a net.Conn whose writes vanish.
type discardConn struct{ net.Conn }

func (discardConn) Write(b []byte) (int, error) { return len(b), nil }

func TestCommandCounter(t *testing.T) {
	cc := newCommandCounter()
	c := &countingConn{Conn: discardConn{}, cc: cc}
	for _, w := range []string{
		"a1 LOGIN alice secret-pw\r\n",
		"T2 UID FETCH 1:* (FLAGS)\r\nT3 STA", "TUS INBOX (MESSAGES)\r\n",
		"AGFsaWNlAHNlY3JldA==\r\n", // an AUTHENTICATE response line
		"T4 noop\r\n",
		"T5 STATUS Sent (UIDNEXT)\r\n",
	} {
		if n, err := c.Write([]byte(w)); n != len(w) || err != nil {
			t.Fatalf("Write(%q) = %d, %v; want %d, nil", w, n, err, len(w))
		}
	}
	for _, tc := range []struct {
		verb string
		want int
	}{
		{"LOGIN", 1}, {"UID FETCH", 1}, {"STATUS", 2}, {"NOOP", 1}, {"FETCH", 0},
	} {
		if got := cc.count(tc.verb); got != tc.want {
			t.Errorf("count(%q) = %d; want %d", tc.verb, got, tc.want)
		}
	}
	if got := cc.total(); got != 5 {
		t.Errorf("total() = %d; want 5", got)
	}
	if s := cc.String(); strings.Contains(s, "secret") || !strings.HasPrefix(s, "STATUS 2, ") {
		t.Errorf("String() = %q; want verbs by count, no arguments", s)
	}
}

// createTargets creates the plan's missing target folders, before a floor's
// clock starts.
func createTargets(ctx context.Context, dst *imapstore.Config, folders []FolderPlan) error {
	tc, err := imapstore.Open(ctx, dst)
	if err != nil {
		return err
	}
	defer tc.Close()
	for _, f := range folders {
		if !f.Exists {
			if err := tc.Create(ctx, f.Target, f.Source.Subscribed); err != nil {
				return err
			}
		}
	}
	return nil
}
