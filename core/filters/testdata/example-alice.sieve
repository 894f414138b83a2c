# Sieve filters carried over by Mailmover from the filters of alice@example.com.
# Rules Sieve cannot do are listed as comments and in the filter notes.
require ["body", "copy", "date", "fileinto", "imap4flags", "relational"];

# rule:[Factures]
# When a new message arrives whose sender contains 'billing@', move it to 'INBOX/Reçus & Factures' and mark it read.
if header :contains "from" "billing@"
{
	addflag "\\Seen";
	fileinto "INBOX/Reçus & Factures";
	stop;
}

# rule:[Lists "dev" \ ops]
# When a new message arrives whose 'list-id' header contains 'dev.example.org' or whose subject begins with '[dev*]' or whose To or Cc address ends with '@lists.example.org', copy it to 'Lists/Dev', tag it 'Important' and stop applying further filters.
if anyof (
	header :contains "list-id" "dev.example.org",
	header :matches "subject" "[dev\\*]*",
	address :matches ["to", "cc"] "*@lists.example.org")
{
	addflag "$label1";
	fileinto :copy "Lists/Dev";
	stop;
}

# rule:[Security]
# When a new message arrives whose body contains 'CVE' and that is larger than 10 KB and that is smaller than 5000 KB and whose date is after 01-Jan-2024, mark it flagged, set its priority to Highest and tag it 'Projet Été'.
# Not carried: the action “set its priority to Highest”, because Sieve cannot change a message's priority.
if allof (
	body :text :contains "CVE",
	size :over 10K,
	size :under 5000K,
	date :value "gt" "date" "date" "2024-01-01")
{
	addflag "\\Flagged";
	addflag "projet_x";
}

# rule:[Quotes and parens]
# When a new message arrives whose subject contains 'a) b' and whose subject does not contain ' leading space' and whose Cc address is 'x@example.org' and whose To address is not 'spam@example.org' and whose 'X-Spam-Flag' header is empty and whose 'X-Mailer' header is not empty, forward it to boss@example.com.
if allof (
	header :contains "subject" "a) b",
	not header :contains "subject" " leading space",
	address :is "cc" "x@example.org",
	not address :is "to" "spam@example.org",
	anyof (not exists "X-Spam-Flag", header :is "X-Spam-Flag" ""),
	not anyof (not exists "X-Mailer", header :is "X-Mailer" ""))
{
	redirect :copy "boss@example.com";
}

# rule:[Regex]
# When a new message arrives whose subject matches the regular expression '^\[TICKET-[0-9]+\]' or whose sender is 'tickets@example.com', move it to 'Tickets'.
# Not carried: the condition “whose subject matches the regular expression '^\[TICKET-[0-9]+\]'”, because it needs the Sieve extension regex, which the new server does not offer.
#   it would read: header :regex "subject" "^\\[TICKET-[0-9]+\\]"
if address :is "from" "tickets@example.com"
{
	fileinto "Tickets";
	stop;
}

# rule:[Old newsletters]
# When a new message arrives that is more than 30 days old and whose sender contains 'newsletter', delete it.
# Not carried: the condition “that is more than 30 days old”, because a message's age means nothing at the moment it arrives.
# Not on the server: leaving out a condition would make it act on more mail.

# rule:[Every message]
# When a new message arrives and junk classification is done, mark it unread.
if true
{
	removeflag "\\Seen";
}

# rule:[Junk & tags]
# When a new message arrives that is junk or that is tagged 'To Do', mark it as junk and ignore its thread.
# Not carried: the condition “that is junk”, because junk classification is done by the mail program.
# Not carried: the condition “that is tagged 'To Do'”, because tags are set in the mail program.
# Not carried: the action “mark it as junk”, because junk marks are kept by the mail program.
# Not carried: the action “ignore its thread”, because threads are followed by the mail program.
# Not on the server: none of its actions can be done by a server filter.

# rule:[After sending]
# When you send a message whose To address contains '@client.example', copy it to 'Sent Copies'.
# Not on the server: it runs only after sending.

# rule:[Add-on]
# When a new message arrives that matches the add-on search term 'filtaquilla@mesquilla.com#subjectRegex' (matches 'foo') and whose priority is higher than Normal, run the add-on action 'filtaquilla@mesquilla.com#runFile' with '/usr/bin/true'.
# Not carried: the condition “that matches the add-on search term 'filtaquilla@mesquilla.com#subjectRegex' (matches 'foo')”, because it is an add-on's own test.
# Not carried: the condition “whose priority is higher than Normal”, because programs write the priority in different headers.
# Not carried: the action “run the add-on action 'filtaquilla@mesquilla.com#runFile' with '/usr/bin/true'”, because it is an add-on's own action.
# Not on the server: none of its actions can be done by a server filter.

# rule:[Mixed]
# When a new message arrives whose subject contains 'a' and whose subject contains 'b' or whose sender is 'c@example.com' (read from left to right), mark it read.
if anyof (allof (header :contains "subject" "a", header :contains "subject" "b"), address :is "from" "c@example.com")
{
	addflag "\\Seen";
}

# rule:[Unknown action]
# When a new message arrives whose subject is 'teleport', do 'Teleport' (an action this program does not know) and mark it read.
# Not carried: the action “do 'Teleport' (an action this program does not know)”, because it is an action Mailmover does not know.
# Switched off, as it was in the mail program.
if false # header :is "subject" "teleport"
{
	addflag "\\Seen";
}

# rule:[Address book]
# When a new message arrives whose sender is in the address book 'Personal Address Book' and that has an attachment, move it to 'INBOX/Known'.
# Not carried: the condition “whose sender is in the address book 'Personal Address Book'”, because the server cannot see your address book.
# Not carried: the condition “that has an attachment”, because Sieve cannot reliably tell whether a message has attachments.
# Not on the server: leaving out a condition would make it act on more mail.

# rule:[Disabled but fine]
# When a new message arrives whose subject contains 'later', move it to 'INBOX/Later'.
# Switched off, as it was in the mail program.
if false # header :contains "subject" "later"
{
	fileinto "INBOX/Later";
	stop;
}
