package postgres

import (
	"context"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// idleInTransaction is how long the server lets a session sit idle inside
// a transaction before it ends the session, and with it the transaction
// and its locks. Every instance's renders lock the same section_versions
// rows, and a save locks its source: a process paused inside a
// transaction (SIGSTOP, a frozen VM, a network partition that leaves the
// server's end of the connection open) would otherwise stall every other
// instance for as long as it stays paused. No store call waits on
// anything outside the database within a transaction; each takes well
// under a second, but for a save of many items (bigSave), whose client
// works between its statements (classifying, encoding) for a second or
// more, many on a starved machine: that one may idle as long as its own
// deadline (longIdle). It locks only its source's rows, which leases skip.
const idleInTransaction = 10 * time.Second

// bigSave is the number of items over which a save may idle in its
// transaction beyond idleInTransaction.
const bigSave = 10_000

// longIdle lets tx idle up to d between statements, unless the session
// already allows longer (or forever: 0, an operator's choice kept).
func longIdle(ctx context.Context, tx pgx.Tx, d time.Duration) error {
	_, err := tx.Exec(ctx, `SELECT set_config('idle_in_transaction_session_timeout', $1::bigint::text, true)
		FROM pg_settings WHERE name = 'idle_in_transaction_session_timeout' AND setting::bigint BETWEEN 1 AND $1::bigint - 1`, d.Milliseconds())
	return err
}

// sessionDefaults sets the run-time parameters every connection of the
// engine starts with, unless the operator's URL gives them.
func sessionDefaults(cfg *pgxpool.Config) {
	params := cfg.ConnConfig.RuntimeParams
	if _, ok := params["idle_in_transaction_session_timeout"]; !ok {
		params["idle_in_transaction_session_timeout"] = strconv.FormatInt(idleInTransaction.Milliseconds(), 10)
	}
	// newsdesk's statements are short and indexed: JIT compilation costs
	// them more (tens of milliseconds) than it could save.
	if _, ok := params["jit"]; !ok {
		params["jit"] = "off"
	}
}
