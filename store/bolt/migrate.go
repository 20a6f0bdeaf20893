package bolt

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"syscall"

	"github.com/newsdesk/newsdesk/store"
	bbolt "go.etcd.io/bbolt"
)

// Schema migrations: stored data changes from one release to the next, and
// a database of an older schema is migrated forward when it is opened to
// write, never refused. Each step takes the schema from one version to the
// next; Open runs every step the file needs in one write transaction, so a
// crash or an error leaves the file as it was. Before that, it copies the
// file to PATH.schema-N.bak when the copy fits comfortably (migrateCopyLimit,
// and twice the file's size free on its disk); a bigger file is migrated
// only once the operator has backed it up and says so with
// NEWSDESK_MIGRATE=1. A file of a newer schema is refused: downgrading is
// not supported.
//
// A read-only open migrates nothing: it reads an older file as it is, and
// what later schemas added reads as empty.
//
// A new step appends to migrations and bumps schemaVersion; a fresh
// database is made by the same steps, so new and migrated files have the
// same layout.

// migration is one schema step, from version from to from+1.
type migration struct {
	from int
	what string
	run  func(tx *bbolt.Tx) error
	note string // what the operator may want to do after it, if anything
}

// schema3Sections is the bucket schema 3 adds: SECTION_ID -> the section's
// version (JSON {hash, changed_at}), kept by sections.go.
const schema3Sections = "sections"

var migrations = []migration{
	{2, "add the sections bucket (each section's version: content hash and when it changed)", func(tx *bbolt.Tx) error {
		_, err := tx.CreateBucketIfNotExists([]byte(schema3Sections))
		return err
	}, ""},
	{3, "store items as compact records and key the link and title indexes by hashes", migrateCompact,
		"the data now takes about half the file: `newsdesk compact` (with serve stopped) gives the free pages back to the disk"},
	{4, "add the articles and pages buckets (full article text, kept beside the items)", func(tx *bbolt.Tx) error {
		for _, name := range [][]byte{bucketArticles, bucketPages} {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return err
			}
		}
		return nil
	}, ""},
	{5, "add the websub_hub and websub_push buckets (WebSub subscriptions: readers' to sections, newsdesk's to sources' hubs)", func(tx *bbolt.Tx) error {
		for _, name := range [][]byte{bucketHubSubs, bucketPushSubs} {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return err
			}
		}
		return nil
	}, ""},
}

// baseBuckets are the buckets of schema 2, the oldest schema migrations
// start from.
var baseBuckets = [][]byte{bucketMeta, bucketState, bucketCounts, bucketItems, bucketByTime, bucketSeen, bucketLinks, bucketTitles, bucketEdits}

// migrateCopyLimit is the largest file Open copies before migrating it
// without being asked: copying more would make an upgrade's first start
// slow, and the copy must also fit on the disk.
var migrateCopyLimit int64 = 1 << 30

// migrateEnv is the environment variable that, set to 1, lets Open migrate
// a database too big to copy first, once the operator has backed it up.
const migrateEnv = "NEWSDESK_MIGRATE"

// Notices returns what Open did to the file that the operator should
// hear about (a migration, temporary files removed), one line each.
func (db *DB) Notices() []string { return db.notices }

// prepare makes a new database, migrates an old one, or refuses one it
// cannot read, after openBolt.
func (db *DB) prepare(opts Options) error {
	have, found := 0, false
	err := db.view(func(tx *bbolt.Tx) error {
		var err error
		have, found, err = db.schemaOf(tx)
		return err
	})
	db.schema = schemaVersion
	if found && have < schemaVersion && opts.ReadOnly {
		db.schema = have
	}
	switch {
	case err != nil:
		return err
	case found && have > schemaVersion:
		return fmt.Errorf("database %s has schema version %d, newer than this newsdesk's %d: it was written by a newer newsdesk; run that version (going back is not supported: to return to this version, restore a backup made before the upgrade, such as %s): %w",
			db.path, have, schemaVersion, backupName(db.path, schemaVersion), store.ErrSchema)
	case found && have < migrations[0].from:
		return fmt.Errorf("database %s has schema version %d, older than this newsdesk can migrate (from %d): open it once with the newsdesk release before this one, which migrates it, then with this one: %w",
			db.path, have, migrations[0].from, store.ErrSchema)
	case opts.ReadOnly:
		return nil
	case !found:
		return db.update(func(tx *bbolt.Tx) error { return db.migrateTx(tx, 0) })
	case have < schemaVersion:
		return db.migrate(have)
	}
	return nil
}

func (db *DB) schemaOf(tx *bbolt.Tx) (version int, found bool, err error) {
	meta := tx.Bucket(bucketMeta)
	if meta == nil {
		return 0, false, nil
	}
	v := meta.Get(keySchema)
	if v == nil {
		return 0, false, nil
	}
	n, err := strconv.Atoi(string(v))
	if err != nil {
		return 0, false, &DamagedError{Path: db.path, Fault: fmt.Sprintf("its schema version %q is not a number", v)}
	}
	return n, true, nil
}

// migrateTx brings the file from schema version from (0: a new file) to
// schemaVersion inside tx.
func (db *DB) migrateTx(tx *bbolt.Tx, from int) error {
	if from == 0 {
		for _, name := range baseBuckets {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return err
			}
		}
		from = migrations[0].from
	}
	for _, m := range migrations[from-migrations[0].from:] {
		if err := m.run(tx); err != nil {
			return fmt.Errorf("schema %d to %d (%s): %w", m.from, m.from+1, m.what, err)
		}
	}
	return tx.Bucket(bucketMeta).Put(keySchema, []byte(strconv.Itoa(schemaVersion)))
}

// migrate migrates a file of schema version from, after copying it.
func (db *DB) migrate(from int) error {
	copied, err := db.copyBeforeMigrating(from)
	if err != nil {
		return err
	}
	if err := db.update(func(tx *bbolt.Tx) error { return db.migrateTx(tx, from) }); err != nil {
		return fmt.Errorf("migrate database %s from schema %d to %d (the file is unchanged): %w", db.path, from, schemaVersion, err)
	}
	note := fmt.Sprintf("migrated database %s from schema %d to %d", db.path, from, schemaVersion)
	if copied != "" {
		note += "; the file as it was is at " + copied + " (delete it once this version has run well)"
	} else {
		note += fmt.Sprintf(" without a copy (%s=1)", migrateEnv)
	}
	for _, m := range migrations[from-migrations[0].from:] {
		if m.note != "" {
			note += "; " + m.note
		}
	}
	db.notices = append(db.notices, note)
	return nil
}

func backupName(path string, version int) string {
	return fmt.Sprintf("%s.schema-%d.bak", path, version)
}

// copyBeforeMigrating copies the file to PATH.schema-N.bak when it is small
// enough, and returns the copy's path; "" when NEWSDESK_MIGRATE=1 says the
// operator has a backup.
func (db *DB) copyBeforeMigrating(from int) (string, error) {
	fi, err := db.health.file.Stat()
	if err != nil {
		return "", fmt.Errorf("migrate database %s: %w", db.path, err)
	}
	size := fi.Size()
	dir := filepath.Dir(db.path)
	var fs syscall.Statfs_t
	if err := syscall.Statfs(dir, &fs); err != nil {
		return "", fmt.Errorf("migrate database %s: free space in %s: %w", db.path, dir, err)
	}
	free := int64(fs.Bavail) * int64(fs.Bsize)
	if size <= migrateCopyLimit && free >= 2*size {
		dst := backupName(db.path, from)
		if err := db.copyTo(dst); err != nil {
			return "", fmt.Errorf("migrate database %s: copy it first to %s: %w", db.path, dst, err)
		}
		return dst, nil
	}
	if os.Getenv(migrateEnv) == "1" {
		return "", nil
	}
	return "", fmt.Errorf("database %s has schema version %d and this newsdesk needs %d; it migrates the file when it opens it, after copying it, but the file is too big to copy without asking (%s; it copies up to %s, with twice the file's size free, and %s is free in %s): "+
		"back the file up first (`newsdesk backup FILE` reads it without changing it, or copy it while no newsdesk runs), then run this command again with %s=1 to migrate it in place: %w",
		db.path, from, schemaVersion, mib(size), mib(migrateCopyLimit), mib(free), dir, migrateEnv, store.ErrSchema)
}

// copyTo writes a consistent copy of the database to dst.
func (db *DB) copyTo(dst string) error {
	tmp, err := db.copyTemp(tempMigrate)
	if err != nil {
		return err
	}
	if err := os.Rename(tmp, dst); err != nil {
		os.Remove(tmp)
		return err
	}
	return nil
}

func mib(n int64) string { return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20)) }
