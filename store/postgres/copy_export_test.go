package postgres

import "context"

// Exec runs one SQL statement on the store, for tests that set up what
// the store's own methods never write (a tombstone of schema 1).
func Exec(db *DB, sql string, args ...any) (int64, error) {
	tag, err := db.pool.Exec(context.Background(), sql, args...)
	return tag.RowsAffected(), err
}

// OpenAt opens the store at dsn applying only its first level migrations:
// the database of an older newsdesk.
func OpenAt(ctx context.Context, dsn string, level int) (*DB, error) {
	return open(ctx, dsn, migrations[:level])
}
