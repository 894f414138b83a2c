package copier

import (
	"context"
	"fmt"

	"mailmover/core/state"
	"mailmover/core/store"
)

// FolderCheck compares one folder pair.
type FolderCheck struct {
	Source         string `json:"source"`
	Target         string `json:"target"`
	SourceMessages int    `json:"sourceMessages"`
	TargetMessages int    `json:"targetMessages"`
	SourceBytes    int64  `json:"sourceBytes"`
	TargetBytes    int64  `json:"targetBytes"`
	// Missing lists source messages not found on the target.
	Missing []store.MessageInfo `json:"missing,omitempty"`
	// FlagDiffs lists source messages found on the target with other flags.
	FlagDiffs []store.MessageInfo `json:"flagDiffs,omitempty"`
	Err       string              `json:"error,omitempty"`
}

// Verification is the result of Verify.
type Verification struct {
	Folders   []FolderCheck `json:"folders"`
	Missing   int           `json:"missing"`
	FlagDiffs int           `json:"flagDiffs"`
	Errors    int           `json:"errors"`
}

// OK reports whether every source message is on the target with its flags.
func (v *Verification) OK() bool { return v.Missing == 0 && v.FlagDiffs == 0 && v.Errors == 0 }

// Verify checks, folder by folder, that every source message of the plan is
// in its target folder (by identity: Message-ID or header hash, size and
// INTERNALDATE) with the same flags. It reads both sides only.
func Verify(ctx context.Context, src, dst Endpoint, plan *Plan) (*Verification, error) {
	sc, err := src.Dial(ctx)
	if err != nil {
		return nil, err
	}
	defer sc.Close()
	tc, err := dst.Dial(ctx)
	if err != nil {
		return nil, err
	}
	defer tc.Close()
	v := &Verification{}
	for _, fp := range plan.Included() {
		fc := FolderCheck{Source: fp.Source.DisplayName(), Target: fp.Target}
		err := verifyFolder(ctx, sc, tc, fp, &fc)
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			fc.Err = err.Error()
			v.Errors++
		}
		v.Missing += len(fc.Missing)
		v.FlagDiffs += len(fc.FlagDiffs)
		v.Folders = append(v.Folders, fc)
	}
	return v, nil
}

func verifyFolder(ctx context.Context, sc, tc Conn, fp FolderPlan, fc *FolderCheck) error {
	if _, err := sc.OpenFolder(ctx, fp.Source.Name, true); err != nil {
		return err
	}
	sinfos, err := sc.List(ctx)
	if err != nil {
		return err
	}
	if _, err := tc.OpenFolder(ctx, fp.Target, true); err != nil {
		return err
	}
	tinfos, err := tc.List(ctx)
	if err != nil {
		return err
	}
	byID := map[string][]store.MessageInfo{}
	for _, t := range tinfos {
		fc.TargetMessages++
		fc.TargetBytes += t.Size
		byID[t.Identity()] = append(byID[t.Identity()], t)
	}
	for _, m := range sinfos {
		fc.SourceMessages++
		fc.SourceBytes += m.Size
		id := m.Identity()
		l := byID[id]
		if len(l) == 0 {
			fc.Missing = append(fc.Missing, m)
			continue
		}
		// Prefer a copy with the same flags among identical ones.
		k := 0
		for i, t := range l {
			if store.FlagsEqual(t.Flags, m.Flags) {
				k = i
				break
			}
		}
		if !store.FlagsEqual(l[k].Flags, m.Flags) {
			fc.FlagDiffs = append(fc.FlagDiffs, m)
		}
		byID[id] = append(l[:k:k], l[k+1:]...)
	}
	return nil
}

// Record writes the verification into the pair's journal under stateRoot,
// for the migration report: one line per folder (counts on both sides) and a
// summary line.
func (v *Verification) Record(stateRoot string, src, dst Endpoint) error {
	st, err := state.Open(PairDir(stateRoot, src, dst))
	if err != nil {
		return err
	}
	defer st.Close()
	for _, f := range v.Folders {
		st.Log(state.Record{Event: "verify-folder", Folder: f.Source, Target: f.Target, Count: f.SourceMessages, Bytes: f.SourceBytes,
			Detail: fmt.Sprintf("source %d messages (%d bytes), target %d messages (%d bytes), missing %d, other flags %d", f.SourceMessages, f.SourceBytes, f.TargetMessages, f.TargetBytes, len(f.Missing), len(f.FlagDiffs)),
			Error:  f.Err})
		for _, m := range f.Missing {
			st.Log(state.Record{Event: "missing", Folder: f.Source, UID: m.UID, Subject: m.Subject, From: m.From, Detail: m.Date.Format("2006-01-02")})
		}
	}
	verdict := "complete: every message is on the new server with its flags"
	if !v.OK() {
		verdict = fmt.Sprintf("incomplete: %d missing, %d with other flags, %d folders not checked", v.Missing, v.FlagDiffs, v.Errors)
	}
	if err := st.Log(state.Record{Event: "verified", Source: src.Name, Target: dst.Name, Count: v.Missing, Detail: verdict}); err != nil {
		return err
	}
	return st.Sync()
}
