package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"strings"

	"mailmover/core/copier"
	"mailmover/core/failure"
	"mailmover/core/localarchive"
	"mailmover/core/localstore"
)

// parse parses flags, returning -1 to go on, else an exit status.
func parse(fs *flag.FlagSet, args []string) int {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return ExitOK
		}
		return ExitUsage
	}
	return -1
}

func runBackup(ctx context.Context, env *Env, args []string) int {
	var p pairFlags
	var out string
	var dryRun bool
	fs := newFlagSet(env, "backup", "--from URL|ACCOUNT --out DIR [flags]")
	p.from.register(fs, "from", "the account to back up")
	fs.StringVar(&p.stateDir, "state", env.StateDir(), "folder holding the backup state and journal")
	fs.Var(&p.exclude, "exclude", "leave out folders matching this pattern (repeatable)")
	fs.BoolVar(&p.json, "json", false, "print one JSON object per line")
	fs.BoolVar(&p.allowPlain, "allow-plain", false, "allow a connection without TLS to a loopback address")
	fs.StringVar(&out, "out", "", "folder to write the backup to (one mbox file per mail folder)")
	fs.BoolVar(&dryRun, "dry-run", false, "show what would be backed up and stop")
	if code := parse(fs, args); code >= 0 {
		return code
	}
	if out == "" {
		return report(env, failure.Newf(failure.Config, failure.ScopeAccount, "--out is missing: name the folder to write the backup to"))
	}
	cfg, err := p.from.config(env, p.allowPlain)
	if err != nil {
		return report(env, err)
	}
	opts := copier.Options{Exclude: p.exclude, StateDir: p.stateDir, KeepPaths: true}
	return transfer(ctx, env, newPrinter(env, p.json), copier.IMAP(cfg), localstore.BackupEndpoint(out), opts, dryRun)
}

func runRestore(ctx context.Context, env *Env, args []string) int {
	var p pairFlags
	var backup, into string
	var dryRun bool
	fs := newFlagSet(env, "restore", "--backup DIR --to URL|ACCOUNT [--into FOLDER] [flags]")
	p.to.register(fs, "to", "the account to restore into")
	fs.StringVar(&backup, "backup", "", "the backup folder written by mailmover backup")
	fs.StringVar(&into, "into", "", "put the restored folders under this folder (e.g. \"Restored\"); default: where they were")
	fs.StringVar(&p.stateDir, "state", env.StateDir(), "folder holding the restore state and journal")
	fs.Var(&p.exclude, "exclude", "leave out folders matching this pattern (repeatable)")
	fs.BoolVar(&p.json, "json", false, "print one JSON object per line")
	fs.BoolVar(&p.allowPlain, "allow-plain", false, "allow a connection without TLS to a loopback address")
	fs.BoolVar(&dryRun, "dry-run", false, "show the plan and stop: nothing is written")
	if code := parse(fs, args); code >= 0 {
		return code
	}
	if backup == "" {
		return report(env, failure.Newf(failure.Config, failure.ScopeAccount, "--backup is missing: name the backup folder"))
	}
	cfg, err := p.to.config(env, p.allowPlain)
	if err != nil {
		return report(env, err)
	}
	opts := copier.Options{Exclude: p.exclude, StateDir: p.stateDir, Into: splitFolder(into)}
	return transfer(ctx, env, newPrinter(env, p.json), localstore.BackupEndpoint(backup), copier.IMAP(cfg), opts, dryRun)
}

func splitFolder(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(strings.Trim(s, "/"), "/")
}

func runImport(ctx context.Context, env *Env, args []string) int {
	var p pairFlags
	var tb, mboxPath, apple, eml, into string
	var dryRun, findTB bool
	fs := newFlagSet(env, "import", "--thunderbird [PROFILE] | --mbox PATH | --apple-mail PATH | --eml DIR --to URL|ACCOUNT [--into FOLDER] [--dry-run]")
	p.to.register(fs, "to", "the account to upload into")
	fs.StringVar(&tb, "thunderbird-profile", "", "a Thunderbird profile folder")
	fs.BoolVar(&findTB, "thunderbird", false, "find Thunderbird profiles on this computer (or give --thunderbird-profile)")
	fs.StringVar(&mboxPath, "mbox", "", "an mbox file, or a folder of them")
	fs.StringVar(&apple, "apple-mail", "", "an Apple Mail folder (~/Library/Mail/V10) or an exported .mbox")
	fs.StringVar(&eml, "eml", "", "a folder of .eml files")
	fs.StringVar(&into, "into", "Local Archives", "the folder on the target to put the local folders under")
	fs.StringVar(&p.stateDir, "state", env.StateDir(), "folder holding the import state and journal")
	fs.Var(&p.exclude, "exclude", "leave out folders matching this pattern (repeatable)")
	fs.BoolVar(&p.json, "json", false, "print one JSON object per line")
	fs.BoolVar(&p.allowPlain, "allow-plain", false, "allow a connection without TLS to a loopback address")
	fs.BoolVar(&dryRun, "dry-run", false, "show the inventory (what is only on this disk) and stop")
	if code := parse(fs, args); code >= 0 {
		return code
	}
	var folders []localarchive.Folder
	var what string
	var err error
	switch {
	case tb != "":
		what = "Thunderbird profile " + tb
		folders, err = localarchive.ScanThunderbird(ctx, tb)
	case findTB:
		places, perr := localarchive.DefaultPlaces()
		if perr != nil {
			return report(env, perr)
		}
		profiles, perr := localarchive.ThunderbirdProfiles(ctx, places)
		if perr != nil {
			return report(env, perr)
		}
		if len(profiles) == 0 {
			return report(env, failure.Newf(failure.Config, failure.ScopeAccount, "no Thunderbird profile found on this computer: give --thunderbird-profile FOLDER"))
		}
		prof := profiles[0]
		for _, pr := range profiles {
			if pr.Default {
				prof = pr
				break
			}
		}
		what = "Thunderbird profile " + prof.Dir
		folders, err = localarchive.ScanThunderbird(ctx, prof.Dir)
	case mboxPath != "":
		what = "mbox " + mboxPath
		folders, err = localarchive.ScanMbox(ctx, mboxPath)
	case apple != "":
		what = "Apple Mail " + apple
		folders, err = localarchive.ScanAppleMail(ctx, apple)
	case eml != "":
		what = ".eml files in " + eml
		folders, err = localarchive.ScanEML(ctx, eml)
	default:
		return report(env, failure.Newf(failure.Config, failure.ScopeAccount, "say what to import: --thunderbird, --thunderbird-profile DIR, --mbox PATH, --apple-mail PATH or --eml DIR"))
	}
	if err != nil {
		return report(env, err)
	}
	cfg, err := p.to.config(env, p.allowPlain)
	if err != nil {
		return report(env, err)
	}
	archive := localstore.NewArchive(folders)
	src, dst := localstore.ArchiveEndpoint(what, archive), copier.IMAP(cfg)
	opts := copier.Options{Exclude: p.exclude, StateDir: p.stateDir, Into: splitFolder(into)}
	out := newPrinter(env, p.json)
	if dryRun {
		code := inventory(ctx, env, out, src, dst, opts)
		reportUnreadable(env, archive)
		return code
	}
	code := transfer(ctx, env, out, src, dst, opts, false)
	reportUnreadable(env, archive)
	return code
}

func reportUnreadable(env *Env, a *localstore.Archive) {
	for _, err := range a.Problems() {
		fmt.Fprintf(env.Stderr, "Could not read: %v\n", err)
	}
}

// inventory says, per local folder, how many messages are already on the
// target and how many exist only on this disk. Nothing is written.
func inventory(ctx context.Context, env *Env, out *printer, src, dst copier.Endpoint, opts copier.Options) int {
	plan, err := copier.MakePlan(ctx, src, dst, opts)
	if err != nil {
		return report(env, err)
	}
	out.plan(plan)
	ver, err := copier.Verify(ctx, src, dst, plan)
	if err != nil {
		return report(env, err)
	}
	type row struct {
		Folder   string `json:"folder"`
		Target   string `json:"target"`
		Total    int    `json:"messages"`
		There    int    `json:"alreadyOnTarget"`
		OnlyHere int    `json:"onlyOnThisDisk"`
	}
	var rows []row
	for _, f := range ver.Folders {
		r := row{Folder: f.Source, Target: f.Target, Total: f.SourceMessages}
		if f.Err != "" {
			// The target folder does not exist yet: everything is only here.
			r.OnlyHere = r.Total
			for _, fp := range plan.Folders {
				if fp.Source.DisplayName() == f.Source {
					r.Total, r.OnlyHere = max(fp.Source.Messages, 0), max(fp.Source.Messages, 0)
				}
			}
		} else {
			r.OnlyHere = len(f.Missing)
			r.There = r.Total - r.OnlyHere
		}
		rows = append(rows, r)
	}
	if out.json {
		out.summary(map[string]any{"type": "inventory", "folders": rows})
		return ExitOK
	}
	fmt.Fprintln(env.Stdout, "\nInventory (nothing was uploaded):")
	for _, r := range rows {
		fmt.Fprintf(env.Stdout, "  %s: %d messages, %d already on the new server, %d only on this disk\n", r.Folder, r.Total, r.There, r.OnlyHere)
	}
	return ExitOK
}
