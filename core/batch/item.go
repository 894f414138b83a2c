package batch

import (
	"net"
	"strconv"
	"strings"
	"time"

	"mailmover/core/account"
	"mailmover/core/failure"
	"mailmover/core/imapstore"
	"mailmover/core/secret"
)

// Status is where a mailbox stands in the queue.
type Status string

const (
	// Waiting: not started yet, paused, or interrupted; Run takes it next.
	Waiting Status = "waiting"
	// Running: being copied now.
	Running Status = "running"
	// Done: every message copied and verified on the target.
	Done Status = "done"
	// DoneWithProblems: the run finished, but some messages or folders did
	// not arrive (listed in Item.Skipped) or verification found a difference.
	DoneWithProblems Status = "done-with-problems"
	// Failed: the run stopped; Item.Reason says why and Item.Retryable
	// whether trying again as it is may help.
	Failed Status = "failed"
	// NeedsAttention: someone must act first (a missing password, a full
	// target mailbox, wrong settings); Item.Reason says what.
	NeedsAttention Status = "needs-attention"
)

// Label returns the status in plain words ("done with problems").
func (s Status) Label() string { return strings.ReplaceAll(string(s), "-", " ") }

// Final reports whether the status ends a run of the queue: everything but
// Waiting and Running.
func (s Status) Final() bool { return s != Waiting && s != Running }

// Cause names, in a stable machine-readable form, why an item stopped, so
// that a front end can offer the right action (ask for a password, raise a
// quota). The human sentence is Item.Reason.
type Cause string

const (
	// CausePassword: no password in the keychain for a side.
	CausePassword Cause = "password-missing"
	// CauseLogin: the server refused the login.
	CauseLogin Cause = "login-refused"
	// CauseQuota: the target mailbox is full.
	CauseQuota Cause = "quota-full"
	// CauseConnection: a server could not be reached or kept dropping the
	// connection after the copier's own retries.
	CauseConnection Cause = "connection"
	// CauseTLS: the secure connection could not be set up (an untrusted certificate).
	CauseTLS Cause = "tls"
	// CauseConfig: the account settings are not usable.
	CauseConfig Cause = "config"
	// CauseLocal: this computer failed (disk full, permission, keychain).
	CauseLocal Cause = "local"
	// CauseMessages: some messages or folders were not copied.
	CauseMessages Cause = "messages-skipped"
	// CauseInterrupted: paused or stopped before the end; resumes where it stopped.
	CauseInterrupted Cause = "interrupted"
	// CauseOther: anything else.
	CauseOther Cause = "other"
)

// Which names a side of a pair.
type Which int

const (
	// Source is the old account, only ever read.
	Source Which = iota
	// Target is the new account, written to.
	Target
)

// String returns "source" or "target".
func (w Which) String() string {
	if w == Target {
		return "target"
	}
	return "source"
}

// Side is one account of a pair. It holds no secret: the password is in the
// keychain under SecretKey.
type Side struct {
	// Email is the account's address, if known.
	Email string `json:"email,omitempty"`
	// Host and Port locate the IMAP server.
	Host string `json:"host"`
	Port int    `json:"port"`
	// Security is how the connection is protected (implicit TLS by default).
	Security account.Security `json:"security"`
	// Username is the mailbox's login name.
	Username string `json:"username"`
	// Master, if set, is an administrator allowed to log in as any user
	// (Dovecot master users): the login is Username*Master with the
	// master's password, and Username's own password is not needed.
	Master string `json:"master,omitempty"`
	// PortKey files the password under USER@HOST:PORT instead of
	// USER@HOST, because the pair's other side has the same user on the
	// same host (two servers on one machine).
	PortKey bool `json:"portKey,omitempty"`
}

// Login returns the name sent to the server: Username, or Username*Master
// for a master-user login (Dovecot's auth_master_user_separator "*").
func (s Side) Login() string {
	if s.Master != "" {
		return s.Username + "*" + s.Master
	}
	return s.Username
}

// SecretKey returns the keychain key of the password this side logs in
// with: the master's on this host if Master is set, else the user's
// (secret.AccountKey, with the port after the host if PortKey is set).
func (s Side) SecretKey() string {
	host := s.Host
	if s.PortKey {
		host = s.Addr()
	}
	if s.Master != "" {
		return secret.AccountKey(s.Master, host)
	}
	return secret.AccountKey(s.Username, host)
}

// Addr returns host:port.
func (s Side) Addr() string {
	return net.JoinHostPort(s.Host, strconv.Itoa(s.Port))
}

// String describes the side for people: "alice on imap.example.com:993".
func (s Side) String() string { return s.Username + " on " + s.Addr() }

// Account returns the side as a saved-account value (without a name).
func (s Side) Account() account.Account {
	return account.Account{Email: s.Email, Host: s.Host, Port: s.Port, Security: s.Security, Username: s.Username, Auth: account.AuthPassword}
}

// config returns the connection settings, with the password.
func (s Side) config(password string) *imapstore.Config {
	return &imapstore.Config{Host: s.Host, Port: s.Port, Security: imapstore.Security(s.Security), Username: s.Login(), Password: password}
}

// key identifies the account in a queue, case-insensitively.
func (s Side) key() string {
	return strings.ToLower(s.Username) + "@" + strings.ToLower(s.Host) + ":" + strconv.Itoa(s.Port)
}

// Counts are the numbers of one mailbox: the plan, the latest run, the
// verification and the totals over every run.
type Counts struct {
	// Messages and Bytes are what the source holds (as planned).
	Messages int   `json:"messages"`
	Bytes    int64 `json:"bytes"`
	// Done and DoneBytes are what the latest run has dealt with so far.
	Done      int   `json:"done"`
	DoneBytes int64 `json:"doneBytes"`
	// Copied and CopiedBytes are what the latest run wrote to the target.
	Copied      int   `json:"copied"`
	CopiedBytes int64 `json:"copiedBytes"`
	// Existing counts messages found already on the target.
	Existing int `json:"existing"`
	// FlagsUpdated counts messages whose flags were brought up to date.
	FlagsUpdated int `json:"flagsUpdated"`
	// Skipped counts messages the latest run could not copy.
	Skipped int `json:"skipped"`
	// BytesPerSecond is the latest run's copy speed.
	BytesPerSecond float64 `json:"bytesPerSecond"`
	// Verified is set when the counts below come from a verification.
	Verified bool `json:"verified"`
	// SourceMessages and TargetMessages are the messages counted on each
	// side in the copied folders; Missing and FlagDiffs what verification
	// found absent or different on the target.
	SourceMessages int   `json:"sourceMessages"`
	TargetMessages int   `json:"targetMessages"`
	SourceBytes    int64 `json:"sourceBytes"`
	TargetBytes    int64 `json:"targetBytes"`
	Missing        int   `json:"missing"`
	FlagDiffs      int   `json:"flagDiffs"`
	// TotalCopied and TotalCopiedBytes add up every run.
	TotalCopied      int   `json:"totalCopied"`
	TotalCopiedBytes int64 `json:"totalCopiedBytes"`
}

// Skipped is a message or folder that did not arrive, and why.
type Skipped struct {
	Folder  string       `json:"folder"`
	Subject string       `json:"subject,omitempty"`
	From    string       `json:"from,omitempty"`
	Date    time.Time    `json:"date,omitzero"`
	Size    int64        `json:"size,omitempty"`
	Kind    failure.Kind `json:"kind"`
	Reason  string       `json:"reason"`
}

// maxSkipped bounds the skipped messages kept per mailbox; the journal in
// the mailbox's state folder lists them all.
const maxSkipped = 200

// Item is one mailbox pair of the queue. It never holds a password.
type Item struct {
	// ID is the item's stable identifier in its queue.
	ID string `json:"id"`
	// Line is the CSV line the pair was last imported from.
	Line   int    `json:"line,omitempty"`
	Source Side   `json:"source"`
	Target Side   `json:"target"`
	Status Status `json:"status"`
	// Reason says in plain words why the item stopped or what is wrong.
	Reason string `json:"reason,omitempty"`
	// Cause is Reason's machine-readable class.
	Cause Cause `json:"cause,omitempty"`
	// Kind is the failure kind, for advice (failure.Advice).
	Kind failure.Kind `json:"kind,omitzero"`
	// Retryable reports whether running again as it is may succeed
	// (a lost connection), as opposed to needing a fix first.
	Retryable bool   `json:"retryable,omitempty"`
	Counts    Counts `json:"counts"`
	// Skipped lists what the latest run could not copy (at most 200;
	// Counts.Skipped has the number).
	Skipped []Skipped `json:"skipped,omitempty"`
	// Runs counts the runs started.
	Runs int `json:"runs"`
	// Started is when the first run started; LastStarted the latest;
	// Finished when the latest run ended.
	Started     time.Time `json:"started,omitzero"`
	LastStarted time.Time `json:"lastStarted,omitzero"`
	Finished    time.Time `json:"finished,omitzero"`
	// Elapsed adds up the time of every run; LastRun is the latest run's.
	Elapsed time.Duration `json:"elapsed"`
	LastRun time.Duration `json:"lastRun"`
	// StateDir is where the copier keeps this pair's state and journal.
	StateDir string `json:"stateDir,omitempty"`
}

// Name describes the pair for people: "alice@old.example → alice@new.example".
func (it *Item) Name() string {
	return it.Source.label() + " → " + it.Target.label()
}

func (s Side) label() string {
	if s.Email != "" {
		return s.Email
	}
	return s.Username + "@" + s.Host
}

// key identifies the pair in a queue.
func (it *Item) key() string { return it.Source.key() + ">" + it.Target.key() }

func (it *Item) clone() Item {
	c := *it
	c.Skipped = append([]Skipped(nil), it.Skipped...)
	return c
}
