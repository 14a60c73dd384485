// Package migrate runs many migrations at once through the API and says,
// for each machine, what became of it: migrated, would migrate (a dry
// run), skipped (an earlier run did it) or failed (with the reason and the
// request id). Each migration is started with an idempotency key and
// followed until it ends, so a rerun after an interruption finds what the
// first run started instead of starting it again.
package migrate
