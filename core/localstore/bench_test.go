package localstore

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"mailmover/core/copier"
	"mailmover/core/dovecottest"
	"mailmover/core/imapstore"
	"mailmover/core/mailtest"
	"mailmover/core/sample"
)

// BenchmarkBackup backs up a real Dovecot account (5,000 messages by
// default; MAILMOVER_BENCH_MESSAGES changes it) and prints its throughput
// next to the fetch floor (every body read once, thrown away) and the disk's
// plain write speed (the same bytes written and fsynced), all measured in
// the same run.
func BenchmarkBackup(b *testing.B) {
	n := 5000
	if v, err := strconv.Atoi(os.Getenv("MAILMOVER_BENCH_MESSAGES")); err == nil && v > 0 {
		n = v
	}
	s := dovecottest.Start(b, dovecottest.Options{})
	src := mailtest.Account(s, "alice", "alice-pw")
	corpus := sample.New(sample.Options{Seed: 1, Messages: n, MaxAttachment: 1 << 20})
	mailtest.Load(b, src, corpus)
	ctx := context.Background()
	b.ResetTimer()
	for range b.N {
		// The fetch floor.
		t0 := time.Now()
		sess, err := imapstore.Open(ctx, src)
		if err != nil {
			b.Fatal(err)
		}
		folders, err := sess.Folders(ctx)
		if err != nil {
			b.Fatal(err)
		}
		var bytes int64
		for _, f := range folders {
			if f.NoSelect || f.Messages == 0 {
				continue
			}
			if _, err := sess.OpenFolder(ctx, f.Name, true); err != nil {
				b.Fatal(err)
			}
			infos, err := sess.List(ctx)
			if err != nil {
				b.Fatal(err)
			}
			uids := make([]uint32, len(infos))
			for i, m := range infos {
				uids[i] = m.UID
			}
			for m, err := range sess.Fetch(ctx, uids) {
				if err != nil {
					b.Fatal(err)
				}
				k, _ := io.Copy(io.Discard, m.Body)
				bytes += k
			}
		}
		sess.Close()
		fetch := time.Since(t0)

		// The disk's plain write speed for the same bytes.
		dir := b.TempDir()
		t0 = time.Now()
		f, err := os.Create(filepath.Join(dir, "plain"))
		if err != nil {
			b.Fatal(err)
		}
		buf := make([]byte, 64<<10)
		for left := bytes; left > 0; left -= int64(len(buf)) {
			f.Write(buf[:min(int64(len(buf)), left)])
		}
		f.Sync()
		f.Close()
		disk := time.Since(t0)

		// The backup.
		opts := copier.Options{StateDir: b.TempDir(), KeepPaths: true}
		dst := BackupEndpoint(filepath.Join(dir, "backup"))
		t0 = time.Now()
		plan, err := copier.MakePlan(ctx, copier.IMAP(src), dst, opts)
		if err != nil {
			b.Fatal(err)
		}
		res, err := copier.Run(ctx, copier.IMAP(src), dst, plan, opts, nil)
		if err != nil || res.Progress.Copied != corpus.Len() {
			b.Fatalf("backup = %v, copied %d; want %d", err, res.Progress.Copied, corpus.Len())
		}
		backup := time.Since(t0)
		mb := float64(bytes) / 1e6
		fmt.Printf("\n== backup of %d messages, %.0f MB\n", corpus.Len(), mb)
		fmt.Printf("fetch floor:  %6.2f s  %7.1f MB/s\n", fetch.Seconds(), mb/fetch.Seconds())
		fmt.Printf("disk write:   %6.2f s  %7.1f MB/s\n", disk.Seconds(), mb/disk.Seconds())
		fmt.Printf("backup:       %6.2f s  %7.1f MB/s  (%.0f msg/s; %.2fx the fetch floor)\n", backup.Seconds(), mb/backup.Seconds(), float64(corpus.Len())/backup.Seconds(), backup.Seconds()/fetch.Seconds())
		b.ReportMetric(mb/backup.Seconds(), "MB/s")
		b.ReportMetric(mb/fetch.Seconds(), "fetch-MB/s")
		b.ReportMetric(mb/disk.Seconds(), "disk-MB/s")
	}
}
