package postgres

import (
	"context"
	"strconv"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/newsdesk/newsdesk/store/postgres/pgtest"
)

// TestBigSaveMayIdleLonger: a save of more than bigSave items may sit idle
// in its transaction up to its own deadline (its client classifies and
// encodes between statements: seconds on a starved machine, where the
// 10 s limit ended a 100,000-item save), and only that transaction: the
// session's other transactions keep idleInTransaction.
func TestBigSaveMayIdleLonger(t *testing.T) {
	dsn, _ := pgtest.Schema(t)
	db, err := Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	setting := func(rows int) string {
		t.Helper()
		var got string
		err := db.txRows(rows, func(ctx context.Context, tx pgx.Tx) error {
			return tx.QueryRow(ctx, `SELECT setting FROM pg_settings WHERE name = 'idle_in_transaction_session_timeout'`).Scan(&got)
		})
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	normal := strconv.FormatInt(idleInTransaction.Milliseconds(), 10)
	if got := setting(50); got != normal {
		t.Errorf("a save of 50 items may idle %s ms, want %s", got, normal)
	}
	want := strconv.FormatInt((callTimeout + 100_000*rowTimeout).Milliseconds(), 10)
	if got := setting(100_000); got != want {
		t.Errorf("a save of 100,000 items may idle %s ms, want its deadline, %s", got, want)
	}
	for range 3 { // SET LOCAL: the big save's connection is back to the default
		if got := setting(50); got != normal {
			t.Errorf("after a big save, a save of 50 items may idle %s ms, want %s", got, normal)
		}
	}
}
