package gmail

import (
	"fmt"
	"strings"

	"mailmover/core/copier"
	"mailmover/core/store"
)

// PlanNotes returns plain-language notes saying what the policy does with
// a Gmail source, to add to the plan's warnings. plan must have been made
// with the endpoint returned by Source.
func PlanNotes(p Policy, plan *copier.Plan) []string {
	var archive, allMail *copier.FolderPlan
	gmailSeen := false
	labels, labelled := 0, 0
	var special []string
	for i := range plan.Folders {
		f := &plan.Folders[i]
		switch {
		case IsArchive(f.Source.Name):
			archive, gmailSeen = f, true
		case strings.HasPrefix(f.Source.Name, "[") && strings.Contains(f.Source.Name, "]/"):
			gmailSeen = true
			if f.Source.SpecialUse == store.All || p == AllMailOnly {
				allMail = f
			}
		}
		if !f.Include || IsArchive(f.Source.Name) || f == allMail {
			continue
		}
		switch f.SpecialUse {
		case store.Sent, store.Drafts, store.Junk, store.Trash:
			special = append(special, fmt.Sprintf("%s → %s", f.Source.DisplayName(), f.Target))
		}
		labels++
		labelled += max(f.Source.Messages, 0)
	}
	if !gmailSeen {
		return []string{"Gmail: this account has no [Gmail] folders, so it is copied as an ordinary account."}
	}
	var notes []string
	switch p {
	case Labels:
		notes = append(notes, "Gmail: each label is copied as a folder; a message with several labels is copied into the folder of each, once per folder.")
		if archive != nil {
			switch {
			case !archive.Include:
				notes = append(notes, fmt.Sprintf("Gmail: %d archived messages (in All Mail without any other label) are left out with the folder %q: they will not be copied anywhere.", max(archive.Source.Messages, 0), archive.Source.DisplayName()))
			case archive.Source.Messages > 0:
				notes = append(notes, fmt.Sprintf("Gmail: %d archived messages (in All Mail without any other label) go to %q.", archive.Source.Messages, archive.Target))
			default:
				notes = append(notes, "Gmail: every message of All Mail has a label, so nothing goes to the archive folder.")
			}
		}
		notes = append(notes, `Gmail: All Mail, Important and Starred are not copied as folders, so that no message is copied twice; starred messages keep their star (the \Flagged flag).`)
		if len(special) > 0 {
			notes = append(notes, "Gmail: "+strings.Join(special, ", ")+".")
		}
		notes = append(notes, "Gmail: messages are matched between All Mail and the label folders by Gmail's labels where the connection reads them, otherwise by Message-ID, size and date. Other choices: every folder with duplicates, or All Mail only.")
	case EveryFolder:
		all := 0
		if allMail != nil {
			all = max(allMail.Source.Messages, 0)
		}
		notes = append(notes, fmt.Sprintf("Gmail: every folder is copied, All Mail, Important and Starred included: a message appears in All Mail and again in the folder of each of its labels, so the new mailbox holds duplicates (%d messages in %d other folders besides the %d of All Mail).", labelled, labels, all))
	case AllMailOnly:
		if allMail != nil {
			notes = append(notes, fmt.Sprintf("Gmail: only All Mail is copied, into %q: each of its %d messages once, but labels, the inbox and Sent are not kept apart.", allMail.Target, max(allMail.Source.Messages, 0)))
		}
		notes = append(notes, "Gmail: Spam and Trash are not part of All Mail and are not copied.")
	}
	return notes
}

// Limits of the providers as targets.
const (
	// GmailUploadPerDay is Google's documented IMAP upload limit (500 MB a day).
	GmailUploadPerDay int64 = 500 << 20
	// MicrosoftMessageLimit is Exchange Online's default largest message (35 MB).
	MicrosoftMessageLimit int64 = 35 << 20
	// MicrosoftConnections is how many IMAP connections per mailbox
	// Microsoft 365 tolerates before it slows down or drops them.
	MicrosoftConnections = 4
	// MicrosoftMaxFolders is how many folders to copy at once into
	// Microsoft 365: each uses two connections (one reads, one writes).
	MicrosoftMaxFolders = MicrosoftConnections / 2
)

// TargetNotes returns the notes of GmailTargetNotes or
// MicrosoftTargetNotes for a target's provider (an account preset ID or
// OAuth provider: "gmail", "google", "microsoft"); none for others.
// folders is how many folders will be copied at once.
func TargetNotes(provider string, plan *copier.Plan, folders int) []string {
	switch strings.ToLower(provider) {
	case "gmail", "google":
		return GmailTargetNotes(plan)
	case "microsoft":
		return MicrosoftTargetNotes(plan, folders)
	}
	return nil
}

// GmailTargetNotes says what becomes of the plan in Gmail: folders become
// labels, and uploads are limited to about 500 MB a day, so a large mailbox
// takes several days.
func GmailTargetNotes(plan *copier.Plan) []string {
	notes := []string{"Gmail: each folder becomes a label; a folder inside another becomes a nested label."}
	if days := UploadDays(plan.Bytes); days > 1 {
		notes = append(notes, fmt.Sprintf("Gmail accepts about 500 MB of uploads a day by IMAP: the %s to copy take about %d days. When Gmail refuses more, run the same command again the next day; nothing is copied twice.", store.FormatBytes(plan.Bytes), days))
	} else if plan.Bytes > 0 {
		notes = append(notes, fmt.Sprintf("Gmail accepts about 500 MB of uploads a day by IMAP: the %s to copy fit in one day.", store.FormatBytes(plan.Bytes)))
	}
	return notes
}

// UploadDays estimates how many days Gmail takes to accept bytes of
// uploads: 1 for anything within one day's limit, 0 for nothing.
func UploadDays(bytes int64) int {
	if bytes <= 0 {
		return 0
	}
	return int((bytes + GmailUploadPerDay - 1) / GmailUploadPerDay)
}

// MicrosoftTargetNotes says what Microsoft 365 will refuse or slow down:
// messages over 35 MB, and more than four connections per mailbox.
// folders is how many folders will be copied at once.
func MicrosoftTargetNotes(plan *copier.Plan, folders int) []string {
	var notes []string
	limit := MicrosoftMessageLimit
	if plan.Target.SizeLimit > 0 {
		limit = plan.Target.SizeLimit
	}
	if plan.Bytes > limit {
		notes = append(notes, fmt.Sprintf("Microsoft 365 refuses messages larger than %s (an administrator can raise the limit up to 150 MB): any such message is listed as not copied.", store.FormatBytes(limit)))
	}
	if folders > MicrosoftMaxFolders {
		notes = append(notes, fmt.Sprintf("Microsoft 365 allows about %d connections per mailbox and each folder copied at once uses 2: copy at most %d folders at once (not %d), or Microsoft will slow down or drop the connections.", MicrosoftConnections, MicrosoftMaxFolders, folders))
	}
	notes = append(notes, "Microsoft 365 may ask to slow down; Mailmover then waits as long as it is told and goes on. Sent Items, Deleted Items and Junk Email are found by their special use.")
	return notes
}
