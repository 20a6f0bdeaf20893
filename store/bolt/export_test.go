package bolt

import (
	"encoding/binary"
	"strconv"

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

// DeleteItemRecord removes an item's record alone, leaving its indexes,
// article and page, for tests of Verify.
func DeleteItemRecord(db *DB, source, id string) error {
	return db.update(func(tx *bbolt.Tx) error { return tx.Bucket(bucketItems).Bucket([]byte(source)).Delete([]byte(id)) })
}

// Downgrade4 makes a schema-5 file the schema-4 file it would have been
// without full text: the articles and pages buckets go, and the schema
// says 4 (the only difference between the two layouts).
func Downgrade4(db *DB) error { return downgrade(db, 4, bucketArticles, bucketPages) }

// downgrade deletes buckets, the schema's additions after version, and
// records version as the file's schema.
func downgrade(db *DB, version int, buckets ...[]byte) error {
	return db.update(func(tx *bbolt.Tx) error {
		for _, name := range buckets {
			if err := tx.DeleteBucket(name); err != nil {
				return err
			}
		}
		return tx.Bucket(bucketMeta).Put(keySchema, []byte(strconv.Itoa(version)))
	})
}

// HasArticleBuckets reports whether a source has an articles bucket.
func HasArticleBuckets(db *DB, source string) (bool, error) {
	has := false
	err := db.view(func(tx *bbolt.Tx) error {
		has = nested(tx, bucketArticles, source) != nil
		return nil
	})
	return has, err
}

// Downgrade5 makes a schema-6 file the schema-5 file it would have been
// without WebSub: the websub buckets go, and the schema says 5.
func Downgrade5(db *DB) error { return downgrade(db, 5, bucketHubSubs, bucketPushSubs) }

// BreakWebSub stores a hub subscription under another key than its own
// and a push subscription that does not decode, for tests of Verify.
func BreakWebSub(db *DB) error {
	return db.update(func(tx *bbolt.Tx) error {
		if err := tx.Bucket(bucketHubSubs).Put([]byte("wrong key"), []byte(`{"topic":"https://news.example/t.xml","callback":"https://reader.example/cb?token=secret"}`)); err != nil {
			return err
		}
		return tx.Bucket(bucketPushSubs).Put([]byte("a"), []byte("{"))
	})
}
