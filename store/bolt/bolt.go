// Package bolt is newsdesk's default storage engine: it implements
// store.Store (the contract, and its conformance suite in store/storetest)
// on one bbolt file, with a file lock, checks that a damaged file is an
// error and never a crash, schema migrations, compaction, backups and
// verification. It is the only package that imports bbolt, and it imports
// no newsdesk package but the root and store.
//
// Files, by seam: bolt.go (open, close, the lock taken by openBolt),
// lock.go (who holds it), damage.go (checks before mapping, transactions
// that turn panics into DamagedError), migrate.go and migrate4.go, keys.go
// (buckets, keys and index entries), record.go (how an item is stored),
// ingest.go (SaveFetch: save and prune), commit.go (concurrent saves share
// a transaction),
// section.go (section reads and duplicates), reads.go, articles.go and
// articlerecord.go (full article text), editorial.go,
// sections.go (section versions), purge.go, compact.go, backup.go,
// verify.go, temps.go (temporary files beside the database).
//
// Bucket layout (keys and values are bytes; TIME is 8 bytes, see below):
//
//	meta                  "schema" -> "5" (see migrate.go)
//	                      "removed" -> {SOURCE_ID: TIME} (JSON): when each source was first seen missing from feeds.yaml
//	state                 SOURCE_ID -> FetchState (JSON)
//	counts                SOURCE_ID -> number of stored items (8 bytes)
//	items / SOURCE_ID     ITEM_ID -> Item (a record, see record.go)
//	bytime / SOURCE_ID    TIME(published) ITEM_ID -> nil
//	seen / SOURCE_ID      ITEM_ID -> TIME(last seen in the feed): tombstones of pruned items
//	links                 HASH(CANONICAL_LINK) TIME(first seen) SOURCE_ID 0 ITEM_ID -> nil
//	titles                HASH(TITLE_KEY) TIME(published) SOURCE_ID 0 ITEM_ID -> TIME(first seen)
//	editorial / SECTION   SOURCE_ID 0 ITEM_ID -> Edit (JSON): pinned and hidden items
//	sections              SECTION_ID -> SectionVersion (JSON {"hash","changed_at"}), see sections.go
//	articles / SOURCE_ID  ITEM_ID -> Article (a record, see articlerecord.go): full article text
//	pages / SOURCE_ID     ITEM_ID -> s2(page): the page an article was extracted from
//
// TIME is Unix nanoseconds with the sign bit flipped, big-endian, so keys
// sort by time for dates before and after 1970 alike. HASH is 8 bytes of
// FNV-1a hash of the text (keys.go; a link's begins with its site's, so one
// fetch's links share pages): two links or titles may share one, so
// readers check the candidate item's own link or title. Schema 3 stored
// items as JSON and began links and titles keys with the whole text and a
// 0; a read-only open of such a file reads it as it is, and Open to write
// migrates it (migrate4.go). Schema 5 adds the articles and pages buckets
// (articles.go); a read-only open of a schema-4 file reads no articles.
//
// Reads that serve sections cost what they return, not what is stored: the
// newest items of a set of sources come from walking each source's bytime
// bucket backwards and merging; duplicates across sources are found through
// the links and titles indexes, one prefix seek per item.
//
// A fetch is one transaction (SaveFetch): its items, the pruning that
// retention asks for, and the source's new fetch state, so a crash can
// never keep a validator whose items were lost. Pruned items leave a
// tombstone that lives as long as the feed still carries the item, and
// store.TombstoneTTL after, so pruning never lets an old item come back as
// new.
// The store must not do network I/O or hold a transaction open across it:
// callers fetch first and save after.
package bolt

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/newsdesk/newsdesk/store"
	bbolt "go.etcd.io/bbolt"
)

// DB is an open newsdesk database.
type DB struct {
	bdb      *bbolt.DB
	path     string
	borrowed bool // Close is a no-op: the owner closes
	health   *health
	notices  []string // what Open did that the operator should hear about
	schema   int      // the file's schema version: older than schemaVersion only when opened read-only
}

// DB is a store.Store, and copies itself (store.Backuper).
var (
	_ store.Store    = (*DB)(nil)
	_ store.Backuper = (*DB)(nil)
)

// Borrow returns a handle on the same open database whose Close does
// nothing, for code that closes what it is given while the owner keeps the
// database open (a command run inside `newsdesk serve`).
func (db *DB) Borrow() store.Store {
	return &DB{bdb: db.bdb, path: db.path, borrowed: true, health: db.health, schema: db.schema}
}

// Options tune Open.
type Options struct {
	// LockTimeout is how long Open waits for another process to release the
	// file. Zero means do not wait.
	LockTimeout time.Duration
	ReadOnly    bool
}

// Open opens (creating it and its folder if needed) the database at path.
// A file that is not a sound bbolt file is refused with a DamagedError
// (an empty one too: it is not silently made a new database). Opened to
// write, it removes the temporary files earlier commands that were killed
// left beside it, and migrates a database of an older schema (see
// migrate.go); one of a newer schema is refused.
func Open(path string, opts Options) (*DB, error) {
	if !opts.ReadOnly {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return nil, fmt.Errorf("open database: %w", err)
		}
	}
	b, file, err := openBolt(path, opts)
	if err != nil {
		return nil, err
	}
	db := &DB{bdb: b, path: path, health: &health{file: file}}
	if !opts.ReadOnly {
		if note := removeStaleTemps(path); note != "" {
			db.notices = append(db.notices, note)
		}
	}
	if err := db.prepare(opts); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

// openBolt opens the bbolt file at path, after checking under its lock
// that bbolt can map it safely (checkFile). It returns the open file too.
func openBolt(path string, opts Options) (*bbolt.DB, *os.File, error) {
	timeout := opts.LockTimeout
	if timeout <= 0 {
		// bbolt treats 0 as "wait forever"; the smallest wait is the closest
		// to "do not wait" it offers.
		timeout = 50 * time.Millisecond
	}
	for {
		var file *os.File
		openFile := func(name string, flag int, mode os.FileMode) (*os.File, error) {
			if file != nil { // bbolt reopening for Tx.WriteTo with a WriteFlag
				return os.OpenFile(name, flag, mode)
			}
			_, statErr := os.Stat(name)
			f, err := os.OpenFile(name, flag, mode)
			if err != nil {
				return nil, err
			}
			if err := lockFile(f, !opts.ReadOnly, timeout); err != nil {
				f.Close()
				return nil, err
			}
			info, err := checkFile(f)
			if err != nil {
				f.Close()
				return nil, err
			}
			// An empty file this call created is a new database; one that
			// was there before is what is left of a damaged one.
			created := errors.Is(statErr, fs.ErrNotExist) && info.size == 0
			if info.fault != "" && !created {
				f.Close()
				return nil, &DamagedError{Path: path, Fault: info.fault}
			}
			file = f
			return f, nil
		}
		var b *bbolt.DB
		err := guarded(path, func() error {
			var err error
			b, err = bbolt.Open(path, 0o600, &bbolt.Options{Timeout: timeout, ReadOnly: opts.ReadOnly, OpenFile: openFile})
			return err
		})
		if errors.Is(err, bbolt.ErrTimeout) {
			_, holder := LockHolder(path)
			if holder == "" {
				holder = "another process (`newsdesk serve`, or a `newsdesk run` still going?)"
			}
			return nil, nil, &lockedError{path: path, holder: holder}
		}
		if errors.Is(err, store.ErrDamaged) {
			if b == nil && file != nil { // bbolt faulted after opening the file
				file.Close()
			}
			return nil, nil, err
		}
		if err != nil {
			return nil, nil, fmt.Errorf("open database %s: %w", path, err)
		}
		// While this waited for the lock, `newsdesk compact` may have
		// renamed a new file over the one it opened: writes to the old one
		// would be lost. Open again until the locked file is the one at path.
		if sameFile(file, path) {
			return b, file, nil
		}
		b.Close()
	}
}

func sameFile(f *os.File, path string) bool {
	if f == nil {
		return false
	}
	fi, err := f.Stat()
	if err != nil {
		return false
	}
	pi, err := os.Stat(path)
	return err == nil && os.SameFile(fi, pi)
}

// Path is the database file's path.
func (db *DB) Path() string { return db.path }

// Close closes the database, waiting for running transactions to finish;
// saves still queued to share a commit (commit.go) fail.
func (db *DB) Close() error {
	if db.borrowed {
		return nil
	}
	db.health.commits.close()
	if db.health.wedged.Load() {
		// A panic inside bbolt left its writer lock held, which bbolt's
		// Close would wait for forever: release the file (and its lock)
		// and leave the mapping to the end of the process.
		return db.health.file.Close()
	}
	return db.bdb.Close()
}

// Ping reports whether the database answers a read. Once a transaction
// has found the file damaged, it returns that DamagedError.
func (db *DB) Ping() error {
	return db.view(func(tx *bbolt.Tx) error {
		if tx.Bucket(bucketMeta) == nil {
			return errors.New("database has no meta bucket")
		}
		return nil
	})
}
