package report

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"mailmover/core/copier"
	"mailmover/core/cutover"
	"mailmover/core/demo"
	"mailmover/core/state"
)

var update = flag.Bool("update", false, "rewrite testdata/example-report.html from the demo")

// TestExampleFromDemo migrates the built-in demo, walks the switch-over
// steps, and checks the report shows each of them and every folder. With
// -update it rewrites the example report linked from the README.
func TestExampleFromDemo(t *testing.T) {
	ctx := context.Background()
	d, err := demo.Start(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	src, dst := copier.IMAP(d.Source), copier.IMAP(d.Target)
	root := t.TempDir()
	plan, err := copier.MakePlan(ctx, src, dst, copier.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := copier.Run(ctx, src, dst, plan, copier.Options{StateDir: root}, nil); err != nil {
		t.Fatal(err)
	}
	v, err := copier.Verify(ctx, src, dst, plan)
	if err != nil {
		t.Fatal(err)
	}
	if err := v.Record(root, src, dst); err != nil {
		t.Fatal(err)
	}
	sd, err := state.Open(copier.PairDir(root, src, dst))
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{cutover.InitialCopy, cutover.LowerTTL, cutover.SwitchMX, cutover.MXLive} {
		cutover.Mark(sd, id, "")
	}
	sd.Close()
	r, err := Load(root)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Accounts) != 1 || !r.Accounts[0].Complete || len(r.Accounts[0].Folders) == 0 {
		t.Fatalf("Load = %+v; want one complete account with folders", r.Accounts)
	}
	if f := r.Accounts[0].Folders; f[0].Source != "INBOX" || !slices.IsSortedFunc(f[1:], func(a, b Folder) int {
		return strings.Compare(strings.ToLower(a.Source), strings.ToLower(b.Source))
	}) {
		t.Errorf("report folders are not INBOX first, then by name: %v", f)
	}
	var html bytes.Buffer
	if err := r.WriteHTML(&html); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"Copy started", "Copy finished", "Verified", "Switch MX", "INBOX", "complete"} {
		if !strings.Contains(html.String(), s) {
			t.Errorf("report lacks %q", s)
		}
	}
	if *update {
		// Ports of the demo servers change from run to run; the example shows names.
		out := strings.NewReplacer(d.Source.Addr(), "old.example.com:993", d.Target.Addr(), "new.example.com:993").Replace(html.String())
		if err := os.WriteFile(filepath.Join("testdata", "example-report.html"), []byte(out), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
