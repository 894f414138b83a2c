package copier

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"text/tabwriter"
	"time"

	"mailmover/core/dovecottest"
	"mailmover/core/imapstore"
	"mailmover/core/sample"
	"mailmover/core/state"
)

// The benchmark corpus: 5,000 messages, about 470 MB, as in the figures the
// other tools are compared with.
const (
	benchSeed            = 2026
	benchMessages        = 5000
	benchMaxAttachment   = 1800 << 10
	benchCourierMessages = 1000
	benchBigMessages     = 6
	benchBigSize         = 40 << 20
	// messagesEnv shrinks the corpus for a quick run.
	messagesEnv = "MAILMOVER_BENCH_MESSAGES"
	// roundsEnv repeats every measurement, keeping the best.
	roundsEnv = "MAILMOVER_BENCH_ROUNDS"
	// diagEnv, "1", adds bare pipelines (FETCH into APPEND, no state) to
	// show where the copier's time goes.
	diagEnv = "MAILMOVER_BENCH_DIAG"
	// plainEnv, "1", measures over plain loopback connections instead of TLS.
	plainEnv = "MAILMOVER_BENCH_PLAIN"
	// variantsEnv lists extra copier settings to measure on the modern
	// target, as conns/messages/MiB, comma-separated: "1/50/8,4/100/32".
	variantsEnv = "MAILMOVER_BENCH_VARIANTS"
)

// The bars the copier is measured against (reported, never asserted).
const (
	multiBar     = 1.3
	singleBar    = 1.15
	noopBar      = 300 * time.Millisecond
	peakRSSBar   = 150 << 20
	benchTimeout = 20 * time.Second
)

// BenchmarkMigrate measures the copier against the bare protocol, on real
// Dovecot servers on 127.0.0.1 (implicit TLS unless MAILMOVER_BENCH_PLAIN=1).
// Run it once per measurement:
//
//	go test -run '^$' -bench Migrate -benchtime 1x -timeout 60m ./core/copier
//
// The sources, stock (modern) Dovecot accounts, are loaded once and read
// once. Every copy goes into a fresh account on a target server:
//
//   - modern: a target with MULTIAPPEND (RFC 3502) and LITERAL+ (RFC 7888).
//     The corpus is first fetched into memory (timed: the source's share);
//     the floors then append it from memory, as raw APPEND commands on a
//     SELECTed folder: 50 messages per MULTIAPPEND over 1 and 2
//     connections, and one message per APPEND over 2. Then the copier
//     (MakePlan and Run with default options), a no-op re-run of MakePlan
//     and Run, and Verify. The copier's ratio is to the fastest MULTIAPPEND
//     floor.
//   - courier: a Courier-like target without MULTIAPPEND or LITERAL+, with
//     a smaller corpus; the floor is one message per APPEND over 1 and 2
//     connections, and the copier's ratio is to the faster.
//   - big: a folder of 40 MB messages, for peak memory.
//
// Besides wall time, every line shows the CPU time spent by the source's
// Dovecot, the target's Dovecot and this process, which varies much less than
// wall time on a shared machine. Peak RSS is this process's VmHWM (Linux),
// reset before each copier run. The bars are reported, never asserted.
//
// MAILMOVER_BENCH_MESSAGES shrinks the corpus; MAILMOVER_BENCH_ROUNDS=N
// repeats every measurement N times (fresh accounts each time, floors and
// copier interleaved), keeping the best; MAILMOVER_BENCH_VARIANTS measures
// other copier settings too; MAILMOVER_BENCH_DIAG=1 adds the copier with its
// state on tmpfs and bare FETCH-to-APPEND pipelines without state, to show
// where the time goes.
func BenchmarkMigrate(b *testing.B) {
	n := benchMessages
	if s := os.Getenv(messagesEnv); s != "" {
		v, err := strconv.Atoi(s)
		if err != nil || v <= 0 {
			b.Fatalf("%s=%q: want a positive number", messagesEnv, s)
		}
		n = v
	}
	rounds := 1
	if s := os.Getenv(roundsEnv); s != "" {
		v, err := strconv.Atoi(s)
		if err != nil || v <= 0 {
			b.Fatalf("%s=%q: want a positive number", roundsEnv, s)
		}
		rounds = v
	}
	variants, err := parseVariants(os.Getenv(variantsEnv))
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	ss := dovecottest.Start(b, dovecottest.Options{Flavour: dovecottest.Modern, Users: []dovecottest.User{
		{Name: "alice", Password: "alice-pw"},
		{Name: "small", Password: "small-pw"},
		{Name: "big", Password: "big-pw"},
	}})
	modern := dovecottest.Start(b, dovecottest.Options{Flavour: dovecottest.Modern})
	courier := dovecottest.Start(b, dovecottest.Options{Flavour: dovecottest.Courier})

	corpus := sample.New(sample.Options{Seed: benchSeed, Messages: n, MaxAttachment: benchMaxAttachment})
	small := sample.New(sample.Options{Seed: benchSeed, Messages: min(n, benchCourierMessages), MaxAttachment: benchMaxAttachment})
	big := sample.New(sample.Options{Seed: benchSeed, Messages: benchBigMessages, FixedSize: benchBigSize})
	plain := os.Getenv(plainEnv) == "1"
	// measured returns the configuration the measurements use: implicit TLS,
	// or plain TCP if asked (Dovecot then hands the connection to its imap
	// process; over TLS its login process stays in between to encrypt).
	measured := func(s *dovecottest.Server, c *imapstore.Config) *imapstore.Config {
		c.Timeout = benchTimeout
		if plain {
			return plainOf(c, s, nil)
		}
		return c
	}

	fmt.Printf("\n== Mailmover copy benchmark, %s\n", time.Now().UTC().Format(time.RFC3339))
	fmt.Printf("machine: %s\n", machine())
	transport := "implicit TLS"
	if plain {
		transport = "plain TCP (no TLS)"
	}
	fmt.Printf("all servers on 127.0.0.1, connections over %s\n", transport)
	fmt.Printf("connection set-up (connect, greeting, AUTHENTICATE, CAPABILITY, ID, NAMESPACE; LOGOUT), median of 5: modern %s, courier %s\n",
		dialCost(ctx, b, measured(ss, account(ss, "alice", "alice-pw"))), dialCost(ctx, b, measured(courier, account(courier, "alice", "alice-pw"))))

	// source loads a corpus into a source account the first time it is
	// needed, and reads it all once, so that no measurement pays for the
	// source's first reading (Dovecot's caches, the page cache).
	source := func(user string, corpus *sample.Corpus) func(b *testing.B) *imapstore.Config {
		var cfg *imapstore.Config
		return func(b *testing.B) *imapstore.Config {
			if cfg == nil {
				c := account(ss, user, user+"-pw")
				t := time.Now()
				load(b, c, corpus)
				snapshot(b, c)
				fmt.Printf("source %q: %d messages loaded (one per APPEND) and read once in %.0f s\n", user, corpus.Len(), time.Since(t).Seconds())
				cfg = measured(ss, c)
			}
			return cfg
		}
	}
	src := source("alice", corpus)
	srcSmall := source("small", small)
	srcBig := source("big", big)

	users := 0
	fresh := func(b *testing.B, s *dovecottest.Server) *imapstore.Config {
		users++
		name := "t" + strconv.Itoa(users)
		s.AddUser(b, dovecottest.User{Name: name, Password: name + "-pw"})
		return measured(s, account(s, name, name+"-pw"))
	}
	// drop removes a target account's mail once measured, so that the
	// servers' files do not pile up over the run.
	drop := func(s *dovecottest.Server, c *imapstore.Config) {
		os.RemoveAll(s.MailDir(c.Username))
	}

	b.Run("modern", func(b *testing.B) {
		bt := &benchTarget{name: "modern", src: src(b), corpus: corpus, multi: true, variants: variants, rounds: rounds, diag: os.Getenv(diagEnv) == "1",
			fresh: func() *imapstore.Config { return fresh(b, modern) }, drop: func(c *imapstore.Config) { drop(modern, c) },
			srcServer: ss, dstServer: modern}
		bt.run(ctx, b)
	})
	b.Run("courier", func(b *testing.B) {
		bt := &benchTarget{name: "courier", src: srcSmall(b), corpus: small, rounds: rounds, diag: os.Getenv(diagEnv) == "1",
			fresh: func() *imapstore.Config { return fresh(b, courier) }, drop: func(c *imapstore.Config) { drop(courier, c) },
			srcServer: ss, dstServer: courier}
		bt.run(ctx, b)
	})
	b.Run("big", func(b *testing.B) {
		benchBig(ctx, b, &benchTarget{name: "big", src: srcBig(b), corpus: big, rounds: rounds,
			fresh: func() *imapstore.Config { return fresh(b, modern) }, drop: func(c *imapstore.Config) { drop(modern, c) },
			srcServer: ss, dstServer: modern})
	})
	fmt.Printf("load average at the end: %s\n", loadAverage())
}

// variant is a copier setting to measure besides the defaults.
type variant struct {
	conns, msgs int
	mib         int64
}

func (v variant) String() string {
	return fmt.Sprintf("copier: Run, %d conns, %d msgs / %d MiB", v.conns, v.msgs, v.mib)
}

func (v variant) options(stateDir string) Options {
	return Options{StateDir: stateDir, Connections: v.conns, BatchMessages: v.msgs, BatchBytes: v.mib << 20}
}

// parseVariants reads "conns/messages/MiB,...".
func parseVariants(s string) ([]variant, error) {
	var out []variant
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p == "" {
			continue
		}
		var v variant
		if _, err := fmt.Sscanf(p, "%d/%d/%d", &v.conns, &v.msgs, &v.mib); err != nil || v.conns <= 0 || v.msgs <= 0 || v.mib <= 0 {
			return nil, fmt.Errorf("%s: %q is not conns/messages/MiB", variantsEnv, p)
		}
		out = append(out, v)
	}
	return out, nil
}

// cpuUse is CPU time (user and system) spent by the source's Dovecot, the
// target's Dovecot and this process.
type cpuUse struct{ src, dst, own time.Duration }

func (c cpuUse) total() time.Duration { return c.src + c.dst + c.own }

func (c cpuUse) sub(d cpuUse) cpuUse { return cpuUse{c.src - d.src, c.dst - d.dst, c.own - d.own} }

// row is one line of the report.
type row struct {
	what    string
	dur     time.Duration
	msgs    int
	bytes   int64
	cpu     cpuUse
	peakRSS int64 // bytes; 0 when not measured
	noRate  bool
	note    string
}

// best keeps, per line, the best of several rounds: the least time and
// CPU, the highest peak RSS.
type best struct {
	order []string
	rows  map[string]row
}

func (bs *best) add(r row) {
	if bs.rows == nil {
		bs.rows = map[string]row{}
	}
	old, ok := bs.rows[r.what]
	if !ok {
		bs.order = append(bs.order, r.what)
		bs.rows[r.what] = r
		return
	}
	old.dur = min(old.dur, r.dur)
	old.cpu = cpuUse{min(old.cpu.src, r.cpu.src), min(old.cpu.dst, r.cpu.dst), min(old.cpu.own, r.cpu.own)}
	old.peakRSS = max(old.peakRSS, r.peakRSS)
	bs.rows[r.what] = old
}

func (bs *best) get(what string) row { return bs.rows[what] }

// print writes the table; ratios are to the row named floor, if any.
func (bs *best) print(title, floor string) {
	fmt.Printf("\n== %s\n", title)
	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "seconds\tmsg/s\tMB/s\tCPU s: source\ttarget\tmailmover\ttarget ms/msg\tpeak RSS\tvs floor\t\t")
	f := bs.rows[floor].dur
	for _, what := range bs.order {
		r := bs.rows[what]
		rate, mbs, perMsg, rss, ratio := "", "", "", "", ""
		if !r.noRate && r.dur > 0 && r.msgs > 0 {
			rate = fmt.Sprintf("%.0f", float64(r.msgs)/r.dur.Seconds())
			mbs = fmt.Sprintf("%.1f", float64(r.bytes)/1e6/r.dur.Seconds())
			if r.cpu.dst > 0 {
				perMsg = fmt.Sprintf("%.2f", r.cpu.dst.Seconds()*1e3/float64(r.msgs))
			}
		}
		if r.peakRSS > 0 {
			rss = fmt.Sprintf("%.0f MB", float64(r.peakRSS)/1e6)
		}
		if f > 0 && !r.noRate {
			ratio = fmt.Sprintf("%.2fx", r.dur.Seconds()/f.Seconds())
		}
		fmt.Fprintf(tw, "%.2f\t%s\t%s\t%.1f\t%.1f\t%.1f\t%s\t%s\t%s\t\t%s %s\n", r.dur.Seconds(), rate, mbs,
			r.cpu.src.Seconds(), r.cpu.dst.Seconds(), r.cpu.own.Seconds(), perMsg, rss, ratio, what, r.note)
	}
	tw.Flush()
}

// benchTarget measures one kind of target server.
type benchTarget struct {
	name      string
	src       *imapstore.Config
	corpus    *sample.Corpus
	multi     bool // the target offers MULTIAPPEND
	variants  []variant
	diag      bool
	rounds    int
	fresh     func() *imapstore.Config
	drop      func(*imapstore.Config)
	srcServer *dovecottest.Server
	dstServer *dovecottest.Server
}

// Row names.
const (
	rowFetch  = "fetch: everything into memory, 1 conn"
	rowCopier = "copier: Run, defaults (2 conns, 50 msgs / 8 MiB)"
	// rowCopierShm keeps the state on tmpfs, to show what fsync costs.
	rowCopierShm = "copier: Run, defaults, state on tmpfs (no fsync cost)"
	rowPlan      = "copier: MakePlan"
	rowNoop      = "no-op re-run: MakePlan + Run"
	rowVerify    = "copier: Verify"
)

func floorName(multi bool, conns int) string {
	if multi {
		return fmt.Sprintf("floor: MULTIAPPEND from memory, %d per command, %d conn", floorBatch, conns)
	}
	return fmt.Sprintf("floor: single APPEND from memory, %d conn", conns)
}

func pipeName(perCommand int, ahead bool) string {
	how := "streamed into"
	if ahead {
		how = "one batch ahead of"
	}
	return fmt.Sprintf("pipe: FETCH %d %s APPENDs of %d, no state, 2 conn", floorBatch, how, perCommand)
}

func (bt *benchTarget) run(ctx context.Context, b *testing.B) {
	b.StopTimer()
	var bs best
	var noopCmds string
	for range b.N * bt.rounds {
		noopCmds = bt.round(ctx, b, &bs)
	}
	// The floor is the fastest bare copy the target allows.
	floor := ""
	for _, conns := range []int{1, 2} {
		if name := floorName(bt.multi, conns); floor == "" || bs.get(name).dur < bs.get(floor).dur {
			floor = name
		}
	}
	fr, cr, fetch := bs.get(floor), bs.get(rowCopier), bs.get(rowFetch)
	ratio := cr.dur.Seconds() / fr.dur.Seconds()
	mb := float64(cr.bytes) / 1e6
	kind, bar := "MULTIAPPEND", multiBar
	if !bt.multi {
		kind, bar = "single-APPEND", singleBar
	}
	rounds := ""
	if bt.rounds > 1 {
		rounds = fmt.Sprintf(", best of %d rounds", bt.rounds)
	}
	bs.print(fmt.Sprintf("target %s: %d messages, %.1f MB, %d folders%s; ratios to the fastest %s floor", bt.name, cr.msgs, mb, len(bt.corpus.Folders), rounds, kind), floor)
	fmt.Printf("fastest floor: %s\n", floor)
	fmt.Printf("copier vs floor: %.2fx (bar %.2fx: %s)\n", ratio, bar, verdict(ratio <= bar))
	floorCPU := fetch.cpu.total() + fr.cpu.total()
	fmt.Printf("CPU, all processes: copier %.1f s; fetch + floor %.1f s (%.2fx)\n", cr.cpu.total().Seconds(), floorCPU.Seconds(), cr.cpu.total().Seconds()/floorCPU.Seconds())
	nr := bs.get(rowNoop)
	fmt.Printf("no-op re-run: %.3f s (bar %.1f s: %s); %s\n", nr.dur.Seconds(), noopBar.Seconds(), verdict(nr.dur < noopBar), noopCmds)
	fmt.Printf("copier peak RSS: %.0f MB (bar %.0f MB: %s)\n", float64(cr.peakRSS)/1e6, float64(peakRSSBar)/1e6, verdict(cr.peakRSS < peakRSSBar))
	b.ReportMetric(cr.dur.Seconds()*1e9, "ns/op")
	b.ReportMetric(cr.dur.Seconds(), "copy-s")
	b.ReportMetric(float64(cr.msgs)/cr.dur.Seconds(), "msg/s")
	b.ReportMetric(mb/cr.dur.Seconds(), "MB/s")
	b.ReportMetric(fr.dur.Seconds(), "floor-s")
	b.ReportMetric(ratio, "x-floor")
	b.ReportMetric(nr.dur.Seconds(), "noop-s")
	b.ReportMetric(bs.get(rowVerify).dur.Seconds(), "verify-s")
	b.ReportMetric(float64(cr.peakRSS)/1e6, "peak-RSS-MB")
}

func verdict(ok bool) string {
	if ok {
		return "met"
	}
	return "MISSED"
}

// measure runs f between two CPU readings. f returns its row without CPU.
func (bt *benchTarget) measure(f func() row) row {
	settle()
	before := cpuNow(bt.srcServer, bt.dstServer)
	r := f()
	// Let the servers reap the processes of the closed connections.
	time.Sleep(300 * time.Millisecond)
	r.cpu = cpuNow(bt.srcServer, bt.dstServer).sub(before)
	return r
}

// round measures everything once, each copy into a fresh account, floors and
// copier interleaved. It returns the commands of the no-op re-run.
func (bt *benchTarget) round(ctx context.Context, b *testing.B, bs *best) string {
	makePlan := func(dst *imapstore.Config) *Plan {
		plan, err := MakePlan(ctx, IMAP(bt.src), IMAP(dst), Options{})
		if err != nil {
			b.Fatalf("MakePlan: %v", err)
		}
		return plan
	}
	// Everything into memory, for the floors.
	var held heldCorpus
	scratch := bt.fresh()
	plan := makePlan(scratch)
	bt.drop(scratch)
	bs.add(bt.measure(func() row {
		h, fr, err := fetchAll(ctx, bt.src, plan)
		if err != nil {
			b.Fatal(err)
		}
		held = h
		return row{what: rowFetch, dur: fr.Wall, msgs: fr.Messages, bytes: fr.Bytes, note: fmt.Sprintf("(%d FETCH commands)", fr.Commands)}
	}))
	floor := func(multi bool, conns int) {
		per := 1
		if multi {
			per = floorBatch
		}
		dst := bt.fresh()
		plan := makePlan(dst)
		bs.add(bt.measure(func() row {
			fr, err := floorAppend(ctx, dst, plan, held, conns, per)
			if err != nil {
				b.Fatal(err)
			}
			if fr.Messages != bt.corpus.Len() {
				b.Fatalf("floor copied %d messages; want %d", fr.Messages, bt.corpus.Len())
			}
			return row{what: floorName(multi, conns), dur: fr.Wall, msgs: fr.Messages, bytes: fr.Bytes, note: fmt.Sprintf("(%d APPENDs)", fr.Commands)}
		}))
		bt.drop(dst)
	}
	floor(bt.multi, 2)
	floor(bt.multi, 1)
	if bt.multi {
		floor(false, 2)
	}
	held = nil

	// The copier with its defaults.
	dst := bt.fresh()
	stateDir := b.TempDir()
	se, de := IMAP(bt.src), IMAP(dst)
	bs.add(bt.measure(func() row {
		t := time.Now()
		plan = makePlan(dst)
		return row{what: rowPlan, dur: time.Since(t), noRate: true}
	}))
	bs.add(bt.measure(func() row {
		return bt.copy(ctx, b, rowCopier, se, de, plan, Options{StateDir: stateDir})
	}))

	// A no-op re-run: nothing changed, nothing is copied.
	bs.add(bt.measure(func() row {
		t := time.Now()
		plan2 := makePlan(dst)
		res, err := Run(ctx, se, de, plan2, Options{StateDir: stateDir}, nil)
		d := time.Since(t)
		if err != nil || res.Progress.Copied != 0 || !res.Complete() {
			b.Fatalf("no-op re-run copied %d, problems %v, error %v", res.Progress.Copied, res.Problems, err)
		}
		unchanged := 0
		for _, f := range res.Folders {
			if f.Unchanged {
				unchanged++
			}
		}
		return row{what: rowNoop, dur: d, noRate: true, note: fmt.Sprintf("(%d of %d folders unchanged)", unchanged, len(res.Folders))}
	}))

	// The same no-op over plain loopback connections, to count commands; the
	// endpoints keep their names, so the state is the same.
	counters := [4]*commandCounter{newCommandCounter(), newCommandCounter(), newCommandCounter(), newCommandCounter()}
	endpoints := func(sc, dc *commandCounter) (Endpoint, Endpoint) {
		return Endpoint{Name: se.Name, Dial: IMAP(plainOf(bt.src, bt.srcServer, sc)).Dial},
			Endpoint{Name: de.Name, Dial: IMAP(plainOf(dst, bt.dstServer, dc)).Dial}
	}
	pse, pde := endpoints(counters[0], counters[1])
	plan3, err := MakePlan(ctx, pse, pde, Options{})
	if err != nil {
		b.Fatalf("MakePlan (plain): %v", err)
	}
	rse, rde := endpoints(counters[2], counters[3])
	if res3, err := Run(ctx, rse, rde, plan3, Options{StateDir: stateDir}, nil); err != nil || res3.Progress.Copied != 0 {
		b.Fatalf("no-op re-run (plain) copied %d, error %v", res3.Progress.Copied, err)
	}
	cmds := fmt.Sprintf("%d folders; MakePlan: source %d commands (%s), target %d (%s); Run: source %d commands (%s), target %d (%s)",
		len(plan3.Included()), counters[0].total(), counters[0], counters[1].total(), counters[1],
		counters[2].total(), counters[2], counters[3].total(), counters[3])

	bs.add(bt.measure(func() row {
		t := time.Now()
		v, err := Verify(ctx, se, de, plan)
		if err != nil || !v.OK() {
			b.Fatalf("Verify = %+v, %v; want OK", v, err)
		}
		return row{what: rowVerify, dur: time.Since(t), noRate: true}
	}))
	bt.drop(dst)

	if bt.diag {
		// The copier with its state on tmpfs, where fsync costs nothing.
		if shm, err := os.MkdirTemp("/dev/shm", "mailmover-bench-"); err == nil {
			dst := bt.fresh()
			plan := makePlan(dst)
			bs.add(bt.measure(func() row {
				return bt.copy(ctx, b, rowCopierShm, IMAP(bt.src), IMAP(dst), plan, Options{StateDir: shm})
			}))
			os.RemoveAll(shm)
			bt.drop(dst)
		}
		per := 1
		if bt.multi {
			per = floorBatch
		}
		for _, ahead := range []bool{false, true} {
			dst := bt.fresh()
			plan := makePlan(dst)
			bs.add(bt.measure(func() row {
				fr, err := pipeAppend(ctx, bt.src, dst, plan, 2, per, ahead)
				if err != nil {
					b.Fatal(err)
				}
				if fr.Messages != bt.corpus.Len() {
					b.Fatalf("pipe copied %d messages; want %d", fr.Messages, bt.corpus.Len())
				}
				return row{what: pipeName(per, ahead), dur: fr.Wall, msgs: fr.Messages, bytes: fr.Bytes, note: fmt.Sprintf("(%d APPENDs)", fr.Commands)}
			}))
			bt.drop(dst)
		}
	}

	for _, vr := range bt.variants {
		dst := bt.fresh()
		plan := makePlan(dst)
		bs.add(bt.measure(func() row {
			return bt.copy(ctx, b, vr.String(), IMAP(bt.src), IMAP(dst), plan, vr.options(b.TempDir()))
		}))
		bt.drop(dst)
	}
	return cmds
}

// copy runs the copier, checks that it copied everything, and returns its
// row with the peak RSS of this process during the run and the number of
// APPEND commands (from the journal).
func (bt *benchTarget) copy(ctx context.Context, b *testing.B, what string, src, dst Endpoint, plan *Plan, opts Options) row {
	resetPeakRSS()
	t := time.Now()
	res, err := Run(ctx, src, dst, plan, opts, nil)
	d := time.Since(t)
	rss := peakRSS()
	if err != nil || !res.Complete() || res.Progress.Copied != bt.corpus.Len() {
		b.Fatalf("Run copied %d of %d, problems %v, error %v", res.Progress.Copied, bt.corpus.Len(), res.Problems, err)
	}
	appends := 0
	if recs, err := state.ReadJournal(filepath.Join(res.StateDir, state.JournalFile)); err == nil {
		for _, r := range recs {
			if r.Event == "copied" {
				appends++
			}
		}
	}
	return row{what: what, dur: d, msgs: res.Progress.Copied, bytes: res.Progress.CopiedBytes, peakRSS: rss, note: fmt.Sprintf("(%d APPENDs)", appends)}
}

// plainOf returns cfg over a plain loopback connection to the server's
// STARTTLS port (Dovecot trusts loopback), dialled through cc if not nil.
func plainOf(cfg *imapstore.Config, s *dovecottest.Server, cc *commandCounter) *imapstore.Config {
	c := *cfg
	c.Security, c.AllowPlain, c.Port, c.Dialer = imapstore.Plain, true, s.StartTLSPort, nil
	if cc != nil {
		c.Dialer = cc.dial
	}
	return &c
}

// benchBig copies a folder of 40 MB messages with the copier's defaults and
// reports the peak RSS.
func benchBig(ctx context.Context, b *testing.B, bt *benchTarget) {
	b.StopTimer()
	var bs best
	for range b.N * bt.rounds {
		dst := bt.fresh()
		se, de := IMAP(bt.src), IMAP(dst)
		plan, err := MakePlan(ctx, se, de, Options{})
		if err != nil {
			b.Fatalf("MakePlan: %v", err)
		}
		bs.add(bt.measure(func() row {
			return bt.copy(ctx, b, rowCopier, se, de, plan, Options{StateDir: b.TempDir()})
		}))
		bt.drop(dst)
	}
	r := bs.get(rowCopier)
	bs.print(fmt.Sprintf("big messages: %d messages of %d MiB in one folder, modern target", bt.corpus.Len(), benchBigSize>>20), "")
	if r.peakRSS > 0 {
		fmt.Printf("copier peak RSS: %.0f MB (bar %.0f MB: %s)\n", float64(r.peakRSS)/1e6, float64(peakRSSBar)/1e6, verdict(r.peakRSS < peakRSSBar))
	} else {
		fmt.Println("copier peak RSS: not measured (needs Linux /proc)")
	}
	b.ReportMetric(r.dur.Seconds()*1e9, "ns/op")
	b.ReportMetric(r.dur.Seconds(), "copy-s")
	b.ReportMetric(float64(r.bytes)/1e6/r.dur.Seconds(), "MB/s")
	b.ReportMetric(float64(r.peakRSS)/1e6, "peak-RSS-MB")
}

// cpuNow reads the CPU time spent so far by both servers and this process.
func cpuNow(src, dst *dovecottest.Server) cpuUse {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	own := time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	return cpuUse{src: dovecotCPU(src), dst: dovecotCPU(dst), own: own}
}

// clockTick is the unit of /proc/PID/stat times (USER_HZ, 100 on Linux).
const clockTick = 10 * time.Millisecond

// dovecotCPU returns the CPU time spent so far by a Dovecot server: its
// master process, the children it has reaped (every connection's imap and
// imap-login process, once closed), and its living children. 0 where /proc
// cannot tell.
func dovecotCPU(s *dovecottest.Server) time.Duration {
	conf := []byte(filepath.Join(s.Dir, "dovecot.conf"))
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return 0
	}
	type proc struct {
		ppid  int
		ticks int64 // own and reaped children's user and system time
	}
	procs := map[int]proc{}
	master := 0
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		data, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		i := bytes.LastIndexByte(data, ')')
		if i < 0 {
			continue
		}
		// After "pid (comm)": state ppid ... utime stime cutime cstime (fields 3..17).
		f := strings.Fields(string(data[i+1:]))
		if len(f) < 15 {
			continue
		}
		ppid, _ := strconv.Atoi(f[1])
		var ticks int64
		for _, k := range []int{11, 12, 13, 14} {
			v, _ := strconv.ParseInt(f[k], 10, 64)
			ticks += v
		}
		procs[pid] = proc{ppid, ticks}
		if bytes.HasPrefix(data[bytes.IndexByte(data, '(')+1:], []byte("dovecot)")) {
			if cmd, err := os.ReadFile("/proc/" + e.Name() + "/cmdline"); err == nil && bytes.Contains(cmd, conf) {
				master = pid
			}
		}
	}
	if master == 0 {
		return 0
	}
	ticks := procs[master].ticks
	for _, p := range procs {
		if p.ppid == master {
			ticks += p.ticks
		}
	}
	return time.Duration(ticks) * clockTick
}

// dialCost returns the median time to open and close a connection.
func dialCost(ctx context.Context, b *testing.B, cfg *imapstore.Config) time.Duration {
	var ds []time.Duration
	for range 5 {
		t := time.Now()
		s, err := imapstore.Open(ctx, cfg)
		if err != nil {
			b.Fatal(err)
		}
		s.Close()
		ds = append(ds, time.Since(t))
	}
	slices.Sort(ds)
	return ds[len(ds)/2].Round(time.Millisecond)
}

// settle flushes dirty pages and returns freed memory to the system, so
// that a measurement does not pay for the previous one.
func settle() {
	syscall.Sync()
	runtime.GC()
	debug.FreeOSMemory()
}

// resetPeakRSS resets this process's RSS high-water mark to its current RSS
// (Linux: "5" to /proc/self/clear_refs).
func resetPeakRSS() {
	runtime.GC()
	debug.FreeOSMemory()
	os.WriteFile("/proc/self/clear_refs", []byte("5"), 0)
}

// peakRSS returns this process's RSS high-water mark (VmHWM), or 0.
func peakRSS() int64 {
	return procStatusKB("VmHWM") << 10
}

// procStatusKB reads a "kB" field of /proc/self/status, or 0.
func procStatusKB(field string) int64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if ok && k == field {
			n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return n
		}
	}
	return 0
}

// machine describes where the benchmark runs.
func machine() string {
	cpu := "unknown CPU"
	if data, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(data), "\n") {
			if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == "model name" {
				cpu = strings.TrimSpace(v)
				break
			}
		}
	}
	mem := ""
	if data, err := os.ReadFile("/proc/meminfo"); err == nil {
		for _, l := range strings.Split(string(data), "\n") {
			if k, v, ok := strings.Cut(l, ":"); ok && k == "MemTotal" {
				kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
				mem = fmt.Sprintf(", %.0f GB RAM", float64(kb)/(1<<20))
			}
		}
	}
	kernel := runtime.GOOS
	if data, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		kernel += " " + strings.TrimSpace(string(data))
	}
	return fmt.Sprintf("%d CPUs (%s)%s, %s, %s, Dovecot %s, load average %s",
		runtime.NumCPU(), cpu, mem, kernel, runtime.Version(), dovecotVersion(), loadAverage())
}

func dovecotVersion() string {
	bin, err := exec.LookPath("dovecot")
	if err != nil {
		bin = "/usr/sbin/dovecot"
	}
	out, err := exec.Command(bin, "--version").Output()
	if err != nil {
		return "unknown"
	}
	return strings.TrimSpace(string(out))
}

func loadAverage() string {
	data, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(data))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}

func TestParseVariants(t *testing.T) {
	for _, tc := range []struct {
		in      string
		want    []variant
		wantErr bool
	}{
		{"", nil, false},
		{"1/50/8", []variant{{1, 50, 8}}, false},
		{"1/50/8, 4/100/32,", []variant{{1, 50, 8}, {4, 100, 32}}, false},
		{"2/50", nil, true},
		{"0/50/8", nil, true},
		{"a/b/c", nil, true},
	} {
		got, err := parseVariants(tc.in)
		if (err != nil) != tc.wantErr || !slices.Equal(got, tc.want) {
			t.Errorf("parseVariants(%q) = %v, %v; want %v, error %v", tc.in, got, err, tc.want, tc.wantErr)
		}
	}
}
