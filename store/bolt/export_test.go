package bolt

import (
	"encoding/binary"

	bbolt "go.etcd.io/bbolt"
)

// BreakCount stores a wrong item count for a source, for tests of Verify.
func BreakCount(db *DB, source string, n uint64) error {
	return db.update(func(tx *bbolt.Tx) error {
		return tx.Bucket(bucketCounts).Put([]byte(source), binary.BigEndian.AppendUint64(nil, n))
	})
}

// SetMigrateCopyLimit sets the largest file Open copies before migrating
// it, and returns a function that restores it.
func SetMigrateCopyLimit(n int64) (restore func()) {
	old := migrateCopyLimit
	migrateCopyLimit = n
	return func() { migrateCopyLimit = old }
}

// SetSchema stores a schema version, for tests of what Open refuses.
func SetSchema(db *DB, v string) error {
	return db.update(func(tx *bbolt.Tx) error { return tx.Bucket(bucketMeta).Put(keySchema, []byte(v)) })
}

// SetTextHash sets the hash the links and titles index keys begin with,
// and returns a function that restores it.
func SetTextHash(h func(string) uint64) (restore func()) {
	old := textHash
	textHash = h
	return func() { textHash = old }
}
