package bolt

import (
	"fmt"
	"io"

	bbolt "go.etcd.io/bbolt"
)

// Backup writes a consistent copy of the database to w while the database
// stays in use (bbolt's Tx.WriteTo in one read transaction), and returns
// the bytes written. The read transaction holds bbolt's mmap lock for as
// long as the copy takes: a commit that must grow the file waits for it;
// other commits and reads do not.
func (db *DB) Backup(w io.Writer) (int64, error) {
	n, err := db.writeTo(w)
	if err != nil {
		return n, fmt.Errorf("back up %s: %w", db.path, err)
	}
	return n, nil
}

// writeTo writes a consistent copy of the database to w in one read
// transaction: for Backup, and for the copies verify and migrations make
// beside the file (copyTemp).
func (db *DB) writeTo(w io.Writer) (n int64, err error) {
	err = db.view(func(tx *bbolt.Tx) error {
		n, err = tx.WriteTo(w)
		return err
	})
	return n, err
}
