package copier

import "mailmover/core/mailtest"

// Short names for the shared test helpers.
var (
	account  = mailtest.Account
	load     = mailtest.Load
	snapshot = mailtest.Snapshot
)
